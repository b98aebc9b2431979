"""docs/parameters.md, generated from the methods' and evaluators' Param tables.

One name means one thing across every family; this page shows each name once with its meaning and
the methods that take it, then every method's and evaluator's table. Regenerate after changing a
table (a test fails while the page differs from what this writes)::

    python -m embedkit._param_docs            # rewrite docs/parameters.md
    python -m embedkit._param_docs --check    # exit 1 if it is out of date
"""
from __future__ import annotations

import sys
from pathlib import Path

from ._validation import Param

#: the page, relative to the repository root
PAGE = Path("docs") / "parameters.md"
COMMAND = "python -m embedkit._param_docs"

#: one meaning per name taken by several methods whose help texts differ (each method's own help,
#: in its table below, adds what is particular to it). A shared name missing here is an error: a
#: name used for two things is what this page exists to prevent.
MEANINGS = {
    "dim": "size of the output vectors (latent factors for recommenders)",
    "patience": "stop after this many epochs without a better validation score (0: never stop early); the best "
                "epoch's state is kept",
    "validation": "held-out data measured after every epoch (the training loop keeps the best epoch)",
    "callbacks": "callables called after every epoch with its history row; one returning True stops training",
    "checkpoint": "folder for checkpoints; running again with the same folder resumes from the newest",
    "checkpoint_every": "seconds between checkpoints inside a long epoch (one is written after every epoch too)",
    "window": "maximum distance between a center and a context item in a sequence (word or walk node)",
    "negatives": "number of negative (noise) samples per positive example",
    "shared_negatives": "numba skip-gram: draw the negative samples once per context window instead of per pair",
    "sample": "subsampling threshold for frequent items (0 disables)",
    "epochs": "passes over the training data (ALS: sweeps over users then items; GNNs: the maximum)",
    "learning_rate": "(initial) step size of the optimiser",
    "min_learning_rate": "final learning rate of a linear decay",
    "min_count": "ignore words rarer than this",
    "max_vocab": "keep at most this many most frequent words",
    "walk_length": "nodes per random walk",
    "walks_per_node": "random walks started from every node",
    "reg": "L2 regularisation of the factors (and biases)",
    "batch_size": "examples per optimisation step (or per block, for evaluators)",
    "backend": "the engine that does the work: auto, or a named implementation (torch, numba, implicit, ...)",
    "workers": "CPU threads (0 = the method's automatic choice)",
    "seed": "random seed (repeatable on the CPU)",
    "device": "'auto', 'cpu', 'cuda' or 'cuda:N'",
    "verbose": "progress bars: None shows them on a terminal, True always, False never (Python only)",
    "add_context": "add the context vectors to the word vectors (w + c)",
    "normalize": "scale every output vector to unit length",
    "hidden": "units of each hidden layer",
    "layers": "number of layers of the network",
    "optimizer": "sgd or adam",
    "dropout": "dropout rate on every layer's input",
    "ns_exponent": "exponent of the unigram noise distribution",
    "unit": "when reading a path: one sequence per line, paragraph or document",
    "lowercase": "lowercase the text (bpe: fold case)",
    "vocab_size": "pieces in a BPE vocabulary",
    "k": "list lengths: the metrics at each",
    "distance": "distance (or 1 - similarity) used to compare vectors",
    "dataset": "a dataset gensim ships, by name, or a file",
    "case_insensitive": "compare lower-cased words",
    "train_fraction": "share of the labelled items trained on",
    "init": "a previous result to continue from: keys in both start from their old rows, new keys get new rows, "
            "old keys absent from the new data keep their vectors",
    "freeze_existing": "keep every old row bit for bit (indexes built on them stay valid)",
}


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _default(p: Param) -> str:
    if p.multiple and isinstance(p.default, tuple):
        return ", ".join(map(str, p.default))
    return "None" if p.default is None else repr(p.default) if isinstance(p.default, str) else str(p.default)


def _table(params) -> list[str]:
    rows = ["| parameter | type | default | allowed | meaning |", "| --- | --- | --- | --- | --- |"]
    for p in params:
        cli = "" if p.cli else " (Python only)"
        rows.append(f"| `{p.name}` | {p.type.__name__} | `{_default(p)}` | {_cell(p.allowed())} | "
                    f"{_cell(p.help)}{cli} |")
    return rows


