"""The epochs GCN and GAT run on the shared training loop (:mod:`embedkit.training`):
supervised node classification (validated on the validation nodes), and an unsupervised
graph auto-encoder (judged by its training loss); full batch, or mini-batches of sampled
neighbourhoods. The loop owns the history, callbacks, early stopping and checkpoints."""
from __future__ import annotations

import logging

import numpy as np

from ..data.graph import Graph
from ..distributed import Dist, mean_across, shard, unwrap
from ..training import Trainable, numpy_rng_state, set_numpy_rng_state
from ._sampling import sample_subgraph

logger = logging.getLogger("embedkit")


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


class _Training(Trainable):
    """What both modes share: the model, Adam and the random generators, and their state.

    State (a checkpoint; the best epoch's copy): the model's ``state_dict`` (``model.<name>``
    arrays), Adam's per-parameter state (``adam.<index>.<name>``: ``step``, ``exp_avg``,
    ``exp_avg_sq`` arrays; its parameter groups come from the parameters, which a resume must
    repeat), torch's global CPU generator (dropout draws from it; and the device's on CUDA) and
    the numpy generators (mini-batch order, sampled neighbourhoods, negative pairs). Put back,
    a run on the CPU goes on bit for bit as if it had never stopped."""

    def __init__(self, model, graphs: "Graphs", learning_rate: float, weight_decay: float, dist: Dist, rngs: dict):
        torch = graphs.torch
        self.torch, self.model, self.graphs, self.dist = torch, model, graphs, dist
        self.dev = graphs.device
        self.opt = torch.optim.Adam(unwrap(model).param_groups(weight_decay), lr=learning_rate)
        self.rngs = rngs
        #: epochs run by this process (a resumed run counts only its own), for seconds per epoch
        self.epochs_here = 0

    def state(self) -> dict:
        torch = self.torch
        st = {f"model.{k}": v.detach().cpu().numpy() for k, v in unwrap(self.model).state_dict().items()}
        for i, per_param in self.opt.state_dict()["state"].items():
            for k, v in per_param.items():
                st[f"adam.{i}.{k}"] = v.detach().cpu().numpy() if torch.is_tensor(v) else v
        st["rng.torch"] = torch.get_rng_state().numpy()
        if str(self.dev).startswith("cuda"):
            st["rng.cuda"] = torch.cuda.get_rng_state(self.dev).numpy()
        for name, rng in self.rngs.items():
            st[f"rng.{name}"] = numpy_rng_state(rng)
        return st

    def set_state(self, state: dict) -> None:
        torch = self.torch
        self.restore_best(state)
        opt_state: dict = {}
        for k, v in state.items():
            if k.startswith("adam."):
                _, i, name = k.split(".", 2)
                opt_state.setdefault(int(i), {})[name] = torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v
        sd = self.opt.state_dict()
        sd["state"] = opt_state
        self.opt.load_state_dict(sd)
        torch.set_rng_state(torch.from_numpy(np.array(state["rng.torch"])))
        if "rng.cuda" in state and str(self.dev).startswith("cuda"):
            torch.cuda.set_rng_state(torch.from_numpy(np.array(state["rng.cuda"])), self.dev)
        for name, rng in self.rngs.items():
            set_numpy_rng_state(rng, state[f"rng.{name}"])

    def restore_best(self, state: dict) -> None:
        """The best epoch's weights, at the end of a run (the generators go on: as before the loop)."""
        sd = {k[6:]: self.torch.from_numpy(np.array(v)) for k, v in state.items() if k.startswith("model.")}
        unwrap(self.model).load_state_dict(sd)


