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
* ``units=`` (numba, skip-gram): fastText's model (Bojanowski et al. 2017) for the
  ``subword`` method: a center word's input vector is the mean of its own row and its
  subword units' rows, composed once per window; it predicts each context word and its
  gradient goes to every row.
* ``"torch"`` — batched on any torch device (the GPU engine), skip-gram and
  CBOW (cbow_mean=1). A minibatch is a run of consecutive subsampled centers
  with their dynamic windows; each center's window is a strided view of the
  run's vectors, so the pairs' scores and gradients are small batched matrix
  products, with no per-pair gather. Noise words are shared (the idea of
  pWord2Vec, Ji et al. 2016): CBOW, ``negatives`` per group of
  ``centers_per_noise_draw`` centers; skip-gram, about ``negatives * (window + 1)`` per
  group of as many context rows, each weighted to stand for word2vec's per-pair
  draws. Repeated rows' summed updates are capped at ``dup_cap`` updates'
  worth. Deterministic for a seed on the CPU, where it runs on one thread.
* ``"gensim"`` — gensim's Word2Vec, fed the same sequences.
* ``"auto"`` — ``torch`` on a CUDA device or under ``torchrun``, ``numba`` on the
  CPU (measured the faster there: see docs/benchmarks.md).

Under ``torchrun`` only the torch backend runs; each process trains on its block of
the sequences and the processes' changed rows are combined every ``sync_every``
minibatches (:mod:`embedkit.distributed`, docs/distributed.md).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from .._jit import njit, prange

from .._progress import progress
from ._rng import next_float, next_u64, seed_state

logger = logging.getLogger("embedkit")

BACKENDS = ("auto", "numba", "torch", "gensim")


@dataclass
class SGNSConfig:
    """Hyper-parameters of the engine; the public concepts carry the methods' names (``negatives``,
    ``learning_rate``, ``shared_negatives``: docs/parameters.md)."""

    dim: int = 128
    window: int = 5
    negatives: int = 5
    sample: float = 1e-3
    epochs: int = 1
    learning_rate: float = 0.025
    min_learning_rate: float = 0.0001
    ns_exponent: float = 0.75
    sg: bool = True
    seed: int = 0
    workers: int = 2
    batch_size: int = 8192
    #: torch CBOW: centers that share one draw of noise words
    centers_per_noise_draw: int = 8
    dup_cap: int = 32
    #: numba skip-gram: draw the noise words once per center window instead of once per pair
    shared_negatives: bool = True
    #: with shared_negatives: apply the output rows' updates once at the end of the window
    #: (pWord2Vec) rather than pair by pair (word2vec.c). Deferred is better on text (Gutenberg
    #: 20 MB: analogy 0.144-0.148 against 0.131-0.134, WS353 0.36 against 0.33); pair by pair on
    #: walks (Facebook link prediction: dot-product AUC 0.960 against 0.946), so walk methods
    #: turn it off. docs/benchmarks.md
    defer_output: bool = True
    #: torch backend under torchrun: minibatches between two exchanges of the processes' changed
    #: rows, and how they combine: "sum" (lock-free Hogwild across processes; text: analogy
    #: accuracy 0.052 in 2 processes vs 0.050 in one, 1 epoch on 3.6M Gutenberg tokens) or "mean"
    #: (walks: on small graphs every node is in every minibatch and summed updates diverged,
    #: karate faction accuracy 0.71 vs 0.95; text with the mean: 0.025)
    sync_every: int = 16
    sync_reduce: str = "sum"

    @classmethod
    def from_params(cls, params: dict, *, sg: bool = True, workers: int) -> "SGNSConfig":
        """The settings from a method's validated parameters (the same names; ``ns_exponent``
        defaults to 0.75)."""
        return cls(dim=params["dim"], window=params["window"], negatives=params["negatives"],
                   sample=params["sample"], epochs=params["epochs"], learning_rate=params["learning_rate"],
                   min_learning_rate=params["min_learning_rate"], ns_exponent=params.get("ns_exponent", 0.75),
                   sg=sg, seed=params["seed"], workers=workers, shared_negatives=params["shared_negatives"])


def noise_table(counts: np.ndarray, exponent: float, size: int | None = None) -> np.ndarray:
    """Unigram^exponent noise table (as in word2vec.c): int32 of ``size`` entries."""
    probs = np.asarray(counts, dtype=np.float64) ** exponent
    probs /= probs.sum()
    if size is None:
        size = int(min(max(100 * len(counts), 1_000_000), 20_000_000))
    cum = np.cumsum(probs)
    table = np.searchsorted(cum, (np.arange(size) + 0.5) / size, side="right")
    return np.minimum(table, len(counts) - 1).astype(np.int32)


