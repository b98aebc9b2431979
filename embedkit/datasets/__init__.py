"""Small real datasets shipped with embedkit (``corpora/`` in the repository,
installed as ``embedkit.corpora``). No download happens here."""
from __future__ import annotations

from pathlib import Path

from ..exceptions import InputFormatError

#: name -> (graph file, labels file)
_GRAPHS = {"karate": ("karate.edgelist", "karate.labels")}


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


def names() -> list[str]:
    return sorted(_GRAPHS)


def load(name: str):
    """Load a shipped graph by name, e.g. ``load("karate")`` -> :class:`~embedkit.Graph`."""
    from ..data.graph import read_graph

    if name not in _GRAPHS:
        raise InputFormatError(f"no shipped dataset {name!r}; choose one of: {', '.join(names())}")
    return read_graph(path(_GRAPHS[name][0]))


def load_labels(name: str) -> dict:
    """Labels of a shipped graph, e.g. karate's two factions: ``{"0": "0", ..., "33": "1"}``."""
    from ..data.labels import read_labels

    if name not in _GRAPHS:
        raise InputFormatError(f"no shipped dataset {name!r}; choose one of: {', '.join(names())}")
    return read_labels(path(_GRAPHS[name][1]))
