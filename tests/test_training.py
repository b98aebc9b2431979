"""The one training loop (embedkit.training): history, callbacks, early stopping, checkpoints and
resume, for every iterative method (a case per method in CASES), and from the CLI."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import embedkit as ek
from embedkit.exceptions import CheckpointError, InvalidParameterError
from embedkit.training import Options, Trainable, run


# ---- the loop itself, on a toy trainable with a known loss --------------------------------
class _Quadratic(Trainable):
    """Gradient descent on |x - target|^2, one step per epoch; validation = -|x - best|."""

    unit = "steps"

    def __init__(self, lr=0.3):
        self.x = np.zeros(3)
        self.target = np.array([1.0, -2.0, 3.0])
        self.lr = lr

    def run_epoch(self, epoch):
        self.x -= self.lr * 2 * (self.x - self.target)
        epoch.add(1, float(((self.x - self.target) ** 2).sum()), 1)

    def state(self):
        return {"x": self.x.copy()}

    def set_state(self, state):
        self.x = np.array(state["x"], dtype=float)


def test_loop_history_has_one_finite_falling_row_per_epoch():
    t = _Quadratic()
    r = run(t, "toy", Options(epochs=6, verbose=False))
    assert [row["epoch"] for row in r.history] == [1, 2, 3, 4, 5, 6]
    losses = [row["loss"] for row in r.history]
    assert all(np.isfinite(losses)) and all(a > b for a, b in zip(losses, losses[1:]))
    assert {"steps_per_s", "seconds", "elapsed_s"} <= set(r.history[0])


def test_loop_callback_stops_after_its_epoch():
    seen = []

    def stop_at_3(row):
        seen.append(row["epoch"])
        return row["epoch"] == 3

    t = _Quadratic()
    r = run(t, "toy", Options(epochs=10, callbacks=(stop_at_3,), verbose=False))
    assert seen == [1, 2, 3] and len(r.history) == 3 and r.stopped_by_callback
    x3 = _Quadratic()
    run(x3, "toy", Options(epochs=3, verbose=False))
    np.testing.assert_array_equal(t.x, x3.x)  # the model as of epoch 3


def test_loop_early_stopping_keeps_the_best_epoch():
    t = _Quadratic(lr=0.3)
    best = np.array([0.5, -1.0, 1.5])  # reached on the way to the target: validation peaks, then falls
    r = run(t, "toy", Options(epochs=30, validate=lambda: {"score": -float(np.abs(t.x - best).sum())},
                               patience=2, verbose=False))
    assert r.early_stopped and r.stopped_epoch == r.best_epoch + 2
    scores = [row["val_score"] for row in r.history]
    assert r.best_epoch == 1 + int(np.argmax(scores))
    replay = _Quadratic(lr=0.3)
    run(replay, "toy", Options(epochs=r.best_epoch, verbose=False))
    np.testing.assert_array_equal(t.x, replay.x)


def test_loop_resume_is_bit_identical_and_refuses_other_runs(tmp_path):
    fp = {"method": "toy", "params": {"lr": 0.3}, "data": {"description": "d", "digest": "1"}}
    whole = _Quadratic()
    run(whole, "toy", Options(epochs=8, verbose=False))
    # a run cut after 3 epochs (a callback stops it), then the same call with 8 epochs resumes
    part = _Quadratic()
    ck = tmp_path / "ck"
    run(part, "toy", Options(epochs=8, checkpoint=str(ck), fingerprint=fp, verbose=False,
                             callbacks=(lambda row: row["epoch"] == 3,)))
    # a stop by a callback is final for that checkpoint: start again from the epoch-3 checkpoint
    newest = sorted(ck.iterdir())[-1]
    meta = json.loads((newest / "meta.json").read_text())
    meta["history"][-1].pop("_stop")
    meta["flags"]["stopped_by_callback"] = False
    (newest / "meta.json").write_text(json.dumps(meta))
    resumed = _Quadratic()
    r = run(resumed, "toy", Options(epochs=8, checkpoint=str(ck), fingerprint=fp, verbose=False))
    assert r.resumed_from and len(r.history) == 8
    np.testing.assert_array_equal(resumed.x, whole.x)
    other = dict(fp, params={"lr": 0.5})
    with pytest.raises(CheckpointError, match=r"lr=0.3 \(this run: 0.5\)"):
        run(_Quadratic(), "toy", Options(epochs=8, checkpoint=str(ck), fingerprint=other, verbose=False))
    with pytest.raises(CheckpointError, match="other data"):
        run(_Quadratic(), "toy", Options(epochs=8, checkpoint=str(ck), verbose=False,
                                         fingerprint=dict(fp, data={"description": "e", "digest": "2"})))


def test_a_damaged_newest_checkpoint_falls_back_to_the_one_before(tmp_path):
    fp = {"method": "toy", "params": {}, "data": {}}
    ck = tmp_path / "ck"
    run(_Quadratic(), "toy", Options(epochs=4, checkpoint=str(ck), fingerprint=fp, verbose=False))
    names = sorted(p.name for p in ck.iterdir())
    assert names == ["checkpoint-e000004-p000000000000", "checkpoint-e000005-p000000000000"]
    (ck / names[-1] / "state.npz").write_bytes(b"cut")
    r = run(_Quadratic(), "toy", Options(epochs=4, checkpoint=str(ck), fingerprint=fp, verbose=False))
    assert r.resumed_from.endswith(names[0]) and len(r.history) == 4


def test_callbacks_must_be_callables():
    inter = ek.read_interactions(([0, 1], [0, 1]))
    with pytest.raises(InvalidParameterError, match="callbacks"):
        ek.train("als", inter, dim=2, epochs=2, callbacks=[3], verbose=False)


# ---- every iterative method -------------------------------------------------------------------
def _blocks(n_users=60, n_items=40, groups=2, per_user=8, seed=0):
    """Users of group g interact only with items of group g: a known answer."""
    rng = np.random.default_rng(seed)
    users, items = [], []
    size = n_items // groups
    for u in range(n_users):
        g = u % groups
        for i in rng.choice(size, per_user, replace=False):
            users.append(f"u{u}")
            items.append(f"i{g * size + i}")
    return ek.read_interactions((users, items))


def _recsys_quality(model) -> float:
    """Share of each user's top-5 unseen items inside the user's own group."""
    hits = []
    for u in model.users.keys[:20]:
        g = int(u[1:]) % 2
        recs = model.recommend(u, k=5)
        hits += [int(str(r[0])[1:]) // 20 == g for r in recs]
    return float(np.mean(hits))


def _karate_two_per_faction():
    """Karate with two labelled members per faction (a train mask only: every epoch runs); the other
    30 nodes are the test set (test_gnn.py: GCN 0.95, GAT 0.92 mean accuracy over draws)."""
    nd = ek.read_node_data(ek.datasets.load("karate"), labels=ek.datasets.load_labels("karate"))
    rng = np.random.default_rng(0)
    train = np.zeros(nd.num_nodes, dtype=bool)
    for c in range(2):
        train[rng.choice(np.flatnonzero(nd.labels == c), 2, replace=False)] = True
    return ek.NodeData(nd.graph, None, nd.labels, nd.classes, train)


def _gnn_test_accuracy(result) -> float:
    return result.evaluate()["test_accuracy"]


def _planted_with_features():
    """A 20 x 15 planted partition with noisy community features, 10% of its edges held out
    (features alone: link-prediction AUC 0.74; test_gnn.py)."""
    import networkx as nx

    g = ek.read_graph(nx.planted_partition_graph(20, 15, 0.6, 0.002, seed=7))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 16))[np.arange(300) // 15] + rng.normal(scale=2.0, size=(300, 16))
    train_g, split = ek.split_edges(g, test_fraction=0.1, seed=0)
    return ek.NodeData(train_g, X.astype(np.float32)), split


def _held_out_edge_auc(result) -> float:
    return ek.evaluate.link_prediction(result, _planted_with_features()[1])["auc"]


def _planted_text():
    from embedkit.datasets.synthetic import planted_text

    return planted_text(4000, seed=0).sentences


def _synonyms_first(emb) -> float:
    """Share of the planted synonyms ranked first (planted_text's known answer)."""
    from embedkit.datasets.synthetic import planted_text

    pairs = planted_text(10, seed=0).neighbours
    return float(np.mean([emb.most_similar(w, k=1)[0][0] == other for w, other in pairs.items()]))


def _two_topics():
    """Two topics; two invented words of unrelated spelling share each topic's contexts
    (tests/test_subword.py's planted data)."""
    rng = np.random.default_rng(0)
    topics = {0: (["zorbel", "quaffin"], [f"river{i}" for i in range(12)]),
              1: (["mintrax", "plodwick"], [f"stone{i}" for i in range(12)])}
    out = []
    for _ in range(2000):
        words, ctx = topics[int(rng.integers(2))]
        sent = list(rng.choice(ctx, 6))
        sent.insert(3, words[int(rng.integers(2))])
        out.append([str(w) for w in sent])
    return out


def _topic_partners(emb) -> float:
    """Share of the 5 nearest words of each invented word that belong to its own topic (its partner
    or the topic's context words: all of a topic's words end about 0.999 apart; test_subword.py)."""
    hits = [w.startswith(topic) for word, topic in (("zorbel", ("quaffin", "river")), ("mintrax", ("plodwick", "stone")))
            for w, _ in emb.most_similar(word, k=5)]
    return float(np.mean(hits))


def _karate():
    return ek.datasets.load("karate")


def _factions(emb) -> float:
    labels = ek.datasets.load_labels("karate")
    return ek.evaluate.node_classification(emb, labels, train_fraction=0.5, seed=0, repeats=10)["accuracy"]


_TEXT = {"dim": 16, "epochs": 4, "min_count": 1, "workers": 1, "seed": 0}
_WALK = {"dim": 16, "walks_per_node": 10, "walk_length": 40, "window": 5, "epochs": 3, "workers": 1, "seed": 0}


def _ratings():
    """Ratings from a planted low-rank model with biases (embedkit.datasets.recsys), 80/20 split."""
    from embedkit.datasets.recsys import low_rank_ratings

    return ek.split_interactions(low_rank_ratings(300, 200, seed=0), "random", 0.2, seed=0)


def _ratings_train():
    return _ratings()[0]


def _rating_quality(model) -> float:
    """How many times lower the held-out RMSE is than the global mean's."""
    train, test = _ratings()
    mean_rmse = float(np.sqrt(np.mean((test.values - train.values.mean()) ** 2)))
    return mean_rmse / ek.evaluate.rating(model, test)["rmse"]


#: 60 keys, label = key number mod 3; features: the label's one-hot * 2 plus N(0, 1) noise
_LABELS = [i % 3 for i in range(60)]


def _labelled_keys():
    return {"keys": [f"k{i}" for i in range(60)], "labels": _LABELS}


def _labelled_features():
    x = np.eye(3)[_LABELS] * 2.0 + np.random.default_rng(0).normal(0, 1, (60, 3))
    return {"features": x, "labels": _LABELS}


def _label_quality(emb) -> float:
    """Same-label recall@1 of the 60 labelled keys."""
    return ek.evaluate.retrieval(emb, {k: _LABELS[i] for i, k in enumerate(emb.keys[:60])}, k=1)["recall@1"]


CASES = {
    "skipgram": dict(data=_planted_text, params=dict(_TEXT, backend="numba"), epochs="epochs",
                     quality=_synonyms_first, bar=1.0, lr_schedule=True),
    "skipgram-torch": dict(method="skipgram", data=_planted_text, params=dict(_TEXT, backend="torch", device="cpu"),
                           epochs="epochs", quality=_synonyms_first, bar=1.0, lr_schedule=True),
    "cbow": dict(data=_planted_text, params=dict(_TEXT, backend="numba"), epochs="epochs",
                 quality=_synonyms_first, bar=1.0, lr_schedule=True),
    "subword": dict(data=_two_topics, params=dict(_TEXT, vocab_size=300), epochs="epochs",
                    quality=_topic_partners, bar=1.0, lr_schedule=True),
    "deepwalk": dict(data=_karate, params=_WALK, epochs="epochs", quality=_factions, bar=0.9, lr_schedule=True),
    "node2vec": dict(data=_karate, params=dict(_WALK, q=0.5), epochs="epochs", quality=_factions, bar=0.9,
                     lr_schedule=True),
    "gcn": dict(data=_karate_two_per_faction, params={"epochs": 60, "workers": 1, "seed": 0},
                epochs="epochs", quality=_gnn_test_accuracy, bar=0.85),
    "gat": dict(data=_karate_two_per_faction, params={"epochs": 100, "heads": 4, "workers": 1, "seed": 0},
                epochs="epochs", quality=_gnn_test_accuracy, bar=0.8),
    # the graph auto-encoder judges its epochs by the training loss (patience 0: every epoch runs)
    "gcn-unsupervised": dict(method="gcn", data=lambda: _planted_with_features()[0],
                             params={"epochs": 40, "patience": 0, "dim": 16, "workers": 1, "seed": 0},
                             epochs="epochs", quality=_held_out_edge_auc, bar=0.9),
    "als": dict(data=_blocks, params={"dim": 8, "epochs": 6, "workers": 1, "backend": "implicit"},
                epochs="epochs", quality=_recsys_quality, bar=0.9),
    "als-torch": dict(method="als", data=_blocks,
                      params={"dim": 8, "epochs": 6, "workers": 1, "backend": "torch", "device": "cpu"},
                      epochs="epochs", quality=_recsys_quality, bar=0.9),
                          # measured quality: bpr 0.98 (implicit), 0.98 (torch sgd), 1.0 (torch adam); mf 1.16x and 1.14x (adam)
    # better than the mean rating; triplet recall@1 0.95 (table), 0.87 (mlp)
    "bpr": dict(data=_blocks, params={"dim": 8, "epochs": 20, "learning_rate": 0.3, "workers": 1, "backend": "implicit"},
                epochs="epochs", quality=_recsys_quality, bar=0.9),
    "bpr-torch": dict(method="bpr", data=_blocks, params={"dim": 8, "epochs": 8, "learning_rate": 0.5, "batch_size": 32,
                                                          "workers": 1, "backend": "torch", "device": "cpu"},
                      epochs="epochs", quality=_recsys_quality, bar=0.9),
    "bpr-torch-adam": dict(method="bpr", data=_blocks,
                           params={"dim": 8, "epochs": 6, "learning_rate": 0.05, "batch_size": 64, "optimizer": "adam",
                                   "workers": 1, "backend": "torch", "device": "cpu"},
                           epochs="epochs", quality=_recsys_quality, bar=0.9),
    "mf": dict(data=_ratings_train, params={"dim": 8, "epochs": 10, "workers": 1, "device": "cpu"},
               epochs="epochs", quality=_rating_quality, bar=1.1),
    "mf-adam": dict(method="mf", data=_ratings_train,
                    params={"dim": 8, "epochs": 6, "learning_rate": 0.01, "optimizer": "adam", "workers": 1, "device": "cpu"},
                    epochs="epochs", quality=_rating_quality, bar=1.1),
    "triplet": dict(data=_labelled_keys, params={"dim": 8, "epochs": 10, "batch_size": 30, "workers": 1},
                    epochs="epochs", quality=_label_quality, bar=0.85),
    "triplet-mlp": dict(method="triplet", data=_labelled_features,
                        params={"dim": 8, "epochs": 8, "batch_size": 20, "workers": 1},
                        epochs="epochs", quality=_label_quality, bar=0.8),
}


def _case(name):
    c = CASES[name]
    return c.get("method", name), c["data"](), dict(c["params"], verbose=False)


def _vectors(result):
    if hasattr(result, "users"):
        return np.concatenate([result.users.vectors, result.items.vectors])
    if hasattr(result, "unit_vectors"):
        return np.concatenate([result.vectors, result.unit_vectors])
    return result.vectors


@pytest.mark.parametrize("name", sorted(CASES))
def test_history_loss_falls_and_the_method_learns(name):
    method, data, params = _case(name)
    result = ek.train(method, data, **params)
    h = result.history
    assert [row["epoch"] for row in h] == list(range(1, params[CASES[name]["epochs"]] + 1))
    losses = np.array([row["loss"] for row in h])
    assert np.isfinite(losses).all() and losses[-1] < losses[0]
    assert CASES[name]["quality"](result) >= CASES[name]["bar"]


@pytest.mark.parametrize("name", sorted(CASES))
def test_history_is_saved_and_loaded_back(name, tmp_path):
    method, data, params = _case(name)
    result = ek.train(method, data, **params)
    result.save(tmp_path / "r.ekv")
    assert ek.load(tmp_path / "r.ekv").history == result.history


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_callback_stops_training(name):
    method, data, params = _case(name)
    result = ek.train(method, data, **params, callbacks=[lambda row: row["epoch"] == 2])
    assert len(result.history) == 2 and result.meta["training"]["stopped_by_callback"]
    if CASES[name].get("lr_schedule"):
        # the learning rate decays over all the epochs: the model as of epoch 2 is not a 2-epoch
        # run's, but its two epochs are the whole run's first two, and the rest was not run
        whole = ek.train(method, data, **params)
        assert [r["loss"] for r in result.history] == [r["loss"] for r in whole.history[:2]]
        assert not np.array_equal(_vectors(result), _vectors(whole))
        return
    two = ek.train(method, data, **dict(params, **{CASES[name]["epochs"]: 2}))
    np.testing.assert_array_equal(_vectors(result), _vectors(two))


@pytest.mark.parametrize("name", sorted(CASES))
def test_resume_from_a_checkpoint_is_bit_identical(name, tmp_path):
    method, data, params = _case(name)
    whole = ek.train(method, data, **params)
    ck = tmp_path / "ck"
    ek.train(method, data, **params, checkpoint=ck, callbacks=[lambda row: row["epoch"] == 2])
    # keep only the checkpoint written after epoch 1: the run restarts in the middle
    for p in ck.iterdir():
        if p.name != "checkpoint-e000002-p000000000000":
            import shutil

            shutil.rmtree(p)
    resumed = ek.train(method, data, **params, checkpoint=ck)
    assert resumed.meta["training"]["resumed_from"].endswith("checkpoint-e000002-p000000000000")
    np.testing.assert_array_equal(_vectors(resumed), _vectors(whole))
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in whole.history]


