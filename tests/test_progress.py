"""Progress bars only on a terminal (embedkit/_progress.py): with stderr redirected to a file, a run
writes readable INFO lines and no carriage-return bars, unless ``verbose=True`` forces them."""
from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import numpy as np

import embedkit as ek
from embedkit._progress import show_progress, track

KARATE = str(Path(__file__).resolve().parents[1] / "corpora" / "karate.edgelist")
TRAIN = """
import logging, embedkit as ek
logging.basicConfig(level=logging.INFO, format="%(message)s")
g = ek.read_graph({karate!r})
emb = ek.train("deepwalk", g, dim=8, walks_per_node=2, walk_length=10, epochs=1, workers=1, seed=0{extra})
"""


def _stderr_of(args: list[str], tmp_path: Path) -> str:
    err = tmp_path / "stderr.log"
    with open(err, "w") as fh:
        res = subprocess.run(args, stdout=subprocess.PIPE, stderr=fh, text=True, timeout=600)
    text = err.read_bytes().decode()  # not read_text(): universal newlines would turn "\r" into "\n"
    assert res.returncode == 0, text[-2000:]
    return text


def test_a_script_piped_to_a_file_writes_no_bars(tmp_path):
    log = _stderr_of([sys.executable, "-c", TRAIN.format(karate=KARATE, extra="")], tmp_path)
    assert "\r" not in log
    assert "deepwalk" in log and "walks" in log  # the INFO lines say what ran


def test_verbose_true_forces_the_bar(tmp_path):
    log = _stderr_of([sys.executable, "-c", TRAIN.format(karate=KARATE, extra=", verbose=True")], tmp_path)
    assert "\r" in log and "skip-gram" in log


def test_cli_train_to_a_log_file_writes_no_bars(tmp_path):
    log = _stderr_of([sys.executable, "-m", "embedkit_cli", "-v", "train", "deepwalk", KARATE,
                      "-o", str(tmp_path / "v.txt"), "--dim", "8", "--walks-per-node", "2", "--walk-length", "10",
                      "--workers", "1", "--seed", "0"], tmp_path)
    assert "\r" not in log and "deepwalk" in log


def test_show_progress_follows_the_terminal(monkeypatch):
    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty

    monkeypatch.setattr(sys, "stderr", Stream(False))
    assert (show_progress(None), show_progress(True), show_progress(False)) == (False, True, False)
    monkeypatch.setattr(sys, "stderr", Stream(True))
    assert (show_progress(None), show_progress(True), show_progress(False)) == (True, True, False)


def test_track_logs_what_ran(caplog):
    with caplog.at_level(logging.INFO, logger="embedkit"):
        assert list(track(range(4), desc="counting", unit="step", verbose=False, log_every=0.0)) == [0, 1, 2, 3]
    lines = [r.getMessage() for r in caplog.records]
    assert "counting: 2/4 step" in " ".join(lines) and "s left" in " ".join(lines)
    assert any(line.startswith("counting: 4 step in ") for line in lines)


def test_node_classification_logs_its_splits(caplog):
    g = ek.datasets.load("karate")
    labels = ek.read_labels(Path(KARATE).with_suffix(".labels"))
    rng = np.random.default_rng(0)
    emb = ek.Embeddings(list(g.nodes), rng.standard_normal((g.num_nodes, 8)).astype(np.float32))
    with caplog.at_level(logging.INFO, logger="embedkit"):
        ek.evaluate.node_classification(emb, labels, repeats=3)
    assert any(r.getMessage().startswith("node classification (34 labelled nodes): 3 split in ")
               for r in caplog.records)
