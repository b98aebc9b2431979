"""Triplet-loss training: embeddings learned (or fine-tuned) from "``a`` is closer to ``p`` than to ``n``".

For a triplet ``(a, p, n)`` with distance ``d`` the loss is (Weinberger & Saul, "Distance Metric
Learning for Large Margin Nearest Neighbor Classification", JMLR 2009; Schroff et al., "FaceNet",
CVPR 2015)::

    max(0, d(a, p) - d(a, n) + margin)              # hard margin
    softplus(d(a, p) - d(a, n) + margin)            # soft_margin=True; margin=0 is Hermans et al.'s
                                                    # soft margin ("In Defense of the Triplet Loss", 2017)

computed by pytorch-metric-learning's ``TripletMarginLoss`` (Musgrave, Belongie & Lim, "PyTorch Metric
Learning", 2020) with its distances (``LpDistance``, ``CosineSimilarity``) and reducers: distance, miner
and reduction are parameters, not copies of the loss. Miners: :mod:`embedkit.metric.miners`.

Supervision (:mod:`embedkit.metric.data`): given triplets; labelled items (triplets mined in each
batch); similar pairs (the batch's other keys and ``negatives`` uniformly drawn keys per pair are the
candidate negatives).

Encoders:

* ``table``: one trainable vector per key (``torch.nn.Embedding``, sparse gradients, SparseAdam),
  random ``N(0, 1/dim)`` or initialised from existing vectors (``init``: fine-tuning). Keys of the
  training data missing from ``init`` follow ``init_missing``: ``"random"`` draws them from a normal
  with the per-dimension mean and standard deviation of the init vectors, ``"mean"`` starts them at
  the mean init vector, ``"error"`` refuses. The result holds every init key (in init's order; those
  not in the training data keep their vectors) followed by the new keys. ``freeze_existing=True``
  drops the init keys' rows from every gradient (a row mask on the sparse gradient, so SparseAdam
  never moves them): only the new keys train, against the fixed old rows, and the result holds
  init's rows bit for bit (not rescaled, even with ``normalize``), so indexes built on them stay valid.
  The ``mlp`` encoder refuses ``init`` and ``freeze_existing`` (its shared weights move every key).
* ``mlp``: an MLP over feature vectors (``features``; ``hidden`` units, ``layers`` hidden ReLU
  layers, inputs standardised), trained with Adam. ``residual=True`` outputs ``x + MLP(x)`` with the
  last layer starting at zero: training starts from the feature space itself, which suits
  fine-tuning pre-trained vectors given as features (their unseen keys move too). The result is an
  :class:`~embedkit.metric.model.EncoderEmbeddings`: the vectors of every key of the feature table
  plus ``embed(features)`` for items never seen.

With ``normalize`` (default) vectors are scaled to unit length before the loss, as in FaceNet, and
every row of the result has unit length.
"""
from __future__ import annotations

import logging
import math
import os
import time

import numpy as np

from .._device import cpu_threads, resolve_device, torch_generator
from .._keys import rows_of
from .._validation import VERBOSE, Param, device_param, seed_param, validate, workers_param
from ..api import Method, _jsonable, register
from ..distributed import Dist, RowSync, context, data_parallel, mean_across, shard
from ..embeddings import Embeddings
from ..exceptions import EmptyInputError, InputFormatError, InvalidParameterError, TrainingDivergedError
from ..training import Options, Trainable, digest, loop_params, run
from .data import KINDS, MetricData, feature_table, read_metric_data
from .miners import MINERS, label_masks, mine, mine_given, pair_codes, pair_masks
from .model import EncoderEmbeddings

#: the shared names' meanings (docs/parameters.md): as GCN/GAT's init and freeze_existing
INIT_MEANING = ("a previous result to continue from: keys in both start from their old rows, new keys get new "
                "rows, old keys absent from the new data keep their vectors")
FREEZE_MEANING = "keep every old row bit for bit (indexes built on them stay valid)"

logger = logging.getLogger("embedkit")

#: table encoder under torchrun: steps between two averagings of the processes' row changes
SYNC_EVERY = 8

ENCODERS = ("auto", "table", "mlp")
DISTANCES = ("euclidean", "squared_euclidean", "cosine")
REDUCTIONS = ("nonzero_mean", "mean", "sum")
INIT_MISSING = ("random", "mean", "error")

