"""Optional dependencies (the extras in pyproject.toml): import on first use, and an
error that names the extra to install when the package is missing."""
from __future__ import annotations

import importlib

from .exceptions import MissingDependencyError

#: importable module -> (package on PyPI, embedkit extra that installs it)
EXTRAS = {
    "faiss": ("faiss-cpu", "index"),
    "hnswlib": ("hnswlib", "index"),
    "pyarrow": ("pyarrow", "parquet"),
    "pyarrow.parquet": ("pyarrow", "parquet"),
    "matplotlib": ("matplotlib", "plot"),
    "psycopg": ("psycopg[binary]", "postgres"),
    "pgvector.psycopg": ("pgvector", "postgres"),
    "lancedb": ("lancedb", "lancedb"),
    "umap": ("umap-learn", "explore"),
}


def require(module: str, needed_for: str):
    """Import ``module`` or raise :class:`MissingDependencyError` naming its extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        package, extra = EXTRAS[module]
        raise MissingDependencyError(package, extra, needed_for) from None


def available(module: str) -> bool:
    """True when ``module`` imports."""
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True
