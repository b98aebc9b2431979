"""Scale on one machine (issue 9): big generated inputs, embedkit next to its peer.

    .venv/bin/python benchmarks/scale_bench.py [--workloads node2vec,skipgram,als,bpr] [--data /tmp/ek-scale]

Inputs (written once by ``benchmarks/_generate.py`` into ``--data``, outside the repository):

* ``rmat.tsv``: R-MAT graph, 2**20 node ids (918,058 with an edge), 10M distinct undirected edges;
* ``zipf200m.txt``: 200M whitespace-separated tokens, Zipf-Mandelbrot over 300k word types, 1.4 GB;
* ``inter/train.tsv``, ``inter/test.tsv``: 1M users x 100k items x 20M interactions, 80/20 per user.

Each run is its own subprocess (``benchmarks/_run_scale.py``; PecanPy through
``benchmarks/_run_pecanpy.py`` in ``.venv-peers``), timed by GNU ``/usr/bin/time``
(peak RSS = VmHWM), one run at a time, with the load average before and after.
Rows:

* node2vec: embedkit (chunked walks, in memory: under the walk-memory budget), embedkit with
  ``walk_memory_mb=0`` (walks spooled to a temporary file), the pre-issue-9 pipeline
  (``embedkit-legacy``), PecanPy SparseOTF + gensim;
* skip-gram on the streamed corpus: embedkit (``read_text`` -> token ids spooled to a temporary
  file -> numba skip-gram on the memory map) and gensim ``Word2Vec(corpus_file=...)``;
* ALS and BPR: embedkit (``read_interactions``, implicit backend, ``ek.evaluate.ranking`` in
  batches of 2048 users) and implicit (pandas ``read_csv`` -> scipy CSR, ``fit``,
  ``implicit.evaluation.ranking_metrics_at_k``), both evaluated on the same 100k-user sample.

Writes ``benchmarks/out/scale_results.json`` (every run, appended per workload) and prints
markdown rows. Figures: ``docs/benchmarks.md``, section "Scale on one machine (issue 9)".
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from node2vec_vs_pecanpy import ensure_peers_venv, run_child  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")


def runs(workload: str, data: Path, a) -> list[tuple[str, list[str]]]:
    """(label, command) of every run of ``workload``."""
    child = [PY, str(HERE / "_run_scale.py"), workload, "--workers", str(a.workers)]
    if workload == "node2vec":
        settings = ["--num-walks", str(a.num_walks), "--walk-length", str(a.walk_length), "--dim", str(a.dim),
                    "--window", str(a.window), "--p", "1", "--q", str(a.q), "--input", str(data / "rmat.tsv"),
                    "--warmup-input", str(data / "warmup.tsv")]
        peers = str(ensure_peers_venv(ROOT / ".venv-peers"))
        pecan = [peers, str(HERE / "_run_pecanpy.py"), "--input", str(data / "rmat.tsv"),
                 "--output", str(HERE / "out" / "scale_pecanpy.vec"), "--warmup-input", str(data / "warmup.tsv"),
                 "--num-walks", str(a.num_walks), "--walk-length", str(a.walk_length), "--dim", str(a.dim),
                 "--window", str(a.window), "--p", "1", "--q", str(a.q), "--workers", str(a.workers)]
        return [("embedkit", child + ["--tool", "embedkit", *settings]),
                ("embedkit, walk_memory_mb=0 (spooled)", child + ["--tool", "embedkit", "--walk-memory-mb", "0",
                                                                  *settings]),
                ("embedkit before issue 9", child + ["--tool", "embedkit-legacy", *settings]),
                ("PecanPy SparseOTF + gensim", pecan)]
    if workload == "skipgram":
        settings = ["--input", str(data / "zipf200m.txt"), "--dim", "100", "--window", "5", "--epochs", "1",
                    "--min-count", "5", "--sample", "1e-3"]
        return [("embedkit", child + ["--tool", "embedkit", *settings]),
                ("gensim corpus_file", child + ["--tool", "gensim", *settings])]
    settings = ["--input", str(data / "inter"), "--dim", "64", "--iterations", str(a.iterations[workload]),
                "--eval-users", str(a.eval_users), "--k", "10"]
    return [("embedkit", child + ["--tool", "embedkit", *settings]),
            ("implicit", child + ["--tool", "implicit", *settings])]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workloads", default="node2vec,skipgram,als,bpr")
    ap.add_argument("--only", default=None, help="comma-separated labels to run (default: all rows)")
    ap.add_argument("--data", default="/tmp/ek-scale")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--num-walks", type=int, default=2)
    ap.add_argument("--walk-length", type=int, default=40)
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--window", type=int, default=5)
    ap.add_argument("--q", type=float, default=0.5)
    ap.add_argument("--als-iterations", type=int, default=15)
    ap.add_argument("--bpr-iterations", type=int, default=20)
    ap.add_argument("--eval-users", type=int, default=100_000)
    ap.add_argument("--json", default=str(HERE / "out" / "scale_results.json"))
    a = ap.parse_args()
    a.iterations = {"als": a.als_iterations, "bpr": a.bpr_iterations}
    data = Path(a.data)
    out = HERE / "out"
    out.mkdir(exist_ok=True)
    warm = data / "warmup.tsv"
    if not warm.exists():  # a small R-MAT graph for the numba warm-up of both walk engines
        import subprocess

        subprocess.run([PY, str(HERE / "_generate.py"), "graph", "--out", str(warm), "--scale", "10",
                        "--edges", "5000"], check=True, capture_output=True)
    path = Path(a.json)
    results = json.loads(path.read_text()) if path.exists() else []
    only = None if a.only is None else set(a.only.split(","))
    for w in a.workloads.split(","):
        for label, cmd in runs(w, data, a):
            if only is not None and label not in only:
                continue
            log = out / f"scale_{w}_{label.split()[0].strip(',')}_{len(results)}.log"
            print(f"{w}: {label} ...", flush=True)
            try:
                res = run_child(cmd, log)
            except RuntimeError as e:
                res = {"error": str(e)}
            res.update(workload=w, label=label, command=" ".join(cmd[1:]))
            results.append(res)
            tmp = path.with_suffix(".part")
            tmp.write_text(json.dumps(results, indent=1))
            tmp.replace(path)
            keys = ("read_s", "walk_s", "train_s", "fit_s", "evaluate_s", "process_wall_s", "peak_rss_mb",
                    "peak_rss_anon_mb", "loadavg_before")
            print("| " + " | ".join(f"{k}={res.get(k)}" for k in keys) + " |", flush=True)


if __name__ == "__main__":
    main()
