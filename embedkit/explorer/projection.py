"""2-D projections for the explorer, one function per method in a registry.

* ``pca``: the two directions of largest variance (scikit-learn ``PCA``; randomized SVD
  above 10,000 rows). Seconds at 100,000 points.
* ``tsne``: t-SNE (van der Maaten & Hinton 2008, "Visualizing Data using t-SNE", JMLR 9),
  scikit-learn's Barnes-Hut ``TSNE`` with PCA initialisation. Slow (2,708 x 64 Cora vectors took
  385 s on a shared 2-core machine at load 17; docs/explore.md), so it is fitted on a random sample
  of ``fit_points`` rows
  (10,000 by default) and every other point is placed at the similarity-weighted mean of its
  ``5`` nearest fitted points (cosine).
* ``umap``: UMAP (McInnes, Healy & Melville 2018, arXiv:1802.03426), from the optional
  ``umap-learn`` package (``pip install 'embedkit[explore]'``); fitted on at most
  ``fit_points`` rows (50,000 by default), the rest placed as for t-SNE.

Clusters in t-SNE and UMAP maps are meaningful; the gaps between them and their sizes are not.
"""
from __future__ import annotations

import contextlib
import io
import logging
import time
from typing import Callable

import numpy as np

from .._optional import require
from ..exceptions import InvalidParameterError

logger = logging.getLogger("embedkit")

#: method -> (function(x, seed, **options) -> (m, 2), default number of rows fitted)
PROJECTIONS: dict[str, tuple[Callable, int | None]] = {}


def _projection(name: str, fit_points: int | None):
    def register(fn):
        PROJECTIONS[name] = (fn, fit_points)
        return fn
    return register


class _LogLines(io.TextIOBase):
    """A text stream that sends each line to the embedkit logger (scikit-learn's and
    umap-learn's ``verbose`` output is printed; library code logs)."""

    def __init__(self, prefix: str):
        self.prefix, self.buffer = prefix, ""

    def write(self, s: str) -> int:
        self.buffer += s
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            if line.strip():
                logger.info("%s: %s", self.prefix, line.strip())
        return len(s)


@_projection("pca", None)
def _pca(x: np.ndarray, seed: int, **_) -> np.ndarray:
    from sklearn.decomposition import PCA

    return PCA(n_components=2, random_state=seed).fit_transform(x)


@_projection("tsne", 10_000)
def _tsne(x: np.ndarray, seed: int, perplexity: float = 30.0, **_) -> np.ndarray:
    from sklearn.manifold import TSNE

    perp = min(float(perplexity), (len(x) - 1) / 3.0)
    logger.info("explore: t-SNE of %d points (perplexity %.3g) is slow: minutes for a few thousand points "
                "on two cores; method='pca' takes seconds", len(x), perp)
    with contextlib.redirect_stdout(_LogLines("t-SNE")):
        return TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed,
                    verbose=1 if logger.isEnabledFor(logging.INFO) else 0).fit_transform(x)


@_projection("umap", 50_000)
def _umap(x: np.ndarray, seed: int, **_) -> np.ndarray:
    umap = require("umap", "explore --method umap")
    logger.info("explore: UMAP of %d points", len(x))
    with contextlib.redirect_stdout(_LogLines("UMAP")):
        return umap.UMAP(n_components=2, metric="cosine", random_state=seed,
                         verbose=logger.isEnabledFor(logging.INFO)).fit_transform(x)


def _place_rest(unit: np.ndarray, fitted: np.ndarray, xy_fitted: np.ndarray, rest: np.ndarray,
                neighbours: int = 5, chunk: int = 4096) -> np.ndarray:
    """Coordinates of the rows ``rest``: the similarity-weighted mean of the coordinates of their
    ``neighbours`` most cosine-similar rows among ``fitted``."""
    out = np.empty((len(rest), 2))
    base = unit[fitted]
    k = min(neighbours, len(fitted))
    for start in range(0, len(rest), chunk):
        sims = unit[rest[start:start + chunk]] @ base.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        w = np.maximum(np.take_along_axis(sims, top, axis=1), 0.0) + 1e-6
        out[start:start + chunk] = (w[:, :, None] * xy_fitted[top]).sum(axis=1) / w.sum(axis=1, keepdims=True)
    return out


def project(unit: np.ndarray, method: str = "pca", *, fit_points: int | None = None, seed: int = 0,
            **options) -> np.ndarray:
    """2-D coordinates ``(n, 2)`` (float64) of the rows of ``unit`` (``(n, dim)``, unit rows so that
    the map follows cosine similarity).

    ``method``: a name in :data:`PROJECTIONS` (``"pca"``, ``"tsne"``, ``"umap"``). ``fit_points``:
    fit the projection on that many random rows (``seed``) and place the others next to their
    nearest fitted rows; None takes the method's default (all rows for PCA, 10,000 for t-SNE,
    50,000 for UMAP). ``options``: ``perplexity`` (t-SNE, 30).
    """
    if method not in PROJECTIONS:
        raise InvalidParameterError("explore", "method", "one of " + ", ".join(map(repr, PROJECTIONS)), method)
    fn, default_fit = PROJECTIONS[method]
    fit_points = default_fit if fit_points is None else int(fit_points)
    if fit_points is not None and fit_points < 3:
        raise InvalidParameterError("explore", "fit_points", "an integer >= 3 or None", fit_points)
    n = len(unit)
    if n < 3:
        raise InvalidParameterError("explore", "embeddings", "at least 3 vectors", n)
    start = time.perf_counter()
    if fit_points is None or n <= fit_points:
        xy = np.asarray(fn(unit, seed, **options), dtype=np.float64)
    else:
        rng = np.random.default_rng(seed)
        fitted = np.sort(rng.choice(n, fit_points, replace=False))
        rest = np.setdiff1d(np.arange(n), fitted)
        logger.info("explore: %s fitted on %d of %d points (fit_points=%d); the other %d placed next to "
                    "their 5 nearest fitted points", method, fit_points, n, fit_points, len(rest))
        xy = np.empty((n, 2))
        xy[fitted] = fn(unit[fitted], seed, **options)
        xy[rest] = _place_rest(unit, fitted, xy[fitted], rest)
    logger.info("explore: %s projection of %d x %d in %.1f s", method, n, unit.shape[1], time.perf_counter() - start)
    return xy
