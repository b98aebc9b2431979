"""Aligning two embedding spaces: orthogonal Procrustes on shared keys.

Two runs of a method (another seed, another day's data) give vectors that agree up to a
rotation at best: the same key points somewhere else, so an index or a classifier built on
yesterday's vectors does not fit today's. :func:`align` rotates ``other`` onto
``reference``'s space with the orthogonal matrix that best maps the shared (or given anchor)
keys' vectors onto each other (Schönemann 1966; used for word vectors across time by
Hamilton, Leskovec & Jurafsky, "Diachronic Word Embeddings", ACL 2016). A rotation keeps
every cosine and distance within ``other`` unchanged.
"""
from __future__ import annotations

import logging
from typing import Hashable, Iterable

import numpy as np

from .embeddings import Embeddings
from .exceptions import EmbedkitError, InvalidParameterError

logger = logging.getLogger("embedkit")

__all__ = ["align", "procrustes", "mean_cosine"]


def _shared(reference: Embeddings, other: Embeddings, anchors: Iterable[Hashable] | None):
    if anchors is None:
        keys = [k for k in other.keys if k in reference]
    else:
        keys = list(anchors)
        missing = [k for k in keys if k not in reference or k not in other]
        if missing:
            raise EmbedkitError(f"align: {len(missing)} of {len(keys)} anchor keys are missing from one of the "
                                f"embeddings (first: {missing[:5]!r})")
    return keys


def procrustes(source: np.ndarray, target: np.ndarray) -> np.ndarray:
    """The orthogonal ``(d, d)`` matrix ``W`` minimising ``|source @ W - target|_F``.

    ``source``, ``target``: ``(n, d)`` rows that should correspond. ``W = U V^T`` for the
    SVD ``source^T target = U S V^T``.
    """
    m = source.astype(np.float64).T @ target.astype(np.float64)
    u, _, vt = np.linalg.svd(m)
    return (u @ vt).astype(np.float32)


def align(reference: Embeddings, other: Embeddings, *, anchors: Iterable[Hashable] | None = None,
          normalize: bool = True, min_shared: int | None = None) -> Embeddings:
    """``other`` rotated onto ``reference``'s space (orthogonal Procrustes on shared keys).

    Parameters
    ----------
    reference, other : Embeddings of the same ``dim``.
    anchors : keys to fit the rotation on (default: every key the two share).
    normalize : fit on unit-length rows (default True), so frequent keys with long vectors do
        not dominate; the rotation is applied to ``other``'s vectors as they are.
    min_shared : fewest shared keys accepted (default ``dim``: fewer leave the rotation
        under-determined).

    Returns an :class:`Embeddings` with ``other``'s keys (keys absent from ``reference`` are
    rotated too) and metadata recording the alignment (shared keys, mean cosine before and after).
    """
    if reference.dim != other.dim:
        raise InvalidParameterError("align", "other", f"embeddings of dim {reference.dim}", f"dim {other.dim}")
    keys = _shared(reference, other, anchors)
    need = other.dim if min_shared is None else int(min_shared)
    if len(keys) < max(need, 1):
        raise EmbedkitError(f"align: only {len(keys)} shared keys for {other.dim}-dimensional vectors; "
                            f"need at least {need} (pass anchors= or min_shared=)")
    src = other.vectors[other.rows(keys)]
    dst = reference.vectors[reference.rows(keys)]
    if normalize:
        src, dst = _unit(src), _unit(dst)
    W = procrustes(src, dst)
    aligned = Embeddings(other.keys, other.vectors @ W, dict(other.meta))
    before = mean_cosine(reference, other, keys)
    after = mean_cosine(reference, aligned, keys)
    aligned.meta["aligned"] = {"shared_keys": len(keys), "mean_cosine_before": round(before, 6),
                               "mean_cosine_after": round(after, 6)}
    logger.info("align: %d shared keys, mean cosine of the same keys %.4f -> %.4f", len(keys), before, after)
    return aligned


def mean_cosine(a: Embeddings, b: Embeddings, keys: Iterable[Hashable] | None = None) -> float:
    """Mean cosine between the vectors of the same keys in ``a`` and ``b`` (default: shared keys)."""
    keys = [k for k in b.keys if k in a] if keys is None else list(keys)
    if not keys:
        raise EmbedkitError("mean_cosine: the embeddings share no key")
    x, y = _unit(a.vectors[a.rows(keys)]), _unit(b.vectors[b.rows(keys)])
    return float(np.mean(np.sum(x * y, axis=1)))


def _unit(m: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(m, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return m / n
