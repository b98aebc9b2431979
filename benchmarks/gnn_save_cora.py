"""Size and load time of a saved GCN/GAT ``.ekv`` on Cora, before (vectors only, what embedkit
wrote before it kept GNN encoders) and after (vectors plus the encoder's weights and, for a
classifier, its scores, labels and masks), and that the loaded model embeds as the trained one.

    EMBEDKIT_DATA=/work/shared/data .venv/bin/python benchmarks/gnn_save_cora.py [--epochs N]

Cora (Planetoid, public split), the methods' defaults, seed 0, one thread. Prints one line per
model; results in docs/updating-embeddings.md ("Saving keeps the encoder").
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

DATA = os.environ.get("EMBEDKIT_DATA", os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"))


def main() -> None:
    import embedkit as ek

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--epochs", type=int, default=None, help="epochs (default: each method's)")
    args = ap.parse_args()
    nd = ek.datasets.read_planetoid(os.path.join(DATA, "cora"), "cora")
    extra = {} if args.epochs is None else {"epochs": args.epochs}
    print(f"load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as td:
        before, after = os.path.join(td, "before.ekv"), os.path.join(td, "after.ekv")
        for method, mode in [("gcn", "supervised"), ("gat", "supervised"), ("gcn", "unsupervised"),
                             ("gat", "unsupervised")]:
            r = ek.train(method, nd, mode=mode, seed=0, verbose=False, workers=1, **extra)
            ek.Embeddings(r.keys, r.vectors, r.meta).save(before)
            r.save(after)
            t0 = time.perf_counter()
            loaded = ek.load(after)
            load_s = time.perf_counter() - t0
            weights = sum(v.numel() * v.element_size() for v in r.model.state_dict().values())
            same = np.array_equal(loaded.embed(nd).vectors, r.embed(nd).vectors)
            print(f"{method} {mode}: vectors {r.vectors.shape}, before {os.path.getsize(before):,} B, after "
                  f"{os.path.getsize(after):,} B (encoder weights {weights:,} B), load {load_s:.3f} s, "
                  f"loaded embed() identical: {same}")


if __name__ == "__main__":
    main()
