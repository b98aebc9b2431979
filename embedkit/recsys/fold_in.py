"""Folding new or changed users and items into a trained recommender without retraining the rest.

A production recommender sees new users and items every day. :func:`fold_in` grows a
:class:`~embedkit.recsys.model.FactorModel` from their interactions: every other row stays
bit for bit as it was, so indexes built on the item vectors stay valid.

How each method solves the new rows (registered in :data:`SOLVERS` by method name):

* ``als``: the exact least-squares solve of the ALS objective for each row with the other
  side fixed (Hu, Koren & Volinsky 2008, eq. 4), ``x_u = (Y^T C_u Y + reg I)^-1 Y^T C_u p_u``
  with ``c_ui = 1 + confidence * r_ui`` — the step ALS itself alternates, solved exactly
  (``numpy.linalg.solve`` per row in float64) rather than by a few CG steps.
* ``mf``: biased MF's squared error with the item side fixed is a ridge regression in
  ``(p_u, b_u)``; it is solved exactly, with the training penalty ``reg`` on every rating the
  row has (the minimum that further epochs of SGD on the new rows would approach).
* ``bpr``: Adam on the BPR loss (Rendle et al. 2009) over the new rows only, ``epochs``
  full-batch steps, each positive against ``negatives`` fresh uniform non-positive items.
* ``popular``: nothing to solve; a new user is recommended the popular items.

New users are solved first (against the existing items), then new items against all users,
including the new ones. Interactions of a user the model knows are added to the user's
training interactions and the user's row is solved again from all of them.
"""
from __future__ import annotations

import logging
from typing import Callable, Hashable, Iterable

import numpy as np

from ..data.interactions import Interactions, read_interactions
from ..embeddings import Embeddings
from ..exceptions import EmbedkitError, InvalidParameterError
from ..engines.topk import mask_seen, topk
from .model import FactorModel

logger = logging.getLogger("embedkit")

__all__ = ["fold_in", "recommend_for", "SOLVERS"]


class _Side:
    """The fixed side of a solve: vectors ``(n, d)`` float32 and biases ``(n,)`` (or None)."""

    def __init__(self, vectors: np.ndarray, bias: np.ndarray | None):
        self.vectors, self.bias = vectors, bias


def _csr_rows(indptr: np.ndarray):
    """Row of every stored entry."""
    return np.repeat(np.arange(indptr.shape[0] - 1), np.diff(indptr))


# ---- solvers: (model, fixed side, CSR of the rows to solve against the fixed side's rows, values,
#      params, own_bias_wanted) -> (vectors (n, d) float32, bias (n,) float32 or None)
def _solve_als(model, fixed: _Side, indptr, indices, values, params, side: str):
    confidence = float(params.get("confidence", 1.0))
    reg = float(params.get("reg", 0.01))
    Y = fixed.vectors.astype(np.float64)
    d = Y.shape[1]
    base = Y.T @ Y + reg * np.eye(d)
    out = np.zeros((indptr.shape[0] - 1, d), dtype=np.float32)
    for r in range(indptr.shape[0] - 1):
        cols = indices[indptr[r]:indptr[r + 1]]
        if cols.size == 0:
            continue
        c = 1.0 + confidence * values[indptr[r]:indptr[r + 1]].astype(np.float64)
        Yc = Y[cols]
        A = base + (Yc * (c - 1.0)[:, None]).T @ Yc
        out[r] = np.linalg.solve(A, Yc.T @ c)
    return out, None


def _solve_mf(model, fixed: _Side, indptr, indices, values, params, side: str):
    reg = float(params.get("reg", 0.1))
    Q = fixed.vectors.astype(np.float64)
    d = Q.shape[1]
    fixed_bias = np.zeros(Q.shape[0]) if fixed.bias is None else fixed.bias.astype(np.float64)
    n = indptr.shape[0] - 1
    vec = np.zeros((n, d), dtype=np.float32)
    bias = np.zeros(n, dtype=np.float32)
    for r in range(n):
        cols = indices[indptr[r]:indptr[r + 1]]
        if cols.size == 0:
            continue
        target = values[indptr[r]:indptr[r + 1]].astype(np.float64) - model.global_bias - fixed_bias[cols]
        Z = np.hstack([Q[cols], np.ones((cols.size, 1))])
        w = np.linalg.solve(Z.T @ Z + reg * cols.size * np.eye(d + 1), Z.T @ target)
        vec[r], bias[r] = w[:d], w[d]
    return vec, bias


#: BPR fold-in: noise items per positive a step (MovieLens-100k, 100 users folded in: recall@10
#: 0.190 with 2 in 0.28 s, 0.189 with 8 in 1.2 s, 0.182 with 1; docs/updating-embeddings.md)
FOLD_IN_NEGATIVES = 2


