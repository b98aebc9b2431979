"""Edge-case census (issue 16): malformed files and bad parameters through every reader,
the CLI and the Python API, each classified by how embedkit handles it.

    python benchmarks/edge_cases.py [--python PATH] [-j 2] [--timeout 20] [--only SUBSTR]

Every case declares what a correct outcome is: the input must be refused (``fail``), refused
or warned about (``fail_or_warn``: mismatched inputs), or read/run and checked (``ok``: a
valid but unusual input such as a byte-order mark must read as the same data without it).
Each case runs in its own process (forked from a worker that has imported embedkit, so a case
costs no import time), under a wall-clock limit; a case past the limit is a hang (killed with
SIGKILL). The outcome is one of:

* ``ok`` — a valid input read or run right (the check passed);
* ``clear+location`` — refused with an ``EmbedkitError`` (CLI: exit 2, no traceback) whose
  message names what the case says it must (the file, and the line where the format has lines;
  the parameter; both mismatched inputs), or for ``fail_or_warn`` a warning logged that does;
* ``clear`` — refused clearly, but without the location;
* ``refused-valid`` — a valid input refused with a clear error;
* ``traceback`` — a raw Python exception (API), a traceback or an exit code other than 2 on
  the CLI (``Aborted!``, exit 1);
* ``silent`` — it returned / exited 0 although the input should have been refused, or the
  result is wrong;
* ``hang`` — past the time limit.

The worker runs under ``--python`` (default: this interpreter), so the census can measure any
checkout: ``--python /work/main/.venv/bin/python``. Results: a table by outcome and by area on
stdout, per-case JSON in ``benchmarks/out/edge_cases.json`` (or ``--out``).
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUTCOMES = ("ok", "clear+location", "clear", "refused-valid", "traceback", "silent", "hang")

def use_repo(repo: Path) -> None:
    """Import ``embedkit`` and the CLI (``cli/``, installed as ``embedkit_cli``) from ``repo``,
    whatever checkout the interpreter's editable install points at."""
    import importlib.util

    sys.path.insert(0, str(repo))
    init = repo / "cli" / "__init__.py"
    if init.exists() and "embedkit_cli" not in sys.modules:
        spec = importlib.util.spec_from_file_location("embedkit_cli", init,
                                                      submodule_search_locations=[str(repo / "cli")])
        mod = importlib.util.module_from_spec(spec)
        sys.modules["embedkit_cli"] = mod
        spec.loader.exec_module(mod)


WARM_UP = """
import embedkit as ek
g = ek.read_graph(D / "g_ok.edgelist")
for m in ("deepwalk", "node2vec"):
    ek.train(m, g, dim=4, walks_per_node=1, walk_length=5, workers=1, verbose=False)
ek.train("skipgram", ek.read_text(D / "c_ok.txt"), dim=4, epochs=1, min_count=1, workers=1, verbose=False)
"""


# ----------------------------------------------------------------------------- cases
CASES: list[dict] = []


def case(cid: str, area: str, *, api: str | None = None, cli: list | None = None, expect: str = "fail",
         check: str | None = None, loc: tuple = (), timeout: float | None = None) -> None:
    """Declare a case. ``api``: Python code run with ``ek``, ``np``, ``D`` (the data folder, a Path)
    and ``W`` (this case's empty working folder) in scope; it may set ``result``. ``cli``: the
    arguments of ``embedkit`` (run with W as the working folder). ``check``: for ``expect='ok'``, a
    Python expression on ``result`` (API) or ``out``/``err``/``W`` (CLI) that must hold. ``loc``:
    regular expressions the error message must all match to count as naming the location."""
    assert (api is None) != (cli is None)
    assert expect in ("fail", "ok", "fail_or_warn")
    assert not any(c["id"] == cid for c in CASES), cid
    CASES.append({"id": cid, "area": area, "mode": "api" if api else "cli", "api": api, "cli": cli,
                  "expect": expect, "check": check, "loc": list(loc), "timeout": timeout})


def name(f: str) -> str:
    return re.escape(f)


def line(n: int) -> str:
    return rf"\bline {n}\b"


# ----------------------------------------------------------------------------- files
N, DIM = 500, 4


def _row(i: int) -> list[float]:
    return [round(0.01 * (i % 97) + 0.1 * j + (0.5 if i % 2 else -0.5), 4) for j in range(DIM)]


def _w2v_lines(n: int = N, header: str | None = "auto", key=lambda i: f"w{i}") -> list[str]:
    lines = [f"{key(i)} " + " ".join(str(v) for v in _row(i)) for i in range(n)]
    if header == "auto":
        header = f"{n} {DIM}"
    return ([header] if header is not None else []) + lines


