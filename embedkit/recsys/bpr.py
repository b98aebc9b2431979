"""Bayesian Personalized Ranking (BPR-MF).

Rendle, Freudenthaler, Gantner & Schmidt-Thieme, "BPR: Bayesian Personalized
Ranking from Implicit Feedback", UAI 2009. For sampled triples (user ``u``, an item
``i`` the user interacted with, an item ``j`` they did not) stochastic gradient
ascent on::

    ln sigmoid(x_ui - x_uj) - reg * (|w_u|^2 + |h_i|^2 + |h_j|^2 + b_i^2 + b_j^2)

with ``x_ui = w_u . h_i + b_i``. As in implicit (its CPU default), an epoch draws as
many triples as there are interactions, the positive uniformly among the stored
interactions, the negative in proportion to item popularity (an item drawn from the
stored interactions, ``negatives="popularity"``) or uniformly (``"uniform"``, Rendle's
choice); a negative the user did interact with is skipped (``verify_negatives``).
Interaction values are ignored: every stored entry is a positive.

Backends: ``implicit`` (lock-free parallel per-triple SGD in Cython; the CPU default)
and ``torch`` (the same updates applied per mini-batch with ``index_add_``; CPU or GPU).
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


@register
class BPR(Method):
    """Matrix factorisation for ranking by BPR (Rendle et al. 2009).

    ``fit(interactions) -> FactorModel``: ``users`` ``(U, dim)``, ``items`` ``(I, dim)`` and an
    item bias ``(I,)``; ``score(u, i) = w_u . h_i + b_i``. Defaults (implicit's): dim=64, lr=0.01,
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
        Param("lr", float, 0.01, "SGD learning rate (per triple)", low=0.0, low_open=True),
        Param("reg", float, 0.01, "L2 regularisation of the vectors and item biases", low=0.0),
        Param("epochs", int, 100, "passes; each draws as many triples as there are interactions", low=1),
        Param("negatives", str, "popularity", "how negatives are drawn: in proportion to item popularity "
              "(implicit's) or uniformly (Rendle's)", choices=("popularity", "uniform")),
        Param("verify_negatives", bool, True, "skip a triple whose negative the user did interact with"),
        Param("batch_size", int, 1024, "torch backend: triples per update step", low=1),
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
        backend = pick_backend(self.name, params["backend"], dev)
        if backend == "implicit" and params["negatives"] != "popularity":
            raise InvalidParameterError(self.name, "negatives", "'popularity' with the implicit backend",
                                        params["negatives"], hint="use backend='torch' for uniform negatives")
        inter = interactions_of(data, self.name)
        t0 = time.perf_counter()
        if backend == "implicit":
            X, Y = _fit_implicit(inter, params)
        else:
            with cpu_threads(params["workers"], dev):
                X, Y = bpr_torch(inter.indptr, inter.indices, inter.num_items, params["dim"], params["lr"],
                                 params["reg"], params["epochs"], params["batch_size"], params["negatives"],
                                 params["verify_negatives"], params["seed"], dev, params["verbose"])
        train_s = time.perf_counter() - t0
        logger.info("bpr (%s, %s): %d epochs in %.2fs", backend, dev, params["epochs"], train_s)
        meta = {"backend": backend, "device": dev, "train_time_s": round(train_s, 4), "interactions": repr(inter)}
        d = params["dim"]
        # the last column holds the item bias (the user side is a constant 1)
        return make_model(inter, X[:, :d], Y[:, :d], meta, item_bias=Y[:, d])


def _fit_implicit(inter, params):
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    with single_threaded_blas():
        model = BayesianPersonalizedRanking(factors=params["dim"], learning_rate=params["lr"],
                                            regularization=params["reg"], iterations=params["epochs"],
                                            verify_negative_samples=params["verify_negatives"],
                                            num_threads=params["workers"], random_state=params["seed"])
        model.fit(inter.matrix, show_progress=show_progress(params["verbose"]))
    return as_float32(model.user_factors), as_float32(model.item_factors)


def bpr_torch(indptr: np.ndarray, indices: np.ndarray, n_items: int, dim: int, lr: float, reg: float, epochs: int,
              batch_size: int, negatives: str = "popularity", verify: bool = True, seed: int = 0,
              device: str = "cpu", verbose: bool = False):
    """BPR by mini-batch SGD in torch on the CSR ``(indptr, indices)`` of positives.

    Returns float32 numpy ``(U, dim + 1)`` user and ``(I, dim + 1)`` item matrices whose last
    columns are 1 (users) and the item bias (items). Starts as implicit does: uniform
    ``[-0.5, 0.5) / dim``, zero for users and items without interactions.
    """
    import torch

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
    skipped = 0
    with progress(epochs, "bpr", verbose, unit="epoch") as bar:
        for _ in range(epochs):
            pos = torch.randint(0, nnz, (nnz,), generator=gen, device=device)
            if negatives == "popularity":
                neg = items_of[torch.randint(0, nnz, (nnz,), generator=gen, device=device)]
            else:
                neg = torch.randint(0, n_items, (nnz,), generator=gen, device=device)
            for s in range(0, nnz, batch_size):
                p = pos[s:s + batch_size]
                u, i, j = users_of[p], items_of[p], neg[s:s + batch_size]
                if verify:
                    q = u * n_items + j
                    at = torch.searchsorted(keys, q).clamp_(max=nnz - 1)
                    ok = keys[at] != q
                    skipped += int(ok.numel() - ok.sum())
                    u, i, j = u[ok], i[ok], j[ok]
                xu, yi, yj = X[u], Y[i], Y[j]
                z = torch.sigmoid(-(xu * (yi - yj)).sum(1))[:, None]
                gu = z * (yi - yj) - reg * xu
                gu[:, dim] = 0.0  # the user's bias column stays 1
                X.index_add_(0, u, gu, alpha=lr)
                Y.index_add_(0, i, z * xu - reg * yi, alpha=lr)
                Y.index_add_(0, j, -z * xu - reg * yj, alpha=lr)
            bar.update(1)
    if verify and epochs:
        logger.info("bpr: %.2f%% of the triples skipped (negative was a positive)", 100.0 * skipped / (nnz * epochs))
    return X.cpu().numpy(), Y.cpu().numpy()