def _solve_bpr(model, fixed: _Side, indptr, indices, values, params, side: str):
    """Adam (Kingma & Ba 2015) on the BPR loss over the new rows only, full batch, gradients by
    hand in numpy (no torch: its import alone took longer than the solve). ``side="users"``: each
    row is a user's vector ``w``, its entries are positive items, negatives are uniform items it
    has not. ``side="items"``: each row is an item's vector ``h`` and bias ``b``, its entries are
    the users who chose it, and each such user prefers it to a uniform existing item. The loss:
    the mean of ``-log sigmoid(x_pos - x_neg)`` over the kept (entry, noise item) pairs plus
    ``reg`` times the mean squared norm of the rows (and of the biases)."""
    reg = float(params.get("reg", 0.01))
    epochs = int(params.get("fold_in_epochs", 100))
    n_neg = int(params.get("fold_in_negatives", FOLD_IN_NEGATIVES))
    lr = float(params.get("fold_in_learning_rate", 0.05))
    rng = np.random.default_rng(int(params.get("seed") or 0))
    n = indptr.shape[0] - 1
    items = np.ascontiguousarray(model.items.vectors, dtype=np.float32)
    dim = items.shape[1]
    item_bias = (np.zeros(model.num_items, dtype=np.float32) if model.item_bias is None
                 else np.asarray(model.item_bias, dtype=np.float32))
    m = model.num_items
    per_row = np.diff(indptr).astype(np.int64) * n_neg      # (entry, noise item) pairs of each row
    rows = np.repeat(np.arange(n, dtype=np.int64), per_row)  # sorted: each row's pairs are contiguous
    starts = np.concatenate([[0], np.cumsum(per_row)[:-1]]).astype(np.int64)
    other = np.repeat(indices.astype(np.int64), n_neg)  # users side: positive items; items side: users
    W = (rng.standard_normal((n, dim)) * 0.01).astype(np.float32)
    b = np.zeros(n, dtype=np.float32)
    own_bias = side == "items" and model.item_bias is not None
    if rows.size == 0:
        return W, (b if own_bias else None)
    if side == "users":
        positives = np.sort(_csr_rows(indptr).astype(np.int64) * m + indices)
        pos_vec, pos_bias = items[other], item_bias[other]
    else:
        users = np.ascontiguousarray(fixed.vectors[other], dtype=np.float32)
    adam = _Adam([W, b] if own_bias else [W], lr)

    for _ in range(epochs):
        neg = rng.integers(0, m, rows.size)
        if side == "users":
            key = rows * m + neg
            at = np.minimum(np.searchsorted(positives, key), positives.size - 1)
            keep = positives[at] != key                       # a noise item the user has is skipped
            d = pos_vec - items[neg]
            offset = pos_bias - item_bias[neg]
        else:
            keep = np.ones(rows.size, dtype=bool)
            d = users
            offset = -(np.einsum("ij,ij->i", users, items[neg]) + item_bias[neg])
        _, grads = _bpr_gradients(W, b if own_bias else None, rows, starts, d, offset, keep, reg)
        adam.step(grads)
    return W, (b if own_bias else None)


def _bpr_gradients(W, b, rows, starts, d, offset, keep, reg: float):
    """The BPR fold-in loss and its gradients for the rows ``W`` ``(n, dim)`` (and biases ``b``
    ``(n,)``, or None). Pair ``k`` of row ``rows[k]`` (rows sorted, row ``r``'s pairs from
    ``starts[r]``) scores ``x_k = W[rows[k]] . d[k] + b[rows[k]] + offset[k]``; the loss is the mean
    of ``-log sigmoid(x_k)`` over the pairs with ``keep`` plus ``reg`` times the mean over rows of
    ``|W_r|^2`` (and of ``b_r^2``). Returns ``(loss, [dW] or [dW, db])``."""
    n = W.shape[0]
    x = np.einsum("ij,ij->i", W[rows], d) + offset
    if b is not None:
        x = x + b[rows]
    kept = max(int(keep.sum()), 1)
    loss = float(np.logaddexp(0.0, -x[keep]).sum() / kept + reg * (W.astype(np.float64) ** 2).sum() / n)
    # d loss / d x = -sigmoid(-x) over the kept pairs, averaged
    g = (-keep.astype(np.float32) / kept / (1.0 + np.exp(np.clip(x, -50, 50)))).astype(np.float32)
    has = np.diff(np.append(starts, rows.size)) > 0

    def per_row_sum(v):
        out = np.zeros((n,) + v.shape[1:], dtype=np.float32)
        out[has] = np.add.reduceat(v, starts[has], axis=0)
        return out

    grads = [per_row_sum(g[:, None] * d) + (2.0 * reg / n) * W]
    if b is not None:
        loss += float(reg * (b.astype(np.float64) ** 2).sum() / n)
        grads.append(per_row_sum(g) + (2.0 * reg / n) * b)
    return loss, grads


