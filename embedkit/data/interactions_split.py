"""Train/test splits of user-item interactions for recommenders (:func:`split_interactions`)."""
from __future__ import annotations

import logging

import numpy as np

from ..exceptions import InvalidParameterError
from .interactions import Interactions
from .interactions_read import read_interactions

logger = logging.getLogger("embedkit")

SPLIT_METHODS = ("random", "leave_k_out", "temporal")


def split_interactions(inter, method: str = "random", test_fraction: float = 0.2, k: int = 1,
                       seed: int = 0) -> tuple[Interactions, Interactions]:
    """Split interactions into ``(train, test)`` on the same user and item id maps.

    ``method``:

    * ``"random"``: ``round(test_fraction * nnz)`` interactions drawn uniformly go to test;
    * ``"leave_k_out"``: ``k`` random interactions of every user with more than ``k`` go to
      test (users with ``k`` or fewer stay whole in train);
    * ``"temporal"``: the latest ``test_fraction`` of all interactions by timestamp go to test
      (one global cut-off; ties keep file order; needs timestamps).

    Cold start: a user or item whose every interaction went to test keeps its id (a model
    gives it an untrained, zero or popularity score). Their numbers are logged and recorded in
    ``test.meta["cold_start"]`` (``users``, ``items``, ``interactions``);
    :func:`embedkit.evaluate.ranking` leaves cold users out of the averages and reports them.
    Deterministic for a given ``seed``.

    >>> import embedkit as ek
    >>> inter = ek.read_interactions(([0, 0, 0, 1, 1, 1], [0, 1, 2, 0, 1, 2]))
    >>> train, test = ek.split_interactions(inter, "leave_k_out", k=1, seed=0)
    >>> train.nnz, test.nnz, test.user_counts().tolist()
    (4, 2, [1, 1])
    """
    inter = read_interactions(inter)
    if method not in SPLIT_METHODS:
        raise InvalidParameterError("split_interactions", "method", "one of " + ", ".join(map(repr, SPLIT_METHODS)),
                                    method)
    if method in ("random", "temporal") and (isinstance(test_fraction, bool) or
                                              not isinstance(test_fraction, (float, int))
                                              or not 0.0 < test_fraction < 1.0):
        raise InvalidParameterError("split_interactions", "test_fraction", "a number > 0 and < 1", test_fraction)
    if method == "leave_k_out" and (isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1):
        raise InvalidParameterError("split_interactions", "k", "an integer >= 1", k)
    rng = np.random.default_rng(seed)
    n = inter.nnz
    test = np.zeros(n, dtype=bool)
    if method == "random":
        want = int(round(test_fraction * n))
        test[rng.permutation(n)[:want]] = True
    elif method == "temporal":
        if inter.timestamps is None:
            raise InvalidParameterError("split_interactions", "method", "'random' or 'leave_k_out' for "
                                        "interactions without timestamps", method,
                                        hint="read them with timestamp_col=...")
        want = int(round(test_fraction * n))
        # entries are stored by (user, item); a stable sort by time keeps that order on ties
        order = np.argsort(inter.timestamps, kind="stable")
        test[order[n - want:]] = True
    else:
        counts = inter.user_counts()
        # a random rank inside each user's entries: the k lowest go to test
        owner = inter.user_of_entry()
        order = np.lexsort((rng.random(n), owner))
        rank = np.empty(n, dtype=np.int64)
        rank[order] = np.arange(n) - inter.indptr[owner[order]]
        test = (rank < k) & (counts[owner] > k)
    train_i, test_i = inter.select(~test), inter.select(test)
    cold_users = int(np.count_nonzero((train_i.user_counts() == 0) & (test_i.user_counts() > 0)))
    item_train = train_i.item_counts()
    cold_items_mask = (item_train == 0) & (test_i.item_counts() > 0)
    cold_inter = int(np.count_nonzero(cold_items_mask[test_i.indices]))
    test_i.meta["cold_start"] = {"users": cold_users, "items": int(cold_items_mask.sum()), "interactions":
                                 cold_inter}
    test_i.meta["split"] = {"method": method, "seed": seed,
                            **({"k": k} if method == "leave_k_out" else {"test_fraction": test_fraction})}
    logger.info("split_interactions(%s): %d train, %d test; cold start: %d users, %d items only in test",
                method, train_i.nnz, test_i.nnz, cold_users, int(cold_items_mask.sum()))
    return train_i, test_i
