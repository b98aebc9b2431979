"""word2vec text (``.txt``/``.vec``), word2vec binary (``.bin``) and GloVe text.

The text format is a header ``<count> <dim>`` then one ``<key> <v1> ... <vdim>``
per line; GloVe is the same without the header. The binary format (Mikolov's
``word2vec.c``) is the same header, then per key: the key in UTF-8, a space, and
``dim`` little-endian float32. gensim's ``save_word2vec_format`` files load,
and ours load in gensim's ``load_word2vec_format``. ``.gz`` is read and written
transparently.
"""
from __future__ import annotations

import codecs
import gzip
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from ..exceptions import EmptyInputError, InputFormatError


def _open(path: Path, mode: str):
    if path.suffix == ".gz":
        return gzip.open(path, mode)
    return open(path, mode)


def _check_key(key, path) -> str:
    s = str(key)
    if not s or any(c.isspace() for c in s):
        raise InputFormatError(f"key {s!r} is empty or holds whitespace, which the word2vec formats cannot "
                               "store; export to .ekv, .npz or .npy instead", path)
    return s


def _gzip_writer(raw, path: Path):
    # name the member after the final file (not the temporary one it is written to)
    return gzip.GzipFile(filename=path.name[:-3], mode="wb", fileobj=raw)


def write_text(emb, path, *, header: bool = True, precision: int = 9) -> None:
    """Word2vec text (GloVe with ``header=False``); ``precision`` significant digits,
    9 by default so float32 values round-trip exactly."""
    path = Path(path)
    keys = [_check_key(k, path) for k in emb.keys]
    vectors = emb.vectors
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as raw:
            fh = _gzip_writer(raw, path) if path.suffix == ".gz" else raw
            if header:
                fh.write(f"{vectors.shape[0]} {vectors.shape[1]}\n".encode())
            fmt = " ".join([f"%.{precision}g"] * vectors.shape[1])
            for start in range(0, len(keys), 8192):
                block = vectors[start:start + 8192]
                lines = [k + " " + (fmt % tuple(row)) for k, row in zip(keys[start:start + 8192], block.tolist())]
                fh.write(("\n".join(lines) + "\n").encode("utf-8"))
            if fh is not raw:
                fh.close()


def write_binary(emb, path) -> None:
    path = Path(path)
    keys = [_check_key(k, path) for k in emb.keys]
    vectors = emb.vectors.astype("<f4", copy=False)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as raw:
            fh = _gzip_writer(raw, path) if path.suffix == ".gz" else raw
            fh.write(f"{vectors.shape[0]} {vectors.shape[1]}\n".encode())
            for k, row in zip(keys, vectors):
                fh.write(k.encode("utf-8") + b" " + row.tobytes() + b"\n")
            if fh is not raw:
                fh.close()


def sniff_binary(path: Path) -> bool:
    """True when the file looks like word2vec binary (non-text bytes after the header)."""
    with _open(path, "rb") as fh:
        head = fh.readline()
        chunk = fh.read(4096)
    parts = head.split()
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return False
    try:
        # incremental: a multi-byte character cut at the end of the chunk is not an error
        codecs.getincrementaldecoder("utf-8")().decode(chunk, final=False)
    except UnicodeDecodeError:
        return True
    return b"\x00" in chunk


def read_text(path, *, limit: int | None = None):
    """Read word2vec text (with header) or GloVe text (without); returns Embeddings."""
    from ..embeddings import Embeddings

    path = Path(path)
    keys: list[str] = []
    rows: list[np.ndarray] = []
    dim = None
    declared = None
    with _open(path, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError:
                raise InputFormatError("line is not valid UTF-8", path, lineno, raw[:60].decode("latin-1")) from None
            if not line.strip():
                continue
            parts = line.rstrip().split(" ")
            if lineno == 1 and len(parts) == 2 and parts[0].isdigit() and parts[1].isdigit():
                declared = int(parts[0])
                dim = int(parts[1])
                continue
            if dim is None:
                dim = len(parts) - 1
                if dim < 1:
                    raise InputFormatError("expected a key followed by numbers", path, lineno, line)
            if len(parts) != dim + 1:
                raise InputFormatError(
                    f"expected a key and {dim} numbers, found {len(parts) - 1} numbers", path, lineno, line
                )
            try:
                rows.append(np.array(parts[1:], dtype=np.float32))
            except ValueError:
                raise InputFormatError("vector holds a value that is not a number", path, lineno, line) from None
            keys.append(parts[0])
            if limit is not None and len(keys) >= limit:
                break
    if not keys:
        raise EmptyInputError(f"{path}: no vectors found")
    if declared is not None and limit is None and declared != len(keys):
        raise InputFormatError(f"header declares {declared} vectors but the file holds {len(keys)}", path, 1)
    return Embeddings(keys, np.vstack(rows), {"source": str(path), "format": "word2vec" if declared else "glove"})


def read_binary(path, *, limit: int | None = None):
    """Read word2vec binary; returns Embeddings."""
    from ..embeddings import Embeddings

    path = Path(path)
    with _open(path, "rb") as fh:
        header = fh.readline().split()
        if len(header) != 2 or not all(h.isdigit() for h in header):
            raise InputFormatError("word2vec binary must start with '<count> <dim>'", path, 1)
        n, dim = int(header[0]), int(header[1])
        if limit is not None:
            n = min(n, limit)
        data = fh.read()
    keys: list[str] = []
    vectors = np.empty((n, dim), dtype=np.float32)
    width = dim * 4
    pos = 0
    for i in range(n):
        while pos < len(data) and data[pos:pos + 1] in (b"\n", b" ", b"\r"):
            pos += 1
        end = data.find(b" ", pos)
        if end < 0 or end + 1 + width > len(data):
            raise InputFormatError(f"file ends inside vector {i + 1} of {n}", path)
        try:
            keys.append(data[pos:end].decode("utf-8"))
        except UnicodeDecodeError:
            keys.append(data[pos:end].decode("latin-1"))
        vectors[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=end + 1)
        pos = end + 1 + width
    if n == 0:
        raise EmptyInputError(f"{path}: no vectors found")
    return Embeddings(keys, vectors, {"source": str(path), "format": "word2vec-binary"})
