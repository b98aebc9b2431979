"""Subword embeddings: vectors for any string, misspellings near their word, the piece stream."""
from __future__ import annotations

import numpy as np
import pytest

import embedkit as ek
from embedkit.text.subword import SubwordEmbeddings, piece_stream, segmentations

#: small enough for a test, big enough to learn: Emma (161k tokens), 2000 pieces, dim 50
SETTINGS = dict(vocab_size=2000, dim=50, epochs=5, workers=1, seed=0, verbose=False)


@pytest.fixture(scope="module")
def emma():
    return ek.datasets.load_text("emma")


@pytest.fixture(scope="module")
def sub(emma) -> SubwordEmbeddings:
    return ek.train("subword", emma, **SETTINGS)


def _unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def one_edit(word: str, rng) -> str:
    """A random one-edit misspelling: delete, insert or replace a letter, or swap two neighbours."""
    letters = "abcdefghijklmnopqrstuvwxyz"
    i = int(rng.integers(len(word)))
    kind = int(rng.integers(4))
    if kind == 0:
        return word[:i] + word[i + 1:]
    if kind == 1:
        return word[:i] + letters[rng.integers(26)] + word[i:]
    if kind == 2:
        return word[:i] + letters[rng.integers(26)] + word[i + 1:]
    i = min(i, len(word) - 2)
    return word[:i] + word[i + 1] + word[i] + word[i + 2:]


def _typos(sub, emma, n=300, seed=0):
    """``n`` one-edit misspellings of Emma's frequent words (among the 2000 most frequent, 5+
    letters), none of them a word of the novel: ``[(word, typo), ...]`` and the frequent words."""
    rng = np.random.default_rng(seed)
    counts = emma.word_counts()
    frequent = [w for w in sub.words[:2000] if len(w) >= 5 and w.isalpha()]
    pairs = []
    while len(pairs) < n:
        word = frequent[rng.integers(len(frequent))]
        typo = one_edit(word, rng)
        if typo not in counts:
            pairs.append((word, typo))
    return pairs, frequent, rng


def test_misspellings_land_near_their_word(sub, emma):
    """300 typos: the misspelling is closer to its word than to a random frequent word in 96.5% of
    3000 comparisons (measured, seed 0), and closer than all 10 random words for 81.7% of the typos.
    A word-level model has no vector for any of them."""
    pairs, frequent, rng = _typos(sub, emma)
    typos = _unit(sub.vectors_for([t for _, t in pairs]))
    right = _unit(sub.vectors_for([w for w, _ in pairs]))
    others = _unit(sub.vectors_for(frequent))[rng.integers(0, len(frequent), (300, 10))]
    good = np.einsum("nd,nd->n", typos, right)
    wins = good[:, None] > np.einsum("nd,nkd->nk", typos, others)
    assert wins.mean() > 0.92  # measured 0.965
    assert wins.all(axis=1).mean() > 0.7  # measured 0.817

    words = ek.train("skipgram", emma, dim=10, epochs=1, workers=1, verbose=False)
    assert not any(t in words for _, t in pairs)
    with pytest.raises(ek.KeyNotFoundError):
        words[pairs[0][1]]
    assert sub[pairs[0][1]].shape == (50,)


def test_nearest_words_of_misspellings_and_the_spelling_weight(sub, emma):
    """Searching all 2378 listed words for each of the 300 typos: the right word is among the 10
    nearest for 56% of them with the default spelling_weight=1 and 94% with 3 (measured); a larger
    weight trades meaning for spelling (docs/subwords.md)."""
    pairs, _, _ = _typos(sub, emma)

    def top10_rate(weight):
        sub.spelling_weight = weight
        hits = [w in [x for x, _ in sub.most_similar(t, k=10)] for w, t in pairs]
        return float(np.mean(hits))

    try:
        default, spelling = top10_rate(1.0), top10_rate(3.0)
    finally:
        sub.spelling_weight = 1.0
    assert default > 0.45 and spelling > 0.85  # measured 0.56 and 0.94
    with pytest.raises(ek.InvalidParameterError, match="spelling_weight"):
        sub.spelling_weight = -1
    # meaning: Mrs Weston's neighbours are the other families of Highbury
    assert "elton" in [w for w, _ in sub.most_similar("weston", k=5)]
    assert "weston" not in [w for w, _ in sub.most_similar("weston")]  # the query is left out


