"""Embeddings: keys <-> rows of a float32 matrix, with queries, save/load and export.

Nothing of the trainer is kept here: an ``Embeddings`` is the artifact every
method hands back, and what is saved, exported and loaded.
"""
from __future__ import annotations

import importlib
from typing import Any, Hashable, Iterable, Sequence

import numpy as np

from ._keys import lookup
from .exceptions import DuplicateKeyError, InvalidParameterError, KeyNotFoundError, ShapeError


def check_k(query: str, k) -> None:
    """``k`` of a nearest-neighbour query must be an integer >= 1."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidParameterError(query, "k", "an integer >= 1", k)


#: what ``Embeddings`` does through higher layers (saving and loading: :mod:`embedkit.io`; search
#: indexes: :mod:`embedkit.index`; analogies: :mod:`embedkit.evaluate.analogy`; plots, the explorer,
#: PyTorch), registered by the module that defines them (:func:`register_view`), so that this module,
#: the bottom layer, imports none of them
_VIEWS: dict[str, Any] = {}

#: view -> the module that registers it, imported by name on first use
VIEW_PROVIDERS = {
    "save": "embedkit.io", "export": "embedkit.io", "load": "embedkit.io",
    "index": "embedkit.index", "analogy": "embedkit.evaluate.analogy", "plot": "embedkit.plot",
    "explore": "embedkit.explorer", "to_torch": "embedkit.pipeline",
}


def register_view(name: str, fn) -> None:
    """Make ``fn(emb, *args, **kwargs)`` available as ``emb.<name>(...)`` through :func:`view`."""
    _VIEWS[name] = fn


def view(name: str):
    """The function registered as view ``name``, its provider (:data:`VIEW_PROVIDERS`) imported if needed."""
    fn = _VIEWS.get(name)
    if fn is None and name in VIEW_PROVIDERS:
        importlib.import_module(VIEW_PROVIDERS[name])
        fn = _VIEWS.get(name)
    if fn is None:
        raise RuntimeError(f"emb.{name} is registered by 'import embedkit'; import embedkit first")
    return fn


def summary_rows(emb, extra: Iterable[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """The CLI's summary rows of trained vectors: their size, then ``extra`` (a family's rows),
    then what the metadata says about the run (vocabulary, times, speed, the last epoch)."""
    m = emb.meta
    rows = [("vectors", f"{len(emb)} x {emb.dim}"), *extra]
    if "vocab_size" in m and m.get("source") != "graph":
        rows.append(("vocabulary", f"{m['vocab_size']} words, {m['num_tokens']} tokens kept"))
    for key in ("walk_time_s", "read_time_s", "train_time_s"):
        if key in m:
            rows.append((key[:-2].replace("_", " "), f"{m[key]:.2f} s"))
    if "words_per_s" in m:
        rows.append(("speed", f"{m['words_per_s']:,} words/s"))
    if "active" in m:  # triplet: the last epoch's loss and share of triplets violating the margin
        rows.append(("last epoch", f"loss {m['loss'][-1]:.4f}, {m['active'][-1]:.1%} active"))
    return rows


def top_k(scores: np.ndarray, keys: Sequence, k: int, excluded: Iterable[int] = ()) -> list[tuple[Any, float]]:
    """The ``k`` best ``(key, score)`` of ``scores`` (one per row of ``keys``), best first (ties in row
    order); rows in ``excluded`` never answer. ``scores`` is changed in place."""
    excluded = sorted(set(excluded))
    if excluded:
        scores[excluded] = -np.inf
    k = min(int(k), scores.shape[0] - len(excluded))
    if k <= 0:
        return []
    top = np.argpartition(-scores, k - 1)[:k]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(keys[i], float(scores[i])) for i in top]


class Embeddings:
    """Vectors for a list of keys.

    Parameters
    ----------
    keys : sequence of str or int, length ``n``; unique (checked on the first lookup, which raises
        :class:`~embedkit.exceptions.DuplicateKeyError` naming both rows; every reader and
        :meth:`export` check it at once).
    vectors : array-like of shape ``(n, dim)``; stored as C-contiguous float32.
    meta : dict, optional
        JSON-able metadata: method, params, library version, seed, training time, metrics.

    Lookups accept the key or its string form, so ``emb[42]`` and ``emb["42"]``
    both work for node ids read from an edge list.
    """

    def __init__(self, keys: Sequence[Hashable], vectors: Any, meta: dict | None = None):
        try:
            vectors = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
        except (TypeError, ValueError) as exc:
            raise InvalidParameterError("Embeddings", "vectors", "a matrix of numbers", type(vectors).__name__,
                                        hint=str(exc)) from None
        if vectors.ndim != 2:
            raise InvalidParameterError("Embeddings", "vectors", "a 2-D matrix (n, dim)", f"shape {vectors.shape}")
        keys = list(keys)
        if len(keys) != vectors.shape[0]:
            raise InvalidParameterError("Embeddings", "keys", f"one key per row of vectors ({vectors.shape[0]})",
                                        f"{len(keys)} keys")
        self._keys = keys
        self._vectors = vectors
        self._index: dict | None = None
        self._unit: np.ndarray | None = None
        self._ann = None
        self.meta: dict = dict(meta or {})

    # ---- container protocol -------------------------------------------------
    @property
    def keys(self) -> list:
        """The keys, in row order."""
        return self._keys

    @property
    def vectors(self) -> np.ndarray:
        """The ``(n, dim)`` float32 matrix."""
        return self._vectors

    @property
    def dim(self) -> int:
        return int(self._vectors.shape[1])

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __repr__(self) -> str:
        method = self.meta.get("method")
        extra = f", method={method!r}" if method else ""
        return f"Embeddings(n={len(self)}, dim={self.dim}{extra})"

    @property
    def history(self) -> list[dict]:
        """The training run's history: one dict per epoch (``epoch``, ``loss``, throughput, ``seconds``,
        ``elapsed_s``, validation metrics), saved in the metadata; empty for a method without epochs."""
        return self.meta.get("history", [])

    @property
    def key_to_index(self) -> dict:
        if self._index is None:
            index = {k: i for i, k in enumerate(self._keys)}
            if len(index) != len(self._keys):
                seen: dict = {}
                for row, k in enumerate(self._keys):
                    first = seen.setdefault(k, row)
                    if first != row:
                        raise DuplicateKeyError(f"duplicate key {k!r} in embeddings, at rows {first} and {row}; "
                                                "keys must be unique")
            self._index = index
        return self._index

    def _lookup(self, key: Hashable) -> int | None:
        return lookup(self.key_to_index, key)

    def index_of(self, key: Hashable) -> int:
        """Row of ``key``; raises :class:`KeyNotFoundError` if absent."""
        i = self._lookup(key)
        if i is None:
            raise KeyNotFoundError(f"key {key!r} is not in these embeddings ({len(self)} keys)", key=key,
                                   keys=self._keys)
        return i

    def __contains__(self, key: Hashable) -> bool:
        return self._lookup(key) is not None

    def __getitem__(self, key: Hashable) -> np.ndarray:
        return self._vectors[self.index_of(key)]

    def get(self, key: Hashable, default=None):
        i = self._lookup(key)
        return default if i is None else self._vectors[i]

    def rows(self, keys: Iterable[Hashable]) -> np.ndarray:
        """Row indices of ``keys`` as an int64 array."""
        return np.fromiter((self.index_of(k) for k in keys), dtype=np.int64)

    # ---- queries --------------------------------------------------------------
    def normalized(self) -> "Embeddings":
        """A copy whose rows have unit L2 norm (zero rows stay zero)."""
        return Embeddings(self._keys, self._unit_vectors(), dict(self.meta))

    def _unit_vectors(self) -> np.ndarray:
        if self._unit is None:
            norms = np.linalg.norm(self._vectors, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            self._unit = (self._vectors / norms).astype(np.float32)
        return self._unit

    def similarity(self, a: Hashable, b: Hashable) -> float:
        """Cosine similarity of two keys."""
        u = self._unit_vectors()
        return float(u[self.index_of(a)] @ u[self.index_of(b)])

    def most_similar(self, query: Hashable | np.ndarray, k: int = 10) -> list[tuple[Hashable, float]]:
        """The ``k`` keys closest to ``query`` by cosine similarity, best first.

        ``query`` is a key (excluded from the answer) or a vector of shape ``(dim,)``.
        Exact by default; after :meth:`index` attached a cosine index (:attr:`ann`), the
        index answers (approximate for ``ivf``/``hnsw``).
        """
        check_k("most_similar", k)
        exclude = None
        if isinstance(query, np.ndarray) or (isinstance(query, (list, tuple)) and query and
                                             isinstance(query[0], (float, np.floating))):
            q = np.asarray(query, dtype=np.float32).ravel()
            if q.shape[0] != self.dim:
                raise ShapeError(f"query vector has dim {q.shape[0]}, embeddings have dim {self.dim}")
        else:
            exclude = self.index_of(query)
            q = self._vectors[exclude]
        if self._ann is not None and self._ann.metric == "cosine":
            return self._ann.nearest(q, k, exclude_row=exclude)
        unit = self._unit_vectors()
        n = np.linalg.norm(q)
        q = q / n if n > 0 else q
        return top_k(unit @ q, self._keys, k, () if exclude is None else (exclude,))

    # ---- search indexes -------------------------------------------------------------------
    def index(self, kind: str = "hnsw", metric: str = "cosine", library: str | None = None, *,
              attach: bool = True, **params):
        """Build a search index over these vectors -> :class:`embedkit.index.VectorIndex`.

        ``kind``: ``"exact"`` (numpy, always available), ``"flat"`` (faiss, exact),
        ``"ivf"`` (faiss IVF-Flat: Jégou et al. 2011; Johnson et al. 2019) or ``"hnsw"``
        (Malkov & Yashunin 2018; faiss or hnswlib, ``library=`` to choose). ``metric``:
        ``"cosine"`` (inner product on unit rows), ``"dot"`` or ``"l2"``. ``params``:
        ``nlist``/``nprobe``/``train_size``/``seed`` (ivf), ``m``/``ef_construction``/
        ``ef_search`` (hnsw). faiss and hnswlib come with ``pip install 'embedkit[index]'``.

        With ``attach=True`` (default) a cosine index answers :meth:`most_similar` from
        then on (:attr:`ann`; set it to None to go back to exact search). The index
        keeps its own copy of the rows: changing ``vectors`` later does not update it.
        """
        idx = view("index")(self, kind=kind, metric=metric, library=library, **params)
        if attach:
            self._ann = idx
        return idx

    @property
    def ann(self):
        """The attached search index (:meth:`index`), or None; ``emb.ann = None`` detaches it."""
        return self._ann

    @ann.setter
    def ann(self, value) -> None:
        if value is not None and (value.dim != self.dim or value.keys != self._keys):
            raise ShapeError(f"an index of {len(value)} x {value.dim} whose keys are not these embeddings' "
                             f"({len(self)} x {self.dim}, in row order)")
        self._ann = value

    def analogy(self, a: Hashable, b: Hashable, c: Hashable, k: int = 10, scoring: str = "3cosadd",
                restrict_vocab: int | None = None) -> list[tuple[Hashable, float]]:
        """The ``k`` best keys ``x`` for "``a`` is to ``b`` as ``c`` is to ``x``" (a:b :: c:x), best first.

        ``emb.analogy("man", "king", "woman")`` answers queen (king - man + woman);
        ``emb.analogy("france", "paris", "italy")`` answers rome. ``a``, ``b`` and ``c`` are
        never returned.

        ``scoring``: ``"3cosadd"`` scores ``cos(x, b) - cos(x, a) + cos(x, c)`` (Mikolov et al.
        2013); ``"3cosmul"`` scores ``cos'(x, b) cos'(x, c) / (cos'(x, a) + 0.001)`` with
        ``cos' = (cos + 1) / 2`` (Levy & Goldberg 2014). ``restrict_vocab``: search only the first
        that many rows (None: all). Same scoring as :func:`embedkit.evaluate.analogy`.

        >>> emb = Embeddings(["man", "woman", "king", "queen", "apple"],
        ...                  [[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, -1]])
        >>> [key for key, score in emb.analogy("man", "king", "woman", k=2)]
        ['queen', 'apple']
        """
        check_k("analogy", k)
        return view("analogy")(self, a, b, c, k=k, scoring=scoring, restrict_vocab=restrict_vocab)

    # ---- persistence ----------------------------------------------------------
    def save(self, path) -> None:
        """Save in embedkit's own format (``.ekv``: a zip of ``vectors.npy`` +
        ``keys.json`` + ``meta.json``; no pickle). Written atomically."""
        view("save")(self, path)

    def export(self, path, format: str | None = None, **kwargs) -> None:
        """Write the vectors for other tools; ``format`` defaults to the extension:
        ``.txt``/``.vec`` word2vec text, ``.bin`` word2vec binary, ``.npy``
        (matrix + ``<path>.keys.json``), ``.npz`` (keys + vectors), ``.ekv`` native,
        ``.parquet`` (key + fixed-size list column; pyarrow), ``.jsonl`` (one
        ``{"id", "vector"}`` object per line, for vector databases), ``.tsv``
        (TensorBoard projector: vectors + ``.metadata.tsv``; ``labels=`` adds a label
        column). Every format is listed in ``docs/formats.md``; all load with
        :func:`embedkit.load`."""
        view("export")(self, path, format=format, **kwargs)

    @classmethod
    def load(cls, path, **kwargs) -> "Embeddings":
        """Same as :func:`embedkit.load` (``format=``, ``limit=``, ``mmap=``)."""
        return view("load")(path, **kwargs)

    # ---- looking at the space ---------------------------------------------------
    def plot(self, path=None, **kwargs):
        """A 2-D map (PCA or t-SNE) coloured by ``labels=``, with ``highlight=`` keys annotated;
        returns the matplotlib Figure, written to ``path`` when given. See :func:`embedkit.plot.plot`."""
        return view("plot")(self, path, **kwargs)

    def explore(self, path, **kwargs):
        """Write an interactive HTML map (zoom, pan, labels, search, nearest neighbours; one file that
        works offline) to ``path`` and return the path. See :func:`embedkit.explore`."""
        return view("explore")(self, path, **kwargs)

    # ---- PyTorch ---------------------------------------------------------------
    def to_torch(self, *, freeze: bool = True, oov_row: bool = False, device=None):
        """``(torch.nn.Embedding, key_to_index)``: ``nn.Embedding.from_pretrained`` over these
        vectors and the key -> row map; see :func:`embedkit.pipeline.to_torch`."""
        return view("to_torch")(self, freeze=freeze, oov_row=oov_row, device=device)

    # ---- gensim interop -------------------------------------------------------
    @classmethod
    def from_gensim(cls, kv) -> "Embeddings":
        """From a gensim ``KeyedVectors`` (or a model with ``.wv``)."""
        kv = getattr(kv, "wv", kv)
        return cls(list(kv.index_to_key), np.asarray(kv.vectors, dtype=np.float32), {"source": "gensim"})

    def to_gensim(self):
        """A gensim ``KeyedVectors`` holding the same keys (as str) and vectors."""
        from gensim.models import KeyedVectors

        kv = KeyedVectors(self.dim, count=0, dtype=np.float32)
        kv.add_vectors([str(k) for k in self._keys], self._vectors)
        return kv
