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
"""
from __future__ import annotations

import logging
import time

import numpy as np

from .._device import cpu_threads, resolve_device, torch_generator
from .._progress import progress
from .._validation import Param
from ..api import Method, register
from ._common import (BACKENDS, as_float32, device_param, interactions_of, make_model, pick_backend,
                      seed_param, show_progress, single_threaded_blas, verbose_param, workers_param)

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
    )
    quick_params = {"dim": 8, "epochs": 3, "workers": 1, "verbose": False}

    def _fit(self, data, **params):
        dev = resolve_device(params["device"], method=self.name)
        backend = pick_backend(self.name, params["backend"], dev)
        inter = interactions_of(data, self.name)
        conf = inter.matrix
        conf.data = (1.0 + params["confidence"] * conf.data).astype(np.float32)
        t0 = time.perf_counter()
        if backend == "implicit":
            X, Y = _fit_implicit(conf, params)
        else:
            with cpu_threads(params["workers"], dev):
                X, Y = als_torch(conf, params["dim"], params["reg"], params["epochs"], params["cg_steps"],
                                 params["seed"], dev, params["verbose"])
        train_s = time.perf_counter() - t0
        logger.info("als (%s, %s): %d sweeps in %.2fs", backend, dev, params["epochs"], train_s)
        meta = {"backend": backend, "device": dev, "train_time_s": round(train_s, 4),
                "interactions": repr(inter)}
        return make_model(inter, X, Y, meta)


def _fit_implicit(conf, params):
    from implicit.cpu.als import AlternatingLeastSquares

    with single_threaded_blas():  # implicit checks the BLAS threads when it is built
        model = AlternatingLeastSquares(factors=params["dim"], regularization=params["reg"], alpha=1.0,
                                        iterations=params["epochs"], use_cg=True, use_native=True,
                                        num_threads=params["workers"], random_state=params["seed"])
        model.cg_steps = params["cg_steps"]
        model.fit(conf, show_progress=show_progress(params["verbose"]))
    return as_float32(model.user_factors), as_float32(model.item_factors)


def als_torch(conf, dim: int, reg: float, iterations: int, cg_steps: int, seed: int, device: str = "cpu",
              verbose: bool = False):
    """ALS by batched conjugate gradient in torch.

    ``conf``: scipy CSR ``(U, I)`` of confidences ``c_ui`` (> 0) on the interacted cells.
    Returns float32 numpy ``(U, dim)`` user and ``(I, dim)`` item vectors. Starts, as implicit
    does, from uniform ``[0, 0.01)`` vectors.
    """
    import torch

    gen = torch_generator(seed, device)
    n_users, n_items = conf.shape
    X = torch.rand(n_users, dim, generator=gen, device=device) * 0.01
    Y = torch.rand(n_items, dim, generator=gen, device=device) * 0.01
    coo = conf.tocoo()
    u = torch.as_tensor(coo.row.astype(np.int64), device=device)
    i = torch.as_tensor(coo.col.astype(np.int64), device=device)
    c = torch.as_tensor(coo.data.astype(np.float32), device=device)
    with progress(iterations, "als", verbose, unit="iter") as bar:
        for _ in range(iterations):
            _cg_solve(X, Y, u, i, c, reg, cg_steps)
            _cg_solve(Y, X, i, u, c, reg, cg_steps)
            bar.update(1)
    return X.cpu().numpy(), Y.cpu().numpy()


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
