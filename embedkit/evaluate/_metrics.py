"""The shape every evaluator returns."""
from __future__ import annotations

from ..exceptions import KeyNotFoundError


class Metrics(dict):
    """A dict of metric name -> value with a ``primary`` metric name.

    It is a plain dict for JSON and printing; ``metrics.primary_value`` is the
    headline figure.
    """

    def __init__(self, values: dict, primary: str):
        super().__init__(values)
        if primary not in self:
            raise KeyNotFoundError(f"the primary metric {primary!r} is not one of the metrics", key=primary,
                                   keys=list(self))
        self.primary = primary

    @property
    def primary_value(self) -> float:
        return self[self.primary]

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in self.items())
        return f"Metrics({body}; primary={self.primary})"
