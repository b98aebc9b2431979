"""What a GCN/GAT returns: node vectors that can embed the nodes of a grown graph
(:class:`GNNEmbeddings`) and, when trained on labels, classify (:class:`NodeClassifier`)."""
from __future__ import annotations

from typing import Hashable, Iterable

import numpy as np

from ..artifacts import register_artifact
from ..embeddings import Embeddings, summary_rows
from ..evaluate._metrics import Metrics
from ..exceptions import EmbedkitError, EmptyInputError
from ..io.native import FORMAT_NAME, load_embeddings, save_embeddings, save_native


class GNNEmbeddings(Embeddings):
    """Node :class:`~embedkit.Embeddings` plus the trained encoder (``model``, a torch module on
    the CPU in eval mode) and how its input features were made, so that :meth:`embed` can give
    vectors to the nodes of a grown or another graph without retraining (GNNs are inductive
    when their inputs are features: Hamilton, Ying & Leskovec, NeurIPS 2017).

    :meth:`save` keeps the encoder (its weights as ``.npy`` arrays and its architecture as JSON,
    :mod:`embedkit.gnn._saved`): :func:`embedkit.load` gives back a result whose :meth:`embed` and
    ``ek.train(method, data, init=loaded)`` give what the object ``ek.train`` returned gives.
    """

    def __init__(self, keys, vectors, meta, *, model=None, output: str = "hidden"):
        super().__init__(keys, vectors, meta)
        self.model = model
        self._output = output  # which encoder output the vectors are: "hidden" or "out"

    def embed(self, data, *, batch_size: int = 0) -> Embeddings:
        """Vectors of every node of ``data`` (a graph with node features, anything
        :func:`~embedkit.read_node_data` takes; the features must be made as in training:
        the same columns) from the trained encoder, without training. Returns
        :class:`~embedkit.Embeddings` ``(V, dim)`` keyed by ``data``'s nodes; the nodes the
        model was trained on get what a forward pass on the new graph gives them (their
        neighbourhoods may have grown). A model whose input was a learned table of node
        vectors (no features) cannot embed nodes it never saw: that raises an error; nor can a
        model on spectral features embed another graph than its training graph (another graph's
        eigenvectors are another basis). Degree features are scaled as in training
        (``meta["degree_log_max"]``)."""
        from ._features import graph_digest, input_features
        from ..data.nodes import as_node_data
        from ._train import Graphs

        if self.model is None:
            raise EmbedkitError("this result holds no trained encoder (made without one, or loaded from a file "
                                "saved before embedkit kept GNN encoders): retrain it with this version of "
                                "embedkit and save it again; its .ekv then keeps the encoder")
        kind = self.meta.get("features")
        if kind == "learned":
            raise EmbedkitError("this model learned a table of vectors for the training nodes (the graph had no "
                                "features), so it cannot embed other nodes; train it with node features "
                                "(or input_features='degree') to embed a grown graph, or fine-tune it with init=")
        nd = as_node_data(data)
        if kind == "spectral" and self.meta.get("graph_digest") != graph_digest(nd.graph):
            raise EmbedkitError("this model's input features are the leading eigenvectors of its training graph "
                                "(input_features='spectral'); another graph's eigenvectors are another basis, so "
                                "it cannot embed this graph's nodes; train with node features (or "
                                "input_features='degree') to embed a grown graph, or fine-tune it with init=")
        X, _ = input_features(nd, kind, bool(self.meta.get("normalize_features", True)), "embed",
                              degree_log_max=self.meta.get("degree_log_max"))
        expected = self.meta.get("num_input_features")
        if expected is not None and X.shape[1] != expected:
            raise EmbedkitError(f"embed: the model was trained on {expected} input features; this graph's nodes "
                                f"have {X.shape[1]}")
        convs = getattr(self.model, "convs", [])
        cached = [getattr(c, "cached", False) for c in convs]
        try:
            for c in convs:  # GCNConv caches the training graph's normalised adjacency
                if hasattr(c, "cached"):
                    c.cached = False
                    c._cached_edge_index = None
            out, hid = Graphs(nd.graph, X, "cpu", batch_size, 10, len(convs), 0).predict_all(self.model)
        finally:
            for c, flag in zip(convs, cached):
                if hasattr(c, "cached"):
                    c.cached = flag
        vectors = hid if self._output == "hidden" else out
        meta = dict(self.meta)
        meta["embedded_graph"] = repr(nd.graph)
        return Embeddings(nd.graph.nodes, vectors, meta)

    def save(self, path) -> None:
        """``.ekv`` (a zip, no pickle): the vectors, keys and metadata of any
        :class:`~embedkit.Embeddings`, plus the encoder's weights as ``.npy`` members and its
        architecture in ``meta.json`` (a node classifier: its scores, labels and masks too); see
        :mod:`embedkit.gnn._saved`. Written atomically. Without an encoder: the vectors only."""
        from ._saved import encoder_members

        if self.model is None:
            save_native(self, path)
            return
        extra_meta, arrays = encoder_members(self)
        save_native(self, path, extra_meta=extra_meta, arrays=arrays)


