"""Training across processes and machines with ``torch.distributed`` (``torchrun``).

Start any script or the CLI under ``torchrun`` and the torch methods train data-parallel:
embedkit reads torchrun's environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``,
``MASTER_ADDR``/``MASTER_PORT``), joins the process group on first use (``gloo`` for CPU
tensors, ``nccl`` for CUDA ones; a group the caller initialised is used as it is) and
puts each process on ``cuda:LOCAL_RANK`` when ``device`` is ``auto``/``cuda``::

    torchrun --nproc-per-node 2 -m embedkit_cli train node2vec g.edgelist -o g.vec --backend torch

Two schemes, chosen for correctness first (docs/distributed.md gives the trade-offs):

* **Dense models** (GCN/GAT, the triplet MLP encoder): ``DistributedDataParallel``.
  Every process holds the model, works on its shard of the training nodes, edges or
  batches; gradients are averaged after every backward pass, so every step is the
  step one process would take on the union of the shards.
* **Sparse embedding tables** (the skip-gram engine, BPR, MF, the triplet table
  encoder): every process holds the full tables and trains on its shard of the data;
  every ``every`` steps :class:`RowSync` exchanges the rows the processes touched
  since the last synchronisation and applies the sum (plain SGD, skip-gram on text:
  as one process's consecutive batches would, i.e. lock-free Hogwild across
  processes) or the mean (Adam-type steps, and skip-gram on random walks, whose capped
  minibatch updates of the same few nodes diverged when summed) of their changes
  everywhere. A row one process touched gets that update exactly either way.

Only rank 0 writes files (:func:`embedkit._atomic.atomic_path` publishes nothing on
the other ranks) and shows progress bars; every rank returns the same vectors.
"""
from __future__ import annotations

import atexit
import logging
import os
from dataclasses import dataclass

import numpy as np

from .exceptions import InvalidParameterError

logger = logging.getLogger("embedkit")

__all__ = ["Dist", "context", "launched", "is_main", "RowSync", "shard", "block", "data_parallel", "unwrap",
           "mean_across", "sum_across", "same_everywhere"]


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


def launched() -> bool:
    """Whether this process was started by ``torchrun`` (or another launcher setting
    ``WORLD_SIZE`` > 1 and ``RANK``)."""
    return _env_int("WORLD_SIZE", 1) > 1 and "RANK" in os.environ


def _initialized() -> bool:
    if not launched():
        # no launcher: only a group the caller set up counts (torch not imported for nothing)
        import sys

        if "torch" not in sys.modules:
            return False
    import torch.distributed as td

    return td.is_available() and td.is_initialized()


def is_main() -> bool:
    """True on rank 0 or when not distributed: the process that writes and prints."""
    if _initialized():
        import torch.distributed as td

        return td.get_rank() == 0
    return _env_int("RANK", 0) == 0


def local_device(device: str) -> str:
    """``cuda`` becomes ``cuda:LOCAL_RANK`` under a launcher (one GPU per process)."""
    if device == "cuda" and launched():
        return f"cuda:{_env_int('LOCAL_RANK', 0)}"
    return device


@dataclass(frozen=True)
class Dist:
    """Where this process stands: ``rank`` of ``world`` processes (``world == 1``: alone)."""

    rank: int = 0
    world: int = 1

    @property
    def active(self) -> bool:
        return self.world > 1


def context(device: str = "cpu") -> Dist:
    """This process's :class:`Dist`, joining torchrun's process group on first use.

    Without a launcher and without a group set up by the caller this is
    ``Dist(0, 1)`` and nothing is imported.
    """
    if not launched() and not _initialized():
        return Dist()
    import torch
    import torch.distributed as td

    if not td.is_initialized():
        backend = "cpu:gloo,cuda:nccl" if torch.cuda.is_available() else "gloo"
        if str(device).startswith("cuda"):
            torch.cuda.set_device(torch.device(device))
        td.init_process_group(backend=backend)
        atexit.register(_leave)
        logger.info("distributed: rank %d of %d joined (%s)", td.get_rank(), td.get_world_size(), backend)
    return Dist(td.get_rank(), td.get_world_size())


def _leave() -> None:
    import torch.distributed as td

    if td.is_initialized():
        td.destroy_process_group()


