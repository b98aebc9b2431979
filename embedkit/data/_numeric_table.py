"""Vectorised reading of the common text tables: numbers only, one row a line (edge lists,
MovieLens ``u.data`` / ``ratings.csv`` bodies, Gowalla-style pairs).

Blocks of bytes are parsed with numpy (``np.fromstring``), checking every byte and every
line's column count on the way. Anything else (a letter, a zero-padded or signed id, a
ragged line, a space in a comma-separated file, ...) makes it give up and return ``None``:
the caller then reads the file line by line, which names the offending line in its error.
So this path never changes what a file means, only how long it takes (docs/benchmarks.md,
"Reading a 10M-edge list").
"""
from __future__ import annotations

import contextlib
import re
import warnings
from pathlib import Path

import numpy as np

from ._open import open_binary, read_errors, skip_bom

#: bytes per parsed block (a block ends at a line end)
BLOCK_BYTES = 32 << 20
#: longest id token: int64 holds every 18-digit number, float64 every 15-digit one exactly
MAX_ID_DIGITS = {np.int64: 18, np.float64: 15}
#: comment lines blanked one at a time; past this many the line reader is used
MAX_COMMENT_LINES = 10_000

_INTEGER_TEXT = np.zeros(256, dtype=bool)
_INTEGER_TEXT[list(b"0123456789 \t\r\n")] = True
_NUMBER_TEXT = _INTEGER_TEXT.copy()
_NUMBER_TEXT[list(b".eE+-")] = True


def read_numeric_table(path: Path, id_columns: tuple[int, ...], *, ncols: int | None = None,
                       ncols_choices: tuple[int, ...] = (), delimiter: str = "", skip_lines: int = 0,
                       comments: str = "#%"):
    """The table's rows as a ``(lines, ncols)`` array, or ``None`` when it is not a plain numeric table.

    ``id_columns`` must hold digits only (no sign, no zero padding): the array is int64 when
    every column is one, else float64. ``ncols``: the columns every line has; None takes the
    first line's count, which must be in ``ncols_choices``. ``delimiter``: "" (any run of
    blanks), or one of ``" "``, ``"\\t"``, ``","``, ``";"``, ``"::"``: exactly one between
    fields and none at a line's ends (another blank in a line gives up). The first
    ``skip_lines`` lines (a header) are skipped; blank lines and lines starting with a
    ``comments`` character are ignored.
    """
    comment_bytes = comments.encode("utf-8", "ignore")
    if any(c in b"0123456789.eE+-" for c in comment_bytes):
        return None
    if delimiter == "":
        sep, forbidden = None, b""
    elif delimiter in (" ", "\t", ",", ";", "::"):
        sep = delimiter.encode()
        forbidden = bytes(c for c in b" \t" if bytes([c]) != sep)
    else:
        return None
    rows = []
    with _open_bytes(path) as fh:
        for _ in range(skip_lines):
            fh.readline()
        while True:
            block = fh.read(BLOCK_BYTES)
            if not block:
                break
            if not block.endswith(b"\n"):
                block += fh.readline()
            if comment_bytes and any(c in block for c in comment_bytes):
                block = _drop_comment_lines(block, comment_bytes)
                if block is None:
                    return None
            if block.count(b"\r") != block.count(b"\r\n"):
                return None  # a bare carriage return ends a line for the line readers
            n_seps = 0
            if sep is not None:
                if any(c in block for c in forbidden):
                    return None
                n_seps = block.count(sep)
                block = block.replace(sep, b" ")
            parsed = _parse_block(block, ncols, ncols_choices, id_columns)
            if parsed is None:
                return None
            ncols, values = parsed
            # exactly ncols - 1 separators a line: no empty field, none at a line's ends
            if sep is not None and n_seps != (0 if values is None else (ncols - 1) * values.shape[0]):
                return None
            if values is not None:
                rows.append(values)
    if not rows:
        return None  # nothing but blanks and comments: the line reader says so
    return np.concatenate(rows)


@contextlib.contextmanager
def _open_bytes(path: Path):
    """The file's bytes (gunzipped, a byte-order mark skipped) through the shared opener; a
    read error inside the block (a truncated .gz) is an InputFormatError naming the file."""
    with open_binary(path) as fh, read_errors(path):
        skip_bom(fh)
        yield fh


