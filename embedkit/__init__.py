"""embedkit: learn, evaluate and ship embeddings with one API.

>>> import embedkit as ek
>>> g = ek.datasets.load("karate")
>>> emb = ek.train("node2vec", g, dim=16, p=1, q=0.5, walks_per_node=4, seed=0, verbose=False)
>>> len(emb), emb.dim
(34, 16)
"""
from __future__ import annotations

import logging

from . import datasets, evaluate
from ._version import __version__
from .api import get_method, load, methods, register, train
from .data import Corpus, EdgeSplit, Graph, read_graph, read_labels, read_text, split_edges
from .data import Interactions, read_interactions, split_interactions
from .embeddings import Embeddings
from .exceptions import (EmbedkitError, EmptyInputError, InputFormatError, InvalidParameterError,
                         KeyNotFoundError, MissingDependencyError, NotFittedError, UnknownMethodError,
                         DuplicateKeyError, OutputError, InputMismatchError, PluginError, PluginWarning)
from . import graph as _graph_methods  # noqa: F401  (registers deepwalk, node2vec)
from . import text as _text_methods  # noqa: F401  (registers skipgram, cbow, svd, bpe, subword)
from .text.bpe import Tokenizer
from .text.subword import SubwordEmbeddings
from . import recsys  # noqa: F401  (registers als, bpr, mf, popular)
from .recsys import FactorModel
from . import metric  # noqa: F401  (registers triplet)
from . import gnn  # noqa: F401  (registers gcn, gat)
from .data.nodes import NodeData, read_node_data
from .index import VectorIndex, load_index
from .alignment import align
from .explorer import explore  # also registers emb.explore

logging.getLogger("embedkit").addHandler(logging.NullHandler())


def __getattr__(name: str):
    # imported on first use: scikit-learn takes about a second to import
    if name == "EmbeddingTransformer":
        from .pipeline import EmbeddingTransformer

        return EmbeddingTransformer
    raise AttributeError(f"module 'embedkit' has no attribute {name!r}")


__all__ = [
    "__version__", "train", "load", "methods", "get_method", "register", "read_graph", "read_labels", "read_text", "Corpus",
    "split_edges", "EdgeSplit", "Embeddings", "Graph", "evaluate", "datasets", "EmbedkitError",
    "InvalidParameterError", "InputFormatError", "EmptyInputError", "NotFittedError",
    "UnknownMethodError", "KeyNotFoundError", "DuplicateKeyError", "OutputError", "InputMismatchError",
    "Interactions", "read_interactions", "split_interactions", "FactorModel", "recsys", "Tokenizer",
    "SubwordEmbeddings", "NodeData", "read_node_data", "metric", "MissingDependencyError",
    "VectorIndex", "load_index", "EmbeddingTransformer", "align", "explore", "PluginError", "PluginWarning",
]