# ---- data ----------------------------------------------------------------------------------
def shard(n: int, dist: Dist, *, pad: bool = True) -> np.ndarray:
    """Positions ``rank, rank + world, ...`` of ``range(n)``: this rank's share, int64.

    With ``pad`` every rank gets ``ceil(n / world)`` positions (a short share is topped
    up with positions from the start of ``range(n)``), so loops over them run the same
    number of steps everywhere (collectives must match). ``world == 1``: ``arange(n)``.
    """
    own = np.arange(dist.rank, n, dist.world, dtype=np.int64)
    if pad and dist.active and n:
        want = -(-n // dist.world)
        if own.size < want:
            own = np.concatenate([own, np.resize(np.arange(n, dtype=np.int64), want - own.size)])
    return own


def block(offsets: np.ndarray, dist: Dist) -> tuple[int, int]:
    """This rank's contiguous block ``[a, b)`` of sequences, balanced by tokens:
    ``offsets`` is the ``(S + 1,)`` sequence boundaries. No copy of the data is made."""
    n_seq = len(offsets) - 1
    if not dist.active:
        return 0, n_seq
    cuts = np.searchsorted(offsets, np.linspace(0, offsets[-1], dist.world + 1), side="left")
    cuts = np.clip(cuts, 0, n_seq)
    cuts[-1] = n_seq
    return int(cuts[dist.rank]), int(cuts[dist.rank + 1])


def mean_across(values, dist: Dist, device: str = "cpu") -> list[float]:
    """The mean of each of ``values`` (floats) over the ranks; as given when alone."""
    values = np.asarray([float(v) for v in values], dtype=np.float64)
    return (sum_across(values, dist, device) / dist.world).tolist()


def _collective(array: np.ndarray, dist: Dist, device: str, op: str) -> np.ndarray:
    """``array`` through one collective (``all_reduce`` or rank 0's ``broadcast``); as given when alone."""
    if not dist.active:
        return array
    import torch
    import torch.distributed as td

    t = torch.as_tensor(np.ascontiguousarray(array), device=device)
    td.all_reduce(t) if op == "sum" else td.broadcast(t, src=0)
    return t.cpu().numpy()


def sum_across(array: np.ndarray, dist: Dist, device: str = "cpu") -> np.ndarray:
    """The element-wise sum of ``array`` over the ranks; ``array`` itself when alone."""
    return _collective(array, dist, device, "sum")


def same_everywhere(array: np.ndarray, dist: Dist, device: str = "cpu") -> np.ndarray:
    """Rank 0's ``array`` on every rank (a broadcast); ``array`` itself when alone."""
    return _collective(array, dist, device, "broadcast")


def data_parallel(model, dist: Dist, device: str):
    """``model`` in ``DistributedDataParallel`` when distributed (rank 0's weights are
    broadcast to all), else ``model`` itself."""
    if not dist.active:
        return model
    from torch.nn.parallel import DistributedDataParallel

    ids = [device] if str(device).startswith("cuda") else None
    return DistributedDataParallel(model, device_ids=ids)


def unwrap(model):
    """The module inside a ``DistributedDataParallel`` wrapper (or ``model``)."""
    return getattr(model, "module", model)


# ---- sparse tables ---------------------------------------------------------------------------
class RowSync:
    """Periodic exchange of the row changes of embedding tables across processes.

    ``tables``: 2-D torch tensors (``(rows, width)``) every process holds in full
    (rank 0's contents are broadcast at construction). Call :meth:`step` after every
    update with the rows it touched; every ``every`` calls it synchronises: the rows
    any process touched since the last synchronisation get the ``reduce`` ("mean" or
    "sum") of the changes of the processes that touched them (two ``all_reduce``
    calls: how many processes touched each row, then those rows' changes), on every
    process, so the tables are equal again. Memory: a reference copy and a row mask
    of every table.

    Loops whose ranks run different numbers of steps end with :meth:`finish`, which
    keeps taking part in synchronisations until every rank has finished. Alone
    (``world == 1``) every call returns at once.
    """

    def __init__(self, tables, dist: Dist, every: int = 8, reduce: str = "mean"):
        if reduce not in ("mean", "sum"):
            raise InvalidParameterError("RowSync", "reduce", "'mean' or 'sum'", reduce)
        self.tables = list(tables)
        self.dist = dist
        self.reduce = reduce
        self.every = max(1, int(every))
        self.count = 0
        self.syncs = 0
        self.rows_sent = 0
        if dist.active:
            import torch
            import torch.distributed as td

            with torch.no_grad():
                for t in self.tables:
                    td.broadcast(t, src=0)
                self.refs = [t.detach().clone() for t in self.tables]
            self.touched = [torch.zeros(t.shape[0], dtype=torch.int32, device=t.device) for t in self.tables]

    def step(self, rows) -> None:
        """Count one update that changed rows ``rows[k]`` of table ``k`` (an index tensor,
        repeats allowed, or a list of them); synchronise every ``every`` updates."""
        if not self.dist.active:
            return
        for mask, r in zip(self.touched, rows):
            for part in (r if isinstance(r, (list, tuple)) else [r]):
                mask[part] = 1
        self.count += 1
        if self.count % self.every == 0:
            self.sync(done=False)

    def finish(self) -> None:
        """Synchronise until every rank has called ``finish`` (the tables are then equal)."""
        if not self.dist.active:
            return
        while not self.sync(done=True):
            pass

    def sync(self, done: bool = False) -> bool:
        """One synchronisation (a collective: every rank must call it). Returns True when
        every rank passed ``done=True``."""
        import torch

        with torch.no_grad():
            return self._sync(done)

    def _sync(self, done: bool) -> bool:
        import torch
        import torch.distributed as td

        dev = self.tables[0].device
        flags = torch.cat(self.touched + [torch.tensor([0 if done else 1], dtype=torch.int32, device=dev)])
        td.all_reduce(flags)
        for mask in self.touched:
            mask.zero_()
        running = int(flags[-1])
        per_table = torch.split(flags[:-1], [t.shape[0] for t in self.tables])
        changed = [torch.nonzero(f > 0).squeeze(1) for f in per_table]
        # how many processes touched each of those rows: their changes are averaged (or summed)
        weight = [f.index_select(0, rows).to(t.dtype)[:, None] if self.reduce == "mean" else 1.0
                  for f, rows, t in zip(per_table, changed, self.tables)]
        parts = [(t.index_select(0, rows) - r.index_select(0, rows)) for t, r, rows in
                 zip(self.tables, self.refs, changed)]
        if sum(p.numel() for p in parts):
            flat = torch.cat([p.reshape(-1) for p in parts])
            td.all_reduce(flat)
            at = 0
            for t, r, rows, p, w in zip(self.tables, self.refs, changed, parts, weight):
                n = p.numel()
                if n:
                    new = r.index_select(0, rows) + flat[at:at + n].view_as(p) / w
                    t.index_copy_(0, rows, new)
                    r.index_copy_(0, rows, new)
                at += n
        self.syncs += 1
        self.rows_sent += sum(int(c.numel()) for c in changed)
        return running == 0
