"""Updating DeepWalk/node2vec on a grown graph (``init=``) against a full retrain (issue 20).

A real graph (default: SNAP ca-GrQc from /work/shared/data) loses 10% of its nodes, chosen at
random: they "arrive later". The old graph is the rest, induced. The grown graph is the whole
graph minus 20% of the late nodes' edges, held out (at least one edge of every late node is
kept). Three trainings, one run, side by side, same parameters and seed:

* ``base``: the old graph (what production already has);
* ``update``: the grown graph with ``init=base`` (walks from the affected region only);
* ``retrain``: the grown graph from scratch;

scored by link-prediction AUC (cosine of the two endpoints' vectors) on the held-out edges
against as many sampled non-edges that touch a late node. Printed: AUCs, the ratio update /
retrain (target >= 0.97), the times and their ratio (target <= 0.30), and ``uptime``.

Usage: ``python benchmarks/evolve_graph.py [--method deepwalk] [--data PATH] [--workers 2]``.
"""
from __future__ import annotations

import argparse
import subprocess
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

import embedkit as ek

DATA = Path("/work/shared/data/ca-grqc/ca-GrQc.txt")


def read_edges(path: Path) -> np.ndarray:
    pairs = set()
    for line in open(path):
        if line.startswith("#") or not line.strip():
            continue
        a, b = line.split()[:2]
        if a != b:
            pairs.add((min(a, b), max(a, b)))
    return np.array(sorted(pairs))


def split(edges: np.ndarray, seed: int, late_share: float = 0.1, held_share: float = 0.2):
    rng = np.random.default_rng(seed)
    nodes = np.unique(edges)
    late = set(rng.choice(nodes, int(round(late_share * len(nodes))), replace=False).tolist())
    is_late = np.array([a in late or b in late for a, b in edges])
    old = edges[~is_late]
    late_edges = edges[is_late]
    order = rng.permutation(len(late_edges))
    held, kept, seen = [], [], set()
    n_held = int(held_share * len(late_edges))
    for i in order:  # hold out edges, but keep at least one edge of every late node
        a, b = late_edges[i]
        ends = [x for x in (a, b) if x in late]
        if len(held) < n_held and all(x in seen for x in ends):
            held.append(late_edges[i])
        else:
            kept.append(late_edges[i])
            seen.update(ends)
    grown = np.concatenate([old, np.array(kept)])
    in_grown = set(np.unique(grown).tolist())
    held = [e for e in held if e[0] in in_grown and e[1] in in_grown]  # both ends must have a vector
    return old, grown, np.array(held), sorted(late & in_grown)


def non_edges(edges: np.ndarray, grown: np.ndarray, late: list, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed + 1)
    have = {tuple(e) for e in edges}
    nodes = np.unique(grown)
    out = []
    while len(out) < n:
        a, b = rng.choice(late), rng.choice(nodes)
        if a != b and (min(a, b), max(a, b)) not in have:
            out.append((a, b))
    return np.array(out)


def auc(emb, pos, neg) -> float:
    u = emb.normalized()
    score = [float(u[a] @ u[b]) for a, b in np.concatenate([pos, neg])]
    return roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], score)


def graph(edges):
    import networkx as nx

    return nx.Graph([tuple(e) for e in edges])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--method", default="deepwalk")
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--hops", type=int, default=1)
    args = ap.parse_args()
    edges = read_edges(args.data)
    old, grown, held, late = split(edges, args.seed)
    neg = non_edges(edges, grown, late, len(held), args.seed)
    kw = dict(workers=args.workers, seed=args.seed, verbose=False)
    print(f"data {args.data.name}: {len(np.unique(edges))} nodes, {len(edges)} edges; late nodes {len(late)}; "
          f"old graph {len(old)} edges, grown {len(grown)}, held out {len(held)} (+ {len(neg)} non-edges)")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    t = time.perf_counter()
    base = ek.train(args.method, graph(old), **kw)
    t_base = time.perf_counter() - t
    rows = []
    for name, extra in (("update", dict(init=base, update_hops=args.hops)),
                        ("update, frozen", dict(init=base, update_hops=args.hops, freeze_existing=True)),
                        ("retrain", {})):
        t, c = time.perf_counter(), time.process_time()
        emb = ek.train(args.method, graph(grown), **kw, **extra)
        rows.append((name, time.perf_counter() - t, time.process_time() - c, auc(emb, held, neg),
                     emb.meta.get("continued", {})))
    r_t, r_c, r_auc = rows[-1][1:4]
    print(f"base (old graph): {t_base:.2f} s")
    print("| run | wall (s) | / retrain | CPU (s) | / retrain | AUC, late nodes' held-out edges | / retrain "
          "| walk start nodes | walks |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    n_nodes = len(np.unique(grown))
    for name, sec, cpu, a, cont in rows:
        starts = cont.get("walk_start_nodes", n_nodes)
        walks = cont.get("walks", n_nodes * 10)
        print(f"| {name} | {sec:.2f} | {sec / r_t:.3f} | {cpu:.2f} | {cpu / r_c:.3f} | {a:.4f} | {a / r_auc:.3f} "
              f"| {starts} of {n_nodes} | {walks} |")
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
