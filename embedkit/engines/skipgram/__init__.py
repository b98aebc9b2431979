"""The skip-gram / CBOW engine with negative sampling, written once.

Mikolov et al., "Distributed Representations of Words and Phrases and their
Compositionality" (NIPS 2013). It serves words, BPE pieces and random walks:
its input is always integer sequences — a flat int32 token array and int64
offsets, shape ``(num_sequences + 1,)`` — never lists of Python strings.

Backends (``backend=``):

* ``"numba"`` — the CPU engine: a compiled Hogwild kernel in the manner of
  ``word2vec.c`` (SGD, dynamic window, ``sample`` subsampling,
  unigram^``ns_exponent`` noise table, linear learning-rate decay, gensim's
  initialisation and its rule of skipping saturated pairs), parallel over
  chunks of sequences. Deterministic for a seed when ``workers=1``. For
  skip-gram, ``shared_negatives=True`` (default) draws the noise words once per
  center window and applies the output-row updates once per window (pWord2Vec,
  Ji et al. 2016): about 2.5x faster than per-pair draws on the CPU. CBOW draws its
  noise words from Walker's alias table of the same distribution (``alias_table``: it
  stays in cache) and scores all of a center's output rows before updating them: about
  3x the former kernel's words/s, 2.4x gensim's (docs/benchmarks.md).
* ``units=`` (numba and torch, skip-gram): fastText's model (Bojanowski et al. 2017) for the
  ``subword`` method: a center word's input vector is the mean of its own row and its
  subword units' rows, and its gradient goes to every row. On numba it predicts each context
  word in turn (noise words per pair, or shared by every 2 context words) as fastText's
  per-pair updates do: the vector moves by each pair's gradient and the rows get the window's
  sum at its end. On torch the window rows' input vectors are composed once a minibatch
  (``embedding_bag``) and each row's summed gradient is sent to all of its units. Ids from
  ``n_out`` on (``units``' fourth entry) are centers only: the subword method's rare words.
* ``"torch"`` — batched on any torch device (the GPU engine), skip-gram and
  CBOW (cbow_mean=1). A minibatch is a run of consecutive subsampled centers
  with their dynamic windows; each center's window is a strided view of the
  run's vectors, so the pairs' scores and gradients are small batched matrix
  products, with no per-pair gather. Noise words are shared (the idea of
  pWord2Vec, Ji et al. 2016): CBOW, ``negative`` per group of
  ``centers_per_noise_draw`` centers; skip-gram, about ``negative * (window + 1)`` per
  group of as many context rows, each weighted to stand for word2vec's per-pair
  draws. Repeated rows' summed updates are capped at ``dup_cap`` updates'
  worth. Deterministic for a seed on the CPU, where it runs on one thread.
* ``"gensim"`` — gensim's Word2Vec, fed the same sequences.
* ``"auto"`` — ``torch`` on a CUDA device or under ``torchrun``, ``numba`` on the
  CPU (measured the faster there: see docs/benchmarks.md).

Under ``torchrun`` only the torch backend runs; each process trains on its block of
the sequences and the processes' changed rows are combined every ``sync_every``
minibatches (:mod:`embedkit.distributed`, docs/distributed.md).

Training runs on the shared loop (:mod:`embedkit.training`): a backend gives a
:class:`~embedkit.engines.skipgram._common.SGNSTraining` (one epoch = one pass over the
sequences), and :func:`run_sgns` runs it for every method of the family (skipgram, cbow,
subword, deepwalk, node2vec), so history, callbacks, validation with early stopping and
checkpoints are theirs without a loop of their own. The history's ``loss`` is word2vec's
negative-sampling objective of a (context, center) pair, ``-log sigma(u . v_center) -
sum_noise log sigma(-u . v_noise)``, averaged over a sample of the epoch's pairs (the pairs
of every 64th center word on numba, of every 4th minibatch on torch; gensim: gensim's own
running loss per trained word), computed from the scores the updates use.

Layout: this module is the public entry (:func:`train_sgns`, :func:`sgns_training`,
:func:`run_sgns`) and dispatches through a small registry of backends
(:func:`register_backend`); each backend lives in its own module (``_numba.py``,
``_torch.py``, ``_gensim.py``), imported when it first trains, and shares ``_common.py``
(settings, noise tables, subsampling, initial vectors, the trainable's base).
"""
from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass

