"""Training loops shared by GCN and GAT: supervised node classification with early
stopping on the validation metric, and an unsupervised graph auto-encoder; full
batch, or mini-batches of sampled neighbourhoods."""
from __future__ import annotations

import copy
import logging
import time
from dataclasses import dataclass, field

import numpy as np

from .._progress import progress
from ..data.graph import Graph
from ..distributed import Dist, mean_across, shard, unwrap
from ._sampling import sample_subgraph

logger = logging.getLogger("embedkit")


@dataclass
class Run:
    """What a training run reports: per-epoch history and where it stopped."""

    history: list = field(default_factory=list)
    best_epoch: int = 0
    stopped_epoch: int = 0
    early_stopped: bool = False
    #: seconds spent in the epoch loop (training steps and validation), without set-up
    loop_s: float = 0.0
    _bar: object = field(default=None, repr=False)
    _t0: float = field(default=0.0, repr=False)
    _best_state: dict | None = field(default=None, repr=False)

    @classmethod
    def start(cls, epochs: int, name: str, verbose: bool) -> "Run":
        """A run with its progress bar (loss and validation metric per epoch) and clock started."""
        return cls(_bar=progress(epochs, desc=name, verbose=verbose, unit="epoch"), _t0=time.perf_counter())

    def epoch_done(self, model, row: dict, improved: bool | None, patience: int) -> bool:
        """Record ``row``; keep a copy of the weights when ``improved`` (None: nothing to
        judge by, never stop early). True when ``patience`` epochs passed without improvement."""
        epoch = row["epoch"]
        self.history.append(row)
        self.stopped_epoch = epoch
        self._bar.update(1)
        self._bar.set_postfix({k: v for k, v in row.items() if k != "epoch"})
        if improved:
            self.best_epoch = epoch
            self._best_state = copy.deepcopy(model.state_dict())
        elif improved is not None and patience and epoch - self.best_epoch >= patience:
            self.early_stopped = True
        return self.early_stopped

    def finish(self, model) -> "Run":
        """Stop the clock and the bar; put the best epoch's weights back into ``model``."""
        self.loop_s = time.perf_counter() - self._t0
        self._bar.close()
        if self._best_state is not None:
            model.load_state_dict(self._best_state)
        else:
            self.best_epoch = self.stopped_epoch
        self._best_state = None
        return self


class Graphs:
    """The tensors a model runs on: full batch, or sampled subgraphs around seed nodes."""

    def __init__(self, graph, X, device, batch_size: int, fanout: int, hops: int, seed: int):
        import torch

        self.torch = torch
        self.device = device
        self.num_nodes = graph.num_nodes
        if graph.directed:  # messages flow both ways along every edge: the graph is used as undirected
            src, dst = graph.edge_array().T
            graph = Graph.from_edges(src, dst, num_nodes=graph.num_nodes, directed=False)
        e = graph.edge_array()
        self.edges_np = e
        self.indptr, self.indices = graph.indptr, graph.indices
        self.X = None if X is None else torch.from_numpy(X)
        self.batch_size = batch_size
        self.fanout, self.hops = fanout, hops
        self.rng = np.random.default_rng(seed)
        if not batch_size:
            self.edge_index = torch.from_numpy(e.T.copy()).to(device)
            self.X_dev = None if self.X is None else self.X.to(device)

    def outputs(self, model, rows: np.ndarray):
        """``(out, hidden)`` for the nodes ``rows``: a full-batch pass, or their sampled
        neighbourhoods in mini-batches."""
        torch = self.torch
        if not self.batch_size:
            out, hid = model(self.X_dev, self.edge_index)
            at = torch.from_numpy(np.asarray(rows)).to(self.device)
            return out[at], hid[at]
        parts = [self._around(model, b) for b in self.batches(rows, False)]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])

    def _around(self, model, seeds: np.ndarray):
        torch = self.torch
        nodes, ei = sample_subgraph(self.indptr, self.indices, seeds, self.fanout, self.hops, self.rng)
        x = None if self.X is None else self.X[torch.from_numpy(nodes)].to(self.device)
        out, hid = model(x, torch.from_numpy(ei).to(self.device), torch.from_numpy(nodes).to(self.device))
        return out[:len(seeds)], hid[:len(seeds)]

    def batches(self, rows: np.ndarray, shuffle: bool):
        """``rows`` in mini-batches (shuffled if asked), or all at once for full-batch training."""
        if not self.batch_size:
            yield rows
            return
        rows = self.rng.permutation(rows) if shuffle else rows
        for i in range(0, len(rows), self.batch_size):
            yield rows[i:i + self.batch_size]

    def predict_all(self, model):
        """``(out, hidden)`` for every node as numpy, in eval mode without gradients."""
        model.eval()
        with self.torch.no_grad():
            out, hid = self.outputs(model, np.arange(self.num_nodes))
        return out.float().cpu().numpy(), hid.float().cpu().numpy()


# ---- supervised ---------------------------------------------------------------------------
def classification_scores(out: np.ndarray, y: np.ndarray, mask: np.ndarray, multi: bool) -> dict:
    """Accuracy (single-label) or micro/macro-F1 with logits > 0 (multi-label) on ``mask``."""
    if not mask.any():
        return {}
    if not multi:
        return {"accuracy": float((out[mask].argmax(1) == y[mask]).mean())}
    from sklearn.metrics import f1_score

    pred = out[mask] > 0
    return {"micro_f1": float(f1_score(y[mask], pred, average="micro", zero_division=0)),
            "macro_f1": float(f1_score(y[mask], pred, average="macro", zero_division=0))}


