"""Implicit-feedback ALS (weighted matrix factorisation).

Hu, Koren & Volinsky, "Collaborative Filtering for Implicit Feedback Datasets",
ICDM 2008. Every (user, item) cell has a preference ``p_ui`` (1 when the user
interacted with the item, else 0) and a confidence ``c_ui = 1 + confidence * r_ui``
(``r_ui`` the interaction value: a count, a rating, 1 for a positive; 1 for an
empty cell). ALS minimises::

    sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + reg * (sum_u |x_u|^2 + sum_i |y_i|^2)

alternating exact-in-the-limit solves for all users, then all items:
``x_u = (Y^T C_u Y + reg I)^-1 Y^T C_u p_u``, each solved by a few conjugate-gradient
steps warm-started from the previous iterate (Takacs, Pilaszy & Tikk, RecSys 2011),
which only touches the stored cells: ``Y^T C_u Y = Y^T Y + Y^T (C_u - I) Y``.

Backends: ``implicit`` (its multi-threaded Cython CG solver; the CPU default) and
``torch`` (the same CG, vectorised over all users with gather/scatter; CPU or GPU).
Both minimise the same objective from the same kind of start, so their quality matches.

``init=`` continues from a previous ALS model (:mod:`embedkit.recsys._continue`): the rows of the
users and items it has start from its vectors; with ``freeze_existing=True`` each half-sweep solves
only the new rows (the old ones stay bit for bit, and the new ones are solved against them).
"""
from __future__ import annotations

import logging
import time

import numpy as np

from .._device import cpu_threads, resolve_device, torch_generator
from .._validation import Param
from ..api import Method, register
from ..training import Trainable
from ._continue import CONTINUE_PARAMS, check_init, prepare, used_params
from ._common import (BACKENDS, as_float32, device_param, interactions_of, make_model, pick_backend,
                      seed_param, single_threaded_blas, verbose_param, workers_param)
from ._loop import loop_rows, run_meta, train_loop

logger = logging.getLogger("embedkit")

#: stored cells gathered at once by the torch solver (bounds its memory to about chunk * dim * 12 bytes)
_CHUNK = 4_000_000
#: gathered item vectors kept for a whole solve up to this many floats (1 GiB)
_CACHE_FLOATS = 2**28


