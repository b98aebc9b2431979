"""Bias probes: the Word Embedding Association Test (WEAT) of Caliskan, Bryson & Narayanan (2017).

Two sets of target words X, Y (flowers, insects) and two of attribute words A, B
(pleasant, unpleasant). For a word w,

    s(w, A, B) = mean_{a in A} cos(w, a) - mean_{b in B} cos(w, b)

The test statistic is s(X, Y, A, B) = sum_{x in X} s(x, A, B) - sum_{y in Y} s(y, A, B);
the effect size is

    d = (mean_{x in X} s(x, A, B) - mean_{y in Y} s(y, A, B)) / std_{w in X u Y} s(w, A, B)

(a Cohen's d, between -2 and 2; the sample standard deviation), and the one-sided
permutation p-value is the share of equal-size re-partitions (X_i, Y_i) of X u Y whose
statistic is at least the observed one: every partition when there are at most
``permutations`` of them, else ``permutations`` random ones (then p is
(hits + 1) / (permutations + 1), never 0).

The ten tests of the paper are built in (``"weat1"`` ... ``"weat10"``, see
:data:`embedkit.evaluate._weat_sets.TESTS`).
"""
from __future__ import annotations

import math
from itertools import combinations, islice
from typing import Any, Sequence

import numpy as np

from .._validation import Param
from ..exceptions import EmptyInputError, InvalidParameterError
from ._metrics import Metrics
from ._registry import evaluator
from ._weat_sets import ALIASES, TESTS

#: exact enumeration up to this many partitions, by default; sampling beyond
N_PERMUTATIONS = 100_000

PARAMS = (
    Param("permutations", int, N_PERMUTATIONS, "partitions for the p-value: all of them when there are no more, "
          "else this many drawn with seed", low=1),
    Param("seed", int, 0, "seed of the drawn partitions", low=0),
    Param("lowercase", bool, True, "also look a word up lower-cased"),
)


def _named(words: Any, default: str) -> tuple[str, list]:
    """``(name, words)`` from a (name, words) pair, a one-item dict, or a plain list of words."""
    if isinstance(words, dict):
        if len(words) != 1:
            raise InvalidParameterError("bias", "word set", "a list of words, a (name, words) pair or "
                                        "{name: words}", words)
        (name, ws), = words.items()
        return str(name), list(ws)
    if isinstance(words, tuple) and len(words) == 2 and isinstance(words[0], str) and \
            isinstance(words[1], (list, tuple)):
        return words[0], list(words[1])
    if isinstance(words, str):
        raise InvalidParameterError("bias", "word set", "a list of words", words)
    return default, list(words)


def weat_sets(test: str) -> tuple[tuple[str, tuple], ...]:
    """The four word sets ``(X, Y, A, B)`` of a built-in test, each a ``(name, words)`` pair."""
    key = ALIASES.get(test, test)
    if key not in TESTS:
        raise InvalidParameterError("bias", "targets", "a pair of word lists or a built-in test: " +
                                    ", ".join(list(TESTS) + list(ALIASES)), test)
    return TESTS[key]


def _rows(emb, words: list, lowercase: bool) -> tuple[list[int], list]:
    """Row of each word found (as given, then lower-cased when ``lowercase``), and the words missing."""
    rows, missing = [], []
    for w in words:
        i = emb._lookup(w)
        if i is None and lowercase and isinstance(w, str):
            i = emb._lookup(w.lower())
        if i is None:
            missing.append(w)
        else:
            rows.append(i)
    return rows, missing


def association(emb, words: Sequence, a: Sequence, b: Sequence) -> np.ndarray:
    """``s(w, A, B)`` for each row index in ``words`` (rows ``a``, ``b``): mean cosine to A minus to B."""
    unit = emb._unit_vectors()
    w = unit[np.asarray(words, dtype=np.int64)]
    return (w @ unit[np.asarray(a, dtype=np.int64)].T).mean(axis=1) - \
        (w @ unit[np.asarray(b, dtype=np.int64)].T).mean(axis=1)


