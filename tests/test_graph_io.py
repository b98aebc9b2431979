"""Reading graphs (embedkit.read_graph), link-prediction splits
(embedkit.split_edges) and node labels (embedkit.read_labels)."""
from __future__ import annotations

import gzip

import networkx as nx
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

import embedkit as ek
from embedkit.data.graph import Graph
from embedkit.data.split import sample_non_edges


def _write(tmp_path, name: str, text: str):
    path = tmp_path / name
    if name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _edges(g: Graph) -> dict:
    """{(node id, node id): weight} of every stored (directed) CSR entry."""
    return {(g.nodes[a], g.nodes[b]): float(w) for (a, b), w in zip(g.edge_array().tolist(), g.weights)}


def _csr_equal(a: Graph, b: Graph) -> None:
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_allclose(a.weights, b.weights)
    assert a.directed == b.directed and a.weighted == b.weighted


# ---- edge-list files --------------------------------------------------------------------
TRIANGLE_PLUS = {("1", "2"), ("2", "3"), ("1", "3"), ("3", "10")}


@pytest.mark.parametrize("sep", [" ", "\t", ",", ", ", "  \t "], ids=["space", "tab", "comma", "comma-space", "mixed-ws"])
def test_separators(tmp_path, sep):
    text = "".join(f"{u}{sep}{v}\n" for u, v in sorted(TRIANGLE_PLUS))
    g = ek.read_graph(_write(tmp_path, "g.edgelist", text))
    assert g.nodes == ["1", "2", "3", "10"]
    assert not g.weighted and not g.directed
    assert g.num_nodes == 4 and g.num_edges == 4
    und = {tuple(sorted((a, b))) for a, b in _edges(g)}
    assert und == {tuple(sorted(e)) for e in TRIANGLE_PLUS}


def test_comments_blank_lines_and_explicit_delimiter(tmp_path):
    text = "# a comment\n% another\n\n1;2\n  # indented comment\n2;3\n"
    g = ek.read_graph(_write(tmp_path, "g.txt", text), delimiter=";")
    assert g.nodes == ["1", "2", "3"]
    assert g.num_edges == 2
    with pytest.raises(ek.InputFormatError):  # ';' is no separator by default
        ek.read_graph(_write(tmp_path, "h.txt", text))


def test_weight_column_auto_detected(tmp_path):
    path = _write(tmp_path, "w.txt", "a b 0.5\nb c 2\nc a 1e-1\n")
    g = ek.read_graph(path)
    assert g.weighted
    assert g.nodes == ["a", "b", "c"]  # string ids keep first-appearance order
    e = _edges(g)
    assert e[("a", "b")] == e[("b", "a")] == pytest.approx(0.5)
    assert e[("b", "c")] == pytest.approx(2.0)
    assert e[("a", "c")] == pytest.approx(0.1)
    assert g.weights.dtype == np.float32
    # weighted=False ignores the third column
    u = ek.read_graph(path, weighted=False)
    assert not u.weighted and np.all(u.weights == 1)
    np.testing.assert_array_equal(u.indices, g.indices)
    # weighted=True on a two-column file is an error
    with pytest.raises(ek.InputFormatError, match="weight"):
        ek.read_graph(_write(tmp_path, "two.txt", "a b\n"), weighted=True)


def test_integer_ids_ordered_numerically(tmp_path):
    g = ek.read_graph(_write(tmp_path, "g.txt", "10 2\n2 1\n100 -3\n"))
    assert g.nodes == ["-3", "1", "2", "10", "100"]
    assert g.index_of(10) == 3 and g.index_of("100") == 4
    assert set(_edges(g)) >= {("10", "2"), ("2", "10"), ("2", "1"), ("100", "-3")}


def test_string_ids(tmp_path):
    g = ek.read_graph(_write(tmp_path, "g.tsv", "alice\tbob\nbob\tcarol\ncarol\t7\n"))
    assert g.nodes == ["alice", "bob", "carol", "7"]
    assert ("alice", "bob") in _edges(g) and ("7", "carol") in _edges(g)


