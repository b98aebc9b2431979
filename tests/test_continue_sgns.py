"""init= / freeze_existing= of the skip-gram family (issue 20): a vocabulary update on words,
and walks restricted to the affected region of a grown graph. Known answers: a new word lands
among its planted synonyms; a planted new community joins the right neighbours."""
import logging

import numpy as np
import pytest

import embedkit as ek
from embedkit.datasets.synthetic import planted_text
from embedkit.exceptions import InvalidParameterError

NEW = "bigg"  # a new word used exactly where "big" was: its planted synonym is "large"


@pytest.fixture(scope="module")
def texts():
    old = [s for s in planted_text(4000, seed=0).sentences if "big" not in s]
    new = [[NEW if w == "big" else w for w in s] for s in planted_text(2000, seed=1).sentences]
    return old, new


KW = dict(dim=24, epochs=5, min_count=1, workers=1, verbose=False, seed=0)


def _lands_among_synonyms(emb):
    top = [k for k, _ in emb.most_similar(NEW, 5)]
    assert "large" in top, top
    u = emb.normalized()
    # the planted synonym is closer than every word of the other synonym groups
    others = ["car", "automobile", "quick", "fast", "doctor", "physician"]
    assert u[NEW] @ u["large"] > max(u[NEW] @ u[w] for w in others)


@pytest.mark.parametrize("method,backend", [("skipgram", "numba"), ("cbow", "numba"), ("skipgram", "torch"),
                                            ("cbow", "torch")])
@pytest.mark.parametrize("freeze", [False, True])
def test_new_word_lands_among_its_synonyms(texts, method, backend, freeze):
    old, new = texts
    a = ek.train(method, old, backend=backend, **KW)
    assert NEW not in a
    b = ek.train(method, new, init=a, freeze_existing=freeze, backend=backend, **KW)
    assert len(b) == len(a) + 1 and b.meta["continued"]["new_keys"] == 1
    _lands_among_synonyms(b)
    same = [np.array_equal(a[k], b[k]) for k in a.keys]
    if freeze:
        assert all(same)  # every old row bit for bit
    else:
        assert not any(same[:10])  # the old rows trained on
        u, v = a.normalized(), b.normalized()
        assert np.mean([u[k] @ v[k] for k in a.keys]) > 0.9  # ... from where they were


def test_counts_merge_and_absent_keys_are_kept(texts):
    old, new = texts
    a = ek.train("skipgram", old, **KW)
    no_doctor = [s for s in new if "doctor" not in s]
    b = ek.train("skipgram", no_doctor, init=a, **KW)
    # "doctor" is absent from the new text: appended, its vector kept bit for bit, its count kept
    assert b.keys[-1] == "doctor" and b.meta["continued"]["absent_keys"] == 1
    assert np.array_equal(b["doctor"], a["doctor"])
    counts_a = dict(zip(a.keys, a.meta["counts"]))
    counts_b = dict(zip(b.keys, b.meta["counts"]))
    n_the = sum(s.count("the") for s in no_doctor)
    assert counts_b["the"] == counts_a["the"] + n_the
    assert counts_b[NEW] == sum(s.count(NEW) for s in no_doctor)
    assert counts_b["doctor"] == counts_a["doctor"]


def test_init_from_a_saved_file(texts, tmp_path, caplog):
    old, new = texts
    a = ek.train("cbow", old, **KW)
    a.save(tmp_path / "a.ekv")
    loaded = ek.load(tmp_path / "a.ekv")
    b = ek.train("cbow", new, init=loaded, freeze_existing=True, **KW)
    assert b.meta["continued"]["output_vectors"] == "restarted at zero"
    assert all(np.array_equal(a[k], b[k]) for k in a.keys)
    _lands_among_synonyms(b)
    # a previous result without counts: said in a warning, the new counts only
    bare = ek.Embeddings(a.keys, a.vectors)
    with caplog.at_level(logging.WARNING, logger="embedkit"):
        c = ek.train("cbow", new, init=bare, **KW)
    assert "no word/node counts" in caplog.text
    assert dict(zip(c.keys, c.meta["counts"]))["the"] == sum(s.count("the") for s in new)


