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

#: what ``verbose=None`` means: None follows the terminal; the CLI's ``--quiet`` sets False
_default: bool | None = None


def set_default(verbose: bool | None) -> None:
    """Set what ``verbose=None`` means for the whole process: ``False`` silences every bar (the
    CLI's ``--quiet``), ``True`` forces them, ``None`` (the initial value) follows the terminal."""
    global _default
    _default = verbose


def show_progress(verbose: bool | None) -> bool:
    """Whether a bar is drawn: ``verbose`` when given, else :func:`set_default`'s value, else whether
    stderr is a terminal; never on a distributed rank other than 0."""
    from .distributed import is_main

    if not is_main():
        return False
    if verbose is None:
        verbose = _default
    if verbose is None:
        stream = sys.stderr
        return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())
    return bool(verbose)


def progress(total: int | None = None, desc: str = "", verbose: bool | None = None, unit: str = "it"):
    """A tqdm bar (a context manager with ``update(n)``), disabled unless :func:`show_progress`."""
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, disable=not show_progress(verbose), unit=unit, leave=False,
                dynamic_ncols=True)


def track(iterable, total: int | None = None, desc: str = "", verbose: bool | None = None, unit: str = "it",
          log_every: float = 10.0):
    """Iterate ``iterable`` with a :func:`progress` bar (rate and time left, on a terminal), an INFO
    log line every ``log_every`` seconds while it runs (for logs that are files) and one when it ends:
    ``"<desc>: <n> <unit> in <t> s"``. ``total`` defaults to ``len(iterable)``."""
    import time

    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)
    start = last = time.perf_counter()
    done = 0
    with progress(total=total, desc=desc, verbose=verbose, unit=unit) as bar:
        for item in iterable:
            yield item
            done += 1
            bar.update(1)
            now = time.perf_counter()
            if now - last >= log_every:
                last = now
                rate = done / (now - start)
                left = f", about {(total - done) / rate:.0f} s left" if total else ""
                logger.info("%s: %d/%s %s (%.2f %s/s%s)", desc, done, total if total else "?", unit, rate, unit, left)
    logger.info("%s: %d %s in %.1f s", desc, done, unit, time.perf_counter() - start)
