"""Recommenders: embedkit (als, bpr, mf, popular) against implicit, in one run on one machine.

    .venv/bin/python benchmarks/recsys_vs_implicit.py [--rounds 3] [--sets ml100k,ml100k-folds,gowalla]

Data, read in place from ``../shared/data`` (``benchmarks/_recsys_data.py``):

1. MovieLens-100k, ratings >= 4 as implicit positives, random 80/20 split (seed 0):
   recall/ndcg/precision/map@10 and @20 for implicit ALS and BPR, embedkit's als and bpr
   (the default CPU backend, which is implicit's solver, and the torch backend on the CPU)
   and the popularity baseline. dim 64, everything else at each tool's defaults; one extra
   implicit ALS row gets embedkit's confidence ``1 + confidence * r`` (confidence 1) as its data, which
   is what embedkit's als computes (implicit's own default confidence is ``r``).
2. MovieLens-100k official folds u1..u5, explicit ratings: embedkit ``mf`` RMSE / MAE
   (implicit has no explicit-rating model).
3. Gowalla (NGCF/LightGCN split): recall@20, ndcg@20; implicit ALS/BPR, embedkit als/bpr,
   popularity, plus ``--gowalla-extra`` rows (settings chosen on a validation split of the
   training data, see docs/benchmarks.md).

Every fit is its own subprocess (``benchmarks/_run_recsys.py``; peak RSS from GNU time), on
``--workers`` threads; rounds are interleaved with a rotating order. Fit time is the ``fit``
call only (reading excluded, the same for both tools). All factors are scored afterwards by
the same evaluator, ``ek.evaluate.ranking`` (seen items filtered); implicit's own
``ranking_metrics_at_k`` is run on the same factors as a cross-check of ndcg@10.
Writes ``benchmarks/out/recsys_results.json`` and prints markdown.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _recsys_data  # noqa: E402
from node2vec_vs_pecanpy import loadavg, run_child, versions_embedkit  # noqa: E402

RUNS = {
    # name: (tool, method, params, label)
    "implicit-als": ("implicit", "als", [], "implicit ALS"),
    "implicit-als-c": ("implicit", "als", ["confidence=1.0"], "implicit ALS, confidence 1 + r"),
    "embedkit-als": ("embedkit", "als", [], "embedkit als (backend implicit)"),
    # torch on the CPU with 1 thread: on the shared 2-core machine 2 threads were several times slower
    "embedkit-als-torch": ("embedkit", "als", ["backend=torch", "workers=1"], "embedkit als (torch, CPU, 1 thread)"),
    "implicit-bpr": ("implicit", "bpr", [], "implicit BPR"),
    "embedkit-bpr": ("embedkit", "bpr", [], "embedkit bpr (backend implicit)"),
    "embedkit-bpr-torch": ("embedkit", "bpr", ["backend=torch", "workers=1"], "embedkit bpr (torch, CPU, 1 thread)"),
    "embedkit-popular": ("embedkit", "popular", [], "embedkit popular"),
}
GOWALLA_RUNS = ["implicit-als", "embedkit-als", "implicit-bpr", "embedkit-bpr", "embedkit-popular"]


def _cmd(tool, method, params, data, out, a) -> list[str]:
    cmd = [sys.executable, str(HERE / "_run_recsys.py"), "--tool", tool, "--method", method, "--data", data,
           "--output", str(out), "--dim", str(a.dim), "--workers", str(a.workers), "--seed", "0"]
    for p in params:
        cmd += ["--param", p]
    return cmd


def _model(npz: Path, train):
    import numpy as np

    import embedkit as ek
    from embedkit.recsys.model import FactorModel

    z = np.load(npz, allow_pickle=False)
    return FactorModel(ek.Embeddings(train.users, z["users"]), ek.Embeddings(train.items, z["items"]),
                       user_bias=z["user_bias"] if "user_bias" in z else None,
                       item_bias=z["item_bias"] if "item_bias" in z else None,
                       global_bias=float(z["global_bias"]) if "global_bias" in z else 0.0, seen=train,
                       explicit="user_bias" in z, rating_range=(1, 5) if "user_bias" in z else None)


def _implicit_crosscheck(model, train, test) -> dict:
    """implicit's ranking_metrics_at_k on the same factors (its precision is hits / min(k, |T|))."""
    import numpy as np
    from implicit.cpu.als import AlternatingLeastSquares
    from implicit.evaluation import ranking_metrics_at_k

    from embedkit.evaluate.ranking import align

    U, V = model.users.vectors, model.items.vectors
    if model.item_bias is not None:
        U = np.hstack([U, np.ones((U.shape[0], 1), np.float32)])
        V = np.hstack([V, model.item_bias[:, None]])
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, "blas"):
        m = AlternatingLeastSquares(factors=U.shape[1])
    m.user_factors, m.item_factors = np.ascontiguousarray(U), np.ascontiguousarray(V)
    import scipy.sparse as sp

    ip, ii, iv, _ = align(test, model)
    test_csr = sp.csr_matrix((np.ones_like(iv), ii, ip), shape=(model.num_users, model.num_items))
    r = ranking_metrics_at_k(m, train.matrix, test_csr, K=10, show_progress=False, num_threads=1)
    return {"implicit_ndcg@10": float(r["ndcg"]), "implicit_precision@10": float(r["precision"]),
            "implicit_map@10": float(r["map"])}


