"""init= / freeze_existing= of the skip-gram family (issue 20): a vocabulary update on words,
and walks restricted to the affected region of a grown graph. Known answers: a new word lands
among its planted synonyms; a planted new community joins the right neighbours."""
import logging

import numpy as np
import pytest

import embedkit as ek
from embedkit.datasets.synthetic import planted_text
from embedkit.exceptions import InvalidParameterError

NEW = "bigg"  # a new word used exactly where "big" was: its planted synonym is "large"


@pytest.fixture(scope="module")
def texts():
    old = [s for s in planted_text(4000, seed=0).sentences if "big" not in s]
    new = [[NEW if w == "big" else w for w in s] for s in planted_text(2000, seed=1).sentences]
    return old, new


KW = dict(dim=24, epochs=5, min_count=1, workers=1, verbose=False, seed=0)


def _lands_among_synonyms(emb):
    top = [k for k, _ in emb.most_similar(NEW, 5)]
    assert "large" in top, top
    u = emb.normalized()
    # the planted synonym is closer than every word of the other synonym groups
    others = ["car", "automobile", "quick", "fast", "doctor", "physician"]
    assert u[NEW] @ u["large"] > max(u[NEW] @ u[w] for w in others)


@pytest.mark.parametrize("method,backend", [("skipgram", "numba"), ("cbow", "numba"), ("skipgram", "torch"),
                                            ("cbow", "torch")])
@pytest.mark.parametrize("freeze", [False, True])
def test_new_word_lands_among_its_synonyms(texts, method, backend, freeze):
    old, new = texts
    a = ek.train(method, old, backend=backend, **KW)
    assert NEW not in a
    b = ek.train(method, new, init=a, freeze_existing=freeze, backend=backend, **KW)
    assert len(b) == len(a) + 1 and b.meta["continued"]["new_keys"] == 1
    _lands_among_synonyms(b)
    same = [np.array_equal(a[k], b[k]) for k in a.keys]
    if freeze:
        assert all(same)  # every old row bit for bit
    else:
        assert not any(same[:10])  # the old rows trained on
        u, v = a.normalized(), b.normalized()
        assert np.mean([u[k] @ v[k] for k in a.keys]) > 0.9  # ... from where they were


def test_counts_merge_and_absent_keys_are_kept(texts):
    old, new = texts
    a = ek.train("skipgram", old, **KW)
    no_doctor = [s for s in new if "doctor" not in s]
    b = ek.train("skipgram", no_doctor, init=a, **KW)
    # "doctor" is absent from the new text: appended, its vector kept bit for bit, its count kept
    assert b.keys[-1] == "doctor" and b.meta["continued"]["absent_keys"] == 1
    assert np.array_equal(b["doctor"], a["doctor"])
    counts_a = dict(zip(a.keys, a.meta["counts"]))
    counts_b = dict(zip(b.keys, b.meta["counts"]))
    n_the = sum(s.count("the") for s in no_doctor)
    assert counts_b["the"] == counts_a["the"] + n_the
    assert counts_b[NEW] == sum(s.count(NEW) for s in no_doctor)
    assert counts_b["doctor"] == counts_a["doctor"]


def test_init_from_a_saved_file(texts, tmp_path, caplog):
    old, new = texts
    a = ek.train("cbow", old, **KW)
    a.save(tmp_path / "a.ekv")
    loaded = ek.load(tmp_path / "a.ekv")
    b = ek.train("cbow", new, init=loaded, freeze_existing=True, **KW)
    assert b.meta["continued"]["output_vectors"] == "restarted at zero"
    assert all(np.array_equal(a[k], b[k]) for k in a.keys)
    _lands_among_synonyms(b)
    # a previous result without counts: said in a warning, the new counts only
    bare = ek.Embeddings(a.keys, a.vectors)
    with caplog.at_level(logging.WARNING, logger="embedkit"):
        c = ek.train("cbow", new, init=bare, **KW)
    assert "no word/node counts" in caplog.text
    assert dict(zip(c.keys, c.meta["counts"]))["the"] == sum(s.count("the") for s in new)


def test_refusals(texts):
    old, new = texts
    a = ek.train("skipgram", old, **KW)
    with pytest.raises(InvalidParameterError, match="freeze_existing"):
        ek.train("skipgram", new, freeze_existing=True, **KW)
    with pytest.raises(InvalidParameterError, match="dim"):
        ek.train("skipgram", new, init=a, **{**KW, "dim": 8})
    with pytest.raises(InvalidParameterError, match="init"):
        ek.train("skipgram", new, init="a.ekv", **KW)
    with pytest.raises(InvalidParameterError, match="gensim"):
        ek.train("skipgram", new, init=a, backend="gensim", **KW)
