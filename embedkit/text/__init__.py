"""Word (text) embedding methods: skip-gram, CBOW and PPMI + SVD."""
from . import word2vec  # noqa: F401  (registers skipgram, cbow)
from . import svd  # noqa: F401  (registers svd)
