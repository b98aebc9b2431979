"""How DeepWalk and Node2Vec run on the shared training loop: the loop's parameter rows, the
graph digest that identifies a checkpoint's data, and validation by link-prediction AUC on
held-out edges after every epoch.

Validation (``validation=``): the held-out edges are scored against as many node pairs that are
edges of neither graph (sampled once, with the run's seed) by the cosine similarity of the
current vectors; the metric is the ROC AUC of those scores (``val_auc``): cheap (two gathers and
a sort), and no classifier is trained, unlike :func:`embedkit.evaluate.link_prediction`.
"""
from __future__ import annotations

import logging

import numpy as np

from ..exceptions import InvalidParameterError
from ..training import digest, loop_params

logger = logging.getLogger("embedkit")

LOOP_ROWS = loop_params("held-out edges: an EdgeSplit (from split_edges), a Graph, an edge-list path or (u, v) "
                        "node-id pairs; link-prediction AUC of the vectors' cosine on them against as many "
                        "sampled non-edges")


def graph_digest(g) -> dict:
    """What identifies the training graph in a checkpoint: its CSR arrays and node ids."""
    return {"description": repr(g),
            "digest": digest(g.indptr, g.indices, g.weights, [str(n) for n in g.nodes], bool(g.directed))}


def walked_graph_digest(g, tokens: np.ndarray, offsets: np.ndarray) -> dict:
    """The graph's digest and its walks' (regenerated from the seed on resume rather than stored:
    a checkpoint of other walks is another run's)."""
    d = graph_digest(g)
    walks = walks_digest(tokens, offsets)
    return {"description": f"{d['description']}, walks {walks[:12]}", "digest": digest(d["digest"], walks)}


def walks_digest(tokens: np.ndarray, offsets: np.ndarray, chunk: int = 1 << 24) -> str:
    """A hash of the walks (tokens read in chunks: spooled walks stay on disk)."""
    import hashlib

    h = hashlib.blake2b(digest_size=16)
    for arr in (offsets, tokens):
        h.update(f"{arr.dtype.str}{arr.shape}".encode())
        for s in range(0, arr.shape[0], chunk):
            h.update(memoryview(np.ascontiguousarray(arr[s:s + chunk])).cast("B"))
    return h.hexdigest()


def _pairs(method: str, g, validation) -> tuple[np.ndarray, np.ndarray | None]:
    """Held-out edges as rows of ``g`` ``(m, 2)``, and the split's non-edges when it has them."""
    from ..data.graph import Graph, read_graph
    from ..data.split import EdgeSplit

    neg = None
    if isinstance(validation, EdgeSplit):
        ids = [[validation.nodes[i] for i in pair] for pair in validation.test_pos]
        neg_ids = [[validation.nodes[i] for i in pair] for pair in validation.test_neg]
    else:
        if isinstance(validation, (str, bytes)) or hasattr(validation, "__fspath__"):
            validation = read_graph(validation)
        if isinstance(validation, Graph):
            ids = [[validation.nodes[i] for i in pair] for pair in validation.undirected_edges()]
        else:
            try:
                ids = [list(p) for p in validation]
            except TypeError:
                ids = None
            if ids is None or not all(len(p) == 2 for p in ids):
                raise InvalidParameterError(method, "validation", "held-out edges: an EdgeSplit, a Graph, an "
                                            "edge-list path or (u, v) pairs", type(validation).__name__)
        neg_ids = None
    index = g.node_index

    def rows(pairs):
        out = []
        for u, v in pairs:
            a, b = index.get(u, index.get(str(u))), index.get(v, index.get(str(v)))
            if a is not None and b is not None and a != b:
                out.append((a, b))
        return np.array(out, dtype=np.int64).reshape(-1, 2)

    pos = rows(ids)
    if len(pos) < len(ids):
        logger.warning("%s: %d of %d held-out edges have a node outside the training graph (or are self-loops): "
                       "left out of validation", method, len(ids) - len(pos), len(ids))
    if len(pos) == 0:
        raise InvalidParameterError(method, "validation", "held-out edges between nodes of the training graph",
                                    f"{len(ids)} pairs, none between its nodes")
    if neg_ids is not None:
        neg = rows(neg_ids)
    return pos, neg


def walk_validation(method: str, g, validation, seed: int):
    """``validate(vectors) -> {"auc": ...}`` for the ``validation=`` parameter, or None."""
    if validation is None:
        return None
    from sklearn.metrics import roc_auc_score

    from ..data.split import sample_non_edges

    pos, neg = _pairs(method, g, validation)
    if neg is None or len(neg) == 0:
        n = g.num_nodes
        rng = np.random.default_rng(seed)
        neg = sample_non_edges(g, len(pos), rng, exclude_keys=pos[:, 0] * n + pos[:, 1])
    pairs = np.concatenate([pos, neg])
    labels = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])

    def validate(vectors) -> dict:
        v = vectors[:g.num_nodes]
        a, b = v[pairs[:, 0]], v[pairs[:, 1]]
        norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
        score = np.einsum("ij,ij->i", a, b) / np.where(norms > 0, norms, 1.0)
        return {"auc": float(roc_auc_score(labels, score))}
    return validate
