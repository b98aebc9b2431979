"""Methods learn: quality on data with a known answer, not only shapes."""
from __future__ import annotations

import numpy as np
import pytest

import embedkit as ek

FAST = dict(dim=16, walks_per_node=10, walk_length=40, window=5, workers=1, verbose=False)


@pytest.mark.parametrize("name,extra", [("deepwalk", {}), ("node2vec", {"p": 1.0, "q": 0.5}),
                                        ("node2vec", {"p": 4.0, "q": 1.0})])
@pytest.mark.parametrize("seed", [0, 1])
def test_karate_factions_separate(name, extra, seed, karate, karate_labels):
    emb = ek.train(name, karate, seed=seed, **FAST, **extra)
    m = ek.evaluate.node_classification(emb, karate_labels, train_fraction=0.5, seed=0, repeats=10)
    assert m["accuracy"] >= 0.9, m


@pytest.mark.parametrize("backend", ["torch", "gensim"])
def test_other_skipgram_backends_learn_karate(backend, karate, karate_labels):
    emb = ek.train("node2vec", karate, q=0.5, seed=0, backend=backend, **FAST)
    m = ek.evaluate.node_classification(emb, karate_labels, train_fraction=0.5, seed=0, repeats=10)
    assert m["accuracy"] >= 0.85, m


def test_random_vectors_do_not_separate_karate(karate, karate_labels):
    """The floor the learning tests are measured against."""
    rng = np.random.default_rng(0)
    emb = ek.Embeddings(karate.nodes, rng.normal(size=(34, 16)))
    m = ek.evaluate.node_classification(emb, karate_labels, train_fraction=0.5, seed=0, repeats=10)
    assert m["accuracy"] < 0.75, m


@pytest.mark.parametrize("name", ["deepwalk", "node2vec"])
def test_held_out_edges_score_high_on_planted_partition(name, planted_partition):
    train_g, split = ek.split_edges(planted_partition, test_fraction=0.1, seed=0)
    emb = ek.train(name, train_g, seed=0, **FAST)
    m = ek.evaluate.link_prediction(emb, split)
    assert m["auc"] >= 0.9 and m["auc_dot"] >= 0.9, m
    assert m.primary == "auc"


def test_link_prediction_of_random_vectors_is_near_chance(planted_partition):
    train_g, split = ek.split_edges(planted_partition, test_fraction=0.1, seed=0)
    rng = np.random.default_rng(0)
    emb = ek.Embeddings(planted_partition.nodes, rng.normal(size=(planted_partition.num_nodes, 16)))
    m = ek.evaluate.link_prediction(emb, split)
    assert 0.3 < m["auc_dot"] < 0.7, m


def test_node2vec_q_changes_what_is_learned(karate):
    """Low q (outward, DFS-like) and high q (local, BFS-like) give different neighbourhoods."""
    a = ek.train("node2vec", karate, q=0.25, seed=0, **FAST)
    b = ek.train("node2vec", karate, q=4.0, seed=0, **FAST)
    top_a = {k for k, _ in a.most_similar("0", 5)}
    top_b = {k for k, _ in b.most_similar("0", 5)}
    assert top_a != top_b


def test_node2vec_spooled_walks_train_the_same_vectors():
    """walk_memory_mb=0 spools the walks to a temporary file that skip-gram reads memory-mapped;
    with one worker the vectors are bit-identical to the in-memory run (issue 9)."""
    import numpy as np

    import embedkit as ek

    g = ek.datasets.load("karate")
    kw = dict(dim=8, walk_length=10, walks_per_node=3, window=3, workers=1, seed=3, p=1.0, q=0.5, verbose=False)
    mem = ek.train("node2vec", g, **kw)
    spooled = ek.train("node2vec", g, walk_memory_mb=0, **kw)
    assert not mem.meta["walks_spooled"] and spooled.meta["walks_spooled"]
    np.testing.assert_array_equal(mem.vectors, spooled.vectors)
