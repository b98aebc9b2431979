"""gensim's native files (``KeyedVectors.save`` / ``Word2Vec.save``, usually ``.kv`` or ``.model``).

These are Python pickles (large arrays go to ``<path>.vectors.npy`` and similar
files beside them). Unpickling runs code named in the file, so embedkit opens
one only when asked with ``format="gensim"``, through gensim's own loader, and
never writes this format: export word2vec text or binary (``.txt``/``.bin``),
which gensim's ``KeyedVectors.load_word2vec_format`` reads, or ``.ekv``.
"""
from __future__ import annotations

from pathlib import Path

from ..embeddings import Embeddings
from ..exceptions import InputFormatError


def looks_like_pickle(path: Path) -> bool:
    """True when ``path`` starts like a pickle of protocol 2 or newer (what gensim writes)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(2)
    except OSError:
        return False
    return len(head) == 2 and head[0] == 0x80 and 2 <= head[1] <= 5


def refuse_pickle(path: Path) -> InputFormatError:
    """The error for a pickle that was not asked for by name."""
    return InputFormatError(
        "this is a Python pickle (gensim's KeyedVectors.save / Word2Vec.save format); loading one runs code "
        "stored in the file, so embedkit does it only on request: ek.load(path, format='gensim') for a file "
        "you trust", path)


def read_gensim(path, *, mmap: bool = False):
    """Load a gensim ``KeyedVectors`` (or a model holding ``.wv``) saved with gensim's ``save``.
    ``mmap=True`` passes ``mmap="r"`` to gensim (arrays saved beside the file are mapped)."""
    from gensim.utils import SaveLoad

    path = Path(path)
    if not looks_like_pickle(path):
        raise InputFormatError("not a gensim file saved with .save() (no pickle header)", path)
    try:
        obj = SaveLoad.load(str(path), mmap="r" if mmap else None)
    except Exception as exc:  # gensim/pickle raise many kinds; report the file
        raise InputFormatError(f"gensim could not load it ({type(exc).__name__}: {exc})", path) from None
    kv = getattr(obj, "wv", obj)
    if not hasattr(kv, "index_to_key") or not hasattr(kv, "vectors"):
        raise InputFormatError(f"holds a {type(obj).__name__}, not gensim KeyedVectors or a model with .wv", path)
    emb = Embeddings.from_gensim(kv)
    emb.meta.update(source=str(path), format="gensim")
    return emb
