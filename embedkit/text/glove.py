"""GloVe: global vectors from weighted least squares on log co-occurrence counts.

Pennington, Socher & Manning, "GloVe: Global Vectors for Word Representation", EMNLP 2014.
Co-occurrences within ``window`` words, each pair at distance ``d`` counting ``1 / d`` (the
shared engine :func:`embedkit.engines.cooccurrence.cooccurrence`, ``weighting="harmonic"``,
as GloVe's ``cooccur``; symmetric). Then, over every nonzero ``X_ij``, minimise

    sum f(X_ij) (w_i . c_j + b_i + b'_j - log X_ij)^2,   f(x) = min(1, (x / x_max)^weight_exponent)

with AdaGrad (learning rate ``learning_rate``, the paper's eta; squared-gradient sums starting at 1, as
Stanford's ``glove.c``; as there, the numba backend steps the biases by ``g / sqrt(G)`` without the
learning rate, the vectors by ``learning_rate g / sqrt(G)``), entries visited in a random order each epoch. Output: ``w + c`` (``glove.c``'s
``-model 2``), words most frequent first.

Backends (``backend=``): ``numba`` (the CPU default: Hogwild over ``workers`` threads, each on
its share of the shuffled entries, as ``glove.c``'s threads) and ``torch`` (any device, the
GPU default: minibatches of ``batch_size`` entries, repeated rows' gradients summed).
"""
from __future__ import annotations

import logging
import os
import time

import numpy as np
from .._jit import njit, prange

from .._device import resolve_device
from .._progress import progress
from .._validation import VERBOSE, Param, device_param, seed_param, workers_param
from ..api import Method, register
from ..embeddings import Embeddings
from ..engines._rng import next_u64, seed_state
from ..engines.cooccurrence import cooccurrence
from ._reading import READ_PARAMS, corpus_from

logger = logging.getLogger("embedkit")

GLOVE_PARAMS: tuple[Param, ...] = (
    Param("dim", int, 100, "vector size", low=1),
    Param("window", int, 10, "words on either side counted as context (each at distance d counts 1/d)", low=1),
    Param("x_max", float, 100.0, "co-occurrence count at which the weight f(x) reaches 1", low=0.0, low_open=True),
    Param("weight_exponent", float, 0.75, "exponent of the weight f(x) = (x / x_max)^weight_exponent below "
          "x_max (the paper's alpha)", low=0.0),
    Param("learning_rate", float, 0.05, "AdaGrad's initial learning rate (the paper's eta)", low=0.0, low_open=True),
    Param("epochs", int, 15, "passes over the nonzero co-occurrences", low=1),
    Param("min_count", int, None, "ignore words rarer than this (default: the corpus's own, 5 for a path)",
          low=1, nullable=True),
    Param("max_vocab", int, None, "keep at most this many most frequent words", low=1, nullable=True),
    Param("add_context", bool, True, "output w + c (GloVe's default); false: the word vectors w only"),
    Param("batch_size", int, 65536, "torch backend: co-occurrences per minibatch", low=1),
    workers_param("CPU threads of the numba backend (0 = all cores)"),
    seed_param("random seed (initial vectors and the order of the entries; numba: repeatable with workers=1)"),
    device_param(),
    Param("backend", str, "auto", "engine: auto (torch on a GPU, numba on the CPU), numba, torch",
          choices=("auto", "numba", "torch")),
    *READ_PARAMS,
    VERBOSE,
)


@njit(cache=True, parallel=True, fastmath=True)
def _glove_epoch(rows, cols, logx, fx, order, bounds, W, C, bw, bc, gW, gC, gbw, gbc, eta):
    """One AdaGrad pass over the entries ``order[bounds[t]:bounds[t + 1]]`` in thread ``t``
    (Hogwild). Returns the loss ``sum 0.5 f(x) (w.c + b + b' - log x)^2`` over the pass."""
    n_parts = bounds.shape[0] - 1
    dim = W.shape[1]
    losses = np.zeros(n_parts, dtype=np.float64)
    for t in prange(n_parts):
        loss = 0.0
        for p in range(bounds[t], bounds[t + 1]):
            e = order[p]
            i = rows[e]
            j = cols[e]
            w = W[i]
            c = C[j]
            diff = bw[i] + bc[j] - logx[e]
            for k in range(dim):
                diff += w[k] * c[k]
            fdiff = fx[e] * diff
            if not np.isfinite(fdiff):
                continue
            loss += 0.5 * fdiff * diff
            gb = fdiff  # the biases step without eta, as glove.c's do
            fdiff *= eta
            gw = gW[i]
            gc = gC[j]
            for k in range(dim):
                t1 = fdiff * c[k]
                t2 = fdiff * w[k]
                w[k] -= t1 / np.sqrt(gw[k])
                c[k] -= t2 / np.sqrt(gc[k])
                gw[k] += t1 * t1
                gc[k] += t2 * t2
            bw[i] -= gb / np.sqrt(gbw[i])
            bc[j] -= gb / np.sqrt(gbc[j])
            gbw[i] += gb * gb
            gbc[j] += gb * gb
        losses[t] = loss
    return losses.sum()


