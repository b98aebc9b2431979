"""Reading user-item interactions: :func:`read_interactions` coerces every accepted input
(a ratings or list file, a DataFrame, a scipy sparse matrix, arrays of ids) to
:class:`~embedkit.data.interactions.Interactions` once; one converter per input form.
Duplicate pairs merge by the rule in :mod:`embedkit.data.interactions`.
"""
from __future__ import annotations

import logging
import math
import os
from array import array
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import EmptyInputError, InputFormatError, InvalidParameterError
from ._numeric_table import dense_ids, read_numeric_table
from ._open import check_readable_file, text_lines
from .interactions import DUPLICATE_RULES, Interactions, _check_values

logger = logging.getLogger("embedkit")


def read_interactions(
    source: Any,
    user_col: int | str = 0,
    item_col: int | str = 1,
    rating_col: int | str | None = None,
    timestamp_col: int | str | None = None,
    implicit_threshold: float | None = None,
    *,
    delimiter: str | None = None,
    header: bool | None = None,
    duplicates: str = "auto",
    format: str = "table",
    comments: str = "#%",
) -> Interactions:
    """Coerce ``source`` to :class:`Interactions`.

    ``source`` may be:

    * a path to a table of interactions, one per line (``.gz`` read transparently):
      CSV, TSV or whitespace separated, with or without a header line — MovieLens
      ``u.data`` (``user item rating timestamp``, tab), ``ratings.csv``
      (``userId,movieId,rating,timestamp`` with a header) and ``ratings.dat`` (``::``);
    * a path to a LightGCN/NGCF list file (``format="lists"``): ``user item item ...`` per line;
    * a pandas DataFrame (pandas is not imported by embedkit; any object with ``columns`` works);
    * a pair or triple of arrays ``(users, items[, ratings])`` of ids;
    * a scipy sparse ``(users, items)`` matrix (its values are implicit weights);
    * an :class:`Interactions` (returned as is, or binarized with ``implicit_threshold``).

    Columns are named by 0-based position or by header name. ``rating_col=None`` reads
    implicit interactions (each row counts 1); with ``rating_col`` the ratings are kept
    (``explicit``) unless ``implicit_threshold`` is given, which keeps only ratings
    ``>= implicit_threshold`` as positives of value 1 (after duplicates are merged; the
    users and items stay in the id maps). ``timestamp_col`` holds numbers (e.g. Unix seconds)
    or ISO dates.

    ``delimiter=None`` is sniffed from the first data line: ``::``, tab, comma, else
    whitespace. ``header=None`` takes the first line as a header when a column is named,
    or when all its fields are non-numbers while the next line has a number in the user,
    item, rating or timestamp column (string ids and no ratings: pass ``header=True``).
    Duplicate pairs merge by ``duplicates`` (see the module doc). Ids from a file are
    strings, ordered numerically when all are integers, else by first appearance.

    A malformed line, or a rating that is negative, NaN or not a number, raises
    :class:`InputFormatError` naming the file, the line and its text.

    >>> import embedkit as ek
    >>> inter = ek.read_interactions((["ann", "ann", "bob"], ["x", "y", "x"], [5.0, 3.0, 4.0]))
    >>> inter, inter.items_of("ann")
    (Interactions(2 users, 2 items, 3 ratings), ['x', 'y'])
    """
    if implicit_threshold is not None:
        if isinstance(implicit_threshold, bool) or not isinstance(implicit_threshold, (int, float, np.number)) \
                or not math.isfinite(implicit_threshold):
            raise InvalidParameterError("read_interactions", "implicit_threshold", "a number (or None)",
                                        implicit_threshold)
        if rating_col is None and not isinstance(source, Interactions):
            raise InvalidParameterError("read_interactions", "rating_col", "a column (position or name) when "
                                        "implicit_threshold is given", rating_col,
                                        hint="name the rating column, e.g. rating_col=2")
    if duplicates not in DUPLICATE_RULES:
        raise InvalidParameterError("read_interactions", "duplicates",
                                    "one of " + ", ".join(map(repr, DUPLICATE_RULES)), duplicates)
    if format not in ("table", "lists"):
        raise InvalidParameterError("read_interactions", "format", "'table' or 'lists'", format)
    if isinstance(source, Interactions):
        inter = source
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.is_dir():
            raise InputFormatError("is a folder; give the ratings file inside it (e.g. u.data)", path)
        check_readable_file(path)
        if format == "lists":
            inter = _read_lists(path, delimiter, comments)
        else:
            inter = _read_table(path, user_col, item_col, rating_col, timestamp_col, delimiter, header,
                                duplicates, comments)
    elif hasattr(source, "columns") and hasattr(source, "iloc"):
        inter = _from_frame(source, user_col, item_col, rating_col, timestamp_col, duplicates)
    elif type(source).__module__.startswith("scipy.sparse") or hasattr(source, "tocsr"):
        inter = _from_sparse(source)
    elif isinstance(source, tuple) and len(source) in (2, 3):
        ratings = source[2] if len(source) == 3 else None
        inter = _from_id_arrays(source[0], source[1], ratings, None, duplicates, "arrays")
    else:
        raise InputFormatError(
            f"cannot read interactions from a {type(source).__name__}; give a ratings file path, a pandas "
            "DataFrame, a scipy sparse user x item matrix, or a (users, items[, ratings]) tuple of arrays")
    if implicit_threshold is not None:
        inter = inter.binarize(float(implicit_threshold))
        if inter.nnz == 0:
            raise EmptyInputError(f"{inter.source or 'interactions'}: no rating is >= implicit_threshold="
                                  f"{implicit_threshold}")
    return inter


