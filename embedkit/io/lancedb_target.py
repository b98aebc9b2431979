"""LanceDB (embedded, Arrow): ``emb.export("lancedb://DIR", table="items")``.

Needs lancedb (``pip install 'embedkit[lancedb]'``). ``DIR`` is the database folder
(``lancedb:///abs/path`` or ``lancedb://relative/path``), created when missing.

The table: ``key`` (int64 when every key is an integer, else string), ``vector``
(``fixed_size_list<float32>[dim]``, the layout LanceDB searches) and, when given,
``metadata`` (JSON text); the embeddings' metadata is JSON in the schema metadata
(``embedkit``). Writing uses ``mode="overwrite"``: LanceDB keeps the old version until
the new one is complete, so a failed load leaves the old rows readable.

The ANN index (``index_type``, default ``IVF_FLAT``: k-means cells holding the full
vectors, so the distances are exact within the cells scanned) is built only from
:data:`MIN_INDEX_ROWS` rows on: k-means needs rows to train on, and below that
LanceDB's brute-force scan is exact and fast. ``nlist`` (LanceDB's ``num_partitions``) defaults to
about sqrt(rows) / 4 (at least 2), so that LanceDB's default of 20 cells probed per
query covers a good share of them; raise ``nprobes`` at query time for more recall.

Query it with LanceDB's own API::

    import lancedb
    tbl = lancedb.connect("DIR").open_table("items")
    tbl.search(query_vector).distance_type("cosine").limit(10).nprobes(20).to_list()
"""
from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path

import numpy as np

from .._validation import Param, validate
from ..embeddings import Embeddings
from ..exceptions import DatabaseError, EmptyInputError, InvalidParameterError
from ._rows import METRICS, float32_rows, key_type, metadata_rows

logger = logging.getLogger("embedkit")

#: below this many rows no index is built (LanceDB scans every row: exact)
MIN_INDEX_ROWS = 5000
_META_KEY = b"embedkit"
#: our metric -> LanceDB's distance type
DISTANCES = {"cosine": "cosine", "l2": "l2", "dot": "dot"}

PARAMS = (
    Param("table", str, "embeddings", "table name"),
    Param("metric", str, "cosine", "distance the index serves", choices=METRICS),
    Param("index_type", str, "IVF_FLAT", "LanceDB index type (IVF_FLAT, IVF_HNSW_SQ, IVF_PQ) or none",
          choices=("IVF_FLAT", "IVF_HNSW_SQ", "IVF_PQ", "none")),
    Param("nlist", int, None, "IVF cells (LanceDB's num_partitions) [default: sqrt(rows) / 4, at least 2]", low=1,
          nullable=True),
)


def _lancedb():
    from .._optional import require

    return require("lancedb", "exporting to LanceDB")


def folder_of(url: str) -> str:
    """``lancedb:///data/db`` -> ``/data/db``; ``lancedb://db`` -> ``db``."""
    folder = url.split("://", 1)[1]
    if not folder:
        raise InvalidParameterError("lancedb", "path", "lancedb://FOLDER", url)
    return folder


def _index_config(index_type: str):
    from lancedb.index import HnswSq, IvfFlat, IvfPq

    return {"IVF_FLAT": IvfFlat, "IVF_HNSW_SQ": HnswSq, "IVF_PQ": IvfPq}[index_type]


def default_partitions(n: int) -> int:
    return max(2, int(round(math.sqrt(n) / 4)))


def write(emb, url: str, *, metadata=None, **params) -> None:
    """Write ``emb`` as the LanceDB table ``table`` in the folder of ``url`` (see the module
    docstring); ``metadata``: None, a mapping key -> JSON-able value or one per row."""
    import pyarrow as pa

    p = validate("lancedb export", PARAMS, params)
    lancedb = _lancedb()
    folder = folder_of(url)
    x = float32_rows(emb, "LanceDB")
    meta = metadata_rows(emb, metadata)
    kind = key_type(emb.keys)
    keys = pa.array([int(k) for k in emb.keys] if kind == "int" else [str(k) for k in emb.keys],
                    type=pa.int64() if kind == "int" else pa.string())
    columns = {"key": keys, "vector": pa.FixedSizeListArray.from_arrays(pa.array(x.reshape(-1)), emb.dim)}
    if meta is not None:
        columns["metadata"] = pa.array(meta, type=pa.string())
    note = {"meta": emb.meta, "metric": p["metric"], "index_type": p["index_type"]}
    table = pa.table(columns).replace_schema_metadata({_META_KEY: json.dumps(note, default=str).encode()})
    start = time.perf_counter()
    Path(folder).mkdir(parents=True, exist_ok=True)
    try:
        db = lancedb.connect(folder)
        tbl = db.create_table(p["table"], data=table, mode="overwrite")
        built = p["index_type"] != "none" and len(emb) >= MIN_INDEX_ROWS
        if built:
            parts = p["nlist"] or default_partitions(len(emb))
            config = _index_config(p["index_type"])(distance_type=DISTANCES[p["metric"]],
                                                    num_partitions=min(parts, len(emb)))
            tbl.create_index("vector", config=config, replace=True)
    except (OSError, ValueError, RuntimeError) as exc:
        raise DatabaseError(f"lancedb://{folder}", p["table"], str(exc).strip().splitlines()[0]) from None
    logger.info("lancedb://%s: table %s holds %d x %d vectors (%s) in %.1fs", folder, p["table"], len(emb), emb.dim,
                f"{p['index_type']} index" if built else "no index", time.perf_counter() - start)


def read(url: str, *, table: str = "embeddings", limit: int | None = None):
    """The ``key`` and ``vector`` columns of a LanceDB table as :class:`~embedkit.Embeddings`
    (bit-identical float32), in the table's order; ``limit``: the first that many rows."""
    from .parquet import _rows

    lancedb = _lancedb()
    folder = folder_of(url)
    target = f"lancedb://{folder}"
    if not Path(folder).is_dir():
        raise DatabaseError(target, table, "no such folder")
    try:
        db = lancedb.connect(folder)
        tbl = db.open_table(table)
        data = tbl.head(limit) if limit is not None else tbl.to_arrow()
    except (OSError, ValueError, RuntimeError) as exc:
        raise DatabaseError(target, table, str(exc).strip().splitlines()[0]) from None
    names = data.schema.names
    kcol = next((c for c in ("key", "id") if c in names), None)
    vcol = next((c for c in ("vector", "embedding") if c in names), None)
    if kcol is None or vcol is None:
        raise DatabaseError(target, table, f"expected a key (or id) and a vector column; columns: {', '.join(names)}")
    if data.num_rows == 0:
        raise EmptyInputError(f"{target}, table {table!r}: no rows")
    vectors = np.ascontiguousarray(_rows(data.column(vcol), None, 0, Path(folder) / table))
    keys = data.column(kcol).to_pylist()
    raw = (data.schema.metadata or {}).get(_META_KEY)
    note = json.loads(raw) if raw else {}
    meta = dict(note.get("meta") or {})
    meta.update(source=f"{target} table {table}", format="lancedb")
    return Embeddings(keys, vectors, meta)
