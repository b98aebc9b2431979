"""Top-k ranking metrics and rating errors for recommenders.

Everything is computed per block of users with array operations (no Python loop per
user): a block's scores ``(B, I)``, seen items masked, the top ``max(k)`` kept, hits
looked up in the sorted test keys.

Definitions, per evaluated user with test items ``T`` and top-k list ``L`` (after
leaving out the items the user has in ``train``), averaged over the evaluated users:

* ``precision@k = |L & T| / k``; ``recall@k = |L & T| / |T|``;
* ``hit_rate@k = 1`` if ``L & T`` is not empty;
* ``ndcg@k = DCG / IDCG`` with ``DCG = sum over hits at rank r (1-based) of 1 / log2(r + 1)``
  and IDCG the DCG of ``min(k, |T|)`` hits at the top;
* ``map@k = sum over hits at rank r of precision@r, / min(k, |T|)``;
* ``coverage@k``: the fraction of the catalogue that appears in at least one top-k list.

Evaluated users have at least one test item and at least one training interaction.
Test users with no training interaction (cold start) are counted (``cold_start_users``)
and left out; test interactions on users or items the model does not know are counted
(``unknown_test_interactions``), dropped and warned about.

Inputs checked against the model (thresholds: :data:`embedkit._overlap.MIN_OVERLAP`, 50%):

* when fewer than half of the test interactions have a user and an item the model knows, the
  test set is of another data set: :class:`~embedkit.exceptions.InputMismatchError`;
* the model knows its training interactions (or, saved without them, a fingerprint of them,
  :func:`embedkit.recsys.model.seen_sketch`): when half or more of the test interactions are
  training interactions, train and test were swapped (``ranking(model, test, train)``) or the
  model was trained on the test set, and the call is refused; a smaller share is reported in
  ``test_in_train`` and warned about (those interactions can never be hits once seen items are
  left out).
"""
from __future__ import annotations

import logging
from typing import Iterable

import numpy as np

from .._keys import rows_of
from .._overlap import MIN_OVERLAP, check_overlap, describe
from ..exceptions import EmbedkitError, InputMismatchError, InvalidParameterError
from .._progress import track
from .._validation import Param
from ._metrics import Metrics
from ..engines.topk import mask_seen, topk, users_per_block
from ._registry import evaluator

logger = logging.getLogger("embedkit")


def _rows_in(keys: list, index: dict, same: bool) -> np.ndarray:
    if same:
        return np.arange(len(keys), dtype=np.int64)
    return rows_of(index, keys)


def align(inter, model) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """``inter`` in the model's user and item rows: CSR ``(indptr, indices, values)`` of shape
    ``(model users, model items)`` and the number of entries dropped because the model does not
    know their user or item (ids are matched as given or in str/int form)."""
    import scipy.sparse as sp

    same_u = inter.users is model.users.keys or inter.users == model.users.keys
    same_i = inter.items is model.items.keys or inter.items == model.items.keys
    if same_u and same_i:
        return inter.indptr, inter.indices, inter.values, 0
    urow = _rows_in(inter.users, model.users.key_to_index, same_u)
    irow = _rows_in(inter.items, model.items.key_to_index, same_i)
    r = urow[inter.user_of_entry()]
    c = irow[inter.indices]
    keep = (r >= 0) & (c >= 0)
    m = sp.csr_matrix((inter.values[keep], (r[keep], c[keep])), shape=(model.num_users, model.num_items))
    m.sum_duplicates()
    m.sort_indices()
    return m.indptr.astype(np.int64), m.indices.astype(np.int32), m.data.astype(np.float32), \
        int(np.count_nonzero(~keep))


def _ks(k) -> tuple[int, ...]:
    ks = (k,) if isinstance(k, (int, np.integer)) and not isinstance(k, bool) else tuple(k)
    if not ks or any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1 for x in ks):
        raise InvalidParameterError("ranking", "k", "an integer >= 1 or a sequence of them", k)
    return tuple(sorted(set(int(x) for x in ks), key=ks.index))


