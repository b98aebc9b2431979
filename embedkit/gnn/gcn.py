"""Graph convolutional network (Kipf & Welling, "Semi-Supervised Classification with
Graph Convolutional Networks", ICLR 2017) on ``torch_geometric.nn.GCNConv``."""
from __future__ import annotations

from ..api import register
from ._method import GNNMethod, gnn_params


@register
class GCN(GNNMethod):
    """Graph convolutional network: ``H' = ReLU(D~^-1/2 (A + I) D~^-1/2 H W)`` (Kipf & Welling 2017).

    ``fit(graph or NodeData)``: with node labels (supervised) a
    :class:`~embedkit.gnn.NodeClassifier` whose vectors are the last hidden layer
    ``(V, hidden)``; without labels (unsupervised, a graph auto-encoder) node
    :class:`~embedkit.Embeddings` ``(V, dim)``. Defaults are the paper's: 2 layers,
    16 hidden units, dropout 0.5, lr 0.01, weight decay 5e-4, 200 epochs.

    >>> import embedkit as ek
    >>> g = ek.datasets.load("karate")
    >>> emb = ek.train("gcn", g, dim=8, epochs=20, seed=0, verbose=False)
    >>> emb.vectors.shape, emb.meta["mode"]
    ((34, 8), 'unsupervised')
    """

    name = "gcn"
    kind = "gcn"
    summary = "graph convolutional network on PyG GCNConv (Kipf & Welling 2017): node classification or graph auto-encoder"
    params = gnn_params(hidden=16, dropout=0.5, lr=0.01, epochs=200, patience=100)
