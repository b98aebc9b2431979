"""Subword embeddings (fastText's model): word meaning from context, misspellings near their word,
vectors for any string, the units, save/load."""
from __future__ import annotations

import zipfile

import numpy as np
import pytest

import embedkit as ek
from embedkit.engines.skipgram import SGNSConfig, train_sgns
from embedkit.text._units import char_ngram_units, piece_trees
from embedkit.text.subword import SubwordEmbeddings, unit_table

#: small enough for a test, big enough to learn: Emma (161k tokens), 2000 pieces, dim 50
SETTINGS = dict(vocab_size=2000, dim=50, epochs=5, workers=1, seed=0, verbose=False)


@pytest.fixture(scope="module")
def emma():
    return ek.datasets.load_text("emma")


@pytest.fixture(scope="module")
def sub(emma) -> SubwordEmbeddings:
    return ek.train("subword", emma, units="bpe", **SETTINGS)


@pytest.fixture(scope="module")
def sub_char(emma) -> SubwordEmbeddings:
    return ek.train("subword", emma, units="char", **SETTINGS)


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


def _planted(seed=0, n=3000):
    """Sentences about two topics. Within a topic, two invented words of unrelated spelling
    (``zorbel``/``quaffin`` and ``mintrax``/``plodwick``) appear in the same contexts."""
    rng = np.random.default_rng(seed)
    topics = {0: (["zorbel", "quaffin"], [f"river{i}" for i in range(12)]),
              1: (["mintrax", "plodwick"], [f"stone{i}" for i in range(12)])}
    out = []
    for _ in range(n):
        words, ctx = topics[int(rng.integers(2))]
        sent = list(rng.choice(ctx, 6))
        sent.insert(3, words[int(rng.integers(2))])
        out.append(sent)
    return out


@pytest.mark.parametrize("backend", ["numba", "torch"])
@pytest.mark.parametrize("units", ["bpe", "char"])
def test_words_that_share_contexts_get_close_vectors(units, backend):
    """The word-level context prediction survives the subword units, on both engines (numba's
    per-pair updates, torch's minibatches): two words spelled nothing alike but used in the same
    contexts are nearer each other than either is to the other topic's words (measured, seed 0:
    within a topic cosine 0.999 for all four, across topics at most 0.27 with BPE units and 0.16
    with character n-grams)."""
    data = _planted()
    emb = ek.train("subword", data, units=units, vocab_size=300, dim=16, epochs=5, min_count=1, workers=1,
                   seed=0, verbose=False, backend=backend)
    same = min(emb.similarity("zorbel", "quaffin"), emb.similarity("mintrax", "plodwick"))
    across = max(emb.similarity(a, b) for a in ("zorbel", "quaffin") for b in ("mintrax", "plodwick"))
    assert same > 0.8 and same > across + 0.3, (same, across)
    # the river words share those contexts too (all of a topic's words end near 0.999 apart), so the
    # nearest neighbours are the topic's words, in an order the planted data does not decide
    for word, topic in (("zorbel", ("quaffin", "river")), ("mintrax", ("plodwick", "stone"))):
        assert all(w.startswith(topic) for w, _ in emb.most_similar(word, k=5)), emb.most_similar(word, k=5)


@pytest.mark.parametrize("fixture", ["sub", "sub_char"])
def test_misspellings_land_near_their_word(fixture, request, emma):
    """300 unseen one-edit typos of Emma's frequent words: the typo is nearer its word than a random
    frequent word in most comparisons (measured, seed 0: 0.954 with BPE units, 0.934 with char
    n-grams) and nearer its word than all 10 random words for most typos (0.837 and 0.793). A
    word-level model has no vector for any of them."""
    sub = request.getfixturevalue(fixture)
    pairs, frequent, rng = _typos(sub, emma)
    typos = _unit(sub.vectors_for([t for _, t in pairs]))
    right = _unit(sub.vectors_for([w for w, _ in pairs]))
    others = _unit(sub.vectors_for(frequent))[rng.integers(0, len(frequent), (300, 10))]
    wins = np.einsum("nd,nd->n", typos, right)[:, None] > np.einsum("nd,nkd->nk", typos, others)
    assert wins.mean() > 0.9
    assert wins.all(axis=1).mean() > 0.7
    words = ek.train("skipgram", emma, dim=10, epochs=1, workers=1, verbose=False)
    assert not any(t in words for _, t in pairs)
    assert sub[pairs[0][1]].shape == (50,)


