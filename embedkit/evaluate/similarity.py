"""Word similarity: rank correlation of cosine similarities with human judgements
(WordSim-353, Finkelstein et al. 2002; SimLex-999, Hill et al. 2015)."""
from __future__ import annotations

import logging
import math
from pathlib import Path

import numpy as np

from .._overlap import describe, warn_low_coverage
from .._validation import Param
from ..data._open import text_lines
from ..exceptions import EmptyInputError, InputFormatError
from ._metrics import Metrics
from ._registry import evaluator
from .analogy import _vocab

logger = logging.getLogger("embedkit")

DATASETS = {"wordsim353": "wordsim353.tsv", "simlex999": "simlex999.txt"}


def read_word_pairs(path, delimiter: str | None = None) -> list[tuple[str, str, float]]:
    """``(word1, word2, score)`` triples of a file, one ``word1 word2 score`` per line.

    ``delimiter`` None splits on any whitespace (tabs, spaces, CRLF line ends). Blank lines and
    lines starting with ``#`` are skipped, and so is a first line whose score is not a number (a
    header). Any other line that is not 3 fields with a numeric score raises
    :class:`InputFormatError` naming the file and line.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFormatError(f"no such file (built-in similarity sets: {', '.join(DATASETS)})", path)
    pairs = []
    seen_line = False
    # the one opener of every text input: gzip, a byte-order mark dropped, bad bytes named by line
    for line_no, line in text_lines(path):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        fields = [x.strip() for x in text.split(delimiter)]
        try:
            if len(fields) != 3:
                raise ValueError
            score = float(fields[2])
        except ValueError:
            if not seen_line and len(fields) == 3:
                logger.info("%s: line %d taken as a header: %s", path, line_no, text)
                seen_line = True
                continue
            raise InputFormatError("expected 'word1 word2 score' with a numeric score", path, line_no,
                                   text) from None
        if not math.isfinite(score):
            raise InputFormatError("the score is not a finite number", path, line_no, text)
        seen_line = True
        pairs.append((fields[0], fields[1], score))
    return pairs


PARAMS = (
    Param("dataset", str, "wordsim353", "'wordsim353', 'simlex999' (copies gensim ships) or a file of 'word1 word2 "
          "score' lines"),
    Param("case_insensitive", bool, True, "compare lower-cased words"),
    Param("delimiter", str, None, "field separator of the file (None: whitespace)", nullable=True),
)


@evaluator("similarity", PARAMS)
def similarity(emb, dataset="wordsim353", case_insensitive: bool = True, delimiter: str | None = None) -> Metrics:
    """Spearman and Pearson correlation of ``cos(word1, word2)`` with the human scores.

    The protocol of gensim's ``KeyedVectors.evaluate_word_pairs``: pairs with a word not in
    ``emb`` are left out of the correlations and counted in ``oov_pairs``; a warning is logged when
    fewer than half the pairs are scored, and fewer than 2 raise :class:`EmptyInputError`. Subword embeddings
    (:class:`~embedkit.SubwordEmbeddings`) compose a vector for every word: no pair is left out.

    Parameters
    ----------
    emb : Embeddings
    dataset : ``"wordsim353"`` (353 pairs, Finkelstein et al. 2002), ``"simlex999"`` (999 pairs,
        Hill, Reichart & Korhonen 2015) -- the copies gensim installs -- or a path to a file
        :func:`read_word_pairs` reads, such as the wordvectors.org ``EN-*.txt`` files.
    case_insensitive : compare lower-cased words; the first row of a lower-cased word is its vector.
    delimiter : field separator of the file; None (default) splits on whitespace.

    Returns
    -------
    Metrics with primary ``spearman``, ``pearson``, ``pairs`` (pairs scored), ``oov_pairs``,
    ``coverage`` (pairs / all pairs) and ``dataset``.
    """
    from scipy import stats

    if dataset in DATASETS:
        from gensim.test.utils import datapath

        path = Path(datapath(DATASETS[dataset]))
    else:
        path = Path(dataset)
    triples = read_word_pairs(path, delimiter)
    if hasattr(emb, "word_embeddings"):  # SubwordEmbeddings: a vector for every word, coverage 1
        emb = emb.word_embeddings(sorted({w for a, b, _ in triples for w in (a, b)}))
    first, _ = _vocab(emb.keys, len(emb), case_insensitive)
    fold = str.lower if case_insensitive else str
    rows_a, rows_b, gold = [], [], []
    for w1, w2, score in triples:
        i, j = first.get(fold(w1)), first.get(fold(w2))
        if i is None or j is None:
            logger.debug("%s: no vector for a word of the pair %s %s", path.name, w1, w2)
            continue
        rows_a.append(i)
        rows_b.append(j)
        gold.append(score)
    oov = len(triples) - len(gold)
    if len(gold) < 2:
        raise EmptyInputError(f"{path}: only {len(gold)} of {len(triples)} pairs have both words in the embeddings; "
                              f"a correlation needs at least 2 (check case_insensitive and that these are word "
                              f"vectors)")
    warn_low_coverage("similarity", len(gold), len(triples), items="word pairs", of=str(path),
                      found_in=describe(emb, "the embeddings"))
    unit = emb._unit_vectors()
    model = np.einsum("ij,ij->i", unit[rows_a], unit[rows_b])
    out = {"spearman": float(stats.spearmanr(gold, model)[0]), "pearson": float(stats.pearsonr(gold, model)[0]),
           "pairs": len(gold), "oov_pairs": oov, "coverage": len(gold) / len(triples), "dataset": str(dataset)}
    logger.info("similarity %s: spearman %.4f, pearson %.4f over %d pairs (%d pairs with OOV words skipped)",
                path.name, out["spearman"], out["pearson"], len(gold), oov)
    return Metrics(out, primary="spearman")
