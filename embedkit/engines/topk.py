"""Row-wise top-k over blocks of scores, shared by the recommenders (:meth:`FactorModel.recommend_many
<embedkit.FactorModel.recommend_many>`) and the ranking evaluator (:func:`embedkit.evaluate.ranking`):
how many users a block holds, leaving seen items out, and the selection itself."""
from __future__ import annotations

import numpy as np

#: batched queries score users in blocks of ``batch x items`` float32: at most this many users...
MAX_BATCH = 2048
#: ...and at most this many bytes of scores (100k items: 655 users a block, not 819 MB)
SCORE_BLOCK_BYTES = 256 << 20


def users_per_block(n_items: int, batch_size: int | None = None) -> int:
    """``batch_size`` if given, else the most users (up to :data:`MAX_BATCH`) whose float32
    scores against ``n_items`` items fit in :data:`SCORE_BLOCK_BYTES`."""
    if batch_size is not None:
        return int(batch_size)
    return int(max(1, min(MAX_BATCH, SCORE_BLOCK_BYTES // (4 * max(n_items, 1)))))


def mask_seen(scores: np.ndarray, rows: np.ndarray, indptr: np.ndarray, indices: np.ndarray) -> None:
    """Set ``scores[b, j] = -inf`` for every item ``j`` that user ``rows[b]`` has in the CSR
    ``(indptr, indices)``, in place, without a Python loop over users."""
    starts, ends = indptr[rows], indptr[rows + 1]
    counts = ends - starts
    total = int(counts.sum())
    if total == 0:
        return
    local = np.repeat(np.arange(rows.shape[0]), counts)
    offs = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts) + np.repeat(starts, counts)
    scores[local, indices[offs]] = -np.inf


def topk(scores: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise top ``k`` of a float32 ``(B, N)`` matrix, best first: int64 indices and values.

    torch.topk (multi-threaded) does the selection; ties are broken by torch, deterministically.
    """
    import torch

    t = torch.from_numpy(np.ascontiguousarray(scores))
    val, idx = torch.topk(t, k, dim=1, largest=True, sorted=True)
    return idx.numpy().astype(np.int64), val.numpy()
