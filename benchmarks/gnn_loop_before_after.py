"""GCN and GAT seconds per epoch on Cora: two versions of embedkit in alternating processes.

    git archive 568f8be embedkit | tar -x -C /tmp/before      # the code before the training loop
    .venv/bin/python benchmarks/gnn_loop_before_after.py --before /tmp/before --after . [--rounds 3]

Each process (``PYTHONPATH`` = one version's folder) reads Cora (Planetoid, public split), warms
up (imports, first-call set-up), then trains GCN (100 epochs) and GAT (30 epochs, 8 heads) with
seed 0, ``workers=1``, ``patience=0`` (every epoch runs, validation every epoch) and no
checkpoint. It reports ``meta["seconds_per_epoch"]`` (the epochs' wall time: training steps and
validation) and the train call's CPU seconds per epoch (less sensitive to a loaded machine), and
the test accuracy (equal when both versions compute the same thing). Versions alternate
(before, after, after, before, ...); the load average is printed before each process.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

DATA = os.environ.get("EMBEDKIT_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))


def one() -> None:
    import embedkit as ek

    nd = ek.datasets.read_planetoid(os.path.join(DATA, "cora"), "cora")
    out = {"code": os.path.dirname(ek.__file__)}
    ek.train("gcn", nd, seed=0, workers=1, verbose=False, epochs=2)
    for method, epochs in (("gcn", 100), ("gat", 30)):
        c0 = time.process_time()
        r = ek.train(method, nd, seed=0, workers=1, verbose=False, patience=0, epochs=epochs)
        out[method] = {"wall_s_per_epoch": r.meta["seconds_per_epoch"],
                       "cpu_s_per_epoch": round((time.process_time() - c0) / epochs, 5),
                       "test_acc": r.evaluate()["test_accuracy"]}
    print(json.dumps(out), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--before", required=True)
    ap.add_argument("--after", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        return one()
    order = []
    for r in range(a.rounds):
        order += [("before", "after"), ("after", "before")][r % 2]
    for which in order:
        env = dict(os.environ, PYTHONPATH=os.path.abspath(getattr(a, which)))
        print(which, "load average", os.getloadavg(), flush=True)
        subprocess.run([sys.executable, __file__, "--one", "--before", a.before, "--after", a.after], env=env,
                       check=True, stderr=subprocess.DEVNULL)


if __name__ == "__main__":
    main()