import numpy as np

from ...exceptions import InvalidParameterError, ShapeError
from ._common import SGNSConfig, SGNSStart, SGNSTraining, _init_vectors, alias_table, keep_probabilities, noise_table
from ._regions import interleave_regions

__all__ = ["BACKENDS", "SGNSConfig", "SGNSStart", "SGNSTraining", "alias_table", "keep_probabilities", "noise_table",
           "register_backend", "run_sgns", "sgns_training", "train_sgns"]

logger = logging.getLogger("embedkit")


@dataclass(frozen=True)
class Backend:
    """A backend of the engine: ``module`` (``"package.module"``, or relative to this package
    when it starts with a dot) defines ``training(tokens, offsets, counts, cfg, *, device,
    sharded, units, unit) -> SGNSTraining`` and is imported when the backend first trains.
    ``distributed``: it trains across processes under ``torchrun``; ``units``: it takes
    fastText's subword units, handed on checked as ``(ptr int64, idx int32, n_rows, n_out)``
    (None without them)."""

    name: str
    module: str
    distributed: bool = False
    units: bool = False

    def trainer(self):
        return importlib.import_module(self.module, __name__).training


_BACKENDS: dict[str, Backend] = {}
#: the names ``backend=`` accepts: "auto" and the registered backends
BACKENDS: tuple[str, ...] = ("auto",)


def register_backend(name: str, module: str, *, distributed: bool = False, units: bool = False) -> None:
    """Add (or replace) the backend ``name`` (see :class:`Backend`)."""
    global BACKENDS
    _BACKENDS[name] = Backend(name, module, distributed, units)
    BACKENDS = ("auto", *_BACKENDS)


register_backend("numba", "._numba", units=True)
register_backend("torch", "._torch", distributed=True, units=True)
register_backend("gensim", "._gensim")


def _choices(flag: str) -> str:
    return " or ".join(repr(b.name) for b in _BACKENDS.values() if getattr(b, flag))


def train_sgns(tokens: np.ndarray, offsets: np.ndarray, counts: np.ndarray, cfg: SGNSConfig, *,
               backend: str = "auto", device="cpu", verbose: bool | None = None,
               sharded: bool = False, units: tuple | None = None) -> np.ndarray:
    """Train and return the input vectors, float32 ``(len(counts), cfg.dim)``: the
    :func:`sgns_training` of these arguments, run on the shared loop for ``cfg.epochs`` epochs
    without checkpoints or validation (the methods use :func:`run_sgns` for those).

    ``units``: ``(ptr, idx, n_rows)`` or ``(ptr, idx, n_rows, n_out)`` for fastText's model
    (Bojanowski et al. 2017; numba and torch backends, skip-gram): word ``w``'s input vector is the mean of
    the rows ``idx[ptr[w]:ptr[w + 1]]`` of an input table of ``n_rows`` rows (its own row and its
    subword units'), and the whole table ``(n_rows, cfg.dim)`` is returned; int64 ``ptr``
    ``(len(counts) + 1,)``, int32 ``idx`` in ``[0, n_rows)``. Only the ids below ``n_out``
    (default ``len(counts)``) are predicted and drawn as noise words (output rows
    ``(n_out, dim)``); the ids from ``n_out`` on are centers only (the subword method's rare
    words, whose units learn from their contexts).

    ``tokens``: int32 ``(N,)`` ids in ``[0, len(counts))``; ``offsets``: int64
    ``(S + 1,)`` sequence boundaries; ``counts``: token frequencies ``(V,)``
    (noise distribution and subsampling). Tokens that never occur keep their
    small random initial vectors. Under ``torchrun`` each process trains on its
    block of the sequences, or on all of ``tokens`` when ``sharded`` (they already
    are this process's share; ``counts`` should then be the global ones).
    """
    from ...training import Options, run

    training = sgns_training(tokens, offsets, counts, cfg, backend=backend, device=device, sharded=sharded,
                             units=units)
    run(training, "skip-gram" if cfg.sg else "cbow", Options(epochs=cfg.epochs, verbose=verbose))
    return np.ascontiguousarray(training.vectors())


