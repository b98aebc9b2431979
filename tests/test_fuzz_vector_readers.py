"""Malformed vector files through every reader: each ends in an EmbedkitError naming the file
(and the line, for the formats with lines), fast, and never in a raw numpy/zipfile/json error,
a silent wrong result or a huge allocation. Explicit cases for each known failure, then
hypothesis mutations of valid files of every format."""
from __future__ import annotations

import gzip
import io
import json
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import embedkit as ek
from embedkit.exceptions import DuplicateKeyError, EmbedkitError

#: no case may take longer than this (a hang or a multi-GB allocation would)
CASE_SECONDS = 10.0


def refused(path, match: str | None = None, line: int | None = None, name=None, **kwargs) -> EmbedkitError:
    """Load ``path``; it must fail with an EmbedkitError naming the file (``name``: another file
    that must be named instead), ``line`` when given, and matching ``match``, within CASE_SECONDS."""
    start = time.perf_counter()
    with pytest.raises(EmbedkitError) as info:
        ek.load(path, **kwargs)
    elapsed = time.perf_counter() - start
    msg = str(info.value)
    assert str(name or path) in msg, msg
    if line is not None:
        assert f", line {line}:" in msg, msg
    if match is not None:
        assert match in msg, msg
    assert elapsed < CASE_SECONDS, (elapsed, msg)
    return info.value


def vectors_text(n=300, dim=3, header=True, seed=0) -> str:
    rng = np.random.default_rng(seed)
    rows = [f"w{i} " + " ".join(f"{v:.4f}" for v in rng.standard_normal(dim)) for i in range(n)]
    return (f"{n} {dim}\n" if header else "") + "\n".join(rows) + "\n"


@pytest.fixture
def emb():
    rng = np.random.default_rng(1)
    return ek.Embeddings([f"w{i}" for i in range(20)], rng.standard_normal((20, 4)).astype(np.float32))


# ---- 1. sniffing: one undecodable byte never makes a text file binary ---------------------------
@pytest.mark.parametrize("where", ["key", "first_key", "number"])
def test_latin1_byte_in_text_is_an_error_naming_the_line(tmp_path, where):
    text = vectors_text().encode()
    if where == "key":
        text = text.replace(b"\nw5 ", b"\nw\xe95 ")  # line 7, in the first 4 KB
        line = 7
    elif where == "first_key":
        text = text.replace(b"\nw0 ", b"\nw\xe90 ")
        line = 2
    else:
        first = text.split(b"\n")[3]
        text = text.replace(first, first[:-1] + b"\xe9")
        line = 4
    path = tmp_path / "vectors.txt"
    path.write_bytes(text)
    refused(path, "not valid UTF-8", line=line)


def test_text_and_binary_still_sniffed_right(tmp_path, emb):
    for ext in (".txt", ".bin"):
        emb.export(tmp_path / f"v{ext}")
        (tmp_path / f"v{ext}").rename(tmp_path / f"v{ext}.model")  # no extension hint: sniffed
        back = ek.load(tmp_path / f"v{ext}.model", format="word2vec")
        np.testing.assert_array_equal(back.vectors, emb.vectors)
        assert back.keys == emb.keys


# ---- 2. NaN / infinity refused in every format, allowed on request ------------------------------
def _nan_emb():
    vectors = np.arange(12, dtype=np.float32).reshape(4, 3)
    vectors[2, 1] = np.nan
    vectors[3, 0] = np.inf
    return ek.Embeddings(["a", "b", "c", "d"], vectors)


def _write_nonfinite(path: Path):
    """Write the NaN embeddings in the format of ``path``, through our writers where they allow it."""
    bad = _nan_emb()
    if path.suffix == ".jsonl":  # our writer refuses NaN; other tools write the NaN literal
        path.write_text("".join(json.dumps({"id": k, "vector": [float(x) for x in v]}) + "\n"
                                for k, v in zip(bad.keys, bad.vectors)))
    else:
        bad.export(path)


@pytest.mark.parametrize("name,line", [("v.txt", 4), ("v.bin", None), ("v.npy", None), ("v.npz", None),
                                       ("v.ekv", None), ("v.parquet", None), ("v.jsonl", 3), ("v.tsv", 3),
                                       ("v.txt.gz", 4)])
