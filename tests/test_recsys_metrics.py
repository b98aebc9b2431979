"""Ranking and rating metrics against values computed by hand."""
from __future__ import annotations

import math

import numpy as np
import pytest

import embedkit as ek
from embedkit.recsys.model import FactorModel

ITEMS = [f"i{j}" for j in range(6)]
USERS = ["A", "B", "C", "D"]


def _model():
    """Every user ranks the items i0 > i1 > ... > i5 (item scores 6..1); seen: A {i0}, B {i1, i2},
    C {i5}, D nothing (a cold-start user)."""
    train = ek.Interactions.from_arrays([0, 1, 1, 2], [0, 1, 2, 5], users=USERS, items=ITEMS)
    users = ek.Embeddings(USERS, np.ones((4, 1)))
    items = ek.Embeddings(ITEMS, np.arange(6, 0, -1)[:, None])
    return FactorModel(users, items, seen=train), train


def _test():
    # read separately (other id maps): "zz" is unknown to the model, D is cold
    return ek.read_interactions((["A", "A", "B", "B", "C", "D", "A"], ["i1", "i3", "i0", "i5", "i4", "i0", "zz"]))


def test_ranking_metrics_equal_hand_computed_values():
    model, train = _model()
    m = ek.evaluate.ranking(model, train, _test(), k=(3, 1))
    # top-3 after leaving seen items out: A [i1 i2 i3] (test i1 i3), B [i0 i3 i4] (test i0 i5), C [i0 i1 i2] (test i4)
    idcg2 = 1 + 1 / math.log2(3)
    expected3 = {
        "precision@3": (2 / 3 + 1 / 3 + 0) / 3,
        "recall@3": (1 + 1 / 2 + 0) / 3,
        "hit_rate@3": 2 / 3,
        "ndcg@3": ((1 + 1 / math.log2(4)) / idcg2 + 1 / idcg2 + 0) / 3,
        "map@3": ((1 + 2 / 3) / 2 + (1 / 1) / 2 + 0) / 3,
        "coverage@3": 5 / 6,  # i0..i4 appear in some list, i5 in none
    }
    expected1 = {"precision@1": 2 / 3, "recall@1": (1 / 2 + 1 / 2) / 3, "hit_rate@1": 2 / 3, "ndcg@1": 2 / 3,
                 "map@1": 2 / 3, "coverage@1": 2 / 6}
    for key, value in {**expected3, **expected1}.items():
        assert m[key] == pytest.approx(value, abs=1e-9), key
    assert m["users"] == 3 and m["cold_start_users"] == 1
    assert m["unknown_test_interactions"] == 1 and m["test_interactions"] == 7
    assert m.primary == "recall@3"


def test_ranking_is_batched_without_changing_the_answer():
    model, train = _model()
    a = ek.evaluate.ranking(model, train, _test(), k=3, batch_size=1)
    b = ek.evaluate.ranking(model, train, _test(), k=3, batch_size=1000)
    assert dict(a) == dict(b)
    # train=None uses the seen items stored in the model
    assert dict(ek.evaluate.ranking(model, None, _test(), k=3)) == dict(a)


def test_default_blocks_bound_the_scores_memory(monkeypatch):
    from embedkit.engines import topk as model_module  # the block size shared by recommend_many and ranking

    assert model_module.users_per_block(100_000) == (256 << 20) // 400_000  # 655 users: 262 MB of scores
    assert model_module.users_per_block(1_000) == model_module.MAX_BATCH
    assert model_module.users_per_block(10**9) == 1
    assert model_module.users_per_block(100_000, batch_size=7) == 7
    model, train = _model()
    whole = ek.evaluate.ranking(model, train, _test(), k=3)
    monkeypatch.setattr(model_module, "SCORE_BLOCK_BYTES", 2 * 4 * 6)  # two users a block
    assert model_module.users_per_block(6) == 2
    assert dict(ek.evaluate.ranking(model, train, _test(), k=3)) == dict(whole)
    assert model.recommend_many(k=2)[0].tolist() == model.recommend_many(k=2, batch_size=1000)[0].tolist()


def test_without_filtering_seen_items_count_against_the_list():
    model, train = _model()
    m = ek.evaluate.ranking(model, train, _test(), k=1, filter_seen=False)
    # every list is [i0]: only B has i0 in test
    assert m["precision@1"] == pytest.approx(1 / 3) and m["coverage@1"] == pytest.approx(1 / 6)
    with pytest.raises(ek.InvalidParameterError, match="'k'"):
        ek.evaluate.ranking(model, train, _test(), k=0)


def test_rating_metrics_equal_hand_computed_values():
    users = ek.Embeddings(["u0", "u1"], [[1.0], [0.0]])
    items = ek.Embeddings(["i0", "i1"], [[1.0], [2.0]])
    model = FactorModel(users, items, user_bias=[0.5, -0.5], item_bias=[0.0, 1.0], global_bias=3.0,
                        explicit=True, rating_range=(1, 5))
    # predictions: u0,i0 = 3 + .5 + 0 + 1 = 4.5; u0,i1 = 6.5 -> clipped to 5; u1,i0 = 2.5; unknown x,i1 = 3 + 1 = 4
    test = ek.read_interactions((["u0", "u0", "u1", "x"], ["i0", "i1", "i0", "i1"], [5.0, 4.0, 2.0, 4.0]))
    m = ek.evaluate.rating(model, test)
    assert m["rmse"] == pytest.approx(math.sqrt((0.25 + 1 + 0.25 + 0) / 4))
    assert m["mae"] == pytest.approx((0.5 + 1 + 0.5 + 0) / 4)
    assert m["ratings"] == 4 and m["cold_start_ratings"] == 1 and m.primary == "rmse"
    assert model.predict("u0", "i1") == pytest.approx(5.0)
    np.testing.assert_allclose(model.predict(["u0", "u1"], ["i0", "i0"]), [4.5, 2.5])


def test_rating_needs_an_explicit_model_and_ratings():
    model, train = _model()
    with pytest.raises(ek.EmbedkitError, match="does not predict ratings"):
        ek.evaluate.rating(model, train)
    with pytest.raises(ek.EmbedkitError, match="does not predict ratings"):
        model.predict("A", "i0")
