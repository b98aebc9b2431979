"""The torch backend (the GPU engine; on the CPU it runs on one thread): skip-gram and CBOW in
minibatches of consecutive subsampled centers, with shared noise words; under ``torchrun`` the
processes' changed rows are combined every ``sync_every`` minibatches. See
:mod:`embedkit.engines.skipgram`.

The loss (history's ``loss``): word2vec's negative-sampling objective of a (context, center)
pair, ``-log sigma(u . v_center) - sum_noise log sigma(-u . v_noise)``, from the scores of
every :data:`LOSS_EVERY`-th minibatch (computed before its update); the shared noise words
count with the weight their update has (each stands for ``pairs * negative / noise words`` of
word2vec's per-pair draws); the mean over those minibatches' pairs (CBOW: centers)."""
from __future__ import annotations

import logging

import numpy as np

from ._common import SGNSConfig, SGNSTraining, _init_vectors, keep_probabilities, noise_table

logger = logging.getLogger("embedkit")

#: tokens per slice of an epoch (subsampled and laid out at once); a checkpoint inside an epoch
#: is written at a slice boundary
SLICE_TOKENS = 2_000_000
#: the loss is computed on every LOSS_EVERY-th minibatch
LOSS_EVERY = 4


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


def _capped_scatter_add(table, parts, dup_cap, load, keep=None):
    """``table[idx] += rows`` for each ``(idx, rows, weights)`` of ``parts`` (repeated
    indices add up), except that a row whose updates in this batch weigh more than ``dup_cap``
    in all gets its total scaled down to ``dup_cap`` updates' worth: they were all computed
    from the same stale values. ``weights``: the number of updates (pairs) each row of
    ``rows`` stands for; ``load``: a zero vector of the table's length, left zero (the work is
    O(batch), whatever the vocabulary size). ``keep``: a 0/1 vector of the table's length, 0 for
    rows that must not change (their updates are multiplied by 0), or None."""
    for idx, _, weights in parts:
        load.index_add_(0, idx, weights)
    scales = [dup_cap / load.index_select(0, idx).clamp_(min=dup_cap) for idx, _, _ in parts]
    for (idx, rows, _), scale in zip(parts, scales):
        load.index_fill_(0, idx, 0.0)
        if keep is not None:
            scale = scale * keep.index_select(0, idx)
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


