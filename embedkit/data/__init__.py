"""Readers and canonical containers."""
from .graph import Graph, read_graph
from .labels import read_labels
from .split import EdgeSplit, sample_non_edges, split_edges

__all__ = ["Graph", "read_graph", "read_labels", "EdgeSplit", "split_edges", "sample_non_edges"]
