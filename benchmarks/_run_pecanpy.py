"""Child process: node2vec with PecanPy (mode SparseOTF), run with the peers' venv.

Does what PecanPy's own CLI does (``pecanpy --mode SparseOTF ...``: read_graph,
simulate_walks, then gensim Word2Vec with the arguments of its
``learn_embeddings``, then ``save_word2vec_format``), with a timer around each
phase. Prints one JSON line (prefixed ``RESULT``) with the timings in seconds.

Warm-up (``--warmup-input``): the same pipeline runs once on a small graph
first. PecanPy's walk kernel is a numba function compiled per graph (its
``move_forward`` is a closure over the graph's arrays, not cached on disk), so
part of its compilation happens again on the timed graph; that is part of
PecanPy's walk time in normal use too.
"""
from __future__ import annotations

import argparse
import json
import time

from _child_common import add_node2vec_args, rss_mb  # noqa: E402  (benchmarks/ is on sys.path: run as a script)

T_START = time.perf_counter()
import numba  # noqa: E402
from gensim.models import Word2Vec  # noqa: E402
from pecanpy import pecanpy as node2vec  # noqa: E402

T_IMPORT = time.perf_counter()


def run(a, path, output=None):
    t0 = time.perf_counter()
    g = node2vec.SparseOTF(p=a.p, q=a.q, workers=a.workers, verbose=False, random_state=a.seed)
    g.read_edg(path, weighted=False, directed=False, delimiter=a.delimiter)
    t1 = time.perf_counter()
    walks = g.simulate_walks(num_walks=a.num_walks, walk_length=a.walk_length)
    t2 = time.perf_counter()
    # the arguments of pecanpy.cli.learn_embeddings (gensim defaults otherwise: negative=5, sample=1e-3)
    model = Word2Vec(walks, vector_size=a.dim, window=a.window, min_count=0, sg=1, workers=a.workers,
                     epochs=a.epochs, seed=a.seed)
    t3 = time.perf_counter()
    n_tokens = sum(len(w) for w in walks)
    del walks
    if output:
        model.wv.save_word2vec_format(output)
    t4 = time.perf_counter()
    return dict(read_s=t1 - t0, walk_s=t2 - t1, train_s=t3 - t2, fit_s=t3 - t1, e2e_s=t3 - t0, write_s=t4 - t3,
                num_nodes=len(g.nodes), num_walk_tokens=n_tokens)


def main() -> None:
    ap = argparse.ArgumentParser()
    add_node2vec_args(ap)
    ap.add_argument("--delimiter", default="\t")
    ap.add_argument("--warmup-input", default=None, help="small edge list to run once before timing")
    a = ap.parse_args()

    numba.set_num_threads(a.workers)  # as pecanpy.cli.main does
    import pecanpy

    out = {"tool": "pecanpy", "pecanpy_version": getattr(pecanpy, "__version__", None),
           "import_s": T_IMPORT - T_START, "rss_after_import_mb": rss_mb()}
    t0 = time.perf_counter()
    if a.warmup_input:
        run(a, a.warmup_input)
    out["warmup_s"] = time.perf_counter() - t0
    out["rss_after_warmup_mb"] = rss_mb()
    out.update(run(a, a.input, a.output))
    out["rss_end_mb"] = rss_mb()
    print("RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