def test_nonfinite_refused_naming_key_then_allowed(tmp_path, name, line):
    path = tmp_path / name
    _write_nonfinite(path)
    err = refused(path, "NaN or infinity", line=line)
    if not name.endswith(".tsv"):  # the projector's vector file has no keys; it names the line
        assert "'c'" in str(err) or " c " in str(err) or "key 2" in str(err), str(err)
    assert "allow_nonfinite=True" in str(err)
    back = ek.load(path, allow_nonfinite=True)
    assert np.isnan(back.vectors[2, 1]) and np.isposinf(back.vectors[3, 0])


def test_nonfinite_refused_under_mmap_too(tmp_path):
    _nan_emb().save(tmp_path / "v.ekv")
    refused(tmp_path / "v.ekv", "row 2", mmap=True)
    assert np.isnan(ek.load(tmp_path / "v.ekv", mmap=True, allow_nonfinite=True).vectors[2, 1])


def test_float64_beyond_float32_range_refused(tmp_path):
    np.save(tmp_path / "v.npy", np.array([[1.0, 2.0], [1e300, 0.0]]))
    refused(tmp_path / "v.npy", "row 1: the vector of key 1 holds NaN or infinity as float32 (stored as float64)")
    (tmp_path / "v.txt").write_text("2 2\na 1 2\nb 1e300 0\n")
    refused(tmp_path / "v.txt", "key 'b'", line=3)


# ---- 3. duplicate keys: refused on load naming both places; never exported ----------------------
@pytest.mark.parametrize("name,match,line", [
    ("d.txt", "first on line 2, again on line 5", 5),
    ("d.jsonl", "first on line 1, again on line 4", 4),
    ("d.bin", "vector 1 and vector 4", None),
    ("d.npz", "row 0 and row 3", None),
    ("d.parquet", "row 0 and row 3", None),
])
def test_duplicate_keys_refused_naming_both(tmp_path, name, match, line):
    path = tmp_path / name
    keys, vectors = ["a", "b", "c", "a"], np.eye(4, dtype=np.float32)
    if name.endswith(".txt"):
        path.write_text("4 4\n" + "".join(f"{k} " + " ".join(map(str, v)) + "\n"
                                          for k, v in zip(keys, vectors.tolist())))
    elif name.endswith(".jsonl"):
        path.write_text("".join(json.dumps({"id": k, "vector": v}) + "\n" for k, v in zip(keys, vectors.tolist())))
    elif name.endswith(".bin"):
        path.write_bytes(b"4 4\n" + b"".join(k.encode() + b" " + v.astype("<f4").tobytes() + b"\n"
                                             for k, v in zip(keys, vectors)))
    elif name.endswith(".npz"):
        np.savez(path, keys=np.array(keys), vectors=vectors)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.table({"key": keys, "vector": vectors.tolist()}), path)
    refused(path, match, line=line)


def test_duplicate_keys_in_side_files(tmp_path):
    np.save(tmp_path / "v.npy", np.eye(3, dtype=np.float32))
    (tmp_path / "v.npy.keys.json").write_text(json.dumps({"type": "int", "keys": [5, 6, 5]}))
    refused(tmp_path / "v.npy", "row 0 and row 2")
    (tmp_path / "p.tsv").write_text("1\t0\n0\t1\n1\t1\n")
    (tmp_path / "p.metadata.tsv").write_text("x\ny\nx\n")
    refused(tmp_path / "p.tsv", "first on line 1, again on line 3", line=3, name=tmp_path / "p.metadata.tsv")


@pytest.mark.parametrize("ext", [".txt", ".bin", ".npy", ".npz", ".ekv", ".parquet", ".jsonl", ".tsv"])
def test_export_refuses_duplicate_keys_and_writes_nothing(tmp_path, ext):
    emb = ek.Embeddings(["a", "b", "a"], np.eye(3))
    with pytest.raises(DuplicateKeyError, match="rows 0 and 2"):
        emb.export(tmp_path / f"v{ext}")
    assert list(tmp_path.iterdir()) == []
    mixed = ek.Embeddings([1, "1"], np.eye(2))  # one key once written as text
    with pytest.raises(DuplicateKeyError, match="rows 0 and 1"):
        mixed.export(tmp_path / "v.txt")


def test_lookup_in_embeddings_with_duplicates_names_both_rows():
    emb = ek.Embeddings(["a", "b", "a"], np.eye(3))
    with pytest.raises(DuplicateKeyError, match="rows 0 and 2"):
        emb["a"]


