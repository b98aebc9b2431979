"""One resolver for ``device="auto"|"cpu"|"cuda"|"cuda:N"``."""
from __future__ import annotations

import contextlib
import os
import re
import sys

from .exceptions import InvalidParameterError

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def _gpu_driver_present() -> bool:
    """Whether a GPU kernel driver is loaded (NVIDIA, or AMD for ROCm builds of torch).

    Without one torch cannot see a GPU, so the CPU path need not import torch
    (about 170 MB of resident memory).
    """
    return any(os.path.exists(p) for p in ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/kfd"))


def resolve_device(device=None, *, method: str = "embedkit") -> str:
    """Return the canonical device string for ``device``: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.

    ``"auto"`` (or ``None``) is ``cuda`` when torch sees a CUDA device and ``cpu``
    otherwise. Asking for ``cuda`` on a machine without one is an error that says so.
    torch is only imported when a GPU could be there.
    """
    if device is None:
        device = "auto"
    if not isinstance(device, str) and type(device).__name__ == "device":  # a torch.device
        device = str(device)
    if device == "cpu" or (device == "auto" and "torch" not in sys.modules and not _gpu_driver_present()):
        return "cpu"
    import torch

    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise InvalidParameterError(method, "device", "'auto', 'cpu', 'cuda' or 'cuda:N'", device)
    from .distributed import local_device

    if device == "auto":
        return local_device("cuda") if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InvalidParameterError(
                method, "device", "'auto' or 'cpu' on this machine (no CUDA device is visible)", device,
                hint="Install a CUDA build of torch or pass device='cpu'",
            )
        idx = int(device.split(":")[1]) if ":" in device else 0
        if idx >= torch.cuda.device_count():
            raise InvalidParameterError(
                method, "device", f"cuda:0..cuda:{torch.cuda.device_count() - 1}", device
            )
    return local_device(device)


#: torch CPU threads when a method is given ``workers=0`` (auto); see :func:`cpu_threads`
TORCH_AUTO_THREADS = 1


@contextlib.contextmanager
def cpu_threads(workers: int, device: str):
    """Run torch with ``workers`` threads on the CPU, restoring torch's setting after.

    ``workers=0`` (auto) is :data:`TORCH_AUTO_THREADS`: one thread. Measured on this project's
    2-core machine (benchmarks/thread_defaults.py, docs/benchmarks.md "Thread defaults"), torch on
    all cores was 2.7-18x slower than on one for mf, bpr, als, gcn and gat whenever anything else
    ran, and the batches of these methods are too small for a second thread to pay off when
    nothing did. Pass ``workers=N`` to use N threads.
    """
    if device != "cpu":
        yield
        return
    import torch

    workers = workers or TORCH_AUTO_THREADS
    before = torch.get_num_threads()
    torch.set_num_threads(workers)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def torch_generator(seed: int, device: str):
    import torch

    g = torch.Generator(device=device)
    g.manual_seed(int(seed))
    return g
