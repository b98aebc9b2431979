"""Text corpora: ``read_text`` and the re-iterable, streaming :class:`Corpus`.

A corpus is read from disk once: every token is mapped to an integer id and the
ids are spooled to an anonymous temporary file (memory-mapped back), so a corpus
larger than memory trains with resident memory bounded by the vocabulary. The
vocabulary counts of that pass are cached; ``encode`` then filters them by
``min_count`` / ``max_vocab`` into the integer sequences the training engines
take (flat int32 ids and int64 offsets).
"""
from __future__ import annotations

import glob
import logging
import os
import re
import tempfile
import zlib
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from .._progress import progress
from ..exceptions import EmptyInputError, InputFormatError, InvalidParameterError
from ._open import BOM, open_binary, read_errors

logger = logging.getLogger("embedkit")

#: words: runs of letters/digits, with inner apostrophes kept ("don't", "o'clock")
WORD_PATTERN = re.compile(r"\w+(?:['\u2019]\w+)*")
UNITS = ("line", "paragraph", "document")
#: gensim's limit: longer sequences are cut into pieces of this many tokens
MAX_SEQUENCE_LENGTH = 10_000
_SPOOL_TOKENS = 8_000_000  # ids held in memory before they are spilled to a temporary file


def regex_tokenizer(text: str) -> list[str]:
    """The default tokenizer: :data:`WORD_PATTERN` matches, e.g. ``"Don't stop!"`` -> ``["Don't", "stop"]``."""
    return WORD_PATTERN.findall(text)


@dataclass(frozen=True)
class EncodedCorpus:
    """A corpus as integer sequences, the input of the training engines.

    ``words``: the vocabulary, most frequent first (ties in order of first
    appearance); ``counts``: int64 ``(V,)``; ``tokens``: int32 ``(N,)`` ids of the
    kept tokens in corpus order (out-of-vocabulary tokens are removed, as
    word2vec does, so their neighbours become adjacent); ``offsets``: int64
    ``(S + 1,)`` sequence boundaries into ``tokens``.
    """

    words: list
    counts: np.ndarray
    tokens: np.ndarray
    offsets: np.ndarray

    @property
    def num_tokens(self) -> int:
        return int(self.offsets[-1])


class _IntSpool:
    """An append-only int32 buffer that moves to an anonymous temporary file once it
    grows past ``limit`` ids; :meth:`finish` returns an array (memory-mapped when spilled)."""

    def __init__(self, limit: int | None = None, dtype=np.int32):
        self.limit = _SPOOL_TOKENS if limit is None else limit
        self.dtype = np.dtype(dtype)
        self.parts: list[np.ndarray] = []
        self.held = 0
        self.size = 0
        self.file = None

    def append(self, values: np.ndarray) -> None:
        values = np.asarray(values, dtype=self.dtype)
        if values.size == 0:
            return
        self.parts.append(values)
        self.held += values.size
        self.size += values.size
        if self.held >= self.limit:
            self._spill()

    def _spill(self) -> None:
        if self.file is None:
            self.file = tempfile.TemporaryFile(prefix="embedkit-corpus-")
        for part in self.parts:
            self.file.write(part.tobytes())
        self.parts, self.held = [], 0

    def finish(self) -> np.ndarray:
        if self.file is None:
            return np.concatenate(self.parts) if self.parts else np.empty(0, self.dtype)
        self._spill()
        self.file.flush()
        if self.size == 0:
            return np.empty(0, self.dtype)
        return np.memmap(self.file, dtype=self.dtype, mode="r", shape=(self.size,))