# ---- 4. header counts both ways; declared sizes checked before allocating ------------------------
def test_text_header_counts_both_ways(tmp_path):
    path = tmp_path / "v.txt"
    path.write_text("2 2\na 1 2\nb 3 4\nc 5 6\n")
    refused(path, "declares 2 vectors but the file holds more", line=4)
    path.write_text("4 2\na 1 2\nb 3 4\nc 5 6\n")
    refused(path, "declares 4 vectors but the file holds 3", line=1)


def test_binary_header_counts_both_ways(tmp_path, emb):
    full = tmp_path / "v.bin"
    emb.export(full)
    data = full.read_bytes()
    fewer = tmp_path / "fewer.bin"
    fewer.write_bytes(data.replace(b"20 4\n", b"19 4\n", 1))  # used to load 19 vectors silently
    refused(fewer, "declares 19 vectors but the file holds more")
    assert len(ek.load(fewer, limit=19)) == 19  # limit= asks for a prefix: no complaint
    more = tmp_path / "more.bin"
    more.write_bytes(data.replace(b"20 4\n", b"21 4\n", 1))
    refused(more, "file ends inside vector 21")


@pytest.mark.parametrize("name,head", [
    ("huge.txt", b"1000000000000 100\n"), ("huge.bin", b"1000000000000 100\n"),
    ("wide.txt", b"1 1000000000000\n"), ("huge.txt.gz", b"1000000000000 100\n"),
])
def test_huge_declared_sizes_refused_before_allocating(tmp_path, name, head):
    path = tmp_path / name
    body = head + b"a " + b"0.5 " * 99 + b"0.5\n"
    path.write_bytes(gzip.compress(body) if name.endswith(".gz") else body)
    refused(path, "which need at least", line=1)


def _npy_bytes(shape, dtype="<f4", data=b"") -> bytes:
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue() + data


@pytest.mark.parametrize("mmap", [False, True])
def test_huge_npy_shape_refused(tmp_path, mmap):
    path = tmp_path / "huge.npy"
    path.write_bytes(_npy_bytes((10 ** 12, 100), data=b"\0" * 400))
    refused(path, "declares shape (1000000000000, 100)", mmap=mmap)


@pytest.mark.parametrize("mmap", [False, True])
def test_huge_ekv_shape_refused(tmp_path, emb, mmap):
    path = tmp_path / "huge.ekv"
    _rezip(emb, path, {"vectors.npy": _npy_bytes((10 ** 12, 4), data=b"\0" * 64)})
    refused(path, "declares shape (1000000000000, 4)", mmap=mmap)


# ---- 5. .npy / .npz / .ekv: garbage, truncation, objects, malformed JSON ------------------------
def _members(emb, tmp_path) -> dict:
    src = tmp_path / "src.ekv"
    emb.save(src)
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    src.unlink()
    return members


def _rezip(emb, path: Path, replace: dict, compress: dict | None = None):
    """An .ekv of ``emb`` with members replaced (None drops one); ``compress``: name -> zip method."""
    members = {**_members(emb, path.parent), **replace}
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            if data is not None:
                zf.writestr(name, data, compress_type=(compress or {}).get(name, zipfile.ZIP_STORED))


def _obj_npy() -> bytes:
    """An .npy of an object array as a reader sees it: the header says dtype object; the body
    (which np.save would pickle) is plain zeros, so no pickle is ever written."""
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "|O", "fortran_order": False, "shape": (1, 2)})
    return buf.getvalue() + bytes(16)


@pytest.mark.parametrize("case,match", [
    ("garbage", "magic string"),
    ("truncated", "declares shape (20, 4)"),
    ("object", "Python objects"),
    ("one_d", "expected a 2-D array"),
    ("strings", "holds <U1, not numbers"),
    ("keys_not_json", "not valid JSON"),
    ("keys_list", "must be a JSON object"),
    ("keys_wrong_count", "holds 3 keys for 20 vectors"),
    ("keys_nested", "key 0 is [1], not an integer"),
])
def test_npy_malformed(tmp_path, emb, case, match):
    path = tmp_path / "v.npy"
    emb.export(path)
    side = tmp_path / "v.npy.keys.json"
    good = path.read_bytes()
    name = path
    if case == "garbage":
        path.write_bytes(b"hello, not an array" * 5)
    elif case == "truncated":
        path.write_bytes(good[:-7])
    elif case == "object":
        path.write_bytes(_obj_npy())
    elif case == "one_d":
        np.save(path, np.arange(5.0))
        side.unlink()
    elif case == "strings":
        np.save(path, np.array([["a", "b"]]))
        side.unlink()
    else:
        name = side
        side.write_text({"keys_not_json": "{oops", "keys_list": "[1, 2]",
                         "keys_wrong_count": '{"type": "str", "keys": ["a", "b", "c"]}',
                         "keys_nested": '{"type": "int", "keys": [[1]]}'}[case])
    refused(path, match, name=name)


