"""The Planetoid ``ind.<name>.*`` files (Yang, Cohen & Salakhutdinov, ICML 2016):
Cora, CiteSeer and PubMed with the public split used by GCN and GAT.

The files are Python 2 pickles. They are read with an unpickler that only builds
numpy arrays, scipy sparse matrices, lists and dicts, so a tampered file cannot run
code; anything else is refused with an error naming the file.
"""
from __future__ import annotations

import logging
import pickle
from pathlib import Path

import numpy as np

from ..exceptions import InputFormatError
from .graph import Graph
from ._open import check_readable_file, open_binary, text_lines
from .nodes import NodeData, _dense, check_dense_size

logger = logging.getLogger("embedkit")

_PARTS = ("x", "tx", "allx", "y", "ty", "ally", "graph")

#: (module, name) the unpickler may build
_ALLOWED = {
    ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "scalar"),
    ("collections", "defaultdict"), ("builtins", "list"), ("builtins", "dict"), ("__builtin__", "list"),
    ("copy_reg", "_reconstructor"), ("copyreg", "_reconstructor"), ("__builtin__", "object"),
    ("builtins", "object"), ("_codecs", "encode"),  # bytes in protocol-2 pickles written by Python 3
}
_SPARSE = {"csr_matrix", "csc_matrix", "coo_matrix", "lil_matrix"}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str):
        if (module, name) in _ALLOWED:
            if module == "copy_reg":
                module = "copyreg"
            if module == "__builtin__":
                module = "builtins"
            if module.startswith("numpy.core") and not hasattr(np, "core"):
                module = module.replace("numpy.core", "numpy._core")
            return super().find_class(module, name)
        if module.startswith("scipy.sparse") and name in _SPARSE:
            import scipy.sparse as sp

            return getattr(sp, name)
        raise pickle.UnpicklingError(f"refusing to build {module}.{name}")


def _load(path: Path):
    if not path.exists():
        raise InputFormatError("no such file (a Planetoid dataset needs ind.<name>.{x,tx,allx,y,ty,ally,graph,"
                               "test.index})", path)
    check_readable_file(path)
    try:
        with open_binary(path) as fh:
            obj = _SafeUnpickler(fh, encoding="latin1").load()
    except Exception as e:  # noqa: BLE001 - any unpickling failure is a bad file
        raise InputFormatError(f"not a Planetoid pickle ({type(e).__name__}: {e})", path) from None
    if hasattr(obj, "toarray"):  # a sparse matrix: its shape is declared, not held; it is made dense later
        if len(obj.shape) != 2:
            raise InputFormatError(f"expected a 2-D matrix; got shape {obj.shape}", path)
        check_dense_size(obj.shape, path, what="the features")
    return obj


def _rows(a, name: str, path) -> int:
    shape = getattr(a, "shape", None)
    if shape is None or len(shape) != 2:
        raise InputFormatError(f"ind.*.{name} must be a 2-D matrix; got {type(a).__name__} of shape {shape}", path)
    return int(shape[0])


def planetoid_name(folder) -> str:
    """The data set name of a Planetoid folder, from its one ``ind.<name>.graph`` file
    (``cora``, ``citeseer``, ``pubmed``); a folder with none or several is refused."""
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFormatError("not a folder (a Planetoid data set is a folder of ind.<name>.* files)", folder)
    names = sorted(f.name[4:-6] for f in folder.glob("ind.*.graph"))
    if len(names) != 1:
        found = f"found {', '.join(names)}: pass name=" if names else "found none"
        raise InputFormatError("a folder must hold one Planetoid dataset (ind.<name>.graph and the rest); " + found,
                               folder)
    return names[0]