def _parse_block(block: bytes, ncols: int | None, ncols_choices, id_columns):
    """``(ncols, values (lines, ncols) or None)`` for one block of whole lines, ``None`` to give up."""
    raw = np.frombuffer(block, dtype=np.uint8)
    if not np.all(_NUMBER_TEXT[raw]):
        return None
    # token bounds from the blank/text transitions (the only bytes <= 32 left are blanks)
    white = np.ones(raw.size + 2, dtype=bool)
    np.less_equal(raw, 32, out=white[1:-1])
    step = np.diff(white.view(np.int8))
    starts = np.flatnonzero(step == -1)
    if starts.size == 0:
        return ncols, None
    ends = np.flatnonzero(step == 1) - 1
    before_line_end = np.searchsorted(starts, np.flatnonzero(raw == 10))
    per_line = np.diff(before_line_end, prepend=0, append=starts.size)
    per_line = per_line[per_line > 0]
    if ncols is None:
        ncols = int(per_line[0])
        if ncols not in ncols_choices:
            return None
    if np.any(per_line != ncols) or max(id_columns) >= ncols:
        return None
    dtype = np.int64 if len(set(id_columns)) == ncols else np.float64
    odd = np.flatnonzero(~_INTEGER_TEXT[raw])  # '.', 'e', signs: only in a number column
    if odd.size:
        if dtype is np.int64:
            return None
        column = (np.searchsorted(starts, odd, side="right") - 1) % ncols
        if np.isin(column, id_columns).any():
            return None
    id_starts = starts.reshape(-1, ncols)[:, list(id_columns)]
    id_ends = ends.reshape(-1, ncols)[:, list(id_columns)]
    if np.any(id_ends - id_starts >= MAX_ID_DIGITS[dtype]):
        return None
    # "007" and "7" are different ids to the line readers: leave zero-padded ids to them
    if np.any((raw[id_starts] == ord("0")) & (id_ends > id_starts)):
        return None
    try:  # text numpy cannot parse to its end (e.g. "1.5.2") raises, or warns in older numpy
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            values = np.fromstring(block, dtype=dtype, sep=" ")
    except (ValueError, DeprecationWarning):
        return None
    if values.size != starts.size:
        return None
    return ncols, values.reshape(-1, ncols)


def _drop_comment_lines(block: bytes, comment_bytes: bytes):
    """The block with the text of its comment lines (first non-blank byte a comment byte)
    removed, their line ends kept, or ``None`` when a comment byte starts no line or there
    are very many."""
    mark = re.compile(b"[" + re.escape(comment_bytes) + b"]")
    kept, pos, lines = [], 0, 0
    hit = mark.search(block)
    while hit is not None:
        lines += 1
        if lines > MAX_COMMENT_LINES:
            return None
        line_start = block.rfind(b"\n", 0, hit.start()) + 1
        if block[line_start:hit.start()].strip():
            return None  # a comment byte inside a data line
        line_end = block.find(b"\n", hit.start())
        line_end = len(block) if line_end == -1 else line_end
        kept.append(block[pos:line_start])
        pos = line_end
        hit = mark.search(block, line_end)
    kept.append(block[pos:])
    return b"".join(kept)


def dense_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct non-negative integer ids (int64) and each entry's row among them (a
    lookup table when the ids are dense enough, else a sort)."""
    ids = ids.astype(np.int64, copy=False)
    top = int(ids.max())
    if top < 4 * ids.shape[0] + 1024:
        present = np.zeros(top + 1, dtype=bool)
        present[ids] = True
        distinct = np.flatnonzero(present)
        row_of = np.cumsum(present, dtype=np.int64) - 1
        return distinct.astype(np.int64), row_of[ids]
    distinct, rows = np.unique(ids, return_inverse=True)
    return distinct, rows.astype(np.int64)


def read_numeric_edgelist(path: Path, weighted: bool | None, comments: str, delimiter: str | None = None):
    """``(src, dst, weights or None, ids)`` for a plain numeric edge list, else ``None``.

    ``src``/``dst``: int64 ``(E,)`` rows into ``ids``, the sorted distinct node ids
    (int64 ``(V,)``); ``weights``: float64 ``(E,)`` when the file has (and ``weighted``
    allows) a third column. Same meaning as the line reader: 2 columns, or 3 (the third
    ignored when ``weighted=False``); weights positive and finite. ``delimiter=None`` is
    decided as the line reader does, on the first edge: comma-separated if it has a comma.
    """
    if delimiter is None:
        delimiter = "," if b"," in _first_data_line(path, comments) else ""
    values = read_numeric_table(path, (0, 1), ncols_choices=(3,) if weighted else (2, 3), comments=comments,
                                delimiter=delimiter)
    if values is None:
        return None
    w = None
    if values.shape[1] == 3 and weighted is not False:
        w = values[:, 2]
        if not np.all(np.isfinite(w) & (w > 0)):
            return None
    ids, rows = dense_ids(values[:, :2].T.ravel())
    e = values.shape[0]
    return rows[:e], rows[e:], w, ids


def _first_data_line(path: Path, comments: str, limit: int = 10_000) -> bytes:
    """The first non-blank, non-comment line among the first ``limit`` lines (b"" if none)."""
    marks = comments.encode("utf-8", "ignore")
    with _open_bytes(path) as fh:
        for _ in range(limit):
            line = fh.readline()
            if not line:
                break
            text = line.strip()
            if text and text[0] not in marks:
                return text
    return b""
