"""DeepWalk: uniform random walks + skip-gram.

Perozzi, Al-Rfou & Skiena, "DeepWalk: Online Learning of Social
Representations", KDD 2014. Walks follow edge weights when the graph has them.
"""
from __future__ import annotations

from ..api import register
from ._walk_embedding import WALK_PARAMS, WalkEmbedding


@register
class DeepWalk(WalkEmbedding):
    """Node vectors from uniform (weight-proportional) random walks.

    ``fit(graph) -> Embeddings`` of shape ``(V, dim)`` keyed by node id.
    Defaults: dim=128, walk_length=80, walks_per_node=10, window=10, negatives=5.
    """

    name = "deepwalk"
    summary = "uniform random walks + skip-gram (Perozzi et al. 2014)"
    params = WALK_PARAMS
