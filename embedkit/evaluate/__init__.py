"""Shared evaluators: callables returning :class:`Metrics` (a dict with a primary metric)."""
from ._metrics import Metrics
from .analogy import analogy
from .bias import bias
from .link_prediction import link_prediction
from .node_classification import node_classification
from .ranking import ranking, rating
from .retrieval import retrieval, triplet_accuracy
from .similarity import similarity

__all__ = ["Metrics", "analogy", "link_prediction", "node_classification", "similarity", "ranking", "rating",
           "retrieval", "triplet_accuracy", "bias"]
