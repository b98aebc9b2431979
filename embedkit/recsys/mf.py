"""Biased matrix factorisation of explicit ratings, trained with torch.

Koren, Bell & Volinsky, "Matrix Factorization Techniques for Recommender Systems",
IEEE Computer 42(8), 2009 (eq. 5): a rating is predicted as::

    r_ui = mu + b_u + b_i + p_u . q_i

``mu`` the mean training rating, ``b_u``/``b_i`` user and item biases and ``p_u``/``q_i``
rows of two ``torch.nn.Embedding`` tables, learned by back-propagation on::

    sum_(u,i) (r_ui - r^_ui)^2 + reg * (|p_u|^2 + |q_i|^2 + b_u^2 + b_i^2)

over mini-batches of observed ratings (each rating regularises the rows it touches,
so frequent users and items are regularised more, as in the paper's SGD).

Training runs on the shared loop (:mod:`embedkit.training`): ``history`` per epoch (``loss``: the
mean regularised squared error of the epoch's ratings, each before its batch's update; ``rmse``),
callbacks, ``validation=`` held-out ratings (RMSE, lower is better) with ``patience=``, checkpoints.

``init=`` continues from a previous MF model (:mod:`embedkit.recsys._continue`): the rows and biases of
the users and items it has start from its own, and its ``global_bias`` is kept (the old biases are
relative to it). ``freeze_existing=True`` drops the old rows' entries from every sparse gradient (SGD and
SparseAdam alike), so they stay bit for bit and only the new rows train.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from .._device import cpu_threads, resolve_device, torch_generator
from .._validation import Param
from ..api import Method, register
from ..exceptions import InputFormatError
from ..training import Trainable
from ._continue import CONTINUE_PARAMS, check_init, prepare, used_params
from ._common import (device_param, interactions_of, make_model, seed_param, verbose_param, workers_param)
from ._loop import loop_rows, run_meta, train_loop

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
        *loop_rows("held-out ratings (anything read_interactions takes, with their ratings): RMSE on them, "
                   "lower is better"),
        *CONTINUE_PARAMS,
    )
    quick_params = {"dim": 8, "epochs": 3, "workers": 1, "verbose": False}

    def _fit(self, data, **params):
        dev = resolve_device(params["device"], method=self.name)
        init = check_init(self.name, params, self._given, biases=("user_bias", "item_bias"), explicit=True)
        inter = interactions_of(data, self.name)
        if not inter.explicit:
            raise InputFormatError(f"mf learns explicit ratings, but {inter!r} holds implicit interactions; read "
                                   "the ratings with read_interactions(path, rating_col=...), or train 'als' or "
                                   "'bpr' on implicit feedback", inter.source)
        cont = None if init is None else prepare(self.name, init, inter, params["freeze_existing"])
        lo, hi = float(inter.values.min()), float(inter.values.max())
        if cont is not None:
            inter = cont.inter  # the previous users and items without ratings here keep their rows
            if init.rating_range is not None:
                lo, hi = min(lo, init.rating_range[0]), max(hi, init.rating_range[1])
        t0 = time.perf_counter()
        training = None

        def model(meta=None):
            P, Q, bu, bi = training.factors()
            return make_model(inter, P, Q, meta or {}, user_bias=bu, item_bias=bi, global_bias=training.mu,
                              explicit=True, rating_range=(lo, hi))

        with cpu_threads(params["workers"], dev):
            training = _MFTraining(inter, params, dev, cont)
            run = train_loop(self.name, training, inter, params, epochs=params["epochs"], model=model,
                             evaluate=_rating, higher_is_better=False, cont=cont)
        rmse = training.train_rmse()
        train_s = time.perf_counter() - t0
        logger.info("mf (%s): %d epochs in %.2fs, train RMSE %.4f", dev, run.stopped_epoch, train_s, rmse)
        meta = {"device": dev, "train_time_s": round(train_s, 4), "train_rmse": round(rmse, 6),
                "interactions": repr(inter), **run_meta(run)}
        if cont is None:
            return model(meta)
        P, Q, bu, bi = training.factors()
        return cont.model(P, Q, dict(meta, params=used_params(params)), user_bias=bu, item_bias=bi,
                          rating_range=(lo, hi))


def _rating(model, train, held_out):
    """Validation: RMSE of the model's predictions on the held-out ratings (lower is better)."""
    from ..evaluate.ranking import rating

    return rating(model, held_out)


