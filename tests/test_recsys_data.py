"""Interactions: reading every accepted form, the duplicate rule, errors naming file and line, splits."""
from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

import embedkit as ek


def _write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_tab_file_without_header_like_movielens_u_data(tmp_path):
    path = _write(tmp_path, "u.data", "10\t7\t5\t881250949\n2\t7\t3\t891717742\n10\t3\t1\t878887116\n")
    inter = ek.read_interactions(path, rating_col=2, timestamp_col=3)
    # integer ids are ordered numerically; they stay strings, and 10 / "10" both find the user
    assert inter.users == ["2", "10"] and inter.items == ["3", "7"]
    assert inter.explicit and inter.nnz == 3
    assert inter.items_of(10) == ["3", "7"]
    m = inter.matrix.toarray()
    np.testing.assert_array_equal(m, [[0, 3], [1, 5]])
    assert inter.timestamps is not None and inter.timestamps.max() == 891717742


def test_csv_with_header_columns_by_name_and_iso_dates(tmp_path):
    path = _write(tmp_path, "ratings.csv", "userId,movieId,rating,when\n"
                                            "ann,m1,4.5,2020-01-02T10:00:00\nbob,m2,2,2020-01-03\n")
    inter = ek.read_interactions(path, "userId", "movieId", "rating", "when")
    assert inter.users == ["ann", "bob"] and inter.values.tolist() == [4.5, 2.0]
    assert inter.timestamps[0] < inter.timestamps[1]
    # header sniffed when every field is a name and the next line has numeric ids
    path2 = _write(tmp_path, "r2.csv", "userId,movieId,rating,timestamp\n1,31,2.5,1260759144\n")
    assert ek.read_interactions(path2, rating_col=2).users == ["1"]
    # string ids: the rating column tells the header apart; without ratings a header is declared
    path3 = _write(tmp_path, "r3.csv", "user,item,rating\nann,book,5\n")
    assert ek.read_interactions(path3, rating_col=2).users == ["ann"]
    path4 = _write(tmp_path, "r4.csv", "user,item\nann,book\n")
    assert ek.read_interactions(path4).nnz == 2 and ek.read_interactions(path4, header=True).nnz == 1


def test_double_colon_and_whitespace_separated(tmp_path):
    dat = _write(tmp_path, "ratings.dat", "1::1193::5::978300760\n1::661::3::978302109\n")
    assert ek.read_interactions(dat, rating_col=2).items == ["661", "1193"]
    ws = _write(tmp_path, "r.txt", "# comment\n a  x\nb y\n")
    inter = ek.read_interactions(ws)
    assert not inter.explicit and inter.users == ["a", "b"] and inter.nnz == 2


def test_duplicates_keep_the_latest_rating_and_sum_implicit_counts(tmp_path):
    # (u1, i1) rated 2 at t=5, then 4 at t=1 (earlier in time, later in the file): the latest by time wins
    path = _write(tmp_path, "d.tsv", "u1\ti1\t2\t5\nu1\ti1\t4\t1\nu2\ti1\t3\t0\n")
    inter = ek.read_interactions(path, rating_col=2, timestamp_col=3)
    assert inter.nnz == 2 and inter.values.tolist() == [2.0, 3.0]
    # without timestamps the last line wins
    assert ek.read_interactions(path, rating_col=2).values.tolist() == [4.0, 3.0]
    # implicit rows count: u1 interacted with i1 twice
    assert ek.read_interactions(path).values.tolist() == [2.0, 1.0]
    assert ek.read_interactions(path, rating_col=2, duplicates="max").values.tolist() == [4.0, 3.0]


