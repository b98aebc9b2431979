"""How many CPU threads each torch method should use by default: 1 against all cores, on a quiet
and on a busy machine (issue 19, item 3).

Each configuration runs in a fresh process (``ek.train`` timed around the fit only). "busy" starts
as many CPU-burning processes as there are cores for the duration of the run, the situation of a
shared 2-core machine. Run by hand:

    python benchmarks/thread_defaults.py [--runs 2] [--methods mf,bpr,als,gcn,gat]

Needs ../shared/data (MovieLens-100k, Cora).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.environ.get("EMBEDKIT_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))

SETUP = {
    "mf": ("ek.read_interactions(f'{D}/movielens-100k/u1.base', rating_col=2)", "dim=64, epochs=20"),
    "bpr": ("ek.read_interactions(f'{D}/movielens-100k/u.data', rating_col=2, implicit_threshold=4)",
            "dim=64, epochs=20, backend='torch'"),
    "als": ("ek.read_interactions(f'{D}/movielens-100k/u.data', rating_col=2, implicit_threshold=4)",
            "dim=64, epochs=15, backend='torch'"),
    "gcn": ("ek.datasets.read_planetoid(f'{D}/cora', 'cora')", "epochs=100, patience=0"),
    "gat": ("ek.datasets.read_planetoid(f'{D}/cora', 'cora')", "epochs=50, patience=0"),
}

CHILD = """
import json, time, embedkit as ek
D = {data!r}
data = {load}
t = time.perf_counter()
ek.train({method!r}, data, {params}, workers={workers}, seed=0, verbose=False)
print(json.dumps(time.perf_counter() - t))
"""


def fit_seconds(method: str, workers: int) -> float:
    load, params = SETUP[method]
    code = CHILD.format(data=DATA, load=load, method=method, params=params, workers=workers)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--methods", default=",".join(SETUP))
    ap.add_argument("--modes", default="quiet,busy", help="quiet (nothing else started), busy (a burner per core)")
    args = ap.parse_args()
    cores = os.cpu_count() or 1
    print(f"cores: {cores}; load average at start: {os.getloadavg()}")
    rows = []
    for busy in [m == "busy" for m in args.modes.split(",")]:
        burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(cores)] if busy else []
        try:
            for method in args.methods.split(","):
                times = {}
                for workers in (1, 0):  # 0: all cores (torch's default)
                    times[workers] = statistics.median(fit_seconds(method, workers) for _ in range(args.runs))
                rows.append((method, "busy" if busy else "quiet", times[1], times[0]))
                print(f"{method:4s} {'busy' if busy else 'quiet':5s} workers=1 {times[1]:7.2f}s  all cores "
                      f"{times[0]:7.2f}s  all/1 = {times[0] / times[1]:.2f}  load {os.getloadavg()[0]:.1f}", flush=True)
        finally:
            for b in burners:
                b.kill()
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
