"""Held-out edge splits for link prediction."""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..exceptions import InvalidParameterError
from .graph import Graph

logger = logging.getLogger("embedkit")


@dataclass
class EdgeSplit:
    """The held-out part of a link-prediction split.

    ``test_pos`` and ``test_neg`` are ``(m, 2)`` int64 arrays of node rows (into
    ``nodes``): held-out edges and as many sampled node pairs that are not edges
    of the full graph. ``train_graph`` is the graph without the held-out edges.
    """

    train_graph: Graph
    test_pos: np.ndarray
    test_neg: np.ndarray
    nodes: list
    seed: int

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """All test pairs ``(2m, 2)`` and labels ``(2m,)`` (1 for an edge)."""
        pairs = np.concatenate([self.test_pos, self.test_neg])
        labels = np.concatenate([np.ones(len(self.test_pos)), np.zeros(len(self.test_neg))])
        return pairs, labels


def _edge_keys(g: Graph) -> np.ndarray:
    e = g.edge_array()
    return np.sort(e[:, 0] * g.num_nodes + e[:, 1])


def sample_non_edges(g: Graph, count: int, rng: np.random.Generator, exclude_keys: np.ndarray | None = None) -> np.ndarray:
    """``count`` distinct node pairs ``(u, v)``, ``u != v``, that are not edges of ``g``.

    For an undirected graph pairs are unordered (returned with ``u < v``).
    """
    n = g.num_nodes
    keys = _edge_keys(g)
    if exclude_keys is not None:
        ex = np.asarray(exclude_keys, dtype=np.int64).ravel()
        if not g.directed:  # an unordered pair is excluded whichever way round it was given
            ex = np.concatenate([ex, (ex % n) * n + ex // n])
        keys = np.union1d(keys, ex)
    # pairs already taken: edges (and excluded pairs) between distinct nodes; self-loops
    # are never sampled, so they must not be subtracted from the n * (n - 1) pairs
    a, b = keys // n, keys % n
    off = a != b
    a, b = a[off], b[off]
    if not g.directed:
        a, b = np.minimum(a, b), np.maximum(a, b)
    taken = int(np.unique(a * n + b).shape[0])
    possible = n * (n - 1) // (1 if g.directed else 2) - taken
    if count > possible:
        raise InvalidParameterError("split_edges", "test_fraction", f"small enough to leave {count} non-edges "
                                    f"to sample (the graph has {possible})", count)
    out = np.empty((0, 2), dtype=np.int64)
    seen = np.empty(0, dtype=np.int64)
    while len(out) < count:
        m = max(2 * (count - len(out)), 64)
        u = rng.integers(0, n, m)
        v = rng.integers(0, n, m)
        keep = u != v
        u, v = u[keep], v[keep]
        if not g.directed:
            u, v = np.minimum(u, v), np.maximum(u, v)
        k = u * n + v
        ok = ~np.isin(k, keys) & ~np.isin(k, seen)
        k, first = np.unique(k[ok], return_index=True)
        u, v = u[ok][first], v[ok][first]
        take = min(count - len(out), len(k))
        sel = rng.permutation(len(k))[:take]
        out = np.concatenate([out, np.stack([u[sel], v[sel]], axis=1)])
        seen = np.concatenate([seen, k[sel]])
    return out


def split_edges(graph, test_fraction: float = 0.1, seed: int = 0) -> tuple[Graph, EdgeSplit]:
    """Hold out ``test_fraction`` of the edges for link prediction.

    Returns ``(train_graph, split)``. A random spanning forest of the graph is
    always kept in ``train_graph``, so no node loses all its edges and no
    connected component falls apart; the held-out edges are drawn uniformly
    from the remaining edges (if too few remain, fewer are held out, with a
    warning). ``split.test_neg`` holds as many node pairs that are not edges of
    the full graph. Deterministic for a given ``seed``.

    >>> import embedkit as ek
    >>> train_g, split = ek.split_edges(ek.datasets.load("karate"), 0.2, seed=0)
    >>> split.test_pos.shape, split.test_neg.shape
    ((16, 2), (16, 2))
    """
    from .graph import read_graph

    g = read_graph(graph)
    if not (isinstance(test_fraction, float) and 0.0 < test_fraction < 1.0):
        raise InvalidParameterError("split_edges", "test_fraction", "a number > 0 and < 1", test_fraction)
    rng = np.random.default_rng(seed)
    edges, weights = g.undirected_edges(return_weights=True)
    nonloop = edges[:, 0] != edges[:, 1]
    m = len(edges)
    want = int(round(test_fraction * nonloop.sum()))
    # a random spanning forest (minimum spanning forest under random weights) stays in train
    import scipy.sparse as sp
    from scipy.sparse.csgraph import minimum_spanning_tree

    order = rng.permutation(m)
    n = g.num_nodes
    a, b = np.minimum(edges[:, 0], edges[:, 1]), np.maximum(edges[:, 0], edges[:, 1])
    rand_w = rng.random(m) + 1.0
    und = sp.coo_matrix((np.where(nonloop, rand_w, 0.0), (a, b)), shape=(n, n)).tocsr()
    forest = minimum_spanning_tree(und).tocoo()
    forest_keys = np.sort(np.minimum(forest.row, forest.col).astype(np.int64) * n + np.maximum(forest.row, forest.col))
    in_forest = np.isin(a * n + b, forest_keys)
    candidates = order[~in_forest[order] & nonloop[order]]
    if len(candidates) < want:
        logger.warning("split_edges: only %d edges can be held out without disconnecting the graph "
                       "(asked for %d)", len(candidates), want)
    test_idx = candidates[:want]
    keep = np.ones(m, dtype=bool)
    keep[test_idx] = False
    train_g = g.subgraph_edges(edges[keep, 0], edges[keep, 1], weights[keep])
    test_pos = edges[test_idx].astype(np.int64)
    test_neg = sample_non_edges(g, len(test_pos), rng)
    split = EdgeSplit(train_graph=train_g, test_pos=test_pos, test_neg=test_neg, nodes=g.nodes, seed=seed)
    return train_g, split
