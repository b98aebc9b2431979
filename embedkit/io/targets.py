"""Databases as export targets, named by URL: one small registry, scheme -> module.

| scheme | module | what it writes |
| --- | --- | --- |
| ``postgresql://``, ``postgres://`` | :mod:`embedkit.io.postgres` | a PostgreSQL table with a pgvector column and an HNSW/IVFFlat index |
| ``lancedb://DIR`` | :mod:`embedkit.io.lancedb_target` | a LanceDB table (embedded, Arrow) with an ANN index |

Each module has ``PARAMS`` (its options, declared once: the library checks them and the
CLI builds ``--table``, ``--metric``... from them), ``write(emb, url, **params)`` and
``read(url, *, table, limit)``. :func:`embedkit.io.export` and :func:`embedkit.io.load`
send a URL here before treating it as a path. Passwords never reach a log line or an
error message: :func:`mask_url` replaces them first.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from . import lancedb_target, postgres
from ..exceptions import InvalidParameterError

__all__ = ["URL_TARGETS", "is_url", "scheme_of", "target_for", "mask_url"]

#: URL scheme -> the module that writes and reads it
URL_TARGETS = {
    "postgresql": postgres,
    "postgres": postgres,
    "lancedb": lancedb_target,
}

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")


def scheme_of(path) -> str | None:
    """``"postgresql"`` for ``"postgresql://..."``; None for a plain path (``C:/x`` included)."""
    if not isinstance(path, str):
        return None
    m = _SCHEME.match(path)
    return m.group(1).lower() if m else None


def is_url(path) -> bool:
    """True when ``path`` is a string of the form ``scheme://...`` (a known scheme or not)."""
    return scheme_of(path) is not None


def target_for(url: str, where: str = "export"):
    """The module registered for ``url``'s scheme, or InvalidParameterError listing the schemes."""
    scheme = scheme_of(url)
    if scheme not in URL_TARGETS:
        raise InvalidParameterError(where, "path", "a file path or a URL starting with one of " +
                                    ", ".join(f"{s}://" for s in URL_TARGETS), mask_url(url))
    return URL_TARGETS[scheme]


def mask_url(url: str) -> str:
    """``url`` with its password replaced by ``***`` (also a ``password=`` query parameter),
    safe to print or log."""
    url = str(url)
    try:
        netloc = urlsplit(url).netloc
    except ValueError:
        netloc = ""
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        if ":" in userinfo:
            url = url.replace(netloc, userinfo.split(":", 1)[0] + ":***@" + host, 1)
    return re.sub(r"(?i)([?&]password=)[^&#]*", r"\1***", url)
