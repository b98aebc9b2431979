"""Elasticsearch / OpenSearch ``_bulk`` files: ``emb.export("DIR", format="elasticsearch")``.

No client library and no server: the folder ``DIR`` gets

- ``mapping.json``: the body of ``PUT /<index>`` that creates the index.
  Elasticsearch: ``dense_vector`` with ``dims``, ``index: true``, ``similarity``
  (``cosine``, ``l2_norm`` or ``max_inner_product``) and ``index_options``
  ``{"type": "hnsw", "m", "ef_construction"}`` (full float32 vectors; Elasticsearch
  8.15+ would otherwise pick int8 quantisation). OpenSearch: ``settings.index.knn:
  true`` and ``knn_vector`` with ``dimension`` and ``method`` ``{"name": "hnsw",
  "space_type": "cosinesimil" | "l2" | "innerproduct", "engine", "parameters": {"m",
  "ef_construction"}}``. ``key`` is a ``keyword``; the embeddings' metadata is in ``_meta``.
- ``bulk-00001.ndjson``, ``bulk-00002.ndjson``, ...: newline-delimited JSON in
  ``_bulk`` form, an action line ``{"index": {"_index": <index>, "_id": <key>}}`` then
  the document ``{"key": <key>, "vector": [...]}`` (``"metadata"`` too when given),
  every line ending in a newline; each file at most ``max_bytes`` (default 10 MB),
  never splitting a pair. Send them with
  ``curl -H 'Content-Type: application/x-ndjson' -XPOST host:9200/_bulk --data-binary @bulk-00001.ndjson``.

Numbers are written with 9 significant digits (``%.9g``), which is enough for any
float32 to parse back to the same float32 (IEEE 754: 9 digits round-trip single
precision), so :func:`read_bulk` gives the vectors back bit-identical.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from .._validation import Param, validate
from .._version import __version__
from ..data._open import json_lines
from ..exceptions import EmptyInputError, InputFormatError, InvalidParameterError
from ._rows import METRICS, float32_rows, metadata_rows

logger = logging.getLogger("embedkit")

MAPPING = "mapping.json"
BULK_GLOB = "bulk-*.ndjson"
#: Elasticsearch's dense_vector holds up to 4096 dimensions
ES_MAX_DIM = 4096
ES_SIMILARITY = {"cosine": "cosine", "l2": "l2_norm", "dot": "max_inner_product"}
OS_SPACE = {"cosine": "cosinesimil", "l2": "l2", "dot": "innerproduct"}

PARAMS = (
    Param("table", str, "embeddings", "the search index's name (lower case)"),
    Param("metric", str, "cosine", "similarity the index serves", choices=METRICS),
    Param("max_bytes", int, 10_000_000, "most bytes per _bulk file", low=1024),
    Param("m", int, 16, "HNSW links per node (the servers' default)", low=2, high=512),
    Param("ef_construction", int, 100, "HNSW candidate list while building (the servers' default)", low=2),
    Param("engine", str, "lucene", "OpenSearch k-NN engine", choices=("lucene", "faiss")),
)


def _check_index_name(name: str) -> None:
    bad = not name or name != name.lower() or name.startswith(("-", "_", "+")) or name in (".", "..") or \
        any(c in name for c in '\\/*?"<>| ,#:') or len(name.encode()) > 255
    if bad:
        raise InvalidParameterError("bulk export", "table", "an index name: lower case, no spaces nor any of "
                                    '\\/*?"<>|,#: and not starting with -, _ or +', name)


def mapping(flavour: str, dim: int, p: dict, meta: dict) -> dict:
    """The body of ``PUT /<index>`` for ``flavour`` ``"elasticsearch"`` or ``"opensearch"``."""
    if flavour == "elasticsearch":
        vector = {"type": "dense_vector", "dims": dim, "index": True, "similarity": ES_SIMILARITY[p["metric"]],
                  "index_options": {"type": "hnsw", "m": p["m"], "ef_construction": p["ef_construction"]}}
        settings = {}
    else:
        vector = {"type": "knn_vector", "dimension": dim,
                  "method": {"name": "hnsw", "space_type": OS_SPACE[p["metric"]], "engine": p["engine"],
                             "parameters": {"m": p["m"], "ef_construction": p["ef_construction"]}}}
        settings = {"settings": {"index": {"knn": True}}}
    return {**settings, "mappings": {
        "_meta": {"embedkit": {"version": __version__, "metric": p["metric"], "meta": meta}},
        "properties": {"key": {"type": "keyword"}, "vector": vector}}}


def write_bulk(emb, path, flavour: str, *, metadata=None, **params) -> None:
    """Write ``mapping.json`` and ``bulk-NNNNN.ndjson`` files into the folder ``path`` (see the
    module docstring); written into a temporary folder renamed into place."""
    p = validate(f"{flavour} export", PARAMS, params)
    _check_index_name(p["table"])
    if flavour == "elasticsearch" and emb.dim > ES_MAX_DIM:
        raise InvalidParameterError("elasticsearch", "dim", f"at most {ES_MAX_DIM} (dense_vector)", emb.dim)
    x = float32_rows(emb, flavour)
    if p["metric"] == "cosine":
        zero = ~x.any(axis=1)
        if zero.any():
            i = int(np.flatnonzero(zero)[0])
            raise InvalidParameterError(f"{flavour} export", "metric", "'l2' or 'dot' when a vector is all zeros "
                                        f"({flavour} refuses zero vectors for cosine)",
                                        f"cosine, with key {emb.keys[i]!r} all zeros")
    meta = metadata_rows(emb, metadata)
    index = json.dumps(p["table"])
    row_format = "[" + ",".join(["%.9g"] * emb.dim) + "]"
    # %.9g writes -0.0 as "-0", which JSON reads as the integer 0: those rows spell it "-0.0"
    negative_zero = set(np.flatnonzero(((x == 0) & np.signbit(x)).any(axis=1)).tolist())
    path = Path(path)
    from .output import check_folder_output

    check_folder_output(path, flavour)  # never replace a folder that is not an earlier output
    files = 0
    with atomic_path(path, is_dir=True) as tmp:
        tmp = Path(tmp)
        tmp.mkdir(parents=True, exist_ok=True)
        (tmp / MAPPING).write_text(json.dumps(mapping(flavour, emb.dim, p, emb.meta), indent=2, default=str) + "\n",
                                   encoding="utf-8")
        out, size = None, 0
        try:
            for i, key in enumerate(emb.keys):
                k = key if isinstance(key, str) else int(key)
                vec = row_format % tuple(x[i].tolist()) if i not in negative_zero else _row_text(x[i])
                doc = f'{{"key":{json.dumps(k, ensure_ascii=False)},"vector":{vec}'
                if meta is not None and meta[i] is not None:
                    doc += f',"metadata":{meta[i]}'
                pair = (f'{{"index":{{"_index":{index},"_id":{json.dumps(str(k), ensure_ascii=False)}}}}}\n'
                        f"{doc}}}\n").encode("utf-8")
                if len(pair) > p["max_bytes"]:
                    raise InvalidParameterError(f"{flavour} export", "max_bytes", f"at least {len(pair)} (the "
                                                f"action and document of key {key!r})", p["max_bytes"])
                if out is None or size + len(pair) > p["max_bytes"]:
                    if out is not None:
                        out.close()
                    files += 1
                    out, size = open(tmp / f"bulk-{files:05d}.ndjson", "wb"), 0  # noqa: SIM115
                out.write(pair)
                size += len(pair)
        finally:
            if out is not None:
                out.close()
    logger.info("%s: %d documents in %d _bulk files + %s", path, len(emb), files, MAPPING)


def _row_text(row: np.ndarray) -> str:
    return "[" + ",".join("-0.0" if v == 0 and np.signbit(v) else "%.9g" % v for v in row.tolist()) + "]"


def is_bulk_dir(path: Path) -> bool:
    """True for a folder holding ``mapping.json`` and ``bulk-*.ndjson`` files."""
    return path.is_dir() and (path / MAPPING).is_file() and any(path.glob(BULK_GLOB))


def read_bulk(path, *, limit: int | None = None, allow_nonfinite: bool = False):
    """The keys and vectors of a folder written by :func:`write_bulk` (any ``_bulk`` files of
    ``index``/``create`` actions whose documents have ``key`` and ``vector`` read too)."""
    path = Path(path)
    files = sorted(path.glob(BULK_GLOB)) if path.is_dir() else []
    if not files:
        raise InputFormatError(f"no {BULK_GLOB} files in this folder", path)
    meta: dict = {}
    if (path / MAPPING).is_file():
        try:
            info = json.loads((path / MAPPING).read_text(encoding="utf-8"))
            meta = dict(info["mappings"]["_meta"]["embedkit"].get("meta") or {})
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
            meta = {}
    keys: list = []
    rows: list = []
    for f in files:
        action = None
        for line_no, line, obj in json_lines(f):
            if limit is not None and len(keys) >= limit:
                break
            if action is None:
                if not isinstance(obj, dict) or len(obj) != 1 or next(iter(obj)) not in ("index", "create"):
                    raise InputFormatError('expected an action line {"index": {...}} or {"create": {...}}', f,
                                           line_no, line)
                action = obj
                continue
            action = None
            if not isinstance(obj, dict) or "vector" not in obj or "key" not in obj:
                raise InputFormatError('expected a document with "key" and "vector"', f, line_no, line)
            vec = obj["vector"]
            if rows and (not isinstance(vec, list) or len(vec) != len(rows[0])):
                raise InputFormatError(f"the vector has {len(vec) if isinstance(vec, list) else 'no'} numbers, "
                                       f"the first {len(rows[0])}", f, line_no, line)
            keys.append(obj["key"])
            rows.append(vec)
        if action is not None:
            raise InputFormatError("the file ends after an action line, without its document", f)
    if not keys:
        raise EmptyInputError(f"{path}: no documents")
    try:
        vectors = np.asarray(rows, dtype=np.float64).astype(np.float32)
    except (TypeError, ValueError):
        raise InputFormatError("a vector holds something other than numbers", path) from None
    meta.update(source=str(path), format="bulk")
    from ._checks import finish

    return finish(keys, vectors, meta, path, allow_nonfinite=allow_nonfinite, where=lambda r: f"document {r + 1}")
