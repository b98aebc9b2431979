"""Folding users into a trained recommender vs training with them (issue 20, item 3).

MovieLens-100k (``u.data``, ratings >= 4 as positives, random 80/20 split, seed 0). 100 users
with test items are drawn (seed 1) and left out of training; after training they are folded
in from their training interactions (``FactorModel.fold_in``). Their recall@10 / ndcg@10 on the
test split is compared with what the same 100 users get from a model trained with them (same
parameters, same seed). ``mf``: the explicit ratings of the official fold ``u1``, RMSE of the
100 users' test ratings the same way.

    python benchmarks/fold_in_movielens.py [--methods als,bpr,mf] [--users 100]

Needs ../shared/data/movielens-100k (never copied into the repo).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _recsys_data import load  # noqa: E402

import embedkit as ek  # noqa: E402

PARAMS = {
    "als": dict(dim=64, epochs=15, workers=1),
    "bpr": dict(dim=64, epochs=100, workers=1),
    "mf": dict(dim=64, epochs=40, workers=1),
}


def _subset(inter, keep_users: set, keep: bool):
    u = np.asarray(inter.users, dtype=object)[inter.user_of_entry()]
    i = np.asarray(inter.items, dtype=object)[inter.indices]
    mask = np.fromiter((x in keep_users for x in u), dtype=bool, count=u.shape[0])
    if not keep:
        mask = ~mask
    if inter.explicit:
        return ek.read_interactions((u[mask].tolist(), i[mask].tolist(), inter.values[mask].tolist()))
    return ek.read_interactions((u[mask].tolist(), i[mask].tolist()))


def run(method: str, n_users: int) -> dict:
    train, test = load("ml100k-u1" if method == "mf" else "ml100k")
    rng = np.random.default_rng(1)
    tested = [test.users[r] for r in np.flatnonzero(np.diff(test.indptr) > 0)]
    known = set(train.users)
    candidates = [u for u in tested if u in known]
    chosen = set(rng.choice(np.array(candidates, dtype=object), n_users, replace=False).tolist())
    test_sub = _subset(test, chosen, keep=True)
    t0 = time.perf_counter()
    full = ek.train(method, train, seed=0, verbose=False, **PARAMS[method])
    t_full = time.perf_counter() - t0
    t0 = time.perf_counter()
    partial = ek.train(method, _subset(train, chosen, keep=False), seed=0, verbose=False, **PARAMS[method])
    t_partial = time.perf_counter() - t0
    t0 = time.perf_counter()
    grown = partial.fold_in(_subset(train, chosen, keep=True))
    t_fold = time.perf_counter() - t0
    row = {"method": method, "users": n_users, "train_s_full": round(t_full, 2),
           "train_s_without": round(t_partial, 2), "fold_in_s": round(t_fold, 3)}
    if method == "mf":
        a = ek.evaluate.rating(full, test_sub)
        b = ek.evaluate.rating(grown, test_sub)
        row.update(rmse_trained_with=round(a["rmse"], 4), rmse_folded_in=round(b["rmse"], 4),
                   ratio=round(a["rmse"] / b["rmse"], 4))
    else:
        a = ek.evaluate.ranking(full, train, test_sub, k=10)
        b = ek.evaluate.ranking(grown, train, test_sub, k=10)
        row.update(recall_trained_with=round(a["recall@10"], 4), recall_folded_in=round(b["recall@10"], 4),
                   ndcg_trained_with=round(a["ndcg@10"], 4), ndcg_folded_in=round(b["ndcg@10"], 4),
                   ratio=round(b["recall@10"] / a["recall@10"], 4))
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="als,bpr,mf")
    ap.add_argument("--users", type=int, default=100)
    args = ap.parse_args()
    print("load average:", os.getloadavg())
    for method in args.methods.split(","):
        print(run(method, args.users), flush=True)
    print("load average:", os.getloadavg())


if __name__ == "__main__":
    main()
