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
  skip-gram, ``window_negatives=True`` (default) draws the noise words once per
  center window and applies the output-row updates once per window (pWord2Vec,
  Ji et al. 2016): about 2.5x faster than per-pair draws on the CPU.
* ``"torch"`` — batched on any torch device (the GPU engine): (center, context)
  pairs are generated in bulk and trained in minibatches; every group of
  ``share_negatives`` pairs shares its ``negative`` noise words, so the work is
  batched matrix products (the idea of pWord2Vec, Ji et al. 2016). Deterministic
  for a seed on the CPU.
* ``"gensim"`` — gensim's Word2Vec, fed the same sequences.
* ``"auto"`` — ``torch`` on a CUDA device, ``numba`` on the CPU (measured the
  faster there: see docs/benchmarks.md).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from .._progress import progress
from ._rng import next_float, next_u64, seed_state

logger = logging.getLogger("embedkit")

BACKENDS = ("auto", "numba", "torch", "gensim")


@dataclass
class SGNSConfig:
    """Hyper-parameters of the engine; names follow gensim's."""

    dim: int = 128
    window: int = 5
    negative: int = 5
    sample: float = 1e-3
    epochs: int = 1
    alpha: float = 0.025
    min_alpha: float = 0.0001
    ns_exponent: float = 0.75
    sg: bool = True
    seed: int = 0
    workers: int = 2
    batch_size: int = 8192
    share_negatives: int = 8
    dup_cap: int = 32
    #: numba skip-gram: draw the noise words once per center window instead of once per pair
    window_negatives: bool = True


def noise_table(counts: np.ndarray, exponent: float, size: int | None = None) -> np.ndarray:
    """Unigram^exponent noise table (as in word2vec.c): int32 of ``size`` entries."""
    probs = np.asarray(counts, dtype=np.float64) ** exponent
    probs /= probs.sum()
    if size is None:
        size = int(min(max(100 * len(counts), 1_000_000), 20_000_000))
    cum = np.cumsum(probs)
    table = np.searchsorted(cum, (np.arange(size) + 0.5) / size, side="right")
    return np.minimum(table, len(counts) - 1).astype(np.int32)


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


@njit(cache=True, inline="always", fastmath=True)
def _sg_window_step(buf, i, lo, hi, syn0, syn1, table, negative, alpha, state, sig, targets, labels, grad_out,
                    neu1e):
    """Skip-gram for one center ``buf[i]`` and its window ``buf[lo:hi]``: every context
    word predicts the center against the same ``negative`` noise words, drawn once
    for the window (as in pWord2Vec, Ji et al. 2016). The output rows' updates are
    gathered in ``grad_out`` and applied once at the end of the window."""
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
            go = grad_out[t]
            for k in range(dim):
                neu1e[k] += g * out[k]
                go[k] += g * inp[k]
        for k in range(dim):
            inp[k] += neu1e[k]
    for t in range(n_t):
        out = syn1[targets[t]]
        go = grad_out[t]
        for k in range(dim):
            out[k] += go[k]
    return state


@njit(cache=True, parallel=True, fastmath=True)
def _sgns_kernel(tokens, offsets, bounds, syn0, syn1, table, keep, subsample, window, negative,
                 alpha0, min_alpha, done_before, total, seed, call_id, sg, max_len, window_negatives):
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
                if sg and window_negatives:
                    state = _sg_window_step(buf, i, lo, hi, syn0, syn1, table, negative, alpha32, state, sig,
                                            targets, labels, grad_out, neu1e)
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
                    cw = 0
                    neu1[:] = 0.0
                    neu1e[:] = 0.0
                    for j in range(lo, hi):
                        if j != i:
                            cw += 1
                            for k in range(dim):
                                neu1[k] += syn0[buf[j], k]
                    if cw == 0:
                        continue
                    inv = np.float32(1.0 / cw)
                    for k in range(dim):
                        neu1[k] *= inv
                    state = _negative_sampling_step(neu1, center, syn1, table, negative, alpha32,
                                                    neu1e, state, sig)
                    for j in range(lo, hi):
                        if j != i:
                            for k in range(dim):
                                syn0[buf[j], k] += neu1e[k]


