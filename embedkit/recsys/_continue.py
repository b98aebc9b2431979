"""Continuing a recommender from a previous model (``init=``, ``freeze_existing=``): ``als``, ``bpr``, ``mf``.

``ek.train(method, interactions, init=previous)`` trains on ``interactions`` (pass ALL the current
interactions: the loss is the method's usual one on them; for a delta of new users alone,
:meth:`FactorModel.fold_in` is the tool) starting from ``previous``:

* users and items in both start from their previous rows (and biases: ``bpr``'s item bias, ``mf``'s
  user and item biases; ``mf`` also keeps the previous ``global_bias``, so the old biases keep
  their meaning);
* new users and items get new rows, initialised as the method initialises every row (the same
  random draws as a fresh run with the same seed);
* previous users and items with no interaction in the new data ("absent") take no part in the
  training and keep their rows, biases and seen items unchanged;
* ``freeze_existing=True``: every previous row (and bias) stays bit for bit; only the new rows
  train, against the fixed old ones (ALS solves only the new rows in each half-sweep; BPR and MF
  drop the old rows' updates). Indexes built on the old vectors stay valid.

The result's users (and items) are the union: the previous model's keys first, in their previous
order (an old key keeps its row number), then the new keys in the order of the interactions.
Its seen interactions: the given ones, plus the previous seen items of the absent users.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from .._keys import rows_of
from .._validation import Param
from ..data.interactions import Interactions
from ..embeddings import Embeddings
from ..exceptions import InvalidParameterError
from ..training import digest
from .model import FactorModel

logger = logging.getLogger("embedkit")

#: the parameter rows ``init`` and ``freeze_existing`` of the recommenders (shared meanings:
#: docs/parameters.md)
CONTINUE_PARAMS: tuple[Param, ...] = (
    Param("init", object, None, "a previous FactorModel of this method to continue from (the CLI's --init FILE, "
          "read with ek.load): users and items in both start from their old rows (and biases), new ones get new "
          "rows, old ones without interactions in the new data keep theirs; the result holds the old keys first, "
          "then the new", nullable=True, cli=False),
    Param("freeze_existing", bool, False, "keep every old user and item row (and bias) bit for bit: only the new "
          "rows train (indexes built on the old vectors stay valid)", requires="init"),
)


def check_init(method: str, params: dict, given: dict, *, biases: tuple[str, ...] = (),
               explicit: bool = False) -> FactorModel | None:
    """``params["init"]`` as a :class:`FactorModel` of ``method``, or None; refuses what this run
    cannot continue, naming it. ``dim`` follows the init model unless ``given`` names another
    (then it is refused). ``biases``: the bias arrays the method's models hold (``item_bias``,
    ``user_bias``); ``explicit``: whether its models predict ratings."""
    init = params.get("init")
    if init is None:  # (freeze_existing without init: refused by the parameters' validation)
        return None
    if not isinstance(init, FactorModel):
        what = type(init).__name__
        raise InvalidParameterError(method, "init", f"a FactorModel trained by {method!r} (what ek.train or ek.load "
                                    "returns for one)", what,
                                    hint="plain Embeddings (vectors of one side only) cannot continue a "
                                         "recommender; save the whole model (model.save('m.ekv'))")
    other = init.meta.get("method")
    if other != method:
        raise InvalidParameterError(method, "init", f"a model trained by {method!r}", f"a model trained by {other!r}",
                                    hint="a continued training keeps the method: train "
                                         f"{other!r} with this init, or {method!r} from scratch")
    if bool(init.explicit) != explicit:
        kinds = {True: "a model of explicit ratings", False: "a model of implicit feedback"}
        raise InvalidParameterError(method, "init", kinds[explicit], kinds[bool(init.explicit)])
    missing = [b for b in biases if getattr(init, b) is None]
    if missing:
        raise InvalidParameterError(method, "init", f"a {method} model with its {' and '.join(biases)}",
                                    f"a model without {' and '.join(missing)}")
    if "dim" in given and params["dim"] != init.dim:
        raise InvalidParameterError(method, "dim", f"{init.dim} (the init model's dim) or left out", params["dim"],
                                    hint="a continued training keeps the previous vectors' size")
    params["dim"] = init.dim
    return init


def _rows_in(emb: Embeddings, keys) -> np.ndarray:
    return rows_of(emb.key_to_index, keys)


@dataclass
class Continuation:
    """What a continued training starts from. ``inter``: the training interactions (the given ones
    without the previous keys they have no entries for); ``user_old``/``item_old``: int64, the row
    of each training user/item in ``init``, -1 for a new one; ``freeze``: whether the old rows are
    fixed."""

    init: FactorModel
    inter: Interactions
    user_old: np.ndarray
    item_old: np.ndarray
    absent_users: np.ndarray
    absent_items: np.ndarray
    freeze: bool

    # ---- the training's start -----------------------------------------------------------
    def old_users(self) -> np.ndarray:
        """bool ``(U,)``: the training users the init model has."""
        return self.user_old >= 0

    def old_items(self) -> np.ndarray:
        return self.item_old >= 0

    def fixed_users(self) -> np.ndarray | None:
        """bool ``(U,)``: the training users whose rows must not move (the old ones, with
        ``freeze``), or None when every row trains."""
        return self.old_users() if self.freeze and self.old_users().any() else None

    def fixed_items(self) -> np.ndarray | None:
        return self.old_items() if self.freeze and self.old_items().any() else None

    def user_start(self) -> tuple[np.ndarray, np.ndarray]:
        """``(rows, values)``: the training rows that start from the init model, and their vectors."""
        has = np.flatnonzero(self.old_users())
        return has, self.init.users.vectors[self.user_old[has]]

    def item_start(self) -> tuple[np.ndarray, np.ndarray]:
        has = np.flatnonzero(self.old_items())
        return has, self.init.items.vectors[self.item_old[has]]

    def user_bias_start(self) -> tuple[np.ndarray, np.ndarray]:
        has = np.flatnonzero(self.old_users())
        return has, self.init.user_bias[self.user_old[has]]

    def item_bias_start(self) -> tuple[np.ndarray, np.ndarray]:
        has = np.flatnonzero(self.old_items())
        return has, self.init.item_bias[self.item_old[has]]

    def digest(self) -> list:
        """What identifies the init (its keys, rows and biases) in a checkpoint's data digest."""
        m = self.init
        parts = [[str(k) for k in m.users.keys], [str(k) for k in m.items.keys], m.users.vectors, m.items.vectors,
                 m.global_bias]
        parts += [b for b in (m.user_bias, m.item_bias) if b is not None]
        return parts

    def description(self) -> str:
        return f"{self.inter!r} continuing {self.init!r}"

    # ---- the result ------------------------------------------------------------------------
    def _positions(self, old: np.ndarray, n_old: int) -> tuple[np.ndarray, int]:
        """Row of each training key in the result: its old row, or after the old keys."""
        pos = old.copy()
        new = pos < 0
        pos[new] = n_old + np.arange(int(new.sum()))
        return pos, int(new.sum())

    def model(self, user_vectors, item_vectors, meta: dict, *, user_bias=None, item_bias=None,
              rating_range=None) -> FactorModel:
        """The result: the init model's keys first (trained rows for those trained, old rows for the
        absent), then the new keys; biases the same way."""
        m = self.init
        upos, n_new_u = self._positions(self.user_old, m.num_users)
        ipos, n_new_i = self._positions(self.item_old, m.num_items)
        ukeys = list(m.users.keys) + [self.inter.users[r] for r in np.flatnonzero(self.user_old < 0)]
        ikeys = list(m.items.keys) + [self.inter.items[r] for r in np.flatnonzero(self.item_old < 0)]

        def side(old_table, new_rows, pos, n_new):
            if old_table is None:
                return None
            out = np.concatenate([np.asarray(old_table, dtype=np.float32),
                                  np.zeros((n_new,) + old_table.shape[1:], dtype=np.float32)])
            out[pos] = new_rows
            return out

        users = side(m.users.vectors, user_vectors, upos, n_new_u)
        items = side(m.items.vectors, item_vectors, ipos, n_new_i)
        ub = side(m.user_bias, user_bias, upos, n_new_u) if user_bias is not None else None
        ib = side(m.item_bias, item_bias, ipos, n_new_i) if item_bias is not None else None
        seen = self._seen(upos, ipos, len(ukeys), len(ikeys))
        meta = dict(meta)
        meta["init"] = self.meta()
        return FactorModel(Embeddings(ukeys, users), Embeddings(ikeys, items), user_bias=ub, item_bias=ib,
                           global_bias=m.global_bias, seen=seen, explicit=m.explicit, rating_range=rating_range,
                           meta=meta)

    def _seen(self, upos, ipos, n_users: int, n_items: int):
        """The given interactions in the result's rows, plus the init model's seen items of the
        absent users."""
        import scipy.sparse as sp

        rows = upos[self.inter.user_of_entry()]
        cols = ipos[self.inter.indices]
        if self.init.seen is not None and self.absent_users.size:
            indptr, indices = self.init.seen
            counts = np.diff(indptr)[self.absent_users]
            starts = indptr[self.absent_users]
            take = np.repeat(starts - np.concatenate([[0], np.cumsum(counts)[:-1]]), counts) + np.arange(counts.sum())
            rows = np.concatenate([rows, np.repeat(self.absent_users, counts)])
            cols = np.concatenate([cols, indices[take].astype(np.int64)])  # old item rows are result rows
        seen = sp.csr_matrix((np.ones(rows.shape[0], dtype=np.float32), (rows, cols)), shape=(n_users, n_items))
        seen.sum_duplicates()
        seen.sort_indices()
        return seen.indptr.astype(np.int64), seen.indices.astype(np.int32)

    def meta(self) -> dict:
        """``meta["init"]``: what was continued."""
        old_u, old_i = self.old_users(), self.old_items()
        return {"source": repr(self.init), "kept_users": int(old_u.sum()), "new_users": int((~old_u).sum()),
                "absent_users_kept": int(self.absent_users.size), "kept_items": int(old_i.sum()),
                "new_items": int((~old_i).sum()), "absent_items_kept": int(self.absent_items.size),
                "freeze_existing": bool(self.freeze)}


