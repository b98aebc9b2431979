"""Embeddings that evolve: folding users/items into recommenders, aligning spaces."""
import numpy as np
import pytest

import embedkit as ek
from embedkit.alignment import mean_cosine, procrustes


def _blocks(groups=4, users_per=30, items_per=10, picks=7, seed=0):
    """Users of group g choose ``picks`` of group g's items: a known answer for recommenders."""
    rng = np.random.default_rng(seed)
    u, i = [], []
    for g in range(groups):
        for k in range(users_per):
            for it in rng.choice(items_per, picks, replace=False):
                u.append(f"u{g * users_per + k}")
                i.append(f"i{g * items_per + it}")
    return u, i


TRAIN = {
    "als": dict(dim=8, epochs=10, backend="torch", device="cpu"),
    "bpr": dict(dim=8, epochs=150, learning_rate=0.05, backend="torch", device="cpu", negative_sampling="uniform"),
}


def _group(item: str) -> int:
    return int(item[1:]) // 10


@pytest.mark.parametrize("method", sorted(TRAIN))
def test_fold_in_new_user_gets_the_items_of_the_users_it_copies(method):
    u, i = _blocks()
    model = ek.train(method, ek.read_interactions((u, i)), seed=0, verbose=False, **TRAIN[method])
    new = ek.read_interactions((["new"] * 5 + ["other"] * 5,
                                ["i20", "i21", "i22", "i23", "i24", "i30", "i31", "i32", "i33", "i34"]))
    grown = model.fold_in(new)
    assert grown.num_users == model.num_users + 2 and grown.num_items == model.num_items
    # every old row is kept bit for bit
    assert np.array_equal(grown.users.vectors[:model.num_users], model.users.vectors)
    assert np.array_equal(grown.items.vectors, model.items.vectors)
    recs = sorted(item for item, _ in grown.recommend("new", k=5))
    assert recs == ["i25", "i26", "i27", "i28", "i29"]          # the rest of group 2, nothing seen
    assert {_group(item) for item, _ in grown.recommend("other", k=5)} == {3}
    # an anonymous user: the same answer without growing the model
    assert sorted(item for item, _ in model.recommend_for(["i20", "i21", "i22", "i23", "i24"], k=5)) == recs
    # the nearest trained users of the new one are its group's
    near = grown.users.most_similar("new", k=10)
    assert sum(60 <= int(k[1:]) < 90 for k, _ in near) >= 8


@pytest.mark.parametrize("method", sorted(TRAIN))
def test_fold_in_new_item_lands_with_its_users_group(method):
    u, i = _blocks()
    model = ek.train(method, ek.read_interactions((u, i)), seed=0, verbose=False, **TRAIN[method])
    fans = [f"u{k}" for k in range(30, 45)]                 # half of group 1's users chose a new item
    grown = model.fold_in(ek.read_interactions((fans, ["fresh"] * len(fans))))
    assert grown.num_items == model.num_items + 1
    near = [k for k, _ in grown.items.most_similar("fresh", k=5)]
    assert sum(_group(k) == 1 for k in near) >= 4
    # a user of group 1 who has not seen it gets it near the top
    assert "fresh" in [k for k, _ in grown.recommend("u50", k=6)]


def test_fold_in_als_is_the_exact_least_squares_solve():
    u, i = _blocks(seed=1)
    inter = ek.read_interactions((u, i))
    model = ek.train("als", inter, dim=6, epochs=40, cg_steps=6, reg=0.1, confidence=2.0, backend="torch",
                     device="cpu", seed=0, verbose=False)
    # folding a trained user back in from its own interactions solves the normal equations
    # (Y^T C_u Y + reg I) x = Y^T C_u p_u exactly...
    user = "u7"
    items = [it for uu, it in zip(u, i) if uu == user]
    again = model.fold_in(ek.read_interactions(([user] * len(items), items)), update_existing=True)
    assert again.num_users == model.num_users and again.meta["fold_in"][-1]["updated_users"] == 1
    Y = model.items.vectors.astype(np.float64)
    Yu = Y[model.items.rows(items)]
    c = 1.0 + 2.0 * np.ones(len(items))
    x = np.linalg.solve(Y.T @ Y + 0.1 * np.eye(6) + (Yu * (c - 1)[:, None]).T @ Yu, Yu.T @ c)
    np.testing.assert_allclose(again.users[user], x, atol=1e-5)
    # ...which is the step ALS itself converges to: close to the trained vector
    np.testing.assert_allclose(again.users[user], model.users[user], atol=1e-2)
    # without update_existing a known user's row is kept bit for bit
    kept = model.fold_in(ek.read_interactions(([user] * len(items), items)))
    assert np.array_equal(kept.users[user], model.users[user])


