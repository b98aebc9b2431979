"""Child process, started under ``torchrun --nproc-per-node N``: train one workload, and
on rank 0 print one ``RESULT`` JSON line with its phase times (the slowest rank's) and
its quality. Run by ``distributed_speedup.py``."""
from __future__ import annotations

import argparse
import json
import time

from _child_common import rss_mb  # noqa: E402  (benchmarks/ is on sys.path: run as a script)
from _gutenberg import DATA, head_mb, tokenized_file  # noqa: E402

CPU = {"device": "cpu", "verbose": False}


def node2vec(a) -> dict:
    """BlogCatalog: node2vec, macro/micro-F1 of one-vs-rest logistic regression (50 % train)."""
    import embedkit as ek

    mat = DATA / "blogcatalog" / "blogcatalog.mat"
    g = ek.read_graph(mat)
    emb = ek.train("node2vec", g, dim=64, walks_per_node=a.walks, walk_length=40, window=5, p=1, q=0.5,
                   backend="torch", seed=0, workers=1, **CPU)
    m = ek.evaluate.node_classification(emb, str(mat), train_fraction=0.5, seed=0, repeats=1)
    return {"walk_s": emb.meta["walk_time_s"], "train_s": emb.meta["train_time_s"],
            "quality": {"micro_f1": m["micro_f1"], "macro_f1": m["macro_f1"]}}


def skipgram(a) -> dict:
    """Gutenberg (the first a.mb MB of the tokenized corpus): Google analogy accuracy."""
    import embedkit as ek

    corpus = ek.read_text(head_mb(tokenized_file(), a.mb), tokenizer=str.split, lowercase=False, verbose=False)
    emb = ek.train("skipgram", corpus, dim=100, window=5, epochs=1, min_count=5, backend="torch", seed=0,
                   workers=1, **CPU)
    acc = ek.evaluate.analogy(emb, restrict_vocab=30000)["accuracy"]
    return {"train_s": emb.meta["train_time_s"], "quality": {"analogy_accuracy": acc}}


def gcn(a) -> dict:
    """PubMed (spectral input, public split): GCN in mini-batches of sampled neighbourhoods."""
    import embedkit as ek

    nd = ek.datasets.read_planetoid(DATA / "pubmed", "pubmed")
    res = ek.train("gcn", nd, input_features="spectral", batch_size=a.batch, num_neighbors=10, epochs=a.epochs,
                   patience=0, seed=0, workers=1, **CPU)
    return {"train_s": res.meta["train_time_s"], "quality": {"test_accuracy": res.evaluate()["test_accuracy"]}}


def mf(a) -> dict:
    """MovieLens-100k u1.base -> u1.test: explicit MF, RMSE."""
    import embedkit as ek

    folder = DATA / "movielens-100k"
    kw = dict(user_col=0, item_col=1, rating_col=2)
    train = ek.read_interactions(folder / "u1.base", **kw)
    test = ek.read_interactions(folder / "u1.test", **kw)
    model = ek.train("mf", train, seed=0, workers=1, **CPU)
    return {"train_s": model.meta["train_time_s"], "quality": {"rmse": ek.evaluate.rating(model, test)["rmse"]}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("workload", choices=("node2vec", "skipgram", "gcn", "mf"))
    ap.add_argument("--walks", type=int, default=10, help="node2vec: walks per node")
    ap.add_argument("--mb", type=float, default=30.0, help="skipgram: MB of the tokenized Gutenberg corpus")
    ap.add_argument("--batch", type=int, default=512, help="gcn: seed nodes per mini-batch")
    ap.add_argument("--epochs", type=int, default=50, help="gcn: epochs")
    a = ap.parse_args()
    from embedkit.distributed import context, is_main, mean_across

    dist = context()  # join the process group before any timer: rendezvous is not training
    t0 = time.perf_counter()
    out = globals()[a.workload](a)
    out["world"] = dist.world
    # the slowest rank's times
    times = {k: v for k, v in out.items() if k.endswith("_s")}
    if dist.active:
        import torch
        import torch.distributed as td

        t = torch.tensor(list(times.values()), dtype=torch.float64)
        td.all_reduce(t, op=td.ReduceOp.MAX)
        times = dict(zip(times, t.tolist()))
    out.update(times, process_s=time.perf_counter() - t0, rss_mb=mean_across([rss_mb()], dist)[0])
    if is_main():
        print("RESULT " + json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