TRIPLET_PARAMS = (
    Param("dim", int, 64, "vector size; with init (or residual) the size of those vectors, and another value is "
          "an error", low=1),
    Param("kind", str, "auto", "what DATA holds: 'triplets' (anchor positive negative), 'labels' (key label), "
          "'pairs' (key key, similar); auto: 3 columns are triplets, 2 labels", choices=KINDS),
    Param("encoder", str, "auto", "'table' (a vector per key), 'mlp' (over features); auto: mlp when features "
          "are given", choices=ENCODERS),
    Param("features", str, None, "mlp: feature vectors of the keys: a vectors file (.npy [+ .keys.json: else "
          "keys are row numbers], .npz, .vec, .ekv) or, in Python, an array or Embeddings", nullable=True),
    Param("init", object, None, INIT_MEANING + "; table encoder: a vectors file or, in Python, an Embeddings "
          "(fine-tuning; training keys it lacks start by init_missing)", nullable=True),
    Param("freeze_existing", bool, False, FREEZE_MEANING + "; table encoder with init: only the new keys' rows "
          "train (the old rows' gradients are dropped), the result holds init's rows unchanged", requires="init"),
    Param("init_missing", str, "random", "table with init: how training keys missing from init start: "
          "random (normal with the init vectors' mean and std), mean (the mean init vector), error",
          choices=INIT_MISSING),
    Param("hidden", int, 256, "mlp: units of each hidden layer", low=1),
    Param("layers", int, 1, "mlp: hidden ReLU layers (0: a linear map)", low=0),
    Param("standardize", bool, True, "mlp: standardise the features (mean 0, std 1 over the training keys)"),
    Param("residual", bool, False, "mlp: output features + MLP(features), starting at the identity (the last "
          "layer at zero): fine-tunes vectors given as features; dim is the features' size"),
    Param("distance", str, "euclidean", "distance of the loss and the miners", choices=DISTANCES),
    Param("margin", float, 0.2, "the margin: d(a, n) should exceed d(a, p) by it", low=0.0),
    Param("soft_margin", bool, False, "softplus(d(a,p) - d(a,n) + margin) instead of the hinge (Hermans et al. "
          "2017 use margin 0)"),
    Param("miner", str, "batch_hard", "which triplets of a batch train: all, random (one negative a positive "
          "pair), semihard (FaceNet), batch_hard (Hermans et al.)", choices=MINERS),
    Param("reduction", str, "nonzero_mean", "how a batch's triplet losses combine: the mean over triplets "
          "with a loss > 0, the mean over all, or the sum", choices=REDUCTIONS),
    Param("normalize", bool, True, "scale vectors to unit length (before the loss and in the result)"),
    Param("epochs", int, 30, "passes over the triplets, pairs or labelled keys", low=1),
    Param("batch_size", int, 256, "triplets, pairs or labelled keys per step", low=2),
    Param("per_class", int, 0, "labels: batches of batch_size / per_class labels with per_class keys each "
          "(P x K batches); 0: shuffled keys", low=0),
    Param("negatives", int, 1, "pairs: keys drawn uniformly (among the pairs' keys) per pair as extra negatives; "
          "the batch's other keys are candidates too", low=0),
    Param("learning_rate", float, None, "Adam learning rate; default 0.05 for a table learned from scratch, 0.01 for "
          "fine-tuning (init) and for the mlp", low=0.0, low_open=True, nullable=True),
    workers_param("CPU threads of torch; 1 by default: the batches are small, and 2 threads measured 5-50x "
                  "slower on a busy 2-core machine (0 = torch's default)", default=1),
    seed_param(),
    device_param(),
    VERBOSE,
    *loop_params("held-out triplets (anchor positive negative: triplet accuracy, the share with d(a, p) < d(a, n)) "
                 "or labelled keys (key label: same-label recall@1), in any form the data takes; table encoder: "
                 "keys of the training data; mlp: keys of the feature table, or labelled features "
                 "({'features': X, 'labels': y})"),
)


def _path_or(value, name: str, kinds: tuple, what: str):
    if value is None or isinstance(value, kinds):
        return value
    if isinstance(value, (str, os.PathLike)):
        return os.fspath(value)
    raise InvalidParameterError("triplet", name, what, value)


