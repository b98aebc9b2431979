"""The one training loop every iterative method runs through.

A method wraps its training state in a :class:`Trainable` (its epoch, its state as arrays,
how to put a state back); :func:`run` owns everything around the epochs: the progress bar,
the per-epoch history, callbacks, validation with early stopping (the best epoch's state is
kept), and checkpoints (after every epoch and, inside a long epoch, every
``checkpoint_every`` seconds) with resume from the newest one.

History rows (one per epoch; ALS: per iteration)::

    {"epoch": 3, "loss": 1.92, "words_per_s": 812000.0, "seconds": 4.1, "elapsed_s": 12.5,
     "val_auc": 0.91}

``loss`` is the objective the method optimises, as each method's docstring states (for the
skip-gram family a running mean over a sample of the epoch's updates); ``<unit>_per_s`` the
epoch's throughput; ``seconds`` the epoch's wall time and ``elapsed_s`` the run's so far
(resumed runs count the time before the interruption); ``val_*`` the validation metrics.

Which epoch is best: ``validate()``'s first metric (higher is better); ``Options.tie_break``
names another of its metrics (lower is better) that breaks ties (GCN/GAT: validation accuracy,
then validation loss). Without ``validate``, ``Options.monitor_loss`` judges the epochs by their
training loss (lower is better; GCN/GAT's auto-encoder). ``Options.min_delta``: how much better
than the best a score must be. At the end the best state is put back with
:meth:`Trainable.restore_best` (by default ``set_state``).
"""
from __future__ import annotations

import copy
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .._progress import progress
from ..exceptions import InvalidParameterError
from .checkpoint import Checkpoints

logger = logging.getLogger("embedkit")


class Trainable:
    """What a method gives the loop. Subclasses set :attr:`unit` and implement
    :meth:`run_epoch`, :meth:`state` and :meth:`set_state`.

    ``state()`` returns everything that decides the rest of the run at an epoch boundary (or at
    a position inside an epoch, when the method checkpoints inside epochs): numpy arrays, and
    JSON-able values (ints, floats, strings, lists, dicts; e.g. a numpy generator's
    ``bit_generator.state``). Putting it back with ``set_state`` and running on must give
    the same result as never having stopped (on one worker)."""

    #: what the throughput counts: "words", "walks", "edges", "interactions", "nodes", "triplets"
    unit: str = "items"
    #: how many units one epoch processes (sizes the progress bar), when known
    per_epoch: int | None = None

    def run_epoch(self, epoch: "Epoch") -> None:  # pragma: no cover - abstract
        """Train one epoch, from ``epoch.start`` when resuming inside it; report the work and the
        loss with ``epoch.add`` and offer checkpoints with ``epoch.maybe_checkpoint(position)``."""
        raise NotImplementedError

    def state(self) -> dict[str, Any]:  # pragma: no cover - abstract
        raise NotImplementedError

    def set_state(self, state: dict[str, Any]) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def restore_best(self, state: dict[str, Any]) -> None:
        """Put the best epoch's state back at the end of a run with validation; by default
        :meth:`set_state` (a method may put back only its weights, e.g. GCN/GAT, whose random
        generators go on from the last epoch)."""
        self.set_state(state)