class _Adam:
    """Adam (Kingma & Ba 2015) on a few numpy arrays, updated in place."""

    def __init__(self, arrays, lr: float, betas=(0.9, 0.999), eps: float = 1e-8):
        self.arrays, self.lr, self.betas, self.eps, self.t = arrays, lr, betas, eps, 0
        self.m = [np.zeros_like(x) for x in arrays]
        self.v = [np.zeros_like(x) for x in arrays]

    def step(self, grads) -> None:
        self.t += 1
        b1, b2 = self.betas
        for x, g, m, v in zip(self.arrays, grads, self.m, self.v):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * g * g
            x -= (self.lr / (1 - b1 ** self.t)) * m / (np.sqrt(v / (1 - b2 ** self.t)) + self.eps)


def _solve_popular(model, fixed: _Side, indptr, indices, values, params, side: str):
    n = indptr.shape[0] - 1
    if side == "users":
        return np.ones((n, 1), dtype=np.float32), None
    return np.diff(indptr).astype(np.float32)[:, None], None


#: method name -> solver of new rows against a fixed side
SOLVERS: dict[str, Callable] = {"als": _solve_als, "mf": _solve_mf, "bpr": _solve_bpr, "popular": _solve_popular}


def _solver(model) -> Callable:
    method = model.meta.get("method")
    if method not in SOLVERS:
        raise EmbedkitError(f"cannot fold new rows into a {method!r} model: folding in is defined for "
                            + ", ".join(sorted(SOLVERS)))
    return SOLVERS[method]


def _params(model, options: dict) -> dict:
    params = dict(model.meta.get("params") or {})
    for name, value in options.items():
        if value is not None:
            params["fold_in_" + name if name in ("epochs", "learning_rate", "negatives") else name] = value
    return params


def _seen_matrix(model):
    import scipy.sparse as sp

    if model.seen is None:
        return sp.csr_matrix((model.num_users, model.num_items), dtype=np.float32)
    indptr, indices = model.seen
    return sp.csr_matrix((np.ones(indices.shape[0], dtype=np.float32), indices, indptr),
                         shape=(model.num_users, model.num_items))


def _grow(keys: list, known: Embeddings, ids: Iterable[Hashable]) -> tuple[np.ndarray, list]:
    """Rows of ``ids`` in ``known`` extended by new rows for the ids it lacks: ``(rows, new ids)``."""
    rows, new = [], []
    for key in ids:
        r = known._lookup(key)
        if r is None:
            r = len(keys) + len(new)
            new.append(key)
        rows.append(r)
    return np.asarray(rows, dtype=np.int64), new


