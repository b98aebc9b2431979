"""The method registry and the two entry points, :func:`train` and :func:`load`.

A method is one class in one file that subclasses :class:`Method`, declares its
hyper-parameters once in ``params`` and registers itself with :func:`register`
under its public name. ``train(name, data, **params)`` and the CLI both read
that table.

Methods from other packages are plugins: a distribution declares its ``Method`` subclass in the
``embedkit.methods`` entry-point group (``toy = "toy_package:Toy"`` in its pyproject.toml). The
group is read on the first lookup that needs it (``methods()``, or ``get_method`` of a name that is
not built in), and a plugin's module is imported when its method is first asked for; a plugin
that fails is reported by name (:class:`~embedkit.exceptions.PluginError` /
:class:`~embedkit.exceptions.PluginWarning`) and the other methods stay usable.
"""
from __future__ import annotations

import logging
import time
import warnings
from typing import Any, ClassVar

from ._validation import Param, validate
from .exceptions import NotFittedError, PluginError, PluginWarning, UnknownMethodError
from .io import load as _load

__all__ = ["Method", "Param", "register", "unregister", "methods", "get_method", "plugin_origin", "train", "load",
           "ENTRY_POINT_GROUP"]

logger = logging.getLogger("embedkit")

#: the entry-point group a plugin package declares its methods in (``name = "module:Class"``)
ENTRY_POINT_GROUP = "embedkit.methods"

_REGISTRY: dict[str, type[Method]] = {}
#: plugin name -> its entry point, until the method is first asked for
_PLUGINS: dict[str, Any] = {}
#: plugin name -> "distribution version" (kept once the plugin is loaded)
_ORIGINS: dict[str, str] = {}
#: plugin name -> the error its loading raised (raised again on the next lookup)
_BROKEN: dict[str, PluginError] = {}
_scanned = False


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


def unregister(name: str) -> None:
    """Remove method ``name`` from this process's registry (built in, registered, or a loaded
    plugin): a notebook that redefines a class calls it before registering the new one."""
    if name not in _REGISTRY:
        raise UnknownMethodError(f"unknown method {name!r}; choose one of: {', '.join(methods())}")
    del _REGISTRY[name]


def methods() -> list[str]:
    """Names of every registered method, built in or declared by an installed plugin, sorted."""
    _scan_plugins()
    return sorted({*_REGISTRY, *_PLUGINS})


def get_method(name: str) -> type[Method]:
    """The class registered under ``name``; an unknown name lists the choices.

    A plugin's module is imported here, on its first lookup; if that fails, or the entry point
    does not name a :class:`Method` subclass called ``name``, :class:`PluginError` says which
    plugin and why.
    """
    cls = _REGISTRY.get(name)
    if cls is not None:
        return cls
    _scan_plugins()
    if name in _PLUGINS:
        return _load_plugin(name)
    raise UnknownMethodError(f"unknown method {name!r}; choose one of: {', '.join(methods())}")


def plugin_origin(name: str) -> str | None:
    """``"distribution version"`` of the installed package that declares method ``name``; None for a
    method registered in this process (the built-in ones)."""
    _scan_plugins()
    return _ORIGINS.get(name)


def _origin(ep) -> str:
    dist = getattr(ep, "dist", None)
    return f"{dist.name} {dist.version}" if dist is not None else "an unknown distribution"


def _scan_plugins() -> None:
    """Read the ``embedkit.methods`` entry points once (their modules are not imported here)."""
    global _scanned
    if _scanned:
        return
    _scanned = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        where = f"plugin method {ep.name!r} ({ep.value}, from {_origin(ep)})"
        if ep.name in _REGISTRY:
            taken = _REGISTRY[ep.name]
            warnings.warn(f"{where} is refused: {ep.name!r} is the built-in method {taken.__module__}."
                          f"{taken.__qualname__}; the plugin must choose another name", PluginWarning, stacklevel=3)
            continue
        if ep.name in _PLUGINS:
            first = _PLUGINS[ep.name]
            if first.value != ep.value:
                warnings.warn(f"{where} is refused: {first.value} from {_ORIGINS[ep.name]} declares the same "
                              "name; uninstall one of them", PluginWarning, stacklevel=3)
            continue
        _PLUGINS[ep.name] = ep
        _ORIGINS[ep.name] = _origin(ep)


def _load_plugin(name: str) -> type[Method]:
    if name in _BROKEN:
        raise _BROKEN[name]
    ep = _PLUGINS[name]
    where = f"plugin method {name!r} ({ep.value}, from {_ORIGINS[name]})"
    try:
        obj = ep.load()
    except Exception as exc:  # any error of foreign code: reported with the plugin's name
        err = PluginError(f"{where} could not be loaded: {type(exc).__name__}: {exc}")
        err.__cause__ = exc
    else:
        if not (isinstance(obj, type) and issubclass(obj, Method)):
            err = PluginError(f"{where} names {obj!r}, which is not a subclass of embedkit.api.Method")
        elif obj.name != name:
            err = PluginError(f"{where}: the class's name is {obj.name!r}; set name = {name!r} in the class "
                              "or rename the entry point")
        else:
            _REGISTRY[name] = obj
            del _PLUGINS[name]
            return obj
    _BROKEN[name] = err
    raise err


def _forget_plugins() -> None:
    """Drop every plugin method and read the entry points again on the next lookup (for tests that
    install and remove a plugin in one process)."""
    global _scanned
    for name in list(_ORIGINS):
        _REGISTRY.pop(name, None)
    _PLUGINS.clear()
    _ORIGINS.clear()
    _BROKEN.clear()
    _scanned = False


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
