"""Training across processes: real ``torchrun`` launches with the gloo backend on the CPU
reach the quality of one process; only rank 0 writes; the sharding helpers."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import embedkit as ek
from embedkit.distributed import Dist, block, shard

sys.path.insert(0, str(Path(__file__).parent))
import distributed_worker as worker  # noqa: E402

WORKER = str(Path(__file__).with_name("distributed_worker.py"))
KARATE = str(ek.datasets.path("karate.edgelist"))


def torchrun(args: list[str], cwd, nproc: int = 2) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("RANK", "WORLD_SIZE", "LOCAL_RANK")}
    env["OMP_NUM_THREADS"] = "1"
    # --standalone: a rendezvous on a free local port (tests may run side by side)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(nproc), *args]
    res = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    return res


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist") / "two.json"
    torchrun([WORKER, str(out), *worker.SCENARIOS], cwd=out.parent)
    return json.loads(out.read_text())


@pytest.mark.parametrize("name", list(worker.SCENARIOS))
def test_two_processes_learn_as_well_as_one(two_processes, name):
    one = worker.SCENARIOS[name]()  # the same figures from this (single) process
    two = two_processes[name]
    assert two_processes["world"] == 2
    assert two.pop("agree") and one.pop("agree"), "every rank must return the same vectors"
    if name == "node2vec":  # measured: 0.95 in one process and in two
        assert two["faction_accuracy"] >= 0.9 and two["faction_accuracy"] >= one["faction_accuracy"] - 0.05
    elif name == "skipgram":  # planted analogies: 1.0 and 1.0
        assert two["analogies"] >= 0.9
    elif name == "mf":  # RMSE 0.639 in one process and in two, against 0.750 for the mean
        assert two["rmse"] <= 0.9 * two["mean_rmse"] and two["rmse"] <= 1.03 * one["rmse"]
    elif name == "bpr":  # recall@10 0.527 (one), 0.531 (two); popularity 0.147
        assert two["recall@10"] >= 2.5 * two["popular_recall@10"] and two["recall@10"] >= one["recall@10"] - 0.05
    elif name == "gcn":  # 4 labelled members per faction: 0.85 test accuracy in one process and in two
        assert two["test_accuracy"] >= 0.8 and two["test_accuracy"] >= one["test_accuracy"] - 0.1
    elif name == "triplet":
        assert two["mlp_recall@1"] >= 0.95 and two["table_recall@1"] >= 0.95
    else:
        pytest.fail(f"no assertion for scenario {name}")


def test_row_averaging_is_exact_across_two_processes(tmp_path):
    """A row one process changed takes that change, a row both changed the mean of theirs."""
    out = tmp_path / "rows.json"
    torchrun([WORKER, str(out), "rowsync"], cwd=tmp_path)
    got = json.loads(out.read_text())["rowsync"]
    np.testing.assert_allclose(got["table"], [[0.0, 0.0], [1.0, 1.0], [2.0, -2.0], [5.0, 5.0]])
    assert got["agree"] and got["syncs"] >= 2


def test_cli_under_torchrun_trains_once_and_writes_once(tmp_path):
    res = torchrun(["-m", "embedkit_cli", "train", "node2vec", KARATE, "-o", "out.txt", "--backend", "torch",
                    "--dim", "8", "--seed", "0", "--quiet"], cwd=tmp_path)
    assert res.stdout.count("written") == 1, res.stdout  # rank 1 prints nothing
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt"]  # no temporary file left by either rank
    emb = ek.load(tmp_path / "out.txt")
    assert len(emb) == 34 and emb.dim == 8
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) & 0o044  # readable by others, as umask allows


def test_only_the_torch_backend_runs_under_torchrun(monkeypatch):
    from embedkit.engines.skipgram import SGNSConfig, train_sgns

    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "1")
    tokens = np.arange(10, dtype=np.int32) % 3
    with pytest.raises(ek.InvalidParameterError, match="'torch' or 'auto' under torchrun"):
        train_sgns(tokens, np.array([0, 10]), np.bincount(tokens), SGNSConfig(dim=4), backend="numba")
    from embedkit.recsys._common import pick_backend

    assert pick_backend("bpr", "auto", "cpu", distributes=True) == "torch"
    assert pick_backend("als", "auto", "cpu") == "implicit"  # ALS is not distributed: the fast CPU path stays
    with pytest.raises(ek.InvalidParameterError, match="bpr: parameter 'backend' must be 'torch' or 'auto' under"):
        pick_backend("bpr", "implicit", "cpu", distributes=True)
    # rank 1 of a launch writes nothing (rank 0 does): the file is not published
    from embedkit._atomic import atomic_open

    with atomic_open(Path(os.environ.get("TMPDIR", "/tmp")) / "embedkit-rank1-never.txt") as fh:
        fh.write("x")
    assert not (Path(os.environ.get("TMPDIR", "/tmp")) / "embedkit-rank1-never.txt").exists()


def test_shards_cover_everything_in_equal_steps():
    parts = [shard(10, Dist(r, 3)) for r in range(3)]
    assert [len(p) for p in parts] == [4, 4, 4]  # padded to ceil(10 / 3): every rank runs 4 steps
    assert set(np.concatenate(parts)) == set(range(10))
    np.testing.assert_array_equal(shard(5, Dist()), np.arange(5))
    offsets = np.array([0, 5, 6, 20, 21, 30, 40])
    blocks = [block(offsets, Dist(r, 2)) for r in range(2)]
    assert blocks[0][0] == 0 and blocks[0][1] == blocks[1][0] and blocks[1][1] == 6  # contiguous, complete
    tokens = [offsets[b] - offsets[a] for a, b in blocks]
    assert abs(tokens[0] - tokens[1]) <= 14  # balanced by tokens, not by sequences