def test_a_vector_for_any_string(sub):
    assert sub.keys == sub.words and sub.vectors.shape == (len(sub.words), 50)
    assert set(sub.words[:3]) == {"the", "to", "and"}  # Emma's words, most frequent first
    for text in ("emma", "zxqvbn", "naïveté", "\u2603"):
        assert text in sub
        v = sub[text]
        assert v.dtype == np.float32 and v.shape == (50,) and np.isfinite(v).all() and np.linalg.norm(v) > 0
    assert "" not in sub
    with pytest.raises(ek.KeyNotFoundError, match="no subword unit"):
        sub[""]
    assert sub.get("", "none") == "none"
    assert sub.similarity("woodhouse", "woodhose") > sub.similarity("woodhouse", "tuesday")
    assert np.array_equal(sub.vectors_for(["", "emma"])[0], np.zeros(50, np.float32))
    assert "weston" not in [w for w, _ in sub.most_similar("weston")]  # the query is left out


@pytest.mark.parametrize("fixture", ["sub", "sub_char"])
def test_unknown_strings_get_the_mean_of_their_units(fixture, request):
    """An unknown string's vector is the mean of its trained units' vectors, recomputed here from
    the units (BPE: its pieces and their merge trees; char: fastText's n-gram hashes)."""
    sub = request.getfixturevalue(fixture)
    for text in ("woodhose", "unpersuadable", "misspeled"):
        assert text not in sub.words
        if sub.units == "char":
            _, keys = char_ngram_units([text], 3, 6, sub.buckets)
        else:
            tptr, tids = piece_trees(sub.tokenizer)
            keys = np.concatenate([tids[tptr[p]:tptr[p + 1]] for p in sub.tokenizer.encode_ids(text)])
        rows = [int(np.searchsorted(sub.unit_keys, k)) for k in keys]
        rows = [r for r, k in zip(rows, keys) if r < sub.unit_keys.size and sub.unit_keys[r] == k]
        assert rows
        np.testing.assert_allclose(sub[text], sub.unit_vectors[rows].mean(axis=0), rtol=1e-5, atol=1e-6)
    # a listed word's vector is its own row and its units' averaged, so it differs from its units' mean
    assert not np.allclose(sub["woodhouse"], sub._compose(["woodhouse"])[0][0])


def test_char_ngrams_hash_as_fasttext_and_gensim():
    from gensim.models.fasttext_inner import compute_ngrams_bytes, ft_hash_bytes

    words = ["house", "naïve", "a", "étude"]
    ptr, keys = char_ngram_units(words, 3, 6, 2_000_000)
    for i, w in enumerate(words):
        expect = sorted(ft_hash_bytes(b) % 2_000_000 for b in compute_ngrams_bytes(w, 3, 6))
        assert sorted(keys[ptr[i]:ptr[i + 1]].tolist()) == expect


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_unit_table_and_the_engine_update_every_row(backend):
    """The engine's input for word w is the mean of its rows (own + units); training moves the
    shared unit rows, and a unit no word uses is never touched (both engines that take units)."""
    word_ptr = np.array([0, 2, 3, 5])
    word_keys = np.array([7, 9, 9, 7, 4])
    ptr, idx, n_rows, keys, rows = unit_table(word_ptr, word_keys, 3)
    assert keys.tolist() == [4, 7, 9] and n_rows == 6 and rows.tolist() == [3, 4, 5]
    assert [idx[ptr[w]:ptr[w + 1]].tolist() for w in range(3)] == [[0, 4, 5], [1, 5], [2, 4, 3]]
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 3, 2000).astype(np.int32)
    offsets = np.array([0, 1000, 2000], dtype=np.int64)
    cfg = SGNSConfig(dim=8, window=2, negatives=2, sample=0, epochs=1, workers=1, seed=0)
    table = train_sgns(tokens, offsets, np.bincount(tokens, minlength=3), cfg, units=(ptr, idx, n_rows + 1),
                       backend=backend)
    from embedkit.engines.skipgram import _init_vectors

    init = _init_vectors(n_rows + 1, 8, 0)
    moved = np.abs(table - init).sum(axis=1) > 1e-4
    assert table.shape == (7, 8) and moved[:6].all() and not moved[6]