@pytest.mark.parametrize("case,match", [
    ("garbage", "not a zip file"),
    ("truncated", "cannot be read"),
    ("no_keys", "must hold arrays 'keys' and 'vectors'"),
    ("object_keys", "keys.npy holds Python objects"),
    ("bad_vectors", "vectors.npy: cannot be read"),
    ("count", "keys.npy holds 2 keys for 20 vectors"),
])
def test_npz_malformed(tmp_path, emb, case, match):
    path = tmp_path / "v.npz"
    emb.export(path)
    good = path.read_bytes()
    if case == "garbage":
        path.write_bytes(b"PK\x03\x04 this is no zip")
    elif case == "truncated":
        path.write_bytes(good[:len(good) // 2])
    elif case == "no_keys":
        np.savez(path, vectors=emb.vectors)
    elif case == "object_keys":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("keys.npy", _obj_npy())
            zf.writestr("vectors.npy", _npy_bytes((1, 2), data=b"\0" * 8))
    elif case == "bad_vectors":
        with zipfile.ZipFile(path, "w") as zf:
            zf.writestr("keys.npy", _npy_bytes((1,), "<i8", b"\0" * 8))
            zf.writestr("vectors.npy", b"garbage")
    else:
        np.savez(path, keys=np.array(["a", "b"]), vectors=emb.vectors)
    err = refused(path, None)
    assert match.lower() in str(err).lower(), str(err)


@pytest.mark.parametrize("case,match", [
    ("meta_not_json", "meta.json is not valid JSON"),
    ("meta_list", "meta.json must hold a JSON object"),
    ("meta_version", "format_version must be an integer"),
    ("meta_missing", "meta.json"),
    ("keys_not_json", "keys.json is not valid JSON"),
    ("keys_no_list", "keys.json must be a JSON object"),
    ("keys_bool", "key 1 is True"),
    ("keys_count", "holds 2 keys for 20 vectors"),
    ("keys_missing", "keys.json is missing"),
    ("vectors_object", "vectors.npy holds Python objects"),
    ("vectors_garbage", "vectors.npy: cannot be read"),
    ("vectors_truncated", "vectors.npy declares shape (20, 4)"),
    ("vectors_missing", "vectors.npy is missing"),
])
def test_ekv_malformed(tmp_path, emb, case, match):
    path = tmp_path / "v.ekv"
    good = _members(emb, tmp_path)
    meta = json.loads(good["meta.json"])
    replace = {
        "meta_not_json": {"meta.json": b"{nope"},
        "meta_list": {"meta.json": b"[1, 2]"},
        "meta_version": {"meta.json": json.dumps({**meta, "format_version": "x"}).encode()},
        "meta_missing": {"meta.json": None, "x.json": b"{}"},
        "keys_not_json": {"keys.json": b"\xff\xfe"},
        "keys_no_list": {"keys.json": b'{"type": "str", "keys": 5}'},
        "keys_bool": {"keys.json": b'{"type": "str", "keys": ["a", true]}'},
        "keys_count": {"keys.json": b'{"type": "str", "keys": ["a", "b"]}'},
        "keys_missing": {"keys.json": None},
        "vectors_object": {"vectors.npy": _obj_npy()},
        "vectors_garbage": {"vectors.npy": b"junk" * 10},
        "vectors_truncated": {"vectors.npy": good["vectors.npy"][:-9]},
        "vectors_missing": {"vectors.npy": None},
    }[case]
    _rezip(emb, path, replace)
    err = refused(path, None)
    assert match in str(err) or (case == "keys_not_json" and "not valid UTF-8" in str(err)), str(err)


def test_ekv_folder_malformed(tmp_path, emb):
    folder = tmp_path / "v.ekv"
    folder.mkdir()
    for name, data in _members(emb, tmp_path).items():
        (folder / name).write_bytes(data)
    (folder / "keys.json").write_text("[")
    refused(folder, "not valid JSON", name=folder / "keys.json")
    (folder / "keys.json").write_text(json.dumps({"type": "str", "keys": emb.keys}))
    (folder / "vectors.npy").write_bytes(_obj_npy())
    refused(folder, "Python objects", name=folder / "vectors.npy")


def test_garbage_ekv(tmp_path):
    path = tmp_path / "v.ekv"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    refused(path, "not an embedkit .ekv file")


# ---- 6. zip artifacts read with limits -----------------------------------------------------------
def test_ekv_meta_json_over_the_size_cap(tmp_path, emb):
    path = tmp_path / "bomb.ekv"
    meta = json.loads(_members(emb, tmp_path)["meta.json"])
    big = json.dumps({**meta, "pad": " " * (70 << 20)}).encode()  # 70 MB of spaces: ~70 KB compressed
    _rezip(emb, path, {"meta.json": big}, {"meta.json": zipfile.ZIP_DEFLATED})
    assert path.stat().st_size < 1 << 20
    refused(path, "meta.json declares")


def test_ekv_compression_ratio_cap(tmp_path, emb):
    path = tmp_path / "ratio.ekv"
    meta = json.loads(_members(emb, tmp_path)["meta.json"])
    padded = json.dumps({**meta, "pad": " " * (4 << 20)}).encode()  # under the size cap, ~1000:1
    _rezip(emb, path, {"meta.json": padded}, {"meta.json": zipfile.ZIP_DEFLATED})
    refused(path, "expands")
    # ordinary compressed members (a folder zipped again by a user) still load
    _rezip(emb, path, {}, {"meta.json": zipfile.ZIP_DEFLATED, "keys.json": zipfile.ZIP_DEFLATED,
                           "vectors.npy": zipfile.ZIP_DEFLATED})
    np.testing.assert_array_equal(ek.load(path).vectors, emb.vectors)


def test_npz_compression_ratio_cap(tmp_path):
    path = tmp_path / "zeros.npz"
    np.savez_compressed(path, keys=np.arange(1000), vectors=np.zeros((1000, 1000), np.float32))
    refused(path, "vectors.npy expands")
    small = tmp_path / "ok.npz"
    rng = np.random.default_rng(0)
    np.savez_compressed(small, keys=np.arange(50), vectors=rng.standard_normal((50, 8)).astype(np.float32))
    assert ek.load(small).vectors.shape == (50, 8)


def test_stored_member_larger_than_the_zip(tmp_path, emb):
    path = tmp_path / "v.ekv"
    emb.save(path)
    data = bytearray(path.read_bytes())
    # the central directory entry of keys.json: grow its sizes beyond the file
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("keys.json")
    entry = data.find(b"keys.json", data.find(b"PK\x01\x02"))
    start = entry - 46
    assert data[start:start + 4] == b"PK\x01\x02"
    size = (info.file_size + 10 ** 9).to_bytes(4, "little")
    data[start + 20:start + 24] = size  # compressed size
    data[start + 24:start + 28] = size  # uncompressed size
    path.write_bytes(bytes(data))
    refused(path, "keys.json")


# ---- 7. compressed files and byte-order marks ---------------------------------------------------
@pytest.mark.parametrize("name", ["v.txt.gz", "v.bin.gz", "v.jsonl.gz", "glove.txt.gz"])
def test_truncated_gz(tmp_path, emb, name):
    big = ek.Embeddings([f"w{i}" for i in range(3000)],
                        np.random.default_rng(0).standard_normal((3000, 16)).astype(np.float32))
    path = tmp_path / name
    big.export(path, format="glove" if name.startswith("glove") else None)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    err = refused(path, "ends early")
    if not name.startswith("v.bin"):
        assert ", line " in str(err)


@pytest.mark.parametrize("name,text", [
    ("h.txt", "2 2\na 1 2\nb 3 4\n"),
    ("g.txt", "a 1 2\nb 3 4\n"),
    ("j.jsonl", '{"id": "a", "vector": [1, 2]}\n{"id": "b", "vector": [3, 4]}\n'),
    ("p.tsv", "1\t2\n3\t4\n"),
])
def test_bom_dropped(tmp_path, name, text):
    path = tmp_path / name
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())
    if name == "p.tsv":
        (tmp_path / "p.metadata.tsv").write_bytes(b"\xef\xbb\xbfa\nb\n")
    back = ek.load(path)
    assert back.keys == ["a", "b"]
    np.testing.assert_array_equal(back.vectors, [[1, 2], [3, 4]])
    gz = tmp_path / (name + ".gz")
    if name != "p.tsv":
        gz.write_bytes(gzip.compress(path.read_bytes()))
        assert ek.load(gz).keys == ["a", "b"]


# ---- 8. hypothesis: mutated valid files of every format load cleanly or fail clearly --------------
FORMATS = [".txt", ".glove", ".bin", ".npy", ".npz", ".ekv", ".jsonl", ".tsv", ".parquet"]


@pytest.fixture(scope="module")
def valid_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("valid")
    emb = ek.Embeddings([f"k{i}" for i in range(12)],
                        np.random.default_rng(3).standard_normal((12, 5)).astype(np.float32))
    out = {}
    for ext in FORMATS:
        path = root / f"v{ext}"
        emb.export(path, format="glove" if ext == ".glove" else None)
        out[ext] = path.read_bytes()
    return out


def _check_outcome(path: Path, fmt: str | None):
    start = time.perf_counter()
    try:
        back = ek.load(path, format=fmt)
    except EmbedkitError as exc:
        assert str(path) in str(exc) or path.name in str(exc), str(exc)
    else:
        if isinstance(back, ek.Embeddings):
            assert np.isfinite(back.vectors).all()
            assert len(set(back.keys)) == len(back.keys)
    assert time.perf_counter() - start < CASE_SECONDS


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ext=st.sampled_from(FORMATS), data=st.data())
def test_mutated_files_fail_clearly(tmp_path_factory, valid_files, ext, data):
    raw = bytearray(valid_files[ext])
    kind = data.draw(st.sampled_from(["flip", "cut", "insert"]))
    if kind == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    elif kind == "cut":
        raw = raw[:data.draw(st.integers(0, len(raw) - 1))]
    else:
        at = data.draw(st.integers(0, len(raw)))
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
    folder = tmp_path_factory.mktemp("mut")
    path = folder / f"v{'.txt' if ext == '.glove' else ext}"
    path.write_bytes(bytes(raw))
    _check_outcome(path, "glove" if ext == ".glove" else None)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.binary(max_size=200), ext=st.sampled_from([".txt", ".bin", ".npy", ".npz", ".ekv", ".jsonl", ".tsv"]))
