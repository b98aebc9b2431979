"""What the benchmark child scripts share: peak resident memory and their options
(stdlib only: it runs in embedkit's venv and in the peers' venv)."""
from __future__ import annotations

import resource


def rss_mb() -> float:
    """Peak RSS of this process so far (VmHWM), MB.

    Not ``getrusage(RUSAGE_SELF).ru_maxrss``: Linux carries the parent's RSS over
    into it at fork/exec, so it never reads below the launching process's size.
    """
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def add_node2vec_args(ap) -> None:
    """The options both child scripts take: input/output and the shared node2vec settings."""
    ap.add_argument("--input", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--p", type=float, default=1.0)
    ap.add_argument("--q", type=float, default=1.0)
    ap.add_argument("--dim", type=int, default=128)
    ap.add_argument("--num-walks", type=int, default=10)
    ap.add_argument("--walk-length", type=int, default=80)
    ap.add_argument("--window", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)


def parse_params(items: list[str]) -> dict:
    """``["dim=64", "backend=torch"]`` -> ``{"dim": 64, "backend": "torch"}`` (Python literals, else strings)."""
    import ast

    out = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            out[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            out[name] = value
    return out
