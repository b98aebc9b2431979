"""word2vec text (``.txt``/``.vec``), word2vec binary (``.bin``) and GloVe text.

The text format is a header ``<count> <dim>`` then one ``<key> <v1> ... <vdim>``
per line; GloVe is the same without the header. The binary format (Mikolov's
``word2vec.c``) is the same header, then per key: the key in UTF-8, a space, and
``dim`` little-endian float32. gensim's ``save_word2vec_format`` files load,
and ours load in gensim's ``load_word2vec_format``. ``.gz`` is read and written
transparently.

Both readers stream: the matrix is allocated once (from the header's count, or
from a first pass that counts the lines of a GloVe file) and filled block by
block, so loading takes about the memory of the float32 matrix plus the keys.
"""
from __future__ import annotations

import codecs
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from ..exceptions import EmptyInputError, InputFormatError
from ._text import BLOCK, EXACT_DIGITS, Matrix, blocks, count_lines, float_rows, gzip_writer, open_maybe_gz

_open = open_maybe_gz
#: bytes read at a time by the binary reader
BINARY_CHUNK = 1 << 24


def _check_key(key, path) -> str:
    s = str(key)
    if not s or any(c.isspace() for c in s):
        raise InputFormatError(f"key {s!r} is empty or holds whitespace, which the word2vec formats cannot "
                               "store; export to .ekv, .npz or .npy instead", path)
    return s


def write_text(emb, path, *, header: bool = True, precision: int = EXACT_DIGITS) -> None:
    """Word2vec text (GloVe with ``header=False``); ``precision`` significant digits,
    9 by default so float32 values round-trip exactly."""
    path = Path(path)
    keys = [_check_key(k, path) for k in emb.keys]
    vectors = emb.vectors
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as raw:
            fh = gzip_writer(raw, path) if path.suffix == ".gz" else raw
            if header:
                fh.write(f"{vectors.shape[0]} {vectors.shape[1]}\n".encode())
            for start in range(0, len(keys), BLOCK):
                rows = float_rows(vectors[start:start + BLOCK], " ", precision)
                lines = [k + " " + row for k, row in zip(keys[start:start + BLOCK], rows)]
                fh.write(("\n".join(lines) + "\n").encode("utf-8"))
            if fh is not raw:
                fh.close()


def write_binary(emb, path) -> None:
    path = Path(path)
    keys = [_check_key(k, path) for k in emb.keys]
    vectors = emb.vectors.astype("<f4", copy=False)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as raw:
            fh = gzip_writer(raw, path) if path.suffix == ".gz" else raw
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


def _is_header(line: bytes) -> bool:
    parts = line.split()
    return len(parts) == 2 and all(p.isdigit() for p in parts)


def _parse_slow(raw_lines: list[bytes], start: int, dim: int, path: Path):
    """Line-by-line parse of one block, for the precise error (file, line, text) the fast path cannot give."""
    keys, rows = [], []
    for lineno, raw in enumerate(raw_lines, start=start):
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise InputFormatError("line is not valid UTF-8", path, lineno, raw[:60].decode("latin-1")) from None
        if not line.strip():
            continue
        parts = line.rstrip().split(" ")
        if len(parts) != dim + 1:
            raise InputFormatError(
                f"expected a key and {dim} numbers, found {len(parts) - 1} numbers", path, lineno, line
            )
        try:
            rows.append(np.array(parts[1:], dtype=np.float32))
        except ValueError:
            raise InputFormatError("vector holds a value that is not a number", path, lineno, line) from None
        keys.append(parts[0])
    return keys, (np.vstack(rows) if rows else np.empty((0, dim), np.float32))


def _parse_block(raw_lines: list[bytes], start: int, dim: int, path: Path):
    """``(keys, (m, dim) float32 rows)`` of one block of ``key v1 ... vdim`` lines; blank lines skipped.

    The numbers of a whole block go through numpy's C parser at once; anything odd
    (bad UTF-8, a wrong count, a non-number) falls back to :func:`_parse_slow`.
    """
    try:
        lines = [r.decode("utf-8").rstrip() for r in raw_lines]
        keys, rests = [], []
        for line in lines:
            if line:
                key, _, rest = line.partition(" ")
                keys.append(key)
                rests.append(rest)
        if not keys:
            return [], np.empty((0, dim), np.float32)
        rows = np.loadtxt(rests, dtype=np.float32, delimiter=" ", comments=None, ndmin=2, quotechar=None)
        if rows.shape == (len(keys), dim):
            return keys, rows
    except (UnicodeDecodeError, ValueError):
        pass
    return _parse_slow(raw_lines, start, dim, path)