def test_random_bytes_fail_clearly(tmp_path_factory, body, ext):
    path = tmp_path_factory.mktemp("rnd") / f"v{ext}"
    path.write_bytes(body)
    _check_outcome(path, None)


@settings(max_examples=40, deadline=None)
@given(rows=st.lists(st.tuples(st.text(alphabet="abc\xe9", min_size=1, max_size=3),
                               st.lists(st.floats(width=32, allow_nan=True, allow_infinity=True),
                                        min_size=2, max_size=2)), min_size=1, max_size=6))
def test_text_values_either_round_trip_or_are_refused(tmp_path_factory, rows):
    """A word2vec text file of arbitrary keys and float32 values (NaN, inf included): it loads
    exactly when every value is finite and every key unique, else the error names the line."""
    path = tmp_path_factory.mktemp("txt") / "v.txt"
    path.write_text(f"{len(rows)} 2\n" + "".join(f"{k} {a!r} {b!r}\n" for k, (a, b) in rows), encoding="utf-8")
    keys = [k for k, _ in rows]
    values = np.array([v for _, v in rows], dtype=np.float32)
    ok = np.isfinite(values).all() and len(set(keys)) == len(keys)
    if ok:
        back = ek.load(path)
        assert back.keys == keys
        np.testing.assert_array_equal(back.vectors, values)
    else:
        refused(path, None, line=None)
        with pytest.raises(EmbedkitError) as info:
            ek.load(path)
        assert ", line " in str(info.value)


def test_an_npy_header_with_an_unclosed_bracket_is_an_input_format_error(tmp_path):
    # found by test_mutated_files_fail_clearly: numpy parses the header with ast.literal_eval, and an
    # unclosed bracket raised tokenize.TokenError through ek.load
    import io as _io

    buf = _io.BytesIO()
    np.save(buf, np.ones((3, 2), np.float32))
    raw = bytearray(buf.getvalue())
    for i in (11, 50, 66):
        mutated = bytearray(raw)
        mutated[i] = ord("(")
        path = tmp_path / f"m{i}.npy"
        path.write_bytes(bytes(mutated))
        with pytest.raises(ek.InputFormatError, match=f"m{i}.npy"):
            ek.load(path)
