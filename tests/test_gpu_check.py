"""benchmarks/gpu_check.py: every registered method trains on its workload and reaches its quality
bar; here on the CPU with --quick (the full run, --device cuda, is for a machine with a GPU)."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

import embedkit as ek

PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_check.py"


@pytest.fixture(scope="module")
def gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", PATH)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gpu_check"] = mod
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop("gpu_check", None)


def _rows(markdown: str) -> dict:
    rows = {}
    for line in markdown.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 10 and cells[0] not in ("method", "---"):
            rows[cells[0]] = cells
    return rows


def test_every_registered_method_runs_on_the_cpu_and_reaches_its_bar(gpu_check, tmp_path, capsys):
    out = tmp_path / "gpu.md"
    rc = gpu_check.main(["--device", "cpu", "--quick", "--workers", "1", "--no-warmup", "--out", str(out)])
    printed = capsys.readouterr().out
    rows = _rows(out.read_text(encoding="utf-8"))
    assert set(rows) == set(ek.methods())
    ours = {m for m in rows if gpu_check._ours(m)}
    assert ours >= {"skipgram", "cbow", "subword", "glove", "svd", "bpe", "deepwalk", "node2vec", "gcn", "gat",
                    "als", "bpr", "mf", "popular", "triplet"}
    # embedkit's own methods all ran and passed; a method another package (or another test) registered
    # in this process has no workload and is listed as skipped
    failed = {m: r[-1] for m, r in rows.items() if m in ours and r[-1] != "yes"}
    assert rc == 0 and not failed, failed
    assert all(rows[m][-1].startswith("skipped") for m in set(rows) - ours)
    for method in ours:
        cells = rows[method]
        assert cells[1].startswith("cpu"), cells
        assert float(cells[2]) >= 0 and cells[3] != "-", cells          # seconds and a throughput
        assert cells[5] == cells[7] and float(cells[8]) == 1.0, cells   # the CPU run is its own comparison
    assert "| method | device | seconds |" in printed


def test_methods_without_a_gpu_path_are_named(gpu_check):
    assert not gpu_check.has_gpu_path("bpe") and not gpu_check.has_gpu_path("popular")  # no device at all
    for name in ("skipgram", "cbow", "subword", "deepwalk", "node2vec", "glove", "svd", "gcn", "gat", "als", "bpr",
                 "mf", "triplet"):
        assert gpu_check.has_gpu_path(name), name


def test_a_missed_bar_fails_the_run(gpu_check, monkeypatch, tmp_path):
    wl = gpu_check.WORKLOADS["popular"]
    monkeypatch.setitem(gpu_check.WORKLOADS, "popular", gpu_check.Workload(**{**wl.__dict__, "bar": 0.99}))
    assert gpu_check.main(["--device", "cpu", "--quick", "--methods", "popular", "--no-warmup"]) == 1


@pytest.mark.gpu
def test_quick_run_on_the_gpu_matches_the_cpu(gpu_check, tmp_path):
    out = tmp_path / "gpu.md"
    assert gpu_check.main(["--device", "cuda", "--quick", "--out", str(out)]) == 0
    rows = out.read_text(encoding="utf-8")
    assert "| cuda" in rows


def test_one_of_our_methods_without_a_workload_fails_the_run(gpu_check, monkeypatch, tmp_path, capsys):
    monkeypatch.delitem(gpu_check.WORKLOADS, "popular")
    assert gpu_check.main(["--device", "cpu", "--quick", "--methods", "popular", "--no-warmup"]) == 1
    assert "ERROR: no workload" in capsys.readouterr().out
