"""GCN/GAT ``init=`` (issue 20): fine-tuning a trained encoder on a grown graph. Known answers:
a planted new community lands nearest itself, old rows stay bit for bit with
``freeze_existing``, and fine-tuning reaches a retrain's validation accuracy in fewer epochs."""
from __future__ import annotations

import numpy as np
import pytest

import embedkit as ek
from embedkit.exceptions import CheckpointError, InvalidParameterError

pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

CPU = dict(seed=0, verbose=False, workers=1)


@pytest.fixture(scope="module")
def grown(sbm):
    """Three communities trained on, then a fourth (30 new nodes) attached by a few edges."""
    s, d, lab, X = sbm([30] * 4, 0.3, 0.01, 16, 1.5, 0)
    old = lab < 3
    keep = old[s] & old[d]
    assert (~keep).sum() > 0 and (old[s] != old[d]).any()  # the new community is attached to the old graph
    g_old = ek.read_node_data((s[keep], d[keep]), features=X[:90])
    g_new = ek.read_node_data((s, d), features=X)
    kw = dict(dim=16, normalize_features=False, **CPU)
    prev = ek.train("gcn", g_old, epochs=100, **kw)
    return g_old, g_new, lab, prev, kw


def _cos_to_communities(emb, lab, who):
    V = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    comm = np.array([lab[int(k)] for k in emb.keys])
    C = V[comm == who] @ V.T
    return [float(C[:, comm == c].mean()) for c in range(lab.max() + 1)]


def test_a_planted_new_community_lands_nearest_itself_and_old_rows_stay_bit_for_bit(grown):
    g_old, g_new, lab, prev, kw = grown
    tuned = ek.train("gcn", g_new, init=prev, freeze_existing=True, epochs=50, **kw)
    assert tuned.keys[:90] == prev.keys and len(tuned) == 120
    assert np.array_equal(tuned.vectors[:90], prev.vectors)  # bit for bit: indexes on them stay valid
    cos = _cos_to_communities(tuned, lab, 3)
    assert cos[3] > max(cos[:3]) + 0.2, cos
    assert tuned.meta["init"]["kept_keys"] == 90 and tuned.meta["init"]["new_keys"] == 30
    assert tuned.meta["init"]["freeze_existing"] is True
    # the init result is not changed by fine-tuning from it
    assert np.array_equal(prev.embed(g_old).vectors, prev.vectors)


def test_without_freeze_old_rows_are_fine_tuned_and_absent_old_nodes_keep_their_vectors(grown):
    g_old, g_new, lab, prev, kw = grown
    src, dst = g_new.graph.edge_array().T
    keys = np.asarray(g_new.graph.nodes)
    keep = (keys[src] != 0) & (keys[dst] != 0)  # node 0 leaves the graph
    X = np.asarray(g_new.features)
    graph = ek.Graph.from_edges(src[keep] - 1, dst[keep] - 1, nodes=list(keys[1:]))  # nodes 1..119
    g = ek.read_node_data(graph, features=X[1:])
    assert list(g.graph.nodes) == list(range(1, 120))
    tuned = ek.train("gcn", g, init=prev, epochs=5, **kw)
    assert tuned.keys[-1] == 0 and np.array_equal(tuned[0], prev[0])
    assert tuned.meta["init"]["absent_keys_kept"] == 1
    moved = tuned.vectors[tuned.rows(prev.keys[1:])] - prev.vectors[1:]
    assert np.abs(moved).max() > 0  # without freeze_existing the old nodes' rows are fine-tuned


