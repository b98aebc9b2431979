"""The contract every method passes (cf. scikit-learn's ``utils/estimator_checks.py``), for the
built-in methods and for plugins alike.

``tests/test_contract.py`` runs each check on every registered method; a plugin author runs
them all on a method of their own with :func:`check_method`::

    from embedkit.testing import check_method

    def test_my_method_keeps_the_contract():
        check_method("mymethod")     # raises AssertionError naming each failed check

Each check fits the method on its input kind's sample (:mod:`embedkit.kinds`: karate for
graphs, a small planted corpus for text, low-rank ratings for recommenders, ...) with the
method's ``quick_params``, and asserts: the parameter table is complete and its defaults pass
their own checks; ``fit`` returns what ``returns`` declares, with ``meta`` filled in; float32
C-contiguous finite vectors for exactly the expected keys; the same seed gives the same vectors
on the CPU (and another seed others); save/load and export round trips (.ekv, .txt, .bin,
.npz); bad parameters refused by name at ``fit``; every other form of the kind accepted; and
bad input refused with a clear error. Device-dependent checks take ``device``: "cpu", or
"cuda" (skipped when the method has no ``device`` parameter or no CUDA device is present).

A check that does not apply raises :class:`CheckSkipped` with the reason. Nothing here needs
pytest.
"""
from __future__ import annotations

import contextlib
import re
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .api import get_method, train
from .kinds import get_kind, kinds_of

__all__ = ["check_method", "CheckSkipped", "CHECKS", "DEVICE_CHECKS", "EXPORT_FORMATS", "result_types",
           "check_parameter_table", "check_fit_result", "check_vectors", "check_seed_repeatable",
           "check_round_trip", "check_bad_parameters", "check_input_forms", "check_bad_inputs", "cuda_available"]

#: the file formats the round-trip check writes and reads back
EXPORT_FORMATS = (".ekv", ".txt", ".bin", ".npz")


class CheckSkipped(Exception):
    """A check does not apply to this method (or device); the message says why."""


def result_types() -> dict[str, tuple[type, ...]]:
    """What ``fit`` may return, by ``Method.returns``."""
    from .embeddings import Embeddings
    from .recsys import FactorModel
    from .text.bpe import Tokenizer

    return {"embeddings": (Embeddings, FactorModel), "tokenizer": (Tokenizer,)}


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:  # pragma: no cover - torch is a dependency
        return False
    return bool(torch.cuda.is_available())


# ------------------------------------------------------------------------------------ helpers
def _declares(name: str, param: str) -> bool:
    return param in {p.name for p in get_method(name).params}


def _default(name: str, param: str) -> Any:
    return next(p.default for p in get_method(name).params if p.name == param)


def _params(name: str, **extra: Any) -> dict:
    """The method's quick parameters plus ``extra``; seed and device only where declared (the
    popularity baseline has neither)."""
    extra = {k: v for k, v in extra.items() if k not in ("seed", "device") or _declares(name, k)}
    return {**get_method(name).quick_params, **extra}


def _fit(name: str, data: Any, **extra: Any):
    params = _params(name, **extra)
    return train(name, data, **params), params


def _sample(name: str):
    return kinds_of(get_method(name))[0].sample_data()


def _tables(name: str, result: Any, params: dict, tables: Callable | None = None) -> list:
    from .embeddings import Embeddings

    out = (tables or _sample(name).tables)(result, params)
    for emb, _ in out:
        assert isinstance(emb, Embeddings), f"{name}: a table of the result is a {type(emb).__name__}, not Embeddings"
    return out


def _embeddings_only(name: str) -> None:
    cls = get_method(name)
    if cls.returns != "embeddings":
        raise CheckSkipped(f"{name} returns a {cls.returns}, not vectors")


def _device(name: str, device: str) -> None:
    if device == "cpu":
        return
    if not _declares(name, "device"):
        raise CheckSkipped(f"{name} has no device parameter: it runs on the CPU only")
    if device.startswith("cuda") and not cuda_available():
        raise CheckSkipped("no CUDA device")


@contextlib.contextmanager
def _raises(error: type[BaseException], match: str, what: str):
    """Like ``pytest.raises(error, match=match)``, without pytest."""
    try:
        yield
    except error as exc:
        if not re.search(match, str(exc)):
            raise AssertionError(f"{what}: {type(exc).__name__} says {str(exc)!r}, which does not match "
                                 f"{match!r}") from exc
    else:
        raise AssertionError(f"{what}: no {error.__name__} was raised")


# ------------------------------------------------------------------------------------ the checks
def check_parameter_table(name: str) -> None:
    """Summary, family and a registered input kind; every parameter declared once, with help
    text and a default that passes its own check; ``returns`` a known result type."""
    cls = get_method(name)
    assert cls.summary and cls.family and cls.input_kind, f"{name}: set summary, family and input_kind"
    kinds_of(cls)  # every kind it names is registered (else UnknownInputKindError lists them)
    assert cls.returns in result_types(), f"{name}.returns = {cls.returns!r}; one of {sorted(result_types())}"
    names = [p.name for p in cls.params]
    assert len(names) == len(set(names)), f"{name}: a parameter is declared twice"
    for p in cls.params:
        assert p.help, f"{name}.{p.name} has no help text"
        assert p.check(name, p.default) == p.default, f"{name}.{p.name}: the default fails its own check"
    assert set(cls.quick_params) <= set(names), f"{name}: quick_params names undeclared parameters"


