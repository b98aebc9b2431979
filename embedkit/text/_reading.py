"""Parameters every text method shares for reading a path (declared once)."""
from __future__ import annotations

from .._validation import Param
from ..data.corpus import UNITS, Corpus, as_corpus

READ_PARAMS: tuple[Param, ...] = (
    Param("unit", str, "line", "when reading a path: one sequence per line, paragraph or document",
          choices=UNITS),
    Param("lowercase", bool, True, "when reading a path: lowercase the text"),
)


def corpus_from(data, params: dict) -> Corpus:
    """The method's input as a :class:`Corpus`; ``unit``/``lowercase`` apply to paths."""
    return as_corpus(data, lowercase=params["lowercase"], unit=params["unit"], verbose=params["verbose"])
