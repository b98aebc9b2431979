"""Search indexes over embeddings: one :class:`VectorIndex` face, backends chosen from a table.

| kind | libraries (first installed is the default) | what it is |
| --- | --- | --- |
| ``exact`` | numpy | brute force, always available |
| ``flat`` | faiss | exact, faiss's BLAS kernels |
| ``ivf`` | faiss | inverted file over k-means cells (Jégou et al. 2011) |
| ``hnsw`` | faiss, hnswlib | navigable small-world graph (Malkov & Yashunin 2018) |

Metrics: ``cosine`` (inner product on unit rows), ``dot``, ``l2``.

>>> import numpy as np, embedkit as ek
>>> emb = ek.Embeddings(["a", "b", "c"], np.eye(3) + 0.1)
>>> keys, scores = emb.index("exact").search(np.array([1.0, 0.0, 0.0]), k=2)
>>> list(keys)
['a', 'b']
"""
from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from .._atomic import check_pair
from ..artifacts import register_artifact
from ..embeddings import register_view
from .._validation import validate
from ..exceptions import InputFormatError, InvalidParameterError
from ..io import load
from .base import (FORMAT_NAME, FORMAT_VERSION, METRICS, Backend, VectorIndex, backend_class, read_sidecar, sidecar,
                   unit_rows)
from .exact import ExactIndex
from .faiss_index import FaissFlat, FaissHNSW, FaissIVF
from .hnswlib_index import HnswlibHNSW

logger = logging.getLogger("embedkit")

__all__ = ["VectorIndex", "build_index", "load_index", "open_index", "is_index", "KINDS", "METRICS", "LIBRARIES"]

#: kind -> {library: backend class}; the first installed library of a kind is its default
KINDS: dict[str, dict[str, type[Backend]]] = {
    "exact": {"numpy": ExactIndex},
    "flat": {"faiss": FaissFlat},
    "ivf": {"faiss": FaissIVF},
    "hnsw": {"faiss": FaissHNSW, "hnswlib": HnswlibHNSW},
}

#: library -> its index file's extension
LIBRARIES = {"numpy": ".npy", "faiss": ".faiss", "hnswlib": ".hnsw"}


def build_index(emb, kind: str = "hnsw", metric: str = "cosine", library: str | None = None,
                **params) -> VectorIndex:
    """Build a :class:`VectorIndex` over ``emb`` (an :class:`~embedkit.Embeddings`).

    ``kind``: ``"exact"``, ``"flat"``, ``"ivf"`` or ``"hnsw"``; ``metric``: ``"cosine"``,
    ``"dot"`` or ``"l2"``; ``library``: ``"faiss"`` or ``"hnswlib"`` for ``hnsw`` (None:
    the first installed). ``params`` are the kind's parameters (``nlist``, ``nprobe``,
    ``train_size``, ``seed`` for ivf; ``m``, ``ef_construction``, ``ef_search`` for hnsw),
    checked by name. The index holds its own float32 copy of the rows (unit length for cosine).
    """
    if metric not in METRICS:
        raise InvalidParameterError("index", "metric", "one of " + ", ".join(map(repr, METRICS)), metric)
    cls = backend_class(kind, library, KINDS)
    if cls.module is not None:
        from .._optional import require

        require(cls.module, f"a {kind!r} index")
    checked = validate(f"index {kind}", cls.params, params)
    vectors = np.ascontiguousarray(emb.vectors, dtype=np.float32)
    if metric == "cosine":
        vectors = unit_rows(vectors)
    elif vectors is emb.vectors:
        vectors = vectors.copy()
    backend = cls(emb.dim, METRICS[metric], checked)
    start = time.perf_counter()
    backend.build(vectors)
    logger.info("index %s/%s (%s) over %d x %d built in %.2fs", kind, cls.library, metric, len(emb), emb.dim,
                time.perf_counter() - start)
    return VectorIndex(backend, emb.keys, metric)