class Corpus:
    """Token sequences from text files or from memory; re-iterable.

    Iterating yields one ``list[str]`` per sequence (a line, a paragraph or a
    document, per ``unit``; sequences longer than 10,000 tokens are cut, as gensim
    does), tokenized and lowercased as configured, streamed from disk each time.
    ``vocab``/``counts`` (for this corpus's ``min_count`` and ``max_vocab``) and
    :meth:`encode` share one counting pass, done on first use and cached.

    Build it with :func:`read_text`.
    """

    def __init__(self, source, *, lowercase: bool = True, tokenizer: Callable[[str], list] | None = None,
                 min_count: int = 5, max_vocab: int | None = None, unit: str = "line",
                 encoding: str = "utf-8", errors: str = "strict", verbose: bool | None = None):
        if unit not in UNITS:
            raise InvalidParameterError("read_text", "unit", "one of " + ", ".join(map(repr, UNITS)), unit)
        if errors not in ("strict", "replace", "ignore"):
            raise InvalidParameterError("read_text", "errors", "one of 'strict', 'replace', 'ignore'", errors)
        if int(min_count) < 1:
            raise InvalidParameterError("read_text", "min_count", "an integer >= 1", min_count)
        if max_vocab is not None and int(max_vocab) < 1:
            raise InvalidParameterError("read_text", "max_vocab", "an integer >= 1 (or None)", max_vocab)
        self.paths: list[Path] | None = None
        self._memory: Sequence | None = None
        if isinstance(source, (list, tuple)) and not _looks_like_paths(source):
            self._memory = source
        else:
            self.paths = _resolve_paths(source)
        self.lowercase = lowercase
        self.tokenizer = tokenizer or regex_tokenizer
        self.min_count = int(min_count)
        self.max_vocab = None if max_vocab is None else int(max_vocab)
        self.unit = unit
        self.encoding, self.errors = encoding, errors
        self.verbose = verbose
        self._scan: tuple | None = None
        self._encoded: dict = {}

    # ---- iteration --------------------------------------------------------------
    def __iter__(self) -> Iterator[list]:
        for seq in self._sequences(None):
            yield seq

    def _sequences(self, bar) -> Iterator[list]:
        if self._memory is not None:
            for i, item in enumerate(self._memory):
                if not isinstance(item, (list, tuple)):
                    raise InputFormatError(f"sequence {i} is a {type(item).__name__}; an in-memory corpus "
                                           "is a list of token lists")
                toks = [str(t) for t in item]
                yield from _cut(toks)
            return
        for path in self.paths:
            yield from self._file_sequences(path, bar)

    def _tokenize(self, text: str) -> list:
        if self.lowercase:
            text = text.lower()
        return self.tokenizer(text)

    def _file_sequences(self, path: Path, bar) -> Iterator[list]:
        stream = open_binary(path)  # the shared opener: gzip by suffix or magic, a folder refused
        raw = getattr(stream, "fileobj", None) or stream  # the file on disk, for progress in bytes read
        drop_bom = self.encoding.replace("_", "-").lower() in ("utf-8", "utf8")
        pending: list = []
        offset = 0  # byte offset of the current line in the (decompressed) stream
        reported = 0
        try:
            for lineno, line_bytes in enumerate(stream, 1):
                if lineno == 1 and drop_bom and line_bytes.startswith(BOM):
                    line_bytes = line_bytes[3:]
                    offset = 3
                try:
                    text = line_bytes.decode(self.encoding, errors=self.errors)
                except UnicodeDecodeError as e:
                    raise InputFormatError(
                        f"bytes that are not {self.encoding} at byte offset {offset + e.start} "
                        f"({line_bytes[e.start:e.start + 4]!r}); pass errors='replace' to substitute "
                        "U+FFFD, or the file's encoding", path, lineno) from None
                except OSError as e:  # a damaged .gz
                    raise InputFormatError(f"cannot be read: {e}", path, lineno) from None
                offset += len(line_bytes)
                if bar is not None and lineno % 4096 == 0:
                    pos = raw.tell()
                    bar.update(pos - reported)
                    reported = pos
                if self.unit == "line":
                    toks = self._tokenize(text)
                    if toks:
                        yield from _cut(toks)
                elif self.unit == "paragraph":
                    if text.strip():
                        pending.extend(self._tokenize(text))
                    elif pending:
                        yield from _cut(pending)
                        pending = []
                else:
                    pending.extend(self._tokenize(text))
            if pending:
                yield from _cut(pending)
        except (OSError, EOFError, zlib.error) as e:  # a truncated or corrupt .gz, a read error
            with read_errors(path):
                raise e
        finally:
            if bar is not None and not raw.closed:
                bar.update(raw.tell() - reported)
            stream.close()
            raw.close()

    # ---- the counting pass --------------------------------------------------------
    def _scanned(self) -> tuple:
        """(types, counts, ids, offsets) over every token type, in order of first appearance."""
        if self._scan is not None:
            return self._scan
        index: dict = {}
        ids = _IntSpool()
        lengths = array("q")
        buf = array("i")
        total_bytes = sum(p.stat().st_size for p in self.paths) if self.paths else None
        desc = "counting words"
        with progress(total=total_bytes, desc=desc, verbose=self.verbose,
                      unit="B" if total_bytes else "seq") as bar:
            setdefault = index.setdefault
            for seq in self._sequences(bar if self.paths else None):
                buf.extend([setdefault(w, len(index)) for w in seq])
                lengths.append(len(seq))
                if self._memory is not None:
                    bar.update(1)
                if len(buf) >= 1_000_000:
                    ids.append(np.frombuffer(buf, dtype=np.int32))
                    buf = array("i")
            ids.append(np.frombuffer(buf, dtype=np.int32))
        tokens = ids.finish()
        offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
        np.cumsum(np.frombuffer(lengths, dtype=np.int64), out=offsets[1:])
        if tokens.size == 0:
            raise EmptyInputError(f"{self._name()}: no tokens (empty corpus)")
        counts = _bincount(tokens, len(index))
        types = list(index)
        logger.info("corpus %s: %d tokens, %d sequences, %d word types", self._name(), tokens.size,
                    len(lengths), len(types))
        self._scan = (types, counts, tokens, offsets)
        return self._scan

    def _name(self) -> str:
        if self.paths is None:
            return "<in-memory corpus>"
        return str(self.paths[0]) if len(self.paths) == 1 else f"{self.paths[0]} (+{len(self.paths) - 1} files)"

    def _selection(self, min_count: int, max_vocab: int | None) -> np.ndarray:
        """Indices of the kept types, most frequent first (stable: ties by first appearance)."""
        _, counts, _, _ = self._scanned()
        order = np.argsort(-counts, kind="stable")
        order = order[counts[order] >= min_count]
        if max_vocab is not None:
            order = order[:max_vocab]
        if order.size == 0:
            raise EmptyInputError(
                f"{self._name()}: the vocabulary is empty after min_count={min_count} (the most frequent "
                f"word occurs {int(counts.max())} times); lower min_count")
        return order

    # ---- public views ----------------------------------------------------------------
    @property
    def num_tokens(self) -> int:
        """Tokens in the corpus, before any vocabulary filter."""
        return int(self._scanned()[2].size)

    @property
    def num_sequences(self) -> int:
        return int(self._scanned()[3].size - 1)

    @property
    def vocab(self) -> list:
        """Kept words (``min_count``, ``max_vocab`` of this corpus), most frequent first."""
        types = self._scanned()[0]
        return [types[i] for i in self._selection(self.min_count, self.max_vocab)]

    @property
    def counts(self) -> np.ndarray:
        """int64 counts of :attr:`vocab`, aligned with it."""
        return self._scanned()[1][self._selection(self.min_count, self.max_vocab)]

    def word_counts(self) -> dict:
        """Every word type (no filter) -> its count."""
        types, counts, _, _ = self._scanned()
        return dict(zip(types, counts.tolist()))

    def encode(self, min_count: int | None = None, max_vocab: int | None = None) -> EncodedCorpus:
        """The corpus as integer sequences over the filtered vocabulary (cached per filter).

        ``min_count``/``max_vocab`` default to the corpus's own. Sequences left
        with fewer than 2 tokens are dropped (they hold no context pair).
        """
        min_count = self.min_count if min_count is None else int(min_count)
        max_vocab = self.max_vocab if max_vocab is None else int(max_vocab)
        key = (min_count, max_vocab)
        if key in self._encoded:
            return self._encoded[key]
        types, counts, tokens, offsets = self._scanned()
        keep = self._selection(min_count, max_vocab)
        remap = np.full(len(types), -1, dtype=np.int32)
        remap[keep] = np.arange(keep.size, dtype=np.int32)
        out = _IntSpool()
        new_lengths = np.zeros(offsets.size - 1, dtype=np.int64)
        step = 4_000_000
        seq_of = np.searchsorted(offsets, np.arange(0, tokens.size, step), side="right") - 1
        for chunk_no, a in enumerate(range(0, tokens.size, step)):
            b = min(a + step, tokens.size)
            mapped = remap[tokens[a:b]]
            kept = mapped >= 0
            out.append(mapped[kept])
            # kept tokens per sequence within this chunk
            s0 = seq_of[chunk_no]
            s1 = int(np.searchsorted(offsets, b, side="left"))
            cuts = np.clip(offsets[s0:s1 + 1], a, b) - a
            csum = np.concatenate([[0], np.cumsum(kept, dtype=np.int64)])
            new_lengths[s0:s1] += np.diff(csum[cuts])
        new_tokens = out.finish()
        new_offsets = np.zeros(offsets.size, dtype=np.int64)
        np.cumsum(new_lengths, out=new_offsets[1:])
        if (new_lengths < 2).any():  # drop sequences without a context pair
            lens = new_lengths[new_lengths >= 2]
            if lens.size == 0:
                raise EmptyInputError(f"{self._name()}: no sequence has two in-vocabulary tokens")
            mask = np.repeat(new_lengths >= 2, new_lengths)
            new_tokens = _compact(new_tokens, mask)
            new_offsets = np.zeros(lens.size + 1, dtype=np.int64)
            np.cumsum(lens, out=new_offsets[1:])
        words = [types[i] for i in keep]
        enc = EncodedCorpus(words, counts[keep].astype(np.int64), new_tokens, new_offsets)
        logger.info("corpus %s: vocabulary %d (min_count=%d, max_vocab=%s), %d tokens kept", self._name(),
                    len(words), min_count, max_vocab, enc.num_tokens)
        self._encoded[key] = enc
        return enc

    def __repr__(self) -> str:
        return f"Corpus({self._name()!r}, unit={self.unit!r}, min_count={self.min_count})"


