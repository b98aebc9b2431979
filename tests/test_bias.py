"""WEAT (embedkit/evaluate/bias.py): a planted association is found with a large effect and
p < 0.01, a shuffled space shows none, and the figures equal the formulas of Caliskan et al. 2017."""
from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

import embedkit as ek
from embedkit import Embeddings
from embedkit.evaluate._weat_sets import TESTS
from embedkit.evaluate.bias import permutation_p_value

X = [f"flower{i}" for i in range(8)]
Y = [f"insect{i}" for i in range(8)]
A = [f"nice{i}" for i in range(8)]
B = [f"nasty{i}" for i in range(8)]


def _space(strength: float, seed: int = 0, dim: int = 50, fillers: int = 500) -> Embeddings:
    """X leans towards A and Y towards B along one direction, by ``strength``; plus unrelated words."""
    rng = np.random.default_rng(seed)
    u = rng.standard_normal(dim)
    u /= np.linalg.norm(u)
    keys, rows = [], []
    for words, sign, scale in ((X, 1, strength), (Y, -1, strength), (A, 1, 1.0), (B, -1, 1.0)):
        for w in words:
            keys.append(w)
            rows.append(sign * scale * u * np.sqrt(dim) + rng.standard_normal(dim))
    keys += [f"filler{i}" for i in range(fillers)]
    rows += list(rng.standard_normal((fillers, dim)))
    return Embeddings(keys, np.array(rows))


def test_planted_association_is_found():
    emb = _space(strength=0.5)
    m = ek.evaluate.bias(emb, (X, Y), (A, B))
    assert m.primary == "effect_size" and m["effect_size"] > 1.5
    assert m["p_value"] < 0.01
    assert m["exact"] and m["permutations"] == 12870  # C(16, 8): every partition
    assert (m["n_x"], m["n_y"], m["n_a"], m["n_b"]) == (8, 8, 8, 8) and m["missing"] == []
    # swapping the attributes flips the sign; swapping the targets too
    assert ek.evaluate.bias(emb, (X, Y), (B, A))["effect_size"] == pytest.approx(-m["effect_size"])
    assert ek.evaluate.bias(emb, (Y, X), (A, B))["effect_size"] == pytest.approx(-m["effect_size"])
    assert ek.evaluate.bias(emb, (Y, X), (A, B))["p_value"] > 0.99


def test_shuffled_space_shows_no_effect():
    """Vectors shuffled over the vocabulary, 40 spaces: the effect is noise around 0 and the test is
    calibrated (about 1 in 20 below p = 0.05)."""
    effects, ps = [], []
    for seed in range(40):
        emb = _space(strength=0.5, seed=seed, fillers=2000)
        perm = np.random.default_rng(100 + seed).permutation(len(emb))
        m = ek.evaluate.bias(Embeddings(emb.keys, emb.vectors[perm]), (X, Y), (A, B))
        effects.append(m["effect_size"])
        ps.append(m["p_value"])
    assert abs(np.mean(effects)) < 0.2 and np.mean(np.abs(effects)) < 0.6  # planted: > 1.5
    assert sum(p < 0.05 for p in ps) <= 5  # 2 expected; 6 or more has probability < 0.05
    assert np.mean(ps) == pytest.approx(0.5, abs=0.15)  # p is uniform under no association


def test_figures_equal_the_formulas():
    emb = _space(strength=0.2, seed=3, fillers=0)
    unit = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)

    def s(w):
        v = unit[emb.index_of(w)]
        return np.mean([v @ unit[emb.index_of(a)] for a in A]) - np.mean([v @ unit[emb.index_of(b)] for b in B])

    sx, sy = [s(w) for w in X[:5]], [s(w) for w in Y[:5]]
    effect = (np.mean(sx) - np.mean(sy)) / np.std(sx + sy, ddof=1)
    stat = sum(sx) - sum(sy)
    every = list(combinations(range(10), 5))
    allv = np.array(sx + sy)
    p = np.mean([allv[list(c)].sum() - np.delete(allv, list(c)).sum() >= stat - 1e-12 for c in every])
    m = ek.evaluate.bias(emb, (X[:5], Y[:5]), (A, B))
    assert m["effect_size"] == pytest.approx(effect, rel=1e-5)
    assert m["statistic"] == pytest.approx(stat, rel=1e-5)
    assert m["p_value"] == pytest.approx(p) and m["permutations"] == 252


