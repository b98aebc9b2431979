"""NumPy formats: ``.npy`` (the matrix, with keys in ``<path>.keys.json``) and
``.npz`` (arrays ``keys`` and ``vectors``). Both load with ``allow_pickle=False``."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .._atomic import atomic_pair, atomic_path, check_pair, fingerprint
from ..exceptions import InputFormatError
from ._checks import finish
from ._limits import LimitedZip, keys_cap, map_npy, member_errors, parse_keys, read_json_file
from ._limits import read_npy as read_npy_array
from .native import _keys_payload


def _keys_sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".keys.json")


def write_npy(emb, path) -> None:
    path = Path(path)
    side = _keys_sidecar(path)
    with atomic_pair(path, side) as (tmp, tmp_side):  # a kill between the renames is detected on read
        with open(tmp, "wb") as fh:
            np.save(fh, emb.vectors, allow_pickle=False)
        payload = _keys_payload(emb.keys)
        payload["pair"] = {"file": path.name, **fingerprint(tmp)}
        tmp_side.write_text(json.dumps(payload))


def read_npy(path, *, mmap: bool = False, allow_nonfinite: bool = False):
    """The matrix of a ``.npy`` file (numbers only, never pickles; its declared shape must match the
    file's size) with the keys of ``<path>.keys.json`` beside it (rows numbered when absent)."""
    path = Path(path)
    with member_errors(path):
        size = path.stat().st_size
    if mmap:
        vectors = map_npy(path, 0, size)
    else:
        with member_errors(path), open(path, "rb") as fh:
            vectors = read_npy_array(fh, path, size, ndim=2)
    side = _keys_sidecar(path)
    if side.exists():
        data = read_json_file(side, keys_cap(vectors.shape[0]))
        check_pair(path, side, data.get("pair") if isinstance(data, dict) else None)  # keys written with these vectors
        keys = parse_keys(data, side, side.name, rows=vectors.shape[0])
    else:
        keys = list(range(vectors.shape[0]))
    return finish(keys, vectors, {"source": str(path)}, path, allow_nonfinite=allow_nonfinite)


def write_npz(emb, path) -> None:
    path = Path(path)
    payload = _keys_payload(emb.keys)
    keys = np.array(payload["keys"], dtype=np.int64 if payload["type"] == "int" else str)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, keys=keys, vectors=emb.vectors)


def read_npz(path, *, allow_nonfinite: bool = False):
    """Arrays ``keys`` (strings or integers, 1-D) and ``vectors`` (numbers, 2-D) of an ``.npz``,
    read with the zip limits of :mod:`embedkit.io._limits` (``np.savez_compressed`` files load)."""
    path = Path(path)
    with LimitedZip(path) as zf:
        if "vectors.npy" not in zf or "keys.npy" not in zf:
            raise InputFormatError("an .npz of embeddings must hold arrays 'keys' and 'vectors'", path)
        vectors = zf.read_npy("vectors.npy", ndim=2)
        keys = zf.read_npy("keys.npy", kinds="iuU", ndim=1).tolist()
    if len(keys) != vectors.shape[0]:
        raise InputFormatError(f"keys.npy holds {len(keys)} keys for {vectors.shape[0]} vectors", path)
    return finish(keys, vectors, {"source": str(path)}, path, allow_nonfinite=allow_nonfinite)
