"""CSR construction from sorted ``row * n_cols + col`` keys, shared by :class:`~embedkit.Graph`
and :class:`~embedkit.Interactions` (both sort their keys once, then use these)."""
from __future__ import annotations

import numpy as np


def run_starts(sorted_keys: np.ndarray) -> np.ndarray:
    """Bool ``(n,)``: True where a run of equal keys begins (a mask, 1 byte a key)."""
    first = np.empty(sorted_keys.shape[0], dtype=bool)
    if first.size:
        first[0] = True
        np.not_equal(sorted_keys[1:], sorted_keys[:-1], out=first[1:])
    return first


def row_pointers(sorted_keys: np.ndarray, n_rows: int, n_cols: int) -> np.ndarray:
    """int64 ``(n_rows + 1,)`` CSR ``indptr`` of distinct sorted ``row * n_cols + col`` keys."""
    return np.searchsorted(sorted_keys, np.arange(n_rows + 1, dtype=np.int64) * n_cols)
