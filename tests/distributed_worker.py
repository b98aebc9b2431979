"""Started by tests/test_distributed.py, alone or under ``torchrun``: trains the named
scenarios (small problems with a known answer) and writes their figures as JSON
(rank 0 only). Every figure is computed the same way in one process and in several,
so the test compares like with like.

    torchrun --nproc-per-node 2 tests/distributed_worker.py out.json node2vec mf ...
"""
from __future__ import annotations

import json
import sys

import numpy as np

CPU = {"device": "cpu", "workers": 1, "verbose": False}


def _ranks_agree(vectors: np.ndarray) -> bool:
    """Whether every process returned the same vectors (rank 0's checksum broadcast)."""
    from embedkit.distributed import context, same_everywhere

    dist = context()
    mine = np.array([float(np.asarray(vectors, np.float64).sum())])
    return bool(np.allclose(same_everywhere(mine, dist), mine, rtol=0, atol=0))


def node2vec() -> dict:
    import embedkit as ek

    emb = ek.train("node2vec", ek.datasets.load("karate"), dim=16, walks_per_node=10, backend="torch", seed=0, **CPU)
    labels = ek.read_labels(ek.datasets.path("karate.labels"))
    acc = ek.evaluate.node_classification(emb, labels, repeats=5)["accuracy"]
    return {"faction_accuracy": acc, "agree": _ranks_agree(emb.vectors)}


def skipgram() -> dict:
    import embedkit as ek
    from embedkit.datasets.synthetic import planted_text

    pt = planted_text(8000, seed=0)
    emb = ek.train("skipgram", pt.sentences, min_count=1, dim=32, epochs=5, seed=0, backend="torch", **CPU)
    analogies = np.mean([emb.analogy(a, b, c, k=1)[0][0] == d for a, b, c, d in pt.analogies])
    return {"analogies": float(analogies), "agree": _ranks_agree(emb.vectors)}


def mf() -> dict:
    import embedkit as ek
    from embedkit.datasets.recsys import low_rank_ratings

    train, test = ek.split_interactions(low_rank_ratings(300, 200, seed=0), "random", 0.2, seed=0)
    model = ek.train("mf", train, dim=8, seed=0, **CPU)
    mean_rmse = float(np.sqrt(np.mean((test.values - train.values.mean()) ** 2)))
    return {"rmse": ek.evaluate.rating(model, test)["rmse"], "mean_rmse": mean_rmse,
            "agree": _ranks_agree(model.items.vectors)}


def bpr() -> dict:
    import embedkit as ek
    from embedkit.datasets.recsys import low_rank_interactions

    train, test = ek.split_interactions(low_rank_interactions(300, 200, rank=4, per_user=20, seed=0), "random",
                                        0.2, seed=0)
    model = ek.train("bpr", train, dim=8, seed=0, backend="torch", **CPU)
    pop = ek.evaluate.ranking(ek.train("popular", train), train, test, k=10)["recall@10"]
    return {"recall@10": ek.evaluate.ranking(model, train, test, k=10)["recall@10"], "popular_recall@10": pop,
            "agree": _ranks_agree(model.items.vectors)}


def gcn() -> dict:
    """Karate, supervised on 4 labelled members per faction; test accuracy on the rest."""
    import embedkit as ek

    g = ek.datasets.load("karate")
    labels = ek.read_labels(ek.datasets.path("karate.labels"))
    classes = sorted(set(labels.values()))
    y = np.array([classes.index(labels[k]) for k in g.nodes])
    train = np.zeros(len(y), bool)
    for c in range(len(classes)):
        train[np.flatnonzero(y == c)[:4]] = True
    nd = ek.NodeData(g, labels=y, classes=classes, train_mask=train, test_mask=~train)
    res = ek.train("gcn", nd, seed=0, epochs=100, patience=0, **CPU)
    return {"test_accuracy": res.evaluate()["test_accuracy"], "agree": _ranks_agree(res.vectors)}


def triplet() -> dict:
    """MLP and table encoders on Gaussian clusters hidden in noise: recall@1 by label."""
    import embedkit as ek

    rng = np.random.default_rng(0)
    centres = rng.normal(0, 1.5, (6, 4))
    y = np.repeat(np.arange(6), 40)
    x = np.c_[centres[y] + rng.normal(0, 0.3, (240, 4)), rng.normal(0, 1.0, (240, 40))].astype(np.float32)
    labels = dict(enumerate(y.tolist()))
    mlp = ek.train("triplet", {"features": x, "labels": y}, dim=16, epochs=20, batch_size=64, seed=0, **CPU)
    table = ek.train("triplet", {"keys": list(range(240)), "labels": y}, dim=16, epochs=30, batch_size=64, seed=0,
                     **CPU)
    return {"mlp_recall@1": ek.evaluate.retrieval(mlp, labels, k=1)["recall@1"],
            "table_recall@1": ek.evaluate.retrieval(table, labels, k=1)["recall@1"],
            "agree": _ranks_agree(mlp.vectors) and _ranks_agree(table.vectors)}


SCENARIOS = {f.__name__: f for f in (node2vec, skipgram, mf, bpr, gcn, triplet)}


def rowsync() -> dict:
    """RowSync's arithmetic with two processes: rank 0 changes rows 1 and 3, rank 1 rows 2
    and 3, in the same window; then rank 0 runs one more (empty) step than rank 1."""
    import torch

    from embedkit.distributed import RowSync, context

    dist = context()
    table = torch.zeros(4, 2)
    sync = RowSync([table], dist, every=1)
    if dist.rank == 0:
        table[1] += 1.0
        table[3] += 4.0
    else:
        table[2] += torch.tensor([2.0, -2.0])
        table[3] += 6.0
    sync.step([torch.tensor([1, 3]) if dist.rank == 0 else torch.tensor([2, 3, 3])])
    if dist.rank == 0:
        sync.step([torch.tensor([], dtype=torch.int64)])
    sync.finish()
    return {"table": table.tolist(), "syncs": sync.syncs, "agree": _ranks_agree(table.numpy())}


def main(out: str, names: list[str]) -> None:
    from embedkit._atomic import atomic_open
    from embedkit.distributed import context

    results = {name: (rowsync if name == "rowsync" else SCENARIOS[name])() for name in names}
    results["world"] = context().world
    with atomic_open(out) as fh:  # rank 0's copy is the one published
        json.dump(results, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
