"""The error types embedkit raises.

Every error a user can cause by bad input or bad parameters derives from
:class:`EmbedkitError`, so a caller (or the CLI) can catch one type and print
one line.
"""
from __future__ import annotations

__all__ = [
    "EmbedkitError",
    "InvalidParameterError",
    "InputFormatError",
    "EmptyInputError",
    "NotFittedError",
    "UnknownMethodError",
    "KeyNotFoundError",
    "MissingDependencyError",
    "DatabaseError",
]


class EmbedkitError(Exception):
    """Base class of every error raised for bad input or parameters."""


class InvalidParameterError(EmbedkitError, ValueError):
    """A hyper-parameter has the wrong type, is out of range or is not a choice.

    The message names the parameter, the allowed values and the value given.
    """

    def __init__(self, method: str, name: str, allowed: str, given: object, hint: str = ""):
        self.method, self.name, self.allowed, self.given = method, name, allowed, given
        msg = f"{method}: parameter {name!r} must be {allowed}; got {given!r}"
        if hint:
            msg += f". {hint}"
        super().__init__(msg)


class InputFormatError(EmbedkitError, ValueError):
    """A file or object could not be read; names the file, line and the offending text."""

    def __init__(self, problem: str, path: object = None, line: int | None = None, text: str | None = None):
        self.problem, self.path, self.line, self.text = problem, path, line, text
        where = ""
        if path is not None:
            where = f"{path}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        msg = where + problem
        if text is not None:
            shown = text if len(text) <= 80 else text[:77] + "..."
            msg += f" (got {shown!r})"
        super().__init__(msg)


class EmptyInputError(EmbedkitError, ValueError):
    """The input holds nothing to learn from (no edges, no tokens, no interactions)."""


class NotFittedError(EmbedkitError, RuntimeError):
    """A fitted attribute was used before ``fit`` was called."""


class UnknownMethodError(EmbedkitError, KeyError):
    """No method is registered under the given name; the message lists the choices."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class KeyNotFoundError(EmbedkitError, KeyError):
    """A key is not in an :class:`~embedkit.Embeddings`."""

    def __str__(self) -> str:
        return str(self.args[0])


class MissingDependencyError(EmbedkitError, ImportError):
    """An optional package is not installed; the message names the extra that installs it."""

    def __init__(self, package: str, extra: str, needed_for: str):
        self.package, self.extra = package, extra
        super().__init__(f"{needed_for} needs {package}, which is not installed: "
                         f"pip install 'embedkit[{extra}]'")


class DatabaseError(EmbedkitError, RuntimeError):
    """A database target (PostgreSQL, LanceDB) refused or failed an export or a load.

    The message names the target with any password masked, the table, and the
    database's own first line of explanation. Nothing was changed: an export that
    fails leaves the table as it was.
    """

    def __init__(self, target: str, table: str | None, problem: str):
        self.target, self.table, self.problem = target, table, problem
        where = target + (f", table {table!r}" if table else "")
        super().__init__(f"{where}: {problem}")