@register
class Triplet(Method):
    """Embeddings from "closer than" judgements by triplet loss (Schroff et al. 2015; Hermans et al. 2017).

    ``fit(data) -> Embeddings`` (``table`` encoder) or
    :class:`~embedkit.metric.model.EncoderEmbeddings` (``mlp``). ``data``: triplets, labelled keys
    or similar pairs (a file or Python objects; :mod:`embedkit.metric.data`). Defaults: dim 64,
    Euclidean distance on unit vectors, margin 0.2 (FaceNet's), batch-hard mining, 30 epochs of
    batches of 256, Adam (learning rate 0.05 for a table from scratch, 0.01 when fine-tuning and for the MLP),
    one CPU thread.

    >>> import embedkit as ek, numpy as np
    >>> X = np.r_[np.zeros((20, 5)), np.ones((20, 5))] + np.random.default_rng(0).normal(0, 1, (40, 5))
    >>> emb = ek.train("triplet", {"features": X, "labels": [0] * 20 + [1] * 20}, dim=8, epochs=5,
    ...                verbose=False)
    >>> emb.vectors.shape, emb.embed(X[:3]).shape
    ((40, 8), (3, 8))
    """

    name = "triplet"
    family = "metric"
    summary = "triplet-loss embeddings from triplets, labels or similar pairs; fine-tunes vectors (FaceNet 2015)"
    input_kind = "triplets"
    params = TRIPLET_PARAMS
    quick_params = {"dim": 8, "epochs": 2, "batch_size": 16, "workers": 1, "verbose": False}

    def get_params(self):
        given = dict(self._given)
        feats, init = given.pop("features", None), given.get("init")
        params = validate(self.name, self.params, given)
        params["features"] = _path_or(feats, "features", (Embeddings, np.ndarray, list) + _tensor_types(),
                                      "an array (n, f), an Embeddings of features, a vectors file path, or None")
        params["init"] = _path_or(init, "init", (Embeddings,), "an Embeddings, a vectors file path, or None")
        return params

    def _fit(self, data, **params):
        dev = resolve_device(params["device"], method=self.name)
        if params["miner"] == "semihard" and params["margin"] == 0:
            raise InvalidParameterError(self.name, "margin", "> 0 with the semihard miner", 0.0,
                                        hint="semi-hard negatives lie within the margin: with 0 there are none")
        md = read_metric_data(data, params["kind"])
        feats = _features_of(md, params["features"])
        encoder = params["encoder"]
        if encoder == "auto":
            encoder = "mlp" if feats is not None else "table"
        if encoder == "mlp" and feats is None:
            raise InvalidParameterError(self.name, "features", "feature vectors for the mlp encoder", None,
                                        hint="pass features=... (or --features FILE), or use encoder='table'")
        if encoder == "table" and feats is not None:
            raise InvalidParameterError(self.name, "encoder", "'mlp' or 'auto' when features are given", encoder,
                                        hint="the table encoder learns a free vector per key and ignores features")
        if params["residual"]:
            if encoder != "mlp":
                raise InvalidParameterError(self.name, "residual", "False without features (the mlp encoder)", True)
            _same_dim(self.name, "the features", feats.dim, params, self._given)
        init = params["init"]
        if init is not None:
            if encoder == "mlp":
                raise InvalidParameterError(self.name, "init", "None with the mlp encoder", params["init"],
                                            hint="to map pre-trained vectors through an MLP, pass them as features; "
                                                 "an MLP's shared weights move every key's vector, so "
                                                 "freeze_existing needs the table encoder too")
            init = feature_table(init, name="init")
            _same_dim(self.name, "the init vectors", init.dim, params, self._given)
        _check_supervision(md)
        if params["learning_rate"] is None:
            params["learning_rate"] = 0.05 if encoder == "table" and init is None else 0.01
        t0 = time.perf_counter()
        with cpu_threads(params["workers"], dev):
            trainer = _Trainer(md, encoder, feats, init, params, dev)
            validate = _validator(params["validation"], trainer) if params["validation"] is not None else None
            opts = Options.from_params(self.name, params, epochs=params["epochs"], validate=validate,
                                       data_digest=lambda: _data_digest(md, feats, init))
            r = run(trainer, self.name, opts)
            result = trainer.result()
        train_s = time.perf_counter() - t0
        result.meta.update(trainer.meta, device=dev, train_time_s=round(train_s, 4), history=r.history,
                           training=r.summary())
        # the parameters as used: dim from init or the features, learning_rate by encoder
        result.meta["params"] = {k: v for k, v in params.items() if _jsonable(v)}
        last = r.history[-1]
        logger.info("triplet (%s, %s, %s miner): %d epochs in %.2fs, last loss %.4f, %.1f%% active triplets",
                    encoder, dev, params["miner"], r.stopped_epoch, train_s, last["loss"], 100 * last["active"])
        return result