def test_recommender_early_stopping_keeps_the_best_epoch():
    train = _blocks(seed=0)
    held = _blocks(seed=1)
    model = ek.train("als", train, dim=8, epochs=12, workers=1, validation=held, patience=3, verbose=False)
    h = model.history
    scores = [row["val_recall@10"] for row in h]
    best = model.meta["training"]["best_epoch"]
    assert scores[best - 1] == max(scores)
    again = ek.train("als", train, dim=8, epochs=best, workers=1, verbose=False)
    np.testing.assert_array_equal(model.users.vectors, again.users.vectors)


def test_gnn_early_stopping_on_the_loop_keeps_the_best_epoch_and_resumes_bit_identical(tmp_path):
    """Validation accuracy, ties broken by the lower validation loss; a resume after epoch 1
    restores the weights, Adam, the generators and the best epoch so far."""
    nd = ek.read_node_data(ek.datasets.load("karate"), labels=ek.datasets.load_labels("karate"))
    params = dict(patience=5, epochs=200, seed=0, workers=1, verbose=False)
    whole = ek.train("gcn", nd, **params)
    h, info = whole.history, whole.meta["training"]
    assert info["early_stopped"] and len(h) == info["best_epoch"] + 5 < 200
    best = max((r["val_accuracy"], -r["val_loss"]) for r in h)
    assert (h[info["best_epoch"] - 1]["val_accuracy"], -h[info["best_epoch"] - 1]["val_loss"]) == best
    assert whole.meta["val_accuracy"] == best[0]  # the weights kept are the best epoch's
    ck = tmp_path / "ck"
    ek.train("gcn", nd, **params, checkpoint=ck, callbacks=[lambda row: row["epoch"] == 2])
    import shutil

    for p in ck.iterdir():
        if p.name != "checkpoint-e000002-p000000000000":
            shutil.rmtree(p)
    resumed = ek.train("gcn", nd, **params, checkpoint=ck)
    assert resumed.meta["training"]["resumed_from"]
    np.testing.assert_array_equal(resumed.vectors, whole.vectors)
    np.testing.assert_array_equal(resumed.scores, whole.scores)
    assert [r["val_loss"] for r in resumed.history] == [r["val_loss"] for r in h]
    assert resumed.meta["training"]["best_epoch"] == info["best_epoch"]
    with pytest.raises(CheckpointError, match="other data"):
        ek.train("gcn", nd.random_split(0.5, 0.2, seed=1), **params, checkpoint=ck)

