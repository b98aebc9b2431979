"""What GCN and GAT share: the parameter table, the choice of training mode, and
turning a trained encoder into the result."""
from __future__ import annotations

import logging
import time

import numpy as np

from .._device import cpu_threads, resolve_device
from .._validation import VERBOSE, Param, device_param, seed_param, workers_param
from ..api import Method
from ..data.nodes import NodeData, as_node_data
from ..distributed import context, data_parallel, same_everywhere, unwrap
from ..embeddings import Embeddings
from ..exceptions import EmptyInputError, InvalidParameterError
from ..training import Options, digest, loop_params, run
from ._features import FEATURE_CHOICES, FEATURE_HELP, degree_log_max, graph_digest, input_features
from ._init import FREEZE_MEANING, INIT_MEANING

logger = logging.getLogger("embedkit")

MODES = ("auto", "supervised", "unsupervised")


def gnn_params(*, hidden: int, dropout: float, learning_rate: float, epochs: int, patience: int, extra: tuple = ()) -> tuple:
    """The parameter table of a GNN method, with that method's defaults."""
    return (
        Param("mode", str, "auto", "supervised (node labels -> classification), unsupervised (graph "
              "auto-encoder on the edges), or auto: supervised when the data has labels", choices=MODES),
        Param("layers", int, 2, "graph convolution layers", low=1),
        Param("hidden", int, hidden, "units of each hidden layer" + (" (per head)" if extra else ""), low=1),
        Param("dim", int, 64, "unsupervised mode: size of the output node vectors", low=1),
        *extra,
        Param("dropout", float, dropout, "dropout on every layer's input", low=0.0, high=1.0, high_open=True),
        Param("learning_rate", float, learning_rate, "Adam learning rate", low=0.0, low_open=True),
        Param("weight_decay", float, 5e-4, "L2 penalty (Adam weight decay): GCN on its first layer only, as Kipf & Welling; GAT on every layer", low=0.0),
        Param("epochs", int, epochs, "maximum training epochs", low=1),
        Param("patience", int, patience, "stop after this many epochs without a better validation metric "
              "(unsupervised: training loss) and keep the best epoch's weights; 0 never stops early", low=0),
        Param("input_features", str, "auto", FEATURE_HELP, choices=FEATURE_CHOICES),
        Param("normalize_features", bool, True, "scale each given non-negative feature row to sum 1 (Kipf & Welling; skipped when a value is negative)"),
        Param("train_fraction", float, 0.6, "labels without masks: the fraction of labelled nodes trained on "
              "(stratified; the rest after val_fraction is the test set)", low=0.0, high=1.0, low_open=True,
              high_open=True),
        Param("val_fraction", float, 0.2, "labels without masks: the fraction used for early stopping",
              low=0.0, high=1.0, high_open=True),
        Param("batch_size", int, 0, "0: full-batch training; else seed nodes (unsupervised: edges) per "
              "mini-batch, each with a sampled neighbourhood", low=0),
        Param("num_neighbors", int, 10, "mini-batches: neighbours sampled per node and hop", low=1),
        workers_param("CPU threads for torch (0 = auto: 1, the fastest measured on a 2-core machine)"),
        seed_param("random seed (runs repeat exactly on the CPU with workers=1; with more threads GAT's "
                   "attention sums in a thread-dependent order)"),
        device_param(),
        Param("init", object, None, INIT_MEANING + "; GCN/GAT: the result ek.train returned or its .ekv loaded "
              "with ek.load (CLI --init FILE): its encoder's weights are the start, the same layer sizes required; "
              "a file saved before embedkit kept GNN encoders holds no weights and is refused",
              nullable=True, cli=False),
        Param("freeze_existing", bool, False, FREEZE_MEANING + "; GCN/GAT: the old nodes' rows are copied from "
              "init, new nodes get the fine-tuned encoder's rows", requires="init"),
        *loop_params(),
        VERBOSE,
    )


