"""Child process: train a BPE tokenizer on one text file with sentencepiece directly,
through embedkit, or with HuggingFace ``tokenizers``; then time encoding a fixed
set of lines. Prints one ``RESULT`` JSON line.

Run by ``bpe_vs_sentencepiece.py`` (one process per run, so peak RSS is per tool).
"""
from __future__ import annotations

import argparse
import io
import json
import os
import time

from _child_common import rss_mb  # noqa: E402  (benchmarks/ is on sys.path: run as a script)

#: the sentencepiece options both sentencepiece runs use (what ek.train("bpe") passes for these
#: parameters: see embedkit/text/bpe.py)
SPM_OPTIONS = dict(model_type="bpe", character_coverage=0.9995, byte_fallback=True,
                   normalization_rule_name="nmt_nfkc", remove_extra_whitespaces=True, max_sentence_length=65536,
                   minloglevel=2)


def _lines(path: str, n: int) -> list[str]:
    out = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                out.append(line.rstrip("\n"))
                if len(out) == n:
                    break
    return out


def run_sentencepiece(a) -> tuple[dict, object]:
    import sentencepiece as spm

    t0 = time.perf_counter()
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(input=a.input, model_writer=model, vocab_size=a.vocab_size,
                                   num_threads=a.workers, **SPM_OPTIONS)
    sp = spm.SentencePieceProcessor(model_proto=model.getvalue())
    t1 = time.perf_counter()
    with open(a.output, "wb") as fh:
        fh.write(model.getvalue())
    return {"train_s": t1 - t0, "vocab_size": sp.get_piece_size()}, sp.encode


def run_embedkit(a) -> tuple[dict, object]:
    import embedkit as ek

    t0 = time.perf_counter()
    tok = ek.train("bpe", a.input, vocab_size=a.vocab_size, workers=a.workers, verbose=False)
    t1 = time.perf_counter()
    tok.save(a.output)
    return {"train_s": t1 - t0, "vocab_size": tok.vocab_size}, tok.encode_ids


def run_hf(a) -> tuple[dict, object]:
    from tokenizers import SentencePieceBPETokenizer

    t0 = time.perf_counter()
    hf = SentencePieceBPETokenizer()  # NFKC, Metaspace ("▁") pre-tokenizer, BPE: sentencepiece's setup
    hf.train([a.input], vocab_size=a.vocab_size, special_tokens=["<unk>"], show_progress=False)
    t1 = time.perf_counter()
    hf.save(a.output)
    return {"train_s": t1 - t0, "vocab_size": hf.get_vocab_size()}, \
        lambda lines: [e.ids for e in hf.encode_batch(lines)]


TOOLS = {"sentencepiece": run_sentencepiece, "embedkit": run_embedkit, "hf": run_hf}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tool", choices=sorted(TOOLS), required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--vocab-size", type=int, default=8000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--encode-file", required=True, help="text whose lines are encoded for the throughput")
    ap.add_argument("--encode-lines", type=int, default=200_000)
    a = ap.parse_args()
    os.environ.setdefault("RAYON_NUM_THREADS", str(a.workers))
    res, encode = TOOLS[a.tool](a)
    lines = _lines(a.encode_file, a.encode_lines)
    chars = sum(len(line) for line in lines)
    encode(lines[:1000])  # warm-up
    t0 = time.perf_counter()
    ids = encode(lines)
    t1 = time.perf_counter()
    pieces = sum(len(x) for x in ids)
    words = sum(len(line.split()) for line in lines)
    res.update(tool=a.tool, encode_s=t1 - t0, encode_lines=len(lines), encode_chars=chars,
               encode_mb_per_s=sum(len(line.encode("utf-8")) for line in lines) / 2**20 / (t1 - t0),
               pieces=pieces, pieces_per_word=pieces / max(words, 1), rss_end_mb=rss_mb())
    print("RESULT " + json.dumps(res), flush=True)


if __name__ == "__main__":
    main()
