"""Reading zip artifacts (``.ekv``, ``.npz``, recommender and encoder models) and ``.npy``
arrays with limits, before anything is allocated:

- a zip member may not declare more bytes than its cap (JSON: :data:`MAX_JSON_BYTES`;
  ``keys.json`` a little more per vector), nor, when compressed, expand more than
  :data:`MAX_RATIO` times its compressed size; a stored member must fit in the file;
- a ``.npy`` array (a file, or a zip member) must hold numbers (never Python objects:
  ``allow_pickle`` is always False) and exactly the bytes its shape declares;
- JSON must parse, and ``keys.json`` must be ``{"type": "str"|"int", "keys": [...]}``.

Every refusal is an :class:`~embedkit.exceptions.InputFormatError` naming the file and
the member.
"""
from __future__ import annotations

import contextlib
import json
import tokenize
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..exceptions import InputFormatError

#: the most bytes a JSON member (meta.json, ...) or side file may hold
MAX_JSON_BYTES = 64 << 20
#: keys.json may hold this much more per vector (keys are short; this is a generous bound)
KEYS_BYTES_PER_ROW = 1024
#: the most a compressed zip member may expand (uncompressed / compressed size)
MAX_RATIO = 100
#: numpy dtype kinds accepted for vectors (bool, signed, unsigned, float)
NUMBER_KINDS = "biuf"


def keys_cap(rows: int) -> int:
    """The most bytes a keys.json for ``rows`` vectors may hold."""
    return MAX_JSON_BYTES + KEYS_BYTES_PER_ROW * max(int(rows), 0)


@contextlib.contextmanager
def member_errors(path: Path, member: str | None = None):
    """Errors of zipfile, zlib, numpy's header parser and the OS while reading ``member`` of
    ``path`` as :class:`InputFormatError`."""
    try:
        yield
    except InputFormatError:
        raise
    except KeyError as exc:
        raise InputFormatError(f"no member {exc.args[0]!r} in the zip" if member is None else
                               f"{member} is missing", path) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError, RuntimeError, NotImplementedError,
            OverflowError, TypeError, SyntaxError, tokenize.TokenError) as exc:
        # (numpy parses a .npy header with ast.literal_eval: a broken one raises SyntaxError or,
        # with an unclosed bracket, tokenize.TokenError)
        inside = f"{member}: " if member else ""
        raise InputFormatError(f"{inside}cannot be read ({type(exc).__name__}: {exc})", path) from None


def _where(member: str | None) -> str:
    return member if member else "the array"


def read_npy_header(fh, path: Path, size: int, member: str | None = None):
    """``(shape, fortran_order, dtype, data_offset)`` of the ``.npy`` at ``fh``'s position, which
    holds ``size`` bytes; checks the dtype and that the data are exactly what the shape declares."""
    start = fh.tell()
    with member_errors(path, member):
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(fh, max_header_size=1 << 20)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(fh, max_header_size=1 << 20)
        else:
            raise InputFormatError(f"{_where(member)}: .npy format version {version} is not supported", path)
        offset = fh.tell() - start
    if dtype.hasobject or dtype.fields is not None:
        raise InputFormatError(f"{_where(member)} holds Python objects or records ({dtype}), not numbers; "
                               "embedkit never unpickles", path)
    if any(d < 0 for d in shape):
        raise InputFormatError(f"{_where(member)} declares a negative shape {shape}", path)
    need = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if need != size - offset:
        raise InputFormatError(f"{_where(member)} declares shape {shape} of {dtype} ({need:,} bytes of data) but "
                               f"holds {size - offset:,} bytes (truncated or not a .npy array)", path)
    return shape, fortran, dtype, offset


def read_npy(fh, path: Path, size: int, member: str | None = None, kinds: str = NUMBER_KINDS,
             ndim: int | None = None) -> np.ndarray:
    """The array of the ``.npy`` of ``size`` bytes at ``fh``'s position (a file or a zip member),
    checked by :func:`read_npy_header`; its dtype kind must be in ``kinds`` and, when given, it
    must have ``ndim`` dimensions."""
    shape, fortran, dtype, _ = read_npy_header(fh, path, size, member)
    check_array_kind(shape, dtype, path, member, kinds, ndim)
    arr = np.empty(int(np.prod(shape, dtype=object)), dtype=dtype)
    buf = memoryview(arr.view(np.uint8))
    got = 0
    with member_errors(path, member):
        while got < len(buf):
            n = fh.readinto(buf[got:])
            if not n:
                raise InputFormatError(f"{_where(member)} ends after {got:,} of {len(buf):,} bytes of data", path)
            got += n
    return arr.reshape(shape, order="F" if fortran else "C")


def check_array_kind(shape, dtype, path: Path, member: str | None, kinds: str, ndim: int | None) -> None:
    if dtype.kind not in kinds:
        raise InputFormatError(f"{_where(member)} holds {dtype}, not numbers", path)
    if ndim is not None and len(shape) != ndim:
        raise InputFormatError(f"{_where(member)}: expected a {ndim}-D array, found shape {shape}", path)


