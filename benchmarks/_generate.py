"""Seeded generators of big synthetic inputs for ``benchmarks/scale_bench.py`` (issue 9).

    .venv/bin/python benchmarks/_generate.py graph  --out /tmp/ek-scale/rmat.tsv
    .venv/bin/python benchmarks/_generate.py corpus --out /tmp/ek-scale/zipf.txt
    .venv/bin/python benchmarks/_generate.py interactions --out /tmp/ek-scale/inter

Everything is vectorised numpy (a few seconds to a minute or two each on 2 cores)
and written to the path given (keep it out of the repository: /tmp or
``benchmarks/out/``, which git ignores). Each writer prints one JSON line with
what it wrote.

* ``graph``: an R-MAT graph (Chakrabarti, Zhan & Faloutsos, SDM 2004) over
  ``2**scale`` nodes with quadrant probabilities ``a, b, c, d`` (defaults 0.45,
  0.22, 0.22, 0.11: less skewed than Graph500's 0.57/0.19/0.19/0.05, so that most
  of the 2**20 nodes get an edge), node ids shuffled, self-loops and repeated
  edges dropped (either direction), drawn until ``edges`` distinct undirected
  edges exist. Tab-separated ``u<TAB>v`` lines (what PecanPy reads).
* ``corpus``: ``tokens`` whitespace-separated words drawn from a Zipf-Mandelbrot
  law ``p(r) ~ 1 / (r + 2.7)**1.07`` over ``vocab`` word types (the fit of
  Piantadosi 2014 to English), one sentence a line, sentence lengths uniform in
  [5, 40]. Words are lowercase letter strings, so a regex and a whitespace
  tokenizer see the same tokens.
* ``interactions``: ``users x items`` with ``nnz`` distinct (user, item) pairs;
  user activity log-normal (sigma 1), item popularity Zipf with exponent 0.8;
  20% of each user's interactions (random, at least one when the user has two or
  more) go to ``test.tsv``, the rest to ``train.tsv``, ``user<TAB>item`` lines.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np


def _write_atomic(path: Path, chunks) -> int:
    """Write byte chunks to ``path`` through a temporary file renamed at the end; returns bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    n = 0
    with open(tmp, "wb") as fh:
        for c in chunks:
            fh.write(c)
            n += len(c)
    os.replace(tmp, path)
    return n


def _pairs_text(a: np.ndarray, b: np.ndarray, step: int = 2_000_000):
    """``a[i]<TAB>b[i]\\n`` lines as byte chunks (numpy string ops, no Python loop per line)."""
    for s in range(0, a.size, step):
        x = a[s:s + step].astype("U10")
        y = b[s:s + step].astype("U10")
        lines = np.char.add(np.char.add(x, "\t"), y)
        yield ("\n".join(lines.tolist()) + "\n").encode()


