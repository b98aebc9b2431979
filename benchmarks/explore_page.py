"""The explorer page (``ek.explore``) on real and large data, in headless Chromium.

1. Cora (shared data: /work/shared/data/cora, or --cora): node2vec vectors coloured by the seven
   classes, a screenshot with one paper selected -> docs/explore.png.
2. 100,000 synthetic keys (12 clusters, --dim): time to write the page, its size, the time Chromium
   takes to open it (``--dump-dom``), the first frame and the mean frame of a pan (``#bench=N``).

    python benchmarks/explore_page.py [--cora DIR] [--points 100000] [--dim 128]

Prints a Markdown table for docs/benchmarks.md, with the load average from ``uptime``.
"""
from __future__ import annotations

import argparse
import logging
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import embedkit as ek

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from test_explore import find_chromium, run_chromium  # noqa: E402  (one way to start Chromium)


def cora_screenshot(folder: Path, chromium: str, out: Path) -> dict:
    nd = ek.datasets.read_planetoid(folder, "cora")
    start = time.perf_counter()
    emb = ek.train("node2vec", nd.graph, dim=64, p=1, q=0.5, walks_per_node=10, walk_length=40, seed=0,
                   verbose=False)
    train_s = time.perf_counter() - start
    labels = {key: f"class {nd.labels[i]}" for i, key in enumerate(nd.graph.nodes) if nd.labels[i] >= 0}
    with tempfile.TemporaryDirectory() as tmp:
        page = ek.explore(emb, Path(tmp) / "cora.html", labels=labels, method="tsne", seed=0,
                          title="Cora: node2vec (dim 64), t-SNE, coloured by class")
        key = emb.keys[0]
        res = run_chromium(chromium, page.as_uri() + f"#q={key}", f"--screenshot={out}", "--window-size=1200,760")
        if res.returncode != 0:
            raise RuntimeError(res.stderr[-800:])
    return {"nodes": len(emb), "train_s": train_s, "key": key}


def large_page(chromium: str, n: int, dim: int, frames: int = 20) -> dict:
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((12, dim)) * 1.2
    which = rng.integers(0, 12, n)
    vectors = (centres[which] + rng.standard_normal((n, dim))).astype(np.float32)
    keys = [f"key{i}" for i in range(n)]
    emb = ek.Embeddings(keys, vectors)
    labels = {k: f"cluster {c}" for k, c in zip(keys, which)}
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        page = ek.explore(emb, Path(tmp) / "big.html", labels=labels, verbose=False)
        write_s = time.perf_counter() - start
        size_mb = page.stat().st_size / 1e6
        start = time.perf_counter()
        res = run_chromium(chromium, page.as_uri() + f"#q=key7&bench={frames}", "--dump-dom",
                           "--window-size=1400,900", timeout=600)
        open_s = time.perf_counter() - start
    first = re.search(r'data-draw-ms="([\d.]+)"', res.stdout)
    frame = re.search(r'data-frame-ms="([\d.]+)"', res.stdout)
    listed = len(re.findall(r"<li data-key=", res.stdout))
    return {"points": n, "dim": dim, "write_s": write_s, "size_mb": size_mb, "open_s": open_s,
            "frame_ms": float(frame.group(1)) if frame else float("nan"), "listed": listed,
            "last_draw_ms": float(first.group(1)) if first else float("nan")}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cora", type=Path, default=Path("/work/shared/data/cora"))
    ap.add_argument("--points", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--screenshot", type=Path, default=ROOT / "docs" / "explore.png")
    ap.add_argument("--skip-cora", action="store_true")
    ap.add_argument("--skip-large", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    chromium = find_chromium()
    if chromium is None:
        sys.exit("no chromium on PATH (apt-get install chromium)")
    print("load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    if not args.skip_cora:
        c = cora_screenshot(args.cora, chromium, args.screenshot)
        print(f"Cora: {c['nodes']} nodes, node2vec {c['train_s']:.1f} s, screenshot of #q={c['key']} -> "
              f"{args.screenshot}")
    if args.skip_large:
        return
    r = large_page(chromium, args.points, args.dim)
    print("| points | dim | write page (s) | page size (MB) | Chromium opens it (s) | frame of a pan (ms) "
          "| neighbours listed |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {r['points']:,} | {r['dim']} | {r['write_s']:.1f} | {r['size_mb']:.1f} | {r['open_s']:.1f} "
          f"| {r['frame_ms']:.1f} | {r['listed']} |")
    print("load after:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
