"""``explore(emb, path)``: write the self-contained HTML map (see the package docstring).

What the page holds, and why the neighbours are precomputed: at 100,000 points the page
carries the 2-D coordinates (float32, 0.8 MB), the keys (JSON), a label index per point and
the ``k`` nearest neighbours of every point (int32 rows and float32 cosines: 8 bytes x k, 8 MB
at k=10), all base64 in the file: about 13 MB for 100,000 word keys. Carrying the vectors
instead, to search in the page, would take 4 bytes x dim per point (51 MB at dim 128, 68 MB in
base64) and a 100,000 x dim product per click in JavaScript. The neighbours are exact (the
same cosine ranking as :meth:`Embeddings.most_similar`), computed in blocks of rows with a
progress bar.
"""
from __future__ import annotations

import base64
import html
import json
import logging
import re
import time
from collections import Counter
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .._atomic import atomic_path
from .._keys import lookup
from .._progress import progress
from ..embeddings import check_k, register_view
from ..exceptions import InvalidParameterError
from .projection import PROJECTIONS, project

logger = logging.getLogger("embedkit")

#: distinct colours before the rarer labels are pooled as "other" (matplotlib's tab10 / tab20)
TAB10 = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
         "#17becf"]
TAB20 = ["#1f77b4", "#aec7e8", "#ff7f0e", "#ffbb78", "#2ca02c", "#98df8a", "#d62728", "#ff9896", "#9467bd",
         "#c5b0d5", "#8c564b", "#c49c94", "#e377c2", "#f7b6d2", "#bcbd22", "#dbdb8d", "#17becf", "#9edae5",
         "#393b79", "#637939"]
OTHER_COLOUR, NO_LABEL_COLOUR, PLAIN_COLOUR = "#b0b0b0", "#d0d0d0", "#1f77b4"
#: points drawn before the map shows a random sample
MAX_POINTS = 100_000


def nearest_neighbours(unit: np.ndarray, rows: np.ndarray, k: int, *, verbose: bool | None = None,
                       block: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    """``(index, cosine)``: the ``k`` rows of ``unit`` (``(n, dim)``, unit rows) most similar to each
    row in ``rows`` (itself excluded), best first, as int64 and float32 arrays ``(len(rows), k)``.
    Exact, in blocks of ``block`` query rows (each ``block x n`` scores, with torch)."""
    import torch  # topk is ~25x faster than numpy's argpartition over a block of 1024 x 100,000 scores

    n = len(unit)
    k = min(k, n - 1)
    index = np.empty((len(rows), k), dtype=np.int64)
    cosine = np.empty((len(rows), k), dtype=np.float32)
    start = time.perf_counter()
    every = torch.from_numpy(np.ascontiguousarray(unit, dtype=np.float32))
    with progress(total=len(rows), desc="neighbours", verbose=verbose, unit="key") as bar, torch.no_grad():
        for lo in range(0, len(rows), block):
            q = torch.from_numpy(np.ascontiguousarray(rows[lo:lo + block], dtype=np.int64))
            scores = every[q] @ every.T
            scores[torch.arange(len(q)), q] = -float("inf")
            top_scores, top = torch.topk(scores, k, dim=1, largest=True, sorted=True)
            index[lo:lo + len(q)] = top.numpy()
            cosine[lo:lo + len(q)] = top_scores.numpy()
            bar.update(len(q))
    logger.info("explore: %d nearest neighbours of %d keys among %d in %.1f s", k, len(rows), n,
                time.perf_counter() - start)
    return index, cosine


def _label_table(keys: list, labels: dict) -> tuple[list[str], np.ndarray, list[str]]:
    """Label names (legend order), a uint16 label index per key (0xFFFF: none) and the full label
    text per key (several labels joined with ", ")."""
    firsts, texts = [], []
    for key in keys:
        v = lookup(labels, key)
        if isinstance(v, (list, tuple)):
            firsts.append(str(v[0]) if v else None)
            texts.append(", ".join(map(str, v)))
        else:
            firsts.append(None if v is None else str(v))
            texts.append("" if v is None else str(v))
    counts = Counter(lab for lab in firsts if lab is not None)
    many = len(counts) > len(TAB20)
    top = [lab for lab, _ in counts.most_common(len(TAB20) - 1 if many else len(TAB20))]
    names = sorted(top, key=_natural) + (["other"] if many else [])
    where = {lab: i for i, lab in enumerate(names)}
    other = where.get("other", 0xFFFF) if many else 0xFFFF
    index = np.fromiter((0xFFFF if lab is None else where.get(lab, other) for lab in firsts), dtype=np.uint16,
                        count=len(firsts))
    return names, index, texts


def _natural(label: str):
    return (0, int(label), "") if label.lstrip("-").isdigit() else (1, 0, label)


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()).decode()


