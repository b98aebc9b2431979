"""The reading order of the skip-gram engine: contiguous regions advancing side by side
(word2vec.c's and fastText's threads), and the engine reading in that order."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import embedkit as ek
from embedkit.engines.skipgram._regions import interleave_regions, region_order


def _stream(lengths):
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return np.arange(offsets[-1], dtype=np.int32), offsets


def test_two_regions_alternate_piece_by_piece():
    # ten sequences of 3 tokens: regions [0..4] and [5..9]; pieces of 6 tokens = 2 sequences
    order = region_order(_stream([3] * 10)[1], 2, piece_tokens=6)
    assert order.tolist() == [0, 1, 5, 6, 2, 3, 7, 8, 4, 9]


def test_one_region_or_one_sequence_is_file_order():
    tokens, offsets = _stream([4, 1, 7])
    assert region_order(offsets, 1).tolist() == [0, 1, 2]
    same_t, same_o = interleave_regions(tokens, offsets, 1)
    assert same_t is tokens and same_o is offsets
    assert region_order(_stream([50])[1], 8).tolist() == [0]
    assert region_order(np.zeros(1, dtype=np.int64), 4).tolist() == []


@settings(max_examples=100, deadline=None)  # the first call compiles the gather kernel
@given(st.lists(st.integers(0, 9), min_size=0, max_size=60), st.integers(1, 9), st.integers(1, 20))
def test_the_sequences_are_kept_whole_and_each_read_once(lengths, regions, piece):
    tokens, offsets = _stream(lengths)
    order = region_order(offsets, regions, piece_tokens=piece)
    assert sorted(order.tolist()) == list(range(len(lengths)))
    new_tokens, new_offsets = interleave_regions(tokens, offsets, regions, piece_tokens=piece)
    assert new_offsets[-1] == offsets[-1]
    for k, s in enumerate(order):
        assert new_tokens[new_offsets[k]:new_offsets[k + 1]].tolist() == tokens[offsets[s]:offsets[s + 1]].tolist()
    # within a region the file order is kept
    region = np.minimum(offsets[:-1] * regions // max(int(offsets[-1]), 1), regions - 1)
    for r in range(regions):
        seen = [s for s in order.tolist() if region[s] == r]
        assert seen == sorted(seen)


def test_the_engine_reads_the_regions_in_turn():
    """Training with regions=2 is bit for bit training on the interleaved corpus in file order (one
    thread): the engine reads the stream in that order, with the learning rate decaying over it."""
    rng = np.random.default_rng(0)
    # 24k tokens: two regions of 12k, read in pieces of 10k (PIECE_TOKENS); the first sequence
    # (first in either order) names every word, so ties in count rank alike
    sents = [[f"w{i}" for i in range(40)]] + [[f"w{int(x)}" for x in rng.integers(0, 40, 12)] for _ in range(2000)]
    corpus = ek.read_text(sents, verbose=False)
    enc = corpus.encode(1)
    order = region_order(enc.offsets, 2)
    assert not np.array_equal(order, np.arange(order.size))
    kw = dict(units="char", dim=8, epochs=1, min_count=1, workers=1, seed=0, verbose=False)
    two = ek.train("subword", sents, regions=2, **kw)
    reordered = ek.train("subword", [sents[s] for s in order], regions=1, **kw)
    assert two.words == reordered.words
    assert np.array_equal(two.vectors, reordered.vectors)
    assert not np.array_equal(two.vectors, ek.train("subword", sents, regions=1, **kw).vectors)


def test_regions_must_be_positive():
    with pytest.raises(ek.InvalidParameterError, match="regions"):
        ek.train("subword", [["a", "b"]], regions=0, verbose=False)
