"""The recommender benchmark data sets, read in place from ``../shared/data`` (never copied:
MovieLens may not be redistributed). Every split is deterministic, so the driver and each
child process build the same (train, test)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("EMBEDKIT_DATA", ROOT.parent / "shared" / "data"))
ML100K = DATA / "movielens-100k"
GOWALLA = DATA / "gowalla-lightgcn"
GOWALLA_USERS = 29_858


def load(name: str):
    """``(train, test)`` Interactions for ``name``:

    * ``ml100k``: ``u.data`` ratings >= 4 as implicit positives, random 80/20 split, seed 0;
    * ``ml100k-u1`` .. ``ml100k-u5``: the official folds (``uN.base`` / ``uN.test``), explicit ratings;
    * ``gowalla``: the NGCF/LightGCN split; train from ``s_adj_mat.npz`` (the user x item block of the
      bipartite adjacency), test from ``test.txt`` (``user item item ...`` lines).
    """
    import embedkit as ek

    if name == "ml100k":
        inter = ek.read_interactions(ML100K / "u.data", rating_col=2, timestamp_col=3, implicit_threshold=4)
        return ek.split_interactions(inter, "random", test_fraction=0.2, seed=0)
    if name.startswith("ml100k-u"):
        fold = name[-1]
        return (ek.read_interactions(ML100K / f"u{fold}.base", rating_col=2),
                ek.read_interactions(ML100K / f"u{fold}.test", rating_col=2))
    if name == "gowalla":
        import scipy.sparse as sp

        adj = sp.load_npz(GOWALLA / "s_adj_mat.npz").tocsr()
        train = ek.read_interactions(adj[:GOWALLA_USERS, GOWALLA_USERS:])
        test = ek.read_interactions(GOWALLA / "test.txt", format="lists")
        return train, test
    raise ValueError(f"unknown data set {name!r}")
