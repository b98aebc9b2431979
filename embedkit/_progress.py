"""Progress bars for long loops, one helper for the whole library (tqdm, imported on first use).

``verbose``: ``None`` (the default everywhere) shows a bar only when stderr is a terminal, so a
script piped to a file or ``2> log`` gets no carriage-return bars; ``True`` forces the bar,
``False`` silences it. Only rank 0 of a distributed run draws. The bar shows the rate and, with a
``total``, the time left.
"""
from __future__ import annotations

import logging
import sys

logger = logging.getLogger("embedkit")


def show_progress(verbose: bool | None) -> bool:
    """Whether a bar is drawn: ``verbose`` when given, else whether stderr is a terminal; never on a
    distributed rank other than 0."""
    from .distributed import is_main

    if not is_main():
        return False
    if verbose is None:
        stream = sys.stderr
        return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())
    return bool(verbose)


def progress(total: int | None = None, desc: str = "", verbose: bool | None = None, unit: str = "it"):
    """A tqdm bar (a context manager with ``update(n)``), disabled unless :func:`show_progress`."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not show_progress(verbose), unit=unit, leave=False,
                dynamic_ncols=True)
