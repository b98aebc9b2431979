"""The shape every evaluator returns."""
from __future__ import annotations


class Metrics(dict):
    """A dict of metric name -> value with a ``primary`` metric name.

    It is a plain dict for JSON and printing; ``metrics.primary_value`` is the
    headline figure.
    """

    def __init__(self, values: dict, primary: str):
        super().__init__(values)
        if primary not in self:
            raise KeyError(primary)
        self.primary = primary

    @property
    def primary_value(self) -> float:
        return self[self.primary]

    def __repr__(self) -> str:
        body = ", ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in self.items())
        return f"Metrics({body}; primary={self.primary})"
