"""Checks the evaluators share on the vectors they are given."""
from __future__ import annotations

import numpy as np

from .._overlap import describe
from ..exceptions import InputFormatError


def finite_rows(emb, rows: np.ndarray, where: str) -> np.ndarray:
    """``emb.vectors[rows]``, refused with :class:`InputFormatError` (naming the first bad key and
    the count) when a row holds NaN or inf: scikit-learn would fail deep inside, or rank by NaN."""
    X = emb.vectors[rows]
    bad = ~np.isfinite(X).all(axis=1)
    if bad.any():
        first = emb.keys[int(rows[np.flatnonzero(bad)[0]])]
        raise InputFormatError(f"{where}: {int(bad.sum())} of the {len(rows)} vectors used hold NaN or inf values "
                               f"(the first: key {first!r})", describe(emb, "") or None)
    return X
