"""Embeddings inside other libraries' pipelines: a scikit-learn transformer and a PyTorch
``nn.Embedding``.

``EmbeddingTransformer(emb)`` turns keys, or lists of keys (tokens), into vectors inside a
scikit-learn ``Pipeline``; ``to_torch(emb)`` gives ``nn.Embedding.from_pretrained`` and the
key -> row map that feeds it.

>>> import numpy as np, embedkit as ek
>>> emb = ek.Embeddings(["good", "bad"], [[1.0, 0.0], [0.0, 1.0]])
>>> ek.EmbeddingTransformer(emb).transform([["good", "good", "bad"], "bad", ["unseen"]]).round(3)
array([[0.667, 0.333],
       [0.   , 1.   ],
       [0.   , 0.   ]], dtype=float32)
"""
from __future__ import annotations

from typing import Any, Callable, Hashable

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from ._validation import Param, validate
from .embeddings import register_view
from .exceptions import InvalidParameterError, KeyNotFoundError, ShapeError

#: the transformer's parameters, checked at fit/transform like a method's
PARAMS = (
    Param("oov", str, "zero", "what an unknown key counts as: 'zero' (skipped when pooling; an item with no "
          "known key is the zero vector), 'mean' (the mean of all vectors) or 'error'",
          choices=("zero", "mean", "error")),
    Param("pooling", str, "mean", "how the vectors of an item's keys combine", choices=("mean", "sum", "max")),
    Param("normalize", bool, False, "scale each output row to unit L2 norm"),
)


def _whitespace(text: str) -> list[str]:
    return text.split()