def _data_digest(md: MetricData, feats: Embeddings | None, init: Embeddings | None) -> dict:
    """What identifies the training data (and the features or init vectors) in a checkpoint."""
    parts = [md.kind, [str(k) for k in md.keys]]
    for name in ("triplets", "pairs", "label_indptr", "label_indices"):
        v = getattr(md, name, None)
        if v is not None:
            parts.append(np.asarray(v))
    for table in (feats, init):
        if table is not None:
            parts += [[str(k) for k in table.keys], np.asarray(table.vectors)]
    return {"description": repr(md), "digest": digest(*parts)}


def _validator(validation, trainer: "_Trainer"):
    """``validate()`` for the loop: triplet accuracy on held-out triplets, or same-label recall@1 on
    held-out labelled keys (:mod:`embedkit.evaluate.retrieval`), of the current vectors."""
    from ..evaluate.retrieval import retrieval, triplet_accuracy

    held = read_metric_data(validation)
    if held.kind == "pairs":
        raise InvalidParameterError("triplet", "validation", "held-out triplets or labelled keys", "pairs")
    if held.features is not None and trainer.kind != "mlp":
        raise InvalidParameterError("triplet", "validation", "keys of the training data (the table encoder "
                                    "embeds no features)", "labelled features")
    distance = "cosine" if trainer.p["distance"] == "cosine" else "euclidean"

    def validate() -> dict:
        emb = trainer.result()
        if held.features is not None:
            emb = Embeddings(held.keys, emb.embed(feature_table(held.features, held.keys).vectors))
        if held.kind == "triplets":
            return {"triplet_accuracy": triplet_accuracy(emb, held, distance)["accuracy"]}
        return {"recall@1": retrieval(emb, held, k=1, distance=distance)["recall@1"]}

    return validate


def _same_dim(method: str, what: str, dim: int, params: dict, given: dict) -> None:
    """``dim`` follows ``what`` (init vectors, residual features); giving another is an error."""
    if "dim" in given and params["dim"] != dim:
        raise InvalidParameterError(method, "dim", f"{dim} (the dim of {what}) or left out", params["dim"])
    params["dim"] = dim


def _tensor_types() -> tuple:
    import sys

    torch = sys.modules.get("torch")
    return (torch.Tensor,) if torch is not None else ()


def _features_of(md: MetricData, param):
    if md.features is not None and param is not None:
        raise InvalidParameterError("triplet", "features", "None when the data holds 'features'", "given twice",
                                    hint="give the features once: in the data dict or as the parameter")
    feats = md.features if md.features is not None else param
    return None if feats is None else feature_table(feats)


def _check_supervision(md: MetricData) -> None:
    """Labelled data must allow at least one triplet."""
    if md.kind != "labels":
        return
    counts = np.bincount(md.label_indices, minlength=len(md.label_names))
    if counts.max() < 2:
        raise EmptyInputError(f"{md.source}: no two keys share a label, so no triplet has a positive")
    if counts.max() == md.num_keys:
        raise EmptyInputError(f"{md.source}: every key has the label {md.label_names[int(counts.argmax())]!r}, "
                              "so no triplet has a negative")


