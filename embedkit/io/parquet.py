"""Apache Parquet (``.parquet``, needs pyarrow: ``pip install 'embedkit[parquet]'``).

One row per key: a ``key`` column (int64 when every key is an integer, else
string) and a ``vector`` column of type ``fixed_size_list<float32>[dim]`` — the
layout LanceDB, DuckDB (``FLOAT[dim]``), Spark and most vector databases import.
The embeddings' metadata is kept as JSON in the schema metadata (``embedkit``).
Written in row groups of 65,536 rows; read row group by row group into one
preallocated matrix (memory: the matrix plus one row group). Files written by
other tools load too: the key column may be named ``key`` or ``id``, the vector
column ``vector``, ``embedding`` or ``values``, and may be a variable-size list
of float or double as long as every row has the same length.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from .._optional import require
from ..exceptions import EmptyInputError, InputFormatError
from ._checks import finish
from .native import _keys_payload

ROW_GROUP = 65536
KEY_COLUMNS = ("key", "id")
VECTOR_COLUMNS = ("vector", "embedding", "values")
_META_KEY = b"embedkit"


def _pa():
    require("pyarrow.parquet", "the parquet format")
    import pyarrow as pa
    import pyarrow.parquet as pq

    return pa, pq


def write_parquet(emb, path, *, key_column: str = "key", vector_column: str = "vector",
                  compression: str = "snappy") -> None:
    """Write ``emb`` as Parquet (see the module docstring); written atomically."""
    pa, pq = _pa()
    path = Path(path)
    payload = _keys_payload(emb.keys)
    key_type = pa.int64() if payload["type"] == "int" else pa.string()
    dim = emb.dim
    schema = pa.schema([(key_column, key_type), (vector_column, pa.list_(pa.float32(), dim))],
                       metadata={_META_KEY: json.dumps(emb.meta, default=str).encode()})
    keys, vectors = payload["keys"], emb.vectors
    with atomic_path(path) as tmp:
        with pq.ParquetWriter(tmp, schema, compression=compression) as writer:
            for start in range(0, max(len(keys), 1), ROW_GROUP):
                block = np.ascontiguousarray(vectors[start:start + ROW_GROUP], dtype=np.float32)
                column = pa.FixedSizeListArray.from_arrays(pa.array(block.reshape(-1)), dim)
                batch = pa.record_batch([pa.array(keys[start:start + ROW_GROUP], type=key_type), column],
                                        schema=schema)
                writer.write_batch(batch, row_group_size=ROW_GROUP)


def _pick(names: list[str], wanted: str | None, choices: tuple[str, ...], what: str, path: Path) -> str:
    if wanted is not None:
        if wanted not in names:
            raise InputFormatError(f"no column {wanted!r} (columns: {', '.join(names)})", path)
        return wanted
    for name in choices:
        if name in names:
            return name
    raise InputFormatError(f"no {what} column: expected one of {', '.join(choices)} (columns: {', '.join(names)}); "
                           f"name it with {what}_column=", path)


def _rows(column, dim: int | None, first_row: int, path: Path) -> np.ndarray:
    """The ``(m, dim)`` float32 rows of one chunk of a list column."""
    pa, _ = _pa()
    column = column.combine_chunks() if hasattr(column, "combine_chunks") else column
    if column.null_count:
        bad = first_row + int(np.flatnonzero(np.asarray(column.is_null()))[0])
        raise InputFormatError(f"row {bad} has no vector (null)", path)
    if pa.types.is_fixed_size_list(column.type):
        width = column.type.list_size
    elif pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        offsets = np.asarray(column.offsets)
        lengths = np.diff(offsets)
        width = int(lengths[0]) if len(lengths) else (dim or 0)
        if len(lengths) and (lengths != width).any():
            bad = int(np.flatnonzero(lengths != width)[0])
            raise InputFormatError(f"row {first_row + bad} has {lengths[bad]} numbers, row {first_row} has {width}",
                                   path)
    else:
        raise InputFormatError(f"the vector column has type {column.type}, not a list of numbers", path)
    if dim is not None and width != dim:
        raise InputFormatError(f"rows from {first_row} have {width} numbers, earlier rows {dim}", path)
    values = column.flatten()
    if values.null_count:
        raise InputFormatError("a vector holds a null number", path)
    if not (pa.types.is_floating(values.type) or pa.types.is_integer(values.type)):
        raise InputFormatError(f"the vectors hold {values.type}, not numbers", path)
    return values.to_numpy(zero_copy_only=False).astype(np.float32, copy=False).reshape(-1, width)


def read_parquet(path, *, key_column: str | None = None, vector_column: str | None = None,
                 limit: int | None = None, allow_nonfinite: bool = False):
    """Read a Parquet file of keys and vectors (see the module docstring); returns Embeddings.
    Errors name the row (counted from 0): a null key or vector, a ragged row, NaN or infinity
    (``allow_nonfinite=True`` accepts them), a key found twice (both rows)."""
    _, pq = _pa()
    path = Path(path)
    try:
        pf = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises its own ArrowInvalid/OSError kinds
        raise InputFormatError(f"not a readable Parquet file ({exc})", path) from None
    names = pf.schema_arrow.names
    kcol = _pick(names, key_column, KEY_COLUMNS, "key", path)
    vcol = _pick(names, vector_column, VECTOR_COLUMNS, "vector", path)
    n = pf.metadata.num_rows if limit is None else min(pf.metadata.num_rows, limit)
    keys: list = []
    vectors = None
    for g in range(pf.num_row_groups):
        if len(keys) >= n:
            break
        try:
            table = pf.read_row_group(g, columns=[kcol, vcol])
        except Exception as exc:  # pyarrow raises its own ArrowInvalid/OSError kinds
            raise InputFormatError(f"row group {g} cannot be read ({exc})", path) from None
        take = min(table.num_rows, n - len(keys))
        rows = _rows(table.column(vcol).slice(0, take), None if vectors is None else vectors.shape[1], len(keys), path)
        if vectors is None:
            try:
                vectors = np.empty((n, rows.shape[1]), dtype=np.float32)
            except (MemoryError, ValueError):
                raise InputFormatError(f"the footer declares {n:,} rows of {rows.shape[1]} numbers, more than "
                                       "memory holds (a corrupt footer?)", path) from None
        vectors[len(keys):len(keys) + take] = rows
        keys.extend(table.column(kcol).slice(0, take).to_pylist())
    if not keys:
        raise EmptyInputError(f"{path}: no vectors found")
    if any(k is None for k in keys):
        raise InputFormatError(f"row {keys.index(None)} has no key (null)", path)
    if not all(isinstance(k, (str, int)) for k in keys):
        bad = next(i for i, k in enumerate(keys) if not isinstance(k, (str, int)))
        raise InputFormatError(f"row {bad}: the key {keys[bad]!r} is not a string or an integer", path)
    raw = (pf.schema_arrow.metadata or {}).get(_META_KEY)
    try:
        meta = json.loads(raw) if raw else {}
    except ValueError:
        meta = {}
    if not isinstance(meta, dict):
        meta = {}
    meta.update(source=str(path), format="parquet")
    return finish(keys, vectors[:len(keys)], meta, path, allow_nonfinite=allow_nonfinite)
