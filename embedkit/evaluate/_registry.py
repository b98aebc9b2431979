"""Evaluators declare their parameters once, as :class:`~embedkit.api.Param` tables, like methods.

``@evaluator(name, params)`` registers a function under the name of its ``embedkit evaluate``
command. The table is the one source of the evaluator's parameter names, defaults and help: the CLI
builds the command's options from it (so the CLI's defaults are the library's), and
``docs/parameters.md`` is generated from it. The function's own signature must carry the same
defaults; a mismatch is a programming error caught when the module is imported.
"""
from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

from .._validation import Param


@dataclass(frozen=True)
class Evaluator:
    """One registered evaluator: its CLI command ``name``, the ``function`` and its ``params``."""

    name: str
    function: Callable
    params: tuple[Param, ...]

    @property
    def summary(self) -> str:
        doc = inspect.getdoc(self.function) or ""
        return doc.split("\n\n")[0].replace("\n", " ")


EVALUATORS: dict[str, Evaluator] = {}


def evaluator(name: str, params: tuple[Param, ...]) -> Callable:
    """Register the decorated function as evaluator ``name`` with the parameter table ``params``.

    The function is returned unchanged (its doctests and signature stay its own)."""

    def deco(f: Callable) -> Callable:
        sig = inspect.signature(f).parameters
        for p in params:
            # an internal invariant, not user input: the table and the signature are written together
            if p.name not in sig or sig[p.name].default != p.default:
                raise TypeError(f"{f.__qualname__}: parameter {p.name!r} has default "
                                f"{sig[p.name].default if p.name in sig else 'nothing'!r} in the signature "
                                f"but {p.default!r} in its table")
        EVALUATORS[name] = Evaluator(name, f, tuple(params))
        return f

    return deco


def evaluators() -> list[str]:
    """Names of the registered evaluators (the ``embedkit evaluate`` commands), sorted."""
    return sorted(EVALUATORS)
