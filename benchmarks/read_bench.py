"""Reading big text inputs: ``ek.read_graph`` / ``ek.read_interactions`` as they are (numeric
files parsed in vectorised blocks) against the line-by-line readers they fall back to, each
in a fresh process; prints one JSON line per reader and run.

    .venv/bin/python benchmarks/_generate.py graph --out /tmp/ek-scale/rmat.tsv
    .venv/bin/python benchmarks/read_bench.py graph /tmp/ek-scale/rmat.tsv
    .venv/bin/python benchmarks/_generate.py interactions --out /tmp/ek-scale/inter
    .venv/bin/python benchmarks/read_bench.py interactions /tmp/ek-scale/inter/train.tsv

Each child reports the seconds spent in the call, its peak RSS (``ru_maxrss``) and what it
read; the driver adds ``uptime``'s load average. Results: docs/benchmarks.md, "Reading a
10M-edge list".
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = """
import json, resource, sys, time
import embedkit as ek
from embedkit.data import graph, interactions
kind, reader, path = sys.argv[1:4]
if reader == "lines":  # the fallback readers alone
    graph.read_numeric_edgelist = lambda *a, **k: None
    interactions.read_numeric_table = lambda *a, **k: None
t = time.perf_counter()
out = ek.read_graph(path) if kind == "graph" else ek.read_interactions(path)
s = time.perf_counter() - t
print(json.dumps({"kind": kind, "reader": reader, "s": round(s, 2), "read": repr(out),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=("graph", "interactions"))
    ap.add_argument("path")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--readers", default="blocks,lines")
    a = ap.parse_args()
    for r in range(a.rounds):
        for reader in a.readers.split(","):
            out = subprocess.run([sys.executable, "-c", CHILD, a.kind, reader, a.path], check=True,
                                 capture_output=True, text=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            row.update(round=r, load=[round(x, 2) for x in os.getloadavg()])
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