def test_sampled_permutations_agree_with_exact():
    s = np.random.default_rng(0).standard_normal(16) + np.r_[np.full(8, 0.4), np.zeros(8)]
    exact, n, is_exact = permutation_p_value(s, 8)
    assert is_exact and n == 12870
    sampled, n, is_exact = permutation_p_value(s, 8, permutations=5000, seed=1)
    assert not is_exact and n == 5000
    assert abs(sampled - exact) < 0.02  # 3 standard errors at p ~ 0.1
    assert permutation_p_value(s, 8, permutations=5000, seed=1)[0] == sampled  # seeded


def test_builtin_sets_and_missing_words():
    assert len(TESTS) == 10
    for name, (x, y, a, b) in TESTS.items():
        assert len(x[1]) == len(y[1]), name  # equal target sizes, as in the paper
        assert len(set(x[1])) == len(x[1]) and len(set(a[1])) == len(a[1])
    flowers, insects, pleasant, unpleasant = TESTS["weat1"]
    rng = np.random.default_rng(0)
    words = list(flowers[1][:10]) + list(insects[1][:10]) + list(pleasant[1]) + list(unpleasant[1])
    emb = Embeddings(words, rng.standard_normal((len(words), 10)))
    m = ek.evaluate.bias(emb, "flowers-insects", permutations=2000)
    assert (m["n_x"], m["n_y"], m["n_a"], m["n_b"]) == (10, 10, 25, 25)
    assert len(m["missing"]) == 30 and "zinnia" in m["missing"] and not m["exact"]
    assert m["targets"] == "flowers vs insects" and m["attributes"] == "pleasant vs unpleasant"
    # names are looked up lower-cased too (most word vectors are lower-cased)
    x, y, _, _ = TESTS["weat6"]
    lower = Embeddings([w.lower() for w in x[1] + y[1]] + ["c1", "c2", "f1", "f2"], rng.standard_normal((20, 10)))
    m = ek.evaluate.bias(lower, (x, y), ({"career": ["c1", "c2"]}, {"family": ["f1", "f2"]}))
    assert m["n_x"] == 8 and m["missing"] == [] and m["attributes"] == "career vs family"
    with pytest.raises(ek.EmptyInputError, match="'male names'"):
        ek.evaluate.bias(lower, (x, y), (["c1", "c2"], ["f1", "f2"]), lowercase=False)
    with pytest.raises(ek.InvalidParameterError, match="weat1"):
        ek.evaluate.bias(emb, "weat11")
    with pytest.raises(ek.InvalidParameterError, match="attributes"):
        ek.evaluate.bias(emb, (["a"], ["b"]))


def test_evaluate_bias_command(tmp_path):
    import json

    from click.testing import CliRunner

    from embedkit_cli.main import cli

    emb = _space(strength=0.5)
    flowers, insects, pleasant, unpleasant = TESTS["weat1"]
    renamed = {**dict(zip(X, flowers[1])), **dict(zip(Y, insects[1])), **dict(zip(A, pleasant[1])),
               **dict(zip(B, unpleasant[1]))}
    path = tmp_path / "v.ekv"
    Embeddings([renamed.get(k, k) for k in emb.keys], emb.vectors).save(path)
    res = CliRunner().invoke(cli, ["evaluate", "bias", str(path), "--test", "weat1", "--json",
                                   "--permutations", "5000"])
    assert res.exit_code == 0, res.output
    m = json.loads(res.output)
    want = ek.evaluate.bias(emb, (X, Y), (A, B), permutations=5000)
    assert m["effect_size"] == pytest.approx(want["effect_size"]) and m["n_x"] == 8 and len(m["missing"]) == 4 * 17
    res = CliRunner().invoke(cli, ["evaluate", "bias", str(path), "--test", "weat1"])
    assert res.exit_code == 0 and "effect_size" in res.output and "missing_words" in res.output