def test_bpr_implicit_backend_is_implicits_fit_and_reports_its_ranked_share():
    from implicit.cpu.bpr import BayesianPersonalizedRanking

    inter = _blocks()
    model = ek.train("bpr", inter, dim=8, epochs=7, learning_rate=0.1, workers=1, backend="implicit", verbose=False)
    ref = BayesianPersonalizedRanking(factors=8, learning_rate=0.1, iterations=7, num_threads=1, random_state=0)
    ref.fit(inter.matrix, show_progress=False)
    np.testing.assert_array_equal(model.users.vectors, ref.user_factors[:, :8])
    np.testing.assert_array_equal(model.items.vectors, ref.item_factors[:, :8])
    np.testing.assert_array_equal(model.item_bias, ref.item_factors[:, 8])
    assert all(0.0 <= row["ranked_right"] <= 1.0 for row in model.history)


def test_mf_early_stopping_keeps_the_epoch_with_the_lowest_validation_rmse():
    train, test = _ratings()
    # no regularisation and 32 factors: the held-out RMSE falls for some epochs, then rises (overfitting)
    params = dict(dim=32, reg=0.0, learning_rate=0.05, workers=1, device="cpu", verbose=False)
    model = ek.train("mf", train, epochs=40, validation=test, patience=3, **params)
    h = model.history
    rmse = [row["val_rmse"] for row in h]
    best = model.meta["training"]["best_epoch"]
    assert model.meta["training"]["early_stopped"] and len(h) == best + 3 < 40
    assert rmse[best - 1] == min(rmse) and rmse[-1] > rmse[best - 1]
    assert ek.evaluate.rating(model, test)["rmse"] == pytest.approx(rmse[best - 1], abs=1e-6)
    again = ek.train("mf", train, epochs=best, **params)
    np.testing.assert_array_equal(model.users.vectors, again.users.vectors)