def builtin_methods() -> dict:
    """The methods embedkit ships (plugins from other packages are left out of its docs), by name."""
    from . import api

    classes = {name: api.get_method(name) for name in api.methods()}
    return {name: cls for name, cls in classes.items() if cls.__module__.startswith("embedkit.")}


def tables() -> list[tuple[str, tuple[Param, ...]]]:
    """``(who, params)`` for every built-in method (``who`` = its name) and evaluator
    (``evaluate NAME``)."""
    import embedkit  # noqa: F401  (registers the methods and evaluators)
    from .evaluate._registry import EVALUATORS

    return ([(name, cls.params) for name, cls in builtin_methods().items()]
            + [(f"evaluate {name}", ev.params) for name, ev in sorted(EVALUATORS.items())])


def shared_names() -> dict[str, list[tuple[str, Param]]]:
    """name -> [(method or evaluator, its Param)] for every parameter name, in first-seen order."""
    out: dict[str, list[tuple[str, Param]]] = {}
    for who, params in tables():
        for p in params:
            out.setdefault(p.name, []).append((who, p))
    return out


def undefined_meanings() -> list[str]:
    """Names that several tables hold with different help texts and that :data:`MEANINGS` lacks."""
    return sorted(n for n, uses in shared_names().items() if len({p.help for _, p in uses}) > 1 and not MEANINGS.get(n))


def render() -> str:
    """The whole page, as :data:`PAGE` should hold it."""
    import embedkit  # noqa: F401  (registers the methods)
    from .evaluate._registry import EVALUATORS

    methods = builtin_methods()
    lines = [
        "# Parameters",
        "",
        f"<!-- generated by `{COMMAND}` from the methods' and evaluators' Param tables: do not edit by hand -->",
        "",
        "One name means one thing in every family: `negatives` is always a number of negative samples,",
        "`learning_rate` always a step size, `epochs` always passes over the data, `backend` always the",
        "engine that does the work. Names from the papers or from gensim and implicit that would clash",
        "are renamed, and the table's help gives the original (GloVe's `alpha` is `weight_exponent`, ALS's",
        "`alpha` is `confidence`, hyperwords' `neg` is svd's `pmi_shift`, bpr's sampling strategy is",
        "`negative_sampling`). The CLI's options are the same names with dashes (`--learning-rate`).",
        "",
        "## Names across families",
        "",
        "| parameter | meaning | methods and evaluators (default) |",
        "| --- | --- | --- |",
    ]
    for name, uses in sorted(shared_names().items()):
        helps = {p.help for _, p in uses}
        meaning = MEANINGS.get(name) or next(iter(helps))
        where = ", ".join(f"{m} ({_default(p)})" for m, p in uses)
        lines.append(f"| `{name}` | {_cell(meaning)} | {_cell(where)} |")
    lines += ["", "## Methods", ""]
    for name, cls in methods.items():
        lines += [f"### {name}", "", f"{_cell(cls.summary)}. `ek.train({name!r}, data, ...)`, "
                  f"`embedkit train {name} ...`", "", *_table(cls.params), ""]
    lines += ["## Evaluators", "",
              "`embedkit evaluate NAME` takes these as options (defaults from the same table); the Python",
              "function takes them as keyword arguments.", ""]
    for name, ev in sorted(EVALUATORS.items()):
        lines += [f"### {name}", "", f"`ek.evaluate.{ev.function.__name__}`: {_cell(ev.summary)}", ""]
        lines += [*_table(ev.params), ""] if ev.params else ["No parameters.", ""]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    root = Path.cwd()
    page = root / PAGE
    text = render()
    if "--check" in argv:
        if not page.is_file() or page.read_text(encoding="utf-8") != text:
            sys.stderr.write(f"{PAGE} is out of date: run `{COMMAND}` from the repository root\n")
            return 1
        return 0
    page.write_text(text, encoding="utf-8")
    sys.stderr.write(f"wrote {PAGE}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
