"""Subword units of words, for fastText's model (Bojanowski et al. 2017): BPE pieces or hashed
character n-grams.

Both give, for a list of strings, a CSR ``(ptr int64 (n + 1,), keys int64)`` of unit keys: piece
ids of a :class:`~embedkit.text.bpe.Tokenizer`, or n-gram buckets in ``[0, buckets)``. The
keys of one string may repeat (a repeated n-gram counts twice, as in fastText).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from .._jit import njit

#: the unit kinds of the ``subword`` method
UNIT_KINDS = ("bpe", "bpe-pieces", "char")


# ---------------------------------------------------------------------------- BPE
def piece_trees(tok, chars: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """For every piece of ``tok``: the piece and the symbols BPE merges on the way to it (and its
    characters with ``chars``), as CSR ``(ptr int64 (vocab_size + 1,), ids int64)``. A piece that
    is no merge (a character, a byte, a special piece) is its own tree."""
    index = tok._index
    scores = tok._scores() if tok.model_type == "bpe" else {}
    ptr = [0]
    ids: list[int] = []
    for i, piece in enumerate(tok.vocab):
        ids.append(i)
        hit = scores.get(piece)
        if hit is not None:
            steps: list = []
            tok._merge_all(list(piece), [False] * len(piece), limit=hit[1], steps=steps)
            nodes = [s.left + s.right for s in steps] + (list(piece) if chars else [])
            ids.extend(index[n] for n in nodes if n in index and n != piece)
        ptr.append(len(ids))
    return np.asarray(ptr, dtype=np.int64), np.asarray(ids, dtype=np.int64)


def bpe_units(tok, texts: Sequence[str], trees: tuple | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Units of each text: its pieces (``trees=None``), or the merge trees of its pieces
    (``trees`` from :func:`piece_trees`): a misspelling keeps most of its word's tree."""
    ptr, flat = tok.sample_ids(list(texts), 0.0)
    flat = flat.astype(np.int64)
    if trees is None:
        return ptr, flat
    tptr, tids = trees
    sizes = tptr[flat + 1] - tptr[flat]
    cum = np.cumsum(sizes)
    out_ptr = np.concatenate([[0], cum])[ptr].astype(np.int64)
    starts = tptr[flat]
    idx = np.arange(int(cum[-1]) if cum.size else 0, dtype=np.int64) - np.repeat(cum - sizes - starts, sizes)
    return out_ptr, tids[idx]


# ---------------------------------------------------------------------------- character n-grams
@njit(cache=True)
def _ngram_hashes(data, starts, min_n, max_n, buckets, out_ptr, out):
    """fastText's ``computeSubwords``: n-grams of ``min_n``..``max_n`` characters (UTF-8 code
    points) of ``<word>``, hashed by FNV-1a 32 (bytes sign-extended as fastText's int8) modulo
    ``buckets``. ``out_ptr[0]`` must be 0; returns the number written."""
    m = 0
    for w in range(starts.shape[0] - 1):
        a = starts[w]
        b = starts[w + 1]
        for i in range(a, b):
            if (data[i] & 0xC0) == 0x80:
                continue
            h = np.uint32(2166136261)
            j = i
            n = 1
            while j < b and n <= max_n:
                c = np.int64(data[j])
                h = np.uint32((np.uint64(h) ^ np.uint64(c if c < 128 else c | 0xFFFFFF00)) & 0xFFFFFFFF)
                h = np.uint32((np.uint64(h) * np.uint64(16777619)) & 0xFFFFFFFF)
                j += 1
                while j < b and (data[j] & 0xC0) == 0x80:
                    c = np.int64(data[j])
                    h = np.uint32((np.uint64(h) ^ np.uint64(c if c < 128 else c | 0xFFFFFF00)) & 0xFFFFFFFF)
                    h = np.uint32((np.uint64(h) * np.uint64(16777619)) & 0xFFFFFFFF)
                    j += 1
                if n >= min_n and not (n == 1 and (i == a or j == b)):
                    out[m] = np.int64(h) % buckets
                    m += 1
                n += 1
        out_ptr[w + 1] = m
    return m


def char_ngram_units(texts: Sequence[str], min_n: int = 3, max_n: int = 6,
                     buckets: int = 2_000_000) -> tuple[np.ndarray, np.ndarray]:
    """Hashed character n-grams of each text, as fastText computes them (``<`` and ``>`` mark
    the word's ends; n-grams of ``min_n``..``max_n`` characters)."""
    encoded = [("<" + t + ">").encode("utf-8") for t in texts]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    starts = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(lengths, out=starts[1:])
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    out_ptr = np.zeros(len(encoded) + 1, dtype=np.int64)
    out = np.empty(int(starts[-1]) * max(1, max_n - min_n + 1), dtype=np.int64)
    m = _ngram_hashes(data, starts, int(min_n), int(max_n), int(buckets), out_ptr, out)
    return out_ptr, out[:m].copy()


def units_of(kind: str, texts: Sequence[str], *, tokenizer=None, trees=None, min_n: int = 3, max_n: int = 6,
             buckets: int = 2_000_000) -> tuple[np.ndarray, np.ndarray]:
    """The units of ``texts`` for a unit kind of :data:`UNIT_KINDS`."""
    if kind == "char":
        return char_ngram_units(texts, min_n, max_n, buckets)
    if kind == "bpe":
        return bpe_units(tokenizer, texts, trees if trees is not None else piece_trees(tokenizer))
    return bpe_units(tokenizer, texts, None)


__all__ = ["UNIT_KINDS", "piece_trees", "bpe_units", "char_ngram_units", "units_of"]
