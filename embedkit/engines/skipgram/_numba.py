"""The numba backend (the CPU engine): a compiled Hogwild kernel in the manner of ``word2vec.c``,
parallel over chunks of sequences; skip-gram (per-pair or window-shared noise words), CBOW and
fastText's subword units. See :mod:`embedkit.engines.skipgram`.

The loss (history's ``loss``): word2vec's negative-sampling objective of a (context, center)
pair, ``-log sigma(u . v_center) - sum_noise log sigma(-u . v_noise)`` (``u`` the input vector:
the context word's; CBOW's mean context vector; fastText's composed center vector), computed
from the scores the update itself uses (before that pair's update), on the pairs of every
:data:`LOSS_EVERY`-th center word of each chunk (a counter, no random draw: the vectors do not
change with it); reported as the mean over those pairs. Window-shared noise words count for every
pair of the window, weighted as the update weighs them.

numba is imported when the first kernel runs (:mod:`embedkit._jit`), never at module level."""
from __future__ import annotations

import math

import numpy as np

from ..._jit import njit, prange
from .._rng import next_float, next_u64, seed_state
from ._common import SGNSConfig, SGNSStart, SGNSTraining, _init_vectors, alias_table, keep_probabilities, noise_table

#: tokens per slice of an epoch: each slice is one kernel call with its own random streams (seeded
#: by call and chunk), and a slice boundary is where a checkpoint inside an epoch can be written
SLICE_TOKENS = 1_000_000
#: the loss is computed on the pairs of every LOSS_EVERY-th center word of each chunk (Emma, dim
#: 100: no measurable slowdown; every center: about 15% slower)
LOSS_EVERY = 64

#: subword units with ``shared_negatives`` (``_sg_units_step``; fastText's per-pair draws are the
#: default): a window draws ``negative`` noise words for every this many context words (each
#: weighted to stand for the per-pair draws)
UNIT_NOISE_GROUP = 2
EXP_TABLE_SIZE = 1000
MAX_EXP = 6.0
_x = (np.arange(EXP_TABLE_SIZE) / EXP_TABLE_SIZE * 2.0 - 1.0) * MAX_EXP
SIGMOID_TABLE = (1.0 / (1.0 + np.exp(-_x))).astype(np.float32)


