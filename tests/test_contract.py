"""The contract every registered method passes (cf. scikit-learn's estimator checks)."""
from __future__ import annotations

import numpy as np
import pytest

import embedkit as ek
from embedkit.datasets.recsys import low_rank_ratings
from embedkit.datasets.synthetic import planted_text

METHODS = ek.methods()
#: methods whose fit returns vectors (``bpe`` returns a Tokenizer: only the checks below that
#: are not about vectors apply to it, and tests/test_bpe.py covers the rest)
EMBEDDING_METHODS = [m for m in METHODS if ek.get_method(m).returns == "embeddings"]
GRAPH_METHODS = [m for m in METHODS if ek.get_method(m).input_kind == "graph"]
TEXT_METHODS = [m for m in EMBEDDING_METHODS if ek.get_method(m).input_kind == "text"]
#: what ``fit`` returns, by ``Method.returns``
RESULT_TYPES = {"embeddings": (ek.Embeddings, ek.FactorModel), "tokenizer": (ek.text.bpe.Tokenizer,)}
TEXT = planted_text(300, seed=1).sentences
#: explicit ratings (every recommender takes them; mf needs ratings), string ids
RATINGS = low_rank_ratings(40, 30, density=0.3, seed=1)
RATINGS.users = [f"user{u}" for u in RATINGS.users]
RATINGS.items = [f"item{i}" for i in RATINGS.items]
#: 60 "closer than" triplets over 12 string keys (three different keys each)
TRIPLETS = [(f"w{a}", f"w{p}", f"w{n}") for a, p, n in np.random.default_rng(1).integers(0, 4, (60, 3)) * 3
            + np.array([0, 1, 2])]


def _declares(name, param):
    return param in {p.name for p in ek.get_method(name).params}


def _data_for(name, karate):
    kind = ek.get_method(name).input_kind
    if kind == "graph":
        return karate
    if kind == "text":
        return TEXT
    if kind == "interactions":
        return RATINGS
    if kind == "triplets":
        return TRIPLETS
    raise AssertionError(f"the contract suite has no data for input kind {kind!r}; add it here")


def _keys_for(name, karate):
    kind = ek.get_method(name).input_kind
    if kind == "text":
        return ek.read_text(TEXT, min_count=ek.get_method(name).quick_params.get("min_count", 5)).vocab
    if kind == "triplets":
        return ek.metric.read_metric_data(TRIPLETS).keys
    return karate.nodes


def _fit(name, data, **extra):
    cls = ek.get_method(name)
    # seed and device only where the method declares them (the popularity baseline has neither)
    extra = {k: v for k, v in extra.items() if k not in ("seed", "device") or _declares(name, k)}
    params = {**cls.quick_params, **extra}
    return ek.train(name, data, **params)


def _tables(name, result, karate):
    """(Embeddings, expected keys) of a fit result: itself, or the users and items of a FactorModel."""
    if ek.get_method(name).input_kind == "interactions":
        assert isinstance(result, ek.FactorModel)
        assert result.meta["method"] == name
        return [(result.users, RATINGS.users), (result.items, RATINGS.items)]
    assert isinstance(result, ek.Embeddings)
    return [(result, _keys_for(name, karate))]


def test_registry_lists_the_graph_methods():
    assert {"deepwalk", "node2vec"} <= set(METHODS)
    with pytest.raises(ek.UnknownMethodError, match="choose one of: .*deepwalk"):
        ek.get_method("no-such-method")


@pytest.mark.parametrize("name", METHODS)
def test_every_parameter_is_declared_with_help_and_a_valid_default(name):
    cls = ek.get_method(name)
    assert cls.summary and cls.family and cls.input_kind
    names = [p.name for p in cls.params]
    assert len(names) == len(set(names)), "a parameter is declared twice"
    for p in cls.params:
        assert p.help, f"{name}.{p.name} has no help text"
        assert p.check(name, p.default) == p.default  # the default passes its own check


@pytest.mark.parametrize("name", METHODS)
def test_fit_returns_what_the_method_declares(name, karate):
    cls = ek.get_method(name)
    assert cls.returns in RESULT_TYPES, f"{name}.returns = {cls.returns!r}; add it to RESULT_TYPES"
    result = _fit(name, _data_for(name, karate), seed=0)
    assert isinstance(result, RESULT_TYPES[cls.returns])
    assert result.meta["method"] == name and result.meta["training_time_s"] >= 0


@pytest.mark.parametrize("name", EMBEDDING_METHODS)
def test_fit_returns_float32_embeddings_for_every_key(name, karate):
    result = _fit(name, _data_for(name, karate), seed=0)
    for emb, keys in _tables(name, result, karate):
        assert isinstance(emb, ek.Embeddings)
        assert emb.vectors.dtype == np.float32 and emb.vectors.flags.c_contiguous
        assert emb.keys == keys
        if _declares(name, "dim"):
            assert emb.dim == ek.get_method(name).quick_params["dim"]
        assert np.isfinite(emb.vectors).all()
        seed = 0 if _declares(name, "seed") else None
        assert emb.meta["method"] == name and emb.meta["seed"] == seed and emb.meta["training_time_s"] >= 0


