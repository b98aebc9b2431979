"""Input kinds are registered once (embedkit.kinds): a new kind is one register_kind call, and the
CLI's train command and the contract suite then serve methods of that kind with no other change."""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import embedkit as ek
from embedkit import kinds, testing
from embedkit.api import Method, Param, register, unregister
from embedkit_cli.main import cli


def _read_rows(path, *, scale: float = 1.0):
    """'key,x1,x2,...' lines -> (keys, float matrix * scale)."""
    if not isinstance(path, str):
        return path
    lines = [ln.split(",") for ln in open(path, encoding="utf-8").read().splitlines() if ln.strip()]
    if not lines:
        raise ek.EmptyInputError(f"{path}: no rows")
    return [ln[0] for ln in lines], np.array([[float(x) for x in ln[1:]] for ln in lines]) * scale


def _rows_sample():
    keys = [f"k{i}" for i in range(12)]
    x = np.random.default_rng(0).normal(size=(12, 5))

    def empty(folder):
        (folder / "empty.csv").write_text("\n")
        return str(folder / "empty.csv")

    return kinds.Sample((keys, x), lambda result, params: [(result, keys)],
                        bad_inputs=(kinds.BadInput("an empty file", empty, ek.EmptyInputError, "empty.csv: no rows"),))


class FirstColumns(Method):
    """The first ``dim`` columns of each row: a method of a kind embedkit does not ship."""

    name, family, summary, input_kind = "first-columns-test", "test", "the first dim columns of each row", "rows-test"
    params = (Param("dim", int, 2, "columns kept", low=1),)
    quick_params = {"dim": 3}

    def _fit(self, data, dim):
        keys, x = _read_rows(data)
        return ek.Embeddings(keys, x[:, :dim])


@pytest.fixture
def rows_kind():
    kind = kinds.register_kind(kinds.InputKind(
        "rows-test", "a CSV file of 'key,x1,x2,...' lines", _read_rows,
        options=(kinds.ReadOption("scale", "multiply every value by this", float),), sample=_rows_sample))
    register(FirstColumns)
    yield kind
    unregister(FirstColumns.name)
    kinds._KINDS.pop("rows-test")
    kinds._SAMPLES.pop("rows-test", None)


def test_a_new_kind_serves_the_cli_and_the_contract_suite(rows_kind, tmp_path):
    assert "rows-test" in kinds.kinds() and kinds.accepts(FirstColumns, "rows-test")
    assert not kinds.accepts(FirstColumns, "graph")
    runner = CliRunner()
    res = runner.invoke(cli, ["train", FirstColumns.name, "--help"])
    assert res.exit_code == 0 and "--scale FLOAT" in res.output and "--directed" not in res.output
    data = tmp_path / "rows.csv"
    data.write_text("a,1,2,3\nb,4,5,6\n")
    out = tmp_path / "rows.ekv"
    res = runner.invoke(cli, ["train", FirstColumns.name, str(data), "--scale", "2", "--dim", "2", "-o", str(out)])
    assert res.exit_code == 0, res.output
    emb = ek.load(out)
    assert emb.keys == ["a", "b"]
    np.testing.assert_array_equal(emb.vectors, [[2, 4], [8, 10]])

    report = testing.check_method(FirstColumns.name, devices=("cpu",))
    assert report["vectors[cpu]"] == report["bad_inputs"] == report["round_trip.txt[cpu]"] == "passed"
    assert report["input_forms"] == "skipped: input kind 'rows-test' registers no other forms of its sample"


def test_a_kind_registers_once_and_unknown_kinds_are_named():
    with pytest.raises(TypeError, match="already registered as 'graph'"):
        kinds.register_kind(kinds.InputKind("graph", "another graph", lambda path: path))

    class Stray(Method):
        name, family, summary, input_kind = "stray-test", "test", "a method of no registered kind", "no-such-kind"

    register(Stray)
    try:
        with pytest.raises(ek.exceptions.UnknownInputKindError, match="'no-such-kind'.*graph, interactions, nodes"):
            testing.check_parameter_table("stray-test")
        res = CliRunner().invoke(cli, ["train", "stray-test", "--help"])
        assert res.exit_code == 2 and "unknown input kind 'no-such-kind'" in res.output
    finally:
        unregister("stray-test")


def test_gnn_methods_read_node_data_and_still_count_as_graph_methods():
    gcn = ek.get_method("gcn")
    assert gcn.input_kind == "nodes" and kinds.accepts(gcn, "graph") and kinds.accepts(gcn, "nodes")
    assert not kinds.accepts(ek.get_method("skipgram"), "graph") and kinds.accepts(ek.get_method("svd"), "graph")
