"""``embedkit`` — train, evaluate, query and convert embeddings from the shell.

Thin by design: parse, call the library, print. Every method's options come
from its parameter table.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

import embedkit as ek
from embedkit.artifacts import artifact_of
from embedkit.distributed import is_main
from embedkit.api import plugin_origin
from embedkit.exceptions import EmbedkitError, PluginError
from embedkit.io import check_output, check_path
from embedkit.kinds import ReadOption, accepts, get_kind, kinds_of

from ._history import training_rows, write_history
from ._options import COUNT, FRACTION, click_option, evaluator_options, evaluator_params, parse_extra
from ._report import echo_rows
from .explore import explore
from .tokenize import tokenize

console = Console()
err_console = Console(stderr=True)

EXIT_BAD_INPUT = 2  # bad input, bad parameter, an output that cannot be written (and click's usage errors)
EXIT_BUG = 1  # an unexpected internal error (a bug in embedkit), or out of memory
DEBUG_ENV = "EMBEDKIT_DEBUG"


class _Group(click.Group):
    """The top-level group turns every error into one line on stderr (see docs/cli.md)."""

    def invoke(self, ctx):
        if ctx.parent is not None:  # sub-groups: the root handles errors, once
            return super().invoke(ctx)
        try:
            return super().invoke(ctx)
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except Exception as exc:  # KeyboardInterrupt stays click's "Aborted!"
            if _debug(ctx):
                raise
            code, message = _describe(exc)
            _fail(message)
            ctx.exit(code)


def _debug(ctx) -> bool:
    return bool(ctx.params.get("debug")) or os.environ.get(DEBUG_ENV, "").strip() not in ("", "0")


#: OSError kind -> what it means for the path it names
_OS_PROBLEMS = (
    (FileNotFoundError, "no such file or folder"),
    (IsADirectoryError, "is a folder; a file is expected here"),
    (NotADirectoryError, "a part of this path is a file, not a folder"),
    (PermissionError, "permission denied"),
)


def _describe(exc: Exception) -> tuple[int, str]:
    """(exit code, one line) for an error that reached the top."""
    if isinstance(exc, EmbedkitError):
        return EXIT_BAD_INPUT, str(exc)
    if isinstance(exc, OSError):
        problem = next((text for kind, text in _OS_PROBLEMS if isinstance(exc, kind)), exc.strerror or str(exc))
        return EXIT_BAD_INPUT, f"{exc.filename}: {problem}" if exc.filename else problem
    if isinstance(exc, MemoryError):
        return EXIT_BUG, f"out of memory ({exc})" if str(exc) else "out of memory"
    return EXIT_BUG, (f"internal error {type(exc).__name__}: {exc} -- this is a bug in embedkit; run again with "
                      f"--debug (embedkit --debug ...) or {DEBUG_ENV}=1 to see the traceback, and please report it")


def _fail(message: str) -> None:
    from rich.text import Text

    one_line = " ".join(str(message).split("\n"))
    err_console.print(Text.assemble(("error: ", "bold red"), one_line), soft_wrap=True)


def _setup_logging(verbose: bool) -> None:
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s",
                        stream=sys.stderr)


def _quiet_callback(ctx, param, value):
    """--quiet: no progress bars anywhere in the run (the library's verbose=None default becomes False)."""
    if value:
        from embedkit import _progress

        previous = _progress._default
        _progress.set_default(False)
        ctx.call_on_close(lambda: _progress.set_default(previous))  # in-process callers get it back
    return value


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(ek.__version__, prog_name="embedkit")
@click.option("-v", "--verbose", is_flag=True, help="log what the library does")
@click.option("--debug", is_flag=True, help=f"show the traceback of an error (also: {DEBUG_ENV}=1)")
def cli(verbose: bool, debug: bool) -> None:
    """Learn, evaluate and ship embeddings.

    Under torchrun (``torchrun --nproc-per-node N -m embedkit_cli train ...``) the torch
    methods train across the processes; only rank 0 prints and writes.

    Exit codes: 0 done, 2 bad input, parameter or output (one line on stderr), 1 an
    internal error (a bug: --debug shows its traceback).
    """
    _setup_logging(verbose)
    if not is_main():  # the other ranks of a torchrun launch train and stay quiet
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (for the life of the process)


# ------------------------------------------------------------------------ train
class _TrainGroup(_Group):
    def list_commands(self, ctx):
        return ek.methods()

    def get_command(self, ctx, name):
        try:
            cls = ek.get_method(name)
        except ek.UnknownMethodError:
            return None
        except PluginError as exc:  # `embedkit train --help` still lists the others; running it says why
            return _broken_plugin_command(name, exc)
        return _train_command(cls)

    def resolve_command(self, ctx, args):
        name = args[0] if args else None
        if name and not name.startswith("-") and self.get_command(ctx, name) is None:
            raise click.UsageError(f"unknown method {name!r}; choose one of: {', '.join(ek.methods())}", ctx)
        return super().resolve_command(ctx, args)


def _broken_plugin_command(name: str, exc: PluginError) -> click.Command:
    def run(args):
        raise exc

    return click.Command(name, callback=run, short_help="(plugin failed to load: embedkit methods says why)",
                         params=[click.Argument(["args"], nargs=-1)], add_help_option=False,
                         context_settings={"ignore_unknown_options": True})


def _shipped(arg: str | None, what: str = "data") -> tuple[str | None, str | None]:
    """(path, unit) for a file argument: a shipped data set's name (karate, emma: see
    ``ek.datasets.names()``) stands for its file unless a file of that name exists here."""
    if arg is None or os.path.exists(arg):
        return arg, None
    found = ek.datasets.shipped_file(arg, what)
    return (arg, None) if found is None else (str(found[0]), found[1])


def _read_option(opt: ReadOption) -> click.Option:
    """A click option for an input kind's reader option (declared once, in embedkit.kinds)."""
    flag = "--" + opt.name.replace("_", "-")
    if opt.type is bool:
        return click.Option([flag, opt.name], is_flag=True, default=None, help=opt.help)
    ptype = click.Path(dir_okay=False) if opt.type is Path else _OPTION_TYPES.get(opt.type, click.STRING)
    return click.Option([flag, opt.name], type=ptype, default=None, help=opt.help)


_OPTION_TYPES = {str: click.STRING, int: click.INT, float: click.FLOAT}


def _interaction_options() -> list[click.Option]:
    """The interactions reader's options but --delimiter (the evaluate commands declare their own)."""
    return [_read_option(o) for o in get_kind("interactions").options if o.name != "delimiter"]


def _interaction_columns(given: dict) -> dict:
    """The interactions reader's options among ``given`` that were set (delimiter apart)."""
    return {o.name: given[o.name] for o in get_kind("interactions").options
            if o.name != "delimiter" and given.get(o.name) is not None}


def _takes_graphs(cls) -> bool:
    return accepts(cls, "graph")


def _usable_and_takes_graphs(name: str) -> bool:
    """For listings: a plugin that fails to load, or names no registered kind, is left out."""
    try:
        return _takes_graphs(ek.get_method(name))
    except EmbedkitError:
        return False


def _kind_flag(kind) -> str:
    return "--" + kind.name.replace("_", "-")


def _train_inputs(cls) -> tuple[list, dict]:
    """(the kinds ``cls`` takes, reader option name -> ReadOption): a method's own parameter of the
    same name wins over a reader option (triplet's ``features``)."""
    taken = {p.name for p in cls.params}
    kinds = kinds_of(cls)
    options: dict[str, ReadOption] = {}
    for kind in kinds:
        for opt in kind.options:
            if opt.name not in taken:
                options.setdefault(opt.name, opt)
    return kinds, options


def _read_data(kinds, path: str, chosen: set[str], read_kw: dict):
    """DATA read by the kind named by its flag (``--graph``), else by the method's own kind, with
    the reader options that kind declares."""
    kind = next((k for k in kinds[1:] if k.name in chosen), kinds[0])
    names = {o.name for o in kind.options}
    given = {k: v for k, v in read_kw.items() if k in names}
    for opt in kind.options:  # a shipped data set's name stands for its file (--labels karate)
        if opt.shipped and given.get(opt.name):
            given[opt.name] = _shipped(given[opt.name], opt.shipped)[0]
    return kind.read(path, **given)


def _train_command(cls) -> click.Command:
    kinds, read_options = _train_inputs(cls)
    declared = {p.name for p in cls.params}
    kind_flags = {k.name for k in kinds[1:]}
    # a method that continues from a previous result (init=, a Python object): --init FILE, read with ek.load
    init_file = any(p.name == "init" and not p.cli for p in cls.params)

    def run(data, output, quiet, history=None, init_path=None, **given):
        chosen = {k for k in kind_flags if given.pop(f"as_{k}", False)}
        read_kw = {k: given.pop(k) for k in list(given) if k in read_options and given[k] is not None}
        params = {k: v for k, v in given.items() if v is not None}
        name = data
        data, unit = _shipped(data)
        if unit and "unit" in declared:
            params.setdefault("unit", unit)  # emma: one sequence per paragraph
        if "verbose" in {p.name for p in cls.params}:
            params.setdefault("verbose", False if quiet else None)  # None: bars only on a terminal
        ext = ".model" if cls.returns == "tokenizer" else ".ekv"
        out = Path(output) if output else Path(Path(name).name.split(".")[0] + f".{cls.name}{ext}")
        inputs = [data, *(read_kw.get(o.name) for o in read_options.values() if o.type is Path),
                  *([init_path] if init_path else [])]  # never overwritten
        if cls.returns == "tokenizer":
            check_path(out, inputs=inputs)
        else:
            check_output(out, inputs=inputs)
        if history:
            check_output(Path(history), inputs=inputs)
        start = time.perf_counter()
        if init_path:
            params["init"] = ek.load(init_path)
        obj = _read_data(kinds, data, chosen, read_kw)
        if kinds[0].held_out and isinstance(params.get("validation"), str):
            # held-out data of the method's kind, read as DATA is (held-out ratings keep their column)
            params["validation"] = _read_data(kinds, params["validation"], chosen, read_kw)
        emb = ek.train(cls.name, obj, **params)
        if not is_main():
            return
        if history:
            write_history(emb, Path(history))
        _report(cls, data, obj, emb, out, start, history)

    params = [
        # the method's input kind says what DATA is (a text corpus may be a folder, a Planetoid data set is one)
        click.Argument(["data"], type=click.Path(dir_okay=kinds[0].folders)),
        click.Option(["-o", "--output"], default=None,
                     help="output file; format from the extension (.ekv, .txt/.vec, .bin, .npy, .npz) "
                          "[default: <input>.<method>.ekv]" if cls.returns != "tokenizer" else
                          "output sentencepiece .model file [default: <input>.bpe.model]"),
    ]
    # other kinds the method takes: a flag says DATA is one (svd: --graph)
    params += [click.Option([_kind_flag(k), f"as_{k.name}"], is_flag=True,
                            help=f"DATA is {k.help}, not {kinds[0].name}") for k in kinds[1:]]
    params += [_read_option(o) for o in read_options.values()]
    params.append(click.Option(["--quiet"], is_flag=True, callback=_quiet_callback, help="no progress bars"))
    if "checkpoint" in declared:  # a method on the training loop
        params.append(click.Option(["--history"], type=click.Path(dir_okay=False), default=None,
                                   help="write the per-epoch history (loss, throughput, validation) as JSON lines"))
    if init_file:
        params.append(click.Option(["--init", "init_path"], type=click.Path(dir_okay=True), default=None,
                                   help="a previous result (.ekv or any vectors file) to continue from: keys in "
                                        "both start from their old rows, new keys get new rows"))
    params += [click_option(p) for p in cls.params if p.cli]
    doc = (cls.__doc__ or cls.summary).strip().splitlines()[0]
    return click.Command(cls.name, params=params, callback=run, help=f"{doc}\n\n{cls.summary}.",
                         short_help=cls.summary)


def _report(cls, data, obj, result, out: Path, start: float, history=None) -> None:
    """Save what a method returned and summarise: how to save it and its rows come from the
    artifact registry (:mod:`embedkit.artifacts`), whatever its type."""
    art = artifact_of(result)
    art.save(result, out)
    rows = [("method", cls.name), ("input", f"{data}: {obj!r}" if not isinstance(obj, str) else data),
            *art.summary(result), *training_rows(getattr(result, "meta", None) or {}, history),
            ("total", f"{time.perf_counter() - start:.2f} s"), ("written", art.describe_output(result, out))]
    echo_rows(rows)


@cli.group(cls=_TrainGroup)
def train() -> None:
    """Train a method: embedkit train METHOD DATA [OPTIONS]."""


cli.add_command(tokenize)
cli.add_command(explore)  # embedkit explore: cli/explore.py
tokenize.add_command(_train_command(ek.get_method("bpe")), "train")  # = embedkit train bpe


# ------------------------------------------------------------------------ evaluate
@cli.group(cls=_Group)
def evaluate() -> None:
    """Evaluate vectors: link prediction, node classification, word analogies and similarity."""


@evaluate.command("linkpred", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("graph", type=click.Path(dir_okay=False))
@click.option("--method", default="node2vec", show_default=True, help="graph method to train on the train split")
@click.option("--test-fraction", default=0.1, show_default=True, type=FRACTION, help="edges held out")
@click.option("--split-seed", default=0, show_default=True, type=int, help="seed of the split")
@click.option("--directed", is_flag=True, help="read the edge list as directed")
@evaluator_options("linkpred")
@click.option("--json", "as_json", is_flag=True, help="print the metrics as JSON")
@click.pass_context
def evaluate_linkpred(ctx, graph, method, test_fraction, split_seed, directed, as_json, **given):
    """Hold out edges of GRAPH, train METHOD on the rest, score the held-out edges.

    Extra options go to the method, e.g. --dim 64 --p 1 --q 0.5.
    """
    cls = ek.get_method(method)
    if not _takes_graphs(cls):
        graph_methods = [m for m in ek.methods() if _usable_and_takes_graphs(m)]
        hint = f"{method} is a {cls.family} method"
        if cls.input_kind == "interactions":
            hint += " (embedkit evaluate ranking scores recommenders)"
        raise ek.InvalidParameterError("evaluate linkpred", "method", "a method that embeds graphs: "
                                       + ", ".join(graph_methods), method, hint=hint)
    evaluation = evaluator_params("linkpred", given)
    params = parse_extra(cls, ctx.args)
    params.setdefault("verbose", False)
    graph = _shipped(graph)[0]
    g = ek.read_graph(graph, directed=directed)
    train_g, split = ek.split_edges(g, test_fraction=test_fraction, seed=split_seed)
    emb = ek.train(method, train_g, **params)
    metrics = ek.evaluate.link_prediction(emb, split, **evaluation)
    _print_metrics(f"link prediction: {method} on {graph} ({split.test_pos.shape[0]} held-out edges)", metrics,
                   as_json)


@evaluate.command("nodeclass")
@click.argument("vectors", type=click.Path(exists=False))
@click.argument("labels", type=click.Path(exists=False))
@evaluator_options("nodeclass")
@click.option("--json", "as_json", is_flag=True, help="print the metrics as JSON")
def evaluate_nodeclass(vectors, labels, as_json, **given):
    """Node classification with logistic regression on VECTORS, LABELS a 'node label' file or .mat."""
    p = evaluator_params("nodeclass", given)
    emb = ek.load(vectors)
    labels = _shipped(labels, "labels")[0]  # "karate": the shipped labels
    metrics = ek.evaluate.node_classification(emb, labels, **p)
    _print_metrics(f"node classification: {vectors} ({metrics['num_labelled']} labelled nodes, "
                   f"{p['train_fraction']:.0%} train, {p['repeats']} splits)", metrics, as_json)


@evaluate.command("analogy")
@click.argument("vectors", type=click.Path(exists=False))
@evaluator_options("analogy")
@click.option("--json", "as_json", is_flag=True, help="print the metrics as JSON")
def evaluate_analogy(vectors, as_json, **given):
    """Word analogies a:b :: c:d on VECTORS: accuracy overall and per section."""
    p = evaluator_params("analogy", given)
    emb = ek.load(vectors)
    metrics = ek.evaluate.analogy(emb, **p)
    dataset, scoring = p["dataset"], p["scoring"]
    _print_metrics(f"analogies: {vectors} on {dataset} ({scoring}, first {metrics['restrict_vocab']} words; "
                   f"{metrics['answered']} of {metrics['total']} questions answered)", metrics, as_json)
    if as_json:
        return
    _coverage_note(metrics["answered"], metrics["total"], "questions", "all four words", len(emb), "accuracy")
    table = Table()
    for col in ("section", "accuracy", "answered", "total"):
        table.add_column(col, justify="left" if col == "section" else "right")
    for key, acc in metrics.items():
        if key.startswith("section/") and key.count("/") == 1:
            shown = "-" if acc is None else f"{acc:.4f}"
            table.add_row(key[len("section/"):], shown, str(metrics[key + "/answered"]), str(metrics[key + "/total"]))
    console.print(table)


@evaluate.command("similarity")
@click.argument("vectors", type=click.Path(exists=False))
@evaluator_options("similarity")
@click.option("--json", "as_json", is_flag=True, help="print the metrics as JSON")
def evaluate_similarity(vectors, as_json, **given):
    """Spearman correlation of cosine similarity on VECTORS with human word-pair scores."""
    p = evaluator_params("similarity", given)
    emb = ek.load(vectors)
    metrics = ek.evaluate.similarity(emb, **p)
    _print_metrics(f"word similarity: {vectors} on {p['dataset']} ({metrics['pairs']} pairs scored, "
                   f"{metrics['oov_pairs']} with unknown words)", metrics, as_json)
    if not as_json:
        n = metrics["pairs"]
        # Fisher's z: a correlation over n pairs has a standard error of about 1 / sqrt(n - 3)
        spread = f" (over {n} pairs, about +-{1 / (n - 3) ** 0.5:.2f})" if n > 3 else ""
        _coverage_note(n, n + metrics["oov_pairs"], "pairs", "both words", len(emb), "correlation" + spread)


def _coverage_note(scored: int, total: int, items: str, needs: str, vocab: int, figure: str) -> None:
    """Under half the items scored: say what the figure then means (a smoke test, not a benchmark)."""
    if total <= 0 or scored >= total / 2:
        return
    console.print(
        f"note: only {scored} of {total} {items} ({scored / total:.0%}) have {needs} in these {vocab:,} vectors; "
        f"the {figure} is measured on those alone, so it is noisy and not comparable with published figures "
        "(those come from vectors trained on billions of words, which cover nearly every item). On a small "
        "corpus read it as a smoke test: well above 0 means the vectors learned something.",
        soft_wrap=True, highlight=False)


@evaluate.command("bias")
@click.argument("vectors", type=click.Path(exists=False))
@click.option("--test", "tests", multiple=True, default=("weat1",), show_default=True,
              help="a built-in WEAT test (weat1 ... weat10, or an alias such as career-family); repeat for several")
@evaluator_options("bias")
@click.option("--json", "as_json", is_flag=True, help="print the metrics as JSON (one object per test)")
def evaluate_bias(vectors, tests, as_json, **given):
    """WEAT effect size and permutation p-value (Caliskan et al. 2017) on VECTORS."""
    p = evaluator_params("bias", given)
    emb = ek.load(vectors)
    for test in tests:
        metrics = ek.evaluate.bias(emb, test, **p)
        missing = metrics["missing"]
        shown = type(metrics)({k: v for k, v in metrics.items() if k != "missing"}, metrics.primary)
        shown["missing_words"] = len(missing)
        _print_metrics(f"WEAT {test}: {metrics['targets']} / {metrics['attributes']} on {vectors}",
                       metrics if as_json else shown, as_json)


@evaluate.command("retrieval")
@click.argument("vectors", type=click.Path(exists=False))
@click.argument("labels", type=click.Path(exists=False))
@evaluator_options("retrieval")
@click.option("--json", "as_json", is_flag=True, help="print the metrics as JSON")
def evaluate_retrieval(vectors, labels, as_json, **given):
    """Same-label retrieval on VECTORS: recall@k, precision@k, mAP; LABELS has 'key label' lines."""
    p = evaluator_params("retrieval", given)
    emb = ek.load(vectors)
    metrics = ek.evaluate.retrieval(emb, labels, **p)
    _print_metrics(f"retrieval: {vectors} ({metrics['queries']} queries among {metrics['items']} labelled keys, "
                   f"{metrics['missing_keys']} labelled keys without a vector)", metrics, as_json)


@evaluate.command("triplets")
@click.argument("vectors", type=click.Path(exists=False))
@click.argument("triplets", type=click.Path(exists=False))
@evaluator_options("triplets")
@click.option("--json", "as_json", is_flag=True, help="print the metrics as JSON")
def evaluate_triplets(vectors, triplets, as_json, **given):
    """Triplet accuracy on VECTORS: the share of 'anchor positive negative' lines with d(a, p) < d(a, n)."""
    p = evaluator_params("triplets", given)
    emb = ek.load(vectors)
    metrics = ek.evaluate.triplet_accuracy(emb, triplets, **p)
    _print_metrics(f"triplet accuracy: {vectors} on {triplets} ({metrics['triplets']} triplets scored, "
                   f"{metrics['oov_triplets']} with unknown keys)", metrics, as_json)


def _recsys_split(data, test_path, split, test_fraction, leave_k, split_seed, delimiter, read_kw):
    """(train, test, how) from DATA and either a --test file or a split of DATA."""
    cols = _interaction_columns(read_kw)
    read = get_kind("interactions").read
    inter = read(data, delimiter=delimiter, **cols)
    if test_path:
        test = read(test_path, delimiter=delimiter, **cols)
        return inter, test, f"test file {test_path}"
    train_i, test = ek.split_interactions(inter, split, test_fraction=test_fraction, k=leave_k, seed=split_seed)
    how = f"{split} split, seed {split_seed}" + (f", {test_fraction:.0%} test" if split != "leave_k_out"
                                                  else f", {leave_k} per user")
    return train_i, test, how


def _recsys_evaluate_options(default_method: str):
    def deco(f):
        for opt in reversed([
            click.argument("data", type=click.Path(dir_okay=False)),
            click.option("--method", default=default_method, show_default=True, help="recommender to train"),
            click.option("--test", "test_path", default=None, type=click.Path(dir_okay=False),
                         help="a test file read like DATA (e.g. MovieLens u1.test); no split then"),
            click.option("--split", default="random", show_default=True,
                         type=click.Choice(["random", "leave_k_out", "temporal"]), help="how DATA is split"),
            click.option("--test-fraction", default=0.2, show_default=True, type=FRACTION,
                         help="random/temporal: share held out"),
            click.option("--leave-k", default=1, show_default=True, type=COUNT, help="leave_k_out: items per user"),
            click.option("--split-seed", default=0, show_default=True, type=int, help="seed of the split"),
            click.option("--delimiter", default=None, help="column separator [default: sniffed]"),
            click.option("--json", "as_json", is_flag=True, help="print the metrics as JSON"),
        ]):
            f = opt(f)
        for o in reversed(_interaction_options()):
            f.__click_params__.append(o)
        return f
    return deco


@evaluate.command("ranking", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@_recsys_evaluate_options("als")
@evaluator_options("ranking")
@click.pass_context
def evaluate_ranking(ctx, data, method, test_path, split, test_fraction, leave_k, split_seed, delimiter, as_json,
                     **read_kw):
    """Split DATA (or take --test), train METHOD, print recall/precision/ndcg/map/hit rate/coverage at k.

    Extra options go to the method, e.g. --dim 64 --epochs 15.
    """
    evaluation = evaluator_params("ranking", read_kw)
    read_kw = {k: v for k, v in read_kw.items() if k not in evaluation}
    cls = ek.get_method(method)
    params = parse_extra(cls, ctx.args)
    if "verbose" in {p.name for p in cls.params}:
        params.setdefault("verbose", False)
    train_i, test, how = _recsys_split(data, test_path, split, test_fraction, leave_k, split_seed, delimiter,
                                       read_kw)
    model = ek.train(method, train_i, **params)
    metrics = ek.evaluate.ranking(model, train_i, test, **evaluation)
    _print_metrics(f"ranking: {method} on {data} ({how}; {metrics['users']} users evaluated, "
                   f"{metrics['cold_start_users']} cold-start users left out)", metrics, as_json)


@evaluate.command("rating", context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@_recsys_evaluate_options("mf")
@click.pass_context
def evaluate_rating(ctx, data, method, test_path, split, test_fraction, leave_k, split_seed, delimiter, as_json,
                    **read_kw):
    """Split DATA (or take --test), train an explicit METHOD (mf), print RMSE and MAE.

    DATA needs ratings: --rating-col defaults to 2 here (MovieLens u.data).
    """
    cls = ek.get_method(method)
    params = parse_extra(cls, ctx.args)
    if "verbose" in {p.name for p in cls.params}:
        params.setdefault("verbose", False)
    if read_kw.get("rating_col") is None:
        read_kw["rating_col"] = "2"
    train_i, test, how = _recsys_split(data, test_path, split, test_fraction, leave_k, split_seed, delimiter,
                                       read_kw)
    model = ek.train(method, train_i, **params)
    metrics = ek.evaluate.rating(model, test, **evaluator_params("rating", {}))
    _print_metrics(f"rating prediction: {method} on {data} ({how})", metrics, as_json)


def _print_metrics(title: str, metrics, as_json: bool) -> None:
    """Metrics as JSON, or a title and a table (keys with a '/' are left to the command's own table)."""
    if as_json:
        click.echo(json.dumps(dict(metrics)))
        return
    console.print(title, soft_wrap=True, highlight=False)
    table = Table()
    table.add_column("metric")
    table.add_column("value", justify="right")
    for k, v in metrics.items():
        if "/" in k:
            continue
        shown = f"{v:.4f}" if isinstance(v, float) else str(v)
        name = f"[bold]{k}[/]" if k == metrics.primary else k
        table.add_row(name, shown)
    console.print(table)


# ------------------------------------------------------------------------ queries and conversion
@cli.command()
@click.argument("vectors", type=click.Path())
@click.argument("key")
@click.option("-k", default=10, show_default=True, type=COUNT, help="how many neighbours")
def neighbors(vectors, key, k):
    """The K nearest keys to KEY by cosine similarity."""
    emb = ek.load(vectors)
    found = emb.most_similar(key, k=k)  # before the title: a missing key is one error line, not a title and an error
    console.print(f"nearest to {key!r} in {vectors}", soft_wrap=True, highlight=False)
    table = Table()
    table.add_column("key")
    table.add_column("cosine", justify="right")
    for other, score in found:
        table.add_row(str(other), f"{score:.4f}")
    console.print(table)


@cli.command()
@click.argument("model", type=click.Path())
@click.argument("user")
@click.option("-k", default=10, show_default=True, type=COUNT, help="how many items")
@click.option("--keep-seen", is_flag=True, help="also recommend items the user had in training")
@click.option("--json", "as_json", is_flag=True, help="print [item, score] pairs as JSON")
def recommend(model, user, k, keep_seen, as_json):
    """The K best items for USER from a recommender MODEL (.ekv written by train als/bpr/mf/popular)."""
    m = ek.load(model)
    if not isinstance(m, ek.FactorModel):
        raise ek.InputFormatError("holds vectors, not a recommender model; train als, bpr, mf or popular", model)
    recs = m.recommend(user, k=k, filter_seen=not keep_seen)
    if as_json:
        click.echo(json.dumps([[item, score] for item, score in recs], default=str))
        return
    console.print(f"top {k} for user {user!r} from {model}", soft_wrap=True, highlight=False)
    table = Table()
    table.add_column("item")
    table.add_column("score", justify="right")
    for item, score in recs:
        table.add_row(str(item), f"{score:.4f}")
    console.print(table)


def _index_options(f):
    """--kind, --metric and every index parameter (from the backends' tables, declared once)."""
    from embedkit.index import KINDS, METRICS

    seen = {}
    for table in KINDS.values():
        for cls in table.values():
            for p in cls.params:
                seen.setdefault(p.name, p)
    for p in reversed(list(seen.values())):
        f = click.option(*click_option(p).opts, p.name, default=None, type=click_option(p).type,
                         help=f"index: {p.help}")(f)
    f = click.option("--metric", type=click.Choice(list(METRICS)), default=None,
                     help="index: cosine (inner product on unit rows), dot or l2 [default: cosine]")(f)
    f = click.option("--kind", type=click.Choice(list(KINDS)), default=None,
                     help="index: flat, ivf or hnsw [default: hnsw]")(f)
    return f


def _target_options(f):
    """--table, --index, --nlist, --max-bytes ...: the database and _bulk targets' options (from
    their tables in embedkit.io.TARGET_PARAMS, declared once), and --metadata / --which."""
    from embedkit.index import KINDS
    from embedkit.io import TARGET_PARAMS

    taken = {"metric", "kind"} | {p.name for table in KINDS.values() for cls in table.values() for p in cls.params}
    seen, users = {}, {}
    for target, table in TARGET_PARAMS.items():
        for p in table:
            if p.name not in taken:
                seen.setdefault(p.name, p)
                users.setdefault(p.name, []).append("postgresql" if target == "postgres" else target)
    for p in reversed(list(seen.values())):
        where = "/".join(dict.fromkeys(users[p.name]))
        f = click.option(*click_option(p).opts, p.name, default=None, type=click_option(p).type,
                         help=f"{where}: {p.help}")(f)
    f = click.option("--metadata", default=None, type=click.Path(),
                     help="database/_bulk: a JSON lines file of objects with a \"key\"; the other fields are stored "
                          "with that key's row")(f)
    f = click.option("--which", type=click.Choice(["items", "users"]), default=None,
                     help="a recommender model: export its items (default) or its users")(f)
    return f


@cli.command("export")
@click.argument("vectors", type=click.Path())
@click.option("-o", "--output", required=True,
              help="output path, or a database: postgresql://USER@HOST/DB, lancedb://FOLDER")
@click.option("--format", "fmt", default=None,
              help="word2vec, word2vec-binary, glove, npy, npz, ekv, parquet, jsonl, projector, faiss, hnswlib, "
                   "elasticsearch, opensearch [default: from the extension or the URL]")
@click.option("--labels", default=None, type=click.Path(), help="projector: a label file for a label column")
@_index_options
@_target_options
def export_cmd(vectors, output, fmt, labels, metadata, which, **opts):
    """Convert VECTORS to another format, build a search index (--format faiss|hnswlib), load them into
    a database (-o postgresql://... or lancedb://FOLDER, --table NAME) or write Elasticsearch/OpenSearch
    _bulk files (--format elasticsearch|opensearch -o FOLDER)."""
    from embedkit.index import KINDS
    from embedkit.io import TARGET_PARAMS, mask_url
    from embedkit.io._rows import read_metadata_file

    kwargs = {k: v for k, v in opts.items() if v is not None}
    target = check_output(output, fmt, inputs=[vectors, labels, metadata])
    if target in ("faiss", "hnswlib"):
        allowed = {"kind", "metric"} | {p.name for t in KINDS.values() for cls in t.values() for p in cls.params}
    else:
        allowed = {p.name for p in TARGET_PARAMS.get(target, ())}
    wrong = [k for k in kwargs if k not in allowed]
    if wrong:
        raise click.UsageError(f"{', '.join('--' + k.replace('_', '-') for k in wrong)}: not an option of "
                               f"{target or 'this format'}")
    if labels is not None:
        kwargs["labels"] = labels
    if metadata is not None:
        if target not in TARGET_PARAMS:
            raise click.UsageError("--metadata: for a database or --format elasticsearch|opensearch only")
        kwargs["metadata"] = read_metadata_file(metadata)
    emb = ek.load(vectors)
    tables = artifact_of(emb).tables  # an artifact holding several tables of vectors: a recommender model
    if tables is None and which is not None:
        raise click.UsageError("--which: for a recommender model only")
    if tables is not None:
        which = which or next(iter(tables(emb)))
        emb.export(output, format=fmt, which=which, **kwargs)
        emb = tables(emb)[which]
    else:
        emb.export(output, format=fmt, **kwargs)
    where = mask_url(output) if target in TARGET_PARAMS and "://" in str(output) else output
    table = f", table {kwargs.get('table', 'embeddings')}" if target in TARGET_PARAMS else ""
    what = "indexed" if target in ("faiss", "hnswlib") else "wrote"
    console.print(f"{what} {len(emb)} x {emb.dim} vectors to {where}{table}", soft_wrap=True, highlight=False)


@cli.command()
@click.argument("index", type=click.Path())
@click.argument("key", required=False)
@click.option("--vector", default=None, help="search for this vector instead of a KEY: numbers separated by "
              "commas or spaces")
@click.option("-k", default=10, show_default=True, type=COUNT, help="how many results")
@click.option("--nprobe", type=COUNT, default=None, help="IVF: cells scanned per query")
@click.option("--ef-search", type=COUNT, default=None, help="HNSW: candidate list while searching")
@click.option("--json", "as_json", is_flag=True, help="print [key, score] pairs as JSON")
def search(index, key, vector, k, nprobe, ef_search, as_json):
    """The K nearest keys to KEY (itself excluded) or to --vector in INDEX: a .faiss/.hnsw index
    written by `embedkit export`, or any vectors file (searched exactly)."""
    from embedkit.index import open_index

    if (key is None) == (vector is None):
        raise click.UsageError("give a KEY or --vector, not both")
    idx = open_index(index)
    tuning = {name: v for name, v in (("nprobe", nprobe), ("ef_search", ef_search)) if v is not None}
    if tuning:
        idx.set_params(**tuning)
    if vector is not None:
        try:
            q = [float(x) for x in vector.replace(",", " ").split()]
        except ValueError:
            raise click.BadParameter(f"not a list of numbers: {vector!r}", param_hint="--vector") from None
        results = idx.nearest(q, k)
    else:
        results = idx.neighbors(key, k)
    if as_json:
        click.echo(json.dumps([[other, score] for other, score in results], default=str, ensure_ascii=False))
        return
    label = {"cosine": "cosine", "dot": "dot", "l2": "L2 distance"}[idx.metric]
    target = repr(key) if key is not None else "the vector"
    console.print(f"nearest to {target} in {index} ({idx.kind}, {idx.library})", soft_wrap=True, highlight=False)
    table = Table()
    table.add_column("key")
    table.add_column(label, justify="right")
    for other, score in results:
        table.add_row(str(other), f"{score:.4f}")
    console.print(table)


@cli.command()
@click.argument("vectors", type=click.Path())
@click.option("-o", "--output", required=True, help="image path (.png, .svg, .pdf)")
@click.option("--labels", default=None, type=click.Path(), help="colour by label: a 'key label' or CSV file")
@click.option("--method", default="pca", show_default=True, type=click.Choice(["pca", "tsne"]))
@click.option("--highlight", multiple=True, help="annotate this key (repeat, or separate with commas)")
@click.option("--size", default="800x800", show_default=True, help="WIDTHxHEIGHT in pixels")
@click.option("--dpi", default=100, show_default=True, type=COUNT)
@click.option("--max-points", default=5000, show_default=True, type=COUNT, help="draw at most this many points")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--title", default=None, help="title [default: what was projected]")
def plot(vectors, output, labels, method, highlight, size, dpi, max_points, seed, title):
    """A 2-D map of VECTORS (PCA or t-SNE), coloured by label, with keys annotated."""
    try:
        width, height = (int(v) for v in size.lower().split("x"))
    except ValueError:
        raise click.BadParameter(f"expected WIDTHxHEIGHT, e.g. 800x600; got {size!r}", param_hint="--size") from None
    keys = [k for h in highlight for k in h.split(",") if k]
    _check_image(output, inputs=[vectors, labels])
    emb = ek.load(vectors)
    emb.plot(output, labels=labels, method=method, highlight=keys, size=(width, height), dpi=dpi,
             max_points=max_points, seed=seed, title=title)
    console.print(f"wrote a {width}x{height} {method} map of {min(len(emb), max_points)} of {len(emb)} vectors "
                  f"to {output}", soft_wrap=True, highlight=False)


def _check_image(output: str, inputs) -> None:
    """An image format matplotlib writes (by extension; none: PNG) in a writable place."""
    from embedkit._optional import require

    require("matplotlib", "embedkit plot")
    from matplotlib.backend_bases import FigureCanvasBase

    kinds = FigureCanvasBase.get_supported_filetypes()
    ext = Path(output).suffix.lstrip(".").lower()
    if ext and ext not in kinds:
        raise click.BadParameter(f"{output}: .{ext} is not an image format matplotlib writes; use one of "
                                 + ", ".join("." + k for k in sorted(kinds)), param_hint="-o/--output")
    check_path(output, inputs=inputs)


@cli.command()
def methods():
    """List the registered methods."""
    table = Table()
    table.add_column("method")
    table.add_column("family")
    table.add_column("what it is")
    table.add_column("from")
    broken = []
    for name in ek.methods():
        origin = plugin_origin(name) or "embedkit"
        try:
            cls = ek.get_method(name)
        except PluginError as exc:  # listed, and said why; the other methods stay usable
            table.add_row(name, "-", "[red]plugin failed to load (see below)[/]", origin)
            broken.append(str(exc))
            continue
        table.add_row(name, cls.family, cls.summary, origin)
    console.print(table)
    for message in broken:
        _fail(message)


def _add_quiet(group: click.Group) -> None:
    """Every command takes --quiet (no progress bars, whatever the terminal); commands that
    declare their own (train, explore) keep it."""
    for cmd in group.commands.values():
        if isinstance(cmd, click.Group):
            _add_quiet(cmd)
        elif not any(p.name == "quiet" for p in cmd.params):
            cmd.params.append(click.Option(["--quiet"], is_flag=True, expose_value=False,
                                           callback=_quiet_callback, help="no progress bars"))


_add_quiet(cli)


def main() -> None:
    cli(prog_name="embedkit")


if __name__ == "__main__":
    main()
