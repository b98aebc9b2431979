"""embedkit's own format, ``.ekv``: an uncompressed zip of ``vectors.npy``,
``keys.json`` and ``meta.json``. Loaded with ``allow_pickle=False``; the
library version is recorded in the metadata."""
from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from .._version import __version__
from ..exceptions import InputFormatError

FORMAT_NAME = "embedkit.embeddings"
FORMAT_VERSION = 1
#: other artifacts stored the same way (a zip or folder with meta.json), by meta.json's
#: "format": format name -> loader(path); e.g. recommender models register here
LOADERS: dict = {}


def is_native(path: Path) -> bool:
    if path.is_dir():
        return (path / "meta.json").exists()
    try:
        with zipfile.ZipFile(path) as zf:
            return "meta.json" in zf.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


def _keys_payload(keys: list) -> dict:
    if all(isinstance(k, str) for k in keys):
        return {"type": "str", "keys": keys}
    if all(isinstance(k, (int, np.integer)) and not isinstance(k, bool) for k in keys):
        return {"type": "int", "keys": [int(k) for k in keys]}
    return {"type": "str", "keys": [str(k) for k in keys]}


def save_native(emb, path) -> None:
    path = Path(path)
    meta = dict(emb.meta)
    meta.setdefault("embedkit_version", __version__)
    meta["format"] = FORMAT_NAME
    meta["format_version"] = FORMAT_VERSION
    meta["shape"] = list(emb.vectors.shape)
    buf = io.BytesIO()
    np.save(buf, emb.vectors, allow_pickle=False)
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr("meta.json", json.dumps(meta, indent=1, default=str))
            zf.writestr("keys.json", json.dumps(_keys_payload(emb.keys)))
            zf.writestr("vectors.npy", buf.getvalue())


def _format_of(path: Path) -> str | None:
    """The "format" named in meta.json, or None when it cannot be read."""
    try:
        if path.is_dir():
            meta = json.loads((path / "meta.json").read_text())
        else:
            with zipfile.ZipFile(path) as zf:
                meta = json.loads(zf.read("meta.json"))
        return meta.get("format") if isinstance(meta, dict) else None
    except (KeyError, ValueError, OSError, zipfile.BadZipFile):
        return None


def load_native(path):
    from ..embeddings import Embeddings

    path = Path(path)
    other = LOADERS.get(_format_of(path))
    if other is not None:
        return other(path)
    try:
        if path.is_dir():
            meta = json.loads((path / "meta.json").read_text())
            keys = json.loads((path / "keys.json").read_text())
            vectors = np.load(path / "vectors.npy", allow_pickle=False)
        else:
            with zipfile.ZipFile(path) as zf:
                meta = json.loads(zf.read("meta.json"))
                keys = json.loads(zf.read("keys.json"))
                vectors = np.load(io.BytesIO(zf.read("vectors.npy")), allow_pickle=False)
    except (KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise InputFormatError(f"not a valid embedkit .ekv file ({exc})", path) from None
    if meta.get("format") != FORMAT_NAME:
        raise InputFormatError("meta.json does not describe embedkit embeddings", path)
    if meta.get("format_version", 0) > FORMAT_VERSION:
        raise InputFormatError(
            f"written by a newer embedkit (format {meta['format_version']}); upgrade embedkit", path
        )
    key_list = keys["keys"]
    if len(key_list) != vectors.shape[0]:
        raise InputFormatError(f"{len(key_list)} keys for {vectors.shape[0]} vectors", path)
    return Embeddings(key_list, vectors, meta)