def check_fit_result(name: str, device: str = "cpu") -> None:
    """``fit`` returns what ``returns`` declares, its meta naming the method and the training time."""
    _device(name, device)
    cls = get_method(name)
    result, _ = _fit(name, _sample(name).data, seed=0, device=device)
    assert isinstance(result, result_types()[cls.returns]), \
        f"{name} returned a {type(result).__name__}; returns = {cls.returns!r}"
    assert result.meta["method"] == name and result.meta["training_time_s"] >= 0


def check_vectors(name: str, device: str = "cpu") -> None:
    """float32, C-contiguous, finite vectors for exactly the expected keys, of the asked size;
    meta records method, seed and training time."""
    _embeddings_only(name)
    _device(name, device)
    result, params = _fit(name, _sample(name).data, seed=0, device=device)
    for emb, keys in _tables(name, result, params):
        assert emb.vectors.dtype == np.float32 and emb.vectors.flags.c_contiguous, \
            f"{name}: vectors are {emb.vectors.dtype}, C-contiguous {emb.vectors.flags.c_contiguous}"
        assert emb.keys == keys, f"{name}: the keys differ from the data's ({len(emb.keys)} vs {len(keys)})"
        if _declares(name, "dim"):
            asked = params.get("dim", _default(name, "dim"))
            assert emb.dim == asked, f"{name}: dim {emb.dim}, asked {asked}"
        assert np.isfinite(emb.vectors).all(), f"{name}: vectors hold nan or inf"
        seed = 0 if _declares(name, "seed") else None
        assert emb.meta["method"] == name and emb.meta["seed"] == seed and emb.meta["training_time_s"] >= 0


def check_seed_repeatable(name: str, device: str = "cpu") -> None:
    """The same seed gives the same vectors bit for bit; another seed, other vectors (a method
    without a seed must be deterministic). Promised on the CPU."""
    _embeddings_only(name)
    if device != "cpu":
        raise CheckSkipped("repeatability is promised on the CPU (GPU kernels may sum in any order)")
    data = _sample(name).data
    a = _tables(name, *_fit(name, data, seed=3, device="cpu"))
    b = _tables(name, *_fit(name, data, seed=3, device="cpu"))
    for (ea, _), (eb, _) in zip(a, b):
        np.testing.assert_array_equal(ea.vectors, eb.vectors, err_msg=f"{name}: seed 3 twice, other vectors")
    if _declares(name, "seed"):
        c = _tables(name, *_fit(name, data, seed=4, device="cpu"))
        assert not all(np.array_equal(ea.vectors, ec.vectors) for (ea, _), (ec, _) in zip(a, c)), \
            f"{name}: seeds 3 and 4 gave the same vectors (is the seed used?)"


def check_round_trip(name: str, folder: Path, ext: str = ".ekv", device: str = "cpu") -> None:
    """``save`` (.ekv: the whole result, meta with method, version and dim) or ``export`` (other
    formats: the vectors of one of the result's tables) and :func:`embedkit.load` give it back."""
    from ._version import __version__
    from .api import load

    _embeddings_only(name)
    _device(name, device)
    result, params = _fit(name, _sample(name).data, seed=0, device=device)
    tables = _tables(name, result, params)
    path = Path(folder) / f"{name}-{device}-vectors{ext}"
    if ext == ".ekv":
        result.save(path)
    else:
        result.export(path)
    back = load(path)
    if ext == ".ekv":
        # the tables read back: the whole result (a recommender's users and items), or its vectors
        for (emb, _), (emb_back, _) in zip(tables, _tables(name, back, params), strict=True):
            assert emb_back.keys == emb.keys, f"{name}: keys changed through .ekv"
            np.testing.assert_array_equal(emb_back.vectors, emb.vectors, err_msg=f"{name}: vectors changed")
        assert back.meta["method"] == name and back.meta["embedkit_version"] == __version__
        if _declares(name, "dim"):
            assert back.meta["params"]["dim"] == tables[0][0].dim
        return
    keys = [str(k) for k in back.keys]
    same = [emb for emb, _ in tables if [str(k) for k in emb.keys] == keys]
    assert same, f"{name}: the keys read back from {ext} are none of the result's tables' keys"
    np.testing.assert_allclose(back.vectors, same[0].vectors, rtol=1e-5, atol=1e-6,
                               err_msg=f"{name}: vectors changed through {ext}")


