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

import zlib
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from ..data._open import read_errors
from ..exceptions import EmptyInputError, InputFormatError
from ._checks import NONFINITE_HINT, check_declared, data_lines, finish
from ._text import BLOCK, EXACT_DIGITS, Matrix, blocks, count_lines, float_rows, gzip_writer, open_input

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


#: bytes that appear in printable text (the word2vec text format is nothing else, apart from its keys)
_PRINTABLE = bytes(range(0x20, 0x7F)) + b"\t\n\r"
#: bytes read after the header to decide between text and binary
_SNIFF_BYTES = 1 << 16


def _text_record(line: bytes, dim: int) -> bool:
    """True when ``line`` is ``key v1 ... vdim`` (whatever bytes the key holds)."""
    parts = line.split()
    if len(parts) != dim + 1:
        return False
    try:
        for p in parts[1:]:
            float(p)
    except ValueError:
        return False
    return True


def sniff_binary(path: Path) -> bool:
    """True when the file is word2vec binary: a ``count dim`` header, a first record that is not a
    text line ``key v1 ... vdim``, and float bytes after its key that are not all printable text.
    One byte that is not UTF-8 (a latin-1 key) never makes a text file binary. A file that cannot
    be read this far (a truncated .gz) is left to the text reader, whose error names the line."""
    fh = open_input(path)
    with fh:
        try:
            head = fh.readline(_SNIFF_BYTES)
            if not _is_header(head):
                return False
            dim = int(head.split()[1])
            body = fh.readline(_SNIFF_BYTES)
            while body and not body.strip(b"\r\n"):  # blank lines after the header (text only)
                body = fh.readline(_SNIFF_BYTES)
            if _text_record(body, dim):
                return False
            key_end = body.find(b" ")
            if key_end < 0:
                return False
            need = key_end + 1 + 4 * dim - len(body)
            if need > 0:
                body += fh.read(min(need, _SNIFF_BYTES))
        except (OSError, EOFError, zlib.error):
            return False
    floats = body[key_end + 1:key_end + 1 + 4 * dim]
    return bool(floats.translate(None, _PRINTABLE))


def _is_header(line: bytes) -> bool:
    parts = line.split()
    return len(parts) == 2 and all(p.isdigit() for p in parts)


def _nonfinite_line(rows: np.ndarray, keys: list, lines: list[str], start: int, path: Path):
    """The error for the first row of ``rows`` (parsed from the non-blank ``lines``, numbered from
    ``start`` with blank ones) holding NaN or infinity."""
    bad = int(np.flatnonzero(~np.isfinite(rows).all(axis=1))[0])
    seen = -1
    for offset, line in enumerate(lines):
        if line.strip():
            seen += 1
            if seen == bad:
                break
    raise InputFormatError(f"the vector of key {keys[bad]!r} holds NaN or infinity; {NONFINITE_HINT}",
                           path, start + offset, line)


def _parse_slow(raw_lines: list[bytes], start: int, dim: int, path: Path):
    """Line-by-line parse of one block, for the precise error (file, line, text) the fast path cannot give."""
    keys, rows = [], []
    for lineno, raw in enumerate(raw_lines, start=start):
        try:
            line = raw.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise InputFormatError(f"line is not valid UTF-8 ({exc.reason} at byte {exc.start})", path, lineno,
                                   raw[:60].decode("latin-1")) from None
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


def _parse_block(raw_lines: list[bytes], start: int, dim: int, path: Path, allow_nonfinite: bool = False):
    """``(keys, (m, dim) float32 rows)`` of one block of ``key v1 ... vdim`` lines; blank lines skipped.

    The numbers of a whole block go through numpy's C parser at once; anything odd
    (bad UTF-8, a wrong count, a non-number) falls back to :func:`_parse_slow`. NaN or infinity
    is an error naming the line unless ``allow_nonfinite``.
    """
    keys: list = []
    rows = None
    try:
        lines = [r.decode("utf-8").rstrip() for r in raw_lines]
        rests = []
        for line in lines:
            if line:
                key, _, rest = line.partition(" ")
                keys.append(key)
                rests.append(rest)
        if not keys:
            return [], np.empty((0, dim), np.float32)
        rows = np.loadtxt(rests, dtype=np.float32, delimiter=" ", comments=None, ndmin=2, quotechar=None)
        if rows.shape != (len(keys), dim):
            rows = None
    except (UnicodeDecodeError, ValueError):
        rows = None
    if rows is None:
        keys, rows = _parse_slow(raw_lines, start, dim, path)
        lines = [r.decode("utf-8").rstrip() for r in raw_lines]
    if not allow_nonfinite and rows.size and not np.isfinite(rows.sum(dtype=np.float64)):
        _nonfinite_line(rows, keys, lines, start, path)
    return keys, rows


