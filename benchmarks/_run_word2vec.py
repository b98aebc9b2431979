"""Child process: train word vectors on one tokenized corpus with embedkit or gensim,
write word2vec text, print one ``RESULT`` JSON line with the phase timings.

Run by ``word2vec_vs_gensim.py`` (one process per run, so peak RSS is per tool).
The corpus file is already tokenized (space-separated, one paragraph per line):
embedkit reads it with ``tokenizer=str.split``, gensim with ``corpus_file=``
(its fastest reader), so both train on exactly the same tokens.
"""
from __future__ import annotations

import argparse
import json
import time

from _child_common import parse_params, rss_mb  # noqa: E402  (benchmarks/ is on sys.path: run as a script)

T_START = time.perf_counter()


def run_gensim(a) -> dict:
    from gensim.models import Word2Vec

    import embedkit as ek

    t0 = time.perf_counter()
    model = Word2Vec(vector_size=a.dim, window=a.window, negative=a.negatives, sample=a.sample,
                     min_count=a.min_count, workers=a.workers, sg=int(a.method == "skipgram"), seed=a.seed)
    model.build_vocab(corpus_file=a.input)
    t1 = time.perf_counter()
    model.train(corpus_file=a.input, total_examples=model.corpus_count, total_words=model.corpus_total_words,
                epochs=a.epochs)
    t2 = time.perf_counter()
    ek.Embeddings.from_gensim(model.wv).export(a.output)
    return {"read_s": t1 - t0, "train_s": t2 - t1, "e2e_s": t2 - t0, "vocab_size": len(model.wv)}


def run_embedkit(a) -> dict:
    import embedkit as ek

    params = dict(dim=a.dim, window=a.window, min_count=a.min_count, seed=a.seed, verbose=False)
    if a.method != "svd":
        params.update(negatives=a.negatives, sample=a.sample, epochs=a.epochs, workers=a.workers,
                      backend=a.backend, device="cpu")
    params.update(parse_params(a.param))
    w0 = time.perf_counter()
    # warm-up: numba compiles (or loads its cache) on first use; not counted
    ek.train(a.method, ek.datasets.load_text("emma", min_count=1), **{**params, "min_count": 5, "epochs": 1}
             if a.method != "svd" else params)
    t0 = time.perf_counter()
    corpus = ek.read_text(a.input, tokenizer=str.split, lowercase=False, verbose=False)
    emb = ek.train(a.method, corpus, **params)
    t2 = time.perf_counter()
    emb.export(a.output)
    train_s = emb.meta.get("train_time_s", t2 - t0)
    return {"warmup_s": t0 - w0, "read_s": (t2 - t0) - train_s, "train_s": train_s, "e2e_s": t2 - t0,
            "vocab_size": len(emb), "params": emb.meta.get("params")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", choices=("embedkit", "gensim"), required=True)
    ap.add_argument("--method", choices=("skipgram", "cbow", "svd"), required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--backend", default="numba")
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--negatives", type=int, default=5)
    ap.add_argument("--sample", type=float, default=1e-3)
    ap.add_argument("--min-count", type=int, default=5)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    a = ap.parse_args()
    out = run_gensim(a) if a.tool == "gensim" else run_embedkit(a)
    out.update(rss_end_mb=rss_mb(), process_s=time.perf_counter() - T_START)
    print("RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
