"""One opener for every text input: gzip (by suffix or by its magic bytes), a UTF-8
byte-order mark dropped, and every failure while reading (not UTF-8, a truncated or
corrupt gzip stream, a folder given for a file, a permission problem) raised as an
:class:`~embedkit.exceptions.InputFormatError` naming the file and, where it is known,
the line.

Readers use :func:`text_lines` (numbered ``str`` lines) or :func:`open_binary` (raw
bytes, for block parsers and sniffers) instead of ``open``/``gzip.open`` of their own.
"""
from __future__ import annotations

import contextlib
import gzip
import os
import zlib
from pathlib import Path
from typing import BinaryIO, Iterator

from ..exceptions import InputFormatError

__all__ = ["open_binary", "text_lines", "read_errors", "is_gzip", "skip_bom", "BOM", "check_readable_file"]

#: the UTF-8 byte-order mark, dropped at the start of every text input
BOM = b"\xef\xbb\xbf"
_GZIP_MAGIC = b"\x1f\x8b"
#: bytes of whole lines :func:`text_lines` reads and decodes at once
_BLOCK_BYTES = 1 << 20


def check_readable_file(path: Path) -> None:
    """Raise :class:`InputFormatError` unless ``path`` is an existing regular file."""
    if not path.exists():
        raise InputFormatError("no such file", path)
    if path.is_dir():
        raise InputFormatError("is a folder, not a file", path)


def is_gzip(path: Path) -> bool:
    """True for a path ending in ``.gz`` or a file starting with gzip's magic bytes."""
    if path.suffix.lower() == ".gz":
        return True
    try:
        with open(path, "rb") as fh:
            return fh.read(2) == _GZIP_MAGIC
    except OSError:
        return False


def _problem(exc: BaseException) -> str:
    """A short description of an error met while reading raw bytes."""
    if isinstance(exc, EOFError):
        return "the compressed stream ends early (truncated .gz file?)"
    if isinstance(exc, (gzip.BadGzipFile, zlib.error)):
        return f"not a valid gzip file ({exc})"
    if isinstance(exc, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no such file"
    return f"cannot be read ({exc})"


@contextlib.contextmanager
def read_errors(path: Path, line: int | None = None):
    """Turn OS, gzip and decoding errors raised inside the block into :class:`InputFormatError`."""
    try:
        yield
    except InputFormatError:
        raise
    except UnicodeDecodeError as exc:
        raise InputFormatError(f"not valid UTF-8 ({exc.reason} at byte {exc.start})", path, line) from None
    except (OSError, EOFError, zlib.error) as exc:
        raise InputFormatError(_problem(exc), path, line) from None


def open_binary(path: str | os.PathLike) -> BinaryIO:
    """The file's bytes, decompressed when it is gzip; a leading byte-order mark is not removed
    here (see :func:`skip_bom`). Errors opening it are :class:`InputFormatError`."""
    path = Path(path)
    check_readable_file(path)
    with read_errors(path):
        if is_gzip(path):
            return gzip.open(path, "rb")
        return open(path, "rb")


def skip_bom(fh: BinaryIO) -> None:
    """Advance ``fh`` past a UTF-8 byte-order mark at its start (``fh`` must be at offset 0)."""
    head = fh.read(3)
    if head != BOM:
        fh.seek(0)


def text_lines(path: str | os.PathLike, *, strip_newline: bool = True) -> Iterator[tuple[int, str]]:
    """``(line_number, line)`` for every line of a UTF-8 text file (plain or gzip).

    Line numbers start at 1; a byte-order mark at the start is dropped; ``\r\n``, ``\n``
    and a bare ``\r`` end lines, as Python's universal newlines do (the line end is
    removed unless ``strip_newline=False``, which keeps it as ``\n``). A line that is not
    valid UTF-8, a truncated gzip stream or any read error raises :class:`InputFormatError`
    naming the file and the line.
    """
    path = Path(path)
    fh = open_binary(path)
    lineno = 0
    try:
        first = True
        # blocks of whole lines decoded at once (cheaper than a decode per line); the errors
        # caught come from reading and decoding only, never from the caller's code at the yield
        try:
            while True:
                block = fh.read(_BLOCK_BYTES)
                if not block:
                    break
                if not block.endswith(b"\n"):
                    block += fh.readline()  # whole lines: no line (nor UTF-8 character) is cut
                if first:
                    first = False
                    if block.startswith(BOM):
                        block = block[3:]
                        if not block:  # a file of a byte-order mark only
                            continue
                try:
                    text = block.decode("utf-8")
                except UnicodeDecodeError:
                    _raise_decode_error(path, block.splitlines(keepends=True), lineno)
                if "\r" in text:
                    text = text.replace("\r\n", "\n").replace("\r", "\n")
                lines = text.split("\n")
                if lines[-1] == "":  # after a final line end; else a last line without one
                    lines.pop()
                start = lineno + 1
                lineno += len(lines)
                if strip_newline:
                    yield from zip(range(start, lineno + 1), lines)
                else:
                    ends = ["\n"] * len(lines)
                    if not text.endswith("\n"):
                        ends[-1] = ""
                    yield from zip(range(start, lineno + 1), map(str.__add__, lines, ends))
        except (OSError, EOFError, zlib.error) as exc:
            raise InputFormatError(_problem(exc), path, lineno + 1) from None
    finally:
        fh.close()


def _raise_decode_error(path: Path, chunk: list, lineno: int):
    """Find the first line of ``chunk`` (raw lines after line ``lineno``) that is not UTF-8 and
    raise the error naming it (lines counted as :func:`text_lines` counts them)."""
    for raw in chunk:
        pieces = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
        if pieces[-1] == b"":
            pieces.pop()
        for piece in pieces:
            lineno += 1
            try:
                piece.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputFormatError(f"not valid UTF-8 ({exc.reason} at byte {exc.start} of the line: "
                                       f"{piece[exc.start:exc.start + 4]!r}; the file must be UTF-8)",
                                       path, lineno) from None
    raise InputFormatError("not valid UTF-8", path, lineno)  # pragma: no cover - the block did not decode


def json_lines(path: str | os.PathLike) -> Iterator[tuple[int, str, object]]:
    """``(line_number, line, value)`` for every non-blank line of a JSON lines file (plain or
    gzip, read by :func:`text_lines`); a line that is not JSON raises
    :class:`InputFormatError` naming the file, the line and the parser's reason."""
    import json

    for lineno, line in text_lines(path):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFormatError(f"not JSON ({exc.msg})", Path(path), lineno, line) from None
        yield lineno, line, value
