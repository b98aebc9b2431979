"""An interactive map of an embedding space in one self-contained HTML file (``ek.explore``,
``emb.explore``, ``embedkit explore``): a 2-D projection with zoom and pan, colour by label,
the key on hover, a search box and the nearest neighbours of the selected key. The page needs
no server and no network: data, script and style are inline, so it opens from ``file://``.

Anchor: TensorBoard's Embedding Projector (Smilkov et al. 2016, "Embedding Projector:
Interactive Visualization and Interpretation of Embeddings", arXiv:1611.05469), which needs
a running server or the internet; this page needs neither.
"""
from __future__ import annotations

from .page import explore
from .projection import PROJECTIONS, project

__all__ = ["explore", "project", "PROJECTIONS"]
