"""Checkpoints of a training run: one folder per checkpoint inside the user's folder.

A checkpoint is a folder ``checkpoint-e<epoch>-p<position>`` holding ``state.npz`` (the
method's arrays, read back with ``allow_pickle=False``) and ``meta.json`` (where the run
stands, its history, the fingerprint of the data and parameters, and the method's small
JSON values). It is written into a temporary folder and renamed into place, so a kill
during the write leaves the previous checkpoint whole; the two newest are kept.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
from pathlib import Path

import numpy as np

from .._atomic import atomic_path
from .._version import __version__
from ..exceptions import CheckpointError

logger = logging.getLogger("embedkit")

FORMAT = "embedkit-checkpoint/1"
_NAME = re.compile(r"^checkpoint-e(\d{6})-p(\d{12})$")
#: checkpoints kept in the folder (the newest, and the one before it in case the newest is damaged)
KEEP = 2


def digest(*parts) -> str:
    """A short hash of numpy arrays (their dtype, shape and bytes) and JSON-able values."""
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        if isinstance(part, np.ndarray):
            a = np.ascontiguousarray(part)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(memoryview(a).cast("B"))
        else:
            h.update(json.dumps(part, sort_keys=True, default=str).encode())
    return h.hexdigest()


class Checkpoints:
    """The checkpoints of one run in folder ``root`` for ``fingerprint`` (a JSON-able dict:
    ``method``, ``params`` and ``data``, each compared on resume)."""

    def __init__(self, root: str | os.PathLike, fingerprint: dict):
        self.root = Path(root)
        self.fingerprint = fingerprint
        if self.root.exists() and not self.root.is_dir():
            raise CheckpointError(f"{self.root}: the checkpoint path is a file, not a folder")
        self.root.mkdir(parents=True, exist_ok=True)
        if not os.access(self.root, os.W_OK):
            raise CheckpointError(f"{self.root}: the checkpoint folder is not writable")

    def _existing(self) -> list[tuple[tuple[int, int], Path]]:
        found = []
        for entry in self.root.iterdir():
            m = _NAME.match(entry.name)
            if m and entry.is_dir():
                found.append(((int(m.group(1)), int(m.group(2))), entry))
        return sorted(found)

    def latest(self) -> tuple[dict, dict, Path] | None:
        """``(meta, state, path)`` of the newest readable checkpoint, or None when there is none.

        A checkpoint for other data or parameters raises :class:`CheckpointError` naming the
        difference; a damaged newest checkpoint is skipped (with a warning) for the one before.
        """
        for _, path in reversed(self._existing()):
            try:
                meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
                if meta.get("format") != FORMAT:
                    raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT!r}")
            except (OSError, ValueError) as exc:
                logger.warning("%s: skipped a damaged checkpoint (%s)", path, exc)
                continue
            self._check(meta.get("fingerprint", {}), path)
            try:
                with np.load(path / "state.npz", allow_pickle=False) as z:
                    arrays = {k: z[k] for k in z.files}
            except (OSError, ValueError) as exc:
                logger.warning("%s: skipped a damaged checkpoint (%s)", path, exc)
                continue
            state = dict(meta.pop("values", {}))
            state.update(arrays)
            return meta, state, path
        return None

    def _check(self, found: dict, path: Path) -> None:
        want = self.fingerprint
        problems = []
        if found.get("method") != want.get("method"):
            problems.append(f"method {found.get('method')!r} (this run: {want.get('method')!r})")
        fp, wp = found.get("params", {}), want.get("params", {})
        for k in sorted(set(fp) | set(wp)):
            if fp.get(k, "<absent>") != wp.get(k, "<absent>"):
                problems.append(f"{k}={fp.get(k, '<absent>')!r} (this run: {wp.get(k, '<absent>')!r})")
        fd, wd = found.get("data", {}), want.get("data", {})
        if fd.get("digest") != wd.get("digest"):
            problems.append(f"other data: {fd.get('description', '?')} (this run: {wd.get('description', '?')})")
        if problems:
            raise CheckpointError(f"{path}: this checkpoint was written by another run and cannot be resumed: "
                                  + "; ".join(problems) + ". Use another --checkpoint folder, or remove this one "
                                  "to start over")

    def save(self, epoch: int, position: int, state: dict, meta: dict) -> Path:
        """Write a checkpoint whole (or not at all) and drop all but the :data:`KEEP` newest."""
        path = self.root / f"checkpoint-e{epoch:06d}-p{position:012d}"
        arrays = {k: np.asarray(v) for k, v in state.items() if isinstance(v, np.ndarray)}
        values = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
        body = {"format": FORMAT, "library_version": __version__, "fingerprint": self.fingerprint,
                "epoch": epoch, "position": position, **meta, "values": values}
        with atomic_path(path, is_dir=True) as tmp:
            with open(tmp / "state.npz", "wb") as f:
                np.savez(f, **arrays)
                f.flush()
                os.fsync(f.fileno())
            with open(tmp / "meta.json", "w", encoding="utf-8") as f:
                json.dump(body, f, default=_json_default)
                f.flush()
                os.fsync(f.fileno())
        for _, old in self._existing()[:-KEEP]:
            shutil.rmtree(old, ignore_errors=True)
        return path


def _json_default(v):
    if isinstance(v, np.generic):
        return v.item()
    raise TypeError(f"not JSON-able in a checkpoint: {type(v).__name__}")
