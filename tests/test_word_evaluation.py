"""Word analogies and word similarity: planted answers, OOV accounting, file formats, gensim parity."""
from __future__ import annotations

import numpy as np
import pytest
from gensim.test.utils import datapath

import embedkit as ek
from embedkit.evaluate.analogy import read_analogies
from embedkit.evaluate.similarity import read_word_pairs
from embedkit.exceptions import EmptyInputError, InputFormatError, InvalidParameterError, KeyNotFoundError

GOOGLE = datapath("questions-words.txt")


@pytest.fixture(scope="module")
def google_vectors() -> ek.Embeddings:
    """Vectors for every word of the Google analogy set, with each section's relation planted as an
    offset (``y = x + offset + noise``, the first time ``y`` is seen), so answers are right for many
    questions and wrong for others. 50 lower-cased variants of capitalised words are added: half
    almost equal to their word (the evaluation must exclude them with it), half random (the row
    that comes first is the word's vector). Rows are shuffled."""
    rng = np.random.default_rng(0)
    dim = 32
    vec: dict[str, np.ndarray] = {}
    for qs in read_analogies(GOOGLE).values():
        offset = rng.normal(size=dim)
        for q in qs:
            for x, y in ((q[0], q[1]), (q[2], q[3])):
                vec.setdefault(x, rng.normal(size=dim))
                vec.setdefault(y, vec[x] + offset + 0.3 * rng.normal(size=dim))
    words = sorted(vec)
    variants = [w.lower() for w in words if w != w.lower()][::8][:50]
    keys = words + variants + [f"noise{i}" for i in range(100)]
    rows = [vec[w] for w in words]
    rows += [vec[v.capitalize()] + 0.01 * rng.normal(size=dim) if i % 2 else rng.normal(size=dim)
             for i, v in enumerate(variants)]
    rows += list(rng.normal(size=(100, dim)))
    perm = rng.permutation(len(keys))
    return ek.Embeddings([keys[i] for i in perm], np.array(rows)[perm])


def _gensim_sections(sections):
    out = {}
    for s in sections[:-1]:
        c, i = len(s["correct"]), len(s["incorrect"])
        out[s["section"]] = (c / (c + i) if c + i else None, c + i)
    return out


@pytest.mark.parametrize("restrict_vocab", [None, 700])
def test_analogy_matches_gensim_evaluate_word_analogies(google_vectors, restrict_vocab):
    m = ek.evaluate.analogy(google_vectors, restrict_vocab=restrict_vocab)
    score, sections = google_vectors.to_gensim().evaluate_word_analogies(GOOGLE, restrict_vocab=restrict_vocab or
                                                                         len(google_vectors))
    total = sections[-1]
    assert m["correct"] == len(total["correct"])
    assert m["answered"] == len(total["correct"]) + len(total["incorrect"])
    assert m["accuracy"] == pytest.approx(score)
    assert m["total"] == 19544 and m["oov"] == m["total"] - m["answered"]
    assert m["coverage"] == pytest.approx(m["answered"] / 19544)
    if restrict_vocab is None:
        assert m["answered"] == 19544
    else:
        assert 0 < m["answered"] < 19544 and m["restrict_vocab"] == 700
    assert 0.3 < m["accuracy"] < 0.95  # a mix of right and wrong answers
    for name, (acc, answered) in _gensim_sections(sections).items():
        assert m[f"section/{name}/answered"] == answered, name
        assert m[f"section/{name}"] == (None if acc is None else pytest.approx(acc)), name
    assert {"semantic_accuracy", "syntactic_accuracy"} <= set(m) and m.primary == "accuracy"
    assert "scoring=3cosadd" in repr(m) and "dataset=google" in repr(m)