def _library_from(path: Path) -> str | None:
    return {ext: lib for lib, ext in LIBRARIES.items()}.get(path.suffix.lower())


def load_index(path) -> VectorIndex:
    """Read an index written by :meth:`VectorIndex.save` (or ``embedkit export --format faiss|hnswlib``).

    The key side-car ``<path>.keys.json`` names the library, kind, metric and keys. A
    ``.faiss`` file without one (written by faiss directly) loads with rows numbered
    0..n-1 and metric ``l2`` or ``dot`` from the index itself.
    """
    path = Path(path)
    if not path.exists():
        raise InputFormatError("no such file", path)
    side = read_sidecar(path)
    if side is None or "index" not in side:
        if _library_from(path) == "faiss":
            return _bare_faiss(path)
        raise InputFormatError(f"no index side-car {path.name}.keys.json beside it (it holds the keys, library "
                               "and metric); write indexes with emb.index(...).save(path) or embedkit export", path)
    if side.get("format_version", 0) > FORMAT_VERSION or side.get("format") != FORMAT_NAME:
        raise InputFormatError("the side-car is not an embedkit index description of a version this embedkit "
                               "reads; upgrade embedkit", path)
    info = side["index"]
    try:
        library, kind, metric = info["library"], info["kind"], info["metric"]
        dim, count, params = int(info["dim"]), int(info["count"]), dict(info.get("params") or {})
        cls = KINDS[kind][library]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputFormatError(f"the index side-car is incomplete ({exc})", path) from None
    check_pair(path, sidecar(path), side.get("pair"))  # the side-car was written with this index file
    keys = side["keys"]
    if len(keys) != count:
        raise InputFormatError(f"{len(keys)} keys for an index of {count} rows", path)
    backend = cls.load(path, dim, METRICS[metric], count, params)
    return VectorIndex(backend, keys, metric)


def _bare_faiss(path: Path) -> VectorIndex:
    from .faiss_index import _faiss

    faiss = _faiss()
    try:
        index = faiss.read_index(str(path))
    except RuntimeError as exc:
        raise InputFormatError(f"faiss could not read it ({str(exc).strip().splitlines()[-1]})", path) from None
    metric = "dot" if index.metric_type == faiss.METRIC_INNER_PRODUCT else "l2"
    kind = "hnsw" if "HNSW" in type(index).__name__ else "ivf" if "IVF" in type(index).__name__ else "flat"
    cls = KINDS[kind]["faiss"]
    backend = cls(index.d, METRICS[metric], validate(f"index {kind}", cls.params, {}))
    backend.index = index
    backend._after_load()
    logger.info("%s: no key side-car; rows are numbered, metric %s", path, metric)
    return VectorIndex(backend, list(range(index.ntotal)), metric)


def is_index(path) -> bool:
    """True when ``path`` is a search index file (an index side-car beside it, or a ``.faiss`` file)."""
    path = Path(path)
    side = read_sidecar(path) if path.is_file() else None
    return (side is not None and "index" in side) or (path.is_file() and _library_from(path) == "faiss")


def open_index(path, kind: str = "exact", metric: str = "cosine", **params) -> VectorIndex:
    """An index file as :func:`load_index` reads it, or a vectors file (any format
    :func:`embedkit.load` reads) with an index of ``kind`` built over it."""
    if is_index(path):
        return load_index(path)
    return build_index(load(path), kind=kind, metric=metric, **params)


def _summary(index: VectorIndex) -> list[tuple[str, str]]:
    return [("index", f"{index.kind}, {index.library}, metric {index.metric}"),
            ("vectors", f"{len(index)} x {index.dim}")]


register_artifact("vector-index", VectorIndex, format=FORMAT_NAME, save=lambda index, path: index.save(path),
                  load=lambda path, *, mmap=False, allow_nonfinite=False: load_index(path), summary=_summary,
                  from_embeddings=build_index)
register_view("index", build_index)  # emb.index(...)