@pytest.mark.parametrize("name", EMBEDDING_METHODS)
def test_same_seed_same_vectors_on_cpu(name, karate):
    data = _data_for(name, karate)
    a = _tables(name, _fit(name, data, seed=3, device="cpu"), karate)
    b = _tables(name, _fit(name, data, seed=3, device="cpu"), karate)
    c = _tables(name, _fit(name, data, seed=4, device="cpu"), karate)
    for (ea, _), (eb, _) in zip(a, b):
        np.testing.assert_array_equal(ea.vectors, eb.vectors)
    if _declares(name, "seed"):  # a method without a seed is deterministic: the lines above
        assert not all(np.array_equal(ea.vectors, ec.vectors) for (ea, _), (ec, _) in zip(a, c))


@pytest.mark.parametrize("name", EMBEDDING_METHODS)
@pytest.mark.parametrize("ext", [".ekv", ".txt", ".bin", ".npz"])
def test_save_and_export_round_trip(name, ext, karate, tmp_path):
    result = _fit(name, _data_for(name, karate), seed=0)
    path = tmp_path / f"vectors{ext}"
    if ext == ".ekv":
        result.save(path)
    else:
        result.export(path)
    back = ek.load(path)
    if isinstance(result, ek.FactorModel):  # .ekv holds the whole model; other formats its item vectors
        if ext == ".ekv":
            assert isinstance(back, ek.FactorModel)
            for side in ("users", "items"):
                assert getattr(back, side).keys == getattr(result, side).keys
                np.testing.assert_array_equal(getattr(back, side).vectors, getattr(result, side).vectors)
            assert back.meta["method"] == name and back.meta["embedkit_version"] == ek.__version__
            if _declares(name, "dim"):
                assert back.meta["params"]["dim"] == result.dim
            return
        emb = result.items
    else:
        emb = result
    assert [str(k) for k in back.keys] == [str(k) for k in emb.keys]
    np.testing.assert_allclose(back.vectors, emb.vectors, rtol=1e-5, atol=1e-6)
    if ext == ".ekv":
        assert back.meta["method"] == name and back.meta["params"]["dim"] == emb.dim
        assert back.meta["embedkit_version"] == ek.__version__


@pytest.mark.parametrize("name", METHODS)
def test_bad_parameters_are_rejected_by_name(name, karate):
    cls = ek.get_method(name)
    data = _data_for(name, karate)
    with pytest.raises(ek.InvalidParameterError, match="'no_such_param'.*known parameters"):
        ek.train(name, data, no_such_param=1)
    if not _declares(name, "dim"):  # the popularity baseline has no vectors to size
        with pytest.raises(ek.InvalidParameterError, match="'dim'.*known parameters"):
            ek.train(name, data, dim=8)
        return
    with pytest.raises(ek.InvalidParameterError, match="'dim' must be an integer >= 1; got 0"):
        ek.train(name, data, dim=0)
    with pytest.raises(ek.InvalidParameterError, match="'dim' must be an integer >= 1; got 'big'"):
        ek.train(name, data, dim="big")
    with pytest.raises(ek.InvalidParameterError, match="'device'"):
        ek.train(name, data, device="tpu")
    # the constructor only stores (the estimator contract); the check happens at fit
    model = cls(dim=-5)
    with pytest.raises(ek.InvalidParameterError, match="'dim'"):
        model.fit(data)


@pytest.mark.parametrize("name", GRAPH_METHODS)
def test_graph_methods_accept_every_graph_form(name, karate):
    import networkx as nx

    nxg = nx.karate_club_graph()
    emb = _fit(name, nxg, seed=0)
    assert len(emb) == 34 and emb.keys == list(range(34))
    src, dst = karate.edge_array().T
    emb2 = _fit(name, (src, dst), seed=0)
    assert len(emb2) == 34


@pytest.mark.parametrize("name", GRAPH_METHODS)
def test_empty_graph_is_a_clear_error(name, tmp_path):
    path = tmp_path / "empty.edgelist"
    path.write_text("# nothing here\n")
    with pytest.raises(ek.EmptyInputError, match="empty.edgelist: no edges"):
        ek.train(name, str(path))


@pytest.mark.parametrize("name", TEXT_METHODS)
def test_text_methods_read_paths_and_report_empty_input(name, tmp_path):
    path = tmp_path / "corpus.txt"
    path.write_text("\n".join(" ".join(s) for s in TEXT) + "\n")
    emb = _fit(name, str(path), seed=0)
    words = emb.words if isinstance(emb, ek.SubwordEmbeddings) else emb.keys
    assert words == ek.read_text(TEXT, min_count=1).vocab
    empty = tmp_path / "empty.txt"
    empty.write_text("\n  \n")
    with pytest.raises(ek.EmptyInputError, match="empty.txt: no tokens"):
        ek.train(name, str(empty))
    with pytest.raises(ek.EmptyInputError, match="vocabulary is empty after min_count=1000"):
        ek.train(name, str(path), min_count=1000)
    with pytest.raises(ek.InputFormatError, match="no such file"):
        ek.train(name, str(tmp_path / "missing.txt"))