def test_a_vector_for_any_string(sub):
    assert sub.keys == sub.tokenizer.vocab and sub.vectors.shape == (2000, 50)
    for text in ("emma", "Emma", "zxqvbn", "naïveté", "two words", "\u2603"):
        assert text in sub
        v = sub[text]
        assert v.dtype == np.float32 and v.shape == (50,) and np.isfinite(v).all() and np.linalg.norm(v) > 0
    np.testing.assert_array_equal(sub["Emma"], sub["emma"])  # the tokenizer folds case like the corpus
    assert "" not in sub and "   " not in sub
    with pytest.raises(ek.KeyNotFoundError, match="no pieces"):
        sub[""]
    assert sub.get("", "none") == "none"
    assert sub.similarity("woodhouse", "woodhose") > sub.similarity("woodhouse", "tuesday")
    assert np.array_equal(sub.vectors_for(["", "emma"])[0], np.zeros(50, np.float32))


def test_composition_is_pieces_plus_merge_tree(sub):
    """vector(w) = u(mean of w's pieces) + 1 * u(mean of every symbol of w's merge tree), computed here the
    slow way from explain() and compared with the vectorised tables."""
    tok = sub.tokenizer
    rows = {p: sub.vectors[i] for i, p in enumerate(sub.keys)}
    for word in ("woodhouse", "handsome", "unpersuadable", "misspeled", "a"):
        pieces = tok.encode(word)
        steps = tok.explain(word)
        chars, _ = tok._symbols(tok.processor.normalize(word))
        tree = chars + [s.left + s.right for s in steps]
        expect = _unit(np.mean([rows[p] for p in pieces], axis=0)) + _unit(np.mean([rows[p] for p in tree], axis=0))
        np.testing.assert_allclose(sub[word], expect, rtol=1e-4, atol=1e-5)
    assert sub.meta["spelling_weight"] == 1.0


def test_pieces_never_seen_are_zero_and_seen_ones_centred(sub):
    seen = np.abs(sub.vectors).sum(axis=1) > 0
    assert sub.meta["pieces_seen"] == int(seen.sum()) > 1500
    np.testing.assert_allclose(sub.vectors[seen].mean(axis=0), 0.0, atol=1e-5)
    assert not seen[sub.tokenizer.piece_to_id("<s>")]


def test_save_load_keeps_the_tokenizer(sub, tmp_path):
    path = tmp_path / "sub.ekv"
    sub.save(path)
    back = ek.load(path)
    assert isinstance(back, SubwordEmbeddings) and back.words == sub.words
    assert back.tokenizer.vocab == sub.tokenizer.vocab
    np.testing.assert_array_equal(back["woodhose"], sub["woodhose"])
    assert back.most_similar("harriett", 3) == sub.most_similar("harriett", 3)
    import zipfile

    with zipfile.ZipFile(path) as zf:  # the common .ekv layout plus the sentencepiece model
        assert sorted(zf.namelist()) == ["keys.json", "meta.json", "tokenizer.model", "vectors.npy", "words.json"]
    vec = tmp_path / "words.vec"
    sub.word_embeddings().export(vec)  # plain word vectors for other tools
    words = ek.load(vec)
    assert words.keys == sub.words and words.dim == 50


def test_evaluators_use_words_not_pieces(sub, tmp_path):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("woodhouse woodhose 9\nwoodhouse tuesday 1\nharriet harriett 9\nharriet clever 2\n"
                     "emma emmma 9\nemma parsley 1\n")
    metrics = ek.evaluate.similarity(sub, str(pairs))
    assert metrics["coverage"] == 1.0 and metrics["oov_pairs"] == 0 and metrics["pairs"] == 6
    assert metrics["spearman"] > 0.5  # measured 0.74: each typo pair above its word's unrelated pair
    for word, typo, other in [("woodhouse", "woodhose", "tuesday"), ("harriet", "harriett", "clever"),
                              ("emma", "emmma", "parsley")]:
        assert sub.similarity(word, typo) > sub.similarity(word, other)
    analogies = tmp_path / "analogies.txt"
    analogies.write_text(": family\nmr mrs he she\n")
    assert ek.evaluate.analogy(sub, str(analogies))["total"] == 1  # over words, not pieces


