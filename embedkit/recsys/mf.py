"""Biased matrix factorisation of explicit ratings, trained with torch.

Koren, Bell & Volinsky, "Matrix Factorization Techniques for Recommender Systems",
IEEE Computer 42(8), 2009 (eq. 5): a rating is predicted as::

    r_ui = mu + b_u + b_i + p_u . q_i

``mu`` the mean training rating, ``b_u``/``b_i`` user and item biases and ``p_u``/``q_i``
rows of two ``torch.nn.Embedding`` tables, learned by back-propagation on::

    sum_(u,i) (r_ui - r^_ui)^2 + reg * (|p_u|^2 + |q_i|^2 + b_u^2 + b_i^2)

over mini-batches of observed ratings (each rating regularises the rows it touches,
so frequent users and items are regularised more, as in the paper's SGD).
"""
from __future__ import annotations

import logging
import time

import numpy as np

from .._device import cpu_threads, resolve_device, torch_generator
from .._progress import progress
from .._validation import Param
from ..api import Method, register
from ..exceptions import InputFormatError
from ._common import (device_param, interactions_of, make_model, seed_param, verbose_param, workers_param)

logger = logging.getLogger("embedkit")

#: under torchrun: update steps between two averagings of the processes' row changes
SYNC_EVERY = 8


@register
class MF(Method):
    """Biased matrix factorisation of explicit ratings (Koren, Bell & Volinsky 2009).

    ``fit(ratings) -> FactorModel`` with ``users`` ``(U, dim)``, ``items`` ``(I, dim)``, user
    and item biases and ``global_bias`` = the mean rating; ``predict(u, i)`` gives a rating
    (clipped to the training range). Needs explicit ratings
    (``read_interactions(..., rating_col=...)``). Defaults: dim=64, epochs=40, learning_rate=0.01,
    reg=0.1, batch_size=1024, init_std=0.1, optimizer sgd (chosen on a validation split of
    MovieLens-100k u1.base, not on a test fold; docs/recommenders.md).

    >>> import embedkit as ek
    >>> inter = ek.read_interactions(([0, 0, 1, 1], [0, 1, 0, 1], [5.0, 1.0, 4.0, 2.0]))
    >>> model = ek.train("mf", inter, dim=2, epochs=50, device="cpu", verbose=False)
    >>> model.predict(0, 0) > model.predict(0, 1)
    True
    """

    name = "mf"
    family = "recsys"
    summary = "biased matrix factorisation of explicit ratings, torch embeddings (Koren, Bell & Volinsky 2009)"
    input_kind = "interactions"
    params = (
        Param("dim", int, 64, "number of latent factors", low=1),
        Param("epochs", int, 40, "passes over the ratings", low=1),
        Param("learning_rate", float, 0.01, "learning rate (sgd: per rating; adam: per step)", low=0.0, low_open=True),
        Param("reg", float, 0.1, "L2 regularisation of the rows (and biases) each rating touches", low=0.0),
        Param("batch_size", int, 1024, "ratings per gradient step", low=1),
        Param("init_std", float, 0.1, "standard deviation of the initial factors (biases start at 0)", low=0.0),
        Param("optimizer", str, "sgd", "sgd (plain SGD on the summed loss, the paper's) or adam (SparseAdam "
              "on the mean loss)", choices=("sgd", "adam")),
        workers_param(),
        seed_param(),
        device_param(),
        verbose_param(),
    )
    quick_params = {"dim": 8, "epochs": 3, "workers": 1, "verbose": False}

    def _fit(self, data, **params):
        dev = resolve_device(params["device"], method=self.name)
        inter = interactions_of(data, self.name)
        if not inter.explicit:
            raise InputFormatError(f"mf learns explicit ratings, but {inter!r} holds implicit interactions; read "
                                   "the ratings with read_interactions(path, rating_col=...), or train 'als' or "
                                   "'bpr' on implicit feedback", inter.source)
        t0 = time.perf_counter()
        with cpu_threads(params["workers"], dev):
            P, Q, bu, bi, mu, loss = _train(inter, params, dev)
        train_s = time.perf_counter() - t0
        logger.info("mf (%s): %d epochs in %.2fs, train RMSE %.4f", dev, params["epochs"], train_s, loss ** 0.5)
        meta = {"device": dev, "train_time_s": round(train_s, 4), "train_rmse": round(loss ** 0.5, 6),
                "interactions": repr(inter)}
        lo, hi = float(inter.values.min()), float(inter.values.max())
        return make_model(inter, P, Q, meta, user_bias=bu, item_bias=bi, global_bias=mu, explicit=True,
                          rating_range=(lo, hi))


