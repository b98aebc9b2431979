"""Graph neural network node embeddings (GCN, GAT) on PyTorch Geometric."""
from . import gat, gcn  # noqa: F401  (registers gcn, gat)
from .result import NodeClassifier

__all__ = ["NodeClassifier"]
