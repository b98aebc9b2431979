"""Inputs checked against each other (issue 16, item 4): evaluators, GNN node data and ranking
refuse inputs that do not belong together, naming both and the counts, and warn on a partial
overlap. Every case has a known answer: how many keys match is set by construction."""
from __future__ import annotations

import logging

import numpy as np
import pytest
from click.testing import CliRunner

import embedkit as ek
from embedkit._overlap import MIN_OVERLAP
from embedkit.datasets.recsys import block_interactions, low_rank_interactions
from embedkit.exceptions import InputMismatchError
from embedkit.recsys.model import SKETCH_SIZE, seen_sketch
from embedkit_cli.main import cli

N = 40  # nodes 0..39: 0..19 class a, 20..39 class b


def _labels() -> dict:
    return {str(i): "a" if i < 20 else "b" for i in range(N)}


def _vectors(keys) -> ek.Embeddings:
    """Class a near (1, 0), class b near (0, 1): a classifier separates them perfectly."""
    rng = np.random.default_rng(0)
    rows = [[1.0, 0.0] if int(k) % N < 20 else [0.0, 1.0] for k in keys]
    return ek.Embeddings([str(k) for k in keys], np.asarray(rows) + 0.05 * rng.standard_normal((len(keys), 2)))


def _write_labels(path, labels: dict):
    path.write_text("".join(f"{k} {v}\n" for k, v in labels.items()))
    return path