def test_fine_tuning_reaches_a_retrains_accuracy_in_fewer_epochs(sbm):
    """Supervised: 400 nodes in 4 planted classes; the model trained on the first 320 is fine-tuned
    on all 400. Masks by node id (train ids stay train), so the validation nodes are never trained on."""
    s, d, lab, X = sbm([100] * 4, 0.05, 0.01, 32, 2.5, 0)
    perm = np.random.default_rng(1).permutation(lab.size)
    inv = np.argsort(perm)
    lab, X, s, d = lab[perm], X[perm], inv[s], inv[d]
    m = 320
    ids = np.arange(lab.size)

    def data(n, keep):
        return ek.read_node_data((s[keep], d[keep]), features=X[:n], labels={i: int(lab[i]) for i in range(n)},
                                 train_mask=ids[:n] % 5 < 3, val_mask=ids[:n] % 5 == 3, test_mask=ids[:n] % 5 == 4)

    old, new = data(m, (s < m) & (d < m)), data(lab.size, np.ones(s.size, bool))
    assert list(old.graph.nodes) == list(range(m)) and list(new.graph.nodes) == list(range(lab.size))
    kw = dict(epochs=60, patience=0, **CPU)
    prev = ek.train("gcn", old, **kw)
    retrain = ek.train("gcn", new, **kw)
    tuned = ek.train("gcn", new, init=prev, **kw)
    acc_r = [h["val_accuracy"] for h in retrain.history]
    acc_t = [h["val_accuracy"] for h in tuned.history]
    target = 0.95 * max(acc_r)
    first = lambda acc: next(i + 1 for i, a in enumerate(acc) if a >= target)  # noqa: E731
    assert max(acc_r) > 0.8  # the retrain learns the classes
    assert first(acc_t) * 2 <= first(acc_r), (first(acc_t), first(acc_r))
    assert tuned.evaluate()["test_accuracy"] >= retrain.evaluate()["test_accuracy"] - 0.05


def test_without_features_the_learned_table_is_matched_by_node_key(grown):
    """No features: the input is a learned table of node vectors. Old nodes start from their old
    rows (by key, whatever their order), new nodes from fresh ones; the planted community still
    lands nearest itself, which embed() cannot do for such a model."""
    g_old, g_new, lab, prev, kw = grown
    s, d = g_new.graph.edge_array().T
    keys = np.asarray(g_new.graph.nodes)
    old_graph = ek.read_graph((s[(lab[keys[s]] < 3) & (lab[keys[d]] < 3)], d[(lab[keys[s]] < 3) & (lab[keys[d]] < 3)]))
    assert old_graph.num_nodes == 90
    kw = dict(dim=16, **CPU)
    prev = ek.train("gcn", old_graph, epochs=100, **kw)
    assert prev.meta["features"] == "learned"
    start = ek.train("gcn", g_new.graph, init=prev, epochs=1, learning_rate=1e-9, dropout=0.0, **kw)
    np.testing.assert_allclose(start.model.table.detach().numpy()[:90], prev.model.table.detach().numpy(), atol=1e-6)
    tuned = ek.train("gcn", g_new.graph, init=prev, freeze_existing=True, epochs=20, **kw)
    assert np.array_equal(tuned.vectors[:90], prev.vectors)
    cos = _cos_to_communities(tuned, lab, 3)
    assert cos[3] > max(cos[:3]) + 0.3, cos


def test_gat_fine_tunes_too(grown):
    g_old, g_new, lab, prev, kw = grown
    prev_gat = ek.train("gat", g_old, epochs=40, heads=2, **kw)
    tuned = ek.train("gat", g_new, init=prev_gat, freeze_existing=True, epochs=20, heads=2, **kw)
    assert np.array_equal(tuned.vectors[:90], prev_gat.vectors)
    cos = _cos_to_communities(tuned, lab, 3)
    assert cos[3] > max(cos[:3]), cos


