"""The skip-gram / CBOW engine on integer sequences with a known structure."""
from __future__ import annotations

import numpy as np
import pytest

from embedkit.engines.skipgram import SGNSConfig, alias_table, keep_probabilities, noise_table, train_sgns


def _group_sequences(n_groups=5, per_group=8, n_seq=600, length=20, seed=0):
    """Each sequence draws its tokens from one group: tokens of a group co-occur, others never."""
    rng = np.random.default_rng(seed)
    groups = rng.integers(0, n_groups, n_seq)
    tokens = (groups[:, None] * per_group + rng.integers(0, per_group, (n_seq, length))).astype(np.int32)
    offsets = np.arange(0, n_seq * length + 1, length, dtype=np.int64)
    counts = np.bincount(tokens.ravel(), minlength=n_groups * per_group)
    return tokens.ravel(), offsets, counts, np.repeat(np.arange(n_groups), per_group)


def _group_separation(vectors, group):
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    sim = unit @ unit.T
    same = group[:, None] == group[None, :]
    np.fill_diagonal(same, False)
    other = group[:, None] != group[None, :]
    return sim[same].mean(), sim[other].mean()


@pytest.mark.parametrize("backend,sg", [("numba", True), ("numba", False), ("torch", True), ("torch", False),
                                        ("gensim", True)])
def test_tokens_that_co_occur_end_up_close(backend, sg):
    tokens, offsets, counts, group = _group_sequences()
    cfg = SGNSConfig(dim=16, window=3, negatives=5, sample=0, epochs=3, sg=sg, seed=0, workers=1)
    vec = train_sgns(tokens, offsets, counts, cfg, backend=backend)
    assert vec.shape == (len(counts), 16) and vec.dtype == np.float32
    within, across = _group_separation(vec, group)
    assert within > 0.8 and across < within - 0.4, (within, across)
    # every token's nearest neighbour is from its own group
    unit = vec / np.linalg.norm(vec, axis=1, keepdims=True)
    sim = unit @ unit.T
    np.fill_diagonal(sim, -2)
    assert (group[sim.argmax(1)] == group).all()


@pytest.mark.parametrize("defer_output", [True, False], ids=["deferred", "pair-by-pair"])
def test_shared_negatives_learn_with_either_output_update(defer_output):
    """Shared (per-window) noise words, with the output rows' updates applied at the end of
    the window (text's setting) or pair by pair (walks'): both separate the groups, and the
    two are different computations."""
    tokens, offsets, counts, group = _group_sequences()
    cfg = SGNSConfig(dim=16, window=3, negatives=5, sample=0, epochs=3, seed=0, workers=1,
                     shared_negatives=True, defer_output=defer_output)
    vec = train_sgns(tokens, offsets, counts, cfg, backend="numba")
    within, across = _group_separation(vec, group)
    assert within > 0.8 and across < within - 0.4, (within, across)
    cfg.defer_output = not defer_output
    assert not np.array_equal(vec, train_sgns(tokens, offsets, counts, cfg, backend="numba"))


def test_walk_methods_update_output_rows_pair_by_pair_and_text_defers(monkeypatch, karate):
    import embedkit as ek
    from embedkit.graph import _walk_embedding
    from embedkit.text import word2vec

    seen = {}

    def spy(module, name):
        real = getattr(module, "sgns_training")

        def capture(tokens, offsets, counts, cfg, **kw):
            seen[name] = cfg.defer_output
            return real(tokens, offsets, counts, cfg, **kw)
        monkeypatch.setattr(module, "sgns_training", capture)

    spy(_walk_embedding, "node2vec")
    spy(word2vec, "skipgram")
    ek.train("node2vec", karate, dim=8, walks_per_node=2, walk_length=10, workers=1, verbose=False)
    ek.train("skipgram", [["a", "b", "c", "d"]] * 50, dim=8, min_count=1, workers=1, verbose=False)
    assert seen == {"node2vec": False, "skipgram": True}  # text keeps the deferred updates


