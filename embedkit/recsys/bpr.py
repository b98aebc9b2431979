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
"""
from __future__ import annotations

import logging
import time

import numpy as np

from .._device import cpu_threads, resolve_device, torch_generator
from .._progress import progress
from .._validation import Param
from ..api import Method, register
from ..exceptions import InvalidParameterError
from ._common import (BACKENDS, as_float32, device_param, interactions_of, make_model, pick_backend,
                      seed_param, show_progress, single_threaded_blas, verbose_param, workers_param)

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
    )
    quick_params = {"dim": 8, "epochs": 3, "workers": 1, "verbose": False}

    def _fit(self, data, **params):
        dev = resolve_device(params["device"], method=self.name)
        backend = pick_backend(self.name, params["backend"], dev, distributes=True)
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
        t0 = time.perf_counter()
        if backend == "implicit":
            X, Y = _fit_implicit(inter, params)
        else:
            with cpu_threads(params["workers"], dev):
                X, Y = bpr_torch(inter.indptr, inter.indices, inter.num_items, params["dim"],
                                 params["learning_rate"], params["reg"], params["epochs"], params["batch_size"],
                                 params["negative_sampling"],
                                 params["verify_negatives"], params["seed"], dev, params["verbose"],
                                 optimizer=params["optimizer"], negative_candidates=params["negative_candidates"])
        train_s = time.perf_counter() - t0
        logger.info("bpr (%s, %s): %d epochs in %.2fs", backend, dev, params["epochs"], train_s)
        meta = {"backend": backend, "device": dev, "train_time_s": round(train_s, 4), "interactions": repr(inter)}
        d = params["dim"]
        # the last column holds the item bias (the user side is a constant 1)
        return make_model(inter, X[:, :d], Y[:, :d], meta, item_bias=Y[:, d])


def _fit_implicit(inter, params):
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    with single_threaded_blas():
        model = BayesianPersonalizedRanking(factors=params["dim"], learning_rate=params["learning_rate"],
                                            regularization=params["reg"], iterations=params["epochs"],
                                            verify_negative_samples=params["verify_negatives"],
                                            num_threads=params["workers"], random_state=params["seed"])
        model.fit(inter.matrix, show_progress=show_progress(params["verbose"]))
    return as_float32(model.user_factors), as_float32(model.item_factors)


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
    called after every epoch with the live torch tensors (e.g. to follow a validation metric).
    """
    import torch

    from ..distributed import RowSync, context

    dist = context(device)
    gen = torch_generator(seed, device)
    n_users = indptr.shape[0] - 1
    counts = np.diff(indptr)
    users_of = torch.as_tensor(np.repeat(np.arange(n_users, dtype=np.int64), counts), device=device)
    items_of = torch.as_tensor(indices.astype(np.int64), device=device)
    keys = users_of * n_items + items_of  # sorted: CSR rows in order, items sorted within a row
    nnz = items_of.shape[0]
    X = (torch.rand(n_users, dim + 1, generator=gen, device=device) - 0.5) / dim
    Y = (torch.rand(n_items, dim + 1, generator=gen, device=device) - 0.5) / dim
    X[torch.as_tensor(counts == 0, device=device)] = 0.0
    Y[torch.as_tensor(np.bincount(indices, minlength=n_items) == 0, device=device)] = 0.0
    X[:, dim] = 1.0
    # SGD: the processes' changes add up, as one process's batches would (measured on planted data:
    # recall@10 0.531 in 2 processes, 0.527 in one; averaging them halved the progress: 0.386);
    # Adam's steps are normalised per process: averaged
    sync = RowSync([X, Y], dist, every=SYNC_EVERY, reduce="mean" if optimizer == "adam" else "sum")
    draws = -(-nnz // dist.world)  # triples per epoch and process
    if dist.active:  # under torchrun every process draws its own triples
        gen = torch_generator(seed + 1_000_003 * dist.rank, device)
    adam = optimizer == "adam"
    moments = [torch.zeros_like(X), torch.zeros_like(X), torch.zeros_like(Y), torch.zeros_like(Y)] if adam else None
    steps = 0
    skipped = 0
    with progress(epochs, "bpr", verbose, unit="epoch") as bar:
        for epoch in range(epochs):
            pos = torch.randint(0, nnz, (draws,), generator=gen, device=device)
            shape = (draws,) if negative_candidates == 1 else (draws, negative_candidates)
            if negative_sampling == "popularity":
                neg = items_of[torch.randint(0, nnz, shape, generator=gen, device=device)]
            else:
                neg = torch.randint(0, n_items, shape, generator=gen, device=device)
            for s in range(0, draws, batch_size):
                p = pos[s:s + batch_size]
                u, i, j = users_of.index_select(0, p), items_of.index_select(0, p), neg[s:s + batch_size]
                ok = None
                if negative_candidates > 1:  # keep the candidate the model ranks highest (a non-positive one)
                    j, ok = _hardest(X, Y, u, j, keys if verify else None, n_items)
                if verify:
                    ok = ~_is_positive(keys, u * n_items + j) if ok is None else ok
                    skipped += int(ok.numel() - ok.sum())
                    u, i, j = u[ok], i[ok], j[ok]
                xu, yi, yj = X.index_select(0, u), Y.index_select(0, i), Y.index_select(0, j)
                z = torch.sigmoid(-(xu * (yi - yj)).sum(1))[:, None]
                gu = z * (yi - yj) - reg * xu
                gu[:, dim] = 0.0  # the user's bias column stays 1
                gi, gj = z * xu - reg * yi, -z * xu - reg * yj
                if adam:  # the mean ascent direction of the batch
                    steps += 1
                    scale = 1.0 / max(u.shape[0], 1)
                    _adam_rows(X, *moments[:2], u, gu * scale, learning_rate, steps)
                    _adam_rows(Y, *moments[2:], torch.cat([i, j]), torch.cat([gi, gj]) * scale, learning_rate, steps)
                else:
                    X.index_add_(0, u, gu, alpha=learning_rate)
                    Y.index_add_(0, i, gi, alpha=learning_rate)
                    Y.index_add_(0, j, gj, alpha=learning_rate)
                sync.step([u, [i, j]])
            sync.finish()
            if on_epoch is not None:
                on_epoch(epoch, X, Y)
            bar.update(1)
    if verify and epochs:
        logger.info("bpr: %.2f%% of the triples skipped (negative was a positive)", 100.0 * skipped / (draws * epochs))
    return X.cpu().numpy(), Y.cpu().numpy()


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


def _adam_rows(W, m, v, rows, grad, learning_rate: float, t: int, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
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
    W.index_add_(0, idx, step, alpha=learning_rate)
