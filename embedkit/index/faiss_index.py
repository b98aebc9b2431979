"""faiss indexes (Johnson, Douze & Jégou 2019, "Billion-scale similarity search with GPUs"):
``flat`` (exact, BLAS), ``ivf`` (inverted file over k-means cells; Jégou, Douze & Schmid 2011)
and ``hnsw`` (Malkov & Yashunin 2018). Needs faiss-cpu: ``pip install 'embedkit[index]'``.

Cosine is inner product on unit rows (the rows are normalised before they are
added; queries likewise). Saved with ``faiss.write_index`` (faiss's own binary
format, no pickle).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .._validation import Param
from ..exceptions import InputFormatError, InvalidParameterError
from .base import Backend

#: a faiss cell wants at least this many training points (fewer and faiss warns)
_MIN_POINTS_PER_CELL = 39


def _faiss():
    from .._optional import require

    return require("faiss", "a faiss index")


def _metric(space: str):
    faiss = _faiss()
    return faiss.METRIC_INNER_PRODUCT if space == "ip" else faiss.METRIC_L2


class _FaissBackend(Backend):
    library = "faiss"
    module = "faiss"
    extension = ".faiss"

    def _make(self):  # pragma: no cover - abstract
        raise NotImplementedError

    def build(self, vectors: np.ndarray) -> None:
        self.index = self._make(vectors.shape[0])
        self._train(vectors)
        self.index.add(vectors)
        self.apply_search_params()

    def _train(self, vectors: np.ndarray) -> None:
        pass

    def search(self, queries: np.ndarray, k: int):
        vals, ids = self.index.search(queries, k)
        return ids, vals

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        if not len(ids):
            return np.empty((0, self.dim), np.float32)
        return self.index.reconstruct_batch(np.ascontiguousarray(ids, dtype=np.int64))

    def save(self, path: Path) -> None:
        _faiss().write_index(self.index, str(path))

    @classmethod
    def load(cls, path: Path, dim: int, space: str, count: int, params: dict):
        faiss = _faiss()
        try:
            index = faiss.read_index(str(path))
        except RuntimeError as exc:
            raise InputFormatError(f"faiss could not read it ({str(exc).strip().splitlines()[-1]})", path) from None
        if index.d != dim or index.ntotal != count:
            raise InputFormatError(f"a faiss index of {index.ntotal} x {index.d}; the side-car says {count} x {dim}",
                                   path)
        b = cls(dim, space, params)
        b.index = index
        b._after_load()
        b.apply_search_params()
        return b

    def _after_load(self) -> None:
        pass


class FaissFlat(_FaissBackend):
    """``IndexFlatIP`` / ``IndexFlatL2``: exact search, multi-threaded BLAS."""

    kind = "flat"

    def _make(self, n: int):
        faiss = _faiss()
        return faiss.IndexFlatIP(self.dim) if self.space == "ip" else faiss.IndexFlatL2(self.dim)


def default_nlist(n: int) -> int:
    """About ``4 sqrt(n)`` cells, and at most one per 39 rows (faiss's training minimum)."""
    return max(1, min(int(round(4 * math.sqrt(n))), n // _MIN_POINTS_PER_CELL))


class FaissIVF(_FaissBackend):
    """``IndexIVFFlat``: rows stored uncompressed in ``nlist`` k-means cells; a query scans the
    ``nprobe`` nearest cells. Recall grows with ``nprobe`` (all cells: exact)."""

    kind = "ivf"
    params = (
        Param("nlist", int, None, "k-means cells (None: about 4 sqrt(n), at most n/39)", low=1, nullable=True),
        Param("nprobe", int, None, "cells scanned per query (None: nlist/8, at least 1)", low=1, nullable=True),
        Param("train_size", int, 262144, "rows sampled to train the k-means", low=1),
        Param("seed", int, 0, "seed of the k-means and its training sample", low=0),
    )
    search_params = ("nprobe",)

    def _make(self, n: int):
        faiss = _faiss()
        if self.p["nlist"] is None:
            self.p["nlist"] = default_nlist(n)
        if self.p["nprobe"] is None:
            self.p["nprobe"] = max(1, self.p["nlist"] // 8)
        quantizer = faiss.IndexFlatIP(self.dim) if self.space == "ip" else faiss.IndexFlatL2(self.dim)
        index = faiss.IndexIVFFlat(quantizer, self.dim, self.p["nlist"], _metric(self.space))
        index.cp.seed = self.p["seed"]
        self._quantizer = quantizer  # the IVF index does not own it from Python
        return index

    def _train(self, vectors: np.ndarray) -> None:
        n = vectors.shape[0]
        if n < self.p["nlist"]:
            raise InvalidParameterError("faiss IVF index", "nlist", f"an integer <= {n} (an IVF index needs a row per "
                                        "cell, and these vectors have {n} rows)", self.p["nlist"])
        sample = vectors
        if n > self.p["train_size"]:
            rows = np.random.default_rng(self.p["seed"]).choice(n, self.p["train_size"], replace=False)
            sample = vectors[np.sort(rows)]
        self.index.train(sample)

    def apply_search_params(self) -> None:
        self.index.nprobe = min(int(self.p["nprobe"]), self.index.nlist)

    def _after_load(self) -> None:
        self.p.setdefault("nlist", self.index.nlist)

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        if not getattr(self, "_direct_map", False):
            self.index.make_direct_map()
            self._direct_map = True
        return super().reconstruct(ids)


#: HNSW's parameters, the same for faiss and hnswlib
HNSW_PARAMS = (
    Param("m", int, 32, "graph links per row and layer (more: better recall, more memory)", low=2),
    Param("ef_construction", int, 100, "candidate list while building", low=1),
    Param("ef_search", int, 64, "candidate list while searching (raised to k when smaller)", low=1),
)


class FaissHNSW(_FaissBackend):
    """``IndexHNSWFlat``: a hierarchical navigable small-world graph (Malkov & Yashunin 2018).
    Each row links to ``m`` neighbours per layer (``2m`` on layer 0); ``ef_construction`` and
    ``ef_search`` are the candidate-list lengths at build and query time."""

    kind = "hnsw"
    params = HNSW_PARAMS
    search_params = ("ef_search",)

    def _make(self, n: int):
        index = _faiss().IndexHNSWFlat(self.dim, self.p["m"], _metric(self.space))
        index.hnsw.efConstruction = self.p["ef_construction"]
        return index

    def apply_search_params(self) -> None:
        self.index.hnsw.efSearch = int(self.p["ef_search"])

    def search(self, queries: np.ndarray, k: int):
        self.index.hnsw.efSearch = max(int(self.p["ef_search"]), k)
        return super().search(queries, k)