class NodeClassifier(GNNEmbeddings):
    """Node :class:`~embedkit.Embeddings` (the last hidden layer, ``(V, hidden)``) plus
    the trained model's class scores.

    ``scores``: float32 ``(V, C)`` logits of every node (transductive: computed once,
    after training, with the weights of the best validation epoch). ``classes``: the
    ``C`` label names. ``predict()`` gives labels, ``evaluate()`` the accuracy on the
    train/validation/test masks. ``model`` is the torch module (on the CPU, eval
    mode); ``history`` the per-epoch rows of the training loop (loss, validation
    accuracy / micro-F1 and loss; ``meta["history"]``, saved with the vectors).

    ``save`` keeps the vectors, the model, the scores, labels and masks (:func:`embedkit.load`
    gives back a ``NodeClassifier``); ``export`` writes the vectors.
    """

    def __init__(self, keys, vectors, meta, *, scores: np.ndarray, classes: list, labels: np.ndarray,
                 masks: dict, multi_label: bool, model=None):
        super().__init__(keys, vectors, meta, model=model)
        self.scores = np.asarray(scores, dtype=np.float32)
        self.classes = list(classes)
        self.multi_label = multi_label
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
            raise EmptyInputError("no labelled node in any mask to evaluate on")
        return Metrics(out, primary=primary)


def _summary(emb: GNNEmbeddings) -> list[tuple[str, str]]:
    """Vectors, then the mode and seconds per epoch, and the accuracies when supervised (the epochs,
    loss, best epoch and early stop: the training loop's rows)."""
    m = emb.meta
    rows = [("mode", f"{m['mode']}, input features {m['features']}, {m['device']}"),
            ("epoch time", f"{m['seconds_per_epoch']:.4f} s"
                           + (f", best epoch {m['best_epoch']} by the training loss" if m["mode"] == "unsupervised"
                              else ""))]
    if m["mode"] == "supervised":
        rows += [(k.replace("_", " "), f"{v:.4f}") for k, v in emb.evaluate().items() if not k.startswith("num_")]
    return summary_rows(emb, rows)


def _load_gnn(path, *, mmap: bool = False, allow_nonfinite: bool = False) -> GNNEmbeddings:
    """An .ekv of a GCN/GAT result: its vectors and its encoder (:mod:`embedkit.gnn._saved`)."""
    from ._saved import attach_encoder

    return attach_encoder(load_embeddings(path, mmap=mmap, allow_nonfinite=allow_nonfinite), path)


# an .ekv of embeddings whose meta.json has a "gnn_encoder" entry (files saved before it load as Embeddings)
register_artifact("gnn-embeddings", GNNEmbeddings, format=FORMAT_NAME, save=save_embeddings, load=_load_gnn,
                  summary=_summary, recognise=lambda meta: "gnn_encoder" in meta)
