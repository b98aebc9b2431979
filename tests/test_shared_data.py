"""Real benchmark graphs from ../shared/data (skipped when the folder is absent)."""
from __future__ import annotations

import pytest

import embedkit as ek

pytestmark = pytest.mark.data


def test_blogcatalog_mat_reads_as_published(shared_data):
    path = shared_data / "blogcatalog" / "blogcatalog.mat"
    g = ek.read_graph(path)
    assert (g.num_nodes, g.num_edges) == (10312, 333983)
    labels = ek.read_labels(path)
    assert len(labels) == 10312
    assert len({lab for labs in labels.values() for lab in labs}) == 39


def test_facebook_link_prediction(shared_data):
    g = ek.read_graph(shared_data / "facebook-ego" / "facebook_combined.txt")
    assert (g.num_nodes, g.num_edges) == (4039, 88234)
    train_g, split = ek.split_edges(g, test_fraction=0.1, seed=0)
    assert split.test_pos.shape == (8823, 2)
    emb = ek.train("node2vec", train_g, dim=32, walk_length=40, walks_per_node=5, window=5, q=0.5, seed=0,
                   workers=2, verbose=False)
    m = ek.evaluate.link_prediction(emb, split)
    assert m["auc"] >= 0.95, m


def test_mat_labels_follow_node_index_not_vector_order(shared_data):
    """Vectors stored in another order (as gensim writes them) still get the right labels."""
    import numpy as np

    path = shared_data / "blogcatalog" / "blogcatalog.mat"
    labels = ek.read_labels(path)
    rng = np.random.default_rng(0)
    # vectors that encode each node's first label: classification is then near perfect
    first = np.array([labs[0] if labs else 0 for labs in labels.values()])
    vec = np.eye(39)[first] + 0.01 * rng.normal(size=(len(first), 39))
    order = rng.permutation(len(first))
    emb = ek.Embeddings([str(i) for i in order], vec[order])
    m = ek.evaluate.node_classification(emb, path, train_fraction=0.5, seed=0, repeats=1)
    assert m["micro_f1"] > 0.5, m
