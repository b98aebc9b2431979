"""Exact search with numpy: blocks of queries against blocks of rows (matrix products), keeping
a running top-k per query.

Always available (no extra). Memory: the prepared matrix plus one ``queries x rows`` block
of scores (about 64 MiB). Saved as ``.npy`` (the prepared rows) beside the usual key
side-car, so ``embedkit.load`` also reads it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..exceptions import InputFormatError
from .base import Backend

#: queries per block, and float32 scores per block (64 MiB): rows per block = _SCORES // queries
_QUERY_BLOCK = 1024
_SCORES = 1 << 24


def _best(s: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Column indices and values of the ``k`` largest of each row of ``s``, best first."""
    if k < s.shape[1]:
        top = np.argpartition(-s, k - 1, axis=1)[:, :k]
    else:
        top = np.broadcast_to(np.arange(s.shape[1]), s.shape).copy()
    part = np.take_along_axis(s, top, axis=1)
    order = np.argsort(-part, axis=1, kind="stable")
    return np.take_along_axis(top, order, axis=1), np.take_along_axis(part, order, axis=1)


class ExactIndex(Backend):
    """Brute force over every row: recall 1 by construction; the reference ANN indexes are measured against."""

    library = "numpy"
    kind = "exact"
    extension = ".npy"

    def build(self, vectors: np.ndarray) -> None:
        self.x = np.ascontiguousarray(vectors, dtype=np.float32)
        self.sq = np.einsum("ij,ij->i", self.x, self.x) if self.space == "l2" else None

    def _scores(self, q: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Higher is better: inner product, or minus the squared distance up to the query's own norm."""
        s = q @ self.x[start:stop].T
        if self.space == "l2":  # -||q - x||^2 + ||q||^2 = 2 q.x - ||x||^2
            s *= 2.0
            s -= self.sq[None, start:stop]
        return s

    def search(self, queries: np.ndarray, k: int):
        n = self.x.shape[0]
        ids = np.empty((queries.shape[0], k), dtype=np.int64)
        vals = np.empty((queries.shape[0], k), dtype=np.float32)
        rows = max(k, _SCORES // _QUERY_BLOCK)
        for qs in range(0, queries.shape[0], _QUERY_BLOCK):
            q = queries[qs:qs + _QUERY_BLOCK]
            best_i = np.empty((len(q), 0), dtype=np.int64)
            best_v = np.empty((len(q), 0), dtype=np.float32)
            for start in range(0, n, rows):
                top, val = _best(self._scores(q, start, min(n, start + rows)), k)
                cand_i = np.concatenate([best_i, top + start], axis=1)
                cand_v = np.concatenate([best_v, val], axis=1)
                keep, best_v = _best(cand_v, k)
                best_i = np.take_along_axis(cand_i, keep, axis=1)
            ids[qs:qs + len(q)] = best_i
            if self.space == "l2":
                best_v = np.einsum("ij,ij->i", q, q)[:, None] - best_v
            vals[qs:qs + len(q)] = best_v
        return ids, vals

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        return self.x[ids]

    def save(self, path: Path) -> None:
        with open(path, "wb") as fh:
            np.save(fh, self.x, allow_pickle=False)

    @classmethod
    def load(cls, path: Path, dim: int, space: str, count: int, params: dict) -> "ExactIndex":
        x = np.load(path, allow_pickle=False)
        if x.ndim != 2 or x.shape != (count, dim):
            raise InputFormatError(f"matrix of shape {x.shape}; the side-car says ({count}, {dim})", path)
        b = cls(dim, space, params)
        b.build(x)
        return b