def test_implicit_threshold_keeps_positives_and_the_id_maps(tmp_path):
    path = _write(tmp_path, "r.tsv", "a\tx\t5\na\ty\t2\nb\ty\t4\nc\tz\t1\n")
    inter = ek.read_interactions(path, rating_col=2, implicit_threshold=4)
    assert not inter.explicit and inter.nnz == 2 and inter.values.tolist() == [1.0, 1.0]
    assert inter.users == ["a", "b", "c"] and inter.items == ["x", "y", "z"]  # c and z keep their ids
    with pytest.raises(ek.InvalidParameterError, match="rating_col"):
        ek.read_interactions(path, implicit_threshold=4)
    with pytest.raises(ek.EmptyInputError, match="implicit_threshold=9"):
        ek.read_interactions(path, rating_col=2, implicit_threshold=9)


@pytest.mark.parametrize("line, problem", [
    ("u3\ti3\n", "expected 3 columns"),
    ("u3\ti3\tgood\n", "rating is not a number"),
    ("u3\ti3\t-1\n", "ratings must be finite numbers >= 0"),
    ("u3\ti3\tnan\n", "ratings must be finite numbers >= 0"),
])
def test_malformed_rows_name_file_line_and_text(tmp_path, line, problem):
    path = _write(tmp_path, "bad.tsv", "u1\ti1\t5\n# a comment\nu2\ti2\t3\n" + line)
    with pytest.raises(ek.InputFormatError, match=rf"bad.tsv, line 4: {problem}.*got 'u3"):
        ek.read_interactions(path, rating_col=2)


def test_unreadable_inputs_are_clear_errors(tmp_path):
    with pytest.raises(ek.InputFormatError, match="no such file"):
        ek.read_interactions(tmp_path / "missing.csv")
    with pytest.raises(ek.EmptyInputError, match="empty.csv: no interactions"):
        ek.read_interactions(_write(tmp_path, "empty.csv", "# nothing\n\n"))
    named = _write(tmp_path, "h.csv", "user,item\n1,2\n")
    with pytest.raises(ek.InputFormatError, match="rating column 'stars' is not in the header"):
        ek.read_interactions(named, "user", "item", "stars")
    with pytest.raises(ek.InputFormatError, match="rating column 5 is out of range"):
        ek.read_interactions(named, rating_col=5)
    with pytest.raises(ek.InputFormatError, match="cannot read interactions from a dict"):
        ek.read_interactions({"a": 1})


def test_arrays_sparse_lists_and_frames(tmp_path):
    inter = ek.read_interactions((np.array([3, 1, 3]), np.array([0, 0, 9]), np.array([1.0, 2.0, 5.0])))
    assert inter.users == [1, 3] and inter.items == [0, 9] and inter.explicit
    m = sp.csr_matrix(np.array([[0, 2.0, 0], [1.0, 0, 0]]))
    s = ek.read_interactions(m)
    assert s.shape == (2, 3) and s.nnz == 2 and not s.explicit
    lists = _write(tmp_path, "test.txt", "0 5 7\n1 5\n2\n")
    li = ek.read_interactions(lists, format="lists")
    assert li.users == ["0", "1", "2"] and li.nnz == 3 and li.user_counts().tolist() == [2, 1, 0]
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"u": ["a", "b", "a"], "i": [1, 2, 2], "r": [5, 3, 4],
                       "t": pd.to_datetime(["2020-01-01", "2020-01-02", "2020-01-03"])})
    fr = ek.read_interactions(df, "u", "i", "r", "t")
    assert fr.users == ["a", "b"] and fr.items == [1, 2] and fr.values.tolist() == [5.0, 4.0, 3.0]
    assert ek.read_interactions(df, 0, 1).nnz == 3
    with pytest.raises(ek.InputFormatError, match="ratings must be finite"):
        ek.read_interactions(df.assign(r=[1, -2, 3]), "u", "i", "r")


def _grid(users=20, items=15, seed=0):
    rng = np.random.default_rng(seed)
    mask = rng.random((users, items)) < 0.5
    r, c = np.nonzero(mask)
    return ek.Interactions.from_arrays(r, c, rng.integers(1, 6, r.shape[0]).astype(float),
                                       timestamps=rng.permutation(r.shape[0]).astype(float))