def test_fold_in_mf_ridge_recovers_a_planted_user():
    rng = np.random.default_rng(0)
    n_users, n_items = 200, 60
    P, Q = rng.normal(0, 0.7, size=(n_users, 4)), rng.normal(0, 0.7, size=(n_items, 4))
    u = np.repeat(np.arange(n_users), 30)
    i = np.concatenate([rng.choice(n_items, 30, replace=False) for _ in range(n_users)])
    r = 6 + (P[u] * Q[i]).sum(1)
    inter = ek.read_interactions((u, i, r))
    model = ek.train("mf", inter, dim=4, epochs=60, learning_rate=0.01, reg=0.01, seed=0, workers=1, verbose=False)
    # a new user with a planted taste: its predictions from the folded-in row match the taste
    p_new = rng.normal(0, 0.7, size=4)
    seen = rng.choice(n_items, 40, replace=False)
    ratings = 6 + Q[seen] @ p_new
    grown = model.fold_in(ek.read_interactions((["new"] * 40, seen.tolist(), ratings.tolist())))
    unseen = np.setdiff1d(np.arange(n_items), seen)
    truth = 6 + Q[unseen] @ p_new
    pred = grown.predict(["new"] * len(unseen), unseen.tolist())
    baseline = np.sqrt(np.mean((truth - truth.mean()) ** 2))
    assert np.sqrt(np.mean((pred - truth) ** 2)) < 0.5 * baseline


def test_fold_in_grown_model_saves_and_loads(tmp_path):
    u, i = _blocks()
    model = ek.train("als", ek.read_interactions((u, i)), **TRAIN["als"], seed=0, verbose=False)
    grown = model.fold_in(ek.read_interactions((["new", "new"], ["i1", "brand-new"])))
    grown.save(tmp_path / "m.ekv")
    back = ek.load(tmp_path / "m.ekv")
    assert back.users.keys == grown.users.keys and back.items.keys == grown.items.keys
    assert np.array_equal(back.items.vectors, grown.items.vectors)
    assert back.meta["fold_in"][0]["new_users"] == 1 and back.meta["fold_in"][0]["new_items"] == 1


def test_recommend_for_refuses_unknown_items_and_empty_lists():
    u, i = _blocks()
    model = ek.train("als", ek.read_interactions((u, i)), **TRAIN["als"], seed=0, verbose=False)
    with pytest.raises(ek.KeyNotFoundError):
        model.recommend_for(["nope"])
    with pytest.raises(ek.InvalidParameterError):
        model.recommend_for([])


def test_procrustes_recovers_a_known_rotation():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 8)).astype(np.float32)
    R, _ = np.linalg.qr(rng.normal(size=(8, 8)))
    W = procrustes(X @ R.astype(np.float32), X)
    np.testing.assert_allclose(W, R.T, atol=1e-5)
    ref = ek.Embeddings([str(k) for k in range(100)], X)
    rotated = ek.Embeddings([str(k) for k in range(100)], X @ R.astype(np.float32))
    aligned = ek.align(ref, rotated, normalize=False)
    np.testing.assert_allclose(aligned.vectors, X, atol=1e-4)
    assert aligned.meta["aligned"]["mean_cosine_after"] > 0.9999


def test_align_two_seeds_of_node2vec():
    g = ek.datasets.load("karate")
    a = ek.train("node2vec", g, dim=16, seed=0, workers=1, verbose=False)
    b = ek.train("node2vec", g, dim=16, seed=1, workers=1, verbose=False)
    aligned = ek.align(a, b)
    before, after = mean_cosine(a, b), mean_cosine(a, aligned)
    assert before < 0.5 < 0.85 < after
    # a rotation: similarities inside the aligned space are those of b
    assert abs(aligned.similarity("1", "33") - b.similarity("1", "33")) < 1e-5


def test_align_refuses_too_few_shared_keys():
    a = ek.Embeddings(["x", "y"], np.eye(2, 4, dtype=np.float32))
    b = ek.Embeddings(["y", "z"], np.eye(2, 4, dtype=np.float32))
    with pytest.raises(ek.EmbedkitError, match="shared keys"):
        ek.align(a, b)