def read_planetoid(folder, name: str | None = None) -> NodeData:
    """Read ``folder/ind.<name>.*`` into :class:`NodeData` with the public split; ``name=None``
    (the default) takes it from the folder's one ``ind.<name>.graph`` (:func:`planetoid_name`).

    As in Kipf & Welling's loader (and PyG's ``Planetoid``): features are the
    ``allx`` rows followed by the test rows, reordered by ``test.index``; the train
    mask is the ``len(y)`` first nodes (20 per class), validation the next 500 nodes,
    test the 1000 ``test.index`` nodes. CiteSeer's test ids have gaps (isolated nodes
    without features or label in the files): they become nodes with zero features,
    no label and no mask. Self-loops and duplicate edges are dropped; the graph is
    undirected. Without ``ind.<name>.allx`` (the copy of PubMed in shared/data lacks
    it) the features of the nodes that only ``allx`` covers are zeros and
    ``has_features`` marks them; a warning says how many.

    Returns features ``(V, F)`` float32 (raw, not normalised), labels ``(V,)`` int64
    (-1 where unknown), class names ``"0".."C-1"``, and the three masks.
    """
    folder = Path(folder)
    if name is None:
        name = planetoid_name(folder)
    base = folder / f"ind.{name}"
    parts = {}
    for part in _PARTS:
        p = Path(f"{base}.{part}")
        if part == "allx" and not p.exists():
            parts[part] = None
            continue
        parts[part] = _load(p)
    idx_path = Path(f"{base}.test.index")
    if not idx_path.exists():
        raise InputFormatError("no such file", idx_path)
    test_index = _read_test_index(idx_path)
    # declared sizes must agree before anything of their size is allocated: feature rows
    # with label rows (labels are dense, so the files hold their rows), the same number of
    # feature columns everywhere, and test ids with the test rows
    for feats, labs in (("x", "y"), ("tx", "ty"), ("allx", "ally")):
        if parts[feats] is None:
            continue
        a, b = _rows(parts[feats], feats, f"{base}.{feats}"), _rows(np.asarray(parts[labs]), labs, f"{base}.{labs}")
        if a != b:
            raise InputFormatError(f"{a} feature rows in ind.{name}.{feats} but {b} label rows in ind.{name}.{labs}",
                                   f"{base}.{feats}")
    widths = {k: parts[k].shape[1] for k in ("x", "tx", "allx") if parts[k] is not None}
    if len(set(widths.values())) > 1:
        raise InputFormatError(f"the feature files disagree on the number of features: {widths}", f"{base}.tx")
    if len(test_index) != _rows(parts["tx"], "tx", f"{base}.tx"):
        raise InputFormatError(f"{len(test_index)} test ids for {parts['tx'].shape[0]} rows in ind.{name}.tx",
                               idx_path)
    n_all = np.asarray(parts["ally"]).shape[0]
    span = int(test_index.max()) - int(test_index.min()) + 1 if len(test_index) else 0
    if int(test_index.min(initial=n_all)) < n_all or span > 2 * len(test_index) + 1000:
        raise InputFormatError(f"test ids {int(test_index.min())}..{int(test_index.max())} for "
                               f"{len(test_index)} test rows: expected ids from {n_all} with few gaps", idx_path)
    check_dense_size((n_all + max(span, len(test_index)), next(iter(widths.values()))), f"{base}.tx",
                     file_bytes=sum(Path(f"{base}.{k}").stat().st_size for k in widths), what="the features")
    x, tx, allx = (None if parts[k] is None else _dense(parts[k]) for k in ("x", "tx", "allx"))
    y, ty, ally = (np.asarray(parts[k]) for k in ("y", "ty", "ally"))
    n_all = ally.shape[0]
    lo, hi = int(test_index.min()), int(test_index.max())
    span = hi - lo + 1
    if span > len(test_index):  # CiteSeer: ids in the test range without a row
        logger.info("%s: %d test-range ids have no row (isolated nodes)", name, span - len(test_index))
    if len(tx) != len(test_index) or lo < n_all:
        raise InputFormatError(f"{len(tx)} test rows for {len(test_index)} test ids starting at {lo}; "
                               f"expected ids from {n_all}", idx_path)
    n = max(n_all + span, n_all + len(tx))
    F = tx.shape[1]
    X = np.zeros((n, F), dtype=np.float32)
    has = np.zeros(n, dtype=bool)
    if allx is not None:
        X[:n_all] = allx
        has[:n_all] = True
    else:
        logger.warning("%s: no ind.%s.allx; only the %d train and %d test nodes have features", name, name,
                       len(x), len(tx))
        X[:len(x)] = x
        has[:len(x)] = True
    X[test_index] = tx
    has[test_index] = True
    labels = np.full(n, -1, dtype=np.int64)
    labels[:n_all] = _argmax_or_none(ally)
    labels[test_index] = _argmax_or_none(ty)
    g = _graph(parts["graph"], n, base)
    train = np.zeros(n, dtype=bool)
    train[:len(y)] = True
    val = np.zeros(n, dtype=bool)
    val[len(y):len(y) + 500] = True
    test = np.zeros(n, dtype=bool)
    test[test_index] = True
    classes = [str(c) for c in range(ally.shape[1])]
    return NodeData(g, X, labels, classes, train, val, test, has_features=None if has.all() else has, name=name)


def _read_test_index(path: Path) -> np.ndarray:
    """One non-negative integer a line (the test node ids)."""
    out = []
    for lineno, line in text_lines(path):
        s = line.strip()
        if not s:
            continue
        if not s.isdigit() or len(s) > 12:
            raise InputFormatError("expected one node id (a non-negative integer) a line", path, lineno, s)
        out.append(int(s))
    if not out:
        raise InputFormatError("no test ids", path)
    return np.asarray(out, dtype=np.int64)


def _argmax_or_none(onehot: np.ndarray) -> np.ndarray:
    out = onehot.argmax(1).astype(np.int64)
    out[onehot.sum(1) == 0] = -1
    return out


def _graph(adj: dict, n: int, base: Path) -> Graph:
    if not isinstance(adj, dict):
        raise InputFormatError("expected a dict adjacency list", f"{base}.graph")
    src = np.fromiter((u for u, vs in adj.items() for _ in vs), dtype=np.int64)
    dst = np.fromiter((v for vs in adj.values() for v in vs), dtype=np.int64)
    keep = src != dst
    if src.size and (max(src.max(), dst.max()) >= n or min(src.min(), dst.min()) < 0):
        raise InputFormatError(f"node ids outside 0..{n - 1}", f"{base}.graph")
    return Graph.from_edges(src[keep], dst[keep], num_nodes=n, nodes=list(range(n)), source=f"{base}.graph")
