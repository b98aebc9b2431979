"""Bayesian Personalized Ranking (BPR-MF).

Rendle, Freudenthaler, Gantner & Schmidt-Thieme, "BPR: Bayesian Personalized
Ranking from Implicit Feedback", UAI 2009. For sampled triples (user ``u``, an item
``i`` the user interacted with, an item ``j`` they did not) stochastic gradient
ascent on::

    ln sigmoid(x_ui - x_uj) - reg * (|w_u|^2 + |h_i|^2 + |h_j|^2 + b_i^2 + b_j^2)

with ``x_ui = w_u . h_i + b_i``. As in implicit (its CPU default), an epoch draws as
many triples as there are interactions, the positive uniformly among the stored
interactions, the negative in proportion to item popularity (an item drawn from the
stored interactions, ``negative_sampling="popularity"``) or uniformly (``"uniform"``, Rendle's
choice); a negative the user did interact with is skipped (``verify_negatives``).
Interaction values are ignored: every stored entry is a positive.

Backends: ``implicit`` (lock-free parallel per-triple SGD in Cython; the CPU default)
and ``torch`` (the same updates applied per mini-batch with ``index_add_``; CPU or GPU;
under ``torchrun`` the default, each process drawing ``1 / world`` of the epoch's triples,
the processes' row changes summed (Adam: averaged) every ``SYNC_EVERY`` batches: docs/distributed.md).

The torch backend can also step with Adam (``optimizer="adam"``, Kingma & Ba 2015) as the
LightGCN code (He et al., SIGIR 2020) and RecBole train their MF-BPR baselines: the same
gradients, of the batch's mean loss, with the L2 penalty on the batch's embeddings (each
triple's ``|w_u|^2 + |h_i|^2 + |h_j|^2``, as in the SGD updates above); "lazy" as torch's
``SparseAdam``: only the rows a batch touches update their moments and move.

``negative_candidates=k > 1`` (torch backend) is dynamic negative sampling (Zhang, Chen, Wang
& Yu, "Optimizing Top-N Collaborative Filtering via Dynamic Negative Item Sampling", SIGIR
2013): each triple draws ``k`` negatives (uniformly or by popularity, as above) and keeps the
one the current model scores highest, a harder negative that still carries a gradient.

``init=`` continues from a previous BPR model (:mod:`embedkit.recsys._continue`): the rows and item
biases of the users and items it has start from its own. ``freeze_existing=True`` (torch backend;
``backend="auto"`` picks it then) drops the old rows' updates, so they stay bit for bit and only the
new rows train; implicit's Cython epoch updates every row it samples, so it refuses freezing.

Training runs on the shared loop (:mod:`embedkit.training`): ``history`` per epoch, callbacks,
``validation=`` (recall@10) with ``patience=``, checkpoints. ``loss``: the mean
``-ln sigmoid(x_ui - x_uj)`` over the epoch's triples (torch backend) or, as implicit's Cython epoch
reports none, over a fixed sample of triples (:data:`LOSS_SAMPLE`) measured after each epoch
(implicit backend; see :class:`_ImplicitBPR`).
"""
from __future__ import annotations

import logging
import multiprocessing
import time

import numpy as np

from .._device import cpu_threads, resolve_device, torch_generator
from .._validation import Param
from ..api import Method, register
from ..exceptions import InvalidParameterError
from ..training import Options, Trainable, run
from ._continue import CONTINUE_PARAMS, check_init, prepare, used_params
from ._common import (BACKENDS, as_float32, device_param, interactions_of, make_model, pick_backend,
                      seed_param, single_threaded_blas, verbose_param, workers_param)
from ._loop import loop_rows, run_meta, train_loop

logger = logging.getLogger("embedkit")

#: torch backend under torchrun: batches between two averagings of the processes' row changes
SYNC_EVERY = 8


