"""Child process of ``scale_bench.py``: one big workload with one tool, phase timers, one
``RESULT`` JSON line.

    _run_scale.py node2vec  --tool embedkit|embedkit-legacy --input EDGES ...
    _run_scale.py skipgram  --tool embedkit|gensim --input CORPUS ...
    _run_scale.py als|bpr   --tool embedkit|implicit --input DIR_WITH_train.tsv_test.tsv ...

Besides the peak RSS the driver takes from GNU time (VmHWM: anonymous memory plus the
file-backed pages mapped at the time, e.g. a memory-mapped token spool), a thread samples
``RssAnon`` every 50 ms, so the report can say how much of the peak is the process's own
memory and how much is page cache it maps (the kernel drops clean mapped pages under
pressure; anonymous memory it cannot).

``embedkit-legacy`` is the node2vec pipeline before issue 9 (the full walk matrix, then
``walks_to_sequences`` and ``np.bincount`` over the tokens), for before/after figures.
"""
from __future__ import annotations

import argparse
import json
import threading
import time

from _child_common import rss_mb  # noqa: E402  (benchmarks/ is on sys.path: run as a script)

T_START = time.perf_counter()


class AnonPeak:
    """Peak ``RssAnon`` of this process (MB), sampled by a daemon thread."""

    def __init__(self, every: float = 0.05):
        self.peak = 0.0
        self.every = every
        threading.Thread(target=self._run, daemon=True).start()

    def now(self) -> float:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) / 1024.0
        return 0.0

    def _run(self):
        while True:
            self.peak = max(self.peak, self.now())
            time.sleep(self.every)


# ------------------------------------------------------------------------------ node2vec
def node2vec(a) -> dict:
    import numpy as np

    import embedkit as ek
    from embedkit.engines.skipgram import SGNSConfig, train_sgns
    from embedkit.engines.walks import random_walks, walks_to_sequences

    params = dict(dim=a.dim, walk_length=a.walk_length, walks_per_node=a.num_walks, window=a.window, p=a.p,
                  q=a.q, epochs=1, workers=a.workers, seed=a.seed, sample=a.sample, backend="numba", device="cpu",
                  verbose=False)
    if a.walk_memory_mb is not None:
        params["walk_memory_mb"] = a.walk_memory_mb
    t0 = time.perf_counter()
    ek.train("node2vec", ek.read_graph(a.warmup_input), **{**params, "dim": 8})  # numba compile, not timed
    out = {"warmup_s": time.perf_counter() - t0, "rss_after_warmup_mb": rss_mb()}
    t0 = time.perf_counter()
    g = ek.read_graph(a.input)
    t1 = time.perf_counter()
    out.update(read_s=t1 - t0, graph=repr(g), rss_after_read_mb=rss_mb())
    if a.walks_only:  # the walk phase alone: tokens, offsets and counts for skip-gram
        from embedkit.engines.walks import walk_corpus

        t2 = time.perf_counter()
        kw = dict(walk_length=a.walk_length, walks_per_node=a.num_walks, p=a.p, q=a.q, seed=a.seed,
                  workers=a.workers)
        if a.tool == "embedkit":
            tokens, offsets, counts = walk_corpus(g, walk_memory_mb=a.walk_memory_mb, **kw)
        else:
            tokens, offsets = walks_to_sequences(random_walks(g, **kw))
            counts = np.bincount(tokens, minlength=g.num_nodes)
        out.update(walk_s=time.perf_counter() - t2, num_walk_tokens=int(tokens.size),
                   walks_spooled=isinstance(tokens, np.memmap), train_s=0.0)
    elif a.tool == "embedkit":
        emb = ek.train("node2vec", g, **params)
        out.update(walk_s=emb.meta["walk_time_s"], train_s=emb.meta["train_time_s"],
                   num_walk_tokens=emb.meta["num_walk_tokens"], walks_spooled=emb.meta["walks_spooled"])
    else:  # the pipeline before issue 9
        t2 = time.perf_counter()
        walks = random_walks(g, walk_length=a.walk_length, walks_per_node=a.num_walks, p=a.p, q=a.q, seed=a.seed,
                             workers=a.workers)
        tokens, offsets = walks_to_sequences(walks)
        del walks
        counts = np.bincount(tokens, minlength=g.num_nodes)
        t3 = time.perf_counter()
        cfg = SGNSConfig.from_params({**params, "learning_rate": 0.025, "min_learning_rate": 0.0001,
                                      "negatives": 5,
                                      "shared_negatives": True}, sg=True, workers=a.workers)
        train_sgns(tokens, offsets, counts, cfg, backend="numba")
        out.update(walk_s=t3 - t2, train_s=time.perf_counter() - t3, num_walk_tokens=int(tokens.size))
    out["fit_s"] = out["walk_s"] + out["train_s"]
    return out