class _Trainer(Trainable):
    """One training run: the encoder, the loss, the batches and the bookkeeping; one pass over the
    triplets, pairs or labelled keys per epoch of the loop (:mod:`embedkit.training`).

    History rows: ``loss``, the mean over the epoch's steps of each batch's reduced triplet loss (the
    loss the optimiser steps on); ``active``, the share of the epoch's mined triplets violating the
    margin before their step; ``triplets_per_step``, the mean number of mined triplets per step; the
    throughput counts triplets, pairs or labelled rows. A checkpoint holds the table (or the MLP's
    parameters), Adam's state and the generators' states."""

    def __init__(self, md: MetricData, encoder: str, feats: Embeddings | None, init: Embeddings | None,
                 params: dict, device: str):
        import torch
        from pytorch_metric_learning import distances, losses, reducers

        self.md, self.kind, self.p, self.device = md, encoder, params, device
        self.dist = context(device)
        self.rows_seen = []
        # under torchrun: the epoch's order is the same everywhere (a process takes its share of
        # the batches), the sampling inside a batch differs
        self.order_gen = torch_generator(params["seed"], device)
        self.gen = torch_generator(params["seed"] + 1_000_003 * self.dist.rank, device) if self.dist.active \
            else self.order_gen
        self.rng = np.random.default_rng(params["seed"])
        self.init, self.feats = init, feats
        dim = params["dim"]
        n = md.num_keys
        if encoder == "table":
            start, self.init_missing = _start_vectors(md.keys, init, dim, params["init_missing"], self.rng)
            if params["normalize"]:  # only directions count: unit rows make learning_rate mean the same for any init's scale
                start /= np.maximum(np.linalg.norm(start, axis=1, keepdims=True), 1e-12)
            self.table = torch.nn.Embedding(n, dim, sparse=True, device=device)
            with torch.no_grad():
                self.table.weight.copy_(torch.as_tensor(start, device=device))
            self.opt = torch.optim.SparseAdam(list(self.table.parameters()), lr=params["learning_rate"])
            self.sync = RowSync([self.table.weight], self.dist, every=SYNC_EVERY)
            self.frozen = None
            if params["freeze_existing"]:  # the old keys' rows get no gradient: Adam never moves them
                self.frozen = torch.as_tensor(rows_of(init.key_to_index, md.keys) >= 0, device=device)
                self.table.weight.register_hook(self._drop_frozen)
        else:
            rows = _feature_rows(md.keys, feats)
            x = feats.vectors
            if params["standardize"]:
                self.mean = x[rows].mean(0)
                self.scale = x[rows].std(0)
                self.scale[self.scale == 0] = 1.0
            else:
                self.mean, self.scale = np.zeros(x.shape[1], np.float32), np.ones(x.shape[1], np.float32)
            self.x = torch.as_tensor((x[rows] - self.mean) / self.scale, device=device)
            self.skip = torch.as_tensor(x[rows], device=device) if params["residual"] else None
            self.mlp = _mlp(x.shape[1], params["hidden"], params["layers"], dim, self.order_gen, device,
                            zero_last=params["residual"])
            self.opt = torch.optim.Adam(self.mlp.parameters(), lr=params["learning_rate"])
            self.net = data_parallel(self.mlp, self.dist, device)  # the mlp, in DDP under torchrun
            self.sync = RowSync([], Dist())
        if params["distance"] == "cosine":
            self.distance = distances.CosineSimilarity()
        else:
            self.distance = distances.LpDistance(normalize_embeddings=False, p=2,
                                                 power=2 if params["distance"] == "squared_euclidean" else 1)
        reducer = {"nonzero_mean": reducers.AvgNonZeroReducer, "mean": reducers.MeanReducer,
                   "sum": reducers.SumReducer}[params["reduction"]]()
        self.loss = losses.TripletMarginLoss(margin=params["margin"], smooth_loss=params["soft_margin"],
                                             distance=self.distance, reducer=reducer)
        if md.kind == "labels":
            self.indptr = torch.as_tensor(md.label_indptr, device=device)
            self.indices = torch.as_tensor(md.label_indices, device=device)
        elif md.kind == "pairs":
            self.pairs = torch.as_tensor(md.pairs, device=device)
            self.codes = pair_codes(self.pairs, n)
        else:
            self.triplets = torch.as_tensor(md.triplets, device=device)
        self.unit = {"triplets": "triplets", "pairs": "pairs", "labels": "rows"}[md.kind]
        self.per_epoch = len(md)
        self.meta = {"encoder": encoder, "input": repr(md)}
        if encoder == "table" and init is not None:
            self.meta["init"] = init.meta.get("source", repr(init))
            self.meta["init_missing_keys"] = self.init_missing
            self.meta["freeze_existing"] = bool(params["freeze_existing"])

    # ---- the encoder -------------------------------------------------------------------
    def _drop_frozen(self, grad):
        """The table's (sparse) gradient without the frozen rows (freeze_existing)."""
        import torch

        if not grad.is_sparse:
            return grad.masked_fill(self.frozen[:, None], 0.0)
        grad = grad.coalesce()
        keep = ~self.frozen[grad.indices()[0]]
        return torch.sparse_coo_tensor(grad.indices()[:, keep], grad.values()[keep], grad.shape,
                                       check_invariants=False, is_coalesced=True)

    def encode(self, rows):
        import torch

        if self.kind == "table":
            y = self.table(rows)
            if torch.is_grad_enabled():
                self.rows_seen.append(rows)  # for RowSync: the rows this step changes
        else:
            y = self.net(self.x[rows])
            if self.skip is not None:
                y = y + self.skip[rows]
        return torch.nn.functional.normalize(y, dim=1) if self.p["normalize"] else y

    def _closeness(self, mat):
        """The distance matrix with smaller = closer (a similarity is negated)."""
        return -mat if self.distance.is_inverted else mat

    # ---- batches -----------------------------------------------------------------------
    def _order(self):
        """This epoch's order of triplets, pairs or keys, as a device tensor, and the batch boundaries."""
        import torch

        bs = self.p["batch_size"]
        n = len(self.md)
        if self.md.kind == "labels" and self.p["per_class"]:
            order, bounds = _pk_batches(self.md, bs, self.p["per_class"], self.rng)
            return torch.as_tensor(order, device=self.device), bounds
        return torch.randperm(n, generator=self.order_gen, device=self.device), list(range(0, n, bs)) + [n]

    def _step(self, idx):
        """One batch: encode, mine, loss; returns (loss, triplets mined, triplets active) as tensors, or None."""
        import torch

        md, miner, margin = self.md, self.p["miner"], self.p["margin"]
        if md.kind == "triplets":
            t = self.triplets[idx]
            b = t.shape[0]
            emb = self.encode(t.T.reshape(-1))  # anchors, then positives, then negatives
            emb, ref = emb[:b], emb[b:]  # the loss compares anchors with the (2b) others only
            with torch.no_grad():
                d = self._closeness(self.distance(emb.detach(), ref.detach()))  # the loss's own distance
                ar = torch.arange(b, device=self.device)
                d_ap, d_an = d[ar, ar], d[ar, ar + b]
                keep = mine_given(d_ap, d_an, t[:, 0], miner, margin)
                a, p, n = ar[keep], ar[keep], ar[keep] + b
                active = (d_ap[keep] - d_an[keep] + margin) > 0
        else:
            ref = None
            if md.kind == "labels":
                rows = idx
            else:
                pr = self.pairs[idx]
                extra = torch.randint(0, md.num_keys, (pr.shape[0] * self.p["negatives"],), generator=self.gen,
                                      device=self.device)
                rows = torch.cat([pr[:, 0], pr[:, 1], extra])
            emb = self.encode(rows)
            with torch.no_grad():
                if md.kind == "labels":
                    pos, neg = label_masks(rows, self.indptr, self.indices)
                else:
                    pos, neg = pair_masks(rows, self.codes, md.num_keys)
                d = self._closeness(self.distance(emb.detach()))
                a, p, n = mine(d, pos, neg, miner, margin, self.gen)
                active = (d[a, p] - d[a, n] + margin) > 0
        if a.shape[0] == 0:
            if not (self.dist.active and self.kind == "mlp"):
                return None
            loss = emb.sum() * 0.0  # DistributedDataParallel: every process takes part in every step
        else:
            loss = self.loss(emb, indices_tuple=(a, p, n), ref_emb=ref)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        if a.shape[0] == 0:
            return None
        return loss.detach(), a.shape[0], active.sum()

    def run_epoch(self, epoch) -> None:
        import torch

        order, bounds = self._order()
        loss_sum = torch.zeros((), device=self.device)
        mined = 0
        active = torch.zeros((), device=self.device, dtype=torch.int64)
        steps = 0
        for k in shard(len(bounds) - 1, self.dist):  # every batch, or this process's share
            s, e = bounds[k], bounds[k + 1]
            out = None if e - s < 2 and self.md.kind == "labels" and not self.dist.active \
                else self._step(order[s:e])
            self.sync.step([self.rows_seen if out is not None else []])  # no triplet: no change
            self.rows_seen = []
            epoch.add(e - s)
            if out is None:
                continue
            loss_sum += out[0]
            mined += out[1]
            active += out[2]
            steps += 1
        self.sync.finish()
        loss, frac = mean_across([float(loss_sum) / max(steps, 1), float(active) / max(mined, 1)],
                                 self.dist, self.device)
        if not math.isfinite(loss):
            raise TrainingDivergedError("triplet: the loss became NaN or infinite; lower learning_rate")
        epoch.add(0, loss, 1)
        epoch.extra.update(active=round(frac, 6), triplets_per_step=round(mined / max(steps, 1), 1))
        logger.debug("triplet: loss %.4f, %.1f%% of %d mined triplets active", loss, 100 * frac, mined)

    # ---- checkpoints -------------------------------------------------------------------
    def _module(self):
        return self.table if self.kind == "table" else self.mlp

    def state(self) -> dict:
        import torch

        out = {"order_generator": self.order_gen.get_state().numpy().copy(),
               "rng": self.rng.bit_generator.state}
        if self.gen is not self.order_gen:
            out["generator"] = self.gen.get_state().numpy().copy()
        params = list(self._module().parameters())
        for n, t in enumerate(params):
            out[f"param.{n}"] = t.detach().cpu().numpy().copy()
            for key, v in self.opt.state.get(t, {}).items():  # Adam: step, exp_avg, exp_avg_sq
                out[f"opt.{n}.{key}"] = v.detach().cpu().numpy().copy() if torch.is_tensor(v) else v
        return out

    def set_state(self, state: dict) -> None:
        import torch

        self.order_gen.set_state(torch.as_tensor(state["order_generator"], dtype=torch.uint8))
        if "generator" in state:
            self.gen.set_state(torch.as_tensor(state["generator"], dtype=torch.uint8))
        self.rng.bit_generator.state = state["rng"]
        with torch.no_grad():
            for n, t in enumerate(self._module().parameters()):
                t.copy_(torch.as_tensor(state[f"param.{n}"]))
                prefix = f"opt.{n}."
                st = {}
                for k, v in state.items():
                    if k.startswith(prefix):
                        key = k[len(prefix):]
                        # Adam keeps its step count as a CPU tensor, SparseAdam as an int
                        st[key] = (torch.tensor(v, device="cpu" if key == "step" else t.device)
                                   if isinstance(v, np.ndarray) else v)
                if st:
                    self.opt.state[t] = st
                else:
                    self.opt.state.pop(t, None)

    # ---- the result --------------------------------------------------------------------
    def _all_outputs(self, x_rows) -> np.ndarray:
        import torch

        out = []
        with torch.no_grad():
            for s in range(0, x_rows.shape[0], 8192):
                out.append(self.encode(x_rows[s:s + 8192]).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, self.p["dim"]), np.float32)

    def result(self) -> Embeddings:
        import torch

        md = self.md
        if self.kind == "table":
            trained = self._all_outputs(torch.arange(md.num_keys, device=self.device))
            if self.init is None:
                return Embeddings(md.keys, trained)
            return _merge_into(self.init, md.keys, trained, self.p["normalize"], self.p["freeze_existing"])
        # mlp: every key of the feature table, through the same encoder
        feats = self.feats
        x, skip = self.x, self.skip
        try:
            self.x = torch.as_tensor((feats.vectors - self.mean) / self.scale, device=self.device)
            self.skip = torch.as_tensor(feats.vectors, device=self.device) if skip is not None else None
            vectors = self._all_outputs(torch.arange(len(feats), device=self.device))
        finally:  # the training rows again: validation calls this between epochs
            self.x, self.skip = x, skip
        linears = [m for m in self.mlp if isinstance(m, torch.nn.Linear)]
        return EncoderEmbeddings(feats.keys, vectors, [m.weight.detach().cpu().numpy() for m in linears],
                                 [m.bias.detach().cpu().numpy() for m in linears], self.mean, self.scale,
                                 self.p["normalize"], {"num_features": int(feats.dim)}, residual=self.p["residual"])


