"""The canonical graph container and :func:`read_graph`, which coerces every
accepted input to it once, at the boundary."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Hashable, Sequence

import numpy as np

from .._keys import lookup
from ..exceptions import EmptyInputError, InputFormatError, KeyNotFoundError, RowOutOfRangeError
from ._csr import row_pointers, run_starts
from ._numeric_table import read_numeric_edgelist
from ._open import check_readable_file, text_lines

logger = logging.getLogger("embedkit")


@dataclass
class Graph:
    """A graph in compressed sparse row form.

    Attributes
    ----------
    indptr : int64 array, shape ``(V + 1,)``
    indices : int32 (int64 past 2**31 nodes) array, shape ``(nnz,)``; each row sorted, no duplicates.
    weights : float32 array, shape ``(nnz,)``; all ones for an unweighted graph.
    nodes : list of node ids, length ``V`` (str for edge-list files, the original objects otherwise).
    directed : bool. An undirected graph stores each edge in both rows.
    weighted : bool, whether ``weights`` carries information.
    """

    indptr: np.ndarray
    indices: np.ndarray
    weights: np.ndarray
    nodes: list
    directed: bool = False
    weighted: bool = False
    source: str | None = None
    _node_index: dict | None = field(default=None, repr=False, compare=False)

    # ---- construction ------------------------------------------------------------
    @classmethod
    def from_edges(
        cls,
        src: Any,
        dst: Any,
        weights: Any = None,
        *,
        num_nodes: int | None = None,
        nodes: Sequence[Hashable] | None = None,
        directed: bool = False,
        source: str | None = None,
    ) -> "Graph":
        """Build from integer endpoint arrays (``src[i] -> dst[i]``), shape ``(E,)`` each.

        Duplicate edges merge: weights add up on a weighted graph, and stay 1 otherwise.
        """
        src = np.asarray(src, dtype=np.int64).ravel()
        dst = np.asarray(dst, dtype=np.int64).ravel()
        if src.shape != dst.shape:
            raise InputFormatError(f"{src.shape[0]} sources but {dst.shape[0]} targets", source)
        if nodes is not None:
            n = len(nodes)
        elif num_nodes is not None:
            n = int(num_nodes)
        else:
            n = int(max(src.max(initial=-1), dst.max(initial=-1))) + 1
        if src.size == 0:
            raise EmptyInputError(f"{source or 'graph'}: the graph has no edges")
        if src.min() < 0 or dst.min() < 0 or src.max() >= n or dst.max() >= n:
            raise InputFormatError(f"edge endpoints must lie in [0, {n}); found {min(src.min(), dst.min())}.."
                                   f"{max(src.max(), dst.max())}", source)
        weighted = weights is not None
        w = None
        if weighted:
            w = np.asarray(weights, dtype=np.float64).ravel()
            if w.shape != src.shape:
                raise InputFormatError(f"{w.shape[0]} weights for {src.shape[0]} edges", source)
            if not np.all(np.isfinite(w)) or np.any(w <= 0):
                raise InputFormatError("edge weights must be positive finite numbers", source)
        # one int64 key row * n + col per stored entry, built in place: on big graphs the
        # allocations (page faults) cost more than the arithmetic
        e = src.shape[0]
        back = None if directed else np.flatnonzero(src != dst)  # the reverse of each non-loop edge
        key = np.empty(e + (0 if back is None else back.shape[0]), dtype=np.int64)
        np.multiply(src, n, out=key[:e])
        key[:e] += dst
        if back is not None:
            np.multiply(dst[back], n, out=key[e:])
            key[e:] += src[back]
            if weighted:
                w = np.concatenate([w, w[back]])
        if weighted:
            order = np.argsort(key, kind="stable")
            key, w = key[order], w[order]
        else:
            key.sort()
        first = run_starts(key)
        if not first.all():  # repeated edges: weights add up
            if weighted:
                w = np.add.reduceat(w, np.flatnonzero(first))
            key = key[first]
        if not weighted:
            w = np.ones(key.shape[0], dtype=np.float32)
        indptr = row_pointers(key, n, n)
        cols = np.remainder(key, n, out=key)
        idx_dtype = np.int32 if n < 2**31 - 1 else np.int64
        return cls(
            indptr=indptr,
            indices=cols.astype(idx_dtype),
            weights=w.astype(np.float32, copy=False),
            nodes=list(nodes) if nodes is not None else list(range(n)),
            directed=bool(directed),
            weighted=weighted,
            source=source,
        )

    # ---- queries -----------------------------------------------------------------
    @property
    def num_nodes(self) -> int:
        return int(self.indptr.shape[0] - 1)

    @property
    def num_edges(self) -> int:
        """Edges as the user counts them: each undirected edge once."""
        nnz = int(self.indices.shape[0])
        if self.directed:
            return nnz
        loops = int(np.count_nonzero(self.indices == np.repeat(np.arange(self.num_nodes), np.diff(self.indptr))))
        return (nnz - loops) // 2 + loops

    def degree(self) -> np.ndarray:
        """Out-degree of every node, shape ``(V,)``."""
        return np.diff(self.indptr)

    def neighbors(self, node: Hashable) -> list:
        """The node ids ``node`` has an edge to (out-edges when directed), in row order.

        ``node`` is a node *id*, found as :meth:`index_of` finds it (``42`` and ``"42"``
        name the same node; an int is never taken as a row). An id that is not in the
        graph raises :class:`~embedkit.exceptions.KeyNotFoundError`. For rows (CSR
        positions) use :meth:`neighbor_rows`.
        """
        rows = self.neighbor_rows(self.index_of(node))
        nodes = self.nodes
        return [nodes[j] for j in rows.tolist()]

    def neighbor_rows(self, row: int) -> np.ndarray:
        """The rows of ``row``'s neighbours: a view of ``indices``, shape ``(degree,)``, sorted.

        ``row`` is a position in ``nodes`` (``0 <= row < V``); anything else raises
        :class:`~embedkit.exceptions.RowOutOfRangeError` (no negative indexing).
        """
        if isinstance(row, bool) or not isinstance(row, (int, np.integer)):
            raise RowOutOfRangeError(f"a node row is an integer in [0, {self.num_nodes}); got {row!r} "
                                     "(for a node id use Graph.neighbors)")
        if not 0 <= row < self.num_nodes:
            raise RowOutOfRangeError(f"node row {row} is out of range: the graph has {self.num_nodes} nodes "
                                     f"(rows 0..{self.num_nodes - 1})")
        return self.indices[self.indptr[row]:self.indptr[row + 1]]

    @property
    def node_index(self) -> dict:
        """Node id -> row."""
        if self._node_index is None:
            self._node_index = {n: i for i, n in enumerate(self.nodes)}
        return self._node_index

    def index_of(self, node: Hashable) -> int:
        """The row of node id ``node`` (``42`` and ``"42"`` name the same node); an id that is
        not in the graph raises :class:`~embedkit.exceptions.KeyNotFoundError` (a ``KeyError``)."""
        i = lookup(self.node_index, node)
        if i is None:
            raise KeyNotFoundError(f"node {node!r} is not in the graph ({self.num_nodes} nodes)")
        return i

    def edge_array(self) -> np.ndarray:
        """All stored (row, col) pairs, shape ``(nnz, 2)``; both directions when undirected."""
        rows = np.repeat(np.arange(self.num_nodes, dtype=np.int64), np.diff(self.indptr))
        return np.stack([rows, self.indices.astype(np.int64)], axis=1)

    def undirected_edges(self, return_weights: bool = False):
        """Each edge once, shape ``(E, 2)``: ``u <= v`` for an undirected graph.

        With ``return_weights=True`` also the matching float32 weights, shape ``(E,)``.
        """
        e = self.edge_array()
        if self.directed:
            return (e, self.weights) if return_weights else e
        keep = e[:, 0] <= e[:, 1]
        return (e[keep], self.weights[keep]) if return_weights else e[keep]

    def to_scipy(self):
        import scipy.sparse as sp

        n = self.num_nodes
        return sp.csr_matrix((self.weights, self.indices, self.indptr), shape=(n, n))

    def to_networkx(self):
        import networkx as nx

        g = nx.DiGraph() if self.directed else nx.Graph()
        g.add_nodes_from(self.nodes)
        e, w = self.undirected_edges(return_weights=True)
        nodes = self.nodes
        if self.weighted:
            g.add_weighted_edges_from((nodes[a], nodes[b], float(x)) for (a, b), x in zip(e.tolist(), w.tolist()))
        else:
            g.add_edges_from((nodes[a], nodes[b]) for a, b in e.tolist())
        return g

    def subgraph_edges(self, keep_src: np.ndarray, keep_dst: np.ndarray, keep_w: np.ndarray | None) -> "Graph":
        """A graph on the same nodes with only the given edges (indices into ``nodes``)."""
        return Graph.from_edges(keep_src, keep_dst, keep_w if self.weighted else None,
                                nodes=self.nodes, directed=self.directed, source=self.source)

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        w = ", weighted" if self.weighted else ""
        return f"Graph({self.num_nodes} nodes, {self.num_edges} edges, {kind}{w})"


# ---- readers --------------------------------------------------------------------------
def read_graph(
    source: Any,
    directed: bool = False,
    weighted: bool | None = None,
    delimiter: str | None = None,
    *,
    comments: str = "#%",
    num_nodes: int | None = None,
) -> Graph:
    """Coerce ``source`` to a :class:`Graph`.

    ``source`` may be:

    * a path to an edge list (``u v`` or ``u v weight`` per line; space, tab or
      comma separated, or ``delimiter``; lines starting with ``#``/``%`` skipped;
      ``.gz`` read transparently; node ids are strings, ordered numerically when
      all are integers, else by first appearance);
    * a path to a MATLAB ``.mat`` file holding an adjacency matrix ``network``
      (BlogCatalog, PPI, Wikipedia-POS as published);
    * a ``Graph`` (returned as is), a networkx graph, a scipy sparse adjacency
      matrix, a PyG ``Data`` (its ``edge_index``), or a pair ``(src, dst)`` of
      integer arrays/tensors — what PyG ``edge_index`` and DGL ``g.edges()`` give —
      or a ``(2, E)`` array.

    An undirected graph from a scipy matrix takes the matrix as its adjacency:
    entry ``(u, v)`` is the weight of edge ``{u, v}`` (the larger of ``(u, v)`` and
    ``(v, u)`` when they differ), so a symmetric matrix does not count each edge twice.
    Elsewhere a repeated edge adds its weights up.

    ``weighted=None`` reads a third column as weights when every line has one.
    A malformed line raises :class:`InputFormatError` naming file, line and text.
    """
    if isinstance(source, Graph):
        return source
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        check_readable_file(path)
        if path.suffix.lower() == ".mat":
            return _read_mat(path, directed=directed, weighted=weighted)
        return _read_edgelist(path, directed, weighted, delimiter, comments)
    mod = type(source).__module__
    if mod.startswith("networkx"):
        return _from_networkx(source, weighted)
    if mod.startswith("scipy.sparse") or hasattr(source, "tocsr"):
        return _from_scipy(source, directed, weighted)
    if hasattr(source, "edge_index"):  # PyG Data
        ei = _to_numpy(source.edge_index)
        n = getattr(source, "num_nodes", None) or num_nodes
        w = getattr(source, "edge_weight", None)
        return _from_pairs(ei[0], ei[1], None if w is None else _to_numpy(w), n, directed)
    if isinstance(source, tuple) and len(source) in (2, 3):
        src, dst = _to_numpy(source[0]), _to_numpy(source[1])
        w = _to_numpy(source[2]) if len(source) == 3 else None
        return _from_pairs(src, dst, w, num_nodes, directed)
    arr = _to_numpy(source) if hasattr(source, "shape") else None
    if arr is not None and arr.ndim == 2 and 2 in arr.shape:
        arr = arr if arr.shape[0] == 2 else arr.T
        return _from_pairs(arr[0], arr[1], None, num_nodes, directed)
    raise InputFormatError(
        f"cannot read a graph from a {type(source).__name__}; give an edge-list path, a networkx graph, "
        "a scipy sparse matrix, a PyG Data, or a (src, dst) pair of index arrays"
    )


def _to_numpy(x) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _from_pairs(src, dst, w, n, directed) -> Graph:
    src = np.asarray(src)
    dst = np.asarray(dst)
    if src.size and not (np.issubdtype(src.dtype, np.integer) and np.issubdtype(dst.dtype, np.integer)):
        raise InputFormatError(f"edge index arrays must hold integers; got {src.dtype} and {dst.dtype}")
    return Graph.from_edges(src, dst, w, num_nodes=n, directed=directed)


def _from_networkx(g, weighted: bool | None) -> Graph:
    nodes = list(g.nodes)
    if not nodes:
        raise EmptyInputError("the networkx graph has no nodes")
    index = {n: i for i, n in enumerate(nodes)}
    edges = list(g.edges(data=True))
    if weighted is None:
        weighted = bool(edges) and all("weight" in d for _, _, d in edges)
    src = np.fromiter((index[u] for u, _, _ in edges), dtype=np.int64, count=len(edges))
    dst = np.fromiter((index[v] for _, v, _ in edges), dtype=np.int64, count=len(edges))
    w = np.fromiter((float(d.get("weight", 1.0)) for _, _, d in edges), dtype=np.float64,
                    count=len(edges)) if weighted else None
    return Graph.from_edges(src, dst, w, nodes=nodes, directed=g.is_directed(), source="networkx")


def _from_scipy(m, directed: bool, weighted: bool | None, source: str | None = None) -> Graph:
    import scipy.sparse as sp

    if m.shape[0] != m.shape[1]:
        raise InputFormatError(f"an adjacency matrix must be square; got shape {m.shape}", source)
    m = sp.csr_matrix(m)  # sums duplicate entries
    if not directed:
        # The matrix is the adjacency: entry (u, v) is the weight of edge {u, v}. A
        # symmetric matrix already holds each edge twice; keep each once (the larger
        # of the two entries when they differ, so a triangular matrix works as well)
        # so that from_edges does not add the two directions up into double weights.
        a = abs(m)
        m = sp.triu(a.maximum(a.T))
    m = m.tocoo()
    keep = m.data != 0
    data = m.data[keep]
    if weighted is None:
        weighted = bool(data.size) and not np.all(data == 1)
    return Graph.from_edges(m.row[keep], m.col[keep], np.abs(data) if weighted else None,
                            num_nodes=m.shape[0], directed=directed, source=source)


def _read_mat(path: Path, *, directed: bool, weighted: bool | None) -> Graph:
    from ._mat import mat_matrix

    adj = mat_matrix(path, "network", "adjacency")
    g = _from_scipy(adj, directed, weighted, source=str(path))
    g.source = str(path)
    return g


def _read_edgelist(path: Path, directed: bool, weighted: bool | None, delimiter: str | None, comments: str) -> Graph:
    fast = read_numeric_edgelist(path, weighted, comments, delimiter)  # read errors: InputFormatError
    if fast is not None:
        src, dst, w, ids = fast
        g = Graph.from_edges(src, dst, w, nodes=ids.astype(str).tolist(), directed=directed, source=str(path))
        logger.info("read %s: %s", path, g)
        return g
    return _read_edgelist_lines(path, directed, weighted, delimiter, comments)


def _read_edgelist_lines(path: Path, directed: bool, weighted: bool | None, delimiter: str | None,
                         comments: str) -> Graph:
    """The line-by-line reader: any delimiter and node ids, and errors that name the line."""
    index: dict[str, int] = {}
    src: list[int] = []
    dst: list[int] = []
    wts: list[float] = []
    ncols = None
    # the one opener for every reader: BOM dropped, decode and gzip errors name the line
    for lineno, line in text_lines(path):
        s = line.strip()
        if not s or s[0] in comments:
            continue
        if delimiter is None:
            # decided once, on the first edge: comma separated (spaces around
            # the commas allowed, as in "1, 2, 0.5") or whitespace separated
            delimiter = "," if "," in s else ""
        if delimiter:
            parts = [p.strip() for p in s.split(delimiter)]
        else:
            parts = s.split()
        if ncols is None:
            ncols = len(parts)
            if ncols < 2:
                raise InputFormatError("expected 'source target [weight]'", path, lineno, s)
            if weighted is None:
                if ncols > 3:
                    raise InputFormatError(
                        f"expected 2 or 3 columns, found {ncols}; pass weighted=False to ignore "
                        "columns after the second", path, lineno, s)
                weighted = ncols == 3
            elif weighted and ncols < 3:
                raise InputFormatError("weighted=True but the line has no weight column", path, lineno, s)
        if len(parts) != ncols:
            raise InputFormatError(f"expected {ncols} columns like the first edge, found {len(parts)}",
                                   path, lineno, s)
        u, v = parts[0], parts[1]
        if not u or not v:
            raise InputFormatError("empty node id", path, lineno, s)
        iu = index.get(u)
        if iu is None:
            iu = index[u] = len(index)
        iv = index.get(v)
        if iv is None:
            iv = index[v] = len(index)
        src.append(iu)
        dst.append(iv)
        if weighted:
            try:
                w = float(parts[2])
            except ValueError:
                raise InputFormatError("weight is not a number", path, lineno, s) from None
            if not (w > 0 and w != float("inf")):
                raise InputFormatError("edge weights must be positive finite numbers", path, lineno, s)
            wts.append(w)
    if not src:
        raise EmptyInputError(f"{path}: no edges found (the file is empty or holds only comments)")
    names = list(index)
    src_a = np.asarray(src, dtype=np.int64)
    dst_a = np.asarray(dst, dtype=np.int64)
    try:
        as_int = np.array([int(x) for x in names], dtype=np.int64)
    except (ValueError, OverflowError):  # not all integers, or past int64: by first appearance
        as_int = None
    if as_int is not None:
        order = np.argsort(as_int, kind="stable")
        remap = np.empty_like(order)
        remap[order] = np.arange(order.shape[0])
        src_a, dst_a = remap[src_a], remap[dst_a]
        names = [names[i] for i in order]
    g = Graph.from_edges(src_a, dst_a, np.asarray(wts) if weighted else None, nodes=names,
                         directed=directed, source=str(path))
    logger.info("read %s: %s", path, g)
    return g
