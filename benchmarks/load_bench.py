"""Loading large vector files: time and peak memory of ``ek.load`` against the size of the matrix.

    .venv/bin/python benchmarks/load_bench.py                   # 1M x 300: .txt, .bin, .ekv, .ekv mmap
    .venv/bin/python benchmarks/load_bench.py --n 200000 --formats txt,bin

The files (random float32 vectors, keys ``w0`` ... ``w{n-1}``) are written once to
``benchmarks/out/load/`` by embedkit's own writers. Each load runs in its own process and
reports its peak RSS (VmHWM) and the RSS of the interpreter with embedkit imported before
loading, so ``peak - base`` is what loading took; the float32 matrix alone is ``n*dim*4``
bytes. ``--gensim`` adds gensim's ``KeyedVectors.load_word2vec_format`` on the same files.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _child_common import rss_mb  # noqa: E402


def child(path: str, how: str) -> None:
    import embedkit as ek

    base = rss_mb()
    start = time.perf_counter()
    if how == "gensim":
        from gensim.models import KeyedVectors

        kv = KeyedVectors.load_word2vec_format(path, binary=path.endswith(".bin"))
        shape = kv.vectors.shape
    else:
        emb = ek.load(path, mmap=how == "mmap")
        shape = emb.vectors.shape
        if how == "mmap":
            float(emb.vectors[::1000].sum())  # touch a few pages
    elapsed = time.perf_counter() - start
    print(json.dumps({"path": Path(path).name, "how": how, "load_s": round(elapsed, 2), "base_rss_mb": round(base),
                      "peak_rss_mb": round(rss_mb()), "shape": list(shape)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--dim", type=int, default=300)
    ap.add_argument("--formats", default="txt,bin,ekv,mmap")
    ap.add_argument("--gensim", action="store_true")
    ap.add_argument("--out", default=str(HERE / "out" / "load"))
    ap.add_argument("--child", nargs=2, metavar=("PATH", "HOW"))
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    import embedkit as ek

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    emb = None
    runs = []
    for fmt in args.formats.split(","):
        ext = "ekv" if fmt == "mmap" else fmt
        path = out / f"vectors-{args.n}x{args.dim}.{ext}"
        if not path.exists():
            if emb is None:
                rng = np.random.default_rng(0)
                emb = ek.Embeddings([f"w{i}" for i in range(args.n)],
                                    rng.standard_normal((args.n, args.dim), dtype=np.float32))
            start = time.perf_counter()
            emb.export(path)
            print(f"wrote {path.name} ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f}s",
                  file=sys.stderr)
        hows = ["mmap" if fmt == "mmap" else "embedkit"] + (["gensim"] if args.gensim and ext in ("txt", "bin") else [])
        for how in hows:
            proc = subprocess.run([sys.executable, __file__, "--child", str(path), how], capture_output=True, text=True)
            if proc.returncode != 0:
                print(proc.stderr[-2000:], file=sys.stderr)
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            r["file_mb"] = round(path.stat().st_size / 1e6)
            runs.append(r)
            print(r, file=sys.stderr)
    matrix_mb = args.n * args.dim * 4 / 1e6
    (out / "results.json").write_text(json.dumps({"n": args.n, "dim": args.dim, "matrix_mb": matrix_mb,
                                                  "runs": runs}, indent=1))
    print(f"matrix: {args.n} x {args.dim} float32 = {matrix_mb:.0f} MB")
    print("| file | loader | file MB | load s | RSS before MB | peak RSS MB | peak - before MB |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in runs:
        print(f"| {r['path']} | {r['how']} | {r['file_mb']} | {r['load_s']} | {r['base_rss_mb']} | "
              f"{r['peak_rss_mb']} | {r['peak_rss_mb'] - r['base_rss_mb']} |")


if __name__ == "__main__":
    main()
