"""embedkit's own format, ``.ekv``: an uncompressed zip of ``vectors.npy``,
``keys.json`` and ``meta.json``. Loaded with ``allow_pickle=False``; the
library version is recorded in the metadata.

``vectors.npy`` is the zip's first member, stored (not compressed) and padded
through a zip "extra field" so that the matrix starts on a 64-byte boundary of
the file: ``load(path, mmap=True)`` maps the matrix straight from the zip
(``np.memmap`` at the member's data offset) instead of reading it. Files written
before that layout still map (the offset is read from each member's local
header); only the alignment differs.
"""
from __future__ import annotations

import json
import logging
import struct
import time
import zipfile
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from .._version import __version__
from ..exceptions import InputFormatError

logger = logging.getLogger("embedkit")

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


#: the matrix starts on a multiple of this in the .ekv file (the .npy header is itself padded to 64)
_ALIGN = 64
#: zip extra-field id used for the alignment padding (the one Android's zipalign writes)
_PAD_EXTRA_ID = 0xD935
_LOCAL_HEADER = struct.Struct("<4s22xHH")  # signature, ..., file name length, extra field length


def _aligned_member(name: str, offset: int, zip64: bool) -> zipfile.ZipInfo:
    """A stored ZipInfo whose data, written at ``offset``, starts on an :data:`_ALIGN` boundary."""
    info = zipfile.ZipInfo(name, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_STORED
    base = offset + _LOCAL_HEADER.size + len(name.encode()) + 4 + (20 if zip64 else 0)  # zip64 adds 20 bytes
    pad = -base % _ALIGN
    info.extra = struct.pack("<HH", _PAD_EXTRA_ID, pad) + bytes(pad)
    return info


def save_native(emb, path) -> None:
    path = Path(path)
    meta = dict(emb.meta)
    meta.setdefault("embedkit_version", __version__)
    meta["format"] = FORMAT_NAME
    meta["format_version"] = FORMAT_VERSION
    meta["shape"] = list(emb.vectors.shape)
    zip64 = emb.vectors.nbytes * 1.05 + (1 << 20) > zipfile.ZIP64_LIMIT
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
            # first member, so it starts at offset 0; streamed (no copy of the matrix in memory)
            with zf.open(_aligned_member("vectors.npy", 0, zip64), "w", force_zip64=zip64) as fh:
                np.save(fh, emb.vectors, allow_pickle=False)
            zf.writestr("meta.json", json.dumps(meta, indent=1, default=str))
            zf.writestr("keys.json", json.dumps(_keys_payload(emb.keys)))


def _member_offset(path: Path, info: zipfile.ZipInfo) -> int:
    """Byte offset of a member's data in the zip file (after its local header)."""
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        sig, name_len, extra_len = _LOCAL_HEADER.unpack(fh.read(_LOCAL_HEADER.size))
    if sig != b"PK\x03\x04":
        raise InputFormatError(f"broken zip: no local header for {info.filename}", path)
    return info.header_offset + _LOCAL_HEADER.size + name_len + extra_len


def _map_npy(path: Path, offset: int) -> np.ndarray:
    """Memory-map the .npy whose bytes start at ``offset`` of ``path`` (read-only)."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        version = np.lib.format.read_magic(fh)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else \
            np.lib.format.read_array_header_2_0
        shape, fortran, dtype = read_header(fh)
        data = fh.tell()
    if dtype.hasobject:
        raise InputFormatError("vectors.npy holds Python objects; embedkit never unpickles", path)
    return np.memmap(path, dtype=dtype, mode="r", offset=data, shape=shape, order="F" if fortran else "C")


def _mapped_vectors(path: Path) -> np.ndarray:
    """The matrix of an .ekv (zip or folder), memory-mapped."""
    if path.is_dir():
        return np.load(path / "vectors.npy", allow_pickle=False, mmap_mode="r")
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("vectors.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        raise InputFormatError("vectors.npy is compressed in this zip, so it cannot be memory-mapped; "
                               "load without mmap=True, or re-save it with embedkit", path)
    vectors = _map_npy(path, _member_offset(path, info))
    if vectors.dtype != np.float32 or not vectors.flags.c_contiguous:
        logger.warning("%s: vectors are %s, not C-ordered float32: copied into memory, not mapped",
                       path, vectors.dtype)
    return vectors


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


def load_native(path, *, mmap: bool = False):
    """Load an .ekv (zip or unpacked folder). ``mmap=True`` maps the matrix read-only from
    the file instead of reading it (see the module docstring); artifacts registered in
    :data:`LOADERS` ignore it."""
    from ..embeddings import Embeddings

    path = Path(path)
    other = LOADERS.get(_format_of(path))
    if other is not None:
        return other(path)
    try:
        if path.is_dir():
            meta = json.loads((path / "meta.json").read_text())
            keys = json.loads((path / "keys.json").read_text())
            vectors = None if mmap else np.load(path / "vectors.npy", allow_pickle=False)
        else:
            with zipfile.ZipFile(path) as zf:
                meta = json.loads(zf.read("meta.json"))
                keys = json.loads(zf.read("keys.json"))
                if not mmap:  # read in chunks into the array, no intermediate copy of the bytes
                    with zf.open("vectors.npy") as fh:
                        vectors = np.load(fh, allow_pickle=False)
        if mmap:
            vectors = _mapped_vectors(path)
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
