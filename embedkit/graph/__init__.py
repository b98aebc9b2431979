"""Graph node embeddings; importing this registers the methods."""
from . import deepwalk, node2vec  # noqa: F401