def _ordered_ids(ids: np.ndarray) -> tuple[list, np.ndarray]:
    """Unique ids (numerically ordered when all are integers, else by first appearance) and
    the row of every element."""
    uniq, first, inverse = np.unique(ids, return_index=True, return_inverse=True)
    as_int = None
    if ids.dtype.kind in "iu":
        as_int = uniq.astype(np.int64)
    elif ids.dtype.kind in "UO":
        try:
            as_int = np.array([int(x) for x in uniq], dtype=np.int64)
        except (ValueError, TypeError, OverflowError):
            as_int = None
        if as_int is not None and any(str(a) != x for a, x in zip(as_int.tolist(), uniq.tolist())):
            as_int = None  # "007" and "7" are distinct ids: keep first-appearance order
    order = np.argsort(as_int, kind="stable") if as_int is not None else np.argsort(first, kind="stable")
    remap = np.empty(order.shape[0], dtype=np.int64)
    remap[order] = np.arange(order.shape[0])
    keys = uniq[order].tolist()
    return keys, remap[inverse.ravel()]


def _ordered_index(index: dict, rows) -> tuple[list, np.ndarray]:
    """:func:`_ordered_ids` for ids already mapped to rows in order of first appearance
    (``index``: id -> row, ``rows``: int64 buffer): the same keys and rows, ordering only the
    unique ids."""
    keys = list(index)
    rows = np.frombuffer(rows, dtype=np.int64)
    try:
        as_int = np.array([int(x) for x in keys], dtype=np.int64)
    except (ValueError, TypeError, OverflowError):
        return keys, rows
    if any(str(a) != x for a, x in zip(as_int.tolist(), keys)):
        return keys, rows  # "007" and "7" are distinct ids: keep first-appearance order
    order = np.argsort(as_int, kind="stable")
    remap = np.empty(order.shape[0], dtype=np.int64)
    remap[order] = np.arange(order.shape[0])
    return [keys[j] for j in order], remap[rows]


