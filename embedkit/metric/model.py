"""EncoderEmbeddings: what ``triplet`` returns with the MLP encoder.

An :class:`~embedkit.Embeddings` (keys -> vectors of every item of the feature table, so every
query, evaluator and export works) that also keeps the trained encoder, so that items never seen
in training are embedded from their features: ``emb.embed(features) -> (n, dim)``.

The encoder is a plain MLP evaluated in NumPy (no torch needed to use it)::

    x = (features - mean) / scale                  # standardisation fitted on the training items
    x = relu(x @ W_i.T + b_i)                      # each hidden layer
    y = x @ W_last.T + b_last                      # the output layer, (n, dim)
    y = y + features                               # when trained with residual=True (dim = f)
    y = y / |y|                                    # when trained with normalize=True

Saved as ``.ekv`` like embeddings: an uncompressed zip of ``meta.json``, ``keys.json``,
``vectors.npy`` plus ``encoder/feature_mean.npy``, ``encoder/feature_scale.npy`` and
``encoder/weight_<i>.npy``, ``encoder/bias_<i>.npy`` per layer; loaded with ``allow_pickle=False``.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .._version import __version__
from ..artifacts import register_artifact
from ..embeddings import Embeddings, summary_rows
from ..exceptions import InputFormatError, ShapeError
from ..io import native
from ..io._checks import check_embeddings
from ..io._zip import read_zip, write_zip

FORMAT_NAME = "embedkit.encoder_embeddings"
FORMAT_VERSION = 1


class EncoderEmbeddings(Embeddings):
    """Vectors of the feature table's keys plus the MLP that computes them from features.

    Parameters
    ----------
    keys, vectors : as for :class:`~embedkit.Embeddings`; ``vectors`` ``(n, dim)``.
    weights, biases : float32 arrays of each layer, ``weights[i]`` ``(out_i, in_i)``, ``biases[i]``
        ``(out_i,)``; ReLU between layers, none after the last.
    feature_mean, feature_scale : float32 ``(f,)``: inputs are standardised as
        ``(x - mean) / scale`` first (zeros and ones when ``standardize=False``).
    normalize : whether outputs are scaled to unit length.
    meta : JSON-able metadata.
    residual : whether the raw features are added to the output (``dim`` = ``f``).
    """

    def __init__(self, keys: Sequence, vectors, weights: Sequence, biases: Sequence, feature_mean, feature_scale,
                 normalize: bool, meta: dict | None = None, residual: bool = False):
        super().__init__(keys, vectors, meta)
        self.weights = [np.ascontiguousarray(np.asarray(w, dtype=np.float32)) for w in weights]
        self.biases = [np.ascontiguousarray(np.asarray(b, dtype=np.float32)) for b in biases]
        self.feature_mean = np.asarray(feature_mean, dtype=np.float32)
        self.feature_scale = np.asarray(feature_scale, dtype=np.float32)
        self.normalize = bool(normalize)
        self.residual = bool(residual)
        if not self.weights or len(self.weights) != len(self.biases):
            raise ShapeError("an encoder needs one bias per weight matrix, and at least one layer")
        if self.weights[-1].shape[0] != self.dim:
            raise ShapeError(f"the encoder outputs {self.weights[-1].shape[0]} values, the vectors have dim {self.dim}")
        if self.residual and self.num_features != self.dim:
            raise ShapeError(f"a residual encoder needs dim = features; got {self.dim} and {self.num_features}")

    @property
    def num_features(self) -> int:
        """``f``, the length of a feature vector."""
        return int(self.weights[0].shape[1])

    def __repr__(self) -> str:
        sizes = " -> ".join(str(n) for n in [self.num_features] + [w.shape[0] for w in self.weights])
        return f"EncoderEmbeddings(n={len(self)}, dim={self.dim}, encoder={sizes})"

    def embed(self, features) -> np.ndarray:
        """Vectors of items from their features: ``(n, f)`` (or one ``(f,)`` row) -> float32 ``(n, dim)``
        (or ``(dim,)``). The same function that made :attr:`vectors`."""
        x = np.asarray(features, dtype=np.float32)
        one = x.ndim == 1
        x = x[None, :] if one else x
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ShapeError(f"features must have shape (n, {self.num_features}); got {np.shape(features)}")
        raw = x
        x = (x - self.feature_mean) / self.feature_scale
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            x = x @ w.T + b
            if i < len(self.weights) - 1:
                np.maximum(x, 0.0, out=x)
        if self.residual:
            x = x + raw
        if self.normalize:
            norms = np.linalg.norm(x, axis=1, keepdims=True)
            x = x / np.where(norms > 0, norms, 1.0)
        x = np.ascontiguousarray(x, dtype=np.float32)
        return x[0] if one else x

    def normalized(self) -> "EncoderEmbeddings":
        """A copy with unit-length rows; its :meth:`embed` returns unit-length vectors too."""
        return EncoderEmbeddings(self.keys, self._unit_vectors(), self.weights, self.biases, self.feature_mean,
                                 self.feature_scale, True, dict(self.meta), residual=self.residual)

    # ---- persistence ---------------------------------------------------------------------
    def _arrays(self) -> dict:
        out = {"vectors": self.vectors, "encoder/feature_mean": self.feature_mean,
               "encoder/feature_scale": self.feature_scale}
        for i, (w, b) in enumerate(zip(self.weights, self.biases)):
            out[f"encoder/weight_{i}"], out[f"encoder/bias_{i}"] = w, b
        return out

    def save(self, path) -> None:
        """``.ekv``: the embeddings' files plus the encoder's arrays (module doc); written atomically."""
        meta = dict(self.meta)
        meta.setdefault("embedkit_version", __version__)
        meta.update(format=FORMAT_NAME, format_version=FORMAT_VERSION, shape=list(self.vectors.shape),
                    encoder={"layers": len(self.weights), "normalize": self.normalize, "activation": "relu",
                             "residual": self.residual})
        write_zip(path, {"meta.json": meta, "keys.json": native._keys_payload(self.keys)}, self._arrays())

    @classmethod
    def load(cls, path) -> "EncoderEmbeddings":
        """Read what :meth:`save` wrote (also what :func:`embedkit.load` returns for it)."""
        meta, texts, arr = read_zip(path, FORMAT_NAME, FORMAT_VERSION, "encoder")
        try:
            keys = texts["keys.json"]["keys"]
            n_layers = int(meta["encoder"]["layers"])
            weights = [arr[f"encoder/weight_{i}"] for i in range(n_layers)]
            biases = [arr[f"encoder/bias_{i}"] for i in range(n_layers)]
            mean, scale, vectors = arr["encoder/feature_mean"], arr["encoder/feature_scale"], arr["vectors"]
        except (KeyError, TypeError, ValueError) as exc:
            raise InputFormatError(f"not a valid embedkit encoder file (missing {exc})", path) from None
        if len(keys) != vectors.shape[0]:
            raise InputFormatError(f"{len(keys)} keys for {vectors.shape[0]} vectors", path)
        info = meta["encoder"]
        kept = {k: v for k, v in meta.items() if k not in ("format", "format_version", "shape", "encoder")}
        return cls(keys, vectors, weights, biases, mean, scale, info.get("normalize", False), kept,
                   residual=info.get("residual", False))


register_artifact("encoder-embeddings", EncoderEmbeddings, format=FORMAT_NAME, save=native.save_embeddings,
                  load=lambda path, *, mmap=False, allow_nonfinite=False: check_embeddings(
                      EncoderEmbeddings.load(path), path, allow_nonfinite),
                  summary=summary_rows)

__all__ = ["EncoderEmbeddings"]
