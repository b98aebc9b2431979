"""Subword embeddings with word meaning: fastText's model over BPE pieces or character n-grams.

Bojanowski, Grave, Joulin & Mikolov, "Enriching Word Vectors with Subword Information", TACL
2017. Skip-gram (Mikolov et al. 2013) keeps predicting context *words*, but a center word's
input vector is the mean of its own vector and the vectors of its subword units, and the
gradient goes to all of them. The shared skip-gram engine (:mod:`embedkit.engines.skipgram`,
``units=``) does the training. After training:

* a listed word's vector (``min_count`` or more occurrences) is the mean of its own row and its
  units' rows, as fastText's;
* any other string (an unknown word, a misspelling) gets the mean of its units' rows (units
  never seen in training are left out).

Units (``units=``):

* ``"char"`` (the default without a tokenizer): fastText's hashed character n-grams of
  ``<word>``, ``min_n``..``max_n`` characters, FNV-1a hashed into ``buckets`` rows (gensim's and
  fastText's hash);
* ``"bpe"`` (the default when a ``tokenizer`` is given): the pieces of the user's BPE tokenizer
  (Sennrich et al. 2016, sentencepiece) and every symbol BPE merges on the way to them (the
  pieces' merge trees, single characters left out): a misspelling changes only the merges
  above the edited letter, so it keeps most of its word's units;
* ``"bpe-pieces"``: the final pieces only.

Measured on 30 MB of Gutenberg text (docs/subwords.md), character n-grams scored better than
BPE units on the validation word-similarity sets and on misspellings, at about twice the
training time.

Only the units that words of the vocabulary use get a row (a compact table: fastText's 2M
buckets are not allocated).

Training runs on the shared loop (:mod:`embedkit.training`) as skipgram's does: ``history`` (the
loss is the negative-sampling objective of a (context, center) pair with the composed center
vector as input, averaged over the pairs of every 64th center word), ``callbacks``,
``validation``/``patience`` (a similarity or analogy set, scored on the composed word vectors)
and ``checkpoint`` (the unit rows are part of the checkpointed input table).
"""
from __future__ import annotations

import io
import json
import logging
import os
import time
import zipfile
from pathlib import Path
from typing import Hashable, Sequence

import numpy as np

from .._atomic import atomic_path
from ..artifacts import register_artifact
from .._device import resolve_device
from .._validation import VERBOSE, Param, validate
from .._version import __version__
from ..api import Method, register
from ..embeddings import Embeddings, check_k, summary_rows, top_k
from ..engines.skipgram import SGNSConfig, run_sgns, sgns_training
from ..exceptions import EmptyInputError, InputFormatError, InvalidParameterError, KeyNotFoundError, ShapeError
from ..io._limits import LimitedZip
from ..io.native import FORMAT_NAME, FORMAT_VERSION, load_embeddings, save_embeddings
from ._loop import LOOP_ROWS, corpus_digest, text_validation
from ._reading import READ_PARAMS, corpus_from
from ._units import UNIT_KINDS, piece_trees, units_of
from .bpe import BPE, Tokenizer
from ..engines.skipgram._common import keep_probabilities
from ..engines.skipgram._continue import check_init, continue_from, keep_output
from .word2vec import WORD2VEC_PARAMS

logger = logging.getLogger("embedkit")

#: the members of an .ekv zip that hold the sentencepiece model and the unit table
TOKENIZER_FILE = "tokenizer.model"
UNIT_KEYS_FILE = "unit_keys.npy"
UNIT_VECTORS_FILE = "unit_vectors.npy"
SUBWORD_FORMAT_VERSION = 2

_LOOP = {p.name for p in LOOP_ROWS}
_ENGINE = tuple(p for p in WORD2VEC_PARAMS if p.name not in ("min_count", "max_vocab", "unit", "lowercase",
                                                                 "verbose", "backend", "learning_rate",
                                                                 "shared_negatives", *_LOOP))