def _from_id_arrays(user_ids, item_ids, ratings, timestamps, duplicates, source) -> Interactions:
    u = _as_id_array(user_ids)
    i = _as_id_array(item_ids)
    if u.shape != i.shape:
        raise InputFormatError(f"{u.shape[0]} user ids but {i.shape[0]} item ids", source)
    if u.size == 0:
        raise EmptyInputError(f"{source}: no interactions")
    users, urows = _ordered_ids(u)
    items, irows = _ordered_ids(i)
    values = None
    if ratings is not None:
        values = np.asarray(_to_numpy(ratings), dtype=np.float64).ravel()
    return Interactions.from_arrays(urows, irows, values, timestamps, users=users, items=items,
                                    duplicates=duplicates, source=source)


def _to_numpy(x):
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    if hasattr(x, "to_numpy"):
        x = x.to_numpy()
    return np.asarray(x)


def _as_id_array(x) -> np.ndarray:
    a = _to_numpy(x).ravel()
    if a.dtype.kind == "f":
        if not np.all(np.isfinite(a)) or not np.all(a == np.round(a)):
            raise InputFormatError("user and item ids must be integers or strings, not fractional numbers")
        a = a.astype(np.int64)
    elif a.dtype.kind == "O":
        a = np.array([str(v) if not isinstance(v, (int, np.integer)) else int(v) for v in a.tolist()],
                     dtype=object)
        if all(isinstance(v, int) for v in a.tolist()):
            a = a.astype(np.int64)
        else:
            a = a.astype(str)
    return a


def _from_frame(df, user_col, item_col, rating_col, timestamp_col, duplicates) -> Interactions:
    cols = list(df.columns)

    def column(spec, what):
        if spec is None:
            return None
        if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool) and spec not in cols:
            if not 0 <= spec < len(cols):
                raise InputFormatError(f"{what} column {spec} is out of range: the frame has {len(cols)} columns")
            return df.iloc[:, int(spec)]
        if spec not in cols:
            raise InputFormatError(f"{what} column {spec!r} is not in the frame (columns: "
                                   f"{', '.join(map(str, cols))})")
        return df[spec]

    ratings = column(rating_col, "rating")
    ts = column(timestamp_col, "timestamp")
    if ts is not None:
        t = _to_numpy(ts)
        if t.dtype.kind == "M":
            t = t.astype("datetime64[ns]").astype(np.int64) / 1e9
        ts = np.asarray(t, dtype=np.float64)
    if ratings is not None:
        r = np.asarray(_to_numpy(ratings), dtype=np.float64)
        bad = ~np.isfinite(r) | (r < 0)
        if bad.any():
            j = int(np.argmax(bad))
            raise InputFormatError(f"ratings must be finite numbers >= 0; row {j} has {r[j]!r}", "DataFrame")
        ratings = r
    return _from_id_arrays(column(user_col, "user"), column(item_col, "item"), ratings, ts, duplicates,
                           "DataFrame")


def _from_sparse(m) -> Interactions:
    import scipy.sparse as sp

    m = sp.csr_matrix(m)
    m.sum_duplicates()
    m.eliminate_zeros()
    m.sort_indices()
    if m.nnz == 0:
        raise EmptyInputError("the sparse matrix has no non-zero entries")
    data = np.asarray(m.data, dtype=np.float64)
    _check_values(data, "sparse matrix")
    return Interactions(indptr=m.indptr.astype(np.int64), indices=m.indices.astype(np.int32),
                        values=data.astype(np.float32), users=list(range(m.shape[0])),
                        items=list(range(m.shape[1])), explicit=False, source="sparse matrix")


def _sniff_delimiter(delimiter: str | None, first: str) -> str:
    """``delimiter``, or the first of ``::``, tab, comma, semicolon in ``first``; "" = blanks."""
    if delimiter is not None:
        return "" if delimiter.isspace() else delimiter
    return next((d for d in ("::", "\t", ",", ";") if d in first), "")


