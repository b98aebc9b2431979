"""Outputs checked before any work: :func:`check_output` (vector formats, database URLs)
and :func:`check_path` (any output file).

The command line calls these before it reads or trains, so a bad ``-o`` fails in
milliseconds instead of after the run. What is checked:

- the format: ``format=`` or the extension must name a writer in
  :data:`embedkit.io.WRITERS` (the same table :func:`embedkit.io.export` uses);
- the folder of every file the format writes (the side files too, e.g.
  ``<path>.keys.json``): it must exist, be a folder, and be writable;
- the file itself must not be an existing folder;
- no file written may be one of the inputs (same file by :func:`os.path.samefile`,
  hard links and symbolic links included).

A target given as a URL (``scheme://...``) is checked by the checker registered for its
scheme in :data:`URL_TARGETS` instead.
"""
from __future__ import annotations

import glob
import os
from pathlib import Path
from typing import Callable, Iterable

from ..exceptions import InvalidParameterError, OutputError

#: formats written as a folder of files (``-o FOLDER``): the folder may exist only empty or as an
#: earlier output of the same format (a writer replaces it whole), so no other folder is ever replaced
FOLDER_FORMATS: dict[str, Callable[[Path], bool]] = {
    "elasticsearch": lambda p: _is_bulk_dir(p),
    "opensearch": lambda p: _is_bulk_dir(p),
}

#: format -> the side files written beside ``path`` (besides ``path`` itself)
SIDE_FILES: dict[str, Callable[[Path], list[Path]]] = {
    "npy": lambda p: [p.with_name(p.name + ".keys.json")],
    "faiss": lambda p: [p.with_name(p.name + ".keys.json")],
    "hnswlib": lambda p: [p.with_name(p.name + ".keys.json")],
    "projector": lambda p: [_projector_metadata(p)],
}


def _is_bulk_dir(path: Path) -> bool:
    from .search_bulk import is_bulk_dir

    return is_bulk_dir(path)


def check_folder_output(path, fmt: str, *, inputs: Iterable = ()) -> Path:
    """Check a folder output of ``fmt`` (see :data:`FOLDER_FORMATS`): its parent can take it, and an
    existing folder there is empty or an earlier output of ``fmt`` (never any other folder)."""
    path = Path(path)
    if path.exists():
        if not path.is_dir():
            raise OutputError(f"is a file; {fmt} output is a folder of files", path)
        if any(path.iterdir()) and not FOLDER_FORMATS[fmt](path):
            raise OutputError(f"is a folder that holds other files; {fmt} output replaces its folder whole, so give "
                              "a new or empty folder (or an earlier output of this format)", path)
        for given in _expand(inputs):
            if Path(given).resolve().is_relative_to(path.resolve()):
                raise OutputError(f"holds the input {given}; the output would replace it", path)
        return path
    return check_path(path, inputs=inputs)


def _projector_metadata(path: Path) -> Path:
    from .projector import metadata_path

    return metadata_path(path)


def url_scheme(target) -> str | None:
    """The scheme of a URL target (``postgresql`` of ``postgresql://host/db``), None for a path."""
    text = os.fspath(target) if isinstance(target, os.PathLike) else str(target)
    scheme, sep, _ = text.partition("://")
    if sep and scheme and scheme.replace("+", "").replace("-", "").replace(".", "").isalnum():
        return scheme.lower()
    return None


def check_output(path, format: str | None = None, *, inputs: Iterable = ()) -> str:
    """Check that ``path`` (a file, or a URL target) can take ``format``; return the format name.

    ``inputs``: the paths the run reads (globs are expanded); none may be a file that is
    written. Raises :class:`~embedkit.exceptions.InvalidParameterError` for an unknown
    format and :class:`~embedkit.exceptions.OutputError` for a place that cannot be
    written, both before anything is read or written.
    """
    from . import _BY_EXTENSION, WRITERS, format_for, resolve_format
    from .targets import URL_TARGETS, mask_url

    scheme = url_scheme(path)
    if scheme is not None:
        if scheme not in URL_TARGETS:
            known = ", ".join(f"{s}://" for s in sorted(URL_TARGETS))
            raise InvalidParameterError("export", "output", f"a file path or a URL of a known scheme ({known})",
                                        mask_url(str(path)))
        if format is not None:
            raise InvalidParameterError("export", "format", "none for a database URL (its scheme says where)",
                                        format)
        check = getattr(URL_TARGETS[scheme], "check", None)  # a target may check more before any work
        if check is not None:
            check(str(path))
        return scheme
    path = Path(path)
    if format in FOLDER_FORMATS:
        check_folder_output(path, format, inputs=inputs)
        return format
    if path.is_dir():
        raise OutputError("is a folder; give a file name", path)
    if format is None and format_for(path) is None:
        exts = ", ".join(sorted(_BY_EXTENSION))
        raise OutputError(f"no vector format is known for the extension {path.suffix or '(none)'!r}; end the path in "
                          f"one of {exts} (or give the format: {', '.join(sorted(WRITERS))})", path)
    fmt = resolve_format(path, format)
    for target in [path, *SIDE_FILES.get(fmt, lambda p: [])(path)]:
        check_path(target, inputs=inputs)
    return fmt


def check_path(path, *, inputs: Iterable = ()) -> Path:
    """Check that a file can be written at ``path`` and is not one of ``inputs``; return it as a Path.

    Refused (:class:`~embedkit.exceptions.OutputError`): a missing folder, a parent that is
    a file, a folder this process may not write to, an existing folder at ``path``, and a
    path that is the same file as an input.
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.exists():
        ancestor = parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if ancestor.exists() and not ancestor.is_dir():
            raise OutputError(f"{ancestor} is a file, not a folder", path)
        raise OutputError(f"no folder {parent}; create it first", path)
    if not parent.is_dir():
        raise OutputError(f"{parent} is a file, not a folder", path)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise OutputError(f"the folder {parent} is not writable", path)
    if path.is_dir():
        raise OutputError("is a folder; give a file name", path)
    if path.exists():
        for given in _expand(inputs):
            try:
                same = os.path.samefile(path, given)
            except OSError:
                same = False
            if same:
                shown = "" if Path(given) == path else f" ({given})"
                raise OutputError(f"it is an input of this run{shown}; writing it would replace the input", path)
    return path


def _expand(inputs: Iterable) -> list[str]:
    """The input paths, globs expanded, URLs and None left out."""
    out = []
    for given in inputs:
        if given is None or url_scheme(given) is not None:
            continue
        given = os.fspath(given)
        matches = glob.glob(given) if glob.has_magic(given) else []
        out.extend(matches or [given])
    return out
