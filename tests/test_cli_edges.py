"""The CLI at its edges: exit codes, one-line errors, outputs checked before any work
(through click's runner, and as a real subprocess)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import embedkit as ek
from embedkit.exceptions import InvalidParameterError, OutputError
from embedkit.io import URL_TARGETS, check_output, check_path
from embedkit_cli.main import cli

KARATE = ek.datasets.path("karate.edgelist")


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def vectors(tmp_path) -> Path:
    path = tmp_path / "v.txt"
    keys = [str(i) for i in range(20)]
    ek.Embeddings(keys, np.random.default_rng(0).normal(size=(20, 4)).astype(np.float32)).export(path)
    return path


def _one_line_error(res, code: int = 2) -> str:
    """The run ended with ``code``, one line on stderr and no traceback; returns that line."""
    assert res.exit_code == code, (res.exit_code, res.output, res.exception)
    err = res.stderr.strip()
    assert err.count("\n") == 0, err
    assert "Traceback" not in res.output and err.startswith("error: ")
    return err


def _listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


# ------------------------------------------------------------------ outputs checked before any work
def test_unknown_output_format_fails_before_reading(runner, tmp_path):
    # the input does not exist: an error about the output proves it was checked first
    out = tmp_path / "out.edgelist"
    res = runner.invoke(cli, ["train", "node2vec", str(tmp_path / "missing.edgelist"), "-o", str(out)])
    err = _one_line_error(res)
    assert str(out) in err and "'.edgelist'" in err and ".txt" in err and "missing" not in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where, problem", [
    ("nodir/sub/v.txt", "no folder"),
    ("afile/v.txt", "afile is a file, not a folder"),
    ("afile/deeper/v.txt", "afile is a file, not a folder"),
    (".", "is a folder"),
])
def test_output_folder_is_checked_before_reading(runner, tmp_path, where, problem):
    (tmp_path / "afile").write_text("x")
    before = _listing(tmp_path)
    out = tmp_path / where
    res = runner.invoke(cli, ["train", "deepwalk", str(tmp_path / "missing.edgelist"), "-o", str(out)])
    err = _one_line_error(res)
    assert problem in err and "missing" not in err
    assert _listing(tmp_path) == before and not (tmp_path / "nodir").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_folder_is_refused(runner, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        res = runner.invoke(cli, ["train", "deepwalk", str(KARATE), "-o", str(ro / "v.txt")])
        err = _one_line_error(res)
        assert "not writable" in err and str(ro) in err
        assert list(ro.iterdir()) == []
    finally:
        ro.chmod(0o755)


def test_output_equal_to_the_input_is_refused(runner, tmp_path):
    graph = tmp_path / "graph.txt"  # an edge list whose extension is also a vector format's
    shutil.copy(KARATE, graph)
    before = graph.read_bytes()
    res = runner.invoke(cli, ["train", "deepwalk", str(graph), "-o", str(graph), "--dim", "4"])
    err = _one_line_error(res)
    assert "input" in err and str(graph) in err
    assert graph.read_bytes() == before
    # the same file through another name: a hard link, a symbolic link, a relative path
    os.link(graph, tmp_path / "hard.txt")
    (tmp_path / "soft.txt").symlink_to(graph)
    for other in ("hard.txt", "soft.txt"):
        res = runner.invoke(cli, ["train", "deepwalk", str(graph), "-o", str(tmp_path / other)])
        assert "input of this run" in _one_line_error(res)
    assert graph.read_bytes() == before


def test_export_checks_output_and_side_files(runner, tmp_path, vectors):
    before = _listing(tmp_path)
    cases = [
        (["-o", str(vectors)], "input of this run"),
        (["-o", str(tmp_path / "o.bogus")], "no vector format is known"),
        (["-o", str(tmp_path / "o.txt"), "--format", "bogus"], "'bogus'"),
        (["-o", str(tmp_path / "o.npy.gz")], "not gzipped"),
        (["-o", str(tmp_path)], "is a folder"),
    ]
    for args, problem in cases:
        res = runner.invoke(cli, ["export", str(vectors), *args])
        assert problem in _one_line_error(res), args
    # a side file that is the input: v.npy's keys go to v.npy.keys.json
    side_input = tmp_path / "v.npy.keys.json"
    shutil.copy(vectors, side_input)
    res = runner.invoke(cli, ["export", str(side_input), "-o", str(tmp_path / "v.npy")])
    assert "v.npy.keys.json" in _one_line_error(res)
    assert _listing(tmp_path) == {**before, side_input.name: vectors.read_bytes()}


def test_export_unknown_url_scheme(runner, vectors):
    res = runner.invoke(cli, ["export", str(vectors), "-o", "nosuchdb://host/table"])
    err = _one_line_error(res)
    assert "nosuchdb://host/table" in err and "scheme" in err


def test_url_targets_registry_plugs_in(monkeypatch, tmp_path):
    import types

    seen = []
    target = types.SimpleNamespace(PARAMS=(), write=None, read=None, check=seen.append)
    monkeypatch.setitem(URL_TARGETS, "exampledb", target)
    assert check_output("exampledb://host/db?table=t", inputs=[tmp_path / "v.txt"]) == "exampledb"
    assert seen == ["exampledb://host/db?table=t"]  # the target's own check ran before any work
    with pytest.raises(InvalidParameterError, match="exampledb://"):
        check_output("otherdb://x")
    with pytest.raises(InvalidParameterError, match="format"):
        check_output("exampledb://host/db", "npy")


def test_check_output_names_every_file_of_the_format(tmp_path, vectors):
    assert check_output(tmp_path / "new.npy", inputs=[vectors]) == "npy"
    assert check_output(tmp_path / "x", format="word2vec") == "word2vec"
    (tmp_path / "p.metadata.tsv").mkdir()  # the projector's second file cannot be written
    with pytest.raises(OutputError, match="p.metadata.tsv: is a folder"):
        check_output(tmp_path / "p.tsv")
    with pytest.raises(OutputError, match="input of this run"):
        check_path(vectors, inputs=[str(tmp_path / "*.txt")])  # globs of inputs are expanded
    assert check_path(tmp_path / "fresh.bin", inputs=[vectors]) == tmp_path / "fresh.bin"


def test_plot_output_checked_before_loading(runner, tmp_path):
    pytest.importorskip("matplotlib")
    res = runner.invoke(cli, ["plot", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "map.xyz")])
    assert res.exit_code == 2 and ".xyz is not an image format" in res.stderr and "Traceback" not in res.output
    res = runner.invoke(cli, ["plot", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "no" / "map.png")])
    assert "no folder" in _one_line_error(res)
    assert list(tmp_path.iterdir()) == []


def test_tokenizer_output_equal_to_input(runner, tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("a b c\n" * 10)
    res = runner.invoke(cli, ["tokenize", "train", str(text), "-o", str(text)])
    assert "input of this run" in _one_line_error(res)
    assert text.read_text() == "a b c\n" * 10


def test_failed_run_leaves_the_old_output_intact(runner, tmp_path, vectors):
    bad = tmp_path / "bad.edgelist"
    bad.write_text("0 1\n1 2\n2\n")
    before = _listing(tmp_path)
    res = runner.invoke(cli, ["train", "deepwalk", str(bad), "-o", str(vectors)])
    err = _one_line_error(res)
    assert str(bad) in err and "line 3" in err
    assert _listing(tmp_path) == before  # no temporary file either


# ------------------------------------------------------------------ bad parameters and inputs
@pytest.mark.parametrize("args, named", [
    (["evaluate", "nodeclass", "V", "L", "--repeats", "0"], "--repeats"),
    (["evaluate", "nodeclass", "V", "L", "--train-fraction", "nan"], "--train-fraction"),
    (["evaluate", "linkpred", str(KARATE), "--test-fraction", "1"], "--test-fraction"),
    (["neighbors", "V", "k", "-k", "0"], "-k"),
    (["train", "deepwalk", str(KARATE), "--no-such-option"], "--no-such-option"),
    (["train", "nosuchmethod", str(KARATE)], "nosuchmethod"),
])
def test_bad_parameters_are_usage_errors(runner, args, named):
    res = runner.invoke(cli, args)
    assert res.exit_code == 2 and named in res.stderr and "Traceback" not in res.output


def test_folder_where_a_file_is_expected(runner, tmp_path, vectors):
    folder = tmp_path / "labels"
    folder.mkdir()
    res = runner.invoke(cli, ["evaluate", "nodeclass", str(vectors), str(folder)])
    err = _one_line_error(res)
    assert str(folder) in err and "Errno" not in err and "folder" in err


def test_library_errors_are_one_line_exit_2(runner, tmp_path):
    res = runner.invoke(cli, ["neighbors", str(tmp_path / "nope.txt"), "k"])
    assert "nope.txt" in _one_line_error(res)


def test_a_multi_line_message_is_printed_on_one_line(runner, monkeypatch, tmp_path):
    def bad(*a, **k):
        raise ek.InputFormatError("first\nsecond", tmp_path / "f.txt", 3)

    monkeypatch.setattr(ek, "load", bad)
    err = _one_line_error(runner.invoke(cli, ["neighbors", "x", "k"]))
    assert "first second" in err and "f.txt, line 3" in err


def test_internal_error_is_called_a_bug(runner, monkeypatch):
    def broken(*a, **k):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(ek, "load", broken)
    monkeypatch.delenv("EMBEDKIT_DEBUG", raising=False)
    err = _one_line_error(runner.invoke(cli, ["neighbors", "x", "k"]), code=1)
    assert "bug in embedkit" in err and "ZeroDivisionError" in err and "--debug" in err and "EMBEDKIT_DEBUG=1" in err
    # --debug, or the environment variable: the exception itself comes through (click prints its traceback)
    res = runner.invoke(cli, ["--debug", "neighbors", "x", "k"])
    assert isinstance(res.exception, ZeroDivisionError) and res.exit_code == 1
    res = runner.invoke(cli, ["neighbors", "x", "k"], env={"EMBEDKIT_DEBUG": "1"})
    assert isinstance(res.exception, ZeroDivisionError)
    res = runner.invoke(cli, ["neighbors", "x", "k"], env={"EMBEDKIT_DEBUG": "0"})
    assert res.exit_code == 1 and "bug in embedkit" in res.stderr


# ------------------------------------------------------------------ as a real process
def _run(*args, env=None, code="from embedkit_cli.main import main; main()"):
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "EMBEDKIT_DEBUG": "", **(env or {})})


def test_subprocess_exit_codes_and_stderr(tmp_path):
    out = tmp_path / "out.edgelist"
    proc = _run("train", "node2vec", str(KARATE), "-o", str(out))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr and str(out) in proc.stderr
    assert not out.exists() and list(tmp_path.iterdir()) == []
    # an internal error: one line that says it is a bug; with --debug the traceback
    broken = "import embedkit as ek; ek.load = lambda *a, **k: {}['boom']; from embedkit_cli.main import main; main()"
    proc = _run("neighbors", "x", "k", code=broken)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "bug in embedkit" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = _run("--debug", "neighbors", "x", "k", code=broken)
    assert proc.returncode == 1 and "Traceback" in proc.stderr and "KeyError: 'boom'" in proc.stderr