def timed_runs(names, data, rounds, a, out_dir) -> dict:
    results: dict = {n: [] for n in names}
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            tool, method, params, _ = RUNS[name]
            out = out_dir / f"recsys.{data}.{name}.run{r}.npz"
            res = run_child(_cmd(tool, method, params, data, out, a), out.with_suffix(".log"))
            res["output"] = str(out)
            results[name].append(res)
            print(f"  {data} {name} round {r}: fit {res['fit_s']:.2f}s, peak RSS {res['peak_rss_mb']:.0f} MB",
                  flush=True)
    return results


def score(results, data, ks, crosscheck) -> None:
    import embedkit as ek

    train, test = _recsys_data.load(data)
    for name, runs in results.items():
        for res in runs:
            model = _model(Path(res["output"]), train)
            m = ek.evaluate.ranking(model, train, test, k=ks)
            res["metrics"] = dict(m)
            if crosscheck:
                res["metrics"].update(_implicit_crosscheck(model, train, test))


def mf_folds(a, out_dir) -> list[dict]:
    import embedkit as ek

    rows = []
    for fold in range(1, 6):
        data = f"ml100k-u{fold}"
        out = out_dir / f"recsys.{data}.embedkit-mf.npz"
        res = run_child(_cmd("embedkit", "mf", [], data, out, a), out.with_suffix(".log"))
        train, test = _recsys_data.load(data)
        m = ek.evaluate.rating(_model(out, train), test)
        res["metrics"] = dict(m)
        rows.append(res)
        print(f"  mf u{fold}: RMSE {m['rmse']:.4f}, fit {res['fit_s']:.2f}s", flush=True)
    return rows


def _med(runs, key):
    return statistics.median(r[key] for r in runs)


def _medm(runs, key):
    return statistics.median(r["metrics"][key] for r in runs)


