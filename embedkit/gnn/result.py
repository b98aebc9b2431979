"""What a supervised GCN/GAT returns: node vectors that can also classify."""
from __future__ import annotations

from typing import Hashable, Iterable

import numpy as np

from ..embeddings import Embeddings
from ..evaluate._metrics import Metrics


class NodeClassifier(Embeddings):
    """Node :class:`~embedkit.Embeddings` (the last hidden layer, ``(V, hidden)``) plus
    the trained model's class scores.

    ``scores``: float32 ``(V, C)`` logits of every node (transductive: computed once,
    after training, with the weights of the best validation epoch). ``classes``: the
    ``C`` label names. ``predict()`` gives labels, ``evaluate()`` the accuracy on the
    train/validation/test masks. ``model`` is the torch module (on the CPU, eval
    mode); ``history`` the per-epoch loss and validation metric.

    Saving (``save``/``export``) keeps the vectors; the scores and the model are not
    part of the artifact.
    """

    def __init__(self, keys, vectors, meta, *, scores: np.ndarray, classes: list, labels: np.ndarray,
                 masks: dict, multi_label: bool, model=None, history: list | None = None):
        super().__init__(keys, vectors, meta)
        self.scores = np.asarray(scores, dtype=np.float32)
        self.classes = list(classes)
        self.multi_label = multi_label
        self.model = model
        self.history = history or []
        self._labels = labels
        self._masks = masks

    def predict(self, nodes: Iterable[Hashable] | None = None) -> list:
        """The predicted label of each node (all nodes in key order by default); for a
        multi-label model, the list of labels whose logit is > 0."""
        rows = np.arange(len(self)) if nodes is None else self.rows(nodes)
        s = self.scores[rows]
        if self.multi_label:
            return [[self.classes[c] for c in np.flatnonzero(r > 0)] for r in s]
        return [self.classes[c] for c in s.argmax(1)]

    def predict_proba(self, nodes: Iterable[Hashable] | None = None) -> np.ndarray:
        """Class probabilities ``(n, C)``: softmax (single-label) or sigmoid (multi-label)."""
        rows = np.arange(len(self)) if nodes is None else self.rows(nodes)
        s = self.scores[rows].astype(np.float64)
        if self.multi_label:
            return (1 / (1 + np.exp(-s))).astype(np.float32)
        e = np.exp(s - s.max(1, keepdims=True))
        return (e / e.sum(1, keepdims=True)).astype(np.float32)

    def evaluate(self, test_mask=None) -> Metrics:
        """``test_accuracy``, ``val_accuracy``, ``train_accuracy`` (micro/macro-F1 for
        multi-label) on the masks the model was trained with, or on ``test_mask`` (bool
        ``(V,)`` or node keys) when given. Primary: the test figure."""
        from ._train import classification_scores

        masks = dict(self._masks)
        if test_mask is not None:
            m = np.asarray(test_mask)
            if m.dtype != bool:
                rows = self.rows(test_mask)
                m = np.zeros(len(self), dtype=bool)
                m[rows] = True
            masks["test"] = m
        out: dict = {}
        for split, m in masks.items():
            if m is None:
                continue
            m = m & (self._labels.any(1) if self.multi_label else self._labels >= 0)
            for k, v in classification_scores(self.scores, self._labels, m, self.multi_label).items():
                out[f"{split}_{k}"] = v
            out[f"num_{split}"] = int(m.sum())
        primary = next((k for k in ("test_accuracy", "test_micro_f1", "val_accuracy", "val_micro_f1",
                                    "train_accuracy", "train_micro_f1") if k in out), None)
        if primary is None:
            raise ValueError("no labelled node in any mask to evaluate on")
        return Metrics(out, primary=primary)
