"""Evaluation-set files, feature arrays, header-only ratings and plot labels: the cases the
edge-case census (benchmarks/edge_cases.py) still found after the reader work of issue 16."""
import numpy as np
import pytest

import embedkit as ek
from embedkit.evaluate.analogy import read_analogies
from embedkit.evaluate.similarity import read_word_pairs

PAIRS = "".join(f"w{i} w{i + 1} {i % 10}.5\n" for i in range(30))


@pytest.fixture
def emb():
    rng = np.random.default_rng(0)
    return ek.Embeddings([f"w{i}" for i in range(40)], rng.normal(size=(40, 8)))


def test_word_pairs_with_a_bom_read_as_without(tmp_path):
    plain, bom = tmp_path / "p.txt", tmp_path / "b.txt"
    plain.write_text(PAIRS)
    bom.write_bytes(b"\xef\xbb\xbf" + PAIRS.encode())
    assert read_word_pairs(bom) == read_word_pairs(plain)
    assert read_word_pairs(bom)[0] == ("w0", "w1", 0.5)


@pytest.mark.parametrize("reader, text", [(read_word_pairs, PAIRS), (read_analogies, "a b c d\n" * 9)])
def test_a_latin1_byte_names_the_file_and_line(tmp_path, reader, text):
    lines = text.splitlines(keepends=True)
    lines[6] = lines[6].replace("w", "\xe9") if "w" in lines[6] else "\xe9 b c d\n"
    p = tmp_path / "latin.txt"
    p.write_bytes("".join(lines).encode("latin-1"))
    with pytest.raises(ek.InputFormatError, match=r"latin\.txt, line 7: .*UTF-8"):
        reader(p)


@pytest.mark.parametrize("score", ["nan", "inf", "-inf"])
def test_a_non_finite_human_score_is_refused(tmp_path, emb, score):
    p = tmp_path / "nan.txt"
    p.write_text(PAIRS.replace("w3 w4 3.5", f"w3 w4 {score}"))
    with pytest.raises(ek.InputFormatError, match=r"nan\.txt, line 4: the score is not a finite number"):
        ek.evaluate.similarity(emb, p)


def test_feature_array_with_nan_names_file_row_and_column(tmp_path):
    g = ek.datasets.load("karate")
    X = np.ones((g.num_nodes, 3), dtype=np.float32)
    X[5, 2] = np.nan
    np.save(tmp_path / "x.npy", X)
    with pytest.raises(ek.InputFormatError, match=r"x\.npy: row 5, column 2"):
        ek.read_node_data(g, tmp_path / "x.npy")
    X[5, 2] = 1.0
    X[7, 0] = np.inf  # given as an array: the node is named
    with pytest.raises(ek.InputFormatError, match=r"node .*row 7, column 0"):
        ek.read_node_data(g, X)


def test_ratings_file_of_a_header_alone_holds_no_interactions(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("user,item,rating\n")
    with pytest.raises(ek.EmptyInputError, match="only a header"):
        ek.read_interactions(p)
    p.write_text("alice,bob\n")  # one interaction of two string ids is still one interaction
    assert ek.read_interactions(p).nnz == 1


def test_plot_refuses_labels_of_other_keys(tmp_path, emb):
    pytest.importorskip("matplotlib")
    labels = tmp_path / "l.txt"
    labels.write_text("".join(f"n{i} a\n" for i in range(30)))
    with pytest.raises(ek.InputMismatchError, match=r"l\.txt"):
        emb.plot(tmp_path / "m.png", labels=labels)
    assert not (tmp_path / "m.png").exists()