def _json_script(value: Any) -> str:
    # inside <script type="application/json">, "</" would end the element early
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def explore(emb, path, *, labels: Any = None, method: str = "pca", k: int = 10, max_points: int = MAX_POINTS,
            fit_points: int | None = None, seed: int = 0, title: str | None = None, perplexity: float = 30.0,
            verbose: bool | None = None) -> Path:
    """Write an interactive map of ``emb`` to ``path`` (one HTML file; atomically) and return the path.

    The page: a 2-D map (zoom with the wheel, pan by dragging), points coloured by label with a
    legend (click a label to hide it), the key under the pointer, a search box, and the ``k``
    nearest neighbours (cosine, most similar first, as :meth:`Embeddings.most_similar`) of the
    selected key in the list with id ``neighbors``. ``page.html#q=KEY`` opens with KEY selected.
    Everything is inline: it works from ``file://`` without a network.

    ``labels``: a dict key -> label (or list of labels; the first colours the point) or a file
    :func:`embedkit.read_labels` reads. ``method``: ``"pca"`` (default), ``"tsne"`` (slow;
    fitted on ``fit_points``, 10,000 by default) or ``"umap"`` (needs ``umap-learn``); see
    :func:`embedkit.explorer.project`. ``max_points`` (100,000): above it, the map shows a random
    sample of that many keys (``seed``) and says so; their neighbours are still searched among
    all keys. ``k`` (10): neighbours stored per key. ``verbose``: progress bar (None: on a
    terminal). A page of 100,000 points and k=10 is about 13 MB.
    """
    check_k("explore", k)
    if isinstance(max_points, bool) or not isinstance(max_points, (int, np.integer)) or max_points < 3:
        raise InvalidParameterError("explore", "max_points", "an integer >= 3", max_points)
    if method not in PROJECTIONS:
        raise InvalidParameterError("explore", "method", "one of " + ", ".join(map(repr, PROJECTIONS)), method)
    n = len(emb)
    if n < 3:
        raise InvalidParameterError("explore", "embeddings", "at least 3 vectors", n)
    if labels is not None and not isinstance(labels, dict):
        from ..data import read_labels

        labels = read_labels(labels)
    start = time.perf_counter()
    logger.info("explore: map of %d keys (dim %d), %s, %d neighbours each", n, emb.dim, method, k)
    unit = emb._unit_vectors()
    rows = np.arange(n)
    if n > max_points:
        rows = np.sort(np.random.default_rng(seed).choice(n, max_points, replace=False))
        logger.info("explore: %d of %d keys drawn at random (max_points=%d, seed=%d)", max_points, n, max_points,
                    seed)
    xy = project(unit[rows], method, fit_points=fit_points, seed=seed, perplexity=perplexity)
    nbr, cos = nearest_neighbours(unit, rows, k, verbose=verbose)
    # keys on the page: the mapped rows, then any neighbour that is not on the map (sampled pages)
    table = rows
    if len(rows) < n:
        extra = np.setdiff1d(np.unique(nbr), rows)
        table = np.concatenate([rows, extra])
    position = np.full(n, -1, dtype=np.int64)
    position[table] = np.arange(len(table))
    nbr = position[nbr].astype(np.int32)
    all_keys = emb.keys
    keys = [all_keys[i] for i in table]
    lo, hi = xy.min(axis=0), xy.max(axis=0)
    span = float(max(hi - lo)) or 1.0
    xy = ((xy - (lo + hi) / 2) / span).astype(np.float32)  # centred, the longer side spans 1
    data: dict[str, Any] = {
        "title": title if title is not None else f"{len(rows):,} of {n:,} keys" if len(rows) < n else f"{n:,} keys",
        "n": int(n), "mapped": int(len(rows)), "dim": int(emb.dim), "k": int(nbr.shape[1]),
        "method": {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}.get(method, method),
        "sampled": bool(len(rows) < n), "seed": int(seed),
        "keys": [str(key) for key in keys],
        "labels": [], "colours": [], "labelText": None,
    }
    label_index = np.full(len(rows), 0xFFFF, dtype=np.uint16)
    if labels:
        names, label_index, texts = _label_table(keys[:len(rows)], labels)
        palette = TAB10 if len(names) <= len(TAB10) else TAB20
        data["labels"] = names
        data["colours"] = [palette[i] for i in range(len(names))]
        if len(names) == len(TAB20) and names[-1] == "other":
            data["colours"][-1] = OTHER_COLOUR
        data["labelText"] = texts
        unlabelled = int((label_index == 0xFFFF).sum())
        logger.info("explore: %d labels; %d of %d mapped keys unlabelled", len(names), unlabelled, len(rows))
    blobs = {"xy": _b64(xy), "label": _b64(label_index), "nbr": _b64(nbr), "cos": _b64(cos.astype(np.float32))}
    template = resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")
    script = resources.files(__package__).joinpath("page.js").read_text(encoding="utf-8")
    style = resources.files(__package__).joinpath("page.css").read_text(encoding="utf-8")
    parts = {"TITLE": html.escape(data["title"]), "STYLE": style, "DATA": _json_script(data), "SCRIPT": script,
             "BLOBS": "\n".join(f'<script type="application/octet-stream" id="blob-{name}">{value}</script>'
                                for name, value in blobs.items())}
    page = re.sub(r"\{\{([A-Z]+)\}\}", lambda m: parts[m.group(1)], template)
    path = Path(path)
    with atomic_path(path) as tmp:
        Path(tmp).write_text(page, encoding="utf-8")
    logger.info("explore: wrote %s (%.1f MB, %d points, %d neighbours each) in %.1f s", path,
                path.stat().st_size / 1e6, len(rows), nbr.shape[1], time.perf_counter() - start)
    return path


register_view("explore", explore)