def sgns_training(tokens: np.ndarray, offsets: np.ndarray, counts: np.ndarray, cfg: SGNSConfig, *,
                  backend: str = "auto", device="cpu", sharded: bool = False, units: tuple | None = None,
                  unit: str = "words", start: SGNSStart | None = None) -> SGNSTraining:
    """The backend's training state for these sequences (arguments as :func:`train_sgns`;
    ``unit``: what the history's throughput counts, e.g. "words" or "tokens"), to run with
    :func:`run_sgns`. ``start``: the initial (and frozen) rows of a continued training
    (:func:`~embedkit.engines.skipgram._continue.continue_from`; numba and torch backends)."""
    tokens = np.ascontiguousarray(tokens, dtype=np.int32)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    tokens, offsets = interleave_regions(tokens, offsets, cfg.regions)
    counts = np.asarray(counts, dtype=np.float64)
    dev = str(device)
    from ...distributed import launched

    auto = backend == "auto"
    if auto:
        backend = "torch" if dev.startswith("cuda") or launched() else "numba"
    spec = _BACKENDS.get(backend)
    if not auto and (spec is None or not spec.distributed) and launched():
        raise InvalidParameterError("skip-gram engine", "backend", f"{_choices('distributed')} or 'auto' under "
                                    "torchrun", backend, hint="only the torch backend trains across processes")
    if units is not None:
        if spec is None or not spec.units or not cfg.sg:
            raise InvalidParameterError("skip-gram engine", "backend", f"{_choices('units')} (or 'auto') with "
                                        "skip-gram for subword units", backend if cfg.sg else "cbow")
        ptr, idx, n_rows, *rest = units
        n_out = int(rest[0]) if rest else len(counts)
        ptr = np.ascontiguousarray(ptr, dtype=np.int64)
        idx = np.ascontiguousarray(idx, dtype=np.int32)
        if ptr.shape != (len(counts) + 1,) or (idx.size and (idx.min() < 0 or idx.max() >= n_rows)):
            raise ShapeError("units: ptr must have len(counts) + 1 entries and idx rows in [0, n_rows)")
        if not 0 < n_out <= len(counts):
            raise ShapeError(f"units: n_out must be in [1, len(counts) = {len(counts)}], got {n_out}")
        units = (ptr, idx, int(n_rows), n_out)
    logger.info("skip-gram engine: backend=%s device=%s tokens=%d vocab=%d", backend, dev, tokens.size, len(counts))
    if spec is None:
        raise InvalidParameterError("skip-gram engine", "backend", "one of " + ", ".join(map(repr, BACKENDS)), backend)
    if start is not None:
        rows = units[2] if units is not None else len(counts)
        n_out = units[3] if units is not None else len(counts)
        if start.syn0.shape != (rows, cfg.dim) or (start.syn1 is not None and start.syn1.shape != (n_out, cfg.dim)):
            raise ShapeError(f"start: syn0 must be ({rows}, {cfg.dim}) and syn1 ({n_out}, {cfg.dim})")
    kw = {} if start is None else {"start": start}
    training = spec.trainer()(tokens, offsets, counts, cfg, device=dev, sharded=sharded, units=units, unit=unit, **kw)
    training.backend = backend
    return training


def run_sgns(training: SGNSTraining, name: str, params: dict, *, data_digest, validate=None):
    """Run ``training`` on the shared loop for the method ``name`` with its validated ``params``
    (``epochs``, and the loop's rows: ``callbacks``, ``checkpoint``, ``checkpoint_every``,
    ``patience``); ``validate(vectors) -> dict`` (first metric primary, higher better) scores the
    current input vectors after every epoch. ``data_digest()``: what identifies the data in a
    checkpoint (called only when one is asked for). Returns the loop's :class:`~embedkit.training.Run`; ``training`` ends in the final
    (or best) state."""
    from ...distributed import launched
    from ...training import Options, run

    if params.get("checkpoint") and launched():
        raise InvalidParameterError(name, "checkpoint", "None under torchrun (checkpoints are written by "
                                    "single-process runs)", params["checkpoint"])
    check = None if validate is None else (lambda: validate(training.vectors()))
    opts = Options.from_params(name, params, epochs=params["epochs"], validate=check, data_digest=data_digest)
    return run(training, name, opts)
