"""Artifacts stored as one uncompressed zip of JSON files and ``.npy`` arrays (recommender models,
encoders): written atomically, read back with ``allow_pickle=False``."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from ..exceptions import InputFormatError


def write_zip(path, json_files: dict, arrays: dict) -> None:
    """Write ``json_files`` (member name -> JSON-able object) and ``arrays`` (name -> array, stored
    as ``<name>.npy``) to the zip ``path``, atomically."""
    with atomic_path(Path(path)) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            for name, obj in json_files.items():
                zf.writestr(name, json.dumps(obj, indent=1 if name == "meta.json" else None, default=str))
            for name, arr in arrays.items():
                buf = io.BytesIO()
                np.save(buf, np.ascontiguousarray(arr), allow_pickle=False)
                zf.writestr(name + ".npy", buf.getvalue())


def read_zip(path, format_name: str, format_version: int, what: str) -> tuple[dict, dict, dict]:
    """``(meta, json_files, arrays)`` of a zip written by :func:`write_zip`: ``meta.json``, the other
    ``.json`` members by name, the arrays by name without ``.npy``. ``meta["format"]`` must be
    ``format_name`` and its version at most ``format_version``; errors name the file and ``what`` it
    should hold."""
    path = Path(path)
    if not path.exists():
        raise InputFormatError("no such file", path)
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            meta = json.loads(zf.read("meta.json"))
            if meta.get("format") != format_name:
                raise InputFormatError(f"not an embedkit {what} (meta.json format is {meta.get('format')!r})", path)
            if meta.get("format_version", 0) > format_version:
                raise InputFormatError(f"written by a newer embedkit (format {meta['format_version']}); "
                                       "upgrade embedkit", path)
            texts = {n: json.loads(zf.read(n)) for n in names if n.endswith(".json") and n != "meta.json"}
            arrays = {n[:-4]: np.load(io.BytesIO(zf.read(n)), allow_pickle=False) for n in names if n.endswith(".npy")}
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise InputFormatError(f"not a valid embedkit {what} file ({exc})", path) from None
    return meta, texts, arrays
