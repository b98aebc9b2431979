"""Continuing a recommender (``init=``) vs retraining it, on MovieLens-100k in time order (issue 20).

Data: ``u.data``; ``als``/``bpr``: ratings >= 4 as positives, ``mf``: every rating. A random 20% of
them (seed 0) is the test split; the other 80% are sorted by timestamp: the model of "yesterday" is
trained on their first 90% (the users and items those hold), then "today" (all of them) is learned
four ways, side by side in one run:

* ``continue``: ``init=`` yesterday's model, a few epochs;
* ``continue+freeze``: the same with ``freeze_existing=True`` (old rows bit for bit);
* ``scratch, few``: from scratch with as few epochs (the control: what the init buys);
* ``retrain``: from scratch with the full epochs.

Reported: recall@10 / ndcg@10 on the test split (``mf``: RMSE), training seconds, and how stable
yesterday's item vectors are: the mean cosine of each old item's vector before and after (for the
retrain also after ``ek.align`` onto yesterday's item space, orthogonal Procrustes).

    python benchmarks/continue_movielens.py [--methods als,bpr,mf]

Needs ../shared/data/movielens-100k (never copied into the repo; EMBEDKIT_DATA overrides the folder).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
from _recsys_data import ML100K  # noqa: E402

import embedkit as ek  # noqa: E402

#: full epochs (the methods' defaults) and the continuation's few
PARAMS = {
    "als": (dict(dim=64, workers=1), 15, 3),
    "bpr": (dict(dim=64, workers=1), 100, 10),
    "mf": (dict(dim=64, workers=1), 40, 5),
}


def _triples(inter, mask):
    u = np.asarray(inter.users, dtype=object)[inter.user_of_entry()][mask]
    i = np.asarray(inter.items, dtype=object)[inter.indices][mask]
    return u, i, inter.values[mask], inter.timestamps[mask]


def data(method: str):
    """``(yesterday, today, test)``: Interactions holding only the users and items they have."""
    if method == "mf":
        inter = ek.read_interactions(ML100K / "u.data", rating_col=2, timestamp_col=3)
    else:
        inter = ek.read_interactions(ML100K / "u.data", rating_col=2, timestamp_col=3, implicit_threshold=4)
    rng = np.random.default_rng(0)
    is_test = rng.random(inter.nnz) < 0.2
    u, i, v, t = _triples(inter, ~is_test)
    order = np.argsort(t, kind="stable")
    first = np.zeros(u.shape[0], dtype=bool)
    first[order[:int(0.9 * u.shape[0])]] = True

    def make(mask, uu=u, ii=i, vv=v):
        if method == "mf":
            return ek.read_interactions((uu[mask].tolist(), ii[mask].tolist(), vv[mask].tolist()))
        return ek.read_interactions((uu[mask].tolist(), ii[mask].tolist()))

    tu, ti, tv, _ = _triples(inter, is_test)
    yesterday = make(first)
    known = set(yesterday.users)
    new_user = np.fromiter((x not in known for x in tu), dtype=bool, count=tu.shape[0])
    return (yesterday, make(np.ones(u.shape[0], dtype=bool)), make(np.ones(tu.shape[0], dtype=bool), tu, ti, tv),
            make(new_user, tu, ti, tv))


def _cosines(before, after) -> float:
    """Mean cosine of the old items' vectors (rows with a vector on both sides)."""
    rows = after.rows(before.keys)
    a, b = before.vectors, after.vectors[rows]
    na, nb = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    ok = (na > 0) & (nb > 0)
    return float(((a[ok] * b[ok]).sum(1) / (na[ok] * nb[ok])).mean())


def run(method: str) -> list[dict]:
    params, full, few = PARAMS[method]
    old, now, test, test_new = data(method)
    prev = ek.train(method, old, epochs=full, seed=0, verbose=False, **params)
    runs = [("continue", dict(init=prev, epochs=few)), ("continue+freeze", dict(init=prev, epochs=few,
                                                                                  freeze_existing=True)),
            ("scratch, few", dict(epochs=few)), ("retrain", dict(epochs=full))]
    rows = []
    for name, kw in runs:
        t0 = time.perf_counter()
        model = ek.train(method, now, seed=0, verbose=False, **params, **kw)
        seconds = time.perf_counter() - t0
        row = {"method": method, "run": name, "epochs": kw["epochs"], "backend": model.meta.get("backend", "torch"),
               "train_s": round(seconds, 2)}
        if method == "mf":
            row["rmse"] = round(ek.evaluate.rating(model, test)["rmse"], 4)
            row["rmse_new"] = round(ek.evaluate.rating(model, test_new)["rmse"], 4)
        else:
            m = ek.evaluate.ranking(model, now, test, k=10)
            row.update(recall=round(m["recall@10"], 4), ndcg=round(m["ndcg@10"], 4))
            row["recall_new"] = round(ek.evaluate.ranking(model, now, test_new, k=10)["recall@10"], 4)
        row["old_item_cos"] = round(_cosines(prev.items, model.items), 4)
        if "init" not in kw:
            row["old_item_cos_aligned"] = round(_cosines(prev.items, ek.align(prev.items, model.items)), 4)
        rows.append(row)
        print(row, flush=True)
    info = prev.meta
    print(f"# {method}: yesterday {old!r} ({info['train_time_s']:.2f} s), today {now!r}, test {test!r}, of the "
          f"users new today {test_new!r}", flush=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--methods", default="als,bpr,mf")
    args = ap.parse_args()
    print("# load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), flush=True)
    rows = []
    for method in args.methods.split(","):
        rows += run(method)
    print("# load after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print("| method | run | epochs | backend | train s | recall@10 | ndcg@10 | recall@10, new users | RMSE "
          "| RMSE, new users | old items' cosine to before | (aligned) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for r in rows:
        print(f"| {r['method']} | {r['run']} | {r['epochs']} | {r['backend']} | {r['train_s']} | {r.get('recall', '')} "
              f"| {r.get('ndcg', '')} | {r.get('recall_new', '')} | {r.get('rmse', '')} | {r.get('rmse_new', '')} "
              f"| {r['old_item_cos']} | {r.get('old_item_cos_aligned', '')} |")


if __name__ == "__main__":
    main()
