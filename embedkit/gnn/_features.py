"""Input node features for a GNN: the given ones, or a documented default when a
graph has none (learnable node embeddings, degree bins, spectral coordinates)."""
from __future__ import annotations

import logging

import numpy as np

from ..data.nodes import NodeData
from ..exceptions import InvalidParameterError

logger = logging.getLogger("embedkit")

FEATURE_CHOICES = ("auto", "given", "learned", "degree", "spectral")
FEATURE_HELP = ("input features: auto (the data's features, else learned), given, learned (a trainable "
                "table of node vectors, i.e. one-hot input as in Kipf & Welling's karate example), "
                "degree (one-hot log2 degree bins), spectral (top eigenvectors of the normalised adjacency)")
SPECTRAL_DIM = 32


def input_features(data: NodeData, choice: str, normalize: bool, method: str,
                   degree_log_max: float | None = None) -> tuple[np.ndarray | None, str]:
    """``(X, kind)``: float32 ``(V, F)`` features, or None for ``kind == "learned"``.
    ``degree_log_max``: degree features scale ``log(1 + degree)`` by it (a trained model's
    ``meta["degree_log_max"]``, so that a grown graph's nodes get the training graph's scale);
    None: by this graph's largest."""
    if choice == "auto":
        choice = "given" if data.features is not None else "learned"
        if choice == "learned":
            logger.info("%s: the graph has no node features; learning a table of node vectors as input", method)
    if choice == "given":
        if data.features is None:
            raise InvalidParameterError(method, "input_features", "'auto', 'learned', 'degree' or 'spectral' for a "
                                        "graph without node features", "given",
                                        hint="pass features (a .npy/.npz/CSV file or an array) with the graph")
        X = data.features
        if normalize and X.min() < 0:
            logger.info("%s: features have negative values; not row-normalised", method)
        elif normalize:
            s = X.sum(1, keepdims=True)
            X = np.divide(X, s, out=np.zeros_like(X), where=s != 0)
        return X, "given"
    if choice == "learned":
        return None, "learned"
    if choice == "degree":
        return degree_features(data.graph.degree(), log_max=degree_log_max), "degree"
    return spectral_features(data.graph, SPECTRAL_DIM), "spectral"


def degree_log_max(degree: np.ndarray) -> float:
    """``log(1 + largest degree)``: what :func:`degree_features` scales by."""
    return float(np.log1p(degree).max()) if degree.size else 0.0


def degree_features(degree: np.ndarray, bins: int = 16, log_max: float | None = None) -> np.ndarray:
    """One-hot ``floor(log2(1 + degree))`` (capped at ``bins - 1``) plus ``log(1 + degree)`` divided by
    ``log_max`` (default: :func:`degree_log_max` of ``degree``, so in [0, 1])."""
    b = np.minimum(np.floor(np.log2(1 + degree)).astype(np.int64), bins - 1)
    X = np.zeros((degree.size, bins + 1), dtype=np.float32)
    X[np.arange(degree.size), b] = 1.0
    ld = np.log1p(degree)
    X[:, -1] = ld / max(degree_log_max(degree) if log_max is None else log_max, 1e-12)
    return X


def spectral_features(graph, k: int) -> np.ndarray:
    """The ``k`` leading eigenvectors of ``D^-1/2 (A + I) D^-1/2``, shape ``(V, k)`` (fewer on tiny graphs)."""
    import scipy.sparse as sp
    from scipy.sparse.linalg import eigsh

    n = graph.num_nodes
    A = graph.to_scipy().astype(np.float64)
    A = ((A + A.T) > 0).astype(np.float64) + sp.eye(n)
    d = np.asarray(A.sum(1)).ravel()
    Dm = sp.diags(1.0 / np.sqrt(d))
    M = Dm @ A @ Dm
    k = min(k, n - 2)
    if k < 1:
        return np.ones((n, 1), dtype=np.float32)
    if n <= 500:
        vals, vecs = np.linalg.eigh(M.toarray())
        vecs = vecs[:, np.argsort(-vals)[:k]]
    else:
        v0 = np.random.default_rng(0).random(n)  # a fixed start: repeatable vectors
        vals, vecs = eigsh(M, k=k, which="LA", v0=v0)
        vecs = vecs[:, np.argsort(-vals)]
    vecs = vecs * np.sign(vecs[np.abs(vecs).argmax(0), np.arange(vecs.shape[1])])  # fix each vector's sign
    return (vecs * np.sqrt(n)).astype(np.float32)


def graph_digest(graph) -> str:
    """A digest of ``graph``'s structure and node ids (spectral features are a function of both)."""
    from ..training import digest

    return digest(np.asarray(graph.indptr, np.int64), np.asarray(graph.indices, np.int64),
                  [str(k) for k in graph.nodes])
