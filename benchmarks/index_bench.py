"""Search indexes on N x D vectors: build, save (export), load and 10k queries, time and memory,
recall@10 against exact search, for each index kind embedkit offers.

    .venv/bin/python benchmarks/index_bench.py                      # 1M x 128, 10k queries
    .venv/bin/python benchmarks/index_bench.py --n 200000 --kinds flat,hnsw-hnswlib

Data: a mixture of ``--clusters`` (1024) Gaussian clusters in D dimensions (centres N(0, 1),
spread 0.6 per coordinate), the kind of structure learned embeddings have and random
vectors lack; queries are fresh draws from the same mixture (not rows of the data). The
metric is cosine. The data, queries and exact top-10 (numpy, timed) are written once to
``benchmarks/out/index/`` and reused.

Each kind runs in its own process (``--child``) so that its memory is its own: RSS is
VmRSS/VmHWM from /proc (``_child_common.rss_mb``). Results: a markdown table on stdout and
``benchmarks/out/index/results.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _child_common import rss_mb  # noqa: E402

#: kind name -> (index kind, library, build parameters, search sweeps)
KINDS = {
    "exact": ("exact", "numpy", {}, [{}]),
    "flat": ("flat", "faiss", {}, [{}]),
    "ivf": ("ivf", "faiss", {}, [{}, {"nprobe": "nlist/32"}, {"nprobe": "nlist/128"}, {"nprobe": "nlist/512"}]),
    "hnsw-faiss": ("hnsw", "faiss", {}, [{}, {"ef_search": 128}, {"ef_search": 256}]),
    "hnsw-hnswlib": ("hnsw", "hnswlib", {}, [{}, {"ef_search": 128}, {"ef_search": 256}]),
}


def vm_rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def make_data(out: Path, n: int, dim: int, queries: int, clusters: int, k: int) -> dict:
    """Write (once) the vectors, queries and exact top-k; returns their paths and the exact search time."""
    out.mkdir(parents=True, exist_ok=True)
    tag = f"{n}x{dim}-c{clusters}"
    paths = {"data": out / f"data-{tag}.npy", "queries": out / f"queries-{tag}-{queries}.npy",
             "truth": out / f"truth-{tag}-{queries}-k{k}.npy", "truth_meta": out / f"truth-{tag}-{queries}-k{k}.json"}
    if not paths["truth_meta"].exists():
        rng = np.random.default_rng(0)
        centres = rng.standard_normal((clusters, dim)).astype(np.float32)
        data = np.lib.format.open_memmap(paths["data"], mode="w+", dtype=np.float32, shape=(n, dim))
        for start in range(0, n, 100_000):
            m = min(100_000, n - start)
            data[start:start + m] = centres[rng.integers(0, clusters, m)] + \
                0.6 * rng.standard_normal((m, dim)).astype(np.float32)
        data.flush()
        q = centres[rng.integers(0, clusters, queries)] + 0.6 * rng.standard_normal((queries, dim)).astype(np.float32)
        np.save(paths["queries"], q.astype(np.float32))
        import embedkit as ek

        emb = ek.Embeddings(np.arange(n), np.load(paths["data"]))
        start = time.perf_counter()
        ids, _ = emb.index("exact", attach=False).search_ids(q, k)
        elapsed = time.perf_counter() - start
        np.save(paths["truth"], ids)
        paths["truth_meta"].write_text(json.dumps({"exact_search_s": elapsed}))
    return {**{key: str(p) for key, p in paths.items()}, **json.loads(paths["truth_meta"].read_text())}


def child(args) -> None:
    import embedkit as ek

    kind, library, params, sweeps = KINDS[args.child]
    x = np.load(args.data)
    q = np.load(args.queries)
    truth = np.load(args.truth)
    emb = ek.Embeddings(np.arange(x.shape[0]), x)
    del x
    res = {"name": args.child, "kind": kind, "library": library, "n": len(emb), "dim": emb.dim,
           "queries": len(q), "rss_data_mb": round(vm_rss_mb(), 1)}
    if args.child == "exact":
        start = time.perf_counter()
        emb.save(Path(args.out) / "vectors.ekv")
        res["save_ekv_s"] = round(time.perf_counter() - start, 2)
    before = vm_rss_mb()
    start = time.perf_counter()
    index = emb.index(kind, "cosine", library, attach=False, **params)
    res["build_s"] = round(time.perf_counter() - start, 2)
    res["index_rss_mb"] = round(vm_rss_mb() - before, 1)
    res["params"] = index.params
    path = Path(args.out) / f"index-{args.child}{ {'numpy': '.npy', 'faiss': '.faiss', 'hnswlib': '.hnsw'}[library]}"
    start = time.perf_counter()
    index.save(path)
    res["save_s"] = round(time.perf_counter() - start, 2)
    res["file_mb"] = round((path.stat().st_size + Path(str(path) + ".keys.json").stat().st_size) / 1e6, 1)
    del index
    start = time.perf_counter()
    index = ek.load_index(path)
    res["load_s"] = round(time.perf_counter() - start, 2)
    res["search"] = []
    for sweep in sweeps:
        setting = {name: (max(1, index.params["nlist"] // int(v.split("/")[1])) if isinstance(v, str) else v)
                   for name, v in sweep.items()}
        if setting:
            index.set_params(**setting)
        start = time.perf_counter()
        ids, _ = index.search_ids(q, truth.shape[1])
        elapsed = time.perf_counter() - start
        recall = float(np.mean([len(set(a) & set(b)) for a, b in zip(ids.tolist(), truth.tolist())]) / truth.shape[1])
        res["search"].append({"setting": setting or "default", "search_s": round(elapsed, 2),
                              "qps": round(len(q) / elapsed), "recall_at_10": round(recall, 4)})
    res["peak_rss_mb"] = round(rss_mb(), 1)
    path.unlink()
    Path(str(path) + ".keys.json").unlink()
    print(json.dumps(res))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--queries", type=int, default=10_000)
    ap.add_argument("--clusters", type=int, default=1024)
    ap.add_argument("--kinds", default=",".join(KINDS))
    ap.add_argument("--out", default=str(HERE / "out" / "index"))
    ap.add_argument("--child", choices=list(KINDS))
    ap.add_argument("--data")
    ap.add_argument("--queries-file", dest="queries_path")
    ap.add_argument("--truth")
    args = ap.parse_args()
    if args.child:
        args.queries = args.queries_path
        child(args)
        return
    load_before = list(os.getloadavg())
    start = time.perf_counter()
    data = make_data(Path(args.out), args.n, args.dim, args.queries, args.clusters, 10)
    print(f"data ready in {time.perf_counter() - start:.1f}s; exact top-10 of {args.queries} queries "
          f"took {data['exact_search_s']:.1f}s", file=sys.stderr)
    results = []
    for name in args.kinds.split(","):
        cmd = [sys.executable, __file__, "--child", name, "--data", data["data"], "--queries-file", data["queries"],
               "--truth", data["truth"], "--out", args.out]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{name} failed:\n{proc.stderr[-2000:]}", file=sys.stderr)
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"{name} done: {results[-1]}", file=sys.stderr)
    import embedkit as ek

    meta = {"embedkit": ek.__version__, "python": platform.python_version(), "cpus": os.cpu_count(),
            "n": args.n, "dim": args.dim, "queries": args.queries, "clusters": args.clusters,
            "exact_search_s": data["exact_search_s"], "command": " ".join(sys.argv)}
    from importlib.metadata import PackageNotFoundError, version

    for dist in ("numpy", "faiss-cpu", "hnswlib", "scikit-learn"):
        try:
            meta[dist] = version(dist)
        except PackageNotFoundError:
            meta[dist] = None
    meta["load_average_before"], meta["load_average_after"] = load_before, list(os.getloadavg())
    Path(args.out, "results.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    print("| kind | library | build s | save s | file MB | index RSS MB | peak RSS MB | setting | "
          "search s | queries/s | recall@10 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: |")
    for r in results:
        for i, s in enumerate(r["search"]):
            head = (f"| {r['kind']} | {r['library']} | {r['build_s']} | {r['save_s']} | {r['file_mb']} | "
                    f"{r['index_rss_mb']} | {r['peak_rss_mb']} |") if i == 0 else "| | | | | | | |"
            setting = s["setting"] if s["setting"] == "default" else ", ".join(f"{k} {v}" for k, v in s["setting"].items())
            print(f"{head} {setting} | {s['search_s']} | {s['qps']} | {s['recall_at_10']:.4f} |")
    print(json.dumps(meta), file=sys.stderr)


if __name__ == "__main__":
    main()