def test_units_need_skip_gram_on_an_engine_that_takes_them():
    ptr, idx = np.array([0, 1, 2]), np.array([0, 1])
    tokens, offsets = np.array([0, 1, 0, 1], dtype=np.int32), np.array([0, 4])
    cfg = SGNSConfig(dim=8, window=2, negatives=2, sample=0, epochs=1, workers=1, seed=0)
    with pytest.raises(ek.InvalidParameterError, match="'numba' or 'torch'"):
        train_sgns(tokens, offsets, np.ones(2), cfg, backend="gensim", units=(ptr, idx, 2))
    with pytest.raises(ek.InvalidParameterError, match="cbow"):
        train_sgns(tokens, offsets, np.ones(2), SGNSConfig(dim=8, sg=False), backend="torch", units=(ptr, idx, 2))


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_rare_words_are_centers_only(backend):
    """Ids from n_out on (the subword method's rare words) train their rows as centers, and the
    engine's output table has n_out rows: on torch, predicting such an id or drawing it as a
    noise word would index past it and raise."""
    from embedkit.engines.skipgram import _init_vectors, sgns_training
    from embedkit.training import Options, run

    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 4, 3000).astype(np.int32)
    offsets = np.array([0, 1500, 3000], dtype=np.int64)
    ptr, idx = np.arange(5), np.arange(4)
    cfg = SGNSConfig(dim=8, window=2, negatives=2, sample=0, epochs=1, workers=1, seed=0)
    tr = sgns_training(tokens, offsets, np.bincount(tokens, minlength=4), cfg, backend=backend,
                       units=(ptr, idx, 4, 3))
    run(tr, "skip-gram", Options(epochs=1, verbose=False))
    assert tr.output_vectors().shape == (3, 8)
    assert np.abs(tr.vectors()[3] - _init_vectors(4, 8, 0)[3]).sum() > 1e-3  # the rare id's row learned


def test_save_load_keeps_the_tokenizer_and_the_units(sub, sub_char, tmp_path):
    for emb, members in ((sub, {"tokenizer.model"}), (sub_char, set())):
        path = tmp_path / f"{emb.units}.ekv"
        emb.save(path)
        back = ek.load(path)
        assert isinstance(back, SubwordEmbeddings) and back.words == emb.words and back.units == emb.units
        np.testing.assert_array_equal(back["woodhose"], emb["woodhose"])
        assert back.most_similar("harriett", 3) == emb.most_similar("harriett", 3)
        with zipfile.ZipFile(path) as zf:  # the common .ekv layout plus the units (and sentencepiece model)
            assert set(zf.namelist()) == {"keys.json", "meta.json", "vectors.npy", "unit_keys.npy",
                                          "unit_vectors.npy"} | members
    assert back.tokenizer is None and ek.load(tmp_path / "bpe.ekv").tokenizer.vocab == sub.tokenizer.vocab
    vec = tmp_path / "words.vec"
    sub.export(vec)  # plain word vectors for other tools
    words = ek.load(vec)
    assert words.keys == sub.words and words.dim == 50


