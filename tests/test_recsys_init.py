"""Recommenders continued from a previous model: ``ek.train("als"|"bpr"|"mf", data, init=previous,
freeze_existing=...)`` (issue 20), on planted data with known answers."""
import numpy as np
import pytest

import embedkit as ek
from embedkit.exceptions import CheckpointError, InvalidParameterError

GROUPS, ITEMS_PER, PICKS = 4, 10, 7


def _blocks(users, seed=0):
    """Users ``g<g>u<k>`` (``k`` in ``users``) of group ``g`` choose ``PICKS`` of group ``g``'s
    ``ITEMS_PER`` items; a user's picks are the same whatever ``users`` holds."""
    u, i = [], []
    for g in range(GROUPS):
        for k in users:
            rng = np.random.default_rng([seed, g, k])
            for it in rng.choice(ITEMS_PER, PICKS, replace=False):
                u.append(f"g{g}u{k}")
                i.append(f"i{g * ITEMS_PER + it}")
    return u, i


def _old_and_new():
    """The old data: 20 users per group, a user "gone" (group 1's items) and an item "retired" (five
    users of group 0 chose it). The new data: 30 users per group (the 20 old ones with the same
    items), without "gone" and "retired", and two new users who copy five items of group 2 / 3."""
    u, i = _blocks(range(20))
    u += ["gone"] * 5 + [f"g0u{k}" for k in range(5)]
    i += ["i10", "i11", "i12", "i13", "i14"] + ["retired"] * 5
    old = ek.read_interactions((u, i))
    u, i = _blocks(range(30))
    u += ["new"] * 5 + ["other"] * 5
    i += ["i20", "i21", "i22", "i23", "i24", "i30", "i31", "i32", "i33", "i34"]
    return old, ek.read_interactions((u, i))


#: (method, params of both trainings); the torch backends on the CPU
CASES = {
    "als-implicit": ("als", dict(dim=4, epochs=10, backend="implicit")),
    "als-torch": ("als", dict(dim=4, epochs=10, backend="torch", device="cpu")),
    "bpr-implicit": ("bpr", dict(dim=4, epochs=60, learning_rate=0.1, backend="implicit")),
    "bpr-torch": ("bpr", dict(dim=4, epochs=60, learning_rate=0.1, batch_size=32, backend="torch", device="cpu",
                              negative_sampling="uniform")),
    "bpr-torch-adam": ("bpr", dict(dim=4, epochs=30, learning_rate=0.05, batch_size=128, backend="torch",
                                   device="cpu", optimizer="adam", negative_sampling="uniform")),
}
#: the cases whose backend can keep the old rows fixed
FREEZES = [c for c in CASES if c != "bpr-implicit"]


def _train(case, data, **kw):
    method, params = CASES[case]
    return ek.train(method, data, **{**params, "workers": 1, "seed": 0, "verbose": False, **kw})


def _recommend(model, user, k=5) -> list:
    """The ``k`` best items for ``user`` but the absent item "retired" (its row is the old model's;
    without freeze_existing the users moved around it, so its scores are as old as its row)."""
    return [item for item, _ in model.recommend(user, k=k + 1) if item != "retired"][:k]


def _old_rows_equal(a, b) -> bool:
    """Whether every old user and item row (and bias) of ``b`` is ``a``'s, bit for bit."""
    same = np.array_equal(b.users.vectors[:a.num_users], a.users.vectors) and \
        np.array_equal(b.items.vectors[:a.num_items], a.items.vectors)
    for name, n in (("user_bias", a.num_users), ("item_bias", a.num_items)):
        if getattr(a, name) is not None:
            same = same and np.array_equal(getattr(b, name)[:n], getattr(a, name))
    return same