def read_text(path, *, limit: int | None = None, header: bool | None = None, allow_nonfinite: bool = False):
    """Read word2vec text (with header) or GloVe text (without); returns Embeddings.

    ``header``: None sniffs it (a first line of exactly two integers), False reads
    line 1 as a vector (GloVe), True requires it. ``limit``: read only the first that
    many vectors. Streams: memory is the float32 matrix, the keys and one block of text.

    Refused with an :class:`InputFormatError` naming the file and line: a line that is not
    UTF-8, a wrong count of numbers, a non-number, NaN or infinity (unless
    ``allow_nonfinite=True``), a key found twice (both lines named), a header whose count
    differs from the lines (either way) or declares more than the file's size can hold
    (checked before allocating). A UTF-8 byte-order mark at the start is dropped; ``.gz``
    (by suffix or magic) is read, a truncated one is an error.
    """
    path = Path(path)
    fh = open_input(path)
    with fh:
        with read_errors(path, 1):
            first = fh.readline()
        declared = None
        if header is not False and _is_header(first):
            declared, dim = (int(p) for p in first.split())
            # a row is at least "k" + " 0" * dim (+ a newline but on the last line)
            check_declared(path, declared, dim, 2 * dim + 1, "the header")
            capacity = declared
            first_data_line = 2
            source = blocks(fh, start=2, path=path)
        elif header:
            raise InputFormatError("word2vec text must start with '<count> <dim>'", path, 1,
                                   first.decode("utf-8", "replace").rstrip())
        else:
            lead = [first]  # leading blank lines are skipped; the first vector sets the dimension
            with read_errors(path, len(lead) + 1):
                while lead[-1] and not lead[-1].strip():
                    lead.append(fh.readline())
            dim = len(lead[-1].decode("utf-8", "replace").rstrip().split(" ")) - 1
            if lead[-1].strip() and dim < 1:
                raise InputFormatError("expected a key followed by numbers", path, len(lead),
                                       lead[-1].decode("utf-8", "replace").rstrip())
            capacity = count_lines(path)  # an upper bound on the rows: blank lines are skipped
            first_data_line = 1
            source = blocks(fh, start=1, head=lead, path=path)
        matrix = Matrix(capacity if limit is None else min(capacity, limit), max(dim, 0))
        keys: list[str] = []
        for lineno, raw_lines in source:
            bkeys, rows = _parse_block(raw_lines, lineno, dim, path, allow_nonfinite)
            if rows.shape[0] > matrix.room:
                if limit is None or matrix.data.shape[0] < limit:
                    extra = data_lines(path, [declared], first_data_line)[0]
                    raise InputFormatError(f"the header declares {declared} vectors but the file holds more "
                                           f"(vector {declared + 1} is on line {extra})", path, extra)
                bkeys, rows = bkeys[:matrix.room], rows[:matrix.room]
            keys.extend(bkeys)
            matrix.add(rows)
            if limit is not None and len(keys) >= limit:
                break
    if not keys:
        raise EmptyInputError(f"{path}: no vectors found")
    if declared is not None and limit is None and declared != len(keys):
        raise InputFormatError(f"the header declares {declared} vectors but the file holds {len(keys)}", path, 1)
    return finish(keys, matrix.result(), {"source": str(path), "format": "word2vec" if declared else "glove"},
                  path, line_of=lambda rows: data_lines(path, rows, first_data_line), finite_checked=True)


def _extra_data(fh, data: bytes) -> bool:
    """True when anything but whitespace follows the last declared vector (``data``: bytes already read)."""
    while True:
        if data.strip():
            return True
        data = fh.read(BINARY_CHUNK)
        if not data:
            return False


def read_binary(path, *, limit: int | None = None, allow_nonfinite: bool = False):
    """Read word2vec binary; returns Embeddings. Streams the file in 16 MiB chunks into a
    preallocated matrix (memory: the matrix, the keys and one chunk).

    The header's count must match the records (fewer or more is an error) and fit in the file's
    size (checked before allocating); NaN or infinity (unless ``allow_nonfinite=True``) and a key
    found twice are errors naming the vectors (counted from 1). Keys that are not UTF-8 are read
    as latin-1, as gensim does."""
    path = Path(path)
    fh = open_input(path)
    with fh, read_errors(path):
        header = fh.readline().split()
        if len(header) != 2 or not all(h.isdigit() for h in header):
            raise InputFormatError("word2vec binary must start with '<count> <dim>'", path, 1)
        declared, dim = int(header[0]), int(header[1])
        check_declared(path, declared, dim, 4 * dim + 2, "the header")  # key byte, space, floats
        n = declared if limit is None else min(declared, limit)
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
                    raise InputFormatError(f"the header declares {declared} vectors but the file ends inside "
                                           f"vector {i + 1}", path)
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
        if limit is None and _extra_data(fh, data[pos:]):
            raise InputFormatError(f"the header declares {declared} vectors but the file holds more data after "
                                   f"vector {declared}", path)
    if n == 0:
        raise EmptyInputError(f"{path}: no vectors found")
    return finish(keys, vectors, {"source": str(path), "format": "word2vec-binary"}, path,
                  allow_nonfinite=allow_nonfinite, where=lambda r: f"vector {r + 1}")
