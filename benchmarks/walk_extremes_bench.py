"""Walk speed over p and q, extreme ratios included, against an older embedkit.

    git archive <old-commit> embedkit | tar -x -C /tmp/before
    .venv/bin/python benchmarks/walk_extremes_bench.py --graph /work/shared/data/blogcatalog/blogcatalog.mat \\
        --baseline /tmp/before

Each (p, q) runs in a fresh child process per implementation (the current tree, and the
one under ``--baseline`` when given), one numba thread, after a warm-up call that compiles
the kernel; the best of ``--repeats`` runs is printed as one JSON line with ``uptime``'s load
average. A child that exceeds ``--timeout`` seconds is reported as such (the walk kernel
before bounded rejection sampling ran for minutes at p = 1e6, q = 1e-6). Results:
docs/benchmarks.md, "Walks at extreme p and q".
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = """
import sys, time
if sys.argv[1] != "-":
    sys.path.insert(0, sys.argv[1])
import embedkit as ek
from embedkit.engines.walks import random_walks
g = ek.read_graph(sys.argv[2])
p, q, wpn, repeats = float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
random_walks(g, walk_length=10, walks_per_node=1, p=2.0, q=0.5, seed=0, workers=1)
best = 1e9
for _ in range(repeats):
    t = time.perf_counter()
    random_walks(g, walk_length=80, walks_per_node=wpn, p=p, q=q, seed=0, workers=1)
    best = min(best, time.perf_counter() - t)
print(best)
"""

GRID = [(1.0, 1.0), (1.0, 0.5), (0.25, 4.0), (4.0, 0.25), (1e3, 1.0), (1e6, 1.0), (1.0, 1e6), (1e6, 1e-6)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--graph", default=os.path.join(os.path.dirname(__file__), "..", "corpora", "karate.edgelist"))
    ap.add_argument("--baseline", default=None, help="a folder holding an older embedkit package")
    ap.add_argument("--walks-per-node", type=int, default=4)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300.0)
    args = ap.parse_args()
    trees = [("current", "-")] + ([("baseline", args.baseline)] if args.baseline else [])
    for p, q in GRID:
        row = {"graph": os.path.basename(args.graph), "p": p, "q": q, "walks_per_node": args.walks_per_node}
        for name, tree in trees:
            try:
                out = subprocess.run([sys.executable, "-c", CHILD, tree, args.graph, str(p), str(q),
                                      str(args.walks_per_node), str(args.repeats)], capture_output=True, text=True,
                                     timeout=args.timeout, check=True)
                row[f"{name}_s"] = round(float(out.stdout.strip().splitlines()[-1]), 3)
            except subprocess.TimeoutExpired:
                row[f"{name}_s"] = f"> {args.timeout:g} (stopped)"
        row["load"] = os.getloadavg()
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
