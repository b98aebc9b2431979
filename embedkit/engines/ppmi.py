"""Shifted positive pointwise mutual information of a co-occurrence matrix.

Levy, Goldberg & Dagan, "Improving Distributional Similarity with Lessons
Learned from Word Embeddings", TACL 2015: context distribution smoothing
(``cds``, sec. 3.2) and the shift by ``log(pmi_shift)`` (sec. 3.1; their ``neg``), as their
``hyperwords`` code computes them (``counts2pmi.calc_pmi`` and
``PositiveExplicit``).
"""
from __future__ import annotations

import logging

import numpy as np

from .._lazy import lazy_module
from ..exceptions import InvalidParameterError

sp = lazy_module("scipy.sparse")  # imported on first use: import embedkit stays fast

logger = logging.getLogger("embedkit")


def ppmi(counts, pmi_shift: float = 1.0, cds: float = 0.75, dtype=np.float32, *, block: int = 4_000_000
         ) -> sp.csr_matrix:
    """Shifted PPMI of a word-context count matrix, shape ``(W, C)`` -> ``(W, C)`` CSR.

    ``PMI(w, c) = log( #(w, c) * sum_c' #(c')**cds / (#(w) * #(c)**cds) )`` where
    ``#(w)`` is the row sum, ``#(c)`` the column sum of ``counts``, then
    ``SPPMI(w, c) = max(PMI(w, c) - log(pmi_shift), 0)``. Only positive entries are
    stored. ``pmi_shift = 1`` (default) is plain PPMI; ``cds = 1`` no smoothing, 0.75
    (default) word2vec's smoothing of the context distribution.

    Computed in float64 on the stored entries (a zero count has PMI of minus
    infinity and stays out), ``block`` entries at a time; returned as ``dtype``
    with sorted indices.
    """
    if not pmi_shift >= 1.0:
        raise InvalidParameterError("ppmi", "pmi_shift", "a number >= 1 (the shift log(pmi_shift) is >= 0)",
                                    pmi_shift)
    if not 0.0 < cds <= 1.0:
        raise InvalidParameterError("ppmi", "cds", "a number > 0 and <= 1", cds)
    m = sp.csr_matrix(counts)
    m.sum_duplicates()
    n_rows, n_cols = m.shape
    row_sum = np.asarray(m.sum(axis=1), dtype=np.float64).ravel()
    col_sum = np.asarray(m.sum(axis=0), dtype=np.float64).ravel()
    with np.errstate(divide="ignore"):
        log_col = np.log(col_sum) * cds  # log(#c ** cds); -inf for empty columns, never indexed
        log_row = np.log(row_sum)
        log_total = np.log(np.sum(col_sum[col_sum > 0] ** cds))
    shift = np.log(pmi_shift)
    # row blocks of about ``block`` entries bound the float64 temporaries
    kept_per_row = np.zeros(n_rows, dtype=np.int64)
    values, columns = [], []
    r0 = 0
    while r0 < n_rows:
        r1 = int(np.searchsorted(m.indptr, m.indptr[r0] + block, side="right")) - 1
        r1 = min(n_rows, max(r1, r0 + 1))
        a, b = m.indptr[r0], m.indptr[r1]
        rows = np.repeat(np.arange(r0, r1), np.diff(m.indptr[r0:r1 + 1]))
        cols = m.indices[a:b]
        data = m.data[a:b].astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):  # a zero count: log 0 = -inf, dropped
            pmi = np.log(data) + (log_total - shift) - log_row[rows] - log_col[cols]
        keep = pmi > 0
        kept_per_row[r0:r1] = np.bincount(rows[keep] - r0, minlength=r1 - r0)
        values.append(pmi[keep].astype(dtype))
        columns.append(cols[keep])
        r0 = r1
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(kept_per_row, out=indptr[1:])
    out = sp.csr_matrix((np.concatenate(values) if values else np.empty(0, dtype),
                         np.concatenate(columns) if columns else np.empty(0, np.int32), indptr),
                        shape=(n_rows, n_cols))
    out.has_sorted_indices = True  # m's indices are sorted after sum_duplicates
    logger.info("ppmi: %d of %d entries positive (pmi_shift=%g, cds=%g)", out.nnz, m.nnz, pmi_shift, cds)
    return out


__all__ = ["ppmi"]
