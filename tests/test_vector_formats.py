"""Embeddings (embedkit/embeddings.py) and the vector formats (embedkit/io/*):
the native .ekv format, word2vec text/binary, GloVe, .npy/.npz, gensim interop
and the queries."""
from __future__ import annotations

import io
import json
import zipfile
from types import SimpleNamespace

import numpy as np
import pytest

import embedkit as ek
from embedkit import Embeddings

gensim_models = pytest.importorskip("gensim.models")
KeyedVectors = gensim_models.KeyedVectors


def _vectors(n: int = 6, dim: int = 5, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


@pytest.fixture
def str_emb() -> Embeddings:
    keys = ["the", "cat", "café", "42", "-7", "naïve"]
    return Embeddings(keys, _vectors(), {"method": "test", "params": {"dim": 5}, "metrics": {"auc": 0.75}})


@pytest.fixture
def int_emb() -> Embeddings:
    return Embeddings([10, 3, 7, 0, 42, 5], _vectors(seed=1), {"method": "test-int"})


def _no_temp_files(folder) -> bool:
    return not [p.name for p in folder.iterdir() if p.name.endswith((".tmp", ".old"))]


# ---- the native .ekv format -------------------------------------------------------------
@pytest.mark.parametrize("fixture", ["str_emb", "int_emb"])
def test_ekv_round_trip(tmp_path, request, fixture):
    emb = request.getfixturevalue(fixture)
    path = tmp_path / "v.ekv"
    emb.save(path)
    for loaded in (ek.load(path), Embeddings.load(path)):
        assert loaded.keys == emb.keys
        assert [type(k) for k in loaded.keys] == [type(k) for k in emb.keys]
        np.testing.assert_array_equal(loaded.vectors, emb.vectors)
        assert loaded.vectors.dtype == np.float32
        for k, v in emb.meta.items():
            assert loaded.meta[k] == v
        assert loaded.meta["embedkit_version"] == ek.__version__
        assert loaded.meta["shape"] == list(emb.vectors.shape)
    assert _no_temp_files(tmp_path)


def test_ekv_holds_no_pickle(tmp_path, str_emb):
    path = tmp_path / "v.ekv"
    str_emb.save(path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["keys.json", "meta.json", "vectors.npy"]
        for info in zf.infolist():
            assert info.compress_type == zipfile.ZIP_STORED
        raw = zf.read("vectors.npy")
        meta = json.loads(zf.read("meta.json"))
        keys = json.loads(zf.read("keys.json"))
    vectors = np.load(io.BytesIO(raw), allow_pickle=False)
    assert vectors.dtype == np.float32 and vectors.dtype != object
    np.testing.assert_array_equal(vectors, str_emb.vectors)
    assert keys == {"type": "str", "keys": str_emb.keys}
    assert meta["format"] == "embedkit.embeddings" and meta["method"] == "test"


def test_ekv_loads_from_an_unpacked_folder(tmp_path, int_emb):
    path = tmp_path / "v.ekv"
    int_emb.save(path)
    folder = tmp_path / "unpacked"
    with zipfile.ZipFile(path) as zf:
        zf.extractall(folder)
    loaded = ek.load(folder)
    assert loaded.keys == int_emb.keys
    np.testing.assert_array_equal(loaded.vectors, int_emb.vectors)


def test_ekv_is_found_whatever_the_extension(tmp_path, str_emb):
    path = tmp_path / "vectors.data"
    str_emb.export(path, format="ekv")
    assert ek.load(path).keys == str_emb.keys


def test_bad_ekv_files(tmp_path, str_emb):
    not_zip = tmp_path / "a.ekv"
    not_zip.write_text("hello")
    with pytest.raises(ek.InputFormatError, match="a.ekv"):
        ek.load(not_zip)
    other_zip = tmp_path / "b.ekv"
    with zipfile.ZipFile(other_zip, "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ek.InputFormatError, match="b.ekv"):
        ek.load(other_zip)
    # keys and vectors disagree
    good = tmp_path / "c.ekv"
    str_emb.save(good)
    bad = tmp_path / "d.ekv"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            if name == "keys.json":
                data = json.dumps({"type": "str", "keys": ["only-one"]}).encode()
            dst.writestr(name, data)
    with pytest.raises(ek.InputFormatError, match="1 keys for 6 vectors"):
        ek.load(bad)
    with pytest.raises(ek.InputFormatError, match="no such file"):
        ek.load(tmp_path / "missing.ekv")


# ---- export / load round trips ------------------------------------------------------------
EXACT = [".bin", ".npy", ".npz", ".ekv", ".bin.gz"]
TEXT = [".txt", ".vec", ".txt.gz", ".vec.gz"]


@pytest.mark.parametrize("ext", EXACT + TEXT)
def test_export_load_round_trip_str_keys(tmp_path, str_emb, ext):
    path = tmp_path / f"vectors{ext}"
    str_emb.export(path)
    loaded = ek.load(path)
    assert loaded.keys == str_emb.keys
    if ext in EXACT:
        np.testing.assert_array_equal(loaded.vectors, str_emb.vectors)
    else:  # 6 significant digits by default
        np.testing.assert_allclose(loaded.vectors, str_emb.vectors, rtol=1e-5, atol=1e-6)
    assert _no_temp_files(tmp_path)


@pytest.mark.parametrize("ext", EXACT + TEXT)
def test_export_load_round_trip_int_keys(tmp_path, int_emb, ext):
    path = tmp_path / f"vectors{ext}"
    int_emb.export(path)
    loaded = ek.load(path)
    if ext in (".npy", ".npz", ".ekv"):
        assert loaded.keys == int_emb.keys  # the key type survives
        assert all(type(k) is int for k in loaded.keys)
    else:  # the word2vec formats store text
        assert loaded.keys == [str(k) for k in int_emb.keys]
    # either way lookups by int or str find the same rows
    for k in int_emb.keys:
        np.testing.assert_allclose(loaded[k], int_emb[k], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(loaded[str(k)], int_emb[k], rtol=1e-5, atol=1e-6)


def test_text_export_is_lossless_by_default(tmp_path, str_emb):
    path = tmp_path / "v.txt"
    str_emb.export(path)
    np.testing.assert_array_equal(ek.load(path).vectors, str_emb.vectors)
    str_emb.export(path, precision=4)  # a smaller file on request, no longer exact
    assert not np.array_equal(ek.load(path).vectors, str_emb.vectors)


def test_txt_gz_is_gzipped(tmp_path, str_emb):
    import gzip

    for ext in (".txt.gz", ".bin.gz"):
        path = tmp_path / f"v{ext}"
        str_emb.export(path)
        assert path.read_bytes()[:2] == b"\x1f\x8b"
        with gzip.open(path, "rb") as fh:
            assert fh.readline() == b"6 5\n"


def test_npy_sidecar(tmp_path, str_emb):
    path = tmp_path / "m.npy"
    str_emb.export(path)
    np.testing.assert_array_equal(np.load(path, allow_pickle=False), str_emb.vectors)
    assert json.loads((tmp_path / "m.npy.keys.json").read_text())["keys"] == str_emb.keys
    # without the sidecar the rows are numbered
    plain = tmp_path / "plain.npy"
    np.save(plain, str_emb.vectors)
    loaded = ek.load(plain)
    assert loaded.keys == list(range(6))
    np.testing.assert_array_equal(loaded[3], str_emb.vectors[3])


def test_npz_loads_without_pickle(tmp_path, str_emb):
    path = tmp_path / "m.npz"
    str_emb.export(path)
    with np.load(path, allow_pickle=False) as z:
        assert z["keys"].tolist() == str_emb.keys
        np.testing.assert_array_equal(z["vectors"], str_emb.vectors)
    bad = tmp_path / "bad.npz"
    np.savez(bad, something=np.zeros(3))
    with pytest.raises(ek.InputFormatError, match="keys"):
        ek.load(bad)


def test_glove_no_header(tmp_path, str_emb):
    path = tmp_path / "glove.txt"
    path.write_text("the 0.1 0.2 0.3\ncat -1 2.5 3e-2\n", encoding="utf-8")
    loaded = ek.load(path)
    assert loaded.keys == ["the", "cat"] and loaded.meta["format"] == "glove"
    np.testing.assert_allclose(loaded["cat"], [-1, 2.5, 0.03])
    # and the glove writer gives the same thing back
    out = tmp_path / "out.txt"
    str_emb.export(out, format="glove")
    assert out.read_text(encoding="utf-8").split("\n", 1)[0].split(" ")[0] == "the"
    np.testing.assert_allclose(ek.load(out).vectors, str_emb.vectors, rtol=1e-5, atol=1e-6)


def test_limit(tmp_path, str_emb):
    for ext in (".txt", ".bin"):
        path = tmp_path / f"v{ext}"
        str_emb.export(path)
        part = ek.load(path, limit=2)
        assert part.keys == str_emb.keys[:2]
        np.testing.assert_allclose(part.vectors, str_emb.vectors[:2], rtol=1e-5, atol=1e-6)


def test_text_sniffing_with_a_multibyte_character_at_the_chunk_edge(tmp_path):
    """A text file must not pass for binary because the 4 KiB probe cut a UTF-8 character."""
    keys = [f"é{i}" for i in range(400)]
    vecs = np.round(_vectors(400, 3), 3)
    for pad in range(8):
        body = [("x" * (pad + 1)) + " 0 0 0"] + [k + " " + " ".join(f"{x:.3f}" for x in row)
                                                 for k, row in zip(keys, vecs)]
        header = f"{len(body)} 3\n".encode()
        data = header + ("\n".join(body) + "\n").encode("utf-8")
        if data[len(header) + 4095] == 0xC3:  # the probe ends on the first byte of "é"
            break
    else:  # pragma: no cover - the layout above always hits one
        pytest.fail("could not place a multi-byte character at the probe's edge")
    path = tmp_path / "edge.txt"
    path.write_bytes(data)
    for source in (path, tmp_path / "edge.unknown"):
        if source != path:
            source.write_bytes(data)
        loaded = ek.load(source)
        assert loaded.keys[1:] == keys
        np.testing.assert_allclose(loaded.vectors[1:], vecs, atol=1e-6)


# ---- gensim interop --------------------------------------------------------------------
def _gensim_kv(keys, vectors):
    kv = KeyedVectors(vectors.shape[1])
    kv.add_vectors(keys, vectors)
    return kv


@pytest.mark.parametrize("binary", [False, True], ids=["text", "binary"])
def test_gensim_files_load(tmp_path, str_emb, binary):
    kv = _gensim_kv(str_emb.keys, str_emb.vectors)
    path = tmp_path / ("g.bin" if binary else "g.txt")
    kv.save_word2vec_format(str(path), binary=binary)
    loaded = ek.load(path)
    assert loaded.keys == list(kv.index_to_key)
    np.testing.assert_array_equal(loaded.vectors, kv.vectors)
    # the content is sniffed when the extension says nothing
    odd = tmp_path / ("g.weights" if binary else "g.data")
    odd.write_bytes(path.read_bytes())
    np.testing.assert_array_equal(ek.load(odd).vectors, kv.vectors)


@pytest.mark.parametrize("ext,binary", [(".txt", False), (".vec", False), (".bin", True)])
def test_our_files_load_in_gensim(tmp_path, str_emb, ext, binary):
    path = tmp_path / f"ours{ext}"
    str_emb.export(path)
    kv = KeyedVectors.load_word2vec_format(str(path), binary=binary)
    assert list(kv.index_to_key) == str_emb.keys
    if binary:
        np.testing.assert_array_equal(kv.vectors, str_emb.vectors)
    else:
        np.testing.assert_allclose(kv.vectors, str_emb.vectors, rtol=1e-5, atol=1e-6)


def test_from_gensim(str_emb):
    kv = _gensim_kv(str_emb.keys, str_emb.vectors)
    emb = Embeddings.from_gensim(kv)
    assert emb.keys == str_emb.keys
    np.testing.assert_array_equal(emb.vectors, str_emb.vectors)
    model = SimpleNamespace(wv=kv)  # a model holding KeyedVectors in .wv
    assert Embeddings.from_gensim(model).keys == str_emb.keys


def test_to_gensim_round_trip(int_emb):
    kv = int_emb.to_gensim()
    assert list(kv.index_to_key) == [str(k) for k in int_emb.keys]
    assert kv.vectors.shape == int_emb.vectors.shape
    np.testing.assert_array_equal(kv["42"], int_emb[42])
    back = Embeddings.from_gensim(kv)
    assert back.keys == [str(k) for k in int_emb.keys]
    np.testing.assert_array_equal(back.vectors, int_emb.vectors)
    # gensim's own query agrees with ours
    ours = [k for k, _ in int_emb.most_similar(42, k=3)]
    theirs = [k for k, _ in kv.most_similar("42", topn=3)]
    assert theirs == [str(k) for k in ours]


# ---- malformed vector files ---------------------------------------------------------------
@pytest.mark.parametrize("text,lineno,bad", [
    ("3 2\na 1 2\nb 1\nc 1 2\n", 3, "b 1"),
    ("3 2\na 1 2\nb 1 x\nc 1 2\n", 3, "b 1 x"),
    ("a 1 2\nb 1 2 3\n", 2, "b 1 2 3"),
    ("lonely\n", 1, "lonely"),
], ids=["short-row", "not-a-number", "glove-ragged", "no-numbers"])
def test_malformed_text_names_file_and_line(tmp_path, text, lineno, bad):
    path = tmp_path / "bad.txt"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ek.InputFormatError) as info:
        ek.load(path)
    msg = str(info.value)
    assert str(path) in msg and f"line {lineno}" in msg and bad in msg


def test_header_count_mismatch_and_truncated_binary(tmp_path, str_emb):
    path = tmp_path / "short.txt"
    path.write_text("5 2\na 1 2\nb 3 4\n")
    with pytest.raises(ek.InputFormatError, match="declares 5 vectors") as info:
        ek.load(path)
    assert str(path) in str(info.value)
    full = tmp_path / "full.bin"
    str_emb.export(full)
    cut = tmp_path / "cut.bin"
    cut.write_bytes(full.read_bytes()[:-8])  # still long enough for the header's count: read until it ends
    with pytest.raises(ek.InputFormatError, match="ends inside vector 6") as info:
        ek.load(cut)
    assert str(cut) in str(info.value)
    cut.write_bytes(full.read_bytes()[:-30])  # too short for 6 vectors of 5 floats: refused before reading
    with pytest.raises(ek.InputFormatError, match="declares 6 vectors of dimension 5, which need") as info:
        ek.load(cut)
    assert str(cut) in str(info.value)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(ek.EmptyInputError):
        ek.load(empty)


def test_unknown_export_format(tmp_path, str_emb):
    with pytest.raises(ek.InvalidParameterError, match="format"):
        str_emb.export(tmp_path / "v.weird")
    with pytest.raises(ek.InvalidParameterError, match="format"):
        str_emb.export(tmp_path / "v.txt", format="nonsense")
    # formats that are not gzipped refuse a .gz path instead of writing an unreadable file
    with pytest.raises(ek.InvalidParameterError, match="gz"):
        str_emb.export(tmp_path / "v.npy.gz")
    assert list(tmp_path.iterdir()) == []


# ---- failed exports leave nothing behind ------------------------------------------------
@pytest.mark.parametrize("ext", [".txt", ".bin", ".txt.gz"])
def test_unwritable_key_keeps_the_old_file(tmp_path, ext):
    path = tmp_path / f"v{ext}"
    path.write_bytes(b"precious")
    emb = Embeddings(["ok", "two words"], np.ones((2, 3)))
    with pytest.raises(ek.InputFormatError) as info:
        emb.export(path)
    assert "two words" in str(info.value) and str(path) in str(info.value)
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


class _FailsMidway:
    """A vectors matrix that breaks after the first block has been written."""

    def __init__(self, arr):
        self.arr, self.shape = arr, arr.shape

    def __getitem__(self, item):
        if isinstance(item, slice) and (item.start or 0) > 0:
            raise OSError("disk full")
        return self.arr[item]

    def astype(self, *args, **kwargs):
        return self

    def __iter__(self):
        for i in range(self.shape[0]):
            if i == 3:
                raise OSError("disk full")
            yield self.arr[i]


@pytest.mark.parametrize("fmt,ext", [("word2vec", ".txt"), ("word2vec", ".txt.gz"), ("word2vec-binary", ".bin")])
def test_failure_midway_keeps_the_old_file(tmp_path, fmt, ext):
    from embedkit.io import WRITERS

    n = 8192 + 10  # the text writer works in blocks of 8192 rows
    emb = SimpleNamespace(keys=[f"k{i}" for i in range(n)], vectors=_FailsMidway(np.ones((n, 2), np.float32)))
    path = tmp_path / f"v{ext}"
    path.write_bytes(b"precious")
    with pytest.raises(OSError, match="disk full"):
        WRITERS[fmt](emb, path)
    assert path.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_failure_midway_npy_and_ekv(tmp_path, str_emb, monkeypatch):
    for name in ("v.npy", "v.npz", "v.ekv"):
        (tmp_path / name).write_bytes(b"precious")

    def broken_save(fh, *args, **kwargs):
        fh.write(b"\x93NUMPY partial")
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr(np, "save", broken_save)
        for name in ("v.npy", "v.ekv"):
            with pytest.raises(OSError, match="disk full"):
                str_emb.export(tmp_path / name)

    def broken_savez(fh, **kwargs):
        fh.write(b"PK partial")
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr(np, "savez", broken_savez)
        with pytest.raises(OSError, match="disk full"):
            str_emb.export(tmp_path / "v.npz")
    for name in ("v.npy", "v.npz", "v.ekv"):
        assert (tmp_path / name).read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v.ekv", "v.npy", "v.npz"]


def test_export_replaces_an_existing_file(tmp_path, str_emb):
    path = tmp_path / "v.txt"
    path.write_text("old")
    str_emb.export(path)
    assert ek.load(path).keys == str_emb.keys
    assert _no_temp_files(tmp_path)


# ---- queries ------------------------------------------------------------------------------
@pytest.fixture
def plane() -> Embeddings:
    # unit directions at known angles, plus a long vector along x and a zero vector
    angles = {"a": 0, "b": 10, "c": 45, "d": 90, "e": 180}
    keys = list(angles)
    vecs = [[np.cos(np.radians(t)), np.sin(np.radians(t))] for t in angles.values()]
    keys.append("long")
    vecs.append([5.0, 0.0])
    return Embeddings(keys, np.array(vecs))


def test_most_similar_excludes_query_and_orders_by_cosine(plane):
    res = plane.most_similar("a", k=10)
    keys = [k for k, _ in res]
    assert "a" not in keys
    assert keys == ["long", "b", "c", "d", "e"]  # cosine, not dot product or distance
    scores = [s for _, s in res]
    np.testing.assert_allclose(scores, [1.0, np.cos(np.radians(10)), np.cos(np.radians(45)), 0.0, -1.0], atol=1e-6)
    assert scores == sorted(scores, reverse=True)
    assert [k for k, _ in plane.most_similar("a", k=2)] == ["long", "b"]
    # a vector query excludes nothing
    by_vec = plane.most_similar(np.array([2.0, 0.0], dtype=np.float32), k=2)
    assert {k for k, _ in by_vec} == {"a", "long"}
    with pytest.raises(ek.InvalidParameterError, match="k"):
        plane.most_similar("a", k=0)
    with pytest.raises(ek.KeyNotFoundError):
        plane.most_similar("zzz")


def test_most_similar_matches_brute_force():
    emb = Embeddings([f"w{i}" for i in range(40)], _vectors(40, 8, seed=5))
    unit = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    for q in (0, 17, 39):
        cos = unit @ unit[q]
        cos[q] = -np.inf
        want = np.argsort(-cos)[:7]
        got = emb.most_similar(f"w{q}", k=7)
        assert [k for k, _ in got] == [f"w{i}" for i in want]
        np.testing.assert_allclose([s for _, s in got], cos[want], rtol=1e-5)


def test_similarity(plane):
    assert plane.similarity("a", "d") == pytest.approx(0.0, abs=1e-6)
    assert plane.similarity("a", "e") == pytest.approx(-1.0)
    assert plane.similarity("a", "long") == pytest.approx(1.0)
    assert plane.similarity("b", "c") == pytest.approx(np.cos(np.radians(35)))
    assert plane.similarity("c", "b") == plane.similarity("b", "c")


def test_int_and_str_lookups():
    s = Embeddings(["42", "x", "-3"], np.arange(6, dtype=np.float32).reshape(3, 2))
    np.testing.assert_array_equal(s[42], [0, 1])
    np.testing.assert_array_equal(s["42"], [0, 1])
    np.testing.assert_array_equal(s[np.int64(42)], [0, 1])
    np.testing.assert_array_equal(s[-3], [4, 5])
    assert 42 in s and "42" in s and 43 not in s
    i = Embeddings([42, 7], np.eye(2))
    np.testing.assert_array_equal(i["42"], [1, 0])
    np.testing.assert_array_equal(i[7], [0, 1])
    with pytest.raises(ek.KeyNotFoundError):
        i["nope"]
    with pytest.raises(KeyError):  # still a KeyError for code that expects one
        s[99]
    assert s.get(99) is None and s.index_of(42) == 0
    np.testing.assert_array_equal(s.rows(["x", 42]), [1, 0])


def test_normalized(plane):
    before = plane.vectors.copy()
    unit = plane.normalized()
    norms = np.linalg.norm(unit.vectors, axis=1)
    np.testing.assert_allclose(norms, 1.0, rtol=1e-6)
    np.testing.assert_allclose(unit["long"], [1.0, 0.0])
    assert unit.keys == plane.keys and unit.vectors.dtype == np.float32
    np.testing.assert_array_equal(plane.vectors, before)  # the original is unchanged
    z = Embeddings(["zero", "one"], np.array([[0.0, 0.0], [3.0, 4.0]])).normalized()
    np.testing.assert_array_equal(z["zero"], [0, 0])
    np.testing.assert_allclose(z["one"], [0.6, 0.8])


def test_embeddings_validation():
    with pytest.raises(ValueError):
        Embeddings(["a"], np.zeros(3))
    with pytest.raises(ValueError):
        Embeddings(["a", "b"], np.zeros((3, 2)))
    e = Embeddings(["a", "a"], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="duplicate"):
        e["a"]
    m = Embeddings(["a"], np.zeros((1, 3), dtype=np.float64))
    assert m.vectors.dtype == np.float32 and m.vectors.flags.c_contiguous and m.dim == 3 and len(m) == 1