def test_gzip(tmp_path):
    text = "# header\n1 2 1.5\n2 3 0.5\n"
    plain = ek.read_graph(_write(tmp_path, "g.txt", text))
    gz = ek.read_graph(_write(tmp_path, "g.txt.gz", text))
    _csr_equal(plain, gz)
    assert gz.nodes == plain.nodes == ["1", "2", "3"]


def test_duplicates_merged(tmp_path):
    g = ek.read_graph(_write(tmp_path, "g.txt", "1 2\n1 2\n2 1\n2 3\n"))
    assert g.num_edges == 2
    assert g.indices.shape[0] == 4  # 1-2 and 2-3, both directions, once each
    np.testing.assert_array_equal(g.weights, 1)
    # weighted duplicates add up
    w = ek.read_graph(_write(tmp_path, "w.txt", "1 2 1\n1 2 2.5\n2 3 1\n"))
    assert _edges(w)[("1", "2")] == pytest.approx(3.5)


def test_undirected_symmetric_directed_not(tmp_path):
    path = _write(tmp_path, "g.txt", "1 2 2.0\n2 3 3.0\n3 3 1.0\n")
    und = ek.read_graph(path)
    m = und.to_scipy().toarray()
    np.testing.assert_array_equal(m, m.T)
    np.testing.assert_array_equal(m, [[0, 2, 0], [2, 0, 3], [0, 3, 1]])
    assert und.num_edges == 3  # the self-loop counts once
    di = ek.read_graph(path, directed=True)
    assert di.directed
    np.testing.assert_array_equal(di.to_scipy().toarray(), [[0, 2, 0], [0, 0, 3], [0, 0, 1]])
    assert di.num_edges == 3
    np.testing.assert_array_equal(di.degree(), [1, 1, 1])


def test_csr_invariants(tmp_path):
    g = ek.read_graph(_write(tmp_path, "g.txt", "5 1\n3 1\n1 2\n4 5\n2 5\n"))
    assert g.indptr.dtype == np.int64 and g.indices.dtype == np.int32
    for v in range(g.num_nodes):
        row = g.neighbor_rows(v)
        assert np.all(np.diff(row) > 0), "rows must be sorted without duplicates"


# ---- other sources give the same CSR --------------------------------------------------------
EDGE_SRC = np.array([0, 0, 1, 2, 3, 4])
EDGE_DST = np.array([1, 2, 2, 3, 4, 0])
EDGE_W = np.array([1.0, 2.0, 0.5, 3.0, 1.5, 4.0])


def _reference(weighted: bool, directed: bool = False) -> Graph:
    return Graph.from_edges(EDGE_SRC, EDGE_DST, EDGE_W if weighted else None, directed=directed)


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_networkx_and_scipy_give_the_same_csr(weighted):
    ref = _reference(weighted)
    nxg = nx.Graph()
    nxg.add_nodes_from(range(5))
    if weighted:
        nxg.add_weighted_edges_from(zip(EDGE_SRC.tolist(), EDGE_DST.tolist(), EDGE_W.tolist()))
    else:
        nxg.add_edges_from(zip(EDGE_SRC.tolist(), EDGE_DST.tolist()))
    from_nx = ek.read_graph(nxg)
    _csr_equal(from_nx, ref)
    assert from_nx.nodes == [0, 1, 2, 3, 4]
    # the symmetric adjacency matrix of the same graph (each weight appears twice in it)
    adj = nx.to_scipy_sparse_array(nxg, nodelist=range(5), format="csr")
    _csr_equal(ek.read_graph(adj), ref)
    _csr_equal(ek.read_graph(sp.csr_matrix(adj)), ref)
    _csr_equal(ek.read_graph(sp.coo_matrix(adj)), ref)
    # the upper triangle alone describes the same undirected graph
    _csr_equal(ek.read_graph(sp.triu(adj)), ref)
    # and back: a Graph's own scipy matrix reads to the same graph
    _csr_equal(ek.read_graph(ref.to_scipy()), ref)


def test_networkx_node_ids_and_weights_kept():
    g = nx.Graph()
    g.add_edge("x", "y", weight=2.0)
    g.add_edge("y", "z", weight=0.25)
    out = ek.read_graph(g)
    assert out.nodes == ["x", "y", "z"] and out.weighted
    assert _edges(out)[("z", "y")] == pytest.approx(0.25)
    # one edge without a weight: the graph is read unweighted
    g.add_edge("z", "w")
    assert not ek.read_graph(g).weighted
    d = nx.DiGraph([(0, 1), (1, 2)])
    dg = ek.read_graph(d)
    assert dg.directed and dg.num_edges == 2
    assert set(_edges(dg)) == {(0, 1), (1, 2)}