def _sbm_with_features(n_per, groups, new_per=0, seed=0):
    """Planted communities; each node's features are its group's prototype plus noise. The last
    ``new_per`` nodes of each group are "new": the grown graph holds them, the old one does not."""
    rng = np.random.default_rng(seed)
    n = n_per * groups
    group = np.repeat(np.arange(groups), n_per)
    protos = rng.normal(size=(groups, 12))
    X = (protos[group] + 0.8 * rng.normal(size=(n, 12))).astype(np.float32)
    src, dst = [], []
    for a in range(n):
        for b in range(a + 1, n):
            if rng.random() < (0.3 if group[a] == group[b] else 0.01):
                src.append(a)
                dst.append(b)
    src, dst = np.array(src), np.array(dst)
    is_new = np.zeros(n, dtype=bool)
    if new_per:
        for g in range(groups):
            is_new[np.flatnonzero(group == g)[-new_per:]] = True
    return X, group, src, dst, is_new


@pytest.mark.parametrize("method", ["gcn", "gat"])
def test_gnn_embeds_the_new_nodes_of_a_grown_graph_without_retraining(method):
    X, group, src, dst, is_new = _sbm_with_features(40, 3, new_per=8)
    old = np.flatnonzero(~is_new)
    keep = ~is_new[src] & ~is_new[dst]
    remap = -np.ones(len(group), dtype=np.int64)
    remap[old] = np.arange(old.size)
    old_graph = ek.Graph.from_edges(remap[src[keep]], remap[dst[keep]], nodes=[str(k) for k in old])
    labels = {str(k): int(group[k]) for k in old}
    nd_old = ek.read_node_data(old_graph, X[old], labels)
    emb = ek.train(method, nd_old, epochs=60, hidden=16, seed=0, workers=1, verbose=False)
    grown_graph = ek.Graph.from_edges(src, dst, nodes=[str(k) for k in range(len(group))])
    grown = emb.embed(ek.read_node_data(grown_graph, X))
    assert len(grown) == len(group)
    # each new node's nearest old nodes are mostly from its planted group
    old_keys = [str(k) for k in old]
    ref = grown.normalized().vectors[grown.rows(old_keys)]
    hits = []
    for k in np.flatnonzero(is_new):
        sims = ref @ grown.normalized()[str(k)]
        nearest = old[np.argsort(-sims)[:5]]
        hits.append(np.mean(group[nearest] == group[k]))
    assert np.mean(hits) >= 0.9


def test_gnn_without_features_refuses_to_embed_unseen_nodes():
    g = ek.datasets.load("karate")
    emb = ek.train("gcn", g, epochs=5, hidden=8, dim=8, seed=0, workers=1, verbose=False)
    with pytest.raises(ek.EmbedkitError, match="learned a table"):
        emb.embed(g)


@pytest.mark.parametrize("with_bias", [False, True])
def test_bpr_fold_in_gradients_equal_autograd(with_bias):
    # the BPR fold-in steps Adam with gradients written by hand (numpy): they must be the loss's
    import torch

    from embedkit.recsys.fold_in import _bpr_gradients

    rng = np.random.default_rng(0)
    n, dim = 5, 4
    per_row = np.array([3, 0, 2, 4, 1])
    rows = np.repeat(np.arange(n), per_row)
    starts = np.concatenate([[0], np.cumsum(per_row)[:-1]])
    W = rng.standard_normal((n, dim)).astype(np.float32)
    b = rng.standard_normal(n).astype(np.float32) if with_bias else None
    d = rng.standard_normal((rows.size, dim)).astype(np.float32)
    offset = rng.standard_normal(rows.size).astype(np.float32)
    keep = rng.random(rows.size) < 0.7
    loss, grads = _bpr_gradients(W, b, rows, starts, d, offset, keep, reg=0.1)
    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    x = ((Wt[torch.from_numpy(rows)] * torch.tensor(d, dtype=torch.float64)).sum(1)
         + torch.tensor(offset, dtype=torch.float64))
    params = [Wt]
    if with_bias:
        bt = torch.tensor(b, dtype=torch.float64, requires_grad=True)
        x = x + bt[torch.from_numpy(rows)]
        params.append(bt)
    k = torch.from_numpy(keep)
    expect = -torch.nn.functional.logsigmoid(x[k]).mean() + 0.1 * (Wt * Wt).sum(1).mean()
    if with_bias:
        expect = expect + 0.1 * (bt * bt).mean()
    auto = torch.autograd.grad(expect, params)
    assert loss == pytest.approx(expect.item(), rel=1e-5)
    for mine, ref in zip(grads, auto):
        np.testing.assert_allclose(mine, ref.numpy(), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(grads[0][1], 2 * 0.1 / n * W[1], rtol=1e-6)  # row 1 has no pair: reg only
