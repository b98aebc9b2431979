"""The index every backend sits behind: keys, metric, batched search, save/load with a JSON side-car.

A backend (numpy, faiss, hnswlib) knows one thing: given prepared float32 rows,
answer the ``k`` best row ids for prepared queries in one of two spaces, inner
product (``"ip"``, higher is better) or squared L2 (``"l2"``, lower is better).
:class:`VectorIndex` does the rest the same way for all of them: it normalises
for cosine, batches queries, maps row ids to keys, turns squared distances into
distances, and writes the key list beside the backend's own file.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, ClassVar, Hashable, Sequence

import numpy as np

from .._atomic import atomic_pair, fingerprint
from .._optional import require
from .._validation import Param, validate
from .._version import __version__
from ..embeddings import check_k, Embeddings
from ..exceptions import InputFormatError, InvalidParameterError, KeyNotFoundError, ShapeError
from ..io.native import _keys_payload

logger = logging.getLogger("embedkit")

FORMAT_NAME = "embedkit.index"
FORMAT_VERSION = 1

#: metric -> the backend's space
METRICS = {"cosine": "ip", "dot": "ip", "l2": "l2"}


def sidecar(path) -> Path:
    """``index.faiss`` -> ``index.faiss.keys.json``: keys and index settings (the same name as
    ``.npy``'s key file, and readable as one)."""
    path = Path(path)
    return path.with_name(path.name + ".keys.json")


def unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm (zero rows stay zero), as float32."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32, copy=False)


class Backend:
    """One index kind in one library. Subclasses set the class attributes and the methods."""

    #: library name ("numpy", "faiss", "hnswlib") and index kind ("exact", "flat", "ivf", "hnsw")
    library: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    #: the optional module it needs (None: numpy only)
    module: ClassVar[str | None] = None
    #: build and search parameters (validated like a method's)
    params: ClassVar[tuple[Param, ...]] = ()
    #: the parameters that may change after building (``VectorIndex.set_params``)
    search_params: ClassVar[tuple[str, ...]] = ()
    #: file extension of the saved index
    extension: ClassVar[str] = ""

    def __init__(self, dim: int, space: str, params: dict):
        self.dim, self.space, self.p = dim, space, params

    def build(self, vectors: np.ndarray) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:  # pragma: no cover
        """``(ids (m, k) int64, -1 when missing; values (m, k) float32: inner product or squared L2)``."""
        raise NotImplementedError

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """The stored (prepared) rows ``ids``, shape ``(len(ids), dim)``."""
        raise NotImplementedError

    def save(self, path: Path) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    @classmethod
    def load(cls, path: Path, dim: int, space: str, count: int, params: dict) -> "Backend":  # pragma: no cover
        raise NotImplementedError

    def apply_search_params(self) -> None:
        """Push the current search parameters (``self.p``) into the library's index."""


class VectorIndex:
    """A search index over keyed vectors: ``search(queries, k) -> (keys, scores)``.

    Built by :meth:`embedkit.Embeddings.index` or :func:`embedkit.index.build_index`;
    saved with :meth:`save` (the backend's own binary file + ``<path>.keys.json``, no
    pickle) and read back with :func:`embedkit.load_index`.

    Scores: cosine similarity (``metric="cosine"``) or inner product (``"dot"``),
    best first (descending); Euclidean distance (``"l2"``), best first (ascending).
    """

    def __init__(self, backend: Backend, keys: Sequence[Hashable], metric: str):
        self.backend = backend
        self.keys = list(keys)
        self.metric = metric
        self._key_array = np.empty(len(self.keys) + 1, dtype=object)
        self._key_array[:-1] = self.keys  # the last slot answers id -1 (no result) with None
        self._rows: dict | None = None

    # ---- description ---------------------------------------------------------------------------
    @property
    def kind(self) -> str:
        return self.backend.kind

    @property
    def library(self) -> str:
        return self.backend.library

    @property
    def dim(self) -> int:
        return self.backend.dim

    @property
    def params(self) -> dict:
        """The build and search parameters in force."""
        return dict(self.backend.p)

    def __len__(self) -> int:
        return len(self.keys)

    def __repr__(self) -> str:
        return (f"VectorIndex(kind={self.kind!r}, library={self.library!r}, metric={self.metric!r}, "
                f"n={len(self)}, dim={self.dim})")

    def set_params(self, **params: Any) -> "VectorIndex":
        """Change search-time parameters (``nprobe`` for IVF, ``ef_search`` for HNSW); returns self."""
        cls = type(self.backend)
        for name in params:
            if name not in cls.search_params:
                raise InvalidParameterError(f"index {self.kind}", name, "one of the search-time parameters: " +
                                            (", ".join(cls.search_params) or "(none)"), params[name])
        checked = validate(f"index {self.kind}", cls.params, {**self.backend.p, **params})
        self.backend.p.update({k: checked[k] for k in params})
        self.backend.apply_search_params()
        return self

    # ---- queries -------------------------------------------------------------------------------
    def _prepare(self, queries: Any) -> tuple[np.ndarray, bool]:
        q = np.asarray(queries, dtype=np.float32)
        single = q.ndim == 1
        q = np.atleast_2d(q)
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ShapeError(f"queries must have shape (m, {self.dim}) or ({self.dim},); got {np.shape(queries)}")
        if self.metric == "cosine":
            q = unit_rows(q)
        return np.ascontiguousarray(q), single

    def search_ids(self, queries: Any, k: int = 10, *, batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        """Row ids and scores of the ``k`` best rows for each query.

        ``queries``: ``(m, dim)`` (or one ``(dim,)`` vector, answered as ``(k,)``).
        Returns ``ids`` int64 ``(m, k)`` (-1 where an approximate index found fewer than
        ``k``, or ``k`` exceeds the size) and ``scores`` float32 ``(m, k)`` (NaN there).
        Queries go to the backend ``batch_size`` at a time.
        """
        check_k("search", k)
        q, single = self._prepare(queries)
        kk = min(int(k), len(self))
        ids = np.full((q.shape[0], k), -1, dtype=np.int64)
        scores = np.full((q.shape[0], k), np.nan, dtype=np.float32)
        for start in range(0, q.shape[0], batch_size):
            if kk == 0:
                break
            got_ids, got = self.backend.search(q[start:start + batch_size], kk)
            ids[start:start + len(got_ids), :kk] = got_ids
            scores[start:start + len(got_ids), :kk] = got
        missing = ids < 0
        scores[missing] = np.nan
        if self.backend.space == "l2":
            scores = np.sqrt(np.maximum(scores, 0.0), dtype=np.float32)
        return (ids[0], scores[0]) if single else (ids, scores)

    def search(self, queries: Any, k: int = 10, *, batch_size: int = 4096) -> tuple[np.ndarray, np.ndarray]:
        """Keys and scores of the ``k`` nearest rows for each query (see :meth:`search_ids`).

        Returns ``keys``, an object array ``(m, k)`` (None where nothing was found), and
        ``scores`` float32 ``(m, k)``: cosine / inner product best first, or L2 distance
        nearest first.
        """
        ids, scores = self.search_ids(queries, k, batch_size=batch_size)
        return self._key_array[ids], scores

    def nearest(self, vector: Any, k: int = 10, exclude_row: int | None = None) -> list[tuple[Hashable, float]]:
        """The ``k`` best ``(key, score)`` for one vector, best first; row ``exclude_row`` never answers."""
        ids, scores = self.search_ids(np.asarray(vector, dtype=np.float32).ravel(), k + (exclude_row is not None))
        out = [(self.keys[i], float(s)) for i, s in zip(ids.tolist(), scores.tolist())
               if i >= 0 and i != exclude_row]
        return out[:k]

    def neighbors(self, key: Hashable, k: int = 10) -> list[tuple[Hashable, float]]:
        """The ``k`` best ``(key, score)`` for a key of the index (itself excluded), from its stored vector."""
        row = self.row(key)
        return self.nearest(self.vectors([row])[0], k, exclude_row=row)

    def row(self, key: Hashable) -> int:
        """Row id of ``key``."""
        from .._keys import lookup

        if self._rows is None:
            self._rows = {k: i for i, k in enumerate(self.keys)}
        i = lookup(self._rows, key)
        if i is None:
            raise KeyNotFoundError(f"key {key!r} is not in this index ({len(self)} keys)", key=key, keys=self.keys)
        return i

    def vectors(self, rows: Sequence[int] | None = None) -> np.ndarray:
        """The stored rows (all, or ``rows``), ``(m, dim)`` float32 — unit length for cosine indexes."""
        ids = np.arange(len(self)) if rows is None else np.asarray(rows, dtype=np.int64)
        return self.backend.reconstruct(ids)

    def vector(self, key: Hashable) -> np.ndarray:
        """The stored vector of ``key`` (unit length for cosine indexes)."""
        return self.vectors([self.row(key)])[0]

    def to_embeddings(self):
        """The keys and stored vectors as :class:`~embedkit.Embeddings`."""
        return Embeddings(self.keys, self.vectors(), {"source": "index", "index": self._info(),
                                                      "normalized": self.metric == "cosine"})

    # ---- persistence ---------------------------------------------------------------------------
    def _info(self) -> dict:
        return {"library": self.library, "kind": self.kind, "metric": self.metric, "dim": self.dim,
                "count": len(self), "params": self.params}

    def save(self, path) -> None:
        """Write the backend's index file at ``path`` and the keys and settings at
        ``<path>.keys.json``, a pair written atomically (see :mod:`embedkit._atomic`). No pickle."""
        path = Path(path)
        with atomic_pair(path, sidecar(path)) as (tmp, tmp_side):  # side-car renamed first: see _atomic
            self.backend.save(tmp)
            payload = {"format": FORMAT_NAME, "format_version": FORMAT_VERSION, "embedkit_version": __version__,
                       "index": self._info(), **_keys_payload(self.keys),
                       "pair": {"file": path.name, **fingerprint(tmp)}}
            tmp_side.write_text(json.dumps(payload, ensure_ascii=False))


def backend_class(kind: str, library: str | None, registry: dict) -> type[Backend]:
    """The backend for ``kind`` (and ``library``; None: the first installed in the table's order)."""
    if kind not in registry:
        raise InvalidParameterError("index", "kind", "one of " + ", ".join(repr(k) for k in registry), kind)
    table = registry[kind]
    if library is not None:
        if library not in table:
            raise InvalidParameterError("index", "library", f"one of {', '.join(map(repr, table))} for kind "
                                        f"{kind!r}", library)
        return table[library]
    from .._optional import available

    for cls in table.values():
        if cls.module is None or available(cls.module):
            return cls
    first = next(iter(table.values()))
    require(first.module, f"a {kind!r} index")  # raises, naming the extra
    return first  # pragma: no cover


def read_sidecar(path: Path) -> dict | None:
    side = sidecar(path)
    if not side.exists():
        return None
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise InputFormatError(f"not valid JSON ({exc})", side) from None
    if not isinstance(data, dict) or "keys" not in data:
        raise InputFormatError("no key list in the index side-car", side)
    return data
