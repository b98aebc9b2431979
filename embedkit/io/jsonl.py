"""JSON lines (``.jsonl``/``.ndjson``): one object per line, ``{"id": key, "vector": [v1, ..., vdim]}``,
the shape vector databases bulk-import (Qdrant points, Pinecone/Weaviate/Milvus
upserts after renaming the fields). Numbers are written with 9 significant
digits, so float32 values read back exactly; keys keep their JSON type (an
integer key stays an integer). No header and no metadata. ``.gz`` works.

Reading accepts the key under ``id`` or ``key`` and the vector under
``vector``, ``values`` or ``embedding``; extra fields (a payload) are ignored.
The reader counts the lines first and fills one preallocated matrix.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from ..data._open import read_errors
from ..exceptions import EmptyInputError, InputFormatError
from ._checks import NONFINITE_HINT, data_lines, finish
from ._text import BLOCK, EXACT_DIGITS, Matrix, count_lines, float_rows, gzip_writer, open_input

KEY_FIELDS = ("id", "key")
VECTOR_FIELDS = ("vector", "values", "embedding")


def write_jsonl(emb, path, *, id_field: str = "id", vector_field: str = "vector",
                precision: int = EXACT_DIGITS) -> None:
    """One ``{"<id_field>": key, "<vector_field>": [...]}`` object per line; written atomically.
    NaN and infinity have no JSON spelling: a vector holding one is an error."""
    path = Path(path)
    keys, vectors = emb.keys, emb.vectors
    head_id, head_vec = json.dumps(id_field) + ": ", ", " + json.dumps(vector_field) + ": ["
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as raw:
            fh = gzip_writer(raw, path) if path.suffix == ".gz" else raw
            for start in range(0, len(keys), BLOCK):
                block = vectors[start:start + BLOCK]
                if not np.isfinite(block).all():
                    bad = start + int(np.flatnonzero(~np.isfinite(block).all(axis=1))[0])
                    raise InputFormatError(f"the vector of key {keys[bad]!r} holds NaN or infinity, which JSON "
                                           "cannot store", path)
                lines = ["{" + head_id + json.dumps(_plain(k), ensure_ascii=False) + head_vec + row + "]}"
                         for k, row in zip(keys[start:start + BLOCK], float_rows(block, ", ", precision))]
                fh.write(("\n".join(lines) + "\n").encode("utf-8"))
            if fh is not raw:
                fh.close()


def _plain(key):
    """numpy integers as Python ints (json cannot encode them); anything else not str/int as its string."""
    if isinstance(key, (bool, np.bool_)):
        return str(key)
    if isinstance(key, (int, np.integer)):
        return int(key)
    return key if isinstance(key, str) else str(key)


def _field(obj: dict, wanted: str | None, choices: tuple[str, ...], what: str, path, lineno, line):
    for name in ((wanted,) if wanted else choices):
        if name in obj:
            return obj[name]
    raise InputFormatError(f"no {what} field: expected " + (repr(wanted) if wanted else "one of " + ", ".join(choices)),
                           path, lineno, line)


def read_jsonl(path, *, id_field: str | None = None, vector_field: str | None = None, limit: int | None = None,
               allow_nonfinite: bool = False):
    """Read JSON lines of keys and vectors (see the module docstring); returns Embeddings.

    Errors name the file and line: not UTF-8, not JSON, a missing field, a vector of another
    length, null/NaN/infinity (``NaN`` and ``Infinity`` literals load with
    ``allow_nonfinite=True``; null never), a key found twice (both lines)."""
    path = Path(path)
    capacity = count_lines(path)
    if limit is not None:
        capacity = min(capacity, limit)
    keys: list = []
    matrix = None
    fh = open_input(path)
    with fh:
        for lineno, raw in enumerate(_lines(fh, path), start=1):
            if limit is not None and len(keys) >= limit:
                break
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8").strip()
                obj = json.loads(line)
            except UnicodeDecodeError as exc:
                raise InputFormatError(f"line is not valid UTF-8 ({exc.reason} at byte {exc.start})", path, lineno,
                                       raw[:60].decode("latin-1")) from None
            except ValueError as exc:
                raise InputFormatError(f"not valid JSON ({exc.args[0]})", path, lineno, line) from None
            if not isinstance(obj, dict):
                raise InputFormatError("expected a JSON object per line", path, lineno, line)
            key = _field(obj, id_field, KEY_FIELDS, "key", path, lineno, line)
            vec = _field(obj, vector_field, VECTOR_FIELDS, "vector", path, lineno, line)
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise InputFormatError("a key must be a string or an integer", path, lineno, line)
            try:
                row = np.asarray(vec, dtype=np.float32)
            except (TypeError, ValueError, OverflowError):
                raise InputFormatError("the vector is not a list of numbers", path, lineno, line) from None
            if row.ndim == 1 and not np.isfinite(row).all():
                if any(v is None for v in vec):
                    raise InputFormatError("the vector holds null", path, lineno, line)
                if not allow_nonfinite:
                    raise InputFormatError(f"the vector of key {key!r} holds NaN or infinity; {NONFINITE_HINT}",
                                           path, lineno, line)
            if matrix is None:
                if row.ndim != 1 or row.size == 0:
                    raise InputFormatError("the vector is not a list of numbers", path, lineno, line)
                matrix = Matrix(capacity, row.size)
            if row.shape != (matrix.data.shape[1],):
                raise InputFormatError(f"expected {matrix.data.shape[1]} numbers like the first vector, "
                                       f"found {row.size}", path, lineno, line)
            matrix.add(row[None, :])
            keys.append(key)
    if not keys:
        raise EmptyInputError(f"{path}: no vectors found")
    return finish(keys, matrix.result(), {"source": str(path), "format": "jsonl"}, path,
                  line_of=lambda rows: data_lines(path, rows), finite_checked=True)


def _lines(fh, path: Path):
    """The raw lines of ``fh``; a read error (a truncated .gz) names the line it stopped at."""
    lineno = 1
    while True:
        with read_errors(path, lineno):
            raw = fh.readline()
        if not raw:
            return
        yield raw
        lineno += 1
