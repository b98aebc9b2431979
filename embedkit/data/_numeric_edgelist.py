"""A vectorised reader for the common edge list: whitespace-separated non-negative
integer node ids, an optional positive weight, ``#``-style comment lines.

It parses blocks of bytes with numpy (``np.fromstring``), checking every byte and every
line's column count on the way, and gives up (returns ``None``) on anything else: a
comma, a letter, a negative or zero-padded id, a line whose column count differs, a
weight that is not positive and finite. The caller then reads the file line by line,
which names the offending line in its error; so this fast path never changes what a
file means, only how long it takes (a 10M-edge file: see docs/benchmarks.md).
"""
from __future__ import annotations

import gzip
import warnings
from pathlib import Path

import numpy as np

#: bytes per parsed block (a block ends at a line end)
BLOCK_BYTES = 32 << 20
#: longest id token parsed (int64 holds every 18-digit number)
MAX_ID_DIGITS = 18
#: comment lines blanked one at a time; past this many the line reader is used
MAX_COMMENT_LINES = 10_000

_INTEGER_TEXT = np.zeros(256, dtype=bool)
_INTEGER_TEXT[list(b"0123456789 \t\r\n")] = True
_NUMBER_TEXT = _INTEGER_TEXT.copy()
_NUMBER_TEXT[list(b".eE+-")] = True


def read_numeric_edgelist(path: Path, weighted: bool | None, comments: str):
    """``(src, dst, weights or None, ids)`` for a plain numeric edge list, else ``None``.

    ``src``/``dst``: int64 ``(E,)`` rows into ``ids``, the sorted distinct node ids
    (int64 ``(V,)``); ``weights``: float64 ``(E,)`` when the file has (and ``weighted``
    allows) a third column. Same meaning as the line reader: 2 columns, or 3 with
    ``weighted`` not False (a third column is ignored when ``weighted=False``).
    """
    comment_bytes = comments.encode("utf-8", "ignore")
    if any(c in b"0123456789.eE+-" for c in comment_bytes):
        return None
    src, dst, wts = [], [], []
    ncols = None
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        while True:
            block = fh.read(BLOCK_BYTES)
            if not block:
                break
            if not block.endswith(b"\n"):
                block += fh.readline()
            parsed = _parse_block(block, ncols, weighted, comment_bytes)
            if parsed is None:
                return None
            ncols, values = parsed
            if values is None:  # only blank or comment lines
                continue
            src.append(values[:, 0])
            dst.append(values[:, 1])
            if ncols == 3 and weighted is not False:
                wts.append(values[:, 2])
    if not src:
        return None  # empty: the line reader says so
    src_ids = np.concatenate(src)
    dst_ids = np.concatenate(dst)
    if src_ids.dtype != np.int64:  # parsed as float64 with the weights: digit-only ids, exact below 2**53
        if max(src_ids.max(), dst_ids.max()) >= 2.0**53:
            return None
        src_ids, dst_ids = src_ids.astype(np.int64), dst_ids.astype(np.int64)
    w = None
    if wts:
        w = np.concatenate(wts)
        if not np.all(np.isfinite(w) & (w > 0)):
            return None
    ids, rows = _dense_ids(np.concatenate([src_ids, dst_ids]))
    e = src_ids.shape[0]
    return rows[:e], rows[e:], w, ids


def _parse_block(block: bytes, ncols: int | None, weighted: bool | None, comment_bytes: bytes):
    """``(ncols, values (lines, ncols) or None)`` for one block of whole lines, ``None`` to give up."""
    if comment_bytes and any(c in block for c in comment_bytes):
        block = _blank_comments(block, comment_bytes)
        if block is None:
            return None
    raw = np.frombuffer(block, dtype=np.uint8)
    if not np.all(_NUMBER_TEXT[raw]):
        return None
    # token bounds from the whitespace/text transitions (the only bytes <= 32 left are whitespace)
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
        if ncols not in (2, 3) or (ncols == 2 and weighted):
            return None
    if np.any(per_line != ncols):
        return None
    floats = ncols == 3  # the third column is parsed even when weighted=False drops it
    odd = np.flatnonzero(~_INTEGER_TEXT[raw])  # '.', 'e', signs: only inside a weight (every third token)
    if odd.size and not (floats and np.all(np.searchsorted(starts, odd, side="right") % 3 == 0)):
        return None
    id_starts, id_ends = starts.reshape(-1, ncols)[:, :2], ends.reshape(-1, ncols)[:, :2]
    if np.any(id_ends - id_starts >= MAX_ID_DIGITS):
        return None
    # "007" and "7" are different ids to the line reader: leave zero-padded ids to it
    if np.any((raw[id_starts] == ord("0")) & (id_ends > id_starts)):
        return None
    try:  # text numpy cannot parse to its end (e.g. "1.5.2") raises, or warns in older numpy
        with warnings.catch_warnings():
            warnings.simplefilter("error", DeprecationWarning)
            values = np.fromstring(block, dtype=np.float64 if floats else np.int64, sep=" ")
    except (ValueError, DeprecationWarning):
        return None
    if values.size != starts.size:
        return None
    return ncols, values.reshape(-1, ncols)


def _blank_comments(block: bytes, comment_bytes: bytes):
    """The block with its comment lines (first non-blank byte a comment byte) turned to
    spaces, or ``None`` when a comment byte sits elsewhere or there are very many."""
    out = bytearray(block)
    hits = 0
    for c in comment_bytes:
        at = block.find(bytes([c]))
        while at != -1:
            hits += 1
            if hits > MAX_COMMENT_LINES:
                return None
            line_start = block.rfind(b"\n", 0, at) + 1
            if block[line_start:at].strip():
                return None  # not a comment line
            line_end = block.find(b"\n", at)
            line_end = len(block) if line_end == -1 else line_end
            out[line_start:line_end] = b" " * (line_end - line_start)
            at = block.find(bytes([c]), line_end)
    return bytes(out)


def _dense_ids(ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ids and each entry's row among them (a lookup table when the ids
    are dense enough, else a sort)."""
    top = int(ids.max())
    if top < 4 * ids.shape[0] + 1024:
        present = np.zeros(top + 1, dtype=bool)
        present[ids] = True
        distinct = np.flatnonzero(present)
        row_of = np.cumsum(present, dtype=np.int64) - 1
        return distinct.astype(np.int64), row_of[ids]
    distinct, rows = np.unique(ids, return_inverse=True)
    return distinct, rows.astype(np.int64)
