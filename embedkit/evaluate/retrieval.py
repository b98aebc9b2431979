"""Metric-learning evaluators: triplet accuracy and same-label retrieval.

``retrieval`` ranks, for every labelled key (the query), every other labelled key by distance and
asks whether items sharing a label with the query come first. Per query with ``R`` relevant items
(other keys sharing a label with it) and ``hits[r]`` = the item at rank ``r`` is relevant:

* ``recall@k``: 1 if a relevant item is among the ``k`` nearest, else 0 -- the Recall@K of the
  metric-learning literature (Song et al. 2016; Musgrave et al., "A Metric Learning Reality Check",
  2020), which the recommender evaluator calls ``hit_rate@k``;
* ``precision@k``: relevant items among the ``k`` nearest, / ``k``;
* ``map``: average precision over the whole ranking (sum of precision@r at each hit, / ``R``);
* ``map@r``: MAP@R (Musgrave et al. 2020): the same sum over the first ``R`` ranks only, / ``R``.

The sums per ``k`` are :func:`embedkit.evaluate.ranking.topk_sums`, the recommenders' math.
Queries without any relevant item are left out (counted in ``queries_without_relevant``);
labelled keys without a vector are counted in ``missing_keys``, left out and warned about; when fewer
than half of them (:data:`embedkit._overlap.MIN_OVERLAP`) have a vector -- or, in
:func:`triplet_accuracy`, fewer than half of the triplets have all three keys -- the labels and the
vectors do not belong together and :class:`~embedkit.exceptions.InputMismatchError` is raised.
Ties in distance are broken by row order.
"""
from __future__ import annotations

import logging
from typing import Iterable

import numpy as np

from .._keys import rows_of
from .._overlap import check_overlap, describe
from .._progress import track
from .._validation import Param
from ..exceptions import EmptyInputError, InvalidParameterError
from ._metrics import Metrics
from ..data.metric import read_metric_data
from ._registry import evaluator
from .ranking import _ks, topk_sums

logger = logging.getLogger("embedkit")

DISTANCES = ("cosine", "euclidean")


def _check_distance(where: str, distance: str) -> None:
    if distance not in DISTANCES:
        raise InvalidParameterError(where, "distance", "one of " + ", ".join(map(repr, DISTANCES)), distance)


def _scores(q: np.ndarray, x: np.ndarray, distance: str) -> np.ndarray:
    """Higher = closer: cosine similarity, or minus the squared Euclidean distance."""
    if distance == "cosine":
        return q @ x.T
    return 2.0 * (q @ x.T) - (x * x).sum(1)[None, :] - (q * q).sum(1)[:, None]


def _same_label(md, have: np.ndarray):
    """A function: query rows (into ``have``) -> bool ``(B, len(have))``, True where two keys share a label."""
    if md.single_label:
        y = md.label_indices[md.label_indptr[have]]
        return lambda qi: y[qi][:, None] == y[None, :]
    import scipy.sparse as sp

    onehot = sp.csr_matrix((np.ones(md.label_indices.shape[0], np.float32), md.label_indices, md.label_indptr),
                           shape=(md.num_keys, len(md.label_names)))[have]
    return lambda qi: (onehot[qi] @ onehot.T).toarray() > 0


DISTANCE = Param("distance", str, "cosine", "1 - cosine similarity, or the euclidean distance", choices=DISTANCES)
TRIPLET_PARAMS = (DISTANCE,)
RETRIEVAL_PARAMS = (
    Param("k", int, (1, 5, 10), "list lengths: recall@k and precision@k for each", low=1, multiple=True),
    DISTANCE,
    Param("batch_size", int, None, "queries ranked at a time (None: about 4M scores a block)", low=1, nullable=True),
)


@evaluator("triplets", TRIPLET_PARAMS)
def triplet_accuracy(emb, triplets, distance: str = "cosine") -> Metrics:
    """The fraction of triplets ``(a, p, n)`` with ``d(a, p) < d(a, n)`` (ties count as wrong).

    ``triplets``: anything :func:`embedkit.metric.read_metric_data` reads as triplets (a file of
    ``anchor positive negative`` lines, an ``(n, 3)`` array or list of keys). ``distance``:
    ``"cosine"`` (1 - cosine similarity) or ``"euclidean"``. Triplets with a key ``emb`` lacks are
    left out, counted and warned about; when fewer than half are left
    (:data:`embedkit._overlap.MIN_OVERLAP`), :class:`~embedkit.exceptions.InputMismatchError`. Returns ``accuracy`` (primary), ``triplets`` (scored), ``oov_triplets``
    and ``coverage``.

    >>> import embedkit as ek
    >>> emb = ek.Embeddings(["cat", "kitten", "car"], [[1, 0], [0.9, 0.1], [0, 1]])
    >>> ek.evaluate.triplet_accuracy(emb, [("cat", "kitten", "car"), ("cat", "car", "kitten")])["accuracy"]
    0.5
    """
    _check_distance("triplet_accuracy", distance)
    md = read_metric_data(triplets, "triplets")
    rows = rows_of(emb.key_to_index, md.keys)[md.triplets]
    ok = (rows >= 0).all(1)
    check_overlap("triplet_accuracy", int(ok.sum()), int(ok.shape[0]), items="triplets (all three keys)",
                  of=md.source, found_in=describe(emb, "the embeddings"),
                  hint="Check that the triplets use the keys of these vectors")
    a, p, n = rows[ok].T
    x = emb._unit_vectors() if distance == "cosine" else emb.vectors
    ap = np.einsum("ij,ij->i", x[a], x[p]) if distance == "cosine" else -np.linalg.norm(x[a] - x[p], axis=1)
    an = np.einsum("ij,ij->i", x[a], x[n]) if distance == "cosine" else -np.linalg.norm(x[a] - x[n], axis=1)
    total = int(md.triplets.shape[0])
    scored = int(ok.sum())
    out = {"accuracy": float(np.mean(ap > an)), "triplets": scored, "oov_triplets": total - scored,
           "coverage": scored / total}
    return Metrics(out, primary="accuracy")