def _start_vectors(keys: list, init: Embeddings | None, dim: int, missing: str, rng) -> tuple[np.ndarray, int]:
    """Starting table ``(len(keys), dim)`` float32 and how many keys were missing from ``init``."""
    if init is None:
        return (rng.standard_normal((len(keys), dim)) / math.sqrt(dim)).astype(np.float32), 0
    rows = rows_of(init.key_to_index, keys)
    absent = rows < 0
    n_missing = int(absent.sum())
    out = np.empty((len(keys), dim), dtype=np.float32)
    out[~absent] = init.vectors[rows[~absent]]
    if n_missing:
        if missing == "error":
            first = keys[int(np.argmax(absent))]
            raise InputFormatError(f"{n_missing} training keys have no init vector (the first: {first!r}); "
                                   "pass init_missing='random' or 'mean' to start them anyway")
        mean, std = init.vectors.mean(0), init.vectors.std(0)
        if missing == "mean":
            out[absent] = mean
        else:
            out[absent] = rng.standard_normal((n_missing, dim)) * std + mean
        logger.info("triplet: %d of %d training keys have no init vector; started by rule %r", n_missing, len(keys),
                    missing)
    return out, n_missing


def _merge_into(init: Embeddings, keys: list, trained: np.ndarray, normalize: bool,
                freeze: bool = False) -> Embeddings:
    """init's keys (untrained ones unchanged; with ``normalize`` scaled to unit length) followed by the
    new keys, with the trained rows in place. ``freeze``: every init row exactly as it is in init (not
    rescaled), and only the new keys' trained rows."""
    at = rows_of(init.key_to_index, keys)
    new = np.flatnonzero(at < 0)
    out = np.concatenate([init.vectors, np.zeros((len(new), init.dim), np.float32)])
    if normalize and not freeze:
        norms = np.linalg.norm(out[:len(init)], axis=1, keepdims=True)
        out[:len(init)] /= np.where(norms > 0, norms, 1.0)
    at[new] = len(init) + np.arange(len(new))
    if freeze:
        out[at[new]] = trained[new]
    else:
        out[at] = trained
    return Embeddings(list(init.keys) + [keys[i] for i in new], out)


