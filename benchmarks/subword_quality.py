"""Subword embeddings against word-level skip-gram: misspellings and word similarity.

    .venv/bin/python benchmarks/subword_quality.py [--max-mb 15] [--epochs 3]

Corpus: the first ``--max-mb`` MB of the tokenized Gutenberg corpus
(``benchmarks/out/gutenberg-tokens.txt``: lowercase words, one paragraph per line;
see ``_gutenberg.py``). Both models: dim 100, window 5, 3 epochs, 2 workers, seed 0;
skip-gram with min_count 5; ``subword`` with 8000 BPE pieces, with and without
BPE-dropout.

Misspellings: 500 one-edit typos (delete, insert, replace, swap) of frequent words
(5+ letters, among the 2000 most frequent), none a word of the corpus. Reported: the
share of (typo, random frequent word) pairs where the typo is closer to its word
(10 random words per typo), the share of typos closer to their word than to all 10,
and the share whose word is among the 10 nearest of all listed words (min_count 5).
Word similarity: Spearman on WordSim353, SimLex-999, MEN and Stanford Rare Words
(``../shared/data/word-similarity``); the subword models score every pair, skip-gram
only pairs whose two words it has (coverage shown). Prints markdown, writes
``benchmarks/out/subword_quality.json``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _gutenberg import DATA, tokenized_file  # noqa: E402

SETS = {"WS353": "EN-WS-353-ALL.txt", "SimLex": "EN-SIMLEX-999.txt", "MEN": "EN-MEN-TR-3k.txt",
        "RW": "EN-RW-STANFORD.txt"}
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
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def typos(words: list, counts: dict, n: int = 500, seed: int = 0):
    rng = np.random.default_rng(seed)
    frequent = [w for w in words[:2000] if len(w) >= 5 and w.isalpha()]
    pairs = []
    while len(pairs) < n:
        w = frequent[rng.integers(len(frequent))]
        t = one_edit(w, rng)
        if t not in counts:
            pairs.append((w, t))
    return pairs, frequent, rng


def misspelling_rates(sub, pairs, frequent, rng) -> dict:
    def unit(x):
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    t = unit(sub.vectors_for([b for _, b in pairs]))
    w = unit(sub.vectors_for([a for a, _ in pairs]))
    others = unit(sub.vectors_for(frequent))[rng.integers(0, len(frequent), (len(pairs), 10))]
    wins = np.einsum("nd,nd->n", t, w)[:, None] > np.einsum("nd,nkd->nk", t, others)
    top10 = np.mean([a in [x for x, _ in sub.most_similar(b, k=10)] for a, b in pairs])
    return {"pairwise": float(wins.mean()), "all10": float(wins.all(axis=1).mean()), "top10": float(top10)}


def similarity(emb) -> dict:
    import embedkit as ek

    out = {}
    for name, file in SETS.items():
        m = ek.evaluate.similarity(emb, DATA / "word-similarity" / file)
        out[name] = {"spearman": m["spearman"], "coverage": m["coverage"]}
    return out


def main() -> None:
    import embedkit as ek

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--max-mb", type=float, default=15)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    out_dir = HERE / "out"
    src = tokenized_file(out_dir)
    part = out_dir / f"gutenberg-tokens-{a.max_mb:g}mb.txt"
    if not part.exists():
        with open(src, "rb") as f, open(part, "wb") as g:
            data = f.read(int(a.max_mb * 2**20))
            g.write(data[:data.rfind(b"\n") + 1])
    corpus = ek.read_text(part, tokenizer=str.split, lowercase=False, verbose=False)
    counts = corpus.word_counts()
    print(f"corpus {part}: {corpus.num_tokens:,} tokens, {len(counts):,} word types", flush=True)
    common = dict(dim=100, window=5, epochs=a.epochs, workers=a.workers, seed=0, verbose=False)
    rows = []
    t0 = time.perf_counter()
    sg = ek.train("skipgram", corpus, min_count=5, **common)
    rows.append({"model": "skipgram (word level)", "train_s": time.perf_counter() - t0, "similarity": similarity(sg),
                 "misspellings": None})
    for dropout in (0.1, 0.0):
        t0 = time.perf_counter()
        sub = ek.train("subword", corpus, vocab_size=8000, dropout=dropout, **common)
        train_s = time.perf_counter() - t0
        pairs, frequent, rng = typos(sub.words, counts)
        for weight in (0.0, 1.0, 2.0):
            sub.spelling_weight = weight
            state = np.random.default_rng(1)
            rows.append({"model": f"subword, dropout {dropout:g}, spelling_weight {weight:g}", "train_s": train_s,
                         "similarity": similarity(sub), "misspellings": misspelling_rates(sub, pairs, frequent, state)})
            print(rows[-1], flush=True)
    report = {"corpus": str(part), "tokens": corpus.num_tokens, "rows": rows}
    (out_dir / "subword_quality.json").write_text(json.dumps(report, indent=1))
    print(markdown(rows))


def markdown(rows) -> str:
    lines = ["| model | typo closer than a random word | than all 10 | word in typo's 10 nearest | WS353 | SimLex | "
             "MEN | RW |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        m = r["misspellings"]
        miss = (f"{100 * m['pairwise']:.1f}% | {100 * m['all10']:.1f}% | {100 * m['top10']:.1f}%" if m else
                "no vector | no vector | no vector")
        sims = " | ".join(f"{s['spearman']:.3f}" + ("" if s["coverage"] == 1 else f" ({100 * s['coverage']:.0f}% of pairs)")
                          for s in r["similarity"].values())
        lines.append(f"| {r['model']} | {miss} | {sims} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