# ------------------------------------------------------------------------------ graph
def rmat_edges(scale: int, edges: int, a=0.45, b=0.22, c=0.22, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``edges`` distinct undirected R-MAT edges ``(u, v)`` with ``u < v`` over ``2**scale`` shuffled ids."""
    rng = np.random.default_rng(seed)
    n = 1 << scale
    perm = rng.permutation(n).astype(np.int64)
    keys = np.empty(0, dtype=np.int64)
    while keys.size < edges:
        m = int((edges - keys.size) * 1.15) + 1000
        u = np.zeros(m, dtype=np.int64)
        v = np.zeros(m, dtype=np.int64)
        for _ in range(scale):
            r = rng.random(m)
            down = r >= a + b          # quadrants c, d: the source bit is 1
            right = ((r >= a) & (r < a + b)) | (r >= a + b + c)  # quadrants b, d: the target bit is 1
            u = (u << 1) | down
            v = (v << 1) | right
        u, v = perm[u], perm[v]
        lo, hi = np.minimum(u, v), np.maximum(u, v)
        ok = lo != hi
        keys = np.unique(np.concatenate([keys, lo[ok] * n + hi[ok]]))
    keys = rng.permutation(keys)[:edges]
    return keys // n, keys % n


def write_graph(out: Path, scale: int, edges: int, seed: int) -> dict:
    t0 = time.perf_counter()
    u, v = rmat_edges(scale, edges, seed=seed)
    nbytes = _write_atomic(out, _pairs_text(u, v))
    nodes = np.unique(np.concatenate([u, v])).size
    deg = np.bincount(np.concatenate([u, v]))
    return {"kind": "graph", "path": str(out), "nodes": int(nodes), "edges": int(u.size), "bytes": nbytes,
            "max_degree": int(deg.max()), "seconds": round(time.perf_counter() - t0, 1)}


# ------------------------------------------------------------------------------ corpus
def _words(n: int, rng) -> np.ndarray:
    """``n`` distinct lowercase words (2 to 10 letters), shorter ones for the frequent ranks."""
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)
    out, seen = [], set()
    length = np.clip((np.log2(np.arange(n) + 2) * 0.6 + rng.normal(0, 1, n)).astype(int) + 2, 2, 10)
    for i in range(n):
        while True:
            w = letters[rng.integers(0, 26, length[i])].tobytes()
            if w not in seen:
                seen.add(w)
                out.append(w)
                break
            length[i] = min(length[i] + 1, 12)
    return np.array(out, dtype=object)


def write_corpus(out: Path, tokens: int, vocab: int, seed: int) -> dict:
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    words = _words(vocab, rng)
    with_space = np.array([w + b" " for w in words], dtype=object)
    with_newline = np.array([w + b"\n" for w in words], dtype=object)
    cdf = np.cumsum(1.0 / (np.arange(1, vocab + 1) + 2.7) ** 1.07)
    cdf /= cdf[-1]
    counts = np.zeros(vocab, dtype=np.int64)
    lines = 0

    def chunks():
        nonlocal lines
        done = 0
        step = 5_000_000
        while done < tokens:
            m = min(step, tokens - done)
            ids = np.searchsorted(cdf, rng.random(m), side="right").clip(max=vocab - 1)
            counts[:] += np.bincount(ids, minlength=vocab)
            lens = rng.integers(5, 41, m // 5 + 2)
            ends = np.cumsum(lens)
            ends = ends[ends <= m]
            if ends.size == 0 or ends[-1] != m:
                ends = np.append(ends, m)
            last = np.zeros(m, dtype=bool)
            last[ends - 1] = True
            lines += ends.size
            yield b"".join(np.where(last, with_newline[ids], with_space[ids]).tolist())
            done += m

    nbytes = _write_atomic(out, chunks())
    return {"kind": "corpus", "path": str(out), "tokens": tokens, "vocab_types": vocab,
            "types_seen": int((counts > 0).sum()), "types_count_ge_5": int((counts >= 5).sum()), "lines": lines,
            "bytes": nbytes, "seconds": round(time.perf_counter() - t0, 1)}


# ------------------------------------------------------------------------------ interactions
def write_interactions(out: Path, users: int, items: int, nnz: int, seed: int) -> dict:
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    pop = 1.0 / np.arange(1, items + 1) ** 0.8
    item_cdf = np.cumsum(pop[rng.permutation(items)])
    item_cdf /= item_cdf[-1]
    activity = rng.lognormal(0.0, 1.0, users)
    keys = np.empty(0, dtype=np.int64)
    while keys.size < nnz:
        m = int((nnz - keys.size) * 1.1) + 1000
        want = activity / activity.sum() * m
        per_user = rng.poisson(want)
        u = np.repeat(np.arange(users, dtype=np.int64), per_user)
        i = np.searchsorted(item_cdf, rng.random(u.size), side="right").clip(max=items - 1)
        keys = np.unique(np.concatenate([keys, u * items + i]))
    keys = np.sort(rng.choice(keys, nnz, replace=False))
    u, i = keys // items, keys % items
    # 20% of each user's interactions to test (random order within the user, rounded down)
    r = rng.random(nnz)
    order = np.lexsort((r, u))
    u, i = u[order], i[order]
    cnt = np.bincount(u, minlength=users)
    start = np.concatenate([[0], np.cumsum(cnt)[:-1]])
    pos = np.arange(nnz) - np.repeat(start, cnt)
    n_test = (cnt * 0.2).astype(np.int64)
    n_test[(cnt >= 2) & (n_test == 0)] = 1
    test = pos < np.repeat(n_test, cnt)
    out.mkdir(parents=True, exist_ok=True)
    b_train = _write_atomic(out / "train.tsv", _pairs_text(u[~test], i[~test]))
    b_test = _write_atomic(out / "test.tsv", _pairs_text(u[test], i[test]))
    return {"kind": "interactions", "path": str(out), "users_with_interactions": int((cnt > 0).sum()),
            "items_with_interactions": int(np.unique(i).size), "interactions": nnz,
            "train": int((~test).sum()), "test": int(test.sum()), "bytes": b_train + b_test,
            "max_user_interactions": int(cnt.max()), "seconds": round(time.perf_counter() - t0, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("kind", choices=("graph", "corpus", "interactions"))
    ap.add_argument("--out", required=True, help="file (graph, corpus) or folder (interactions) to write")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--scale", type=int, default=20, help="graph: 2**scale node ids")
    ap.add_argument("--edges", type=int, default=10_000_000, help="graph: distinct undirected edges")
    ap.add_argument("--tokens", type=int, default=200_000_000, help="corpus: tokens")
    ap.add_argument("--vocab", type=int, default=300_000, help="corpus: word types of the Zipf law")
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--nnz", type=int, default=20_000_000, help="interactions: distinct (user, item) pairs")
    a = ap.parse_args()
    out = Path(a.out)
    if a.kind == "graph":
        res = write_graph(out, a.scale, a.edges, a.seed)
    elif a.kind == "corpus":
        res = write_corpus(out, a.tokens, a.vocab, a.seed)
    else:
        res = write_interactions(out, a.users, a.items, a.nnz, a.seed)
    print(json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