def _split_fn(delimiter: str | None, first: str = ""):
    """A line splitter for ``delimiter`` (None: sniffed from ``first``, see :func:`_sniff_delimiter`)."""
    delimiter = _sniff_delimiter(delimiter, first)
    if delimiter == "":
        return lambda s: s.split()
    return lambda s: [p.strip() for p in s.split(delimiter)]


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _parse_time(s: str) -> float:
    try:
        return float(s)
    except ValueError:
        return datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()


def _data_lines(path: Path, comments: str):
    """(line number, stripped text) of every non-blank, non-comment line (through the shared
    opener: BOM dropped, undecodable bytes and read errors named with the line)."""
    for lineno, line in text_lines(path):
        s = line.strip()
        if s and s[0] not in comments:
            yield lineno, s


#: column names that mark a lone first line as a header (compared in lower case)
COLUMN_NAMES = frozenset({"user", "item", "rating", "timestamp", "userid", "itemid", "movieid", "user_id",
                          "item_id", "movie_id", "score", "count", "time", "weight"})


def _read_table(path: Path, user_col, item_col, rating_col, timestamp_col, delimiter, header, duplicates,
                comments) -> Interactions:
    lines = _data_lines(path, comments)
    first = next(lines, None)
    if first is None:
        raise EmptyInputError(f"{path}: no interactions found (the file is empty or holds only comments)")
    delimiter = _sniff_delimiter(delimiter, first[1])
    split = _split_fn(delimiter)
    specs = {"user": user_col, "item": item_col, "rating": rating_col, "timestamp": timestamp_col}
    named = any(isinstance(v, str) for v in specs.values())
    pending = [first]
    head_fields = split(first[1])
    if header is None:
        if named:
            header = True
        else:
            second = next(lines, None)
            if second is not None:
                pending.append(second)
            nxt = split(second[1]) if second else []
            # a header: every field a name, and the next line has numbers where numbers are
            # expected (numeric ids, or the rating / timestamp column)
            numeric_cols = [c for c in (user_col, item_col, rating_col, timestamp_col)
                            if isinstance(c, int) and c < len(nxt)]
            # (a lone line of column names is a header too: a file with no interactions)
            header = (not any(_is_number(f) for f in head_fields)
                      and (any(_is_number(nxt[c]) for c in numeric_cols)
                           or (second is None and any(f.lower() in COLUMN_NAMES for f in head_fields))))
    ncols = len(head_fields)
    if header:
        pending.pop(0)
        names = head_fields
    elif named:
        raise InputFormatError("columns are named (" + ", ".join(repr(v) for v in specs.values()
                                                                 if isinstance(v, str)) +
                               ") but header=False; name them by 0-based position", path)
    pos = {}
    for what, spec in specs.items():
        if spec is None:
            continue
        if isinstance(spec, str):
            if spec not in names:
                raise InputFormatError(f"{what} column {spec!r} is not in the header ({', '.join(names)})",
                                       path, first[0], first[1])
            pos[what] = names.index(spec)
        else:
            if isinstance(spec, bool) or not isinstance(spec, (int, np.integer)) or spec < 0:
                raise InvalidParameterError("read_interactions", f"{what}_col",
                                            "a 0-based column position or a header name", spec)
            if spec >= ncols:
                raise InputFormatError(f"{what} column {spec} is out of range: the line has {ncols} columns",
                                       path, first[0], first[1])
            pos[what] = int(spec)
    need = max(pos.values()) + 1
    ucol, icol = pos["user"], pos["item"]
    rcol, tcol = pos.get("rating"), pos.get("timestamp")
    fast = _read_numeric_body(path, ncols, ucol, icol, rcol, tcol, delimiter, first[0] if header else 0,
                              duplicates, comments)
    if fast is not None:
        return fast
    # ids become rows as they are read (a dict per column, rows in int64 arrays): no str object
    # per line, and no sort of millions of strings afterwards (20M lines: 2 GB and minutes before)
    uindex: dict[str, int] = {}
    iindex: dict[str, int] = {}
    urows = array("q")
    irows = array("q")
    ratings = array("d")
    times = array("d")

    def rows():
        yield from pending
        yield from lines

    for lineno, s in rows():
        parts = split(s)
        if len(parts) < need or len(parts) != ncols:
            raise InputFormatError(f"expected {ncols} columns like the first line, found {len(parts)}",
                                   path, lineno, s)
        u, i = parts[ucol], parts[icol]
        if not u or not i:
            raise InputFormatError("empty user or item id", path, lineno, s)
        urows.append(uindex.setdefault(u, len(uindex)))
        irows.append(iindex.setdefault(i, len(iindex)))
        if rcol is not None:
            try:
                r = float(parts[rcol])
            except ValueError:
                raise InputFormatError("rating is not a number", path, lineno, s) from None
            if not (r >= 0 and r != math.inf):  # also refuses NaN
                raise InputFormatError("ratings must be finite numbers >= 0", path, lineno, s)
            ratings.append(r)
        if tcol is not None:
            try:
                times.append(_parse_time(parts[tcol]))
            except ValueError:
                raise InputFormatError("timestamp is neither a number nor an ISO date", path, lineno, s) from None
    if not urows:
        raise EmptyInputError(f"{path}: no interactions found (only a header line)")
    users, urow = _ordered_index(uindex, urows)
    items, irow = _ordered_index(iindex, irows)
    values = np.frombuffer(ratings, dtype=np.float64) if rcol is not None else None
    stamps = np.frombuffer(times, dtype=np.float64) if tcol is not None else None
    inter = Interactions.from_arrays(urow, irow, values, stamps, users=users, items=items, duplicates=duplicates,
                                     source=str(path))
    logger.info("read %s: %s", path, inter)
    return inter