def test_3cosmul_matches_gensim_most_similar_cosmul(google_vectors):
    kv = google_vectors.to_gensim()
    questions = read_analogies(GOOGLE)["capital-world"][:20] + read_analogies(GOOGLE)["gram3-comparative"][:20]
    for a, b, c, _ in questions:
        ours = google_vectors.analogy(a, b, c, k=3, scoring="3cosmul")
        theirs = kv.most_similar_cosmul(positive=[b, c], negative=[a], topn=3)
        assert [k for k, _ in ours] == [k for k, _ in theirs]
        np.testing.assert_allclose([s for _, s in ours], [s for _, s in theirs], rtol=1e-2)
        ours = google_vectors.analogy(a, b, c, k=3)
        assert [k for k, _ in ours] == [k for k, _ in kv.most_similar(positive=[b, c], negative=[a], topn=3)]
    m = ek.evaluate.analogy(google_vectors, scoring="3cosmul", restrict_vocab=700, batch_size=100)
    assert m["scoring"] == "3cosmul" and 0.3 < m["accuracy"] < 0.95


def _planted_gender(noise: float = 0.05, seed: int = 0) -> ek.Embeddings:
    """man/woman, king/queen, ...: female = male + one 'gender' direction (+ noise)."""
    rng = np.random.default_rng(seed)
    pairs = [("man", "woman"), ("king", "queen"), ("boy", "girl"), ("brother", "sister"),
             ("father", "mother"), ("uncle", "aunt"), ("prince", "princess"), ("husband", "wife")]
    gender = 2 * rng.normal(size=16)
    keys, rows = [], []
    for m, f in pairs:
        v = rng.normal(size=16)
        keys += [m, f]
        rows += [v, v + gender + noise * rng.normal(size=16)]
    keys += ["apple", "river", "Woman"]
    rows += list(rng.normal(size=(3, 16)))
    return ek.Embeddings(keys, np.array(rows))


def test_planted_analogies_are_all_right_and_oov_is_counted(tmp_path):
    emb = _planted_gender()
    f = tmp_path / "gender.txt"
    f.write_text(": family\nman woman king queen\nking queen boy girl\nfather mother uncle aunt\n"
                 "\n# a comment\nprince princess husband wife\nman woman dog bitch\n"
                 ": gram-plural\nking kings man men\n")
    for method in ("3cosadd", "3cosmul"):
        m = ek.evaluate.analogy(emb, dataset=str(f), scoring=method, batch_size=2)
        assert m["accuracy"] == 1.0 and m["correct"] == m["answered"] == 4
        assert m["total"] == 6 and m["oov"] == 2 and m["coverage"] == pytest.approx(4 / 6)
        assert m["section/family"] == 1.0 and m["section/family/answered"] == 4
        assert m["section/family/total"] == 5
        assert m["section/gram-plural"] is None and m["section/gram-plural/answered"] == 0
        assert m["semantic_accuracy"] == 1.0 and m["syntactic_accuracy"] is None
    # case sensitive: 'Woman' is its own word and 'WOMAN' is unknown
    f.write_text("man WOMAN king queen\nman woman king queen\n")
    assert ek.evaluate.analogy(emb, dataset=str(f))["answered"] == 2
    assert ek.evaluate.analogy(emb, dataset=str(f), case_insensitive=False)["answered"] == 1
    # restrict_vocab=4: only man, woman, king, queen can be answers
    assert ek.evaluate.analogy(emb, dataset=str(f), restrict_vocab=4)["accuracy"] == 1.0
    with pytest.raises(EmptyInputError, match="first 3 keys"):
        ek.evaluate.analogy(emb, dataset=str(f), restrict_vocab=3)


def test_msr_style_file_is_one_section_named_after_the_file(tmp_path):
    emb = _planted_gender()
    f = tmp_path / "msr_like.txt"
    f.write_text("man woman king queen\r\nboy girl brother sister\r\nman woman cat kitten")
    assert list(read_analogies(f)) == ["msr_like"]
    m = ek.evaluate.analogy(emb, dataset=f)
    assert m["section/msr_like"] == 1.0 and m["section/msr_like/total"] == 3
    assert m["answered"] == 2 and m["oov"] == 1
    assert "semantic_accuracy" not in m