SUBWORD_PARAMS: tuple[Param, ...] = (
    # fastText's learning rate for skip-gram (0.05), not word2vec's 0.025: chosen on the validation
    # similarity sets (Gutenberg 30 MB, 1 epoch: MTurk-771 0.229 against 0.144; docs/benchmarks.md)
    Param("learning_rate", float, 0.05, "initial learning rate (decays linearly to min_learning_rate; fastText's 0.05)", low=0.0,
          low_open=True),
    *_ENGINE,
    # False (fastText's per-pair draws) since _pair_step loads a pair's output rows together: 1.15x
    # the shared draws' time (was 1.85x), SimLex 0.201 against 0.180 (Gutenberg 30 MB, 5 seeds;
    # docs/benchmarks.md)
    Param("shared_negatives", bool, False, "True: draw the noise words for every 2 context words, each update "
          "weighted for the pair it stands for (pWord2Vec's sharing; lower on SimLex); False: for each "
          "(center, context) pair, as fastText does"),
    # 2: fastText's order with 2 threads (Gutenberg 30 MB, books in order, 1 epoch, 5 seeds: Stanford
    # RW 0.237 against 0.216 in file order, MEN 0.389 against 0.349; docs/benchmarks.md)
    Param("regions", int, 2, "read the corpus as this many contiguous regions advancing side by side, as "
          "fastText's threads do, so every part of an ordered corpus meets the whole range of learning rates; "
          "1: file order", low=1),
    Param("backend", str, "auto", "engine: auto (torch on a GPU, numba on the CPU), numba (per-pair updates, "
          "as fastText's), torch (minibatches, the GPU engine; shared_negatives does not apply; on a "
          "vocabulary of under ~100 words its summed updates diverge at learning_rate 0.05: lower it)",
          choices=("auto", "numba", "torch")),
    Param("units", str, None, "subword units: char (fastText's hashed character n-grams), bpe (the "
          "tokenizer's pieces and their merge trees), bpe-pieces (the pieces only); None: bpe when a "
          "tokenizer is given, else char (measured the better: docs/subwords.md)", choices=UNIT_KINDS,
          nullable=True),
    Param("vocab_size", int, 8000, "units=bpe: pieces of the BPE tokenizer trained on the corpus (when no "
          "tokenizer is given)", low=4),
    Param("tokenizer", str, None, "units=bpe: a trained Tokenizer (Python) or the path of a sentencepiece "
          ".model file; None trains one with vocab_size", nullable=True),
    Param("min_n", int, 3, "units=char: shortest character n-gram", low=1),
    Param("max_n", int, 6, "units=char: longest character n-gram", low=1),
    Param("buckets", int, 2_000_000, "units=char: hash buckets of the n-grams (fastText's 2M)", low=1),
    Param("min_count", int, None, "words with their own vector: those seen at least this often (default: "
          "the corpus's own, 5 for a path); rarer words are dropped from training, as fastText does, or train "
          "their units only (train_rare)",
          low=1, nullable=True),
    Param("max_vocab", int, None, "keep at most this many most frequent words", low=1, nullable=True),
    Param("train_rare", bool, False, "words below min_count (or beyond max_vocab) still train their units as "
          "centers, with no vector of their own and never predicted (not in fastText, which drops them): "
          "their contexts reach units that only rare words have (on Gutenberg 30 MB no better on Stanford RW "
          "and lower on MEN: docs/benchmarks.md)"),
    *READ_PARAMS,
    VERBOSE,
    *LOOP_ROWS,
)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return x / n