def _init_vectors(num_tokens: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ((rng.random((num_tokens, dim), dtype=np.float32) * 2.0 - 1.0) / dim).astype(np.float32)


def _train_numba(tokens, offsets, counts, cfg: SGNSConfig, verbose):
    import numba

    V = len(counts)
    syn0 = _init_vectors(V, cfg.dim, cfg.seed)
    syn1 = np.zeros_like(syn0)
    table = noise_table(counts, cfg.ns_exponent)
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
                                 cfg.negative, cfg.alpha, cfg.min_alpha, done_before, total, cfg.seed,
                                 call_id, cfg.sg, max_len, cfg.window_negatives)
                    call_id += 1
                    bar.update(int(offsets[b] - offsets[a]))
    finally:
        numba.set_num_threads(prev_threads)
    return syn0


# ---------------------------------------------------------------------------- torch
def _pairs(tokens: np.ndarray, seq_id: np.ndarray, window: int, rng: np.random.Generator):
    """(input, output) skip-gram pairs with word2vec's dynamic window, vectorised.

    Returns int64 ``inputs`` (context words) and ``outputs`` (centers).
    """
    n = tokens.shape[0]
    eff = window - rng.integers(0, window, n)  # effective window of each center, 1..window
    ins, outs = [], []
    for o in range(1, window + 1):
        if o >= n:
            break
        same = seq_id[:-o] == seq_id[o:]
        left = np.nonzero(same & (o <= eff[:-o]))[0]  # center i, context i + o
        ins.append(tokens[left + o])
        outs.append(tokens[left])
        right = np.nonzero(same & (o <= eff[o:]))[0]  # center i + o, context i
        ins.append(tokens[right])
        outs.append(tokens[right + o])
    if not ins:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    return np.concatenate(ins).astype(np.int64), np.concatenate(outs).astype(np.int64)


