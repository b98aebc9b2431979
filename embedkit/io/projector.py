"""The TensorBoard Embedding Projector's TSV pair (``.tsv``).

``vectors.tsv`` holds one vector per line, numbers separated by tabs, no header
and no keys; ``vectors.metadata.tsv`` beside it (the path with ``.tsv`` replaced
by ``.metadata.tsv``) holds the keys, one per line in the same order. With
``labels=`` the metadata gets a header row and a second column
(``key<TAB>label``), which the projector offers for colouring and search. Load
both files in https://projector.tensorflow.org ("Load": step 1 the vectors,
step 2 the metadata), or point a TensorBoard ``projector_config.pbtxt`` at them.

Keys and labels may not hold tabs or newlines (the format has no escaping).
Reading gives string keys (the metadata is text), or row numbers when the
metadata file is absent.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .._atomic import atomic_pair
from .._keys import lookup
from ..data import read_labels
from ..data._open import text_lines
from ..exceptions import EmptyInputError, InputFormatError
from ._checks import NONFINITE_HINT, finish, unique_index
from ._text import BLOCK, EXACT_DIGITS, Matrix, blocks, count_lines, float_rows, open_input


def metadata_path(path) -> Path:
    """``vectors.tsv`` -> ``vectors.metadata.tsv`` (the keys, one per line)."""
    path = Path(path)
    stem = path.name[:-4] if path.name.lower().endswith(".tsv") else path.name
    return path.with_name(stem + ".metadata.tsv")


def _cell(value, path, what: str) -> str:
    s = str(value)
    if "\t" in s or "\n" in s or "\r" in s:
        raise InputFormatError(f"{what} {s!r} holds a tab or a line break, which the projector's TSV cannot "
                               "store", path)
    return s


def _label_text(label) -> str:
    return ",".join(map(str, label)) if isinstance(label, (list, tuple, set)) else ("" if label is None else str(label))


def write_projector(emb, path, *, labels=None, precision: int = EXACT_DIGITS) -> None:
    """Write ``path`` (vectors) and :func:`metadata_path` (keys, and ``labels`` when given:
    a dict key -> label, or a label file :func:`embedkit.read_labels` reads). Both atomically."""
    path = Path(path)
    meta_path = metadata_path(path)
    if labels is not None and not isinstance(labels, dict):
        labels = read_labels(labels)
    keys = [_cell(k, meta_path, "key") for k in emb.keys]
    if labels is not None:
        rows = ["key\tlabel"] + [k + "\t" + _cell(_label_text(lookup(labels, key)), meta_path, "label")
                                 for k, key in zip(keys, emb.keys)]
    else:
        rows = keys
    vectors = emb.vectors
    # metadata renamed first (embedkit._atomic); its row count is the only check the format allows
    with atomic_pair(path, meta_path) as (tmp, tmp_meta):
        with open(tmp, "wb") as fh:
            for start in range(0, len(keys), BLOCK):
                fh.write(("\n".join(float_rows(vectors[start:start + BLOCK], "\t", precision)) + "\n").encode())
        with open(tmp_meta, "w", encoding="utf-8", newline="\n") as fh:
            fh.write("\n".join(rows) + "\n")


def _parse_block(raw_lines: list[bytes], start: int, dim: int | None, path: Path,
                 allow_nonfinite: bool = False) -> np.ndarray:
    text = [r.rstrip(b"\r\n") for r in raw_lines]
    rows = None
    try:
        rows = np.loadtxt([t.decode() for t in text], dtype=np.float32, delimiter="\t", comments=None, ndmin=2,
                          quotechar=None)
        if (dim is not None and rows.shape[1] != dim) or rows.shape[0] != len(text):
            rows = None
    except (UnicodeDecodeError, ValueError):
        rows = None
    if rows is None:
        _fault(text, start, dim, path)
    if not allow_nonfinite and rows.size and not np.isfinite(rows.sum(dtype=np.float64)):
        bad = int(np.flatnonzero(~np.isfinite(rows).all(axis=1))[0])
        raise InputFormatError(f"vector {start + bad} holds NaN or infinity; {NONFINITE_HINT}", path, start + bad,
                               text[bad].decode())
    return rows


def _fault(text: list[bytes], start: int, dim: int | None, path: Path):
    """Raise the error for the first line of a block the fast parser refused."""
    for lineno, t in enumerate(text, start=start):
        try:
            line = t.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputFormatError(f"line is not valid UTF-8 ({exc.reason} at byte {exc.start})", path, lineno,
                                   t[:60].decode("latin-1")) from None
        parts = line.split("\t")
        if dim is not None and len(parts) != dim:
            raise InputFormatError(f"expected {dim} tab-separated numbers, found {len(parts)}", path, lineno, line)
        try:
            np.array(parts, dtype=np.float32)
        except ValueError:
            raise InputFormatError("a value is not a number", path, lineno, line) from None
        dim = len(parts)
    raise InputFormatError(f"lines {start}-{start + len(text) - 1}: rows of different lengths", path)


def read_projector(path, *, limit: int | None = None, allow_nonfinite: bool = False):
    """Read a projector vectors TSV and its metadata (see the module docstring); returns Embeddings.

    Errors name the file and line: a line that is not UTF-8, a wrong count of numbers, a
    non-number, NaN or infinity (``allow_nonfinite=True`` accepts them), a metadata file with
    another count of keys, a key found twice (both metadata lines). A byte-order mark at the
    start of either file is dropped."""
    path = Path(path)
    capacity = count_lines(path) if limit is None else min(count_lines(path), limit)
    matrix = None
    fh = open_input(path)
    with fh:
        for lineno, raw_lines in blocks(fh, path=path):
            rows = _parse_block(raw_lines, lineno, None if matrix is None else matrix.data.shape[1], path,
                                allow_nonfinite)
            if matrix is None:
                matrix = Matrix(capacity, rows.shape[1])
            rows = rows[:matrix.room]
            matrix.add(rows)
            if not matrix.room:
                break
    if matrix is None or matrix.n == 0:
        raise EmptyInputError(f"{path}: no vectors found")
    vectors = matrix.result()
    n = vectors.shape[0]
    meta_path = metadata_path(path)
    meta = {"source": str(path), "format": "projector"}
    if not meta_path.exists():
        return finish(list(range(n)), vectors, meta, path, finite_checked=True)
    lines = [line for _, line in text_lines(meta_path)]
    if lines and lines[-1] == "":
        lines.pop()
    header = bool(lines) and "\t" in lines[0]  # the projector's rule: a header when there are 2+ columns
    if len(lines) - header < n or (limit is None and len(lines) - header != n):
        raise InputFormatError(f"{len(lines) - header} keys for {n} vectors", meta_path)
    keys = [line.split("\t", 1)[0] for line in lines[header:header + n]]
    unique_index(keys, meta_path, line_of=lambda rows: [r + 1 + header for r in rows])
    return finish(keys, vectors, meta, path, finite_checked=True)
