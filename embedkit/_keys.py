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


#: at most this many keys are compared with a missing one (the first ones: the most frequent in
#: word files), so that the message stays fast on millions of keys
HINT_SCAN = 200_000


def key_hint(key: Hashable, keys, n_examples: int = 5, n_close: int = 5) -> str:
    """What the keys look like, for a missing ``key``: ``"; keys look like 'a', 'b', ...; closest:
    'x', 'y'"`` (difflib's ratio over the first :data:`HINT_SCAN` keys, as strings)."""
    import difflib
    from itertools import islice

    sample = [str(k) for k in islice(keys, HINT_SCAN)]
    if not sample:
        return ""
    text = "; keys look like " + ", ".join(repr(k) for k in sample[:n_examples]) + (", ..." if len(sample) > n_examples
                                                                                   else "")
    close = difflib.get_close_matches(str(key), sample, n=n_close, cutoff=0.6)
    text += "; closest: " + ", ".join(repr(k) for k in close) if close else "; no close match"
    return text
