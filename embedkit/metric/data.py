"""What triplet training learns from, read once into :class:`MetricData`.

Three kinds of supervision, each a file format with a reader and a Python form:

``triplets``
    ``anchor positive negative`` per line: the anchor is closer to the positive than to the
    negative. Python: an ``(n, 3)`` array or list of key triples, or ``{"triplets": ...}``.
``labels``
    ``key label [label ...]`` per line: items sharing a label are closer than items that share
    none (a key on several lines gathers several labels). Python: ``{"keys": keys, "labels": y}``,
    ``{"features": X, "labels": y}`` (keys are the row numbers ``0..n-1``), or a dict
    ``key -> label`` (or ``key -> list of labels``). Triplets are mined within each batch.
``pairs``
    ``key key`` per line: two similar items; negatives are sampled. Python: ``{"pairs": ...}``.

Files are CSV, TSV, ``;`` or whitespace separated (sniffed from the first data line, like
:func:`~embedkit.read_interactions`), ``.gz`` read transparently, ``#`` comments and blank lines
skipped. A first line made only of column names (``anchor,positive,negative``, ``key,label``,
``key1,key2``, ...) is a header. Keys from a file are strings. ``kind="auto"`` takes a file or
array with 3 columns as triplets and one with 2 columns as labels; pairs always need
``kind="pairs"`` (or ``{"pairs": ...}``), because ``key key`` and ``key label`` lines look alike.

A line with the wrong number of fields, or a triplet or pair that repeats a key, raises
:class:`~embedkit.InputFormatError` naming the file, the line and its text.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..data._open import text_lines
from ..data.interactions import _as_id_array, _ordered_ids, _split_fn, _to_numpy
from ..exceptions import EmptyInputError, InputFormatError, InvalidParameterError
from ..kinds import BadInput, Form, InputKind, Sample, register_kind

KINDS = ("auto", "triplets", "labels", "pairs")
#: dict keys of the structured Python form
_FIELDS = {"keys", "labels", "features", "triplets", "pairs"}
#: a first line made only of these words is a header
_HEADER_WORDS = {"anchor", "positive", "negative", "pos", "neg", "a", "p", "n", "key", "label", "labels", "item",
                 "node", "id", "word", "class", "key1", "key2", "item1", "item2", "word1", "word2", "left", "right",
                 "query", "target"}


@dataclass
class MetricData:
    """Supervision for triplet training, on one table of keys.

    Attributes
    ----------
    kind : ``"triplets"``, ``"labels"`` or ``"pairs"``.
    keys : the keys, in row order (numerically ordered when they are all integers, else in
        order of first appearance).
    triplets : int64 ``(n, 3)`` rows ``(anchor, positive, negative)`` (``kind="triplets"``).
    pairs : int64 ``(n, 2)`` rows of similar keys (``kind="pairs"``).
    label_indptr, label_indices : CSR of the labels of every key row (``kind="labels"``):
        row ``i`` has labels ``label_indices[label_indptr[i]:label_indptr[i + 1]]``, indices into
        ``label_names``.
    features : the ``features`` that came with the data (a ``{"features": X, ...}`` dict), or None.
    source : where the data came from, for messages.
    """

    kind: str
    keys: list
    triplets: np.ndarray | None = None
    pairs: np.ndarray | None = None
    label_indptr: np.ndarray | None = None
    label_indices: np.ndarray | None = None
    label_names: list = field(default_factory=list)
    features: Any = None
    source: str = "data"

    @property
    def num_keys(self) -> int:
        return len(self.keys)

    @property
    def single_label(self) -> bool:
        """Whether every key has exactly one label."""
        return self.label_indptr is not None and bool(np.all(np.diff(self.label_indptr) == 1))

    def __len__(self) -> int:
        """Triplets, pairs or labelled keys."""
        if self.kind == "triplets":
            return int(self.triplets.shape[0])
        if self.kind == "pairs":
            return int(self.pairs.shape[0])
        return self.num_keys

    def __repr__(self) -> str:
        what = {"triplets": "triplets", "pairs": "similar pairs", "labels": "labelled keys"}[self.kind]
        extra = f", {len(self.label_names)} labels" if self.kind == "labels" else ""
        return f"MetricData({len(self)} {what}, {self.num_keys} keys{extra})"


def read_metric_data(source: Any, kind: str = "auto", *, delimiter: str | None = None) -> MetricData:
    """Coerce ``source`` to :class:`MetricData` (formats in the module doc).

    ``source``: a path (triplets, labels or pairs file), an array or list of rows, a dict
    (``{"triplets"|"pairs"|"labels": ..., "keys": ..., "features": ...}`` or ``key -> label``),
    or a :class:`MetricData` (returned as is).

    >>> d = read_metric_data([("cat", "kitten", "car"), ("car", "truck", "cat")])
    >>> d, d.keys
    (MetricData(2 triplets, 4 keys), ['cat', 'kitten', 'car', 'truck'])
    >>> read_metric_data({"keys": ["a", "b", "c"], "labels": [0, 0, 1]})
    MetricData(3 labelled keys, 3 keys, 2 labels)
    """
    if kind not in KINDS:
        raise InvalidParameterError("triplet", "kind", "one of " + ", ".join(map(repr, KINDS)), kind)
    if isinstance(source, MetricData):
        if kind not in ("auto", source.kind):
            raise InputFormatError(f"the data holds {source.kind}, not {kind}")
        return source
    if isinstance(source, (str, os.PathLike)):
        return _read_file(Path(source), kind, delimiter)
    if isinstance(source, dict):
        if source and set(source) <= _FIELDS and set(source) & {"labels", "triplets", "pairs"}:
            return _from_fields(source, kind)
        return _labels_from_mapping(source, "dict")
    rows = _to_numpy(source) if not isinstance(source, (list, tuple)) else np.asarray(source, dtype=object)
    if rows.ndim != 2 or rows.shape[1] not in (2, 3):
        raise InputFormatError(f"expected rows of 3 keys (triplets) or 2 (labels, pairs); got an array of shape "
                               f"{rows.shape}")
    return _from_rows(rows, _kind_of(rows.shape[1], kind, "array"), "array")


def _kind_of(ncols: int, kind: str, where) -> str:
    if kind == "auto":
        return "triplets" if ncols == 3 else "labels"
    want = 3 if kind == "triplets" else 2
    if kind != "labels" and ncols != want:
        raise InputFormatError(f"{kind} need {want} columns; found {ncols}", where)
    return kind


def _from_rows(rows: np.ndarray, kind: str, source: str) -> MetricData:
    """Triplets, pairs or single labels from an ``(n, 3)`` or ``(n, 2)`` array of ids."""
    if rows.shape[0] == 0:
        raise EmptyInputError(f"{source}: no {kind}")
    if kind == "labels":
        keys, krow = _ordered_ids(_as_id_array(rows[:, 0]))
        return _labels_from_lists(keys, krow, [[lab] for lab in rows[:, 1].tolist()], source)
    keys, flat = _ordered_ids(_as_id_array(rows.reshape(-1)))
    idx = flat.reshape(rows.shape).astype(np.int64)
    _check_distinct(idx, kind, source, None)
    return MetricData(kind, keys, triplets=idx if kind == "triplets" else None,
                      pairs=idx if kind == "pairs" else None, source=source)


def _check_distinct(idx: np.ndarray, kind: str, source, lines: list | None) -> None:
    same = idx[:, 0] == idx[:, 1]
    if idx.shape[1] == 3:
        same |= (idx[:, 0] == idx[:, 2]) | (idx[:, 1] == idx[:, 2])
    if same.any():
        j = int(np.argmax(same))
        what = "anchor, positive and negative must be three different keys" if kind == "triplets" else \
            "a pair must hold two different keys"
        if lines is not None:
            line, text = lines[j]
            raise InputFormatError(what, source, line, text)
        raise InputFormatError(f"{what}; row {j} repeats a key", source)


def _from_fields(d: dict, kind: str) -> MetricData:
    given = [k for k in ("triplets", "pairs", "labels") if k in d]
    if len(given) > 1:
        raise InputFormatError(f"give one of 'triplets', 'pairs' or 'labels', not {' and '.join(given)}")
    what = given[0]
    if kind not in ("auto", what):
        raise InputFormatError(f"kind={kind!r} but the data holds {what!r}")
    keys = d.get("keys")
    if keys is not None:
        keys = _as_id_array(keys).tolist()
        if len(set(keys)) != len(keys):
            raise InputFormatError("'keys' holds a key twice")
    features = None if d.get("features") is None else feature_table(d["features"], keys)
    if what == "labels":
        labels = _as_list(d["labels"])
        if keys is None:
            keys = list(features.keys) if features is not None else list(range(len(labels)))
        if len(labels) != len(keys):
            raise InputFormatError(f"{len(labels)} labels for {len(keys)} keys")
        lists = [list(v) if isinstance(v, (list, tuple, set, frozenset)) else [v] for v in labels]
        out = _labels_from_lists(keys, np.arange(len(keys)), lists, "labels")
    else:
        if keys is not None and features is None:
            raise InputFormatError(f"'keys' names the rows of 'labels' or 'features'; '{what}' hold the keys "
                                   "themselves")
        rows = np.asarray(d[what], dtype=object) if isinstance(d[what], (list, tuple)) else _to_numpy(d[what])
        want = 3 if what == "triplets" else 2
        if rows.ndim != 2 or rows.shape[1] != want:
            raise InputFormatError(f"'{what}' must be rows of {want} keys; got shape {rows.shape}")
        out = _from_rows(rows, what, what)
    out.features = features
    return out


def _as_list(x) -> list:
    if isinstance(x, (list, tuple)):
        return list(x)
    return _to_numpy(x).ravel().tolist() if not isinstance(x, np.ndarray) or x.dtype != object else x.tolist()


def feature_table(features: Any, keys: list | None = None, name: str = "features"):
    """``features`` as :class:`~embedkit.Embeddings` (key -> feature vector).

    An Embeddings is used as it is; a path is read with :func:`embedkit.load` (``.npy`` with its
    ``.keys.json``, ``.npz``, word2vec text or binary, ``.ekv``); a bare ``.npy`` or an array
    ``(n, f)`` is keyed by its row numbers ``0..n-1``, or by ``keys`` when given.
    """
    from ..embeddings import Embeddings

    if isinstance(features, Embeddings):
        if keys is not None and list(keys) != list(features.keys):
            raise InputFormatError(f"'keys' and the keys of the {name} Embeddings differ")
        return features
    if isinstance(features, (str, os.PathLike)):
        from ..io import load

        table = load(features)
        if not isinstance(table, Embeddings):
            raise InputFormatError(f"holds a {type(table).__name__}, not {name} vectors", features)
        return table
    x = _to_numpy(features)
    if x.ndim != 2 or x.dtype.kind not in "fiub":
        raise InputFormatError(f"{name} must be a 2-D numeric array (n, f); got shape {x.shape}, dtype {x.dtype}")
    x = x.astype(np.float32)
    if not np.isfinite(x).all():
        raise InputFormatError(f"{name} hold NaN or infinite values")
    if keys is not None and len(keys) != x.shape[0]:
        raise InputFormatError(f"{len(keys)} keys for {x.shape[0]} rows of {name}")
    return Embeddings(list(range(x.shape[0])) if keys is None else list(keys), x, {"source": name})


def _labels_from_mapping(mapping: dict, source: str) -> MetricData:
    if not mapping:
        raise EmptyInputError(f"{source}: no labelled keys")
    keys = list(mapping)
    lists = [list(v) if isinstance(v, (list, tuple, set, frozenset)) else [v] for v in mapping.values()]
    return _labels_from_lists(keys, np.arange(len(keys)), lists, source)


def _labels_from_lists(keys: list, key_rows: np.ndarray, lists: list, source) -> MetricData:
    """CSR labels from the label list of each entry (entries of the same key row gather)."""
    per_key: list[dict] = [dict() for _ in keys]
    names: dict = {}
    for r, labs in zip(key_rows.tolist(), lists):
        for lab in labs:
            if isinstance(lab, float) and lab != lab:
                raise InputFormatError(f"key {keys[r]!r} has a NaN label", source)
            per_key[r].setdefault(names.setdefault(lab, len(names)), None)
    counts = np.fromiter((len(s) for s in per_key), dtype=np.int64, count=len(keys))
    if (counts == 0).any():
        j = int(np.argmax(counts == 0))
        raise InputFormatError(f"key {keys[j]!r} has no label", source)
    indptr = np.zeros(len(keys) + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.fromiter((lab for s in per_key for lab in s), dtype=np.int64, count=int(indptr[-1]))
    return MetricData("labels", list(keys), label_indptr=indptr, label_indices=indices, label_names=list(names),
                      source=str(source))


# ---- files ------------------------------------------------------------------------------
def _read_file(path: Path, kind: str, delimiter: str | None) -> MetricData:
    if not path.exists():
        raise InputFormatError("no such file", path)
    if path.is_dir():
        raise InputFormatError("is a folder; give the triplets, labels or pairs file inside it", path)
    rows, lines = _read_rows(path, delimiter)
    if not rows:
        raise EmptyInputError(f"{path}: no data lines")
    ncols = len(rows[0])
    if kind == "auto":
        if ncols not in (2, 3):
            raise InputFormatError("expected 'anchor positive negative' (triplets) or 'key label' lines; pass "
                                   "kind='labels' for several labels a key", path, lines[0][0], lines[0][1])
        kind = _kind_of(ncols, kind, path)
    elif kind != "labels":  # labels take any number of columns from 2
        _kind_of(ncols, kind, path)
    if kind == "labels":
        for (line, text), r in zip(lines, rows):
            if len(r) < 2 or not r[0] or not all(r[1:]):
                raise InputFormatError("expected 'key label [label ...]'", path, line, text)
        keys, krow = _ordered_ids(np.array([r[0] for r in rows]))
        return _labels_from_lists(keys, krow, [r[1:] for r in rows], str(path))
    want = 3 if kind == "triplets" else 2
    shape = "'anchor positive negative'" if want == 3 else "'key key'"
    for (line, text), r in zip(lines, rows):
        if len(r) != want or not all(r):
            raise InputFormatError(f"expected {shape} ({want} fields)", path, line, text)
    keys, flat = _ordered_ids(np.array(rows).reshape(-1))
    idx = flat.reshape(-1, want).astype(np.int64)
    _check_distinct(idx, kind, path, lines)
    return MetricData(kind, keys, triplets=idx if kind == "triplets" else None,
                      pairs=idx if kind == "pairs" else None, source=str(path))


def _read_rows(path: Path, delimiter: str | None) -> tuple[list[list[str]], list[tuple[int, str]]]:
    """The fields of every data line and its ``(line number, text)``; comments, blanks and a
    header line skipped."""
    rows: list[list[str]] = []
    lines: list[tuple[int, str]] = []
    split = None
    for lineno, line in text_lines(path):  # BOM dropped; bad bytes, bad .gz: InputFormatError with the line
        s = line.strip()
        if not s or s[0] == "#":
            continue
        if split is None:
            split = _split_fn(delimiter, s)
            fields = split(s)
            if all(f.strip().lower() in _HEADER_WORDS for f in fields):
                continue
        else:
            fields = split(s)
        rows.append(fields)
        lines.append((lineno, s))
    return rows, lines


__all__ = ["MetricData", "read_metric_data", "feature_table", "KINDS"]


# ------------------------------------------------------------------------------------ the input kind
def _read_triplets_arg(path):
    return path  # the triplet method reads its file itself (its kind= and features= apply)


def _triplets_sample() -> Sample:
    # 60 "closer than" triplets over 12 string keys (three different keys each)
    rows = (np.random.default_rng(1).integers(0, 4, (60, 3)) * 3 + np.array([0, 1, 2])).tolist()
    triplets = [(f"w{a}", f"w{p}", f"w{n}") for a, p, n in rows]
    keys = read_metric_data(triplets).keys

    def triplets_file(folder):
        path = folder / "triplets.tsv"
        path.write_text("".join("\t".join(t) + "\n" for t in triplets))
        return str(path)

    def empty_file(folder):
        path = folder / "empty.tsv"
        path.write_text("")
        return str(path)

    return Sample(triplets, lambda result, params: [(result, keys)], forms=(Form("a triplets file", triplets_file),),
                  bad_inputs=(BadInput("an empty triplets file", empty_file, EmptyInputError,
                                       "empty.tsv: no data lines"),))


register_kind(InputKind("triplets", "a file of 'anchor positive negative' lines (or labels, or pairs)",
                        _read_triplets_arg, sample=_triplets_sample))