def _compact(values: np.ndarray, mask: np.ndarray) -> np.ndarray:
    out = _IntSpool()
    for a in range(0, values.size, 4_000_000):
        out.append(values[a:a + 4_000_000][mask[a:a + 4_000_000]])
    return out.finish()


def _bincount(tokens: np.ndarray, n: int) -> np.ndarray:
    counts = np.zeros(n, dtype=np.int64)
    for a in range(0, tokens.size, 8_000_000):
        counts += np.bincount(tokens[a:a + 8_000_000], minlength=n)
    return counts


def _cut(tokens: list) -> Iterator[list]:
    if len(tokens) <= MAX_SEQUENCE_LENGTH:
        yield tokens
        return
    for a in range(0, len(tokens), MAX_SEQUENCE_LENGTH):
        yield tokens[a:a + MAX_SEQUENCE_LENGTH]


def _looks_like_paths(items: Sequence) -> bool:
    """A list of str/PathLike is a list of files; a list of token lists is an in-memory corpus."""
    return all(isinstance(x, (str, os.PathLike)) for x in items)


def _resolve_paths(source) -> list[Path]:
    items = [source] if isinstance(source, (str, os.PathLike)) else list(source)
    paths: list[Path] = []
    for item in items:
        s = os.fspath(item)
        if any(ch in s for ch in "*?[") and not os.path.exists(s):
            matches = sorted(glob.glob(s, recursive=True))
            if not matches:
                raise InputFormatError("no file matches this pattern", s)
            paths.extend(Path(m) for m in matches if os.path.isfile(m))
            continue
        p = Path(s)
        if p.is_dir():
            files = sorted(q for q in p.rglob("*") if q.is_file() and not q.name.startswith("."))
            if not files:
                raise InputFormatError("directory holds no files", p)
            paths.extend(files)
        elif not p.exists():
            raise InputFormatError("no such file", p)
        else:
            paths.append(p)
    if not paths:
        raise EmptyInputError("no input files given")
    return paths


