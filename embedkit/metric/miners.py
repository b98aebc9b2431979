"""Triplet miners: which ``(anchor, positive, negative)`` triplets of a batch the loss sees.

A batch is ``m`` embeddings and two boolean ``(m, m)`` relations: ``pos[a, p]`` (``p`` may serve
as a positive of ``a``) and ``neg[a, n]`` (``n`` may serve as a negative of ``a``). Labelled items
give them by label (:func:`label_masks`: share a label / share none), similar pairs by lookup
(:func:`pair_masks`: a known pair / any other key). A valid triplet has ``pos[a, p]`` and
``neg[a, n]``; every miner returns only valid triplets.

``d`` below is a distance, smaller = closer (a similarity such as the cosine is negated by the
caller); ``gap = d(a, n) - d(a, p)``.

* ``all``: every valid triplet of the batch.
* ``random``: for each positive pair ``(a, p)``, one negative drawn uniformly among ``a``'s.
* ``semihard``: the valid triplets with ``0 < gap <= margin``: the negative is farther than the
  positive but inside the margin (Schroff, Kalenichenko & Philbin, "FaceNet", CVPR 2015).
* ``batch_hard``: for each anchor, its farthest positive and its closest negative (Hermans, Beyer
  & Leibe, "In Defense of the Triplet Loss for Person Re-Identification", 2017).

These are pytorch-metric-learning's ``TripletMarginMiner(type_of_triplets="semihard")`` and
``BatchHardMiner`` (Musgrave, Belongie & Lim 2020), written over the two relations instead of
class labels so that similar pairs can be mined too; on labelled batches they return the same
triplets (tests/test_metric.py checks it). Given triplets (``anchor positive negative`` files) are
filtered per triplet instead: :func:`mine_given`.
"""
from __future__ import annotations

from ..exceptions import InvalidParameterError

MINERS = ("all", "random", "semihard", "batch_hard")


def label_masks(rows, indptr, indices):
    """``(pos, neg)`` for the batch ``rows`` (int64 ``(m,)``) of items whose labels are the CSR
    ``(indptr, indices)``: ``pos`` = another item sharing a label, ``neg`` = an item sharing none.
    Tensors on ``rows``' device."""
    import torch

    m = rows.shape[0]
    starts = indptr[rows]
    counts = indptr[rows + 1] - starts
    total = int(counts.sum())
    slot = torch.repeat_interleave(torch.arange(m, device=rows.device), counts)
    offs = torch.arange(total, device=rows.device) - torch.repeat_interleave(torch.cumsum(counts, 0) - counts, counts) \
        + torch.repeat_interleave(starts, counts)
    _, col = torch.unique(indices[offs], return_inverse=True)
    onehot = torch.zeros(m, int(col.max()) + 1 if total else 1, device=rows.device)
    onehot[slot, col] = 1.0
    share = (onehot @ onehot.T) > 0
    eye = torch.eye(m, dtype=torch.bool, device=rows.device)
    return share & ~eye, ~share


def pair_codes(pairs, n_keys: int):
    """Sorted int64 codes ``a * n_keys + b`` of the pairs in both directions (for :func:`pair_masks`)."""
    import torch

    a, b = pairs[:, 0], pairs[:, 1]
    return torch.unique(torch.cat([a * n_keys + b, b * n_keys + a]))


def pair_masks(keys, codes, n_keys: int):
    """``(pos, neg)`` for a batch of key rows ``keys`` (int64 ``(m,)``, repeats allowed): ``pos`` = a
    known similar pair (``codes`` from :func:`pair_codes`), ``neg`` = a different key that is not."""
    import torch

    q = keys[:, None] * n_keys + keys[None, :]
    at = torch.searchsorted(codes, q).clamp_(max=codes.shape[0] - 1)
    known = codes[at] == q
    other = keys[:, None] != keys[None, :]
    return known & other, ~known & other


def mine(d, pos, neg, miner: str, margin: float = 0.0, generator=None):
    """Indices ``(a, p, n)`` (int64 tensors) of the triplets ``miner`` picks (module doc).

    ``d``: ``(m, m)`` distances, smaller = closer, without gradient; ``pos``, ``neg``: ``(m, m)`` bool;
    ``generator``: a torch generator on ``d``'s device (``random``).
    """
    import torch

    if miner == "batch_hard":
        a = torch.nonzero(pos.any(1) & neg.any(1)).squeeze(1)
        p = d[a].masked_fill(~pos[a], float("-inf")).argmax(1)
        n = d[a].masked_fill(~neg[a], float("inf")).argmin(1)
        return a, p, n
    a, p = torch.nonzero(pos, as_tuple=True)
    cand = neg[a]  # (pairs, m): the negatives of each positive pair's anchor
    if miner == "random":
        r = torch.rand(cand.shape, generator=generator, device=d.device).masked_fill_(~cand, -1.0)
        ok = cand.any(1)
        return a[ok], p[ok], r.argmax(1)[ok]
    if miner == "semihard":
        gap = d[a] - d[a, p][:, None]
        cand = cand & (gap > 0) & (gap <= margin)
    elif miner != "all":
        raise InvalidParameterError("mine", "miner", "one of " + ", ".join(map(repr, MINERS)), miner)
    t, n = torch.nonzero(cand, as_tuple=True)
    return a[t], p[t], n


def mine_given(d_ap, d_an, anchors, miner: str, margin: float = 0.0):
    """Which of a batch of given triplets the loss sees: int64 indices into the batch.

    ``d_ap``, ``d_an``: ``(B,)`` distances (smaller = closer) of each triplet's positive and
    negative; ``anchors``: ``(B,)`` anchor keys. ``all`` and ``random`` keep every triplet (given
    triplets are already a sample); ``semihard`` keeps ``0 < d_an - d_ap <= margin``;
    ``batch_hard`` keeps, for each anchor, its triplet with the smallest ``d_an - d_ap`` (a positive
    and a negative of two different triplets do not make a triplet: nothing says they compare).
    """
    import torch

    b = d_ap.shape[0]
    if miner in ("all", "random"):
        return torch.arange(b, device=d_ap.device)
    gap = d_an - d_ap
    if miner == "semihard":
        return torch.nonzero((gap > 0) & (gap <= margin)).squeeze(1)
    if miner != "batch_hard":
        raise InvalidParameterError("mine", "miner", "one of " + ", ".join(map(repr, MINERS)), miner)
    uniq, inv = torch.unique(anchors, return_inverse=True)
    hardest = torch.full((uniq.shape[0],), float("inf"), device=d_ap.device).scatter_reduce(0, inv, gap, "amin")
    idx = torch.arange(b, device=d_ap.device)
    cand = torch.where(gap == hardest[inv], idx, torch.full_like(idx, b))
    return torch.full((uniq.shape[0],), b, device=d_ap.device, dtype=idx.dtype).scatter_reduce(0, inv, cand, "amin")


__all__ = ["MINERS", "label_masks", "pair_codes", "pair_masks", "mine", "mine_given"]