def test_a_given_tokenizer_is_used(emma, tmp_path):
    tok = ek.train("bpe", emma, vocab_size=600, lowercase=True, workers=1, verbose=False)
    a = ek.train("subword", emma, tokenizer=tok, dim=8, epochs=1, workers=1, verbose=False)
    assert a.keys == tok.vocab
    tok.save(tmp_path / "t.model")
    b = ek.train("subword", emma, tokenizer=str(tmp_path / "t.model"), dim=8, epochs=1, workers=1, verbose=False)
    np.testing.assert_array_equal(a.vectors, b.vectors)
    with pytest.raises(ek.InvalidParameterError, match="'tokenizer' must be a Tokenizer"):
        ek.train("subword", emma, tokenizer=5)


def test_piece_stream_replaces_each_token_by_one_of_its_segmentations(sub):
    words = ["emma", "woodhouse", "handsome", "clever"]
    ptr, flat, k = segmentations(sub.tokenizer, words, dropout=0.5, samples=3, seed=1)
    assert k == 4 and ptr.shape == (k * len(words) + 1,)
    segs = [[tuple(flat[ptr[v * 4 + w]:ptr[v * 4 + w + 1]]) for v in range(k)] for w in range(4)]
    assert all(s[0] == tuple(sub.tokenizer.encode_ids(words[w])) for w, s in enumerate(segs))
    assert len({s for ss in segs for s in ss}) > 4  # dropout samples differ from the deterministic ones
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 4, 200).astype(np.int32)
    offsets = np.array([0, 50, 120, 200], dtype=np.int64)
    pieces, piece_offsets, counts = piece_stream(tokens, offsets, ptr, flat, k, 4, len(sub), seed=0, chunk=37)
    assert counts.sum() == pieces.size == piece_offsets[-1] and np.array_equal(counts, np.bincount(pieces, minlength=len(sub)))
    at = 0  # walk the stream: every token's pieces are one of its word's segmentations
    for t in tokens:
        match = [s for s in segs[t] if tuple(pieces[at:at + len(s)]) == s]
        assert match
        at += len(match[0])
    assert at == pieces.size
    again = piece_stream(tokens, offsets, ptr, flat, k, 4, len(sub), seed=0, chunk=1000)
    np.testing.assert_array_equal(again[0], pieces)  # chunking does not change the draw per token
    np.testing.assert_array_equal(again[1], piece_offsets)


def test_cli_train_subword_and_neighbors(tmp_path):
    from click.testing import CliRunner

    from embedkit_cli.main import cli

    corpus = tmp_path / "emma.txt.gz"
    corpus.write_bytes(ek.datasets.path("austen-emma.txt.gz").read_bytes())
    out = tmp_path / "emma.ekv"
    runner = CliRunner()
    res = runner.invoke(cli, ["train", "subword", str(corpus), "-o", str(out), "--vocab-size", "1500", "--dim", "16",
                              "--epochs", "1", "--unit", "paragraph", "--workers", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    assert isinstance(ek.load(out), SubwordEmbeddings)
    res = runner.invoke(cli, ["neighbors", str(out), "woodhose", "-k", "3"])
    assert res.exit_code == 0 and "woodhose" in res.output


@pytest.mark.data
def test_rare_word_similarity_has_full_coverage(shared_data):
    """Stanford Rare Words (Luong, Socher & Manning 2013), 2034 pairs: every word gets a vector.
    Trained on 20 Gutenberg books (1.02M tokens): Spearman 0.176 over all 2034 pairs (measured, seed 0;
    0.130 with spelling_weight=0). A word-level skip-gram on the same text covers 8% of the pairs
    (Spearman 0.276 on those)."""
    books = sorted((shared_data / "gutenberg-top100-authors" / "books").glob("*.txt.gz"))[:20]
    corpus = ek.read_text(books, unit="paragraph")
    sub = ek.train("subword", corpus, vocab_size=8000, dim=100, epochs=3, workers=1, seed=0, verbose=False)
    rw = ek.evaluate.similarity(sub, shared_data / "word-similarity" / "EN-RW-STANFORD.txt")
    print(f"RW: spearman {rw['spearman']:.3f} over {rw['pairs']} pairs")
    assert rw["coverage"] == 1.0 and rw["pairs"] == 2034 and rw["oov_pairs"] == 0
    assert rw["spearman"] > 0.13