@register
class BPR(Method):
    """Matrix factorisation for ranking by BPR (Rendle et al. 2009).

    ``fit(interactions) -> FactorModel``: ``users`` ``(U, dim)``, ``items`` ``(I, dim)`` and an
    item bias ``(I,)``; ``score(u, i) = w_u . h_i + b_i``. Defaults (implicit's): dim=64, learning_rate=0.01,
    reg=0.01, epochs=100, popularity-proportional negatives, verified.

    >>> import embedkit as ek
    >>> inter = ek.read_interactions(([0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 2, 3]))
    >>> model = ek.train("bpr", inter, dim=2, epochs=5, backend="torch", device="cpu", verbose=False)
    >>> model.items.vectors.shape, model.item_bias.shape
    ((4, 2), (4,))
    """

    name = "bpr"
    family = "recsys"
    summary = "Bayesian Personalized Ranking matrix factorisation with sampled negatives (Rendle et al. 2009)"
    input_kind = "interactions"
    params = (
        Param("dim", int, 64, "number of latent factors", low=1),
        Param("learning_rate", float, 0.01, "SGD learning rate (per triple)", low=0.0, low_open=True),
        Param("reg", float, 0.01, "L2 regularisation of the vectors and item biases", low=0.0),
        Param("epochs", int, 100, "passes; each draws as many triples as there are interactions", low=1),
        Param("negative_sampling", str, "popularity", "how negatives are drawn: in proportion to item popularity "
              "(implicit's) or uniformly (Rendle's)", choices=("popularity", "uniform")),
        Param("verify_negatives", bool, True, "skip a triple whose negative the user did interact with"),
        Param("negative_candidates", int, 1, "torch backend: draw this many negatives per triple and keep the "
              "one the model scores highest (dynamic negative sampling, Zhang et al. 2013); 1 = plain BPR", low=1),
        Param("batch_size", int, 1024, "torch backend: triples per update step", low=1),
        Param("optimizer", str, "sgd", "torch backend: sgd (per-triple steps of size learning_rate, Rendle's) or adam "
              "(lazy Adam on the batch's mean loss, as LightGCN/RecBole train MF-BPR; learning_rate is the step size)",
              choices=("sgd", "adam")),
        Param("backend", str, "auto", "auto (implicit on the CPU, torch on a GPU), implicit, torch",
              choices=BACKENDS),
        workers_param(),
        seed_param(),
        device_param(),
        verbose_param(),
        *loop_rows(),
        *CONTINUE_PARAMS,
    )
    quick_params = {"dim": 8, "epochs": 3, "workers": 1, "verbose": False}

    def _fit(self, data, **params):
        dev = resolve_device(params["device"], method=self.name)
        init = check_init(self.name, params, self._given, biases=("item_bias",))
        backend = pick_backend(self.name, params["backend"], dev, distributes=True)
        if params["freeze_existing"] and backend == "implicit":
            if params["backend"] != "auto":
                raise InvalidParameterError(self.name, "backend", "'torch' or 'auto' with freeze_existing", backend,
                                            hint="implicit's Cython epoch updates every row it samples and cannot "
                                                 "keep the old rows fixed; the torch backend drops their updates")
            backend = "torch"  # auto: the backend that can keep the old rows fixed
        if backend == "implicit" and params["negative_sampling"] != "popularity":
            raise InvalidParameterError(self.name, "negative_sampling", "'popularity' with the implicit backend",
                                        params["negative_sampling"], hint="use backend='torch' for uniform negatives")
        if backend == "implicit" and params["optimizer"] != "sgd":
            raise InvalidParameterError(self.name, "optimizer", "'sgd' with the implicit backend",
                                        params["optimizer"], hint="use backend='torch' for adam")
        if backend == "implicit" and params["negative_candidates"] != 1:
            raise InvalidParameterError(self.name, "negative_candidates", "1 with the implicit backend",
                                        params["negative_candidates"], hint="use backend='torch'")
        inter = interactions_of(data, self.name)
        cont = None if init is None else prepare(self.name, init, inter, params["freeze_existing"])
        if cont is not None:
            inter = cont.inter  # the previous users and items without interactions here keep their rows
        t0 = time.perf_counter()
        d = params["dim"]
        training = None

        def model():
            X, Y = training.factors()
            return make_model(inter, X[:, :d], Y[:, :d], {}, item_bias=Y[:, d])

        with single_threaded_blas() if backend == "implicit" else cpu_threads(params["workers"], dev):
            if backend == "implicit":
                training = _ImplicitBPR(inter, params, cont)
            else:
                training = _TorchBPR(inter.indptr, inter.indices, inter.num_items, d, params["learning_rate"], params["reg"],
                                     params["batch_size"], params["negative_sampling"], params["verify_negatives"],
                                     params["seed"], dev, optimizer=params["optimizer"],
                                     negative_candidates=params["negative_candidates"], cont=cont)
            run = train_loop(self.name, training, inter, params, epochs=params["epochs"], model=model, cont=cont)
        X, Y = training.factors()
        training.log_skipped()
        train_s = time.perf_counter() - t0
        logger.info("bpr (%s, %s): %d epochs in %.2fs", backend, dev, run.stopped_epoch, train_s)
        meta = {"backend": backend, "device": dev, "train_time_s": round(train_s, 4), "interactions": repr(inter),
                **run_meta(run)}
        # the last column holds the item bias (the user side is a constant 1)
        if cont is None:
            return make_model(inter, X[:, :d], Y[:, :d], meta, item_bias=Y[:, d])
        return cont.model(X[:, :d], Y[:, :d], dict(meta, params=used_params(params)), item_bias=Y[:, d])