@pytest.mark.parametrize("freeze", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_continue_on_planted_blocks(case, freeze):
    if freeze and case not in FREEZES:
        pytest.skip("the implicit BPR backend refuses freeze_existing (tested below)")
    old, new = _old_and_new()
    a = _train(case, old)
    b = _train(case, new, init=a, freeze_existing=freeze)
    # the union of the keys: the old ones first, in their old order, then the new ones
    assert b.users.keys[:a.num_users] == a.users.keys and b.items.keys[:a.num_items] == a.items.keys
    assert sorted(b.users.keys[a.num_users:]) == sorted([f"g{g}u{k}" for g in range(GROUPS) for k in range(20, 30)]
                                                       + ["new", "other"])
    assert b.num_items == a.num_items  # no new item; "retired" is absent from the new data, still there
    assert b.meta["init"] == {"source": repr(a), "kept_users": 80, "new_users": 42, "absent_users_kept": 1,
                              "kept_items": 40, "new_items": 0, "absent_items_kept": 1, "freeze_existing": freeze}
    # absent keys keep their rows (and bias) bit for bit, frozen or not; the absent user keeps its seen items
    assert np.array_equal(b.users["gone"], a.users["gone"]) and np.array_equal(b.items["retired"], a.items["retired"])
    if a.item_bias is not None:
        r = a.items.index_of("retired")
        assert b.item_bias[r] == a.item_bias[r]
    assert sorted(k for k, _ in b.recommend("gone", k=40)) == sorted(
        set(b.items.keys) - {"i10", "i11", "i12", "i13", "i14"})
    if freeze:
        assert _old_rows_equal(a, b)
    else:
        assert not np.array_equal(b.users.vectors[:a.num_users], a.users.vectors)
    # the new users that copy old users' items get the rest of their group's items
    assert sorted(_recommend(b, "new")) == ["i25", "i26", "i27", "i28", "i29"]
    assert {int(k[1:]) // ITEMS_PER for k in _recommend(b, "other")} == {3}
    # and a new user of group 1 is recommended its group's items it has not chosen
    assert all(10 <= int(k[1:]) < 20 for k in _recommend(b, "g1u25", 3))


@pytest.mark.parametrize("case", ["als-torch", "bpr-torch"])
def test_a_new_item_lands_with_its_group_and_is_recommended(case):
    old, _ = _old_and_new()
    a = _train(case, old)
    u, i = _blocks(range(20))
    fans = [f"g1u{k}" for k in range(12)]
    grown = ek.read_interactions((u + fans, i + ["fresh"] * len(fans)))
    b = _train(case, grown, init=a, freeze_existing=True)
    assert b.items.keys[-1] == "fresh" and b.meta["init"]["new_items"] == 1 and _old_rows_equal(a, b)
    near = [k for k, _ in b.items.most_similar("fresh", k=5)]
    assert sum(10 <= int(k[1:]) < 20 for k in near) >= 4
    assert "fresh" in _recommend(b, "g1u15", 4)


def _ratings(seed=0):
    """Planted ratings: 200 users x 60 items of a rank-4 taste, 30 ratings a user; 5 more per user
    held out."""
    rng = np.random.default_rng(seed)
    P, Q = rng.normal(0, 0.7, size=(200, 4)), rng.normal(0, 0.7, size=(60, 4))
    u = np.repeat(np.arange(200), 35)
    i = np.concatenate([rng.choice(60, 35, replace=False) for _ in range(200)])
    r = 6 + (P[u] * Q[i]).sum(1)
    test = np.tile(np.arange(35) >= 30, 200)
    return u, i, r, test


MF = dict(dim=4, learning_rate=0.01, reg=0.01, seed=0, workers=1, verbose=False)


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("freeze", [False, True])
def test_mf_continues_a_planted_taste(freeze, optimizer):
    u, i, r, test = _ratings()
    old = ~test & (u < 150)
    kw = dict(MF, optimizer=optimizer, learning_rate=0.01 if optimizer == "sgd" else 0.05)
    a = ek.train("mf", ek.read_interactions((u[old], i[old], r[old])), epochs=30, **kw)
    b = ek.train("mf", ek.read_interactions((u[~test], i[~test], r[~test])), init=a, freeze_existing=freeze,
                 epochs=10, **kw)
    assert b.global_bias == a.global_bias and b.meta["init"]["new_users"] == 50
    if freeze:
        assert _old_rows_equal(a, b)
    else:
        assert not np.array_equal(b.user_bias[:a.num_users], a.user_bias)
    # the new users' held-out ratings are predicted from their planted taste
    new = test & (u >= 150)
    pred = b.predict(u[new].tolist(), i[new].tolist())
    baseline = np.sqrt(np.mean((r[new] - r[new].mean()) ** 2))
    assert np.sqrt(np.mean((pred - r[new]) ** 2)) < 0.5 * baseline


@pytest.mark.parametrize("case", ["als-implicit", "als-torch", "bpr-implicit", "bpr-torch", "mf"])
def test_continuing_converges_faster_than_from_scratch(case):
    """After 1 (ALS) or 2 epochs, the run continued from a model of 3/4 of the users has a lower
    training loss on all the data than a fresh run of as many epochs."""
    if case == "mf":
        u, i, r, test = _ratings()
        whole = ek.read_interactions((u[~test], i[~test], r[~test]))
        a = ek.train("mf", ek.read_interactions((u[~test & (u < 150)], i[~test & (u < 150)], r[~test & (u < 150)])),
                     epochs=30, **MF)
        b = ek.train("mf", whole, init=a, epochs=2, **MF)
        c = ek.train("mf", whole, epochs=2, **MF)
    else:
        old, new = _old_and_new()
        a = _train(case, old)
        epochs = 1 if case.startswith("als") else 2
        b = _train(case, new, init=a, epochs=epochs)
        c = _train(case, new, epochs=epochs)
    assert b.history[-1]["loss"] < 0.9 * c.history[-1]["loss"], (b.history, c.history)


def test_implicit_bpr_refuses_freezing_and_auto_picks_torch():
    old, new = _old_and_new()
    a = _train("bpr-implicit", old)
    with pytest.raises(InvalidParameterError, match="backend.*freeze_existing"):
        _train("bpr-implicit", new, init=a, freeze_existing=True)
    params = dict(CASES["bpr-implicit"][1], backend="auto", epochs=2)
    b = ek.train("bpr", new, init=a, freeze_existing=True, workers=1, seed=0, verbose=False,
                 **{k: v for k, v in params.items() if k != "dim"})
    assert b.meta["backend"] == "torch" and _old_rows_equal(a, b)


def test_init_errors_name_the_problem():
    old, new = _old_and_new()
    als = _train("als-torch", old, epochs=2)
    with pytest.raises(InvalidParameterError, match="init.*trained by 'bpr'.*trained by 'als'"):
        _train("bpr-torch", new, init=als)
    with pytest.raises(InvalidParameterError, match="dim.*4 \\(the init model's dim\\).*16"):
        _train("als-torch", new, init=als, dim=16)
    with pytest.raises(InvalidParameterError, match="init.*FactorModel.*Embeddings"):
        _train("als-torch", new, init=als.items)
    with pytest.raises(InvalidParameterError, match="freeze_existing.*without init"):
        _train("als-torch", new, freeze_existing=True)
    # dim follows the init model when left out
    assert ek.train("als", new, init=als, epochs=1, backend="torch", device="cpu", verbose=False).dim == 4
    # mf: a model of implicit feedback is refused even under mf's name
    u, i, r, _ = _ratings()
    mf = ek.train("mf", ek.read_interactions((u, i, r)), epochs=1, **MF)
    mf.explicit = False
    with pytest.raises(InvalidParameterError, match="explicit ratings.*implicit feedback"):
        ek.train("mf", ek.read_interactions((u, i, r)), init=mf, epochs=1, **MF)


def test_continued_model_saves_and_loads(tmp_path):
    old, new = _old_and_new()
    a = _train("als-torch", old)
    a.save(tmp_path / "a.ekv")
    b = _train("als-torch", new, init=ek.load(tmp_path / "a.ekv"), freeze_existing=True)
    assert _old_rows_equal(a, b)
    b.save(tmp_path / "b.ekv")
    back = ek.load(tmp_path / "b.ekv")
    assert back.meta["init"] == b.meta["init"] and back.users.keys == b.users.keys
    assert np.array_equal(back.users.vectors, b.users.vectors)


@pytest.mark.parametrize("case", ["als-implicit", "als-torch", "bpr-implicit", "bpr-torch-adam", "mf"])
def test_checkpoint_of_a_continued_run(tmp_path, case):
    """A continued run cut after epoch 1 resumes bit-identical; a checkpoint of a continued run is
    refused for another init, or for none."""
    import shutil

    if case == "mf":
        u, i, r, test = _ratings()
        old = ~test & (u < 150)
        old, new = ek.read_interactions((u[old], i[old], r[old])), ek.read_interactions((u[~test], i[~test], r[~test]))

        def train(data, **kw):
            return ek.train("mf", data, **{"epochs": 4, "optimizer": "adam", **MF, **kw})
    else:
        old, new = _old_and_new()

        def train(data, **kw):
            return _train(case, data, **{"epochs": 4, **kw})
    a, a2 = train(old), train(old, seed=1)
    whole = train(new, init=a, freeze_existing=case != "bpr-implicit")
    ck = tmp_path / "ck"
    train(new, init=a, freeze_existing=case != "bpr-implicit", checkpoint=ck,
          callbacks=[lambda row: row["epoch"] == 2])
    for p in ck.iterdir():  # keep the checkpoint written after epoch 1: the run restarts in the middle
        if p.name != "checkpoint-e000002-p000000000000":
            shutil.rmtree(p)
    resumed = train(new, init=a, freeze_existing=case != "bpr-implicit", checkpoint=ck)
    assert resumed.meta["training"]["resumed_from"].endswith("checkpoint-e000002-p000000000000")
    assert np.array_equal(resumed.users.vectors, whole.users.vectors)
    assert np.array_equal(resumed.items.vectors, whole.items.vectors)
    assert [row["loss"] for row in resumed.history] == [row["loss"] for row in whole.history]
    # the init is part of what a checkpoint is checked against: another init, or none, is refused
    with pytest.raises(CheckpointError, match="other data.*continuing"):
        train(new, init=a2, freeze_existing=case != "bpr-implicit", checkpoint=ck)
    with pytest.raises(CheckpointError, match="other data"):
        train(new, checkpoint=ck)


@pytest.mark.parametrize("method", ["als", "bpr", "mf"])
def test_cli_init_and_freeze_existing(tmp_path, method):
    from click.testing import CliRunner

    from embedkit_cli.main import cli

    if method == "mf":  # ratings: the third column
        u, i, r, test = _ratings()
        pairs = {"old.tsv": ~test & (u < 150), "new.tsv": ~test}
        for name, m in pairs.items():
            (tmp_path / name).write_text("".join(f"u{x}\ti{y}\t{z:.4f}\n" for x, y, z in zip(u[m], i[m], r[m])))
        opts, new_users = ["--rating-col", "2"], 50
    else:
        old, new = _old_and_new()
        for name, inter in (("old.tsv", old), ("new.tsv", new)):
            uu = np.asarray(inter.users, dtype=object)[inter.user_of_entry()]
            ii = np.asarray(inter.items, dtype=object)[inter.indices]
            (tmp_path / name).write_text("".join(f"{x}\t{y}\n" for x, y in zip(uu, ii)))
        opts, new_users = [], 42
    opts += ["--epochs", "5", "--workers", "1", "--quiet"]
    runner = CliRunner()
    res = runner.invoke(cli, ["train", method, str(tmp_path / "old.tsv"), "-o", str(tmp_path / "a.ekv"),
                              "--dim", "4", *opts])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["train", method, str(tmp_path / "new.tsv"), "-o", str(tmp_path / "b.ekv"),
                              "--init", str(tmp_path / "a.ekv"), "--freeze-existing", *opts])
    assert res.exit_code == 0, res.output
    assert "continued" in res.output and "old rows frozen" in res.output
    a, b = ek.load(tmp_path / "a.ekv"), ek.load(tmp_path / "b.ekv")
    assert b.meta["init"]["freeze_existing"] and b.meta["init"]["new_users"] == new_users
    assert b.users.keys[:a.num_users] == a.users.keys and _old_rows_equal(a, b)
    # another method's model, or another dim, is refused, naming it
    other = "bpr" if method == "als" else "als"
    other_opts = opts[2:] if method == "mf" else opts  # als reads the ratings file as implicit interactions
    res = runner.invoke(cli, ["train", other, str(tmp_path / "new.tsv"), "-o", str(tmp_path / "c.ekv"),
                              "--init", str(tmp_path / "a.ekv"), *other_opts])
    assert res.exit_code != 0 and f"a model trained by {method!r}" in res.output, res.output
    res = runner.invoke(cli, ["train", method, str(tmp_path / "new.tsv"), "-o", str(tmp_path / "c.ekv"),
                              "--init", str(tmp_path / "a.ekv"), "--dim", "8", *opts])
    assert res.exit_code != 0 and "'dim' must be 4 (the init model's dim)" in res.output, res.output


@pytest.mark.gpu
@pytest.mark.parametrize("case", ["als-torch", "bpr-torch", "bpr-torch-adam", "mf"])
def test_freeze_existing_on_cuda(case):
    """A model trained on the CPU continued on CUDA with frozen old rows: bit for bit, and the
    planted answer for the new rows."""
    if case == "mf":
        u, i, r, test = _ratings()
        old = ~test & (u < 150)
        a = ek.train("mf", ek.read_interactions((u[old], i[old], r[old])), epochs=30, **MF)
        b = ek.train("mf", ek.read_interactions((u[~test], i[~test], r[~test])), init=a, freeze_existing=True,
                     epochs=10, device="cuda", **MF)
        new = test & (u >= 150)
        pred = b.predict(u[new].tolist(), i[new].tolist())
        assert np.sqrt(np.mean((pred - r[new]) ** 2)) < 0.5 * np.sqrt(np.mean((r[new] - r[new].mean()) ** 2))
    else:
        old, new = _old_and_new()
        a = _train(case, old)
        b = _train(case, new, init=a, freeze_existing=True, device="cuda")
        assert sorted(_recommend(b, "new")) == ["i25", "i26", "i27", "i28", "i29"]
    assert b.meta["device"].startswith("cuda") and _old_rows_equal(a, b)
