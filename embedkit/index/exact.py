"""Exact search with numpy: a matrix product per batch of queries and a partial sort.

Always available (no extra). Memory: the prepared matrix plus ``batch x n`` scores;
a batch is sized so that its score block stays near 64 MiB. Saved as ``.npy``
(the prepared rows) beside the usual key side-car, so ``embedkit.load`` also reads it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..exceptions import InputFormatError
from .base import Backend

#: float32 scores per block (64 MiB)
_SCORE_BLOCK = 1 << 24


class ExactIndex(Backend):
    """Brute force over every row: recall 1 by construction; the reference ANN indexes are measured against."""

    library = "numpy"
    kind = "exact"
    extension = ".npy"

    def build(self, vectors: np.ndarray) -> None:
        self.x = np.ascontiguousarray(vectors, dtype=np.float32)
        self.sq = np.einsum("ij,ij->i", self.x, self.x) if self.space == "l2" else None

    def search(self, queries: np.ndarray, k: int):
        n = self.x.shape[0]
        step = max(1, _SCORE_BLOCK // max(n, 1))
        ids = np.empty((queries.shape[0], k), dtype=np.int64)
        vals = np.empty((queries.shape[0], k), dtype=np.float32)
        for start in range(0, queries.shape[0], step):
            q = queries[start:start + step]
            s = q @ self.x.T
            if self.space == "l2":  # ||q - x||^2 = ||q||^2 - 2 q.x + ||x||^2; ordered by -distance
                s = 2.0 * s - self.sq[None, :] - np.einsum("ij,ij->i", q, q)[:, None]
            top = np.argpartition(-s, k - 1, axis=1)[:, :k] if k < n else np.tile(np.arange(n), (len(q), 1))
            part = np.take_along_axis(s, top, axis=1)
            order = np.argsort(-part, axis=1, kind="stable")
            ids[start:start + len(q)] = np.take_along_axis(top, order, axis=1)
            best = np.take_along_axis(part, order, axis=1)
            vals[start:start + len(q)] = -best if self.space == "l2" else best
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