def _triple_loss(X, Y, u, i, j) -> float:
    """The summed BPR loss ``-ln sigmoid(x_ui - x_uj)`` of the triples ``(u, i, j)`` (numpy rows;
    the last columns are the constant 1 of the users and the item bias)."""
    x = np.einsum("ij,ij->i", X[u], Y[i] - Y[j]).astype(np.float64)
    return float(np.logaddexp(0.0, -x).sum())


class _ImplicitBPR(Trainable):
    """implicit's BPR epoch (its Cython ``bpr_update``: lock-free per-triple SGD) once per epoch of the
    loop, from the start ``implicit.fit`` makes (the same random state, factors, and per-thread
    samplers, kept across epochs): an uninterrupted run is bit-identical to
    ``BayesianPersonalizedRanking(iterations=epochs).fit`` at workers=1 (tests/test_training.py).

    implicit reports no loss, only the share of triples ranked right. The history's ``loss`` is the
    mean ``-ln sigmoid(x_ui - x_uj)`` over a fixed sample of triples (:func:`_fixed_triples`: 2% of the
    interactions, at least 1,000 and at most 20,000; measured on MovieLens-100k, scoring it costs about
    3% of an epoch; drawn once,
    as the epochs draw theirs: the positive uniform among the interactions, the negative in proportion
    to popularity, verified when ``verify_negatives``), measured after every epoch; ``ranked_right`` is
    implicit's share of the epoch's (not skipped) triples with ``x_ui > x_uj`` before their update.

    The per-thread samplers (C++ ``mt19937``) cannot be saved: a checkpoint holds the factors and the
    epochs done, and a resumed run re-creates the samplers from the seed and advances them by the
    epochs done (the same draws on 1-column dummy factors: the draws of an epoch do not depend on the
    factors), so that the resumed run is bit-identical at workers=1."""

    unit = "interactions"

    def __init__(self, inter, params, cont=None):
        from implicit.cpu.bpr import RNGVector, bpr_update
        from implicit.utils import check_csr, check_random_state

        self._update, self._rng_vector = bpr_update, RNGVector
        ui = inter.matrix
        if ui.dtype != np.float32:
            ui = ui.astype(np.float32)
        ui = check_csr(ui)
        if not ui.has_sorted_indices:
            ui.sort_indices()
        self.ui = ui
        users, items = ui.shape
        dim = params["dim"]
        self.lr, self.reg, self.verify = params["learning_rate"], params["reg"], params["verify_negatives"]
        self.threads = params["workers"] or multiprocessing.cpu_count()
        self.nnz = self.per_epoch = int(ui.nnz)
        counts = np.ediff1d(ui.indptr)
        self.userids = np.repeat(np.arange(users), counts).astype(ui.indices.dtype)
        # implicit.fit's start: item factors, then user factors, then the samplers' seeds, from one generator
        rs = check_random_state(params["seed"])
        self.Y = (rs.random((items, dim + 1), dtype=np.float32) - 0.5)
        self.Y /= dim
        self.Y[np.bincount(ui.indices, minlength=items) == 0] = 0.0
        self.X = (rs.random((users, dim + 1), dtype=np.float32) - 0.5)
        self.X /= dim
        self.X[counts == 0] = 0.0
        self.X[:, dim] = 1.0
        if cont is not None:  # continuing: the old rows (and item biases) start from the init model's
            _start_from(cont, self.X, self.Y, dim)
        self.seeds = rs.integers(0, 2**31, size=self.threads, dtype="long")
        self.rng = self._rng_vector(self.threads, self.nnz - 1, self.seeds)
        self.done = 0  # epochs trained
        self.rng_at = 0  # epochs the samplers have drawn
        self.skipped = 0
        self.sample = _fixed_triples(ui.indptr, ui.indices, self.userids, self.verify, params["seed"])

    def run_epoch(self, epoch) -> None:
        if self.rng_at != self.done:
            self._advance_samplers(self.done)
        correct, skipped = self._update(self.rng, self.userids, self.ui.indices, self.ui.indptr, self.X, self.Y,
                                        self.lr, self.reg, self.threads, self.verify)
        self.done += 1
        self.rng_at += 1
        self.skipped += skipped
        u, i, j = self.sample
        epoch.add(self.nnz, _triple_loss(self.X, self.Y, u, i, j), u.shape[0])
        if self.nnz > skipped:
            epoch.extra["ranked_right"] = round(correct / (self.nnz - skipped), 6)

    def _advance_samplers(self, epochs: int) -> None:
        """New samplers from the seeds, moved on by ``epochs`` epochs of draws."""
        self.rng = self._rng_vector(self.threads, self.nnz - 1, self.seeds)
        X = np.zeros((self.X.shape[0], 1), np.float32)
        Y = np.zeros((self.Y.shape[0], 1), np.float32)
        for _ in range(epochs):
            self._update(self.rng, self.userids, self.ui.indices, self.ui.indptr, X, Y, 0.0, 0.0, self.threads, False)
        self.rng_at = epochs

    def factors(self):
        return as_float32(self.X), as_float32(self.Y)

    def log_skipped(self) -> None:
        if self.verify and self.done:
            logger.info("bpr: %.2f%% of the triples skipped (negative was a positive)",
                        100.0 * self.skipped / (self.nnz * self.done))

    def state(self) -> dict:
        return {"users": self.X.copy(), "items": self.Y.copy(), "epochs_done": self.done, "skipped": self.skipped}

    def set_state(self, state: dict) -> None:
        self.X[...] = state["users"]
        self.Y[...] = state["items"]
        self.done, self.skipped = int(state["epochs_done"]), int(state["skipped"])  # samplers: on the next epoch