def test_evaluators_score_every_pair(sub, tmp_path):
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("woodhouse woodhose 9\nwoodhouse tuesday 1\nharriet harriett 9\nharriet clever 2\n"
                     "emma emmma 9\nemma parsley 1\n")
    metrics = ek.evaluate.similarity(sub, str(pairs))
    assert metrics["coverage"] == 1.0 and metrics["oov_pairs"] == 0 and metrics["pairs"] == 6
    for word, typo, other in [("woodhouse", "woodhose", "tuesday"), ("harriet", "harriett", "clever"),
                              ("emma", "emmma", "parsley")]:
        assert sub.similarity(word, typo) > sub.similarity(word, other)
    analogies = tmp_path / "analogies.txt"
    analogies.write_text(": family\nmr mrs he she\n")
    assert ek.evaluate.analogy(sub, str(analogies))["total"] == 1


def test_a_given_tokenizer_is_used(emma, tmp_path):
    tok = ek.train("bpe", emma, vocab_size=600, lowercase=True, workers=1, verbose=False)
    a = ek.train("subword", emma, tokenizer=tok, dim=8, epochs=1, workers=1, verbose=False)
    assert a.units == "bpe" and a.tokenizer.vocab == tok.vocab and a.unit_keys.max() < 600
    assert ek.train("subword", emma, dim=8, epochs=1, workers=1, verbose=False).units == "char"  # the default
    tok.save(tmp_path / "t.model")
    b = ek.train("subword", emma, tokenizer=str(tmp_path / "t.model"), dim=8, epochs=1, workers=1, verbose=False)
    np.testing.assert_array_equal(a.vectors, b.vectors)
    with pytest.raises(ek.InvalidParameterError, match="'tokenizer' must be a Tokenizer"):
        ek.train("subword", emma, tokenizer=5)
    with pytest.raises(ek.InvalidParameterError, match="max_n"):
        ek.train("subword", emma, units="char", min_n=4, max_n=3)


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
    Trained on 20 Gutenberg books (1.02M tokens), character n-grams: Spearman 0.186 over all 2034
    pairs (measured, seed 0; 0.223 at fastText's learning rate, the default since issue 21)."""
    books = sorted((shared_data / "gutenberg-top100-authors" / "books").glob("*.txt.gz"))[:20]
    corpus = ek.read_text(books, unit="paragraph")
    sub = ek.train("subword", corpus, vocab_size=8000, dim=100, epochs=3, workers=1, seed=0, verbose=False)
    rw = ek.evaluate.similarity(sub, shared_data / "word-similarity" / "EN-RW-STANFORD.txt")
    print(f"RW: spearman {rw['spearman']:.3f} over {rw['pairs']} pairs")
    assert rw["coverage"] == 1.0 and rw["pairs"] == 2034 and rw["oov_pairs"] == 0
    assert rw["spearman"] > 0.15


def _rare_planted(seed=0, n=3000):
    """Two topics (river and stone context words); each topic has 40 invented words seen only
    twice each, spelled on a stem of their own (``zorbl`` for rivers, ``quaxt`` for stones) with
    other letters around it: below min_count, they are no word of the vocabulary."""
    rng = np.random.default_rng(seed)
    letters = list("abcdefghijklmnopqrstuvwxyz")
    rare = {t: [stem + "".join(rng.choice(letters, 3)) for _ in range(40)]
            for t, stem in ((0, "zorbl"), (1, "quaxt"))}
    ctx = {0: [f"river{i}" for i in range(12)], 1: [f"stone{i}" for i in range(12)]}
    out = []
    for t in (0, 1):
        for w in rare[t] * 2:
            sent = list(rng.choice(ctx[t], 6))
            sent.insert(3, w)
            out.append(sent)
    for _ in range(n):
        t = int(rng.integers(2))
        out.append(list(rng.choice(ctx[t], 7)))
    order = rng.permutation(len(out))
    return [out[i] for i in order]


def test_rare_words_train_their_units():
    """train_rare: words below min_count train their character n-grams as centers, so an unseen
    word on a rare words' stem lands among that stem's topic (measured, seed 0: cosine 0.99 to its
    topic's words, 0.21 to the other's); without it those n-grams are never trained: no vector."""
    data = _rare_planted()
    kw = dict(units="char", dim=16, epochs=5, min_count=3, workers=1, seed=0, verbose=False)
    emb = ek.train("subword", data, train_rare=True, **kw)
    assert emb.meta["rare_words_trained"] == 80 and "zorblabc" not in emb.words
    rivers = emb.vectors_for([f"river{i}" for i in range(12)])
    stones = emb.vectors_for([f"stone{i}" for i in range(12)])
    for word, own, other in (("zorblxyz", rivers, stones), ("quaxtxyz", stones, rivers)):
        v = _unit(emb.vector(word))
        near, far = float((_unit(own) @ v).mean()), float((_unit(other) @ v).mean())
        assert near > far + 0.3, (word, near, far)
    off = ek.train("subword", data, **kw)  # the default: rare words dropped, as fastText does
    assert off.meta["rare_words_trained"] == 0 and off.unit_keys.size < emb.unit_keys.size
    with pytest.raises(ek.KeyNotFoundError):
        off.vector("zorblxyz")  # none of its n-grams with the stem was trained: only "<zo"-like ones
    # the vocabulary's words are the same either way and keep their own vectors
    assert off.words == emb.words


def test_unit_table_gives_rare_words_their_units_only():
    word_ptr = np.array([0, 2, 3, 5])
    word_keys = np.array([7, 9, 9, 7, 4])
    ptr, idx, n_rows, keys, rows = unit_table(word_ptr, word_keys, 3, num_own=2)
    assert keys.tolist() == [4, 7, 9] and n_rows == 5 and rows.tolist() == [2, 3, 4]
    assert [idx[ptr[w]:ptr[w + 1]].tolist() for w in range(3)] == [[0, 3, 4], [1, 4], [3, 2]]


def test_unit_table_lays_the_most_used_units_out_first():
    """With weights (how often each word is a center) the unit rows go hottest first; every word
    keeps exactly its units, and unit_rows says where each sorted key lives."""
    word_ptr = np.array([0, 2, 3, 5])
    word_keys = np.array([7, 9, 9, 7, 4])
    ptr, idx, n_rows, keys, rows = unit_table(word_ptr, word_keys, 3, weights=np.array([1.0, 10.0, 3.0]))
    # uses: key 4 -> 3 (word 2), key 7 -> 1 + 3 = 4, key 9 -> 1 + 10 = 11: rows 9, 7, 4 in that order
    assert keys.tolist() == [4, 7, 9] and n_rows == 6 and rows.tolist() == [5, 4, 3]
    assert [idx[ptr[w]:ptr[w + 1]].tolist() for w in range(3)] == [[0, 4, 3], [1, 3], [2, 4, 5]]
    key_of_row = np.full(n_rows, -1)
    key_of_row[rows] = keys
    for w in range(3):  # the same units as without weights, at their new rows
        got = sorted(key_of_row[idx[ptr[w] + 1:ptr[w + 1]]].tolist())
        assert got == sorted(word_keys[word_ptr[w]:word_ptr[w + 1]].tolist())


def test_shared_noise_words_learn_too():
    """shared_negatives=True draws the noise words for every 2 context words (pWord2Vec's sharing)
    instead of for every (center, context) pair as fastText does (the default): it learns the
    planted topics as the default does, with other vectors."""
    data = _planted()
    kw = dict(units="char", dim=16, epochs=5, min_count=1, workers=1, seed=0, verbose=False)
    shared = ek.train("subword", data, shared_negatives=True, **kw)
    same = min(shared.similarity("zorbel", "quaffin"), shared.similarity("mintrax", "plodwick"))
    across = max(shared.similarity(a, b) for a in ("zorbel", "quaffin") for b in ("mintrax", "plodwick"))
    assert same > 0.8 and same > across + 0.3, (same, across)
    assert not np.array_equal(shared.vectors, ek.train("subword", data, **kw).vectors)