class Training(SGNSTraining):
    """The torch engine on the shared loop. On the CPU the minibatches run on one thread
    (``workers`` is not used): the torch operations are small, and on 5M words of English
    (dim 100) splitting them over two threads, or computing two minibatches at once in two
    threads, was slower than one thread, and many times slower on a machine whose cores are busy.

    Under ``torchrun`` each process trains on its block of sequences (balanced by tokens; all of
    them when ``sharded``) with its own random streams, and
    :class:`~embedkit.distributed.RowSync` combines the processes' row changes every
    ``cfg.sync_every`` minibatches by ``cfg.sync_reduce`` (``counts`` stay global).

    An epoch is a run of slices of about :data:`SLICE_TOKENS` tokens; the state at a slice
    boundary (``syn0``, ``syn1``, the numpy and torch generators' states) is offered as a
    checkpoint (one process only), so a resumed run goes on bit-identical on the CPU."""

    def __init__(self, tokens, offsets, counts, cfg: SGNSConfig, device, sharded=False, unit="words", start=None,
                 units=None):
        import torch

        from ...distributed import RowSync, block, context

        dev = torch.device(device)
        self.dev, self.cfg, self.unit = dev, cfg, unit
        self.dist = dist = context(str(dev))
        if not sharded:
            a, b = block(offsets, dist)
            tokens, offsets = tokens[offsets[a]:offsets[b]], offsets[a:b + 1] - offsets[a]
        self.tokens, self.offsets = tokens, offsets
        seed = cfg.seed + 1_000_003 * dist.rank
        V = len(counts)
        # fastText's subword units: word w's input vector is the mean of the rows
        # unit_idx[unit_ptr[w]:unit_ptr[w + 1]] of an input table of n_rows rows; ids from n_out on
        # are centers only (never predicted, never drawn as noise words)
        n_rows, n_out = V, V
        self.units = None
        if units is not None:  # as sgns_training hands them on: (ptr, idx, n_rows, n_out)
            ptr, idx, n_rows, n_out = units
            self.units = (torch.as_tensor(ptr, dtype=torch.int64, device=dev),
                          torch.as_tensor(idx, dtype=torch.int64, device=dev), n_out)
        self.rng = np.random.default_rng(seed)
        self.gen = torch.Generator(device=dev)
        self.gen.manual_seed(seed)
        if start is None:
            self.syn0 = torch.as_tensor(_init_vectors(n_rows, cfg.dim, cfg.seed), device=dev)
        else:
            self.syn0 = torch.as_tensor(np.array(start.syn0, dtype=np.float32), device=dev)
        syn1 = None if start is None else start.syn1
        self.syn1 = (torch.zeros((n_out, cfg.dim), dtype=self.syn0.dtype, device=dev) if syn1 is None
                     else torch.as_tensor(np.array(syn1, dtype=np.float32), device=dev))
        # init= with freeze_existing: the frozen rows' updates are multiplied by 0, and their values
        # are written back after every slice (x + 0.0 turns -0.0 into +0.0: bit for bit needs it)
        self.keep0 = self.keep1 = None
        self.frozen = []
        for i, mask in enumerate((None, None) if start is None else (start.frozen0, start.frozen1)):
            if mask is not None and np.any(mask):
                table = (self.syn0, self.syn1)[i]
                rows = torch.as_tensor(np.flatnonzero(mask), device=dev)
                keep = torch.ones(table.shape[0], dtype=table.dtype, device=dev)
                keep[rows] = 0.0
                self.frozen.append((table, rows, table.index_select(0, rows).clone()))
                if i == 0:
                    self.keep0 = keep
                else:
                    self.keep1 = keep
        self.sync = RowSync([self.syn0, self.syn1], dist, every=cfg.sync_every, reduce=cfg.sync_reduce)
        self.load = torch.zeros(n_rows, dtype=self.syn0.dtype, device=dev)  # n_rows >= V >= n_out
        self.noise = _noise_sampler(counts[:n_out], cfg.ns_exponent, dev)
        self.keep = keep_probabilities(counts, cfg.sample)
        n_seq = len(offsets) - 1
        self.seq_id_all = np.repeat(np.arange(n_seq, dtype=np.int64), np.diff(offsets))
        per_epoch = int(offsets[-1])
        self.per_epoch = per_epoch
        self.total = max(per_epoch * cfg.epochs, 1)
        # slices of whole sequences, about SLICE_TOKENS tokens each
        cuts = np.unique(np.concatenate([np.searchsorted(offsets, np.arange(0, per_epoch, SLICE_TOKENS)), [n_seq]]))
        self.bounds = offsets[cuts]
        # centers per minibatch: batch_size counts (center, context) pairs, about window + 1 per
        # center; small inputs get small batches (at least ~1000 updates per epoch). Larger ones
        # cost accuracy: updates computed from the same stale vectors add up (skip-gram on 5M
        # words, 1 epoch: 7.4% analogy accuracy at 8192 pairs, 6.5% at 16384, 5.4% at 32768). Skip-gram
        # groups the n + 2w window rows, CBOW the n / 2 centers of each parity: multiples of ``unit``.
        W = cfg.window
        unit_rows = _sg_noise_words(cfg) if cfg.sg else 2 * max(1, cfg.centers_per_noise_draw)
        nb = max(unit_rows, min(cfg.batch_size // (W + 1), max(64, per_epoch // 1000)) // unit_rows * unit_rows)
        if cfg.sg:
            nb += (-(nb + 2 * W)) % unit_rows
        self.nb = nb

    def run_epoch(self, epoch) -> None:
        import torch

        prev_threads = torch.get_num_threads()
        if self.dev.type == "cpu":
            torch.set_num_threads(1)
        try:
            with torch.no_grad():
                self._epoch(epoch)
        finally:
            torch.set_num_threads(prev_threads)

    def _epoch(self, epoch) -> None:
        import torch

        cfg, dev, W, nb = self.cfg, self.dev, self.cfg.window, self.nb
        syn0, syn1 = self.syn0, self.syn1
        grads = _sg_grads if cfg.sg else _cbow_grads
        extra = {} if self.units is None else {"units": self.units}

        def draw(size):
            return self.noise(size, self.gen)

        bounds = self.bounds
        n_slices = len(bounds) - 1
        batch = 0
        for k in range(epoch.start, n_slices):
            a, b = int(bounds[k]), int(bounds[k + 1])
            done = (epoch.number - 1) * self.per_epoch + a
            tok, sid, span = _subsampled_stream(self.tokens[a:b], self.seq_id_all[a:b], self.keep, cfg.sample, W,
                                                self.rng)
            n_tok = span.shape[0]
            tok_t, sid_t, span_t = (torch.as_tensor(x, device=dev) for x in (tok, sid, span))
            loss = torch.zeros(2, dtype=torch.float64, device=dev)
            for s in range(0, n_tok, nb):
                n = min(nb, n_tok - s)
                frac = (done + (b - a) * s / n_tok) / self.total
                lr = max(cfg.min_learning_rate, cfg.learning_rate - (cfg.learning_rate - cfg.min_learning_rate) * frac)
                win_ids = tok_t[s:s + n + 2 * W]                       # (n + 2w,) window rows
                mask = _window_mask(sid_t[s:s + n + 2 * W], span_t[s:s + n], W).to(syn0.dtype)
                parts0, parts1 = grads(syn0, syn1, win_ids, mask, lr, draw, cfg,
                                       loss if batch % LOSS_EVERY == 0 else None, **extra)
                batch += 1
                _capped_scatter_add(syn0, parts0, cfg.dup_cap, self.load, self.keep0)
                _capped_scatter_add(syn1, parts1, cfg.dup_cap, self.load, self.keep1)
                self.sync.step([[part[0] for part in parts0], [part[0] for part in parts1]])
            for table, rows, values in self.frozen:
                table.index_copy_(0, rows, values)
            lsum, ln = loss.tolist()
            epoch.add(b - a, lsum, int(ln))
            if k + 1 < n_slices and not self.dist.active:
                epoch.maybe_checkpoint(k + 1)
        self.sync.finish()
        if self.dist.active:
            logger.info("skip-gram (torch): rank %d of %d trained %d tokens; %d synchronisations, %d rows sent",
                        self.dist.rank, self.dist.world, self.per_epoch, self.sync.syncs, self.sync.rows_sent)

    def state(self) -> dict:
        return {"syn0": self.syn0.cpu().numpy().copy(), "syn1": self.syn1.cpu().numpy().copy(),
                "rng": self.rng.bit_generator.state, "torch_rng": self.gen.get_state().numpy().copy()}

    def set_state(self, state: dict) -> None:
        import torch

        self.syn0.copy_(torch.as_tensor(state["syn0"]))
        self.syn1.copy_(torch.as_tensor(state["syn1"]))
        self.rng.bit_generator.state = state["rng"]
        self.gen.set_state(torch.as_tensor(np.asarray(state["torch_rng"], dtype=np.uint8)))

    def vectors(self) -> np.ndarray:
        return self.syn0.cpu().numpy()

    def output_vectors(self) -> np.ndarray:
        return self.syn1.cpu().numpy().copy()


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


def _composed(syn0, ids, unit_ptr, unit_idx):
    """fastText's input vectors of the words ``ids`` (m,): the mean of each word's rows
    ``unit_idx[unit_ptr[w]:unit_ptr[w + 1]]`` of ``syn0``, ``(m, d)``, with the rows' indices ``flat``
    and, for each, the position in ``ids`` of the word it belongs to (``owner``), for sending a
    word's gradient to every one of its rows."""
    import torch

    first = unit_ptr.index_select(0, ids)
    length = unit_ptr.index_select(0, ids + 1) - first
    owner = torch.repeat_interleave(torch.arange(ids.shape[0], device=ids.device), length)
    starts = torch.cumsum(length, 0) - length
    pos = torch.arange(owner.shape[0], device=ids.device) - starts.index_select(0, owner) + first.index_select(0, owner)
    flat = unit_idx.index_select(0, pos)
    U = torch.nn.functional.embedding_bag(flat, syn0, starts, mode="mean")
    return U, flat, owner


def _sg_grads(syn0, syn1, win_ids, mask, lr, draw, cfg: SGNSConfig, loss=None, units=None):
    """Skip-gram updates of one minibatch, as ``(syn0 parts, syn1 parts)`` for
    ``_capped_scatter_add``: every context word (window row ``r``, input vector ``u_r``)
    predicts each center whose window holds it (output vector ``c_i``) against noise words.

    The noise words are drawn for window rows, not per pair: a row is scored against
    ``kg``, about ``negative * (window + 1)``, of them, each standing for ``pairs(r) * negative / kg`` of
    word2vec's per-pair noise words, so the expected gradient is word2vec's; a set of ``kg``
    is shared by ``kg`` rows far apart in the minibatch. (Fewer noise words per row, more
    heavily weighted, cost analogy accuracy: 6.5% with 16, 5% with 8, against 7.3% with 32 on
    5M words of English.)

    ``loss``: None, or a float64 tensor ``(2,)`` that gets the minibatch's summed negative-sampling
    loss (each noise word weighted as its update is) and its number of pairs.

    ``units``: None, or ``(unit_ptr, unit_idx, n_out)`` for fastText's model (Bojanowski et al.
    2017): a window row's input vector is the mean of its word's rows (``_composed``), and its
    gradient goes, whole, to every one of them, as fastText's updates do; words from ``n_out`` on
    are never predicted (their pairs as centers are dropped).
    """
    import torch

    W, K = cfg.window, cfg.negatives
    G = kg = _sg_noise_words(cfg)                                     # rows per group, noise words per group
    m = win_ids.shape[0]                                              # n + 2w window rows
    n = m - 2 * W
    d = syn0.shape[1]
    ctr_ids = win_ids[W:m - W]                                        # (n,) centers
    if units is None:
        U = syn0.index_select(0, win_ids)                             # (m, d)
    else:
        unit_ptr, unit_idx, n_out = units
        U, flat, owner = _composed(syn0, win_ids, unit_ptr, unit_idx)
        predicted = ctr_ids < n_out
        mask = mask * predicted[:, None].to(mask.dtype)
        ctr_ids = torch.where(predicted, ctr_ids, 0)
    Cp, C = _padded(n, W, syn1)
    torch.index_select(syn1, 0, ctr_ids, out=C)                       # (n, d)
    Uw = U.unfold(0, 2 * W + 1, 1)                                   # (n, d, 2w+1) view
    score = torch.bmm(C[:, None, :], Uw)[:, 0]                        # (n, 2w+1)
    if loss is not None:
        loss[0] += (torch.nn.functional.softplus(-score) * mask).sum().double()
        loss[1] += mask.sum().double()
    g = (1.0 - torch.sigmoid(score)).mul_(mask).mul_(lr)             # (n, 2w+1)
    grad_C = torch.bmm(g[:, None, :], Uw.transpose(1, 2))[:, 0]       # (n, d)
    grad_U = torch.bmm(_skew(g, W)[:, None, :], _unfold_padded(Cp, W))[:, 0]   # (m, d)
    pairs = _skew(mask, W).sum(1)                                     # (m,) pairs per window row
    # noise words, shared by groups of G window rows
    Ug = _grouped(U, G)                                               # (groups, G, d)
    neg = draw(Ug.shape[0] * kg)
    N = syn1.index_select(0, neg).view(-1, kg, d)                     # (groups, kg, d)
    wrow = _grouped(pairs * (-lr * K / kg), G)[:, :, None]
    nscore = torch.bmm(Ug, N.transpose(1, 2))                         # (groups, G, kg)
    if loss is not None:
        loss[0] += (torch.nn.functional.softplus(nscore) * _grouped(pairs * (K / kg), G)[:, :, None]).sum().double()
    gn = torch.sigmoid(nscore).mul_(wrow)
    grad_U += _ungrouped(torch.bmm(gn, N), m)
    grad_N = torch.bmm(gn.transpose(1, 2), Ug).view(-1, d)
    rows0 = ((win_ids, grad_U, pairs) if units is None else
             (flat, grad_U.index_select(0, owner), pairs.index_select(0, owner)))
    return ([rows0],
            [(ctr_ids, grad_C, mask.sum(1)), (neg, grad_N, torch.ones_like(neg, dtype=mask.dtype))])


def _cbow_grads(syn0, syn1, win_ids, mask, lr, draw, cfg: SGNSConfig, loss=None):
    """CBOW updates of one minibatch (word2vec's cbow_mean=1), as for ``_sg_grads``: the mean
    ``h`` of each center's context vectors predicts the center against ``K`` noise words
    shared by ``G`` centers; ``h``'s gradient is added, undivided, to every context word's
    input vector.

    Neighbouring centers share most of their context words, and updates of all of them
    computed from the same stale vectors overshoot (about half a point of analogy accuracy
    lost on 5M words). So the even centers go first; the odd ones see the input vectors (this
    minibatch's copy) updated by them, as they would in word2vec's sequential pass.

    ``loss``: None, or a float64 tensor ``(2,)`` that gets the minibatch's summed loss (one term
    a center) and its number of centers.
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
        pscore = (h * Cp).sum(1)
        g_pos = (1.0 - torch.sigmoid(pscore)).mul_(valid[p::2]).mul_(lr)   # (n_p,)
        hg = _grouped(h, G)                                           # (groups, G, d)
        neg = draw(hg.shape[0] * K)
        N = syn1.index_select(0, neg).view(-1, K, d)                  # (groups, K, d)
        nscore = torch.bmm(hg, N.transpose(1, 2))
        if loss is not None:
            loss[0] += (torch.nn.functional.softplus(-pscore) * valid[p::2]).sum().double()
            loss[0] += (torch.nn.functional.softplus(nscore) * _grouped(valid[p::2], G)[:, :, None]).sum().double()
            loss[1] += valid[p::2].sum().double()
        g_neg = torch.sigmoid(nscore).mul_(_grouped(valid[p::2] * -lr, G)[:, :, None])
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


def training(tokens, offsets, counts, cfg: SGNSConfig, *, device, sharded, units, unit, start=None):
    """The backend's entry in the engine's registry (``units``: skip-gram only, checked before)."""
    return Training(tokens, offsets, counts, cfg, device, sharded, unit, start, units)
