"""The CLI: in-process with click's runner, and once as a real subprocess."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

import embedkit as ek
from embedkit_cli.main import cli

KARATE = str(ek.datasets.path("karate.edgelist"))
LABELS = str(ek.datasets.path("karate.labels"))
QUICK = ["--dim", "16", "--walk-length", "20", "--walks-per-node", "5", "--workers", "1", "--seed", "0",
         "--quiet"]


@pytest.fixture
def runner():
    return CliRunner()


def test_train_node2vec_writes_word2vec_text(runner, tmp_path):
    out = tmp_path / "vectors.txt"
    res = runner.invoke(cli, ["train", "node2vec", KARATE, "-o", str(out), "--p", "1", "--q", "0.5", *QUICK])
    assert res.exit_code == 0, res.output
    assert "34 x 16" in res.output and str(out) in res.output
    emb = ek.load(out)
    assert len(emb) == 34 and emb.dim == 16
    assert out.read_text().splitlines()[0] == "34 16"


def test_options_come_from_the_parameter_table(runner):
    res = runner.invoke(cli, ["train", "node2vec", "--help"])
    assert res.exit_code == 0
    for p in ek.get_method("node2vec").params:
        if p.cli:
            assert "--" + p.name.replace("_", "-") in res.output, p.name
    assert "--walks-per-node" in res.output and "--min-learning-rate" in res.output


def test_same_vectors_as_the_python_api(runner, tmp_path):
    out = tmp_path / "v.ekv"
    res = runner.invoke(cli, ["train", "deepwalk", KARATE, "-o", str(out), *QUICK])
    assert res.exit_code == 0, res.output
    api = ek.train("deepwalk", ek.read_graph(KARATE), dim=16, walk_length=20, walks_per_node=5, workers=1,
                   seed=0, verbose=False)
    np.testing.assert_array_equal(ek.load(out).vectors, api.vectors)


def test_evaluate_nodeclass_and_neighbors(runner, tmp_path):
    out = tmp_path / "v.vec"
    assert runner.invoke(cli, ["train", "node2vec", KARATE, "-o", str(out), *QUICK]).exit_code == 0
    res = runner.invoke(cli, ["evaluate", "nodeclass", str(out), LABELS, "--json"])
    assert res.exit_code == 0, res.output
    metrics = json.loads(res.output)
    assert metrics["accuracy"] >= 0.85 and metrics["num_labelled"] == 34
    res = runner.invoke(cli, ["neighbors", str(out), "33", "-k", "3"])
    assert res.exit_code == 0, res.output
    rows = [line for line in res.output.splitlines() if line.startswith("│")]
    assert len(rows) == 3 and not any(line.split("│")[1].strip() == "33" for line in rows)


def test_evaluate_linkpred_passes_method_options(runner):
    res = runner.invoke(cli, ["evaluate", "linkpred", KARATE, "--method", "node2vec", "--test-fraction", "0.2",
                              "--dim", "8", "--q", "0.5", "--walks-per-node", "4", "--json"])
    assert res.exit_code == 0, res.output
    metrics = json.loads(res.output)
    assert 0.0 <= metrics["auc"] <= 1.0 and metrics["num_test_edges"] == 16
    res = runner.invoke(cli, ["evaluate", "linkpred", KARATE, "--method", "deepwalk", "--p", "2"])
    assert res.exit_code != 0 and "deepwalk has no option --p" in res.output


def test_export_converts_formats(runner, tmp_path):
    src = tmp_path / "v.ekv"
    assert runner.invoke(cli, ["train", "deepwalk", KARATE, "-o", str(src), *QUICK]).exit_code == 0
    res = runner.invoke(cli, ["export", str(src), "-o", str(tmp_path / "v.bin")])
    assert res.exit_code == 0, res.output
    np.testing.assert_array_equal(ek.load(tmp_path / "v.bin").vectors, ek.load(src).vectors)


def test_methods_lists_the_registry(runner):
    res = runner.invoke(cli, ["methods"])
    assert res.exit_code == 0
    for name in ek.methods():
        assert name in res.output


@pytest.mark.parametrize("content,expected", [
    ("1 2\n3\n", "line 2: expected 2 columns like the first edge, found 1"),
    ("1 2 0.5\n2 3 heavy\n", "line 2: weight is not a number"),
    ("# only a comment\n", "no edges found"),
])
def test_bad_graph_file_is_one_line_and_exit_2_and_nothing_written(runner, tmp_path, content, expected):
    bad = tmp_path / "bad.edgelist"
    bad.write_text(content)
    out = tmp_path / "keep.txt"
    out.write_text("previous results\n")
    res = runner.invoke(cli, ["train", "node2vec", str(bad), "-o", str(out), *QUICK])
    assert res.exit_code == 2
    assert expected in res.output and str(bad) in res.output
    assert "Traceback" not in res.output
    assert out.read_text() == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.edgelist", "keep.txt"]


def test_bad_parameter_value_exit_2(runner, tmp_path):
    res = runner.invoke(cli, ["train", "node2vec", KARATE, "-o", str(tmp_path / "x.txt"), "--p", "0"])
    assert res.exit_code == 2
    assert "parameter 'p' must be a number > 0; got 0.0" in res.output


def test_unknown_method_lists_choices(runner):
    res = runner.invoke(cli, ["train", "node3vec", KARATE])
    assert res.exit_code == 2
    assert "unknown method 'node3vec'" in res.output and "node2vec" in res.output


def test_missing_vectors_file(runner, tmp_path):
    res = runner.invoke(cli, ["neighbors", str(tmp_path / "nope.vec"), "1"])
    assert res.exit_code == 2 and "no such file" in res.output


def test_real_subprocess(tmp_path):
    out = tmp_path / "vectors.txt"
    proc = subprocess.run([sys.executable, "-m", "embedkit_cli", "train", "node2vec", KARATE, "-o", str(out),
                           *QUICK], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert ek.load(out).vectors.shape == (34, 16)
    bad = tmp_path / "bad.edgelist"
    bad.write_text("a b\nc\n")
    proc = subprocess.run([sys.executable, "-m", "embedkit_cli", "train", "node2vec", str(bad)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "line 2" in proc.stderr


def _gender_vectors(path):
    """Planted vectors: female = male + a 'gender' direction; written as word2vec text."""
    rng = np.random.default_rng(0)
    gender = 2 * rng.normal(size=16)
    keys, rows = [], []
    for m, f in [("boy", "girl"), ("brother", "sister"), ("father", "mother"), ("king", "queen"),
                 ("man", "woman"), ("prince", "princess")]:
        v = rng.normal(size=16)
        keys += [m, f]
        rows += [v, v + gender + 0.05 * rng.normal(size=16)]
    ek.Embeddings(keys + ["apple"], np.array(rows + [rng.normal(size=16)])).export(path)


def test_evaluate_analogy(runner, tmp_path):
    vec = tmp_path / "v.vec"
    _gender_vectors(vec)
    questions = tmp_path / "q.txt"
    questions.write_text(": family\nman woman king queen\nboy girl prince princess\nman woman dog bitch\n")
    res = runner.invoke(cli, ["evaluate", "analogy", str(vec), "--dataset", str(questions), "--scoring", "3cosmul",
                              "--json"])
    assert res.exit_code == 0, res.output
    metrics = json.loads(res.output)
    assert metrics["accuracy"] == 1.0 and metrics["answered"] == 2 and metrics["oov"] == 1
    assert metrics["scoring"] == "3cosmul" and metrics["section/family/total"] == 3
    res = runner.invoke(cli, ["evaluate", "analogy", str(vec), "--restrict-vocab", "100"])  # the Google set
    assert res.exit_code == 0, res.output
    assert "accuracy" in res.output and "coverage" in res.output and "19544" in res.output
    section_rows = {line.split("│")[1].strip(): line for line in res.output.splitlines() if line.count("│") == 5}
    assert "family" in section_rows and "gram9-plural-verbs" in section_rows
    assert section_rows["capital-world"].split("│")[2].strip() == "-"  # nothing answered
    assert "section/" not in res.output
    res = runner.invoke(cli, ["evaluate", "analogy", str(vec), "--scoring", "3cosmax"])
    assert res.exit_code == 2 and "3cosmax" in res.output


def test_evaluate_similarity(runner, tmp_path):
    vec = tmp_path / "v.vec"
    _gender_vectors(vec)
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("king\tqueen\t8.5\nman\tapple\t1.0\nboy\tgirl\t7.0\nking\tcabbage\t0.5\n")
    res = runner.invoke(cli, ["evaluate", "similarity", str(vec), "--dataset", str(pairs), "--json"])
    assert res.exit_code == 0, res.output
    metrics = json.loads(res.output)
    assert metrics["pairs"] == 3 and metrics["oov_pairs"] == 1 and -1 <= metrics["spearman"] <= 1
    res = runner.invoke(cli, ["evaluate", "similarity", str(vec), "--dataset", str(pairs)])
    assert res.exit_code == 0, res.output
    assert "spearman" in res.output and "coverage" in res.output and "1 with unknown words" in res.output
    pairs.write_text("king queen 8.5\nman apple\n")
    res = runner.invoke(cli, ["evaluate", "similarity", str(vec), "--dataset", str(pairs)])
    assert res.exit_code == 2 and "line 2" in res.output and "Traceback" not in res.output


EMMA = str(ek.datasets.path("austen-emma.txt.gz"))


@pytest.mark.parametrize("method", ["skipgram", "cbow", "svd"])
def test_train_word_vectors_from_a_text_file(runner, tmp_path, method):
    out = tmp_path / "words.vec"
    extra = ["--epochs", "2", "--workers", "1"] if method != "svd" else []
    res = runner.invoke(cli, ["train", method, EMMA, "-o", str(out), "--unit", "paragraph", "--dim", "20",
                              "--min-count", "10", "--quiet", *extra])
    assert res.exit_code == 0, res.output
    assert "vocabulary" in res.output and "words" in res.output
    emb = ek.load(out)
    counts = ek.datasets.load_text("emma").word_counts()
    assert emb.dim == 20 and set(emb.keys) == {w for w, c in counts.items() if c >= 10}
    assert emb.keys[0] == "to"  # most frequent first, as word2vec files are


def test_svd_embeds_a_graph_given_with_graph_flag(runner, tmp_path):
    out = tmp_path / "nodes.vec"
    res = runner.invoke(cli, ["train", "svd", KARATE, "--graph", "--dim", "8", "-o", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    assert "Graph(34 nodes" in res.output
    res = runner.invoke(cli, ["evaluate", "nodeclass", str(out), LABELS, "--json"])
    assert json.loads(res.output)["accuracy"] >= 0.85


def test_text_errors_are_one_line(runner, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"fine words here\nbroken \xfe bytes\n")
    res = runner.invoke(cli, ["train", "cbow", str(bad), "--min-count", "1", "--quiet"])
    assert res.exit_code == 2
    assert "bad.txt, line 2: bytes that are not utf-8 at byte offset 23" in res.output