@pytest.mark.parametrize("directed", [False, True], ids=["undirected", "directed"])
def test_index_arrays_and_tensors_give_the_same_csr(directed):
    torch = pytest.importorskip("torch")
    ref = _reference(False, directed)
    sources = {
        "numpy pair": (EDGE_SRC, EDGE_DST),
        "int32 pair": (EDGE_SRC.astype(np.int32), EDGE_DST.astype(np.int32)),
        "torch pair": (torch.tensor(EDGE_SRC), torch.tensor(EDGE_DST)),
        "edge_index": np.stack([EDGE_SRC, EDGE_DST]),
        "edge_index torch": torch.tensor(np.stack([EDGE_SRC, EDGE_DST])),
        "(E, 2) array": np.stack([EDGE_SRC, EDGE_DST], axis=1),
    }
    for name, src in sources.items():
        g = ek.read_graph(src, directed=directed)
        try:
            _csr_equal(g, ref)
        except AssertionError as exc:
            raise AssertionError(f"{name}: {exc}") from None
    # weighted (src, dst, w)
    w = ek.read_graph((EDGE_SRC, EDGE_DST, torch.tensor(EDGE_W)), directed=directed)
    _csr_equal(w, _reference(True, directed))
    # a scipy matrix read as directed keeps its entries as they are
    if directed:
        m = sp.coo_matrix((EDGE_W, (EDGE_SRC, EDGE_DST)), shape=(5, 5))
        _csr_equal(ek.read_graph(m, directed=True), _reference(True, True))


def test_num_nodes_keeps_isolated_nodes():
    g = ek.read_graph((np.array([0]), np.array([1])), num_nodes=4)
    assert g.num_nodes == 4
    np.testing.assert_array_equal(g.degree(), [1, 1, 0, 0])


def test_float_index_arrays_rejected():
    with pytest.raises(ek.InputFormatError, match="integers"):
        ek.read_graph((np.array([0.0, 1.0]), np.array([1.0, 2.0])))
    with pytest.raises(ek.InputFormatError, match="cannot read a graph"):
        ek.read_graph(3.5)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 12), st.integers(0, 12)), min_size=1, max_size=40),
       st.sampled_from([" ", "\t", ","]))
def test_edgelist_file_matches_from_edges(tmp_path_factory, edges, sep):
    """Any edge list written to a file reads to the graph from_edges builds."""
    path = tmp_path_factory.mktemp("prop") / "g.txt"
    path.write_text("".join(f"{u}{sep}{v}\n" for u, v in edges))
    g = ek.read_graph(path)
    ids = sorted({x for e in edges for x in e})
    assert g.nodes == [str(i) for i in ids]
    row = {i: k for k, i in enumerate(ids)}
    ref = Graph.from_edges([row[u] for u, _ in edges], [row[v] for _, v in edges], num_nodes=len(ids))
    _csr_equal(g, ref)
    expected = {(str(u), str(v)) for u, v in edges} | {(str(v), str(u)) for u, v in edges}
    assert set(_edges(g)) == expected


# ---- errors -------------------------------------------------------------------------------
@pytest.mark.parametrize("text,lineno,bad,what", [
    ("1 2\n3\n", 2, "3", "columns"),
    ("7\n", 1, "7", "source target"),
    ("1 2 0.5\n2 3 heavy\n", 2, "2 3 heavy", "not a number"),
    ("1 2 0.5\n# c\n2 3 -1\n", 3, "2 3 -1", "positive"),
    ("1 2 0.5\n2 3 0\n", 2, "2 3 0", "positive"),
    ("1 2 0.5\n2 3 nan\n", 2, "2 3 nan", "positive"),
    ("1 2\n2 3 4\n", 2, "2 3 4", "columns"),
    ("1 2 3 4\n", 1, "1 2 3 4", "columns"),
], ids=["one-column", "first-line-one-column", "non-numeric-weight", "negative-weight", "zero-weight",
        "nan-weight", "inconsistent-columns", "too-many-columns"])
