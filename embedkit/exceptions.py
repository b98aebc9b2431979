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
    "OutputError",
    "DuplicateKeyError",
    "InputMismatchError",
    "RowOutOfRangeError",
    "DatabaseError",
    "CheckpointError",
    "ShapeError",
    "ArgumentTypeError",
    "TrainingDivergedError",
    "PluginError",
    "PluginWarning",
    "UnknownInputKindError",
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
    """A key is not in an :class:`~embedkit.Embeddings`.

    Given ``keys`` (the keys it was looked for in), the message also shows a few of them and the
    closest matches to ``key``, computed only when the message is shown (raising stays cheap)."""

    def __init__(self, message: str, *, key: object = None, keys=None):
        super().__init__(message)
        self.key = key
        self.keys = keys

    def __str__(self) -> str:
        text = str(self.args[0])
        if self.keys is not None:
            from ._keys import key_hint

            text += key_hint(self.key, self.keys)
        return text


class MissingDependencyError(EmbedkitError, ImportError):
    """An optional package is not installed; the message names the extra that installs it."""

    def __init__(self, package: str, extra: str, needed_for: str):
        self.package, self.extra = package, extra
        super().__init__(f"{needed_for} needs {package}, which is not installed: "
                         f"pip install 'embedkit[{extra}]'")


class DuplicateKeyError(EmbedkitError, ValueError):
    """Two vectors under one key (a lookup could not say which one); the message names both rows."""


class OutputError(EmbedkitError, ValueError):
    """An output cannot be written where asked (no such folder, not writable, the same file as an
    input, ...); raised before any work. The message names the path and the problem."""

    def __init__(self, problem: str, path: object):
        self.problem, self.path = problem, path
        super().__init__(f"cannot write {path}: {problem}")

class InputMismatchError(EmbedkitError, ValueError):
    """Two inputs that must line up do not: too few of the keys, labels, nodes or interactions of
    one are found in the other (labels of another graph, vectors of another corpus, a ranking's
    train and test swapped). The message names both inputs, the counts and the threshold."""

    def __init__(self, where: str, matched: int, total: int, *, items: str, found_in: str, of: str,
                 threshold: float, hint: str = "", message: str | None = None):
        self.where, self.matched, self.total, self.threshold = where, matched, total, threshold
        self.items, self.found_in, self.of = items, found_in, of
        share = matched / total if total else 0.0
        msg = message or (f"{where}: only {matched} of {total} {items} of {of} ({share:.1%}) are in {found_in}; "
                          f"at least {threshold:.0%} must be for the two to belong together")
        if hint:
            msg += f". {hint}"
        super().__init__(msg)


class RowOutOfRangeError(EmbedkitError, IndexError):
    """A row (a position, not a key) is outside ``[0, n)``; the message gives the valid range."""

    def __str__(self) -> str:
        return str(self.args[0])


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


class CheckpointError(EmbedkitError, ValueError):
    """A checkpoint folder cannot be resumed from: written for other data or other parameters
    (the message names the difference), or unreadable."""


class ShapeError(EmbedkitError, ValueError):
    """An array, index or model part does not fit what it is used with (a query vector of another
    dimension, an index over other keys, features with the wrong number of columns); the message
    gives both shapes."""


class ArgumentTypeError(EmbedkitError, TypeError):
    """An argument of the wrong kind (a number where text is expected, a mix of ids and pieces); the
    message says what is accepted."""


class TrainingDivergedError(EmbedkitError, FloatingPointError):
    """Training produced NaN or infinite values (a learning rate too large for the data); the message
    names the method and what to lower."""


class PluginError(EmbedkitError, ImportError):
    """A method declared in the ``embedkit.methods`` entry-point group cannot be used: its module
    does not import, the object is not a :class:`~embedkit.api.Method`, its name differs from the
    entry point's, or the name is taken by a built-in method. The message names the entry point
    and the distribution that declares it."""

    def __str__(self) -> str:
        return str(self.args[0])


class PluginWarning(UserWarning):
    """A plugin was left out while listing methods (the message says which and why); the other
    methods stay usable."""


class UnknownInputKindError(EmbedkitError, KeyError):
    """A method's ``input_kind`` (or ``also_accepts``) names no registered input kind; the
    message lists the registered ones (see :mod:`embedkit.kinds`)."""

    def __str__(self) -> str:
        return str(self.args[0])