def test_refusals(texts):
    old, new = texts
    a = ek.train("skipgram", old, **KW)
    with pytest.raises(InvalidParameterError, match="freeze_existing"):
        ek.train("skipgram", new, freeze_existing=True, **KW)
    with pytest.raises(InvalidParameterError, match="dim"):
        ek.train("skipgram", new, init=a, **{**KW, "dim": 8})
    with pytest.raises(InvalidParameterError, match="init"):
        ek.train("skipgram", new, init="a.ekv", **KW)
    with pytest.raises(InvalidParameterError, match="gensim"):
        ek.train("skipgram", new, init=a, backend="gensim", **KW)


# ---- graphs: a grown graph, walks from the affected region only ----

def _planted_graphs():
    """Three communities of 30 (the old graph); the grown graph adds a fourth community (new nodes,
    attached to community 0 by 3 edges) and 5 new nodes that each join community 2 (8 edges into it)."""
    import networkx as nx

    rng = np.random.default_rng(0)

    def dense(nodes, p):
        return [(a, b) for i, a in enumerate(nodes) for b in nodes[i + 1:] if rng.random() < p]
    comm = [[f"c{c}_{i}" for i in range(30)] for c in range(4)]
    old = sum((dense(c, 0.3) for c in comm[:3]), [])
    old += [(comm[a][rng.integers(30)], comm[b][rng.integers(30)]) for a in range(3) for b in range(a + 1, 3)
            for _ in range(3)]
    grown = old + dense(comm[3], 0.3) + [(comm[3][rng.integers(30)], comm[0][rng.integers(30)]) for _ in range(3)]
    joiners = [f"j{i}" for i in range(5)]
    grown += [(j, m) for j in joiners for m in rng.choice(comm[2], 8, replace=False)]
    return nx.Graph(old), nx.Graph(grown), joiners


GKW = dict(dim=16, walk_length=20, walks_per_node=10, window=5, workers=1, verbose=False, seed=0, epochs=2)


@pytest.mark.parametrize("method", ["deepwalk", "node2vec"])
@pytest.mark.parametrize("freeze", [False, True])
def test_planted_new_community_joins_the_right_neighbours(method, freeze):
    old, grown, joiners = _planted_graphs()
    a = ek.train(method, old, **GKW)
    b = ek.train(method, grown, init=a, freeze_existing=freeze, **GKW)
    cont = b.meta["continued"]
    assert cont["new_keys"] == 35
    # walks started at the 35 new nodes, the changed old ones and their neighbours: not all 125
    assert 35 < cont["walk_start_nodes"] < 100
    new_comm = [k for k in b.keys if k.startswith("c3_")]
    share = np.mean([np.mean([k.startswith("c3_") for k, _ in b.most_similar(x, 10)]) for x in new_comm])
    assert share > 0.9
    old_keys = set(a.keys)
    for j in joiners:  # a new node that joined community 2: its nearest old nodes are community 2's
        near = [k for k, _ in b.most_similar(j, 40) if k in old_keys][:5]
        assert sum(k.startswith("c2_") for k in near) >= 4, (j, near)
    if freeze:
        assert all(np.array_equal(a[k], b[k]) for k in a.keys)


def test_unchanged_graph_has_an_empty_region():
    from embedkit.graph._update import affected_nodes
    from embedkit.data.graph import read_graph

    old, grown, _ = _planted_graphs()
    a = ek.train("deepwalk", old, **GKW)
    assert affected_nodes("deepwalk", read_graph(old), a, 1, 10).sum() == 0
    assert (affected_nodes("deepwalk", read_graph(old), a, None, 10) == 10).all()
    bare = ek.Embeddings(a.keys, a.vectors)  # no signature: every node, said in a warning
    assert (affected_nodes("deepwalk", read_graph(grown), bare, 1, 10) == 10).all()
    # the grown graph: 10 walks at each new node, fewer at the changed old nodes, 1 at their neighbours
    g = read_graph(grown)
    walks = affected_nodes("deepwalk", g, a, 1, 10)
    is_new = np.array([k not in a for k in g.nodes])
    assert (walks[is_new] == 10).all() and 0 < walks[~is_new].sum() < 10 * (~is_new).sum() / 2
    # training on the unchanged graph: no walk starts, the vectors stay as they were
    b = ek.train("deepwalk", old, init=a, **GKW)
    assert b.meta["continued"]["walk_start_nodes"] == 0 and np.array_equal(a.vectors, b.vectors)


