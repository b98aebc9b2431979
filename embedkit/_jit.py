"""numba, imported when a kernel first runs rather than at ``import embedkit`` (importing numba
takes about a second and a half; most sessions that import embedkit never run a kernel).

Kernel modules write ``from .._jit import njit, prange`` and decorate as with numba
(``@njit(cache=True, parallel=True)``, ``for i in prange(n)``). Until the first call of any kernel,
a kernel is a :class:`LazyKernel`. The first call imports numba, turns every lazy kernel into a
numba dispatcher (compiled on its own first call, as numba does) and rebinds the globals of the
modules that define kernels (kernels and ``prange``) to numba's objects, so that kernels calling
kernels — inlined or not — see what numba expects. Kernels defined after that are numba's directly.
"""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable

_LOCK = threading.RLock()
_PENDING: list["LazyKernel"] = []
_numba: Any = None


def prange(*args):
    """``range`` in plain Python; numba's ``prange`` inside a kernel (rebound when numba loads)."""
    return range(*args)


class LazyKernel:
    """A function to compile with ``numba.njit(**options)`` once numba is imported."""

    def __init__(self, fn: Callable, options: dict):
        functools.update_wrapper(self, fn)
        self.py_func, self.options, self._dispatcher = fn, options, None

    @property
    def dispatcher(self):
        if self._dispatcher is None:
            load_numba()
        return self._dispatcher

    def __call__(self, *args, **kwargs):
        return self.dispatcher(*args, **kwargs)

    def __getattr__(self, name: str):  # numba's dispatcher attributes (signatures, inspect_types, ...)
        if name.startswith("__") or name in ("py_func", "options", "_dispatcher"):
            raise AttributeError(name)
        return getattr(self.dispatcher, name)

    def __repr__(self) -> str:
        return f"<kernel {self.py_func.__module__}.{self.py_func.__qualname__} (numba not imported yet)>"


def njit(*args, **options):
    """``numba.njit``, deferred: ``@njit`` or ``@njit(**options)``."""
    if len(args) == 1 and callable(args[0]) and not options:
        return _wrap(args[0], {})
    if args:
        raise TypeError("njit takes the function or keyword options only")
    return lambda fn: _wrap(fn, options)


def _wrap(fn: Callable, options: dict):
    with _LOCK:
        if _numba is not None:
            if fn.__globals__.get("prange") is prange:
                fn.__globals__["prange"] = _numba.prange
            return _numba.njit(**options)(fn)
        kernel = LazyKernel(fn, options)
        _PENDING.append(kernel)
        return kernel


#: said when the first embedkit kernel compiles (numba's cache then holds it for later runs)
FIRST_RUN_NOTE = ("compiling embedkit's numba kernels for this machine: the first run of a method only, "
                  "typically 10-60 s; later runs load them from numba's cache")


class _CompileLog:
    """Listens to numba's compile events: says when the first embedkit kernel compiles and, at the
    end of the process, how long compiling took. A kernel loaded from numba's cache fires no
    compile event, so a later run says nothing."""

    def __init__(self):
        self.depth, self.started, self.total, self.kernels = 0, 0.0, 0.0, 0

    @staticmethod
    def _ours(ev) -> bool:
        fn = getattr((ev.data or {}).get("dispatcher"), "py_func", None)
        return getattr(fn, "__module__", "").startswith("embedkit")

    def on_start(self, ev) -> None:
        import logging
        import time

        if not self._ours(ev):
            return
        if self.depth == 0:
            if self.kernels == 0:
                logging.getLogger("embedkit").warning(FIRST_RUN_NOTE)
                import atexit

                atexit.register(self.summary)
            self.started = time.perf_counter()
        self.depth += 1

    def on_end(self, ev) -> None:
        import time

        if not self._ours(ev):
            return
        self.depth -= 1
        self.kernels += 1
        if self.depth == 0:
            self.total += time.perf_counter() - self.started

    def summary(self) -> None:
        import logging

        logging.getLogger("embedkit").warning("compiled %d numba kernels in %.1f s; cached for later runs",
                                              self.kernels, self.total)


def _listen_to_compilation(numba) -> None:
    try:
        from numba.core import event

        log = _CompileLog()

        class _Listener(event.Listener):
            def on_start(self, ev):
                log.on_start(ev)

            def on_end(self, ev):
                log.on_end(ev)

        event.register("numba:compile", _Listener())
    except (ImportError, AttributeError):  # another numba's internals: compile silently, as before
        pass


def load_numba():
    """Import numba and make every lazy kernel a numba dispatcher (see the module docstring)."""
    global _numba
    with _LOCK:
        if _numba is None:
            import numba

            _numba = numba
            _listen_to_compilation(numba)
        pending, _PENDING[:] = list(_PENDING), []
        for kernel in pending:
            kernel._dispatcher = _numba.njit(**kernel.options)(kernel.py_func)
        modules = {id(k.py_func.__globals__): k.py_func.__globals__ for k in pending}
        for namespace in modules.values():
            for name, value in list(namespace.items()):
                if isinstance(value, LazyKernel) and value._dispatcher is not None:
                    namespace[name] = value._dispatcher
                elif value is prange:
                    namespace[name] = _numba.prange
    return _numba
