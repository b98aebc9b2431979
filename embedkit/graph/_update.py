"""DeepWalk/node2vec on a grown graph (``init=``): which nodes changed since the previous result
and where the walks start.

Every walk result keeps ``meta["adjacency_signature"]``: one integer per node, a hash of its
neighbours' ids (and edge weights), so the next run can tell which nodes' edges changed without
the previous graph. The affected region is the new nodes, the nodes whose signature differs, and
their ``update_hops``-hop neighbourhood in the grown graph; walks start only there
(:func:`affected_nodes` says how many at each), so an update costs a fraction of a retrain.
"""
from __future__ import annotations

import hashlib
import logging

import numpy as np

logger = logging.getLogger("embedkit")

_MIX = np.uint64(0x9E3779B97F4A7C15)


def _key_hashes(keys) -> np.ndarray:
    """A stable 64-bit hash of each key's string form, uint64 ``(len(keys),)``."""
    return np.array([int.from_bytes(hashlib.blake2b(str(k).encode(), digest_size=8).digest(), "little")
                     for k in keys], dtype=np.uint64)


def adjacency_signature(g) -> np.ndarray:
    """uint64 ``(num_nodes,)``: for each node, a hash of the multiset of (neighbour id, weight) of
    its edges (a wrapping sum of mixed per-edge hashes: independent of edge order)."""
    h = _key_hashes(g.nodes)
    with np.errstate(over="ignore"):
        vals = h[g.indices]
        if g.weights is not None:
            vals = vals ^ np.asarray(g.weights, dtype=np.float64).view(np.uint64)
        vals = vals * _MIX
        vals ^= vals >> np.uint64(29)
        vals = vals * _MIX
        cs = np.concatenate([np.zeros(1, dtype=np.uint64), np.cumsum(vals, dtype=np.uint64)])
        return cs[g.indptr[1:]] - cs[g.indptr[:-1]]


def signature_meta(g) -> list[int]:
    """The signature as JSON-able ints (``meta["adjacency_signature"]``)."""
    return [int(x) for x in adjacency_signature(g)]


def affected_nodes(method: str, g, previous, hops: int | None, walks_per_node: int) -> np.ndarray:
    """Walks to start at each row of ``g`` for an update of ``previous``, int64 ``(num_nodes,)``:
    ``walks_per_node`` at a new node; at an old node whose edges changed, its share of new
    neighbours times ``walks_per_node``, rounded up (at least 1: an edge between two old nodes may
    be what changed); 1 at the other nodes within ``hops`` hops of those; 0 elsewhere. ``hops``
    None: ``walks_per_node`` at every node (a retrain's walks)."""
    n = g.num_nodes
    full = np.full(n, walks_per_node, dtype=np.int64)
    if hops is None:
        return full
    rows = np.array([-1 if r is None else r for r in (previous._lookup(k) for k in g.nodes)], dtype=np.int64)
    sig_old = previous.meta.get("adjacency_signature")
    if sig_old is None or len(sig_old) != len(previous):
        logger.warning("%s: the init result has no adjacency signature (meta['adjacency_signature']), so changed "
                       "nodes cannot be told apart: walks start from every node", method)
        return full
    old = np.array([int(x) for x in sig_old], dtype=np.uint64)
    sig = adjacency_signature(g)
    is_new = rows < 0
    changed = is_new.copy()
    changed[~is_new] = old[rows[~is_new]] != sig[~is_new]
    walks = np.zeros(n, dtype=np.int64)
    walks[is_new] = walks_per_node
    deg = np.diff(g.indptr)
    new_nbrs = np.add.reduceat(is_new[g.indices].astype(np.int64), g.indptr[:-1]) if g.indices.size else deg * 0
    new_nbrs = np.where(deg > 0, new_nbrs, 0)
    old_changed = changed & ~is_new
    share = new_nbrs[old_changed] / np.maximum(deg[old_changed], 1)
    walks[old_changed] = np.maximum(1, np.ceil(walks_per_node * share)).astype(np.int64)
    region = changed.copy()
    frontier = np.flatnonzero(changed)
    for _ in range(hops):
        if frontier.size == 0:
            break
        nbrs = np.unique(np.concatenate([g.indices[g.indptr[v]:g.indptr[v + 1]] for v in frontier]).astype(np.int64))
        nbrs = nbrs[~region[nbrs]]
        region[nbrs] = True
        walks[nbrs] = 1
        frontier = nbrs
    logger.info("%s: %d new nodes, %d changed, %d in the affected region (%d hops) of %d: %d walks (a retrain: %d)",
                method, int(is_new.sum()), int(old_changed.sum()), int(region.sum()), hops, n, int(walks.sum()),
                n * walks_per_node)
    return walks


def region_starts(walks: np.ndarray, seed: int) -> np.ndarray:
    """Start rows: round ``r`` is a fresh permutation of the rows with more than ``r`` walks."""
    rng = np.random.default_rng(seed)
    rounds = int(walks.max()) if walks.size else 0
    parts = [rng.permutation(np.flatnonzero(walks > r)) for r in range(rounds)]
    return np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, dtype=np.int64)