class EmbeddingTransformer(TransformerMixin, BaseEstimator):
    """A scikit-learn transformer from keys or token lists to vectors.

    Each item of ``X`` is one key (a str or int: its vector), or a list/tuple/array of
    keys (their vectors pooled: mean by default). With ``tokenizer`` (``"whitespace"`` or a
    callable ``str -> list``), a string item is split into keys first, so raw text goes
    straight in. ``X`` may be a list, a 1-D array, a pandas Series or a one-column frame.

    OOV policy (``oov``): ``"zero"`` (default) skips unknown keys when pooling, and an item
    with no known key at all becomes the zero vector; ``"mean"`` counts an unknown key as
    the mean of all the vectors; ``"error"`` raises :class:`~embedkit.KeyNotFoundError`
    naming the item and the key. :meth:`coverage` tells the share of keys found.

    The transformer learns nothing (``fit`` only checks the parameters), so cloning it in
    a grid search shares the embeddings instead of copying them.

    Parameters: ``emb`` (:class:`~embedkit.Embeddings`), ``oov``, ``pooling``
    (``"mean"``, ``"sum"``, ``"max"``), ``tokenizer`` (None), ``normalize`` (False).
    Output: float32 ``(n_items, dim)``.
    """

    def __init__(self, emb, oov: str = "zero", pooling: str = "mean",
                 tokenizer: str | Callable[[str], list] | None = None, normalize: bool = False):
        self.emb = emb
        self.oov = oov
        self.pooling = pooling
        self.tokenizer = tokenizer
        self.normalize = normalize

    # ---- scikit-learn protocol -------------------------------------------------------------------
    def __sklearn_clone__(self):
        return type(self)(**self.get_params(deep=False))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        return tags

    def _checked(self) -> dict:
        p = validate("EmbeddingTransformer", PARAMS,
                     {"oov": self.oov, "pooling": self.pooling, "normalize": self.normalize})
        if self.tokenizer not in (None, "whitespace") and not callable(self.tokenizer):
            raise InvalidParameterError("EmbeddingTransformer", "tokenizer", "None, 'whitespace' or a callable "
                                        "str -> list of keys", self.tokenizer)
        return p

    def fit(self, X: Any = None, y: Any = None) -> "EmbeddingTransformer":
        """Check the parameters; nothing is learned. Returns self."""
        self._checked()
        self.n_features_out_ = self.emb.dim
        return self

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray([f"emb{i}" for i in range(self.emb.dim)], dtype=object)

    # ---- transform -------------------------------------------------------------------------------
    def _items(self, X: Any) -> list:
        if hasattr(X, "to_numpy"):  # pandas Series / DataFrame
            X = X.to_numpy()
        if isinstance(X, np.ndarray) and X.ndim == 2:
            if X.shape[1] != 1:
                raise ShapeError(f"X has {X.shape[1]} columns; give one column of keys or token lists")
            X = X[:, 0]
        if isinstance(X, (str, bytes)):
            raise InvalidParameterError("EmbeddingTransformer", "X", "a list of items (keys or token lists), not a "
                                        "single string", X)
        return list(X)

    def _keys_of(self, item: Any) -> list:
        tok = _whitespace if self.tokenizer == "whitespace" else self.tokenizer
        if isinstance(item, str):
            return list(tok(item)) if tok is not None else [item]
        if isinstance(item, (list, tuple, np.ndarray)):
            return list(item)
        return [item]

    def transform(self, X: Any) -> np.ndarray:
        """Vectors of the items of ``X``, float32 ``(n_items, dim)``."""
        p = self._checked()
        emb = self.emb
        mean = emb.vectors.mean(axis=0) if p["oov"] == "mean" else None
        out = np.zeros((0, emb.dim), dtype=np.float32)
        rows: list[np.ndarray] = []
        for pos, item in enumerate(self._items(X)):
            vecs = []
            for key in self._keys_of(item):
                row = emb._lookup(key)
                if row is not None:
                    vecs.append(emb.vectors[row])
                elif p["oov"] == "mean":
                    vecs.append(mean)
                elif p["oov"] == "error":
                    raise KeyNotFoundError(f"item {pos}: key {key!r} is not in the embeddings ({len(emb)} keys); "
                                           "oov='zero' skips unknown keys, oov='mean' uses the mean vector")
            rows.append(_pool(vecs, p["pooling"], emb.dim))
        if rows:
            out = np.vstack(rows).astype(np.float32, copy=False)
        if p["normalize"]:
            norms = np.linalg.norm(out, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            out = out / norms
        return out

    def coverage(self, X: Any) -> float:
        """The share of the keys in ``X`` that have a vector (1.0 when ``X`` holds no key)."""
        keys = [k for item in self._items(X) for k in self._keys_of(item)]
        return 1.0 if not keys else sum(k in self.emb for k in keys) / len(keys)


def _pool(vecs: list, pooling: str, dim: int) -> np.ndarray:
    if not vecs:
        return np.zeros(dim, dtype=np.float32)
    stack = np.asarray(vecs, dtype=np.float32)
    if pooling == "sum":
        return stack.sum(axis=0)
    if pooling == "max":
        return stack.max(axis=0)
    return stack.mean(axis=0)


def to_torch(emb, *, freeze: bool = True, oov_row: bool = False, device: Any = None):
    """``(nn.Embedding, key_to_index)``: the vectors as ``nn.Embedding.from_pretrained`` and the
    key -> row map that turns keys into the ids it takes.

    ``freeze`` (True): the weights get no gradient (``freeze=False`` to fine-tune).
    ``oov_row`` (False): add a zero row at index ``len(emb)``, the module's
    ``padding_idx`` (never updated), for unknown keys and padding:
    ``[key_to_index.get(k, len(emb)) for k in keys]``. ``device``: where the weights go
    (None: the CPU). The weights are a float32 copy (a memory-mapped matrix is read).

    >>> import embedkit as ek, torch
    >>> module, rows = ek.Embeddings(["a", "b"], [[1.0, 2.0], [3.0, 4.0]]).to_torch()
    >>> module(torch.tensor([rows["b"]])).tolist()
    [[3.0, 4.0]]
    """
    import torch
    from torch import nn

    weights = np.array(emb.vectors, dtype=np.float32)  # a writable copy
    if oov_row:
        weights = np.vstack([weights, np.zeros((1, emb.dim), dtype=np.float32)])
    tensor = torch.from_numpy(weights)
    if device is not None:
        from ._device import resolve_device

        tensor = tensor.to(resolve_device(device))
    module = nn.Embedding.from_pretrained(tensor, freeze=freeze, padding_idx=len(emb) if oov_row else None)
    key_to_index: dict[Hashable, int] = dict(emb.key_to_index)
    return module, key_to_index


register_view("to_torch", to_torch)