@evaluator("retrieval", RETRIEVAL_PARAMS)
def retrieval(emb, labels, k: int | Iterable[int] = (1, 5, 10), distance: str = "cosine", *,
              batch_size: int | None = None) -> Metrics:
    """Same-label retrieval: ``recall@k``, ``precision@k``, ``map`` and ``map@r`` (module doc).

    ``labels``: a dict ``key -> label`` (or ``key -> list of labels``: relevant = shares one),
    ``{"keys": keys, "labels": y}``, or a ``key label [label ...]`` file: anything
    :func:`embedkit.metric.read_metric_data` reads as labels. Every labelled key with a vector is a
    query and is searched for, the query itself excluded. ``distance``: ``"cosine"`` (default) or
    ``"euclidean"``. ``batch_size`` queries are ranked at a time (default: about 4M scores a block).
    Primary metric: ``recall@`` the first ``k``.

    >>> import embedkit as ek
    >>> emb = ek.Embeddings(list("abcd"), [[1, 0], [0.9, 0.2], [0, 1], [0.1, 1]])
    >>> m = ek.evaluate.retrieval(emb, {"a": 0, "b": 0, "c": 1, "d": 1}, k=1)
    >>> m["recall@1"], m["map"]
    (1.0, 1.0)
    """
    _check_distance("retrieval", distance)
    ks = _ks(k)
    md = read_metric_data(labels, "labels")
    rows = rows_of(emb.key_to_index, md.keys)
    have = np.flatnonzero(rows >= 0)
    check_overlap("retrieval", int(have.shape[0]), int(md.num_keys), items="labelled keys", of=md.source,
                  found_in=describe(emb, "the embeddings"), hint="Check that the labels use the keys of these vectors")
    if have.shape[0] < 2:
        raise EmptyInputError(f"{md.source}: fewer than 2 labelled keys have a vector (check the keys)")
    x = emb._unit_vectors()[rows[have]] if distance == "cosine" else emb.vectors[rows[have]]
    n = have.shape[0]
    same_label = _same_label(md, have)
    kmax = max(ks)
    cut = sorted(set(ks) | {n - 1})  # n - 1: the whole ranking, for the full average precision
    sums: dict = {f"{name}@{x_}": 0.0 for x_ in ks for name in ("recall", "precision")}
    sums.update({"map": 0.0, "map@r": 0.0})
    n_queries = 0
    bs = batch_size or max(1, (1 << 22) // n)
    for s in track(range(0, n, bs), desc=f"retrieval {n} queries", unit="block"):
        qi = np.arange(s, min(s + bs, n))
        same = same_label(qi)
        same[np.arange(qi.shape[0]), qi] = False  # the query is not its own answer
        rel = same.sum(1)
        keep = rel > 0
        qi, same, rel = qi[keep], same[keep], rel[keep]
        if qi.shape[0] == 0:
            continue
        n_queries += qi.shape[0]
        scores = _scores(x[qi], x, distance)
        scores[np.arange(qi.shape[0]), qi] = -np.inf  # the query ranks last, and is cut off
        order = np.argsort(-scores, axis=1, kind="stable")[:, :n - 1]
        hits = np.take_along_axis(same, order, axis=1)
        if kmax > n - 1:  # fewer items than k: the missing ranks are misses
            hits = np.pad(hits, ((0, 0), (0, kmax - (n - 1))))
        part = topk_sums(hits, rel, cut)
        for x_ in ks:
            sums[f"recall@{x_}"] += part[f"hit_rate@{x_}"]
            sums[f"precision@{x_}"] += part[f"precision@{x_}"]
        sums["map"] += part[f"map@{n - 1}"]
        prec = np.cumsum(hits[:, :n - 1], axis=1) / np.arange(1, n)
        within_r = np.arange(n - 1)[None, :] < rel[:, None]
        sums["map@r"] += float(((prec * hits[:, :n - 1] * within_r).sum(1) / rel).sum())
    if n_queries == 0:
        raise EmptyInputError(f"{md.source}: no labelled key shares a label with another that has a vector")
    out = {name: v / n_queries for name, v in sums.items()}
    out.update(queries=n_queries, queries_without_relevant=int(n - n_queries), items=int(n),
               missing_keys=int(md.num_keys - n), distance=distance)
    if kmax >= n:
        logger.warning("retrieval: k=%d is not below the %d items searched; precision@k divides by k anyway", kmax, n)
    return Metrics(out, primary=f"recall@{ks[0]}")


__all__ = ["triplet_accuracy", "retrieval"]
