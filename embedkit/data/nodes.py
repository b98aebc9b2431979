"""Attributed graphs: a :class:`Graph` with node features, labels and split masks.

What GCN/GAT train on. Features and labels are aligned with ``graph.nodes`` (row
``i`` belongs to node ``graph.nodes[i]``); a node that has features or a label but no
edge is added to the graph as an isolated node (CiteSeer has such nodes).
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .._keys import lookup, rows_of
from .._overlap import check_overlap, describe
from ..exceptions import EmptyInputError, InputFormatError, InvalidParameterError
from .graph import Graph, _to_numpy, read_graph
from ._open import check_readable_file, text_lines
from .interactions_read import _split_fn
from .labels import read_labels

logger = logging.getLogger("embedkit")


@dataclass
class NodeData:
    """A graph with optional node features, labels and train/validation/test masks.

    Attributes
    ----------
    graph : Graph with ``V`` nodes.
    features : float32 ``(V, F)`` or None. Rows of nodes without known features are 0
        and ``False`` in ``has_features``.
    labels : int64 ``(V,)`` class indices (-1: unlabelled), or bool ``(V, C)`` multi-hot
        (multi-label; a row of zeros is unlabelled); None without labels.
    classes : the label names, ``classes[c]`` for class index ``c``.
    train_mask, val_mask, test_mask : bool ``(V,)`` or None.
    has_features : bool ``(V,)`` or None (None: every row is known).
    name : a short name for reports (``"cora"``).
    """

    graph: Graph
    features: np.ndarray | None = None
    labels: np.ndarray | None = None
    classes: list = field(default_factory=list)
    train_mask: np.ndarray | None = None
    val_mask: np.ndarray | None = None
    test_mask: np.ndarray | None = None
    has_features: np.ndarray | None = None
    name: str | None = None

    def __post_init__(self):
        n = self.graph.num_nodes
        if self.features is not None:
            self.features = np.ascontiguousarray(self.features, dtype=np.float32)
            if self.features.ndim != 2 or self.features.shape[0] != n:
                raise InputFormatError(f"features must have shape ({n}, F), one row per node; "
                                       f"got {self.features.shape}")
            bad = np.argwhere(~np.isfinite(self.features))
            if bad.size:
                r, c = (int(v) for v in bad[0])
                raise InputFormatError(f"features of node {self.graph.nodes[r]!r} (row {r}, column {c}) hold "
                                       f"{self.features[r, c]!r}; features must be finite numbers")
        if self.labels is not None:
            lab = np.asarray(self.labels)
            if lab.shape[0] != n or lab.ndim not in (1, 2):
                raise InputFormatError(f"labels must have shape ({n},) or ({n}, C); got {lab.shape}")
            self.labels = lab.astype(bool) if lab.ndim == 2 else lab.astype(np.int64)
        for name in ("train_mask", "val_mask", "test_mask", "has_features"):
            m = getattr(self, name)
            if m is not None:
                m = np.asarray(m)
                if m.dtype != bool:
                    m = _indices_to_mask(m, n, name)
                if m.shape != (n,):
                    raise InputFormatError(f"{name} must be a bool array of shape ({n},); got {m.shape}")
                setattr(self, name, m)

    @property
    def num_nodes(self) -> int:
        return self.graph.num_nodes

    @property
    def multi_label(self) -> bool:
        return self.labels is not None and self.labels.ndim == 2

    @property
    def labelled(self) -> np.ndarray:
        """Bool ``(V,)``: nodes with a label."""
        if self.labels is None:
            return np.zeros(self.num_nodes, dtype=bool)
        return self.labels.any(1) if self.multi_label else self.labels >= 0

    def __repr__(self) -> str:
        parts = [repr(self.graph)]
        if self.features is not None:
            parts.append(f"features {self.features.shape[1]}")
        if self.labels is not None:
            parts.append(f"{len(self.classes)} classes, {int(self.labelled.sum())} labelled"
                         + (" (multi-label)" if self.multi_label else ""))
        for name in ("train", "val", "test"):
            m = getattr(self, f"{name}_mask")
            if m is not None:
                parts.append(f"{name} {int(m.sum())}")
        return f"NodeData({self.name + ': ' if self.name else ''}{', '.join(parts)})"

    def random_split(self, train_fraction: float = 0.6, val_fraction: float = 0.2, seed: int = 0) -> "NodeData":
        """A copy whose masks split the labelled nodes at random (stratified for single-label).

        The rest of the labelled nodes after train and validation form the test set.
        """
        if not (0 < train_fraction < 1 and 0 <= val_fraction < 1 and train_fraction + val_fraction < 1):
            raise InvalidParameterError("random_split", "train_fraction + val_fraction",
                                        "fractions > 0 with a sum < 1", (train_fraction, val_fraction))
        idx = np.flatnonzero(self.labelled)
        if idx.size < 3:
            raise EmptyInputError(f"only {idx.size} labelled nodes: too few to split")
        rng = np.random.default_rng(seed)
        groups = [idx] if self.multi_label else [idx[self.labels[idx] == c] for c in np.unique(self.labels[idx])]
        masks = [np.zeros(self.num_nodes, dtype=bool) for _ in range(3)]
        for g in groups:
            g = rng.permutation(g)
            n_tr = max(1, int(round(train_fraction * g.size)))
            n_va = int(round(val_fraction * g.size))
            masks[0][g[:n_tr]] = True
            masks[1][g[n_tr:n_tr + n_va]] = True
            masks[2][g[n_tr + n_va:]] = True
        return NodeData(self.graph, self.features, self.labels, list(self.classes), *masks,
                        has_features=self.has_features, name=self.name)


def _indices_to_mask(idx: np.ndarray, n: int, name: str) -> np.ndarray:
    idx = np.asarray(idx).ravel()
    if idx.size and (not np.issubdtype(idx.dtype, np.integer) or idx.min() < 0 or idx.max() >= n):
        raise InputFormatError(f"{name} must be a bool mask or node rows in [0, {n})")
    m = np.zeros(n, dtype=bool)
    m[idx.astype(np.int64)] = True
    return m


# ---- coercion and readers ---------------------------------------------------------------
def as_node_data(data: Any) -> NodeData:
    """Coerce ``data`` to :class:`NodeData`.

    Accepts a ``NodeData``; a dict with ``graph`` and any of ``features``, ``labels``,
    ``train_mask``, ``val_mask``, ``test_mask`` (given as :func:`read_node_data` takes
    them); a PyG ``Data`` (``edge_index``, ``x``, ``y``, masks); or anything
    :func:`~embedkit.read_graph` reads (a graph without features or labels).
    """
    if isinstance(data, NodeData):
        return data
    if isinstance(data, dict):
        if "graph" not in data:
            raise InputFormatError("a dict of node data needs a 'graph' entry (and optionally 'features', "
                                   f"'labels', masks); got keys {sorted(data)}")
        extra = sorted(set(data) - {"graph", "features", "labels", "train_mask", "val_mask", "test_mask"})
        if extra:
            raise InputFormatError(f"unknown node-data entries {extra}; known: graph, features, labels, "
                                   "train_mask, val_mask, test_mask")
        return read_node_data(**data)
    if hasattr(data, "edge_index"):  # PyG Data
        g = read_graph(data)

        def get(name):
            value = getattr(data, name, None)
            return None if value is None else _to_numpy(value)

        y = get("y")
        classes: list = []
        if y is not None:
            if y.ndim == 1:
                classes = list(range(int(y.max()) + 1))
            else:
                classes = list(range(y.shape[1]))
        return NodeData(g, get("x"), y, classes, get("train_mask"), get("val_mask"), get("test_mask"))
    return NodeData(read_graph(data))


def read_node_data(graph: Any, features: Any = None, labels: Any = None, *, train_mask=None, val_mask=None,
                   test_mask=None, directed: bool = False, delimiter: str | None = None) -> NodeData:
    """A graph plus node features and labels from files or arrays.

    ``graph``: anything :func:`~embedkit.read_graph` reads.

    ``features``:

    * an array ``(V, F)`` or a ``.npy`` file: row ``i`` belongs to ``graph.nodes[i]``
      (for an edge list of integer ids: the ids in numeric order); an array with more
      rows than the graph has nodes is indexed by integer node id (row ``i`` = node
      ``i``), and the ids without edges become isolated nodes;
    * a ``.npz`` file: a scipy sparse matrix (``scipy.sparse.save_npz``) or a dense
      array under ``features``, ``x`` or its only key; rows as for ``.npy``;
    * a CSV/TSV file keyed by node id: ``node,f1,f2,...`` per line (a first line whose
      values are not numbers is a header; ``#`` comments).

    ``labels``: a dict ``node -> label`` / ``node -> [labels]``, or a file
    :func:`~embedkit.read_labels` reads (``node label`` lines, or a ``.mat`` ``group``
    matrix with a row per node in graph order).

    Nodes with features or a label but no edge are added as isolated nodes; nodes
    without a feature row get zeros and ``has_features`` False. Masks: bool arrays
    ``(V,)`` or arrays of node rows, of the final graph.
    """
    g = read_graph(graph, directed=directed, delimiter=delimiter)
    feat = _read_features(g, features, delimiter) if features is not None else None
    lab = None
    if labels is not None:
        lab = labels if isinstance(labels, dict) else read_labels(labels, nodes=g.nodes, delimiter=delimiter)
        if not lab:
            raise EmptyInputError("no labels given")
    graph_name = describe(graph, "the graph")
    if feat is not None and isinstance(features, (str, os.PathLike)) and \
            Path(features).suffix.lower() not in (".npy", ".npz"):  # rows keyed by node id
        _check_against_graph(g, feat[0], "feature rows", str(features), graph_name)
    if lab is not None:
        _check_against_graph(g, lab, "labelled nodes", describe(labels, "the labels"), graph_name)
    g = _with_nodes(g, [*(feat[0] if feat else ()), *(lab or ())])
    X = has = None
    if feat is not None:
        keys, rows = feat
        at = rows_of(g.node_index, keys)
        X = np.zeros((g.num_nodes, rows.shape[1]), dtype=np.float32)
        X[at] = rows
        has = np.zeros(g.num_nodes, dtype=bool)
        has[at] = True
        if has.all():
            has = None
        else:
            logger.info("%d of %d nodes have no feature row: zeros", int((~has).sum()), g.num_nodes)
    y, classes = _label_array(g, lab) if lab is not None else (None, [])
    return NodeData(g, X, y, classes, train_mask, val_mask, test_mask, has_features=has,
                    name=Path(str(graph)).name.split(".")[0] if isinstance(graph, (str, os.PathLike)) else None)


def _read_features(g: Graph, features: Any, delimiter: str | None) -> tuple[list, np.ndarray]:
    """(node keys, ``(len(keys), F)`` float32 rows) from an array or file."""
    src = str(features) if isinstance(features, (str, os.PathLike)) else "features"
    if isinstance(features, (str, os.PathLike)):
        path = Path(features)
        check_readable_file(path)
        if path.suffix.lower() not in (".npy", ".npz"):
            return _read_keyed_features(path, delimiter)
        X = _read_array(path)
    else:
        X = _dense(features)
    if X.shape[0] == g.num_nodes:
        return list(g.nodes), X
    ids = _int_ids(g)
    if X.shape[0] > g.num_nodes and ids is not None and ids.min() >= 0 and ids.max() < X.shape[0]:
        as_str = isinstance(g.nodes[0], str)
        return [str(i) if as_str else i for i in range(X.shape[0])], X
    raise InputFormatError(f"{X.shape[0]} feature rows for a graph of {g.num_nodes} nodes; give one row per "
                           "node (in the graph's node order, or indexed by integer node id)", src)


def _dense(a) -> np.ndarray:
    if hasattr(a, "toarray"):
        a = a.toarray()
    a = _to_numpy(a)
    if a.ndim != 2:
        raise InputFormatError(f"features must be a 2-D array (nodes, features); got shape {a.shape}")
    return a.astype(np.float32)


#: a sparse feature matrix in a file may declare a dense size up to this many times the file's
#: bytes (bag-of-words features are ~1% dense: ~30x) before it is refused as corrupt
MAX_DENSE_PER_FILE_BYTE = 1000
#: ... or this many bytes, whatever the file's size
MIN_DENSE_CAP = 256 << 20


def check_dense_size(shape, path, *, file_bytes: int | None = None, what: str = "features") -> None:
    """Refuse a matrix of ``shape`` whose dense float32 copy would be out of proportion to the
    file that declares it (``file_bytes``, default the size of ``path``): a corrupt or hostile
    header must fail with a clear error, not allocate terabytes."""
    rows, cols = (int(x) for x in shape)
    if rows < 0 or cols < 0:
        raise InputFormatError(f"{what}: negative shape {tuple(shape)}", path)
    if file_bytes is None:
        file_bytes = Path(path).stat().st_size
    need = rows * cols * 4
    cap = max(MAX_DENSE_PER_FILE_BYTE * file_bytes, MIN_DENSE_CAP)
    if need > cap:
        raise InputFormatError(
            f"{what} declare a {rows} x {cols} matrix ({need / 2**30:.1f} GiB dense) in a file of "
            f"{file_bytes} bytes; refusing it as corrupt (at most {MAX_DENSE_PER_FILE_BYTE} dense bytes per "
            "file byte)", path)


def _npy_payload_fits(fh, path: Path, size: int) -> None:
    """The .npy header at ``fh``'s position must declare no more data than ``size`` bytes hold."""
    fmt = np.lib.format
    version = fmt.read_magic(fh)
    header = {(1, 0): fmt.read_array_header_1_0, (2, 0): fmt.read_array_header_2_0,
              (3, 0): fmt.read_array_header_2_0}.get(version)  # 3.0: 2.0's layout, UTF-8 text
    if header is None:
        raise InputFormatError(f"not a .npy file numpy can read (format version {version})", path)
    shape, _, dtype = header(fh)
    if dtype.hasobject:
        raise InputFormatError("an object array (a pickle) is not a feature matrix", path)
    need = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if need > size:
        raise InputFormatError(f"the header declares shape {shape} ({need} bytes of {dtype}) but the file "
                               f"holds {size} bytes: truncated or corrupt", path)


def _read_array(path: Path) -> np.ndarray:
    """The feature matrix of a ``.npy``/``.npz`` file; NaN or infinity refused naming the row."""
    X = _read_array_unchecked(path)
    if np.issubdtype(X.dtype, np.floating):
        bad = np.argwhere(~np.isfinite(X))
        if bad.size:
            r, c = (int(v) for v in bad[0])
            raise InputFormatError(f"row {r}, column {c} holds {X[r, c]!r}: features must be finite numbers "
                                   f"({len(np.unique(bad[:, 0]))} rows hold NaN or infinity)", path)
    return X


def _read_array_unchecked(path: Path) -> np.ndarray:
    import zipfile

    try:
        if path.suffix.lower() == ".npy":
            with open(path, "rb") as fh:
                _npy_payload_fits(fh, path, path.stat().st_size)
            return _dense(np.load(path, allow_pickle=False))
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.filename.endswith(".npy"):
                    with zf.open(info) as fh:
                        _npy_payload_fits(fh, path, info.file_size)
        with np.load(path, allow_pickle=False) as z:
            keys = list(z.keys())
            if {"indptr", "indices", "data", "shape"} <= set(keys):
                import scipy.sparse as sp

                check_dense_size(z["shape"], path)
                return _dense(sp.load_npz(path))
            for k in ("features", "x", "X"):
                if k in keys:
                    return _dense(z[k])
            if len(keys) == 1:
                return _dense(z[keys[0]])
            raise InputFormatError(f"which array holds the features? keys {keys}; name it 'features'", path)
    except InputFormatError:
        raise
    except (ValueError, OSError, EOFError, TypeError, KeyError, zipfile.BadZipFile) as e:
        raise InputFormatError(f"not a readable numpy file ({type(e).__name__}: {e})", path) from None


def _read_keyed_features(path: Path, delimiter: str | None) -> tuple[list[str], np.ndarray]:
    """``node,value,value,...`` lines (``.gz`` too; the delimiter sniffed as for interaction files)."""
    keys: list[str] = []
    rows: list[list[float]] = []
    seen: dict[str, int] = {}
    split = None
    for lineno, line in text_lines(path):  # BOM dropped; bad bytes, bad .gz: InputFormatError
        s = line.strip()
        if not s or s[0] == "#":
            continue
        first = split is None
        if first:
            split = _split_fn(delimiter, s)
        parts = split(s)
        try:
            vals = [float(v) for v in parts[1:]]
        except ValueError:
            if first:
                continue  # a header
            raise InputFormatError("expected 'node,value,value,...' with numbers", path, lineno, s) from None
        if not vals:
            raise InputFormatError("expected 'node,value,value,...' with at least one value", path, lineno, s)
        if rows and len(vals) != len(rows[0]):
            raise InputFormatError(f"{len(vals)} values where earlier rows have {len(rows[0])}", path, lineno, s)
        if parts[0] in seen:
            raise InputFormatError(f"node {parts[0]!r} already has a feature row (line {seen[parts[0]]})",
                                   path, lineno, s)
        seen[parts[0]] = lineno
        keys.append(parts[0])
        rows.append(vals)
    if not rows:
        raise EmptyInputError(f"{path}: no feature rows found")
    with np.errstate(over="ignore"):  # a value past float32 becomes inf: refused below with its line
        X = np.asarray(rows, dtype=np.float32)
    bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
    if bad.size:
        key = keys[int(bad[0])]
        raise InputFormatError(f"node {key!r}: features hold NaN or infinite values (or numbers past float32)",
                               path, seen[key])
    return keys, X


def _int_ids(g: Graph) -> np.ndarray | None:
    try:
        return np.asarray([int(k) for k in g.nodes], dtype=np.int64)
    except (TypeError, ValueError):
        return None


def _check_against_graph(g: Graph, keys, items: str, of: str, graph_name: str) -> None:
    """Refuse feature rows or labels of another graph: fewer than half of their node ids
    (:data:`embedkit._overlap.MIN_OVERLAP`) among the graph's nodes; warn when some are not."""
    index = g.node_index
    keys = list(dict.fromkeys(keys))
    matched = sum(lookup(index, k) is not None for k in keys)
    check_overlap("read_node_data", matched, len(keys), items=items, of=of, found_in=graph_name,
                  rest="are added as isolated nodes",
                  hint="Check that they use the graph's node ids (compared as given and as str/int)")


def _with_nodes(g: Graph, keys) -> Graph:
    """``g`` with the nodes of ``keys`` it lacks appended as isolated nodes."""
    index = g.node_index
    new = [k for k in dict.fromkeys(keys) if lookup(index, k) is None]
    if not new:
        return g
    if g.nodes and isinstance(g.nodes[0], str):
        new = [str(k) for k in new]
    logger.info("%d nodes with features or labels but no edge added as isolated nodes", len(new))
    indptr = np.concatenate([g.indptr, np.full(len(new), g.indptr[-1], dtype=g.indptr.dtype)])
    return Graph(indptr, g.indices, g.weights, list(g.nodes) + new, g.directed, g.weighted, g.source)


def _label_array(g: Graph, lab: dict) -> tuple[np.ndarray, list]:
    multi = any(isinstance(v, (list, tuple, set)) for v in lab.values())
    as_list = {k: (list(v) if isinstance(v, (list, tuple, set)) else [v]) for k, v in lab.items()}
    names = sorted({str(x) for v in as_list.values() for x in v}, key=_natural)
    cls = {c: i for i, c in enumerate(names)}
    if multi:
        Y = np.zeros((g.num_nodes, len(names)), dtype=bool)
        for k, v in as_list.items():
            Y[g.index_of(k), [cls[str(x)] for x in v]] = True
        return Y, names
    y = np.full(g.num_nodes, -1, dtype=np.int64)
    for k, v in as_list.items():
        y[g.index_of(k)] = cls[str(v[0])]
    return y, names


def _natural(s: str):
    return (0, int(s), "") if s.lstrip("-").isdigit() else (1, 0, s)