def test_untrained_vectors_are_not_separated():
    """The floor: initial random vectors show no group structure."""
    tokens, offsets, counts, group = _group_sequences()
    cfg = SGNSConfig(dim=16, epochs=1, seed=0, workers=1, learning_rate=1e-12, min_learning_rate=0.0)
    vec = train_sgns(tokens, offsets, counts, cfg, backend="numba")
    within, across = _group_separation(vec, group)
    assert abs(within - across) < 0.1


def test_numba_engine_is_repeatable_with_one_worker():
    tokens, offsets, counts, _ = _group_sequences()
    cfg = SGNSConfig(dim=8, window=3, sample=1e-3, seed=5, workers=1)
    a = train_sgns(tokens, offsets, counts, cfg, backend="numba")
    b = train_sgns(tokens, offsets, counts, cfg, backend="numba")
    np.testing.assert_array_equal(a, b)


def test_torch_engine_is_repeatable_on_cpu():
    tokens, offsets, counts, _ = _group_sequences()
    cfg = SGNSConfig(dim=8, window=3, seed=5)
    a = train_sgns(tokens, offsets, counts, cfg, backend="torch", device="cpu")
    b = train_sgns(tokens, offsets, counts, cfg, backend="torch", device="cpu")
    np.testing.assert_array_equal(a, b)


def test_noise_table_follows_unigram_to_the_three_quarters():
    counts = np.array([1000, 100, 10, 1], dtype=np.float64)
    table = noise_table(counts, 0.75, size=1_000_000)
    freq = np.bincount(table, minlength=4) / table.size
    expected = counts ** 0.75 / (counts ** 0.75).sum()
    np.testing.assert_allclose(freq, expected, atol=1e-4)


def test_alias_table_is_exactly_unigram_to_the_three_quarters_and_cbow_draws_follow_it():
    counts = np.array([1000, 300, 0, 50, 7, 1, 0, 2500], dtype=np.int64)
    prob, alias = alias_table(counts, 0.75)
    want = counts ** 0.75 / (counts ** 0.75).sum()
    V = len(counts)
    got = prob / V + np.bincount(alias, weights=(1.0 - prob) / V, minlength=V)
    np.testing.assert_allclose(got, want, atol=1e-6)
    assert got[2] == 0 and got[6] == 0  # words that never occur are never drawn
    # the numba kernel's draw (CBOW's noise words) follows the same distribution
    from embedkit.engines.skipgram._numba import _alias_draw

    hits = np.zeros(V)
    for r in np.random.default_rng(0).integers(0, 2**64 - 1, 40_000, dtype=np.uint64, endpoint=True):
        hits[_alias_draw(r, prob, alias)] += 1
    np.testing.assert_allclose(hits / hits.sum(), want, atol=0.01)


def test_subsampling_keeps_rare_tokens_and_drops_frequent_ones():
    counts = np.array([1_000_000, 1000, 1], dtype=np.float64)
    keep = keep_probabilities(counts, 1e-3)
    assert keep[2] == 1.0 and keep[1] == 1.0
    t = 1e-3 * counts.sum()
    assert keep[0] == pytest.approx((np.sqrt(counts[0] / t) + 1) * t / counts[0], rel=1e-6)
    assert (keep_probabilities(counts, 0) == 1).all()


def _planted_corpus():
    import embedkit as ek
    from embedkit.datasets.synthetic import planted_text

    pt = planted_text(5000, seed=0)
    enc = ek.read_text(pt.sentences, min_count=1).encode()
    return pt, enc


