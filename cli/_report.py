"""The two-column summaries the commands print after their work."""
from __future__ import annotations

import click


def echo_rows(rows: list[tuple[str, str]]) -> None:
    """Print ``name value`` rows with the names padded to one column."""
    width = max([11] + [len(name) for name, _ in rows])
    for name, value in rows:
        click.echo(f"{name:<{width}} {value}")