def test_triplet_validation_on_held_out_triplets_keeps_the_best_epoch():
    keys = [f"k{i}" for i in range(60)]
    rng = np.random.default_rng(1)
    held = []
    while len(held) < 200:
        a, p, n = rng.integers(0, 60, 3)
        if a != p and _LABELS[a] == _LABELS[p] != _LABELS[n]:
            held.append((keys[a], keys[p], keys[n]))
    emb = ek.train("triplet", _labelled_keys(), dim=8, epochs=10, batch_size=30, workers=1, verbose=False,
                   validation=held, patience=0)
    acc = [row["val_triplet_accuracy"] for row in emb.history]
    best = emb.meta["training"]["best_epoch"]
    # measured: 0.52 after the first epoch (chance: 0.5), 0.71 after the tenth
    assert len(acc) == 10 and acc[best - 1] == max(acc) and max(acc) >= 0.65 and acc[-1] > acc[0]
    assert ek.evaluate.triplet_accuracy(emb, held, "euclidean")["accuracy"] == pytest.approx(max(acc), abs=1e-6)
    # labelled keys: same-label recall@1
    labels = ek.train("triplet", _labelled_keys(), dim=8, epochs=3, batch_size=30, workers=1, verbose=False,
                      validation={k: _LABELS[i] for i, k in enumerate(keys)})
    assert all(0.0 <= row["val_recall@1"] <= 1.0 for row in labels.history)


