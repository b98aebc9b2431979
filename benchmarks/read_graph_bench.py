"""Edge-list reading: ``ek.read_graph`` (numeric blocks, the default) against the line-by-line
reader it falls back to, each in a fresh process; prints one JSON line per reader and run.

    .venv/bin/python benchmarks/_generate.py graph --out /tmp/ek-scale/rmat.tsv
    .venv/bin/python benchmarks/read_graph_bench.py /tmp/ek-scale/rmat.tsv --rounds 1

Each child reports the seconds spent in the call, its peak RSS (``ru_maxrss``) and the
graph; the driver adds ``uptime``'s load average. Results: docs/benchmarks.md,
"Reading a 10M-edge list".
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

CHILD = """
import json, resource, sys, time
from pathlib import Path
from embedkit.data.graph import _read_edgelist, _read_edgelist_lines
read = {"blocks": _read_edgelist, "lines": _read_edgelist_lines}[sys.argv[1]]
t = time.perf_counter()
g = read(Path(sys.argv[2]), False, None, None, "#%")
s = time.perf_counter() - t
print(json.dumps({"reader": sys.argv[1], "s": round(s, 2), "graph": repr(g),
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("edgelist")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--readers", default="blocks,lines")
    a = ap.parse_args()
    for r in range(a.rounds):
        for reader in a.readers.split(","):
            out = subprocess.run([sys.executable, "-c", CHILD, reader, a.edgelist], check=True,
                                 capture_output=True, text=True).stdout
            row = json.loads(out.strip().splitlines()[-1])
            row.update(round=r, load=[round(x, 2) for x in os.getloadavg()])
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
