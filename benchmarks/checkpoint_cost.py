"""The cost of checkpointing on the shared training loop (issue 17): seconds per checkpoint and
the slowdown of a run written with checkpoints, against the same run without.

Runs (each in this process, one after the other, the same seed):

* ``none``: no ``checkpoint``;
* ``epoch``: ``checkpoint=DIR`` with the default ``checkpoint_every`` (300 s): a checkpoint
  after every epoch (and every 5 minutes inside one: none in these runs);
* ``slice``: ``checkpoint_every=0``: a checkpoint after every slice of an epoch (numba: ~1M
  tokens), the most a run can write.

Data: node2vec on BlogCatalog (10,312 nodes, 333,983 edges; defaults: 10 walks of 80 nodes a
node, dim 128) and skip-gram on the first ``--text-mb`` MB of the tokenized Gutenberg corpus
(``_gutenberg.tokenized_file``; ``--tokens`` to give an existing copy).

    .venv/bin/python benchmarks/checkpoint_cost.py --epochs 2 --workers 2
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import embedkit as ek  # noqa: E402
from _gutenberg import DATA, head_mb, tokenized_file  # noqa: E402


def measure(name, data, params, modes, folder):
    out = []
    for mode in modes:
        ck = Path(folder) / f"{name}-{mode}"
        shutil.rmtree(ck, ignore_errors=True)
        extra = {} if mode == "none" else {"checkpoint": str(ck)}
        if mode == "slice":
            extra["checkpoint_every"] = 0.0
        t0 = time.perf_counter()
        emb = ek.train(name, data, **params, **extra)
        wall = time.perf_counter() - t0
        info = emb.meta["training"]
        n = info.get("checkpoints_written", 0)
        size = sum(f.stat().st_size for f in ck.rglob("*") if f.is_file()) / max(len(list(ck.iterdir())), 1) \
            if ck.exists() else 0
        row = {"method": name, "mode": mode, "wall_s": round(wall, 2),
               "train_s": round(sum(r["seconds"] for r in emb.history), 2), "checkpoints": n,
               "checkpoint_s": info.get("checkpoint_s", 0.0),
               "s_per_checkpoint": round(info["checkpoint_s"] / n, 3) if n else None,
               "checkpoint_mb": round(size / 2**20, 1), "loss": emb.history[-1]["loss"],
               "load": os.getloadavg()[0]}
        print(json.dumps(row), flush=True)
        out.append(row)
        shutil.rmtree(ck, ignore_errors=True)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--text-mb", type=float, default=40.0)
    ap.add_argument("--tokens", default=None, help="an existing tokenized Gutenberg file")
    ap.add_argument("--modes", default="none,epoch,slice")
    ap.add_argument("--methods", default="node2vec,skipgram")
    ap.add_argument("--folder", default=None, help="where checkpoints are written (default: a temporary folder)")
    a = ap.parse_args()
    modes = a.modes.split(",")
    folder = a.folder or tempfile.mkdtemp(prefix="ek-ckpt-")
    rows = []
    print("uptime load:", os.getloadavg(), flush=True)
    if "node2vec" in a.methods:
        g = ek.read_graph(DATA / "blogcatalog" / "blogcatalog.mat")
        rows += measure("node2vec", g, dict(epochs=a.epochs, workers=a.workers, seed=0, verbose=False), modes,
                        folder)
    if "skipgram" in a.methods:
        src = Path(a.tokens) if a.tokens else tokenized_file()
        (HERE / "out").mkdir(exist_ok=True)
        part = head_mb(src, a.text_mb, HERE / "out")
        corpus = ek.read_text(part, tokenizer=str.split, lowercase=False, verbose=False)
        rows += measure("skipgram", corpus, dict(epochs=a.epochs, workers=a.workers, seed=0, backend="numba",
                                                 verbose=False), modes, folder)
    print("uptime load:", os.getloadavg(), flush=True)
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