@pytest.fixture
def warnings_of(caplog):
    caplog.set_level(logging.WARNING, logger="embedkit")
    return lambda: [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# ---- node classification ---------------------------------------------------------------------
def test_threshold_is_half():
    assert MIN_OVERLAP == 0.5


def test_node_classification_refuses_labels_of_another_graph(tmp_path):
    # the vectors hold nodes 30..529: 10 of the 40 labelled nodes (25% < 50%)
    vec = tmp_path / "other.txt"
    _vectors(range(30, 530)).export(vec)
    lab = _write_labels(tmp_path / "karate.labels", _labels())
    with pytest.raises(InputMismatchError) as e:
        ek.evaluate.node_classification(ek.load(vec), lab)
    msg = str(e.value)
    assert "10 of 40 labelled nodes" in msg and "karate.labels" in msg and "other.txt" in msg
    assert (e.value.matched, e.value.total) == (10, 40)


def test_node_classification_warns_on_partial_overlap_and_reports_counts(warnings_of):
    emb = _vectors(range(0, 30))  # 30 of the 40 labelled nodes have a vector
    m = ek.evaluate.node_classification(emb, _labels(), repeats=2)
    assert m["num_labelled"] == 30 and m["num_labels_given"] == 40
    assert m["accuracy"] == 1.0  # the classes are separable
    assert any("30 of 40 labelled nodes" in w for w in warnings_of())


def test_node_classification_full_overlap_is_silent(warnings_of):
    m = ek.evaluate.node_classification(_vectors(range(N)), _labels())
    assert m["num_labelled"] == m["num_labels_given"] == N
    assert not any("labelled nodes" in w for w in warnings_of())


def test_node_classification_exactly_half_passes_and_just_below_fails():
    half = _vectors(list(range(10)) + list(range(20, 30)))  # 20 of 40
    assert ek.evaluate.node_classification(half, _labels())["num_labelled"] == 20
    with pytest.raises(InputMismatchError):
        ek.evaluate.node_classification(_vectors(list(range(10)) + list(range(20, 29))), _labels())  # 19 of 40


def test_node_classification_refuses_nan_vectors_naming_the_key():
    emb = _vectors(range(N))
    emb.vectors[7] = np.nan
    with pytest.raises(ek.InputFormatError, match="NaN or inf.*'7'"):
        ek.evaluate.node_classification(emb, _labels())


@pytest.mark.parametrize("repeats", [0, -1])
def test_node_classification_repeats_must_be_positive(repeats):
    with pytest.raises(ek.InvalidParameterError, match="repeats"):
        ek.evaluate.node_classification(_vectors(range(N)), _labels(), repeats=repeats)


def test_cli_nodeclass_refuses_mismatched_files(tmp_path):
    vec = tmp_path / "vectors_grqc.txt"
    _vectors(range(30, 530)).export(vec)
    lab = _write_labels(tmp_path / "karate.labels", _labels())
    res = CliRunner().invoke(cli, ["evaluate", "nodeclass", str(vec), str(lab), "--repeats", "1"])
    assert res.exit_code == 2, res.output
    assert "vectors_grqc.txt" in res.output and "karate.labels" in res.output and "10 of 40" in res.output
    assert "accuracy" not in res.output


# ---- link prediction ------------------------------------------------------------------------
def _ring_graph():
    edges = [(i, (i + 1) % N) for i in range(N)] + [(i, (i + 5) % N) for i in range(0, N, 2)]
    return ek.read_graph((np.array([a for a, _ in edges]), np.array([b for _, b in edges])))


def test_link_prediction_refuses_vectors_of_another_graph():
    _, split = ek.split_edges(_ring_graph(), test_fraction=0.2, seed=0)
    other = ek.Embeddings([f"x{i}" for i in range(100)], np.random.default_rng(0).standard_normal((100, 8)))
    with pytest.raises(InputMismatchError, match=r"only 0 of 40 nodes"):
        ek.evaluate.link_prediction(other, split)


def test_link_prediction_partial_vectors_score_the_covered_pairs(warnings_of):
    g = _ring_graph()
    train_g, split = ek.split_edges(g, test_fraction=0.2, seed=0)
    emb = ek.train("deepwalk", train_g, dim=8, walks_per_node=5, walk_length=10, workers=1, seed=0, verbose=False)
    keep = [k for k in emb.keys if int(k) >= 4]  # 36 of 40 nodes
    part = ek.Embeddings(keep, emb.vectors[emb.rows(keep)])
    m = ek.evaluate.link_prediction(part, split)
    assert m["node_coverage"] == pytest.approx(36 / 40)
    pairs, labels = split.pairs()
    nodes = np.array([int(k) for k in split.nodes])
    covered = (nodes[pairs[:, 0]] >= 4) & (nodes[pairs[:, 1]] >= 4)
    assert m["num_test_edges"] == int(labels[covered].sum()) < len(split.test_pos)
    assert any("36 of 40 nodes" in w for w in warnings_of())


# ---- retrieval and triplets -----------------------------------------------------------------
def test_retrieval_refuses_labels_of_other_keys(tmp_path):
    lab = tmp_path / "classes.tsv"
    lab.write_text("".join(f"x{i} c{i % 2}\n" for i in range(10)) + "".join(f"{i} c{i % 2}\n" for i in range(3)))
    with pytest.raises(InputMismatchError) as e:
        ek.evaluate.retrieval(_vectors(range(N)), lab)
    assert "3 of 13 labelled keys" in str(e.value) and "classes.tsv" in str(e.value)


def test_retrieval_partial_warns_and_counts(warnings_of):
    labels = {**{str(i): "a" if i < 20 else "b" for i in range(N)}, "missing1": "a", "missing2": "b"}
    m = ek.evaluate.retrieval(_vectors(range(N)), labels, k=1)
    assert m["missing_keys"] == 2 and m["items"] == N and m["recall@1"] == 1.0
    assert any("40 of 42 labelled keys" in w for w in warnings_of())


def test_triplet_accuracy_refuses_unknown_triplets_and_warns_on_partial(tmp_path, warnings_of):
    emb = _vectors(range(N))
    bad = tmp_path / "t.tsv"
    bad.write_text("".join(f"x{i} x{i + 1} x{i + 2}\n" for i in range(8)) + "0 1 30\n")
    with pytest.raises(InputMismatchError, match=r"1 of 9 triplets.*t\.tsv"):
        ek.evaluate.triplet_accuracy(emb, bad)
    m = ek.evaluate.triplet_accuracy(emb, [("0", "1", "30"), ("21", "22", "3"), ("0", "1", "nope")])
    assert m["accuracy"] == 1.0 and m["triplets"] == 2 and m["oov_triplets"] == 1
    assert any("2 of 3 triplets" in w for w in warnings_of())


def test_similarity_warns_below_half_coverage(tmp_path, warnings_of):
    emb = ek.Embeddings(["a", "b", "c", "d"], [[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]])
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("a b 9\nc d 8\na c 1\nx y 5\nx z 4\ny z 3\nq r 2\n")  # 3 of 7 scored
    m = ek.evaluate.similarity(emb, dataset=str(pairs))
    assert m["pairs"] == 3 and m["oov_pairs"] == 4
    assert any("3 of 7 word pairs" in w for w in warnings_of())


# ---- ranking against the model's training interactions -------------------------------------
@pytest.fixture(scope="module")
def recsys():
    inter = block_interactions(blocks=4, users_per_block=10, items_per_block=8, density=1.0, seed=0)
    train, test = ek.split_interactions(inter, "random", test_fraction=0.2, seed=0)
    model = ek.train("popular", train)
    return train, test, model


def test_ranking_in_the_right_order_reports_no_overlap(recsys, warnings_of):
    train, test, model = recsys
    m = ek.evaluate.ranking(model, train, test, k=5)
    assert m["test_in_train"] == 0.0
    assert not any("training interactions" in w for w in warnings_of())


def test_ranking_refuses_train_and_test_swapped(recsys):
    train, test, model = recsys
    with pytest.raises(InputMismatchError, match=r"100\.0% of the test interactions.*swapped"):
        ek.evaluate.ranking(model, test, train, k=5)


def test_ranking_swapped_is_caught_from_the_fingerprint_of_a_model_saved_without_interactions(recsys, tmp_path):
    train, test, model = recsys
    model.save(tmp_path / "m.ekv", include_seen=False)
    loaded = ek.load(tmp_path / "m.ekv")
    assert loaded.seen is None and loaded.seen_sketch is not None
    with pytest.raises(InputMismatchError, match="swapped"):
        ek.evaluate.ranking(loaded, test, train, k=5)
    assert ek.evaluate.ranking(loaded, train, test, k=5)["test_in_train"] == 0.0


def test_ranking_partial_leak_is_warned_with_its_share(recsys, warnings_of):
    train, test, model = recsys
    # the test set plus a quarter as many training interactions: 20% of the new test set is in train
    tu, ti = _pairs(test)
    ru, ri = _pairs(train)
    extra = len(tu) // 4
    leaky = ek.read_interactions((np.concatenate([tu, ru[:extra]]), np.concatenate([ti, ri[:extra]])))
    m = ek.evaluate.ranking(model, train, leaky, k=5)
    assert m["test_in_train"] == pytest.approx(extra / (len(tu) + extra))
    assert any("training interactions of the model" in w for w in warnings_of())


def _pairs(inter):
    users = np.asarray(inter.users, dtype=object)[inter.user_of_entry()]
    items = np.asarray(inter.items, dtype=object)[inter.indices]
    return users, items


def test_ranking_refuses_test_of_another_data_set(recsys):
    train, _, model = recsys
    other = ek.read_interactions((np.array([f"v{i}" for i in range(30)]), np.array([f"j{i % 7}" for i in range(30)])))
    with pytest.raises(InputMismatchError, match=r"only 0 of 30 test interactions"):
        ek.evaluate.ranking(model, train, other, k=5)


def test_seen_sketch_estimates_the_overlap():
    inter = low_rank_interactions(num_users=600, num_items=400, per_user=40, seed=1)  # 24000 pairs
    model = ek.train("popular", inter)
    sketch_only = ek.FactorModel(model.users, model.items, seen_sketch=seen_sketch(*model.seen, model.num_items))
    assert sketch_only.seen_sketch.size == SKETCH_SIZE
    rng = np.random.default_rng(0)
    indptr, indices = model.seen
    # a set of 12000 pairs: 30% training pairs, 70% pairs that are not
    keys_train = np.repeat(np.arange(model.num_users), np.diff(indptr)) * model.num_items + indices
    taken = set(keys_train.tolist())
    pick = rng.choice(keys_train, 3600, replace=False)
    fresh = [k for k in rng.choice(model.num_users * model.num_items, 20000, replace=False) if k not in taken][:8400]
    keys = np.sort(np.concatenate([pick, np.array(fresh)]))
    rows, cols = keys // model.num_items, keys % model.num_items
    q_indptr = np.searchsorted(rows, np.arange(model.num_users + 1))
    share, checked, exact = sketch_only.seen_overlap(q_indptr, cols)
    assert not exact and checked >= 100
    assert share == pytest.approx(0.3, abs=0.1)
    assert model.seen_overlap(q_indptr, cols) == (pytest.approx(0.3), 12000, True)


# ---- GNN node data against the graph --------------------------------------------------------
def _edge_file(tmp_path):
    p = tmp_path / "ring.edgelist"
    p.write_text("".join(f"{i} {(i + 1) % N}\n{i} {(i + 5) % N}\n" for i in range(N)))
    return p


def test_node_data_refuses_labels_of_another_graph(tmp_path):
    g = _edge_file(tmp_path)
    lab = _write_labels(tmp_path / "y.csv", {str(1000 + i): v for i, v in enumerate(_labels().values())})
    with pytest.raises(InputMismatchError) as e:
        ek.read_node_data(g, labels=lab)
    assert "0 of 40 labelled nodes" in str(e.value) and "y.csv" in str(e.value) and "ring.edgelist" in str(e.value)


def test_node_data_refuses_feature_rows_of_another_graph(tmp_path):
    g = _edge_file(tmp_path)
    f = tmp_path / "x.csv"
    f.write_text("".join(f"{1000 + i},0.5,0.25\n" for i in range(N)))
    with pytest.raises(InputMismatchError, match=r"0 of 40 feature rows.*x\.csv.*ring\.edgelist"):
        ek.read_node_data(g, features=f)


def test_node_data_partial_labels_warn_and_add_isolated_nodes(tmp_path, warnings_of):
    g = _edge_file(tmp_path)
    labels = {**_labels(), "500": "a", "501": "b"}  # 40 of 42 on the graph
    d = ek.read_node_data(g, labels=_write_labels(tmp_path / "y.txt", labels))
    assert d.graph.num_nodes == 42
    assert any("40 of 42 labelled nodes" in w and "isolated" in w for w in warnings_of())


def test_cli_train_gcn_refuses_labels_of_another_graph(tmp_path):
    g = _edge_file(tmp_path)
    lab = _write_labels(tmp_path / "y.csv", {str(1000 + i): v for i, v in enumerate(_labels().values())})
    out = tmp_path / "out.txt"
    res = CliRunner().invoke(cli, ["train", "gcn", str(g), "--labels", str(lab), "-o", str(out), "--epochs", "2",
                                   "--quiet"])
    assert res.exit_code == 2, res.output
    assert "y.csv" in res.output and "ring.edgelist" in res.output and "0 of 40" in res.output
    assert not out.exists()
