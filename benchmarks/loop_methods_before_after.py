"""ALS, BPR, MF and triplet before and after the shared training loop (issue 17), in one run.

    .venv/bin/python benchmarks/loop_methods_before_after.py [--before 568f8be] [--rounds 2]

The "before" tree is ``git archive <before> embedkit`` unpacked into a temporary folder; every fit
runs in its own subprocess with that tree (or this worktree) first on ``sys.path``, rounds
interleaved (before, after, after with ``checkpoint=``), one thread. Timed: the ``ek.train`` call.

* ``bpr``: MovieLens-100k, ratings >= 4, random 80/20 split (``_recsys_data.load("ml100k")``), dim 64,
  the defaults (100 epochs); implicit backend (and implicit's own ``fit``, one shot, as the peer) and
  torch backend (20 epochs, to keep the run short); recall@10 on the test split.
* ``als``: MovieLens-100k as for bpr, dim 64, the defaults (15 sweeps, implicit backend); recall@10.
* ``mf``: MovieLens-100k u1.base / u1.test, explicit ratings, the defaults (dim 64, 40 epochs); RMSE.
* ``triplet``: scikit-learn's digits (1797 x 64 features, 10 labels), the mlp encoder and the table
  encoder at the defaults (30 epochs); same-label recall@1 of the training keys.

Prints a markdown table with the load average (``os.getloadavg``) before and after; writes
``benchmarks/out/loop_methods_before_after.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

CHILD = r"""
import json, sys, time, tempfile
sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2])
import numpy as np
import embedkit as ek
import _recsys_data
case, ckpt = sys.argv[3], sys.argv[4] == "1"
extra = {"checkpoint": tempfile.mkdtemp()} if ckpt else {}
out = {}
if case.startswith("bpr") or case == "implicit-bpr":
    train, test = _recsys_data.load("ml100k")
    if case == "implicit-bpr":
        from implicit.cpu.bpr import BayesianPersonalizedRanking
        from embedkit.recsys._common import make_model
        t0 = time.perf_counter()
        m = BayesianPersonalizedRanking(factors=64, num_threads=1, random_state=0)
        m.fit(train.matrix, show_progress=False)
        out["fit_s"] = time.perf_counter() - t0
        model = make_model(train, m.user_factors[:, :64], m.item_factors[:, :64], {}, item_bias=m.item_factors[:, 64])
    else:
        kw = dict(backend="implicit") if case == "bpr" else dict(backend="torch", device="cpu", epochs=20)
        t0 = time.perf_counter()
        model = ek.train("bpr", train, dim=64, workers=1, seed=0, verbose=False, **kw, **extra)
        out["fit_s"] = time.perf_counter() - t0
    out["recall@10"] = ek.evaluate.ranking(model, train, test, k=10)["recall@10"]
    out["units"] = int(train.nnz) * (20 if case == "bpr-torch" else 100)
elif case == "als":
    train, test = _recsys_data.load("ml100k")
    t0 = time.perf_counter()
    model = ek.train("als", train, dim=64, workers=1, seed=0, verbose=False, **extra)
    out["fit_s"] = time.perf_counter() - t0
    out["recall@10"] = ek.evaluate.ranking(model, train, test, k=10)["recall@10"]
    out["units"] = int(train.nnz) * 15
elif case == "mf":
    train, test = _recsys_data.load("ml100k-u1")
    t0 = time.perf_counter()
    model = ek.train("mf", train, workers=1, seed=0, device="cpu", verbose=False, **extra)
    out["fit_s"] = time.perf_counter() - t0
    out["rmse"] = ek.evaluate.rating(model, test)["rmse"]
    out["units"] = int(train.nnz) * 40
