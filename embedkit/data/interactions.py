"""User-item interactions: the canonical :class:`Interactions` container.

Every accepted input is coerced to it once by :func:`read_interactions`
(:mod:`embedkit.data.interactions_read`); :func:`split_interactions`
(:mod:`embedkit.data.interactions_split`) makes train/test splits for recommenders.
Both stay importable from here.

Duplicate (user, item) pairs are merged by one documented rule (``duplicates``):
``"auto"`` keeps the **last** rating of a pair when ratings are read (the latest
by timestamp when there is a timestamp column, else the last in file order) and
**sums** the pair's weights when there are no ratings (each row then counts one
interaction, so the value is how often the user interacted with the item).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Hashable, Sequence

import numpy as np

from .._keys import lookup
from ..exceptions import EmptyInputError, InputFormatError, InvalidParameterError, KeyNotFoundError
from ._csr import row_pointers, run_starts

logger = logging.getLogger("embedkit")

DUPLICATE_RULES = ("auto", "sum", "last", "first", "max")


@dataclass
class Interactions:
    """Who interacted with what: a users x items matrix in compressed sparse row form.

    Attributes
    ----------
    indptr : int64 array, shape ``(U + 1,)``; user ``u``'s entries are ``indptr[u]:indptr[u + 1]``.
    indices : int32 array, shape ``(nnz,)``; item rows, sorted within each user, no duplicates.
    values : float32 array, shape ``(nnz,)``; the rating (``explicit``) or the interaction weight
        (a count, 1 for a positive).
    users, items : lists of ids, lengths ``U`` and ``I`` (str for files, the original objects otherwise).
        A user or item may have no entries (e.g. every rating fell below ``implicit_threshold``,
        or all of them went to the test side of a split): the id maps stay the same across a split.
    timestamps : float64 array ``(nnz,)`` (seconds) or None.
    explicit : whether ``values`` are ratings (``mf`` needs them) rather than implicit weights.
    meta : dict; a split's test side records its cold-start counts here.
    """

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray
    users: list
    items: list
    timestamps: np.ndarray | None = None
    explicit: bool = False
    source: str | None = None
    meta: dict = field(default_factory=dict)
    _user_index: dict | None = field(default=None, repr=False, compare=False)
    _item_index: dict | None = field(default=None, repr=False, compare=False)

    # ---- construction ------------------------------------------------------------
    @classmethod
    def from_arrays(
        cls,
        user_rows: Any,
        item_rows: Any,
        values: Any = None,
        timestamps: Any = None,
        *,
        users: Sequence[Hashable] | None = None,
        items: Sequence[Hashable] | None = None,
        explicit: bool | None = None,
        duplicates: str = "auto",
        source: str | None = None,
    ) -> "Interactions":
        """Build from integer row arrays, shape ``(n,)`` each: ``user_rows[j]`` interacted with
        ``item_rows[j]`` with value ``values[j]`` (default 1) at ``timestamps[j]``.

        ``users``/``items`` name the rows (default ``0..max``). ``explicit`` defaults to
        whether ``values`` were given. Duplicate pairs merge by ``duplicates`` (module doc).
        """
        if duplicates not in DUPLICATE_RULES:
            raise InvalidParameterError("read_interactions", "duplicates",
                                        "one of " + ", ".join(map(repr, DUPLICATE_RULES)), duplicates)
        u = np.asarray(user_rows, dtype=np.int64).ravel()
        i = np.asarray(item_rows, dtype=np.int64).ravel()
        if u.shape != i.shape:
            raise InputFormatError(f"{u.shape[0]} users but {i.shape[0]} items", source)
        if u.size == 0:
            raise EmptyInputError(f"{source or 'interactions'}: no interactions")
        n_users = len(users) if users is not None else int(u.max()) + 1
        n_items = len(items) if items is not None else int(i.max()) + 1
        if u.min() < 0 or u.max() >= n_users or i.min() < 0 or i.max() >= n_items:
            raise InputFormatError(f"user rows must lie in [0, {n_users}) and item rows in [0, {n_items})", source)
        if explicit is None:
            explicit = values is not None
        v = None  # all ones: no array, and a plain sort below
        if values is not None:
            v = np.asarray(values, dtype=np.float64).ravel()
            if v.shape != u.shape:
                raise InputFormatError(f"{v.shape[0]} values for {u.shape[0]} interactions", source)
            _check_values(v, source)
        ts = None
        if timestamps is not None:
            ts = np.asarray(timestamps, dtype=np.float64).ravel()
            if ts.shape != u.shape:
                raise InputFormatError(f"{ts.shape[0]} timestamps for {u.shape[0]} interactions", source)
        rule = duplicates if duplicates != "auto" else ("last" if explicit else "sum")
        key = u * n_items + i
        # order by pair, then by time (or file order) inside a pair; lexsort is stable
        if v is None and ts is None:
            key = np.sort(key)
        else:
            order = np.lexsort((ts, key)) if ts is not None else np.argsort(key, kind="stable")
            key = key[order]
            v = v[order] if v is not None else None
            ts = ts[order] if ts is not None else None
        start = np.flatnonzero(run_starts(key))
        uniq = key[start] if start.shape[0] != key.shape[0] else key
        if uniq.shape[0] != key.shape[0]:
            ndup = key.shape[0] - uniq.shape[0]
            end = np.append(start[1:], key.shape[0]) - 1
            if v is None:  # every value 1: a sum counts the pair's rows
                v = (end - start + 1).astype(np.float64) if rule == "sum" else np.ones(start.shape[0])
            elif rule == "sum":
                v = np.add.reduceat(v, start)
            elif rule == "max":
                v = np.maximum.reduceat(v, start)
            elif rule == "first":
                v = v[start]
            else:  # last
                v = v[end]
            if ts is not None:
                ts = ts[start] if rule == "first" else ts[end]
            logger.info("%s: %d duplicate (user, item) rows merged (%s)", source or "interactions", ndup, rule)
        if v is None:
            v = np.ones(uniq.shape[0], dtype=np.float32)
        indptr = row_pointers(uniq, n_users, n_items)
        cols = uniq % n_items
        return cls(indptr=indptr, indices=cols.astype(np.int32), values=v.astype(np.float32, copy=False),
                   users=list(users) if users is not None else list(range(n_users)),
                   items=list(items) if items is not None else list(range(n_items)),
                   timestamps=ts, explicit=bool(explicit), source=source)

    # ---- queries -----------------------------------------------------------------
    @property
    def num_users(self) -> int:
        return int(self.indptr.shape[0] - 1)

    @property
    def num_items(self) -> int:
        return len(self.items)

    @property
    def nnz(self) -> int:
        return int(self.indices.shape[0])

    def __len__(self) -> int:
        return self.nnz

    @property
    def shape(self) -> tuple[int, int]:
        return self.num_users, self.num_items

    @property
    def matrix(self):
        """The ``(U, I)`` scipy CSR matrix of ``values`` (float32)."""
        import scipy.sparse as sp

        return sp.csr_matrix((self.values, self.indices, self.indptr), shape=self.shape)

    def user_of_entry(self) -> np.ndarray:
        """User row of every stored entry, int64 ``(nnz,)``."""
        return np.repeat(np.arange(self.num_users, dtype=np.int64), np.diff(self.indptr))

    def user_counts(self) -> np.ndarray:
        """Entries per user, int64 ``(U,)``."""
        return np.diff(self.indptr)

    def item_counts(self) -> np.ndarray:
        """Entries per item (users who interacted with it), int64 ``(I,)``."""
        return np.bincount(self.indices, minlength=self.num_items).astype(np.int64)

    @property
    def user_index(self) -> dict:
        if self._user_index is None:
            self._user_index = {k: r for r, k in enumerate(self.users)}
        return self._user_index

    @property
    def item_index(self) -> dict:
        if self._item_index is None:
            self._item_index = {k: r for r, k in enumerate(self.items)}
        return self._item_index

    def user_row(self, user: Hashable) -> int:
        """Row of ``user`` (the id or its str/int form); KeyError names it when absent."""
        r = lookup(self.user_index, user)
        if r is None:
            raise KeyNotFoundError(f"user {user!r} is not in these interactions ({self.num_users} users)",
                                   key=user, keys=self.users)
        return r

    def item_row(self, item: Hashable) -> int:
        r = lookup(self.item_index, item)
        if r is None:
            raise KeyNotFoundError(f"item {item!r} is not in these interactions ({self.num_items} items)",
                                   key=item, keys=self.items)
        return r

    def items_of(self, user: Hashable) -> list:
        """The item ids ``user`` interacted with."""
        r = self.user_row(user)
        return [self.items[j] for j in self.indices[self.indptr[r]:self.indptr[r + 1]]]

    # ---- derived containers ----------------------------------------------------
    def select(self, mask: np.ndarray) -> "Interactions":
        """The entries where ``mask`` (bool ``(nnz,)``) is true, on the same user and item maps."""
        mask = np.asarray(mask, dtype=bool)
        counts = np.bincount(self.user_of_entry()[mask], minlength=self.num_users)
        indptr = np.zeros_like(self.indptr)
        np.cumsum(counts, out=indptr[1:])
        out = Interactions(indptr=indptr, indices=self.indices[mask], values=self.values[mask],
                           users=self.users, items=self.items,
                           timestamps=None if self.timestamps is None else self.timestamps[mask],
                           explicit=self.explicit, source=self.source)
        out._user_index, out._item_index = self._user_index, self._item_index
        return out

    def binarize(self, threshold: float | None = None) -> "Interactions":
        """Implicit positives: the entries with value ``>= threshold`` (all when None), each with
        value 1, on the same user and item maps."""
        mask = np.ones(self.nnz, dtype=bool) if threshold is None else self.values >= threshold
        out = self.select(mask)
        out.values = np.ones(out.nnz, dtype=np.float32)
        out.explicit = False
        return out

    def __repr__(self) -> str:
        kind = "ratings" if self.explicit else "implicit"
        return f"Interactions({self.num_users} users, {self.num_items} items, {self.nnz} {kind})"


def _check_values(v: np.ndarray, source) -> None:
    bad = ~np.isfinite(v) | (v < 0)
    if bad.any():
        j = int(np.argmax(bad))
        raise InputFormatError(f"ratings must be finite numbers >= 0; entry {j} is {v[j]!r}", source)


# the reader, the converters and the splits live in their own modules (which import this one);
# their names stay reachable from here, resolved on first use
_MOVED = {"interactions_read": ("read_interactions", "COLUMN_NAMES", "_ordered_ids", "_ordered_index",
                                "_from_id_arrays", "_to_numpy", "_as_id_array", "_from_frame", "_from_sparse",
                                "_sniff_delimiter", "_split_fn", "_is_number", "_parse_time", "_data_lines",
                                "_read_table", "_read_numeric_body", "_read_lists"),
          "interactions_split": ("split_interactions", "SPLIT_METHODS")}


def __getattr__(name: str):
    import importlib

    for module, names in _MOVED.items():
        if name in names:
            return getattr(importlib.import_module(f"{__package__}.{module}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