@njit(cache=True)
def _shuffle(order, seed, epoch):
    """Fisher-Yates shuffle of ``order`` in place, repeatable for (seed, epoch)."""
    state = seed_state(seed, epoch)
    for i in range(order.shape[0] - 1, 0, -1):
        state, r = next_u64(state)
        j = np.int64(((r >> np.uint64(32)) * np.uint64(i + 1)) >> np.uint64(32))
        tmp = order[i]
        order[i] = order[j]
        order[j] = tmp


def _init(V: int, dim: int, seed: int):
    """glove.c's initialisation: uniform in [-0.5, 0.5] / dim for vectors and biases."""
    rng = np.random.default_rng(seed)
    W = ((rng.random((V, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    C = ((rng.random((V, dim), dtype=np.float32) - 0.5) / dim).astype(np.float32)
    bw = ((rng.random(V, dtype=np.float32) - 0.5) / dim).astype(np.float32)
    bc = ((rng.random(V, dtype=np.float32) - 0.5) / dim).astype(np.float32)
    return W, C, bw, bc


def train_glove(X, dim: int = 100, *, x_max: float = 100.0, weight_exponent: float = 0.75,
                learning_rate: float = 0.05,
                epochs: int = 15, seed: int = 0, workers: int = 1, backend: str = "numba", device: str = "cpu",
                batch_size: int = 65536, verbose: bool | None = None):
    """GloVe on a co-occurrence matrix ``X`` (scipy sparse ``(V, V)``).

    Returns ``(W, C, history)``: word and context vectors, float32 ``(V, dim)`` each, and one
    ``{"epoch", "loss"}`` row per epoch (the weighted squared error summed over the entries,
    halved, as ``glove.c`` reports it, divided by the number of entries).
    """
    X = X.tocoo()
    keep = X.data > 0
    rows = X.row[keep].astype(np.int32)
    cols = X.col[keep].astype(np.int32)
    x = X.data[keep].astype(np.float64)
    logx = np.log(x).astype(np.float32)
    fx = np.minimum(1.0, (x / x_max) ** weight_exponent).astype(np.float32)
    V = X.shape[0]
    W, C, bw, bc = _init(V, dim, seed)
    n = rows.size
    history = []
    if backend == "torch":
        return _train_torch(rows, cols, logx, fx, W, C, bw, bc, learning_rate, epochs, seed, device, batch_size, verbose)
    import numba

    gW = np.ones_like(W)
    gC = np.ones_like(C)
    gbw = np.ones_like(bw)
    gbc = np.ones_like(bc)
    order = np.arange(n, dtype=np.int64)
    workers = max(1, min(int(workers), numba.config.NUMBA_NUM_THREADS))
    bounds = np.linspace(0, n, workers + 1).astype(np.int64)
    prev = numba.get_num_threads()
    numba.set_num_threads(workers)
    try:
        with progress(total=epochs, desc="glove", verbose=verbose, unit="epoch") as bar:
            for epoch in range(epochs):
                _shuffle(order, seed, epoch)
                loss = _glove_epoch(rows, cols, logx, fx, order, bounds, W, C, bw, bc, gW, gC, gbw, gbc,
                                    np.float32(learning_rate))
                history.append({"epoch": epoch + 1, "loss": float(loss / max(n, 1))})
                logger.debug("glove: epoch %d loss %.5f", epoch + 1, history[-1]["loss"])
                bar.update(1)
    finally:
        numba.set_num_threads(prev)
    return W, C, history


#: the torch backend takes at least this many minibatches an epoch (smaller batches on few
#: co-occurrences: one batch an epoch left the planted test corpus untrained), of at least
#: ``MIN_BATCH`` entries
MIN_STEPS = 64
MIN_BATCH = 256


def _train_torch(rows, cols, logx, fx, W, C, bw, bc, eta, epochs, seed, device, batch_size, verbose):
    """Minibatch AdaGrad: each batch's gradients are computed from the same vectors and summed
    per row (``index_add_``); each row's squared gradients (entry by entry, times ``eta``) join
    its sum ``G`` (starting at 1), then the row steps by ``eta * g / sqrt(G)``. Adding first
    bounds a frequent row's summed step (``glove.c`` adds after the step, one entry at a time;
    on a minibatch that order diverged). Unlike ``glove.c`` (and the numba backend) the biases
    also step with ``eta``. ``batch_size`` is capped so that an epoch takes at least
    :data:`MIN_STEPS` batches."""
    import torch

    dev = torch.device(device)
    gen = torch.Generator(device="cpu")
    gen.manual_seed(seed)
    t = {k: torch.as_tensor(v, device=dev) for k, v in
         dict(W=W, C=C, bw=bw, bc=bc).items()}
    g = {k: torch.ones_like(v) for k, v in t.items()}
    r_all = torch.as_tensor(rows, device=dev).long()
    c_all = torch.as_tensor(cols, device=dev).long()
    lx_all = torch.as_tensor(logx, device=dev)
    f_all = torch.as_tensor(fx, device=dev)
    n = r_all.shape[0]
    batch_size = min(int(batch_size), max(MIN_BATCH, -(-n // MIN_STEPS)))
    history = []
    with torch.no_grad(), progress(total=epochs, desc="glove (torch)", verbose=verbose, unit="epoch") as bar:
        for epoch in range(epochs):
            perm = torch.randperm(n, generator=gen).to(dev)
            total = torch.zeros((), dtype=torch.float64, device=dev)
            for s in range(0, n, batch_size):
                b = perm[s:s + batch_size]
                i, j = r_all[b], c_all[b]
                w, c = t["W"][i], t["C"][j]
                diff = (w * c).sum(1) + t["bw"][i] + t["bc"][j] - lx_all[b]
                fd = f_all[b] * diff
                total += (0.5 * fd * diff).sum(dtype=torch.float64)
                # the biases keep eta here: a minibatch sums a row's gradients (glove.c steps its biases at
                # rate 1, one entry at a time)
                fd = fd.mul_(eta)
                for name, idx, grad in (("W", i, fd[:, None] * c), ("C", j, fd[:, None] * w), ("bw", i, fd),
                                        ("bc", j, fd)):
                    rows_u, inv = torch.unique(idx, return_inverse=True)
                    shape = (rows_u.shape[0],) + tuple(grad.shape[1:])
                    step = grad.new_zeros(shape).index_add_(0, inv, grad)
                    # the batch's squared steps join G first: a row's summed step is then at most
                    # sqrt(its entries in the batch) a coordinate (glove.c's order, G before the step,
                    # let a frequent row's summed step grow without bound and diverge)
                    g[name].index_add_(0, rows_u, grad.new_zeros(shape).index_add_(0, inv, grad * grad))
                    t[name].index_add_(0, rows_u, -step / g[name][rows_u].sqrt())
            history.append({"epoch": epoch + 1, "loss": float(total) / max(n, 1)})
            bar.update(1)
    return t["W"].cpu().numpy(), t["C"].cpu().numpy(), history


@register
class GloVe(Method):
    """GloVe (Pennington, Socher & Manning 2014): weighted least squares on the log of
    window co-occurrence counts (each pair at distance ``d`` counting ``1/d``), AdaGrad;
    vectors ``w + c``. ``fit(text) -> Embeddings`` keyed by the vocabulary, most frequent first,
    ``(V, dim)`` float32. ``meta["history"]``: the loss of every epoch.

    Defaults: dim=100, window=10, x_max=100, weight_exponent=0.75, learning_rate=0.05, epochs=15 (``glove.c``'s
    demo), min_count 5.

    >>> import embedkit as ek
    >>> emb = ek.train("glove", [["the", "cat", "sat"], ["the", "dog", "sat"]] * 5, dim=4, min_count=1,
    ...                workers=1, verbose=False)
    >>> emb.vectors.shape, emb.meta["history"][-1]["loss"] < emb.meta["history"][0]["loss"]
    ((4, 4), True)
    """

    name = "glove"
    family = "text"
    summary = "GloVe: weighted least squares on log co-occurrences, AdaGrad (Pennington et al. 2014)"
    input_kind = "text"
    params = GLOVE_PARAMS
    quick_params = {"dim": 8, "epochs": 3, "min_count": 1, "workers": 1, "verbose": False}

    def _fit(self, data, **params):
        corpus = corpus_from(data, params)
        dev = resolve_device(params["device"], method=self.name)
        backend = params["backend"]
        if backend == "auto":
            backend = "torch" if dev.startswith("cuda") else "numba"
        workers = params["workers"] or os.cpu_count() or 1
        t0 = time.perf_counter()
        enc = corpus.encode(params["min_count"], params["max_vocab"])
        t1 = time.perf_counter()
        X = cooccurrence(enc.tokens, enc.offsets, len(enc.words), params["window"], weighting="harmonic",
                         verbose=params["verbose"], dtype=np.float64)
        t2 = time.perf_counter()
        W, C, history = train_glove(X, params["dim"], x_max=params["x_max"],
                                    weight_exponent=params["weight_exponent"],
                                    learning_rate=params["learning_rate"], epochs=params["epochs"], seed=params["seed"],
                                    workers=workers, backend=backend, device=dev,
                                    batch_size=params["batch_size"], verbose=params["verbose"])
        t3 = time.perf_counter()
        vectors = W + C if params["add_context"] else W
        logger.info("glove: %d words, %d co-occurrences, counted in %.2fs, trained %d epochs in %.2fs (loss %.4f)",
                    len(enc.words), X.nnz, t2 - t1, params["epochs"], t3 - t2, history[-1]["loss"])
        meta = {"vocab_size": len(enc.words), "num_tokens": enc.num_tokens, "corpus": repr(corpus),
                "cooccurrence_nnz": int(X.nnz), "read_time_s": round(t1 - t0, 4),
                "cooccurrence_time_s": round(t2 - t1, 4), "train_time_s": round(t3 - t2, 4),
                "backend": backend, "device": dev, "history": history}
        return Embeddings(enc.words, vectors, meta)


__all__ = ["GloVe", "train_glove", "GLOVE_PARAMS"]
