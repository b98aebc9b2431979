"""Node2Vec: second-order biased random walks + skip-gram.

Grover & Leskovec, "node2vec: Scalable Feature Learning for Networks", KDD 2016.
``p`` (return) and ``q`` (in-out) bias each step: ``1/p`` to go back, ``1`` to a
common neighbour of the previous node, ``1/q`` to move away. ``p = q = 1`` is
DeepWalk. Steps are drawn by rejection sampling, O(V + E) memory (see
:mod:`embedkit.engines.walks`).
"""
from __future__ import annotations

from .._validation import Param
from ..api import register
from ._walk_embedding import WALK_PARAMS, WalkEmbedding


@register
class Node2Vec(WalkEmbedding):
    """Node vectors from node2vec biased walks.

    ``fit(graph) -> Embeddings`` of shape ``(V, dim)`` keyed by node id.
    Defaults: p=1, q=1, dim=128, walk_length=80, walks_per_node=10, window=10.
    """

    name = "node2vec"
    summary = "biased second-order random walks (p, q) + skip-gram (Grover & Leskovec 2016)"
    params = WALK_PARAMS[:3] + (
        Param("p", float, 1.0, "return parameter: weight 1/p to step back to the previous node",
              low=0.0, low_open=True),
        Param("q", float, 1.0, "in-out parameter: weight 1/q to move away from the previous node",
              low=0.0, low_open=True),
    ) + WALK_PARAMS[3:]

    def _walk_bias(self, params):
        return params["p"], params["q"]
