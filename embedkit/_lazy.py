"""A module imported on first attribute access, for heavy dependencies used only inside functions
(``sp = lazy_module("scipy.sparse")``: ``import embedkit`` does not pay scipy's import)."""
from __future__ import annotations

import importlib


class lazy_module:
    """Stands for the module ``name``; the first attribute read imports it."""

    __slots__ = ("_name",)

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        return getattr(importlib.import_module(self._name), attr)

    def __repr__(self) -> str:
        return f"<module {self._name!r}, imported on first use>"
