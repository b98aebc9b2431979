"""Word (text) embedding methods: skip-gram, CBOW, PPMI + SVD and GloVe; BPE tokenization and subword embeddings."""
from . import word2vec  # noqa: F401  (registers skipgram, cbow)
from . import svd  # noqa: F401  (registers svd)
from . import glove  # noqa: F401  (registers glove)
from . import bpe  # noqa: F401  (registers bpe)
from .bpe import Tokenizer  # noqa: F401
from . import subword  # noqa: F401  (registers subword)
from .subword import SubwordEmbeddings  # noqa: F401