def _train(inter, params, device):
    """Under ``torchrun`` every process takes its share of each epoch's shuffled ratings
    and :class:`~embedkit.distributed.RowSync` sums (adam: averages) the processes' row changes every
    ``SYNC_EVERY`` steps (the optimiser's state stays per process)."""
    import torch

    from ..distributed import RowSync, context, mean_across, shard

    dist = context(device)
    gen = torch_generator(params["seed"], device)
    dim, bs = params["dim"], params["batch_size"]
    u_all = torch.as_tensor(inter.user_of_entry(), device=device)
    i_all = torch.as_tensor(inter.indices.astype(np.int64), device=device)
    r_all = torch.as_tensor(inter.values.astype(np.float32), device=device)
    mu = float(r_all.mean())
    n = r_all.shape[0]

    def table(rows, width, std):
        emb = torch.nn.Embedding(rows, width, sparse=True, device=device)
        with torch.no_grad():
            if std > 0:
                emb.weight.normal_(0.0, std, generator=gen)
            else:
                emb.weight.zero_()
        return emb

    P = table(inter.num_users, dim, params["init_std"])
    Q = table(inter.num_items, dim, params["init_std"])
    bu = table(inter.num_users, 1, 0.0)
    bi = table(inter.num_items, 1, 0.0)
    tables = [P.weight, Q.weight, bu.weight, bi.weight]
    adam = params["optimizer"] == "adam"
    rate = params["learning_rate"]
    opt = torch.optim.SparseAdam(tables, lr=rate) if adam else torch.optim.SGD(tables, lr=rate)
    reg = params["reg"]
    # SGD on the summed loss: the processes' changes add up, as one process's batches would;
    # Adam's steps are normalised per process: averaged
    sync = RowSync(tables, dist, every=SYNC_EVERY, reduce="mean" if adam else "sum")
    mine = torch.as_tensor(shard(n, dist), device=device)
    sq_sum = 0.0
    with progress(params["epochs"], "mf", params["verbose"], unit="epoch") as bar:
        for _ in range(params["epochs"]):
            order = torch.randperm(n, generator=gen, device=device)
            if dist.active:  # this process's share: the same permutation everywhere, different positions
                order = order[mine]
            sq_sum = torch.zeros((), device=device)
            for s in range(0, n, bs):
                b = order[s:s + bs]
                u, i, r = u_all[b], i_all[b], r_all[b]
                pu, qi, bu_u, bi_i = P(u), Q(i), bu(u).squeeze(1), bi(i).squeeze(1)
                err = r - (mu + bu_u + bi_i + (pu * qi).sum(1))
                penalty = (pu * pu).sum(1) + (qi * qi).sum(1) + bu_u * bu_u + bi_i * bi_i
                loss = (err * err + reg * penalty)
                loss = loss.mean() if adam else 0.5 * loss.sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                sync.step([u, i, u, i])
                sq_sum += (err.detach() ** 2).sum()
            sync.finish()
            bar.update(1)
    rmse_sq = mean_across([float(sq_sum) / order.shape[0]], dist, device)[0]
    with torch.no_grad():  # rows no rating touched keep no random vector: they predict from the biases
        P.weight[torch.as_tensor(inter.user_counts() == 0, device=device)] = 0.0
        Q.weight[torch.as_tensor(inter.item_counts() == 0, device=device)] = 0.0
    return (P.weight.detach().cpu().numpy(), Q.weight.detach().cpu().numpy(),
            bu.weight.detach().cpu().numpy().ravel(), bi.weight.detach().cpu().numpy().ravel(), mu, rmse_sq)