# ------------------------------------------------------------------------------ skip-gram on a streamed corpus
def skipgram(a) -> dict:
    out = {}
    if a.tool == "embedkit":
        import embedkit as ek

        t0 = time.perf_counter()
        # whitespace tokens: the generated words are lowercase letters, so the default regex
        # tokenizer sees the same tokens (measured slower); gensim's corpus_file splits on spaces
        corpus = ek.read_text(a.input, tokenizer=str.split, lowercase=False, min_count=a.min_count, verbose=False)
        enc = corpus.encode()
        t1 = time.perf_counter()
        out.update(read_s=t1 - t0, vocab=len(enc.words), num_tokens=enc.num_tokens,
                   tokens_memmap=type(enc.tokens).__name__ == "memmap", rss_after_read_mb=rss_mb())
        emb = ek.train("skipgram", corpus, dim=a.dim, window=a.window, negatives=5, sample=a.sample,
                       epochs=a.epochs, workers=a.workers, seed=a.seed, backend="numba", device="cpu",
                       verbose=False)
        out["train_s"] = time.perf_counter() - t1
        vectors = emb.vectors
    else:
        from gensim.models import Word2Vec

        t0 = time.perf_counter()
        model = Word2Vec(vector_size=a.dim, window=a.window, negative=5, sample=a.sample, min_count=a.min_count,
                         sg=1, hs=0, workers=a.workers, seed=a.seed)
        model.build_vocab(corpus_file=a.input)
        t1 = time.perf_counter()
        out.update(read_s=t1 - t0, vocab=len(model.wv), num_tokens=int(model.corpus_total_words),
                   rss_after_read_mb=rss_mb())
        model.train(corpus_file=a.input, total_examples=model.corpus_count, total_words=model.corpus_total_words,
                    epochs=a.epochs)
        out["train_s"] = time.perf_counter() - t1
        vectors = model.wv.vectors
    out["fit_s"] = out["read_s"] + out["train_s"]
    out["model_mb"] = vectors.nbytes * 2 / 2**20  # input + output vectors
    return out


# ------------------------------------------------------------------------------ ALS / BPR
def _sample_users(test_users, n: int, seed: int):
    """``n`` distinct raw user ids among those with a test interaction (the same for both tools)."""
    import numpy as np

    ids = np.unique(test_users)
    if n and n < ids.size:
        ids = np.sort(np.random.default_rng(seed).choice(ids, n, replace=False))
    return ids