def _text(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def _put(D: Path, fname: str, data: bytes) -> Path:
    p = D / fname
    p.write_bytes(data)
    return p


def _replace_line(lines: list[str], idx: int, new: str) -> list[str]:
    out = list(lines)
    out[idx] = new
    return out


def _latin1(data: bytes, lineno: int) -> bytes:
    """Put a latin-1 'é' (byte 0xE9, invalid UTF-8) into the key of physical line ``lineno``."""
    lines = data.split(b"\n")
    lines[lineno - 1] = lines[lineno - 1].replace(b"w", b"w\xe9", 1) if b"w" in lines[lineno - 1] \
        else b"\xe9" + lines[lineno - 1]
    return b"\n".join(lines)


def _latin1_line(data: bytes, lineno: int) -> bytes:
    """Put a latin-1 byte 0xE9 ('é', invalid UTF-8) after the first character of line ``lineno``."""
    lines = data.split(b"\n")
    lines[lineno - 1] = lines[lineno - 1][:1] + b"\xe9" + lines[lineno - 1][1:]
    return b"\n".join(lines)


def _w2v_binary(n_decl: int, n_rows: int, dim_decl: int = DIM, values=None, keys=None) -> bytes:
    import numpy as np

    out = [f"{n_decl} {dim_decl}\n".encode()]
    for i in range(n_rows):
        v = np.asarray(values(i) if values else _row(i), dtype="<f4")
        k = keys(i) if keys else f"w{i}"
        out.append(k.encode() + b" " + v.tobytes() + b"\n")
    return b"".join(out)


def _truncated_gz(raw: bytes) -> bytes:
    z = gzip.compress(raw)
    return z[: len(z) // 2]


def _npy_header(shape, descr="<f4") -> bytes:
    d = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (descr, tuple(shape))
    h = d.encode()
    pad = 64 - (10 + len(h) + 1) % 64
    h = h + b" " * pad + b"\n"
    return b"\x93NUMPY\x01\x00" + len(h).to_bytes(2, "little") + h


def make_files(D: Path, repo: Path = REPO) -> None:  # noqa: C901  (one long list of files is the clearest form)
    import io
    import zipfile

    import numpy as np

    use_repo(repo)
    import embedkit as ek

    assert Path(ek.__file__).resolve().is_relative_to(repo.resolve()), (ek.__file__, repo)

    keys = [f"w{i}" for i in range(N)]
    mat = np.array([_row(i) for i in range(N)], dtype=np.float32)
    valid = _text(_w2v_lines())
    # --- word2vec text
    _put(D, "v_ok.txt", valid)
    _put(D, "v_latin_early.txt", _latin1(valid, 2))
    _put(D, "v_latin_late.txt", _latin1(valid, 401))
    base = _w2v_lines()
    _put(D, "v_nan.txt", _text(_replace_line(base, 5, "w4 0.1 nan 0.3 0.4")))
    _put(D, "v_inf.txt", _text(_replace_line(base, 5, "w4 0.1 inf 0.3 0.4")))
    _put(D, "v_dup.txt", _text(_replace_line(base, 10, "w3 " + " ".join(map(str, _row(9))))))
    _put(D, "v_count_small.txt", _text([f"{N - 100} {DIM}"] + base[1:]))
    _put(D, "v_count_large.txt", _text([f"{N + 100} {DIM}"] + base[1:]))
    _put(D, "v_count_huge.txt", _text([f"1000000000000 {DIM}"] + base[1:]))
    _put(D, "v_dim_huge.txt", _text([f"{N} 1000000000000"] + base[1:]))
    _put(D, "v_trunc.txt.gz", _truncated_gz(valid))
    _put(D, "v_ok.txt.gz", gzip.compress(valid))
    _put(D, "v_bom.txt", b"\xef\xbb\xbf" + valid)
    _put(D, "v_ragged.txt", _text(_replace_line(base, 7, "w6 0.1 0.2")))
    _put(D, "v_word.txt", _text(_replace_line(base, 7, "w6 0.1 abc 0.3 0.4")))
    _put(D, "v_empty.txt", b"")
    (D / "v_folder.txt").mkdir()
    _put(D, "v_header_only.txt", f"{N} {DIM}\n".encode())
    _put(D, "v_crlf.txt", valid.replace(b"\n", b"\r\n"))
    _put(D, "v_garbage.txt", bytes(np.random.default_rng(0).integers(0, 256, 5000, dtype=np.uint8)))
    _put(D, "v_noext", valid)
    _put(D, "v_noext_latin", _latin1(valid, 2))
    _put(D, "v_bad_header.txt", _text(["five four"] + base[1:]))
    # --- GloVe (no header)
    g = _w2v_lines(header=None)
    graw = _text(g)
    _put(D, "glove_ok.txt", graw)
    _put(D, "glove_bom.txt", b"\xef\xbb\xbf" + graw)
    _put(D, "glove_latin.txt", _latin1(graw, 3))
    _put(D, "glove_nan.txt", _text(_replace_line(g, 4, "w4 0.1 NaN 0.3 0.4")))
    _put(D, "glove_dup.txt", _text(_replace_line(g, 9, "w3 " + " ".join(map(str, _row(9))))))
    _put(D, "glove_ragged.txt", _text(_replace_line(g, 6, "w6 0.1 0.2 0.3 0.4 0.5")))
    # --- word2vec binary
    _put(D, "b_ok.bin", _w2v_binary(N, N))
    _put(D, "b_count_small.bin", _w2v_binary(N - 100, N))
    _put(D, "b_count_large.bin", _w2v_binary(N + 100, N))
    _put(D, "b_count_huge.bin", _w2v_binary(10**12, N))
    _put(D, "b_dim_huge.bin", _w2v_binary(N, N, dim_decl=10**9))
    _put(D, "b_nan.bin", _w2v_binary(N, N, values=lambda i: [float("nan")] * DIM if i == 4 else _row(i)))
    _put(D, "b_inf.bin", _w2v_binary(N, N, values=lambda i: [float("inf")] * DIM if i == 4 else _row(i)))
    _put(D, "b_dup.bin", _w2v_binary(N, N, keys=lambda i: "w3" if i == 9 else f"w{i}"))
    full = _w2v_binary(N, N)
    _put(D, "b_trunc.bin", full[: len(full) // 2 + 3])
    _put(D, "b_garbage.bin", bytes(np.random.default_rng(1).integers(0, 256, 5000, dtype=np.uint8)))
    _put(D, "b_empty.bin", b"")
    _put(D, "b_header_text.bin", b"not a header at all\n")
    # --- npy (+ keys sidecar)
    def npy(fname, arr, keys_payload=None):
        buf = io.BytesIO()
        np.save(buf, arr)
        _put(D, fname, buf.getvalue())
        if keys_payload is not None:
            _put(D, fname + ".keys.json", keys_payload if isinstance(keys_payload, bytes)
                 else json.dumps(keys_payload).encode())
    npy("n_ok.npy", mat, {"type": "str", "keys": keys})
    npy("n_nan.npy", np.where(np.arange(N)[:, None] == 4, np.nan, mat).astype(np.float32), {"type": "str", "keys": keys})
    _put(D, "n_object.npy", _npy_header((2, 2), "|O") + bytes(32))  # an object array's header: no pickle written
    npy("n_1d.npy", mat[:, 0].copy())
    npy("n_keys_bad_json.npy", mat, b"{not json")
    npy("n_keys_count.npy", mat, {"type": "str", "keys": keys[:10]})
    npy("n_keys_dup.npy", mat, {"type": "str", "keys": keys[:9] + ["w3"] + keys[10:]})
    npy("n_keys_not_list.npy", mat, {"type": "str", "keys": 5})
    _put(D, "n_garbage.npy", bytes(np.random.default_rng(2).integers(0, 256, 4000, dtype=np.uint8)))
    okn = (D / "n_ok.npy").read_bytes()
    _put(D, "n_trunc.npy", okn[: len(okn) // 2])
    _put(D, "n_huge.npy", _npy_header((10**12, DIM)) + mat.tobytes())
    _put(D, "n_empty.npy", b"")
    # --- npz
    def npz(fname, **arrays):
        buf = io.BytesIO()
        np.savez(buf, **arrays)
        _put(D, fname, buf.getvalue())
    npz("z_ok.npz", keys=np.array(keys), vectors=mat)
    npz("z_nan.npz", keys=np.array(keys), vectors=np.where(np.arange(N)[:, None] == 4, np.inf, mat).astype(np.float32))
    npz("z_dup.npz", keys=np.array(keys[:9] + ["w3"] + keys[10:]), vectors=mat)
    npz("z_object.npz", keys=np.array(keys, dtype=object), vectors=mat)
    npz("z_missing.npz", vectors=mat)
    npz("z_count.npz", keys=np.array(keys[:10]), vectors=mat)
    okz = (D / "z_ok.npz").read_bytes()
    _put(D, "z_trunc.npz", okz[: len(okz) // 2])
    _put(D, "z_garbage.npz", b"PK\x03\x04" + bytes(np.random.default_rng(3).integers(0, 256, 3000, dtype=np.uint8)))
    with zipfile.ZipFile(D / "z_huge.npz", "w") as zf:
        zf.writestr("keys.npy", (lambda b: (np.save(b, np.array(keys)), b.getvalue())[1])(io.BytesIO()))
        zf.writestr("vectors.npy", _npy_header((10**12, DIM)) + mat.tobytes())
    # --- ekv
    emb = ek.Embeddings(keys, mat)
    emb.save(D / "e_ok.ekv")
    with zipfile.ZipFile(D / "e_ok.ekv") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}

    def ekv(fname, compress=zipfile.ZIP_STORED, **replace):
        with zipfile.ZipFile(D / fname, "w", compression=compress) as zf:
            for n, data in members.items():
                data = replace.get(n.replace(".", "_"), data)
                if data is not None:
                    zf.writestr(n, data)
    ekv("e_keys_bad_json.ekv", keys_json=b"[oops")
    ekv("e_meta_bad_json.ekv", meta_json=b"{oops")
    ekv("e_meta_list.ekv", meta_json=b"[1, 2]")
    ekv("e_keys_count.ekv", keys_json=json.dumps({"type": "str", "keys": keys[:10]}).encode())
    ekv("e_keys_dup.ekv", keys_json=json.dumps({"type": "str", "keys": keys[:9] + ["w3"] + keys[10:]}).encode())
    ekv("e_keys_wrong_shape.ekv", keys_json=json.dumps(["w0", "w1"]).encode())
    ekv("e_no_vectors.ekv", vectors_npy=None)
    ekv("e_object.ekv", vectors_npy=_npy_header((1, 2), "|O") + bytes(16))
    ekv("e_huge.ekv", vectors_npy=_npy_header((10**12, DIM)) + mat.tobytes())
    ekv("e_nan.ekv", vectors_npy=(lambda b: (np.save(b, np.where(np.arange(N)[:, None] == 4, np.nan, mat)
                                                     .astype(np.float32)), b.getvalue())[1])(io.BytesIO()))
    meta = json.loads(members["meta.json"])
    bomb = json.dumps(meta)[:-1] + " " * (200 * 2**20) + "}"
    ekv("e_meta_bomb.ekv", compress=zipfile.ZIP_DEFLATED, meta_json=bomb.encode())
    oke = (D / "e_ok.ekv").read_bytes()
    _put(D, "e_trunc.ekv", oke[: len(oke) // 2])
    _put(D, "e_garbage.ekv", bytes(np.random.default_rng(4).integers(0, 256, 4000, dtype=np.uint8)))
    (D / "e_folder_empty.ekv").mkdir()
    # --- parquet and jsonl
    try:
        emb.export(D / "p_ok.parquet")
        okp = (D / "p_ok.parquet").read_bytes()
        _put(D, "p_trunc.parquet", okp[: len(okp) // 2])
        ek.Embeddings(keys, np.where(np.arange(N)[:, None] == 4, np.nan, mat).astype(np.float32)).export(D / "p_nan.parquet")
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"key": keys[:9] + ["w3"] + keys[10:], "vector": [list(r) for r in mat]}),
                       D / "p_dup.parquet")
    except Exception:  # noqa: BLE001  (pyarrow is an optional extra; the cases then fail to set up)
        pass
    _put(D, "p_garbage.parquet", b"PAR1" + bytes(300) + b"PAR1")
    jl = [json.dumps({"key": k, "vector": list(map(float, v))}) for k, v in zip(keys, mat)]
    _put(D, "j_ok.jsonl", _text(jl))
    _put(D, "j_bom.jsonl", b"\xef\xbb\xbf" + _text(jl))
    _put(D, "j_dup.jsonl", _text(_replace_line(jl, 9, json.dumps({"key": "w3", "vector": _row(9)}))))
    _put(D, "j_ragged.jsonl", _text(_replace_line(jl, 6, json.dumps({"key": "w6", "vector": [0.1, 0.2]}))))
    _put(D, "j_badline.jsonl", _text(_replace_line(jl, 6, "{oops")))
    _put(D, "j_latin.jsonl", _text(jl).replace(b'"w6"', b'"w\xe96"', 1))
    # --- edge lists (karate-like: a ring of 40 nodes + chords)
    edges = [(i, (i + 1) % 40) for i in range(40)] + [(i, (i + 7) % 40) for i in range(0, 40, 3)]
    el = [f"{a} {b}" for a, b in edges]
    elraw = _text(el)
    _put(D, "g_ok.edgelist", elraw)
    _put(D, "g_bom.edgelist", b"\xef\xbb\xbf" + elraw)
    _put(D, "g_latin.edgelist", _latin1_line(elraw, 5))
    _put(D, "g_trunc.edgelist.gz", _truncated_gz(_text(el * 200)))
    _put(D, "g_ok.edgelist.gz", gzip.compress(elraw))
    (D / "g_folder.edgelist").mkdir()
    _put(D, "g_empty.edgelist", b"")
    _put(D, "g_comments.edgelist", b"# only a comment\n# another\n")
    _put(D, "g_ragged.edgelist", _text(_replace_line(el, 4, "17")))
    _put(D, "g_weight_word.edgelist", _text([f"{a} {b} 1.0" for a, b in edges][:4] + ["4 5 heavy"] +
                                            [f"{a} {b} 1.0" for a, b in edges][5:]))
    _put(D, "g_weight_nan.edgelist", _text([f"{a} {b} 1.0" for a, b in edges][:4] + ["4 5 nan"] +
                                           [f"{a} {b} 1.0" for a, b in edges][5:]))
    _put(D, "g_weight_inf.edgelist", _text([f"{a} {b} 1.0" for a, b in edges][:4] + ["4 5 inf"] +
                                           [f"{a} {b} 1.0" for a, b in edges][5:]))
    _put(D, "g_weight_neg.edgelist", _text([f"{a} {b} 1.0" for a, b in edges][:4] + ["4 5 -2"] +
                                           [f"{a} {b} 1.0" for a, b in edges][5:]))
    _put(D, "g_crlf.edgelist", elraw.replace(b"\n", b"\r\n"))
    _put(D, "g_garbage.edgelist", bytes(np.random.default_rng(5).integers(0, 256, 3000, dtype=np.uint8)))
    _put(D, "g_garbage.mat", b"MATLAB 5.0 MAT-file" + bytes(200))
    _put(D, "g_ok.txt", elraw)
    # --- ratings
    rat = [f"{i % 30},{100 + (i * 7) % 40},{1 + i % 5}" for i in range(400)]
    rhead = ["user,item,rating"] + rat
    _put(D, "r_ok.csv", _text(rhead))
    _put(D, "r_bom_header.csv", b"\xef\xbb\xbf" + _text(rhead))
    _put(D, "r_bom.csv", b"\xef\xbb\xbf" + _text(rat))
    _put(D, "r_latin.csv", _latin1_line(_text(rhead), 5))
    _put(D, "r_trunc.csv.gz", _truncated_gz(_text(rhead * 40)))
    (D / "r_folder.csv").mkdir()
    _put(D, "r_empty.csv", b"")
    _put(D, "r_ragged.csv", _text(_replace_line(rhead, 6, "u5")))
    _put(D, "r_nan.csv", _text(_replace_line(rhead, 6, "u5,i3,nan")))
    _put(D, "r_inf.csv", _text(_replace_line(rhead, 6, "u5,i3,inf")))
    _put(D, "r_word.csv", _text(_replace_line(rhead, 6, "u5,i3,great")))
    _put(D, "r_header_only.csv", b"user,item,rating\n")
    # --- labels (for g_ok: 40 nodes, two classes)
    lab = [f"{i} {'a' if i < 20 else 'b'}" for i in range(40)]
    _put(D, "l_ok.txt", _text(lab))
    _put(D, "l_bom.txt", b"\xef\xbb\xbf" + _text(lab))
    _put(D, "l_latin.txt", _latin1_line(_text(lab), 6))
    _put(D, "l_trunc.txt.gz", _truncated_gz(_text(lab * 50)))
    (D / "l_folder.txt").mkdir()
    _put(D, "l_empty.txt", b"")
    _put(D, "l_ragged.txt", _text(_replace_line(lab, 6, "6")))
    _put(D, "l_garbage.mat", b"MATLAB 5.0 MAT-file" + bytes(200))
    _put(D, "l_other_graph.txt", _text([f"{1000 + i} {'a' if i < 20 else 'b'}" for i in range(40)]))
    _put(D, "l_partial.txt", _text([f"{i if i < 5 else 1000 + i} {'a' if i % 2 else 'b'}" for i in range(40)]))
    # --- triplets and metric labels (keys w0..w39 of v_ok.txt)
    tri = [f"w{i} w{(i + 2) % 40} w{(i + 21) % 40}" for i in range(40)]
    _put(D, "t_ok.tsv", _text(tri))
    _put(D, "t_bom.tsv", b"\xef\xbb\xbf" + _text(tri))
    _put(D, "t_latin.tsv", _latin1_line(_text(tri), 6))
    _put(D, "t_trunc.tsv.gz", _truncated_gz(_text(tri * 100)))
    (D / "t_folder.tsv").mkdir()
    _put(D, "t_empty.tsv", b"")
    _put(D, "t_ragged.tsv", _text(_replace_line(tri, 6, "w6 w7")))
    _put(D, "t_unknown.tsv", _text([f"x{i} x{i + 1} x{i + 2}" for i in range(40)]))
    _put(D, "ml_ok.tsv", _text([f"w{i} c{i % 4}" for i in range(40)]))
    _put(D, "ml_unknown.tsv", _text([f"x{i} c{i % 4}" for i in range(40)]))
    # --- corpora
    words = "the cat sat on the mat and the dog sat on the log while birds sang".split()
    corpus = [" ".join(words[(i % 5):] + words[:(i % 5)]) for i in range(200)]
    craw = _text(corpus)
    _put(D, "c_ok.txt", craw)
    _put(D, "c_bom.txt", b"\xef\xbb\xbf" + craw)
    _put(D, "c_latin.txt", _latin1_line(craw, 1))
    _put(D, "c_trunc.txt.gz", _truncated_gz(craw * 50))
    _put(D, "c_empty.txt", b"")
    _put(D, "c_garbage.txt", bytes(np.random.default_rng(6).integers(0, 256, 3000, dtype=np.uint8)))
    (D / "c_folder").mkdir()
    _put(D, "c_folder/a.txt", craw)
    (D / "c_empty_folder").mkdir()
    # --- node features for g_ok (nodes 0..39)
    feat = [f"{i}," + ",".join(str(round(0.1 * ((i * j) % 7), 2)) for j in range(5)) for i in range(40)]
    _put(D, "f_ok.csv", _text(feat))
    _put(D, "f_bom.csv", b"\xef\xbb\xbf" + _text(feat))
    _put(D, "f_latin.csv", _latin1_line(_text(feat), 6))
    _put(D, "f_ragged.csv", _text(_replace_line(feat, 6, "6,0.1,0.2")))
    _put(D, "f_nan.csv", _text(_replace_line(feat, 6, "6,0.1,nan,0.3,0.4,0.5")))
    _put(D, "f_word.csv", _text(_replace_line(feat, 6, "6,0.1,big,0.3,0.4,0.5")))
    _put(D, "f_other_graph.csv", _text([f"{1000 + i}," + ",".join("0.5" for _ in range(5)) for i in range(40)]))
    np.save(D / "f_rows_short.npy", np.ones((10, 5), dtype=np.float32))
    np.save(D / "f_nan.npy", np.full((40, 5), np.nan, dtype=np.float32))
    okf = io.BytesIO()
    np.save(okf, np.ones((40, 5), dtype=np.float32))
    _put(D, "f_trunc.npy", okf.getvalue()[:100])
    (D / "f_folder.csv").mkdir()
    # --- word pairs and analogies
    _put(D, "wp_ok.txt", _text([f"w{i} w{i + 1} {i % 10}" for i in range(30)]))
    _put(D, "wp_bom.txt", b"\xef\xbb\xbf" + _text([f"w{i} w{i + 1} {i % 10}" for i in range(30)]))
    _put(D, "wp_latin.txt", _latin1_line(_text([f"w{i} w{i + 1} {i % 10}" for i in range(30)]), 5))
    _put(D, "wp_ragged.txt", _text(_replace_line([f"w{i} w{i + 1} {i % 10}" for i in range(30)], 4, "w4 w5")))
    _put(D, "wp_nan.txt", _text(_replace_line([f"w{i} w{i + 1} {i % 10}" for i in range(30)], 4, "w4 w5 nan")))
    _put(D, "wp_unknown.txt", _text([f"x{i} x{i + 1} {i % 10}" for i in range(30)]))
    _put(D, "an_ok.txt", _text([": s"] + [f"w{i} w{i + 1} w{i + 2} w{i + 3}" for i in range(30)]))
    _put(D, "an_latin.txt", _latin1_line(_text([": s"] + [f"w{i} w{i + 1} w{i + 2} w{i + 3}" for i in range(30)]), 6))
    _put(D, "an_ragged.txt", _text([": s"] + _replace_line([f"w{i} w{i + 1} w{i + 2} w{i + 3}" for i in range(30)],
                                                           4, "w4 w5")))
    # --- mismatched inputs: vectors of another graph (keys 30..529: 10 of g_ok's 40 nodes)
    _put(D, "v_other_graph.txt", _text(_w2v_lines(key=lambda i: str(30 + i))))
    # vectors for the nodes of g_ok (keys 0..39) + a few thousand of another graph
    _put(D, "v_nodes.txt", _text(_w2v_lines(n=40, key=str)))
    ek.Embeddings(keys, np.where(np.arange(N)[:, None] == 4, np.nan, mat).astype(np.float32)).save(D / "v_nan_mem.ekv")
    # a file for "parent is a file"
    _put(D, "afile", b"x")


# ----------------------------------------------------------------------------- the cases
def declare() -> None:  # noqa: C901
    nb = lambda p: ["neighbors", p, "w1", "-k", "3"]  # noqa: E731
    loaded_ok = "len(result) == 500 and result.keys[0] == 'w0' and abs(float(result['w1'][0]) - 0.51) < 1e-4"
    cli_ok = "'w' in out and 'nan' not in out.lower() and '\\\\ufeff' not in out"

    def vec(cid, fname, expect="fail", loc=None, check=loaded_ok, cli=True, fmt=None):
        loc = (name(fname),) if loc is None else loc
        extra = f", format={fmt!r}" if fmt else ""
        case(f"vec/{cid}/api", "vectors", api=f"result = ek.load(D / {fname!r}{extra})", expect=expect,
             check=check if expect == "ok" else None, loc=loc)
        if cli and not fmt:
            case(f"vec/{cid}/cli", "vectors", cli=nb(f"{{D}}/{fname}"), expect=expect,
                 check=cli_ok if expect == "ok" else None, loc=loc)

    # word2vec text
    vec("txt-ok", "v_ok.txt", "ok")
    vec("txt-latin1-early", "v_latin_early.txt", loc=(name("v_latin_early.txt"), line(2)))
    vec("txt-latin1-late", "v_latin_late.txt", loc=(name("v_latin_late.txt"), line(401)))
    vec("txt-nan", "v_nan.txt", loc=(name("v_nan.txt"), line(6)))
    vec("txt-inf", "v_inf.txt", loc=(name("v_inf.txt"), line(6)))
    vec("txt-dup-key", "v_dup.txt", loc=(name("v_dup.txt"), line(11)))
    vec("txt-count-small", "v_count_small.txt", loc=(name("v_count_small.txt"), line(1)))
    vec("txt-count-large", "v_count_large.txt", loc=(name("v_count_large.txt"),))
    vec("txt-count-huge", "v_count_huge.txt", loc=(name("v_count_huge.txt"),))
    vec("txt-dim-huge", "v_dim_huge.txt", loc=(name("v_dim_huge.txt"),))
    vec("txt-gz-truncated", "v_trunc.txt.gz")
    vec("txt-gz-ok", "v_ok.txt.gz", "ok")
    vec("txt-bom", "v_bom.txt", "ok")
    vec("txt-ragged", "v_ragged.txt", loc=(name("v_ragged.txt"), line(8)))
    vec("txt-word-value", "v_word.txt", loc=(name("v_word.txt"), line(8)))
    vec("txt-empty", "v_empty.txt")
    vec("txt-folder", "v_folder.txt")
    vec("txt-missing", "v_missing.txt")
    vec("txt-header-only", "v_header_only.txt")
    vec("txt-crlf", "v_crlf.txt", "ok")
    vec("txt-garbage", "v_garbage.txt")
    vec("noext-ok", "v_noext", "ok")
    vec("noext-latin1", "v_noext_latin", loc=(name("v_noext_latin"), line(2)))
    vec("txt-bad-header", "v_bad_header.txt", loc=(name("v_bad_header.txt"), line(1)))
    # GloVe
    vec("glove-ok", "glove_ok.txt", "ok")
    vec("glove-bom", "glove_bom.txt", "ok")
    vec("glove-fmt-bom", "glove_bom.txt", "ok", fmt="glove")
    vec("glove-latin1", "glove_latin.txt", loc=(name("glove_latin.txt"), line(3)))
    vec("glove-nan", "glove_nan.txt", loc=(name("glove_nan.txt"), line(5)))
    vec("glove-dup-key", "glove_dup.txt", loc=(name("glove_dup.txt"), line(10)))
    vec("glove-ragged", "glove_ragged.txt", loc=(name("glove_ragged.txt"), line(7)))
    # word2vec binary
    vec("bin-ok", "b_ok.bin", "ok")
    vec("bin-count-small", "b_count_small.bin")
    vec("bin-count-large", "b_count_large.bin")
    vec("bin-count-huge", "b_count_huge.bin")
    vec("bin-dim-huge", "b_dim_huge.bin")
    vec("bin-nan", "b_nan.bin")
    vec("bin-inf", "b_inf.bin")
    vec("bin-dup-key", "b_dup.bin")
    vec("bin-truncated", "b_trunc.bin")
    vec("bin-garbage", "b_garbage.bin")
    vec("bin-empty", "b_empty.bin")
    vec("bin-text-header", "b_header_text.bin")
    # npy
    vec("npy-ok", "n_ok.npy", "ok")
    vec("npy-nan", "n_nan.npy")
    vec("npy-object", "n_object.npy")
    vec("npy-1d", "n_1d.npy")
    vec("npy-keys-bad-json", "n_keys_bad_json.npy", loc=(name("n_keys_bad_json.npy"),))
    vec("npy-keys-count", "n_keys_count.npy")
    vec("npy-keys-dup", "n_keys_dup.npy")
    vec("npy-keys-not-list", "n_keys_not_list.npy")
    vec("npy-garbage", "n_garbage.npy")
    vec("npy-truncated", "n_trunc.npy")
    vec("npy-huge-shape", "n_huge.npy")
    vec("npy-empty", "n_empty.npy")
    # npz
    vec("npz-ok", "z_ok.npz", "ok")
    vec("npz-inf", "z_nan.npz")
    vec("npz-dup-key", "z_dup.npz")
    vec("npz-object-keys", "z_object.npz")
    vec("npz-missing-keys", "z_missing.npz")
    vec("npz-keys-count", "z_count.npz")
    vec("npz-truncated", "z_trunc.npz")
    vec("npz-garbage", "z_garbage.npz")
    vec("npz-huge-shape", "z_huge.npz")
    # ekv
    vec("ekv-ok", "e_ok.ekv", "ok")
    vec("ekv-keys-bad-json", "e_keys_bad_json.ekv")
    vec("ekv-meta-bad-json", "e_meta_bad_json.ekv")
    vec("ekv-meta-list", "e_meta_list.ekv")
    vec("ekv-keys-count", "e_keys_count.ekv")
    vec("ekv-keys-dup", "e_keys_dup.ekv")
    vec("ekv-keys-wrong-shape", "e_keys_wrong_shape.ekv")
    vec("ekv-no-vectors", "e_no_vectors.ekv")
    vec("ekv-object", "e_object.ekv")
    vec("ekv-huge-shape", "e_huge.ekv")
    vec("ekv-nan", "e_nan.ekv")
    vec("ekv-meta-bomb", "e_meta_bomb.ekv")
    vec("ekv-truncated", "e_trunc.ekv")
    vec("ekv-garbage", "e_garbage.ekv")
    vec("ekv-empty-folder", "e_folder_empty.ekv")
    # parquet, jsonl
    vec("parquet-ok", "p_ok.parquet", "ok")
    vec("parquet-truncated", "p_trunc.parquet")
    vec("parquet-nan", "p_nan.parquet")
    vec("parquet-dup-key", "p_dup.parquet")
    vec("parquet-garbage", "p_garbage.parquet")
    vec("jsonl-ok", "j_ok.jsonl", "ok")
    vec("jsonl-bom", "j_bom.jsonl", "ok")
    vec("jsonl-dup-key", "j_dup.jsonl", loc=(name("j_dup.jsonl"), line(10)))
    vec("jsonl-ragged", "j_ragged.jsonl", loc=(name("j_ragged.jsonl"), line(7)))
    vec("jsonl-bad-line", "j_badline.jsonl", loc=(name("j_badline.jsonl"), line(7)))
    vec("jsonl-latin1", "j_latin.jsonl", loc=(name("j_latin.jsonl"), line(7)))

    # ---- edge lists: ek.read_graph and `train deepwalk`
    g_ok = "result.num_nodes == 40 and '0' in [str(n) for n in result.nodes] and " \
           "not any('\\ufeff' in str(n) for n in result.nodes)"
    dw = ["--dim", "4", "--walks-per-node", "1", "--walk-length", "5", "--workers", "1", "--quiet"]

    def graph(cid, fname, expect="fail", loc=None, cli=True):
        loc = (name(fname),) if loc is None else loc
        case(f"graph/{cid}/api", "edge lists", api=f"result = ek.read_graph(D / {fname!r})", expect=expect,
             check=g_ok if expect == "ok" else None, loc=loc)
        if cli:
            case(f"graph/{cid}/cli", "edge lists", cli=["train", "deepwalk", f"{{D}}/{fname}", "-o", "out.txt", *dw],
                 expect=expect, loc=loc,
                 check="'\\ufeff' not in (W / 'out.txt').read_text('utf-8') and "
                       "(W / 'out.txt').read_text().split()[0] == '40'" if expect == "ok" else None)
    graph("ok", "g_ok.edgelist", "ok")
    graph("ok-gz", "g_ok.edgelist.gz", "ok")
    graph("ok-txt", "g_ok.txt", "ok")
    graph("bom", "g_bom.edgelist", "ok")
    graph("crlf", "g_crlf.edgelist", "ok")
    graph("latin1", "g_latin.edgelist", loc=(name("g_latin.edgelist"), line(5)))
    graph("gz-truncated", "g_trunc.edgelist.gz")
    graph("folder", "g_folder.edgelist")
    graph("missing", "g_missing.edgelist")
    graph("empty", "g_empty.edgelist")
    graph("comments-only", "g_comments.edgelist")
    graph("ragged", "g_ragged.edgelist", loc=(name("g_ragged.edgelist"), line(5)))
    graph("weight-word", "g_weight_word.edgelist", loc=(name("g_weight_word.edgelist"), line(5)))
    graph("weight-nan", "g_weight_nan.edgelist", loc=(name("g_weight_nan.edgelist"), line(5)))
    graph("weight-inf", "g_weight_inf.edgelist", loc=(name("g_weight_inf.edgelist"), line(5)))
    graph("weight-negative", "g_weight_neg.edgelist", loc=(name("g_weight_neg.edgelist"), line(5)))
    graph("garbage", "g_garbage.edgelist")
    graph("garbage-mat", "g_garbage.mat")
    case("graph/neighbors-str-unknown/api", "edge lists", loc=("3466",),
         api="g = ek.read_graph(D / 'g_ok.edgelist'); result = g.neighbors('3466')")
    case("graph/neighbors-int-unknown/api", "edge lists", loc=("3466",),
         api="g = ek.read_graph(D / 'g_ok.edgelist'); result = g.neighbors(3466)")

    # ---- ratings: ek.read_interactions and `train popular`
    r_ok = "result.num_users == 30 and result.num_items == 40 and " \
           "not any('\\ufeff' in str(u) for u in result.users)"

    def ratings(cid, fname, expect="fail", loc=None, kw="", cli_extra=()):
        loc = (name(fname),) if loc is None else loc
        case(f"ratings/{cid}/api", "ratings", api=f"result = ek.read_interactions(D / {fname!r}{kw})", expect=expect,
             check=r_ok if expect == "ok" else None, loc=loc)
        case(f"ratings/{cid}/cli", "ratings", cli=["train", "popular", f"{{D}}/{fname}", "-o", "out.ekv", *cli_extra],
             expect=expect, loc=loc, check="(W / 'out.ekv').exists()" if expect == "ok" else None)
    ratings("ok", "r_ok.csv", "ok")
    ratings("bom-header", "r_bom_header.csv", "ok")
    ratings("bom", "r_bom.csv", "ok")
    ratings("latin1", "r_latin.csv", loc=(name("r_latin.csv"), line(5)))
    ratings("gz-truncated", "r_trunc.csv.gz")
    ratings("folder", "r_folder.csv")
    ratings("empty", "r_empty.csv")
    ratings("header-only", "r_header_only.csv")
    ratings("ragged", "r_ragged.csv", loc=(name("r_ragged.csv"), line(7)))
    ratings("rating-nan", "r_nan.csv", loc=(name("r_nan.csv"), line(7)), kw=", rating_col=2",
            cli_extra=("--rating-col", "2"))
    ratings("rating-inf", "r_inf.csv", loc=(name("r_inf.csv"), line(7)), kw=", rating_col=2",
            cli_extra=("--rating-col", "2"))
    ratings("rating-word", "r_word.csv", loc=(name("r_word.csv"), line(7)), kw=", rating_col=2",
            cli_extra=("--rating-col", "2"))

    # ---- labels: ek.read_labels and `evaluate nodeclass`
    def labels(cid, fname, expect="fail", loc=None):
        loc = (name(fname),) if loc is None else loc
        case(f"labels/{cid}/api", "labels", api=f"result = ek.read_labels(D / {fname!r})", expect=expect,
             check="len(result) == 40 and result.get('0') == 'a'" if expect == "ok" else None, loc=loc)
        case(f"labels/{cid}/cli", "labels", cli=["evaluate", "nodeclass", "{D}/v_nodes.txt", f"{{D}}/{fname}",
                                                   "--repeats", "1"],
             expect=expect, loc=loc, check="'accuracy' in out or 'micro' in out" if expect == "ok" else None)
    labels("ok", "l_ok.txt", "ok")
    labels("bom", "l_bom.txt", "ok")
    labels("latin1", "l_latin.txt", loc=(name("l_latin.txt"), line(6)))
    labels("gz-truncated", "l_trunc.txt.gz")
    labels("folder", "l_folder.txt")
    labels("missing", "l_missing.txt")
    labels("empty", "l_empty.txt")
    labels("ragged", "l_ragged.txt", loc=(name("l_ragged.txt"), line(7)))
    labels("garbage-mat", "l_garbage.mat")

    # ---- triplets: read_metric_data and `evaluate triplets`
    def triplets(cid, fname, expect="fail", loc=None):
        loc = (name(fname),) if loc is None else loc
        case(f"triplets/{cid}/api", "triplets", api=f"from embedkit.metric.data import read_metric_data\n"
                                                   f"result = read_metric_data(D / {fname!r})", expect=expect,
             check="result.kind == 'triplets' and 'w0' in result.keys and "
                   "not any('\\ufeff' in str(k) for k in result.keys)" if expect == "ok" else None, loc=loc)
        case(f"triplets/{cid}/cli", "triplets", cli=["evaluate", "triplets", "{D}/v_ok.txt", f"{{D}}/{fname}"],
             expect=expect, loc=loc, check="'accuracy' in out and '40 triplets' in out" if expect == "ok" else None)
    triplets("ok", "t_ok.tsv", "ok")
    triplets("bom", "t_bom.tsv", "ok")
    triplets("latin1", "t_latin.tsv", loc=(name("t_latin.tsv"), line(6)))
    triplets("gz-truncated", "t_trunc.tsv.gz")
    triplets("folder", "t_folder.tsv")
    triplets("empty", "t_empty.tsv")
    triplets("ragged", "t_ragged.tsv", loc=(name("t_ragged.tsv"), line(7)))

    # ---- corpora: ek.read_text and `train skipgram`
    sg = ["--dim", "4", "--epochs", "1", "--min-count", "1", "--workers", "1", "--quiet"]

    def corpus(cid, fname, expect="fail", loc=None, api_expect=None, api_check="len(result) == 200 and "
               "result[0][0] == 'the'"):
        loc = (name(fname),) if loc is None else loc
        api_expect = api_expect or expect
        case(f"corpus/{cid}/api", "corpora", api=f"c = ek.read_text(D / {fname!r}); result = [s for s in c]",
             expect=api_expect, check=api_check if api_expect == "ok" else None, loc=loc)
        case(f"corpus/{cid}/cli", "corpora", cli=["train", "skipgram", f"{{D}}/{fname}", "-o", "out.txt", *sg],
             expect=expect, loc=loc,
             check="'\\ufeff' not in (W / 'out.txt').read_text('utf-8')" if expect == "ok" else None)
    corpus("ok", "c_ok.txt", "ok")
    corpus("bom", "c_bom.txt", "ok")
    corpus("folder-of-files", "c_folder", "ok")
    corpus("latin1", "c_latin.txt", loc=(name("c_latin.txt"), line(1)))
    corpus("gz-truncated", "c_trunc.txt.gz")
    corpus("empty", "c_empty.txt", api_expect="ok", api_check="result == []")  # an empty corpus; training refuses it
    corpus("empty-folder", "c_empty_folder")
    corpus("garbage", "c_garbage.txt")
    corpus("missing", "c_missing.txt")

    # ---- node features: read_node_data and `train gcn --features`
    gcn = ["--epochs", "2", "--dim", "4", "--hidden", "4", "--quiet"]

    def features(cid, fname, expect="fail", loc=None):
        loc = (name(fname),) if loc is None else loc
        case(f"features/{cid}/api", "features",
             api=f"result = ek.read_node_data(D / 'g_ok.edgelist', features=D / {fname!r})", expect=expect,
             check="result.graph.num_nodes == 40 and result.features.shape == (40, 5)" if expect == "ok" else None, loc=loc)
        case(f"features/{cid}/cli", "features",
             cli=["train", "gcn", "{D}/g_ok.edgelist", "--features", f"{{D}}/{fname}", "-o", "out.txt", *gcn],
             expect=expect, loc=loc, check="(W / 'out.txt').read_text().split()[0] == '40'" if expect == "ok" else None)
    features("ok", "f_ok.csv", "ok")
    features("bom", "f_bom.csv", "ok")
    features("latin1", "f_latin.csv", loc=(name("f_latin.csv"), line(6)))
    features("ragged", "f_ragged.csv", loc=(name("f_ragged.csv"), line(7)))
    features("nan", "f_nan.csv", loc=(name("f_nan.csv"), line(7)))
    features("word", "f_word.csv", loc=(name("f_word.csv"), line(7)))
    features("npy-nan", "f_nan.npy")
    features("npy-truncated", "f_trunc.npy")
    features("npy-rows-short", "f_rows_short.npy")
    features("folder", "f_folder.csv")
    features("other-graph", "f_other_graph.csv", loc=(name("f_other_graph.csv"),))

    # ---- word pairs and analogy files
    def evalfile(cid, fname, fn, expect="fail", loc=None, check=None):
        loc = (name(fname),) if loc is None else loc
        case(f"evalfiles/{cid}/api", "similarity/analogy files",
             api=f"e = ek.load(D / 'v_ok.txt'); result = ek.evaluate.{fn}(e, dataset=str(D / {fname!r}))",
             expect=expect, loc=loc, check=check)
        cmd = "similarity" if fn == "similarity" else "analogy"
        case(f"evalfiles/{cid}/cli", "similarity/analogy files",
             cli=["evaluate", cmd, "{D}/v_ok.txt", "--dataset", f"{{D}}/{fname}"], expect=expect, loc=loc,
             check="'pairs' in out or 'questions' in out" if expect == "ok" else None)
    evalfile("pairs-ok", "wp_ok.txt", "similarity", "ok", check="result['pairs'] == 30")
    evalfile("pairs-bom", "wp_bom.txt", "similarity", "ok", check="result['pairs'] == 30")
    evalfile("pairs-latin1", "wp_latin.txt", "similarity", loc=(name("wp_latin.txt"), line(5)))
    evalfile("pairs-ragged", "wp_ragged.txt", "similarity", loc=(name("wp_ragged.txt"), line(5)))
    evalfile("pairs-nan", "wp_nan.txt", "similarity", loc=(name("wp_nan.txt"), line(5)))
    evalfile("analogy-latin1", "an_latin.txt", "analogy", loc=(name("an_latin.txt"), line(6)))
    evalfile("analogy-ragged", "an_ragged.txt", "analogy", loc=(name("an_ragged.txt"), line(6)))

    # ---- parameters (Python API)
    G = "g = ek.read_graph(D / 'g_ok.edgelist')\n"
    walk = "dim=4, walks_per_node=1, walk_length=5, workers=1, verbose=False"
    for method in ("node2vec", "deepwalk"):
        for pname, val in (("dim", "0"), ("dim", "-3"), ("walk_length", "0"), ("walks_per_node", "-1"),
                           ("window", "0"), ("negatives", "-1"), ("epochs", "0"), ("learning_rate", "float('nan')"),
                           ("learning_rate", "float('inf')"), ("learning_rate", "-0.1"), ("sample", "float('nan')"),
                           ("min_learning_rate", "float('nan')"), ("workers", "-2")):
            kw = walk.replace(f"{pname}=", f"_{pname}=") if f"{pname}=" in walk else walk
            kw = ", ".join(x for x in kw.split(", ") if not x.startswith("_"))
            case(f"param/{method}-{pname}={val}/api", "parameters", loc=(re.escape(repr(pname)),),
                 api=G + f"result = ek.train({method!r}, g, {kw}, {pname}={val})")
    nkw = "dim=4, walks_per_node=1, walk_length=5, workers=1, verbose=False"
    for pname, val, directed in (("p", "float('inf')", False), ("q", "float('inf')", True), ("p", "float('nan')", False),
                                 ("q", "float('nan')", False), ("p", "0", False), ("q", "-1", False),
                                 ("p", "float('-inf')", False)):
        gg = "g = ek.read_graph(D / 'g_ok.edgelist', directed=True)\n" if directed else G
        case(f"param/node2vec-{pname}={val}{'-directed' if directed else ''}/api", "parameters",
             loc=(re.escape(repr(pname)),), api=gg + f"result = ek.train('node2vec', g, {nkw}, {pname}={val})")
    case("param/node2vec-p=1e6/api", "parameters", expect="ok", check="len(result) == 40",
         api=G + f"result = ek.train('node2vec', g, {nkw}, p=1e6)")
    case("param/node2vec-q=1e-6/api", "parameters", expect="ok", check="len(result) == 40",
         api=G + f"result = ek.train('node2vec', g, {nkw}, q=1e-6)")
    C = "c = ek.read_text(D / 'c_ok.txt')\n"
    skw = "dim=4, epochs=1, min_count=1, workers=1, verbose=False"
    for pname, val in (("learning_rate", "float('nan')"), ("learning_rate", "float('inf')"), ("sample", "float('nan')"),
                       ("sample", "-1.0"), ("ns_exponent", "float('inf')"), ("window", "0"), ("negatives", "-1"),
                       ("dim", "0")):
        kw = ", ".join(x for x in skw.split(", ") if not x.startswith(pname + "="))
        case(f"param/skipgram-{pname}={val}/api", "parameters", loc=(re.escape(repr(pname)),),
             api=C + f"result = ek.train('skipgram', c, {kw}, {pname}={val})")
    for pname, val in (("eig", "float('nan')"), ("cds", "float('inf')"), ("pmi_shift", "0"), ("dim", "0")):
        case(f"param/svd-{pname}={val}/api", "parameters", loc=(re.escape(repr(pname)),),
             api=C + f"result = ek.train('svd', c, dim=4, min_count=1, verbose=False, {pname}={val})"
             if pname != "dim" else C + "result = ek.train('svd', c, min_count=1, verbose=False, dim=0)")
    R = "r = ek.read_interactions(D / 'r_ok.csv')\n"
    for method, pname, val in (("als", "reg", "float('nan')"), ("als", "reg", "-1.0"), ("als", "confidence", "float('inf')"),
                               ("als", "epochs", "0"), ("als", "dim", "0"), ("bpr", "learning_rate", "float('nan')"),
                               ("bpr", "learning_rate", "float('inf')"), ("bpr", "reg", "-0.1"), ("bpr", "epochs", "0"),
                               ("mf", "learning_rate", "float('inf')"), ("mf", "init_std", "float('nan')"),
                               ("mf", "batch_size", "0")):
        base_kw = {"als": "dim=4, epochs=2", "bpr": "dim=4, epochs=2", "mf": "dim=4, epochs=2"}[method]
        kw = ", ".join(x for x in base_kw.split(", ") if not x.startswith(pname + "="))
        mr = R if method != "mf" else "r = ek.read_interactions(D / 'r_ok.csv', rating_col=2)\n"
        case(f"param/{method}-{pname}={val}/api", "parameters", loc=(re.escape(repr(pname)),),
             api=mr + f"result = ek.train({method!r}, r, {kw}, {pname}={val}, verbose=False)")
    GN = "d = ek.read_node_data(D / 'g_ok.edgelist', labels=D / 'l_ok.txt')\n"
    for pname, val in (("learning_rate", "float('nan')"), ("dropout", "1.5"), ("dropout", "float('nan')"), ("epochs", "0"),
                       ("hidden", "0"), ("weight_decay", "float('inf')"), ("train_fraction", "float('nan')"),
                       ("train_fraction", "1.2")):
        kw = ", ".join(x for x in "dim=4, hidden=4, epochs=2".split(", ") if not x.startswith(pname + "="))
        case(f"param/gcn-{pname}={val}/api", "parameters", loc=(re.escape(repr(pname)),),
             api=GN + f"result = ek.train('gcn', d, {kw}, {pname}={val}, verbose=False)")
    T = "from embedkit.metric.data import read_metric_data\nt = read_metric_data(D / 't_ok.tsv')\n"
    for pname, val in (("margin", "float('nan')"), ("margin", "-1.0"), ("learning_rate", "float('inf')"), ("epochs", "0")):
        case(f"param/triplet-{pname}={val}/api", "parameters", loc=(re.escape(repr(pname)),),
             api=T + f"result = ek.train('triplet', t, dim=4, {'epochs=2, ' if pname != 'epochs' else ''}"
                     f"{pname}={val}, verbose=False)")
    for val in ("float('nan')", "0.0", "1.0", "-0.1", "float('inf')"):
        case(f"param/split_edges-test_fraction={val}/api", "parameters", loc=("test_fraction",),
             api=G + f"result = ek.split_edges(g, test_fraction={val})")
        case(f"param/split_interactions-test_fraction={val}/api", "parameters", loc=("test_fraction",),
             api=R + f"result = ek.split_interactions(r, test_fraction={val})")
    E = "e = ek.load(D / 'v_nodes.txt')\n"
    for pname, val in (("train_fraction", "float('nan')"), ("train_fraction", "0.0"), ("train_fraction", "1.0"),
                       ("repeats", "0"), ("repeats", "-1")):
        case(f"param/node_classification-{pname}={val}/api", "parameters", loc=(pname,),
             api=E + f"result = ek.evaluate.node_classification(e, D / 'l_ok.txt', {pname}={val})")
    V = "e = ek.load(D / 'v_ok.txt')\n"
    for what, code, ploc in (
            ("most_similar-k=0", "e.most_similar('w1', k=0)", "k"),
            ("most_similar-k=-1", "e.most_similar('w1', k=-1)", "k"),
            ("analogy-restrict_vocab=0", "ek.evaluate.analogy(e, dataset=str(D / 'an_ok.txt'), restrict_vocab=0)",
             "restrict_vocab"),
            ("analogy-restrict_vocab=-5", "ek.evaluate.analogy(e, dataset=str(D / 'an_ok.txt'), restrict_vocab=-5)",
             "restrict_vocab"),
            ("retrieval-k=0", "ek.evaluate.retrieval(e, D / 'ml_ok.tsv', k=0)", "k"),
            ("bias-permutations=0", "ek.evaluate.bias(e, {'X': ['w1','w2'], 'Y': ['w3','w4']}, "
                                    "{'A': ['w5','w6'], 'B': ['w7','w8']}, permutations=0)", "permutations"),
            ("ranking-k=0", None, "k")):
        if code is None:
            code = "m = ek.train('popular', r)\nek.evaluate.ranking(m, r, r, k=0)"
            case(f"param/{what}/api", "parameters", loc=(ploc,), api=R + "result = None\n" + code)
            continue
        case(f"param/{what}/api", "parameters", loc=(ploc,), api=V + f"result = {code}")

    # ---- parameters (CLI)
    karate = "{D}/g_ok.edgelist"
    for what, args, ploc in (
            ("node2vec-p-inf", ["train", "node2vec", karate, "--p", "inf", "-o", "o.txt", *dw], "p"),
            ("node2vec-q-inf-directed", ["train", "node2vec", karate, "--q", "inf", "--directed", "-o", "o.txt", *dw],
             "q"),
            ("node2vec-p-nan", ["train", "node2vec", karate, "--p", "nan", "-o", "o.txt", *dw], "p"),
            ("deepwalk-dim-0", ["train", "deepwalk", karate, "-o", "o.txt", *dw, "--dim", "0"], "dim"),
            ("deepwalk-learning-rate-nan", ["train", "deepwalk", karate, "-o", "o.txt", *dw, "--learning-rate", "nan"],
             "learning_rate"),
            ("skipgram-sample-inf", ["train", "skipgram", "{D}/c_ok.txt", "-o", "o.txt", *sg, "--sample", "inf"],
             "sample"),
            ("nodeclass-repeats-0", ["evaluate", "nodeclass", "{D}/v_nodes.txt", "{D}/l_ok.txt", "--repeats", "0"],
             "repeats"),
            ("nodeclass-train-fraction-nan", ["evaluate", "nodeclass", "{D}/v_nodes.txt", "{D}/l_ok.txt",
                                              "--train-fraction", "nan"], "train.fraction"),
            ("linkpred-test-fraction-nan", ["evaluate", "linkpred", karate, "--test-fraction", "nan", "--method",
                                            "deepwalk", *dw[:-1]], "test.fraction"),
            ("linkpred-test-fraction-1", ["evaluate", "linkpred", karate, "--test-fraction", "1", "--method",
                                          "deepwalk", *dw[:-1]], "test.fraction"),
            ("neighbors-k-0", ["neighbors", "{D}/v_ok.txt", "w1", "-k", "0"], r"\bk\b"),
            ("neighbors-k-neg", ["neighbors", "{D}/v_ok.txt", "w1", "-k", "-4"], r"\bk\b"),
            ("ranking-test-fraction-inf", ["evaluate", "ranking", "{D}/r_ok.csv", "--method", "popular",
                                           "--test-fraction", "inf"], "test.fraction"),
            ("als-reg-nan", ["train", "als", "{D}/r_ok.csv", "-o", "o.ekv", "--reg", "nan", "--dim", "4",
                             "--epochs", "1"], "reg"),
            ("gcn-dropout-2", ["train", "gcn", karate, "--labels", "{D}/l_ok.txt", "-o", "o.txt", *gcn,
                               "--dropout", "2"], "dropout"),
            ("analogy-restrict-vocab-0", ["evaluate", "analogy", "{D}/v_ok.txt", "--dataset", "{D}/an_ok.txt",
                                          "--restrict-vocab", "0"], "restrict.vocab"),
            ("bias-permutations-neg", ["evaluate", "bias", "{D}/v_ok.txt", "--permutations", "-1"], "permutations")):
        case(f"param/{what}/cli", "parameters", cli=args, loc=(ploc,))

    # ---- CLI outputs
    for what, out, extra_check in (
            ("unknown-extension", "out.edgelist", None),
            ("unwritable-folder", "/proc/embedkit_out.txt", None),
            ("same-as-input", "{D}/g_out_same.edgelist", "same"),
            ("parent-is-file", "{D}/afile/out.txt", None)):
        src = "{D}/g_out_same.edgelist" if extra_check == "same" else karate
        case(f"output/train-{what}/cli", "CLI outputs", cli=["train", "deepwalk", src, "-o", out, *dw], loc=())
    for what, out in (("unknown-extension", "out.xyz"), ("unwritable-folder", "/proc/embedkit_out.npy"),
                      ("same-as-input", "{D}/v_out_same.txt"), ("parent-is-file", "{D}/afile/out.npy"),
                      ("gz-of-binary", "out.npy.gz")):
        src = "{D}/v_out_same.txt" if what == "same-as-input" else "{D}/v_ok.txt"
        case(f"output/export-{what}/cli", "CLI outputs", cli=["export", src, "-o", out], loc=())
    case("output/ranking-json-plot-unknown/cli", "CLI outputs", loc=(),
         cli=["plot", "{D}/v_ok.txt", "-o", "map.xyz"])

    # ---- mismatched inputs
    MM = "mismatched inputs"
    case("mismatch/nodeclass-other-graph/cli", MM, expect="fail", loc=(name("v_other_graph.txt"), name("l_ok.txt")),
         cli=["evaluate", "nodeclass", "{D}/v_other_graph.txt", "{D}/l_ok.txt", "--repeats", "1"])
    case("mismatch/nodeclass-other-graph/api", MM, expect="fail", loc=(r"\b10\b", r"\b40\b"),
         api="e = ek.load(D / 'v_other_graph.txt')\nresult = ek.evaluate.node_classification(e, D / 'l_ok.txt')")
    case("mismatch/nodeclass-labels-of-other-graph/api", MM, expect="fail", loc=(name("l_other_graph.txt"),),
         api="e = ek.load(D / 'v_nodes.txt')\nresult = ek.evaluate.node_classification(e, D / 'l_other_graph.txt')")
    case("mismatch/nodeclass-partial/api", MM, expect="fail_or_warn", loc=(r"\b5\b", r"\b40\b"),
         api="e = ek.load(D / 'v_nodes.txt')\nresult = ek.evaluate.node_classification(e, D / 'l_partial.txt')")
    case("mismatch/nodeclass-nan-vectors/api", MM, expect="fail", loc=(),
         api="e = ek.load(D / 'v_nan_mem.ekv')\nresult = ek.evaluate.node_classification(e, "
             "{f'w{i}': i % 2 for i in range(100)})")
    case("mismatch/linkpred-other-graph/api", MM, expect="fail", loc=(),
         api=G + "tg, split = ek.split_edges(g, test_fraction=0.2)\ne = ek.load(D / 'v_ok.txt')\n"
                 "result = ek.evaluate.link_prediction(e, split)")
    case("mismatch/retrieval-unknown-keys/api", MM, expect="fail", loc=(name("ml_unknown.tsv"),),
         api=V + "result = ek.evaluate.retrieval(e, D / 'ml_unknown.tsv')")
    case("mismatch/retrieval-unknown-keys/cli", MM, expect="fail", loc=(name("ml_unknown.tsv"), name("v_ok.txt")),
         cli=["evaluate", "retrieval", "{D}/v_ok.txt", "{D}/ml_unknown.tsv"])
    case("mismatch/triplets-unknown-keys/api", MM, expect="fail", loc=(name("t_unknown.tsv"),),
         api=V + "result = ek.evaluate.triplet_accuracy(e, D / 't_unknown.tsv')")
    case("mismatch/triplets-unknown-keys/cli", MM, expect="fail", loc=(name("t_unknown.tsv"), name("v_ok.txt")),
         cli=["evaluate", "triplets", "{D}/v_ok.txt", "{D}/t_unknown.tsv"])
    case("mismatch/similarity-no-coverage/api", MM, expect="fail", loc=(name("wp_unknown.txt"),),
         api=V + "result = ek.evaluate.similarity(e, dataset=str(D / 'wp_unknown.txt'))")
    case("mismatch/similarity-no-coverage/cli", MM, expect="fail", loc=(name("wp_unknown.txt"),),
         cli=["evaluate", "similarity", "{D}/v_ok.txt", "--dataset", "{D}/wp_unknown.txt"])
    case("mismatch/ranking-train-test-swapped/api", MM, expect="fail_or_warn", loc=("train",),
         api=R + "tr, te = ek.split_interactions(r, test_fraction=0.2, seed=0)\n"
                 "m = ek.train('als', tr, dim=4, epochs=3, verbose=False)\n"
                 "result = ek.evaluate.ranking(m, te, tr, k=5)")
    case("mismatch/gcn-labels-other-graph/api", MM, expect="fail", loc=(name("l_other_graph.txt"),),
         api="d = ek.read_node_data(D / 'g_ok.edgelist', labels=D / 'l_other_graph.txt')\n"
             "result = ek.train('gcn', d, dim=4, hidden=4, epochs=2, verbose=False)")
    case("mismatch/gcn-labels-other-graph/cli", MM, expect="fail",
         loc=(name("l_other_graph.txt"), name("g_ok.edgelist")),
         cli=["train", "gcn", karate, "--labels", "{D}/l_other_graph.txt", "-o", "o.txt", *gcn])
    case("mismatch/gcn-features-other-graph/cli", MM, expect="fail",
         loc=(name("f_other_graph.csv"), name("g_ok.edgelist")),
         cli=["train", "gcn", karate, "--features", "{D}/f_other_graph.csv", "-o", "o.txt", *gcn])
    case("mismatch/plot-labels-other-keys/api", MM, expect="fail_or_warn", loc=(name("l_ok.txt"),),
         api=V + "e.plot(W / 'm.png', labels=D / 'l_ok.txt'); result = None")


# ----------------------------------------------------------------------------- worker side
def _classify(c: dict, res: dict) -> tuple[str, str]:
    """(outcome, the message it was judged on)."""
    if res.get("hang"):
        return "hang", ""
    if c["mode"] == "api":
        msg = res.get("msg", "")
        if res.get("setup_error"):
            return "setup-error", msg
        if "exc" in res:
            if not res["embedkit"]:
                return "traceback", f"{res['exc']}: {msg}"
            if c["expect"] == "ok":
                return "refused-valid", msg
            return ("clear+location" if _located(c, msg) else "clear"), msg
        if c["expect"] == "ok":
            return ("ok" if res.get("check") else "silent"), res.get("repr", "")
        if c["expect"] == "fail_or_warn" and res.get("warnings"):
            w = " | ".join(res["warnings"])
            return ("clear+location" if _located(c, w) else "clear"), w
        return "silent", res.get("repr", "")
    rc, err = res["rc"], res["err"]
    if "Traceback (most recent call last)" in err or rc not in (0, 2):
        return "traceback", err[-400:]
    if rc == 2:
        if c["expect"] == "ok":
            return "refused-valid", err
        return ("clear+location" if _located(c, err) else "clear"), err
    if c["expect"] == "ok":
        return ("ok" if res.get("check") else "silent"), res["out"][-300:]
    warn = [ln for ln in err.splitlines() if ln.strip()]
    if c["expect"] == "fail_or_warn" and warn:
        return ("clear+location" if _located(c, err) else "clear"), err
    return "silent", res["out"][-300:]


def _located(c: dict, msg: str) -> bool:
    return all(re.search(p, msg, re.I) for p in c["loc"])


def _run_child(c: dict, D: Path, W: Path, result_path: Path) -> None:
    """In the forked child: run the case, write a JSON result, exit."""
    import logging

    import numpy as np

    import embedkit as ek

    res: dict = {}
    warnings: list[str] = []

    class _Catch(logging.Handler):
        def emit(self, record):
            if record.levelno >= logging.WARNING:
                warnings.append(record.getMessage())
    logging.getLogger("embedkit").addHandler(_Catch())
    logging.getLogger("embedkit").setLevel(logging.WARNING)
    os.chdir(W)
    if c["mode"] == "api":
        ns = {"ek": ek, "np": np, "D": D, "W": W}
        try:
            exec(compile(c["api"], c["id"], "exec"), ns)  # noqa: S102  (the census's own case code)
        except BaseException as exc:  # noqa: BLE001
            res = {"exc": type(exc).__name__, "embedkit": isinstance(exc, ek.EmbedkitError), "msg": str(exc)[:2000]}
        else:
            r = ns.get("result")
            res = {"repr": repr(r)[:300]}
            if c["check"]:
                try:
                    res["check"] = bool(eval(c["check"], ns))  # noqa: S307
                except Exception as exc:  # noqa: BLE001
                    res["check"] = False
                    res["repr"] += f" [check raised {type(exc).__name__}: {exc}]"
        res["warnings"] = warnings
    else:
        import traceback

        from embedkit_cli.main import cli

        out_f, err_f = W / ".stdout", W / ".stderr"
        fo, fe = os.open(out_f, os.O_WRONLY | os.O_CREAT), os.open(err_f, os.O_WRONLY | os.O_CREAT)
        os.dup2(fo, 1)
        os.dup2(fe, 2)
        args = [a.replace("{D}", str(D)) for a in c["cli"]]
        rc = 0
        try:
            cli.main(args=args, prog_name="embedkit", standalone_mode=True)
        except SystemExit as exc:
            rc = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001  (what python would do with an uncaught exception)
            traceback.print_exc()
            rc = 1
        sys.stdout.flush()
        sys.stderr.flush()
        res = {"rc": rc, "out": out_f.read_text(errors="replace")[-3000:],
               "err": err_f.read_text(errors="replace")[-3000:]}
        if c["check"] and rc == 0:
            try:
                res["check"] = bool(eval(c["check"], {"out": res["out"], "err": res["err"], "W": W, "D": D}))  # noqa: S307
            except Exception:  # noqa: BLE001
                res["check"] = False
    result_path.write_text(json.dumps(res))


def worker(cases_file: Path, results_file: Path, D: Path, timeout: float, mem_gb: float, repo: Path) -> None:
    import resource

    use_repo(repo)
    import numpy  # noqa: F401
    import embedkit  # noqa: F401
    import embedkit_cli.main  # noqa: F401
    import sklearn.linear_model  # noqa: F401
    try:
        import torch  # noqa: F401
        import torch_geometric  # noqa: F401
    except ImportError:
        pass
    cases = json.loads(cases_file.read_text())
    results = []
    for c in cases:
        W = Path(tempfile.mkdtemp(prefix="w_", dir=D / "_runs"))
        rp = W / ".result.json"
        t0 = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                limit = int(mem_gb * 2**30)
                resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
                _run_child(c, D, W, rp)
            except BaseException as exc:  # noqa: BLE001
                try:
                    rp.write_text(json.dumps({"setup_error": True, "msg": f"{type(exc).__name__}: {exc}"}))
                except Exception:  # noqa: BLE001
                    pass
            finally:
                os._exit(0)
        limit_s = c.get("timeout") or timeout
        hang = False
        while True:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.perf_counter() - t0 > limit_s:
                hang = True
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                os.waitpid(pid, 0)
                break
            time.sleep(0.02)
        secs = time.perf_counter() - t0
        if hang:
            res = {"hang": True}
        elif rp.exists():
            res = json.loads(rp.read_text())
        else:
            res = {"setup_error": True, "msg": "the case's process died without a result (killed?)"}
        if res.get("setup_error") and c["mode"] == "cli":
            outcome, msg = "setup-error", res["msg"]
        else:
            outcome, msg = _classify(c, res)
        results.append({"id": c["id"], "area": c["area"], "mode": c["mode"], "expect": c["expect"],
                        "outcome": outcome, "seconds": round(secs, 2), "message": msg[-600:]})
        shutil.rmtree(W, ignore_errors=True)
        results_file.write_text(json.dumps(results))


# ----------------------------------------------------------------------------- driver
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--python", default=sys.executable, help="interpreter (a venv with embedkit's dependencies)")
    ap.add_argument("--repo", default=str(REPO), help="the checkout whose embedkit and CLI are measured "
                    "[default: the one holding this script]")
    ap.add_argument("-j", "--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--timeout", type=float, default=20.0, help="seconds before a case counts as a hang")
    ap.add_argument("--mem-gb", type=float, default=8.0, help="address-space limit of each case")
    ap.add_argument("--only", default=None, help="run only cases whose id contains this")
    ap.add_argument("--out", default=str(HERE / "out" / "edge_cases.json"))
    ap.add_argument("--list", action="store_true", help="list the cases and exit")
    ap.add_argument("--worker", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(Path(args.worker[0]), Path(args.worker[1]), Path(args.worker[2]), args.timeout, args.mem_gb,
               Path(args.repo))
        return
    declare()
    cases = [c for c in CASES if not args.only or args.only in c["id"]]
    if args.list:
        for c in cases:
            print(c["id"], c["expect"])
        print(len(cases), "cases")
        return
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ek_edge_") as tmp:
        D = Path(tmp)
        (D / "_runs").mkdir()
        gen = subprocess.run([args.python, "-c", f"import sys; sys.path.insert(0, {str(HERE)!r}); "
                              "import edge_cases as e; from pathlib import Path; "
                              f"e.make_files(Path({str(D)!r}), Path({args.repo!r}))"], capture_output=True, text=True,
                             cwd=str(REPO))
        if gen.returncode:
            sys.exit(f"making the files failed:\n{gen.stderr}")
        # numba compiles the walk and skip-gram kernels once into its on-disk cache here, not in every case
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                   NUMBA_NUM_THREADS="1", COLUMNS="200", TERM="dumb", NO_COLOR="1")
        t_warm = time.perf_counter()
        warm = subprocess.run([args.python, "-c", f"import sys; sys.path.insert(0, {str(HERE)!r}); "
                               "import edge_cases as e; from pathlib import Path; "
                               f"e.use_repo(Path({args.repo!r})); D = Path({str(D)!r}); exec(e.WARM_UP)"],
                              capture_output=True, text=True, cwd=str(REPO), env=env)
        if warm.returncode:
            sys.exit(f"the warm-up failed:\n{warm.stderr}")
        print(f"files made, kernels compiled ({time.perf_counter() - t_warm:.0f} s)", flush=True)
        (D / "g_out_same.edgelist").write_bytes((D / "g_ok.edgelist").read_bytes())
        (D / "v_out_same.txt").write_bytes((D / "v_ok.txt").read_bytes())
        jobs = max(1, args.jobs)
        chunks = [cases[i::jobs] for i in range(jobs)]
        procs = []
        for i, chunk in enumerate(chunks):
            cf, rf = D / f"_cases{i}.json", D / f"_results{i}.json"
            cf.write_text(json.dumps(chunk))
            procs.append((subprocess.Popen([args.python, str(Path(__file__).resolve()), "--worker", str(cf), str(rf),
                                            str(D), "--timeout", str(args.timeout), "--mem-gb", str(args.mem_gb),
                                            "--repo", args.repo],
                                           cwd=str(REPO), env=env), rf))
        results = []
        for p, rf in procs:
            p.wait()
            if rf.exists():
                results += json.loads(rf.read_text())
    order = {c["id"]: i for i, c in enumerate(cases)}
    results.sort(key=lambda r: order[r["id"]])
    report(results, args, time.perf_counter() - t0)


def report(results: list[dict], args, seconds: float) -> None:
    commit = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True).stdout.strip()
    python_repo = str(Path(args.repo).resolve())
    measured_commit = subprocess.run(["git", "-C", python_repo, "rev-parse", "--short", "HEAD"],
                                     capture_output=True, text=True).stdout.strip() or "not a git checkout"
    by = Counter(r["outcome"] for r in results)
    cols = [o for o in (*OUTCOMES, "setup-error") if by[o] or o in OUTCOMES]
    areas = defaultdict(Counter)
    for r in results:
        areas[r["area"]][r["outcome"]] += 1
    w = max(len(a) for a in [*areas, "area"]) + 2
    head = "area".ljust(w) + "".join(f"{o:>16}" for o in cols) + f"{'total':>8}"
    print(f"edge-case census: {len(results)} cases, embedkit at {python_repo} ({measured_commit}), "
          f"{seconds:.0f} s, load {os.getloadavg()[0]:.2f}")
    print(head)
    for a in sorted(areas):
        print(a.ljust(w) + "".join(f"{areas[a][o]:>16}" for o in cols) + f"{sum(areas[a].values()):>8}")
    print("all".ljust(w) + "".join(f"{by[o]:>16}" for o in cols) + f"{len(results):>8}")
    modes = defaultdict(Counter)
    for r in results:
        modes[r["mode"]][r["outcome"]] += 1
    for m in sorted(modes):
        print(f"  {m}: " + ", ".join(f"{o} {modes[m][o]}" for o in cols if modes[m][o]))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"measured": python_repo, "commit": measured_commit, "script_commit": commit,
                               "python": args.python, "seconds": round(seconds, 1),
                               "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                               "counts": dict(by), "by_area": {a: dict(c) for a, c in areas.items()},
                               "cases": results}, indent=1))
    print(f"per-case outcomes: {out}")


if __name__ == "__main__":
    main()
