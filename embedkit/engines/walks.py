"""Random-walk generation, written once for DeepWalk and Node2Vec.

* Uniform (first-order) walks, weighted or not: DeepWalk (Perozzi et al., KDD 2014).
* Second-order biased walks with return parameter ``p`` and in-out parameter
  ``q``: Node2Vec (Grover & Leskovec, KDD 2016). From ``v``, having come from
  ``t``, the next node ``x`` is drawn with probability proportional to
  ``w(v, x) * alpha(t, x)`` where ``alpha = 1/p`` if ``x == t``, ``1`` if ``x`` is
  a neighbour of ``t`` and ``1/q`` otherwise.

No per-edge alias tables: second-order steps use rejection sampling (as in
KnightKing, Yang et al., SOSP 2019) against the first-order distribution with
envelope ``max(1, 1/q)``, the return edge handled as an outlier when ``1/p``
exceeds the envelope. A step tries at most :data:`MAX_REJECTIONS` + degree proposals,
then draws from the biased distribution exactly by a scan of the row (no dearer than
the proposals already made), so a step ends for
every finite ``p, q > 0`` (a degree-1 node at ``p = 1e6`` would otherwise need a
million proposals on average) and the distribution stays exactly node2vec's. The
factors are scaled by ``min(1, p, q)`` (:func:`biased_alphas`) so none overflows.
Memory is O(V + E): the CSR arrays and a per-row prefix
sum of the weights. A neighbour test is a binary search in ``t``'s sorted row.

CPU: a numba kernel, parallel over walks; each walk has its own random stream
seeded from ``(seed, walk index)``, so the same seed gives the same walks
whatever the thread count. GPU (or CPU torch): :func:`random_walks_torch`
advances every walker at once.

Walks are returned as an int32 matrix ``(num_walks, walk_length)`` of node rows,
padded with ``-1`` after a dead end (a node without out-edges in a directed graph).
:func:`walk_corpus` gives the same walks as the flat token stream the skip-gram
engine reads, produced in chunks of start nodes: in memory while the tokens fit a
budget (:func:`walk_memory_budget`, by default a quarter of the available memory),
else spooled to an anonymous temporary file and memory-mapped back, so the full
``(num_walks, walk_length)`` matrix never exists.
"""
from __future__ import annotations

import logging

import numpy as np
from .._jit import njit, prange

from ..exceptions import InvalidParameterError
from .._progress import progress
from ._rng import next_float, next_u64, seed_state

logger = logging.getLogger("embedkit")


@njit(cache=True, inline="always")
def _sample_neighbor(indptr, indices, cum, weighted, v, state):
    s = indptr[v]
    e = indptr[v + 1]
    if not weighted:
        state, r = next_u64(state)
        return state, indices[s + np.int64(r % np.uint64(e - s))]
    total = cum[e - 1]
    state, u = next_float(state)
    target = u * total
    lo = s
    hi = e - 1
    while lo < hi:  # first position with cum > target
        mid = (lo + hi) >> 1
        if cum[mid] > target:
            hi = mid
        else:
            lo = mid + 1
    return state, indices[lo]


