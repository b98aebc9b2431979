"""How the recommenders run on the shared training loop: the loop's parameter rows, validation
by recall@10 on held-out interactions, and the run's facts in the model's metadata."""
from __future__ import annotations

from typing import Callable

from ..training import Options, Run, Trainable, digest, loop_params, run

#: the validation metric of the recommenders (higher is better)
VALIDATION_K = 10


def loop_rows():
    return loop_params(f"held-out interactions (anything read_interactions takes): recall@{VALIDATION_K} on them, "
                       "the training interactions left out of the lists")


def data_digest(inter) -> dict:
    """What identifies the training interactions in a checkpoint."""
    return {"description": repr(inter),
            "digest": digest(inter.indptr, inter.indices, inter.values, [str(u) for u in inter.users],
                             [str(i) for i in inter.items])}


def train_loop(name: str, training: Trainable, inter, params: dict, *, epochs: int, model: Callable) -> Run:
    """Run ``training`` on the shared loop; ``model()`` builds the FactorModel of the current state
    (for the validation ranking)."""
    validate = None
    if params.get("validation") is not None:
        from ..data.interactions import read_interactions
        from ..evaluate.ranking import ranking

        held_out = read_interactions(params["validation"])

        def validate() -> dict:
            m = ranking(model(), inter, held_out, k=VALIDATION_K)
            return {m.primary: m[m.primary]}

    opts = Options.from_params(name, params, epochs=epochs, validate=validate, data_digest=data_digest(inter))
    return run(training, name, opts)


def run_meta(r: Run) -> dict:
    """The run's history and facts, for the model's metadata (saved with it)."""
    return {"history": r.history, "training": r.summary()}