def topk_sums(hits: np.ndarray, relevant: np.ndarray, ks: Iterable[int]) -> dict[str, float]:
    """Sums over the rows of ``recall@k``, ``precision@k``, ``hit_rate@k``, ``ndcg@k`` and ``map@k``
    (definitions in the module doc) for every ``k`` in ``ks``.

    ``hits``: bool ``(B, K)``, ``hits[b, r]`` = the item at rank ``r + 1`` of row ``b``'s list is
    relevant, ``K >= max(ks)``; ``relevant``: ``(B,)`` relevant items of each row (``>= 1``). Shared
    by :func:`ranking` and :func:`~embedkit.evaluate.retrieval`.
    """
    kmax = max(ks)
    rel = np.asarray(relevant, dtype=np.float64)
    disc = 1.0 / np.log2(np.arange(2, kmax + 2))
    idcg_table = np.cumsum(disc)
    cum = np.cumsum(hits[:, :kmax], axis=1)
    out = {}
    for x in ks:
        h = hits[:, :x]
        nh = cum[:, x - 1].astype(np.float64)
        ideal = np.minimum(rel, x)
        out[f"recall@{x}"] = float((nh / rel).sum())
        out[f"precision@{x}"] = float(nh.sum() / x)
        out[f"hit_rate@{x}"] = float((nh > 0).sum())
        out[f"ndcg@{x}"] = float(((h * disc[:x]).sum(1) / idcg_table[ideal.astype(np.int64) - 1]).sum())
        prec_at = cum[:, :x] / np.arange(1, x + 1)
        out[f"map@{x}"] = float(((prec_at * h).sum(1) / ideal).sum())
    return out


RANKING_PARAMS = (
    Param("k", int, (10, 20), "list lengths: the metrics at each", low=1, multiple=True),
    Param("filter_seen", bool, True, "leave a user's training items out of its list"),
    # cli=False: `embedkit evaluate ranking` passes unknown options to the method, and bpr/mf have --batch-size
    Param("batch_size", int, None, "users ranked at a time (None: about 4M scores a block)", low=1, nullable=True,
          cli=False),
)


