"""Loading vectors into PostgreSQL + pgvector: embedkit's export against the usual recipes, and
the recall of pgvector's HNSW index against exact search.

Run by hand (starts its own PostgreSQL + pgvector from the pgserver wheel in a temporary folder):

    .venv/bin/python benchmarks/db_export_bench.py --rows 200000 --dim 128

Loaders, each into a fresh table with the same columns (key text primary key, embedding vector(d)):

- embedkit: ``emb.export(url, table=..., index="none")`` — binary COPY with psycopg's
  ``set_types`` and pgvector's binary dumper, primary key added after the load, one transaction;
- text COPY: ``COPY ... FROM STDIN`` in text format, each vector written as pgvector's text
  literal ``[x1,x2,...]`` (the ``'[...]'`` strings of pgvector's README), primary key declared up front;
- executemany: psycopg ``cursor.executemany("INSERT ... VALUES (%s, %s)")`` with pgvector's adapter,
  on a sample of ``--sample`` rows (extrapolated: it is far too slow for all rows).

Then an HNSW index (cosine, pgvector defaults m=16, ef_construction=64) is built on embedkit's table
and ``ORDER BY embedding <=> q LIMIT 10`` is compared with exact cosine search (numpy) for
``--queries`` random queries at several ``hnsw.ef_search`` values.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
import warnings

import numpy as np


def _rate(n, seconds):
    return n / seconds if seconds > 0 else float("inf")


_LATENT = {}


def _data(rng, n: int, dim: int, kind: str, seed_of_structure=None) -> np.ndarray:
    """``n`` rows of ``kind`` (queries reuse the same clusters and projection as the data)."""
    if kind == "gaussian":
        return rng.standard_normal((n, dim)).astype(np.float32)
    if "proj" not in _LATENT:
        structure = np.random.default_rng(1)
        _LATENT["centres"] = 3 * structure.standard_normal((1000, 32))
        _LATENT["proj"] = structure.standard_normal((32, dim)) / np.sqrt(32)
    z = _LATENT["centres"][rng.integers(0, 1000, n)] + rng.standard_normal((n, 32))
    return (z @ _LATENT["proj"] + 0.1 * rng.standard_normal((n, dim))).astype(np.float32)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--sample", type=int, default=20_000, help="rows loaded by executemany")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--ef-search", default="40,100,200", help="hnsw.ef_search values to measure")
    ap.add_argument("--data", choices=("gaussian", "latent"), default="gaussian",
                    help="gaussian: i.i.d. N(0,1) rows (no structure: the worst case for any ANN index); latent: "
                         "a mixture of 1,000 Gaussian clusters in a 32-d subspace projected to --dim, plus noise "
                         "(low intrinsic dimension, like learned embeddings)")
    ap.add_argument("--load-only", action="store_true", help="measure the loaders only (no index, no recall)")
    args = ap.parse_args()

    import pgserver
    import psycopg
    from pgvector.psycopg import register_vector

    import embedkit as ek

    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print(f"data: {args.rows} x {args.dim} {args.data}")
    rng = np.random.default_rng(0)
    x = _data(rng, args.rows, args.dim, args.data)
    keys = [f"k{i}" for i in range(args.rows)]
    emb = ek.Embeddings(keys, x)
    folder = tempfile.mkdtemp(prefix="embedkit-pgbench-")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        server = pgserver.get_server(folder, cleanup_mode="stop")
    url = server.get_uri()
    try:
        t = time.perf_counter()
        emb.export(url, table="bench_embedkit", index="none")
        ours = time.perf_counter() - t
        print(f"embedkit export (binary COPY, key added after): {args.rows} rows in {ours:.1f}s = "
              f"{_rate(args.rows, ours):,.0f} rows/s")

        with psycopg.connect(url) as conn:
            register_vector(conn)
            conn.execute(f"CREATE TABLE bench_text (key text PRIMARY KEY, embedding vector({args.dim}))")
            t = time.perf_counter()
            with conn.cursor().copy("COPY bench_text (key, embedding) FROM STDIN") as copy:
                for key, row in zip(keys, x):
                    copy.write_row((key, "[" + ",".join(str(v) for v in row.tolist()) + "]"))
            conn.commit()
            text = time.perf_counter() - t
        print(f"text COPY of '[...]' strings: {args.rows} rows in {text:.1f}s = {_rate(args.rows, text):,.0f} rows/s")
        ok = ek.load(url, table="bench_text", limit=1000)
        exact_text = np.array_equal(ok.vectors, x[:1000])
        print(f"  text COPY round trip exact on the first 1000 rows: {exact_text} (Python's str of a float is its "
              "double repr: enough digits)")

        m = min(args.sample, args.rows)
        with psycopg.connect(url) as conn:
            register_vector(conn)
            conn.execute(f"CREATE TABLE bench_many (key text PRIMARY KEY, embedding vector({args.dim}))")
            t = time.perf_counter()
            with conn.cursor() as cur:
                cur.executemany("INSERT INTO bench_many (key, embedding) VALUES (%s, %s)", list(zip(keys[:m], x[:m])))
            conn.commit()
            many = time.perf_counter() - t
        print(f"executemany INSERT: {m} rows (sample) in {many:.1f}s = {_rate(m, many):,.0f} rows/s "
              f"(all {args.rows}: about {args.rows / _rate(m, many):.0f}s extrapolated)")
        print(f"ratios: embedkit / text COPY = {_rate(args.rows, ours) / _rate(args.rows, text):.2f}, "
              f"embedkit / executemany = {_rate(args.rows, ours) / _rate(m, many):.1f}")

        if args.load_only:
            return
        t = time.perf_counter()
        emb.export(url, table="bench_hnsw", index="hnsw", metric="cosine", maintenance_work_mem="1GB")
        full = time.perf_counter() - t
        print(f"embedkit export with the HNSW index (m 16, ef_construction 64, maintenance_work_mem 1GB): "
              f"{full:.1f}s = {_rate(args.rows, full):,.0f} rows/s")

        q = _data(rng, args.queries, args.dim, args.data, seed_of_structure=x)
        xu = x / np.linalg.norm(x, axis=1, keepdims=True)
        qu = q / np.linalg.norm(q, axis=1, keepdims=True)
        truth = np.argsort(-(qu @ xu.T), axis=1)[:, :10]
        with psycopg.connect(url) as conn:
            register_vector(conn)
            for ef in [int(v) for v in args.ef_search.split(",")]:
                conn.execute(f"SET hnsw.ef_search = {ef}")
                hits = 0
                t = time.perf_counter()
                for i in range(len(q)):
                    rows = conn.execute("SELECT key FROM bench_hnsw ORDER BY embedding <=> %s LIMIT 10",
                                        (q[i],)).fetchall()
                    hits += len({int(r[0][1:]) for r in rows} & set(truth[i].tolist()))
                took = time.perf_counter() - t
                print(f"HNSW cosine recall@10, ef_search {ef}: {hits / (10 * len(q)):.3f} "
                      f"({len(q)} queries, {1000 * took / len(q):.1f} ms/query)")
    finally:
        server.cleanup()
        shutil.rmtree(folder, ignore_errors=True)
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    print("cpus:", os.cpu_count())


if __name__ == "__main__":
    main()