def check_bad_parameters(name: str) -> None:
    """An unknown parameter, a bad ``dim`` or ``device`` are refused at ``fit`` with
    InvalidParameterError naming the parameter; the constructor only stores them."""
    from .exceptions import InvalidParameterError

    cls = get_method(name)
    data = _sample(name).data
    with _raises(InvalidParameterError, "'no_such_param'.*known parameters", f"{name}(no_such_param=1)"):
        train(name, data, no_such_param=1)
    if not _declares(name, "dim"):  # the popularity baseline has no vectors to size
        with _raises(InvalidParameterError, "'dim'.*known parameters", f"{name}(dim=8) without a dim"):
            train(name, data, dim=8)
        return
    with _raises(InvalidParameterError, "'dim' must be an integer >= 1; got 0", f"{name}(dim=0)"):
        train(name, data, dim=0)
    with _raises(InvalidParameterError, "'dim' must be an integer >= 1; got 'big'", f"{name}(dim='big')"):
        train(name, data, dim="big")
    if _declares(name, "device"):
        with _raises(InvalidParameterError, "'device'", f"{name}(device='tpu')"):
            train(name, data, device="tpu")
    model = cls(dim=-5)  # the constructor only stores (the estimator contract); the check happens at fit
    with _raises(InvalidParameterError, "'dim'", f"{name}(dim=-5).fit"):
        model.fit(data)


def check_input_forms(name: str, folder: Path) -> None:
    """Every other form of the input kind's sample (:attr:`embedkit.kinds.Sample.forms`: a
    networkx graph, index arrays, a file ...) is accepted, with the expected keys."""
    _embeddings_only(name)
    sample = _sample(name)
    if not sample.forms:
        raise CheckSkipped(f"input kind {get_method(name).input_kind!r} registers no other forms of its sample")
    for form in sample.forms:
        result, params = _fit(name, form.make(Path(folder)), seed=0)
        for emb, keys in _tables(name, result, params, form.tables):
            assert emb.keys == keys, f"{name} on {form.label}: the keys differ from the data's"


def check_bad_inputs(name: str, folder: Path) -> None:
    """Bad input of the kind (:attr:`embedkit.kinds.Sample.bad_inputs`: an empty file, a
    missing one ...) is refused with a clear error naming the problem."""
    _embeddings_only(name)
    sample = _sample(name)
    ran = 0
    for bad in sample.bad_inputs:
        if not all(_declares(name, k) for k in bad.params):
            continue
        params = {**_params(name), **bad.params}
        with _raises(bad.error, bad.match, f"{name} on {bad.label}"):
            train(name, bad.make(Path(folder)), **params)
        ran += 1
    if not ran:
        raise CheckSkipped(f"input kind {get_method(name).input_kind!r} registers no bad input {name} applies to")


#: every check, by name; those of DEVICE_CHECKS take ``device=``, check_round_trip ``folder`` and ``ext``
CHECKS: dict[str, Callable] = {
    "parameter_table": check_parameter_table,
    "fit_result": check_fit_result,
    "vectors": check_vectors,
    "seed_repeatable": check_seed_repeatable,
    "round_trip": check_round_trip,
    "bad_parameters": check_bad_parameters,
    "input_forms": check_input_forms,
    "bad_inputs": check_bad_inputs,
}
DEVICE_CHECKS = ("fit_result", "vectors", "seed_repeatable", "round_trip")


def check_method(name: str, devices: tuple[str, ...] | None = None, folder: str | Path | None = None) -> dict:
    """Run every check of the contract on method ``name`` (built in or a plugin).

    ``devices``: where the device-dependent checks run; default "cpu", and "cuda" when a CUDA
    device is present. ``folder``: where files are written (default: a temporary folder,
    removed after). Returns ``{"check[device]": "passed" | "skipped: reason"}``; raises
    AssertionError listing every check that failed and why.
    """
    get_method(name)  # an unknown name or a broken plugin fails here, with its own message
    devices = tuple(devices) if devices else ("cpu", "cuda") if cuda_available() else ("cpu",)
    report: dict[str, str] = {}
    failed: list[str] = []
    with contextlib.ExitStack() as stack:
        if folder is None:
            folder = stack.enter_context(tempfile.TemporaryDirectory(prefix=f"embedkit-check-{name}-"))
        folder = Path(folder)
        runs: list[tuple[str, Callable, dict]] = []
        for check, fn in CHECKS.items():
            if check == "round_trip":
                runs += [(f"{check}{ext}[{d}]", fn, {"folder": folder, "ext": ext, "device": d})
                         for d in devices for ext in EXPORT_FORMATS]
            elif check in DEVICE_CHECKS:
                runs += [(f"{check}[{d}]", fn, {"device": d}) for d in devices]
            elif check in ("input_forms", "bad_inputs"):
                runs.append((check, fn, {"folder": folder}))
            else:
                runs.append((check, fn, {}))
        for label, fn, kw in runs:
            try:
                fn(name, **kw)
            except CheckSkipped as exc:
                report[label] = f"skipped: {exc}"
            except Exception as exc:  # noqa: BLE001  (every failure is reported, with its check)
                report[label] = f"FAILED: {type(exc).__name__}: {exc}"
                failed.append(f"{label}: {type(exc).__name__}: {exc}")
            else:
                report[label] = "passed"
    if failed:
        raise AssertionError(f"{name} breaks the embedkit contract in {len(failed)} check(s):\n  "
                             + "\n  ".join(failed))
    return report
