"""Choose embedkit's torch BPR settings for Gowalla on a validation split of the *training*
interactions (a random 10 %, seed 1); the official test split is never read here.

    .venv/bin/python benchmarks/bpr_gowalla_validation.py --param optimizer=adam --param learning_rate=0.001 \
        --param reg=1e-4 --param epochs=100 --every 20

Prints validation recall@20 / ndcg@20 every ``--every`` epochs (``bpr_torch``'s ``on_epoch``),
the fit time without the evaluations, and ``uptime``'s load average. One torch thread.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _recsys_data  # noqa: E402
from _child_common import parse_params  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--param", action="append", default=[], help="name=value for bpr (torch backend)")
    ap.add_argument("--every", type=int, default=10, help="evaluate on validation every N epochs")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    import torch

    import embedkit as ek
    from embedkit.recsys.bpr import BPR, bpr_torch
    from embedkit.recsys._common import make_model

    p = {q.name: q.default for q in BPR.params}
    p.update(dim=64, negative_sampling="uniform", batch_size=4096, learning_rate=0.05)
    p.update(parse_params(a.param))
    torch.set_num_threads(1)
    train, _ = _recsys_data.load("gowalla")
    fit, val = ek.split_interactions(train, "random", test_fraction=0.1, seed=1)
    d = p["dim"]
    evals, spent = [], [0.0]

    def on_epoch(epoch, X, Y):
        if (epoch + 1) % a.every and epoch + 1 != p["epochs"]:
            return
        t = time.perf_counter()
        model = make_model(fit, X[:, :d].numpy(), Y[:, :d].numpy(), {}, item_bias=Y[:, d].numpy())
        m = ek.evaluate.ranking(model, fit, val, k=20)
        evals.append({"epoch": epoch + 1, "recall@20": round(m["recall@20"], 4), "ndcg@20": round(m["ndcg@20"], 4)})
        print(json.dumps(evals[-1]), flush=True)
        spent[0] += time.perf_counter() - t

    print(json.dumps({"params": p, "load": os.getloadavg()}), flush=True)
    t0 = time.perf_counter()
    bpr_torch(fit.indptr, fit.indices, fit.num_items, d, p["learning_rate"], p["reg"], p["epochs"], p["batch_size"],
              p["negative_sampling"], p["verify_negatives"], a.seed, "cpu", False, optimizer=p["optimizer"],
              negative_candidates=p["negative_candidates"],
              on_epoch=on_epoch)
    fit_s = time.perf_counter() - t0 - spent[0]
    print(json.dumps({"fit_s": round(fit_s, 1), "load": os.getloadavg(), "best": max(evals, key=lambda e: e["recall@20"])}),
          flush=True)


if __name__ == "__main__":
    main()
