"""Declarative hyper-parameter tables, validated at ``fit``.

Each method declares its parameters once, as a tuple of :class:`Param`; the
library validates against it and the CLI builds its options from it.
"""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass, replace
from typing import Any

from .exceptions import InvalidParameterError

_TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false"}


@dataclass(frozen=True)
class Param:
    """One hyper-parameter: name, type, default, allowed range or choices, and help.

    ``low``/``high`` bound numbers (``low_open``/``high_open`` make a bound strict); a
    ``float`` parameter is always finite (nan, inf and -inf are refused whatever the bounds);
    ``choices`` lists allowed values; ``nullable`` admits ``None``; ``cli=False``
    keeps a parameter out of the command line (e.g. Python objects); ``multiple`` takes one value
    of ``type`` or a sequence of them (a tuple after :meth:`check`; a repeatable CLI option);
    ``requires`` names a parameter that must not be None when this one is true (e.g.
    ``freeze_existing`` needs ``init``), checked by :func:`validate`.
    """

    name: str
    type: type
    default: Any
    help: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple = ()
    nullable: bool = False
    cli: bool = True
    multiple: bool = False
    requires: str | None = None

    def allowed(self) -> str:
        if self.choices:
            text = "one of " + ", ".join(repr(c) for c in self.choices)
        else:
            text = _TYPE_NAMES.get(self.type, self.type.__name__)
            lo = None if self.low is None else ("> " if self.low_open else ">= ") + _fmt(self.low)
            hi = None if self.high is None else ("< " if self.high_open else "<= ") + _fmt(self.high)
            bounds = " and ".join(b for b in (lo, hi) if b)
            if bounds:
                text += " " + bounds
        if self.multiple:
            text += ", or a sequence of them"
        if self.nullable:
            text += " (or None)"
        if self.requires:
            text += f"; true needs {self.requires}"
        return text

    def check(self, method: str, value: Any) -> Any:
        """Return ``value`` coerced to the declared type, or raise InvalidParameterError."""
        if value is None:
            if self.nullable:
                return None
            raise InvalidParameterError(method, self.name, self.allowed(), value)
        if self.multiple:
            one = replace(self, multiple=False, nullable=False)
            values = (value,) if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__") else tuple(value)
            if not values:
                raise InvalidParameterError(method, self.name, self.allowed(), value)
            try:
                return tuple(one.check(method, v) for v in values)
            except InvalidParameterError:
                raise InvalidParameterError(method, self.name, self.allowed(), value) from None
        if self.type is bool:
            if isinstance(value, (bool,)) or type(value).__name__ == "bool_":
                value = bool(value)
            else:
                raise InvalidParameterError(method, self.name, self.allowed(), value)
        elif self.type is int:
            if isinstance(value, bool) or not isinstance(value, numbers.Integral):
                if isinstance(value, float) and value.is_integer():
                    value = int(value)
                else:
                    raise InvalidParameterError(method, self.name, self.allowed(), value)
            value = int(value)
        elif self.type is float:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise InvalidParameterError(method, self.name, self.allowed(), value)
            value = float(value)
            if not math.isfinite(value):  # nan, inf and -inf, whatever the bounds: a loop could never end
                raise InvalidParameterError(method, self.name, self.allowed(), value,
                                            "Non-finite numbers (nan, inf, -inf) are refused")
        elif self.type is object:  # any Python object (e.g. callbacks, validation data): the method checks it
            return value
        elif self.type is str:
            if isinstance(value, os.PathLike):  # a path parameter given as a pathlib.Path
                value = os.fspath(value)
            if not isinstance(value, str):
                raise InvalidParameterError(method, self.name, self.allowed(), value)
        elif not isinstance(value, self.type):
            raise InvalidParameterError(method, self.name, self.allowed(), value)
        if self.choices and value not in self.choices:
            raise InvalidParameterError(method, self.name, self.allowed(), value)
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            raise InvalidParameterError(method, self.name, self.allowed(), value)
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            raise InvalidParameterError(method, self.name, self.allowed(), value)
        return value


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def validate(method: str, table: tuple[Param, ...], given: dict[str, Any]) -> dict[str, Any]:
    """Validate ``given`` against ``table``; return every parameter with defaults filled in.

    Unknown names are an error listing the known ones.
    """
    known = {p.name: p for p in table}
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise InvalidParameterError(
            method, unknown[0], "one of the known parameters: " + ", ".join(sorted(known)), given[unknown[0]]
        )
    out = {}
    for p in table:
        out[p.name] = p.check(method, given.get(p.name, p.default))
    for p in table:
        if p.requires and out[p.name] and out.get(p.requires) is None:
            raise InvalidParameterError(method, p.name, f"False without {p.requires}", out[p.name],
                                        hint=f"{p.name} needs {p.requires}: pass {p.requires}= as well (on the "
                                             f"command line --{p.requires.replace('_', '-')} ...)")
    return out


# ---- rows most methods share (one declaration each; the help may say more) -----------------
#: progress bars; a Python-only switch (the CLI has --quiet)
VERBOSE = Param("verbose", bool, None, "progress bars: None (default) shows them when stderr is a terminal, "
                "True always, False never", nullable=True, cli=False)


def seed_param(help: str = "random seed (repeatable on the CPU)") -> Param:
    """The ``seed`` row: int >= 0, default 0."""
    return Param("seed", int, 0, help, low=0)


def device_param(note: str = "") -> Param:
    """The ``device`` row: ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"`` (checked by the resolver)."""
    return Param("device", str, "auto", "'auto', 'cpu', 'cuda' or 'cuda:N'" + (f" ({note})" if note else ""))


def workers_param(help: str = "CPU threads (0 = all cores)", default: int = 0) -> Param:
    """The ``workers`` row: int >= 0, 0 = all cores."""
    return Param("workers", int, default, help, low=0)
