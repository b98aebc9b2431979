"""The method registry and the two entry points, :func:`train` and :func:`load`.

A method is one class in one file that subclasses :class:`Method`, declares its
hyper-parameters once in ``params`` and registers itself with :func:`register`
under its public name. ``train(name, data, **params)`` and the CLI both read
that table.
"""
from __future__ import annotations

import logging
import time
from typing import Any, ClassVar

from ._validation import Param, validate
from .exceptions import NotFittedError, UnknownMethodError
from .io import load as _load

logger = logging.getLogger("embedkit")

_REGISTRY: dict[str, type[Method]] = {}


class Method:
    """Base class of every embedding method (the estimator contract).

    ``__init__`` takes keyword hyper-parameters only and stores them; nothing is
    checked or computed until :meth:`fit`, which validates them against
    ``params`` and returns the result (an :class:`~embedkit.Embeddings` or a
    result object holding several). Fitted state ends in ``_``.
    """

    name: ClassVar[str] = ""
    family: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    #: what ``fit`` takes: "graph", "text", "interactions", ...
    input_kind: ClassVar[str] = ""
    #: other input kinds ``fit`` also takes (``svd`` embeds text and graphs)
    also_accepts: ClassVar[tuple[str, ...]] = ()
    #: what ``fit`` returns: "embeddings" (an Embeddings, or a result holding several), or
    #: "tokenizer" (``bpe``: a :class:`~embedkit.text.bpe.Tokenizer`, no vectors)
    returns: ClassVar[str] = "embeddings"
    params: ClassVar[tuple[Param, ...]] = ()
    #: small settings that still run every code path (the contract suite and doctests use them)
    quick_params: ClassVar[dict[str, Any]] = {}

    def __init__(self, **params: Any):
        self._given = dict(params)

    def get_params(self) -> dict[str, Any]:
        """The validated parameters with defaults filled in."""
        return validate(self.name, self.params, self._given)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._given.items())
        return f"{type(self).__name__}({args})"

    def fit(self, data: Any):
        params = self.get_params()
        given = ", ".join(f"{k}={v!r}" for k, v in params.items() if k in self._given and k != "verbose")
        logger.info("%s: fitting %s%s", self.name, _describe(data), f" with {given}" if given else " with the defaults")
        start = time.perf_counter()
        result = self._fit(data, **params)
        elapsed = time.perf_counter() - start
        self.result_ = result
        self.fit_time_ = elapsed
        meta = getattr(result, "meta", None)
        if isinstance(meta, dict):
            meta.setdefault("method", self.name)
            meta.setdefault("params", {k: v for k, v in params.items() if _jsonable(v)})
            meta.setdefault("seed", params.get("seed"))
            meta["training_time_s"] = round(elapsed, 4)
        size = f" -> {len(result)} x {result.dim}" if hasattr(result, "dim") and hasattr(result, "__len__") else ""
        logger.info("%s: fitted in %.2fs%s", self.name, elapsed, size)
        return result

    def _fit(self, data: Any, **params: Any):  # pragma: no cover - abstract
        raise NotImplementedError

    @property
    def fitted_result(self):
        if not hasattr(self, "result_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit(data) first")
        return self.result_


def _jsonable(v: Any) -> bool:
    return v is None or isinstance(v, (bool, int, float, str))


def register(cls: type[Method]) -> type[Method]:
    """Class decorator: register ``cls`` under ``cls.name``."""
    if not cls.name:
        raise TypeError(f"{cls.__name__} has no public name")
    if cls.name in _REGISTRY and _REGISTRY[cls.name] is not cls:
        raise TypeError(f"a method is already registered as {cls.name!r}: {_REGISTRY[cls.name].__name__}")
    _REGISTRY[cls.name] = cls
    return cls


def methods() -> list[str]:
    """Names of every registered method, sorted."""
    return sorted(_REGISTRY)


def get_method(name: str) -> type[Method]:
    """The class registered under ``name``; an unknown name lists the choices."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownMethodError(
            f"unknown method {name!r}; choose one of: {', '.join(methods())}"
        ) from None


def train(name: str, data: Any, **params: Any):
    """Train method ``name`` on ``data`` with keyword hyper-parameters.

    ``data`` is coerced by the method (a ``Graph`` or anything
    :func:`embedkit.read_graph` accepts, for graph methods). Returns what the
    method's ``fit`` returns, usually :class:`~embedkit.Embeddings`.

    >>> import embedkit as ek
    >>> emb = ek.train("deepwalk", ek.datasets.load("karate"), dim=8, epochs=1,
    ...                walks_per_node=2, walk_length=10, seed=0, verbose=False)
    >>> emb.vectors.shape
    (34, 8)
    """
    return get_method(name)(**params).fit(data)


def load(path, **kwargs):
    """Load vectors from any format embedkit reads (see :func:`embedkit.io.load`)."""
    return _load(path, **kwargs)


def _describe(data: Any) -> str:
    """A short description of a method's input for the log: its repr when short (Graph, Corpus,
    Interactions say their sizes), else its type."""
    text = repr(data) if not isinstance(data, (list, tuple)) else f"a {type(data).__name__} of {len(data)}"
    return text if len(text) <= 160 else type(data).__name__