def test_bad_lines_and_parameters_are_reported(tmp_path):
    emb = _planted_gender()
    f = tmp_path / "bad.txt"
    f.write_text(": family\nman woman king queen\nman woman king\n")
    with pytest.raises(InputFormatError, match=r"bad.txt, line 3: expected 4 words.*found 3 \(got 'man woman king'\)"):
        ek.evaluate.analogy(emb, dataset=str(f))
    with pytest.raises(InputFormatError, match="no such file.*'google'"):
        ek.evaluate.analogy(emb, dataset="gogle")
    with pytest.raises(InvalidParameterError, match="'scoring' must be one of '3cosadd', '3cosmul'; got '3cosmax'"):
        ek.evaluate.analogy(emb, scoring="3cosmax")
    with pytest.raises(InvalidParameterError, match="restrict_vocab"):
        ek.evaluate.analogy(emb, restrict_vocab=0)
    f.write_text("lion tiger cat dog\n")
    with pytest.raises(EmptyInputError, match="none of the 1 analogy questions"):
        ek.evaluate.analogy(emb, dataset=str(f))


def test_embeddings_analogy():
    emb = _planted_gender()
    for method in ("3cosadd", "3cosmul"):
        top = emb.analogy("man", "king", "woman", scoring=method)
        assert top[0][0] == "queen" and len(top) == 10
        assert not {"man", "king", "woman"} & {k for k, _ in top}
        scores = [s for _, s in top]
        assert scores == sorted(scores, reverse=True)
    assert emb.analogy("king", "queen", "prince", k=1)[0][0] == "princess"
    # the order matters: a:b :: c:?
    assert emb.analogy("woman", "man", "queen", k=1)[0][0] == "king"
    assert len(emb.analogy("man", "woman", "king", k=50)) == len(emb) - 3  # k capped at n - 3
    assert len(emb.analogy("man", "woman", "king", restrict_vocab=5)) == 2
    # same score as the evaluator's: cos(x, b) - cos(x, a) + cos(x, c)
    (key, score), = emb.analogy("man", "king", "woman", k=1)
    assert score == pytest.approx(emb.similarity(key, "king") - emb.similarity(key, "man")
                                  + emb.similarity(key, "woman"), abs=1e-5)
    with pytest.raises(KeyNotFoundError, match="'queeen' is not in these embeddings"):
        emb.analogy("king", "queeen", "man")
    with pytest.raises(InvalidParameterError, match="'k'"):
        emb.analogy("man", "king", "woman", k=0)


# ------------------------------------------------------------------ similarity
@pytest.fixture(scope="module")
def similarity_vectors() -> ek.Embeddings:
    """Random vectors for most words of WordSim-353 and SimLex-999 (about 10% left out), plus a
    shared 'relatedness' component that grows with the human score, so correlations are clearly > 0."""
    rng = np.random.default_rng(1)
    triples = read_word_pairs(datapath("wordsim353.tsv")) + read_word_pairs(datapath("simlex999.txt"))
    vec: dict[str, np.ndarray] = {}
    for a, b, s in triples:
        a, b = a.lower(), b.lower()
        vec.setdefault(a, rng.normal(size=24))
        vec.setdefault(b, vec[a] * s / 10 + rng.normal(size=24))
    words = [w for w in sorted(vec) if rng.random() > 0.1]
    words += [w.upper() for w in words[:30]]  # later case variants: never used
    return ek.Embeddings(words, np.array([vec[w.lower()] if w.islower() else rng.normal(size=24) for w in words]))


