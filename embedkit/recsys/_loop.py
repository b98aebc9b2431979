"""How the recommenders run on the shared training loop: the loop's parameter rows, validation
by recall@10 on held-out interactions, and the run's facts in the model's metadata."""
from __future__ import annotations

from typing import Callable

from ..training import Options, Run, Trainable, digest, loop_params, run

#: the validation metric of the recommenders (higher is better)
VALIDATION_K = 10


def loop_rows(validation: str | None = None):
    """The loop's rows; ``validation``: the help of ``validation=`` (default: recall@10 on held-out
    interactions)."""
    return loop_params(validation or f"held-out interactions (anything read_interactions takes): "
                       f"recall@{VALIDATION_K} on them, the training interactions left out of the lists")


def data_digest(inter, cont=None) -> dict:
    """What identifies the training interactions (and, continuing, the init model:
    :class:`~embedkit.recsys._continue.Continuation`) in a checkpoint."""
    extra = [] if cont is None else cont.digest()
    return {"description": repr(inter) if cont is None else cont.description(),
            "digest": digest(inter.indptr, inter.indices, inter.values, [str(u) for u in inter.users],
                             [str(i) for i in inter.items], *extra)}


def train_loop(name: str, training: Trainable, inter, params: dict, *, epochs: int, model: Callable,
               evaluate: Callable | None = None, higher_is_better: bool = True, cont=None) -> Run:
    """Run ``training`` on the shared loop; ``model()`` builds the FactorModel of the current state
    (for the validation). ``evaluate(model, inter, held_out) -> Metrics`` scores it on the held-out
    interactions (default: :func:`~embedkit.evaluate.ranking.ranking` at k=10); its primary metric
    decides the best epoch, higher is better unless ``higher_is_better`` is False (mf: RMSE). ``cont``: the
    continuation of an init model (part of the checkpoint's data digest)."""
    validate = None
    if params.get("validation") is not None:
        from ..data.interactions import read_interactions
        from ..evaluate.ranking import ranking

        held_out = read_interactions(params["validation"])
        score = evaluate or (lambda m, train, test: ranking(m, train, test, k=VALIDATION_K))

        def validate() -> dict:
            m = score(model(), inter, held_out)
            return {m.primary: m[m.primary]}

    opts = Options.from_params(name, params, epochs=epochs, validate=validate,
                               data_digest=lambda: data_digest(inter, cont), higher_is_better=higher_is_better)
    return run(training, name, opts)


def run_meta(r: Run) -> dict:
    """The run's history and facts, for the model's metadata (saved with it)."""
    return {"history": r.history, "training": r.summary()}
