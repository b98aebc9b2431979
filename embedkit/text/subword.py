"""Subword embeddings: skip-gram over BPE pieces, a vector for any string.

The corpus is rewritten as BPE pieces (Sennrich, Haddow & Birch, ACL 2016;
sentencepiece, Kudo & Richardson 2018) and the shared skip-gram engine
(:mod:`embedkit.engines.skipgram`, Mikolov et al. 2013) learns one vector per
piece. A string's vector is composed from its pieces, so in-vocabulary words,
unknown words and misspellings all get one:

``vector(s) = u(mean of the vectors of s's pieces) + w * u(mean of the vectors
of every symbol of s's merge tree)``, ``u(x) = x / |x|``, ``w`` =
:attr:`SubwordEmbeddings.spelling_weight` (1 by default).

The merge tree holds ``s``'s characters, each intermediate symbol the BPE merges
build and the final pieces (:meth:`~embedkit.text.bpe.Tokenizer.explain`). The
first term is what the pieces say about the word (a frequent word is one piece:
its own, whole-word vector); the second is shared, nearly term for term, with any
one-edit misspelling, because an edit only changes the merges above the edited
character. Measured on 2.9M tokens of Gutenberg text (benchmarks/subword_quality.py,
docs/subwords.md): a one-edit misspelling of a frequent word is closer to its word
than to a random frequent word in 98.4% of comparisons with this composition, 70.9%
with the pieces' mean alone; larger ``spelling_weight`` values bring typos closer
still and cost word-similarity correlation.

Training uses BPE-dropout (Provilkov, Emelianenko & Voita, ACL 2020) by default
(``dropout=0.1``): each word type gets its deterministic segmentation plus
``samples`` sampled ones, drawn by a seeded numba kernel, and each occurrence uses
one of them at random, so the smaller pieces of frequent words are trained too.
``dropout=0`` scored a little better on word similarity and worse on misspellings.
Piece vectors are centred after training (the mean of the seen pieces is
subtracted; unseen pieces are zero).
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
from .._device import resolve_device
from .._validation import VERBOSE, Param, validate
from .._version import __version__
from ..api import Method, register
from ..data.corpus import _IntSpool
from ..embeddings import Embeddings, check_k, top_k
from ..engines.skipgram import SGNSConfig, train_sgns
from ..exceptions import EmptyInputError, InputFormatError, InvalidParameterError, KeyNotFoundError
from ._reading import READ_PARAMS, corpus_from
from .bpe import BPE, Tokenizer
from .word2vec import WORD2VEC_PARAMS

logger = logging.getLogger("embedkit")

#: the member of an .ekv zip that holds the sentencepiece model, and the query words
TOKENIZER_FILE = "tokenizer.model"
WORDS_FILE = "words.json"
SUBWORD_FORMAT_VERSION = 1

# the skip-gram parameters, window-shared negatives by default as for words (measured for pieces too:
# docs/subwords.md)
_ENGINE = tuple(p for p in WORD2VEC_PARAMS if p.name not in ("min_count", "max_vocab", "unit", "lowercase",
                                                                 "verbose"))
SUBWORD_PARAMS: tuple[Param, ...] = (
    *_ENGINE,
    Param("vocab_size", int, 8000, "pieces of the BPE tokenizer trained on the corpus (when no tokenizer "
          "is given)", low=4),
    Param("tokenizer", str, None, "a trained Tokenizer (Python) or the path of a sentencepiece .model "
          "file; None trains one with vocab_size", nullable=True),
    Param("dropout", float, 0.1, "BPE-dropout while training (Provilkov et al. 2020): probability of "
          "skipping a merge in the sampled segmentations; 0 = every word always has its one segmentation",
          low=0.0, high=1.0, high_open=True),
    Param("samples", int, 3, "sampled segmentations per word type when dropout > 0 (each occurrence uses "
          "the deterministic one or one of these, at random)", low=1),
    Param("min_count", int, None, "words listed for most_similar: those seen at least this often "
          "(default: the corpus's own, 5 for a path); every word trains the pieces", low=1, nullable=True),
    Param("max_vocab", int, None, "list at most this many most frequent words for most_similar", low=1,
          nullable=True),
    *READ_PARAMS,
    VERBOSE,
)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return x / n


class SubwordEmbeddings(Embeddings):
    """Embeddings of BPE pieces that give a vector for any string.

    The rows are the pieces of ``tokenizer`` in id order (``keys`` = ``tokenizer.vocab``,
    ``vectors`` ``(vocab_size, dim)`` float32; pieces never seen in training are zero).
    ``emb["word"]``, :meth:`vector`, :meth:`similarity` and :meth:`most_similar` take
    any string and compose its vector from its pieces (see the module docstring);
    :meth:`most_similar` searches ``words`` (the training corpus's frequent words).
    Export writes the piece vectors; :meth:`word_embeddings` gives plain
    :class:`~embedkit.Embeddings` of words for tools that need one vector per word.

    Saved as ``.ekv`` with the sentencepiece model inside (``tokenizer.model``) and the
    word list (``words.json``): no pickle.
    """

    def __init__(self, pieces: Sequence[str], vectors, tokenizer: Tokenizer, words: Sequence[str] = (),
                 meta: dict | None = None, *, spelling_weight: float | None = None):
        super().__init__(pieces, vectors, meta)
        if list(self.keys) != tokenizer.vocab:
            raise ValueError("the rows must be the tokenizer's pieces, in id order")
        self.tokenizer = tokenizer
        self.words: list[str] = list(words)
        self._tree: tuple[np.ndarray, np.ndarray] | None = None
        self._word_unit: np.ndarray | None = None
        self._word_index: dict | None = None
        self._spelling = 1.0
        self.spelling_weight = self.meta.get("spelling_weight", 1.0) if spelling_weight is None else spelling_weight

    @property
    def spelling_weight(self) -> float:
        """Weight of the merge-tree term in :meth:`vectors_for` (default 1.0). Larger values
        bring misspellings closer to their word and make vectors more about spelling, less
        about meaning (measured trade-off in docs/subwords.md); 0 is the pieces' mean alone."""
        return self._spelling

    @spelling_weight.setter
    def spelling_weight(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise InvalidParameterError("SubwordEmbeddings", "spelling_weight", "a number >= 0", value)
        self._spelling = float(value)
        self.meta["spelling_weight"] = float(value)
        self._word_unit = None

    def __repr__(self) -> str:
        return f"SubwordEmbeddings(pieces={len(self)}, dim={self.dim}, words={len(self.words)})"

    # ---- composition -----------------------------------------------------------------
    def _tree_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Per piece: the sum of the vectors of its merge tree's symbols ``(V, dim)``, and their number."""
        if self._tree is None:
            tok = self.tokenizer
            index = tok._index
            sums = self.vectors.astype(np.float64)  # every tree holds the piece itself
            sizes = np.ones(len(self), dtype=np.float64)
            if tok.model_type == "bpe":
                scores = tok._scores()
                for piece, (_, rank) in scores.items():
                    steps: list = []
                    tok._merge_all(list(piece), [False] * len(piece), limit=rank, steps=steps)
                    nodes = [s.left + s.right for s in steps] + list(piece)
                    rows = [index[n] for n in nodes if n in index]
                    i = index[piece]
                    sums[i] += self.vectors[rows].sum(axis=0)
                    sizes[i] += len(rows)
            self._tree = (sums, sizes)
        return self._tree

    def vectors_for(self, texts: Sequence[str]) -> np.ndarray:
        """Composed vectors of ``texts``, float32 ``(len(texts), dim)``; a text without
        pieces (empty, or only spaces) gets a zero row."""
        texts = [str(t) for t in texts]
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        ids = self.tokenizer.encode_ids(texts)
        lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        have = lengths > 0
        if not have.any():
            return out
        flat = np.fromiter((i for seq in ids for i in seq), dtype=np.int64, count=int(lengths.sum()))
        starts = np.concatenate([[0], np.cumsum(lengths[have])[:-1]])
        pieces_mean = np.add.reduceat(self.vectors[flat].astype(np.float64), starts, axis=0) / lengths[have, None]
        sums, sizes = self._tree_tables()
        tree_mean = np.add.reduceat(sums[flat], starts, axis=0) / np.add.reduceat(sizes[flat], starts)[:, None]
        out[have] = _unit_rows(pieces_mean) + self._spelling * _unit_rows(tree_mean)
        return out

    def vector(self, text: str) -> np.ndarray:
        """The composed vector of any string, ``(dim,)`` float32."""
        if not isinstance(text, str):
            raise KeyNotFoundError(f"subword embeddings compose vectors for strings; got {type(text).__name__}")
        v = self.vectors_for([text])[0]
        if not self.tokenizer.encode(text):
            raise KeyNotFoundError(f"{text!r} has no pieces (empty text)")
        return v

    def __getitem__(self, key: Hashable) -> np.ndarray:
        return self.vector(key)

    def __contains__(self, key: Hashable) -> bool:
        return isinstance(key, str) and bool(self.tokenizer.encode(key))

    def get(self, key: Hashable, default=None):
        return self.vector(key) if key in self else default

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two strings' composed vectors."""
        u = _unit_rows(np.stack([self.vector(a), self.vector(b)]).astype(np.float64))
        return float(u[0] @ u[1])

    def _words_unit(self) -> np.ndarray:
        if self._word_unit is None:
            if not self.words:
                raise KeyNotFoundError("these subword embeddings list no words to search (words=[])")
            self._word_unit = _unit_rows(self.vectors_for(self.words)).astype(np.float32)
            self._word_index = {w: i for i, w in enumerate(self.words)}
        return self._word_unit

    def most_similar(self, query, k: int = 10) -> list[tuple[str, float]]:
        """The ``k`` words of :attr:`words` closest to ``query`` (any string, or a vector ``(dim,)``),
        by cosine similarity, best first; the query word itself is left out."""
        check_k("most_similar", k)
        unit = self._words_unit()
        exclude = None
        if isinstance(query, str):
            q = self.vector(query)
            exclude = self._word_index.get(query)
            if exclude is None and self.tokenizer.normalize(query) != query:
                exclude = self._word_index.get(self.tokenizer.normalize(query))
        else:
            q = np.asarray(query, dtype=np.float32).ravel()
            if q.shape[0] != self.dim:
                raise ValueError(f"query vector has dim {q.shape[0]}, embeddings have dim {self.dim}")
        n = np.linalg.norm(q)
        return top_k(unit @ (q / n if n > 0 else q), self.words, k, () if exclude is None else (exclude,))

    def analogy(self, a: str, b: str, c: str, k: int = 10, method: str = "3cosadd",
                restrict_vocab: int | None = None) -> list[tuple[str, float]]:
        """:meth:`Embeddings.analogy` over :attr:`words` (``a``, ``b``, ``c`` may be any strings)."""
        extra = [w for w in (a, b, c) if w not in set(self.words)]
        emb = self.word_embeddings(self.words + extra)
        n = len(self.words) if restrict_vocab is None else min(restrict_vocab, len(self.words))
        return emb.analogy(a, b, c, k=k, method=method, restrict_vocab=n)

    def word_embeddings(self, words: Sequence[str] | None = None) -> Embeddings:
        """Plain :class:`~embedkit.Embeddings` of ``words`` (default :attr:`words`), composed as above:
        for evaluators, export to word2vec text, or tools that need a vector per word."""
        words = self.words if words is None else [str(w) for w in words]
        seen: set = set()
        words = [w for w in words if not (w in seen or seen.add(w))]
        meta = dict(self.meta, source="subword", composed_from=f"{len(self)} pieces")
        return Embeddings(words, self.vectors_for(words), meta)

    def normalized(self) -> "SubwordEmbeddings":
        """A copy with unit-length piece rows (composition then averages unit vectors)."""
        return SubwordEmbeddings(self.keys, self._unit_vectors(), self.tokenizer, self.words, dict(self.meta),
                                 spelling_weight=self.spelling_weight)

    # ---- persistence ------------------------------------------------------------------
    def save(self, path) -> None:
        """``.ekv`` (a zip, no pickle): ``vectors.npy``, ``keys.json`` (the pieces) and ``meta.json`` as
        for any :class:`~embedkit.Embeddings`, plus ``tokenizer.model`` (sentencepiece) and
        ``words.json``. Other embedkit readers see the piece vectors. Written atomically."""
        from ..io.native import FORMAT_NAME, FORMAT_VERSION

        meta = dict(self.meta)
        meta.setdefault("embedkit_version", __version__)
        meta.update(format=FORMAT_NAME, format_version=FORMAT_VERSION, shape=list(self.vectors.shape))
        meta["subword"] = {"tokenizer": TOKENIZER_FILE, "words": WORDS_FILE, "version": SUBWORD_FORMAT_VERSION}
        buf = io.BytesIO()
        np.save(buf, self.vectors, allow_pickle=False)
        with atomic_path(path) as tmp:
            with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as zf:
                zf.writestr("meta.json", json.dumps(meta, indent=1, default=str))
                zf.writestr("keys.json", json.dumps({"type": "str", "keys": self.keys}))
                zf.writestr("vectors.npy", buf.getvalue())
                zf.writestr(TOKENIZER_FILE, self.tokenizer.to_bytes())
                zf.writestr(WORDS_FILE, json.dumps(self.words))

    @classmethod
    def from_saved(cls, emb: Embeddings, path) -> "SubwordEmbeddings":
        """Attach the tokenizer and words stored next to ``emb``'s arrays in ``path`` (an .ekv)."""
        path = Path(path)
        info = emb.meta.get("subword") or {}
        if info.get("version", 0) > SUBWORD_FORMAT_VERSION:
            raise InputFormatError("subword embeddings written by a newer embedkit; upgrade embedkit", path)
        try:
            if path.is_dir():
                model = (path / info.get("tokenizer", TOKENIZER_FILE)).read_bytes()
                words = json.loads((path / info.get("words", WORDS_FILE)).read_text())
            else:
                with zipfile.ZipFile(path) as zf:
                    model = zf.read(info.get("tokenizer", TOKENIZER_FILE))
                    words = json.loads(zf.read(info.get("words", WORDS_FILE)))
        except (KeyError, FileNotFoundError, ValueError) as exc:
            raise InputFormatError(f"subword embeddings without their tokenizer or word list ({exc})", path) from None
        tok = Tokenizer(model, source=f"{path}:{TOKENIZER_FILE}")
        if tok.vocab_size != len(emb):
            raise InputFormatError(f"{len(emb)} vectors for a tokenizer of {tok.vocab_size} pieces", path)
        return cls(tok.vocab, emb.vectors, tok, words, emb.meta)


# ---------------------------------------------------------------------------- training
def segmentations(tok: Tokenizer, words: Sequence[str], dropout: float = 0.0, samples: int = 0,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray, int]:
    """Piece ids of every word type: the deterministic segmentation, then ``samples`` BPE-dropout ones
    (:meth:`Tokenizer.sample_ids <embedkit.text.bpe.Tokenizer.sample_ids>`, repeatable for a seed).

    Returns ``(ptr, flat, K)``: segmentation ``v * len(words) + w`` (variant ``v`` of word ``w``,
    ``v < K``) is ``flat[ptr[j]:ptr[j + 1]]``; int64 ``ptr`` ``(K * W + 1,)``, int32 ``flat``.
    """
    words = list(words)
    ptr, flat = tok.sample_ids(words, 0.0)
    if dropout > 0 and samples > 0:
        sptr, sflat = tok.sample_ids(words, dropout, seed=seed, samples=samples)
        ptr = np.concatenate([ptr, sptr[1:] + ptr[-1]])
        flat = np.concatenate([flat, sflat])
        return ptr, flat, 1 + samples
    return ptr, flat, 1


def piece_stream(tokens: np.ndarray, offsets: np.ndarray, ptr: np.ndarray, flat: np.ndarray, k: int,
                 num_words: int, vocab_size: int, seed: int = 0, chunk: int = 4_000_000):
    """The corpus as piece ids: each token replaced by one of its word's ``k`` segmentations,
    drawn uniformly (vectorised: no Python loop over tokens; chunks of ``chunk`` tokens).

    Returns ``(pieces int32, piece_offsets int64 (S + 1,), piece_counts int64 (vocab_size,))``.
    """
    rng = np.random.default_rng(seed)
    out = _IntSpool()
    counts = np.zeros(vocab_size, dtype=np.int64)
    n = int(tokens.shape[0])
    ends = np.zeros(n + 1, dtype=np.int64)  # pieces emitted before token i, for the sequence offsets
    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        seg = tokens[a:b].astype(np.int64)
        if k > 1:
            seg += rng.integers(0, k, b - a) * num_words
        starts = ptr[seg]
        lengths = ptr[seg + 1] - starts
        cum = np.cumsum(lengths)
        total = int(cum[-1]) if cum.size else 0
        idx = np.arange(total, dtype=np.int64) - np.repeat(cum - lengths - starts, lengths)
        pieces = flat[idx]
        out.append(pieces)
        counts += np.bincount(pieces, minlength=vocab_size)
        ends[a + 1:b + 1] = ends[a] + cum
    return out.finish(), ends[np.asarray(offsets, dtype=np.int64)], counts


@register
class Subword(Method):
    """Subword embeddings: skip-gram (Mikolov et al. 2013) over BPE pieces (Sennrich et al.
    2016, sentencepiece); a vector for any string, unknown and misspelled words included."""

    name = "subword"
    family = "text"
    summary = "skip-gram over BPE pieces: vectors for any word, misspellings included"
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
        return params

    def _fit(self, data, **params) -> SubwordEmbeddings:
        corpus = corpus_from(data, params)
        dev = resolve_device(params["device"], method=self.name)
        workers = params["workers"] or os.cpu_count() or 1
        t0 = time.perf_counter()
        enc = corpus.encode(1)  # every word type trains the pieces
        min_count = corpus.min_count if params["min_count"] is None else params["min_count"]
        listed = int(np.count_nonzero(enc.counts >= min_count))
        if params["max_vocab"] is not None:
            listed = min(listed, params["max_vocab"])
        if listed == 0:
            raise EmptyInputError(
                f"{corpus._name()}: the vocabulary is empty after min_count={min_count} (the most frequent word "
                f"occurs {int(enc.counts.max())} times); lower min_count")
        tok = params["tokenizer"]
        if tok is None:
            tok = BPE(vocab_size=params["vocab_size"], lowercase=params["lowercase"], workers=workers,
                      verbose=params["verbose"]).fit(corpus)
        elif not isinstance(tok, Tokenizer):
            tok = Tokenizer.load(tok)
        t1 = time.perf_counter()
        ptr, flat, k = segmentations(tok, enc.words, params["dropout"], params["samples"], params["seed"])
        pieces, offsets, counts = piece_stream(enc.tokens, enc.offsets, ptr, flat, k, len(enc.words),
                                               tok.vocab_size, params["seed"])
        t2 = time.perf_counter()
        logger.info("subword: %d words -> %d pieces (%.2f a word, %d segmentations a word type) in %.2fs",
                    enc.num_tokens, pieces.size, pieces.size / max(enc.num_tokens, 1), k, t2 - t1)
        cfg = SGNSConfig.from_params(params, sg=True, workers=workers)
        vectors = train_sgns(pieces, offsets, counts, cfg, backend=params["backend"], device=dev,
                             verbose=params["verbose"])
        seen = counts > 0
        vectors[seen] -= vectors[seen].mean(axis=0)  # centred: see the module docstring
        vectors[~seen] = 0.0  # pieces never seen carry no information
        t3 = time.perf_counter()
        pieces_per_s = pieces.size * params["epochs"] / max(t3 - t2, 1e-9)
        meta = {"vocab_size": listed, "num_pieces_in_vocab": tok.vocab_size, "num_tokens": enc.num_tokens,
                "num_pieces": int(pieces.size), "pieces_seen": int(np.count_nonzero(counts)),
                "corpus": repr(corpus), "tokenizer": {k_: v for k_, v in tok.meta.items() if k_ != "params"},
                "read_time_s": round(t1 - t0, 4), "segment_time_s": round(t2 - t1, 4),
                "train_time_s": round(t3 - t2, 4), "pieces_per_s": round(pieces_per_s), "device": dev,
                "composition": "unit(mean of pieces) + unit(mean of merge-tree symbols)"}
        return SubwordEmbeddings(tok.vocab, vectors, tok, enc.words[:listed], meta)


__all__ = ["SubwordEmbeddings", "Subword", "segmentations", "piece_stream"]
