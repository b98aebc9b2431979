"""The training loop's part of ``embedkit train``: ``--history FILE`` and the summary rows
(epochs, loss, where the run resumed from)."""
from __future__ import annotations

import json
from pathlib import Path

from embedkit._atomic import atomic_open


def write_history(result, path: Path) -> None:
    """One JSON object per epoch (the result's ``history``), written whole or not at all."""
    rows = getattr(result, "history", None) or result.meta.get("history", [])
    with atomic_open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")


def training_rows(meta: dict, history_path=None) -> list[tuple[str, str]]:
    """Summary rows of a run on the training loop: epochs and loss, best epoch, resume."""
    history = meta.get("history") or []
    info = meta.get("training") or {}
    rows = []
    if info.get("resumed_from"):
        rows.append(("resumed from", str(info["resumed_from"])))
    if history and "loss" in history[0]:
        first, last = history[0]["loss"], history[-1]["loss"]
        text = f"{len(history)}, loss {first:.4g} -> {last:.4g}"
        if info.get("best_epoch") is not None and any(k.startswith("val_") for k in history[-1]):
            text += f", best epoch {info['best_epoch']}"
        if info.get("early_stopped"):
            text += ", stopped early"
        if info.get("stopped_by_callback"):
            text += ", stopped by a callback"
        rows.append(("epochs", text))
    standard = {"epoch", "loss", "seconds", "elapsed_s"}
    extra = {k: v for k, v in (history[-1] if history else {}).items()
             if k not in standard and not k.endswith("_per_s") and not k.startswith("val_")}
    if extra:  # a method's own per-epoch figures (triplet: share of active triplets; bpr: ranked right)
        rows.append(("last epoch", ", ".join(f"{k.replace('_', ' ')} {_figure(k, v)}" for k, v in extra.items())))
    if info.get("checkpoints_written"):
        rows.append(("checkpoints", f"{info['checkpoints_written']} written in {info['checkpoint_s']:.2f} s"))
    if history_path:
        rows.append(("history", str(history_path)))
    return rows


def _figure(name: str, value) -> str:
    if isinstance(value, float) and name in ("active", "ranked_right"):
        return f"{value:.1%}"
    return f"{value:.4g}" if isinstance(value, float) else str(value)