def alias_table(counts: np.ndarray, exponent: float) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table of the unigram^exponent noise distribution (Vose's construction):
    ``(prob float32 (V,), alias int32 (V,))``; a draw takes a uniform index ``i`` and keeps it
    with probability ``prob[i]``, else takes ``alias[i]``. Exact, and 8 bytes a word: it stays in
    cache where word2vec's table (``noise_table``, up to 20M entries) does not."""
    p = np.asarray(counts, dtype=np.float64) ** exponent
    V = len(p)
    p = p * (V / p.sum())
    prob = np.ones(V, dtype=np.float64)
    alias = np.arange(V, dtype=np.int64)
    small = [i for i in range(V) if p[i] < 1.0]
    large = [i for i in range(V) if p[i] >= 1.0]
    while small and large:
        s_, l_ = small.pop(), large.pop()
        prob[s_] = p[s_]
        alias[s_] = l_
        p[l_] -= 1.0 - p[s_]
        (small if p[l_] < 1.0 else large).append(l_)
    return prob.astype(np.float32), alias.astype(np.int32)


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Probability of keeping each token under frequent-word subsampling (gensim's formula)."""
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones(len(counts), dtype=np.float32)
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    keep[counts == 0] = 1.0
    return np.minimum(keep, 1.0).astype(np.float32)


# ---------------------------------------------------------------------------- numba
EXP_TABLE_SIZE = 1000
MAX_EXP = 6.0
_x = (np.arange(EXP_TABLE_SIZE) / EXP_TABLE_SIZE * 2.0 - 1.0) * MAX_EXP
SIGMOID_TABLE = (1.0 / (1.0 + np.exp(-_x))).astype(np.float32)


@njit(cache=True, inline="always")
def _bounded(r, n):
    """A uniform integer in [0, n) from a random uint64 (multiply-high, no division)."""
    return np.int64(((r >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@njit(cache=True, inline="always", fastmath=True)
def _negative_sampling_step(h, center, syn1, table, negative, alpha, neu1e, state, sig):
    """One word2vec update: hidden vector ``h`` (dim,) predicts ``center`` against
    ``negative`` noise words. Output rows in ``syn1`` are updated in place; the
    gradient for ``h`` is added to ``neu1e``. Returns the random state."""
    dim = h.shape[0]
    n_table = table.shape[0]
    for d in range(negative + 1):
        if d == 0:
            target = center
            label = np.float32(1.0)
        else:
            state, r = next_u64(state)
            target = table[_bounded(r, n_table)]
            if target == center:
                continue
            label = np.float32(0.0)
        out = syn1[target]
        f = np.float32(0.0)
        for k in range(dim):
            f += h[k] * out[k]
        if f >= MAX_EXP or f <= -MAX_EXP:
            continue  # saturated: no update (gensim's rule)
        g = (label - sig[int((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2.0))]) * alpha
        for k in range(dim):
            neu1e[k] += g * out[k]
            out[k] += g * h[k]
    return state


@njit(cache=True, inline="always")
def _alias_draw(r, prob, alias):
    """A draw from Walker's alias table (``alias_table``) with a random uint64: the high 32 bits
    pick the index, the low 32 bits decide between it and its alias."""
    i = _bounded(r, prob.shape[0])
    u = np.float32(r & np.uint64(0xFFFFFFFF)) * np.float32(2.3283064365386963e-10)
    if u < prob[i]:
        return i
    return np.int64(alias[i])


@njit(cache=True, inline="always", fastmath=True)
def _cbow_step(buf, i, lo, hi, syn0, syn1, prob, alias, negative, alpha, state, sig, targets, scores, neu1,
               neu1e):
    """CBOW (word2vec's cbow_mean=1) for one center ``buf[i]``: the mean ``neu1`` of the context
    rows ``syn0[buf[lo:hi]]`` predicts the center against ``negative`` noise words, and its gradient
    is added, undivided, to every context row. The noise words are drawn first (from the alias
    table, which stays in cache) and all ``1 + negative`` scores computed before any output row
    is updated, so the rows' loads overlap instead of waiting on each other's updates."""
    dim = syn0.shape[1]
    cw = hi - lo - 1
    if cw <= 0:
        return state
    center = buf[i]
    n_t = 1
    targets[0] = center
    for d in range(negative):
        state, r = next_u64(state)
        t = _alias_draw(r, prob, alias)
        if t == center:
            continue
        targets[n_t] = t
        n_t += 1
    neu1[:] = 0.0
    for j in range(lo, hi):
        if j != i:
            row = syn0[buf[j]]
            for k in range(dim):
                neu1[k] += row[k]
    inv = np.float32(1.0 / cw)
    for k in range(dim):
        neu1[k] *= inv
    for t in range(n_t):
        out = syn1[targets[t]]
        f = np.float32(0.0)
        for k in range(dim):
            f += neu1[k] * out[k]
        scores[t] = f
    neu1e[:] = 0.0
    for t in range(n_t):
        f = scores[t]
        if f >= MAX_EXP or f <= -MAX_EXP:
            continue  # saturated: no update (gensim's rule)
        label = np.float32(1.0) if t == 0 else np.float32(0.0)
        g = (label - sig[int((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2.0))]) * alpha
        out = syn1[targets[t]]
        for k in range(dim):
            neu1e[k] += g * out[k]
            out[k] += g * neu1[k]
    for j in range(lo, hi):
        if j != i:
            row = syn0[buf[j]]
            for k in range(dim):
                row[k] += neu1e[k]
    return state


@njit(cache=True, inline="always", fastmath=True)
def _sg_window_step(buf, i, lo, hi, syn0, syn1, table, negative, alpha, state, sig, targets, labels, grad_out,
                    neu1e, defer_output):
    """Skip-gram for one center ``buf[i]`` and its window ``buf[lo:hi]``: every context
    word predicts the center against the same ``negative`` noise words, drawn once
    for the window (as in pWord2Vec, Ji et al. 2016), so the ``1 + negative`` output rows
    stay in cache. With ``defer_output`` the output rows' updates are gathered in
    ``grad_out`` and applied once at the end of the window (pWord2Vec); without, each pair
    updates them at once (word2vec.c)."""
    dim = syn0.shape[1]
    center = buf[i]
    n_table = table.shape[0]
    n_t = 1
    targets[0] = center
    labels[0] = 1.0
    for d in range(negative):
        state, r = next_u64(state)
        t = table[_bounded(r, n_table)]
        if t == center:
            continue
        targets[n_t] = t
        labels[n_t] = 0.0
        n_t += 1
    if defer_output:
        grad_out[:n_t] = 0.0
    for j in range(lo, hi):
        if j == i:
            continue
        inp = syn0[buf[j]]
        neu1e[:] = 0.0
        for t in range(n_t):
            out = syn1[targets[t]]
            f = np.float32(0.0)
            for k in range(dim):
                f += inp[k] * out[k]
            if f >= MAX_EXP or f <= -MAX_EXP:
                continue  # saturated: no update (gensim's rule)
            g = (labels[t] - sig[int((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2.0))]) * alpha
            if defer_output:
                go = grad_out[t]
                for k in range(dim):
                    neu1e[k] += g * out[k]
                    go[k] += g * inp[k]
            else:
                for k in range(dim):
                    neu1e[k] += g * out[k]
                    out[k] += g * inp[k]
        for k in range(dim):
            inp[k] += neu1e[k]
    if not defer_output:
        return state
    for t in range(n_t):
        out = syn1[targets[t]]
        go = grad_out[t]
        for k in range(dim):
            out[k] += go[k]
    return state

@njit(cache=True, inline="always", fastmath=True)
def _sg_units_step(buf, i, lo, hi, syn0, syn1, table, negative, alpha, state, sig, unit_ptr, unit_idx, h, neu1e,
                   shared):
    """fastText's skip-gram (Bojanowski et al. 2017) for one center ``buf[i]``: the center's input
    vector ``h`` is the mean of its rows ``syn0[unit_idx[unit_ptr[w]:unit_ptr[w + 1]]]`` (its own
    word row and its subword units), composed once; it predicts every context word ``buf[lo:hi]``
    (output rows updated pair by pair) against ``negative`` noise words: drawn for each pair, as
    fastText does, or with ``shared`` drawn once for the window (pWord2Vec's sharing, Ji et al.
    2016) and each weighted by the number of context words, as many as word2vec's per-pair draws.
    ``h``'s gradient is added to every one of its rows, as fastText does."""
    dim = syn0.shape[1]
    center = buf[i]
    r0 = unit_ptr[center]
    r1 = unit_ptr[center + 1]
    if r1 <= r0:
        return state
    h[:] = 0.0
    for p in range(r0, r1):
        row = syn0[unit_idx[p]]
        for k in range(dim):
            h[k] += row[k]
    inv = np.float32(1.0 / (r1 - r0))
    for k in range(dim):
        h[k] *= inv
    neu1e[:] = 0.0
    n_ctx = 0
    for j in range(lo, hi):
        if j == i:
            continue
        n_ctx += 1
        # the pair's update: the context word against its own noise words, or alone when the window
        # shares its noise words (drawn below)
        state = _negative_sampling_step(h, buf[j], syn1, table, 0 if shared else negative, alpha, neu1e, state, sig)
    if n_ctx == 0 or not shared:
        if n_ctx > 0:
            for p in range(r0, r1):
                row = syn0[unit_idx[p]]
                for k in range(dim):
                    row[k] += neu1e[k]
        return state
    n_table = table.shape[0]
    weight = alpha * np.float32(n_ctx)
    for d in range(negative):
        state, r = next_u64(state)
        t = table[_bounded(r, n_table)]
        clash = t == center
        for j in range(lo, hi):
            if j != i and buf[j] == t:
                clash = True
        if clash:
            continue
        out = syn1[t]
        f = np.float32(0.0)
        for k in range(dim):
            f += h[k] * out[k]
        if f >= MAX_EXP or f <= -MAX_EXP:
            continue
        g = -sig[int((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2.0))] * weight
        for k in range(dim):
            neu1e[k] += g * out[k]
            out[k] += g * h[k]
    for p in range(r0, r1):
        row = syn0[unit_idx[p]]
        for k in range(dim):
            row[k] += neu1e[k]
    return state


@njit(cache=True, parallel=True, fastmath=True)
def _sgns_kernel(tokens, offsets, bounds, syn0, syn1, table, keep, subsample, window, negative,
                 alpha0, min_alpha, done_before, total, seed, call_id, sg, max_len, shared_negatives,
                 defer_output, unit_ptr, unit_idx, alias_prob, alias_idx):
    units = unit_ptr.shape[0] > 1
    n_chunks = bounds.shape[0] - 1
    dim = syn0.shape[1]
    sig = SIGMOID_TABLE
    base = offsets[bounds[0]]
    for c in prange(n_chunks):
        state = seed_state(seed, call_id * 65537 + c)
        neu1e = np.zeros(dim, dtype=np.float32)
        neu1 = np.zeros(dim, dtype=np.float32)
        buf = np.empty(max_len, dtype=np.int32)
        targets = np.empty(negative + 1, dtype=np.int64)
        labels = np.empty(negative + 1, dtype=np.float32)
        grad_out = np.empty((negative + 1, dim), dtype=np.float32)
        for s in range(bounds[c], bounds[c + 1]):
            n = 0
            for t in range(offsets[s], offsets[s + 1]):
                w = tokens[t]
                if subsample:
                    state, r = next_float(state)
                    if r >= keep[w]:
                        continue
                buf[n] = w
                n += 1
            frac = (done_before + offsets[s] - base) / total
            alpha = alpha0 - (alpha0 - min_alpha) * frac
            if alpha < min_alpha:
                alpha = min_alpha
            alpha32 = np.float32(alpha)
            for i in range(n):
                state, r = next_u64(state)
                b = _bounded(r, window)
                lo = i - window + b
                if lo < 0:
                    lo = 0
                hi = i + window + 1 - b
                if hi > n:
                    hi = n
                center = buf[i]
                if units:
                    state = _sg_units_step(buf, i, lo, hi, syn0, syn1, table, negative, alpha32, state, sig,
                                           unit_ptr, unit_idx, neu1, neu1e, shared_negatives)
                elif sg and shared_negatives:
                    state = _sg_window_step(buf, i, lo, hi, syn0, syn1, table, negative, alpha32, state, sig,
                                            targets, labels, grad_out, neu1e, defer_output)
                elif sg:
                    for j in range(lo, hi):
                        if j == i:
                            continue
                        ctx = buf[j]
                        neu1e[:] = 0.0
                        state = _negative_sampling_step(syn0[ctx], center, syn1, table, negative,
                                                        alpha32, neu1e, state, sig)
                        for k in range(dim):
                            syn0[ctx, k] += neu1e[k]
                else:
                    state = _cbow_step(buf, i, lo, hi, syn0, syn1, alias_prob, alias_idx, negative, alpha32,
                                       state, sig, targets, labels, neu1, neu1e)


def _init_vectors(num_tokens: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ((rng.random((num_tokens, dim), dtype=np.float32) * 2.0 - 1.0) / dim).astype(np.float32)


def _train_numba(tokens, offsets, counts, cfg: SGNSConfig, verbose, units=None):
    import numba

    V = len(counts)
    if units is None:
        unit_ptr, unit_idx = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32)
        syn0 = _init_vectors(V, cfg.dim, cfg.seed)
    else:
        unit_ptr, unit_idx, n_rows = units
        syn0 = _init_vectors(n_rows, cfg.dim, cfg.seed)
    syn1 = np.zeros((V, cfg.dim), dtype=np.float32)
    table = noise_table(counts, cfg.ns_exponent)
    if cfg.sg:  # only CBOW draws from the alias table (built in Python: skip it for large graph vocabularies)
        alias_prob, alias_idx = np.ones(1, dtype=np.float32), np.zeros(1, dtype=np.int32)
    else:
        alias_prob, alias_idx = alias_table(counts, cfg.ns_exponent)
    keep = keep_probabilities(counts, cfg.sample)
    subsample = bool(cfg.sample > 0)
    n_seq = len(offsets) - 1
    max_len = int(np.diff(offsets).max()) if n_seq else 0
    per_epoch = int(offsets[-1])
    total = float(max(per_epoch * cfg.epochs, 1))
    slice_tokens = max(1_000_000, per_epoch // 100)
    workers = max(1, min(cfg.workers, numba.config.NUMBA_NUM_THREADS))
    n_chunks = 1 if workers == 1 else workers * 4
    prev_threads = numba.get_num_threads()
    numba.set_num_threads(workers)
    call_id = 0
    try:
        with progress(total=int(total), desc="skip-gram" if cfg.sg else "cbow", verbose=verbose, unit="tok") as bar:
            for epoch in range(cfg.epochs):
                cuts = np.searchsorted(offsets, np.arange(0, per_epoch, slice_tokens), side="left")
                cuts = np.unique(np.concatenate([cuts, [n_seq]]))
                for a, b in zip(cuts[:-1], cuts[1:]):
                    targets = np.linspace(offsets[a], offsets[b], n_chunks + 1)
                    bounds = np.unique(np.clip(np.searchsorted(offsets, targets), a, b)).astype(np.int64)
                    if bounds[0] != a:
                        bounds = np.concatenate([[a], bounds])
                    if bounds[-1] != b:
                        bounds = np.concatenate([bounds, [b]])
                    done_before = float(epoch * per_epoch + offsets[a])
                    _sgns_kernel(tokens, offsets, bounds, syn0, syn1, table, keep, subsample, cfg.window,
                                 cfg.negatives, cfg.learning_rate, cfg.min_learning_rate, done_before, total, cfg.seed,
                                 call_id, cfg.sg, max_len, cfg.shared_negatives, cfg.defer_output, unit_ptr,
                                 unit_idx, alias_prob, alias_idx)
                    call_id += 1
                    bar.update(int(offsets[b] - offsets[a]))
    finally:
        numba.set_num_threads(prev_threads)
    return syn0


# ---------------------------------------------------------------------------- torch
# The torch engine works on windows of consecutive (subsampled) tokens rather than on
# lists of (center, context) pairs: a minibatch is ``n`` consecutive centers plus ``window``
# tokens of context on either side, its vectors are gathered once, and every center's
# window is a strided view of them (``unfold``): the pairs' scores and gradients are small
# batched matrix products over those views, without a gather per pair.
def _subsampled_stream(tokens, seq_id, keep, sample, window, rng):
    """Subsampled tokens with ``window`` padding tokens on either side, their sequence ids
    (-1 on the padding) and each token's dynamic window span in 1..window.

    ``tokens``/``seq_id`` are one slice of the corpus; subsampled tokens are dropped before
    the windows are laid out, as in word2vec.c.
    """
    if sample > 0:
        m = rng.random(tokens.shape[0]) < keep[tokens]
        tokens, seq_id = tokens[m], seq_id[m]
    n = tokens.shape[0]
    span = (window - rng.integers(0, window, n)).astype(np.int64)  # 1..window
    tok = np.zeros(n + 2 * window, dtype=np.int64)
    tok[window:window + n] = tokens
    sid = np.full(n + 2 * window, -1, dtype=np.int64)
    sid[window:window + n] = seq_id
    return tok, sid, span


def _window_mask(sid_win, span, window):
    """(n, 2*window+1) 0/1 mask of the pairs: column ``k`` is the token at offset ``k - window``
    from the center; it counts if it is within the center's span and in its sequence."""
    import torch

    offs = torch.arange(-window, window + 1, device=sid_win.device).abs()
    win = sid_win.unfold(0, 2 * window + 1, 1)                       # (n, 2w+1) view
    m = (win == win[:, window:window + 1]) & (offs <= span[:, None]) & (offs > 0)
    return m


def _skew(a, window):
    """Turn per-center columns into per-window-row columns.

    ``a`` is (n, 2w+1), ``a[i, k]`` about center ``i`` and the window row ``i + k``. Returns
    ``q`` (n + 2w, 2w+1) with ``q[r, j] = a[r + j - 2w, 2w - j]`` (0 outside ``a``): the
    entries of window row ``r``, matched with ``_unfold_padded(x)[r, j] = x[r + j - 2w]``.
    """
    import torch

    n, width = a.shape
    w2 = 2 * window
    z = a.new_zeros(w2, width)
    ap = torch.cat([z, a.flip(1), z])                               # (n + 4w, 2w+1)
    return ap.as_strided((n + w2, width), (width, width + 1)).contiguous()  # bmm is 10x slower on the view


def _padded(n, window, like):
    """An uninitialised (n + 4w, d) buffer whose first and last ``2w`` rows are zero, and its
    middle ``n`` rows (a view) to be filled."""
    w2 = 2 * window
    buf = like.new_empty(n + 2 * w2, like.shape[1])
    buf[:w2].zero_()
    buf[n + w2:].zero_()
    return buf, buf[w2:n + w2]


def _unfold_padded(buf, window):
    """(n + 2w, 2w+1, d) view of a ``_padded`` buffer: row ``r``, column ``j`` is
    ``x[r + j - 2w]`` of its middle rows ``x`` (zero outside)."""
    return buf.unfold(0, 2 * window + 1, 1).transpose(1, 2)


def _capped_scatter_add(table, parts, dup_cap, load):
    """``table[idx] += rows`` for each ``(idx, rows, weights)`` of ``parts`` (repeated
    indices add up), except that a row whose updates in this batch weigh more than ``dup_cap``
    in all gets its total scaled down to ``dup_cap`` updates' worth: they were all computed
    from the same stale values. ``weights``: the number of updates (pairs) each row of
    ``rows`` stands for; ``load``: a zero vector of the table's length, left zero (the work is
    O(batch), whatever the vocabulary size)."""
    for idx, _, weights in parts:
        load.index_add_(0, idx, weights)
    scales = [dup_cap / load.index_select(0, idx).clamp_(min=dup_cap) for idx, _, _ in parts]
    for (idx, rows, _), scale in zip(parts, scales):
        load.index_fill_(0, idx, 0.0)
        table.index_add_(0, idx, rows.mul_(scale[:, None]))


def _noise_sampler(counts, exponent, device):
    """``draw(n, gen)``: ``n`` int64 noise words from word2vec's unigram^exponent table."""
    import torch

    table = torch.as_tensor(noise_table(counts, exponent), device=device).long()

    def draw(n, gen):
        return table.index_select(0, torch.randint(table.shape[0], (n,), device=device, generator=gen))
    return draw


def _sg_noise_words(cfg: SGNSConfig) -> int:
    """Torch skip-gram: noise words each window row is scored against, ``negative * (window +
    1)`` (as many as word2vec draws for its pairs, on average) rounded up to a multiple of 8; a
    set of them is shared by as many window rows."""
    return max(8, -(-cfg.negatives * (cfg.window + 1) // 8) * 8)


def _train_torch(tokens, offsets, counts, cfg: SGNSConfig, device, verbose, sharded=False):
    """On the CPU the minibatches run on one thread (``workers`` is not used): the torch
    operations are small, and on 5M words of English (dim 100) splitting them over two
    threads, or computing two minibatches at once in two threads, was slower than one thread,
    and many times slower on a machine whose cores are busy."""
    import torch

    dev = torch.device(device)
    prev_threads = torch.get_num_threads()
    if dev.type == "cpu":
        torch.set_num_threads(1)
    try:
        with torch.no_grad():
            return _train_torch_windows(tokens, offsets, counts, cfg, dev, verbose, sharded)
    finally:
        torch.set_num_threads(prev_threads)


def _train_torch_windows(tokens, offsets, counts, cfg: SGNSConfig, dev, verbose, sharded=False):
    """Under ``torchrun`` each process trains on its block of sequences (balanced by
    tokens; all of them when ``sharded``) with its own random streams, and
    :class:`~embedkit.distributed.RowSync` combines the processes' row changes every
    ``cfg.sync_every`` minibatches by ``cfg.sync_reduce`` (``counts`` stay global)."""
    import torch

    from ..distributed import RowSync, block, context

    dist = context(str(dev))
    if not sharded:
        a, b = block(offsets, dist)
        tokens, offsets = tokens[offsets[a]:offsets[b]], offsets[a:b + 1] - offsets[a]
    seed = cfg.seed + 1_000_003 * dist.rank
    V = len(counts)
    W = cfg.window
    G = max(1, cfg.centers_per_noise_draw)
    rng = np.random.default_rng(seed)
    gen = torch.Generator(device=dev)
    gen.manual_seed(seed)
    syn0 = torch.as_tensor(_init_vectors(V, cfg.dim, cfg.seed), device=dev)
    syn1 = torch.zeros_like(syn0)
    sync = RowSync([syn0, syn1], dist, every=cfg.sync_every, reduce=cfg.sync_reduce)
    load = torch.zeros(V, dtype=syn0.dtype, device=dev)
    noise = _noise_sampler(counts, cfg.ns_exponent, dev)

    def draw(size):
        return noise(size, gen)

    grads = _sg_grads if cfg.sg else _cbow_grads
    keep = keep_probabilities(counts, cfg.sample)
    n_seq = len(offsets) - 1
    seq_id_all = np.repeat(np.arange(n_seq, dtype=np.int64), np.diff(offsets))
    per_epoch = int(offsets[-1])
    total = max(per_epoch * cfg.epochs, 1)
    # slices of whole sequences, about 2M tokens each
    cuts = np.unique(np.concatenate([np.searchsorted(offsets, np.arange(0, per_epoch, 2_000_000)), [n_seq]]))
    bounds = offsets[cuts]
    # centers per minibatch: batch_size counts (center, context) pairs, about window + 1 per
    # center; small inputs get small batches (at least ~1000 updates per epoch). Larger ones
    # cost accuracy: updates computed from the same stale vectors add up (skip-gram on 5M
    # words, 1 epoch: 7.4% analogy accuracy at 8192 pairs, 6.5% at 16384, 5.4% at 32768). Skip-gram
    # groups the n + 2w window rows, CBOW the n / 2 centers of each parity: multiples of ``unit``.
    unit = _sg_noise_words(cfg) if cfg.sg else 2 * G
    nb = max(unit, min(cfg.batch_size // (W + 1), max(64, per_epoch // 1000)) // unit * unit)
    if cfg.sg:
        nb += (-(nb + 2 * W)) % unit
    done = 0
    desc = "skip-gram (torch)" if cfg.sg else "cbow (torch)"
    with progress(total=total, desc=desc, verbose=verbose, unit="tok") as bar:
        for epoch in range(cfg.epochs):
            for a, b in zip(bounds[:-1], bounds[1:]):
                tok, sid, span = _subsampled_stream(tokens[a:b], seq_id_all[a:b], keep, cfg.sample, W, rng)
                n_tok = span.shape[0]
                tok_t, sid_t, span_t = (torch.as_tensor(x, device=dev) for x in (tok, sid, span))
                for s in range(0, n_tok, nb):
                    n = min(nb, n_tok - s)
                    frac = (done + (b - a) * s / n_tok) / total
                    lr0, lr1 = cfg.learning_rate, cfg.min_learning_rate
                    lr = max(lr1, lr0 - (lr0 - lr1) * frac)
                    win_ids = tok_t[s:s + n + 2 * W]                       # (n + 2w,) window rows
                    mask = _window_mask(sid_t[s:s + n + 2 * W], span_t[s:s + n], W).to(syn0.dtype)
                    parts0, parts1 = grads(syn0, syn1, win_ids, mask, lr, draw, cfg)
                    _capped_scatter_add(syn0, parts0, cfg.dup_cap, load)
                    _capped_scatter_add(syn1, parts1, cfg.dup_cap, load)
                    sync.step([[part[0] for part in parts0], [part[0] for part in parts1]])
                done += b - a
                bar.update(int(b - a))
            sync.finish()
    if dist.active:
        logger.info("skip-gram (torch): rank %d of %d trained %d tokens; %d synchronisations, %d rows sent",
                    dist.rank, dist.world, per_epoch, sync.syncs, sync.rows_sent)
    return syn0.cpu().numpy()


def _grouped(x, G):
    """(rows, ...) -> (groups, G, ...) view, zero-padded to a multiple of ``G`` rows; group
    ``j`` holds rows ``j, j + groups, j + 2 * groups, ...``: rows that share noise words are
    far apart, not neighbours whose windows overlap (CBOW's mean context vectors of
    neighbouring centers are nearly equal, and noise words shared by them get the same update
    ``G`` times: about a point of analogy accuracy lost)."""
    import torch

    pad = (-x.shape[0]) % G
    if pad:
        x = torch.cat([x, x.new_zeros((pad,) + tuple(x.shape[1:]))])
    return x.view((G, -1) + tuple(x.shape[1:])).transpose(0, 1)


def _ungrouped(y, rows):
    """Inverse of ``_grouped`` for a (groups, G, d) result: (rows, d)."""
    return y.transpose(0, 1).reshape(-1, y.shape[-1])[:rows]


def _sg_grads(syn0, syn1, win_ids, mask, lr, draw, cfg: SGNSConfig):
    """Skip-gram updates of one minibatch, as ``(syn0 parts, syn1 parts)`` for
    ``_capped_scatter_add``: every context word (window row ``r``, input vector ``u_r``)
    predicts each center whose window holds it (output vector ``c_i``) against noise words.

    The noise words are drawn for window rows, not per pair: a row is scored against
    ``kg``, about ``negative * (window + 1)``, of them, each standing for ``pairs(r) * negative / kg`` of
    word2vec's per-pair noise words, so the expected gradient is word2vec's; a set of ``kg``
    is shared by ``kg`` rows far apart in the minibatch. (Fewer noise words per row, more
    heavily weighted, cost analogy accuracy: 6.5% with 16, 5% with 8, against 7.3% with 32 on
    5M words of English.)
    """
    import torch

    W, K = cfg.window, cfg.negatives
    G = kg = _sg_noise_words(cfg)                                     # rows per group, noise words per group
    m = win_ids.shape[0]                                              # n + 2w window rows
    n = m - 2 * W
    d = syn0.shape[1]
    ctr_ids = win_ids[W:m - W]                                        # (n,) centers
    U = syn0.index_select(0, win_ids)                                 # (m, d)
    Cp, C = _padded(n, W, syn1)
    torch.index_select(syn1, 0, ctr_ids, out=C)                       # (n, d)
    Uw = U.unfold(0, 2 * W + 1, 1)                                   # (n, d, 2w+1) view
    g = (1.0 - torch.sigmoid(torch.bmm(C[:, None, :], Uw)[:, 0])).mul_(mask).mul_(lr)   # (n, 2w+1)
    grad_C = torch.bmm(g[:, None, :], Uw.transpose(1, 2))[:, 0]       # (n, d)
    grad_U = torch.bmm(_skew(g, W)[:, None, :], _unfold_padded(Cp, W))[:, 0]   # (m, d)
    pairs = _skew(mask, W).sum(1)                                     # (m,) pairs per window row
    # noise words, shared by groups of G window rows
    Ug = _grouped(U, G)                                               # (groups, G, d)
    neg = draw(Ug.shape[0] * kg)
    N = syn1.index_select(0, neg).view(-1, kg, d)                     # (groups, kg, d)
    wrow = _grouped(pairs * (-lr * K / kg), G)[:, :, None]
    gn = torch.sigmoid(torch.bmm(Ug, N.transpose(1, 2))).mul_(wrow)  # (groups, G, kg)
    grad_U += _ungrouped(torch.bmm(gn, N), m)
    grad_N = torch.bmm(gn.transpose(1, 2), Ug).view(-1, d)
    return ([(win_ids, grad_U, pairs)],
            [(ctr_ids, grad_C, mask.sum(1)), (neg, grad_N, torch.ones_like(neg, dtype=mask.dtype))])


def _cbow_grads(syn0, syn1, win_ids, mask, lr, draw, cfg: SGNSConfig):
    """CBOW updates of one minibatch (word2vec's cbow_mean=1), as for ``_sg_grads``: the mean
    ``h`` of each center's context vectors predicts the center against ``K`` noise words
    shared by ``G`` centers; ``h``'s gradient is added, undivided, to every context word's
    input vector.

    Neighbouring centers share most of their context words, and updates of all of them
    computed from the same stale vectors overshoot (about half a point of analogy accuracy
    lost on 5M words). So the even centers go first; the odd ones see the input vectors (this
    minibatch's copy) updated by them, as they would in word2vec's sequential pass.
    """
    import torch

    W, K, G = cfg.window, cfg.negatives, max(1, cfg.centers_per_noise_draw)
    m = win_ids.shape[0]
    n = m - 2 * W
    d = syn0.shape[1]
    ctr_ids = win_ids[W:m - W]
    U = syn0.index_select(0, win_ids)                                 # (m, d), updated in between
    C = syn1.index_select(0, ctr_ids)                                 # (n, d)
    cw = mask.sum(1)                                                  # contexts per center
    valid = (cw > 0).to(mask.dtype)
    mean_w = mask / cw.clamp(min=1)[:, None]
    Hp, grad_h = _padded(n, W, U)                                     # h's gradients, all centers
    grad_C = torch.empty_like(C)
    out1 = [(ctr_ids, grad_C, valid)]
    for p in range(min(2, n)):
        Uw = U[p:].unfold(0, 2 * W + 1, 2)                           # (n_p, d, 2w+1): centers p, p+2, ...
        h = torch.bmm(mean_w[p::2, None, :], Uw.transpose(1, 2))[:, 0]   # (n_p, d)
        n_p = h.shape[0]
        Cp = C[p::2]
        g_pos = (1.0 - torch.sigmoid((h * Cp).sum(1))).mul_(valid[p::2]).mul_(lr)   # (n_p,)
        hg = _grouped(h, G)                                           # (groups, G, d)
        neg = draw(hg.shape[0] * K)
        N = syn1.index_select(0, neg).view(-1, K, d)                  # (groups, K, d)
        g_neg = torch.sigmoid(torch.bmm(hg, N.transpose(1, 2))).mul_(_grouped(valid[p::2] * -lr, G)[:, :, None])
        grad_h[p::2].copy_(_ungrouped(torch.bmm(g_neg, N), n_p).addcmul_(g_pos[:, None], Cp))
        out1.append((neg, torch.bmm(g_neg.transpose(1, 2), hg).view(-1, d), torch.ones_like(neg, dtype=mask.dtype)))
        grad_C[p::2].copy_(h.mul_(g_pos[:, None]))                    # hg is a view of h: after grad_N
        if p == 0 and n > 1:  # the even centers' update of this minibatch's input vectors
            H0, grad_h0 = _padded(n, W, U)
            grad_h0[0::2].copy_(grad_h[0::2])
            grad_h0[1::2].zero_()
            mask0 = mask.clone()
            mask0[1::2].zero_()
            U += torch.bmm(_skew(mask0, W)[:, None, :], _unfold_padded(H0, W))[:, 0]
    q = _skew(mask, W)                                                # (m, 2w+1)
    grad_U = torch.bmm(q[:, None, :], _unfold_padded(Hp, W))[:, 0]    # (m, d)
    return [(win_ids, grad_U, q.sum(1))], out1


# ---------------------------------------------------------------------------- gensim
def _train_gensim(tokens, offsets, counts, cfg: SGNSConfig, verbose):
    from gensim.models import Word2Vec

    V = len(counts)
    names = [str(i) for i in range(V)]

    class _Sentences:
        def __iter__(self):
            for s in range(len(offsets) - 1):
                yield [names[t] for t in tokens[offsets[s]:offsets[s + 1]].tolist()]

    model = Word2Vec(
        sentences=_Sentences(), vector_size=cfg.dim, window=cfg.window, negative=cfg.negatives,
        sample=cfg.sample, epochs=cfg.epochs, alpha=cfg.learning_rate, min_alpha=cfg.min_learning_rate,
        ns_exponent=cfg.ns_exponent, sg=int(cfg.sg), hs=0, min_count=1, seed=cfg.seed,
        workers=cfg.workers,
    )
    out = _init_vectors(V, cfg.dim, cfg.seed)
    for key, row in model.wv.key_to_index.items():
        out[int(key)] = model.wv.vectors[row]
    return out


def train_sgns(tokens: np.ndarray, offsets: np.ndarray, counts: np.ndarray, cfg: SGNSConfig, *,
               backend: str = "auto", device="cpu", verbose: bool | None = None,
               sharded: bool = False, units: tuple | None = None) -> np.ndarray:
    """Train and return the input vectors, float32 ``(len(counts), cfg.dim)``.

    ``units``: ``(ptr, idx, n_rows)`` for fastText's model (Bojanowski et al. 2017; numba
    backend, skip-gram): word ``w``'s input vector is the mean of the rows
    ``idx[ptr[w]:ptr[w + 1]]`` of an input table of ``n_rows`` rows (its own row and its
    subword units'), and the whole table ``(n_rows, cfg.dim)`` is returned; int64 ``ptr``
    ``(len(counts) + 1,)``, int32 ``idx`` in ``[0, n_rows)``.

    ``tokens``: int32 ``(N,)`` ids in ``[0, len(counts))``; ``offsets``: int64
    ``(S + 1,)`` sequence boundaries; ``counts``: token frequencies ``(V,)``
    (noise distribution and subsampling). Tokens that never occur keep their
    small random initial vectors. Under ``torchrun`` each process trains on its
    block of the sequences, or on all of ``tokens`` when ``sharded`` (they already
    are this process's share; ``counts`` should then be the global ones).
    """
    tokens = np.ascontiguousarray(tokens, dtype=np.int32)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.float64)
    dev = str(device)
    from ..distributed import launched

    if backend == "auto":
        backend = "numba" if units is not None else "torch" if dev.startswith("cuda") or launched() else "numba"
    elif backend != "torch" and launched():
        from ..exceptions import InvalidParameterError

        raise InvalidParameterError("skip-gram engine", "backend", "'torch' or 'auto' under torchrun", backend,
                                    hint="only the torch backend trains across processes")
    if units is not None:
        if backend != "numba" or not cfg.sg:
            from ..exceptions import InvalidParameterError

            raise InvalidParameterError("skip-gram engine", "backend", "'numba' (or 'auto') with skip-gram "
                                        "for subword units", backend if cfg.sg else "cbow")
        ptr, idx, n_rows = units
        ptr = np.ascontiguousarray(ptr, dtype=np.int64)
        idx = np.ascontiguousarray(idx, dtype=np.int32)
        if ptr.shape != (len(counts) + 1,) or (idx.size and (idx.min() < 0 or idx.max() >= n_rows)):
            from ..exceptions import ShapeError

            raise ShapeError("units: ptr must have len(counts) + 1 entries and idx rows in [0, n_rows)")
        units = (ptr, idx, int(n_rows))
    logger.info("skip-gram engine: backend=%s device=%s tokens=%d vocab=%d", backend, dev, tokens.size, len(counts))
    if backend == "numba":
        return _train_numba(tokens, offsets, counts, cfg, verbose, units)
    if backend == "torch":
        return _train_torch(tokens, offsets, counts, cfg, dev, verbose, sharded)
    if backend == "gensim":
        return _train_gensim(tokens, offsets, counts, cfg, verbose)
    from ..exceptions import InvalidParameterError

    raise InvalidParameterError("skip-gram engine", "backend", "one of " + ", ".join(map(repr, BACKENDS)), backend)
