"""The order an epoch reads the sequences in: the corpus cut into contiguous regions that advance
side by side, as word2vec.c's and fastText's threads each stream their own part of the file.

The learning rate decays with the position in the stream the kernel reads. Read in file order, a
corpus that is itself ordered (books one after the other, a crawl by site) trains its last part
at a learning rate near the end's: words that occur only there barely move from their random
start. With ``regions`` regions read piece by piece in turn, every part of the corpus meets the
whole range of learning rates, as it does in fastText with that many threads (whose regions are
its threads' shares of the file). Measured on Gutenberg 30 MB (books in order, 1 epoch, subword
units, 5 seeds): Stanford RW 0.216 in file order against 0.237 with 2 regions (docs/benchmarks.md).
"""
from __future__ import annotations

import numpy as np

from ..._jit import njit

#: tokens of one region read before the next region's turn (whole sequences: a piece ends at the
#: first sequence boundary at or after this many tokens from the region's previous piece)
PIECE_TOKENS = 10_000


@njit(cache=True)
def _gather(tokens, offsets, order, out_offsets, out):
    """``out[out_offsets[k]:out_offsets[k + 1]] = tokens[offsets[order[k]]:offsets[order[k] + 1]]``."""
    for k in range(order.shape[0]):
        s = order[k]
        src = offsets[s]
        dst = out_offsets[k]
        for t in range(offsets[s + 1] - src):
            out[dst + t] = tokens[src + t]


def region_order(offsets: np.ndarray, regions: int, piece_tokens: int = PIECE_TOKENS) -> np.ndarray:
    """The sequences' reading order (int64 ``(n_seq,)``, a permutation): the stream cut into
    ``regions`` contiguous regions of about equal tokens (at sequence boundaries), read as piece 0 of
    region 0, piece 0 of region 1, ..., piece 1 of region 0, ...; within a piece, file order.
    One region (or one sequence): file order."""
    offsets = np.asarray(offsets, dtype=np.int64)
    n_seq = offsets.size - 1
    total = int(offsets[-1]) if n_seq > 0 else 0
    if regions <= 1 or n_seq < 2 or total == 0:
        return np.arange(max(n_seq, 0), dtype=np.int64)
    starts = offsets[:-1]
    region = np.minimum(starts * regions // total, regions - 1)
    first = np.searchsorted(region, np.arange(regions), side="left")  # each region's first sequence
    piece = (starts - offsets[first[region]]) // max(int(piece_tokens), 1)
    return np.lexsort((np.arange(n_seq), region, piece)).astype(np.int64)


def interleave_regions(tokens: np.ndarray, offsets: np.ndarray, regions: int,
                       piece_tokens: int = PIECE_TOKENS) -> tuple[np.ndarray, np.ndarray]:
    """``tokens`` (int32 ``(n_tokens,)``) and ``offsets`` (int64 ``(n_seq + 1,)``) with the
    sequences in :func:`region_order`: a reordered copy of the stream (4 bytes a token, held while
    training), or the same arrays, not copies, when that is file order (``regions`` 1 returns at
    once: the walks and word-level methods pay nothing)."""
    if regions <= 1:
        return tokens, offsets
    order = region_order(offsets, regions, piece_tokens)
    if np.array_equal(order, np.arange(order.size)):
        return tokens, offsets
    offsets = np.asarray(offsets, dtype=np.int64)
    new_offsets = np.zeros_like(offsets)
    np.cumsum(np.diff(offsets)[order], out=new_offsets[1:])
    out = np.empty_like(tokens)
    _gather(tokens, offsets, order, new_offsets, out)
    return out, new_offsets
