"""Inputs checked against each other: when keys, labels, graph nodes or interactions must line
up, how many do, and what to do about it.

One rule, one threshold, shared by the evaluators, the GNN node data and the recommenders'
ranking: if fewer than :data:`MIN_OVERLAP` of the items that should match do, the two inputs
almost surely do not belong together (labels of another graph, vectors of another corpus, the
test split of another data set) and :func:`check_overlap` raises
:class:`~embedkit.exceptions.InputMismatchError` naming both inputs and the counts; a partial
overlap above it is logged as a warning (and the caller reports the counts in its result).
"""
from __future__ import annotations

import logging

from .exceptions import EmptyInputError, InputMismatchError

logger = logging.getLogger("embedkit")

#: below this share of matching items, two inputs are refused as not belonging together
MIN_OVERLAP = 0.5


def describe(obj, default: str) -> str:
    """A short name for an input in messages: its file name when it came from a file."""
    import os

    if isinstance(obj, (str, os.PathLike)):
        return str(obj)
    meta = getattr(obj, "meta", None)
    if isinstance(meta, dict) and meta.get("source"):
        return str(meta["source"])
    source = getattr(obj, "source", None)
    if isinstance(source, str) and source and source not in ("array", "dict"):
        return source
    return default


def check_overlap(where: str, matched: int, total: int, *, items: str, found_in: str, of: str,
                  threshold: float = MIN_OVERLAP, hint: str = "", rest: str = "are left out") -> float:
    """Check that ``matched`` of ``total`` ``items`` (from input ``of``) are found in ``found_in``.

    Returns the share matched. Raises :class:`EmptyInputError` when ``total`` is 0,
    :class:`InputMismatchError` when the share is below ``threshold``; logs a warning when some
    but not all match. ``where`` names the caller (``node_classification``), ``items`` what is
    counted (``"labelled nodes"``), ``of`` and ``found_in`` the two inputs (file names when known),
    ``rest`` what happens to the unmatched ones (for the warning).
    """
    if total <= 0:
        raise EmptyInputError(f"{where}: {of} holds no {items}")
    share = matched / total
    if share < threshold:
        raise InputMismatchError(where, matched, total, items=items, found_in=found_in, of=of,
                                 threshold=threshold, hint=hint)
    if matched < total:
        logger.warning("%s: %d of %d %s of %s (%.1f%%) are in %s; the other %d %s", where, matched,
                       total, items, of, 100.0 * share, found_in, total - matched, rest)
    return share


def warn_low_coverage(where: str, matched: int, total: int, *, items: str, of: str, found_in: str,
                      threshold: float = MIN_OVERLAP) -> None:
    """For benchmarks whose coverage is a property of the vocabulary (word similarity, analogies):
    a warning, not an error, when fewer than ``threshold`` of the ``items`` can be scored; the
    figures then describe a small, easy-to-misread subset."""
    if total and matched / total < threshold:
        logger.warning("%s: only %d of %d %s of %s (%.1f%%) can be scored with %s; the result covers that "
                       "subset only", where, matched, total, items, of, 100.0 * matched / total, found_in)
