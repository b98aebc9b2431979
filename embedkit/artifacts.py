"""The artifact registry: every type embedkit saves says here, once, how it is saved, loaded,
recognised on load and summarised.

An artifact type (:class:`~embedkit.Embeddings`, :class:`~embedkit.SubwordEmbeddings`,
:class:`~embedkit.metric.EncoderEmbeddings`, :class:`~embedkit.gnn.NodeClassifier`,
:class:`~embedkit.FactorModel`, :class:`~embedkit.Tokenizer`, :class:`~embedkit.VectorIndex`)
registers an :class:`Artifact` from the module that defines it (:func:`register_artifact`).
:func:`embedkit.load` (:mod:`embedkit.io`) and the CLI's summaries dispatch through this table:
they name no class.

This module sits at the bottom of the layers (it imports nothing of embedkit but the
exceptions), so any layer may register into it. A registering module is imported when a
lookup needs it, by name, from :data:`PROVIDERS` (format name -> modules): loading a file
never depends on what happened to be imported before.
"""
from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .exceptions import InvalidParameterError

__all__ = ["Artifact", "register_artifact", "artifact_of", "artifact_named", "artifacts_for_format",
           "artifact_for_meta", "artifact_for_suffix", "artifacts", "PROVIDERS"]

Rows = list  # [(name, value), ...]: two-column summary rows


@dataclass(frozen=True)
class Artifact:
    """How one saved type is written, read and shown.

    ``name``: the registry's name (``"embeddings"``, ``"factor-model"``, ...). ``type``: the class
    (its subclasses share the entry unless they register their own). ``format``: the format name its
    files carry (``meta.json``'s ``"format"`` for the ``.ekv`` zips, ``"sentencepiece"``,
    ``"embedkit.index"``). ``save(obj, path)``: write ``obj`` at ``path``, the format from the
    extension (what ``embedkit train -o PATH`` writes). ``load(path, *, mmap, allow_nonfinite)``:
    read one back; None when the type loads back as its format's plain artifact (a
    :class:`~embedkit.gnn.NodeClassifier` is saved as its vectors). ``recognise(meta)``: True for
    the ``meta.json`` of this artifact's files when several artifacts share one format name
    (subword embeddings are ``.ekv`` embeddings with a ``"subword"`` entry); None for the format's
    plain artifact. ``summary(obj)``: the CLI's summary rows ``[(name, value), ...]``.
    ``written(obj, path)``: what the summary says was written (default: the path).
    ``suffixes``: file extensions that name this artifact (``.model``). ``from_embeddings``:
    builds one from :class:`~embedkit.Embeddings` (search indexes), or None. ``tables(obj)``: for an
    artifact holding several tables of vectors (a recommender: ``{"items": ..., "users": ...}``, the
    default first), those tables by name; its ``export`` takes ``which=``. None: one table. ``provider``: the module
    that registered it (it must be listed in :data:`PROVIDERS` under ``format``).
    """

    name: str
    type: type
    format: str
    save: Callable[[Any, Path], None]
    load: Callable[..., Any] | None
    summary: Callable[[Any], Rows]
    recognise: Callable[[dict], bool] | None = None
    written: Callable[[Any, Path], str] | None = None
    suffixes: tuple[str, ...] = ()
    from_embeddings: Callable[..., Any] | None = None
    tables: Callable[[Any], dict] | None = None
    provider: str = ""

    def describe_output(self, obj, path) -> str:
        """The summary's ``written`` value for ``obj`` saved at ``path``."""
        return self.written(obj, Path(path)) if self.written is not None else str(path)


#: name -> Artifact, in registration order
_REGISTRY: dict[str, Artifact] = {}

#: format name -> modules that register the artifacts written in that format, imported on demand
PROVIDERS: dict[str, tuple[str, ...]] = {
    "embedkit.embeddings": ("embedkit.io.native", "embedkit.text.subword", "embedkit.gnn.result"),
    "embedkit.factor_model": ("embedkit.recsys.model",),
    "embedkit.encoder_embeddings": ("embedkit.metric.model",),
    "sentencepiece": ("embedkit.text.tokenizer",),
    "embedkit.index": ("embedkit.index",),
}
_imported: set[str] = set()


def _provide(fmt: str | None = None) -> None:
    """Import the modules that register ``fmt`` (every provider when None)."""
    names = PROVIDERS.get(fmt, ()) if fmt is not None else tuple(m for ms in PROVIDERS.values() for m in ms)
    for module in names:
        if module not in _imported:
            importlib.import_module(module)
            _imported.add(module)


def register_artifact(name: str, type: type, *, format: str, save, load, summary, recognise=None, written=None,
                      suffixes: tuple[str, ...] = (), from_embeddings=None, tables=None) -> Artifact:
    """Register (or re-register, when a module is reloaded) the artifact ``name``; see :class:`Artifact`.
    Called at the bottom of the module that defines the type (or its save and load)."""
    old = _REGISTRY.get(name)
    if old is not None and old.type.__qualname__ != type.__qualname__:
        raise TypeError(f"an artifact is already registered as {name!r}: {old.type.__name__}")
    art = Artifact(name, type, format, save, load, summary, recognise, written, tuple(s.lower() for s in suffixes),
                   from_embeddings, tables, sys._getframe(1).f_globals.get("__name__", ""))
    _REGISTRY[name] = art
    return art


def artifacts() -> list[Artifact]:
    """Every registered artifact (all providers imported), in registration order."""
    _provide()
    return list(_REGISTRY.values())


def _by_type(cls: type) -> Artifact | None:
    for base in cls.__mro__:
        for art in _REGISTRY.values():
            if art.type is base:
                return art
    return None


def artifact_of(obj) -> Artifact:
    """The artifact entry of ``obj``'s type (the nearest registered class in its MRO)."""
    art = _by_type(type(obj))
    if art is None:
        _provide()
        art = _by_type(type(obj))
    if art is None:
        raise InvalidParameterError("save", "obj", "an embedkit artifact (" +
                                    ", ".join(a.type.__name__ for a in _REGISTRY.values()) + ")", type(obj).__name__)
    return art


def artifact_named(name: str) -> Artifact:
    """The artifact registered as ``name``."""
    if name not in _REGISTRY:
        _provide()
    if name not in _REGISTRY:
        raise InvalidParameterError("artifact", "name", "one of " + ", ".join(sorted(_REGISTRY)), name)
    return _REGISTRY[name]


def artifacts_for_format(fmt: str) -> list[Artifact]:
    """The loadable artifacts whose files carry format name ``fmt``: those that recognise their files
    first, the format's plain artifact last."""
    _provide(fmt)
    found = [a for a in _REGISTRY.values() if a.format == fmt and a.load is not None]
    return sorted(found, key=lambda a: a.recognise is None)


def artifact_for_meta(meta: dict) -> Artifact | None:
    """The artifact whose ``.ekv`` file has this ``meta.json`` (None when no registered artifact
    reads its format)."""
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if not isinstance(fmt, str):
        return None
    for art in artifacts_for_format(fmt):
        if art.recognise is None or art.recognise(meta):
            return art
    return None


def artifact_for_suffix(suffix: str) -> Artifact | None:
    """The loadable artifact whose files end in ``suffix`` (``".model"``), or None."""
    suffix = suffix.lower()
    _provide()
    return next((a for a in _REGISTRY.values() if suffix in a.suffixes and a.load is not None), None)
