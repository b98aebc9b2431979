"""Graph convolutional network (Kipf & Welling, "Semi-Supervised Classification with
Graph Convolutional Networks", ICLR 2017) on ``torch_geometric.nn.GCNConv``."""
from __future__ import annotations

from ..api import register
from ._method import GNNMethod, gnn_params
from ._model import LayerType, register_layer


@register_layer
class GCNLayers(LayerType):
    """GCN layers: PyG ``GCNConv``, ReLU between layers, weight decay on the first layer only
    (Kipf & Welling; PyG's example). ``cached``: each layer keeps the normalised adjacency
    of its first call (full-batch training only)."""

    name = "gcn"

    def __init__(self, cached: bool = True):
        self.cached = cached

    def conv(self, in_width: int, out_width: int, last: bool):
        from torch_geometric.nn import GCNConv

        return GCNConv(in_width, out_width, cached=self.cached)

    def param_groups(self, encoder, weight_decay: float) -> list[dict]:
        if len(encoder.convs) == 1:
            return super().param_groups(encoder, weight_decay)
        first = list(encoder.convs[0].parameters()) + ([encoder.table] if encoder.table is not None else [])
        rest = [p for conv in encoder.convs[1:] for p in conv.parameters()]
        return [{"params": first, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


@register
class GCN(GNNMethod):
    """Graph convolutional network: ``H' = ReLU(D~^-1/2 (A + I) D~^-1/2 H W)`` (Kipf & Welling 2017).

    ``fit(graph or NodeData)``: with node labels (supervised) a
    :class:`~embedkit.gnn.NodeClassifier` whose vectors are the last hidden layer
    ``(V, hidden)``; without labels (unsupervised, a graph auto-encoder) node
    :class:`~embedkit.Embeddings` ``(V, dim)``. Defaults are the paper's: 2 layers,
    16 hidden units, dropout 0.5, learning rate 0.01, weight decay 5e-4, 200 epochs.

    >>> import embedkit as ek
    >>> g = ek.datasets.load("karate")
    >>> emb = ek.train("gcn", g, dim=8, epochs=20, seed=0, verbose=False)
    >>> emb.vectors.shape, emb.meta["mode"]
    ((34, 8), 'unsupervised')
    """

    name = "gcn"
    kind = "gcn"
    summary = "graph convolutional network on PyG GCNConv (Kipf & Welling 2017): node classification or graph auto-encoder"
    params = gnn_params(hidden=16, dropout=0.5, learning_rate=0.01, epochs=200, patience=100)

    def _encoder_kw(self, params: dict) -> dict:
        return {"cached": not params["batch_size"]}