else:
    from sklearn.datasets import load_digits
    d = load_digits()
    y = [int(v) for v in d.target]
    data = {"features": d.data, "labels": y} if case == "triplet-mlp" else {"keys": list(range(len(y))), "labels": y}
    t0 = time.perf_counter()
    emb = ek.train("triplet", data, workers=1, seed=0, device="cpu", verbose=False, **extra)
    out["fit_s"] = time.perf_counter() - t0
    out["recall@1"] = ek.evaluate.retrieval(emb, dict(zip(range(len(y)), y)), k=1)["recall@1"]
    out["units"] = len(y) * 30
out["module"] = ek.__file__
out["cpu_s"] = time.process_time()  # the child's CPU seconds: reading + fit + scoring (less load-dependent)
res = emb if case.startswith("triplet") else model
if ckpt:
    out["checkpoint_s"] = res.meta["training"]["checkpoint_s"] / res.meta["training"]["checkpoints_written"]
print("RESULT " + json.dumps(out))
"""

#: what a child reports besides its quality figures
NOT_QUALITY = ("fit_s", "units", "module", "checkpoint_s", "cpu_s")
CASES = ["als", "bpr", "bpr-torch", "mf", "triplet-mlp", "triplet-table"]


def loadavg():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def unpack(ref: str) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix="ek-before-"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "embedkit"], check=True,
                             capture_output=True).stdout
    tar = tmp / "tree.tar"
    tar.write_bytes(archive)
    with tarfile.open(tar) as t:
        t.extractall(tmp, filter="data")
    return tmp


def child(tree: Path, case: str, ckpt: bool) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    r = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(HERE), case, "1" if ckpt else "0"],
                       capture_output=True, text=True, env=env, cwd=str(HERE))
    if r.returncode:
        raise RuntimeError(f"{case} ({tree}): {r.stderr[-2000:]}")
    line = [x for x in r.stdout.splitlines() if x.startswith("RESULT ")][-1]
    return json.loads(line[7:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--before", default="568f8be", help="git ref of the tree before the loop")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--cases", default=",".join(CASES))
    a = ap.parse_args()
    before = unpack(a.before)
    runs = {"before": (before, False), "after": (ROOT, False), "after+checkpoint": (ROOT, True)}
    results: dict = {}
    load0 = loadavg()
    for rnd in range(a.rounds):
        for case in a.cases.split(","):
            order = list(runs) if rnd % 2 == 0 else list(reversed(runs))
            for name in order:
                tree, ckpt = runs[name]
                r = child(tree, case, ckpt)
                results.setdefault(case, {}).setdefault(name, []).append(r)
                print(f"round {rnd + 1} {case} {name}: {r}", flush=True)
            if case == "bpr" and rnd == 0:
                r = child(ROOT, "implicit-bpr", False)
                results[case].setdefault("implicit fit", []).append(r)
                print(f"round {rnd + 1} implicit-bpr: {r}", flush=True)
    load1 = loadavg()
    print(f"\nload average before {load0}, after {load1}; before = {a.before}\n")
    print("| method | run | fit s (best) | units/s | quality | after / before time | CPU s of the child (best) |")
    print("|---|---|---|---|---|---|---|")
    for case, by in results.items():
        base = min(r["fit_s"] for r in by["before"])
        for name, rs in by.items():
            best = min(r["fit_s"] for r in rs)
            q = {k: round(v, 4) for k, v in rs[0].items() if k not in NOT_QUALITY}
            if "checkpoint_s" in rs[0]:
                q["s_per_checkpoint"] = round(min(r["checkpoint_s"] for r in rs), 4)
            cpu = min(r.get("cpu_s", float("nan")) for r in rs)
            print(f"| {case} | {name} | {best:.2f} | {rs[0]['units'] / best:,.0f} | {q} | {best / base:.3f} "
                  f"| {cpu:.2f} |")
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    (out / "loop_methods_before_after.json").write_text(json.dumps(
        {"load_before": load0, "load_after": load1, "before": a.before, "results": results}, indent=1))


if __name__ == "__main__":
    main()