@evaluator("ranking", RANKING_PARAMS)
def ranking(model, train, test, k: int | Iterable[int] = (10, 20), *, filter_seen: bool = True,
            batch_size: int | None = None) -> Metrics:
    """Top-k metrics of ``model`` (a :class:`~embedkit.recsys.FactorModel`) on ``test``.

    ``train`` and ``test`` are :class:`~embedkit.Interactions` (or anything
    :func:`~embedkit.read_interactions` takes); every stored test entry is relevant. Items a
    user has in ``train`` are left out of their list (``filter_seen``; None uses the model's own
    training interactions). Returns ``recall@k``, ``precision@k``, ``ndcg@k``, ``map@k``,
    ``hit_rate@k`` and ``coverage@k`` for every ``k`` (primary: ``recall@`` the first ``k``),
    plus ``users`` (evaluated), ``cold_start_users``, ``test_interactions`` and
    ``unknown_test_interactions``. Definitions in the module doc. Users are scored in blocks
    of ``batch_size`` (default: as many as fit 256 MB of scores, at most 2048).

    >>> import embedkit as ek
    >>> inter = ek.read_interactions(([0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 0, 2]))
    >>> train, test = ek.split_interactions(inter, "leave_k_out", k=1, seed=0)
    >>> m = ek.evaluate.ranking(ek.train("popular", train), train, test, k=1)
    >>> m.primary, m["users"]
    ('recall@1', 3)
    """
    from ..data.interactions import read_interactions

    ks = _ks(k)
    kmax = max(ks)
    test_name = describe(test, "the test interactions")
    test = read_interactions(test)
    t_indptr, t_indices, _, unknown = align(test, model)
    check_overlap("ranking", int(test.nnz) - unknown, int(test.nnz),
                  items="test interactions (a user and an item the model knows)", of=test_name,
                  found_in=f"the {model.meta['method']} model" if model.meta.get("method") else "the model",
                  hint="Check that the model was trained on the same data set (ids compared as given and as "
                       "str/int)")
    overlap = model.seen_overlap(t_indptr, t_indices) if hasattr(model, "seen_overlap") else None
    if overlap is not None:
        share, checked, exact = overlap
        how = f"{checked} checked" if exact else f"estimated from the model's fingerprint on {checked} of them"
        if share >= MIN_OVERLAP:
            raise InputMismatchError(
                "ranking", round(share * checked), checked, items="test interactions", of=test_name,
                found_in="the model's training interactions", threshold=MIN_OVERLAP,
                message=f"ranking: {share:.1%} of the test interactions of {test_name} ({how}) are interactions "
                        "the model was trained on; were train and test swapped? Call ranking(model, train, test) "
                        "with the interactions the model was trained on as train, and evaluate on interactions it "
                        f"has not seen (refused from {MIN_OVERLAP:.0%})")
        if share > 0:
            logger.warning("ranking: %.1f%% of the test interactions of %s (%s) are training interactions of the "
                           "model; with filter_seen they can never be hits", 100 * share, test_name, how)
    if train is None:
        if model.seen is None:
            raise EmbedkitError("ranking: train is None and the model holds no training interactions")
        s_indptr, s_indices = model.seen
    else:
        s_indptr, s_indices, _, _ = align(read_interactions(train), model)
    n_items = model.num_items
    n_test = np.diff(t_indptr)
    n_train = np.diff(s_indptr)
    cold = (n_test > 0) & (n_train == 0)
    users = np.flatnonzero((n_test > 0) & (n_train > 0))
    test_keys = np.repeat(np.arange(model.num_users, dtype=np.int64), n_test) * n_items + t_indices
    sums = {f"{name}@{x}": 0.0 for x in ks for name in ("recall", "precision", "ndcg", "map", "hit_rate")}
    covered = {x: np.zeros(n_items, dtype=bool) for x in ks}
    batch_size = users_per_block(n_items, batch_size)
    for start in track(range(0, users.shape[0], batch_size), desc=f"ranking {users.shape[0]} users", unit="block"):
        rows = users[start:start + batch_size]
        scores = model.score_rows(rows)
        if filter_seen:
            mask_seen(scores, rows, s_indptr, s_indices)
        idx, val = topk(scores, min(kmax, n_items))
        valid = np.isfinite(val)
        if idx.shape[1] < kmax:  # fewer items than k: pad
            pad = kmax - idx.shape[1]
            idx = np.pad(idx, ((0, 0), (0, pad)), constant_values=-1)
            valid = np.pad(valid, ((0, 0), (0, pad)), constant_values=False)
        q = rows[:, None] * n_items + idx
        at = np.searchsorted(test_keys, q).clip(max=max(test_keys.shape[0] - 1, 0))
        hits = valid & (test_keys[at] == q) if test_keys.size else np.zeros_like(valid)
        for name, value in topk_sums(hits, n_test[rows], ks).items():
            sums[name] += value
        for x in ks:
            covered[x][idx[:, :x][valid[:, :x]]] = True
    n = max(int(users.shape[0]), 1)
    out: dict = {}
    for x in ks:
        for name in ("recall", "precision", "ndcg", "map", "hit_rate"):
            out[f"{name}@{x}"] = sums[f"{name}@{x}"] / n
        out[f"coverage@{x}"] = float(covered[x].mean())
    out.update(users=int(users.shape[0]), cold_start_users=int(cold.sum()), test_interactions=int(test.nnz),
               unknown_test_interactions=int(unknown))
    if overlap is not None:
        out["test_in_train"] = overlap[0]
    if users.shape[0] == 0:
        logger.warning("ranking: no test user has both test and training interactions; metrics are 0")
    return Metrics(out, primary=f"recall@{ks[0]}")


@evaluator("rating", ())
def rating(model, test) -> Metrics:
    """RMSE and MAE of an explicit model's (``mf``) predictions on the ratings in ``test``.

    A user or item the model does not know contributes no vector and no bias (the prediction
    falls back to the known biases, or the global mean); such ratings are counted in
    ``cold_start_ratings`` and included. Predictions are clipped to the training rating range.
    Returns ``rmse`` (primary), ``mae`` and ``ratings``.
    """
    from ..data.interactions import read_interactions

    if not getattr(model, "explicit", False):
        raise EmbedkitError(f"rating: the {model.meta.get('method', 'model')!r} model ranks items but does not "
                            "predict ratings; evaluate it with ranking(), or train 'mf'")
    test = read_interactions(test)
    if not test.explicit:
        raise EmbedkitError("rating: the test interactions hold no ratings; read them with rating_col=...")
    same_u = test.users is model.users.keys or test.users == model.users.keys
    same_i = test.items is model.items.keys or test.items == model.items.keys
    urow = _rows_in(test.users, model.users.key_to_index, same_u)[test.user_of_entry()]
    irow = _rows_in(test.items, model.items.key_to_index, same_i)[test.indices]
    pred = model.predict_rows(urow, irow).astype(np.float64)
    err = pred - test.values.astype(np.float64)
    return Metrics({"rmse": float(np.sqrt(np.mean(err ** 2))), "mae": float(np.mean(np.abs(err))),
                    "ratings": int(test.nnz), "cold_start_ratings": int(np.count_nonzero((urow < 0) | (irow < 0)))},
                   primary="rmse")
