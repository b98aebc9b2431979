"""Whole outputs or none: temporary files of killed writers, and two-file outputs cut by a kill
(real SIGKILLs of a child process)."""
from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import embedkit as ek
from embedkit import _atomic
from embedkit._atomic import atomic_pair, atomic_path, check_pair, fingerprint, remove_stale


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid  # reaped: no process has it (until the kernel reuses it)


def _gen(g: int, n: int = 50, dim: int = 8) -> ek.Embeddings:
    """Generation ``g``: keys 'g<g>-<i>', rows (g, 1, 0, ...) (so keys and vectors tell their writer,
    unit rows of a cosine index included)."""
    vectors = np.zeros((n, dim), np.float32)
    vectors[:, 0], vectors[:, 1] = g, 1
    return ek.Embeddings([f"g{g}-{i}" for i in range(n)], vectors)


def _consistent(emb) -> int:
    gens = {int(k.split("-")[0][1:]) for k in emb.keys}
    g = gens.pop()
    assert not gens and np.allclose(emb.vectors[:, 0] / emb.vectors[:, 1], g), "keys and vectors of different writes"
    return g


# ------------------------------------------------------------------ stale temporary files
def test_stale_temporary_files_of_dead_writers_are_removed(tmp_path):
    target = tmp_path / "v.txt"
    host = _atomic._HOST
    dead, alive = _dead_pid(), os.getppid()
    names = {
        "dead": f".v.txt.{dead}.{host}-abcdefgh.tmp",
        "dead_dir": f".v.txt.{dead}.{host}-abcdefg1.tmp",
        "alive": f".v.txt.{alive}.{host}-abcdefgh.tmp",
        "alive_untouched": f".v.txt.{alive}.{host}-abcdefg2.tmp",
        "legacy_old": ".v.txt.k3j_x9a0.tmp",
        "legacy_new": ".v.txt.zzzzzzzz.tmp",
        "foreign_new": f".v.txt.{dead}.000000-abcdefgh.tmp",
        "other_target": f".v.txt.keys.json.{dead}.{host}-abcdefgh.tmp",
        "not_ours": ".v.txt.backup.tmp",
    }
    for key, name in names.items():
        p = tmp_path / name
        if key == "dead_dir":
            p.mkdir()
            (p / "inside").write_text("x")
        else:
            p.write_text("x" * 100)
    old = time.time() - 2 * _atomic.LEGACY_AGE_S
    os.utime(tmp_path / names["legacy_old"], (old, old))
    ancient = time.time() - 2 * _atomic.FOREIGN_AGE_S
    os.utime(tmp_path / names["alive_untouched"], (ancient, ancient))
    ek.Embeddings(["a"], [[1.0]]).export(target)
    left = {p.name for p in tmp_path.iterdir()}
    assert left == {"v.txt"} | {names[k] for k in ("alive", "legacy_new", "foreign_new", "other_target", "not_ours")}
    # the other target's stale file goes with the next write to that target
    assert remove_stale(tmp_path / "v.txt.keys.json") == [tmp_path / names["other_target"]]


def test_failed_write_leaves_nothing_and_the_old_file(tmp_path):
    target = tmp_path / "v.npy"
    _gen(1).export(target)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(RuntimeError):
        with atomic_pair(target, tmp_path / "v.npy.keys.json") as (a, b):
            a.write_bytes(b"new")
            raise RuntimeError("writer failed")
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


# ------------------------------------------------------------------ two-file outputs
def test_fingerprint_samples_large_files(tmp_path):
    small, big = tmp_path / "small", tmp_path / "big"
    small.write_bytes(bytes(1000))
    data = bytearray(np.random.default_rng(0).integers(0, 256, 5 << 20, dtype=np.uint8).tobytes())
    big.write_bytes(data)
    fp = fingerprint(big)
    assert fp["bytes"] == 5 << 20
    assert fingerprint(small)["sha256"] == hashlib.sha256(bytes(1000)).hexdigest()  # small files: hashed whole
    step = (len(data) - _atomic._BLOCK) / (_atomic._SAMPLES - 1)
    sampled = [0, len(data) - 1, int(31 * step) + 5]  # first byte, last byte, inside block 31
    unsampled = int(31 * step) + _atomic._BLOCK + 10  # between two blocks: the limit the docstring states
    for at, detected in [*((a, True) for a in sampled), (unsampled, False)]:
        changed = bytearray(data)
        changed[at] ^= 0xFF
        big.write_bytes(changed)
        assert (fingerprint(big) != fp) is detected, at
    big.write_bytes(data[:-1])
    assert fingerprint(big) != fp  # another size
    big.write_bytes(data)
    assert fingerprint(big) == fp


