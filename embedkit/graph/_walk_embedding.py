"""What DeepWalk and Node2Vec share: walks from the walk engine, fed as integer
sequences to the skip-gram engine, on the shared training loop (:mod:`embedkit.training`).

History: one row per epoch (a pass of skip-gram over the walks) with ``loss`` -- the
negative-sampling objective of a (context, center) pair, ``-log sigma(u . v_center) -
sum_noise log sigma(-u . v_noise)``, averaged over the pairs of every 64th center token (numba;
every 4th minibatch on torch) -- and ``tokens_per_s`` (walk tokens, i.e. node visits, per second).
``validation=`` held-out edges: cosine link-prediction AUC after every epoch (``patience=``: the
best epoch is kept). ``checkpoint=``: the walks are not stored in it -- they are regenerated
from the seed on resume (walk generation costs a fraction of training and the same seed gives the
same walks; storing them would write every walk token, gigabytes on large graphs, with every
checkpoint) and checked against the digest the checkpoint keeps.
"""
from __future__ import annotations

import logging
import os
import time

import numpy as np

from .._device import resolve_device
from .._validation import VERBOSE, Param, device_param, seed_param, workers_param
from ..api import Method
from ..data.graph import read_graph
from ..embeddings import Embeddings
from ..engines.skipgram import SGNSConfig, run_sgns, sgns_training
from ..engines.skipgram._continue import CONTINUE_PARAMS, check_init, continue_from, keep_output
from ..distributed import context, shard, sum_across
from ..engines.walks import walk_corpus, walk_starts
from ._update import affected_nodes, region_starts, signature_meta
from ._walk_loop import LOOP_ROWS, walk_validation, walked_graph_digest

logger = logging.getLogger("embedkit")

WALK_PARAMS: tuple[Param, ...] = (
    Param("dim", int, 128, "embedding dimension", low=1),
    Param("walk_length", int, 80, "nodes per walk", low=2),
    Param("walks_per_node", int, 10, "walks started from every node", low=1),
    Param("window", int, 10, "skip-gram context window (max distance along a walk)", low=1),
    Param("negatives", int, 5, "negative samples per positive pair", low=1),
    # 0 by default: on small graphs gensim's 1e-3 discards most of the walk tokens and the
    # vectors collapse (karate faction accuracy 0.93 with 0, 0.47-0.87 with 1e-3; docs/graph.md)
    Param("sample", float, 0.0, "subsampling threshold for frequent nodes (0 disables; gensim uses 1e-3)",
          low=0.0),
    Param("shared_negatives", bool, True, "numba skip-gram: draw the negatives once per context window "
          "(pWord2Vec), about 2.5x faster than once per pair as word2vec.c does (docs/benchmarks.md)"),
    Param("epochs", int, 1, "passes of skip-gram over the walks", low=1),
    Param("learning_rate", float, 0.025, "initial learning rate (decays linearly to min_learning_rate)", low=0.0, low_open=True),
    Param("min_learning_rate", float, 0.0001, "final learning rate", low=0.0),
    workers_param(),
    seed_param("random seed (repeatable on the CPU; with backend numba/gensim use workers=1 "
               "for bit-identical vectors)"),
    Param("walk_memory_mb", float, None, "MB of walk tokens held in memory; larger walk sets are produced "
          "in chunks and spooled to a temporary file that skip-gram reads memory-mapped (None: a quarter "
          "of the available memory; 0 always spools)", low=0.0, nullable=True),
    device_param(),
    Param("backend", str, "auto", "skip-gram engine: auto (torch on GPU, numba on CPU), numba, torch, gensim",
          choices=("auto", "numba", "torch", "gensim")),
    VERBOSE,
    *LOOP_ROWS,
    *CONTINUE_PARAMS,
    Param("update_hops", int, 1, "with init: walks start only at new nodes (walks_per_node each), nodes whose "
          "edges changed (by their share of new neighbours, at least 1) and, 1 each, their neighbours up to this "
          "many hops (None: walks_per_node at every node)", low=0, nullable=True),
)


