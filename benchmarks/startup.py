"""Start-up time: ``import embedkit`` and ``embedkit --help`` against ``python -c "import numpy"``.

    python benchmarks/startup.py [--runs 15] [--before DIR]

Runs each command ``--runs`` times, round-robin (so a change of load hits every command alike), and
prints the median and fastest wall times and the ratio of medians to ``import numpy``, with the load
average from ``uptime`` before and after. ``--before DIR``: also time an older source tree (e.g.
``git archive <commit> | tar -x -C DIR``), imported from DIR. What each import pulls in:
``python -X importtime -c "import embedkit"``.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(cmd: list[str], env: dict | None = None) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd="/")
    return time.perf_counter() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--before", type=Path, default=None, help="an older source tree to compare with")
    args = ap.parse_args()
    py = sys.executable
    cli = str(Path(py).with_name("embedkit"))
    commands: dict[str, tuple[list[str], dict | None]] = {
        "python -c 'import numpy'": ([py, "-c", "import numpy"], None),
        "python -c 'import embedkit'": ([py, "-c", "import embedkit"], None),
        "embedkit --help": ([cli, "--help"], None),
    }
    if args.before:
        env = dict(os.environ, PYTHONPATH=str(args.before))
        commands["before: import embedkit"] = ([py, "-c", "import embedkit"], env)
        commands["before: embedkit --help"] = (
            [py, "-c", f"import sys; sys.argv = ['embedkit', '--help']; sys.path.insert(0, {str(args.before)!r}); "
                       "from cli.main import main; main()"], env)
    print("load before:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    for cmd, env in commands.values():  # warm the file cache and the bytecode
        timed(cmd, env)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, (cmd, env) in commands.items():
            times[name].append(timed(cmd, env))
    print("load after: ", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
    base = statistics.median(times["python -c 'import numpy'"])
    print(f"\n| command | median (s) | fastest (s) | x numpy (medians) |\n|---|---:|---:|---:|")
    for name, ts in times.items():
        med = statistics.median(ts)
        print(f"| `{name}` | {med:.3f} | {min(ts):.3f} | {med / base:.2f} |")
    print(f"\n{args.runs} runs each, round-robin")


if __name__ == "__main__":
    main()