# ---- supervised ---------------------------------------------------------------------------
class Supervised(_Training):
    """Cross-entropy (or binary cross-entropy, multi-label) on the train nodes, Adam; one
    full-batch step per epoch, or one step per mini-batch of train nodes. Loss (history):
    the epoch's mean over the train nodes of the per-batch loss.

    :meth:`validate` (given to the loop when there are validation nodes): validation
    accuracy / micro-F1 first (the loop keeps the best epoch and stops after ``patience``
    epochs without a better one) and the validation loss, which breaks ties (lower is
    better). Under ``torchrun`` (``model`` in DistributedDataParallel) every process trains
    on its share of the train nodes and the loss and validation figures are averaged over
    the processes, so they all stop at the same epoch."""

    unit = "nodes"

    def __init__(self, model, graphs: "Graphs", y: np.ndarray, masks: dict, multi: bool, *, learning_rate: float,
                 weight_decay: float, dist: Dist = Dist()):
        super().__init__(model, graphs, learning_rate, weight_decay, dist, {"batches": graphs.rng})
        torch, dev = graphs.torch, graphs.device
        self.y, self.multi = y, multi
        self.yt = torch.from_numpy(y.astype(np.float32) if multi else y).to(dev)
        self.loss_fn = torch.nn.BCEWithLogitsLoss() if multi else torch.nn.CrossEntropyLoss()
        rows = np.flatnonzero(masks["train"])
        self.train_rows = rows[shard(len(rows), dist)]
        self.per_epoch = len(self.train_rows)
        val = masks.get("val")
        self.val = val if val is not None and val.any() else None
        self.val_rows = None if self.val is None else np.flatnonzero(self.val)
        self.val_t = None if self.val is None else torch.from_numpy(self.val_rows).to(dev)
        self.metric = "micro_f1" if multi else "accuracy"

    def run_epoch(self, epoch) -> None:
        torch, graphs, dev, model, opt = self.torch, self.graphs, self.dev, self.model, self.opt
        model.train()
        total = 0.0
        for b in graphs.batches(self.train_rows, True):
            opt.zero_grad()
            out, _ = graphs.outputs(model, b)
            loss = self.loss_fn(out, self.yt[torch.from_numpy(b).to(dev)])
            loss.backward()
            opt.step()
            total += loss.item() * len(b)
        train_loss, = mean_across([total / len(self.train_rows)], self.dist, dev)
        self.epochs_here += 1
        epoch.add(len(self.train_rows), train_loss, 1)

    def validate(self) -> dict:
        """``{metric: validation accuracy / micro-F1, "loss": validation loss}``."""
        torch, model = self.torch, self.model
        model.eval()
        with torch.no_grad():
            vo = self.graphs.outputs(model, self.val_rows)[0]
            val_loss = float(self.loss_fn(vo, self.yt[self.val_t]))
        score = classification_scores(vo.float().cpu().numpy(), self.y[self.val], np.ones(len(self.val_rows), bool),
                                      self.multi)
        val_score, val_loss = mean_across([score[self.metric], val_loss], self.dist, self.dev)
        return {self.metric: val_score, "loss": val_loss}


# ---- unsupervised -------------------------------------------------------------------------
class AutoEncoder(_Training):
    """Graph auto-encoder (Kipf & Welling, "Variational Graph Auto-Encoders", 2016).

    Edges are scored by the inner product of the two nodes' output vectors; the loss
    is PyG's ``GAE.recon_loss``: binary cross-entropy of the edges against as many
    node pairs drawn uniformly, pairs that are edges dropped (drawn here with a seeded
    generator: PyG's ``negative_sampling`` uses Python's global ``random``). Adam. Loss
    (history): the epoch's mean of the per-batch loss over its edges; the loop judges the
    epochs by it (``monitor_loss``, better by more than 1e-4), stops after ``patience``
    epochs without a better one and keeps the best. Under ``torchrun`` every process trains
    on its share of the edges (with its own negatives) and the epoch loss is averaged over them.
    """

    unit = "edges"
    #: how much lower than the best an epoch's loss must be to count as better
    MIN_DELTA = 1e-4

    def __init__(self, model, graphs: "Graphs", *, learning_rate: float, weight_decay: float, seed: int, dist: Dist = Dist()):
        from torch_geometric.nn import GAE

        rng = np.random.default_rng(seed + 1_000_003 * dist.rank)
        super().__init__(model, graphs, learning_rate, weight_decay, dist, {"negatives": rng, "batches": graphs.rng})
        self.rng = rng
        self.gae = GAE(model)
        n = graphs.num_nodes
        self.edge_keys = np.sort(graphs.edges_np[:, 0] * n + graphs.edges_np[:, 1])
        self.edges = graphs.edges_np[shard(len(graphs.edges_np), dist)]
        self.per_epoch = len(self.edges)

    def run_epoch(self, epoch) -> None:
        torch, graphs, dev, model, opt, rng = self.torch, self.graphs, self.dev, self.model, self.opt, self.rng
        n, edges = graphs.num_nodes, self.edges
        step = graphs.batch_size or len(edges)
        to_dev = lambda a: torch.from_numpy(np.ascontiguousarray(a.T)).to(dev)  # noqa: E731  (pairs -> (2, m))
        model.train()
        total = 0.0
        order = rng.permutation(len(edges)) if graphs.batch_size else np.arange(len(edges))
        for i in range(0, len(order), step):
            pos = edges[order[i:i + step]]
            neg = rng.integers(0, n, size=pos.shape)
            neg = neg[~np.isin(neg[:, 0] * n + neg[:, 1], self.edge_keys)]
            opt.zero_grad()
            seeds, inv = np.unique(np.concatenate([pos.ravel(), neg.ravel()]), return_inverse=True)
            z, _ = graphs.outputs(model, seeds)
            loss = self.gae.recon_loss(z, to_dev(inv[:pos.size].reshape(-1, 2)),
                                       to_dev(inv[pos.size:].reshape(-1, 2)))
            loss.backward()
            opt.step()
            total += loss.item() * len(pos)
        ep_loss, = mean_across([total / len(edges)], self.dist, dev)
        self.epochs_here += 1
        epoch.add(len(edges), ep_loss, 1)