def test_malformed_line_names_file_line_and_text(tmp_path, text, lineno, bad, what):
    path = _write(tmp_path, "bad.edgelist", text)
    with pytest.raises(ek.InputFormatError) as info:
        ek.read_graph(path)
    msg = str(info.value)
    assert str(path) in msg
    assert f"line {lineno}" in msg
    assert bad in msg
    assert what in msg
    assert info.value.line == lineno
    assert isinstance(info.value, ek.EmbedkitError)


@pytest.mark.parametrize("text", ["", "\n\n", "# only\n% comments\n"], ids=["empty", "blank", "comments"])
def test_empty_file(tmp_path, text):
    path = _write(tmp_path, "empty.txt", text)
    with pytest.raises(ek.EmptyInputError, match="no edges"):
        ek.read_graph(path)
    with pytest.raises(ek.EmptyInputError):
        ek.read_graph(_write(tmp_path, "empty.txt.gz", text))


def test_missing_file_and_bad_gzip(tmp_path):
    missing = tmp_path / "nope.edgelist"
    with pytest.raises(ek.InputFormatError) as info:
        ek.read_graph(missing)
    assert str(missing) in str(info.value) and "no such file" in str(info.value)
    fake = tmp_path / "fake.txt.gz"
    fake.write_text("1 2\n")
    with pytest.raises(ek.InputFormatError) as info:
        ek.read_graph(fake)
    assert str(fake) in str(info.value)


