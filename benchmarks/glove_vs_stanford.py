"""GloVe: embedkit's ``glove`` against Stanford's reference C implementation, side by side.

    # build the reference yourself from its public source (this script downloads nothing):
    #   git clone https://github.com/stanfordnlp/GloVe && make -C GloVe
    EMBEDKIT_SHARED_DATA=/path/to/shared/data \\
    .venv/bin/python benchmarks/glove_vs_stanford.py --glove-bin GloVe/build [--max-mb 30] [--epochs 15]

Corpus: the first ``--max-mb`` MB of the tokenized Gutenberg corpus
(``benchmarks/out/gutenberg-tokens.txt``, one paragraph per line; ``_gutenberg.py``). Both tools
read that file: min_count 5, window ``--window`` (symmetric, each pair at distance d counting
1/d; neither counts across a line end), dim 100, x_max 100, alpha 0.75, eta 0.05, ``--epochs``
iterations, ``--threads`` threads, vectors w + c.

Reference: ``vocab_count -min-count 5``, ``cooccur -window-size W -symmetric 1 -memory 4``,
``shuffle -memory 4``, ``glove -model 2 -binary 0``; each phase timed by wall clock (the files go
to a temporary folder). embedkit: ``ek.train("glove", ek.read_text(path, tokenizer=str.split,
lowercase=False), ...)`` after a warm-up on a small corpus (numba's compilation not counted);
timed from reading to vectors. Quality with ``ek.evaluate`` on both: Google analogy (3CosAdd,
top 30k words), WS353, SimLex-999, MEN. Prints markdown with the load average, writes
``benchmarks/out/glove_results.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _gutenberg import DATA, head_mb, tokenized_file  # noqa: E402

SETS = {"WS353": "EN-WS-353-ALL.txt", "SimLex": "EN-SIMLEX-999.txt", "MEN": "EN-MEN-TR-3k.txt"}


def quality(emb) -> dict:
    import embedkit as ek

    out = {"analogy": ek.evaluate.analogy(emb, restrict_vocab=30000)["accuracy"]}
    for name, file in SETS.items():
        out[name] = ek.evaluate.similarity(emb, DATA / "word-similarity" / file)["spearman"]
    return out


def run_stanford(bin_dir: Path, corpus: Path, a, work: Path) -> tuple[dict, Path]:
    vocab, cooc, shuf, save = work / "vocab.txt", work / "cooc.bin", work / "cooc.shuf.bin", work / "vectors"
    steps = [
        ("vocab_count", [bin_dir / "vocab_count", "-min-count", "5", "-verbose", "0"], corpus, vocab),
        ("cooccur", [bin_dir / "cooccur", "-memory", "4.0", "-vocab-file", vocab, "-verbose", "0", "-window-size",
                     str(a.window), "-symmetric", "1", "-distance-weighting", "1"], corpus, cooc),
        ("shuffle", [bin_dir / "shuffle", "-memory", "4.0", "-verbose", "0", "-seed", str(a.seed + 1)], cooc, shuf),
        ("glove", [bin_dir / "glove", "-save-file", save, "-threads", str(a.threads), "-input-file", shuf,
                   "-x-max", "100", "-alpha", "0.75", "-eta", "0.05", "-iter", str(a.epochs), "-vector-size",
                   str(a.dim), "-binary", "0", "-model", "2", "-vocab-file", vocab, "-verbose", "0",
                   "-seed", str(a.seed + 1)],
         None, None),
    ]
    times = {}
    for name, cmd, stdin, stdout in steps:
        t0 = time.perf_counter()
        with open(stdin, "rb") if stdin else open(os.devnull, "rb") as fin, \
                open(stdout, "wb") if stdout else open(os.devnull, "wb") as fout:
            subprocess.run([str(c) for c in cmd], stdin=fin, stdout=fout, check=True, cwd=work)
        times[name] = time.perf_counter() - t0
    return times, save.with_suffix(".txt")


def main() -> None:
    import embedkit as ek

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--glove-bin", type=Path, required=True, help="folder of the built vocab_count, cooccur, "
                    "shuffle and glove")
    ap.add_argument("--max-mb", type=float, default=30)
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--dim", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--backend", default="numba")
    ap.add_argument("--seed", type=int, default=0, help="embedkit's seed; the reference's shuffle and glove "
                    "get seed + 1 (1 by default)")
    a = ap.parse_args()
    for tool in ("vocab_count", "cooccur", "shuffle", "glove"):
        if not (a.glove_bin / tool).is_file():
            raise SystemExit(f"{a.glove_bin / tool} not found: build Stanford's GloVe and pass its build folder")
    out_dir = HERE / "out"
    corpus = head_mb(tokenized_file(out_dir), a.max_mb, out_dir)
    params = dict(dim=a.dim, window=a.window, epochs=a.epochs, workers=a.threads, min_count=5, x_max=100.0,
                  weight_exponent=0.75, learning_rate=0.05, seed=a.seed, backend=a.backend, verbose=False)
    ek.train("glove", ek.datasets.load_text("emma"), **{**params, "epochs": 1})  # warm-up: numba's compilation
    rows = []
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        times, vec = run_stanford(a.glove_bin, corpus, a, Path(tmp))
        ref = ek.load(vec)
        rows.append({"tool": "Stanford GloVe (C, reference)", "phases": times, "total_s": sum(times.values()),
                     "vocab": len(ref), "quality": quality(ref)})
    print(json.dumps(rows[-1]), flush=True)
    load1 = os.getloadavg()
    t0 = time.perf_counter()
    emb = ek.train("glove", ek.read_text(corpus, tokenizer=str.split, lowercase=False, verbose=False), **params)
    total = time.perf_counter() - t0
    m = emb.meta
    rows.append({"tool": f"embedkit glove ({a.backend})", "phases": {
        "read": m["read_time_s"], "cooccur": m["cooccurrence_time_s"], "train": m["train_time_s"]},
        "total_s": total, "vocab": len(emb), "quality": quality(emb), "final_loss": m["history"][-1]["loss"]})
    print(json.dumps(rows[-1]), flush=True)
    report = {"corpus": str(corpus), "params": vars(a) | {"glove_bin": str(a.glove_bin)}, "rows": rows,
              "load": [load0, load1, os.getloadavg()],
              "uptime": subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()}
    (out_dir / "glove_results.json").write_text(json.dumps(report, indent=1))
    print(f"load average (1, 5, 15 min): before {load0}, between {load1}, after {os.getloadavg()}")
    print("| tool | vocab | phases s | total s | analogy | WS353 | SimLex | MEN |")
    print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        q = r["quality"]
        ph = ", ".join(f"{k} {v:.1f}" for k, v in r["phases"].items())
        print(f"| {r['tool']} | {r['vocab']:,} | {ph} | {r['total_s']:.1f} | {100 * q['analogy']:.1f}% | "
              f"{q['WS353']:.3f} | {q['SimLex']:.3f} | {q['MEN']:.3f} |")
    ratio = rows[0]["total_s"] / rows[1]["total_s"]
    print(f"reference / embedkit wall time: {ratio:.2f}x")


if __name__ == "__main__":
    main()
