"""User-facing errors are EmbedkitError subclasses, all from embedkit/exceptions.py.

An AST scan of embedkit/ and cli/ finds every ``raise`` of a plain built-in exception. Each one left
must be on the short allow-list below, which says why it cannot reach a user as a bad-input error
(a Python protocol, an abstract method, an error caught in the same function, an internal
invariant). A new ``raise ValueError(...)`` fails here: raise a subclass from embedkit.exceptions
(they also derive from the built-in, e.g. ``InvalidParameterError(EmbedkitError, ValueError)``).
"""
from __future__ import annotations

import ast
import builtins
from collections import Counter
from pathlib import Path

import embedkit.exceptions as exc_module
from embedkit.exceptions import EmbedkitError

ROOT = Path(__file__).resolve().parents[1]
BUILTIN_EXCEPTIONS = {name for name, obj in vars(builtins).items()
                      if isinstance(obj, type) and issubclass(obj, BaseException)}

ABSTRACT = "an abstract method: reached only through a subclass that forgot to implement it"
GETATTR = "a module's __getattr__: Python's protocol for a missing attribute is AttributeError"
#: (file, exception) -> (how many raises, why they stay built-in)
ALLOWED: dict[tuple[str, str], tuple[int, str]] = {
    ("embedkit/__init__.py", "AttributeError"): (1, GETATTR),
    ("embedkit/data/interactions.py", "AttributeError"): (1, GETATTR),
    ("embedkit/_jit.py", "AttributeError"): (1, GETATTR + " (the stand-in for numba when it is absent)"),
    ("embedkit/_jit.py", "TypeError"): (1, "njit decorating wrongly in embedkit's own code: a programming error"),
    ("embedkit/api.py", "NotImplementedError"): (1, ABSTRACT),
    ("embedkit/api.py", "TypeError"): (2, "a Method class with no name or registered twice: an error of the "
                                          "method's author, raised when the class is defined"),
    ("embedkit/data/_mat.py", "ValueError"): (1, "caught in the same function and raised as InputFormatError"),
    ("embedkit/evaluate/similarity.py", "ValueError"): (1, "caught in the same try: the line is a header"),
    ("embedkit/text/tokenizer.py", "ValueError"): (1, "caught in the same try and raised as InputFormatError"),
    ("embedkit/text/_spm_proto.py", "ValueError"): (1, "its one caller, Tokenizer(), catches it and raises "
                                                       "InputFormatError naming the file"),
    ("embedkit/embeddings.py", "RuntimeError"): (1, "unreachable: importing embedkit.embeddings runs "
                                                    "embedkit/__init__.py, which registers the views"),
    ("embedkit/evaluate/_registry.py", "TypeError"): (1, "an evaluator's signature disagrees with its table: "
                                                         "embedkit's own bug, raised at import"),
    ("embedkit/gnn/_model.py", "NotImplementedError"): (1, ABSTRACT),
    ("embedkit/gnn/_sampling.py", "ValueError"): (1, "internal invariant: the trainer passes distinct seed nodes"),
    ("embedkit/index/base.py", "NotImplementedError"): (5, ABSTRACT),
    ("embedkit/index/faiss_index.py", "NotImplementedError"): (1, ABSTRACT),
    ("embedkit/training/loop.py", "NotImplementedError"): (3, ABSTRACT),
    ("embedkit/engines/skipgram/_common.py", "NotImplementedError"): (2, ABSTRACT),
    ("embedkit/training/checkpoint.py", "ValueError"): (1, "caught in the same try: a damaged checkpoint is "
                                                           "skipped for the one before"),
    ("embedkit/training/checkpoint.py", "TypeError"): (1, "json.dump's default hook: json turns it into its own "
                                                          "TypeError; a method's state holding a non-JSON value is "
                                                          "embedkit's own bug"),
    ("embedkit/kinds.py", "TypeError"): (1, "two input kinds registered under one name: an error of the kind's "
                                            "author, raised at import"),
    ("embedkit/kinds.py", "LookupError"): (1, "a kind registered without contract-suite sample data, asked for it "
                                              "by check_method: an error of the kind's author"),
    ("embedkit/testing.py", "AssertionError"): (3, "check_method is a test helper: a failed contract check is an "
                                                   "AssertionError, as pytest expects"),
    ("embedkit/artifacts.py", "TypeError"): (1, "two artifact types registered under one name: an error of the "
                                                "type's author, raised at import"),
}
#: exception classes defined outside embedkit/exceptions.py -> why
OWN_CLASSES_ALLOWED = {
    ("embedkit/_atomic.py", "_NotPublished"): "control flow inside atomic_paths: raised and caught there",
    ("embedkit/testing.py", "CheckSkipped"): "a contract check that does not apply to a method: caught by "
                                             "check_method, which reports it as skipped",
}


def _sources():
    for folder in ("embedkit", "cli"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            yield path.relative_to(ROOT).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def _raised_name(node: ast.Raise) -> str | None:
    e = node.exc
    if isinstance(e, ast.Call):
        e = e.func
    return e.id if isinstance(e, ast.Name) else None


def test_no_plain_builtin_exception_reaches_a_user():
    found: Counter = Counter()
    where: dict = {}
    for rel, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Raise) and node.exc is not None:
                name = _raised_name(node)
                if name in BUILTIN_EXCEPTIONS:
                    found[(rel, name)] += 1
                    where.setdefault((rel, name), []).append(node.lineno)
    unexpected = {k: where[k] for k, n in found.items() if n > ALLOWED.get(k, (0, ""))[0]}
    assert not unexpected, (
        "raise an EmbedkitError subclass from embedkit/exceptions.py (add one there if none fits) "
        f"instead of these built-ins (file, exception): lines {unexpected}")
    stale = sorted(k for k, (n, _) in ALLOWED.items() if found[k] < n)
    assert not stale, f"allow-list entries with fewer raises than listed (lower or remove them): {stale}"


def test_error_classes_come_from_one_module():
    public = [obj for obj in vars(exc_module).values() if isinstance(obj, type) and issubclass(obj, EmbedkitError)]
    warnings_ = {n for n, obj in vars(exc_module).items() if isinstance(obj, type) and issubclass(obj, Warning)}
    assert set(exc_module.__all__) == {c.__name__ for c in public} | warnings_
    for cls in public:
        assert cls.__module__ == "embedkit.exceptions", cls
        if cls is not EmbedkitError:  # each also is the built-in a caller may already catch
            assert any(b.__name__ in BUILTIN_EXCEPTIONS and b is not Exception for b in cls.__mro__[1:]), cls
    outside = set()
    for rel, tree in _sources():
        if rel == "embedkit/exceptions.py":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {b.id for b in node.bases if isinstance(b, ast.Name)} | {
                    b.attr for b in node.bases if isinstance(b, ast.Attribute)}
                if bases & (BUILTIN_EXCEPTIONS | set(exc_module.__all__)):
                    outside.add((rel, node.name))
    assert outside == set(OWN_CLASSES_ALLOWED), outside
