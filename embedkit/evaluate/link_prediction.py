"""Link prediction on held-out edges (the protocol of the node2vec paper)."""
from __future__ import annotations

import logging
import time

import numpy as np

from .._keys import rows_of
from .._overlap import check_overlap, describe
from ..data.split import EdgeSplit, sample_non_edges
from .._validation import Param
from ..exceptions import EmptyInputError
from ._checks import finite_rows
from ._metrics import Metrics
from ._registry import evaluator

logger = logging.getLogger("embedkit")


PARAMS = (
    # cli=False: `embedkit evaluate linkpred` passes --seed (and other unknown options) to the method it trains
    Param("seed", int, 0, "seed of the sampled training non-edges and the classifier", low=0, cli=False),
    Param("max_train_pairs", int, 200_000, "most training pairs the edge classifier sees", low=1),
)


@evaluator("linkpred", PARAMS)
def link_prediction(emb, split: EdgeSplit, *, seed: int = 0, max_train_pairs: int = 200_000) -> Metrics:
    """Score held-out edges against sampled non-edges.

    Two scorings:

    * ``dot``: the dot product of the two node vectors (no training);
    * ``hadamard``: logistic regression on the element-wise product of the two
      vectors, trained on edges of ``split.train_graph`` and as many sampled
      non-edges (Grover & Leskovec 2016, section 4.4).

    Returns ``{"auc", "ap"}`` (the Hadamard figures, primary ``auc``) plus
    ``auc_dot``, ``ap_dot``, ``auc_hadamard``, ``ap_hadamard``, ``num_test_edges`` and
    ``node_coverage`` (the share of the split's nodes that have a vector).

    Pairs with a node that has no vector are left out, with a warning; when fewer than half of
    the split's nodes (:data:`embedkit._overlap.MIN_OVERLAP`) have a vector, the vectors are not
    of this graph and :class:`~embedkit.exceptions.InputMismatchError` is raised.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import average_precision_score, roc_auc_score

    start = time.perf_counter()
    rows = rows_of(emb.key_to_index, split.nodes)
    have = rows >= 0
    coverage = check_overlap("link_prediction", int(have.sum()), len(rows), items="nodes",
                             of="the split's graph", found_in=describe(emb, "the embeddings"),
                             hint="Check that the vectors were trained on this graph's node ids")
    X = np.zeros((len(rows), emb.dim), dtype=emb.vectors.dtype)
    X[have] = finite_rows(emb, rows[have], "link_prediction")
    pairs, labels = split.pairs()
    keep = have[pairs[:, 0]] & have[pairs[:, 1]]
    pairs, labels = pairs[keep], labels[keep]
    if labels.min(initial=1) == labels.max(initial=0) or not keep.any():
        raise EmptyInputError("link_prediction: the held-out edges and non-edges whose nodes have vectors "
                              "are all of one kind; AUC needs both")
    a, b = X[pairs[:, 0]], X[pairs[:, 1]]
    dot = np.einsum("ij,ij->i", a, b)
    out = {"auc_dot": float(roc_auc_score(labels, dot)), "ap_dot": float(average_precision_score(labels, dot))}

    rng = np.random.default_rng(seed)
    train_g = split.train_graph
    pos = train_g.undirected_edges()
    pos = pos[(pos[:, 0] != pos[:, 1]) & have[pos[:, 0]] & have[pos[:, 1]]]
    if len(pos) > max_train_pairs:
        pos = pos[rng.choice(len(pos), max_train_pairs, replace=False)]
    test_keys = np.concatenate([split.test_pos, split.test_neg])
    n = train_g.num_nodes
    neg = sample_non_edges(train_g, len(pos), rng, exclude_keys=np.sort(
        np.concatenate([test_keys[:, 0] * n + test_keys[:, 1], test_keys[:, 1] * n + test_keys[:, 0]])))
    neg = neg[have[neg[:, 0]] & have[neg[:, 1]]]
    tr_pairs = np.concatenate([pos, neg])
    tr_labels = np.concatenate([np.ones(len(pos)), np.zeros(len(neg))])
    clf = LogisticRegression(max_iter=2000)
    clf.fit(X[tr_pairs[:, 0]] * X[tr_pairs[:, 1]], tr_labels)
    score = clf.decision_function(a * b)
    out["auc_hadamard"] = float(roc_auc_score(labels, score))
    out["ap_hadamard"] = float(average_precision_score(labels, score))
    out["auc"] = out["auc_hadamard"]
    out["ap"] = out["ap_hadamard"]
    out["num_test_edges"] = int(labels.sum())
    out["node_coverage"] = float(coverage)
    logger.info("link prediction: %d test pairs (%d edges), classifier on %d train pairs (dim %d) in %.1f s: "
                "auc %.4f (dot %.4f)", len(labels), int(labels.sum()), len(tr_pairs), X.shape[1],
                time.perf_counter() - start, out["auc"], out["auc_dot"])
    return Metrics(out, primary="auc")
