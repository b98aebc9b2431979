"""Word vectors: embedkit (skipgram, cbow, svd) against gensim 4.x, in one run.

    .venv/bin/python benchmarks/word2vec_vs_gensim.py [--rounds 1] [--max-mb 0] [--runs sg-numba,...]

Corpus: the 426 Gutenberg books of ``../shared/data/gutenberg-top100-authors``,
only the text between the ``*** START OF`` / ``*** END OF`` lines, tokenized once
by embedkit's default reader (lowercase ``\\w+`` words, one paragraph per line;
``benchmarks/out/gutenberg-tokens.txt``): both tools train on that file.
Settings: d=100, window 5, negatives 5, min_count 5, sample 1e-3, 3 epochs,
2 workers; each tool's default learning rate (gensim 0.025; embedkit cbow 0.05,
as word2vec.c) unless a run names one.

Speed: words/s = in-vocabulary tokens x epochs / training time (the vocabulary
pass excluded; it is reported as "read s"), the same count for every tool.
Quality: Google analogy (3CosAdd, top 30k words), WordSim353 and SimLex-999
Spearman, all with ``ek.evaluate`` on the word2vec text each run wrote.
Every run is its own process (peak RSS with GNU time); runs are interleaved by
round. Writes ``benchmarks/out/word2vec_results.json`` and prints markdown.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _gutenberg import head_mb, tokenized_file  # noqa: E402
from node2vec_vs_pecanpy import run_child, versions_embedkit  # noqa: E402

RUNS = {
    # name: (tool, method, extra child arguments, label)
    "sg-gensim": ("gensim", "skipgram", [], "gensim skip-gram"),
    "sg-numba": ("embedkit", "skipgram", ["--backend", "numba", "--param", "shared_negatives=False"],
                 "embedkit skip-gram (numba, per-pair negatives)"),
    "sg-numba-shared": ("embedkit", "skipgram", ["--backend", "numba", "--param", "shared_negatives=True"],
                        "embedkit skip-gram (numba, shared negatives: the default)"),
    "sg-torch": ("embedkit", "skipgram", ["--backend", "torch"], "embedkit skip-gram (torch CPU)"),
    "cbow-gensim": ("gensim", "cbow", [], "gensim CBOW"),
    "cbow-numba": ("embedkit", "cbow", ["--backend", "numba"], "embedkit CBOW (numba, alpha 0.05: the default)"),
    "cbow-numba-a025": ("embedkit", "cbow", ["--backend", "numba", "--param", "learning_rate=0.025"],
                        "embedkit CBOW (numba, alpha 0.025 as gensim)"),
    "cbow-torch": ("embedkit", "cbow", ["--backend", "torch"], "embedkit CBOW (torch CPU)"),
    "svd": ("embedkit", "svd", [], "embedkit PPMI + SVD"),
}


def quality(path: Path) -> dict:
    import embedkit as ek

    emb = ek.load(path)
    an = ek.evaluate.analogy(emb, restrict_vocab=30000)
    ws = ek.evaluate.similarity(emb, "wordsim353")
    sl = ek.evaluate.similarity(emb, "simlex999")
    return {"analogy": an["accuracy"], "analogy_semantic": an["semantic_accuracy"],
            "analogy_syntactic": an["syntactic_accuracy"], "analogy_coverage": an["coverage"],
            "ws353": ws["spearman"], "simlex": sl["spearman"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--runs", default=",".join(RUNS), help="comma-separated: " + ", ".join(RUNS))
    ap.add_argument("--max-mb", type=float, default=0, help="use only the first N MB of the corpus (0: all)")
    ap.add_argument("--epochs", type=int, default=3)
    a = ap.parse_args()
    out_dir = HERE / "out"
    corpus = tokenized_file(out_dir)
    if a.max_mb:
        corpus = head_mb(corpus, a.max_mb, out_dir)
    import embedkit as ek

    enc = ek.read_text(corpus, tokenizer=str.split, lowercase=False, verbose=False).encode(min_count=5)
    words = enc.num_tokens
    print(f"corpus {corpus}: {words:,} in-vocabulary tokens, vocabulary {len(enc.words):,}", flush=True)
    names = a.runs.split(",")
    results = []
    for rnd in range(a.rounds):
        order = names[rnd % len(names):] + names[:rnd % len(names)]
        for name in order:
            tool, method, extra, _ = RUNS[name]
            output = out_dir / f"w2v-{name}.vec"
            cmd = [sys.executable, str(HERE / "_run_word2vec.py"), "--tool", tool, "--method", method,
                   "--input", str(corpus), "--output", str(output), "--epochs", str(a.epochs), *extra]
            res = run_child(cmd, out_dir / f"w2v-{name}.log")
            res.update(name=name, round=rnd, words_per_s=words * (a.epochs if method != "svd" else 1)
                       / res["train_s"], quality=quality(output))
            results.append(res)
            q = res["quality"]
            print(f"{name:>16}: train {res['train_s']:.1f}s ({res['words_per_s']:,.0f} words/s), read "
                  f"{res['read_s']:.1f}s, RSS {res['peak_rss_mb']:.0f} MB, analogy {q['analogy']:.4f}, "
                  f"WS353 {q['ws353']:.4f}, SimLex {q['simlex']:.4f}", flush=True)
    report = {"corpus": str(corpus), "in_vocab_tokens": words, "vocab": len(enc.words), "epochs": a.epochs,
              "env": versions_embedkit(), "runs": results}
    (out_dir / "word2vec_results.json").write_text(json.dumps(report, indent=1))
    print(markdown(results, names))


def markdown(results: list, names: list) -> str:
    def med(name, key, sub=None):
        vals = [(r[sub][key] if sub else r[key]) for r in results if r["name"] == name]
        return statistics.median(vals) if vals else None

    lines = ["| run | words/s | train s | read s | peak RSS MB | analogy | WS353 | SimLex | vs gensim words/s |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name in names:
        method = RUNS[name][1]
        peer = {"skipgram": "sg-gensim", "cbow": "cbow-gensim"}.get(method)
        ratio = ""
        if peer in names and name != peer:
            ratio = f"{med(name, 'words_per_s') / med(peer, 'words_per_s'):.2f}x"
        # svd has no epochs and its time includes reading: no words/s figure
        speed = "—" if method == "svd" else f"{med(name, 'words_per_s'):,.0f}"
        lines.append(f"| {RUNS[name][3]} | {speed} | {med(name, 'train_s'):.1f} | "
                     f"{med(name, 'read_s'):.1f} | {med(name, 'peak_rss_mb'):.0f} | "
                     f"{100 * med(name, 'analogy', 'quality'):.1f}% | {med(name, 'ws353', 'quality'):.3f} | "
                     f"{med(name, 'simlex', 'quality'):.3f} | {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