#: triples of the fixed sample the implicit backend's loss is measured on: this share of the
#: interactions, within the bounds
LOSS_SAMPLE = (1 / 50, 1_000, 20_000)


def _fixed_triples(indptr, indices, userids, verify: bool, seed: int):
    """``(u, i, j)``: triples drawn as an epoch draws them (:data:`LOSS_SAMPLE` of them; the negative an
    item of a random interaction; one the user interacted with dropped when ``verify``), from their
    own generator (the training draws are untouched)."""
    rng = np.random.default_rng([int(seed), 0xB9B])
    n = indices.shape[0]
    share, low, high = LOSS_SAMPLE
    size = int(min(max(n * share, low), high))
    pos, neg = rng.integers(0, n, size), rng.integers(0, n, size)
    u, i, j = userids[pos].astype(np.int64), indices[pos].astype(np.int64), indices[neg].astype(np.int64)
    if verify:
        keys = np.repeat(np.arange(indptr.shape[0] - 1, dtype=np.int64), np.diff(indptr)) * (indices.max() + 1) \
            + indices
        q = u * (indices.max() + 1) + j
        at = np.minimum(np.searchsorted(keys, q), keys.shape[0] - 1)
        ok = keys[at] != q
        u, i, j = u[ok], i[ok], j[ok]
    return u, i, j


