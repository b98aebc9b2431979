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
from ._limits import NUMBER_KINDS, LimitedZip, keys_cap


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
    should hold. Members are read with the limits of :mod:`embedkit.io._limits` (sizes, compression
    ratio, numeric arrays only, never pickles)."""
    path = Path(path)
    if not path.exists():
        raise InputFormatError("no such file", path)
    with LimitedZip(path) as zf:
        names = zf.names()
        meta = zf.read_json("meta.json")
        if not isinstance(meta, dict) or meta.get("format") != format_name:
            found = meta.get("format") if isinstance(meta, dict) else None
            raise InputFormatError(f"not an embedkit {what} (meta.json format is {found!r})", path)
        version = meta.get("format_version", 0)
        if not isinstance(version, int) or isinstance(version, bool):
            raise InputFormatError(f"meta.json: format_version must be an integer, not {version!r}", path)
        if version > format_version:
            raise InputFormatError(f"written by a newer embedkit (format {version}); upgrade embedkit", path)
        shapes = [zf.npy_header(n)[0] for n in names if n.endswith(".npy")]
        rows = sum(shape[0] for shape in shapes if shape)  # keys.json files may hold a key per row
        texts = {n: zf.read_json(n, keys_cap(rows)) for n in names if n.endswith(".json") and n != "meta.json"}
        arrays = {n[:-4]: zf.read_npy(n, kinds=NUMBER_KINDS + "U") for n in names if n.endswith(".npy")}
    return meta, texts, arrays