def prepare(method: str, init: FactorModel, inter: Interactions, freeze: bool) -> Continuation:
    """The continuation of ``init`` on ``inter``: the previous keys without entries in ``inter``
    are left out of the training (they keep their rows)."""
    user_old = _rows_in(init.users, inter.users)
    item_old = _rows_in(init.items, inter.items)
    keep_u = ~((user_old >= 0) & (inter.user_counts() == 0))
    keep_i = ~((item_old >= 0) & (inter.item_counts() == 0))
    train = inter if keep_u.all() and keep_i.all() else _restrict(inter, keep_u, keep_i)
    user_old, item_old = user_old[keep_u], item_old[keep_i]
    present_u = np.zeros(init.num_users, dtype=bool)
    present_u[user_old[user_old >= 0]] = True
    present_i = np.zeros(init.num_items, dtype=bool)
    present_i[item_old[item_old >= 0]] = True
    cont = Continuation(init, train, user_old, item_old, np.flatnonzero(~present_u), np.flatnonzero(~present_i),
                        bool(freeze))
    info = cont.meta()
    logger.info("%s: continuing from %r: users %d kept, %d new, %d absent (unchanged); items %d kept, %d new, "
                "%d absent (unchanged)%s", method, init, info["kept_users"], info["new_users"],
                info["absent_users_kept"], info["kept_items"], info["new_items"], info["absent_items_kept"],
                ", old rows frozen" if freeze else "")
    return cont


def _restrict(inter: Interactions, keep_u: np.ndarray, keep_i: np.ndarray) -> Interactions:
    """``inter`` without the users and items ``keep_*`` leaves out (they have no entries: every
    entry is kept, in the same order)."""
    counts = inter.user_counts()[keep_u]
    indptr = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    new_col = np.cumsum(keep_i) - 1
    return Interactions(indptr=indptr, indices=new_col[inter.indices].astype(np.int32), values=inter.values,
                        users=[u for u, k in zip(inter.users, keep_u) if k],
                        items=[i for i, k in zip(inter.items, keep_i) if k], timestamps=inter.timestamps,
                        explicit=inter.explicit, source=inter.source)


def used_params(params: dict) -> dict:
    """The parameters as used (``dim`` from the init model), JSON-able ones, for ``meta["params"]``."""
    return {k: v for k, v in params.items() if v is None or isinstance(v, (bool, int, float, str))}
