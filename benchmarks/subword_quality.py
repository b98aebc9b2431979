"""Subword vectors (fastText's model) against gensim's FastText and word-level skip-gram, in one run.

    EMBEDKIT_SHARED_DATA=/path/to/shared/data \\
    .venv/bin/python benchmarks/subword_quality.py [--max-mb 30] [--epochs 1] [--runs sg,ft,bpe,char]

Corpus: the first ``--max-mb`` MB of the tokenized Gutenberg corpus
(``benchmarks/out/gutenberg-tokens.txt``: lowercase words, one paragraph per line; see
``_gutenberg.py``). Every model: dim 100, window 5, 5 negatives, sample 1e-3, min_count 5,
``--epochs`` epochs, ``--workers`` threads, each of ``--seeds``. Runs (``--runs``):

* ``sg``: embedkit ``skipgram`` (word level: no vector for a word it has not kept);
* ``ft``: gensim ``FastText`` (skip-gram, character 3-6-grams, 2M buckets, fastText's defaults),
  trained on the same file with ``corpus_file=``. In that mode each of gensim's threads decays
  its learning rate by its own share of the sentences against the whole corpus's count, so with
  ``--workers 2`` and 1 epoch alpha ends at about 0.0125, not min_alpha (gensim 4.4.0,
  ``_train_epoch_corpusfile``);
* ``ft-iter``: the same model fed the file's lines as a list (``corpus_iterable``): alpha decays
  to min_alpha as written, at gensim's slower pace for iterables;
* ``bpe``, ``bpe-pieces``, ``char``: embedkit ``subword`` with those ``units`` (8000 BPE pieces;
  char: 3-6-grams, 2M buckets).

Train time: the training call only (gensim's vocabulary pass and embedkit's corpus reading and
BPE training are reported apart, as "prep s"). Word similarity: Spearman on WordSim353,
SimLex-999, MEN and Stanford Rare Words (``word-similarity/``), on all pairs for the models
that give any string a vector, and on the pairs skip-gram covers ("covered"). Validation sets
(never the targets; used to choose settings): MTurk-771, RG-65, YP-130, SimVerb-3500.
Misspellings: 500 adjacent transpositions of frequent words (5+ letters, among the 2000 most
frequent, the typo no word of the corpus) and 500 random one-edit typos; "pairwise" is the
share of (typo, random frequent word) comparisons where the typo is nearer its word (10 random
words a typo), "all 10" the share of typos nearer their word than all 10. Prints markdown,
writes ``benchmarks/out/subword_quality.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _gutenberg import DATA, head_mb, tokenized_file  # noqa: E402

TARGETS = {"WS353": "EN-WS-353-ALL.txt", "SimLex": "EN-SIMLEX-999.txt", "MEN": "EN-MEN-TR-3k.txt",
           "RW": "EN-RW-STANFORD.txt"}
VALIDATION = {"MTurk771": "EN-MTurk-771.txt", "RG65": "EN-RG-65.txt", "YP130": "EN-YP-130.txt",
              "SimVerb": "EN-SimVerb-3500.txt"}
LETTERS = "abcdefghijklmnopqrstuvwxyz"


def one_edit(word: str, rng) -> str:
    i = int(rng.integers(len(word)))
    kind = int(rng.integers(4))
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + LETTERS[rng.integers(26)] + word[i:]
    if kind == 2:
        return word[:i] + LETTERS[rng.integers(26)] + word[i + 1:]
    return transpose(word, rng)


def transpose(word: str, rng) -> str:
    i = int(rng.integers(len(word) - 1))
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def typos(frequent: list, counts: dict, edit, n: int = 500, seed: int = 0):
    rng = np.random.default_rng(seed)
    pairs = []
    while len(pairs) < n:
        w = frequent[rng.integers(len(frequent))]
        t = edit(w, rng)
        if t not in counts and t != w:
            pairs.append((w, t))
    return pairs


def misspelling_rates(vectors_for, pairs, frequent, seed: int = 1) -> dict:
    def unit(x):
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    rng = np.random.default_rng(seed)
    t = unit(vectors_for([b for _, b in pairs]))
    w = unit(vectors_for([a for a, _ in pairs]))
    others = unit(vectors_for(frequent))[rng.integers(0, len(frequent), (len(pairs), 10))]
    wins = np.einsum("nd,nd->n", t, w)[:, None] > np.einsum("nd,nkd->nk", t, others)
    return {"pairwise": float(wins.mean()), "all10": float(wins.all(axis=1).mean())}


def pair_words(files) -> list:
    from embedkit.evaluate.similarity import read_word_pairs

    words = set()
    for f in files.values():
        for a, b, _ in read_word_pairs(DATA / "word-similarity" / f):
            words.update((a, b))
    return sorted(words)


def similarity(emb, files) -> dict:
    import embedkit as ek

    out = {}
    for name, file in files.items():
        m = ek.evaluate.similarity(emb, DATA / "word-similarity" / file)
        out[name] = {"spearman": m["spearman"], "coverage": m["coverage"]}
    return out


def score(name, vectors_for, words_needed, covered_words, frequent, typo_sets) -> dict:
    """Similarity on all pairs, on the pairs skip-gram covers, validation; misspellings."""
    import embedkit as ek

    everything = ek.Embeddings(words_needed, vectors_for(words_needed))
    row = {"similarity": similarity(everything, TARGETS), "validation": similarity(everything, VALIDATION)}
    if covered_words is not None:
        keep = [w for w in words_needed if w in covered_words]
        covered = ek.Embeddings(keep, everything.vectors[[everything.index_of(w) for w in keep]])
        row["covered"] = similarity(covered, {k: TARGETS[k] for k in ("WS353", "SimLex")})
    if typo_sets is not None:
        row["misspellings"] = {k: misspelling_rates(vectors_for, pairs, frequent) for k, pairs in typo_sets.items()}
    return row


def load() -> str:
    return os.getloadavg().__repr__()


def main() -> None:
    import embedkit as ek

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-mb", type=float, default=30)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--runs", default="sg,ft,bpe,char", help="comma-separated: sg, ft, ft-iter, bpe, bpe-pieces, "
                    "char; a unit kind may carry subword parameters: char@shared_negatives=false@learning_rate=0.05")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds: every run once a seed, the runs of a "
                    "seed one after the other (gensim and embedkit alternate); the table gives each row and the "
                    "means over the seeds")
    ap.add_argument("--vocab-size", type=int, default=8000, help="BPE pieces (units=bpe*)")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                    help="extra subword parameter (e.g. learning_rate=0.05)")
    a = ap.parse_args()
    out_dir = HERE / "out"
    part = head_mb(tokenized_file(out_dir), a.max_mb, out_dir)
    corpus = ek.read_text(part, tokenizer=str.split, lowercase=False, verbose=False)
    counts = corpus.word_counts()
    print(f"corpus {part}: {corpus.num_tokens:,} tokens, {len(counts):,} word types; load {load()}", flush=True)
    needed = sorted(set(pair_words(TARGETS)) | set(pair_words(VALIDATION)))
    enc = corpus.encode(5)
    frequent = [w for w in enc.words[:2000] if len(w) >= 5 and w.isalpha()]
    typo_sets = {"transposition": typos(frequent, counts, transpose), "one edit": typos(frequent, counts, one_edit)}
    common = dict(dim=100, window=5, negatives=5, sample=1e-3, min_count=5, epochs=a.epochs, workers=a.workers,
                  seed=0, verbose=False)
    extra = {}
    for kv in a.param:
        k, v = kv.split("=", 1)
        extra[k] = json.loads(v) if v[:1].isdigit() or v in ("true", "false") else v
    # warm-up: numba compiles (or loads its cache) on first use; not counted
    emma = ek.datasets.load_text("emma")
    ek.train("skipgram", emma, dim=10, epochs=1, workers=a.workers, verbose=False)
    for u in ("bpe", "char"):
        ek.train("subword", emma, dim=10, epochs=1, workers=a.workers, units=u, vocab_size=500, verbose=False)
    rows = []
    covered_words = None
    for seed, run in [(int(sd), r) for sd in a.seeds.split(",") for r in a.runs.split(",")]:
        common["seed"] = seed
        before = load()
        t0 = time.perf_counter()
        if run == "sg":
            sg = ek.train("skipgram", corpus, **common)
            train_s = sg.meta["train_time_s"]
            covered_words = set(sg.keys)

            def vectors_for(ws, sg=sg):
                return np.stack([sg[w] if w in sg else np.zeros(sg.dim, np.float32) for w in ws])
            row = {"model": "embedkit skipgram (word level)", "train_s": train_s,
                   "prep_s": time.perf_counter() - t0 - train_s}
            cov = {}
            for name, file in TARGETS.items():
                m = ek.evaluate.similarity(sg, DATA / "word-similarity" / file)
                cov[name] = {"spearman": m["spearman"], "coverage": m["coverage"]}
            row.update(similarity=cov, validation=similarity(sg, VALIDATION), covered={k: cov[k] for k in
                                                                                       ("WS353", "SimLex")})
        elif run in ("ft", "ft-iter"):
            from gensim.models import FastText

            model = FastText(vector_size=100, window=5, negative=5, sample=1e-3, min_count=5, sg=1, min_n=3,
                             max_n=6, bucket=2_000_000, workers=a.workers, seed=seed)
            if run == "ft":
                source = {"corpus_file": str(part)}
                model.build_vocab(**source)
                source["total_words"] = model.corpus_total_words
            else:
                with open(part, encoding="utf-8") as f:
                    source = {"corpus_iterable": [line.split() for line in f]}
                model.build_vocab(**source)
            t1 = time.perf_counter()
            model.train(**source, total_examples=model.corpus_count, epochs=a.epochs)
            train_s = time.perf_counter() - t1

            def vectors_for(ws, wv=model.wv):
                return np.stack([wv[w] for w in ws])
            row = {"model": "gensim FastText (char 3-6-grams, 2M buckets" + (", corpus_iterable)" if run == "ft-iter"
                                                                            else ")"),
                   "train_s": train_s, "prep_s": t1 - t0}
            row.update(score(run, vectors_for, needed, covered_words, frequent, typo_sets))
            del model
        else:
            run, *opts = run.split("@")
            run_extra = dict(extra)
            for kv in opts:
                k, v = kv.split("=", 1)
                run_extra[k] = json.loads(v) if v[:1].isdigit() or v in ("true", "false") else v
            params = dict(common, units=run, **run_extra)
            if run != "char":
                params["vocab_size"] = a.vocab_size
            sub = ek.train("subword", corpus, **params)
            train_s = sub.meta["train_time_s"]
            row = {"model": f"embedkit subword, units={run}" + (f" ({a.vocab_size} pieces)" if run != "char" else
                                                                 " (3-6-grams, 2M buckets)")
                   + "".join(f", {k}={v}" for k, v in run_extra.items()),
                   "train_s": train_s, "prep_s": time.perf_counter() - t0 - train_s,
                   "rows_per_word": sub.meta["rows_per_word"]}
            row.update(score(run, sub.vectors_for, needed, covered_words, frequent, typo_sets))
        row["load"] = f"{before} -> {load()}"
        row["seed"] = seed
        rows.append(row)
        print(json.dumps(row), flush=True)
    report = {"corpus": str(part), "tokens": corpus.num_tokens, "epochs": a.epochs, "workers": a.workers,
              "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip(), "rows": rows}
    (out_dir / "subword_quality.json").write_text(json.dumps(report, indent=1))
    print(markdown(rows))
    if len(a.seeds.split(",")) > 1:
        print()
        print(markdown(means(rows)))


def means(rows) -> list:
    """One row a model: the mean of every figure over its seeds (the model's name says how many)."""
    by_model: dict = {}
    for r in rows:
        by_model.setdefault(r["model"], []).append(r)

    def avg(items):
        first = items[0]
        if isinstance(first, dict):
            return {k: avg([i[k] for i in items]) for k in first}
        if isinstance(first, (int, float)) and not isinstance(first, bool):
            return float(np.mean(items))
        return first

    out = []
    for model, group in by_model.items():
        row = avg(group)
        row["model"] = f"{model}, mean of {len(group)} seeds"
        out.append(row)
    return out


def markdown(rows) -> str:
    lines = ["| model | train s | prep s | WS353 | SimLex | MEN | RW | WS353 covered | SimLex covered | "
             "transposition pairwise / all 10 | one edit pairwise / all 10 | validation MTurk771 / RG65 / YP130 / "
             "SimVerb |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for r in rows:
        sims = " | ".join(f"{s['spearman']:.3f}" + ("" if s["coverage"] == 1 else f" ({100 * s['coverage']:.0f}%)")
                          for s in r["similarity"].values())
        cov = " | ".join(f"{r['covered'][k]['spearman']:.3f}" if "covered" in r else "" for k in ("WS353", "SimLex"))
        m = r.get("misspellings")
        miss = (" | ".join(f"{m[k]['pairwise']:.3f} / {m[k]['all10']:.3f}" for k in ("transposition", "one edit"))
                if m else "no vector | no vector")
        val = " / ".join(f"{s['spearman']:.3f}" for s in r["validation"].values())
        lines.append(f"| {r['model']} | {r['train_s']:.1f} | {r['prep_s']:.1f} | {sims} | {cov} | {miss} | {val} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
