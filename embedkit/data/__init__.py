"""Readers and canonical containers."""
from .corpus import Corpus, EncodedCorpus, read_text
from .graph import Graph, read_graph
from .interactions import Interactions
from .interactions_read import read_interactions
from .interactions_split import split_interactions
from .labels import read_labels
from .split import EdgeSplit, sample_non_edges, split_edges

__all__ = ["Corpus", "EncodedCorpus", "read_text", "Graph", "read_graph", "read_labels", "EdgeSplit", "split_edges", "sample_non_edges",
           "Interactions", "read_interactions", "split_interactions"]
