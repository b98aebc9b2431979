"""hnswlib's HNSW index (Malkov & Yashunin 2018, "Efficient and robust approximate nearest
neighbor search using Hierarchical Navigable Small World graphs", the authors' library).
Needs hnswlib: ``pip install 'embedkit[index]'`` (built from source: a C++ compiler is needed).

Cosine is inner product on unit rows. Saved with ``save_index`` (hnswlib's own binary
format, no pickle); the space and size it needs to load are in the key side-car.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .._validation import Param
from ..exceptions import InputFormatError
from .base import Backend
from .faiss_index import HNSW_PARAMS


def _hnswlib():
    from .._optional import require

    return require("hnswlib", "an hnswlib index")


class HnswlibHNSW(Backend):
    """``hnswlib.Index``: same parameters as faiss's HNSW; builds with all cores."""

    library = "hnswlib"
    kind = "hnsw"
    module = "hnswlib"
    extension = ".hnsw"
    params = HNSW_PARAMS + (Param("seed", int, 0, "seed of the level assignment", low=0),)
    search_params = ("ef_search",)

    def _new(self):
        return _hnswlib().Index(space=self.space, dim=self.dim)

    def build(self, vectors: np.ndarray) -> None:
        self.index = self._new()
        self.index.init_index(max_elements=max(1, vectors.shape[0]), M=self.p["m"],
                              ef_construction=self.p["ef_construction"], random_seed=self.p["seed"])
        if vectors.shape[0]:
            self.index.add_items(vectors, np.arange(vectors.shape[0]))
        self.apply_search_params()

    def apply_search_params(self) -> None:
        self.index.set_ef(int(self.p["ef_search"]))

    def search(self, queries: np.ndarray, k: int):
        self.index.set_ef(max(int(self.p["ef_search"]), k))
        try:
            ids, dist = self.index.knn_query(queries, k=k)
        except RuntimeError:  # fewer than k found for some query: search the whole graph's candidates
            self.index.set_ef(max(k, self.index.get_current_count()))
            ids, dist = self.index.knn_query(queries, k=k)
        ids = ids.astype(np.int64)
        # hnswlib's "ip" distance is 1 - inner product; "l2" is the squared distance
        return ids, (1.0 - dist if self.space == "ip" else dist).astype(np.float32)

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        if not len(ids):
            return np.empty((0, self.dim), np.float32)
        return np.asarray(self.index.get_items(np.asarray(ids), return_type="numpy"), dtype=np.float32)

    def save(self, path: Path) -> None:
        self.index.save_index(str(path))

    @classmethod
    def load(cls, path: Path, dim: int, space: str, count: int, params: dict):
        b = cls(dim, space, params)
        b.index = b._new()
        try:
            b.index.load_index(str(path), max_elements=max(1, count))
        except RuntimeError as exc:
            raise InputFormatError(f"hnswlib could not read it ({exc})", path) from None
        if b.index.get_current_count() != count:
            raise InputFormatError(f"an hnswlib index of {b.index.get_current_count()} rows; the side-car says "
                                   f"{count}", path)
        b.apply_search_params()
        return b