@register
class ALS(Method):
    """Implicit-feedback matrix factorisation by alternating least squares (Hu et al. 2008).

    ``fit(interactions) -> FactorModel``: ``users`` ``(U, dim)``, ``items`` ``(I, dim)``, no
    biases; ``score(u, i) = x_u . y_i``. Interaction values are the ``r_ui`` of the confidence
    ``1 + confidence * r_ui``. Defaults: dim=64, reg=0.01, confidence=1.0, epochs=15, cg_steps=3
    (implicit's defaults; with 0/1 data implicit's own default confidence is ``r_ui = 1``, i.e.
    ``confidence=0`` here).

    >>> import embedkit as ek
    >>> inter = ek.read_interactions(([0, 0, 1, 1, 2, 2], [0, 1, 0, 1, 2, 3]))
    >>> model = ek.train("als", inter, dim=2, epochs=5, backend="torch", device="cpu", verbose=False)
    >>> model.users.vectors.shape, model.items.vectors.shape
    ((3, 2), (4, 2))
    """

    name = "als"
    family = "recsys"
    summary = "implicit-feedback ALS, confidence-weighted squared loss (Hu, Koren & Volinsky 2008)"
    input_kind = "interactions"
    params = (
        Param("dim", int, 64, "number of latent factors", low=1),
        Param("reg", float, 0.01, "L2 regularisation of the user and item vectors", low=0.0),
        Param("confidence", float, 1.0, "confidence scale: c_ui = 1 + confidence * r_ui on interacted cells (the "
              "paper's and implicit's alpha)", low=0.0),
        Param("epochs", int, 15, "ALS sweeps (users, then items; implicit's iterations)", low=1),
        Param("cg_steps", int, 3, "conjugate-gradient steps per solve", low=1),
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
        backend = pick_backend(self.name, params["backend"], dev)
        init = check_init(self.name, params, self._given)
        inter = interactions_of(data, self.name)
        cont = None if init is None else prepare(self.name, init, inter, params["freeze_existing"])
        if cont is not None:
            inter = cont.inter  # the previous users and items without interactions here keep their rows
        conf = inter.matrix
        conf.data = (1.0 + params["confidence"] * conf.data).astype(np.float32)
        t0 = time.perf_counter()
        if backend == "implicit":
            training = _ImplicitALS(conf, params, cont)
        else:
            training = _TorchALS(conf, params, dev, cont)
        with cpu_threads(params["workers"], dev) if backend == "torch" else single_threaded_blas():
            run = train_loop(self.name, training, inter, params, epochs=params["epochs"],
                             model=lambda: make_model(inter, *training.factors(), {}), cont=cont)
        X, Y = training.factors()
        train_s = time.perf_counter() - t0
        logger.info("als (%s, %s): %d iterations in %.2fs", backend, dev, run.stopped_epoch, train_s)
        meta = {"backend": backend, "device": dev, "train_time_s": round(train_s, 4),
                "interactions": repr(inter), **run_meta(run)}
        if cont is None:
            return make_model(inter, X, Y, meta)
        return cont.model(X, Y, dict(meta, params=used_params(params)))


class _ALSTraining(Trainable):
    """One ALS iteration (all users, then all items) per epoch of the loop. Loss: the objective
    ``sum_{u,i} c_ui (p_ui - x_u . y_i)^2 + reg (|X|^2 + |Y|^2)`` after the iteration, divided by
    the summed confidence of all cells (as implicit's ``calculate_loss``)."""

    unit = "interactions"

    def __init__(self, conf):
        self.nnz = int(conf.nnz)
        self.per_epoch = self.nnz
        self.total_conf = float(conf.shape[0]) * conf.shape[1] + float(conf.data.sum()) - self.nnz

    def run_epoch(self, epoch) -> None:
        self.step()
        epoch.add(self.nnz, self.loss(), 1)


class _ImplicitALS(_ALSTraining):
    def __init__(self, conf, params, cont=None):
        from implicit.cpu.als import AlternatingLeastSquares

        super().__init__(conf)
        with single_threaded_blas():  # implicit checks the BLAS threads when it is built
            self.model = AlternatingLeastSquares(factors=params["dim"], regularization=params["reg"], alpha=1.0,
                                                 iterations=1, use_cg=True, use_native=True,
                                                 num_threads=params["workers"], random_state=params["seed"])
        self.model.cg_steps = params["cg_steps"]
        self.reg = params["reg"]
        self.Cui = conf.tocsr()
        self.Ciu = conf.T.tocsr()
        # implicit's start: uniform [0, 0.01) from its random state, users then items
        rng = np.random.default_rng(params["seed"])
        self.X = rng.random((conf.shape[0], params["dim"]), dtype=np.float32) * 0.01
        self.Y = rng.random((conf.shape[1], params["dim"]), dtype=np.float32) * 0.01
        # continuing: the old rows start from the init model's; frozen ones are left out of the solves
        self.free_users = self.free_items = self.Cui_free = self.Ciu_free = None
        if cont is not None:
            for table, (rows, values) in ((self.X, cont.user_start()), (self.Y, cont.item_start())):
                table[rows] = values
            fixed_u, fixed_i = cont.fixed_users(), cont.fixed_items()
            if fixed_u is not None:
                self.free_users = np.flatnonzero(~fixed_u)
                self.Cui_free = self.Cui[self.free_users]
            if fixed_i is not None:
                self.free_items = np.flatnonzero(~fixed_i)
                self.Ciu_free = self.Ciu[self.free_items]

    def step(self) -> None:
        self._solve(self.Cui, self.X, self.Y, self.free_users, self.Cui_free)
        self._solve(self.Ciu, self.Y, self.X, self.free_items, self.Ciu_free)

    def _solve(self, C, X, Y, free, C_free) -> None:
        """The rows of ``X`` (the ``free`` ones only, when given) solved against ``Y``."""
        solve, m = self.model.solver, self.model
        if free is None:
            solve(C, X, Y, self.reg, num_threads=m.num_threads)
        elif free.size:
            part = np.ascontiguousarray(X[free])
            solve(C_free, part, Y, self.reg, num_threads=m.num_threads)
            X[free] = part

    def loss(self) -> float:
        # implicit's own (Cython) evaluation of the objective, divided by the summed confidence: 10x
        # faster than the same sums in numpy on MovieLens-100k (2 ms against 22 ms an iteration)
        from implicit.cpu import _als

        return float(_als.calculate_loss(self.Cui, self.X, self.Y, self.reg, num_threads=self.model.num_threads))

    def factors(self):
        return as_float32(self.X), as_float32(self.Y)

    def state(self) -> dict:
        return {"users": self.X.copy(), "items": self.Y.copy()}

    def set_state(self, state: dict) -> None:
        self.X[...] = state["users"]
        self.Y[...] = state["items"]


class _TorchALS(_ALSTraining):
    def __init__(self, conf, params, device, cont=None):
        import torch

        super().__init__(conf)
        self.params, self.device = params, device
        gen = torch_generator(params["seed"], device)
        n_users, n_items = conf.shape
        dim = params["dim"]
        self.X = torch.rand(n_users, dim, generator=gen, device=device) * 0.01
        self.Y = torch.rand(n_items, dim, generator=gen, device=device) * 0.01
        coo = conf.tocoo()
        self.u = torch.as_tensor(coo.row.astype(np.int64), device=device)
        self.i = torch.as_tensor(coo.col.astype(np.int64), device=device)
        self.c = torch.as_tensor(coo.data.astype(np.float32), device=device)
        # continuing: the old rows start from the init model's; frozen ones are left out of the solves
        self.free_users = self.free_items = None
        if cont is not None:
            for table, (rows, values) in ((self.X, cont.user_start()), (self.Y, cont.item_start())):
                table[torch.as_tensor(rows, device=device)] = torch.as_tensor(values, device=device)
            fixed_u, fixed_i = cont.fixed_users(), cont.fixed_items()
            if fixed_u is not None:
                self.free_users = _free_cells(fixed_u, self.u, self.i, self.c)
            if fixed_i is not None:
                self.free_items = _free_cells(fixed_i, self.i, self.u, self.c)

    def step(self) -> None:
        reg, steps = self.params["reg"], self.params["cg_steps"]
        for X, Y, rows, cols, free in ((self.X, self.Y, self.u, self.i, self.free_users),
                                       (self.Y, self.X, self.i, self.u, self.free_items)):
            if free is None:
                _cg_solve(X, Y, rows, cols, self.c, reg, steps)
            elif free[0].numel():  # only the free rows, against every row of Y
                at, r, q, cc = free
                part = X.index_select(0, at)
                _cg_solve(part, Y, r, q, cc, reg, steps)
                X.index_copy_(0, at, part)

    def loss(self) -> float:
        X, Y, reg = self.X, self.Y, self.params["reg"]
        total = float(((X.T @ X) * (Y.T @ Y)).sum())  # sum over every cell of (x . y)^2
        for s in range(0, self.u.shape[0], _CHUNK):
            u, i, c = self.u[s:s + _CHUNK], self.i[s:s + _CHUNK], self.c[s:s + _CHUNK]
            pred = (X[u] * Y[i]).sum(1)
            total += float((c * (1.0 - pred) ** 2 - pred ** 2).sum())
        return (total + reg * float((X * X).sum() + (Y * Y).sum())) / self.total_conf

    def factors(self):
        return self.X.cpu().numpy(), self.Y.cpu().numpy()

    def state(self) -> dict:
        return {"users": self.X.cpu().numpy().copy(), "items": self.Y.cpu().numpy().copy()}

    def set_state(self, state: dict) -> None:
        import torch

        self.X.copy_(torch.as_tensor(state["users"]))
        self.Y.copy_(torch.as_tensor(state["items"]))


def _free_cells(fixed: np.ndarray, rows, cols, c):
    """``(free rows, cells' rows among them, cells' cols, confidences)``: the cells of the rows not
    ``fixed`` (bool, one per row), their rows renumbered ``0..n_free-1``, for a solve of those rows alone."""
    import torch

    free = torch.as_tensor(~fixed, device=rows.device)
    renumber = torch.cumsum(free.to(torch.int64), 0) - 1
    keep = free[rows]
    return torch.nonzero(free).ravel(), renumber[rows[keep]], cols[keep], c[keep]


def _cg_solve(X, Y, rows, cols, c, reg: float, steps: int) -> None:
    """A few CG steps on ``(Y^T C_r Y + reg I) x_r = Y^T C_r p_r`` for every row ``r`` of ``X`` at
    once (in place, warm start). ``rows``/``cols``/``c``: the stored cells (row of X, row of Y,
    confidence)."""
    import torch

    dim = X.shape[1]
    YtY = Y.T @ Y + reg * torch.eye(dim, device=X.device, dtype=X.dtype)
    n = rows.shape[0]
    # the gathered item vectors do not change during the solve: keep them when they fit
    cache = n * dim <= _CACHE_FLOATS
    chunks = [(rows[s:s + _CHUNK], cols[s:s + _CHUNK], c[s:s + _CHUNK]) for s in range(0, n, _CHUNK)]
    gathered = [Y[q] for _, q, _ in chunks] if cache else None

    def cells():
        for k, (r, q, cc) in enumerate(chunks):
            yield r, cc, (gathered[k] if cache else Y[q])

    def A(P):
        out = P @ YtY
        for r, cc, Yq in cells():  # + sum over the row's cells of (c - 1) (y . p) y
            out.index_add_(0, r, ((cc - 1.0) * (Yq * P[r]).sum(1))[:, None] * Yq)
        return out

    b = torch.zeros_like(X)
    for r, cc, Yq in cells():  # Y^T C_r p_r: preference 1 on the stored cells
        b.index_add_(0, r, cc[:, None] * Yq)
    r = b - A(X)
    p = r.clone()
    rsold = (r * r).sum(1)
    for _ in range(steps):
        active = rsold > 1e-20
        if not bool(active.any()):
            break
        Ap = A(p)
        pAp = (p * Ap).sum(1)
        alpha = torch.where(active & (pAp > 0), rsold / torch.where(pAp > 0, pAp, torch.ones_like(pAp)),
                            torch.zeros_like(pAp))
        X.add_(alpha[:, None] * p)
        r.sub_(alpha[:, None] * Ap)
        rsnew = (r * r).sum(1)
        beta = torch.where(active, rsnew / torch.where(rsold > 0, rsold, torch.ones_like(rsold)),
                           torch.zeros_like(rsold))
        p = r + beta[:, None] * p
        rsold = rsnew
