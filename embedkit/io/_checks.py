"""Checks every vector reader applies before it hands back :class:`~embedkit.Embeddings`:
sizes declared by a header or an array shape against what the file can hold (before
anything is allocated), no NaN or infinity (unless the caller opts in), no key twice.

Errors are :class:`~embedkit.exceptions.InputFormatError` naming the file and, for the
formats with lines, the line; for the others the row (counted from 0, as numpy does).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..data._open import BOM, is_gzip, open_binary, read_errors
from ..embeddings import Embeddings
from ..exceptions import InputFormatError

#: deflate never expands data more than 1032:1, so a .gz of N bytes holds at most about N * 1032 bytes
GZIP_MAX_RATIO = 1032
#: rows of a matrix checked for NaN/infinity at a time (bounded memory, also on a memory map)
_CHECK_BYTES = 1 << 24
#: said in every refusal of NaN/infinity
NONFINITE_HINT = "pass allow_nonfinite=True to load it anyway"


def data_bound(path: Path) -> int:
    """The most bytes of data ``path`` can hold once decompressed (its size, or the gzip bound)."""
    size = path.stat().st_size
    return size * GZIP_MAX_RATIO + 1024 if is_gzip(path) else size


def check_declared(path: Path, rows: int, dim: int, min_row_bytes: int, what: str) -> None:
    """Refuse a header declaring ``rows`` vectors of ``dim`` numbers that cannot fit in the file
    (each needs at least ``min_row_bytes``), before anything is allocated."""
    if dim < 1:
        raise InputFormatError(f"{what} declares dimension {dim}; a vector needs at least one number", path, 1)
    bound = data_bound(path)
    if rows * min_row_bytes > bound:
        size = path.stat().st_size
        raise InputFormatError(
            f"{what} declares {rows} vectors of dimension {dim}, which need at least {rows * min_row_bytes:,} "
            f"bytes, but the file has {size:,} bytes" + (" (compressed)" if bound != size else ""), path, 1)


def first_nonfinite(vectors: np.ndarray) -> int | None:
    """Row of the first vector holding NaN or infinity, or None. Sums blocks in float64 (a NaN or
    an infinity survives the sum, finite float32 values cannot overflow it), so no boolean copy
    of the matrix is made and a memory map is read block by block."""
    if vectors.dtype.kind not in "fc" or vectors.size == 0:
        return None
    step = max(1, _CHECK_BYTES // max(1, vectors.shape[-1] * vectors.itemsize))
    for start in range(0, vectors.shape[0], step):
        block = vectors[start:start + step]
        if not np.isfinite(block.sum(dtype=np.float64)):
            return start + int(np.flatnonzero(~np.isfinite(block).all(axis=tuple(range(1, block.ndim))))[0])
    return None


def check_finite(keys, vectors: np.ndarray, path: Path, allow: bool, where: Callable[[int], str] | None = None,
                 member: str | None = None, note: str = "") -> None:
    """Refuse NaN or infinity in ``vectors`` (unless ``allow``), naming the key and its row
    (``where(row)`` for another wording)."""
    if allow:
        return
    bad = first_nonfinite(vectors)
    if bad is not None:
        pos = where(bad) if where else f"row {bad}"
        inside = f" of {member}" if member else ""
        raise InputFormatError(f"{pos}{inside}: the vector of key {keys[bad]!r} holds NaN or infinity{note}; "
                               + NONFINITE_HINT, path)


def unique_index(keys: list, path: Path, line_of: Callable[[Iterable[int]], list[int]] | None = None,
                 where: Callable[[int], str] | None = None, member: str | None = None) -> dict:
    """``{key: row}``; a key found twice is an error naming both places: lines (``line_of`` maps
    rows to line numbers, called only then) or rows (``where(row)`` words one)."""
    index = {k: i for i, k in enumerate(keys)}
    if len(index) == len(keys):
        return index
    seen: dict = {}
    for second, k in enumerate(keys):
        first = seen.setdefault(k, second)
        if first != second:
            break
    inside = f" in {member}" if member else ""
    if line_of is not None:
        a, b = line_of([first, second])
        raise InputFormatError(f"duplicate key {k!r}{inside}: first on line {a}, again on line {b}", path, b)
    word = where or (lambda r: f"row {r}")
    raise InputFormatError(f"duplicate key {k!r}{inside}: {word(first)} and {word(second)}", path)


def data_lines(path: Path, rows: Iterable[int], first_line: int = 1, skip_blank: bool = True) -> list[int]:
    """The line numbers of data rows ``rows`` (0-based) of a text file whose data start on
    ``first_line``, blank lines skipped when ``skip_blank``; rescans the file (only on an error)."""
    wanted = sorted(set(rows))
    found: dict[int, int] = {}
    row = 0
    with open_binary(path) as fh, read_errors(path):
        for lineno, raw in enumerate(fh, start=1):
            if lineno == 1 and raw.startswith(BOM):
                raw = raw[3:]
            if lineno < first_line or (skip_blank and not raw.strip()):
                continue
            if row in wanted:
                found[row] = lineno
                if len(found) == len(wanted):
                    break
            row += 1
    return [found.get(r, -1) for r in rows]


def finish(keys: list, vectors: np.ndarray, meta: dict, path: Path, *, allow_nonfinite: bool = False,
           line_of: Callable[[Iterable[int]], list[int]] | None = None, where: Callable[[int], str] | None = None,
           finite_checked: bool = False):
    """Embeddings of ``keys`` and ``vectors`` after the checks above (``finite_checked``: the
    reader already refused NaN/infinity itself, with its line). Values are checked as float32,
    so a float64 value beyond float32's range (which becomes infinity) is refused too. The key
    index built for the duplicate check is kept, so the first lookup does not build it again."""
    index = unique_index(keys, path, line_of, where)
    with np.errstate(over="ignore"):  # a value beyond float32's range becomes infinity, refused just below
        emb = Embeddings(keys, vectors, meta)
    if not finite_checked or vectors.dtype != np.float32:
        note = "" if vectors.dtype == np.float32 else f" as float32 (stored as {vectors.dtype})"
        check_finite(keys, emb.vectors, path, allow_nonfinite,
                     where if line_of is None else (lambda r: f"line {line_of([r])[0]}"), note=note)
    emb._index = index
    return emb


def check_embeddings(emb, path: Path, allow_nonfinite: bool = False):
    """:func:`finish`'s checks on Embeddings another loader built (search indexes, gensim files)."""
    if isinstance(emb, Embeddings):
        check_finite(emb.keys, emb.vectors, path, allow_nonfinite)
        emb._index = unique_index(emb.keys, path)
    return emb
