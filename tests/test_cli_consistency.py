"""The CLI's small consistencies (issue 19): --quiet everywhere, errors that name the real
problem (a method that is not a graph method, an unknown user, a missing key with the keys the
file has), shipped data sets by name, Planetoid folders read without their name."""
from __future__ import annotations

import json
import pickle

import click
import numpy as np
import pytest
from click.testing import CliRunner

import embedkit as ek
from embedkit import _progress
from embedkit_cli.main import cli

KARATE = str(ek.datasets.path("karate.edgelist"))


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def ratings(tmp_path):
    """30 users x 20 items, two taste groups, MovieLens u.data layout (user item rating time)."""
    rng = np.random.default_rng(0)
    lines = []
    for u in range(1, 31):
        for it in rng.choice(np.arange(1, 21), size=8, replace=False):
            r = 5 if (it % 2) == (u % 2) else 2
            lines.append(f"{u}\t{it}\t{r}\t{880000000 + u * 100 + int(it)}\n")
    p = tmp_path / "u.data"
    p.write_text("".join(lines))
    return p


def _leaves(group: click.Group, ctx, prefix=()):
    for name in group.list_commands(ctx):
        cmd = group.get_command(ctx, name)
        if isinstance(cmd, click.Group):
            yield from _leaves(cmd, ctx, prefix + (name,))
        else:
            yield prefix + (name,), cmd


def test_every_command_takes_quiet():
    with click.Context(cli) as ctx:
        leaves = list(_leaves(cli, ctx))
    assert len(leaves) > 20  # every train method, every evaluate command, the rest
    missing = [" ".join(path) for path, cmd in leaves if not any("--quiet" in p.opts for p in cmd.params)]
    assert missing == []


def test_evaluate_rating_quiet_runs_and_silences_bars(runner, ratings, monkeypatch):
    monkeypatch.setattr(_progress, "_default", None)
    seen = []
    real = ek.evaluate.rating

    def rating(*a, **kw):  # what verbose=None means while the command evaluates
        seen.append((_progress._default, _progress.show_progress(None), _progress.show_progress(True)))
        return real(*a, **kw)

    monkeypatch.setattr(ek.evaluate, "rating", rating)
    res = runner.invoke(cli, ["evaluate", "rating", str(ratings), "--quiet", "--dim", "4", "--epochs", "2",
                              "--workers", "1"])
    assert res.exit_code == 0, res.output
    assert "rmse" in res.output.lower()
    # --quiet: no bar even on a terminal (verbose=True still forces one); restored after the command
    assert seen == [(False, False, True)]
    assert _progress._default is None
    runner.invoke(cli, ["evaluate", "rating", str(ratings), "--dim", "4", "--epochs", "2", "--workers", "1"])
    assert seen[-1][0] is None


def test_linkpred_refuses_a_method_that_is_not_a_graph_method(runner):
    res = runner.invoke(cli, ["evaluate", "linkpred", KARATE, "--method", "als"])
    assert res.exit_code == 2
    assert "'als'" in res.output and "graphs" in res.output
    for m in ("deepwalk", "node2vec", "svd"):
        assert m in res.output
    assert "interactions" not in res.output.replace("evaluate ranking", "")


def test_recommend_names_an_unknown_user(runner, ratings, tmp_path):
    model = tmp_path / "pop.ekv"
    assert runner.invoke(cli, ["train", "popular", str(ratings), "-o", str(model)]).exit_code == 0
    res = runner.invoke(cli, ["recommend", str(model), "99999"])
    assert res.exit_code == 2
    assert "unknown user '99999'" in res.output and "30 users" in res.output
    assert "keys look like '1', '2'" in res.output
    ok = runner.invoke(cli, ["recommend", str(model), "7", "-k", "3", "--json"])
    assert ok.exit_code == 0 and len(json.loads(ok.output)) == 3


