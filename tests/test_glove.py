"""GloVe: the 1/d co-occurrence weighting, the loss falls, planted groups and analogies are learned."""
from __future__ import annotations

import numpy as np
import pytest

import embedkit as ek
from embedkit.engines.cooccurrence import cooccurrence, weight_table


def _brute_harmonic(seqs, vocab_size, window):
    m = np.zeros((vocab_size, vocab_size))
    for s in seqs:
        for i in range(len(s)):
            for j in range(i + 1, min(len(s), i + window + 1)):
                m[s[i], s[j]] += 1.0 / (j - i)
                m[s[j], s[i]] += 1.0 / (j - i)
    return m


@pytest.mark.parametrize("window", [3, 10, 20])
def test_harmonic_weighting_counts_one_over_distance(window):
    """GloVe's cooccur weighting: a pair at distance d counts 1/d (exact up to window 16, then
    rounded to 2**-22), the same for any chunking."""
    rng = np.random.default_rng(window)
    seqs = [rng.integers(0, 30, int(rng.integers(1, 60))) for _ in range(40)]
    tokens = np.concatenate(seqs).astype(np.int32)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in seqs])]).astype(np.int64)
    expect = _brute_harmonic(seqs, 30, window)
    for chunk in (7, 100_000):
        got = cooccurrence(tokens, offsets, 30, window, weighting="harmonic", verbose=False, chunk_tokens=chunk,
                           dense_words=8).toarray()
        np.testing.assert_allclose(got, expect, rtol=1e-6 if window <= 16 else 1e-5)
    assert weight_table("harmonic", 4)[0].tolist() == [0, 12, 6, 4, 3]
    with pytest.raises(ek.InvalidParameterError, match="weighting"):
        cooccurrence(tokens, offsets, 30, 2, weighting="cubic")


def _planted(seed=0, n=4000, other=0.0):
    """Two groups of 4 words; each group's words share its context words (``sea*`` or ``hill*``;
    with ``other``, each context word comes from the other group's with that probability).
    And 4 pairs ``a_i``/``b_i``: both with the private context words ``p_i*``, ``a_i`` also with
    the ``ra*`` words and ``b_i`` with the ``rb*`` words (or, with ``other``, the other side's):
    b_i - a_i is the same offset for every i (a planted analogy)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        kind = int(rng.integers(3))
        if kind < 2:
            word = f"{'fish' if kind == 0 else 'goat'}{int(rng.integers(4))}"
            sent = [f"{'sea' if (kind == 0) != (rng.random() < other) else 'hill'}{int(rng.integers(8))}"
                    for _ in range(4)]
            sent.insert(2, word)
        else:
            i = int(rng.integers(4))
            side = "a" if rng.random() < 0.5 else "b"
            rside = side if rng.random() >= other else ("b" if side == "a" else "a")
            sent = [str(rng.choice([f"p{i}x{k}" for k in range(4)])), f"{side}{i}",
                    str(rng.choice([f"r{rside}{k}" for k in range(4)]))]
            if rng.random() < 0.5:
                sent.reverse()
        out.append([str(t) for t in sent])
    return out


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_glove_learns_planted_groups_and_analogies(backend):
    # 10% of context words from the other group: with none, the biases explain the counts (one
    # level a group) and glove.c's vectors do not separate the groups either (within -0.67, across 0.34)
    data = _planted(other=0.1)
    emb = ek.train("glove", data, dim=16, window=3, epochs=30, min_count=1, workers=1, seed=0, backend=backend,
                   batch_size=512, verbose=False)
    loss = [h["loss"] for h in emb.meta["history"]]
    # converged and not diverging (numba's biases step at glove.c's rate: flat from about epoch 5)
    assert len(loss) == 30 and loss[-1] < 0.5 * loss[0] and max(loss[-5:]) <= 1.1 * min(loss[:-5]), loss
    fish = [f"fish{i}" for i in range(4)]
    goats = [f"goat{i}" for i in range(4)]
    within = min(emb.similarity(a, b) for g in (fish, goats) for a in g for b in g if a != b)
    across = max(emb.similarity(a, b) for a in fish for b in goats)
    assert within > across + 0.3, (within, across)
    # a_i : b_i :: a_j : ?, answered among the 8 planted words (3CosAdd, the three question words out)
    pair_words = [f"{s}{i}" for s in "ab" for i in range(4)]
    unit = emb.normalized()
    found = 0
    for i in range(4):
        for j in range(4):
            if i != j:
                target = unit[f"b{i}"] - unit[f"a{i}"] + unit[f"a{j}"]
                cands = [w for w in pair_words if w not in (f"a{i}", f"b{i}", f"a{j}")]
                found += max(cands, key=lambda w: float(unit[w] @ target)) == f"b{j}"
    # measured 9 of 12 with torch (chance: 2.4); numba follows glove.c's update (biases without eta)
    # and, as glove.c itself on this corpus (30 iterations, d16), finds 2: not asserted there
    if backend == "torch":
        assert found >= 7, found


def test_glove_torch_learns_at_the_default_batch_size_on_a_small_corpus():
    # planted_text(8000) has fewer co-occurrences than one default batch (65536), and frequent
    # words: before the batch cap and the AdaGrad order of _train_torch, one summed step an epoch
    # diverged (loss nan, 0 of the planted analogies; benchmarks/gpu_check.py's glove workload)
    from embedkit.datasets.synthetic import planted_text

    data = planted_text(8000, seed=0)
    emb = ek.train("glove", data.sentences, dim=64, window=5, epochs=30, min_count=1, seed=0, backend="torch",
                   device="cpu", verbose=False)
    loss = [h["loss"] for h in emb.meta["history"]]
    assert np.isfinite(loss).all() and loss[-1] < 0.1 * loss[0], loss
    found = np.mean([emb.analogy(a, b, c, k=1)[0][0] == d for a, b, c, d in data.analogies])
    assert found >= 0.6, found  # measured 1.0 (the numba backend: 0.8)


def test_glove_output_and_parameters(tmp_path):
    data = _planted(n=500)
    wc = ek.train("glove", data, dim=8, epochs=3, min_count=1, workers=1, verbose=False)
    w = ek.train("glove", data, dim=8, epochs=3, min_count=1, workers=1, verbose=False, add_context=False)
    assert wc.vectors.shape == w.vectors.shape == (len(wc), 8)
    assert wc.keys == ek.read_text(data, min_count=1).vocab  # most frequent first
    assert not np.allclose(wc.vectors, w.vectors)
    again = ek.train("glove", data, dim=8, epochs=3, min_count=1, workers=1, verbose=False)
    np.testing.assert_array_equal(wc.vectors, again.vectors)  # one thread: repeatable for a seed
    assert wc.meta["cooccurrence_nnz"] > 0 and wc.meta["backend"] == "numba"
    with pytest.raises(ek.InvalidParameterError, match="x_max"):
        ek.train("glove", data, x_max=0)
    path = tmp_path / "g.ekv"
    wc.save(path)
    np.testing.assert_array_equal(ek.load(path).vectors, wc.vectors)
