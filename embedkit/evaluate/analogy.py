"""Word analogies "a is to b as c is to d" (Mikolov et al. 2013, *Efficient Estimation of Word
Representations in Vector Space*), scored with 3CosAdd or 3CosMul (Levy & Goldberg 2014, *Linguistic
Regularities in Sparse and Explicit Word Representations*)."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from .._validation import Param
from .._overlap import describe, warn_low_coverage
from ..data._open import text_lines
from ..embeddings import register_view, top_k
from ..exceptions import EmptyInputError, InputFormatError
from ._metrics import Metrics
from ._registry import evaluator

logger = logging.getLogger("embedkit")

SCORINGS = ("3cosadd", "3cosmul")
COSMUL_EPS = 0.001  # Levy & Goldberg 2014, eq. 4
PARAMS = (
    Param("dataset", str, "google", "'google' (the word2vec questions gensim ships) or a file of 'a b c d' lines"),
    Param("scoring", str, "3cosadd", "how a candidate x is scored for a:b :: c:x: 3CosAdd (Mikolov et al. 2013) "
          "or 3CosMul (Levy & Goldberg 2014)", choices=SCORINGS),
    Param("restrict_vocab", int, 30000, "search the first N rows only (most frequent words first); None: every "
          "row", low=1, nullable=True),
    Param("case_insensitive", bool, True, "compare lower-cased words"),
    Param("batch_size", int, 256, "questions per matrix product", low=1),
)


def check_params(where: str, **given) -> dict:
    """``given`` (a subset of :data:`PARAMS`; ``scoring`` case-insensitive) checked, or
    :class:`InvalidParameterError`."""
    if isinstance(given.get("scoring"), str):
        given["scoring"] = given["scoring"].lower()
    table = {p.name: p for p in PARAMS}
    return {name: table[name].check(where, value) for name, value in given.items()}


def analogy_scores(a: np.ndarray, b: np.ndarray, c: np.ndarray, candidates: np.ndarray,
                   scoring: str = "3cosadd") -> np.ndarray:
    """Score every candidate ``x`` as the answer to ``a:b :: c:x``.

    ``a``, ``b``, ``c``: ``(q, dim)`` unit-norm float32 rows, one question per row;
    ``candidates``: ``(n, dim)`` unit-norm float32. Returns ``(q, n)`` float32, higher is better.

    * ``3cosadd``: ``cos(x, b) - cos(x, a) + cos(x, c)`` (one matrix product);
    * ``3cosmul``: ``cos'(x, b) * cos'(x, c) / (cos'(x, a) + 0.001)`` with cosines shifted to
      ``[0, 1]`` as ``cos' = (cos + 1) / 2`` (Levy & Goldberg 2014, eq. 4 and footnote 7).

    The inputs ``a``, ``b``, ``c`` are not masked here; callers exclude them.
    """
    if scoring == "3cosadd":
        return (b - a + c) @ candidates.T
    q = a.shape[0]
    cos = np.concatenate([a, b, c]) @ candidates.T  # (3q, n)
    cos += 1.0
    cos *= 0.5
    out = cos[q:2 * q] * cos[2 * q:]
    out /= cos[:q] + np.float32(COSMUL_EPS)
    return out


def read_analogies(path) -> dict[str, list[tuple[str, str, str, str]]]:
    """Questions ``a b c d`` (a:b :: c:d) of a file, by section, in file order.

    Google format: ``: section`` header lines, then one question per line. A file without
    headers (MSR, BATS-style) is one section named after the file. Blank lines and lines
    starting with ``#`` are skipped; any other line that is not 4 words raises
    :class:`InputFormatError` naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFormatError("no such file (built-in analogy sets: 'google')", path)
    sections: dict[str, list] = {}
    name = path.stem
    # the one opener of every text input: gzip, a byte-order mark dropped, bad bytes named by line
    for line_no, line in text_lines(path):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith(":"):
            name = text[1:].strip()
            continue
        words = text.split()
        if len(words) != 4:
            raise InputFormatError(f"expected 4 words 'a b c d' (a:b :: c:d) or a ': section' header, "
                                   f"found {len(words)}", path, line_no, text)
        sections.setdefault(name, []).append(tuple(words))
    return sections


def _dataset_path(dataset) -> Path:
    if dataset == "google":
        from gensim.test.utils import datapath

        return Path(datapath("questions-words.txt"))
    return Path(dataset)


def _vocab(keys, n: int, case_insensitive: bool) -> tuple[dict, np.ndarray]:
    """word -> row of its first occurrence among the first ``n`` keys, and ``(n,)`` row -> that row."""
    fold = str.lower if case_insensitive else str
    first: dict[str, int] = {}
    group = np.empty(n, dtype=np.int64)
    for i in range(n):
        group[i] = first.setdefault(fold(str(keys[i])), i)
    return first, group


@evaluator("analogy", PARAMS)
def analogy(emb, dataset="google", scoring: str = "3cosadd", restrict_vocab: int | None = 30000,
            case_insensitive: bool = True, batch_size: int = 256) -> Metrics:
    """Accuracy on word analogies ``a b c d`` (a:b :: c:d): is ``d`` the best-scored word?

    The same protocol as gensim's ``KeyedVectors.evaluate_word_analogies`` (and word2vec's
    ``compute-accuracy``): the answer is the argmax of :func:`analogy_scores` over the first
    ``restrict_vocab`` rows of ``emb`` (rows are taken to be in descending frequency order, as in
    word2vec files), excluding ``a``, ``b`` and ``c``. A question with a word outside those rows
    is not answered and is counted in ``oov``; fewer than half answered logs a warning, none
    raises :class:`EmptyInputError`.

    Parameters
    ----------
    emb : Embeddings
    dataset : ``"google"`` (the 19,544 questions of Mikolov et al. 2013, the copy gensim installs)
        or a path to a file :func:`read_analogies` reads.
    scoring : ``"3cosadd"`` (default) or ``"3cosmul"`` (Levy & Goldberg 2014).
    restrict_vocab : int or None, default 30000; None searches every row.
    case_insensitive : compare lower-cased words; the first row of a lower-cased word is its vector,
        and a prediction is right when its lower-cased key is ``d``.
    batch_size : questions scored per matrix product; memory is ``O(batch_size * restrict_vocab)``.

    Returns
    -------
    Metrics with primary ``accuracy`` (correct / answered), ``correct``, ``answered``, ``total``,
    ``oov``, ``coverage`` (answered / total), ``semantic_accuracy`` and ``syntactic_accuracy`` when
    sections are named like the Google set's (``gram*`` is syntactic), ``scoring``, ``dataset``,
    ``restrict_vocab`` (the rows searched), and per section ``section/<name>`` (accuracy, None if
    nothing was answered), ``section/<name>/answered`` and ``section/<name>/total``.
    """
    p = check_params("analogy", scoring=scoring, restrict_vocab=restrict_vocab, batch_size=batch_size)
    scoring, restrict_vocab, batch_size = p["scoring"], p["restrict_vocab"], p["batch_size"]
    path = _dataset_path(dataset)
    sections = read_analogies(path)
    if hasattr(emb, "word_embeddings"):  # SubwordEmbeddings: search its words, not its pieces
        emb = emb.word_embeddings()
    n = len(emb) if restrict_vocab is None else min(restrict_vocab, len(emb))
    first, group = _vocab(emb.keys, n, case_insensitive)
    fold = str.lower if case_insensitive else str

    questions, section_of, totals = [], [], []
    for s, qs in enumerate(sections.values()):
        totals.append(len(qs))
        for q in qs:
            rows = [first.get(fold(w)) for w in q]
            if None not in rows:
                questions.append(rows)
                section_of.append(s)
    questions = np.array(questions, dtype=np.int64).reshape(-1, 4)
    section_of = np.array(section_of, dtype=np.int64)
    total = sum(totals)
    if len(questions) == 0:
        raise EmptyInputError(f"none of the {total} analogy questions in {path} has all four words in the first "
                              f"{n} keys; check restrict_vocab, case_insensitive and that these are word vectors")
    warn_low_coverage("analogy", len(questions), total, items="questions", of=str(path),
                      found_in=f"the first {n} keys of {describe(emb, 'the embeddings')}")
    logger.info("analogies %s: %d of %d questions have all words in the first %d keys; scoring with %s",
                path.name, len(questions), total, n, scoring)

    unit = emb._unit_vectors()
    cand = unit[:n]
    variants = np.flatnonzero(group != np.arange(n))  # later case variants of a word share its exclusion
    correct = np.zeros(len(questions), dtype=bool)
    for start in range(0, len(questions), batch_size):
        a, b, c, d = questions[start:start + batch_size].T
        scores = analogy_scores(unit[a], unit[b], unit[c], cand, scoring)
        r = np.arange(len(a))
        scores[r, a] = scores[r, b] = scores[r, c] = -np.inf
        if variants.size:
            g = group[variants]
            hit = (g == a[:, None]) | (g == b[:, None]) | (g == c[:, None])
            sub = scores[:, variants]
            sub[hit] = -np.inf
            scores[:, variants] = sub
        correct[start:start + batch_size] = group[scores.argmax(axis=1)] == d

    def acc(mask) -> float | None:
        return float(correct[mask].mean()) if mask.any() else None

    answered = len(questions)
    out = {"accuracy": float(correct.mean()), "correct": int(correct.sum()), "answered": answered,
           "total": total, "oov": total - answered, "coverage": answered / total}
    names = list(sections)
    syntactic = np.array([nm.startswith("gram") for nm in names], dtype=bool)
    if syntactic.any() and not syntactic.all():
        out["semantic_accuracy"] = acc(~syntactic[section_of])
        out["syntactic_accuracy"] = acc(syntactic[section_of])
    out.update(scoring=scoring, dataset=str(dataset), restrict_vocab=n)
    for s, nm in enumerate(names):
        mask = section_of == s
        out[f"section/{nm}"] = acc(mask)
        out[f"section/{nm}/answered"] = int(mask.sum())
        out[f"section/{nm}/total"] = totals[s]
        logger.debug("analogies %s: %s of %d answered correct", nm, out[f"section/{nm}"], int(mask.sum()))
    logger.info("analogy accuracy %.4f (%d/%d answered; %d questions with OOV words skipped)",
                out["accuracy"], out["correct"], answered, out["oov"])
    return Metrics(out, primary="accuracy")


def analogy_query(emb, a, b, c, k: int = 10, scoring: str = "3cosadd", restrict_vocab: int | None = None):
    """``emb.analogy(a, b, c)``: the ``k`` best keys for a:b :: c:x, scored as :func:`analogy` scores
    (see :meth:`embedkit.Embeddings.analogy`)."""
    p = check_params("analogy", scoring=scoring, restrict_vocab=restrict_vocab)
    scoring, restrict_vocab = p["scoring"], p["restrict_vocab"]
    rows = [emb.index_of(x) for x in (a, b, c)]
    unit = emb._unit_vectors()
    n = len(emb) if restrict_vocab is None else min(restrict_vocab, len(emb))
    qa, qb, qc = (unit[i][None, :] for i in rows)
    scores = analogy_scores(qa, qb, qc, unit[:n], scoring)[0]
    return top_k(scores, emb.keys, k, [i for i in rows if i < n])


register_view("analogy", analogy_query)
