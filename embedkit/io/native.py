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
from ..artifacts import artifact_for_meta, register_artifact
from ..embeddings import Embeddings, summary_rows
from ..exceptions import InputFormatError
from ._checks import finish
from ._limits import (NUMBER_KINDS, LimitedZip, check_array_kind, keys_cap, map_npy, member_errors, parse_keys,
                      read_json_file, read_npy)

logger = logging.getLogger("embedkit")

FORMAT_NAME = "embedkit.embeddings"
FORMAT_VERSION = 1


def is_native(path: Path) -> bool:
    """True for a folder holding meta.json or a zip with a meta.json member."""
    if path.is_dir():
        return (path / "meta.json").exists()
    try:
        with zipfile.ZipFile(path) as zf:
            return "meta.json" in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
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


def save_native(emb, path, *, extra_meta: dict | None = None, arrays: dict | None = None) -> None:
    """Write ``emb`` as an .ekv (the module docstring's layout). ``extra_meta``: entries added to
    ``meta.json`` (an artifact's own, e.g. a GNN's encoder); ``arrays``: more ``.npy`` members
    (member name without ``.npy`` -> numeric array), written stored after the matrix."""
    path = Path(path)
    meta = dict(emb.meta)
    meta.update(extra_meta or {})
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
            for name, arr in (arrays or {}).items():
                arr = np.ascontiguousarray(arr)
                with zf.open(name + ".npy", "w", force_zip64=arr.nbytes * 1.05 + (1 << 20) > zipfile.ZIP64_LIMIT) as fh:
                    np.save(fh, arr, allow_pickle=False)


def _member_offset(path: Path, info: zipfile.ZipInfo) -> int:
    """Byte offset of a member's data in the zip file (after its local header)."""
    with member_errors(path, info.filename), open(path, "rb") as fh:
        fh.seek(info.header_offset)
        sig, name_len, extra_len = _LOCAL_HEADER.unpack(fh.read(_LOCAL_HEADER.size))
    if sig != b"PK\x03\x04":
        raise InputFormatError(f"broken zip: no local header for {info.filename}", path)
    return info.header_offset + _LOCAL_HEADER.size + name_len + extra_len


def _read_meta(meta, path: Path) -> dict:
    """meta.json checked: a JSON object describing embedkit embeddings this version can read."""
    if not isinstance(meta, dict):
        raise InputFormatError("meta.json must hold a JSON object", path)
    if meta.get("format") != FORMAT_NAME:
        raise InputFormatError("meta.json does not describe embedkit embeddings", path)
    version = meta.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise InputFormatError(f"meta.json: format_version must be an integer, not {version!r}", path)
    if version > FORMAT_VERSION:
        raise InputFormatError(f"written by a newer embedkit (format {version}); upgrade embedkit", path)
    return meta


def _load_folder(path: Path, mmap: bool):
    """``(meta, keys, vectors)`` of an unpacked .ekv folder."""
    meta = _read_meta(read_json_file(path / "meta.json"), path)
    npy = path / "vectors.npy"
    with member_errors(npy, "vectors.npy"):
        size = npy.stat().st_size
    if mmap:
        vectors = map_npy(npy, 0, size, "vectors.npy")
    else:
        with member_errors(npy, "vectors.npy"), open(npy, "rb") as fh:
            vectors = read_npy(fh, npy, size, "vectors.npy", ndim=2)
    keys = parse_keys(read_json_file(path / "keys.json", keys_cap(vectors.shape[0])), path / "keys.json",
                      rows=vectors.shape[0])
    return meta, keys, vectors


def _load_zip(path: Path, mmap: bool):
    """``(meta, keys, vectors)`` of an .ekv zip, every member read with the limits of :mod:`._limits`."""
    with LimitedZip(path) as zf:
        meta = _read_meta(zf.read_json("meta.json"), path)
        shape, _, dtype, _ = zf.npy_header("vectors.npy")
        check_array_kind(shape, dtype, path, "vectors.npy", NUMBER_KINDS, 2)
        keys = parse_keys(zf.read_json("keys.json", keys_cap(shape[0])), path, rows=shape[0])
        if not mmap:
            return meta, keys, zf.read_npy("vectors.npy", ndim=2)
        info = zf.info("vectors.npy")
    if info.compress_type != zipfile.ZIP_STORED:
        raise InputFormatError("vectors.npy is compressed in this zip, so it cannot be memory-mapped; "
                               "load without mmap=True, or re-save it with embedkit", path)
    vectors = map_npy(path, _member_offset(path, info), info.file_size, "vectors.npy")
    if vectors.dtype != np.float32 or not vectors.flags.c_contiguous:
        logger.warning("%s: vectors are %s, not C-ordered float32: copied into memory, not mapped",
                       path, vectors.dtype)
    return meta, keys, vectors


def _meta_of(path: Path) -> dict | None:
    """meta.json as a dict, or None when it cannot be read."""
    try:
        if path.is_dir():
            meta = read_json_file(path / "meta.json")
        else:
            with LimitedZip(path) as zf:
                meta = zf.read_json("meta.json")
        return meta if isinstance(meta, dict) else None
    except InputFormatError:
        return None


def load_native(path, *, mmap: bool = False, allow_nonfinite: bool = False):
    """Load an .ekv (zip or unpacked folder) as the artifact its ``meta.json`` names, found in the
    artifact registry (:func:`embedkit.artifacts.artifact_for_meta`): plain embeddings
    (:func:`load_embeddings`), subword embeddings, a recommender model, an encoder.
    ``mmap`` and ``allow_nonfinite`` as for :func:`load_embeddings`."""
    path = Path(path)
    art = artifact_for_meta(_meta_of(path))
    return (art.load if art is not None else load_embeddings)(path, mmap=mmap, allow_nonfinite=allow_nonfinite)


def load_embeddings(path, *, mmap: bool = False, allow_nonfinite: bool = False) -> Embeddings:
    """Load the plain :class:`~embedkit.Embeddings` of an .ekv (zip or unpacked folder).
    ``mmap=True`` maps the matrix read-only from the file instead of reading it (see the
    module docstring).

    Every member is read with limits (:mod:`embedkit.io._limits`): JSON members of at most
    64 MiB (keys.json: plus 1 KiB a vector), no member expanding more than 100 times,
    ``vectors.npy`` holding numbers and exactly the bytes its shape declares. NaN or infinity
    in the matrix, or a key twice, is an error naming the row (``allow_nonfinite=True``
    accepts NaN/infinity; with ``mmap=True`` the check reads the mapped file once).
    """
    path = Path(path)
    meta, keys, vectors = _load_folder(path, mmap) if path.is_dir() else _load_zip(path, mmap)
    return finish(keys, vectors, meta, path, allow_nonfinite=allow_nonfinite)


def save_embeddings(emb, path) -> None:
    """What ``embedkit train -o PATH`` writes for embeddings: ``.ekv`` with :meth:`~embedkit.Embeddings.save`
    (a subclass's own artifact), any other extension with :meth:`~embedkit.Embeddings.export`."""
    emb.save(path) if Path(path).suffix.lower() == ".ekv" else emb.export(path)


register_artifact("embeddings", Embeddings, format=FORMAT_NAME, save=save_embeddings, load=load_embeddings,
                  summary=summary_rows)
