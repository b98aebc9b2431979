"""Small real datasets shipped with embedkit (``corpora/`` in the repository,
installed as ``embedkit.corpora``). No download happens here."""
from __future__ import annotations

from pathlib import Path

from ..exceptions import InputFormatError

#: name -> (graph file, labels file)
_GRAPHS = {"karate": ("karate.edgelist", "karate.labels")}
#: name -> (text file, the unit one training sequence is)
_TEXTS = {"emma": ("austen-emma.txt.gz", "paragraph")}


def read_planetoid(folder, name: str | None = None):
    """Cora, CiteSeer or PubMed in the Planetoid ``ind.<name>.*`` format, with the public
    split: see :func:`embedkit.data.planetoid.read_planetoid`. ``name=None`` takes the name
    from the folder's ``ind.<name>.graph`` file, as ``embedkit train gcn FOLDER`` does."""
    from ..data.planetoid import read_planetoid as _read

    return _read(folder, name)


def path(filename: str) -> Path:
    """Path of a shipped file, from the installed package or a source checkout."""
    try:
        from importlib.resources import files

        p = Path(str(files("embedkit.corpora") / filename))
        if p.exists():
            return p
    except ModuleNotFoundError:
        pass
    p = Path(__file__).resolve().parents[2] / "corpora" / filename
    if p.exists():
        return p
    raise InputFormatError(f"shipped file {filename!r} not found (is embedkit installed with its corpora?)")


def shipped_file(name: str, what: str = "data") -> tuple[Path, str | None] | None:
    """The shipped file a name stands for, as the CLI reads it where a file is expected
    (``embedkit train node2vec karate``): ``what="data"`` gives the graph's edge list or the
    text, ``"labels"`` a graph's labels. Returns ``(path, unit)`` (``unit``: how a text is cut
    into sequences, None for a graph), or None when ``name`` is no shipped data set."""
    if what == "labels":
        return (path(_GRAPHS[name][1]), None) if name in _GRAPHS else None
    if name in _GRAPHS:
        return path(_GRAPHS[name][0]), None
    if name in _TEXTS:
        filename, unit = _TEXTS[name]
        return path(filename), unit
    return None


def names() -> list[str]:
    return sorted(_GRAPHS) + sorted(_TEXTS)


def load(name: str):
    """Load a shipped graph by name, e.g. ``load("karate")`` -> :class:`~embedkit.Graph`;
    a shipped text by name (``load("emma")``) gives a :class:`~embedkit.Corpus`."""
    from ..data.graph import read_graph

    if name in _TEXTS:
        return load_text(name)
    if name not in _GRAPHS:
        raise InputFormatError(f"no shipped dataset {name!r}; choose one of: {', '.join(names())}")
    return read_graph(path(_GRAPHS[name][0]))


def load_labels(name: str) -> dict:
    """Labels of a shipped graph, e.g. karate's two factions: ``{"0": "0", ..., "33": "1"}``."""
    from ..data.labels import read_labels

    if name not in _GRAPHS:
        raise InputFormatError(f"no shipped dataset {name!r}; choose one of: {', '.join(names())}")
    return read_labels(path(_GRAPHS[name][1]))


def load_text(name: str, **read_kw):
    """A shipped text as a :class:`~embedkit.Corpus`, e.g. ``load_text("emma")``: Jane
    Austen's *Emma*, 157k words, one sequence per paragraph. ``read_kw`` go to
    :func:`~embedkit.read_text` (``min_count`` ...)."""
    from ..data.corpus import read_text

    if name not in _TEXTS:
        raise InputFormatError(f"no shipped text {name!r}; choose one of: {', '.join(sorted(_TEXTS))}")
    filename, unit = _TEXTS[name]
    read_kw.setdefault("unit", unit)
    return read_text(path(filename), **read_kw)
