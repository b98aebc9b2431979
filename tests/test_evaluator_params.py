"""Evaluators declare Param tables; `embedkit evaluate` builds its options from them, so the CLI's
defaults are the library's (one source)."""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

import embedkit as ek
from embedkit.evaluate._registry import EVALUATORS, evaluator
from embedkit._validation import Param
from embedkit_cli.main import cli
from embedkit_cli._options import evaluator_params

ROOT = Path(__file__).resolve().parents[1]
KARATE = str(ROOT / "corpora" / "karate.edgelist")
LABELS = str(ROOT / "corpora" / "karate.labels")


def _command(name: str) -> click.Command:
    return cli.commands["evaluate"].commands[name]


def test_every_evaluate_command_is_a_registered_evaluator():
    assert set(cli.commands["evaluate"].commands) == set(EVALUATORS)
    for name in ("linkpred", "nodeclass", "analogy", "similarity", "bias", "retrieval", "triplets", "ranking"):
        assert EVALUATORS[name].params, name


@pytest.mark.parametrize("name", sorted(EVALUATORS))
def test_cli_option_defaults_equal_the_library_defaults(name):
    ev = EVALUATORS[name]
    signature = inspect.signature(ev.function).parameters
    options = {p.name: p for p in _command(name).params if isinstance(p, click.Option)}
    resolved = evaluator_params(name, {})  # what the command passes when no option is given
    for p in ev.params:
        assert signature[p.name].default == p.default, (name, p.name)  # the library's default
        assert resolved[p.name] == p.default, (name, p.name)
        if not p.cli:  # e.g. linkpred's seed: --seed goes to the method the command trains
            assert p.name not in options, (name, p.name)
            continue
        opt = options[p.name]
        # the option's own default is "not given" (None, or () when repeatable): the table's applies
        assert opt.default in (None, ()), (name, p.name, opt.default)
        shown = ", ".join(map(str, p.default)) if p.multiple else str(p.default)
        assert f"[default: {shown}]" in opt.help, (name, p.name, opt.help)


def test_nodeclass_cli_without_options_gives_the_library_default_result(tmp_path):
    """The issue's case: the CLI averaged 5 splits where the library took 1. Now both take the table's."""
    assert EVALUATORS["nodeclass"].params[-1].name == "repeats"
    emb = ek.train("deepwalk", ek.read_graph(KARATE), dim=8, walk_length=10, walks_per_node=4, workers=1, seed=0,
                   verbose=False)
    out = tmp_path / "v.ekv"
    emb.save(out)
    res = CliRunner().invoke(cli, ["evaluate", "nodeclass", str(out), LABELS, "--json"])
    assert res.exit_code == 0, res.output
    library = ek.evaluate.node_classification(ek.load(out), LABELS)
    assert json.loads(res.output) == pytest.approx(dict(library))
    one_split = ek.evaluate.node_classification(ek.load(out), LABELS, repeats=1)
    assert dict(one_split) != dict(library)  # the default is not one split


def test_cli_option_is_checked_against_the_table_and_named():
    res = CliRunner().invoke(cli, ["evaluate", "retrieval", "v.vec", "l.txt", "-k", "0"])
    assert res.exit_code == 2 and "'-k'" in res.output and ">= 1" in res.output


def test_a_signature_that_drifts_from_its_table_is_refused_at_import():
    with pytest.raises(TypeError, match="'repeats' has default 1 in the signature but 5 in its table"):
        @evaluator("drifted", (Param("repeats", int, 5, "splits", low=1),))
        def drifted(emb, repeats=1):
            return emb
    assert "drifted" not in EVALUATORS


def test_a_param_that_requires_another_is_refused_without_it():
    # Param(requires=...): one rule for every method's freeze_existing (it needs init)
    from embedkit._validation import Param, validate

    table = (Param("init", object, None, "a previous result", nullable=True),
             Param("freeze_existing", bool, False, "keep old rows", requires="init"))
    assert validate("m", table, {})["freeze_existing"] is False
    assert validate("m", table, {"init": object(), "freeze_existing": True})["freeze_existing"] is True
    with pytest.raises(ek.InvalidParameterError, match="freeze_existing.*False without init.*pass init="):
        validate("m", table, {"freeze_existing": True})
    assert table[1].allowed().endswith("true needs init")
    for method in ("skipgram", "cbow", "subword", "deepwalk", "node2vec", "gcn", "gat", "als", "bpr", "mf",
                   "triplet"):
        rows = {p.name: p for p in ek.get_method(method).params}
        assert rows["freeze_existing"].requires == "init", method
