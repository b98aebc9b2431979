"""skipgram and cbow learn: planted analogies are solved and planted synonyms rank first,
on every backend."""
from __future__ import annotations

import numpy as np
import pytest

import embedkit as ek
from embedkit.datasets.synthetic import planted_text

PLANTED = planted_text(8000, seed=0)


def solved_fraction(emb: ek.Embeddings) -> tuple[float, float]:
    """(share of planted analogies answered right by 3CosAdd, share of synonyms ranked first)."""
    analogies = np.mean([emb.analogy(a, b, c, k=1)[0][0] == d for a, b, c, d in PLANTED.analogies])
    neighbours = np.mean([emb.most_similar(w, k=1)[0][0] == other for w, other in PLANTED.neighbours.items()])
    return float(analogies), float(neighbours)


@pytest.mark.parametrize("backend", ["numba", "torch", "gensim"])
@pytest.mark.parametrize("name", ["skipgram", "cbow"])
def test_planted_analogies_and_synonyms_are_learned(name, backend):
    emb = ek.train(name, PLANTED.sentences, min_count=1, dim=32, epochs=5, seed=0, backend=backend,
                   device="cpu", workers=2, verbose=False)
    analogies, neighbours = solved_fraction(emb)
    assert analogies >= 0.9, f"{name}/{backend}: {analogies:.2f} of the planted analogies"
    assert neighbours == 1.0


def test_random_vectors_do_not_solve_the_planted_analogies():
    words = ek.read_text(PLANTED.sentences, min_count=1).vocab
    rng = np.random.default_rng(0)
    analogies, neighbours = solved_fraction(ek.Embeddings(words, rng.normal(size=(len(words), 32))))
    assert analogies < 0.3 and neighbours < 0.5


@pytest.mark.parametrize("name", ["skipgram", "cbow"])
def test_torch_backend_is_repeatable_on_the_cpu(name):
    kw = dict(min_count=1, dim=16, epochs=1, backend="torch", device="cpu", verbose=False)
    a = ek.train(name, PLANTED.sentences[:2000], seed=5, **kw)
    b = ek.train(name, PLANTED.sentences[:2000], seed=5, **kw)
    np.testing.assert_array_equal(a.vectors, b.vectors)


def test_shared_negatives_skipgram_also_learns():
    emb = ek.train("skipgram", PLANTED.sentences, min_count=1, dim=32, epochs=5, seed=0, backend="numba",
                   shared_negatives=True, workers=2, verbose=False)
    analogies, neighbours = solved_fraction(emb)
    assert analogies >= 0.9 and neighbours == 1.0


def test_vocabulary_order_meta_and_min_count(tmp_path):
    emb = ek.train("cbow", PLANTED.sentences[:3000], min_count=1, dim=8, epochs=1, verbose=False)
    corpus = ek.read_text(PLANTED.sentences[:3000], min_count=1)
    assert emb.keys == corpus.vocab  # most frequent first, as word2vec files are
    assert emb.meta["vocab_size"] == len(corpus.vocab) and emb.meta["words_per_s"] > 0
    # min_count given to the method overrides the corpus's own
    rare_cut = ek.train("cbow", corpus, min_count=200, dim=8, epochs=1, verbose=False)
    counts = corpus.word_counts()
    assert set(rare_cut.keys) == {w for w, c in counts.items() if c >= 200}


@pytest.mark.parametrize("name", ["skipgram", "cbow"])
def test_real_text_neighbours_on_the_shipped_novel(name):
    """Jane Austen's Emma (157k words): pronouns and kinship words find their kind."""
    emb = ek.train(name, ek.datasets.load_text("emma"), dim=50, epochs=10, seed=0, workers=1, verbose=False)
    assert "he" in [w for w, _ in emb.most_similar("she", k=3)]
    kin = {"son", "brother", "mother", "uncle", "sister", "daughter", "husband", "wife"}
    assert kin & {w for w, _ in emb.most_similar("father", k=5)}
