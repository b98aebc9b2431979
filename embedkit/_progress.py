"""Progress bars for long loops: tqdm, silent when stderr is not a terminal or
``verbose=False``."""
from __future__ import annotations

import logging
import sys

from tqdm.auto import tqdm

logger = logging.getLogger("embedkit")


def progress(total: int | None = None, desc: str = "", verbose: bool | None = None, unit: str = "it"):
    """Return a tqdm bar; disabled unless ``verbose`` is True or stderr is a TTY, and on
    every rank but 0 of a distributed run."""
    from .distributed import is_main

    if not is_main():
        disable = True
    elif verbose is None:
        disable = not sys.stderr.isatty()
    else:
        disable = not verbose
    return tqdm(total=total, desc=desc, disable=disable, unit=unit, leave=False, dynamic_ncols=True)
