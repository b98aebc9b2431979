"""BPE-dropout segmentations, repeatable for a seed (a numba kernel).

Provilkov, Emelianenko & Voita, "BPE-Dropout: Simple and Effective Subword
Regularization" (ACL 2020): the BPE encoder runs as usual, but at every step each
candidate merge is skipped with probability ``dropout``; the word stops merging
when no candidate is left. sentencepiece samples this too, but its generator
cannot be seeded repeatably from Python (the same seed gives different samples in
two processes), so embedkit samples here: the merge table comes from the
sentencepiece model (:meth:`Tokenizer._pair_table`), the starting symbols from its
normalizer, and ``dropout=0`` gives exactly sentencepiece's segmentation (tested).
"""
from __future__ import annotations

import numpy as np
from .._jit import njit, prange

from ..engines._rng import next_float, seed_state


@njit(cache=True, parallel=True)
def _segment_kernel(sym_ptr, syms, keys, merged, ranks, width, dropout, seed, n_samples, out, out_len):
    """Segment word ``w`` (symbols ``syms[sym_ptr[w]:sym_ptr[w + 1]]``) ``n_samples`` times.

    Job ``s * W + w`` writes its pieces to ``out[s * len(syms) + sym_ptr[w]:]`` and their number to
    ``out_len[job]``. A pair ``(l, r)`` merges when ``l * width + r`` is in the sorted ``keys``; the
    lowest ``ranks`` merges first (the leftmost on ties), as sentencepiece's encoder does.
    """
    n_words = sym_ptr.shape[0] - 1
    total = syms.shape[0]
    n_keys = keys.shape[0]
    for job in prange(n_words * n_samples):
        s = job // n_words
        w = job - s * n_words
        state = seed_state(seed, job)
        a0 = sym_ptr[w]
        n = sym_ptr[w + 1] - a0
        base = s * total + a0
        for i in range(n):
            out[base + i] = syms[a0 + i]
        while n > 1:
            best = -1
            best_rank = np.int64(1) << 62
            best_piece = -1
            for i in range(n - 1):
                key = np.int64(out[base + i]) * width + out[base + i + 1]
                j = np.searchsorted(keys, key)
                if j >= n_keys or keys[j] != key:
                    continue
                if dropout > 0.0:
                    state, u = next_float(state)
                    if u < dropout:
                        continue
                if ranks[j] < best_rank:
                    best_rank = ranks[j]
                    best = i
                    best_piece = merged[j]
            if best < 0:
                break
            out[base + best] = best_piece
            for i in range(best + 1, n - 1):
                out[base + i] = out[base + i + 1]
            n -= 1
        out_len[job] = n


def segment(sym_ptr: np.ndarray, syms: np.ndarray, table: tuple, width: int, dropout: float, seed: int,
            n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR ``(ptr int64 (n_samples * W + 1,), ids int32)`` of ``n_samples`` segmentations of every word,
    sample-major (segmentation ``s * W + w``)."""
    keys, merged, ranks = table
    n_words = sym_ptr.shape[0] - 1
    out = np.empty(max(n_samples * syms.shape[0], 1), dtype=np.int32)
    out_len = np.zeros(n_samples * n_words, dtype=np.int64)
    if n_words and n_samples:
        _segment_kernel(sym_ptr, syms, keys, merged, ranks, np.int64(width), float(dropout), np.uint64(seed),
                        n_samples, out, out_len)
    ptr = np.zeros(n_samples * n_words + 1, dtype=np.int64)
    np.cumsum(out_len, out=ptr[1:])
    job_base = (np.arange(n_samples, dtype=np.int64)[:, None] * syms.shape[0] + sym_ptr[None, :-1]).ravel()
    idx = np.arange(int(ptr[-1]), dtype=np.int64) - np.repeat(ptr[:-1] - job_base, out_len)
    return ptr, out[idx]