def test_a_mixed_npy_pair_is_refused(tmp_path):
    path = tmp_path / "v.npy"
    _gen(1).export(path)
    old_keys = (tmp_path / "v.npy.keys.json").read_bytes()
    _gen(2).export(path)
    assert _consistent(ek.load(path)) == 2
    (tmp_path / "v.npy.keys.json").write_bytes(old_keys)  # what a kill between the renames would leave
    with pytest.raises(ek.InputFormatError, match="v.npy.keys.json was written with another v.npy"):
        ek.load(path)
    # a side file from before fingerprints (no "pair") still loads
    side = json.loads(old_keys)
    del side["pair"]
    (tmp_path / "v.npy.keys.json").write_text(json.dumps(side))
    assert len(ek.load(path)) == 50


def _between(path) -> None:
    """Write generation 2, SIGKILLed by itself right after the first rename of the pair."""
    real = os.replace

    def replace(src, dst):
        real(src, dst)
        os.kill(os.getpid(), signal.SIGKILL)

    _atomic.os.replace = replace
    _gen(2, n=30).export(path)


def _loop(path, ready) -> None:
    """Rewrite ``path`` forever (row counts vary, so the files' sizes do), until killed."""
    g = 2
    ready.set()
    while True:
        _gen(g, n=20000 + g % 7, dim=64).export(path)
        g += 1


def _child(target, *args) -> mp.Process:
    proc = mp.get_context("fork").Process(target=target, args=args)
    proc.start()
    return proc


@pytest.mark.parametrize("name, fmt", [("v.npy", None), ("v.faiss", None), ("v.tsv", None)])
def test_sigkill_between_the_two_renames(tmp_path, name, fmt):
    if name.endswith(".faiss"):
        pytest.importorskip("faiss")
    path = tmp_path / name
    _gen(1, n=40).export(path)
    proc = _child(_between, path)
    proc.join(timeout=120)
    assert proc.exitcode == -signal.SIGKILL
    # the side file went first: old main beside a new side, which the readers refuse
    with pytest.raises(ek.InputFormatError):
        ek.load(path)
    # the next write leaves a whole pair and no temporary file
    _gen(3, n=40).export(path)
    assert _consistent(ek.load(path)) == 3
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_sigkill_at_random_moments(tmp_path):
    """Kill a writer that rewrites a 5 MB .npy pair in a loop, at random moments: each time the
    pair on disk loads whole (keys and vectors of one write) or is refused, never mixed. At least
    8 kills, and more (up to 40) until one has landed mid-write: a kill lands between two writes
    often (the writer also builds its arrays), and 8 such kills in a row happened in a CI run."""
    path = tmp_path / "v.npy"
    _gen(1).export(path)
    rng = np.random.default_rng(0)
    outcomes = {"whole": 0, "refused": 0, "temporary files left": 0}
    for kill in range(40):
        if kill >= 8 and outcomes["whole"] and outcomes["temporary files left"]:
            break
        ready = mp.get_context("fork").Event()
        proc = _child(_loop, path, ready)
        assert ready.wait(timeout=60)
        time.sleep(float(rng.uniform(0.02, 0.4)))
        os.kill(proc.pid, signal.SIGKILL)
        proc.join(timeout=60)
        assert proc.exitcode == -signal.SIGKILL
        outcomes["temporary files left"] += any(p.name.endswith(".tmp") for p in tmp_path.iterdir())
        try:
            _consistent(ek.load(path))
            outcomes["whole"] += 1
        except ek.InputFormatError as exc:
            assert "was written with another" in str(exc)
            outcomes["refused"] += 1
    assert outcomes["whole"] >= 1 and outcomes["temporary files left"] >= 1, outcomes  # the cleanup below is tested
    _gen(99).export(path)  # removes what the killed writers left
    assert _consistent(ek.load(path)) == 99
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.npy", "v.npy.keys.json"]


def test_check_pair_refuses_a_malformed_record(tmp_path):
    main = tmp_path / "m"
    main.write_bytes(b"abc")
    check_pair(main, tmp_path / "s", None)
    check_pair(main, tmp_path / "s", fingerprint(main))
    with pytest.raises(ek.InputFormatError, match="malformed"):
        check_pair(main, tmp_path / "s", {"bytes": 3})


def test_atomic_path_still_publishes_folders(tmp_path):
    target = tmp_path / "d"
    for text in ("one", "two"):
        with atomic_path(target, is_dir=True) as tmp:
            (tmp / "f").write_text(text)
    assert (target / "f").read_text() == "two" and [p.name for p in tmp_path.iterdir()] == ["d"]
