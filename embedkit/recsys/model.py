"""FactorModel: what every recommender (``als``, ``bpr``, ``mf``, ``popular``) hands back.

A model is two :class:`~embedkit.Embeddings` tables, ``users`` ``(U, d)`` and
``items`` ``(I, d)``, optional biases, and the training interactions (to leave
seen items out of recommendations). The score of user ``u`` for item ``i`` is::

    global_bias + user_bias[u] + item_bias[i] + users[u] . items[i]

Saved as ``.ekv`` like embeddings: an uncompressed zip of ``.npy`` arrays and JSON
(meta, user and item ids), loaded with ``allow_pickle=False``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Hashable, Iterable

import numpy as np

from .._version import __version__
from ..artifacts import register_artifact
from ..embeddings import Embeddings
from ..exceptions import EmbedkitError, InputFormatError, InvalidParameterError, KeyNotFoundError, ShapeError
from ..io import native
from ..engines.topk import mask_seen, topk, users_per_block
from ..io._zip import read_zip, write_zip

FORMAT_NAME = "embedkit.factor_model"
FORMAT_VERSION = 1
#: a model's fingerprint of its training interactions keeps the smallest this many pair hashes
#: (a bottom-k sketch, 32 KB): saved even when the interactions are not (``include_seen=False``)
SKETCH_SIZE = 4096
#: fewer sampled test pairs than this under the sketch's cut-off: too few to estimate an overlap
MIN_SKETCH_SAMPLE = 30


class FactorModel:
    """A fitted recommender: user and item vectors, biases and the seen interactions.

    Parameters
    ----------
    users : Embeddings ``(U, d)`` keyed by user id.
    items : Embeddings ``(I, d)`` keyed by item id.
    user_bias, item_bias : float32 arrays ``(U,)`` / ``(I,)`` or None (zero).
    global_bias : float, the constant term (the mean rating for ``mf``).
    seen : ``(indptr, indices)`` CSR arrays of the training interactions, user rows by item
        rows (what ``filter_seen`` leaves out), or an :class:`~embedkit.data.interactions.Interactions`.
    explicit : whether scores are rating predictions (``mf``); only then :meth:`predict` works.
    rating_range : ``(low, high)`` ratings seen in training; predictions are clipped to it.
    seen_sketch : uint64 array, the fingerprint of the training interactions (:func:`seen_sketch`),
        for a model saved without them; computed from ``seen`` when that is given.
    meta : JSON-able metadata (method, params, training time ...), shared with ``users.meta``
        and ``items.meta``.
    """

    def __init__(self, users: Embeddings, items: Embeddings, *, user_bias=None, item_bias=None,
                 global_bias: float = 0.0, seen=None, explicit: bool = False,
                 rating_range: tuple[float, float] | None = None, meta: dict | None = None, seen_sketch=None):
        if users.dim != items.dim:
            raise ShapeError(f"user vectors have dim {users.dim}, item vectors {items.dim}")
        self.users = users
        self.items = items
        self.user_bias = None if user_bias is None else _vec(user_bias, len(users), "user_bias")
        self.item_bias = None if item_bias is None else _vec(item_bias, len(items), "item_bias")
        self.global_bias = float(global_bias)
        if seen is not None and hasattr(seen, "indptr") and hasattr(seen, "indices"):
            seen = (seen.indptr, seen.indices)
        if seen is not None:
            indptr = np.asarray(seen[0], dtype=np.int64)
            indices = np.asarray(seen[1], dtype=np.int32)
            if indptr.shape[0] != len(users) + 1:
                raise ShapeError(f"seen has {indptr.shape[0] - 1} user rows for {len(users)} users")
            seen = (indptr, indices)
        self.seen = seen
        self._sketch = None if seen_sketch is None else np.asarray(seen_sketch, dtype=np.uint64)
        self.explicit = bool(explicit)
        self.rating_range = None if rating_range is None else (float(rating_range[0]), float(rating_range[1]))
        self.meta: dict = dict(meta or {})
        # one metadata dict: what fit records (method, params, time) shows on all three
        users.meta = self.meta
        items.meta = self.meta

    # ---- shape -------------------------------------------------------------------
    @property
    def num_users(self) -> int:
        return len(self.users)

    @property
    def num_items(self) -> int:
        return len(self.items)

    @property
    def dim(self) -> int:
        return self.users.dim

    def __repr__(self) -> str:
        method = self.meta.get("method")
        extra = f", method={method!r}" if method else ""
        return f"FactorModel(users={self.num_users}, items={self.num_items}, dim={self.dim}{extra})"

    @property
    def history(self) -> list[dict]:
        """The training run's history: one dict per epoch (``epoch``, ``loss``, throughput, ``seconds``,
        ``elapsed_s``, validation metrics), saved in the metadata; empty for a method without epochs."""
        return self.meta.get("history", [])

    # ---- scoring -----------------------------------------------------------------
    def user_rows(self, users: Iterable[Hashable]) -> np.ndarray:
        """Rows of user ids, int64; an unknown id raises :class:`~embedkit.KeyNotFoundError`."""
        return self.users.rows(users)

    def score_rows(self, user_rows: np.ndarray, item_rows: np.ndarray | None = None) -> np.ndarray:
        """Scores of users (rows) for items (rows; all when None): float32 ``(len(user_rows), n_items)``."""
        user_rows = np.asarray(user_rows, dtype=np.int64)
        V = self.items.vectors if item_rows is None else self.items.vectors[item_rows]
        s = self.users.vectors[user_rows] @ V.T
        if self.item_bias is not None:
            s += self.item_bias if item_rows is None else self.item_bias[item_rows]
        if self.user_bias is not None:
            s += self.user_bias[user_rows][:, None]
        if self.global_bias:
            s += np.float32(self.global_bias)
        return s

    def score(self, user: Hashable, items: Iterable[Hashable] | None = None) -> np.ndarray:
        """Scores of ``user`` for ``items`` (ids; every item when None), float32 ``(n,)``."""
        rows = None if items is None else self.items.rows(items)
        return self.score_rows(np.array([self.users.index_of(user)]), rows)[0]

    def predict_rows(self, user_rows: np.ndarray, item_rows: np.ndarray) -> np.ndarray:
        """Rating predictions for pairs of rows, float32 ``(n,)``; a row of -1 (an unknown user or
        item) contributes no vector and no bias, so an unknown pair gets the global mean.
        Clipped to ``rating_range``."""
        u = np.asarray(user_rows, dtype=np.int64)
        i = np.asarray(item_rows, dtype=np.int64)
        ku, ki = u >= 0, i >= 0
        both = ku & ki
        out = np.full(u.shape[0], self.global_bias, dtype=np.float32)
        out[both] += np.einsum("ij,ij->i", self.users.vectors[u[both]], self.items.vectors[i[both]])
        if self.user_bias is not None:
            out[ku] += self.user_bias[u[ku]]
        if self.item_bias is not None:
            out[ki] += self.item_bias[i[ki]]
        if self.rating_range is not None:
            np.clip(out, self.rating_range[0], self.rating_range[1], out=out)
        return out

    def predict(self, user, item):
        """Predicted rating of ``user`` for ``item`` (explicit models such as ``mf``).

        Scalars give a float; equal-length sequences of ids give a float32 array.
        """
        if not self.explicit:
            raise EmbedkitError(f"the {self.meta.get('method', 'model')!r} model ranks items but does not predict "
                                "ratings; use score() or recommend(), or train 'mf' on ratings")
        if isinstance(user, (list, tuple, np.ndarray)):
            return self.predict_rows(self.users.rows(user), self.items.rows(item))
        return float(self.predict_rows(np.array([self.users.index_of(user)]),
                                       np.array([self.items.index_of(item)]))[0])

    # ---- top-k -------------------------------------------------------------------
    def topk_rows(self, user_rows: np.ndarray, k: int, filter_seen: bool = True,
                  batch_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best item rows per user row, best first: int64 ``(n, k)`` rows and float32
        ``(n, k)`` scores. Seen items are left out with ``filter_seen``; when fewer than ``k``
        items remain, rows are padded with -1 and scores with -inf. Computed in blocks of
        ``batch_size`` users (vectorised; default: :func:`users_per_block`, at most 256 MB of
        scores)."""
        user_rows = np.asarray(user_rows, dtype=np.int64)
        k_eff = min(int(k), self.num_items)
        out_idx = np.full((user_rows.shape[0], int(k)), -1, dtype=np.int64)
        out_val = np.full((user_rows.shape[0], int(k)), -np.inf, dtype=np.float32)
        if filter_seen and self.seen is None:
            raise EmbedkitError("this model has no seen interactions to filter; pass filter_seen=False")
        batch_size = users_per_block(self.num_items, batch_size)
        for start in range(0, user_rows.shape[0], batch_size):
            rows = user_rows[start:start + batch_size]
            s = self.score_rows(rows)
            if filter_seen:
                mask_seen(s, rows, *self.seen)
            idx, val = topk(s, k_eff)
            out_idx[start:start + len(rows), :k_eff] = idx
            out_val[start:start + len(rows), :k_eff] = val
        out_idx[~np.isfinite(out_val)] = -1
        return out_idx, out_val

    def recommend(self, user: Hashable, k: int = 10, filter_seen: bool = True) -> list[tuple[Hashable, float]]:
        """The ``k`` best items for ``user`` as ``(item id, score)``, best first; items the user
        interacted with in training are left out unless ``filter_seen=False``."""
        _check_k(k, "recommend")
        if user not in self.users:
            raise KeyNotFoundError(f"unknown user {user!r}: not one of the model's {self.num_users} users "
                                   "(recommend_for(items) scores a user the model has not seen)",
                                   key=user, keys=self.users.keys)
        idx, val = self.topk_rows(np.array([self.users.index_of(user)]), k, filter_seen)
        keys = self.items.keys
        return [(keys[j], float(v)) for j, v in zip(idx[0], val[0]) if j >= 0]

    def recommend_many(self, users: Iterable[Hashable] | None = None, k: int = 10, filter_seen: bool = True,
                       batch_size: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Batched :meth:`recommend` for ``users`` (every user when None).

        Returns ``(items, scores)``: an object array ``(n, k)`` of item ids (None where fewer than
        ``k`` unseen items exist) and float32 ``(n, k)`` scores (-inf there), best first.
        """
        _check_k(k, "recommend_many")
        rows = np.arange(self.num_users) if users is None else self.users.rows(users)
        idx, val = self.topk_rows(rows, k, filter_seen, batch_size)
        keys = np.empty(self.num_items + 1, dtype=object)
        keys[:-1] = self.items.keys
        keys[-1] = None
        return keys[idx], val

    def similar_items(self, item: Hashable, k: int = 10) -> list[tuple[Hashable, float]]:
        """The ``k`` items whose vectors are closest to ``item``'s by cosine, best first."""
        return self.items.most_similar(item, k=k)

    def similar_users(self, user: Hashable, k: int = 10) -> list[tuple[Hashable, float]]:
        """The ``k`` users whose vectors are closest to ``user``'s by cosine, best first."""
        return self.users.most_similar(user, k=k)

    # ---- growing -----------------------------------------------------------------
    def fold_in(self, interactions, **options) -> "FactorModel":
        """This model grown by the users (and items) of ``interactions`` without retraining the
        rest; see :func:`embedkit.recsys.fold_in.fold_in`."""
        from .fold_in import fold_in

        return fold_in(self, interactions, **options)

    def recommend_for(self, items, k: int = 10, **options) -> list[tuple[Hashable, float]]:
        """The ``k`` best items for an anonymous user who chose ``items``; see
        :func:`embedkit.recsys.fold_in.recommend_for`."""
        from .fold_in import recommend_for

        return recommend_for(self, items, k, **options)

    # ---- training interactions -----------------------------------------------------
    @property
    def seen_sketch(self) -> np.ndarray | None:
        """The fingerprint of the training interactions (:func:`seen_sketch`), None if unknown."""
        if self._sketch is None and self.seen is not None:
            self._sketch = seen_sketch(self.seen[0], self.seen[1], self.num_items)
        return self._sketch

    def seen_overlap(self, indptr: np.ndarray, indices: np.ndarray) -> tuple[float, int, bool] | None:
        """How many of the interactions ``(indptr, indices)`` (CSR in this model's user and item
        rows) are training interactions of the model: ``(share, checked, exact)``.

        Exact from the stored training interactions; otherwise estimated from the fingerprint
        (the test pairs whose hash falls under the sketch's cut-off are checked: ``checked`` of
        them). None when the model knows neither, or too few pairs can be checked."""
        n = int(indptr[-1])
        if n == 0:
            return None
        if self.seen is not None:
            s_keys = _pair_keys(self.seen[0], self.seen[1], self.num_items)
            t_keys = _pair_keys(indptr, indices, self.num_items)
            return float(np.isin(t_keys, s_keys).mean()), n, True
        sk = self._sketch
        if sk is None or sk.size == 0:
            return None
        h = _mix64(_pair_keys(indptr, indices, self.num_items))
        if sk.size >= SKETCH_SIZE:  # the sketch holds only the smallest hashes: sample under its cut-off
            h = h[h <= sk[-1]]
        if h.size < MIN_SKETCH_SAMPLE and sk.size >= SKETCH_SIZE:
            return None
        if h.size == 0:
            return None
        return float(np.isin(h, sk).mean()), int(h.size), sk.size < SKETCH_SIZE

    # ---- persistence -------------------------------------------------------------
    def save(self, path, include_seen: bool = True) -> None:
        """Save as ``.ekv``: a zip of ``meta.json``, ``user_keys.json``, ``item_keys.json``,
        ``user_vectors.npy``, ``item_vectors.npy`` and, when present, ``user_bias.npy``,
        ``item_bias.npy``, ``seen_indptr.npy``, ``seen_indices.npy``. No pickle; written atomically."""
        meta = dict(self.meta)
        meta.setdefault("embedkit_version", __version__)
        meta.update(format=FORMAT_NAME, format_version=FORMAT_VERSION, global_bias=self.global_bias,
                    explicit=self.explicit, rating_range=self.rating_range,
                    shape=[self.num_users, self.num_items, self.dim])
        arrays = {"user_vectors": self.users.vectors, "item_vectors": self.items.vectors}
        if self.user_bias is not None:
            arrays["user_bias"] = self.user_bias
        if self.item_bias is not None:
            arrays["item_bias"] = self.item_bias
        if include_seen and self.seen is not None:
            arrays["seen_indptr"], arrays["seen_indices"] = self.seen
        if self.seen_sketch is not None:  # small, kept even without the interactions
            arrays["seen_sketch"] = self.seen_sketch
        write_zip(path, {"meta.json": meta, "user_keys.json": native._keys_payload(self.users.keys),
                         "item_keys.json": native._keys_payload(self.items.keys)}, arrays)

    @classmethod
    def load(cls, path) -> "FactorModel":
        """Load a model written by :meth:`save` (also what :func:`embedkit.load` returns for one)."""
        meta, texts, arr = read_zip(path, FORMAT_NAME, FORMAT_VERSION, "recommender model")
        try:
            ukeys, ikeys = texts["user_keys.json"]["keys"], texts["item_keys.json"]["keys"]
        except (KeyError, TypeError) as exc:
            raise InputFormatError(f"not a valid embedkit model file (missing {exc})", path) from None
        for name in ("user_vectors", "item_vectors"):
            if name not in arr:
                raise InputFormatError(f"{name}.npy is missing", path)
        if len(ukeys) != arr["user_vectors"].shape[0] or len(ikeys) != arr["item_vectors"].shape[0]:
            raise InputFormatError("the number of ids does not match the number of vectors", path)
        seen = (arr["seen_indptr"], arr["seen_indices"]) if "seen_indptr" in arr else None
        rr = meta.get("rating_range")
        extra = ("format", "format_version", "global_bias", "explicit", "rating_range", "shape")
        return cls(Embeddings(ukeys, arr["user_vectors"]), Embeddings(ikeys, arr["item_vectors"]),
                   user_bias=arr.get("user_bias"), item_bias=arr.get("item_bias"),
                   global_bias=meta.get("global_bias", 0.0), seen=seen, explicit=meta.get("explicit", False),
                   rating_range=tuple(rr) if rr else None,
                   meta={k: v for k, v in meta.items() if k not in extra}, seen_sketch=arr.get("seen_sketch"))

    def export(self, path, format: str | None = None, which: str = "items", **kwargs) -> None:
        """Write the ``which`` (``"items"`` or ``"users"``) vectors for other tools (see
        :meth:`embedkit.Embeddings.export`); ``.ekv`` saves the whole model."""
        if Path(path).suffix.lower() == ".ekv" and format in (None, "ekv"):
            self.save(path)
            return
        if which not in ("items", "users"):
            raise InvalidParameterError("export", "which", "'items' or 'users'", which)
        getattr(self, which).export(path, format=format, **kwargs)


# ---- shared helpers (also used by the ranking evaluator) ---------------------------------
def _vec(x, n: int, name: str) -> np.ndarray:
    v = np.ascontiguousarray(np.asarray(x, dtype=np.float32).ravel())
    if v.shape[0] != n:
        raise ShapeError(f"{name} has {v.shape[0]} entries for {n} rows")
    return v


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser on uint64 values: a well-mixed 64-bit hash, vectorised."""
    x = np.asarray(x, dtype=np.uint64).copy()
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def _pair_keys(indptr: np.ndarray, indices: np.ndarray, n_items: int) -> np.ndarray:
    """``user_row * n_items + item_row`` of every entry of a CSR, uint64."""
    rows = np.repeat(np.arange(len(indptr) - 1, dtype=np.uint64), np.diff(np.asarray(indptr, dtype=np.int64)))
    return rows * np.uint64(n_items) + np.asarray(indices, dtype=np.uint64)


def seen_sketch(indptr: np.ndarray, indices: np.ndarray, n_items: int, size: int = SKETCH_SIZE) -> np.ndarray:
    """A fingerprint of training interactions: the ``size`` smallest distinct hashes of their
    ``(user row, item row)`` pairs (a bottom-k sketch; Broder 1997), sorted uint64. The share of
    another set's pairs that are training pairs is estimated on that set's pairs hashing under
    the sketch's largest value."""
    return np.unique(_mix64(_pair_keys(indptr, indices, n_items)))[:size]


def _check_k(k, where: str) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidParameterError(where, "k", "an integer >= 1", k)


def _summary(model: FactorModel) -> list[tuple[str, str]]:
    rows = [("model", f"{model.num_users} users x {model.num_items} items, dim {model.dim}")]
    if "backend" in model.meta:
        rows.append(("backend", f"{model.meta['backend']} on {model.meta['device']}"))
    if "train_time_s" in model.meta:
        rows.append(("train", f"{model.meta['train_time_s']:.2f} s"))
    init = model.meta.get("init")
    if isinstance(init, dict) and "kept_users" in init:  # ek.train(..., init=previous)
        rows.append(("continued", f"users {init['kept_users']} kept, {init['new_users']} new, "
                     f"{init['absent_users_kept']} absent (unchanged); items {init['kept_items']} kept, "
                     f"{init['new_items']} new, {init['absent_items_kept']} absent (unchanged)"
                     + ("; old rows frozen" if init.get("freeze_existing") else "")))
    return rows


# .ekv: the whole model; other formats: its item vectors
register_artifact("factor-model", FactorModel, format=FORMAT_NAME, save=lambda model, path: model.export(path),
                  load=lambda path, *, mmap=False, allow_nonfinite=False: FactorModel.load(path), summary=_summary,
                  written=lambda model, path: str(path) + ("" if path.suffix == ".ekv" else " (item vectors)"),
                  tables=lambda model: {"items": model.items, "users": model.users})