def _train_torch(tokens, offsets, counts, cfg: SGNSConfig, device, verbose):
    import torch

    if not cfg.sg:
        raise NotImplementedError("CBOW is trained by the numba and gensim backends; use backend='numba' "
                                  "or backend='gensim'")
    dev = torch.device(device)
    V = len(counts)
    rng = np.random.default_rng(cfg.seed)
    gen = torch.Generator(device=dev)
    gen.manual_seed(cfg.seed)
    syn0 = torch.as_tensor(_init_vectors(V, cfg.dim, cfg.seed), device=dev)
    syn1 = torch.zeros_like(syn0)
    noise = torch.as_tensor(np.asarray(counts, dtype=np.float64) ** cfg.ns_exponent, device=dev)
    noise = (noise / noise.sum()).float()
    keep = keep_probabilities(counts, cfg.sample)
    n_seq = len(offsets) - 1
    seq_id_all = np.repeat(np.arange(n_seq, dtype=np.int64), np.diff(offsets))
    per_epoch = int(offsets[-1])
    total = max(per_epoch * cfg.epochs, 1)
    slice_tokens = 2_000_000
    G = max(1, cfg.share_negatives)
    K = cfg.negative
    done = 0
    with progress(total=total, desc="skip-gram (torch)", verbose=verbose, unit="tok") as bar:
        for epoch in range(cfg.epochs):
            for a in range(0, per_epoch, slice_tokens):
                b = min(per_epoch, a + slice_tokens)
                tok = tokens[a:b]
                sid = seq_id_all[a:b]
                if cfg.sample > 0:
                    m = rng.random(tok.shape[0]) < keep[tok]
                    tok, sid = tok[m], sid[m]
                ins, outs = _pairs(tok, sid, cfg.window, rng)
                perm = rng.permutation(ins.shape[0])
                ins_t = torch.as_tensor(ins[perm], device=dev)
                outs_t = torch.as_tensor(outs[perm], device=dev)
                n_pairs = ins_t.shape[0]
                # small inputs get small batches: at least ~1000 updates per slice
                B = max(G, min(cfg.batch_size, max(64, n_pairs // 1000)) // G * G)
                for s in range(0, n_pairs, B):
                    frac = (done + (b - a) * s / max(n_pairs, 1)) / total
                    lr = max(cfg.min_alpha, cfg.alpha - (cfg.alpha - cfg.min_alpha) * frac)
                    i_idx = ins_t[s:s + B]
                    o_idx = outs_t[s:s + B]
                    nb = i_idx.shape[0]
                    pad = (-nb) % G
                    groups = (nb + pad) // G
                    u = syn0[i_idx]                          # (nb, d)
                    v = syn1[o_idx]                          # (nb, d)
                    neg_idx = torch.multinomial(noise, groups * K, replacement=True, generator=gen).view(groups, K)
                    nv = syn1[neg_idx]                       # (groups, K, d)
                    pos = (u * v).sum(1)
                    g_pos = (1.0 - torch.sigmoid(pos)) * lr  # (nb,)
                    up = torch.nn.functional.pad(u, (0, 0, 0, pad)).view(groups, G, -1)
                    score = torch.bmm(up, nv.transpose(1, 2))          # (groups, G, K)
                    g_neg = -torch.sigmoid(score) * lr
                    if pad:
                        g_neg.view(-1, K)[nb:] = 0
                    grad_u = g_pos[:, None] * v + torch.bmm(g_neg, nv).view(-1, u.shape[1])[:nb]
                    grad_v = g_pos[:, None] * u
                    grad_n = torch.bmm(g_neg.transpose(1, 2), up)      # (groups, K, d)
                    # Summed updates of a row that occurs very often in one batch are computed
                    # from the same stale values; cap their total at `dup_cap` updates' worth.
                    cnt0 = torch.bincount(i_idx, minlength=V).clamp_(min=cfg.dup_cap).float() / cfg.dup_cap
                    flat_neg = neg_idx.view(-1)
                    cnt1 = (torch.bincount(o_idx, minlength=V) + torch.bincount(flat_neg, minlength=V))
                    cnt1 = cnt1.clamp_(min=cfg.dup_cap).float() / cfg.dup_cap
                    syn0.index_add_(0, i_idx, grad_u / cnt0[i_idx, None])
                    syn1.index_add_(0, o_idx, grad_v / cnt1[o_idx, None])
                    syn1.index_add_(0, flat_neg, grad_n.view(-1, u.shape[1]) / cnt1[flat_neg, None])
                done += b - a
                bar.update(b - a)
    return syn0.cpu().numpy()


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
        sentences=_Sentences(), vector_size=cfg.dim, window=cfg.window, negative=cfg.negative,
        sample=cfg.sample, epochs=cfg.epochs, alpha=cfg.alpha, min_alpha=cfg.min_alpha,
        ns_exponent=cfg.ns_exponent, sg=int(cfg.sg), hs=0, min_count=1, seed=cfg.seed,
        workers=cfg.workers,
    )
    out = _init_vectors(V, cfg.dim, cfg.seed)
    for key, row in model.wv.key_to_index.items():
        out[int(key)] = model.wv.vectors[row]
    return out


def train_sgns(tokens: np.ndarray, offsets: np.ndarray, counts: np.ndarray, cfg: SGNSConfig, *,
               backend: str = "auto", device="cpu", verbose: bool | None = None) -> np.ndarray:
    """Train and return the input vectors, float32 ``(len(counts), cfg.dim)``.

    ``tokens``: int32 ``(N,)`` ids in ``[0, len(counts))``; ``offsets``: int64
    ``(S + 1,)`` sequence boundaries; ``counts``: token frequencies ``(V,)``
    (noise distribution and subsampling). Tokens that never occur keep their
    small random initial vectors.
    """
    tokens = np.ascontiguousarray(tokens, dtype=np.int32)
    offsets = np.ascontiguousarray(offsets, dtype=np.int64)
    counts = np.asarray(counts, dtype=np.float64)
    dev = str(device)
    if backend == "auto":
        backend = "torch" if dev.startswith("cuda") else "numba"
    logger.info("skip-gram engine: backend=%s device=%s tokens=%d vocab=%d", backend, dev, tokens.size, len(counts))
    if backend == "numba":
        return _train_numba(tokens, offsets, counts, cfg, verbose)
    if backend == "torch":
        return _train_torch(tokens, offsets, counts, cfg, dev, verbose)
    if backend == "gensim":
        return _train_gensim(tokens, offsets, counts, cfg, verbose)
    raise ValueError(f"unknown skip-gram backend {backend!r}; choose one of {', '.join(BACKENDS)}")