@njit(cache=True, inline="always")
def _find(indices, s, e, x):
    """Position of x in the sorted slice indices[s:e], or -1."""
    lo = s
    hi = e
    while lo < hi:
        mid = (lo + hi) >> 1
        if indices[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    if lo < e and indices[lo] == x:
        return lo
    return -1


#: proposals a second-order step tries (plus one per neighbour, numba walker; rounds, torch
#: walker) before it samples the biased distribution exactly by a scan of the row
MAX_REJECTIONS = 16


def biased_alphas(p: float, q: float) -> tuple[float, float, float]:
    """node2vec's ``(1/p, 1, 1/q)`` (return, stay near, move away) scaled by ``min(1, p, q)``, so the
    largest is 1 and none overflows for any finite ``p, q > 0`` (only the ratios matter)."""
    m = min(1.0, p, q)
    return m / p, m, m / q


@njit(cache=True, inline="always")
def _alpha(indptr, indices, prev, x, a_ret, a_in, a_out):
    if x == prev:
        return a_ret
    if _find(indices, indptr[prev], indptr[prev + 1], x) >= 0:
        return a_in
    return a_out


@njit(cache=True)
def _exact_step(indptr, indices, weights, cum, weighted, cur, prev, a_ret, a_in, a_out, state):
    """One draw from ``w(cur, x) * alpha(prev, x)`` by a scan of ``cur``'s row: O(deg log deg)."""
    s = indptr[cur]
    e = indptr[cur + 1]
    total = 0.0
    for k in range(s, e):
        w = weights[k] if weighted else 1.0
        total += w * _alpha(indptr, indices, prev, indices[k], a_ret, a_in, a_out)
    if not total > 0.0:  # every weight underflowed (p, q hundreds of orders apart): first order
        return _sample_neighbor(indptr, indices, cum, weighted, cur, state)
    state, u = next_float(state)
    target = u * total
    acc = 0.0
    for k in range(s, e):
        w = weights[k] if weighted else 1.0
        acc += w * _alpha(indptr, indices, prev, indices[k], a_ret, a_in, a_out)
        if acc > target:
            return state, indices[k]
    return state, indices[e - 1]


@njit(cache=True, parallel=True)
def _walk_kernel(indptr, indices, weights, cum, weighted, starts, walk_length, p, q, seed, first_index, out):
    n_walks = starts.shape[0]
    m = min(1.0, p, q)  # biased_alphas, inlined
    a_ret = m / p
    a_in = m
    a_out = m / q
    envelope = max(a_in, a_out)
    first_order = p == 1.0 and q == 1.0
    for i in prange(n_walks):
        state = seed_state(seed, first_index + i)
        cur = starts[i]
        out[i, 0] = cur
        prev = -1
        for step in range(1, walk_length):
            s = indptr[cur]
            e = indptr[cur + 1]
            if e == s:
                for j in range(step, walk_length):
                    out[i, j] = -1
                break
            if first_order or prev < 0:
                state, nxt = _sample_neighbor(indptr, indices, cum, weighted, cur, state)
            else:
                total = cum[e - 1] if weighted else float(e - s)
                extra = 0.0
                if a_ret > envelope:
                    pos = _find(indices, s, e, prev)
                    if pos >= 0:
                        w_ret = weights[pos] if weighted else 1.0
                        extra = w_ret * (a_ret - envelope)
                nxt = -1
                # rejection sampling against the first-order distribution, at most
                # MAX_REJECTIONS + degree proposals (then the exact scan, O(degree), costs
                # no more than the proposals did): the acceptance can be as small as
                # min(alpha) / envelope (1e-6 at p = 1e6 on a degree-1 node). Either way
                # the draw follows node2vec's distribution exactly (an accepted proposal
                # does, whatever was rejected before).
                for _ in range(MAX_REJECTIONS + (e - s)):
                    state, u = next_float(state)
                    if u * (total * envelope + extra) < extra:
                        nxt = prev
                        break
                    state, x = _sample_neighbor(indptr, indices, cum, weighted, cur, state)
                    a = _alpha(indptr, indices, prev, x, min(a_ret, envelope), a_in, a_out)
                    state, u2 = next_float(state)
                    if u2 * envelope < a:
                        nxt = x
                        break
                if nxt < 0:
                    state, nxt = _exact_step(indptr, indices, weights, cum, weighted, cur, prev,
                                             a_ret, a_in, a_out, state)
            out[i, step] = nxt
            prev = cur
            cur = nxt
    return out


def row_prefix_sums(indptr: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Per-row inclusive prefix sums of the edge weights, float64, shape ``(nnz,)``."""
    cum = np.cumsum(weights, dtype=np.float64)
    row_start = np.repeat(indptr[:-1], np.diff(indptr))
    before = np.concatenate([[0.0], cum])[row_start]
    return cum - before


def walk_starts(num_nodes: int, walks_per_node: int, seed: int) -> np.ndarray:
    """Start nodes: ``walks_per_node`` rounds, each a fresh permutation of all nodes."""
    rng = np.random.default_rng(seed)
    return np.concatenate([rng.permutation(num_nodes) for _ in range(walks_per_node)]).astype(np.int64)


def _check_pq(p, q, caller) -> None:
    """``p`` and ``q`` must be finite numbers > 0 (nan, inf, 0 or negative have no node2vec meaning)."""
    for name, value in (("p", p), ("q", q)):
        try:
            ok = float(value) > 0 and np.isfinite(float(value))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InvalidParameterError(caller, name, "a finite number > 0", value)


def _checked_starts(graph, starts, walk_length, walks_per_node, seed, caller, p=1.0, q=1.0) -> np.ndarray:
    # the numba kernel does no bounds checks: a bad start or length would read or
    # write outside the arrays instead of failing
    _check_pq(p, q, caller)
    if int(walk_length) < 1:
        raise InvalidParameterError(caller, "walk_length", "an integer >= 1", walk_length)
    if starts is None:
        return walk_starts(graph.num_nodes, walks_per_node, seed)
    starts = np.asarray(starts, dtype=np.int64).ravel()
    if starts.size and (starts.min() < 0 or starts.max() >= graph.num_nodes):
        raise InvalidParameterError(caller, "starts", f"node rows in [0, {graph.num_nodes})",
                                    f"values {starts.min()}..{starts.max()}")
    return starts


def random_walks(graph, *, walk_length: int = 80, walks_per_node: int = 10, p: float = 1.0, q: float = 1.0,
                 seed: int = 0, workers: int | None = None, starts: np.ndarray | None = None,
                 verbose: bool | None = False) -> np.ndarray:
    """Walks on the CPU (numba). Returns int32 ``(num_walks, walk_length)``, ``-1`` padded.

    ``num_walks = walks_per_node * V`` unless ``starts`` is given. ``p = q = 1``
    gives uniform (DeepWalk) walks; weights are respected either way.
    """
    import numba

    starts = _checked_starts(graph, starts, walk_length, walks_per_node, seed, "random_walks", p, q)
    out = np.empty((len(starts), walk_length), dtype=np.int32)
    cum = row_prefix_sums(graph.indptr, graph.weights) if graph.weighted else np.zeros(1)
    prev_threads = numba.get_num_threads()
    if workers:
        numba.set_num_threads(max(1, min(workers, numba.config.NUMBA_NUM_THREADS)))
    indices = graph.indices.astype(np.int64, copy=False)
    weights = graph.weights.astype(np.float64)
    # chunks only to report progress: walk i always draws from stream (seed, i)
    chunk = max(20_000, len(starts) // 50)
    try:
        with progress(total=len(starts), desc="walks", verbose=verbose, unit="walk") as bar:
            for lo in range(0, len(starts), chunk):
                hi = min(len(starts), lo + chunk)
                _walk_kernel(graph.indptr, indices, weights, cum, bool(graph.weighted), starts[lo:hi],
                             int(walk_length), float(p), float(q), int(seed), lo, out[lo:hi])
                bar.update(hi - lo)
    finally:
        numba.set_num_threads(prev_threads)
    return out


def random_walks_torch(graph, *, walk_length: int = 80, walks_per_node: int = 10, p: float = 1.0,
                       q: float = 1.0, seed: int = 0, device="cpu", starts: np.ndarray | None = None,
                       max_walkers: int = 4_000_000) -> np.ndarray:
    """The same walks computed with torch, all walkers advanced at once (GPU or CPU).

    Same distribution as :func:`random_walks` (not the same random streams).
    Returns int32 ``(num_walks, walk_length)`` on the host, ``-1`` padded; computed
    ``max_walkers`` walks at a time (:func:`iter_walks_torch`).
    """
    starts = _checked_starts(graph, starts, walk_length, walks_per_node, seed, "random_walks_torch", p, q)
    result = np.empty((len(starts), walk_length), dtype=np.int32)
    lo = 0
    for block in iter_walks_torch(graph, walk_length=walk_length, p=p, q=q, seed=seed, device=device,
                                  starts=starts, max_walkers=max_walkers):
        result[lo:lo + block.shape[0]] = block
        lo += block.shape[0]
    return result


def iter_walks_torch(graph, *, walk_length: int, starts: np.ndarray, p: float = 1.0, q: float = 1.0,
                     seed: int = 0, device="cpu", max_walkers: int = 4_000_000):
    """:func:`random_walks_torch` block by block: yields int32 ``(<= max_walkers, walk_length)``
    host arrays, the walks from ``starts`` in order, from one random stream seeded with ``seed``."""
    import torch

    _check_pq(p, q, "iter_walks_torch")
    dev = torch.device(device)
    gen = torch.Generator(device=dev)
    gen.manual_seed(int(seed))
    n = graph.num_nodes
    indptr = torch.as_tensor(graph.indptr, device=dev)
    indices = torch.as_tensor(graph.indices.astype(np.int64), device=dev)
    deg = indptr[1:] - indptr[:-1]
    weighted = bool(graph.weighted)
    if weighted:
        w = torch.as_tensor(graph.weights.astype(np.float64), device=dev)
        gcum = torch.cumsum(w, 0)
        row_base = torch.cat([torch.zeros(1, dtype=torch.float64, device=dev), gcum])[indptr[:-1]]
        row_total = torch.cat([torch.zeros(1, dtype=torch.float64, device=dev), gcum])[indptr[1:]] - row_base
    rows = torch.repeat_interleave(torch.arange(n, device=dev), deg)
    keys = rows * n + indices  # sorted: CSR rows ascending, each row sorted

    def sample(cur):
        d = deg[cur]
        if weighted:
            u = torch.rand(cur.shape[0], generator=gen, device=dev, dtype=torch.float64)
            target = row_base[cur] + u * row_total[cur]
            pos = torch.searchsorted(gcum, target, right=True)
            pos = torch.minimum(torch.maximum(pos, indptr[cur]), indptr[cur + 1] - 1)
        else:
            u = torch.rand(cur.shape[0], generator=gen, device=dev)
            pos = indptr[cur] + torch.minimum((u * d).long(), d - 1)
        return indices[pos]

    def lookup(a, b):
        k = a * n + b
        pos = torch.searchsorted(keys, k).clamp(max=keys.shape[0] - 1)
        return pos, keys[pos] == k

    a_ret, a_in, a_out = biased_alphas(float(p), float(q))
    envelope = max(a_in, a_out)
    first_order = p == 1.0 and q == 1.0

    def exact(cc, pp):
        """One exact draw from ``w(c, x) * alpha(p, x)`` per walker: all their rows at once."""
        d = deg[cc]
        seg_end = torch.cumsum(d, 0)
        seg_start = seg_end - d
        owner = torch.repeat_interleave(torch.arange(cc.shape[0], device=dev), d)
        epos = indptr[cc][owner] + (torch.arange(owner.shape[0], device=dev) - seg_start[owner])
        x = indices[epos]
        po = pp[owner]
        _, adj = lookup(po, x)
        a = torch.where(x == po, torch.full(x.shape, a_ret, dtype=torch.float64, device=dev),
                        torch.where(adj, torch.full(x.shape, a_in, dtype=torch.float64, device=dev),
                                    torch.full(x.shape, a_out, dtype=torch.float64, device=dev)))
        bw = a * w[epos] if weighted else a
        csum = torch.cumsum(bw, 0)
        base = torch.cat([torch.zeros(1, dtype=torch.float64, device=dev), csum])[seg_start]
        tot = csum[seg_end - 1] - base
        u = torch.rand(cc.shape[0], generator=gen, device=dev, dtype=torch.float64)
        pos = torch.searchsorted(csum, base + u * tot, right=True)
        pos = torch.minimum(torch.maximum(pos, seg_start), seg_end - 1)
        # every factor underflowed (p, q hundreds of orders apart): a first-order step
        return torch.where(tot > 0, x[pos], sample(cc))

    for lo in range(0, len(starts), max_walkers):
        # a copy: ``cur`` is advanced in place and must not write into the caller's ``starts``
        cur = torch.tensor(np.asarray(starts[lo:lo + max_walkers]), device=dev, dtype=torch.long)
        walks = torch.full((cur.shape[0], walk_length), -1, dtype=torch.long, device=dev)
        walks[:, 0] = cur
        prev = torch.full_like(cur, -1)
        alive = deg[cur] > 0
        for step in range(1, walk_length):
            if not bool(alive.any()):
                break
            idx = torch.nonzero(alive).squeeze(1)
            c = cur[idx]
            pv = prev[idx]
            if first_order or step == 1:
                nxt = sample(c)
            else:
                nxt = torch.empty_like(c)
                pending = torch.arange(c.shape[0], device=dev)
                if weighted:
                    total = row_total[c]
                else:
                    total = deg[c].double()
                extra = torch.zeros(c.shape[0], dtype=torch.float64, device=dev)
                if a_ret > envelope:
                    pos, found = lookup(c, pv)
                    wret = (w[pos] if weighted else torch.ones_like(extra)) * found
                    extra = wret * (a_ret - envelope)
                # at most MAX_REJECTIONS rounds (see the numba kernel), then exact draws
                for _ in range(MAX_REJECTIONS):
                    if not pending.numel():
                        break
                    cc, pp = c[pending], pv[pending]
                    u = torch.rand(pending.shape[0], generator=gen, device=dev, dtype=torch.float64)
                    ret = u * (total[pending] * envelope + extra[pending]) < extra[pending]
                    x = sample(cc)
                    _, adj = lookup(pp, x)
                    a = torch.where(x == pp, torch.full_like(u, min(a_ret, envelope)),
                                    torch.where(adj, torch.full_like(u, a_in), torch.full_like(u, a_out)))
                    u2 = torch.rand(pending.shape[0], generator=gen, device=dev, dtype=torch.float64)
                    acc = (u2 * envelope < a) | ret
                    x = torch.where(ret, pp, x)
                    nxt[pending[acc]] = x[acc]
                    pending = pending[~acc]
                if pending.numel():
                    nxt[pending] = exact(c[pending], pv[pending])
            walks[idx, step] = nxt
            prev[idx] = c
            cur[idx] = nxt
            alive[idx] = deg[nxt] > 0
            # a walker at a dead end stops: the rest of its row stays -1
        yield walks.to(torch.int32).cpu().numpy()


#: walk tokens (int32) computed at once by :func:`walk_corpus`: a 64 MB buffer
WALK_CHUNK_TOKENS = 16_000_000
#: fraction of the available memory (``MemAvailable``) the walk tokens may take before they are spooled
WALK_MEMORY_FRACTION = 0.25


def walk_memory_budget(walk_memory_mb: float | None = None) -> int:
    """Bytes of walk tokens kept in memory; beyond it :func:`walk_corpus` spools them to disk.

    ``walk_memory_mb`` given: that many MB (``0`` spools always). ``None`` (the default):
    :data:`WALK_MEMORY_FRACTION` (a quarter) of ``MemAvailable`` in ``/proc/meminfo`` at the
    time of the call, or 2 GiB where that cannot be read. On a machine with 22 GiB available
    that is about 5.5 GiB, i.e. 1.4 billion walk steps (``V * walks_per_node * walk_length``).
    """
    if walk_memory_mb is not None:
        return int(float(walk_memory_mb) * 2**20)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(int(line.split()[1]) * 1024 * WALK_MEMORY_FRACTION)
    except (OSError, ValueError, IndexError):
        pass
    return 2 * 2**30


def walk_corpus(graph, *, walk_length: int = 80, walks_per_node: int = 10, p: float = 1.0, q: float = 1.0,
                seed: int = 0, workers: int | None = None, starts: np.ndarray | None = None,
                walk_memory_mb: float | None = None, chunk_tokens: int = WALK_CHUNK_TOKENS,
                verbose: bool | None = False, walker: str = "numba",
                device: str = "cpu") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The walks of :func:`random_walks` (or, ``walker="torch"``, of :func:`random_walks_torch`
    on ``device``) as skip-gram input, without the full walk matrix.

    Returns ``(tokens, offsets, counts)``: int32 ``(N,)`` node rows of every walk end to end
    (``-1`` padding removed, as :func:`walks_to_sequences` does), int64 ``(num_walks + 1,)``
    walk boundaries, and int64 ``(V,)`` occurrences of each node in ``tokens``. The numba
    walker's tokens are the same as ``walks_to_sequences(random_walks(...))`` for the same
    arguments (walk ``i`` draws from random stream ``(seed, i)`` whatever the chunking); the
    torch walker's are those of ``random_walks_torch(..., max_walkers=chunk walks)``.

    Walks are computed ``chunk_tokens // walk_length`` at a time (default 16M steps, a 64 MB
    buffer). When ``num_walks * walk_length * 4`` bytes exceed :func:`walk_memory_budget`
    (``walk_memory_mb``; default None: a quarter of the available memory) each chunk is
    written to an anonymous temporary file and ``tokens`` is a read-only ``np.memmap`` of it
    (deleted when the last reference goes); otherwise ``tokens`` is an in-memory array.
    """
    from ..data.corpus import _IntSpool

    starts = _checked_starts(graph, starts, walk_length, walks_per_node, seed, "walk_corpus", p, q)
    walk_length = int(walk_length)
    n_walks = len(starts)
    upper = n_walks * walk_length
    budget = walk_memory_budget(walk_memory_mb)
    # limit=1: every chunk is written out as it is appended (the chunk buffer is reused)
    spool = _IntSpool(limit=1) if upper * 4 > budget else None
    if spool is not None:
        logger.info("walks: %d walks x %d steps = %.2f GB of tokens exceed the %.2f GB walk memory budget; "
                    "spooling them to a temporary file", n_walks, walk_length, upper * 4 / 1e9, budget / 1e9)
    tokens = None if spool is not None else np.empty(upper, dtype=np.int32)
    offsets = np.zeros(n_walks + 1, dtype=np.int64)
    counts = np.zeros(graph.num_nodes, dtype=np.int64)
    per_chunk = max(1, int(chunk_tokens) // walk_length)
    if walker == "torch":
        blocks = iter_walks_torch(graph, walk_length=walk_length, starts=starts, p=p, q=q, seed=seed,
                                  device=device, max_walkers=per_chunk)
    else:
        blocks = _numba_walk_blocks(graph, starts, walk_length, p, q, seed, workers, per_chunk)
    pos = lo = 0
    with progress(total=n_walks, desc="walks", verbose=verbose, unit="walk") as bar:
        for out in blocks:
            hi = lo + out.shape[0]
            mask = out >= 0
            lengths = mask.sum(axis=1)
            np.cumsum(lengths, out=offsets[lo + 1:hi + 1])
            offsets[lo + 1:hi + 1] += pos
            flat = out.ravel() if lengths.sum() == out.size else out[mask]
            counts += np.bincount(flat, minlength=graph.num_nodes)
            if spool is not None:
                spool.append(flat)
            else:
                tokens[pos:pos + flat.size] = flat
            pos += flat.size
            bar.update(hi - lo)
            lo = hi
    tokens = spool.finish() if spool is not None else tokens[:pos]
    return tokens, offsets, counts


def _numba_walk_blocks(graph, starts, walk_length, p, q, seed, workers, per_chunk):
    """The numba walks from ``starts``, ``per_chunk`` at a time, in one reused int32 buffer."""
    import numba

    cum = row_prefix_sums(graph.indptr, graph.weights) if graph.weighted else np.zeros(1)
    indices = graph.indices.astype(np.int64, copy=False)
    weights = graph.weights.astype(np.float64)
    n_walks = len(starts)
    buf = np.empty((min(per_chunk, max(n_walks, 1)), walk_length), dtype=np.int32)
    prev_threads = numba.get_num_threads()
    if workers:
        numba.set_num_threads(max(1, min(workers, numba.config.NUMBA_NUM_THREADS)))
    try:
        for lo in range(0, n_walks, per_chunk):
            hi = min(n_walks, lo + per_chunk)
            out = buf[:hi - lo]
            _walk_kernel(graph.indptr, indices, weights, cum, bool(graph.weighted), starts[lo:hi],
                         walk_length, float(p), float(q), int(seed), lo, out)
            yield out
    finally:
        numba.set_num_threads(prev_threads)


def walks_to_sequences(walks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Padded walks -> (flat int32 tokens, int64 offsets of shape (num_walks + 1,))."""
    mask = walks >= 0
    lengths = mask.sum(axis=1)
    offsets = np.zeros(walks.shape[0] + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    tokens = walks[mask].astype(np.int32, copy=False)
    return tokens, offsets
