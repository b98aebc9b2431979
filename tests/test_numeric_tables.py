"""The vectorised table reader (edge lists, interaction tables) must mean exactly what the
line readers mean: same ids in the same order, same entries, weights, ratings and
timestamps, same errors (it hands every file it does not fully understand to them)."""
from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from embedkit.data import _numeric_table
from embedkit.data.graph import _read_edgelist, _read_edgelist_lines
from embedkit.data._numeric_table import read_numeric_edgelist
from embedkit.exceptions import EmbedkitError


def _both(path, weighted=None, comments="#%", delimiter=None):
    """(fast-path graph or error type, line-reader graph or error type)."""
    out = []
    for read in (_read_edgelist, _read_edgelist_lines):
        try:
            out.append(read(path, False, weighted, delimiter, comments))
        except EmbedkitError as exc:
            out.append(type(exc))
    return out


def _same(a, b):
    if isinstance(a, type) or isinstance(b, type):
        assert a == b
        return
    assert a.nodes == b.nodes
    np.testing.assert_array_equal(a.indptr, b.indptr)
    np.testing.assert_array_equal(a.indices, b.indices)
    np.testing.assert_array_equal(a.weights, b.weights)
    assert a.weighted == b.weighted


_id = st.one_of(st.integers(0, 40).map(str), st.sampled_from(["007", "0", "-3", "x", "12345678901234567890", "1e3"]))
_weight = st.one_of(st.floats(0.01, 100.0).map(lambda w: f"{w:.3g}"),
                    st.sampled_from(["1", "0", "-1", "2.5e-3", "inf", "nan", "1.5.2", "+2"]))
_sep = st.sampled_from([" ", "\t", "  ", " \t"])


@st.composite
def _edge_file(draw):
    three = draw(st.booleans())
    file_sep = draw(st.sampled_from([None, None, ",", "\t", " "]))  # None: mixed blanks line by line
    lines = []
    for _ in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["edge"] * 8 + ["blank", "comment", "trailing comment", "odd"]))
        sep = file_sep or draw(_sep)
        if kind == "blank":
            lines.append(draw(st.sampled_from(["", "  ", "\t"])))
        elif kind == "comment":
            lines.append(draw(st.sampled_from(["# a header", "%  matrix market", "  # indented"])))
        elif kind == "odd":
            lines.append(draw(st.sampled_from(["1", "1 2 3 4", "1,2", "1 2 0.5", "1,,2", "1,2,", ",", "1, 2",
                                               "1\r2", "1\t\t2", "1  2"])))
        else:
            line = sep.join([draw(_id), draw(_id)] + ([draw(_weight)] if three else []))
            if kind == "trailing comment":
                line += " # note"
            lines.append(line)
    end = draw(st.sampled_from(["\n", "\r\n"]))
    return end.join(lines) + draw(st.sampled_from(["", end]))


@settings(max_examples=300, deadline=None)
@given(text=_edge_file(), weighted=st.sampled_from([None, True, False]),
       delimiter=st.sampled_from([None, None, ",", "\t", " "]))
def test_fast_reader_means_what_the_line_reader_means(tmp_path_factory, text, weighted, delimiter):
    path = tmp_path_factory.mktemp("el") / "g.edgelist"
    path.write_bytes(text.encode())
    fast, lines = _both(path, weighted, delimiter=delimiter)
    _same(fast, lines)


def test_fast_path_is_taken_for_plain_files(tmp_path):
    path = tmp_path / "g.tsv"
    path.write_text("# SNAP-style header, a 50% sample\n# Nodes: 4 Edges: 3\n10\t2\n2\t3\n\n3\t10\n")
    src, dst, w, ids = read_numeric_edgelist(path, None, "#%")
    assert ids.tolist() == [2, 3, 10]
    assert list(zip(src.tolist(), dst.tolist())) == [(2, 0), (0, 1), (1, 2)]
    assert w is None
    weighted = tmp_path / "w.txt"
    weighted.write_text("1 2 0.5\n2 3 2e-1\n")
    src, dst, w, ids = read_numeric_edgelist(weighted, None, "#%")
    assert w.tolist() == [0.5, 0.2]
    assert read_numeric_edgelist(weighted, False, "#%")[2] is None
    commas = tmp_path / "c.csv"
    commas.write_text("# u,v\n1,2\r\n2,3\r\n")
    src, dst, w, ids = read_numeric_edgelist(commas, None, "#%")
    assert ids.tolist() == [1, 2, 3] and src.tolist() == [0, 1] and dst.tolist() == [1, 2]


@pytest.mark.parametrize("text", ["a b\n", "1 -2\n", "01 2\n", "1 2\n3\n", "1 2 0\n", "1 2 # c\n", "1.0 2 3\n",
                                  "1,,2\n", "1,2,\n", "1, 2\n", "1\r2\n", "1,2\n3 4\n"])
def test_fast_path_declines_what_it_does_not_read(tmp_path, text):
    path = tmp_path / "g.txt"
    path.write_text(text)
    assert read_numeric_edgelist(path, None, "#%") is None


