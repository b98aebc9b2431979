"""Skip-gram engine and node2vec: two checkouts of embedkit timed against each other in one run.

    .venv/bin/python benchmarks/engine_ab.py --old /tmp/old-engine --new . [--rounds 3] [--mb 5]

For a refactoring that must not slow anything down (the split of ``engines/skipgram`` by
backend): each timed run is its own process with ``PYTHONPATH`` set to one checkout, and the
runs alternate old, new, new, old, ... round by round so both see the same machine load.

Workloads (the engine's defaults otherwise; workers=2):

* ``sg-numba`` / ``cbow-numba`` / ``sg-torch``: ``train_sgns`` on the first ``--mb`` MB of the
  tokenized Gutenberg corpus (``benchmarks/out/gutenberg-tokens.txt``, written by
  ``word2vec_vs_gensim.py``; ``--tokens`` to point elsewhere), encoded once by this process
  (min_count 5) so both checkouts train on the same arrays; d=100, window 5, 1 epoch. words/s.
* ``node2vec``: ``ek.train("node2vec")`` on Facebook ego (4,039 nodes, 88,234 edges), p=1, q=0.5,
  10 walks of 80, d=128, window 10, 1 epoch: seconds (walks and skip-gram).

Before timing, each child warms its numba kernels up on a tiny input (compilation or the cache
load is not timed). Prints a markdown table: the median per checkout and the median of the
per-round new/old time ratios, with ``uptime``'s load average before and after.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = Path(os.environ.get("EMBEDKIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
FACEBOOK = DATA / "facebook-ego" / "facebook_combined.txt"
WORKLOADS = ("sg-numba", "cbow-numba", "sg-torch", "node2vec")

CHILD = r"""
import json, sys, time
import numpy as np
import embedkit as ek
from embedkit.engines.skipgram import SGNSConfig, train_sgns

work, arrays, graph, workers = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
if work == "node2vec":
    g = ek.read_graph(graph)
    params = dict(dim=128, walk_length=80, walks_per_node=10, window=10, p=1.0, q=0.5, epochs=1,
                  workers=workers, seed=0, device="cpu", verbose=False)
    ek.train("node2vec", ek.datasets.load("karate"), **params)  # warm-up
    t0 = time.perf_counter()
    ek.train("node2vec", g, **params)
    print("RESULT " + json.dumps({"seconds": time.perf_counter() - t0, "tokens": 0}))
else:
    a = np.load(arrays)
    backend = "torch" if work.endswith("torch") else "numba"
    # the number of noise words is `negatives` since issue 18's renames (`negative` before)
    noise = "negatives" if "negatives" in SGNSConfig.__dataclass_fields__ else "negative"
    cfg = SGNSConfig(dim=100, window=5, sample=1e-3, epochs=1, sg=not work.startswith("cbow"),
                     workers=workers, seed=0, **{noise: 5})
    train_sgns(a["tokens"][:20000], np.array([0, 20000]), a["counts"], cfg, backend=backend, verbose=False)
    t0 = time.perf_counter()
    train_sgns(a["tokens"], a["offsets"], a["counts"], cfg, backend=backend, verbose=False)
    print("RESULT " + json.dumps({"seconds": time.perf_counter() - t0, "tokens": int(a["offsets"][-1])}))
"""


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def encode(tokens_file: Path, mb: float, out: Path) -> None:
    import numpy as np

    import embedkit as ek

    lines = []
    size = 0
    with open(tokens_file, encoding="utf-8") as f:
        for line in f:
            lines.append(line.split())
            size += len(line)
            if size >= mb * 1e6:
                break
    enc = ek.Corpus(lines).encode(5, None)
    np.savez(out, tokens=enc.tokens, offsets=enc.offsets, counts=enc.counts)


def run(root: Path, work: str, arrays: Path, workers: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(root))
    res = subprocess.run([sys.executable, "-c", CHILD, work, str(arrays), str(FACEBOOK), str(workers)],
                         capture_output=True, text=True, env=env, cwd=tempfile.gettempdir())
    if res.returncode != 0:
        raise SystemExit(f"{work} in {root} failed:\n{res.stderr[-3000:]}")
    line = next(x for x in res.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[7:])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--old", required=True, help="root of the old checkout (holds embedkit/)")
    ap.add_argument("--new", default=str(ROOT), help="root of the new checkout (default: this one)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--mb", type=float, default=5.0, help="MB of the tokenized corpus to train on")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tokens", default=str(HERE / "out" / "gutenberg-tokens.txt"))
    ap.add_argument("--workloads", default=",".join(WORKLOADS))
    ap.add_argument("--json", default=None, help="write the raw timings here")
    a = ap.parse_args()
    works = [w for w in a.workloads.split(",") if w]
    roots = {"old": Path(a.old).resolve(), "new": Path(a.new).resolve()}
    for name, root in roots.items():
        if not (root / "embedkit" / "__init__.py").exists():
            raise SystemExit(f"--{name} {root}: no embedkit/ there")
    with tempfile.TemporaryDirectory() as tmp:
        arrays = Path(tmp) / "tokens.npz"
        if any(w != "node2vec" for w in works):
            encode(Path(a.tokens), a.mb, arrays)
        load_before = uptime()
        times: dict = {w: {"old": [], "new": []} for w in works}
        for r in range(a.rounds):
            order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
            for w in works:
                for name in order:
                    out = run(roots[name], w, arrays, a.workers)
                    times[w][name].append(out)
                    print(f"round {r + 1} {w} {name}: {out['seconds']:.2f} s", file=sys.stderr)
        load_after = uptime()
    print(f"load before: {load_before}\nload after: {load_after}\n")
    print(f"old = {roots['old']}, new = {roots['new']}; {a.rounds} rounds, workers={a.workers}\n")
    print("| workload | old s (median) | new s (median) | old words/s | new words/s "
          "| new/old time (median of rounds) |")
    print("|---|---|---|---|---|---|")
    for w in works:
        o = [x["seconds"] for x in times[w]["old"]]
        n = [x["seconds"] for x in times[w]["new"]]
        tok = times[w]["old"][0]["tokens"]
        wps = (lambda s: f"{tok / s / 1e6:.2f}M") if tok else (lambda s: "-")
        ratio = statistics.median(b / c for b, c in zip(n, o))
        print(f"| {w} | {statistics.median(o):.2f} | {statistics.median(n):.2f} | {wps(statistics.median(o))} | "
              f"{wps(statistics.median(n))} | {ratio:.3f} |")
    if a.json:
        Path(a.json).write_text(json.dumps({"load_before": load_before, "load_after": load_after, "times": times},
                                           indent=1))


if __name__ == "__main__":
    main()