@pytest.mark.parametrize("method", ["random", "leave_k_out", "temporal"])
def test_splits_partition_the_interactions_on_the_same_id_maps(method):
    inter = _grid()
    train, test = ek.split_interactions(inter, method, test_fraction=0.25, k=2, seed=3)
    assert train.users is inter.users and test.items is inter.items
    assert train.nnz + test.nnz == inter.nnz
    both = train.matrix + test.matrix
    np.testing.assert_array_equal(both.toarray(), inter.matrix.toarray())  # disjoint and complete
    assert train.matrix.multiply(test.matrix).nnz == 0
    again = ek.split_interactions(inter, method, test_fraction=0.25, k=2, seed=3)[1]
    np.testing.assert_array_equal(again.indices, test.indices)
    if method == "random":
        assert test.nnz == round(0.25 * inter.nnz)
    if method == "leave_k_out":
        counts = inter.user_counts()
        np.testing.assert_array_equal(test.user_counts(), np.where(counts > 2, 2, 0))
    if method == "temporal":
        assert train.timestamps.max() < test.timestamps.min()


def test_cold_start_is_counted_not_fatal():
    # user 2's only interaction and item 3's only interaction both end up in test (temporal cut)
    inter = ek.Interactions.from_arrays([0, 0, 1, 1, 2], [0, 1, 0, 1, 3], timestamps=[0, 1, 2, 3, 9.0])
    train, test = ek.split_interactions(inter, "temporal", test_fraction=0.2)
    assert test.meta["cold_start"] == {"users": 1, "items": 1, "interactions": 1}
    with pytest.raises(ek.InvalidParameterError, match="without timestamps"):
        ek.split_interactions(ek.Interactions.from_arrays([0, 1], [0, 1]), "temporal")
    with pytest.raises(ek.InvalidParameterError, match="'test_fraction' must be a number > 0 and < 1"):
        ek.split_interactions(inter, "random", test_fraction=1.5)


@pytest.mark.data
def test_movielens_100k_as_published(shared_data):
    path = shared_data / "movielens-100k" / "u.data"
    inter = ek.read_interactions(path, rating_col=2, timestamp_col=3)
    assert inter.shape == (943, 1682) and inter.nnz == 100_000
    assert np.bincount(inter.values.astype(int)).tolist() == [0, 6110, 11370, 27145, 34174, 21201]
    assert inter.user_counts().min() >= 20
    assert ek.read_interactions(path, rating_col=2, implicit_threshold=4).nnz == 34174 + 21201


def test_text_reader_maps_ids_like_the_array_path(tmp_path):
    """The file reader maps ids to rows as it reads (issue 9: no str per line); the keys, their
    order (numeric when all ids are canonical integers, else first appearance) and the entries
    are those of the same ids given as arrays."""
    cases = {
        "numeric": (["10", "2", "10", "33", "2"], ["5", "40", "7", "5", "5"]),
        "leading zeros": (["007", "7", "007", "10"], ["b", "a", "c", "a"]),
        "names": (["bob", "ann", "bob", "cy"], ["x", "y", "y", "x"]),
    }
    for name, (users, items) in cases.items():
        ratings = [float(j + 1) for j in range(len(users))]
        path = _write(tmp_path, f"{name.replace(' ', '_')}.tsv",
                      "".join(f"{u}\t{i}\t{r}\n" for u, i, r in zip(users, items, ratings)))
        got = ek.read_interactions(path, rating_col=2)
        want = ek.read_interactions((np.array(users), np.array(items), np.array(ratings)))
        assert got.users == want.users and got.items == want.items, name
        np.testing.assert_array_equal(got.indptr, want.indptr)
        np.testing.assert_array_equal(got.indices, want.indices)
        np.testing.assert_array_equal(got.values, want.values)
    assert ek.read_interactions(tmp_path / "numeric.tsv", rating_col=2).users == ["2", "10", "33"]
    assert ek.read_interactions(tmp_path / "leading_zeros.tsv", rating_col=2).users == ["007", "7", "10"]