# ---- the CLI: --history, and a run killed after its first checkpoint ------------------------
def _cli(*args, **kw):
    return subprocess.Popen([sys.executable, "-m", "embedkit_cli", *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def _write_interactions(path, n_users=1500, n_items=300, per_user=20):
    rng = np.random.default_rng(0)
    with open(path, "w") as f:
        for u in range(n_users):
            for i in rng.choice(n_items, per_user, replace=False):
                f.write(f"u{u}\ti{(i + u) % n_items}\n")


def _write_planted_edges(path, groups=20, size=50):
    """A planted partition (1000 nodes, about 2500 edges) as an edge list."""
    import networkx as nx

    g = nx.planted_partition_graph(groups, size, 0.1, 0.001, seed=0)
    with open(path, "w") as f:
        for u, v in g.edges():
            f.write(f"{u} {v}\n")


def _write_topic_text(path, n_sentences=20000, length=12):
    """Sentences of 12 words, each from one of 4 topics of 50 words: 240k tokens."""
    rng = np.random.default_rng(0)
    topic = rng.integers(0, 4, n_sentences)
    words = topic[:, None] * 50 + rng.integers(0, 50, (n_sentences, length))
    path.write_text("\n".join(" ".join(f"w{w}" for w in row) for row in words.tolist()) + "\n")


def _write_community_graph(path, n=1000, per_node=8):
    """Two communities of 500 nodes, 8 edges a node, 5% across."""
    rng = np.random.default_rng(0)
    src = np.repeat(np.arange(n), per_node)
    same = rng.random(src.size) > 0.05
    dst = np.where(same, (src // 500) * 500 + rng.integers(0, 500, src.size), rng.integers(0, n, src.size))
    keep = src != dst
    path.write_text("".join(f"{a} {b}\n" for a, b in zip(src[keep], dst[keep])))


CLI_KILL_CASES = {
    "skipgram": (_write_topic_text, "text.txt", ["--epochs", "6", "--dim", "32", "--workers", "1",
                                                 "--backend", "numba"]),
    "node2vec": (_write_community_graph, "graph.edgelist", ["--epochs", "5", "--dim", "32", "--workers", "1",
                                                            "--walk-length", "40", "--q", "0.5"]),
    # the graph auto-encoder (no labels): dropout, Adam, negative pairs and the best epoch's state resumed
    "gcn": (_write_planted_edges, "graph.edgelist", ["--epochs", "40", "--patience", "0", "--dim", "16",
                                                     "--workers", "1", "--seed", "0"]),
    "als": (_write_interactions, "data.tsv", ["--epochs", "12", "--dim", "32", "--workers", "1",
                                              "--backend", "torch", "--device", "cpu"]),
}


@pytest.mark.parametrize("name", sorted(CLI_KILL_CASES))
def test_cli_run_killed_after_a_checkpoint_resumes_bit_identical(name, tmp_path):
    write, fname, opts = CLI_KILL_CASES[name]
    data = tmp_path / fname
    write(data)
    whole = _cli("train", name, data, "-o", tmp_path / "whole.ekv", "--quiet", *opts)
    out, err = whole.communicate(timeout=300)
    assert whole.returncode == 0, err
    ck = tmp_path / "ck"
    p = _cli("train", name, data, "-o", tmp_path / "cut.ekv", "--quiet", "--checkpoint", ck, *opts)
    deadline = time.time() + 120
    while time.time() < deadline and not (ck.exists() and any(c.name.startswith("checkpoint-") for c in ck.iterdir())):
        time.sleep(0.01)
    os.kill(p.pid, signal.SIGKILL)
    p.communicate()
    assert not (tmp_path / "cut.ekv").exists(), "the run finished before the kill: make it longer"
    again = _cli("train", name, data, "-o", tmp_path / "cut.ekv", "--quiet", "--checkpoint", ck,
                 "--history", tmp_path / "h.jsonl", *opts)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert "resumed from" in out
    a, b = ek.load(tmp_path / "whole.ekv"), ek.load(tmp_path / "cut.ekv")
    np.testing.assert_array_equal(_vectors(a), _vectors(b))
    rows = [json.loads(line) for line in (tmp_path / "h.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in rows] == list(range(1, len(rows) + 1)) and rows == b.history


# ---- the skip-gram family: early stopping, checkpoints inside an epoch, refusals ------------------
def _validation_files(tmp_path):
    """A similarity file (planted synonyms 10, other pairs 0) and an analogy file (the planted
    analogies) for planted_text."""
    from embedkit.datasets.synthetic import planted_text

    planted = planted_text(10, seed=0)
    words = sorted(planted.neighbours)
    sim = tmp_path / "sim.txt"
    sim.write_text("".join(f"{w}\t{o}\t10\n" for w, o in planted.neighbours.items())
                   + "".join(f"{a}\t{b}\t0\n" for a, b in zip(words, words[3:] + words[:3])))
    ana = tmp_path / "ana.txt"
    ana.write_text(": planted\n" + "".join(" ".join(q) + "\n" for q in planted.analogies))
    return sim, ana


@pytest.mark.parametrize("method,kind", [("skipgram", "analogy"), ("cbow", "similarity"), ("subword", "similarity")])
def test_text_early_stopping_keeps_the_best_epoch(method, kind, tmp_path):
    sim, ana = _validation_files(tmp_path)
    path = ana if kind == "analogy" else sim
    params = dict(_TEXT, epochs=6, verbose=False)
    emb = ek.train(method, _planted_text(), **params, validation=path, patience=1)
    metric = "val_accuracy" if kind == "analogy" else "val_spearman"
    scores = [row[metric] for row in emb.history]
    best = emb.meta["training"]["best_epoch"]
    assert scores[best - 1] == max(scores) and max(scores) > 0.5
    assert len(scores) == 6 or (emb.meta["training"]["early_stopped"] and len(scores) == best + 1)
    # the result is the model as of the best epoch (a run stopped there by a callback)
    at_best = ek.train(method, _planted_text(), **params, callbacks=[lambda row: row["epoch"] == best])
    np.testing.assert_array_equal(_vectors(emb), _vectors(at_best))


def test_text_validation_names_and_bad_values():
    emb = ek.train("skipgram", _planted_text(), **dict(_TEXT, epochs=1), validation="wordsim353", verbose=False)
    assert "val_spearman" in emb.history[0]
    with pytest.raises(InvalidParameterError, match="validation"):
        ek.train("skipgram", _planted_text(), **dict(_TEXT, epochs=1), validation="no-such-set", verbose=False)


@pytest.mark.parametrize("method", ["deepwalk", "node2vec"])
def test_walk_early_stopping_on_held_out_edges_keeps_the_best_epoch(method, planted_partition):
    train_g, split = ek.split_edges(planted_partition, test_fraction=0.1, seed=0)
    params = dict(_WALK, epochs=5, verbose=False)
    emb = ek.train(method, train_g, **params, validation=split, patience=2)
    scores = [row["val_auc"] for row in emb.history]
    best = emb.meta["training"]["best_epoch"]
    assert scores[best - 1] == max(scores) and max(scores) > 0.9  # knowing the communities: 0.977
    at_best = ek.train(method, train_g, **params, callbacks=[lambda row: row["epoch"] == best])
    np.testing.assert_array_equal(emb.vectors, at_best.vectors)
    # held-out edges as node-id pairs give the same figures as the split's (its non-edges aside)
    pairs = [(split.nodes[a], split.nodes[b]) for a, b in split.test_pos]
    again = ek.train(method, train_g, **dict(params, epochs=1), validation=pairs)
    assert 0.9 < again.history[0]["val_auc"] <= 1.0


class _Interrupted(Exception):
    pass


@pytest.mark.parametrize("method,backend", [("skipgram", "numba"), ("cbow", "numba"), ("subword", "numba"),
                                            ("skipgram", "torch"), ("node2vec", "numba")])
def test_resume_inside_an_epoch_is_bit_identical(method, backend, tmp_path, monkeypatch):
    """checkpoint_every=0: a checkpoint after every slice of an epoch; a run cut after its third
    checkpoint (inside epoch 1) and run again resumes at that slice and ends bit-identical."""
    from embedkit.engines.skipgram import _numba, _torch
    from embedkit.training import checkpoint

    monkeypatch.setattr(_numba, "SLICE_TOKENS", 2000)
    monkeypatch.setattr(_torch, "SLICE_TOKENS", 2000)
    data = _karate() if method == "node2vec" else _two_topics() if method == "subword" else _planted_text()
    params = dict(_WALK if method == "node2vec" else _TEXT, epochs=2, verbose=False)
    if method != "subword":
        params["backend"] = backend
    if backend == "torch":
        params["device"] = "cpu"
    whole = ek.train(method, data, **params)
    real_save = checkpoint.Checkpoints.save
    saved = []

    def save_then_die(self, epoch, position, state, meta):
        path = real_save(self, epoch, position, state, meta)
        saved.append(path.name)
        if len(saved) == 3:
            raise _Interrupted
        return path

    monkeypatch.setattr(checkpoint.Checkpoints, "save", save_then_die)
    ck = tmp_path / "ck"
    with pytest.raises(_Interrupted):
        ek.train(method, data, **params, checkpoint=ck, checkpoint_every=0)
    assert saved[-1] == "checkpoint-e000001-p000000000003"
    monkeypatch.setattr(checkpoint.Checkpoints, "save", real_save)
    resumed = ek.train(method, data, **params, checkpoint=ck, checkpoint_every=0)
    assert resumed.meta["training"]["resumed_from"].endswith("checkpoint-e000001-p000000000003")
    np.testing.assert_array_equal(_vectors(resumed), _vectors(whole))
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in whole.history]


def test_a_skipgram_checkpoint_of_other_data_or_params_is_refused(tmp_path):
    ck = tmp_path / "ck"
    params = dict(_TEXT, epochs=1, verbose=False)
    ek.train("skipgram", _planted_text(), **params, checkpoint=ck)
    with pytest.raises(CheckpointError, match=r"window=5 \(this run: 3\)"):
        ek.train("skipgram", _planted_text(), **dict(params, window=3), checkpoint=ck)
    with pytest.raises(CheckpointError, match="other data"):
        ek.train("skipgram", _planted_text()[:3000], **params, checkpoint=ck)
    # walks: other walks from the same graph and parameters (here: a walker whose seed was changed
    # behind the parameters' back) are refused by the walks' digest
    g = _karate()
    wp = dict(_WALK, epochs=1, verbose=False)
    ek.train("deepwalk", g, **wp, checkpoint=tmp_path / "w")
    from embedkit.graph import _walk_embedding

    real = _walk_embedding.walk_corpus
    with pytest.MonkeyPatch.context() as m:
        m.setattr(_walk_embedding, "walk_corpus", lambda g, **kw: real(g, **dict(kw, seed=kw["seed"] + 1)))
        with pytest.raises(CheckpointError, match="walks"):
            ek.train("deepwalk", g, **wp, checkpoint=tmp_path / "w")


def test_als_torch_loss_is_implicits_objective():
    """Both ALS backends report one objective: the torch backend's loss equals implicit's
    ``calculate_loss`` (which the implicit backend reports) on the same factors."""
    import scipy.sparse as sp
    from implicit.cpu import _als

    from embedkit.recsys.als import _TorchALS

    conf = sp.random(30, 40, density=0.2, format="csr", dtype=np.float32, random_state=0)
    conf.data = 1 + 3 * conf.data
    params = {"dim": 5, "reg": 0.1, "cg_steps": 3, "seed": 0}
    t = _TorchALS(conf, params, "cpu")
    t.step()
    X, Y = t.factors()
    assert t.loss() == pytest.approx(_als.calculate_loss(conf, X, Y, 0.1, num_threads=1), rel=1e-5)