def test_missing_key_shows_keys_and_closest_matches(runner, tmp_path):
    words = ["paris", "parish", "rome", "berlin", "london", "madrid", "vienna"]
    emb = ek.Embeddings(words, np.random.default_rng(0).normal(size=(len(words), 4)))
    path = tmp_path / "v.txt"
    emb.export(path)
    res = runner.invoke(cli, ["neighbors", str(path), "pariss"])
    assert res.exit_code == 2
    assert "nearest to" not in res.output  # one error line, no title before it
    assert "keys look like 'paris', 'parish', 'rome', 'berlin', 'london', ..." in res.output
    assert "closest: 'paris', 'parish'" in res.output
    res = runner.invoke(cli, ["neighbors", str(path), "42"])
    assert res.exit_code == 2 and "keys look like 'paris'" in res.output and "no close match" in res.output
    # the library's error carries the same message (one place)
    with pytest.raises(ek.KeyNotFoundError, match="closest: 'berlin'"):
        emb["berlinn"]


def test_shipped_data_sets_by_name(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(cli, ["train", "node2vec", "karate", "-o", "k.txt", "--dim", "8", "--walk-length", "10",
                              "--walks-per-node", "2", "--workers", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    assert len(ek.load("k.txt")) == 34
    res = runner.invoke(cli, ["evaluate", "nodeclass", "k.txt", "karate", "--repeats", "1", "--json"])
    assert res.exit_code == 0, res.output
    assert '"num_labelled": 34' in res.output
    assert ek.datasets.shipped_file("emma")[1] == "paragraph"
    assert ek.datasets.shipped_file("nothing") is None
    # a file of that name here wins over the shipped data set
    (tmp_path / "karate").write_text("a b\nb c\n")
    res = runner.invoke(cli, ["train", "node2vec", "karate", "-o", "small.txt", "--dim", "2", "--walk-length", "5",
                              "--walks-per-node", "2", "--workers", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    assert sorted(ek.load(tmp_path / "small.txt").keys) == ["a", "b", "c"]


def _toy_planetoid(folder, name="toy"):
    import scipy.sparse as sp

    def dump(part, obj):
        with open(folder / f"ind.{name}.{part}", "wb") as fh:
            pickle.dump(obj, fh, protocol=2)

    dump("x", sp.csr_matrix(np.eye(2, 3, dtype=np.float32)))
    dump("tx", sp.csr_matrix(np.ones((2, 3), dtype=np.float32)))
    dump("allx", sp.csr_matrix(np.ones((4, 3), dtype=np.float32)))
    dump("y", np.eye(2, dtype=np.int64))
    dump("ty", np.eye(2, dtype=np.int64))
    dump("ally", np.eye(2, dtype=np.int64)[[0, 1, 0, 1]])
    dump("graph", {0: [1], 1: [2], 2: [3], 3: [4], 4: [5], 5: [0]})
    (folder / f"ind.{name}.test.index").write_text("4\n5\n")


def test_read_planetoid_infers_the_name(tmp_path):
    _toy_planetoid(tmp_path)
    d = ek.datasets.read_planetoid(tmp_path)
    assert d.graph.num_nodes == 6 and d.labels.tolist() == [0, 1, 0, 1, 0, 1]
    _toy_planetoid(tmp_path, "other")
    with pytest.raises(ek.InputFormatError, match="found other, toy: pass name="):
        ek.datasets.read_planetoid(tmp_path)
    assert ek.datasets.read_planetoid(tmp_path, "other").graph.num_nodes == 6
    (tmp_path / "empty").mkdir()
    with pytest.raises(ek.InputFormatError, match="found none"):
        ek.datasets.read_planetoid(tmp_path / "empty")


def test_similarity_with_low_coverage_says_what_the_figure_means(runner, tmp_path):
    """A small vocabulary scores few WS353 pairs: the report says the correlation is a smoke test."""
    from gensim.test.utils import datapath

    from embedkit.evaluate.similarity import DATASETS, read_word_pairs

    pairs = read_word_pairs(datapath(DATASETS["wordsim353"]))
    words = sorted({w for a, b, _ in pairs[:30] for w in (a.lower(), b.lower())})
    emb = ek.Embeddings(words, np.random.default_rng(0).normal(size=(len(words), 8)))
    path = tmp_path / "few.txt"
    emb.export(path)
    res = runner.invoke(cli, ["evaluate", "similarity", str(path)])
    assert res.exit_code == 0, res.output
    scored = int(res.output.split(" pairs scored")[0].rsplit("(", 1)[1])
    assert 30 <= scored < 353 / 2
    assert f"note: only {scored} of 353 pairs" in res.output and "smoke test" in res.output
    assert "note:" not in runner.invoke(cli, ["evaluate", "similarity", str(path), "--json"]).output
