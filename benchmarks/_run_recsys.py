"""Child process: fit one recommender (embedkit or implicit) on one data set and print one
``RESULT`` JSON line with the fit time; the factors go to ``--output`` (.npz) for the driver
to score with the same evaluator.

Run by ``recsys_vs_implicit.py`` (one process per run, so peak RSS is per run). Both tools
get the same scipy CSR matrix from the same reader; reading is not part of the fit time.
"""
from __future__ import annotations

import argparse
import json
import time

from _child_common import parse_params, rss_mb  # noqa: E402  (benchmarks/ is on sys.path: run as a script)

import _recsys_data  # noqa: E402


def run_implicit(a, train) -> dict:
    import numpy as np
    from threadpoolctl import threadpool_limits

    extra = parse_params(a.param)
    confidence = extra.pop("confidence", None)
    conf = train.matrix
    if confidence is not None:  # embedkit's confidence 1 + confidence * r, given to implicit as its data
        conf.data = (1.0 + confidence * conf.data).astype(np.float32)
    with threadpool_limits(1, "blas"):  # what implicit asks for; embedkit does the same
        if a.method == "als":
            from implicit.cpu.als import AlternatingLeastSquares

            model = AlternatingLeastSquares(factors=a.dim, num_threads=a.workers, random_state=a.seed, **extra)
        else:
            from implicit.cpu.bpr import BayesianPersonalizedRanking

            model = BayesianPersonalizedRanking(factors=a.dim, num_threads=a.workers, random_state=a.seed, **extra)
        t0 = time.perf_counter()
        model.fit(conf, show_progress=False)
        fit_s = time.perf_counter() - t0
    U, V = np.asarray(model.user_factors), np.asarray(model.item_factors)
    bias = None
    if a.method == "bpr":  # implicit keeps the item bias as the last factor (users hold a 1 there)
        U, V, bias = U[:, :-1], V[:, :-1], V[:, -1]
    np.savez(a.output, users=U, items=V, **({} if bias is None else {"item_bias": bias}))
    return {"fit_s": fit_s}


def run_embedkit(a, train) -> dict:
    import numpy as np

    import embedkit as ek

    params = {"verbose": False} if a.method != "popular" else {}
    if a.method != "popular":
        params.update(dim=a.dim, seed=a.seed, workers=a.workers, device="cpu")
    params.update(parse_params(a.param))
    if params.get("backend") == "torch":  # warm-up: torch's first call pays its start-up; not counted
        ek.train(a.method, ek.read_interactions(([0, 1], [0, 1])), **{**params, "dim": 2})
    elif a.method in ("als", "bpr"):
        # the implicit side imports implicit before its timer starts; so does this side (the first
        # import costs about 0.1 s once per process, see docs/benchmarks.md)
        import implicit.cpu.als  # noqa: F401
        import implicit.cpu.bpr  # noqa: F401
    t0 = time.perf_counter()
    model = ek.train(a.method, train, **params)
    fit_s = time.perf_counter() - t0
    arrays = {"users": model.users.vectors, "items": model.items.vectors}
    for name in ("user_bias", "item_bias"):
        if getattr(model, name) is not None:
            arrays[name] = getattr(model, name)
    np.savez(a.output, global_bias=np.float32(model.global_bias), **arrays)
    return {"fit_s": fit_s, "backend": model.meta.get("backend")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", choices=("embedkit", "implicit"), required=True)
    ap.add_argument("--method", choices=("als", "bpr", "mf", "popular"), required=True)
    ap.add_argument("--data", required=True, help="ml100k, ml100k-u1 .. ml100k-u5 or gowalla")
    ap.add_argument("--output", required=True)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--param", action="append", default=[], help="name=value, passed to the method")
    a = ap.parse_args()
    t0 = time.perf_counter()
    train, _ = _recsys_data.load(a.data)
    read_s = time.perf_counter() - t0
    res = run_implicit(a, train) if a.tool == "implicit" else run_embedkit(a, train)
    res.update(read_s=read_s, rss_end_mb=rss_mb(), train=repr(train))
    print("RESULT " + json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