class WalkEmbedding(Method):
    """Base of walk-based node embeddings; subclasses fix or expose ``p``/``q``."""

    family = "graph"
    input_kind = "graph"
    quick_params = {"dim": 8, "walk_length": 10, "walks_per_node": 2, "window": 3, "workers": 1,
                    "verbose": False}

    def _walk_bias(self, params: dict) -> tuple[float, float]:
        return 1.0, 1.0

    def _fit(self, data, **params):
        g = read_graph(data)
        dev = resolve_device(params["device"], method=self.name)
        workers = params["workers"] or os.cpu_count() or 1
        p, q = self._walk_bias(params)
        t0 = time.perf_counter()
        walk_kw = dict(walk_length=params["walk_length"], walks_per_node=params["walks_per_node"],
                       p=p, q=q, seed=params["seed"])
        init = check_init(self.name, params["init"])
        region = None
        if init is not None:  # an update: walks from the affected region only (graph/_update.py)
            region = affected_nodes(self.name, g, init, params["update_hops"], params["walks_per_node"])
            walk_kw["starts"] = region_starts(region, params["seed"])
        dist = context(dev)
        if dist.active:  # torchrun: every process walks from its share of the start nodes
            starts = walk_kw.get("starts")
            if starts is None:
                starts = walk_starts(g.num_nodes, params["walks_per_node"], params["seed"])
            walk_kw.update(starts=starts[shard(len(starts), dist, pad=False)],
                           seed=params["seed"] + 1_000_003 * dist.rank)
        # chunks of start nodes (numba on the CPU, torch on a GPU), spooled to disk past
        # walk_memory_mb: no full walk matrix on either
        tokens, offsets, counts = walk_corpus(g, workers=workers, walk_memory_mb=params["walk_memory_mb"],
                                              verbose=params["verbose"], device=dev,
                                              walker="torch" if dev.startswith("cuda") else "numba", **walk_kw)
        counts = sum_across(counts, dist, dev)  # the noise distribution of all the walks
        t1 = time.perf_counter()
        logger.info("%s: %d walks (%d steps) in %.2fs", self.name, len(offsets) - 1, tokens.size, t1 - t0)
        cfg = SGNSConfig.from_params(params, sg=True, workers=workers)
        cfg.sync_every, cfg.sync_reduce = 4, "mean"  # torchrun: small graphs diverge with summed updates
        cfg.defer_output = False  # shared negatives, output rows updated pair by pair: better link prediction
        keys, start, cont = list(g.nodes), None, None
        if init is not None:
            cont = continue_from(self.name, init, keys, counts, params["dim"], params["seed"],
                                 freeze=params["freeze_existing"])
            keys, counts, start = cont.keys, cont.counts, cont.start
        training = sgns_training(tokens, offsets, counts, cfg, backend=params["backend"], device=dev,
                                 sharded=dist.active, unit="tokens", start=start)
        validate = walk_validation(self.name, g, params["validation"], params["seed"])
        run = run_sgns(training, self.name, params, data_digest=lambda: walked_graph_digest(g, tokens, offsets),
                       validate=validate)
        vectors = training.vectors().copy()
        t2 = time.perf_counter()
        logger.info("%s: skip-gram in %.2fs", self.name, t2 - t1)
        meta = {"walk_time_s": round(t1 - t0, 4), "train_time_s": round(t2 - t1, 4),
                "num_walk_tokens": int(tokens.size), "walks_spooled": isinstance(tokens, np.memmap),
                "device": dev, "graph": repr(g), "history": run.history, "training": run.summary(),
                "counts": [int(c) for c in counts], "adjacency_signature": signature_meta(g) + [0] * (len(keys) - g.num_nodes)}
        if cont is not None:
            meta.update(cont.meta())
            meta["continued"]["walk_start_nodes"] = int((region > 0).sum())
            meta["continued"]["walks"] = int(region.sum())
        emb = Embeddings(keys, vectors, meta)
        keep_output(emb, training.output_vectors())
        return emb
