"""Command-line options built from a method's parameter table (declared once)."""
from __future__ import annotations

import click

from embedkit._validation import Param

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
