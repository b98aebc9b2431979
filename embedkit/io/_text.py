"""Helpers shared by the text vector formats (word2vec/GloVe text, projector TSV,
JSON lines): opening (through the one text opener), counting lines for preallocation, reading raw
lines in blocks, and formatting float32 rows so that they read back exactly."""
from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from ..data._open import open_binary, read_errors, skip_bom

#: rows formatted per block by the text writers
BLOCK = 8192
#: bytes of text parsed per block by the streaming readers (memory: one block of text at a time)
BLOCK_BYTES = 1 << 22
#: significant digits that make any float32 read back bit-exact
EXACT_DIGITS = 9


def open_input(path: Path):
    """The bytes of a text vector file through the one opener (:func:`embedkit.data._open.open_binary`:
    gzip by suffix or magic, errors naming the file), past a UTF-8 byte-order mark."""
    fh = open_binary(path)
    with read_errors(path, 1):
        skip_bom(fh)
    return fh


def gzip_writer(raw, path: Path):
    """A gzip stream over ``raw`` whose member is named after ``path`` (not the temporary file)."""
    return gzip.GzipFile(filename=path.name[:-3], mode="wb", fileobj=raw)


def count_lines(path: Path) -> int:
    """How many lines ``path`` holds (a last line without a newline counts); an upper bound
    on its rows, read in :data:`BLOCK_BYTES` chunks, so that a reader can preallocate its matrix.
    A read error (a truncated .gz) names the first line that could not be read whole."""
    n = 0
    last = b"\n"
    with open_binary(path) as fh:
        while True:
            with read_errors(path, n + 1):
                chunk = fh.read1(BLOCK_BYTES)  # read1: what was decompressed before an error is counted
            if not chunk:
                break
            n += chunk.count(b"\n")
            last = chunk[-1:]
    return n + (last != b"\n")


def blocks(fh, start: int = 1, head: list[bytes] | None = None, path: Path | None = None):
    """Yield ``(first_line_number, [raw line, ...])`` blocks of about :data:`BLOCK_BYTES` from the
    binary file ``fh``; ``head`` (lines already read from it) opens the first block. A read error
    (a truncated .gz) is an :class:`InputFormatError` naming ``path`` and the first line that
    could not be read whole."""
    lineno = start
    block = list(head or ()) + _readlines(fh, path, lineno + len(head or ()))
    while block:
        yield lineno, block
        lineno += len(block)
        block = _readlines(fh, path, lineno)


def _readlines(fh, path: Path | None, lineno: int) -> list[bytes]:
    try:
        return fh.readlines(BLOCK_BYTES)
    except (OSError, EOFError, zlib.error) as exc:
        if path is not None and isinstance(exc, (EOFError, zlib.error, gzip.BadGzipFile)):
            count_lines(path)  # raises, naming the line where the data stop
        with read_errors(path, lineno):
            raise


def float_rows(block: np.ndarray, sep: str, precision: int = EXACT_DIGITS) -> list[str]:
    """Each row of ``block`` as ``sep``-joined numbers with ``precision`` significant digits."""
    fmt = sep.join([f"%.{precision}g"] * block.shape[1])
    return [fmt % tuple(row) for row in block.tolist()]


class Matrix:
    """A float32 matrix filled row block by row block, preallocated to ``capacity`` rows,
    so a reader holds the matrix once (not a list of rows and then a stacked copy)."""

    def __init__(self, capacity: int, dim: int):
        self.data = np.empty((max(capacity, 0), dim), dtype=np.float32)
        self.n = 0

    @property
    def room(self) -> int:
        return self.data.shape[0] - self.n

    def add(self, rows: np.ndarray) -> None:
        self.data[self.n:self.n + rows.shape[0]] = rows
        self.n += rows.shape[0]

    def result(self) -> np.ndarray:
        """The filled rows; shrunk in place (no copy) when fewer rows came than were allocated."""
        if self.n < self.data.shape[0]:
            self.data.resize((self.n, self.data.shape[1]), refcheck=False)
        return self.data