@dataclass
class Options:
    """The loop's settings (the parameters of :func:`loop_params`, validated)."""

    epochs: int
    callbacks: tuple = ()
    #: called after every epoch; returns metrics, the first one primary (higher is better, unless
    #: ``higher_is_better`` is False: e.g. a validation RMSE)
    validate: Callable[[], dict] | None = None
    #: the name of one of ``validate``'s metrics (lower is better) that breaks ties of the primary one
    #: (GCN/GAT: the validation loss breaks ties of the validation accuracy)
    tie_break: str | None = None
    #: without ``validate``: judge the epochs by their training loss (lower is better) for early
    #: stopping and the best epoch (GCN/GAT's graph auto-encoder)
    monitor_loss: bool = False
    #: how much better than the best a score must be to count as better (primary metric; the loss
    #: with ``monitor_loss``)
    min_delta: float = 0.0
    #: the primary validation metric is better when higher (False: lower is better, e.g. RMSE)
    higher_is_better: bool = True
    patience: int = 0
    checkpoint: str | None = None
    checkpoint_every: float = 300.0
    verbose: bool | None = None
    #: how a checkpoint is recognised as this run's: method, params and data (see :meth:`fingerprint`)
    fingerprint: dict = field(default_factory=dict)

    @classmethod
    def from_params(cls, method: str, params: dict, *, epochs: int, validate=None, data_digest: Callable[[], dict] | None = None,
                    ignore: tuple[str, ...] = (), higher_is_better: bool = True, **judging) -> "Options":
        """``judging``: ``tie_break``, ``monitor_loss``, ``min_delta`` (see the fields). ``data_digest``:
        a callable returning the data's ``{"description", "digest"}``, called only when a checkpoint is
        asked for (hashing the data is work a run without checkpoints does not need)."""
        callbacks = params.get("callbacks") or ()
        if callable(callbacks):
            callbacks = (callbacks,)
        if not isinstance(callbacks, (list, tuple)) or not all(callable(c) for c in callbacks):
            raise InvalidParameterError(method, "callbacks", "a list of callables (each takes an epoch's "
                                        "history row; returning True stops training)", params.get("callbacks"))
        return cls(epochs=epochs, callbacks=tuple(callbacks), validate=validate, higher_is_better=higher_is_better,
                   **judging,
                   patience=int(params.get("patience") or 0), checkpoint=params.get("checkpoint"),
                   checkpoint_every=float(params.get("checkpoint_every", 300.0)), verbose=params.get("verbose"),
                   fingerprint=fingerprint(method, params, data_digest() if data_digest and params.get("checkpoint")
                                           else {}, ignore))


#: parameters that may change between a run and its resume (they do not change what is computed,
#: or only how fast: with several workers a resumed run reaches the same quality, not the same bits)
RESUMABLE_CHANGES = ("verbose", "callbacks", "checkpoint", "checkpoint_every", "workers", "device",
                     "validation", "patience")


def fingerprint(method: str, params: dict, data: dict, ignore: tuple[str, ...] = ()) -> dict:
    """``{"method", "params", "data"}``: the JSON-able parameters that decide the result, and the
    data's ``{"description", "digest"}``."""
    skip = set(RESUMABLE_CHANGES) | set(ignore)
    kept = {k: v for k, v in params.items()
            if k not in skip and (v is None or isinstance(v, (bool, int, float, str)))}
    return {"method": method, "params": kept, "data": data}


@dataclass
class Run:
    """What the loop reports: the history, where it stopped and why."""

    history: list = field(default_factory=list)
    best_epoch: int | None = None
    stopped_epoch: int = 0
    early_stopped: bool = False
    stopped_by_callback: bool = False
    resumed_from: str | None = None
    checkpoints_written: int = 0
    checkpoint_s: float = 0.0

    def summary(self) -> dict:
        """The run's facts for an artifact's metadata (next to ``history``)."""
        out = {"stopped_epoch": self.stopped_epoch, "best_epoch": self.best_epoch,
               "early_stopped": self.early_stopped, "stopped_by_callback": self.stopped_by_callback}
        if self.resumed_from:
            out["resumed_from"] = self.resumed_from
        if self.checkpoints_written:
            out["checkpoints_written"] = self.checkpoints_written
            out["checkpoint_s"] = round(self.checkpoint_s, 4)
        return out


class Epoch:
    """One epoch as the trainable sees it: where to start, and where to report."""

    def __init__(self, loop: "_Loop", number: int, start: int, partial: dict | None):
        self.number = number
        #: position inside the epoch to resume from (0: its beginning); the trainable's own unit
        self.start = start
        self._loop = loop
        p = partial or {}
        self.count = int(p.get("count", 0))
        self.loss_sum = float(p.get("loss_sum", 0.0))
        self.loss_n = int(p.get("loss_n", 0))
        self.seconds_before = float(p.get("seconds", 0.0))
        #: the method's own per-epoch figures (JSON-able), added to the epoch's history row (e.g.
        #: triplet's ``active`` share); set them at the epoch's end
        self.extra: dict = {}
        self._t0 = time.perf_counter()

    def add(self, count: int = 0, loss_sum: float = 0.0, loss_n: int = 0) -> None:
        """Report ``count`` units done and ``loss_n`` loss terms summing to ``loss_sum``."""
        self.count += int(count)
        self.loss_sum += float(loss_sum)
        self.loss_n += int(loss_n)
        if count:
            self._loop.bar.update(int(count))

    @property
    def seconds(self) -> float:
        return self.seconds_before + time.perf_counter() - self._t0

    def checkpoint_due(self) -> bool:
        return self._loop.checkpoint_due()

    def maybe_checkpoint(self, position: int) -> None:
        """Write a checkpoint at ``position`` inside this epoch when one is due (the trainable's
        state must then be the state at ``position``)."""
        if self._loop.checkpoint_due():
            self._loop.save(self.number, position, self.partial())

    def partial(self) -> dict:
        return {"count": self.count, "loss_sum": self.loss_sum, "loss_n": self.loss_n, "seconds": self.seconds}