def permutation_p_value(s: np.ndarray, n_x: int, permutations: int = N_PERMUTATIONS,
                        seed: int = 0) -> tuple[float, int, bool]:
    """One-sided p-value of ``sum(s[:n_x]) - sum(s[n_x:])`` against re-partitions of ``s``.

    Returns ``(p, partitions used, exact)``. The statistic of a partition is
    ``2 sum(s[X_i]) - sum(s)``, so only the subset sums are compared.
    """
    n = len(s)
    observed = s[:n_x].sum()
    tol = 1e-9 * max(1.0, float(np.abs(s).sum()))
    total = math.comb(n, n_x)
    if total <= permutations:
        hits = 0
        every = combinations(range(n), n_x)
        for _ in range(0, total, 200_000):  # in chunks: bounded memory
            chunk = np.fromiter((i for c in islice(every, 200_000) for i in c), dtype=np.int64).reshape(-1, n_x)
            hits += int((s[chunk].sum(axis=1) >= observed - tol).sum())
        return hits / total, total, True
    rng = np.random.default_rng(seed)
    hits = 0
    done = 0
    while done < permutations:
        m = min(10_000, permutations - done)
        subsets = np.argsort(rng.random((m, n)), axis=1)[:, :n_x]
        hits += int((s[subsets].sum(axis=1) >= observed - tol).sum())
        done += m
    return (hits + 1) / (permutations + 1), permutations, False


@evaluator("bias", PARAMS)
def bias(emb, targets: Any, attributes: Any = None, *, permutations: int = N_PERMUTATIONS, seed: int = 0,
         lowercase: bool = True) -> Metrics:
    """WEAT effect size and permutation p-value (Caliskan et al. 2017; see the module docstring).

    ``targets``: a pair ``(X, Y)`` of word lists (each may be a ``(name, words)`` pair or
    ``{name: words}``), or the name of a built-in test (``"weat1"`` ... ``"weat10"``, or
    aliases such as ``"flowers-insects"``, ``"career-family"``), which also gives the
    attributes. ``attributes``: a pair ``(A, B)`` of word lists (None with a built-in test).
    Words missing from ``emb`` are left out and listed (``missing``); a word is also looked
    up lower-cased when ``lowercase``. ``permutations`` (100,000): the partitions are all
    enumerated when there are no more than that, else that many are drawn with ``seed``.

    Returns :class:`Metrics` with ``effect_size`` (primary), ``p_value``, ``statistic``,
    the set sizes used, ``permutations``, ``exact`` and ``missing``.
    """
    if isinstance(targets, str):
        x, y, a, b = weat_sets(targets)
        if attributes is not None:
            a, b = attributes
    else:
        if attributes is None:
            raise InvalidParameterError("bias", "attributes", "a pair (A, B) of word lists", attributes)
        x, y = targets
        a, b = attributes
    if isinstance(permutations, bool) or not isinstance(permutations, (int, np.integer)) or permutations < 1:
        raise InvalidParameterError("bias", "permutations", "an integer >= 1", permutations)
    sets = [_named(ws, default) for ws, default in zip((x, y, a, b), ("X", "Y", "A", "B"))]
    found, missing = [], []
    for name, words in sets:
        rows, miss = _rows(emb, words, lowercase)
        if len(rows) < 2:
            raise EmptyInputError(f"bias: only {len(rows)} of the {len(words)} words of {name!r} have vectors "
                                  f"(missing: {', '.join(map(str, miss[:10]))}); a set needs at least 2")
        found.append(rows)
        missing.extend(miss)
    rx, ry, ra, rb = found
    s = association(emb, rx + ry, ra, rb)
    sx, sy = s[:len(rx)], s[len(rx):]
    effect = float((sx.mean() - sy.mean()) / s.std(ddof=1)) if s.std(ddof=1) > 0 else 0.0
    p, used, exact = permutation_p_value(s, len(rx), permutations, seed)
    names = [name for name, _ in sets]
    return Metrics({
        "effect_size": effect, "p_value": float(p), "statistic": float(sx.sum() - sy.sum()),
        "targets": f"{names[0]} vs {names[1]}", "attributes": f"{names[2]} vs {names[3]}",
        "n_x": len(rx), "n_y": len(ry), "n_a": len(ra), "n_b": len(rb),
        "permutations": used, "exact": exact, "missing": missing,
    }, primary="effect_size")