def recsys(a) -> dict:
    import numpy as np
    from threadpoolctl import threadpool_limits

    train_path, test_path = f"{a.input}/train.tsv", f"{a.input}/test.tsv"
    out = {}
    extra = {"epochs": a.iterations}  # als sweeps and bpr epochs: implicit's iterations
    if a.tool == "embedkit":
        import embedkit as ek

        t0 = time.perf_counter()
        train = ek.read_interactions(train_path)
        test = ek.read_interactions(test_path)
        t1 = time.perf_counter()
        out.update(read_s=t1 - t0, users=train.num_users, items=train.num_items, train_nnz=train.nnz,
                   test_nnz=test.nnz, rss_after_read_mb=rss_mb())
        model = ek.train(a.workload, train, dim=a.dim, workers=a.workers, seed=a.seed, backend="implicit",
                         device="cpu", verbose=False, **extra)
        t2 = time.perf_counter()
        out["fit_s"] = t2 - t1
        users = np.asarray([int(u) for u in test.users])
        sample = _sample_users(users[test.user_of_entry()], a.eval_users, a.seed)
        keep = np.isin(users, sample)[test.user_of_entry()]
        m = ek.evaluate.ranking(model, train, test.select(keep), k=a.k, batch_size=a.batch_size)
        out["evaluate_s"] = time.perf_counter() - t2
        out["eval_users"] = m["users"]
        out["metrics"] = {k: float(v) for k, v in m.items() if "@" in k}
    else:
        import pandas as pd
        import scipy.sparse as sp

        t0 = time.perf_counter()
        tr = pd.read_csv(train_path, sep="\t", header=None, names=["u", "i"], dtype=np.int64)
        te = pd.read_csv(test_path, sep="\t", header=None, names=["u", "i"], dtype=np.int64)
        nu = int(max(tr.u.max(), te.u.max())) + 1
        ni = int(max(tr.i.max(), te.i.max())) + 1
        train = sp.csr_matrix((np.ones(len(tr), np.float32), (tr.u.to_numpy(), tr.i.to_numpy())), shape=(nu, ni))
        t1 = time.perf_counter()
        out.update(read_s=t1 - t0, users=nu, items=ni, train_nnz=int(train.nnz), test_nnz=len(te),
                   rss_after_read_mb=rss_mb())
        with threadpool_limits(1, "blas"):
            if a.workload == "als":
                from implicit.cpu.als import AlternatingLeastSquares

                # embedkit's confidence 1 + confidence * r with confidence = 1 and r = 1: 2 on every stored cell
                model = AlternatingLeastSquares(factors=a.dim, num_threads=a.workers, random_state=a.seed,
                                                iterations=a.iterations)
                conf = train.copy()
                conf.data[:] = 2.0
            else:
                from implicit.cpu.bpr import BayesianPersonalizedRanking

                model = BayesianPersonalizedRanking(factors=a.dim, num_threads=a.workers, random_state=a.seed,
                                                    iterations=a.iterations)
                conf = train
            model.fit(conf, show_progress=False)
        t2 = time.perf_counter()
        out["fit_s"] = t2 - t1
        from implicit.evaluation import ranking_metrics_at_k

        sample = _sample_users(te.u.to_numpy(), a.eval_users, a.seed)
        te = te[te.u.isin(sample)]
        test = sp.csr_matrix((np.ones(len(te), np.float32), (te.u.to_numpy(), te.i.to_numpy())), shape=(nu, ni))
        m = ranking_metrics_at_k(model, train, test, K=a.k, show_progress=False, num_threads=a.workers)
        out["evaluate_s"] = time.perf_counter() - t2
        out["eval_users"] = int(len(sample))
        out["metrics"] = {f"{k}@{a.k}": float(v) for k, v in m.items()}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workload", choices=("node2vec", "skipgram", "als", "bpr"))
    ap.add_argument("--tool", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--warmup-input", default=None)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--p", type=float, default=1.0)
    ap.add_argument("--q", type=float, default=1.0)
    ap.add_argument("--num-walks", type=int, default=10)
    ap.add_argument("--walk-length", type=int, default=80)
    ap.add_argument("--walk-memory-mb", type=float, default=None)
    ap.add_argument("--walks-only", action="store_true", help="node2vec: time the walk phase alone")
    ap.add_argument("--sample", type=float, default=1e-3)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--iterations", type=int, default=15)
    ap.add_argument("--eval-users", type=int, default=100_000)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=2048)
    a = ap.parse_args()
    anon = AnonPeak()
    out = {"workload": a.workload, "tool": a.tool, "import_s": time.perf_counter() - T_START}
    out.update({"node2vec": node2vec, "skipgram": skipgram, "als": recsys, "bpr": recsys}[a.workload](a))
    out["rss_end_mb"] = rss_mb()
    out["peak_rss_anon_mb"] = max(anon.peak, anon.now())
    print("RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