def fold_in(model, interactions, *, update_existing: bool = False, epochs: int | None = None,
            learning_rate: float | None = None, negatives: int | None = None, seed: int | None = None):
    """The model grown by the users (and items) of ``interactions``, the rest unchanged bit for bit.

    ``interactions``: an :class:`~embedkit.Interactions` or anything
    :func:`~embedkit.read_interactions` takes, keyed by user and item ids. Users the model does
    not know get new rows. A user it knows keeps its row bit for bit (its new interactions join
    its seen items and help place new items) unless ``update_existing=True``, which solves its
    row again from the interactions given here (then pass all of that user's interactions).
    Items the model does not know get new rows solved against the users that chose them (after
    the users are solved); existing item rows never change. ``epochs``, ``learning_rate``, ``negatives`` (per
    positive) and
    ``seed`` tune the ``bpr`` solver (defaults 100, 0.05, 2, the model's seed); the others are
    exact. Returns a new :class:`~embedkit.FactorModel`; ``model`` is not modified.
    """
    solve = _solver(model)
    params = _params(model, {"epochs": epochs, "learning_rate": learning_rate, "negatives": negatives, "seed": seed})
    inter = interactions if isinstance(interactions, Interactions) else read_interactions(interactions)
    item_rows, new_items = _grow(model.items.keys, model.items, inter.items)
    user_rows, new_users = _grow(model.users.keys, model.users, inter.users)
    n_users, n_items = model.num_users + len(new_users), model.num_items + len(new_items)
    entry_items = item_rows[inter.indices]          # grown item row of every entry
    entry_users = np.repeat(np.arange(inter.num_users), np.diff(inter.indptr))
    values = inter.values.astype(np.float32)

    # users first, against the existing items
    old_item = entry_items < model.num_items
    u_indptr = np.concatenate([[0], np.cumsum(np.bincount(entry_users[old_item], minlength=inter.num_users))])
    u_vec, u_bias = solve(model, _Side(model.items.vectors, model.item_bias), u_indptr,
                          entry_items[old_item], values[old_item], params, "users")
    solved = np.ones(len(user_rows), dtype=bool) if update_existing else user_rows >= model.num_users
    users = np.vstack([model.users.vectors, np.zeros((len(new_users), model.dim), dtype=np.float32)])
    users[user_rows[solved]] = u_vec[solved]
    user_bias = None
    if model.user_bias is not None:
        user_bias = np.concatenate([model.user_bias, np.zeros(len(new_users), dtype=np.float32)])
        if u_bias is not None:
            user_bias[user_rows[solved]] = u_bias[solved]

    # then new items, against every user (the new ones included)
    items = np.vstack([model.items.vectors, np.zeros((len(new_items), model.dim), dtype=np.float32)])
    item_bias = None if model.item_bias is None else np.concatenate(
        [model.item_bias, np.zeros(len(new_items), dtype=np.float32)])
    if new_items:
        is_new = ~old_item
        order = np.argsort(entry_items[is_new], kind="stable")
        new_rows = entry_items[is_new][order] - model.num_items
        i_indptr = np.concatenate([[0], np.cumsum(np.bincount(new_rows, minlength=len(new_items)))])
        i_vec, i_bias = solve(model, _Side(users, user_bias), i_indptr, user_rows[entry_users[is_new][order]],
                              values[is_new][order], params, "items")
        items[model.num_items:] = i_vec
        if item_bias is not None and i_bias is not None:
            item_bias[model.num_items:] = i_bias

    import scipy.sparse as sp

    seen = _seen_matrix(model)
    seen.resize((n_users, n_items))
    added = sp.csr_matrix((np.ones(values.shape[0], dtype=np.float32), (user_rows[entry_users], entry_items)),
                          shape=(n_users, n_items))
    seen = (seen + added).tocsr()
    seen.sort_indices()
    meta = dict(model.meta)
    meta["fold_in"] = list(meta.get("fold_in", [])) + [{
        "new_users": len(new_users), "updated_users": int(solved.sum()) - len(new_users),
        "new_items": len(new_items), "interactions": int(values.shape[0])}]
    logger.info("fold_in (%s): %d new and %d updated users, %d new items from %d interactions",
                model.meta.get("method"), len(new_users), int(solved.sum()) - len(new_users), len(new_items),
                values.shape[0])
    return type(model)(Embeddings(list(model.users.keys) + new_users, users),
                       Embeddings(list(model.items.keys) + new_items, items),
                       user_bias=user_bias, item_bias=item_bias, global_bias=model.global_bias,
                       seen=(seen.indptr.astype(np.int64), seen.indices.astype(np.int32)),
                       explicit=model.explicit, rating_range=model.rating_range, meta=meta)


def recommend_for(model, items, k: int = 10, *, values=None, filter_seen: bool = True,
                  epochs: int | None = None, seed: int | None = None) -> list[tuple[Hashable, float]]:
    """The ``k`` best items for an anonymous user who chose ``items`` (ids the model knows),
    best first as ``(item id, score)``; the user is solved as :func:`fold_in` solves a new one
    and is not added to the model. ``values``: the interaction values (ratings for ``mf``,
    counts for ``als``; default 1). The chosen items are left out unless ``filter_seen=False``."""
    from .model import _check_k

    _check_k(k, "recommend_for")
    items = list(items)
    if not items:
        raise InvalidParameterError("recommend_for", "items", "at least one item id", items)
    rows = model.items.rows(items)
    vals = np.ones(len(rows), dtype=np.float32) if values is None else np.asarray(values, dtype=np.float32)
    if vals.shape != rows.shape:
        raise InvalidParameterError("recommend_for", "values", f"one value per item ({len(rows)})", len(vals))
    params = _params(model, {"epochs": epochs, "seed": seed})
    vec, bias = _solver(model)(model, _Side(model.items.vectors, model.item_bias),
                               np.array([0, len(rows)]), rows, vals, params, "users")
    s = model.items.vectors @ vec[0]
    if model.item_bias is not None:
        s = s + model.item_bias
    s = s.astype(np.float32) + np.float32(model.global_bias + (float(bias[0]) if bias is not None else 0.0))
    s = s[None, :]
    if filter_seen:
        mask_seen(s, np.array([0]), np.array([0, len(rows)]), rows)
    idx, val = topk(s, min(int(k), model.num_items))
    keys = model.items.keys
    return [(keys[j], float(v)) for j, v in zip(idx[0], val[0]) if np.isfinite(v)]
