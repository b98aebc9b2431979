"""Node classification from node vectors with one-vs-rest logistic regression."""
from __future__ import annotations

import numpy as np

from .._overlap import MIN_OVERLAP, check_overlap, describe
from ..data.labels import read_labels
from .._progress import track
from .._validation import Param
from ..exceptions import EmptyInputError, InvalidParameterError
from ._checks import finite_rows
from ._metrics import Metrics
from ._registry import evaluator


PARAMS = (
    Param("train_fraction", float, 0.5, "share of the labelled nodes the classifier trains on", low=0.0, high=1.0,
          low_open=True, high_open=True),
    Param("seed", int, 0, "seed of the random splits", low=0),
    # 5 splits: one split's score moves by several points on small graphs (karate: 17 test nodes); the
    # DeepWalk and node2vec papers average 10
    Param("repeats", int, 5, "random splits the scores are averaged over", low=1),
)


@evaluator("nodeclass", PARAMS)
def node_classification(emb, labels, train_fraction: float = 0.5, seed: int = 0, *, repeats: int = 5,
                        test_mask=None, train_mask=None) -> Metrics:
    """Train a classifier on a fraction of the labelled nodes, test on the rest.

    ``labels``: a dict ``node -> label`` (single-label) or ``node -> list of
    labels`` (multi-label), or a path :func:`embedkit.read_labels` reads (text,
    CSV, or a ``.mat`` ``group`` matrix keyed by row = node index). Nodes
    missing from ``emb`` are skipped.

    Single-label: multinomial logistic regression; reports ``accuracy``,
    ``micro_f1`` and ``macro_f1``. Multi-label (the DeepWalk/node2vec protocol on
    BlogCatalog, PPI, POS): one-vs-rest logistic regression, and each test node
    gets as many top-scored labels as it truly has. Scores are averaged over
    ``repeats`` random splits (seeded; default 5, as ``embedkit evaluate nodeclass``). Primary metric: ``macro_f1``.

    ``test_mask`` fixes the split instead (a public split such as Planetoid's): the
    labelled nodes it holds are tested, the classifier trains on ``train_mask`` (or on
    every other labelled node); ``train_fraction`` and ``repeats`` are then unused.
    Each mask is a bool array aligned with ``emb.keys`` or a collection of node keys.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import train_test_split
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer

    if not (0.0 < train_fraction < 1.0):
        raise InvalidParameterError("node_classification", "train_fraction", "a number > 0 and < 1", train_fraction)
    if isinstance(repeats, bool) or not isinstance(repeats, (int, np.integer)) or repeats < 1:
        raise InvalidParameterError("node_classification", "repeats", "an integer >= 1", repeats)
    labels_name = describe(labels, "the labels")
    if not isinstance(labels, dict):
        # a .mat group matrix is keyed by node index (row i = node i), whatever the order of emb's rows
        labels = read_labels(labels)
    items = [(k, v) for k, v in labels.items() if k in emb]
    check_overlap("node_classification", len(items), len(labels), items="labelled nodes", of=labels_name,
                  found_in=describe(emb, "the embeddings"), threshold=MIN_OVERLAP,
                  hint="Check that the vectors and the labels are of the same graph (node ids compared as "
                       "given and as str/int)")
    rows = emb.rows(k for k, _ in items)
    X = finite_rows(emb, rows, "node_classification")
    multi = any(isinstance(v, (list, tuple, set)) for _, v in items)
    fixed = None
    if test_mask is not None:
        in_test = _mask_rows(emb, test_mask, "test_mask")[rows]
        in_train = _mask_rows(emb, train_mask, "train_mask")[rows] & ~in_test if train_mask is not None else ~in_test
        if not in_test.any() or not in_train.any():
            raise EmptyInputError(f"the fixed split has {int(in_train.sum())} labelled train and "
                                  f"{int(in_test.sum())} labelled test nodes; both must be > 0")
        fixed = (np.flatnonzero(in_train), np.flatnonzero(in_test))
        repeats = 1
    results: dict[str, list[float]] = {}
    for r in track(range(repeats), desc=f"node classification ({len(items)} labelled nodes)", unit="split"):
        rs = seed + r
        if multi:
            mlb = MultiLabelBinarizer()
            Y = mlb.fit_transform([list(v) if isinstance(v, (list, tuple, set)) else [v] for _, v in items])
            has = Y.sum(1) > 0
            Xh, Yh = X[has], Y[has]
            if fixed is None:
                tr, te = train_test_split(np.arange(len(Xh)), train_size=train_fraction, random_state=rs)
            else:
                pos = np.cumsum(has) - 1  # row among the nodes with labels
                tr, te = (pos[f[has[f]]] for f in fixed)
            keep_cols = Yh[tr].sum(0) > 0
            clf = OneVsRestClassifier(LogisticRegression(max_iter=1000), n_jobs=1)
            clf.fit(Xh[tr], Yh[tr][:, keep_cols])
            scores = clf.decision_function(Xh[te])
            full = np.full((len(te), Y.shape[1]), -np.inf)
            full[:, keep_cols] = scores
            k = Yh[te].sum(1)
            pred = np.zeros_like(Yh[te])
            order = np.argsort(-full, axis=1)
            for i, ki in enumerate(k):
                pred[i, order[i, :ki]] = 1
            vals = {"micro_f1": f1_score(Yh[te], pred, average="micro", zero_division=0),
                    "macro_f1": f1_score(Yh[te], pred, average="macro", zero_division=0)}
        else:
            y = np.array([str(v) for _, v in items])
            classes, counts = np.unique(y, return_counts=True)
            if len(classes) < 2:
                raise EmptyInputError("node classification needs at least two classes")
            strat = y if counts.min() >= 2 else None
            if fixed is None:
                tr, te = train_test_split(np.arange(len(y)), train_size=train_fraction, random_state=rs,
                                          stratify=strat)
            else:
                tr, te = fixed
                if len(np.unique(y[tr])) < 2:
                    raise EmptyInputError("the train nodes of the fixed split hold one class; a classifier needs two")
            clf = LogisticRegression(max_iter=2000)
            clf.fit(X[tr], y[tr])
            pred = clf.predict(X[te])
            vals = {"accuracy": accuracy_score(y[te], pred),
                    "micro_f1": f1_score(y[te], pred, average="micro"),
                    "macro_f1": f1_score(y[te], pred, average="macro")}
        for name, val in vals.items():
            results.setdefault(name, []).append(float(val))
    out = {name: float(np.mean(v)) for name, v in results.items()}
    out["num_labelled"] = len(items)
    out["num_labels_given"] = len(labels)
    if fixed is not None:
        out["num_train"], out["num_test"] = len(fixed[0]), len(fixed[1])
    out["multi_label"] = bool(multi)
    return Metrics(out, primary="macro_f1")


def _mask_rows(emb, mask, name: str) -> np.ndarray:
    """A bool array over ``emb``'s rows from a bool mask or a collection of keys."""
    m = np.asarray(mask) if not isinstance(mask, (set, frozenset)) else None
    if m is not None and m.dtype == bool:
        if m.shape != (len(emb),):
            raise InvalidParameterError("node_classification", name, f"a bool array of length {len(emb)} "
                                        "(one per vector) or node keys", f"shape {m.shape}")
        return m
    out = np.zeros(len(emb), dtype=bool)
    out[emb.rows(mask)] = True
    return out
