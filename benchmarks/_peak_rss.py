"""Peak resident memory of the current process, for the benchmark child scripts
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