@pytest.mark.parametrize("dataset,file", [("wordsim353", "wordsim353.tsv"), ("simlex999", "simlex999.txt")])
def test_similarity_matches_gensim_evaluate_word_pairs(similarity_vectors, dataset, file):
    m = ek.evaluate.similarity(similarity_vectors, dataset)
    pearson, spearman, oov_ratio = similarity_vectors.to_gensim().evaluate_word_pairs(datapath(file))
    assert m["spearman"] == pytest.approx(spearman[0], abs=1e-6)
    assert m["pearson"] == pytest.approx(pearson[0], abs=1e-6)
    assert m["oov_pairs"] > 0 and m["pairs"] + m["oov_pairs"] == {"wordsim353": 353, "simlex999": 999}[dataset]
    assert 100 * m["oov_pairs"] / (m["pairs"] + m["oov_pairs"]) == pytest.approx(oov_ratio)
    assert m["coverage"] == pytest.approx(1 - oov_ratio / 100)
    assert m.primary == "spearman" and m["spearman"] > 0.2


def test_similarity_file_formats_and_errors(tmp_path):
    # x_i, y_i with cos(x_i, y_i) increasing with the score: a perfect rank correlation
    keys, rows = [], []
    for i in range(6):
        theta = (1 - i / 6) * np.pi / 2
        x, y = np.zeros(12), np.zeros(12)
        x[i], y[i], y[i + 6] = 1.0, np.cos(theta), np.sin(theta)
        keys += [f"x{i}", f"y{i}"]
        rows += [x, y]
    emb = ek.Embeddings(keys, np.array(rows))
    f = tmp_path / "pairs.txt"
    f.write_text("word1 word2 score\n# comment\n" + "".join(f"X{i} y{i}  {i * 1.5}\n" for i in range(6))
                 + "x0 unknown 3.0\n")
    m = ek.evaluate.similarity(emb, f)
    assert m["spearman"] == pytest.approx(1.0) and m["pairs"] == 6 and m["oov_pairs"] == 1
    assert m["coverage"] == pytest.approx(6 / 7)
    with pytest.raises(EmptyInputError, match="only 0 of 7 pairs"):
        ek.evaluate.similarity(emb, f, case_insensitive=False)
    f.write_text("x0\ty0\t1\nx1\ty1\t2\nx2 y2\t3\n")
    assert ek.evaluate.similarity(emb, f)["pairs"] == 3
    with pytest.raises(InputFormatError, match=r"line 3: expected 'word1 word2 score'"):
        ek.evaluate.similarity(emb, f, delimiter="\t")
    f.write_text("x0 y0 1\nx1 y1 high\n")
    with pytest.raises(InputFormatError, match=r"pairs.txt, line 2: .*numeric score \(got 'x1 y1 high'\)"):
        ek.evaluate.similarity(emb, f)
    f.write_text("x0 y0 1\nx1 nope 2\n")
    with pytest.raises(EmptyInputError, match="only 1 of 2 pairs"):
        ek.evaluate.similarity(emb, f)
    with pytest.raises(InputFormatError, match="no such file.*wordsim353"):
        ek.evaluate.similarity(emb, "wordsim")


@pytest.mark.data
def test_wordvectors_org_files_load(shared_data, similarity_vectors):
    folder = shared_data / "word-similarity"
    counts = {"EN-WS-353-ALL.txt": 353, "EN-SIMLEX-999.txt": 999, "EN-MEN-TR-3k.txt": 3000,
              "EN-SimVerb-3500.txt": 3500, "EN-MTurk-771.txt": 771, "EN-VERB-143.txt": 144}
    for name, n in counts.items():  # CRLF line ends, no final newline, no header
        assert len(read_word_pairs(folder / name)) == n, name
    # the same 353 pairs as gensim's copy (case aside): the same figures
    ours = ek.evaluate.similarity(similarity_vectors, folder / "EN-WS-353-ALL.txt")
    gensims = ek.evaluate.similarity(similarity_vectors, "wordsim353")
    for key in ("spearman", "pearson", "pairs", "oov_pairs"):
        assert ours[key] == pytest.approx(gensims[key]), key
