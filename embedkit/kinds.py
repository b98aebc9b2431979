"""Input kinds, each registered once: its reader, its command-line options and the contract
suite's sample data.

A method says what ``fit`` takes with ``input_kind`` (and ``also_accepts``); the CLI's
``embedkit train METHOD DATA`` reads DATA with that kind's reader and offers that kind's
options, and :mod:`embedkit.testing` fits every method on its kind's sample. Neither has a
branch per kind or per family: a new kind is one :func:`register_kind` call (a plugin package
may make it too).

Built in: ``graph`` (edge lists, .mat, networkx, scipy, index pairs), ``text`` (a corpus file,
folder or glob; the method reads it), ``interactions`` (a ratings/clicks file), ``nodes`` (a
graph with node features and labels, or a Planetoid folder: what GCN and GAT take; any graph is
node data too) and ``triplets`` (registered by :mod:`embedkit.metric.data`, where its reader is).

This module sits above ``data`` and ``datasets`` (the samples use shipped and synthetic data)
and below the method families; it imports nothing heavy.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from .exceptions import EmptyInputError, InputFormatError, UnknownInputKindError

__all__ = ["InputKind", "ReadOption", "Sample", "Form", "BadInput", "register_kind", "get_kind", "kinds",
           "kinds_of", "accepts"]


@dataclass(frozen=True)
class ReadOption:
    """One option of a kind's reader, declared once: the reader's keyword, and a command-line
    option ``--name-with-dashes`` built from it.

    ``type``: ``str``, ``int``, ``float``, ``bool`` (a flag) or :class:`~pathlib.Path` (a file;
    with ``shipped``, a shipped data set's name stands for its file of that sort, e.g.
    ``--labels karate``). An option left out is not passed, so the reader's default applies.
    """

    name: str
    help: str
    type: type = str
    shipped: str | None = None


@dataclass(frozen=True)
class Form:
    """Another form of a kind's sample that every method of the kind accepts: ``make(folder)``
    builds it (files go in ``folder``); ``tables(result, params)`` as :attr:`Sample.tables`
    (None: the sample's)."""

    label: str
    make: Callable[[Path], Any]
    tables: Callable[[Any, dict], list] | None = None


@dataclass(frozen=True)
class BadInput:
    """Input of the kind that every method of the kind refuses with ``error`` whose message
    matches the regular expression ``match``; ``params`` are added to the fit's parameters
    (an entry whose parameters a method does not declare is skipped for it)."""

    label: str
    make: Callable[[Path], Any]
    error: type[Exception]
    match: str
    params: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Sample:
    """Small data of one kind, shipped or synthesised (no network), for the contract suite.

    ``tables(result, params)`` lists ``(Embeddings, expected keys)`` for a fit's result on
    ``data`` with parameters ``params`` (a recommender's users and items; otherwise the
    result itself).
    """

    data: Any
    tables: Callable[[Any, dict], list]
    forms: tuple[Form, ...] = ()
    bad_inputs: tuple[BadInput, ...] = ()


@dataclass(frozen=True)
class InputKind:
    """One kind of input: what ``fit`` takes, how a file of it is read and what the CLI offers.

    ``read(path, **options)`` turns the command line's DATA into what ``fit`` takes, with the
    ``options`` the user gave (see :class:`ReadOption`). ``folders``: DATA may be a folder.
    ``includes``: other kinds whose data is data of this kind too (node data includes graphs).
    ``sample()`` builds the contract suite's :class:`Sample` (called once, cached).
    ``held_out``: a ``--validation FILE`` of a method of this kind is held-out data of the same
    kind, read as DATA is (with the same reader options: held-out ratings keep their column).
    """

    name: str
    help: str
    read: Callable[..., Any]
    options: tuple[ReadOption, ...] = ()
    folders: bool = False
    includes: tuple[str, ...] = ()
    sample: Callable[[], Sample] | None = None
    held_out: bool = False

    def sample_data(self) -> Sample:
        """The contract suite's sample (built on first use, then kept)."""
        if self.name not in _SAMPLES:
            if self.sample is None:
                raise LookupError(f"input kind {self.name!r} has no sample data; give its InputKind a sample=")
            _SAMPLES[self.name] = self.sample()
        return _SAMPLES[self.name]


_KINDS: dict[str, InputKind] = {}
_SAMPLES: dict[str, Sample] = {}


def register_kind(kind: InputKind) -> InputKind:
    """Register ``kind`` under ``kind.name``; a name taken by another kind is refused."""
    old = _KINDS.get(kind.name)
    if old is not None and old is not kind:
        raise TypeError(f"an input kind is already registered as {kind.name!r} (reader {old.read.__qualname__})")
    _KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> InputKind:
    """The kind registered as ``name``; an unknown name lists the choices."""
    try:
        return _KINDS[name]
    except KeyError:
        raise UnknownInputKindError(f"unknown input kind {name!r}; registered kinds: {', '.join(kinds())}. A method's "
                                 "input_kind must be one of them (embedkit.kinds.register_kind adds one)") from None


def kinds() -> list[str]:
    return sorted(_KINDS)


def kinds_of(method_cls) -> list[InputKind]:
    """The kinds a method takes: its ``input_kind`` first, then ``also_accepts``."""
    names = [method_cls.input_kind, *(k for k in method_cls.also_accepts if k != method_cls.input_kind)]
    return [get_kind(n) for n in names]


def accepts(method_cls, kind: str) -> bool:
    """Whether the method takes data of ``kind`` (directly, or through a kind that includes it)."""
    return any(k.name == kind or kind in k.includes for k in kinds_of(method_cls))


# ------------------------------------------------------------------------------------ built-in kinds
_DIRECTED = ReadOption("directed", "read the edge list as directed", bool)


def _read_graph(path, *, directed: bool = False, delimiter: str | None = None):
    from .data.graph import read_graph

    return read_graph(path, directed=directed, delimiter=delimiter)


def _graph_sample() -> Sample:
    from .datasets import load

    karate = load("karate")

    def networkx_karate(_folder):
        import networkx as nx

        return nx.karate_club_graph()

    def index_pairs(_folder):
        src, dst = karate.edge_array().T
        return src, dst

    def empty_file(folder):
        path = folder / "empty.edgelist"
        path.write_text("# nothing here\n")
        return str(path)

    numbered = lambda result, params: [(result, list(range(34)))]  # noqa: E731  (nodes numbered 0..33)
    return Sample(
        karate, lambda result, params: [(result, karate.nodes)],
        forms=(Form("a networkx graph", networkx_karate, numbered),
               Form("(source, destination) index arrays", index_pairs, numbered)),
        bad_inputs=(BadInput("an edge list without edges", empty_file, EmptyInputError, "empty.edgelist: no edges"),),
    )


register_kind(InputKind(
    "graph", "an edge list ('u v [weight]' lines, CSV) or a .mat file", _read_graph, held_out=True,
    options=(_DIRECTED, ReadOption("delimiter", "column separator [default: whitespace or comma]")),
    sample=_graph_sample,
))


def _read_text(path):
    return path  # text methods read corpora themselves (streaming, with their own min_count and unit)


def _text_sample() -> Sample:
    from .data.corpus import read_text
    from .datasets.synthetic import planted_text

    sentences = planted_text(300, seed=1).sentences

    def vocab(params):
        return read_text(sentences, min_count=params.get("min_count", 5)).vocab

    def corpus_file(folder):
        path = folder / "corpus.txt"
        path.write_text("\n".join(" ".join(s) for s in sentences) + "\n")
        return str(path)

    def empty_file(folder):
        path = folder / "empty.txt"
        path.write_text("\n  \n")
        return str(path)

    return Sample(
        sentences, lambda result, params: [(result, vocab(params))],
        forms=(Form("a corpus file", corpus_file),),
        bad_inputs=(
            BadInput("a corpus of blank lines", empty_file, EmptyInputError, "empty.txt: no tokens"),
            BadInput("min_count above every count", corpus_file, EmptyInputError,
                     "vocabulary is empty after min_count=1000", {"min_count": 1000}),
            BadInput("a missing file", lambda folder: str(folder / "missing.txt"), InputFormatError, "no such file"),
        ),
    )


register_kind(InputKind("text", "a text file, a folder or a glob of files (.gz read as gzip)", _read_text,
                        folders=True, sample=_text_sample))

_COLUMN = "0-based position or header name"
_INTERACTION_OPTIONS = (
    ReadOption("delimiter", "column separator [default: sniffed]"),
    ReadOption("user_col", f"user column: {_COLUMN} [default: 0]"),
    ReadOption("item_col", f"item column: {_COLUMN} [default: 1]"),
    ReadOption("rating_col", "rating column (none: every row is one implicit interaction)"),
    ReadOption("timestamp_col", "timestamp column (numbers or ISO dates)"),
    ReadOption("implicit_threshold", "keep ratings >= this as implicit positives (e.g. 4 for MovieLens)", float),
)


def _read_interactions(path, **options):
    """``read_interactions`` with the command line's options (a column given as digits is a position)."""
    from .data.interactions_read import read_interactions

    for key in ("user_col", "item_col", "rating_col", "timestamp_col"):
        if isinstance(options.get(key), str) and options[key].isdigit():
            options[key] = int(options[key])
    return read_interactions(path, **options)


def _interactions_sample() -> Sample:
    from .datasets.recsys import low_rank_ratings

    # explicit ratings (every recommender takes them; mf needs ratings), string ids
    ratings = low_rank_ratings(40, 30, density=0.3, seed=1)
    ratings.users = [f"user{u}" for u in ratings.users]
    ratings.items = [f"item{i}" for i in ratings.items]
    def write(name, text):
        def make(folder):
            path = folder / name
            path.write_text(text)
            return str(path)
        return make

    # no other form: a ratings file without --rating-col reads as implicit feedback, which mf refuses
    return Sample(
        ratings, lambda result, params: [(result.users, ratings.users), (result.items, ratings.items)],
        bad_inputs=(
            BadInput("an empty ratings file", write("empty.csv", ""), EmptyInputError,
                     r"empty.csv: no interactions found \(the file is empty"),
            BadInput("a header without rows", write("header.csv", "user,item,rating\n"), EmptyInputError,
                     r"header.csv: no interactions found \(only a header line\)"),
            BadInput("a missing file", lambda folder: str(folder / "missing.csv"), InputFormatError,
                     "missing.csv: no such file"),
        ),
    )


register_kind(InputKind("interactions", "a ratings or clicks file (CSV/TSV, 'user item [rating [time]]')",
                        _read_interactions, options=_INTERACTION_OPTIONS, sample=_interactions_sample,
                        held_out=True))


def _read_nodes(path, *, directed: bool = False, delimiter: str | None = None, features=None, labels=None):
    """A graph file with optional features and labels files, or a Planetoid folder (its
    ``ind.<name>.*`` files, which carry features, labels and the public split)."""
    p = Path(path)
    if p.is_dir():
        from .data.planetoid import planetoid_name, read_planetoid

        name = planetoid_name(p)
        if features or labels:
            raise InputFormatError("a Planetoid folder carries its features and labels; drop --features/--labels", p)
        return read_planetoid(p, name)
    from .data.nodes import read_node_data

    return read_node_data(path, features, labels, directed=directed, delimiter=delimiter)


register_kind(InputKind(
    "nodes", "a graph file (with --features/--labels) or a Planetoid folder (ind.<name>.* files)", _read_nodes,
    options=(_DIRECTED, ReadOption("delimiter", "column separator [default: whitespace or comma]"),
             ReadOption("features", "node features: .npy/.npz (a row per node) or CSV 'node,f1,f2,...'", Path),
             ReadOption("labels", "node labels ('node label' lines or a .mat group matrix): supervised training "
                        "on a random split", Path, shipped="labels")),
    folders=True, includes=("graph",), sample=_graph_sample,
))