def markdown(res: dict) -> str:
    lines = []
    if "ml100k" in res:
        runs = res["ml100k"]
        lines += ["### MovieLens-100k, ratings >= 4, random 80/20 (seed 0), dim 64", "",
                  "| model | recall@10 | ndcg@10 | precision@10 | map@10 | recall@20 | ndcg@20 | coverage@10 "
                  "| fit s (median) | peak RSS MB | ndcg@10 by implicit's evaluator |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for name, rr in runs.items():
            m = rr[0]["metrics"]
            lines.append(f"| {RUNS[name][3]} | {m['recall@10']:.4f} | {m['ndcg@10']:.4f} | {m['precision@10']:.4f} "
                         f"| {m['map@10']:.4f} | {m['recall@20']:.4f} | {m['ndcg@20']:.4f} | {m['coverage@10']:.3f} "
                         f"| {_med(rr, 'fit_s'):.2f} | {_med(rr, 'peak_rss_mb'):.0f} "
                         f"| {m.get('implicit_ndcg@10', float('nan')):.4f} |")
        lines.append("")
        for ek_name, ref in (("embedkit-als", "implicit-als"), ("embedkit-als-torch", "implicit-als"),
                             ("embedkit-bpr", "implicit-bpr"), ("embedkit-bpr-torch", "implicit-bpr")):
            if ek_name in runs and ref in runs:
                ratios = [e["fit_s"] / i["fit_s"] for e, i in zip(runs[ek_name], runs[ref])]
                q = runs[ek_name][0]["metrics"]["recall@10"] / runs[ref][0]["metrics"]["recall@10"]
                lines.append(f"- {RUNS[ek_name][3]} / {RUNS[ref][3]}: fit time x{statistics.median(ratios):.2f} "
                             f"(median of {len(ratios)} per-round ratios), recall@10 x{q:.3f}")
        lines.append("")
    if "ml100k-folds" in res:
        rows = res["ml100k-folds"]
        lines += ["### MovieLens-100k official folds u1..u5, explicit ratings: embedkit mf (dim 64, defaults)", "",
                  "| fold | RMSE | MAE | fit s |", "|---|---:|---:|---:|"]
        for k, r in enumerate(rows, 1):
            lines.append(f"| u{k} | {r['metrics']['rmse']:.4f} | {r['metrics']['mae']:.4f} | {r['fit_s']:.2f} |")
        lines.append(f"| mean | {statistics.mean(r['metrics']['rmse'] for r in rows):.4f} | "
                     f"{statistics.mean(r['metrics']['mae'] for r in rows):.4f} | "
                     f"{statistics.mean(r['fit_s'] for r in rows):.2f} |")
        lines.append("")
    if "gowalla" in res:
        runs = res["gowalla"]
        lines += ["### Gowalla (NGCF/LightGCN split), dim 64", "",
                  "| model | settings | recall@20 | ndcg@20 | recall@10 | fit s | peak RSS MB |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for name, rr in runs.items():
            m = rr[0]["metrics"]
            settings = " ".join(RUNS[name][2]) or "defaults"
            lines.append(f"| {RUNS[name][3]} | {settings} | {m['recall@20']:.4f} | {m['ndcg@20']:.4f} | "
                         f"{m['recall@10']:.4f} | {_med(rr, 'fit_s'):.1f} | {_med(rr, 'peak_rss_mb'):.0f} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds on MovieLens (Gowalla: 1)")
    ap.add_argument("--sets", default="ml100k,ml100k-folds,gowalla")
    ap.add_argument("--runs", default=",".join(RUNS), help="MovieLens runs: " + ", ".join(RUNS))
    ap.add_argument("--gowalla-extra", action="append", default=[],
                    help="extra Gowalla run NAME:tool:method:param=value,param=value (repeatable)")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    out_dir = HERE / "out"
    out_dir.mkdir(exist_ok=True)
    sets = a.sets.split(",")
    res: dict = {"versions": versions_embedkit(), "loadavg_start": loadavg(), "workers": a.workers}
    import implicit

    res["versions"]["implicit"] = implicit.__version__
    if "ml100k" in sets:
        names = a.runs.split(",")
        res["ml100k"] = timed_runs(names, "ml100k", a.rounds, a, out_dir)
        score(res["ml100k"], "ml100k", (10, 20), crosscheck=True)
    if "ml100k-folds" in sets:
        res["ml100k-folds"] = mf_folds(a, out_dir)
    if "gowalla" in sets:
        names = list(GOWALLA_RUNS)
        for spec in a.gowalla_extra:
            name, tool, method, params = spec.split(":")
            RUNS[name] = (tool, method, params.split(",") if params else [], f"{tool} {method}")
            names.append(name)
        res["gowalla"] = timed_runs(names, "gowalla", 1, a, out_dir)
        score(res["gowalla"], "gowalla", (10, 20), crosscheck=False)
    res["loadavg_end"] = loadavg()
    (out_dir / "recsys_results.json").write_text(json.dumps(res, indent=1, default=str))
    print(markdown(res))


if __name__ == "__main__":
    main()