def train_supervised(model, graphs: Graphs, y: np.ndarray, masks: dict, multi: bool, *,
                     learning_rate: float, weight_decay: float, epochs: int, patience: int, verbose: bool, name: str,
                     dist: Dist = Dist()) -> Run:
    """Cross-entropy (or binary cross-entropy, multi-label) on the train nodes, Adam.

    After every epoch the model is evaluated on the validation nodes; the weights of
    the best epoch (highest validation accuracy / micro-F1, ties broken by lower
    validation loss) are restored at the end. Training stops when ``patience`` epochs
    pass without improvement (0: never). Without validation nodes it runs all epochs.
    Under ``torchrun`` (``model`` in DistributedDataParallel) every process trains on
    its share of the train nodes and the validation figures are averaged over the
    processes, so they all stop at the same epoch.
    """
    torch = graphs.torch
    dev = graphs.device
    yt = torch.from_numpy(y.astype(np.float32) if multi else y).to(dev)
    loss_fn = torch.nn.BCEWithLogitsLoss() if multi else torch.nn.CrossEntropyLoss()
    opt = torch.optim.Adam(unwrap(model).param_groups(weight_decay), lr=learning_rate)
    train_rows = np.flatnonzero(masks["train"])
    train_rows = train_rows[shard(len(train_rows), dist)]
    val = masks.get("val")
    val = val if val is not None and val.any() else None
    val_rows = None if val is None else np.flatnonzero(val)
    val_t = None if val is None else torch.from_numpy(val_rows).to(dev)
    metric = "micro_f1" if multi else "accuracy"
    best = (-np.inf, np.inf)
    run = Run.start(epochs, name, verbose)
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        for b in graphs.batches(train_rows, True):
            opt.zero_grad()
            out, _ = graphs.outputs(model, b)
            loss = loss_fn(out, yt[torch.from_numpy(b).to(dev)])
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        train_loss, = mean_across([total / len(train_rows)], dist, dev)
        row = {"epoch": epoch, "loss": round(train_loss, 5)}
        improved = None
        if val_t is not None:
            model.eval()
            with torch.no_grad():
                vo = graphs.outputs(model, val_rows)[0]
                val_loss = float(loss_fn(vo, yt[val_t]))
            score = classification_scores(vo.float().cpu().numpy(), y[val], np.ones(int(val.sum()), bool), multi)
            val_score, val_loss = mean_across([score[metric], val_loss], dist, dev)
            row.update({"val_loss": round(val_loss, 5), f"val_{metric}": round(val_score, 5)})
            improved = (val_score, -val_loss) > best
            best = max(best, (val_score, -val_loss))
        if run.epoch_done(model, row, improved, patience):
            logger.info("%s: early stop at epoch %d (best validation %s %.4f at epoch %d)", name, epoch, metric,
                        best[0], run.best_epoch)
            break
    return run.finish(model)


# ---- unsupervised -------------------------------------------------------------------------
def train_autoencoder(model, graphs: Graphs, *, learning_rate: float, weight_decay: float, epochs: int,
                      patience: int, verbose: bool, name: str, seed: int, dist: Dist = Dist()) -> Run:
    """Graph auto-encoder (Kipf & Welling, "Variational Graph Auto-Encoders", 2016).

    Edges are scored by the inner product of the two nodes' output vectors; the loss
    is PyG's ``GAE.recon_loss``: binary cross-entropy of the edges against as many
    node pairs drawn uniformly, pairs that are edges dropped (drawn here with a seeded
    generator: PyG's ``negative_sampling`` uses Python's global ``random``). Adam;
    stops when the training loss has not improved for ``patience`` epochs (0: never)
    and keeps the best epoch. Under ``torchrun`` every process trains on its share of
    the edges (with its own negatives) and the epoch loss is averaged over them.
    """
    torch = graphs.torch
    from torch_geometric.nn import GAE

    gae = GAE(model)
    dev = graphs.device
    n = graphs.num_nodes
    edge_keys = np.sort(graphs.edges_np[:, 0] * n + graphs.edges_np[:, 1])
    edges = graphs.edges_np[shard(len(graphs.edges_np), dist)]
    opt = torch.optim.Adam(unwrap(model).param_groups(weight_decay), lr=learning_rate)
    best = np.inf
    rng = np.random.default_rng(seed + 1_000_003 * dist.rank)
    step = graphs.batch_size or len(edges)
    to_dev = lambda a: torch.from_numpy(np.ascontiguousarray(a.T)).to(dev)  # noqa: E731  (pairs -> (2, m))
    run = Run.start(epochs, name, verbose)
    for epoch in range(1, epochs + 1):
        model.train()
        total = 0.0
        order = rng.permutation(len(edges)) if graphs.batch_size else np.arange(len(edges))
        for i in range(0, len(order), step):
            pos = edges[order[i:i + step]]
            neg = rng.integers(0, n, size=pos.shape)
            neg = neg[~np.isin(neg[:, 0] * n + neg[:, 1], edge_keys)]
            opt.zero_grad()
            seeds, inv = np.unique(np.concatenate([pos.ravel(), neg.ravel()]), return_inverse=True)
            z, _ = graphs.outputs(model, seeds)
            loss = gae.recon_loss(z, to_dev(inv[:pos.size].reshape(-1, 2)), to_dev(inv[pos.size:].reshape(-1, 2)))
            loss.backward()
            opt.step()
            total += loss.item() * len(pos)
        ep_loss, = mean_across([total / len(edges)], dist, dev)
        improved = ep_loss < best - 1e-4
        best = ep_loss if improved else best
        if run.epoch_done(model, {"epoch": epoch, "loss": round(ep_loss, 5)}, improved, patience):
            logger.info("%s: early stop at epoch %d (best loss %.4f at epoch %d)", name, epoch, best, run.best_epoch)
            break
    return run.finish(model)
