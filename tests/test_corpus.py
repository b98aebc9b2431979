"""read_text / Corpus: formats, units, vocabulary, encoding and error messages."""
from __future__ import annotations

import gzip

import numpy as np
import pytest

import embedkit as ek
import embedkit.data.corpus as corpus_mod

TEXT = "The cat sat on the mat.\nThe dog sat, didn't it?\n\nA cat and a dog.\n"


@pytest.fixture
def text_file(tmp_path):
    path = tmp_path / "small.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def test_lines_paragraphs_and_documents(text_file):
    lines = list(ek.read_text(text_file, min_count=1))
    assert lines == [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat", "didn't", "it"],
                     ["a", "cat", "and", "a", "dog"]]
    paragraphs = list(ek.read_text(text_file, min_count=1, unit="paragraph"))
    assert paragraphs == [lines[0] + lines[1], lines[2]]
    assert list(ek.read_text(text_file, min_count=1, unit="document")) == [sum(lines, [])]
    cased = list(ek.read_text(text_file, min_count=1, lowercase=False, tokenizer=str.split))
    assert cased[0] == ["The", "cat", "sat", "on", "the", "mat."]


def test_corpus_is_reiterable_and_gz_reads_like_plain(text_file, tmp_path):
    gz = tmp_path / "small.txt.gz"
    with gzip.open(gz, "wt", encoding="utf-8") as f:
        f.write(TEXT)
    corpus = ek.read_text(gz, min_count=1)
    assert list(corpus) == list(corpus) == list(ek.read_text(text_file, min_count=1))


def test_vocabulary_is_sorted_by_count_then_first_appearance(text_file):
    corpus = ek.read_text(text_file, min_count=2)
    assert corpus.vocab == ["the", "cat", "sat", "dog", "a"]
    assert corpus.counts.tolist() == [3, 2, 2, 2, 2]
    assert corpus.num_tokens == 16 and corpus.num_sequences == 3
    assert ek.read_text(text_file, min_count=1, max_vocab=2).vocab == ["the", "cat"]
    assert corpus.word_counts()["mat"] == 1


def test_encode_drops_rare_words_and_short_sequences(text_file):
    enc = ek.read_text(text_file, min_count=2).encode()
    ids = {w: i for i, w in enumerate(enc.words)}
    # "on", "mat", "didn't", "it", "and" are rare: dropped, neighbours become adjacent
    expect = [["the", "cat", "sat", "the"], ["the", "dog", "sat"], ["a", "cat", "a", "dog"]]
    assert enc.offsets.tolist() == [0, 4, 7, 11]
    assert enc.tokens.tolist() == [ids[w] for s in expect for w in s]
    assert enc.tokens.dtype == np.int32 and enc.offsets.dtype == np.int64
    # a sequence left with one in-vocabulary token has no context pair and is dropped
    enc = ek.read_text([["x", "y"], ["x", "q"], ["x", "y"]], min_count=2).encode()
    assert enc.words == ["x", "y"] and enc.offsets.tolist() == [0, 2, 4]


def test_counting_pass_runs_once(text_file, monkeypatch):
    corpus = ek.read_text(text_file, min_count=1)
    calls = []
    original = corpus._sequences
    monkeypatch.setattr(corpus, "_sequences", lambda bar: calls.append(1) or original(bar))
    corpus.vocab, corpus.counts, corpus.encode(), corpus.encode(min_count=2), corpus.num_tokens
    assert len(calls) == 1


def test_large_corpora_spill_to_a_memory_mapped_file(text_file, monkeypatch):
    in_memory = ek.read_text(text_file, min_count=1).encode()
    monkeypatch.setattr(corpus_mod, "_SPOOL_TOKENS", 4)
    spilled = ek.read_text(text_file, min_count=1).encode()
    assert isinstance(spilled.tokens, np.memmap)
    np.testing.assert_array_equal(spilled.tokens, in_memory.tokens)
    np.testing.assert_array_equal(spilled.offsets, in_memory.offsets)


def test_long_sequences_are_cut_like_gensim():
    seq = [f"w{i % 7}" for i in range(25_000)]
    pieces = list(ek.read_text([seq], min_count=1))
    assert [len(p) for p in pieces] == [10_000, 10_000, 5_000]


def test_paths_globs_and_directories(tmp_path):
    for i in range(3):
        (tmp_path / f"part{i}.txt").write_text(f"alpha beta gamma {i}\n")
    by_glob = ek.read_text(str(tmp_path / "part*.txt"), min_count=1)
    by_dir = ek.read_text(tmp_path, min_count=1)
    by_list = ek.read_text([tmp_path / f"part{i}.txt" for i in range(3)], min_count=1)
    assert list(by_glob) == list(by_dir) == list(by_list)
    assert by_glob.counts[:3].tolist() == [3, 3, 3]


def test_errors_name_the_file_and_the_problem(tmp_path):
    with pytest.raises(ek.InputFormatError, match="missing.txt: no such file"):
        ek.read_text(tmp_path / "missing.txt")
    with pytest.raises(ek.InputFormatError, match="no file matches"):
        ek.read_text(str(tmp_path / "nothing*.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n   \n")
    with pytest.raises(ek.EmptyInputError, match="empty.txt: no tokens"):
        ek.read_text(empty).vocab
    rare = tmp_path / "rare.txt"
    rare.write_text("one two three\n")
    with pytest.raises(ek.EmptyInputError, match="vocabulary is empty after min_count=5"):
        ek.read_text(rare).encode()
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"good line\nbad \xff byte\n")
    with pytest.raises(ek.InputFormatError, match=r"bad.txt, line 2: .*not utf-8 at byte offset 14"):
        ek.read_text(bad, min_count=1).vocab
    assert ek.read_text(bad, min_count=1, errors="replace").vocab == ["good", "line", "bad", "byte"]
    broken_gz = tmp_path / "broken.txt.gz"
    broken_gz.write_bytes(gzip.compress(b"a b c\n" * 1000)[:40])
    with pytest.raises(ek.InputFormatError, match="broken.txt.gz"):
        ek.read_text(broken_gz, min_count=1).vocab
    with pytest.raises(ek.InputFormatError, match="sequence 1 is a int"):
        ek.read_text([["a", "b"], 3], min_count=1).vocab
    with pytest.raises(ek.InvalidParameterError, match="'unit' must be one of"):
        ek.read_text(rare, unit="sentence")