class _TorchBPR(Trainable):
    """BPR by mini-batch SGD (or Adam) in torch: one epoch of :func:`bpr_torch` per epoch of the loop.
    Loss: the mean ``-ln sigmoid(x_ui - x_uj)`` of the epoch's triples, each taken before its batch's
    update. A checkpoint holds the factors, Adam's moments and step count, and the generator's state."""

    unit = "interactions"

    def __init__(self, indptr, indices, n_items, dim, lr, reg, batch_size, negatives="popularity", verify=True,
                 seed=0, device="cpu", *, optimizer="sgd", negative_candidates=1, cont=None):
        import torch

        from ..distributed import RowSync, context

        self.dist = dist = context(device)
        self.gen = torch_generator(seed, device)
        self.device, self.dim, self.lr, self.reg, self.batch_size = device, dim, lr, reg, batch_size
        self.negatives, self.verify, self.candidates = negatives, verify, negative_candidates
        n_users = indptr.shape[0] - 1
        self.n_items = n_items
        counts = np.diff(indptr)
        self.users_of = torch.as_tensor(np.repeat(np.arange(n_users, dtype=np.int64), counts), device=device)
        self.items_of = torch.as_tensor(indices.astype(np.int64), device=device)
        self.keys = self.users_of * n_items + self.items_of  # sorted: CSR rows in order, items sorted within a row
        self.nnz = self.items_of.shape[0]
        gen = self.gen
        X = (torch.rand(n_users, dim + 1, generator=gen, device=device) - 0.5) / dim
        Y = (torch.rand(n_items, dim + 1, generator=gen, device=device) - 0.5) / dim
        X[torch.as_tensor(counts == 0, device=device)] = 0.0
        Y[torch.as_tensor(np.bincount(indices, minlength=n_items) == 0, device=device)] = 0.0
        X[:, dim] = 1.0
        # continuing: the old rows start from the init model's; with freeze_existing their updates are dropped
        self.free_users = self.free_items = None
        if cont is not None:
            _start_from(cont, X, Y, dim)
            fixed_u, fixed_i = cont.fixed_users(), cont.fixed_items()
            if fixed_u is not None:
                self.free_users = torch.as_tensor(~fixed_u, device=device)
            if fixed_i is not None:
                self.free_items = torch.as_tensor(~fixed_i, device=device)
        self.X, self.Y = X, Y
        # SGD: the processes' changes add up, as one process's batches would (measured on planted data:
        # recall@10 0.531 in 2 processes, 0.527 in one; averaging them halved the progress: 0.386);
        # Adam's steps are normalised per process: averaged
        self.sync = RowSync([X, Y], dist, every=SYNC_EVERY, reduce="mean" if optimizer == "adam" else "sum")
        self.draws = -(-self.nnz // dist.world)  # triples per epoch and process
        self.per_epoch = self.draws
        if dist.active:  # under torchrun every process draws its own triples
            self.gen = torch_generator(seed + 1_000_003 * dist.rank, device)
        self.adam = optimizer == "adam"
        self.moments = [torch.zeros_like(X), torch.zeros_like(X), torch.zeros_like(Y), torch.zeros_like(Y)] \
            if self.adam else None
        self.steps = 0
        self.skipped = 0
        self.epochs_done = 0

    def run_epoch(self, epoch) -> None:
        import torch

        X, Y, dim, reg, lr, gen, device = self.X, self.Y, self.dim, self.reg, self.lr, self.gen, self.device
        users_of, items_of, keys, n_items, verify = self.users_of, self.items_of, self.keys, self.n_items, self.verify
        draws, bs, k = self.draws, self.batch_size, self.candidates
        pos = torch.randint(0, self.nnz, (draws,), generator=gen, device=device)
        shape = (draws,) if k == 1 else (draws, k)
        if self.negatives == "popularity":
            neg = items_of[torch.randint(0, self.nnz, shape, generator=gen, device=device)]
        else:
            neg = torch.randint(0, n_items, shape, generator=gen, device=device)
        loss_sum = torch.zeros((), dtype=torch.float64, device=device)
        used = 0
        for s in range(0, draws, bs):
            p = pos[s:s + bs]
            u, i, j = users_of.index_select(0, p), items_of.index_select(0, p), neg[s:s + bs]
            ok = None
            if k > 1:  # keep the candidate the model ranks highest (a non-positive one)
                j, ok = _hardest(X, Y, u, j, keys if verify else None, n_items)
            if verify:
                ok = ~_is_positive(keys, u * n_items + j) if ok is None else ok
                kept = int(ok.sum())
                self.skipped += int(ok.numel()) - kept
                u, i, j = u[ok], i[ok], j[ok]
            xu, yi, yj = X.index_select(0, u), Y.index_select(0, i), Y.index_select(0, j)
            x = (xu * (yi - yj)).sum(1)
            z = torch.sigmoid(-x)[:, None]
            loss_sum += torch.nn.functional.softplus(-x).sum(dtype=torch.float64)
            used += u.shape[0]
            gu = z * (yi - yj) - reg * xu
            gu[:, dim] = 0.0  # the user's bias column stays 1
            gi, gj = z * xu - reg * yi, -z * xu - reg * yj
            n_batch = u.shape[0]
            if self.free_users is not None:  # freeze_existing: the old rows get no update
                u, gu = _free_only(self.free_users, u, gu)
            if self.free_items is not None:
                (i, gi), (j, gj) = _free_only(self.free_items, i, gi), _free_only(self.free_items, j, gj)
            if self.adam:  # the mean ascent direction of the batch
                self.steps += 1
                scale = 1.0 / max(n_batch, 1)
                _adam_rows(X, *self.moments[:2], u, gu * scale, lr, self.steps)
                _adam_rows(Y, *self.moments[2:], torch.cat([i, j]), torch.cat([gi, gj]) * scale, lr, self.steps)
            else:
                X.index_add_(0, u, gu, alpha=lr)
                Y.index_add_(0, i, gi, alpha=lr)
                Y.index_add_(0, j, gj, alpha=lr)
            self.sync.step([u, [i, j]])
            epoch.add(p.shape[0])
        self.sync.finish()
        self.epochs_done += 1
        total, n = float(loss_sum), used
        if self.dist.active:  # the mean over every process's triples
            from ..distributed import sum_across

            total, n = sum_across(np.array([total, float(n)]), self.dist, device).tolist()
        epoch.add(0, total, int(n))

    def factors(self):
        return self.X.cpu().numpy(), self.Y.cpu().numpy()

    def log_skipped(self) -> None:
        if self.verify and self.epochs_done:
            logger.info("bpr: %.2f%% of the triples skipped (negative was a positive)",
                        100.0 * self.skipped / (self.draws * self.epochs_done))

    def state(self) -> dict:
        out = {"users": self.X.cpu().numpy().copy(), "items": self.Y.cpu().numpy().copy(),
               "generator": self.gen.get_state().numpy().copy(), "steps": self.steps, "skipped": self.skipped,
               "epochs_done": self.epochs_done}
        if self.adam:
            for name, m in zip(("adam_m_users", "adam_v_users", "adam_m_items", "adam_v_items"), self.moments):
                out[name] = m.cpu().numpy().copy()
        return out

    def set_state(self, state: dict) -> None:
        import torch

        self.X.copy_(torch.as_tensor(state["users"]))
        self.Y.copy_(torch.as_tensor(state["items"]))
        self.gen.set_state(torch.as_tensor(state["generator"], dtype=torch.uint8))
        self.steps, self.skipped = int(state["steps"]), int(state["skipped"])
        self.epochs_done = int(state["epochs_done"])
        if self.adam:
            for name, m in zip(("adam_m_users", "adam_v_users", "adam_m_items", "adam_v_items"), self.moments):
                m.copy_(torch.as_tensor(state[name]))


def bpr_torch(indptr: np.ndarray, indices: np.ndarray, n_items: int, dim: int, learning_rate: float, reg: float,
              epochs: int, batch_size: int, negative_sampling: str = "popularity", verify: bool = True, seed: int = 0,
              device: str = "cpu", verbose: bool = False, *, optimizer: str = "sgd", negative_candidates: int = 1,
              on_epoch=None):
    """BPR by mini-batch SGD (or Adam) in torch on the CSR ``(indptr, indices)`` of positives.

    Returns float32 numpy ``(U, dim + 1)`` user and ``(I, dim + 1)`` item matrices whose last
    columns are 1 (users) and the item bias (items). Starts as implicit does: uniform
    ``[-0.5, 0.5) / dim``, zero for users and items without interactions.

    ``optimizer="sgd"`` adds ``learning_rate`` times each triple's gradient; ``"adam"`` hands the batch's
    mean gradient (the same per-triple terms, divided by the batch's size) to a lazy Adam
    (:func:`_adam_rows`, torch ``SparseAdam``'s update) with step size ``learning_rate``.
    ``negative_candidates=k > 1`` draws ``k`` negatives per triple and keeps the highest-scored. ``on_epoch(epoch, X, Y)``, if given, is
    called after every epoch (0-based) with the live torch tensors (e.g. to follow a validation metric).
    Runs on the shared loop (:mod:`embedkit.training`) without checkpoints; ``ek.train("bpr", ...)``
    adds them.
    """
    training = _TorchBPR(indptr, indices, n_items, dim, learning_rate, reg, batch_size, negative_sampling, verify, seed, device,
                         optimizer=optimizer, negative_candidates=negative_candidates)
    callbacks = () if on_epoch is None else (lambda row: on_epoch(row["epoch"] - 1, training.X, training.Y),)
    run(training, "bpr", Options(epochs=epochs, callbacks=callbacks, verbose=verbose))
    training.log_skipped()
    return training.factors()


def _start_from(cont, X, Y, dim: int) -> None:
    """Put the init model's rows into ``X`` (users; column ``dim`` stays 1) and ``Y`` (items, the item
    bias in column ``dim``): numpy arrays or torch tensors."""
    rows_u, users = cont.user_start()
    rows_i, items = cont.item_start()
    _, bias = cont.item_bias_start()
    if isinstance(X, np.ndarray):
        X[rows_u, :dim] = users
        Y[rows_i, :dim] = items
        Y[rows_i, dim] = bias
        return
    import torch

    dev = X.device
    ru, ri = torch.as_tensor(rows_u, device=dev), torch.as_tensor(rows_i, device=dev)
    X[ru, :dim] = torch.as_tensor(users, device=dev)
    Y[ri, :dim] = torch.as_tensor(items, device=dev)
    Y[ri, dim] = torch.as_tensor(bias, device=dev)


def _free_only(free, rows, grads):
    """The ``rows`` (and their ``grads``) that ``free`` (bool per row) lets train."""
    keep = free.index_select(0, rows)
    return rows[keep], grads[keep]


def _hardest(X, Y, u, cand, keys, n_items: int):
    """Per triple, the candidate negative (``cand``: ``(B, k)`` item ids) that user ``u[b]``
    scores highest, skipping the user's positives when their sorted ``keys`` are given.
    Returns ``(j, ok)``: the ``(B,)`` chosen items, and whether each is not a positive (False
    only when all ``k`` are; None without ``keys``). The candidates are scored one column at a
    time (``B`` rows gathered per step, not ``B * k``), and positives are looked up only among
    the winners, until no winner is one."""
    import torch

    xu = X.index_select(0, u)
    scores = torch.stack([torch.linalg.vecdot(Y.index_select(0, c), xu) for c in cand.T], 1)
    rows = torch.arange(u.shape[0], device=u.device)
    while True:
        best = scores.argmax(1)
        j = cand[rows, best]
        if keys is None:
            return j, None
        positive = _is_positive(keys, u * n_items + j)
        redo = positive & (scores[rows, best] > -float("inf"))
        if not bool(redo.any()):
            return j, ~positive
        scores[rows[redo], best[redo]] = -float("inf")


def _is_positive(keys, q):
    """Whether each ``user * n_items + item`` key in ``q`` is among the sorted positives' ``keys``."""
    import torch

    at = torch.searchsorted(keys, q.reshape(-1)).clamp_(max=keys.shape[0] - 1).reshape(q.shape)
    return keys.index_select(0, at.reshape(-1)).view(q.shape) == q


def _adam_rows(W, m, v, rows, grad, lr: float, t: int, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
    """One lazy Adam step (Kingma & Ba 2015; torch ``SparseAdam``'s rule) along the ascent
    direction ``grad[k]`` of row ``rows[k]`` of ``W`` (repeated rows summed); ``m``, ``v`` are
    the moments, ``t`` the step count. Rows not in ``rows`` keep their moments and values."""
    import torch

    idx, inv = torch.unique(rows, return_inverse=True)
    g = torch.zeros(idx.shape[0], W.shape[1], dtype=W.dtype, device=W.device).index_add_(0, inv, grad)
    mi = m.index_select(0, idx).mul_(b1).add_(g, alpha=1.0 - b1)
    vi = v.index_select(0, idx).mul_(b2).addcmul_(g, g, value=1.0 - b2)
    m.index_copy_(0, idx, mi)
    v.index_copy_(0, idx, vi)
    step = mi.div_(1.0 - b1 ** t).div_(vi.div_(1.0 - b2 ** t).sqrt_().add_(eps))
    W.index_add_(0, idx, step, alpha=lr)
