"""One reader of a named matrix in a MATLAB ``.mat`` file (BlogCatalog, PPI and POS ship their
graph as ``network`` and their labels as ``group``), with errors that name the file."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..exceptions import InputFormatError


def mat_matrix(path: Path, name: str, what: str):
    """The matrix ``name`` of the ``.mat`` file ``path`` as scipy CSR; ``what`` says what it should
    hold ("adjacency", "(nodes x labels)") in the errors: an unreadable file, a missing or a
    non-numeric matrix."""
    import scipy.io
    import scipy.sparse as sp

    try:
        mat = scipy.io.loadmat(str(path))
    except Exception as exc:  # noqa: BLE001 - scipy raises many types (ValueError, TypeError, ...) for a corrupt file
        raise InputFormatError(f"not a readable MATLAB file ({type(exc).__name__}: {exc})", path) from None
    if name not in mat:
        keys = [k for k in mat if not k.startswith("__")]
        raise InputFormatError(f"no {name!r} {what} matrix in the .mat file (it holds: {', '.join(keys) or 'nothing'})",
                               path)
    try:
        m = sp.csr_matrix(mat[name])
        if m.ndim != 2 or not np.issubdtype(m.dtype, np.number):
            raise ValueError(f"a {m.dtype} array of shape {m.shape}")
    except (ValueError, TypeError) as exc:
        raise InputFormatError(f"{name!r} is not a numeric {what} matrix ({exc})", path) from None
    return m
