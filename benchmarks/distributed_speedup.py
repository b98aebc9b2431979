"""1 process against N processes under ``torchrun`` (gloo on the CPU, or NCCL on GPUs): the
training time of each workload (the slowest rank's) and its quality, alternating the
process counts over ``--rounds`` rounds. Figures go to docs/distributed.md.

    .venv/bin/python benchmarks/distributed_speedup.py --workloads node2vec skipgram gcn mf --rounds 2

Needs ../shared/data (BlogCatalog, Gutenberg, PubMed, MovieLens-100k). Every process runs
torch on one thread, so N processes use N cores.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def run(workload: str, nproc: int, extra: list[str]) -> dict:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc),
           str(HERE / "_run_distributed.py"), workload, *extra]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=HERE)
    wall = time.perf_counter() - t0
    line = next((ln for ln in res.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if res.returncode or line is None:
        raise SystemExit(f"{workload} x{nproc} failed:\n{res.stdout[-2000:]}\n{res.stderr[-4000:]}")
    out = json.loads(line[len("RESULT "):])
    out["launch_s"] = wall
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workloads", nargs="+", default=["node2vec", "skipgram", "gcn", "mf"])
    ap.add_argument("--nproc", type=int, default=2, help="processes to compare with 1")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--extra", action="append", default=[], help="options passed to every child, e.g. --mb=10")
    a = ap.parse_args()
    print(f"load average at start: {os.getloadavg()}", flush=True)
    for w in a.workloads:
        runs = {1: [], a.nproc: []}
        for r in range(a.rounds):
            for n in ((1, a.nproc) if r % 2 == 0 else (a.nproc, 1)):
                out = run(w, n, a.extra)
                runs[n].append(out)
                print(f"{w} x{n} round {r}: " + json.dumps(out), flush=True)
        med = {n: statistics.median(o["train_s"] for o in rs) for n, rs in runs.items()}
        print(f"== {w}: train s median 1 process {med[1]:.2f}, {a.nproc} processes {med[a.nproc]:.2f}, "
              f"speed-up x{med[1] / med[a.nproc]:.2f}; quality 1: {runs[1][0]['quality']}, "
              f"{a.nproc}: {runs[a.nproc][0]['quality']}; load {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
