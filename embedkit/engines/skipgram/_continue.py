"""Continuing a skip-gram training from a previous result (``init=``, ``freeze_existing=``):
the merged vocabulary, the merged counts and the starting rows.

* Keys in both start from their previous rows; new keys get fresh random rows (word2vec's
  initialisation, seeded by the run's seed); the previous keys absent from the new data are
  appended after the new vocabulary and keep their vectors.
* Counts: the previous result's ``meta["counts"]`` (one per key, written by every method of the
  family) join the new data's, so subsampling and the noise distribution see both (gensim's
  vocabulary update does the same). A previous result without counts: a warning, and the new
  counts only (the absent keys then count 1 each, so they stay in the noise table).
* Output vectors (``syn1``): a result trained in this process keeps them on the object
  (:func:`output_vectors`), and continuation starts from them: it is then exact. A result
  loaded from a file has none (``.ekv`` stores the input vectors only): every output row starts
  at zero, as in a fresh training.
* ``freeze_existing``: every previous row is read but never written (numba: a per-row lock in
  the kernel; torch: its updates are multiplied by 0), so the previous keys' vectors come back
  bit for bit and indexes built on them stay valid. Output rows are frozen too when they were
  kept (new rows then learn against the same output space the old ones were trained with);
  zero-started output rows all train.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from ..._validation import Param
from ...exceptions import InvalidParameterError
from ._common import SGNSStart, _init_vectors

logger = logging.getLogger("embedkit")

#: the parameter rows of every method that continues (``init``, ``freeze_existing``): the shared meanings
CONTINUE_PARAMS: tuple[Param, ...] = (
    Param("init", object, None, "a previous result to continue from: keys in both start from their old rows, new "
          "keys get new rows, old keys absent from the new data keep their vectors", nullable=True, cli=False),
    Param("freeze_existing", bool, False, "keep every old row bit for bit (indexes built on them stay valid)",
          requires="init"),
)

#: attribute of a result that holds its skip-gram output vectors (in memory only)
_OUTPUT_ATTR = "_sgns_output"


def output_vectors(emb) -> np.ndarray | None:
    """The output vectors ``(len(emb), dim)`` kept on a result trained in this process, or None."""
    out = getattr(emb, _OUTPUT_ATTR, None)
    if out is None or out.shape != emb.vectors.shape:
        return None
    return out


def keep_output(emb, syn1: np.ndarray) -> None:
    """Keep the output vectors ``syn1`` (one row per key of ``emb``) on the result, in memory."""
    setattr(emb, _OUTPUT_ATTR, np.ascontiguousarray(syn1, dtype=np.float32))


@dataclass
class Continuation:
    """A continued training's vocabulary: ``keys`` (the new data's vocabulary, then the previous
    keys absent from it), ``counts`` float64 ``(len(keys),)`` merged, ``start`` the starting rows,
    ``num_new`` how many keys the previous result did not have, ``num_absent`` how many
    previous keys the new data lacks, ``kept_output`` whether the output rows were continued."""

    keys: list
    counts: np.ndarray
    start: SGNSStart
    num_new: int
    num_absent: int
    kept_output: bool

    def meta(self) -> dict:
        return {"continued": {"new_keys": self.num_new, "absent_keys": self.num_absent,
                              "output_vectors": "continued" if self.kept_output else "restarted at zero",
                              "frozen": self.start.frozen0 is not None}}


def check_init(method: str, init):
    """``init`` as Embeddings (a result or a loaded file), or raise (``freeze_existing`` without
    ``init`` is refused by the parameters' validation)."""
    from ...embeddings import Embeddings

    if init is None or isinstance(init, Embeddings):
        return init
    raise InvalidParameterError(method, "init", "a previous result (Embeddings) of this method, or None",
                                type(init).__name__, hint="load a saved one with ek.load(path)")


def continue_from(method: str, previous, keys, counts, dim: int, seed: int, *, freeze: bool) -> Continuation:
    """The merged vocabulary and starting rows for training on data whose vocabulary is ``keys``
    with ``counts`` ``(len(keys),)``, continuing ``previous`` (Embeddings). ``dim`` must be the
    previous result's."""
    if previous.dim != dim:
        raise InvalidParameterError(method, "dim", f"the init result's dimension ({previous.dim})", dim,
                                    hint="a continued training keeps the previous vectors' size")
    keys = list(keys)
    counts = np.asarray(counts, dtype=np.float64)
    found = [previous._lookup(k) for k in keys]  # the key or its string form (a loaded file's node ids)
    old_rows = np.array([-1 if r is None else r for r in found], dtype=np.int64)
    seen = np.zeros(len(previous), dtype=bool)
    seen[old_rows[old_rows >= 0]] = True
    absent = np.flatnonzero(~seen).tolist()
    all_keys = keys + [previous.keys[i] for i in absent]
    rows = np.concatenate([old_rows, np.array(absent, dtype=np.int64)])
    has_old = rows >= 0
    V = len(all_keys)
    prev_counts = previous.meta.get("counts")
    if prev_counts is not None and len(prev_counts) == len(previous):
        old = np.asarray(prev_counts, dtype=np.float64)
        merged = np.concatenate([counts, np.zeros(len(absent))])
        merged[has_old] += old[rows[has_old]]
    else:
        logger.warning("%s: the init result has no word/node counts (meta['counts']): subsampling and negatives use "
                       "the new data's counts only", method)
        merged = np.concatenate([counts, np.ones(len(absent))])
    syn0 = _init_vectors(V, dim, seed)
    syn0[has_old] = previous.vectors[rows[has_old]]
    out = output_vectors(previous)
    syn1 = None
    if out is not None:
        syn1 = np.zeros((V, dim), dtype=np.float32)
        syn1[has_old] = out[rows[has_old]]
    start = SGNSStart(syn0, syn1, has_old.copy() if freeze else None,
                      has_old.copy() if freeze and syn1 is not None else None)
    logger.info("%s: continuing from %d vectors: %d new keys, %d previous keys absent from the data (kept)%s",
                method, len(previous), int((~has_old).sum()), len(absent), ", frozen" if freeze else "")
    return Continuation(all_keys, merged, start, int((~has_old).sum()), len(absent), syn1 is not None)
