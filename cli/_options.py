"""Command-line options built from a method's parameter table (declared once)."""
from __future__ import annotations

from dataclasses import replace

import click

from embedkit._validation import Param
from embedkit.exceptions import InvalidParameterError

_CLICK_TYPES = {int: click.INT, float: click.FLOAT, str: click.STRING}


class _Fraction(click.ParamType):
    """A number strictly between 0 and 1 (NaN and inf refused: click's FloatRange lets NaN through)."""

    name = "fraction"

    def convert(self, value, param, ctx):
        try:
            v = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        if not 0.0 < v < 1.0:
            self.fail(f"{value!r} is not a number strictly between 0 and 1", param, ctx)
        return v


FRACTION = _Fraction()
#: a count: an integer >= 1
COUNT = click.IntRange(min=1)


def option_name(p: Param) -> str:
    return "--" + p.name.replace("_", "-")


def click_option(p: Param) -> click.Option:
    """A click option for ``p``; its default stays None so the table's default applies."""
    help_text = f"{p.help} [default: {p.default}]"
    if p.type is bool:
        flag = p.name.replace("_", "-")
        return click.Option([f"--{flag}/--no-{flag}", p.name], default=None, help=help_text)
    ptype = click.Choice(p.choices) if p.choices else _CLICK_TYPES.get(p.type, click.STRING)
    return click.Option([option_name(p), p.name], type=ptype, default=None, help=help_text,
                        metavar=("PATH" if p.type is object else p.type.__name__.upper()) if not p.choices else None)


def parse_extra(method_cls, args: list[str]) -> dict:
    """Parse ``--name value`` pairs for ``method_cls`` (used where the method is chosen at run time)."""
    table = {option_name(p): p for p in method_cls.params if p.cli}
    out: dict = {}
    i = 0
    while i < len(args):
        arg = args[i]
        name, _, inline = arg.partition("=")
        p = table.get(name)
        if p is None:
            neg = name.replace("--no-", "--", 1)
            if name.startswith("--no-") and neg in table and table[neg].type is bool:
                out[table[neg].name] = False
                i += 1
                continue
            choices = ", ".join(sorted(table))
            raise click.UsageError(f"{method_cls.name} has no option {name}; its options: {choices}")
        if p.type is bool:
            out[p.name] = True
            i += 1
            continue
        if not inline:
            if i + 1 >= len(args):
                raise click.UsageError(f"option {name} needs a value")
            inline = args[i + 1]
            i += 1
        i += 1
        conv = _CLICK_TYPES.get(p.type, click.STRING)
        out[p.name] = conv.convert(inline, None, None) if not p.choices else inline
    return out


# ---- evaluators: `embedkit evaluate NAME` options from the evaluator's table --------------------
def evaluator_option(p: Param) -> click.Option:
    """A click option for an evaluator's parameter ``p``. Its default stays None (an empty tuple for a
    repeatable option), so the table's default applies (:func:`evaluator_params`); the help shows it."""
    shown = ", ".join(map(str, p.default)) if p.multiple and p.default else p.default
    help_text = f"{p.help} [default: {shown}]"
    flag = p.name.replace("_", "-")
    if p.type is bool:
        return click.Option([f"--{flag}/--no-{flag}", p.name], default=None, help=help_text)
    decl = f"-{flag}" if len(flag) == 1 else f"--{flag}"
    ptype = click.Choice(p.choices, case_sensitive=False) if p.choices else _Checked(p)
    return click.Option([decl, p.name], type=ptype, default=None, multiple=p.multiple, help=help_text,
                        metavar=p.type.__name__.upper() if not p.choices else None)


class _Checked(click.ParamType):
    """One value of ``p``'s type, checked against ``p``'s bounds: a bad one is a usage error that
    names the option (as click's own types do)."""

    def __init__(self, p: Param):
        self.p = replace(p, multiple=False, nullable=False)
        self.base = _CLICK_TYPES.get(p.type, click.STRING)
        self.name = self.base.name

    def convert(self, value, param, ctx):
        value = self.base.convert(value, param, ctx)
        try:
            return self.p.check("", value)
        except InvalidParameterError as exc:
            self.fail(f"must be {exc.allowed}; got {value!r}", param, ctx)


def evaluator_options(name: str):
    """Decorator: add the options of evaluator ``name`` (those with ``cli=True``) to a command."""
    from embedkit.evaluate._registry import EVALUATORS

    def deco(f):
        if not hasattr(f, "__click_params__"):
            f.__click_params__ = []
        for p in reversed(EVALUATORS[name].params):  # click lists the options in reverse order of addition
            if p.cli:
                f.__click_params__.append(evaluator_option(p))
        return f

    return deco


def evaluator_params(name: str, given: dict) -> dict:
    """The parameters of evaluator ``name``: the options given (None / empty = not given) checked
    against its table, every other one at the table's default."""
    from embedkit._validation import validate
    from embedkit.evaluate._registry import EVALUATORS

    ev = EVALUATORS[name]
    names = {p.name for p in ev.params}
    chosen = {k: v for k, v in given.items() if k in names and v is not None and v != ()}
    return validate(f"evaluate {name}", ev.params, chosen)
