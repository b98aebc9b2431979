"""Child process: train node2vec with embedkit on one edge list and write word2vec text.

Run by ``node2vec_vs_pecanpy.py`` (one process per run, so peak RSS is per tool).
Prints one JSON line (prefixed ``RESULT``) with the phase timings in seconds.

Warm-up: before anything is timed, the same pipeline (same hyper-parameters)
runs once on the karate graph shipped with embedkit, so numba's compilation (or
loading of its on-disk cache) is not counted in the walk/train phases; the
warm-up's own time is reported as ``warmup_s``.
"""
from __future__ import annotations

import argparse
import json
import time

from _child_common import add_node2vec_args, parse_params, rss_mb  # noqa: E402  (benchmarks/ is on sys.path: run as a script)

T_START = time.perf_counter()
import embedkit as ek  # noqa: E402

T_IMPORT = time.perf_counter()


def source_hash() -> str:
    """sha256 (first 12 hex digits) of embedkit's .py files: which code a run measured."""
    import hashlib
    from pathlib import Path

    h = hashlib.sha256()
    root = Path(ek.__file__).parent
    for f in sorted(root.rglob("*.py")):
        h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes())
    return h.hexdigest()[:12]


def main() -> None:
    ap = argparse.ArgumentParser()
    add_node2vec_args(ap)
    ap.add_argument("--backend", default="numba")
    ap.add_argument("--sample", type=float, default=None, help="subsampling threshold (default: embedkit's)")
    ap.add_argument("--no-warmup", action="store_true")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="any other node2vec parameter, e.g. shared_negatives=False (a Python literal)")
    a = ap.parse_args()

    params = dict(dim=a.dim, walk_length=a.walk_length, walks_per_node=a.num_walks, window=a.window, p=a.p,
                  q=a.q, epochs=a.epochs, workers=a.workers, seed=a.seed, backend=a.backend, device="cpu",
                  verbose=False)
    if a.sample is not None:
        params["sample"] = a.sample
    params.update(parse_params(a.param))

    out = {"tool": f"embedkit-{a.backend}", "import_s": T_IMPORT - T_START, "rss_after_import_mb": rss_mb()}
    t0 = time.perf_counter()
    if not a.no_warmup:
        ek.train("node2vec", ek.datasets.load("karate"), **params)
    t1 = time.perf_counter()
    out["warmup_s"] = t1 - t0
    out["rss_after_warmup_mb"] = rss_mb()

    g = ek.read_graph(a.input)
    t2 = time.perf_counter()
    emb = ek.train("node2vec", g, **params)
    t3 = time.perf_counter()
    emb.export(a.output)
    t4 = time.perf_counter()
    out.update(
        read_s=t2 - t1,
        walk_s=float(emb.meta["walk_time_s"]),
        train_s=float(emb.meta["train_time_s"]),
        fit_s=t3 - t2,
        e2e_s=t3 - t1,  # read + walks + skip-gram (what the user waits for, warm-up excluded)
        write_s=t4 - t3,
        num_nodes=g.num_nodes,
        num_edges=g.num_edges,
        num_walk_tokens=int(emb.meta.get("num_walk_tokens", 0)),
        sample=emb.meta.get("params", {}).get("sample"),
        params=emb.meta.get("params"),
        rss_end_mb=rss_mb(),
        source_sha256=source_hash(),
    )
    print("RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
