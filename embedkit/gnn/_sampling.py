"""Neighbour sampling for mini-batch GNN training (Hamilton, Ying & Leskovec,
"Inductive Representation Learning on Large Graphs", NeurIPS 2017).

PyG's ``NeighborLoader`` needs ``pyg-lib`` or ``torch-sparse``, neither of which has
wheels on PyPI for current torch; this sampler is numpy over the graph's CSR arrays.
"""
from __future__ import annotations

import numpy as np


def sample_subgraph(indptr: np.ndarray, indices: np.ndarray, seeds: np.ndarray, fanout: int, hops: int,
                    rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """The ``hops``-hop sampled neighbourhood of ``seeds``.

    Each frontier node keeps all its neighbours when it has at most ``fanout`` of
    them, else ``fanout`` drawn uniformly with replacement (duplicates merged).
    Returns ``(nodes, edge_index)``: the global ids of the subgraph's nodes, the seeds
    first (local rows ``0..len(seeds)-1``), and a ``(2, E)`` int64 array of local
    ``neighbour -> node`` edges.
    """
    seeds = np.asarray(seeds, dtype=np.int64)
    if np.unique(seeds).size != seeds.size:
        raise ValueError("seeds must be distinct")
    nodes = [seeds]
    srcs, dsts = [], []
    frontier = seeds
    seen = np.sort(seeds)
    for _ in range(hops):
        if frontier.size == 0:
            break
        deg = indptr[frontier + 1] - indptr[frontier]
        small = deg <= fanout
        # every neighbour of low-degree nodes
        f_s, d_s = frontier[small], deg[small]
        rep = np.repeat(f_s, d_s)
        starts = np.repeat(indptr[f_s], d_s)
        offs = np.arange(rep.size) - np.repeat(np.cumsum(d_s) - d_s, d_s)
        nb_s = indices[starts + offs].astype(np.int64)
        # fanout draws for high-degree nodes
        f_b, d_b = frontier[~small], deg[~small]
        pick = indptr[f_b][:, None] + (rng.random((f_b.size, fanout)) * d_b[:, None]).astype(np.int64)
        pairs = np.unique(np.stack([np.repeat(f_b, fanout), indices[pick.ravel()].astype(np.int64)], 1), axis=0)
        tgt = np.concatenate([rep, pairs[:, 0]])
        nb = np.concatenate([nb_s, pairs[:, 1]])
        srcs.append(nb)
        dsts.append(tgt)
        new = np.setdiff1d(np.unique(nb), seen, assume_unique=True)
        seen = np.union1d(seen, new)
        nodes.append(new)
        frontier = new
    order = np.concatenate(nodes)  # disjoint by construction, seeds first
    sorter = np.argsort(order)
    src = np.concatenate(srcs) if srcs else np.zeros(0, dtype=np.int64)
    dst = np.concatenate(dsts) if dsts else np.zeros(0, dtype=np.int64)
    local_src = sorter[np.searchsorted(order, src, sorter=sorter)]
    local_dst = sorter[np.searchsorted(order, dst, sorter=sorter)]
    return order, np.stack([local_src, local_dst])