class GNNMethod(Method):
    """Base of the PyG-backed methods; subclasses set ``name`` and ``kind`` (the name of their
    :class:`~embedkit.gnn._model.LayerType` in ``_model.LAYERS``) and give that layer type's
    settings from the parameters in ``_encoder_kw``."""

    family = "gnn"
    input_kind = "nodes"  # a graph, or a graph with features and labels (embedkit.kinds)
    kind = ""
    quick_params = {"epochs": 5, "hidden": 8, "dim": 8, "verbose": False}

    def _encoder_kw(self, params: dict) -> dict:
        """The settings of this method's layer type, from the method's parameters."""
        return {}

    def _fit(self, data, **params):
        import torch

        from ._init import carry_over, check_init, init_digest, load_init
        from ._model import build_encoder
        from ._train import AutoEncoder, Graphs, Supervised

        nd = as_node_data(data)
        if nd.graph.indices.size == 0:
            raise EmptyInputError(f"{self.name}: the graph has no edges")
        mode = self._mode(nd, params["mode"])
        if mode == "supervised":
            nd = self._with_split(nd, params)
        dev = resolve_device(params["device"], method=self.name)
        X, feat_kind = input_features(nd, params["input_features"], params["normalize_features"], self.name)
        multi = nd.multi_label
        n_out = len(nd.classes) if mode == "supervised" else params["dim"]
        init = params["init"]
        if init is not None:
            check_init(self.name, init, mode=mode, feat_kind=feat_kind, classes=nd.classes)
        dist = context(dev)
        if dist.active and params.get("checkpoint"):  # each process would need its own generators' state
            raise InvalidParameterError(self.name, "checkpoint", "None under torchrun (checkpoints are written by "
                                        "runs of one process)", params["checkpoint"])
        t0 = time.perf_counter()
        with torch.random.fork_rng(devices=[dev] if dev.startswith("cuda") else []), \
                cpu_threads(params["workers"], dev):
            torch.manual_seed(params["seed"])
            net = build_encoder(self.kind, None if X is None else X.shape[1], nd.num_nodes, params["hidden"],
                                n_out, params["layers"], dropout=params["dropout"],
                                **self._encoder_kw(params))
            if init is not None:
                load_init(self.name, net, init, list(nd.graph.nodes))
            net = net.to(dev)
            if dist.active:  # dropout masks and neighbour samples differ between the processes
                torch.manual_seed(params["seed"] + 1_000_003 * dist.rank)
            model = data_parallel(net, dist, dev)
            graphs = Graphs(nd.graph, X, dev, params["batch_size"], params["num_neighbors"], params["layers"],
                            params["seed"] + 1_000_003 * dist.rank)
            common = dict(learning_rate=params["learning_rate"], weight_decay=params["weight_decay"], dist=dist)
            validate, judging = None, {}
            if mode == "supervised":
                masks = {"train": nd.train_mask, "val": nd.val_mask, "test": nd.test_mask}
                y = nd.labels if multi else np.where(nd.labels >= 0, nd.labels, 0)
                training = Supervised(model, graphs, y, masks, multi, **common)
                if training.val is not None:  # the best epoch: highest validation metric, then lowest loss
                    validate, judging = training.validate, {"tie_break": "loss"}
            else:
                training = AutoEncoder(model, graphs, seed=params["seed"], **common)
                judging = {"monitor_loss": True, "min_delta": AutoEncoder.MIN_DELTA}
            # the fingerprint: a checkpoint of a run from scratch (or from another init) is not resumed
            fp_params = dict(params, init=None if init is None else "init:" + init_digest(init))
            opts = Options.from_params(self.name, fp_params, epochs=params["epochs"], validate=validate,
                                       data_digest=lambda: _data_digest(nd, X), **judging)
            t_loop = time.perf_counter()
            r = run(training, self.name, opts)
            loop_s = time.perf_counter() - t_loop - r.checkpoint_s
            # rank 0's outputs everywhere (sampled neighbourhoods differ between the processes)
            out, hid = (same_everywhere(a, dist, dev) for a in graphs.predict_all(model))
            model = unwrap(model)
        train_s = time.perf_counter() - t0
        meta = {"mode": mode, "features": feat_kind, "normalize_features": params["normalize_features"],
                "num_input_features": None if X is None else int(X.shape[1]), "device": dev, "train_time_s": round(train_s, 4),
                "epochs_run": r.stopped_epoch, "best_epoch": r.best_epoch, "early_stopped": r.early_stopped,
                # the epochs' seconds (training steps and validation) in this process, checkpoints left out;
                # a resumed run with no epoch left: the history's (training steps only)
                "seconds_per_epoch": round(loop_s / training.epochs_here if training.epochs_here else
                                           float(np.mean([h["seconds"] for h in r.history] or [0.0])), 5),
                "graph": repr(nd.graph),
                "history": r.history, "training": r.summary()}
        meta.update(_feature_meta(nd, feat_kind))
        logger.info("%s (%s, %s): %d epochs in %.2fs, best epoch %s", self.name, mode, dev, r.stopped_epoch,
                    train_s, r.best_epoch)
        from .result import GNNEmbeddings, NodeClassifier

        keys, vectors = nd.graph.nodes, (out if mode == "unsupervised" else hid)
        if init is not None:
            keys, vectors, absent, meta["init"] = carry_over(keys, vectors, init, params["freeze_existing"])
        if mode == "unsupervised":
            return GNNEmbeddings(keys, vectors, meta, model=model.cpu().eval(), output="out")

        masks = {"train": nd.train_mask, "val": nd.val_mask, "test": nd.test_mask}
        labels = nd.labels
        if init is not None and absent.size:  # the old nodes the graph lacks: their old scores, no label, no mask
            out = np.concatenate([out, init.scores[absent]])
            labels = np.concatenate([labels, np.zeros((absent.size, labels.shape[1]), labels.dtype) if multi
                                     else np.full(absent.size, -1, labels.dtype)])
            masks = {k: None if m is None else np.concatenate([m, np.zeros(absent.size, bool)])
                     for k, m in masks.items()}
        clf = NodeClassifier(keys, vectors, meta, scores=out, classes=nd.classes, labels=labels,
                             masks=masks, multi_label=multi, model=model.cpu().eval())
        clf.meta.update({k: round(v, 6) if isinstance(v, float) else v for k, v in clf.evaluate().items()})
        return clf

    def _mode(self, nd: NodeData, mode: str) -> str:
        has_labels = nd.labels is not None and nd.labelled.any()
        if mode == "auto":
            return "supervised" if has_labels else "unsupervised"
        if mode == "supervised" and not has_labels:
            raise InvalidParameterError(self.name, "mode", "'auto' or 'unsupervised' for a graph without labels",
                                        mode, hint="give labels (e.g. --labels labels.csv) for supervised training")
        return mode

    def _with_split(self, nd: NodeData, params: dict) -> NodeData:
        labelled = nd.labelled
        if nd.train_mask is None:
            logger.info("%s: no train mask; random split %.2f/%.2f/rest of the labelled nodes", self.name,
                        params["train_fraction"], params["val_fraction"])
            return nd.random_split(params["train_fraction"], params["val_fraction"], params["seed"])
        train = nd.train_mask & labelled
        if not train.any():
            raise EmptyInputError(f"{self.name}: no labelled node in the train mask")
        val = nd.val_mask
        test = nd.test_mask if nd.test_mask is not None else labelled & ~train & (
            ~val if val is not None else True)
        if val is None or not (val & labelled).any():
            logger.info("%s: no validation nodes; training all epochs without early stopping", self.name)
        return NodeData(nd.graph, nd.features, nd.labels, nd.classes, train, val, test, nd.has_features, nd.name)


def _feature_meta(nd: NodeData, feat_kind: str) -> dict:
    """What ``embed`` needs to make another graph's input features as in training: degree features'
    scale (``log(1 + largest degree)`` of the training graph); for spectral features, the training
    graph's digest (another graph's eigenvectors are another basis: ``embed`` refuses it)."""
    if feat_kind == "degree":
        return {"degree_log_max": degree_log_max(nd.graph.degree())}
    if feat_kind == "spectral":
        return {"graph_digest": graph_digest(nd.graph)}
    return {}


def _data_digest(nd: NodeData, X: np.ndarray | None) -> dict:
    """What identifies a GNN's training data in a checkpoint: the graph's CSR structure (edge
    weights are not used), node ids, input features, labels and the train/validation/test masks."""
    g = nd.graph
    parts = [g.indptr, g.indices, [str(k) for k in g.nodes], "features", X if X is not None else "none", "labels",
             nd.labels if nd.labels is not None else "none"]
    for m in (nd.train_mask, nd.val_mask, nd.test_mask):
        parts.append(np.asarray(m) if m is not None else "none")
    return {"description": repr(g) + (f", {len(nd.classes)} classes" if nd.labels is not None else ""),
            "digest": digest(*parts)}