def test_non_utf8_file(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes("1 2\ncaf\xe9 3\n".encode("latin-1"))
    with pytest.raises(ek.InputFormatError, match="UTF-8") as info:
        ek.read_graph(path)
    assert str(path) in str(info.value)


# ---- split_edges -------------------------------------------------------------------------
def _two_communities() -> Graph:
    g = nx.connected_caveman_graph(4, 6)  # 4 cliques of 6 nodes joined in a ring
    g.add_edge(0, 0)  # a self-loop, never held out
    g.add_edge(100, 101)  # a separate component of one edge
    return ek.read_graph(g)


def _keyset(pairs: np.ndarray) -> set:
    return {tuple(sorted(p)) for p in pairs.tolist()}


@pytest.mark.parametrize("fraction", [0.1, 0.3, 0.5])
def test_split_edges_properties(fraction):
    g = _two_communities()
    train_g, split = ek.split_edges(g, test_fraction=fraction, seed=0)
    full = _keyset(g.undirected_edges())
    train = _keyset(train_g.undirected_edges())
    pos, neg = _keyset(split.test_pos), _keyset(split.test_neg)
    nonloop = sum(1 for a, b in full if a != b)
    assert len(split.test_pos) == round(fraction * nonloop)
    assert len(split.test_neg) == len(split.test_pos)
    assert split.test_pos.shape[1] == split.test_neg.shape[1] == 2
    assert split.test_pos.dtype == split.test_neg.dtype == np.int64
    assert len(pos) == len(split.test_pos) and len(neg) == len(split.test_neg)  # no repeats
    assert pos <= full  # real edges ...
    assert not pos & train  # ... held out of the train graph
    assert train | pos == full  # and nothing else is lost
    assert not neg & full  # non-edges of the full graph
    assert all(a != b for a, b in neg)
    assert all(a != b for a, b in pos)
    # no node that had edges is left without any
    deg_full, deg_train = g.degree(), train_g.degree()
    assert np.all(deg_train[deg_full > 0] > 0)
    # connected components survive
    ncomp = nx.number_connected_components
    assert ncomp(train_g.to_networkx()) == ncomp(g.to_networkx())
    assert train_g.nodes == g.nodes == split.nodes
    pairs, labels = split.pairs()
    assert pairs.shape == (2 * len(pos), 2) and labels.sum() == len(pos)


def test_split_edges_is_seeded():
    g = _two_communities()
    a_train, a = ek.split_edges(g, test_fraction=0.2, seed=3)
    b_train, b = ek.split_edges(g, test_fraction=0.2, seed=3)
    np.testing.assert_array_equal(a.test_pos, b.test_pos)
    np.testing.assert_array_equal(a.test_neg, b.test_neg)
    _csr_equal(a_train, b_train)
    _, c = ek.split_edges(g, test_fraction=0.2, seed=4)
    assert _keyset(c.test_pos) != _keyset(a.test_pos)


def test_split_edges_weighted_keeps_weights():
    g = ek.read_graph((EDGE_SRC, EDGE_DST, EDGE_W))
    train_g, split = ek.split_edges(g, test_fraction=0.2, seed=0)
    full = _edges(g)
    for (u, v), w in _edges(train_g).items():
        assert full[(u, v)] == pytest.approx(w)
    assert train_g.weighted


def test_split_edges_tree_cannot_lose_edges(caplog):
    # a path: every edge is a bridge, so none can be held out
    g = ek.read_graph((np.arange(5), np.arange(1, 6)))
    with caplog.at_level("WARNING", logger="embedkit"):
        train_g, split = ek.split_edges(g, test_fraction=0.4, seed=0)
    assert len(split.test_pos) == 0
    assert "only 0 edges" in caplog.text
    _csr_equal(train_g, g)


@pytest.mark.parametrize("bad", [0.0, 1.0, -0.1, 1, "0.1"])
def test_split_edges_bad_fraction(bad):
    with pytest.raises(ek.InvalidParameterError, match="test_fraction"):
        ek.split_edges(_two_communities(), test_fraction=bad)


def test_sample_non_edges_can_take_every_non_edge():
    # K4 minus one edge, plus two self-loops: exactly one non-edge exists (loops do not count)
    g = Graph.from_edges([0, 0, 0, 1, 1, 2, 3], [1, 2, 3, 2, 3, 2, 3], num_nodes=4)
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(sample_non_edges(g, 1, rng), [[2, 3]])
    with pytest.raises(ek.InvalidParameterError):
        sample_non_edges(g, 2, rng)
    # excluded pairs count, whichever way round they are given
    with pytest.raises(ek.InvalidParameterError):
        sample_non_edges(g, 1, rng, exclude_keys=np.array([3 * 4 + 2]))
    d = Graph.from_edges([0, 1, 2, 2], [1, 2, 0, 2], directed=True)
    assert _keyset(sample_non_edges(d, 3, rng)) == {(0, 1), (1, 2), (0, 2)}
    assert {tuple(p) for p in sample_non_edges(d, 3, rng).tolist()} == {(1, 0), (2, 1), (0, 2)}


# ---- read_labels -----------------------------------------------------------------------
def test_read_labels_single(tmp_path):
    path = _write(tmp_path, "labels.txt", "# node label\n1 a\n2 b\n3 a\n")
    assert ek.read_labels(path) == {"1": "a", "2": "b", "3": "a"}
    csv = _write(tmp_path, "labels.csv", "node,label\n1, a\n2,b\n")
    assert ek.read_labels(csv) == {"1": "a", "2": "b"}


def test_read_labels_multi(tmp_path):
    path = _write(tmp_path, "multi.txt", "1 a b\n2 c\n1 d\n3 a\n")
    assert ek.read_labels(path) == {"1": ["a", "b", "d"], "2": ["c"], "3": ["a"]}
    tab = _write(tmp_path, "multi.tsv", "x\tl1\nx\tl2\n")
    assert ek.read_labels(tab) == {"x": ["l1", "l2"]}


def test_read_labels_repeated_line_is_not_multi_label(tmp_path):
    path = _write(tmp_path, "dup.txt", "1 a\n2 b\n1 a\n")
    assert ek.read_labels(path) == {"1": "a", "2": "b"}


def test_read_labels_errors(tmp_path):
    with pytest.raises(ek.InputFormatError) as info:
        ek.read_labels(_write(tmp_path, "bad.txt", "1 a\n2\n"))
    assert "line 2" in str(info.value) and str(tmp_path / "bad.txt") in str(info.value)
    with pytest.raises(ek.EmptyInputError):
        ek.read_labels(_write(tmp_path, "none.txt", "# nothing\n"))
    with pytest.raises(ek.InputFormatError, match="no such file"):
        ek.read_labels(tmp_path / "missing.txt")
    d = {"1": "a"}
    assert ek.read_labels(d) is d