class _Loop:
    def __init__(self, trainable: Trainable, name: str, opts: Options):
        self.trainable, self.name, self.opts = trainable, name, opts
        self.ckpt = Checkpoints(opts.checkpoint, opts.fingerprint) if opts.checkpoint else None
        self.last_save = time.perf_counter()
        self.run = Run()
        self.best_score: tuple | None = None
        self.best_state: dict | None = None
        self.elapsed_before = 0.0
        self.bar = None

    def checkpoint_due(self) -> bool:
        return self.ckpt is not None and time.perf_counter() - self.last_save >= self.opts.checkpoint_every

    def save(self, epoch: int, position: int, partial: dict | None) -> None:
        t0 = time.perf_counter()
        state = dict(self.trainable.state())
        if self.best_state is not None:
            state.update({f"best.{k}": v for k, v in self.best_state.items()})
        meta = {"history": self.run.history, "partial": partial, "best_epoch": self.run.best_epoch,
                "best_score": list(self.best_score) if self.best_score is not None else None,
                "elapsed_before": self.elapsed_before,
                "flags": {"early_stopped": self.run.early_stopped, "stopped_by_callback": self.run.stopped_by_callback}}
        path = self.ckpt.save(epoch, position, state, meta)
        spent = time.perf_counter() - t0
        self.run.checkpoints_written += 1
        self.run.checkpoint_s += spent
        self.last_save = time.perf_counter()
        logger.info("%s: checkpoint %s written in %.2f s", self.name, path.name, spent)

    def resume(self) -> tuple[int, int, dict | None]:
        """``(epoch, position, partial)`` to start from: (1, 0, None) on a fresh run."""
        found = self.ckpt.latest() if self.ckpt else None
        if found is None:
            return 1, 0, None
        meta, state, path = found
        best = {k[5:]: v for k, v in state.items() if k.startswith("best.")}
        self.trainable.set_state({k: v for k, v in state.items() if not k.startswith("best.")})
        self.best_state = best or None
        self.best_score = tuple(meta["best_score"]) if meta.get("best_score") is not None else None
        self.run.history = list(meta.get("history", []))
        self.run.best_epoch = meta.get("best_epoch")
        self.run.resumed_from = str(path)
        self.elapsed_before = float(meta.get("elapsed_before", 0.0))
        flags = meta.get("flags") or {}
        self.run.early_stopped = bool(flags.get("early_stopped"))
        self.run.stopped_by_callback = bool(flags.get("stopped_by_callback"))
        epoch, position, partial = int(meta["epoch"]), int(meta["position"]), meta.get("partial")
        if partial is None:  # written at the end of epoch - 1... or the run's end
            where = f"after epoch {epoch - 1}"
        else:
            where = f"inside epoch {epoch} at {self.trainable.unit} position {position}"
        logger.warning("%s: resumed from %s (%s of %d)", self.name, path, where, self.opts.epochs)
        return epoch, position, partial

    def go(self) -> Run:
        opts, t = self.opts, self.trainable
        epoch, position, partial = self.resume()
        done_before = sum(1 for _ in self.run.history)
        total = t.per_epoch * opts.epochs if t.per_epoch else opts.epochs
        start_at = t.per_epoch * done_before + (int((partial or {}).get("count", 0))) if t.per_epoch else done_before
        stop = bool(self.run.history) and self._stopped_already()
        with progress(total=total, desc=self.name, verbose=opts.verbose, unit=t.unit if t.per_epoch else "epoch") as bar:
            self.bar = bar
            bar.update(min(start_at, total))
            while epoch <= opts.epochs and not stop:
                ep = Epoch(self, epoch, position, partial)
                t.run_epoch(ep)
                row = self._row(ep)
                stop = self._after_epoch(row)
                if not t.per_epoch:
                    bar.update(1)
                bar.set_postfix({k: v for k, v in row.items() if k not in ("epoch", "elapsed_s")})
                if self.ckpt is not None:
                    self.save(epoch + 1, 0, None)
                epoch, position, partial = epoch + 1, 0, None
        self.run.stopped_epoch = self.run.history[-1]["epoch"] if self.run.history else 0
        if self.best_state is not None and not self.run.stopped_by_callback:
            t.restore_best(self.best_state)
        elif self.run.best_epoch is None:
            self.run.best_epoch = self.run.stopped_epoch
        self.best_state = None
        return self.run

    def _stopped_already(self) -> bool:
        """A resumed run whose last checkpoint was written after a stop (early or by a callback)."""
        last = self.run.history[-1]
        return bool(last.get("_stop"))

    def _row(self, ep: Epoch) -> dict:
        seconds = ep.seconds
        loss = ep.loss_sum / ep.loss_n if ep.loss_n else float("nan")
        self.last_loss = loss  # unrounded, for monitor_loss
        unit = self.trainable.unit
        self.elapsed_before += seconds
        row = {"epoch": ep.number, "loss": _round(loss), f"{unit}_per_s": round(ep.count / seconds, 1) if seconds else None,
               "seconds": round(seconds, 4), "elapsed_s": round(self.elapsed_before, 4)}
        row.update(ep.extra)
        if not math.isfinite(loss):
            logger.warning("%s: epoch %d: the loss is %s", self.name, ep.number, loss)
        return row

    def _after_epoch(self, row: dict) -> bool:
        opts = self.opts
        stop = False
        score = None
        if opts.validate is not None:
            metrics = opts.validate()
            row.update({f"val_{k}": _round(v) for k, v in metrics.items()})
            what, primary = next(iter(metrics.items()))
            what = f"validation {what}"
            signed = primary if opts.higher_is_better else -primary
            score = (signed,) if opts.tie_break is None else (signed, -metrics[opts.tie_break])
        elif opts.monitor_loss:
            what, primary = "training loss", self.last_loss
            score = (-primary,)
        if score is not None:
            if self.best_score is None or (score[0] - opts.min_delta, *score[1:]) > self.best_score:
                self.best_score = score
                self.run.best_epoch = row["epoch"]
                self.best_state = copy.deepcopy(self.trainable.state())
            elif opts.patience and row["epoch"] - self.run.best_epoch >= opts.patience:
                self.run.early_stopped = stop = True
                logger.info("%s: early stop at epoch %d (best %s %.4f at epoch %d)", self.name, row["epoch"], what,
                            abs(self.best_score[0]) if opts.validate is None or not opts.higher_is_better else self.best_score[0],
                            self.run.best_epoch)
        self.run.history.append(row)
        for cb in opts.callbacks:
            if cb(dict(row)) is True:
                self.run.stopped_by_callback = stop = True
                logger.info("%s: a callback stopped training after epoch %d", self.name, row["epoch"])
                break
        if stop:
            row["_stop"] = True  # recorded for a resume; removed from the public history
        return stop


def _round(v):
    v = float(v)
    return round(v, 6) if math.isfinite(v) else v


def run(trainable: Trainable, name: str, opts: Options) -> Run:
    """Train ``trainable`` for ``opts.epochs`` epochs (resuming from ``opts.checkpoint`` when it
    holds a checkpoint of this run) and return the :class:`Run`; the trainable ends in the
    final state (the best epoch's, with validation and not stopped by a callback)."""
    result = _Loop(trainable, name, opts).go()
    for row in result.history:
        row.pop("_stop", None)
    return result


def numpy_rng_state(rng: np.random.Generator) -> dict:
    """A numpy generator's state as JSON-able values (for :meth:`Trainable.state`)."""
    return rng.bit_generator.state


def set_numpy_rng_state(rng: np.random.Generator, state: dict) -> None:
    rng.bit_generator.state = state
