"""The one training loop: progress, history, callbacks, early stopping and checkpoints.

Every iterative method (skip-gram, CBOW, subword, DeepWalk, Node2Vec, ALS, BPR, MF, GCN, GAT,
triplet) wraps its state in a :class:`Trainable` and calls :func:`run`; the parameters the
loop adds to a method's table come from :func:`loop_params`.
"""
from __future__ import annotations

from .._validation import Param
from .checkpoint import Checkpoints, digest
from .loop import Epoch, Options, Run, Trainable, fingerprint, numpy_rng_state, run, set_numpy_rng_state

__all__ = ["Checkpoints", "Epoch", "Options", "Run", "Trainable", "digest", "fingerprint", "loop_params",
           "numpy_rng_state", "run", "set_numpy_rng_state"]

#: seconds between checkpoints inside a long epoch (one is written after every epoch too)
CHECKPOINT_EVERY_S = 300.0


def loop_params(validation: str | None = None, *, patience_default: int = 0) -> tuple[Param, ...]:
    """The loop's rows of a method's parameter table.

    ``validation``: what the method's ``validation=`` takes and measures (its help text), or
    None for a method without a validation signal (then no ``validation``/``patience`` rows).
    """
    rows = [
        Param("callbacks", object, None, "callables called after every epoch with its history row; one "
              "returning True stops training after that epoch", nullable=True, cli=False),
        Param("checkpoint", str, None, "folder for checkpoints: one is written after every epoch (and inside "
              "long epochs every checkpoint_every seconds); running again with the same folder resumes from "
              "the newest", nullable=True),
        Param("checkpoint_every", float, CHECKPOINT_EVERY_S, "seconds between checkpoints inside an epoch",
              low=0.0),
    ]
    if validation:
        rows += [
            Param("validation", object, None, validation + "; measured after every epoch, the best epoch is "
                  "kept (see history)", nullable=True),
            Param("patience", int, patience_default, "stop after this many epochs without a better validation "
                  "score (0: run every epoch, still keeping the best)", low=0),
        ]
    return tuple(rows)