def test_torch_cbow_solves_planted_analogies_and_neighbours():
    pt, enc = _planted_corpus()
    cfg = SGNSConfig(dim=32, window=5, negatives=5, epochs=5, sg=False, seed=0)
    vec = train_sgns(enc.tokens, enc.offsets, enc.counts, cfg, backend="torch", device="cpu")
    unit = vec / np.linalg.norm(vec, axis=1, keepdims=True)
    row = {w: i for i, w in enumerate(enc.words)}
    solved = 0
    for a, b, c, d in pt.analogies:  # 3CosAdd: b - a + c, the question words excluded
        scores = unit @ (unit[row[b]] - unit[row[a]] + unit[row[c]])
        scores[[row[a], row[b], row[c]]] = -np.inf
        solved += enc.words[int(scores.argmax())] == d
    assert solved >= 0.8 * len(pt.analogies), solved
    sim = unit @ unit.T
    np.fill_diagonal(sim, -np.inf)
    nearest = {w: enc.words[int(sim[row[w]].argmax())] for w in pt.neighbours}
    assert nearest == pt.neighbours


def test_torch_cbow_is_repeatable_on_cpu():
    tokens, offsets, counts, _ = _group_sequences()
    cfg = SGNSConfig(dim=8, window=3, sg=False, seed=5)
    a = train_sgns(tokens, offsets, counts, cfg, backend="torch", device="cpu")
    b = train_sgns(tokens, offsets, counts, cfg, backend="torch", device="cpu")
    np.testing.assert_array_equal(a, b)
    c = train_sgns(tokens, offsets, counts, SGNSConfig(dim=8, window=3, sg=False, seed=6), backend="torch")
    assert not np.array_equal(a, c)


def test_backends_are_found_through_the_registry(tmp_path, monkeypatch):
    """engines/skipgram/__init__.py dispatches through its backend registry: a registered backend module
    is imported when it first trains and gets the validated arrays; unknown names list the choices."""
    from embedkit.engines import skipgram

    (tmp_path / "ek_toy_backend.py").write_text(
        "import numpy as np\n"
        "from embedkit.engines.skipgram import SGNSTraining\n"
        "class Toy(SGNSTraining):\n"
        "    def __init__(self, tokens, offsets, counts, cfg):\n"
        "        self.v = np.zeros((len(counts), cfg.dim), np.float32)\n"
        "        self.step = tokens.dtype.itemsize + offsets.dtype.itemsize\n"
        "    def run_epoch(self, epoch):\n"
        "        self.v += self.step\n"
        "        epoch.add(1, 0.5, 1)\n"
        "    def state(self):\n"
        "        return {'v': self.v}\n"
        "    def set_state(self, state):\n"
        "        self.v[...] = state['v']\n"
        "    def vectors(self):\n"
        "        return self.v\n"
        "def training(tokens, offsets, counts, cfg, *, device, sharded, units, unit):\n"
        "    return Toy(tokens, offsets, counts, cfg)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(skipgram, "_BACKENDS", dict(skipgram._BACKENDS))
    monkeypatch.setattr(skipgram, "BACKENDS", skipgram.BACKENDS)
    assert skipgram.BACKENDS == ("auto", "numba", "torch", "gensim")
    skipgram.register_backend("toy", "ek_toy_backend")
    assert skipgram.BACKENDS[-1] == "toy"
    tokens, offsets, counts, _ = _group_sequences(n_seq=10)
    out = train_sgns(tokens.astype(np.int64), offsets.astype(np.int32), counts, SGNSConfig(dim=3, epochs=2),
                     backend="toy")
    assert out.shape == (len(counts), 3) and (out == 2 * (4 + 8)).all()  # int32 tokens, int64 offsets; 2 epochs
    with pytest.raises(ValueError, match=r"gensim.*toy.*got 'nope'"):  # the choices, then the name given
        train_sgns(tokens, offsets, counts, SGNSConfig(dim=3), backend="nope")
    with pytest.raises(Exception, match="'numba' or 'torch' \\(or 'auto'\\) with skip-gram for subword units"):
        train_sgns(tokens, offsets, counts, SGNSConfig(dim=3), backend="toy",
                   units=(np.arange(len(counts) + 1), np.arange(len(counts)), len(counts)))
