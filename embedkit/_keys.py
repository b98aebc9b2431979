"""Key lookup shared by Embeddings and Graph: a key is found as given or in its
string/integer form, so ``42`` and ``"42"`` name the same node."""
from __future__ import annotations

from typing import Hashable

import numpy as np


def lookup(index: dict, key: Hashable) -> int | None:
    """Row of ``key`` in ``index`` (key -> row), trying ``str(key)`` / ``int(key)`` too; None if absent."""
    i = index.get(key)
    if i is None:
        if isinstance(key, (int, np.integer)) and not isinstance(key, bool):
            i = index.get(str(int(key)))
        elif isinstance(key, str) and key.lstrip("-").isdigit():
            i = index.get(int(key))
    return i


def rows_of(index: dict, keys) -> np.ndarray:
    """Row of each of ``keys`` in ``index`` (as :func:`lookup` finds it), -1 where absent: int64 ``(n,)``."""
    keys = list(keys)
    return np.fromiter(((-1 if (r := lookup(index, k)) is None else r) for k in keys), dtype=np.int64,
                       count=len(keys))
