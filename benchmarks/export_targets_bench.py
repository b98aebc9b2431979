"""Write rate of every export target (files, index libraries, databases) on the same vectors.

Run by hand: ``.venv/bin/python benchmarks/export_targets_bench.py --rows 100000 --dim 128``.
Starts PostgreSQL + pgvector from the pgserver wheel in a temporary folder; targets whose
package is missing are reported as skipped. Each figure is rows / seconds of one
``emb.export(...)`` call, index building included where the target builds one.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--dim", type=int, default=128)
    args = ap.parse_args()

    import embedkit as ek
    from embedkit.exceptions import MissingDependencyError

    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    rng = np.random.default_rng(0)
    emb = ek.Embeddings([f"k{i}" for i in range(args.rows)],
                        rng.standard_normal((args.rows, args.dim)).astype(np.float32))
    tmp = Path(tempfile.mkdtemp(prefix="embedkit-targets-"))
    targets = [
        ("word2vec text", tmp / "v.txt", {}), ("word2vec binary", tmp / "v.bin", {}), ("npy", tmp / "v.npy", {}),
        ("ekv", tmp / "v.ekv", {}), ("parquet", tmp / "v.parquet", {}), ("jsonl", tmp / "v.jsonl", {}),
        ("faiss hnsw (cosine)", tmp / "v.faiss", {}),
        ("elasticsearch _bulk", tmp / "es", {"format": "elasticsearch"}),
        ("opensearch _bulk", tmp / "os", {"format": "opensearch"}),
        ("lancedb (IVF_FLAT)", f"lancedb://{tmp / 'lance'}", {"table": "t"}),
    ]
    server = None
    try:
        import pgserver

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(tmp / "pg", cleanup_mode="stop")
        url = server.get_uri()
        targets += [("postgresql, no index", url, {"table": "t0", "index": "none"}),
                    ("postgresql + HNSW (cosine)", url, {"table": "t1", "maintenance_work_mem": "1GB"})]
    except ImportError:
        print("postgresql: skipped (pgserver not installed)")
    try:
        for name, out, kw in targets:
            t = time.perf_counter()
            try:
                emb.export(str(out) if isinstance(out, Path) and name.startswith("lance") else out, **kw)
            except MissingDependencyError as exc:
                print(f"{name}: skipped ({exc})")
                continue
            took = time.perf_counter() - t
            print(f"{name}: {args.rows} x {args.dim} in {took:.2f}s = {args.rows / took:,.0f} rows/s")
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
