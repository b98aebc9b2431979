"""What every database target checks and shares: finite float32 rows, per-row metadata,
and the key type (stored so that integer keys come back as integers)."""
from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np

from .._keys import lookup
from ..data._open import json_lines
from ..exceptions import InputFormatError, InvalidParameterError

#: the metrics every target understands (the same names as embedkit.index)
METRICS = ("cosine", "dot", "l2")


def float32_rows(emb, where: str) -> np.ndarray:
    """``emb.vectors`` as a C-contiguous float32 ``(n, dim)`` array; NaN or infinity is an
    error naming the first key that holds one (no database or JSON stores them)."""
    x = np.ascontiguousarray(emb.vectors, dtype=np.float32)
    bad = ~np.isfinite(x).all(axis=1)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InputFormatError(f"{where}: the vector of key {emb.keys[i]!r} (row {i}) holds NaN or infinity, "
                               f"which {where} cannot store ({int(bad.sum())} such rows)")
    return x


def key_type(keys) -> str:
    """``"int"`` when every key is an integer (not a bool), else ``"str"``."""
    return "int" if keys and all(isinstance(k, (int, np.integer)) and not isinstance(k, bool)
                                 for k in keys) else "str"


def restore_keys(keys: list, kind: str | None) -> list:
    """Keys read back as text, turned into integers when they were written as integers."""
    return [int(k) for k in keys] if kind == "int" else keys


def metadata_rows(emb, metadata) -> list | None:
    """One JSON text (or None) per row from ``metadata``: None; a mapping key -> JSON-able value
    (keys found as given or in their string/integer form); or a sequence aligned with the rows."""
    if metadata is None:
        return None
    n = len(emb)
    if isinstance(metadata, Mapping):
        out: list = [None] * n
        index = {k: i for i, k in enumerate(emb.keys)}
        unknown = 0
        for key, value in metadata.items():
            i = lookup(index, key)
            if i is None:
                unknown += 1
                continue
            out[i] = value
        if unknown == len(metadata) and unknown:
            raise InvalidParameterError("export", "metadata", "a mapping from the vectors' keys to values",
                                        f"{unknown} keys, none of them among the vectors'")
    else:
        out = list(metadata)
        if len(out) != n:
            raise InvalidParameterError("export", "metadata", f"a mapping key -> value or a sequence of {n} values "
                                        "(one per row)", f"a sequence of {len(out)}")
    try:
        return [None if v is None else json.dumps(v, ensure_ascii=False, allow_nan=False) for v in out]
    except (TypeError, ValueError) as exc:
        raise InvalidParameterError("export", "metadata", "JSON-serializable values", str(exc)) from None


def read_metadata_file(path) -> dict:
    """A JSON lines file of objects with a ``key`` field -> {key: the other fields} (``--metadata``)."""
    out = {}
    for line_no, line, obj in json_lines(path):
        if not isinstance(obj, dict) or "key" not in obj:
            raise InputFormatError('expected an object with a "key" field', path, line_no, line)
        key = obj.pop("key")
        out[key] = obj
    return out