def test_blocks_split_at_line_ends_and_gzip(tmp_path, monkeypatch):
    monkeypatch.setattr(_numeric_table, "BLOCK_BYTES", 7)  # every block cut mid-line
    rng = np.random.default_rng(0)
    e = rng.integers(0, 500, size=(300, 2))
    w = rng.uniform(0.1, 5, size=300)
    text = "".join(f"{a} {b} {x:.4f}\n" for (a, b), x in zip(e.tolist(), w.tolist()))
    plain = tmp_path / "g.txt"
    plain.write_text(text)
    packed = tmp_path / "g.txt.gz"
    with gzip.open(packed, "wt") as fh:
        fh.write(text)
    for path in (plain, packed):
        src, dst, wts, ids = read_numeric_edgelist(path, None, "#%")
        np.testing.assert_array_equal(ids[src], e[:, 0])
        np.testing.assert_array_equal(ids[dst], e[:, 1])
        np.testing.assert_allclose(wts, np.round(w, 4))
        _same(*_both(path))


def test_sparse_ids_use_the_sorting_path(tmp_path):
    path = tmp_path / "g.txt"
    path.write_text("900000000000 5\n5 77\n")
    src, dst, _, ids = read_numeric_edgelist(path, None, "#%")
    assert ids.tolist() == [5, 77, 900000000000]
    assert src.tolist() == [2, 0] and dst.tolist() == [0, 1]


# ---- interaction tables: the same reader under read_interactions ------------------------------
_cell = {"id": st.one_of(st.integers(0, 30).map(str), st.sampled_from(["007", "-2", "u1", "1.5"])),
         "rating": st.one_of(st.integers(0, 5).map(str), st.sampled_from(["3.5", "-1", "nan", "4e0", "x"])),
         "time": st.one_of(st.integers(800_000_000, 900_000_000).map(str), st.just("2020-01-02T03:04:05"))}


@st.composite
def _interaction_file(draw):
    ncols = draw(st.sampled_from([2, 3, 4]))
    kinds = ["id", "id", "rating", "time"][:ncols]
    delim = draw(st.sampled_from(["\t", ",", " ", "::", ";", ", "]))
    lines = []
    if draw(st.booleans()):
        lines.append(delim.join(["user", "item", "rating", "ts"][:ncols]))
    for _ in range(draw(st.integers(1, 20))):
        kind = draw(st.sampled_from(["row"] * 10 + ["blank", "comment", "ragged", "space"]))
        if kind == "blank":
            lines.append("")
        elif kind == "comment":
            lines.append("# note")
        elif kind == "ragged":
            lines.append(delim.join(["1"] * (ncols - 1)))
        else:
            row = [draw(_cell[k]) for k in kinds]
            if kind == "space":
                row[0] = row[0] + " "
            lines.append(delim.join(row))
    return "\n".join(lines) + "\n", ncols


def _read_both(path, **kw):
    import embedkit as ek
    from embedkit.data import interactions_read as module

    out = []
    for fast in (True, False):
        with pytest.MonkeyPatch.context() as m:
            if not fast:
                m.setattr(module, "read_numeric_table", lambda *a, **k: None)
            try:
                out.append(ek.read_interactions(path, **kw))
            except EmbedkitError as exc:
                out.append((type(exc), str(exc)))
    return out


@settings(max_examples=200, deadline=None)
@given(spec=_interaction_file(), with_rating=st.booleans(), with_time=st.booleans())
def test_interaction_tables_mean_the_same_either_way(tmp_path_factory, spec, with_rating, with_time):
    text, ncols = spec
    path = tmp_path_factory.mktemp("it") / "ratings.txt"
    path.write_text(text)
    kw = {"rating_col": 2 if with_rating and ncols > 2 else None,
          "timestamp_col": 3 if with_time and ncols > 3 else None}
    fast, lines = _read_both(path, **kw)
    if isinstance(fast, tuple) or isinstance(lines, tuple):
        assert fast == lines
        return
    assert fast.users == lines.users and fast.items == lines.items
    for name in ("indptr", "indices", "values"):
        np.testing.assert_array_equal(getattr(fast, name), getattr(lines, name))
    if lines.timestamps is None:
        assert fast.timestamps is None
    else:
        np.testing.assert_array_equal(fast.timestamps, lines.timestamps)
    assert fast.explicit == lines.explicit


def test_movielens_style_tables_take_the_fast_path(tmp_path, monkeypatch):
    import embedkit as ek
    from embedkit.data import interactions_read as module

    path = tmp_path / "ratings.csv"
    path.write_text("userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n1,1029,3.0,1260759179\n2,10,4.0,835355493\n")
    calls = []
    real = module.read_numeric_table
    monkeypatch.setattr(module, "read_numeric_table", lambda *a, **k: calls.append(1) or real(*a, **k))
    inter = ek.read_interactions(path, "userId", "movieId", "rating", "timestamp")
    assert calls and inter.users == ["1", "2"] and inter.items == ["10", "31", "1029"]
    assert inter.explicit and sorted(inter.values.tolist()) == [2.5, 3.0, 4.0]
    assert inter.timestamps.max() == 1260759179