def _feature_rows(keys: list, feats: Embeddings) -> np.ndarray:
    rows = rows_of(feats.key_to_index, keys)
    if (rows < 0).any():
        missing = [keys[i] for i in np.flatnonzero(rows < 0)[:3]]
        raise InputFormatError(f"{int((rows < 0).sum())} of {len(keys)} training keys have no feature vector "
                               f"(e.g. {', '.join(map(repr, missing))}); every key needs one with the mlp encoder")
    return rows


def _mlp(n_in: int, hidden: int, layers: int, dim: int, gen, device, zero_last: bool = False):
    """Linear (+ ReLU) layers, initialised like torch's ``nn.Linear`` but from ``gen`` (repeatable);
    ``zero_last``: the output layer starts at zero (a residual encoder starts at the identity)."""
    import torch

    sizes = [n_in] + [hidden] * layers + [dim]
    mods = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        lin = torch.nn.utils.skip_init(torch.nn.Linear, a, b, device=device)
        bound = 1.0 / math.sqrt(a)
        with torch.no_grad():
            lin.weight.uniform_(-bound, bound, generator=gen)
            lin.bias.uniform_(-bound, bound, generator=gen)
        if zero_last and i == len(sizes) - 2:
            with torch.no_grad():
                lin.weight.zero_()
                lin.bias.zero_()
        mods.append(lin)
        if i < len(sizes) - 2:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


