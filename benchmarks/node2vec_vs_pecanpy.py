"""node2vec: embedkit against PecanPy (SparseOTF), in one run on one machine.

    .venv/bin/python benchmarks/node2vec_vs_pecanpy.py          # or: make bench

Two tasks, the same hyper-parameters for every tool (p=1, q=0.5, 10 walks of 80
per node, d=128, window 10, 1 epoch, 5 negatives, sample 1e-3, workers=2):

1. BlogCatalog (10,312 nodes, 333,983 edges, 39 labels): node classification,
   50% of the labelled nodes for training, macro/micro-F1.
2. Facebook ego (4,039 nodes, 88,234 edges): link prediction, 10% of the edges
   held out with ``ek.split_edges(seed=0)``; every tool trains on the same
   train graph; AUC.

Rows: PecanPy (its own venv, ``.venv-peers``, created here if missing: it pins
numpy<2), embedkit with its numba skip-gram, and embedkit with gensim's
skip-gram on embedkit's walks (so the table shows how much of the difference
comes from the walks and how much from the skip-gram engine).

Every training run is its own subprocess, so peak RSS is per run (GNU
``/usr/bin/time -f %M``, else the child's own VmHWM); each child prints its
phase timings as JSON. The runs are
interleaved (round 1: every tool, round 2: every tool, ...; the order rotates),
so the tools see the same machine state. Both tools read the same tab-separated
edge list (written from the data set into ``benchmarks/out/``) and write word2vec
text; this process then loads every output with ``ek.load`` and scores it with
the same evaluator (``ek.evaluate.node_classification`` /
``ek.evaluate.link_prediction``), after all timed runs have finished.

Writes ``benchmarks/out/results.json`` and prints markdown tables (medians over
runs; ratios are PecanPy / embedkit, the median of the per-round ratios).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("EMBEDKIT_DATA", ROOT.parent / "shared" / "data"))
BLOGCATALOG = DATA / "blogcatalog" / "blogcatalog.mat"
FACEBOOK = DATA / "facebook-ego" / "facebook_combined.txt"

TOOLS = {
    # name: (runner, extra arguments)
    "pecanpy": ("pecanpy", []),
    "embedkit-numba": ("embedkit", ["--backend", "numba"]),
    "embedkit-gensim": ("embedkit", ["--backend", "gensim"]),
    # embedkit's own defaults for the skip-gram (sample=0 for walk methods) instead of gensim's 1e-3
    "embedkit-numba-default-sample": ("embedkit", ["--backend", "numba", "--default-sample"]),
    # the numba skip-gram drawing negatives per (context, center) pair, as word2vec.c and gensim do
    # (for embedkit versions with the shared_negatives parameter)
    "embedkit-numba-pair-negatives": ("embedkit", ["--backend", "numba", "--param", "shared_negatives=False"]),
}
LABELS = {
    "pecanpy": "PecanPy 2 (SparseOTF + gensim)",
    "embedkit-numba": "embedkit (numba walks + numba skip-gram)",
    "embedkit-gensim": "embedkit (numba walks + gensim skip-gram)",
    "embedkit-numba-default-sample": "embedkit numba, default sample=0",
    "embedkit-numba-pair-negatives": "embedkit numba, shared_negatives=False",
}


# ------------------------------------------------------------------------------ setup
def ensure_peers_venv(venv: Path) -> Path:
    py = venv / "bin" / "python"
    ok = py.exists() and subprocess.run([str(py), "-c", "import pecanpy, gensim, numba"],
                                        capture_output=True).returncode == 0
    if not ok:
        print(f"creating {venv} (pecanpy pins numpy<2, so it gets its own venv) ...", flush=True)
        subprocess.run(["python3", "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "pecanpy", "scikit-learn", "scipy"], check=True)
    return py


def versions_embedkit() -> dict:
    """Versions of embedkit's side (git commit, libraries) and the machine."""
    import gensim
    import numba
    import numpy
    import scipy
    import sklearn

    import embedkit as ek

    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
        dirty = bool(subprocess.run(["git", "status", "--porcelain", "--", "embedkit"], cwd=ROOT,
                                    capture_output=True, text=True).stdout.strip())
    except OSError:
        commit, dirty = None, None
    mem = None
    try:
        with open("/proc/meminfo") as fh:
            mem = round(int(fh.readline().split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {
        "embedkit_env": {"embedkit": ek.__version__, "git_commit": commit, "embedkit_dir_modified": dirty,
                         "python": platform.python_version(), "numpy": numpy.__version__, "numba": numba.__version__,
                         "gensim": gensim.__version__, "scipy": scipy.__version__, "scikit-learn": sklearn.__version__},
        "machine": {"cpus": os.cpu_count(), "mem_gib": mem, "platform": platform.platform(),
                    "processor": platform.processor() or platform.machine()},
    }


def versions(peers_py: Path) -> dict:
    code = ("import json, importlib.metadata as m; print(json.dumps({k: m.version(k) for k in "
            "('pecanpy', 'gensim', 'numba', 'numpy', 'scipy', 'scikit-learn')}))")
    peers = json.loads(subprocess.run([str(peers_py), "-c", code], capture_output=True, text=True,
                                      check=True).stdout)
    return {**versions_embedkit(), "peers_env": peers}


def write_edgelist(g, path: Path) -> None:
    """Each undirected edge once, ``u<TAB>v`` with the graph's node ids (PecanPy's default delimiter)."""
    import numpy as np

    e = g.undirected_edges()
    names = np.asarray([str(n) for n in g.nodes], dtype=object)
    with open(path, "w") as fh:
        fh.write("\n".join(f"{a}\t{b}" for a, b in zip(names[e[:, 0]], names[e[:, 1]])))
        fh.write("\n")


def prepare(out: Path) -> dict:
    import embedkit as ek

    out.mkdir(parents=True, exist_ok=True)
    bc = ek.read_graph(BLOGCATALOG)
    bc_path = out / "blogcatalog.edgelist"
    write_edgelist(bc, bc_path)
    fb = ek.read_graph(FACEBOOK)
    train_g, split = ek.split_edges(fb, test_fraction=0.1, seed=0)
    fb_path = out / "facebook_train.edgelist"
    write_edgelist(train_g, fb_path)
    karate_path = out / "karate.edgelist"
    write_edgelist(ek.datasets.load("karate"), karate_path)
    return {
        "blogcatalog": {"input": bc_path, "graph": repr(bc)},
        "facebook": {"input": fb_path, "graph": repr(fb), "train_graph": repr(train_g),
                     "test_edges": int(len(split.test_pos))},
        "karate": karate_path,
    }


# ------------------------------------------------------------------------------ one run
def loadavg() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


TIME = "/usr/bin/time"  # GNU time: %M is the child's own peak RSS in KiB


def run_child(cmd: list[str], log: Path) -> dict:
    """Run ``cmd``; return its RESULT json plus wall time and peak RSS.

    Peak RSS comes from GNU ``/usr/bin/time -f %M`` when it is installed, else
    from the child's own VmHWM. Not from this process's ``os.wait4``: on Linux a
    child's ``ru_maxrss`` starts from the size of the process that launched it,
    so it would never read below this (large) process.
    """
    use_time = os.path.exists(TIME)
    tfile = log.with_suffix(".time")
    full = [TIME, "-f", "%M %e %U %S", "-o", str(tfile), *cmd] if use_time else cmd
    load_before = loadavg()
    t0 = time.perf_counter()
    with open(log, "w") as fh:
        proc = subprocess.run(full, stdout=subprocess.PIPE, stderr=fh, text=True, cwd=ROOT)
        wall = time.perf_counter() - t0
        fh.write("\n--- stdout ---\n" + proc.stdout)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed with exit code {proc.returncode}; see {log}")
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT "))
    res = json.loads(line[len("RESULT "):])
    res["process_wall_s"] = wall
    if use_time:
        maxrss_kib, _, user, system = tfile.read_text().split()[-4:]
        res["peak_rss_mb"] = int(maxrss_kib) / 1024.0
        res["peak_rss_source"] = "GNU time %M"
        res["process_user_s"], res["process_sys_s"] = float(user), float(system)
    else:
        res["peak_rss_mb"] = res["rss_end_mb"]
        res["peak_rss_source"] = "child VmHWM"
    res["loadavg_before"] = load_before
    res["loadavg_after"] = loadavg()
    return res


def command(tool: str, task: dict, cfg: argparse.Namespace, seed: int, output: Path, peers_py: Path,
            karate: Path) -> list[str]:
    runner, extra = TOOLS[tool]
    common = ["--input", str(task["input"]), "--output", str(output), "--p", str(cfg.p), "--q", str(cfg.q),
              "--dim", str(cfg.dim), "--num-walks", str(cfg.num_walks), "--walk-length", str(cfg.walk_length),
              "--window", str(cfg.window), "--epochs", str(cfg.epochs), "--workers", str(cfg.workers),
              "--seed", str(seed)]
    if runner == "pecanpy":
        return [str(peers_py), str(HERE / "_run_pecanpy.py"), *common, "--warmup-input", str(karate)]
    args = [a for a in extra if a != "--default-sample"]
    if "--default-sample" not in extra:
        args += ["--sample", str(cfg.sample)]  # the same as gensim's default, which PecanPy uses
    return [sys.executable, str(HERE / "_run_embedkit.py"), *common, *args]


# ------------------------------------------------------------------------------ evaluation
def facebook_split(out: Path):
    """The Facebook split the tools trained on, checked against the train edge list they read.

    ``ek.split_edges(seed=0)`` is deterministic, but it is recomputed here (in
    another process, maybe later): if it no longer matches the train graph
    written before the timed runs, held-out edges could have been trained on.
    """
    import numpy as np

    import embedkit as ek

    fb = ek.read_graph(FACEBOOK)
    train_g, split = ek.split_edges(fb, test_fraction=0.1, seed=0)
    n = fb.num_nodes
    file_g = ek.read_graph(out / "facebook_train.edgelist")
    fe = file_g.undirected_edges()
    idx = np.array([fb.index_of(x) for x in file_g.nodes])
    a, b = idx[fe[:, 0]], idx[fe[:, 1]]
    file_keys = np.sort(np.minimum(a, b) * n + np.maximum(a, b))
    te = split.test_pos
    test_keys = np.minimum(te[:, 0], te[:, 1]) * n + np.maximum(te[:, 0], te[:, 1])
    full = fb.undirected_edges()
    if np.isin(test_keys, file_keys).any() or len(file_keys) + len(test_keys) != len(full):
        raise RuntimeError("the Facebook split recomputed now does not match the train edge list the tools "
                           "trained on (embedkit's split_edges changed during the run?)")
    return split


def _limit_threads():
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass


def evaluate_one(kind: str, vectors: str, repeats: int) -> dict:
    import embedkit as ek

    emb = ek.load(vectors)
    if kind == "nodeclass":
        # Labels as a dict keyed by node index: the vectors files are keyed by node id and
        # PecanPy writes them in gensim's frequency order, not in node order.
        labels = ek.read_labels(BLOGCATALOG)
        m = ek.evaluate.node_classification(emb, labels, train_fraction=0.5, seed=0, repeats=repeats)
        return {"macro_f1": m["macro_f1"], "micro_f1": m["micro_f1"], "repeats": repeats}
    split = facebook_split(Path(vectors).parent)
    m = ek.evaluate.link_prediction(emb, split)
    return {k: m[k] for k in ("auc", "ap", "auc_dot", "ap_dot", "num_test_edges")}


# ------------------------------------------------------------------------------ report
def med(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(x, nd=1):
    return "n/a" if x is None else f"{x:.{nd}f}"


def summarize(runs: list[dict], tools: list[str]) -> dict:
    out: dict = {}
    for ds in sorted({r["dataset"] for r in runs}):
        rows = {}
        for tool in tools:
            rr = [r for r in runs if r["dataset"] == ds and r["tool"] == tool]
            if not rr:
                continue
            row = {"runs": len(rr)}
            for k in ("walk_s", "train_s", "e2e_s", "process_wall_s", "peak_rss_mb", "warmup_s", "read_s"):
                vals = [r[k] for r in rr]
                row[k] = med(vals)
                row[k + "_min"], row[k + "_max"] = min(vals), max(vals)
            for k in ("macro_f1", "micro_f1", "auc", "ap", "auc_dot"):
                vals = [r["quality"][k] for r in rr if r.get("quality") and k in r["quality"]]
                if vals:
                    row[k] = statistics.fmean(vals)
                    row[k + "_min"], row[k + "_max"] = min(vals), max(vals)
            rows[tool] = row
        # ratios PecanPy / embedkit-x: the median of the per-round ratios
        for tool in rows:
            if tool == "pecanpy" or "pecanpy" not in rows:
                continue
            ratios = {}
            for k in ("walk_s", "train_s", "e2e_s", "process_wall_s", "peak_rss_mb"):
                per_round = []
                for rnd in sorted({r["round"] for r in runs if r["dataset"] == ds}):
                    a = [r[k] for r in runs if r["dataset"] == ds and r["tool"] == "pecanpy" and r["round"] == rnd]
                    b = [r[k] for r in runs if r["dataset"] == ds and r["tool"] == tool and r["round"] == rnd]
                    if a and b and b[0]:
                        per_round.append(a[0] / b[0])
                ratios[k] = med(per_round)
            rows[tool]["pecanpy_over_this"] = ratios
        out[ds] = rows
    return out


def markdown(summary: dict) -> str:
    lines = []
    for ds, rows in summary.items():
        q = ("macro-F1 | micro-F1" if ds == "blogcatalog" else "AUC (Hadamard) | AUC (dot)")
        lines += [f"### {ds}", "",
                  f"| tool | runs | walks s | skip-gram s | end to end s | process wall s | peak RSS MB | {q} |",
                  "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for tool, r in rows.items():
            qa, qb = (("macro_f1", "micro_f1") if ds == "blogcatalog" else ("auc", "auc_dot"))
            lines.append(f"| {LABELS.get(tool, tool)} | {r['runs']} | {fmt(r['walk_s'], 2)} | {fmt(r['train_s'])} | "
                         f"{fmt(r['e2e_s'])} | {fmt(r['process_wall_s'])} | {fmt(r['peak_rss_mb'], 0)} | "
                         f"{fmt(r.get(qa), 4)} | {fmt(r.get(qb), 4)} |")
        lines += ["", "Ratios, PecanPy / embedkit (median of per-round ratios; > 1 means embedkit is faster/smaller):", "",
                  "| embedkit row | walks | skip-gram | end to end | process wall | peak RSS |",
                  "| --- | ---: | ---: | ---: | ---: | ---: |"]
        for tool, r in rows.items():
            if "pecanpy_over_this" in r:
                x = r["pecanpy_over_this"]
                lines.append(f"| {LABELS.get(tool, tool)} | {fmt(x['walk_s'], 1)}x | {fmt(x['train_s'], 2)}x | "
                             f"{fmt(x['e2e_s'], 2)}x | {fmt(x['process_wall_s'], 2)}x | {fmt(x['peak_rss_mb'], 2)}x |")
        lines.append("")
    return "\n".join(lines)


# ------------------------------------------------------------------------------ main
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="timed runs per tool and data set (default 3)")
    ap.add_argument("--tools", default="pecanpy,embedkit-numba,embedkit-gensim",
                    help=f"comma-separated, from: {', '.join(TOOLS)}")
    ap.add_argument("--datasets", default="blogcatalog,facebook")
    ap.add_argument("--nc-repeats", type=int, default=3,
                    help="random 50/50 splits per BlogCatalog embedding (averaged; default 3)")
    ap.add_argument("--eval-procs", type=int, default=2, help="processes for the evaluation, after all timed runs")
    ap.add_argument("--p", type=float, default=1.0)
    ap.add_argument("--q", type=float, default=0.5)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--num-walks", type=int, default=10)
    ap.add_argument("--walk-length", type=int, default=80)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--sample", type=float, default=1e-3, help="embedkit's subsampling threshold (gensim default)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--peers-venv", default=str(ROOT / ".venv-peers"))
    ap.add_argument("--out", default=str(HERE / "out"))
    ap.add_argument("--json", default=None, help="results file (default: <out>/results.json)")
    cfg = ap.parse_args()

    tools = [t.strip() for t in cfg.tools.split(",") if t.strip()]
    unknown = [t for t in tools if t not in TOOLS]
    if unknown:
        sys.exit(f"unknown tool(s) {unknown}; choose from {list(TOOLS)}")
    datasets = [d.strip() for d in cfg.datasets.split(",") if d.strip()]
    out = Path(cfg.out)
    peers_py = ensure_peers_venv(Path(cfg.peers_venv))
    t_start = time.perf_counter()
    info = versions(peers_py)
    tasks = prepare(out)
    print(json.dumps(info), flush=True)

    runs = []
    for ds in datasets:
        for rnd in range(cfg.runs):
            order = tools[rnd % len(tools):] + tools[:rnd % len(tools)]  # rotate the order each round
            for tool in order:
                vec = out / f"{ds}.{tool}.run{rnd}.txt"
                cmd = command(tool, tasks[ds], cfg, rnd, vec, peers_py, tasks["karate"])
                res = run_child(cmd, out / f"{ds}.{tool}.run{rnd}.log")
                res.update(dataset=ds, tool=tool, round=rnd, seed=rnd, vectors=str(vec))
                runs.append(res)
                print(f"[{time.perf_counter() - t_start:6.0f}s] {ds} round {rnd} {tool}: walks {res['walk_s']:.2f}s, "
                      f"skip-gram {res['train_s']:.1f}s, end to end {res['e2e_s']:.1f}s, process "
                      f"{res['process_wall_s']:.1f}s, peak RSS {res['peak_rss_mb']:.0f} MB, "
                      f"load {res['loadavg_before']}", flush=True)

    # evaluation, after every timed run (so it does not disturb them); the same evaluator for all
    t_eval = time.perf_counter()
    kind = {"blogcatalog": "nodeclass", "facebook": "linkpred"}
    import multiprocessing as mp

    with ProcessPoolExecutor(max_workers=cfg.eval_procs, mp_context=mp.get_context("spawn"),
                             initializer=_limit_threads) as pool:
        futs = [pool.submit(evaluate_one, kind[r["dataset"]], r["vectors"], cfg.nc_repeats) for r in runs]
        for r, f in zip(runs, futs):
            r["quality"] = f.result()
            print(f"{r['dataset']} round {r['round']} {r['tool']}: {r['quality']}", flush=True)
    eval_s = time.perf_counter() - t_eval

    summary = summarize(runs, tools)
    result = {
        "config": {k: v for k, v in vars(cfg).items()},
        "tasks": {k: ({kk: str(vv) for kk, vv in v.items()} if isinstance(v, dict) else str(v))
                  for k, v in tasks.items()},
        "environment": info,
        "runs": runs,
        "summary": summary,
        "evaluation_s": eval_s,
        "total_s": time.perf_counter() - t_start,
    }
    path = Path(cfg.json) if cfg.json else out / "results.json"
    path.write_text(json.dumps(result, indent=2))
    print()
    print(markdown(summary))
    print(f"results: {path}; total {result['total_s']:.0f}s (evaluation {eval_s:.0f}s)")


if __name__ == "__main__":
    main()