def map_npy(path: Path, offset: int, size: int, member: str | None = None, ndim: int | None = 2) -> np.ndarray:
    """Memory-map (read-only) the ``.npy`` of ``size`` bytes that starts at ``offset`` of ``path``."""
    with open(path, "rb") as fh:
        fh.seek(offset)
        shape, fortran, dtype, data = read_npy_header(fh, path, size, member)
    check_array_kind(shape, dtype, path, member, NUMBER_KINDS, ndim)
    with member_errors(path, member):
        return np.memmap(path, dtype=dtype, mode="r", offset=offset + data, shape=shape,
                         order="F" if fortran else "C")


def parse_json(data: bytes, path: Path, member: str | None = None):
    """The JSON value of ``data`` (UTF-8, a byte-order mark allowed)."""
    try:
        return json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputFormatError(f"{member or 'the file'} is not valid UTF-8 ({exc.reason} at byte {exc.start})",
                               path) from None
    except (ValueError, RecursionError) as exc:
        raise InputFormatError(f"{member or 'the file'} is not valid JSON ({exc})", path) from None


def read_json_file(path: Path, cap: int = MAX_JSON_BYTES):
    """A JSON file on disk (a side file or a member of an unpacked .ekv), at most ``cap`` bytes."""
    with member_errors(path):
        size = path.stat().st_size
        if size > cap:
            raise InputFormatError(f"{size:,} bytes of JSON, over the limit of {cap:,}", path)
        data = path.read_bytes()
    return parse_json(data, path)


def parse_keys(obj, path: Path, member: str = "keys.json", rows: int | None = None) -> list:
    """The key list of a keys.json payload ``{"type": "str"|"int", "keys": [...]}``; ``rows``: how many
    there must be."""
    if not isinstance(obj, dict) or not isinstance(obj.get("keys"), list):
        raise InputFormatError(f'{member} must be a JSON object {{"type": ..., "keys": [...]}}', path)
    keys = obj["keys"]
    kind = obj.get("type", "str")
    wanted = {"str": (str,), "int": (int,)}.get(kind)
    if wanted is None:
        raise InputFormatError(f'{member}: "type" must be "str" or "int", not {kind!r}', path)
    for i, k in enumerate(keys):
        if not isinstance(k, wanted) or isinstance(k, bool):
            raise InputFormatError(f"{member}: key {i} is {k!r}, not {'a string' if kind == 'str' else 'an integer'}"
                                   f' (keys of type "{kind}")', path)
    if rows is not None and len(keys) != rows:
        raise InputFormatError(f"{member} holds {len(keys)} keys for {rows} vectors", path)
    return keys


class LimitedZip:
    """A zip file read member by member with the limits of this module."""

    def __init__(self, path: Path):
        self.path = Path(path)
        with member_errors(self.path):
            self.size = self.path.stat().st_size
            self.zf = zipfile.ZipFile(self.path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.zf.close()

    def names(self) -> list[str]:
        return self.zf.namelist()

    def __contains__(self, name: str) -> bool:
        try:
            self.zf.getinfo(name)
            return True
        except KeyError:
            return False

    def info(self, name: str, cap: int | None = None) -> zipfile.ZipInfo:
        """The checked entry of member ``name``: at most ``cap`` bytes, at most :data:`MAX_RATIO`
        times its compressed size, and (stored) inside the file."""
        try:
            info = self.zf.getinfo(name)
        except KeyError:
            raise InputFormatError(f"{name} is missing from the zip", self.path) from None
        if cap is not None and info.file_size > cap:
            raise InputFormatError(f"{name} declares {info.file_size:,} bytes, over the limit of {cap:,} for it",
                                   self.path)
        if info.compress_type == zipfile.ZIP_STORED:
            if info.compress_size != info.file_size or info.header_offset + info.file_size > self.size:
                raise InputFormatError(f"{name}: its entry declares more bytes than the zip holds", self.path)
        elif info.file_size > MAX_RATIO * max(info.compress_size, 1) + 4096:
            raise InputFormatError(
                f"{name} expands {info.file_size / max(info.compress_size, 1):,.0f} times its compressed size "
                f"({info.compress_size:,} -> {info.file_size:,} bytes), over the limit of {MAX_RATIO}; "
                "embedkit artifacts store arrays uncompressed", self.path)
        return info

    def read_bytes(self, name: str, cap: int) -> bytes:
        info = self.info(name, cap)
        with member_errors(self.path, name):
            return self.zf.read(info)

    def read_json(self, name: str, cap: int = MAX_JSON_BYTES):
        return parse_json(self.read_bytes(name, cap), self.path, name)

    def npy_header(self, name: str):
        """``(shape, fortran_order, dtype, data_offset)`` of the ``.npy`` member ``name``."""
        info = self.info(name)
        with member_errors(self.path, name), self.zf.open(info) as fh:
            return read_npy_header(fh, self.path, info.file_size, name)

    def read_npy(self, name: str, kinds: str = NUMBER_KINDS, ndim: int | None = None) -> np.ndarray:
        info = self.info(name)
        with member_errors(self.path, name), self.zf.open(info) as fh:
            return read_npy(fh, self.path, info.file_size, name, kinds, ndim)