def read_text(path, *, limit: int | None = None, header: bool | None = None):
    """Read word2vec text (with header) or GloVe text (without); returns Embeddings.

    ``header``: None sniffs it (a first line of exactly two integers), False reads
    line 1 as a vector (GloVe), True requires it. ``limit``: read only the first that
    many vectors. Streams: memory is the float32 matrix, the keys and one block of text.
    """
    from ..embeddings import Embeddings

    path = Path(path)
    with _open(path, "rb") as fh:
        first = fh.readline()
        declared = None
        if header is not False and _is_header(first):
            declared, dim = (int(p) for p in first.split())
            capacity = declared
            source = blocks(fh, start=2)
        elif header:
            raise InputFormatError("word2vec text must start with '<count> <dim>'", path, 1,
                                   first.decode("utf-8", "replace").rstrip())
        else:
            lead = [first]  # leading blank lines are skipped; the first vector sets the dimension
            while lead[-1] and not lead[-1].strip():
                lead.append(fh.readline())
            dim = len(lead[-1].decode("utf-8", "replace").rstrip().split(" ")) - 1
            if lead[-1].strip() and dim < 1:
                raise InputFormatError("expected a key followed by numbers", path, len(lead),
                                       lead[-1].decode("utf-8", "replace").rstrip())
            capacity = count_lines(path)  # an upper bound on the rows: blank lines are skipped
            source = blocks(fh, start=1, head=lead)
        matrix = Matrix(capacity if limit is None else min(capacity, limit), max(dim, 0))
        keys: list[str] = []
        for lineno, raw_lines in source:
            bkeys, rows = _parse_block(raw_lines, lineno, dim, path)
            if rows.shape[0] > matrix.room:
                if limit is None or matrix.data.shape[0] < limit:
                    raise InputFormatError(f"header declares {declared} vectors but the file holds more", path, 1)
                bkeys, rows = bkeys[:matrix.room], rows[:matrix.room]
            keys.extend(bkeys)
            matrix.add(rows)
            if limit is not None and len(keys) >= limit:
                break
    if not keys:
        raise EmptyInputError(f"{path}: no vectors found")
    if declared is not None and limit is None and declared != len(keys):
        raise InputFormatError(f"header declares {declared} vectors but the file holds {len(keys)}", path, 1)
    return Embeddings(keys, matrix.result(), {"source": str(path), "format": "word2vec" if declared else "glove"})


def read_binary(path, *, limit: int | None = None):
    """Read word2vec binary; returns Embeddings. Streams the file in 16 MiB chunks into a
    preallocated matrix (memory: the matrix, the keys and one chunk)."""
    from ..embeddings import Embeddings

    path = Path(path)
    with _open(path, "rb") as fh:
        header = fh.readline().split()
        if len(header) != 2 or not all(h.isdigit() for h in header):
            raise InputFormatError("word2vec binary must start with '<count> <dim>'", path, 1)
        n, dim = int(header[0]), int(header[1])
        if limit is not None:
            n = min(n, limit)
        keys: list[str] = []
        vectors = np.empty((n, dim), dtype=np.float32)
        width = dim * 4
        chunk = max(BINARY_CHUNK, 4 * (width + 4096))
        data = b""
        pos = 0
        eof = False
        for i in range(n):
            while True:
                while pos < len(data) and data[pos:pos + 1] in (b"\n", b" ", b"\r"):
                    pos += 1
                end = data.find(b" ", pos)
                if end >= 0 and end + 1 + width <= len(data):
                    break
                if eof:
                    raise InputFormatError(f"file ends inside vector {i + 1} of {n}", path)
                more = fh.read(chunk)
                eof = not more
                data = data[pos:] + more
                pos = 0
            try:
                keys.append(data[pos:end].decode("utf-8"))
            except UnicodeDecodeError:
                keys.append(data[pos:end].decode("latin-1"))
            vectors[i] = np.frombuffer(data, dtype="<f4", count=dim, offset=end + 1)
            pos = end + 1 + width
    if n == 0:
        raise EmptyInputError(f"{path}: no vectors found")
    return Embeddings(keys, vectors, {"source": str(path), "format": "word2vec-binary"})
