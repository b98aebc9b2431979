"""Shared evaluators: callables returning :class:`Metrics` (a dict with a primary metric)."""
from ._metrics import Metrics
from .link_prediction import link_prediction
from .node_classification import node_classification

__all__ = ["Metrics", "link_prediction", "node_classification"]
