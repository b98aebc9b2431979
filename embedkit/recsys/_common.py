"""What the recommenders share: the parameter rows they have in common, reading the
input once, building the :class:`FactorModel`, and the backend helpers."""
from __future__ import annotations

import contextlib
import logging

import numpy as np

from .._validation import VERBOSE, Param
from .._validation import device_param as _device_param
from .._validation import seed_param as _seed_param
from .._validation import workers_param as _workers_param
from ..data.interactions import Interactions, read_interactions
from ..embeddings import Embeddings
from ..exceptions import InvalidParameterError
from .model import FactorModel

logger = logging.getLogger("embedkit")

BACKENDS = ("auto", "implicit", "torch")


def seed_param() -> Param:
    return _seed_param("random seed (repeatable on the CPU; the implicit BPR backend also needs "
                       "workers=1 for identical vectors)")


def device_param() -> Param:
    return _device_param("the torch backend runs there")


def workers_param() -> Param:
    return _workers_param("CPU threads of the implicit backend (0 = all cores) and of torch on the CPU (0 = auto: 1, the "
                          "fastest measured on a 2-core machine)")


def verbose_param() -> Param:
    return VERBOSE


def interactions_of(data, method: str) -> Interactions:
    """``data`` as :class:`Interactions` (anything :func:`~embedkit.read_interactions` takes)."""
    inter = read_interactions(data)
    if inter.nnz == 0:
        from ..exceptions import EmptyInputError

        raise EmptyInputError(f"{method}: the interactions are empty")
    return inter


def make_model(inter: Interactions, user_vectors, item_vectors, meta: dict, **kw) -> FactorModel:
    return FactorModel(Embeddings(inter.users, user_vectors), Embeddings(inter.items, item_vectors),
                       seen=inter, meta=meta, **kw)


def pick_backend(name: str, backend: str, device: str, *, distributes: bool = False) -> str:
    """``auto``: implicit on the CPU, torch on a GPU. implicit's GPU build is not used.

    ``distributes``: the method's torch backend trains across processes, so under
    ``torchrun`` ``auto`` is torch and implicit is refused."""
    from ..distributed import launched

    under_torchrun = distributes and launched()
    if backend == "auto":
        return "torch" if device != "cpu" or under_torchrun else "implicit"
    if backend == "implicit" and under_torchrun:
        raise InvalidParameterError(name, "backend", "'torch' or 'auto' under torchrun", backend,
                                    hint="only the torch backend trains across processes")
    if backend == "implicit" and device != "cpu":
        raise InvalidParameterError(name, "backend", "'torch' or 'auto' on a GPU device", backend,
                                    hint="the implicit backend runs on the CPU here; pass device='cpu'")
    if backend == "implicit":
        try:
            import implicit  # noqa: F401
        except ImportError:
            raise InvalidParameterError(name, "backend", "'torch' (the implicit package is not installed)",
                                        backend, hint="pip install implicit") from None
    return backend


def show_progress(verbose: bool | None) -> bool:
    """implicit's ``show_progress``: as every bar in embedkit (:func:`embedkit._progress.show_progress`)."""
    from .._progress import show_progress as _show

    return _show(verbose)


@contextlib.contextmanager
def single_threaded_blas():
    """implicit parallelises over users itself; a multi-threaded BLAS inside it only contends
    (implicit warns about it). Limit BLAS to one thread while it fits."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        yield
        return
    with threadpool_limits(1, "blas"):
        yield


def as_float32(x) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(x, dtype=np.float32))
