"""PPMI + SVD (``svd``) and its engines: co-occurrence counts, PPMI, truncated SVD.

Reference values are computed independently here, with explicit loops.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.sparse as sp

import embedkit as ek
from embedkit.datasets.synthetic import planted_text
from embedkit.engines.cooccurrence import cooccurrence
from embedkit.engines.lowrank import truncated_svd
from embedkit.engines.ppmi import ppmi


def _brute_cooccurrence(seqs, vocab_size, window, dynamic):
    ref = np.zeros((vocab_size, vocab_size))
    for seq in seqs:
        for i, w in enumerate(seq):
            for j, c in enumerate(seq):
                d = abs(i - j)
                if 0 < d <= window:
                    ref[w, c] += (window - d + 1) / window if dynamic else 1.0
    return ref


def _flat(seqs):
    tokens = np.array([t for s in seqs for t in s], dtype=np.int32)
    offsets = np.concatenate([[0], np.cumsum([len(s) for s in seqs])]).astype(np.int64)
    return tokens, offsets


# ---- co-occurrence --------------------------------------------------------------------------
SEQS = [[0, 1, 2, 0], [1, 3], [2, 2]]


def test_cooccurrence_window_2_by_hand():
    tokens, offsets = _flat(SEQS)
    uniform = cooccurrence(tokens, offsets, 4, window=2, dynamic=False, verbose=False).toarray()
    # (0,1): positions 0-1 of seq 0 (d=1) and 3-1 (d=2); (0,2): 0-2 (d=2) and 2-3 (d=1);
    # (1,2): d=1; (1,3): seq 1; (2,2): seq 2, counted from both positions
    expected = np.array([[0, 2, 2, 0],
                         [2, 0, 1, 1],
                         [2, 1, 2, 0],
                         [0, 1, 0, 0]], dtype=float)
    np.testing.assert_array_equal(uniform, expected)
    dynamic = cooccurrence(tokens, offsets, 4, window=2, dynamic=True, verbose=False).toarray()
    # distance 1 weighs (2 - 1 + 1) / 2 = 1, distance 2 weighs 1/2
    expected_dyn = np.array([[0, 1.5, 1.5, 0],
                             [1.5, 0, 1, 1],
                             [1.5, 1, 2, 0],
                             [0, 1, 0, 0]])
    np.testing.assert_allclose(dynamic, expected_dyn)
    # no pair crosses a boundary: seq 0 ends with 0, seq 1 is (1, 3), seq 2 starts with 2
    assert uniform[0, 3] == 0 and uniform[3, 2] == 0


@pytest.mark.parametrize("dynamic", [True, False])
def test_cooccurrence_chunks_dense_block_and_memmap_agree_with_brute_force(dynamic, tmp_path):
    rng = np.random.default_rng(0)
    vocab = 12
    # ids drawn with a skew that is not in id order, so the frequency relabelling runs too
    p = rng.dirichlet(np.full(vocab, 0.3))
    seqs = [list(rng.choice(vocab, size=rng.integers(1, 15), p=p)) for _ in range(40)]
    tokens, offsets = _flat(seqs)
    ref = _brute_cooccurrence(seqs, vocab, 3, dynamic)
    mm = np.memmap(tmp_path / "tokens.bin", dtype=np.int32, mode="w+", shape=tokens.shape)
    mm[:] = tokens
    mm.flush()
    for data in (tokens, np.memmap(tmp_path / "tokens.bin", dtype=np.int32, mode="r", shape=tokens.shape)):
        for chunk in (1, 7, 10_000):
            for dense in (0, 3, vocab):
                m = cooccurrence(data, offsets, vocab, 3, dynamic=dynamic, verbose=False, chunk_tokens=chunk,
                                 dense_words=dense)
                assert m.has_sorted_indices and m.dtype == np.float64
                np.testing.assert_allclose(m.toarray(), ref, rtol=1e-12, err_msg=f"chunk={chunk} dense={dense}")


def test_cooccurrence_rejects_ids_out_of_range():
    with pytest.raises(ek.InvalidParameterError, match=r"ids in \[0, 3\)"):
        cooccurrence(np.array([0, 5]), np.array([0, 2]), 3, 2)


# ---- PPMI --------------------------------------------------------------------------------------
@pytest.mark.parametrize("shift, cds", [(1.0, 0.75), (1.0, 1.0), (2.0, 0.75), (5.0, 0.5)])
def test_ppmi_equals_a_loop_over_the_definition(shift, cds):
    counts = np.array([[4, 0, 1, 2],
                       [0, 3, 0, 5],
                       [1, 1, 6, 0]], dtype=float)
    ref = np.zeros_like(counts)
    n_w = [sum(counts[w, c] for c in range(4)) for w in range(3)]
    n_c = [sum(counts[w, c] for w in range(3)) for c in range(4)]
    smoothed_total = sum(x ** cds for x in n_c)
    for w in range(3):
        for c in range(4):
            if counts[w, c] > 0:
                pmi = math.log(counts[w, c] * smoothed_total / (n_w[w] * n_c[c] ** cds))
                ref[w, c] = max(pmi - math.log(shift), 0.0)
    out = ppmi(sp.csr_matrix(counts), pmi_shift=shift, cds=cds)
    assert out.dtype == np.float32 and out.has_sorted_indices
    np.testing.assert_allclose(out.toarray(), ref, rtol=1e-6)
    assert (out.data > 0).all()  # zeros are not stored
    assert out.nnz == np.count_nonzero(ref)


def test_ppmi_row_blocks_do_not_change_the_result():
    m = sp.random(50, 40, density=0.2, random_state=0, format="csr") * 10
    np.testing.assert_array_equal(ppmi(m, block=7).toarray(), ppmi(m).toarray())


# ---- truncated SVD ---------------------------------------------------------------------------
@pytest.mark.parametrize("solver", ["sklearn", "torch"])
def test_truncated_svd_matches_dense_svd(solver):
    rng = np.random.default_rng(0)
    u0, _ = np.linalg.qr(rng.standard_normal((80, 80)))
    v0, _ = np.linalg.qr(rng.standard_normal((60, 60)))
    spectrum = np.concatenate([[20, 12, 8, 5, 3], 0.05 * rng.random(55)])
    dense = (u0[:, :60] * spectrum) @ v0.T
    u_ref, s_ref, vt_ref = np.linalg.svd(dense, full_matrices=False)
    u, s, vt = truncated_svd(sp.csr_matrix(dense), 5, n_iter=5, oversample=10, seed=0, backend=solver)
    assert u.shape == (80, 5) and s.shape == (5,) and vt.shape == (5, 60)
    np.testing.assert_allclose(s, s_ref[:5], rtol=1e-4)
    np.testing.assert_allclose(np.abs(u), np.abs(u_ref[:, :5]), atol=1e-3)
    np.testing.assert_allclose(np.abs(vt), np.abs(vt_ref[:5]), atol=1e-3)
    # signs as scikit-learn's svd_flip: the largest entry of each column of U is positive
    assert (u[np.abs(u).argmax(axis=0), np.arange(5)] > 0).all()


# ---- the method --------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def planted():
    return planted_text(2000, seed=0)


@pytest.fixture(scope="module")
def planted_vectors(planted):
    emb = ek.train("svd", planted.sentences, dim=20, min_count=1, seed=0, verbose=False)
    unit = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    return emb, unit, {k: i for i, k in enumerate(emb.keys)}


def test_planted_synonyms_are_nearest_neighbours(planted, planted_vectors):
    emb, unit, row = planted_vectors
    assert emb.keys == ek.read_text(planted.sentences, min_count=1).vocab  # most frequent first
    for word, partner in planted.neighbours.items():
        sims = unit @ unit[row[word]]
        sims[row[word]] = -np.inf
        assert emb.keys[int(np.argmax(sims))] == partner, word


def test_planted_analogies_are_solved(planted, planted_vectors):
    emb, unit, row = planted_vectors
    solved = 0
    for a, b, c, d in planted.analogies:  # a:b :: c:d, e.g. man:king :: woman:queen
        sims = unit @ (unit[row[b]] - unit[row[a]] + unit[row[c]])
        sims[[row[a], row[b], row[c]]] = -np.inf
        solved += emb.keys[int(np.argmax(sims))] == d
    assert ("man", "king", "woman", "queen") in planted.analogies
    assert solved == len(planted.analogies)  # 30 of 30 measured


def test_meta_and_vector_options(planted):
    emb = ek.train("svd", planted.sentences, dim=6, min_count=1, seed=0, verbose=False)
    m = emb.meta
    assert m["vocab_size"] == len(emb) and m["ppmi_nnz"] > 0 and m["cooccurrence_nnz"] >= m["ppmi_nnz"]
    for key in ("cooccurrence_time_s", "ppmi_time_s", "svd_time_s"):
        assert m[key] >= 0
    np.testing.assert_allclose(np.linalg.norm(emb.vectors, axis=1), 1.0, rtol=1e-5)
    raw = ek.train("svd", planted.sentences, dim=6, min_count=1, seed=0, normalize=False, eig=1.0, verbose=False)
    # without normalization and with eig=1 the squared row norms sum to the captured energy sum(S^2)
    s = np.asarray(raw.meta["singular_values"][:6])
    np.testing.assert_allclose((raw.vectors.astype(np.float64) ** 2).sum(), (s ** 2).sum(), rtol=1e-4)
    wc = ek.train("svd", planted.sentences, dim=6, min_count=1, seed=0, add_context=True, verbose=False)
    assert not np.allclose(wc.vectors, emb.vectors)
    np.testing.assert_allclose(np.linalg.norm(wc.vectors, axis=1), 1.0, rtol=1e-5)


def test_torch_solver_gives_the_same_vectors_on_cpu(planted):
    kw = dict(dim=8, min_count=1, seed=0, device="cpu", verbose=False)
    a = ek.train("svd", planted.sentences, backend="sklearn", **kw)
    b = ek.train("svd", planted.sentences, backend="torch", **kw)
    assert np.abs(a.vectors @ b.vectors.T).diagonal().min() > 0.999  # same directions up to sign


def test_karate_factions_separate(karate, karate_labels):
    emb = ek.train("svd", karate, dim=8, seed=0, verbose=False)
    assert emb.keys == karate.nodes
    scores = ek.evaluate.node_classification(emb, karate_labels, seed=0, repeats=5)
    assert scores["macro_f1"] >= 0.9  # 0.93-0.97 measured over seeds 0-4


def test_graph_forms_use_walks(karate):
    import networkx as nx

    emb = ek.train("svd", nx.karate_club_graph(), dim=4, walks_per_node=2, seed=0, verbose=False)
    assert emb.keys == list(range(34)) and emb.meta["source"] == "graph"
    emb = ek.train("svd", karate.to_scipy(), dim=4, walks_per_node=2, seed=0, verbose=False)
    assert len(emb) == 34


def test_empty_vocabulary_is_a_clear_error():
    with pytest.raises(ek.EmptyInputError, match="vocabulary is empty after min_count=50"):
        ek.train("svd", [["a", "b", "c"], ["a", "b"]], min_count=50, verbose=False)


def test_dim_larger_than_the_vocabulary_is_a_clear_error(karate):
    with pytest.raises(ek.InvalidParameterError, match=r"'dim' must be an integer <= 3 \(the number of words "
                                                       r"in the vocabulary\); got 10. lower dim"):
        ek.train("svd", [["a", "b", "c"], ["a", "b"]], dim=10, min_count=1, verbose=False)
    with pytest.raises(ek.InvalidParameterError, match=r"<= 34 \(the number of nodes in the graph\); got 100"):
        ek.train("svd", karate, verbose=False)


@pytest.mark.parametrize("bad", [dict(pmi_shift=0.5), dict(cds=0.0), dict(cds=1.5), dict(eig=2.0), dict(backend="arpack"),
                                 dict(min_count=0)])
def test_bad_parameters(bad):
    name = next(iter(bad))
    with pytest.raises(ek.InvalidParameterError, match=f"'{name}'"):
        ek.train("svd", [["a", "b"]], **bad)
