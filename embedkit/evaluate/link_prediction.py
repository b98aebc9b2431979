"""Link prediction on held-out edges (the protocol of the node2vec paper)."""
from __future__ import annotations

import logging
import time

import numpy as np

from ..data.split import EdgeSplit, sample_non_edges
from ._metrics import Metrics

logger = logging.getLogger("embedkit")


def link_prediction(emb, split: EdgeSplit, *, seed: int = 0, max_train_pairs: int = 200_000) -> Metrics:
    """Score held-out edges against sampled non-edges.

    Two scorings:

    * ``dot``: the dot product of the two node vectors (no training);
    * ``hadamard``: logistic regression on the element-wise product of the two
      vectors, trained on edges of ``split.train_graph`` and as many sampled
      non-edges (Grover & Leskovec 2016, section 4.4).

    Returns ``{"auc", "ap"}`` (the Hadamard figures, primary ``auc``) plus
    ``auc_dot``, ``ap_dot``, ``auc_hadamard``, ``ap_hadamard`` and ``num_test_edges``.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, roc_auc_score

    start = time.perf_counter()
    rows = emb.rows(split.nodes)  # a node without a vector raises KeyNotFoundError naming it
    X = emb.vectors[rows]
    pairs, labels = split.pairs()
    a, b = X[pairs[:, 0]], X[pairs[:, 1]]
    dot = np.einsum("ij,ij->i", a, b)
    out = {"auc_dot": float(roc_auc_score(labels, dot)), "ap_dot": float(average_precision_score(labels, dot))}

    rng = np.random.default_rng(seed)
    train_g = split.train_graph
    pos = train_g.undirected_edges()
    pos = pos[pos[:, 0] != pos[:, 1]]
    if len(pos) > max_train_pairs:
        pos = pos[rng.choice(len(pos), max_train_pairs, replace=False)]
    test_keys = np.concatenate([split.test_pos, split.test_neg])
    n = train_g.num_nodes
    neg = sample_non_edges(train_g, len(pos), rng, exclude_keys=np.sort(
        np.concatenate([test_keys[:, 0] * n + test_keys[:, 1], test_keys[:, 1] * n + test_keys[:, 0]])))
    tr_pairs = np.concatenate([pos, neg])
    tr_labels = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    clf = LogisticRegression(max_iter=2000)
    clf.fit(X[tr_pairs[:, 0]] * X[tr_pairs[:, 1]], tr_labels)
    score = clf.decision_function(a * b)
    out["auc_hadamard"] = float(roc_auc_score(labels, score))
    out["ap_hadamard"] = float(average_precision_score(labels, score))
    out["auc"] = out["auc_hadamard"]
    out["ap"] = out["ap_hadamard"]
    out["num_test_edges"] = int(len(split.test_pos))
    logger.info("link prediction: %d test edges + %d non-edges, classifier on %d train pairs (dim %d) in %.1f s: "
                "auc %.4f (dot %.4f)", len(split.test_pos), len(split.test_neg), len(tr_pairs), X.shape[1],
                time.perf_counter() - start, out["auc"], out["auc_dot"])
    return Metrics(out, primary="auc")