@pytest.mark.parametrize("method", ["skipgram", "deepwalk"])
def test_cli_init_and_freeze_existing(tmp_path, texts, method):
    from click.testing import CliRunner

    from embedkit_cli.main import cli

    if method == "skipgram":
        old, new = texts
        for name, sents in (("old.txt", old), ("new.txt", new)):
            (tmp_path / name).write_text("\n".join(" ".join(s) for s in sents) + "\n")
        opts = ["--dim", "16", "--epochs", "3", "--min-count", "1", "--workers", "1"]
    else:
        old, grown, _ = _planted_graphs()
        for name, g in (("old.txt", old), ("new.txt", grown)):
            (tmp_path / name).write_text("".join(f"{a} {b}\n" for a, b in g.edges()))
        opts = ["--dim", "16", "--walk-length", "20", "--walks-per-node", "5", "--window", "5", "--workers", "1"]
    runner = CliRunner()
    res = runner.invoke(cli, ["train", method, str(tmp_path / "old.txt"), "-o", str(tmp_path / "a.ekv"), "--quiet",
                              *opts])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["train", method, str(tmp_path / "new.txt"), "-o", str(tmp_path / "b.ekv"), "--quiet",
                              "--init", str(tmp_path / "a.ekv"), "--freeze-existing", *opts])
    assert res.exit_code == 0, res.output
    a, b = ek.load(tmp_path / "a.ekv"), ek.load(tmp_path / "b.ekv")
    assert len(b) > len(a) and b.meta["continued"]["frozen"]
    assert all(np.array_equal(a[k], b[k]) for k in a.keys)
    # the method without --init refuses --freeze-existing, naming it
    res = runner.invoke(cli, ["train", method, str(tmp_path / "new.txt"), "-o", str(tmp_path / "c.ekv"), "--quiet",
                              "--freeze-existing", *opts])
    assert res.exit_code != 0 and "freeze_existing" in res.output


@pytest.mark.parametrize("backend", ["numba", "torch"])
@pytest.mark.parametrize("freeze", [False, True])
def test_subword_vocabulary_update(texts, freeze, backend):
    old, new = texts
    kw = dict(KW, units="char", backend=backend)
    a = ek.train("subword", old, **kw)
    no_doctor = [s for s in new if "doctor" not in s]
    b = ek.train("subword", no_doctor, init=a, freeze_existing=freeze, **kw)
    assert type(b).__name__ == "SubwordEmbeddings" and b.meta["continued"]["new_keys"] == 1
    _lands_among_synonyms(b)
    assert np.array_equal(a["doctor"], b["doctor"])  # absent from the new text: kept
    pos = np.searchsorted(b.unit_keys, a.unit_keys)
    assert (b.unit_keys[pos] == a.unit_keys).all()  # every old unit is still there
    same_units = np.array_equal(b.unit_vectors[pos], a.unit_vectors)
    if freeze:
        assert all(np.array_equal(a[k], b[k]) for k in a.keys) and same_units
    else:
        assert not same_units
    with pytest.raises(InvalidParameterError, match="units"):
        ek.train("subword", no_doctor, init=a, **{**kw, "min_n": 2})


@pytest.mark.parametrize("freeze", [False, True])
def test_subword_update_with_rare_words_training_their_units(texts, freeze):
    # train_rare with init=: "doctor" (a previous word) occurs twice in the new text, below its
    # min_count of 3, and two new words occur once: "doctor" keeps its previous id (and, absent from
    # the new vocabulary, its vector), the new rare words train their units only
    old, new = texts
    kw = dict(KW, units="char", min_count=3)
    a = ek.train("subword", old, **kw)
    few = [s for s in new if "doctor" not in s] + [["the", "doctor", "was", "zorblex"], ["a", "doctor", "quimbat"]]
    b = ek.train("subword", few, init=a, freeze_existing=freeze, train_rare=True, **kw)
    assert b.meta["rare_words_trained"] == 2 and "doctor" in b.words and "zorblex" not in b.words
    assert np.array_equal(a["doctor"], b["doctor"])
    _lands_among_synonyms(b)
    if freeze:
        assert all(np.array_equal(a[k], b[k]) for k in a.keys)
    b.vector("zorblex")  # its units were trained (they are in the table)
    pos = np.minimum(np.searchsorted(b.unit_keys, b.units_of(["zorblex"])[1]), b.unit_keys.size - 1)
    assert (b.unit_keys[pos] == b.units_of(["zorblex"])[1]).all()
