"""DeepWalk/node2vec on a grown graph (``init=``): which nodes changed since the previous result
and where the walks start.

Every walk result keeps ``meta["adjacency_signature"]``: one integer per node, a hash of its
neighbours' ids (and edge weights), so the next run can tell which nodes' edges changed without
the previous graph. The affected region is the new nodes, the nodes whose signature differs, and
their ``update_hops``-hop neighbourhood in the grown graph; walks start only there
(``walks_per_node`` each), so an update costs about the region's share of a retrain.
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


def affected_nodes(method: str, g, previous, hops: int | None) -> np.ndarray:
    """Rows of ``g`` where the walks of an update start: new nodes, nodes whose edges changed
    since ``previous`` was trained, and their ``hops``-hop neighbourhood (None: every node)."""
    n = g.num_nodes
    if hops is None:
        return np.arange(n, dtype=np.int64)
    rows = np.array([-1 if r is None else r for r in (previous._lookup(k) for k in g.nodes)], dtype=np.int64)
    sig_old = previous.meta.get("adjacency_signature")
    if sig_old is None or len(sig_old) != len(previous):
        logger.warning("%s: the init result has no adjacency signature (meta['adjacency_signature']), so changed "
                       "nodes cannot be told apart: walks start from every node", method)
        return np.arange(n, dtype=np.int64)
    old = np.array([int(x) for x in sig_old], dtype=np.uint64)
    sig = adjacency_signature(g)
    changed = rows < 0
    known = ~changed
    changed[known] = old[rows[known]] != sig[known]
    region = changed.copy()
    frontier = np.flatnonzero(changed)
    for _ in range(hops):
        if frontier.size == 0:
            break
        nbrs = np.concatenate([g.indices[g.indptr[v]:g.indptr[v + 1]] for v in frontier]) if frontier.size else []
        nbrs = np.unique(np.asarray(nbrs, dtype=np.int64))
        nbrs = nbrs[~region[nbrs]]
        region[nbrs] = True
        frontier = nbrs
    logger.info("%s: %d new nodes, %d changed, %d in the affected region (%d hops) of %d", method,
                int((rows < 0).sum()), int(changed.sum() - (rows < 0).sum()), int(region.sum()), hops, n)
    return np.flatnonzero(region).astype(np.int64)


def region_starts(region: np.ndarray, walks_per_node: int, seed: int) -> np.ndarray:
    """Start rows: ``walks_per_node`` rounds, each a fresh permutation of ``region``."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.permutation(region) for _ in range(walks_per_node)]).astype(np.int64)