def test_refusals_name_what_is_missing_or_differs(grown, tmp_path):
    g_old, g_new, lab, prev, kw = grown
    with pytest.raises(InvalidParameterError, match="freeze_existing.*without init"):
        ek.train("gcn", g_new, freeze_existing=True, epochs=2, **kw)
    path = tmp_path / "prev.ekv"
    ek.Embeddings(prev.keys, prev.vectors, prev.meta).save(path)  # a file saved before encoders were kept
    plain = ek.Embeddings(prev.keys, prev.vectors)
    for loaded in (ek.load(path), str(path), plain):  # vectors only (tests/test_gnn_save.py: files with weights)
        with pytest.raises(InvalidParameterError, match="'init'.*(weights|encoder)"):
            ek.train("gcn", g_new, init=loaded, epochs=2, **kw)
    with pytest.raises(InvalidParameterError, match=r"convs.1.\w+ of shape \(32,?.*convs.1.\w+ of shape \(16,?"):
        ek.train("gcn", g_new, init=prev, epochs=2, **dict(kw, dim=32))
    with pytest.raises(InvalidParameterError, match="'init'.*layers"):
        ek.train("gat", g_new, init=prev, epochs=2, **kw)
    with pytest.raises(InvalidParameterError, match="'input_features' must be 'given' \\(as the init result\\)"):
        ek.train("gcn", g_new, init=prev, input_features="learned", epochs=2, **kw)


def test_a_checkpoint_of_a_run_from_scratch_is_not_resumed_for_an_init_run(grown, tmp_path):
    g_old, g_new, lab, prev, kw = grown
    ek.train("gcn", g_new, epochs=2, checkpoint=str(tmp_path), **kw)
    with pytest.raises(CheckpointError, match="init"):
        ek.train("gcn", g_new, init=prev, epochs=3, checkpoint=str(tmp_path), **kw)


def test_an_init_run_resumes_bit_identical_from_its_checkpoint(grown, tmp_path):
    import shutil

    g_old, g_new, lab, prev, kw = grown
    params = dict(kw, init=prev, freeze_existing=True, epochs=4, patience=0)
    whole = ek.train("gcn", g_new, **params)
    ck = tmp_path / "ck"
    ek.train("gcn", g_new, **params, checkpoint=ck, callbacks=[lambda row: row["epoch"] == 2])
    for p in ck.iterdir():  # keep the checkpoint written after epoch 1: the run restarts in the middle
        if p.name != "checkpoint-e000002-p000000000000":
            shutil.rmtree(p)
    resumed = ek.train("gcn", g_new, **params, checkpoint=ck)
    assert resumed.meta["training"]["resumed_from"].endswith("checkpoint-e000002-p000000000000")
    np.testing.assert_array_equal(resumed.vectors, whole.vectors)
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in whole.history]


def test_a_classifier_keeps_absent_old_nodes_with_their_old_scores_and_no_label(sbm):
    s, d, lab, X = sbm([20] * 3, 0.3, 0.02, 8, 1.0, 2)
    ids = np.arange(lab.size)
    labels = {i: int(lab[i]) for i in range(lab.size)}
    masks = dict(train_mask=ids % 5 < 3, val_mask=ids % 5 == 3, test_mask=ids % 5 == 4)
    full = ek.read_node_data((s, d), features=X, labels=labels, **masks)
    prev = ek.train("gcn", full, epochs=30, **CPU)
    keep = (s != 0) & (d != 0)  # node 0 leaves
    graph = ek.Graph.from_edges(s[keep] - 1, d[keep] - 1, nodes=list(range(1, lab.size)))
    part = ek.read_node_data(graph, features=X[1:], labels={i: labels[i] for i in range(1, lab.size)},
                             **{k: v[1:] for k, v in masks.items()})
    tuned = ek.train("gcn", part, init=prev, freeze_existing=True, epochs=5, **CPU)
    assert tuned.keys == list(range(1, lab.size)) + [0]
    assert np.array_equal(tuned.vectors[tuned.rows(prev.keys)], prev.vectors)
    assert np.array_equal(tuned.scores[-1], prev.scores[0])
    assert tuned.predict([0]) == prev.predict([0])
    assert tuned.evaluate()["num_train"] == int(masks["train_mask"][1:].sum())  # node 0 counts in no mask