class _MFTraining(Trainable):
    """One pass over the shuffled ratings per epoch, in mini-batches (SGD on the summed loss, or
    SparseAdam on the mean). Loss: the mean regularised squared error
    ``(r_ui - r^_ui)^2 + reg (|p_u|^2 + |q_i|^2 + b_u^2 + b_i^2)`` of the epoch's ratings, each taken
    before its batch's update; ``rmse`` in the history: the root of the mean squared error alone.

    Under ``torchrun`` every process takes its share of each epoch's shuffled ratings and
    :class:`~embedkit.distributed.RowSync` sums (adam: averages) the processes' row changes every
    ``SYNC_EVERY`` steps (the optimiser's state stays per process). A checkpoint holds the four
    tables, the optimiser's state (SparseAdam's step and moments) and the generator's state."""

    unit = "interactions"

    def __init__(self, inter, params, device, cont=None):
        import torch

        from ..distributed import RowSync, context, shard

        self.inter, self.params, self.device = inter, params, device
        self.dist = dist = context(device)
        self.gen = gen = torch_generator(params["seed"], device)
        self.u_all = torch.as_tensor(inter.user_of_entry(), device=device)
        self.i_all = torch.as_tensor(inter.indices.astype(np.int64), device=device)
        self.r_all = torch.as_tensor(inter.values.astype(np.float32), device=device)
        # continuing: the init model's global bias (its biases are relative to it)
        self.mu = float(self.r_all.mean()) if cont is None else cont.init.global_bias
        self.n = self.r_all.shape[0]

        def table(rows, width, std):
            emb = torch.nn.Embedding(rows, width, sparse=True, device=device)
            with torch.no_grad():
                if std > 0:
                    emb.weight.normal_(0.0, std, generator=gen)
                else:
                    emb.weight.zero_()
            return emb

        dim = params["dim"]
        self.P = table(inter.num_users, dim, params["init_std"])
        self.Q = table(inter.num_items, dim, params["init_std"])
        self.bu = table(inter.num_users, 1, 0.0)
        self.bi = table(inter.num_items, 1, 0.0)
        self.tables = [self.P.weight, self.Q.weight, self.bu.weight, self.bi.weight]
        # continuing: the old rows and biases start from the init model's; with freeze_existing they
        # are dropped from every gradient
        self.free = None
        if cont is not None:
            with torch.no_grad():
                for t, (rows, values) in zip(self.tables, (cont.user_start(), cont.item_start(),
                                                           cont.user_bias_start(), cont.item_bias_start())):
                    t[torch.as_tensor(rows, device=device)] = torch.as_tensor(values, device=device).reshape(
                        len(rows), -1)
            fixed_u, fixed_i = cont.fixed_users(), cont.fixed_items()
            if fixed_u is not None or fixed_i is not None:
                free_u = torch.as_tensor(np.ones(inter.num_users, bool) if fixed_u is None else ~fixed_u, device=device)
                free_i = torch.as_tensor(np.ones(inter.num_items, bool) if fixed_i is None else ~fixed_i, device=device)
                self.free = [free_u, free_i, free_u, free_i]
        self.adam = params["optimizer"] == "adam"
        self.opt = torch.optim.SparseAdam(self.tables, lr=params["learning_rate"]) if self.adam \
            else torch.optim.SGD(self.tables, lr=params["learning_rate"])
        # SGD on the summed loss: the processes' changes add up, as one process's batches would;
        # Adam's steps are normalised per process: averaged
        self.sync = RowSync(self.tables, dist, every=SYNC_EVERY, reduce="mean" if self.adam else "sum")
        self.mine = torch.as_tensor(shard(self.n, dist), device=device)
        self.per_epoch = int(self.mine.shape[0]) if dist.active else self.n
        self.sq_mean = float("nan")  # the last epoch's mean squared error (all processes)

    def run_epoch(self, epoch) -> None:
        import torch

        from ..distributed import sum_across

        P, Q, bu, bi, mu, reg, bs, opt = self.P, self.Q, self.bu, self.bi, self.mu, self.params["reg"], \
            self.params["batch_size"], self.opt
        order = torch.randperm(self.n, generator=self.gen, device=self.device)
        if self.dist.active:  # this process's share: the same permutation everywhere, different positions
            order = order[self.mine]
        sq_sum = torch.zeros((), device=self.device)
        loss_sum = torch.zeros((), device=self.device)
        for s in range(0, self.n, bs):
            b = order[s:s + bs]
            u, i, r = self.u_all[b], self.i_all[b], self.r_all[b]
            pu, qi, bu_u, bi_i = P(u), Q(i), bu(u).squeeze(1), bi(i).squeeze(1)
            err = r - (mu + bu_u + bi_i + (pu * qi).sum(1))
            penalty = (pu * pu).sum(1) + (qi * qi).sum(1) + bu_u * bu_u + bi_i * bi_i
            loss = (err * err + reg * penalty)
            loss_sum += loss.detach().sum()
            loss = loss.mean() if self.adam else 0.5 * loss.sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            if self.free is not None:
                for t, free in zip(self.tables, self.free):
                    _drop_rows(t, free)
            opt.step()
            self.sync.step([u, i, u, i])
            sq_sum += (err.detach() ** 2).sum()
        self.sync.finish()
        total, sq, n = sum_across(np.array([float(loss_sum), float(sq_sum), float(order.shape[0])]), self.dist,
                                  self.device).tolist()
        self.sq_mean = sq / n
        epoch.add(int(order.shape[0]), total, int(n))
        epoch.extra["rmse"] = round(self.sq_mean ** 0.5, 6)

    def train_rmse(self) -> float:
        return self.sq_mean ** 0.5

    def factors(self):
        """``(P, Q, b_u, b_i)`` as numpy; rows no rating touched get no random vector (they predict
        from the biases)."""
        P = self.P.weight.detach().cpu().numpy().copy()
        Q = self.Q.weight.detach().cpu().numpy().copy()
        P[self.inter.user_counts() == 0] = 0.0
        Q[self.inter.item_counts() == 0] = 0.0
        return P, Q, self.bu.weight.detach().cpu().numpy().ravel(), self.bi.weight.detach().cpu().numpy().ravel()

    def state(self) -> dict:
        import torch

        out = {"generator": self.gen.get_state().numpy().copy(), "train_mse": self.sq_mean}
        for name, t in zip(_TABLES, self.tables):
            out[name] = t.detach().cpu().numpy().copy()
            for key, v in self.opt.state.get(t, {}).items():  # SparseAdam: step (an int), exp_avg, exp_avg_sq
                out[f"opt.{name}.{key}"] = v.detach().cpu().numpy().copy() if torch.is_tensor(v) else v
        return out

    def set_state(self, state: dict) -> None:
        import torch

        self.gen.set_state(torch.as_tensor(state["generator"], dtype=torch.uint8))
        self.sq_mean = float(state["train_mse"])
        with torch.no_grad():
            for name, t in zip(_TABLES, self.tables):
                t.copy_(torch.as_tensor(state[name]))
                st = {k.rsplit(".", 1)[1]: torch.tensor(v, device=self.device) if isinstance(v, np.ndarray) else v
                      for k, v in state.items() if k.startswith(f"opt.{name}.")}
                if st:
                    self.opt.state[t] = st
                else:
                    self.opt.state.pop(t, None)


def _drop_rows(weight, free) -> None:
    """Remove the rows ``free`` (bool per row) does not let train from ``weight``'s sparse gradient:
    neither SGD nor SparseAdam then touches them (nor Adam's moments of them)."""
    import torch

    g = weight.grad.coalesce()
    idx = g.indices()
    keep = free.index_select(0, idx[0])
    weight.grad = torch.sparse_coo_tensor(idx[:, keep], g.values()[keep], g.shape, is_coalesced=True,
                                          check_invariants=False)


#: the four tables, as named in a checkpoint
_TABLES = ("users", "items", "user_bias", "item_bias")
