"""docs/parameters.md is generated from the Param tables; it fails here when it differs, and one name
keeps one meaning (and one type) across every method and evaluator."""
from __future__ import annotations

from pathlib import Path

from embedkit._param_docs import COMMAND, PAGE, render, shared_names, undefined_meanings

ROOT = Path(__file__).resolve().parents[1]


def test_docs_parameters_page_is_what_the_tables_generate():
    page = ROOT / PAGE
    assert page.is_file(), f"{PAGE} is missing: run `{COMMAND}` from the repository root"
    assert page.read_text(encoding="utf-8") == render(), (
        f"{PAGE} differs from the Param tables: run `{COMMAND}` from the repository root and commit it")


def test_a_shared_name_has_one_meaning_and_one_type():
    assert not undefined_meanings(), (
        "these names are taken by several tables with different help: give each one meaning in "
        "embedkit._param_docs.MEANINGS (or rename the parameter that means something else)")
    for name, uses in shared_names().items():
        types = {p.type for _, p in uses}
        assert len(types) == 1, f"{name!r} is a {' and a '.join(t.__name__ for t in types)}: {[w for w, _ in uses]}"


def test_every_method_and_evaluator_is_on_the_page():
    import embedkit as ek
    from embedkit.evaluate._registry import EVALUATORS

    text = render()
    for name in ek.methods():
        if ek.get_method(name).__module__.startswith("embedkit."):
            assert f"\n### {name}\n" in text, name
    for name in EVALUATORS:
        assert f"\n### {name}\n" in text, name
    # the renamed concepts are there under their one name, the old ones are gone
    for new in ("`negatives`", "`learning_rate`", "`confidence`", "`pmi_shift`", "`negative_sampling`",
                "`weight_exponent`", "`scoring`", "`permutations`"):
        assert new in text
    for old in ("| `alpha` |", "| `lr` |", "| `negative` |", "| `neg` |", "| `eta` |", "| `iterations` |",
                "| `solver` |", "| `n_permutations` |"):
        assert old not in text
