"""One resolver for ``device="auto"|"cpu"|"cuda"|"cuda:N"``."""
from __future__ import annotations

import re

from .exceptions import InvalidParameterError

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda(:\d+)?|mps)$")


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def resolve_device(device: str | None = "auto", *, method: str = "embedkit"):
    """Return a :class:`torch.device` for ``device``.

    ``"auto"`` (or ``None``) is ``cuda`` when a CUDA device is present and ``cpu``
    otherwise. Asking for ``cuda`` on a machine without one is an error that says so.
    """
    import torch

    if device is None:
        device = "auto"
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str) or not _DEVICE_RE.match(device):
        raise InvalidParameterError(method, "device", "'auto', 'cpu', 'cuda' or 'cuda:N'", device)
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
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
    return torch.device(device)
