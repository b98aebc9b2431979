"""Graph attention network (Velickovic et al., "Graph Attention Networks", ICLR 2018)
on ``torch_geometric.nn.GATConv``."""
from __future__ import annotations

from .._validation import Param
from ..api import register
from ._method import GNNMethod, gnn_params
from ._model import LayerType, register_layer


@register_layer
class GATLayers(LayerType):
    """GAT layers: PyG ``GATConv``; hidden layers concatenate ``heads`` heads, the output
    layer averages ``output_heads``; ELU between layers; ``attn_dropout`` on the attention
    coefficients; weight decay on every layer."""

    name = "gat"

    def __init__(self, heads: int = 1, output_heads: int = 1, attn_dropout: float = 0.0):
        self.heads = heads
        self.output_heads = output_heads
        self.attn_dropout = attn_dropout

    def conv(self, in_width: int, out_width: int, last: bool):
        from torch_geometric.nn import GATConv

        return GATConv(in_width, out_width, heads=self.output_heads if last else self.heads, concat=not last,
                       dropout=self.attn_dropout)

    def width(self, out_width: int, last: bool) -> int:
        return out_width if last else out_width * self.heads

    def activation(self):
        from torch import nn

        return nn.ELU()


@register
class GAT(GNNMethod):
    """Graph attention network (Velickovic et al. 2018).

    ``alpha_ij = softmax_j(LeakyReLU(a^T [W h_i || W h_j]))``; hidden layers
    concatenate ``heads`` attention heads (ELU), the output layer averages
    ``output_heads``. Returns what :class:`~embedkit.gnn.gcn.GCN` returns; the vectors
    of a supervised model are the last hidden layer, ``(V, hidden * heads)``.
    Defaults are the paper's Cora setting: 8 heads of 8 units, dropout and attention
    dropout 0.6, learning rate 0.005, weight decay 5e-4, patience 100.

    >>> import embedkit as ek
    >>> emb = ek.train("gat", ek.datasets.load("karate"), dim=8, heads=2, epochs=20, seed=0, verbose=False)
    >>> emb.vectors.shape
    (34, 8)
    """

    name = "gat"
    kind = "gat"
    summary = "graph attention network on PyG GATConv (Velickovic et al. 2018): node classification or graph auto-encoder"
    params = gnn_params(hidden=8, dropout=0.6, learning_rate=0.005, epochs=300, patience=100, extra=(
        Param("heads", int, 8, "attention heads of each hidden layer (concatenated)", low=1),
        Param("output_heads", int, 1, "attention heads of the output layer (averaged; the paper uses 8 on PubMed)",
              low=1),
        Param("attn_dropout", float, 0.6, "dropout on the attention coefficients", low=0.0, high=1.0,
              high_open=True),
    ))
    quick_params = {**GNNMethod.quick_params, "heads": 2}

    def _encoder_kw(self, params: dict) -> dict:
        return {"heads": params["heads"], "output_heads": params["output_heads"],
                "attn_dropout": params["attn_dropout"]}