class SubwordEmbeddings(Embeddings):
    """Word vectors that also give a vector for any string (fastText's model).

    ``keys`` are the training corpus's words (``min_count`` or more occurrences, most frequent
    first) and ``vectors`` ``(len(keys), dim)`` float32 their vectors (own row and units, averaged).
    ``emb["word"]``, :meth:`vector`, :meth:`vectors_for`, :meth:`similarity` and
    :meth:`most_similar` take any string: one outside ``keys`` gets the mean of its units'
    vectors. ``unit_keys`` (sorted int64: piece ids, or n-gram buckets) and ``unit_vectors``
    ``(len(unit_keys), dim)`` hold the units trained.

    Saved as ``.ekv`` (no pickle): the word vectors as for any :class:`~embedkit.Embeddings`
    (other readers see plain word vectors), plus the unit table and, for BPE units, the
    sentencepiece model (``tokenizer.model``).
    """

    def __init__(self, words: Sequence[str], vectors, unit_keys, unit_vectors, *, units: str = "bpe",
                 tokenizer: Tokenizer | None = None, min_n: int = 3, max_n: int = 6, buckets: int = 2_000_000,
                 meta: dict | None = None):
        super().__init__(words, vectors, meta)
        if units not in UNIT_KINDS:
            raise InvalidParameterError("SubwordEmbeddings", "units", "one of " + ", ".join(map(repr, UNIT_KINDS)), units)
        if units != "char" and tokenizer is None:
            raise InvalidParameterError("SubwordEmbeddings", "tokenizer", f"a Tokenizer with units={units!r}", tokenizer)
        self.unit_keys = np.ascontiguousarray(unit_keys, dtype=np.int64)
        self.unit_vectors = np.ascontiguousarray(unit_vectors, dtype=np.float32)
        if self.unit_vectors.shape != (self.unit_keys.size, self.dim):
            raise ShapeError(f"unit_vectors must be ({self.unit_keys.size}, {self.dim}); "
                             f"got {self.unit_vectors.shape}")
        if self.unit_keys.size > 1 and not (np.diff(self.unit_keys) > 0).all():
            raise InputFormatError("unit_keys must be sorted and unique")
        self.units = units
        self.tokenizer = tokenizer
        self.min_n, self.max_n, self.buckets = int(min_n), int(max_n), int(buckets)
        self.meta["subword"] = {"units": units, "min_n": self.min_n, "max_n": self.max_n, "buckets": self.buckets,
                                "version": SUBWORD_FORMAT_VERSION}
        self._trees = None

    @property
    def words(self) -> list[str]:
        """The words with their own vector (= ``keys``), searched by :meth:`most_similar`."""
        return self.keys

    def __repr__(self) -> str:
        return (f"SubwordEmbeddings(words={len(self)}, dim={self.dim}, units={self.units!r}, "
                f"unit_vectors={self.unit_keys.size})")

    # ---- composition -----------------------------------------------------------------
    def units_of(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """CSR ``(ptr (n + 1,), keys)`` of the unit keys of each text (trained or not)."""
        if self.units == "bpe" and self._trees is None:
            self._trees = piece_trees(self.tokenizer)
        return units_of(self.units, [str(t) for t in texts], tokenizer=self.tokenizer, trees=self._trees,
                        min_n=self.min_n, max_n=self.max_n, buckets=self.buckets)

    def _compose(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Mean of the trained units' vectors of each text ``(n, dim)``, and how many there were ``(n,)``."""
        ptr, keys = self.units_of(texts)
        n = len(ptr) - 1
        out = np.zeros((n, self.dim), dtype=np.float64)
        if keys.size == 0 or self.unit_keys.size == 0:
            return out.astype(np.float32), np.zeros(n, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self.unit_keys, keys), self.unit_keys.size - 1)
        found = self.unit_keys[pos] == keys
        owner = np.repeat(np.arange(n), np.diff(ptr))
        np.add.at(out, owner[found], self.unit_vectors[pos[found]])
        counts = np.bincount(owner[found], minlength=n)
        out /= np.maximum(counts, 1)[:, None]
        return out.astype(np.float32), counts

    def vectors_for(self, texts: Sequence[str]) -> np.ndarray:
        """Vectors of ``texts``, float32 ``(len(texts), dim)``: a listed word's own vector, else the
        mean of its trained units (a zero row when it has none)."""
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        rows = [self._lookup(t) for t in texts]
        missing = [i for i, r in enumerate(rows) if r is None]
        known = [i for i, r in enumerate(rows) if r is not None]
        if known:
            out[known] = self.vectors[[rows[i] for i in known]]
        if missing:
            out[missing] = self._compose([texts[i] for i in missing])[0]
        return out

    def vector(self, text: str) -> np.ndarray:
        """The vector of any string, ``(dim,)`` float32; KeyNotFoundError when it has no trained unit."""
        if not isinstance(text, str):
            raise KeyNotFoundError(f"subword embeddings give vectors for strings; got {type(text).__name__}")
        row = self._lookup(text)
        if row is not None:
            return self.vectors[row]
        v, n = self._compose([text])
        if n[0] == 0:
            raise KeyNotFoundError(f"{text!r} is no listed word and has no subword unit seen in training")
        return v[0]

    def _lookup(self, key: Hashable):
        return self.key_to_index.get(key) if isinstance(key, str) else None

    def __getitem__(self, key: Hashable) -> np.ndarray:
        return self.vector(key)

    def __contains__(self, key: Hashable) -> bool:
        if not isinstance(key, str):
            return False
        return self._lookup(key) is not None or bool(self._compose([key])[1][0])

    def get(self, key: Hashable, default=None):
        return self.vector(key) if key in self else default

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two strings' vectors."""
        u = _unit_rows(np.stack([self.vector(a), self.vector(b)]).astype(np.float64))
        return float(u[0] @ u[1])

    def most_similar(self, query, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` listed words closest to ``query`` (any string, or a vector ``(dim,)``), by
        cosine similarity, best first; the query word itself is left out."""
        check_k("most_similar", k)
        exclude = ()
        if isinstance(query, str):
            q = self.vector(query)
            row = self._lookup(query)
            exclude = () if row is None else (row,)
        else:
            q = np.asarray(query, dtype=np.float32).ravel()
            if q.shape[0] != self.dim:
                raise ShapeError(f"query vector has dim {q.shape[0]}, embeddings have dim {self.dim}")
        n = np.linalg.norm(q)
        return top_k(self._unit_vectors() @ (q / n if n > 0 else q), self.keys, k, exclude)

    def analogy(self, a: str, b: str, c: str, k: int = 10, scoring: str = "3cosadd",
                restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """:meth:`Embeddings.analogy` over the listed words (``a``, ``b``, ``c`` may be any strings)."""
        extra = [w for w in (a, b, c) if self._lookup(w) is None]
        emb = self.word_embeddings(list(self.keys) + extra)
        n = len(self) if restrict_vocab is None else min(restrict_vocab, len(self))
        return emb.analogy(a, b, c, k=k, scoring=scoring, restrict_vocab=n)

    def word_embeddings(self, words: Sequence[str] | None = None) -> Embeddings:
        """Plain :class:`~embedkit.Embeddings` of ``words`` (default: the listed words), composed as
        above: for evaluators, export, or tools that need a vector per word."""
        words = self.keys if words is None else [str(w) for w in words]
        seen: set = set()
        words = [w for w in words if not (w in seen or seen.add(w))]
        meta = {k: v for k, v in self.meta.items() if k != "subword"}
        meta.update(source="subword")
        return Embeddings(words, self.vectors_for(words), meta)

    def normalized(self) -> "SubwordEmbeddings":
        """A copy with unit-length word and unit rows."""
        return SubwordEmbeddings(self.keys, self._unit_vectors(), self.unit_keys, _unit_rows(self.unit_vectors),
                                 units=self.units, tokenizer=self.tokenizer, min_n=self.min_n, max_n=self.max_n,
                                 buckets=self.buckets, meta=dict(self.meta))

    # ---- persistence ------------------------------------------------------------------
    def save(self, path) -> None:
        """``.ekv`` (a zip, no pickle): ``vectors.npy``, ``keys.json`` (the words) and ``meta.json``
        as for any :class:`~embedkit.Embeddings`, plus ``unit_keys.npy``, ``unit_vectors.npy`` and,
        for BPE units, ``tokenizer.model`` (sentencepiece). Written atomically."""
        meta = dict(self.meta)
        meta.setdefault("embedkit_version", __version__)
        meta.update(format=FORMAT_NAME, format_version=FORMAT_VERSION, shape=list(self.vectors.shape))

        def npy(a):
            buf = io.BytesIO()
            np.save(buf, a, allow_pickle=False)
            return buf.getvalue()

        with atomic_path(path) as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
                zf.writestr("meta.json", json.dumps(meta, indent=1, default=str))
                zf.writestr("keys.json", json.dumps({"type": "str", "keys": self.keys}))
                zf.writestr("vectors.npy", npy(self.vectors))
                zf.writestr(UNIT_KEYS_FILE, npy(self.unit_keys))
                zf.writestr(UNIT_VECTORS_FILE, npy(self.unit_vectors))
                if self.tokenizer is not None:
                    zf.writestr(TOKENIZER_FILE, self.tokenizer.to_bytes())

    @classmethod
    def from_saved(cls, emb: Embeddings, path) -> "SubwordEmbeddings":
        """Attach the unit table and tokenizer stored next to ``emb``'s arrays in ``path`` (an .ekv)."""
        path = Path(path)
        info = emb.meta.get("subword") or {}
        version = info.get("version", 1)
        if version != SUBWORD_FORMAT_VERSION:
            raise InputFormatError(f"subword embeddings of format version {version}; this embedkit reads "
                                   f"version {SUBWORD_FORMAT_VERSION}" + (" (upgrade embedkit)" if version >
                                   SUBWORD_FORMAT_VERSION else " (retrain them: the model changed)"), path)
        units = info.get("units", "bpe")

        try:
            if path.is_dir():
                keys = np.load(path / UNIT_KEYS_FILE, allow_pickle=False)
                vecs = np.load(path / UNIT_VECTORS_FILE, allow_pickle=False)
                model = (path / TOKENIZER_FILE).read_bytes() if units != "char" else None
            else:  # members read with the size and compression-ratio limits of every artifact
                with LimitedZip(path) as zf:
                    keys = zf.read_npy(UNIT_KEYS_FILE, ndim=1)
                    vecs = zf.read_npy(UNIT_VECTORS_FILE, ndim=2)
                    model = zf.read_bytes(TOKENIZER_FILE, MAX_TOKENIZER_BYTES) if units != "char" else None
        except (KeyError, FileNotFoundError, ValueError) as exc:
            raise InputFormatError(f"subword embeddings without their unit table or tokenizer ({exc})", path) from None
        tok = Tokenizer(model, source=f"{path}:{TOKENIZER_FILE}") if model is not None else None
        try:
            return cls(emb.keys, emb.vectors, keys, vecs, units=units, tokenizer=tok, min_n=info.get("min_n", 3),
                       max_n=info.get("max_n", 6), buckets=info.get("buckets", 2_000_000), meta=emb.meta)
        except ValueError as exc:
            raise InputFormatError(f"subword embeddings: {exc}", path) from None


#: the largest tokenizer model a saved subword artifact may hold (sentencepiece models are a few MB)
MAX_TOKENIZER_BYTES = 256 << 20


def _load_subword(path, *, mmap: bool = False, allow_nonfinite: bool = False) -> SubwordEmbeddings:
    """An .ekv of subword embeddings: its word vectors, unit table and tokenizer."""
    return SubwordEmbeddings.from_saved(load_embeddings(path, mmap=mmap, allow_nonfinite=allow_nonfinite), path)


# an .ekv of embeddings whose meta.json has a "subword" entry
register_artifact("subword-embeddings", SubwordEmbeddings, format=FORMAT_NAME, save=save_embeddings,
                  load=_load_subword, summary=summary_rows, recognise=lambda meta: "subword" in meta)


# ---------------------------------------------------------------------------- training
def unit_table(word_ptr: np.ndarray, word_keys: np.ndarray, num_words: int, num_own: int | None = None,
               weights: np.ndarray | None = None):
    """The engine's rows for fastText's model: word ``w < num_own``'s rows are ``w`` (its own) and
    one row for each of its units; the words from ``num_own`` on (rare words, centers only) have
    their units' rows only. ``num_own`` defaults to ``num_words``.

    The units' rows follow the words' (from ``num_own`` on). Without ``weights`` they are in the
    order of the sorted distinct unit keys; with ``weights`` (float ``(num_words,)``: how often each
    word is a center, e.g. its count times its subsampling keep probability) the unit used most
    comes first: the rows the kernel reads and writes most often sit together, so they share cache
    lines and stay in cache (Gutenberg 30 MB, 2 threads: about 1.1x faster; docs/benchmarks.md).

    Returns ``(ptr int64 (num_words + 1,), idx int32, n_rows, unit_keys int64 (n_units,) sorted,
    unit_rows int64 (n_units,))``: ``unit_rows[j]`` is the row of ``unit_keys[j]``.
    """
    num_own = num_words if num_own is None else int(num_own)
    unit_keys, inverse = np.unique(word_keys, return_inverse=True)
    n_units = unit_keys.size
    rank = np.arange(n_units, dtype=np.int64)
    if weights is not None and n_units:
        owner = np.repeat(np.arange(num_words), np.diff(word_ptr))
        use = np.bincount(inverse, weights=np.asarray(weights, dtype=np.float64)[owner], minlength=n_units)
        rank[np.argsort(-use, kind="stable")] = np.arange(n_units)
    has_own = np.arange(num_words) < num_own
    sizes = np.diff(word_ptr) + has_own
    ptr = np.zeros(num_words + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])
    idx = np.empty(int(ptr[-1]), dtype=np.int32)
    idx[ptr[:num_own]] = np.arange(num_own, dtype=np.int32)
    own = np.zeros(idx.size, dtype=bool)
    own[ptr[:num_own]] = True
    unit_rows = num_own + rank
    idx[~own] = unit_rows[inverse].astype(np.int32)
    return ptr, idx, num_own + n_units, unit_keys, unit_rows


def _with_rare_words(corpus, enc, words: list, counts):
    """The token stream with the words ``enc`` left out (below min_count or beyond max_vocab),
    for ``train_rare``: ``(tokens, offsets, rare words, their counts, the data's encoding)``. The
    words of ``words`` (the vocabulary, continued or not) keep their ids there; the others take
    ids from ``len(words)`` on. Without any left-out word: ``enc``'s own stream and no rare word."""
    full = corpus.encode(1, np.iinfo(np.int64).max)
    if len(full.words) == len(enc.words):
        return enc.tokens, enc.offsets, [], np.zeros(0, dtype=np.int64), enc
    index = {w: i for i, w in enumerate(words)}
    remap = np.empty(len(full.words), dtype=np.int32)
    rare, rare_counts = [], []
    for j, (w, c) in enumerate(zip(full.words, np.asarray(full.counts).tolist())):
        i = index.get(w)
        if i is None:
            i = len(words) + len(rare)
            rare.append(w)
            rare_counts.append(c)
        remap[j] = i
    return remap[full.tokens], full.offsets, rare, np.asarray(rare_counts, dtype=np.int64), full


@register
class Subword(Method):
    """Subword embeddings (fastText's model, Bojanowski et al. 2017): skip-gram whose input word
    vector is the mean of the word's own vector and its BPE-piece or character-n-gram vectors; a
    vector for any string, unknown and misspelled words included."""

    name = "subword"
    family = "text"
    summary = "fastText's skip-gram with subword units (BPE pieces or character n-grams): vectors for any word"
    input_kind = "text"
    params = SUBWORD_PARAMS
    quick_params = {"dim": 8, "epochs": 2, "min_count": 1, "vocab_size": 320, "workers": 1, "verbose": False}

    def get_params(self):
        given = dict(self._given)
        tok = given.pop("tokenizer", None)
        if tok is not None and not isinstance(tok, (str, os.PathLike, Tokenizer)):
            raise InvalidParameterError(self.name, "tokenizer", "a Tokenizer, the path of a sentencepiece "
                                        ".model file, or None", tok)
        params = validate(self.name, self.params, given)
        params["tokenizer"] = os.fspath(tok) if isinstance(tok, os.PathLike) else tok
        if params["max_n"] < params["min_n"]:
            raise InvalidParameterError(self.name, "max_n", f"an integer >= min_n ({params['min_n']})",
                                        params["max_n"])
        return params

    def _fit(self, data, **params) -> SubwordEmbeddings:
        corpus = corpus_from(data, params)
        dev = resolve_device(params["device"], method=self.name)
        workers = params["workers"] or os.cpu_count() or 1
        t0 = time.perf_counter()
        min_count = corpus.min_count if params["min_count"] is None else params["min_count"]
        enc = corpus.encode(min_count, params["max_vocab"])
        words = list(enc.words)
        kind = params["units"] or ("bpe" if params["tokenizer"] is not None else "char")
        tok = None
        init = _check_subword_init(self.name, params, kind)
        if init is not None:
            tok = init.tokenizer  # the same units as the previous result's
        elif kind != "char":
            tok = params["tokenizer"]
            if tok is None:
                tok = BPE(vocab_size=params["vocab_size"], lowercase=params["lowercase"], workers=workers,
                          verbose=params["verbose"]).fit(corpus)
            elif not isinstance(tok, Tokenizer):
                tok = Tokenizer.load(tok)
        t1 = time.perf_counter()
        counts, start, cont = enc.counts, None, None
        if init is not None:  # a vocabulary update (docs/updating-embeddings.md)
            cont = continue_from(self.name, init, words, counts, params["dim"], params["seed"],
                                 freeze=params["freeze_existing"])
            words, counts = cont.keys, cont.counts
        tokens, offsets, rare, data = enc.tokens, enc.offsets, [], enc
        if params["train_rare"]:
            tokens, offsets, rare, rare_counts, data = _with_rare_words(corpus, enc, words, counts)
        V = len(words)
        word_ptr, word_keys = units_of(kind, words + rare, tokenizer=tok, min_n=params["min_n"],
                                       max_n=params["max_n"], buckets=params["buckets"])
        all_counts = np.concatenate([np.asarray(counts, dtype=np.float64), rare_counts]) if rare else counts
        centers = np.asarray(all_counts, dtype=np.float64) * keep_probabilities(all_counts, params["sample"])
        ptr, idx, n_rows, unit_keys, unit_rows = unit_table(word_ptr, word_keys, V + len(rare), num_own=V,
                                                            weights=centers)
        wptr, widx = ptr[:V + 1], idx[:ptr[V]]  # the vocabulary's rows (the rare words' follow)
        old_words = None
        if cont is not None:
            start, old_words = _subword_start(init, words, wptr, widx, unit_keys, unit_rows, cont, params)
        t2 = time.perf_counter()
        logger.info("subword: %d words (and %d rare words training their units), %d %s units (%.1f rows a "
                    "word) in %.2fs", V, len(rare), unit_keys.size, kind, widx.size / max(V, 1), t2 - t1)
        cfg = SGNSConfig.from_params(params, sg=True, workers=workers)
        training = sgns_training(tokens, offsets, all_counts, cfg, backend=params["backend"], device=dev,
                                 units=(ptr, idx, n_rows, V), start=start)

        def embeddings(table, meta=None) -> SubwordEmbeddings:
            vectors = np.add.reduceat(table[widx].astype(np.float64), wptr[:-1], axis=0) / np.diff(wptr)[:, None]
            if old_words is not None:  # previous words kept as they were (see _subword_start)
                keep, rows = old_words
                vectors[keep] = init.vectors[rows]
            return SubwordEmbeddings(words, vectors.astype(np.float32), unit_keys, table[unit_rows], units=kind,
                                     tokenizer=tok, min_n=params["min_n"], max_n=params["max_n"],
                                     buckets=params["buckets"], meta=meta)

        validate = text_validation(self.name, params["validation"])
        run = run_sgns(training, self.name, params,
                       data_digest=lambda: corpus_digest(data, (unit_keys, ptr, idx, [str(w) for w in words + rare])),
                       validate=None if validate is None else (lambda table: validate(embeddings(table))))
        table = training.vectors().copy()
        t3 = time.perf_counter()
        words_per_s = enc.num_tokens * (len(run.history) or params["epochs"]) / max(t3 - t2, 1e-9)
        logger.info("subword: %d words x %d epochs in %.2fs (%.0f words/s)", enc.num_tokens, params["epochs"],
                    t3 - t2, words_per_s)
        meta = {"vocab_size": len(words), "num_tokens": enc.num_tokens, "units_trained": int(unit_keys.size),
                "rows_per_word": round(widx.size / max(V, 1), 3), "rare_words_trained": len(rare),
                "corpus": repr(corpus),
                "read_time_s": round(t1 - t0, 4), "units_time_s": round(t2 - t1, 4),
                "train_time_s": round(t3 - t2, 4), "words_per_s": round(words_per_s), "device": dev,
                "composition": "mean of the word's own vector and its units' (fastText)",
                "history": run.history, "training": run.summary(), "counts": [int(c) for c in counts],
                **({} if cont is None else cont.meta())}
        if tok is not None:
            meta["tokenizer"] = {k_: v for k_, v in tok.meta.items() if k_ != "params"}
        emb = embeddings(table, meta)
        keep_output(emb, training.output_vectors())
        return emb


def _check_subword_init(method: str, params: dict, kind: str):
    """``init`` (a SubwordEmbeddings with the same units) or None; raises otherwise."""
    init = check_init(method, params["init"])
    if init is None:
        return None
    if not isinstance(init, SubwordEmbeddings):
        raise InvalidParameterError(method, "init", "a subword result (SubwordEmbeddings)", type(init).__name__)
    same = (init.units == kind and (kind != "char" or (init.min_n, init.max_n, init.buckets) ==
                                    (params["min_n"], params["max_n"], params["buckets"])))
    if not same or (params["tokenizer"] is not None and kind != "char"):
        raise InvalidParameterError(method, "units", f"the init result's units ({init.units}, min_n {init.min_n}, "
                                    f"max_n {init.max_n}, buckets {init.buckets}; its own tokenizer)",
                                    f"{kind}, min_n {params['min_n']}, max_n {params['max_n']}, buckets "
                                    f"{params['buckets']}", hint="a continued training keeps the previous units")
    return init


def _subword_start(init, words, ptr, idx, unit_keys, unit_rows, cont, params):
    """The starting table of a continued subword training: unit rows the previous result trained
    start from its ``unit_vectors``; a previous word's own row is solved from its vector (the mean of
    its own row and its units' rows, fastText's composition); new words and units start at
    random. With ``freeze_existing`` the previous units' and words' rows are locked. Returns
    ``(SGNSStart, (mask of previous words, their rows in init))``: the previous words' vectors are
    returned as they were (bit for bit; without freezing, only for those absent from the new text)."""
    from ..engines.skipgram import SGNSStart
    from ..engines.skipgram._common import _init_vectors

    V = len(words)
    table = _init_vectors(V + unit_keys.size, params["dim"], params["seed"])
    pos = np.minimum(np.searchsorted(init.unit_keys, unit_keys), max(init.unit_keys.size - 1, 0))
    known_unit = (init.unit_keys[pos] == unit_keys) if init.unit_keys.size else np.zeros(unit_keys.size, bool)
    table[unit_rows[known_unit]] = init.unit_vectors[pos[known_unit]]
    rows = np.array([-1 if r is None else r for r in (init._lookup(w) for w in words)], dtype=np.int64)
    old = rows >= 0
    sizes = np.diff(ptr).astype(np.float64)
    unit_sum = np.add.reduceat(table[idx].astype(np.float64), ptr[:-1], axis=0) - table[:V]  # the units' rows
    own = sizes[:, None] * init.vectors[np.maximum(rows, 0)].astype(np.float64) - unit_sum
    table[:V][old] = own[old].astype(np.float32)
    frozen0 = None
    if params["freeze_existing"]:
        frozen0 = np.zeros(table.shape[0], dtype=bool)
        frozen0[:V] = old
        frozen0[unit_rows[known_unit]] = True
        keep = old
    else:
        keep = old.copy()
        keep[:V - cont.num_absent] = False  # only the absent words keep their vectors as they were
    return SGNSStart(table, cont.start.syn1, frozen0, cont.start.frozen1), (keep, rows[keep])


__all__ = ["SubwordEmbeddings", "Subword", "unit_table"]