def read_text(source, lowercase: bool = True, tokenizer: Callable[[str], list] | None = None,
              min_count: int = 5, max_vocab: int | None = None, *, unit: str = "line",
              encoding: str = "utf-8", errors: str = "strict", verbose: bool | None = None) -> Corpus:
    """Open a text corpus for training; nothing is read until it is used.

    Parameters
    ----------
    source : path, list of paths, glob pattern (``"books/*.txt.gz"``), directory,
        or an in-memory list of token lists (used as given: no lowercasing).
        Files are plain text or gzip (``.gz``).
    lowercase : lowercase text before tokenizing (default True).
    tokenizer : ``str -> list[str]``; default :func:`regex_tokenizer` (``\\w+``
        runs with inner apostrophes). ``str.split`` gives whitespace tokens.
    min_count : words rarer than this are dropped from the vocabulary (default 5).
    max_vocab : keep at most this many most frequent words (default: no cap).
    unit : what one training sequence is: ``"line"`` (default: one sentence or
        paragraph per line), ``"paragraph"`` (blank-line separated blocks, for
        hard-wrapped books) or ``"document"`` (a whole file).
    encoding, errors : how bytes are decoded. ``errors="strict"`` (default) stops
        at undecodable bytes with the file, line and byte offset;
        ``"replace"`` substitutes U+FFFD; ``"ignore"`` drops them.

    >>> corpus = read_text([["the", "cat", "sat"], ["the", "dog", "sat"]], min_count=2)
    >>> corpus.vocab, corpus.counts.tolist()
    (['the', 'sat'], [2, 2])
    """
    return Corpus(source, lowercase=lowercase, tokenizer=tokenizer, min_count=min_count, max_vocab=max_vocab,
                  unit=unit, encoding=encoding, errors=errors, verbose=verbose)


def as_corpus(data, **read_kw) -> Corpus:
    """Coerce a method's input: a :class:`Corpus` as is; paths or token lists through :func:`read_text`."""
    if isinstance(data, Corpus):
        return data
    if isinstance(data, (str, os.PathLike, list, tuple)):
        return read_text(data, **read_kw)
    raise InputFormatError(f"cannot read a text corpus from a {type(data).__name__}; pass a path, a list of "
                           "paths, a glob, a list of token lists or an embedkit.Corpus")


__all__ = ["Corpus", "EncodedCorpus", "read_text", "as_corpus", "regex_tokenizer", "WORD_PATTERN"]