def _read_numeric_body(path: Path, ncols, ucol, icol, rcol, tcol, delimiter, skip_lines, duplicates,
                       comments) -> Interactions | None:
    """The table read in vectorised blocks when its body is all numbers with integer ids
    (:mod:`._numeric_table`), else ``None`` (the line reader then reads it, naming any bad line)."""
    values = read_numeric_table(path, (ucol, icol), ncols=ncols, delimiter=delimiter, skip_lines=skip_lines,
                                comments=comments)
    if values is None:
        return None
    ratings = None if rcol is None else values[:, rcol].astype(np.float64)
    if ratings is not None and not np.all(np.isfinite(ratings) & (ratings >= 0)):
        return None
    stamps = None if tcol is None else values[:, tcol].astype(np.float64)
    user_ids, urow = dense_ids(values[:, ucol])
    item_ids, irow = dense_ids(values[:, icol])
    inter = Interactions.from_arrays(urow, irow, ratings, stamps, users=user_ids.astype(str).tolist(),
                                     items=item_ids.astype(str).tolist(), duplicates=duplicates, source=str(path))
    logger.info("read %s: %s", path, inter)
    return inter


def _read_lists(path: Path, delimiter, comments) -> Interactions:
    uids: list[str] = []
    iids: list[str] = []
    all_users: list[str] = []
    split = None
    for lineno, s in _data_lines(path, comments):
        if split is None:
            split = _split_fn(delimiter, s)
        parts = split(s)
        if any(not p for p in parts):
            raise InputFormatError("empty id", path, lineno, s)
        all_users.append(parts[0])
        uids.extend([parts[0]] * (len(parts) - 1))
        iids.extend(parts[1:])
    if not uids:
        raise EmptyInputError(f"{path}: no interactions found")
    # users listed without items keep their place in the id map
    u_all = np.array(all_users + uids)
    users, urows = _ordered_ids(u_all)
    items, irows = _ordered_ids(np.array(iids))
    inter = Interactions.from_arrays(urows[len(all_users):], irows, users=users, items=items, explicit=False,
                                     source=str(path))
    logger.info("read %s: %s", path, inter)
    return inter
