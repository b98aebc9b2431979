"""Maps of an embedding space: 2-D projections (PCA or t-SNE, scikit-learn) drawn with matplotlib,
coloured by label, with chosen keys annotated. Needs matplotlib: ``pip install 'embedkit[plot]'``.

PCA is the linear view (the two directions of largest variance); t-SNE (van der
Maaten & Hinton 2008, "Visualizing Data using t-SNE", JMLR 9) keeps neighbourhoods
and not distances: clusters in a t-SNE map are meaningful, the gaps between them
and their sizes are not.
"""
from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any, Hashable, Iterable

import numpy as np

from ._atomic import atomic_path
from ._optional import require
from ._overlap import check_overlap, describe
from .embeddings import register_view
from .exceptions import InvalidParameterError, KeyNotFoundError

logger = logging.getLogger("embedkit")

METHODS = ("pca", "tsne")
#: distinct colours before the rarer labels are pooled as "other"
MAX_COLOURS = 20


def project(emb, method: str = "pca", *, max_points: int | None = 5000, keep: Iterable[Hashable] = (),
            normalize: bool = True, seed: int = 0, perplexity: float = 30.0) -> tuple[list, np.ndarray]:
    """``(keys, coords)``: 2-D coordinates ``(m, 2)`` of (a sample of) the keys.

    ``method``: ``"pca"`` or ``"tsne"`` (scikit-learn's ``PCA`` / ``TSNE`` with PCA
    initialisation, ``perplexity`` capped at (m - 1) / 3). ``max_points`` (5000): draw that
    many rows at random (``seed``) when there are more, always keeping the keys in ``keep``;
    None keeps all. ``normalize`` (True): project unit rows, so the map follows cosine
    similarity.
    """
    if method not in METHODS:
        raise InvalidParameterError("plot", "method", "one of " + ", ".join(map(repr, METHODS)), method)
    n = len(emb)
    rows = np.arange(n)
    kept = sorted({emb.index_of(k) for k in keep})
    if max_points is not None and n > max_points:
        rng = np.random.default_rng(seed)
        others = np.setdiff1d(rows, kept)
        take = rng.choice(others, max(0, max_points - len(kept)), replace=False)
        rows = np.sort(np.concatenate([take, np.asarray(kept, dtype=np.int64)]))
        logger.info("plot: %d of %d points drawn (max_points=%d)", len(rows), n, max_points)
    x = emb._unit_vectors()[rows] if normalize else emb.vectors[rows]
    if len(rows) < 3:
        raise InvalidParameterError("plot", "embeddings", "at least 3 vectors", len(rows))
    if method == "pca":
        from sklearn.decomposition import PCA

        coords = PCA(n_components=2, random_state=seed).fit_transform(x)
    else:
        from sklearn.manifold import TSNE

        perp = min(float(perplexity), (len(rows) - 1) / 3.0)
        coords = TSNE(n_components=2, perplexity=perp, init="pca", random_state=seed).fit_transform(x)
    return [emb.keys[i] for i in rows], np.asarray(coords, dtype=np.float64)


def _label_of(labels: dict, key) -> Any:
    from ._keys import lookup

    v = lookup(labels, key)
    if isinstance(v, (list, tuple)):
        return v[0] if v else None
    return v


def plot(emb, path=None, *, labels: Any = None, method: str = "pca", highlight: Iterable[Hashable] = (),
         size: tuple[int, int] = (800, 800), dpi: int = 100, max_points: int | None = 5000, seed: int = 0,
         title: str | None = None, normalize: bool = True, perplexity: float = 30.0):
    """A 2-D scatter of ``emb`` (see :func:`project`); returns the matplotlib ``Figure`` and
    writes it to ``path`` (PNG, SVG, PDF by extension; atomically) when given.

    ``labels``: a dict key -> label, or a label file :func:`embedkit.read_labels` reads;
    points are coloured by label (the 19 most frequent get their own colour, the rest
    are "other", unlabelled points grey). ``highlight``: keys drawn larger and annotated
    with their name. ``size``: ``(width, height)`` in pixels at ``dpi``.
    """
    require("matplotlib", "plotting")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    width, height = (int(v) for v in size)
    if width < 50 or height < 50:
        raise InvalidParameterError("plot", "size", "at least 50 x 50 pixels", size)
    highlight = list(highlight)
    for k in highlight:
        if k not in emb:
            raise KeyNotFoundError(f"highlight: key {k!r} is not in these embeddings ({len(emb)} keys)")
    if labels is not None:
        source = describe(labels, "the labels")
        if not isinstance(labels, dict):
            from .data import read_labels

            labels = read_labels(labels)
        labelled = sum(_label_of(labels, k) is not None for k in emb.keys)
        # labels of other keys would colour nothing: refused when fewer than half the labels find a vector
        check_overlap("plot", min(labelled, len(labels)), len(labels), items="labelled keys", of=source,
                      found_in=describe(emb, "the embeddings"), rest="are not drawn")
    keys, xy = project(emb, method, max_points=max_points, keep=highlight, normalize=normalize, seed=seed,
                       perplexity=perplexity)
    fig = Figure(figsize=(width / dpi, height / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    marker = max(1.0, min(30.0, 4000.0 / len(keys)))
    if labels:
        point_labels = [_label_of(labels, k) for k in keys]
        counts = Counter(lab for lab in point_labels if lab is not None)
        top = [lab for lab, _ in counts.most_common(MAX_COLOURS - 1 if len(counts) > MAX_COLOURS else MAX_COLOURS)]
        from matplotlib import colormaps

        palette = colormaps["tab10" if len(top) <= 10 else "tab20"]
        shown = {lab: i for i, lab in enumerate(top)}
        groups: dict = {}
        for i, lab in enumerate(point_labels):
            group = "(unlabelled)" if lab is None else (lab if lab in shown else "other")
            groups.setdefault(group, []).append(i)
        for group, idx in sorted(groups.items(), key=lambda g: (g[0] in ("other", "(unlabelled)"), str(g[0]))):
            colour = (0.7, 0.7, 0.7, 0.6) if group in ("other", "(unlabelled)") else palette(shown[group])
            ax.scatter(xy[idx, 0], xy[idx, 1], s=marker, color=colour, label=f"{group} ({len(idx)})",
                       linewidths=0)
        ax.legend(loc="best", fontsize="small", markerscale=max(1.0, 6.0 / marker), framealpha=0.8)
    else:
        ax.scatter(xy[:, 0], xy[:, 1], s=marker, color="tab:blue", alpha=0.6, linewidths=0)
    if highlight:
        where = {k: i for i, k in enumerate(keys)}
        for k in highlight:
            i = where[emb.keys[emb.index_of(k)]]
            ax.scatter([xy[i, 0]], [xy[i, 1]], s=max(30.0, 3 * marker), facecolors="none", edgecolors="black",
                       linewidths=1.2)
            ax.annotate(str(k), (xy[i, 0], xy[i, 1]), xytext=(4, 4), textcoords="offset points", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    what = {"pca": "PCA", "tsne": "t-SNE"}[method]
    ax.set_title(title if title is not None else f"{what} of {len(keys)} of {len(emb)} vectors (dim {emb.dim})",
                 fontsize=10)
    fig.tight_layout()
    if path is not None:
        path = Path(path)
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=dpi, format=path.suffix.lstrip(".").lower() or "png")
    return fig


register_view("plot", plot)
