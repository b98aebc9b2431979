"""GCN fine-tuned from a previous result (``init=``) against a retrain from scratch, on a grown Cora.

    .venv/bin/python benchmarks/gnn_init_cora.py [--method gcn] [--late 0.1] [--epochs 200]

Cora (Planetoid, public split: 140 train, 500 validation, 1000 test nodes). A share ``--late`` of
the nodes outside the train and validation masks (drawn with seed 0) arrives later: the previous
model is trained on the graph without them (their edges dropped), then the full graph is trained
twice with the same parameters (seed 0, ``workers=1``, ``patience=0``: every epoch runs):

* retrain: from scratch;
* fine-tune: ``init=previous`` (the encoder's weights; Adam starts afresh).

Reported for both: the validation accuracy after epoch 1 and the best, the first epoch (and the
loop's elapsed seconds at it) whose validation accuracy reaches 0.95, 0.98, 0.99 and 1.0 x the
retrain's best, the test accuracy of the best epoch, and the seconds of all epochs. The load average is printed first.
"""
from __future__ import annotations

import argparse
import json
import os

import numpy as np

DATA = os.environ.get("EMBEDKIT_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))


def without(nd, drop: np.ndarray):
    """``nd`` without the nodes ``drop`` (a bool mask) and their edges."""
    from embedkit import Graph
    from embedkit.data.nodes import NodeData

    keep = ~drop
    new_row = np.cumsum(keep) - 1
    s, d = nd.graph.edge_array().T
    ok = keep[s] & keep[d]
    g = Graph.from_edges(new_row[s[ok]], new_row[d[ok]], nodes=[k for k, kk in zip(nd.graph.nodes, keep) if kk])
    cut = lambda a: None if a is None else a[keep]  # noqa: E731
    return NodeData(g, cut(nd.features), cut(nd.labels), nd.classes, cut(nd.train_mask), cut(nd.val_mask),
                    cut(nd.test_mask), cut(nd.has_features), nd.name)


def reach(history, target):
    """(epoch, elapsed seconds) of the first epoch whose validation accuracy is >= target."""
    for h in history:
        if h["val_accuracy"] >= target:
            return h["epoch"], round(h["elapsed_s"], 3)
    return None, None


def main() -> None:
    import embedkit as ek

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--method", default="gcn")
    ap.add_argument("--late", type=float, default=0.1)
    ap.add_argument("--epochs", type=int, default=200)
    a = ap.parse_args()
    print("load average", os.getloadavg(), flush=True)
    nd = ek.datasets.read_planetoid(os.path.join(DATA, "cora"), "cora")
    rng = np.random.default_rng(0)
    pool = np.flatnonzero(~(nd.train_mask | nd.val_mask))
    drop = np.zeros(nd.graph.num_nodes, bool)
    drop[rng.choice(pool, int(a.late * nd.graph.num_nodes), replace=False)] = True
    old = without(nd, drop)
    kw = dict(seed=0, workers=1, verbose=False, patience=0, epochs=a.epochs)
    prev = ek.train(a.method, old, **kw)
    print(json.dumps({"previous": {"nodes": old.graph.num_nodes, "test_accuracy": prev.evaluate()["test_accuracy"]}}))
    runs = {"retrain": ek.train(a.method, nd, **kw), "fine-tune": ek.train(a.method, nd, init=prev, **kw)}
    best = max(h["val_accuracy"] for h in runs["retrain"].history)
    for name, r in runs.items():
        to = {f"{f} x retrain's best": reach(r.history, f * best) for f in (0.95, 0.98, 0.99, 1.0)}
        print(json.dumps({name: {"nodes": nd.graph.num_nodes, "late_nodes": int(drop.sum()),
                                 "val_accuracy_epoch_1": r.history[0]["val_accuracy"],
                                 "best_val_accuracy": max(h["val_accuracy"] for h in r.history),
                                 "best_epoch": r.meta["best_epoch"], "(epoch, seconds) to": to,
                                 "test_accuracy": r.evaluate()["test_accuracy"],
                                 "seconds_all_epochs": round(r.history[-1]["elapsed_s"], 3)}}), flush=True)


if __name__ == "__main__":
    main()
