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
    assert "--walks-per-node" in res.output and "--min-alpha" in res.output


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