@njit(cache=True, inline="always")
def _bounded(r, n):
    """A uniform integer in [0, n) from a random uint64 (multiply-high, no division)."""
    return np.int64(((r >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@njit(cache=True, inline="always")
def _softplus(x):
    """``log(1 + exp(x))`` without overflow: ``-log sigma(-x)``."""
    if x > 0.0:
        return x + math.log1p(math.exp(-x))
    return math.log1p(math.exp(x))


@njit(cache=True, inline="always", fastmath=True)
def _output_update(h, out, label, weight, sig, grad, frozen):
    """One output row's negative-sampling update: ``h`` (dim,) scores ``out`` (an output row, a
    positive with ``label`` 1 or a noise word with 0); unless the score saturates (gensim's rule),
    ``g = (label - sigmoid(score)) * weight`` adds ``g * out`` to ``grad`` and, unless ``frozen``,
    ``g * h`` to ``out``. Returns the score (taken before the update)."""
    dim = h.shape[0]
    f = np.float32(0.0)
    for k in range(dim):
        f += h[k] * out[k]
    if f >= MAX_EXP or f <= -MAX_EXP:
        return f
    g = (label - sig[int((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2.0))]) * weight
    if frozen:
        for k in range(dim):
            grad[k] += g * out[k]
        return f
    for k in range(dim):
        grad[k] += g * out[k]
        out[k] += g * h[k]
    return f


@njit(cache=True, inline="always", fastmath=True)
def _negative_sampling_step(h, center, syn1, table, negative, alpha, neu1e, state, sig, track, lock1, freeze):
    """One word2vec update: hidden vector ``h`` (dim,) predicts ``center`` against
    ``negative`` noise words. Output rows in ``syn1`` are updated in place; the
    gradient for ``h`` is added to ``neu1e``. Returns the random state and, with ``track``,
    the pair's negative-sampling loss (else 0). With ``freeze``, output rows whose ``lock1`` is
    set are read but never written."""
    loss = 0.0
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
        f = _output_update(h, syn1[target], label, alpha, sig, neu1e, freeze and lock1[target] != 0)
        if track:
            loss += _softplus(-f if d == 0 else f)
    return state, loss


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
def _pair_step(h, target, syn1, prob, alias, negative, alpha, grad, state, sig, targets, scores, track, lock1,
               freeze):
    """fastText's update of one (center, context) pair: ``h`` (dim,) predicts ``target`` against
    ``negative`` noise words from the alias table (a draw equal to ``target`` is skipped). The
    noise words are drawn and all the scores computed before any output row is updated, so the
    rows' loads overlap instead of waiting on each other's updates (the rows are
    distinct but for a repeated draw, which then sees its first update's row unchanged). ``h``'s
    gradient is added to ``grad``. Returns the random state and, with ``track``, the pair's loss.
    Used by fastText's subword units (a pair) and CBOW (the mean context vector and its center)."""
    dim = h.shape[0]
    n_t = 1
    targets[0] = target
    for d in range(negative):
        state, r = next_u64(state)
        t = _alias_draw(r, prob, alias)
        if t == target:
            continue
        targets[n_t] = t
        n_t += 1
    for t in range(n_t):
        out = syn1[targets[t]]
        f = np.float32(0.0)
        for k in range(dim):
            f += h[k] * out[k]
        scores[t] = f
    loss = 0.0
    for t in range(n_t):
        f = scores[t]
        if track:
            loss += _softplus(-f if t == 0 else f)
        if f >= MAX_EXP or f <= -MAX_EXP:
            continue  # saturated: no update (gensim's rule)
        label = np.float32(1.0) if t == 0 else np.float32(0.0)
        g = (label - sig[int((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2.0))]) * alpha
        out = syn1[targets[t]]
        if freeze and lock1[targets[t]]:
            for k in range(dim):
                grad[k] += g * out[k]
            continue
        for k in range(dim):
            grad[k] += g * out[k]
            out[k] += g * h[k]
    return state, loss


@njit(cache=True, inline="always", fastmath=True)
def _cbow_step(buf, i, lo, hi, syn0, syn1, prob, alias, negative, alpha, state, sig, targets, scores, neu1,
               neu1e, track, lock0, lock1, freeze):
    """CBOW (word2vec's cbow_mean=1) for one center ``buf[i]``: the mean ``neu1`` of the context
    rows ``syn0[buf[lo:hi]]`` predicts the center against ``negative`` noise words, and its gradient
    is added, undivided, to every context row. The update is ``_pair_step``'s (noise words from
    the alias table, which stays in cache; all ``1 + negative`` scores computed before any output
    row is updated). Returns the random state and, with ``track``, the center's loss and 1 (else
    0, 0)."""
    dim = syn0.shape[1]
    cw = hi - lo - 1
    if cw <= 0:
        return state, 0.0, 0
    neu1[:] = 0.0
    for j in range(lo, hi):
        if j != i:
            row = syn0[buf[j]]
            for k in range(dim):
                neu1[k] += row[k]
    inv = np.float32(1.0 / cw)
    for k in range(dim):
        neu1[k] *= inv
    neu1e[:] = 0.0
    state, loss = _pair_step(neu1, buf[i], syn1, prob, alias, negative, alpha, neu1e, state, sig, targets, scores,
                             track, lock1, freeze)
    for j in range(lo, hi):
        if j != i:
            if freeze and lock0[buf[j]]:
                continue
            row = syn0[buf[j]]
            for k in range(dim):
                row[k] += neu1e[k]
    return state, loss, 1 if track else 0


@njit(cache=True, inline="always", fastmath=True)
def _sg_window_step(buf, i, lo, hi, syn0, syn1, table, negative, alpha, state, sig, targets, labels, grad_out,
                    neu1e, defer_output, track, lock0, lock1, freeze):
    """Skip-gram for one center ``buf[i]`` and its window ``buf[lo:hi]``: every context
    word predicts the center against the same ``negative`` noise words, drawn once
    for the window (as in pWord2Vec, Ji et al. 2016), so the ``1 + negative`` output rows
    stay in cache. With ``defer_output`` the output rows' updates are gathered in
    ``grad_out`` and applied once at the end of the window (pWord2Vec); without, each pair
    updates them at once (word2vec.c). Returns the random state and, with ``track``, the
    window's summed loss and its number of pairs (else 0, 0)."""
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
    loss = 0.0
    pairs = 0
    for j in range(lo, hi):
        if j == i:
            continue
        inp = syn0[buf[j]]
        neu1e[:] = 0.0
        if track:
            pairs += 1
        for t in range(n_t):
            out = syn1[targets[t]]
            f = np.float32(0.0)
            for k in range(dim):
                f += inp[k] * out[k]
            if track:
                loss += _softplus(-f if t == 0 else f)
            if f >= MAX_EXP or f <= -MAX_EXP:
                continue  # saturated: no update (gensim's rule)
            g = (labels[t] - sig[int((f + MAX_EXP) * (EXP_TABLE_SIZE / MAX_EXP / 2.0))]) * alpha
            if defer_output:
                go = grad_out[t]
                for k in range(dim):
                    neu1e[k] += g * out[k]
                    go[k] += g * inp[k]
            elif freeze and lock1[targets[t]]:
                for k in range(dim):
                    neu1e[k] += g * out[k]
            else:
                for k in range(dim):
                    neu1e[k] += g * out[k]
                    out[k] += g * inp[k]
        if freeze and lock0[buf[j]]:
            continue
        for k in range(dim):
            inp[k] += neu1e[k]
    if not defer_output:
        return state, loss, pairs
    for t in range(n_t):
        if freeze and lock1[targets[t]]:
            continue
        out = syn1[targets[t]]
        go = grad_out[t]
        for k in range(dim):
            out[k] += go[k]
    return state, loss, pairs

@njit(cache=True, inline="always", fastmath=True)
def _sg_units_noise(h, center, buf, i, lo, hi, syn1, negative, weight, share, state, sig, prob, alias, track,
                    lock1, freeze, grad):
    """``negative`` shared noise words for the context words of one group, each update weighted by
    ``weight`` (``alpha`` times the ``share`` of per-pair draws it stands for); ``h``'s gradient is
    added to ``grad``. A draw equal to the center or to a context word of the window is skipped."""
    loss = 0.0
    for d in range(negative):
        state, r = next_u64(state)
        t = _alias_draw(r, prob, alias)
        clash = t == center
        for j in range(lo, hi):
            if j != i and buf[j] == t:
                clash = True
        if clash:
            continue
        f = _output_update(h, syn1[t], np.float32(0.0), weight, sig, grad, freeze and lock1[t] != 0)
        if track:
            loss += share * _softplus(f)
    return state, loss


@njit(cache=True, inline="always", fastmath=True)
def _sg_units_step(buf, i, lo, hi, syn0, syn1, table, negative, alpha, state, sig, unit_ptr, unit_idx, h, neu1e,
                   shared, prob, alias, track, lock0, lock1, freeze, h0, n_out, targets, scores):
    """fastText's skip-gram (Bojanowski et al. 2017) for one center ``buf[i]``: the center's input
    vector ``h`` is the mean of its rows ``syn0[unit_idx[unit_ptr[w]:unit_ptr[w + 1]]]`` (its own
    word row and its subword units); it predicts every context word ``buf[lo:hi]`` in turn (output
    rows updated pair by pair) against ``negative`` noise words drawn from the alias table
    ``prob``/``alias`` (it stays in cache): for each pair, as fastText does (``shared`` false:
    ``_pair_step``), or with ``shared`` for every ``UNIT_NOISE_GROUP`` context words (pWord2Vec's
    sharing, Ji et al. 2016), each update weighted to stand for the per-pair draws and a draw equal
    to the center or to a context word of the window skipped (fewer output rows a pair; lower on
    SimLex: docs/benchmarks.md). As in fastText every row gets the full gradient of ``h``, and each
    pair sees the rows as the previous pairs left them: the rows are written once, at the end of
    the window, with the summed gradient, and ``h`` (their mean) moves by each pair's gradient as it
    goes, which is the same arithmetic at the cost of one vector operation a pair instead of a
    recomposition. Returns the random state and, with ``track``, the window's summed loss and its
    number of pairs (else 0, 0); a shared noise word counts as many times as its update weighs it.
    ``h0``: scratch (dim,); ``targets`` int64 / ``scores`` float32 (negative + 1,): scratch of
    ``_pair_step``. Context words with ids from ``n_out`` on (centers only) are not predicted."""
    dim = syn0.shape[1]
    center = buf[i]
    r0 = unit_ptr[center]
    r1 = unit_ptr[center + 1]
    if r1 <= r0:
        return state, 0.0, 0
    h[:] = 0.0
    for p in range(r0, r1):
        row = syn0[unit_idx[p]]
        for k in range(dim):
            h[k] += row[k]
    inv = np.float32(1.0 / (r1 - r0))
    for k in range(dim):
        h[k] *= inv
    neu1e[:] = 0.0
    # h0: the composed vector before the window's updates; h is h0 + neu1e after every pair
    for k in range(dim):
        h0[k] = h[k]
    n_ctx = 0
    loss = 0.0
    if not shared:
        for j in range(lo, hi):
            if j == i or buf[j] >= n_out:
                continue
            n_ctx += 1
            state, pl = _pair_step(h, buf[j], syn1, prob, alias, negative, alpha, neu1e, state, sig, targets,
                                   scores, track, lock1, freeze)
            loss += pl
            for k in range(dim):
                h[k] = h0[k] + neu1e[k]
    else:
        in_group = 0
        for j in range(lo, hi):
            if j == i or buf[j] >= n_out:
                continue
            n_ctx += 1
            # the pair's positive update; its noise words come from the group's draws below
            state, pl = _negative_sampling_step(h, buf[j], syn1, table, 0, alpha, neu1e, state, sig, track, lock1,
                                                freeze)
            loss += pl
            in_group += 1
            if in_group == UNIT_NOISE_GROUP:
                for k in range(dim):
                    h[k] = h0[k] + neu1e[k]
                state, nl = _sg_units_noise(h, center, buf, i, lo, hi, syn1, negative, alpha * in_group,
                                            np.float32(in_group), state, sig, prob, alias, track, lock1, freeze, neu1e)
                loss += nl
                in_group = 0
            for k in range(dim):
                h[k] = h0[k] + neu1e[k]
        if in_group > 0:
            state, nl = _sg_units_noise(h, center, buf, i, lo, hi, syn1, negative, alpha * in_group,
                                        np.float32(in_group), state, sig, prob, alias, track, lock1, freeze, neu1e)
            loss += nl
    pairs = n_ctx if track else 0
    if n_ctx == 0:
        return state, loss, pairs
    for p in range(r0, r1):
        if freeze and lock0[unit_idx[p]]:
            continue
        row = syn0[unit_idx[p]]
        for k in range(dim):
            row[k] += neu1e[k]
    return state, loss, pairs


@njit(cache=True, parallel=True, fastmath=True)
def _sgns_kernel(tokens, offsets, bounds, syn0, syn1, table, keep, subsample, window, negative,
                 alpha0, min_alpha, done_before, total, seed, call_id, sg, max_len, shared_negatives,
                 defer_output, unit_ptr, unit_idx, alias_prob, alias_idx, loss_every, loss_acc, lock0, lock1, n_out):
    """One slice: chunk ``c`` trains the sequences ``bounds[c]:bounds[c + 1]`` with the random
    stream seeded by ``(seed, call_id * 65537 + c)``; ``loss_acc[c]`` gets the summed loss and the
    number of pairs of every ``loss_every``-th center word (0: none). ``lock0`` (syn0 rows) and
    ``lock1`` (syn1 rows), uint8: rows set there are read but never written (both empty: none).
    With subword units, ids from ``n_out`` on are centers only (never predicted)."""
    units = unit_ptr.shape[0] > 1
    freeze = lock0.shape[0] > 0
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
        loss_sum = 0.0
        loss_n = 0
        counter = 0
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
                track = False
                if loss_every > 0:
                    track = counter == 0
                    counter += 1
                    if counter == loss_every:
                        counter = 0
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
                    state, wl, wn = _sg_units_step(buf, i, lo, hi, syn0, syn1, table, negative, alpha32, state, sig,
                                                   unit_ptr, unit_idx, neu1, neu1e, shared_negatives, alias_prob,
                                                   alias_idx, track, lock0, lock1, freeze, grad_out[0], n_out,
                                                   targets, labels)
                elif sg and shared_negatives:
                    state, wl, wn = _sg_window_step(buf, i, lo, hi, syn0, syn1, table, negative, alpha32, state,
                                                    sig, targets, labels, grad_out, neu1e, defer_output, track,
                                                    lock0, lock1, freeze)
                elif sg:
                    wl = 0.0
                    wn = 0
                    for j in range(lo, hi):
                        if j == i:
                            continue
                        ctx = buf[j]
                        neu1e[:] = 0.0
                        state, pl = _negative_sampling_step(syn0[ctx], center, syn1, table, negative,
                                                            alpha32, neu1e, state, sig, track, lock1, freeze)
                        wl += pl
                        wn += 1
                        if freeze and lock0[ctx]:
                            continue
                        for k in range(dim):
                            syn0[ctx, k] += neu1e[k]
                else:
                    state, wl, wn = _cbow_step(buf, i, lo, hi, syn0, syn1, alias_prob, alias_idx, negative, alpha32,
                                               state, sig, targets, labels, neu1, neu1e, track, lock0, lock1, freeze)
                if track:
                    loss_sum += wl
                    loss_n += wn
        loss_acc[c, 0] = loss_sum
        loss_acc[c, 1] = loss_n


class Training(SGNSTraining):
    """The numba engine on the shared loop: an epoch is a run of slices of about
    :data:`SLICE_TOKENS` tokens (whole sequences), one kernel call each, parallel over chunks of
    sequences. A slice's random streams are seeded by ``(seed, call id, chunk)``, the call id
    counting slices from the run's start, so a run stopped at a slice boundary and resumed from
    its state (``syn0``, ``syn1``; epoch and slice index kept by the loop) goes on bit-identical
    with ``workers=1``. A checkpoint is offered after every slice (``epoch.maybe_checkpoint``)."""

    def __init__(self, tokens, offsets, counts, cfg: SGNSConfig, units=None, unit: str = "words",
                 start: SGNSStart | None = None):
        import numba

        self.cfg, self.tokens, self.offsets, self.unit = cfg, tokens, offsets, unit
        V = len(counts)
        if units is None:
            self.unit_ptr, self.unit_idx = np.zeros(1, dtype=np.int64), np.zeros(0, dtype=np.int32)
            n_rows = V
            self.n_out = V
        else:
            self.unit_ptr, self.unit_idx, n_rows, self.n_out = units  # as sgns_training hands them on
        n_out = self.n_out  # output rows; ids from here on are centers only (subword units)
        if start is None:
            self.syn0 = _init_vectors(n_rows, cfg.dim, cfg.seed)
            self.syn1 = np.zeros((n_out, cfg.dim), dtype=np.float32)
        else:
            self.syn0 = np.array(start.syn0, dtype=np.float32, order="C")
            self.syn1 = (np.zeros((n_out, cfg.dim), dtype=np.float32) if start.syn1 is None
                         else np.array(start.syn1, dtype=np.float32, order="C"))
        # rows read but never written (init= with freeze_existing): empty arrays mean none
        self.lock0 = np.zeros(0, dtype=np.uint8)
        self.lock1 = np.zeros(0, dtype=np.uint8)
        if start is not None and (start.frozen0 is not None or start.frozen1 is not None):
            self.lock0 = (np.zeros(n_rows, dtype=np.uint8) if start.frozen0 is None
                          else np.asarray(start.frozen0, dtype=np.uint8))
            self.lock1 = (np.zeros(n_out, dtype=np.uint8) if start.frozen1 is None
                          else np.asarray(start.frozen1, np.uint8))
        self.table = noise_table(counts[:n_out], cfg.ns_exponent)
        if cfg.sg and units is None:  # CBOW and subword units draw from the alias table (built in Python:
            # skip it for large graph vocabularies)
            self.alias_prob, self.alias_idx = np.ones(1, dtype=np.float32), np.zeros(1, dtype=np.int32)
        else:
            self.alias_prob, self.alias_idx = alias_table(counts[:n_out], cfg.ns_exponent)
        self.keep = keep_probabilities(counts, cfg.sample)
        n_seq = len(offsets) - 1
        self.max_len = int(np.diff(offsets).max()) if n_seq else 0
        per_epoch = int(offsets[-1])
        self.per_epoch = per_epoch
        self.total = float(max(per_epoch * cfg.epochs, 1))
        slice_tokens = max(SLICE_TOKENS, per_epoch // 100)
        cuts = np.searchsorted(offsets, np.arange(0, per_epoch, slice_tokens), side="left")
        cuts = np.unique(np.concatenate([cuts, [n_seq]]))
        self.slices = list(zip(cuts[:-1].tolist(), cuts[1:].tolist()))
        self.workers = max(1, min(cfg.workers, numba.config.NUMBA_NUM_THREADS))
        self.n_chunks = 1 if self.workers == 1 else self.workers * 4

    def _bounds(self, a: int, b: int) -> np.ndarray:
        offsets = self.offsets
        targets = np.linspace(offsets[a], offsets[b], self.n_chunks + 1)
        bounds = np.unique(np.clip(np.searchsorted(offsets, targets), a, b)).astype(np.int64)
        if bounds[0] != a:
            bounds = np.concatenate([[a], bounds])
        if bounds[-1] != b:
            bounds = np.concatenate([bounds, [b]])
        return bounds

    def run_epoch(self, epoch) -> None:
        import numba

        cfg, offsets = self.cfg, self.offsets
        e = epoch.number - 1
        n_slices = len(self.slices)
        prev_threads = numba.get_num_threads()
        numba.set_num_threads(self.workers)
        try:
            for k in range(epoch.start, n_slices):
                a, b = self.slices[k]
                bounds = self._bounds(a, b)
                loss_acc = np.zeros((len(bounds) - 1, 2), dtype=np.float64)
                done_before = float(e * self.per_epoch + offsets[a])
                _sgns_kernel(self.tokens, offsets, bounds, self.syn0, self.syn1, self.table, self.keep,
                             bool(cfg.sample > 0), cfg.window, cfg.negatives, cfg.learning_rate, cfg.min_learning_rate, done_before,
                             self.total, cfg.seed, e * n_slices + k, cfg.sg, self.max_len, cfg.shared_negatives,
                             cfg.defer_output, self.unit_ptr, self.unit_idx, self.alias_prob, self.alias_idx,
                             LOSS_EVERY, loss_acc, self.lock0, self.lock1, self.n_out)
                epoch.add(int(offsets[b] - offsets[a]), float(loss_acc[:, 0].sum()), int(loss_acc[:, 1].sum()))
                if k + 1 < n_slices:
                    epoch.maybe_checkpoint(k + 1)
        finally:
            numba.set_num_threads(prev_threads)

    def state(self) -> dict:
        return {"syn0": self.syn0, "syn1": self.syn1}

    def set_state(self, state: dict) -> None:
        self.syn0[...] = state["syn0"]
        self.syn1[...] = state["syn1"]

    def vectors(self) -> np.ndarray:
        return self.syn0

    def output_vectors(self) -> np.ndarray:
        return self.syn1


def training(tokens, offsets, counts, cfg: SGNSConfig, *, device, sharded, units, unit, start=None):
    """The backend's entry in the engine's registry (``device`` and ``sharded`` do not apply)."""
    return Training(tokens, offsets, counts, cfg, units, unit, start)
