"""Node labels: single-label (``node label`` per line) or multi-label (several
labels per node, or a MATLAB ``group`` matrix as in BlogCatalog/PPI/POS)."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..exceptions import EmptyInputError, InputFormatError
from ._open import check_readable_file, text_lines


def read_labels(source: Any, *, nodes: list | None = None, delimiter: str | None = None) -> dict:
    """Read labels into a dict ``node -> label`` (single-label) or ``node -> list of labels``.

    * A text/CSV/TSV file of ``node label [label ...]`` lines (``#`` comments; a
      node repeated on several lines gathers several labels); returns
      multi-label lists only when some node has more than one label.
    * A ``.mat`` file with a ``group`` matrix ``(V, L)``: node ``i`` (or
      ``nodes[i]``) gets the labels of its non-zero columns.
    * A dict is returned as is.
    """
    if isinstance(source, dict):
        return source
    path = Path(source) if isinstance(source, (str, os.PathLike)) else None
    if path is None:
        raise InputFormatError(f"cannot read labels from a {type(source).__name__}")
    check_readable_file(path)
    if path.suffix.lower() == ".mat":
        return _read_mat_labels(path, nodes)
    out: dict = {}
    multi = False
    first = True
    for lineno, line in text_lines(path):  # BOM dropped; bad bytes, bad .gz: InputFormatError
        s = line.strip()
        if not s or s[0] in "#%":
            continue
        parts = s.split(delimiter) if delimiter else (s.split() if "," not in s else s.split(","))
        parts = [p.strip() for p in parts]
        if len(parts) < 2 or not parts[0] or not any(parts[1:]):
            raise InputFormatError("expected 'node label [label ...]'", path, lineno, s)
        if first and parts[0].lower() in ("node", "id", "node_id"):
            first = False
            continue  # a header (the first line after any comments)
        first = False
        labs = out.setdefault(parts[0], [])
        # a label given twice for the same node counts once
        labs.extend(lab for lab in dict.fromkeys(parts[1:]) if lab and lab not in labs)
        multi = multi or len(labs) > 1
    if not out:
        raise EmptyInputError(f"{path}: no labels found")
    if not multi:
        return {k: v[0] for k, v in out.items()}
    return out


def _read_mat_labels(path: Path, nodes: list | None) -> dict:
    """A MATLAB file's ``group`` matrix ``(V, L)``: node ``i`` (or ``nodes[i]``) -> its non-zero columns."""
    from ._mat import mat_matrix

    grp = mat_matrix(path, "group", "(nodes x labels)")
    if nodes is not None and len(nodes) < grp.shape[0]:
        raise InputFormatError(f"'group' has {grp.shape[0]} rows but {len(nodes)} nodes were given", path)
    keys = nodes if nodes is not None else list(range(grp.shape[0]))
    return {keys[i]: grp.indices[grp.indptr[i]:grp.indptr[i + 1]].tolist() for i in range(grp.shape[0])}