def _pk_batches(md: MetricData, batch_size: int, k: int, rng) -> tuple[np.ndarray, list[int]]:
    """P x K batches (Hermans et al. 2017): every key once an epoch, in chunks of ``k`` keys of one
    label (a key's first label), ``batch_size // k`` chunks a batch, chunks in random order."""
    label = md.label_indices[md.label_indptr[:-1]]
    n = label.shape[0]
    within = rng.permutation(n)
    by_label = within[np.argsort(label[within], kind="stable")]  # keys grouped by label, shuffled inside
    lab_sorted = label[by_label]
    starts = np.flatnonzero(np.r_[True, lab_sorted[1:] != lab_sorted[:-1]])
    rank = np.arange(n) - np.repeat(starts, np.diff(np.r_[starts, n]))
    chunk = np.repeat(np.arange(starts.shape[0]), np.diff(np.r_[starts, n])) * (n + 1) + rank // k
    _, chunk_id = np.unique(chunk, return_inverse=True)
    perm = rng.permutation(int(chunk_id.max()) + 1)
    order = by_label[np.lexsort((rank, perm[chunk_id]))]
    sizes = np.bincount(perm[chunk_id], minlength=perm.shape[0])  # keys per chunk, in batch order
    per_batch = max(batch_size // k, 1)
    ends = np.cumsum(sizes)[per_batch - 1::per_batch].tolist()
    bounds = [0] + ends + ([n] if not ends or ends[-1] != n else [])
    return order, bounds


__all__ = ["Triplet", "TRIPLET_PARAMS"]
