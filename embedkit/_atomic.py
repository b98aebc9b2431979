"""Whole outputs or none: write to a temporary name in the same folder, rename into place.

One file (:func:`atomic_path`)
    The data goes to ``.NAME.<pid>.<host>-XXXXXXXX.tmp`` beside ``NAME`` and is renamed
    over ``NAME`` when the writer succeeds (``rename(2)`` is atomic on one file system).
    A failure removes the temporary file; a kill (SIGKILL, power cut) cannot, so every
    write to ``NAME`` first removes the temporary files of earlier writers to ``NAME``
    that are dead: those whose process id is not alive on this machine, those not
    modified for :data:`FOREIGN_AGE_S` (a writer on another machine sharing the folder, or
    a process id since reused), and those of the older
    name pattern without a process id (``.NAME.XXXXXXXX.tmp``) more than
    :data:`LEGACY_AGE_S` ago. Only names of exactly that pattern are touched.

Two files (:func:`atomic_pair`: ``.npy`` + ``.keys.json``, an index + ``.keys.json``,
the projector's ``.tsv`` + ``.metadata.tsv``)
    ``rename(2)`` cannot replace two files at once, so between the two renames a kill
    leaves one new file beside one old one. Both are written in full first; the side
    file (keys) records a :func:`fingerprint` of the main file it belongs to, and is
    renamed into place FIRST. A kill between the renames therefore leaves the old main
    file beside a new side file whose fingerprint does not match it, and the readers
    (:func:`check_pair`) refuse that pair with a clear error instead of pairing old
    vectors with new keys. (Main-first would leave new vectors beside an *old* side file,
    which may predate fingerprints, or none at all on a first write: a silent mix.)
    A file format with no room for a fingerprint (the projector's metadata TSV) falls back
    to its row count: a mixed pair with equal row counts is not detected there.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import socket
import tempfile
import time
from pathlib import Path

#: a temporary file untouched this long is stale even when its process id is alive or from another machine
FOREIGN_AGE_S = 24 * 3600
#: a temporary file of the older name pattern (no process id) is stale after this long
LEGACY_AGE_S = 3600


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()
_HOST = hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]
# mkstemp/mkdtemp's random part: 8 characters of this alphabet
_RAND = r"[a-z0-9_]{8}"


def _tag() -> str:
    return f"{os.getpid()}.{_HOST}"


def _stale_pattern(name: str) -> re.Pattern:
    return re.compile(re.escape(f".{name}.") + rf"(?:(\d+)\.([0-9a-f]{{6}})-)?{_RAND}\.(?:tmp|old)")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True


def remove_stale(path: str | os.PathLike) -> list[Path]:
    """Remove the temporary files that dead writers to ``path`` left beside it; returns them."""
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    pattern = _stale_pattern(path.name)
    removed = []
    now = time.time()
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        m = pattern.fullmatch(entry.name)
        if m is None:
            continue
        pid, host = m.group(1), m.group(2)
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue
        if pid is None:
            stale = age > LEGACY_AGE_S
        elif host == _HOST and int(pid) != os.getpid() and not _alive(int(pid)):
            stale = True
        else:  # another machine's writer, or a live process id (perhaps reused): by age, untouched a day
            stale = age > FOREIGN_AGE_S
        if not stale:
            continue
        target = Path(entry.path)
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(target)
            else:
                target.unlink()
            removed.append(target)
        except FileNotFoundError:  # another writer cleaned it first
            pass
    return removed


def _make_temp(path: Path, is_dir: bool) -> Path:
    parent = path.parent if str(path.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    remove_stale(path)
    prefix = f".{path.name}.{_tag()}-"
    if is_dir:
        tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=parent))
        os.chmod(tmp, 0o777 & ~_UMASK)
    else:
        fd, name = tempfile.mkstemp(prefix=prefix, suffix=".tmp", dir=parent)
        os.close(fd)
        tmp = Path(name)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes it 0600: give the file the usual permissions
    return tmp


def _publish(tmp: Path, path: Path) -> None:
    if tmp.is_dir() and path.exists():
        parent = path.parent if str(path.parent) else Path(".")
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.{_tag()}-", suffix=".old", dir=parent))
        old.rmdir()
        os.replace(path, old)
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, path)


def _discard(tmp: Path) -> None:
    if tmp.is_dir():
        shutil.rmtree(tmp, ignore_errors=True)
    elif tmp.exists():
        tmp.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, *, is_dir: bool = False):
    """Yield a temporary path next to ``path``; on success it replaces ``path``.

    On an exception the temporary file (or folder) is removed and ``path`` is left
    as it was; stale temporary files of killed writers to ``path`` are removed first
    (see the module docstring). Under a distributed launch (``torchrun``) only rank 0
    publishes: the other ranks write to the temporary path, which is then removed, so
    every rank can run the same code and the file is written once.
    """
    with atomic_files(path, is_dir=is_dir) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_pair(main: str | os.PathLike, side: str | os.PathLike):
    """Yield ``(tmp_main, tmp_side)``; on success both replace ``main`` and ``side``, side first.

    Write the main file, then the side file with ``fingerprint(tmp_main)`` in it, so that
    :func:`check_pair` can tell a pair cut by a kill between the two renames (see the
    module docstring).
    """
    with atomic_files(main, side, publish_order=(1, 0)) as tmps:
        yield tmps


@contextlib.contextmanager
def atomic_files(*paths: str | os.PathLike, is_dir: bool = False, publish_order: tuple[int, ...] | None = None):
    """Temporary paths for several outputs, renamed into place in ``publish_order`` (default: as given)."""
    from .distributed import is_main

    paths = [Path(p) for p in paths]
    tmps: list[Path] = []
    try:
        for p in paths:
            tmps.append(_make_temp(p, is_dir))
        yield tuple(tmps)
        if not is_main():
            raise _NotPublished
        for i in publish_order or range(len(paths)):
            _publish(tmps[i], paths[i])
    except BaseException as exc:
        for tmp in tmps:
            _discard(tmp)
        if not isinstance(exc, _NotPublished):
            raise


class _NotPublished(Exception):
    """A rank other than 0 finished writing: its copy is discarded."""


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w", **kwargs):
    """Open a temporary file for writing; rename it to ``path`` when the block succeeds."""
    with atomic_path(path) as tmp:
        with open(tmp, mode, **kwargs) as fh:
            yield fh


# ------------------------------------------------------------------------ pairs
#: files up to this size are hashed whole; larger ones in SAMPLES blocks of BLOCK bytes
_WHOLE = 1 << 20
_SAMPLES = 64
_BLOCK = 16 << 10


def fingerprint(path: str | os.PathLike) -> dict:
    """``{"bytes": size, "sha256": ...}`` of ``path``, cheap at any size.

    Files up to 1 MiB are hashed whole; larger ones through 64 blocks of 16 KiB spread
    evenly from the first byte to the last (1 MiB read whatever the size, so a
    memory-mapped load stays lazy). Two files of different sizes, or differing in a
    sampled block, never match; vectors from two different runs differ in every block.
    """
    path = Path(path)
    size = path.stat().st_size
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        if size <= _WHOLE:
            h.update(fh.read())
        else:
            step = (size - _BLOCK) / (_SAMPLES - 1)
            for i in range(_SAMPLES):
                fh.seek(int(i * step))
                h.update(fh.read(_BLOCK))
    return {"bytes": size, "sha256": h.hexdigest()}


def check_pair(main: str | os.PathLike, side: str | os.PathLike, recorded: dict | None) -> None:
    """Raise :class:`~embedkit.exceptions.InputFormatError` when ``side`` was not written with ``main``.

    ``recorded`` is the fingerprint the side file holds (None: a side file written before
    fingerprints, accepted unchecked).
    """
    if recorded is None:
        return
    from .exceptions import InputFormatError

    if not isinstance(recorded, dict) or "bytes" not in recorded or "sha256" not in recorded:
        raise InputFormatError("the side file's record of its main file is malformed", side)
    actual = fingerprint(main)
    if actual["bytes"] != recorded["bytes"] or actual["sha256"] != recorded["sha256"]:
        raise InputFormatError(
            f"{Path(side).name} was written with another {Path(main).name} (an interrupted write or a file "
            f"replaced by hand): the keys do not belong to these vectors; write both files again", main)
