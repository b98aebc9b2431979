"""The contract every registered method passes (cf. scikit-learn's estimator checks).

The checks live in :mod:`embedkit.testing` (a plugin runs them on itself with
``embedkit.testing.check_method``); this file runs each on every registered method, the
device-dependent ones on the CPU and on CUDA (skipped, with the reason, where there is none).
Each method is fitted on its input kind's sample (:mod:`embedkit.kinds`): nothing here depends
on a method's family or kind.
"""
from __future__ import annotations

import pytest

import embedkit as ek
from embedkit import testing

METHODS = ek.methods()
DEVICES = ["cpu", "cuda"]


def _run(check, *args, **kw):
    try:
        check(*args, **kw)
    except testing.CheckSkipped as exc:
        pytest.skip(str(exc))


def test_registry_lists_the_graph_methods():
    assert {"deepwalk", "node2vec"} <= set(METHODS)
    with pytest.raises(ek.UnknownMethodError, match="choose one of: .*deepwalk"):
        ek.get_method("no-such-method")


@pytest.mark.parametrize("name", METHODS)
def test_every_parameter_is_declared_with_help_and_a_valid_default(name):
    _run(testing.check_parameter_table, name)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", METHODS)
def test_fit_returns_what_the_method_declares(name, device):
    _run(testing.check_fit_result, name, device=device)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", METHODS)
def test_fit_returns_float32_embeddings_for_every_key(name, device):
    _run(testing.check_vectors, name, device=device)


@pytest.mark.parametrize("name", METHODS)
def test_same_seed_same_vectors_on_cpu(name):
    _run(testing.check_seed_repeatable, name, device="cpu")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", METHODS)
@pytest.mark.parametrize("ext", testing.EXPORT_FORMATS)
def test_save_and_export_round_trip(name, ext, device, tmp_path):
    _run(testing.check_round_trip, name, tmp_path, ext=ext, device=device)


@pytest.mark.parametrize("name", METHODS)
def test_bad_parameters_are_rejected_by_name(name):
    _run(testing.check_bad_parameters, name)


@pytest.mark.parametrize("name", METHODS)
def test_every_form_of_the_input_kind_is_accepted(name, tmp_path):
    _run(testing.check_input_forms, name, tmp_path)


@pytest.mark.parametrize("name", METHODS)
def test_bad_input_is_a_clear_error(name, tmp_path):
    _run(testing.check_bad_inputs, name, tmp_path)


def test_a_broken_method_fails_the_checks_that_catch_it(monkeypatch):
    """The checks can fail: a method that drops a node's vector and ignores its seed is caught by
    check_vectors, check_seed_repeatable and check_input_forms, and check_method lists all three."""
    import numpy as np

    from embedkit.api import Method, Param, _REGISTRY, register

    class Sloppy(Method):
        name, family, summary, input_kind = "sloppy-test", "graph", "a method that breaks the contract", "graph"
        params = (Param("dim", int, 4, "size", low=1), Param("seed", int, 0, "ignored"))
        quick_params = {"dim": 4}

        def _fit(self, data, dim, seed):
            g = data if isinstance(data, ek.Graph) else ek.read_graph(data)
            vecs = np.random.default_rng().normal(size=(g.num_nodes - 1, dim))
            return ek.Embeddings(g.nodes[:-1], vecs.astype(np.float32), meta={})

    register(Sloppy)
    try:
        with pytest.raises(AssertionError, match="keys differ"):
            testing.check_vectors("sloppy-test")
        with pytest.raises(AssertionError, match="seed 3 twice"):
            testing.check_seed_repeatable("sloppy-test")
        with pytest.raises(AssertionError, match=r"(?s)sloppy-test breaks the embedkit contract in 3 check.*vectors\[cpu\]: .*keys differ"
                           r".*seed_repeatable\[cpu\].*input_forms: .*networkx"):
            testing.check_method("sloppy-test", devices=("cpu",))
    finally:
        _REGISTRY.pop("sloppy-test")


def test_check_method_reports_every_check():
    report = testing.check_method("deepwalk", devices=("cpu", "cuda"))
    assert report["vectors[cpu]"] == "passed" and report["round_trip.npz[cpu]"] == "passed"
    assert report["bad_inputs"] == "passed" and report["input_forms"] == "passed"
    if not testing.cuda_available():
        assert report["vectors[cuda]"] == "skipped: no CUDA device"
