"""NumPy formats: ``.npy`` (the matrix, with keys in ``<path>.keys.json``) and
``.npz`` (arrays ``keys`` and ``vectors``). Both load with ``allow_pickle=False``."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from .._atomic import atomic_pair, atomic_path, check_pair, fingerprint
from ..exceptions import InputFormatError
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


def read_npy(path, *, mmap: bool = False):
    from ..embeddings import Embeddings

    path = Path(path)
    vectors = np.load(path, allow_pickle=False, mmap_mode="r" if mmap else None)
    if vectors.ndim != 2:
        raise InputFormatError(f"expected a 2-D matrix, found shape {vectors.shape}", path)
    side = _keys_sidecar(path)
    if side.exists():
        data = json.loads(side.read_text())
        check_pair(path, side, data.get("pair"))  # keys written with these vectors (embedkit._atomic)
        keys = data["keys"]
    else:
        keys = list(range(vectors.shape[0]))
    return Embeddings(keys, vectors, {"source": str(path)})


def write_npz(emb, path) -> None:
    path = Path(path)
    payload = _keys_payload(emb.keys)
    keys = np.array(payload["keys"], dtype=np.int64 if payload["type"] == "int" else str)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, keys=keys, vectors=emb.vectors)


def read_npz(path):
    from ..embeddings import Embeddings

    path = Path(path)
    with np.load(path, allow_pickle=False) as z:
        if "vectors" not in z or "keys" not in z:
            raise InputFormatError("an .npz of embeddings must hold arrays 'keys' and 'vectors'", path)
        keys = z["keys"].tolist()
        vectors = z["vectors"]
    return Embeddings(keys, vectors, {"source": str(path)})
