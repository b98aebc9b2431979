"""BPE tokenizers: sentencepiece trained directly, through embedkit (``ek.train("bpe")``),
and HuggingFace ``tokenizers`` as a second peer, in one run.

    .venv/bin/python benchmarks/bpe_vs_sentencepiece.py [--rounds 3] [--max-mb 0] [--vocab-size 8000]

Corpus: the 426 Gutenberg books of ``../shared/data/gutenberg-top100-authors``,
only the text between the ``*** START OF`` / ``*** END OF`` lines, as raw text
(``benchmarks/out/gutenberg-bodies.txt``, 130 MB, one hard-wrapped line per
line). ``--max-mb N`` trains on its first N MB instead (cut at a line end), the
same file for every tool, rather than sentencepiece's ``input_sentence_size``
sample, which no seed makes repeatable.

Settings: BPE, 8000 pieces, 2 threads; sentencepiece (both runs) with
character_coverage 0.9995, byte_fallback, nmt_nfkc, max_sentence_length 65536
(embedkit's defaults, passed explicitly to the direct run); HuggingFace
``SentencePieceBPETokenizer`` (NFKC, "▁" pre-tokenizer, BPE; its own merge rule,
no coverage or byte fallback), ``RAYON_NUM_THREADS=2``.

Timed: training wall time inside each child (embedkit: the whole ``ek.train``
call, i.e. input checks, sentencepiece, reading the model back), and encoding the
first 200,000 non-blank lines of the corpus to ids in one batch call
(``sp.encode(lines)`` / ``tok.encode_ids(lines)`` / ``encode_batch``), after a
warm-up. Every run is its own process (peak RSS with GNU time); runs are
interleaved by round. Writes ``benchmarks/out/bpe_results.json`` and prints markdown.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _gutenberg import corpus_file, head_mb  # noqa: E402
from node2vec_vs_pecanpy import run_child, versions_embedkit  # noqa: E402

TOOLS = {"sentencepiece": "sentencepiece (direct)", "embedkit": "embedkit `bpe`",
         "hf": "HuggingFace tokenizers"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--tools", default=",".join(TOOLS), help="comma-separated: " + ", ".join(TOOLS))
    ap.add_argument("--max-mb", type=float, default=0, help="train on the first N MB of the corpus (0: all)")
    ap.add_argument("--vocab-size", type=int, default=8000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--tag", default="", help="suffix of the results file (bpe_results<tag>.json)")
    a = ap.parse_args()
    out_dir = HERE / "out"
    corpus = corpus_file(out_dir)
    if a.max_mb:
        corpus = head_mb(corpus, a.max_mb, out_dir)
    size_mb = corpus.stat().st_size / 2**20
    print(f"corpus {corpus}: {size_mb:.1f} MB", flush=True)
    names = a.tools.split(",")
    results = []
    for rnd in range(a.rounds):
        order = names[rnd % len(names):] + names[:rnd % len(names)]
        for tool in order:
            ext = ".json" if tool == "hf" else ".model"
            output = out_dir / f"bpe-{tool}{ext}"
            cmd = [sys.executable, str(HERE / "_run_bpe.py"), "--tool", tool, "--input", str(corpus),
                   "--output", str(output), "--vocab-size", str(a.vocab_size), "--workers", str(a.workers),
                   "--encode-file", str(corpus)]
            res = run_child(cmd, out_dir / f"bpe-{tool}.run{rnd}.log")
            res.update(name=tool, round=rnd, train_mb_per_s=size_mb / res["train_s"])
            results.append(res)
            print(f"{tool:>14}: train {res['train_s']:.1f}s, encode {res['encode_mb_per_s']:.1f} MB/s, "
                  f"{res['pieces_per_word']:.3f} pieces/word, RSS {res['peak_rss_mb']:.0f} MB, "
                  f"load {res['loadavg_before']}", flush=True)
    same = _same_models(out_dir) if {"sentencepiece", "embedkit"} <= set(names) else None
    report = {"corpus": str(corpus), "corpus_mb": size_mb, "vocab_size": a.vocab_size, "workers": a.workers,
              "identical_models": same, "env": versions_embedkit(), "runs": results}
    (out_dir / f"bpe_results{a.tag}.json").write_text(json.dumps(report, indent=1))
    print(f"sentencepiece direct and through embedkit wrote identical models: {same}")
    print(markdown(results, names))


def _same_models(out_dir: Path) -> bool:
    return (out_dir / "bpe-sentencepiece.model").read_bytes() == (out_dir / "bpe-embedkit.model").read_bytes()


def markdown(results: list, names: list) -> str:
    """Medians and bests (min time, max speed) over the rounds; ratios of both against sentencepiece."""
    def vals(name, key):
        return [r[key] for r in results if r["name"] == name]

    def stat(name, key, best):
        v = vals(name, key)
        return (statistics.median(v), (max(v) if best == "max" else min(v))) if v else (None, None)

    base = "sentencepiece" if "sentencepiece" in names else None
    lines = ["| tool | runs | train s, median (best) | encode MB/s, median (best) | pieces/word | peak RSS MB | "
             "train time vs sentencepiece, median (best) | encode speed vs sentencepiece, median (best) |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for name in names:
        tm, tb = stat(name, "train_s", "min")
        em, eb = stat(name, "encode_mb_per_s", "max")
        rt = re = ""
        if base:
            bm, bb = stat(base, "train_s", "min")
            cm, cb = stat(base, "encode_mb_per_s", "max")
            rt = f"{tm / bm:.3f}x ({tb / bb:.3f}x)"
            re = f"{em / cm:.3f}x ({eb / cb:.3f}x)"
        lines.append(f"| {TOOLS[name]} | {len(vals(name, 'train_s'))} | {tm:.1f} ({tb:.1f}) | {em:.1f} ({eb:.1f}) | "
                     f"{statistics.median(vals(name, 'pieces_per_word')):.3f} | "
                     f"{statistics.median(vals(name, 'peak_rss_mb')):.0f} | {rt} | {re} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
