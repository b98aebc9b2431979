"""Triplet-loss training (``ek.train("triplet", ...)``): word-vector fine-tuning and digit retrieval.

    .venv/bin/python benchmarks/triplet_quality.py [--part simlex,digits] [--max-mb 40] [--device cpu]

**simlex**: skip-gram vectors trained once on the first ``--max-mb`` MB of the tokenized Gutenberg
corpus (``benchmarks/_gutenberg.py``; d=100, window 5, 5 negatives, min_count 5, 3 epochs; cached in
``benchmarks/out/``), then fine-tuned with half of SimLex-999 (``../shared/data/word-similarity``,
pairs split at random, seed 0). Training data: every training pair with score >= ``--similar``
becomes triplets (a, b, n) and (b, a, n) with ``--negatives`` random words n of the 20,000 most
frequent. Reported: SimLex Spearman on the held-out half before and after, also on the held-out
pairs none of whose words appears in any training triplet ("unseen words"), and the training time.
Runs: the table encoder initialised from the vectors (``init=``), and an MLP over the vectors
(``features=``: every vocabulary word is embedded, so unseen words move too).

**digits**: scikit-learn's ``load_digits`` (1,797 8x8 images, 10 classes; shipped with
scikit-learn), split 50/50 stratified (seed 0). An MLP encoder is trained on the training half;
retrieval (``ek.evaluate.retrieval``: recall@1/5/10, mAP, MAP@R) is measured on the test half
(queries and gallery are test images the encoder never saw), against raw pixels and the same MLP
untrained.

Writes ``benchmarks/out/triplet_results.json`` and prints markdown tables.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _gutenberg import DATA, head_mb, tokenized_file  # noqa: E402

SIMLEX = DATA / "word-similarity" / "EN-SIMLEX-999.txt"


# ---- simlex ----------------------------------------------------------------------------------
def skipgram_vectors(max_mb: float, out_dir: Path, seed: int):
    """Skip-gram on the corpus slice, trained once and cached as .ekv."""
    import embedkit as ek

    corpus = tokenized_file(out_dir)
    if max_mb:
        corpus = head_mb(corpus, max_mb, out_dir)
    cache = out_dir / f"triplet-skipgram-{corpus.stem}-s{seed}.ekv"
    if cache.exists():
        return ek.load(cache), corpus
    t = time.perf_counter()
    emb = ek.train("skipgram", ek.read_text(corpus, tokenizer=str.split, lowercase=False, verbose=False), dim=100,
                   window=5, negatives=5, min_count=5, epochs=3, seed=seed, verbose=False)
    print(f"skip-gram on {corpus.name}: {len(emb):,} words, {emb.meta['num_tokens']:,} tokens, "
          f"{time.perf_counter() - t:.0f} s", flush=True)
    emb.save(cache)
    return emb, corpus


def spearman(emb, pairs) -> tuple[float, int]:
    from scipy import stats

    rows = [(emb.similarity(a, b), s) for a, b, s in pairs if a in emb and b in emb]
    if len(rows) < 3:
        return float("nan"), len(rows)
    model, gold = zip(*rows)
    return float(stats.spearmanr(gold, model)[0]), len(rows)


def simlex_part(a) -> dict:
    import embedkit as ek
    from embedkit.evaluate.similarity import read_word_pairs

    out_dir = HERE / "out"
    sg, corpus = skipgram_vectors(a.max_mb, out_dir, a.seed)
    pairs = [(w1.lower(), w2.lower(), s) for w1, w2, s in read_word_pairs(SIMLEX)]
    covered = [p for p in pairs if p[0] in sg and p[1] in sg]
    rng = np.random.default_rng(a.seed)
    perm = rng.permutation(len(covered))
    half = len(covered) // 2
    train = [covered[i] for i in perm[:half]]
    held = [covered[i] for i in perm[half:]]
    frequent = sg.keys[:20000]  # word2vec order: most frequent first
    triplets = []
    for w1, w2, s in train:
        if s < a.similar:
            continue
        for x, y in ((w1, w2), (w2, w1)):
            for n in rng.choice(len(frequent), a.negatives, replace=False):
                if frequent[n] not in (x, y):
                    triplets.append((x, y, frequent[n]))
    trained_words = {w for t in triplets for w in t}
    unseen = [p for p in held if p[0] not in trained_words and p[1] not in trained_words]
    seen = [p for p in held if p[0] in trained_words or p[1] in trained_words]
    before, n_held = spearman(sg, held)
    before_unseen, n_unseen = spearman(sg, unseen)
    info = {"corpus": str(corpus), "vocab": len(sg), "simlex_pairs": len(pairs), "covered_pairs": len(covered),
            "train_pairs": len(train), "similar_train_pairs": sum(s >= a.similar for _, _, s in train),
            "triplets": len(triplets), "held_out_pairs": n_held, "unseen_word_pairs": n_unseen,
            "seen_word_pairs": len(seen),
            "before": {"heldout_spearman": before, "unseen_spearman": before_unseen,
                       "seen_spearman": spearman(sg, seen)[0], "train_spearman": spearman(sg, train)[0]}}
    print(f"SimLex: {len(covered)} of {len(pairs)} pairs have vectors; {len(train)} train "
          f"({info['similar_train_pairs']} with score >= {a.similar} -> {len(triplets)} triplets), "
          f"{n_held} held out ({n_unseen} with no word in any triplet)", flush=True)
    print(f"  before: held-out Spearman {before:.4f}, unseen-word pairs {before_unseen:.4f}", flush=True)
    # settings chosen on a validation split of the training half (never on the held-out half)
    r2 = np.random.default_rng(a.seed + 1)
    p2 = r2.permutation(len(train))
    cut = int(0.75 * len(train))
    fit_pairs, val_pairs = [train[i] for i in p2[:cut]], [train[i] for i in p2[cut:]]
    fit_set = {(x, y) for x, y, _ in fit_pairs} | {(y, x) for x, y, _ in fit_pairs}
    fit_triplets = [t for t in triplets if (t[0], t[1]) in fit_set]
    grids = {"table": [dict(init=sg, learning_rate=lr, epochs=e) for lr in (0.01, 0.05) for e in (10, 30)],
             "residual mlp": [dict(features=sg, residual=True, learning_rate=lr, epochs=e) for lr in (0.0003, 0.001)
                              for e in (3, 10)]}
    chosen, validation = {}, []
    for family, grid in grids.items():
        best = None
        for kw in grid:
            emb = ek.train("triplet", fit_triplets, device=a.device, seed=a.seed, workers=a.workers, verbose=False,
                           **kw)
            v, _ = spearman(emb, val_pairs)
            shown = {k: val for k, val in kw.items() if k not in ("init", "features")}
            validation.append({"family": family, "params": shown, "val_spearman": v})
            print(f"  validation {family} {shown}: {v:.4f}", flush=True)
            if best is None or v > best[0]:
                best = (v, kw)
        chosen[family] = best[1]
    info["validation"] = {"fit_pairs": len(fit_pairs), "val_pairs": len(val_pairs),
                          "before": spearman(sg, val_pairs)[0], "runs": validation}
    runs = {
        "table (init=skip-gram), defaults": dict(init=sg),
        "table, chosen on validation": chosen["table"],
        "mlp over skip-gram (features=), defaults": dict(features=sg),
        "residual mlp, chosen on validation": chosen["residual mlp"],
    }
    results = []
    for name, kw in runs.items():
        t = time.perf_counter()
        emb = ek.train("triplet", triplets, device=a.device, seed=a.seed, workers=a.workers, verbose=False, **kw)
        secs = time.perf_counter() - t
        h, _ = spearman(emb, held)
        u, _ = spearman(emb, unseen)
        sn, _ = spearman(emb, seen)
        tr, _ = spearman(emb, train)
        results.append({"run": name, "params": {k: v for k, v in kw.items() if k not in ("init", "features")},
                        "heldout_spearman": h, "unseen_spearman": u, "seen_spearman": sn, "train_spearman": tr,
                        "triplet_accuracy_train": ek.evaluate.triplet_accuracy(emb, triplets)["accuracy"],
                        "fit_s": round(secs, 2), "train_time_s": emb.meta["train_time_s"],
                        "last_loss": emb.history[-1]["loss"], "last_active": emb.history[-1]["active"]})
        print(f"  {name} {results[-1]['params']}: held-out {h:.4f}, unseen {u:.4f}, train pairs {tr:.4f}, "
              f"fit {secs:.1f} s", flush=True)
    info["runs"] = results
    return info


# ---- digits ----------------------------------------------------------------------------------
def digits_part(a) -> dict:
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    import embedkit as ek
    from embedkit._device import torch_generator
    from embedkit.metric.triplet import _mlp

    X, y = load_digits(return_X_y=True)
    X = X.astype(np.float32)
    tr, te = train_test_split(np.arange(len(y)), test_size=0.5, stratify=y, random_state=a.seed)
    labels = dict(enumerate(y[te].tolist()))

    def score(vectors) -> dict:
        m = ek.evaluate.retrieval(ek.Embeddings(list(range(len(te))), vectors), labels, k=(1, 5, 10))
        return {k: m[k] for k in ("recall@1", "recall@5", "recall@10", "map", "map@r")}

    rows = [{"run": "raw pixels (64-d)", **score(X[te]), "fit_s": None}]
    mean, std = X[tr].mean(0), X[tr].std(0)
    std[std == 0] = 1.0
    rows.append({"run": "standardised pixels", **score((X[te] - mean) / std), "fit_s": None})
    with torch.no_grad():  # the encoder `triplet` starts from (same seed), before any step
        net = _mlp(64, 256, 1, 32, torch_generator(a.seed, "cpu"), "cpu")
        rows.append({"run": "MLP 64-256-32, untrained", **score(
            torch.nn.functional.normalize(net(torch.as_tensor((X[te] - mean) / std)), dim=1).numpy()),
            "fit_s": None})
    data = {"features": X[tr], "labels": y[tr]}
    for miner in ("batch_hard", "semihard", "random", "all"):
        t = time.perf_counter()
        emb = ek.train("triplet", data, dim=32, miner=miner, device=a.device, seed=a.seed, workers=a.workers,
                       verbose=False)
        secs = time.perf_counter() - t
        rows.append({"run": f"triplet MLP, {miner}" + (" (default)" if miner == "batch_hard" else ""),
                     **score(emb.embed(X[te])), "fit_s": round(secs, 2), "train_time_s": emb.meta["train_time_s"]})
        print(f"  digits {miner}: recall@1 {rows[-1]['recall@1']:.4f}, fit {secs:.1f} s", flush=True)
    t = time.perf_counter()
    emb = ek.train("triplet", data, dim=32, layers=0, device=a.device, seed=a.seed, workers=a.workers,
                   verbose=False)
    rows.append({"run": "triplet linear map (layers=0), batch_hard", **score(emb.embed(X[te])),
                 "fit_s": round(time.perf_counter() - t, 2)})
    return {"train_images": len(tr), "test_images": len(te), "rows": rows}


# ---- report ----------------------------------------------------------------------------------
def markdown(report: dict) -> str:
    out = []
    s = report.get("simlex")
    if s:
        b = s["before"]
        out += [f"| run | held-out ({s['held_out_pairs']} pairs) | with a trained word ({s['seen_word_pairs']}) | "
                f"no trained word ({s['unseen_word_pairs']}) | training pairs | fit s |",
                "| --- | ---: | ---: | ---: | ---: | ---: |",
                f"| skip-gram, before | {b['heldout_spearman']:.4f} | {b['seen_spearman']:.4f} | "
                f"{b['unseen_spearman']:.4f} | {b['train_spearman']:.4f} | |"]
        for r in s["runs"]:
            shown = ", ".join(f"{k}={v}" for k, v in r["params"].items())
            out.append(f"| {r['run']}{' (' + shown + ')' if shown else ''} | {r['heldout_spearman']:.4f} | "
                       f"{r['seen_spearman']:.4f} | {r['unseen_spearman']:.4f} | {r['train_spearman']:.4f} | "
                       f"{r['fit_s']:.1f} |")
        out.append("")
    d = report.get("digits")
    if d:
        out += ["| vectors | recall@1 | recall@5 | recall@10 | mAP | MAP@R | fit s |",
                "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for r in d["rows"]:
            fit = "" if r["fit_s"] is None else f"{r['fit_s']:.1f}"
            out.append(f"| {r['run']} | {r['recall@1']:.4f} | {r['recall@5']:.4f} | {r['recall@10']:.4f} | "
                       f"{r['map']:.4f} | {r['map@r']:.4f} | {fit} |")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--part", default="simlex,digits")
    ap.add_argument("--max-mb", type=float, default=40, help="first N MB of the tokenized corpus (0: all)")
    ap.add_argument("--similar", type=float, default=6.0, help="SimLex score from which a pair is 'similar'")
    ap.add_argument("--negatives", type=int, default=5, help="random words per similar pair and direction")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1, help="torch CPU threads (1 measured fastest here)")
    a = ap.parse_args()
    import torch

    import embedkit as ek

    report = {"env": {"embedkit": ek.__version__, "torch": torch.__version__, "python": platform.python_version(),
                      "device": a.device, "cuda_available": torch.cuda.is_available(),
                      "loadavg_before": os.getloadavg()}, "args": vars(a)}
    parts = a.part.split(",")
    if "simlex" in parts:
        report["simlex"] = simlex_part(a)
    if "digits" in parts:
        report["digits"] = digits_part(a)
    report["env"]["loadavg_after"] = os.getloadavg()
    out = HERE / "out" / "triplet_results.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=float))
    print(markdown(report))


if __name__ == "__main__":
    main()
