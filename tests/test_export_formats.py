"""The formats added for downstream tools (issue 8): Parquet, JSON lines, the TensorBoard
projector TSV pair, gensim's native files (read on request only), GloVe text, streaming
loads of large text/binary files and memory-mapped .ekv files."""
from __future__ import annotations

import gzip
import json
import sys
import tracemalloc
import zipfile
from importlib.util import find_spec

import numpy as np
import pytest

import embedkit as ek
from embedkit import Embeddings
from embedkit.io import READERS, WRITERS, jsonl, native, word2vec

STR_KEYS = ["the", "café", "naïve", "Ménagère", "北京", "emoji🙂", "42", "-7"]


def _vectors(n: int, dim: int = 5, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # spread over magnitudes so that 9 significant digits are really needed
    return (rng.standard_normal((n, dim)) * 10.0 ** rng.integers(-6, 6, size=(n, 1))).astype(np.float32)


@pytest.fixture
def str_emb() -> Embeddings:
    return Embeddings(STR_KEYS, _vectors(len(STR_KEYS)), {"method": "test", "params": {"dim": 5}})


@pytest.fixture
def int_emb() -> Embeddings:
    return Embeddings([10, 3, 7, 0, 42, 5, 123456789012], _vectors(7, seed=1), {"method": "test-int"})


#: every format we write: (extension, whether keys keep their int type)
FORMATS = [(".ekv", True), (".npy", True), (".npz", True), (".txt", False), (".txt.gz", False), (".bin", False),
           (".jsonl", True), (".jsonl.gz", True), (".tsv", False),
           pytest.param(".parquet", True, marks=pytest.mark.skipif(find_spec("pyarrow") is None, reason="pyarrow missing"))]


# ---- every format round-trips: values to float32 precision (bit-exact), keys exact -------------------
@pytest.mark.parametrize("ext,typed", FORMATS)
def test_every_format_round_trips_unicode_keys(tmp_path, str_emb, ext, typed):
    path = tmp_path / f"vectors{ext}"
    str_emb.export(path)
    back = ek.load(path)
    assert back.keys == str_emb.keys
    np.testing.assert_array_equal(back.vectors, str_emb.vectors)
    assert back.vectors.dtype == np.float32


@pytest.mark.parametrize("ext,typed", FORMATS)
def test_every_format_round_trips_int_keys(tmp_path, int_emb, ext, typed):
    path = tmp_path / f"vectors{ext}"
    int_emb.export(path)
    back = ek.load(path)
    assert back.keys == (int_emb.keys if typed else [str(k) for k in int_emb.keys])
    np.testing.assert_array_equal(back.vectors, int_emb.vectors)
    np.testing.assert_array_equal(back[42], int_emb[42])  # int or str, the lookup finds the row


def test_glove_format_round_trips(tmp_path, str_emb):
    path = tmp_path / "glove.txt"
    str_emb.export(path, format="glove")
    assert not path.read_text(encoding="utf-8").startswith("8 5")
    back = ek.load(path, format="glove")
    assert back.keys == str_emb.keys and back.meta["format"] == "glove"
    np.testing.assert_array_equal(back.vectors, str_emb.vectors)


def test_every_writer_has_a_reader():
    assert set(WRITERS) <= set(READERS)


# ---- Parquet ---------------------------------------------------------------------------------------
def test_parquet_layout(tmp_path, int_emb, str_emb):
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    path = tmp_path / "v.parquet"
    int_emb.export(path)
    table = pq.read_table(path)
    assert table.column_names == ["key", "vector"]
    assert table.schema.field("key").type == pa.int64()
    assert table.schema.field("vector").type == pa.list_(pa.float32(), 5)  # fixed-size list
    assert table.column("key").to_pylist() == int_emb.keys
    np.testing.assert_array_equal(np.array(table.column("vector").to_pylist(), dtype=np.float32), int_emb.vectors)
    assert json.loads(table.schema.metadata[b"embedkit"])["method"] == "test-int"
    assert ek.load(path).meta["method"] == "test-int"
    str_emb.export(path)
    assert pq.read_table(path).schema.field("key").type == pa.string()


def test_parquet_from_other_tools(tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    pa = pytest.importorskip("pyarrow")
    vecs = _vectors(300, 4).astype(np.float64)
    path = tmp_path / "other.data"  # sniffed from the PAR1 magic
    table = pa.table({"id": [f"doc{i}" for i in range(300)], "text": ["x"] * 300,
                      "embedding": pa.array(vecs.tolist(), type=pa.list_(pa.float64()))})
    pq.write_table(table, path, row_group_size=128)  # 3 row groups
    back = ek.load(path)
    assert back.keys == [f"doc{i}" for i in range(300)]
    np.testing.assert_array_equal(back.vectors, vecs.astype(np.float32))
    assert ek.load(path, limit=200).keys == back.keys[:200]
    ragged = tmp_path / "ragged.parquet"
    pq.write_table(pa.table({"key": ["a", "b", "c"], "vector": [[1.0, 2.0], [3.0, 4.0], [5.0]]}), ragged)
    with pytest.raises(ek.InputFormatError, match="row 2 has 1 numbers") as info:
        ek.load(ragged)
    assert str(ragged) in str(info.value)
    nulls = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({"key": ["a", "b"], "vector": [[1.0, 2.0], None]}), nulls)
    with pytest.raises(ek.InputFormatError, match="row 1 has no vector"):
        ek.load(nulls)
    nocol = tmp_path / "nocol.parquet"
    pq.write_table(pa.table({"key": ["a"], "weights": [[1.0]]}), nocol)
    with pytest.raises(ek.InputFormatError, match="no vector column.*weights"):
        ek.load(nocol)


def test_missing_extra_is_named(tmp_path, str_emb, monkeypatch):
    import embedkit._optional as optional

    real = optional.importlib.import_module

    def no_pyarrow(name, *args):
        if name.startswith("pyarrow"):
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(optional.importlib, "import_module", no_pyarrow)
    with pytest.raises(ek.MissingDependencyError, match=r"pip install 'embedkit\[parquet\]'") as info:
        str_emb.export(tmp_path / "v.parquet")
    assert isinstance(info.value, ImportError) and isinstance(info.value, ek.EmbedkitError)
    assert list(tmp_path.iterdir()) == []


# ---- JSON lines --------------------------------------------------------------------------------------
def test_jsonl_layout_and_other_field_names(tmp_path, str_emb):
    path = tmp_path / "v.jsonl"
    str_emb.export(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(str_emb)
    first = json.loads(lines[0])
    assert list(first) == ["id", "vector"] and first["id"] == "the"
    assert "Ménagère" in lines[3]  # UTF-8, not \u escapes
    np.testing.assert_array_equal(np.array(first["vector"], dtype=np.float32), str_emb.vectors[0])
    other = tmp_path / "pinecone.ndjson"
    other.write_text('{"key": 1, "values": [1, 2.5], "metadata": {"a": 1}}\n\n{"key": 2, "values": [3, 4]}\n')
    back = ek.load(other)
    assert back.keys == [1, 2]
    np.testing.assert_array_equal(back.vectors, [[1, 2.5], [3, 4]])
    custom = tmp_path / "custom.jsonl"
    str_emb.export(custom, id_field="doc", vector_field="emb")
    assert json.loads(custom.read_text(encoding="utf-8").splitlines()[0])["doc"] == "the"
    assert jsonl.read_jsonl(custom, id_field="doc", vector_field="emb").keys == str_emb.keys


@pytest.mark.parametrize("text,lineno,problem", [
    ('{"id": "a", "vector": [1, 2]}\n{"id": "b", "vector": [1, 2\n', 2, "not valid JSON"),
    ('{"id": "a", "vector": [1, 2]}\n{"id": "b", "vector": [1, 2, 3]}\n', 2, "expected 2 numbers"),
    ('{"id": "a", "vector": [1, 2]}\n{"id": "b", "vec": [1, 2]}\n', 2, "no vector field"),
    ('{"id": "a", "vector": [1, "x"]}\n', 1, "not a list of numbers"),
    ('{"id": "a", "vector": [1, null]}\n', 1, "holds null"),
    ('[1, 2]\n', 1, "JSON object"),
    ('{"id": [1], "vector": [1, 2]}\n', 1, "string or an integer"),
])
def test_jsonl_errors_name_file_and_line(tmp_path, text, lineno, problem):
    path = tmp_path / "bad.jsonl"
    path.write_text(text)
    with pytest.raises(ek.InputFormatError, match=problem) as info:
        ek.load(path)
    assert f"{path}, line {lineno}" in str(info.value)


def test_jsonl_refuses_nan(tmp_path):
    emb = Embeddings(["ok", "bad"], [[1.0, 2.0], [np.nan, 0.0]])
    with pytest.raises(ek.InputFormatError, match="'bad'.*NaN"):
        emb.export(tmp_path / "v.jsonl")
    assert list(tmp_path.iterdir()) == []


# ---- TensorBoard projector -----------------------------------------------------------------------------
def test_projector_files(tmp_path, str_emb):
    path = tmp_path / "vectors.tsv"
    str_emb.export(path)
    meta = tmp_path / "vectors.metadata.tsv"
    assert meta.read_text(encoding="utf-8").splitlines() == STR_KEYS  # one column: no header
    rows = path.read_text().splitlines()
    assert len(rows) == len(STR_KEYS) and all(len(r.split("\t")) == 5 for r in rows)
    labels = {"the": "function", "café": "food", 42: "number"}
    str_emb.export(path, labels=labels)
    lines = meta.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "key\tlabel" and lines[1] == "the\tfunction" and lines[2] == "café\tfood"
    assert lines[7] == "42\tnumber" and lines[4] == "Ménagère\t"
    back = ek.load(path)  # the header is recognised (two columns)
    assert back.keys == STR_KEYS
    np.testing.assert_array_equal(back.vectors, str_emb.vectors)
    meta.unlink()
    assert ek.load(path).keys == list(range(len(STR_KEYS)))  # without metadata, rows are numbered


def test_projector_labels_from_a_file(tmp_path, int_emb):
    labels = tmp_path / "labels.txt"
    labels.write_text("10 a\n3 b\n42 c\n")
    int_emb.export(tmp_path / "v.tsv", labels=labels)
    lines = (tmp_path / "v.metadata.tsv").read_text().splitlines()
    assert lines[:3] == ["key\tlabel", "10\ta", "3\tb"] and lines[5] == "42\tc"


def test_projector_errors(tmp_path, str_emb):
    with pytest.raises(ek.InputFormatError, match="tab or a line break"):
        Embeddings(["a\tb"], [[1.0]]).export(tmp_path / "v.tsv")
    path = tmp_path / "ok.tsv"
    str_emb.export(path)
    (tmp_path / "ok.metadata.tsv").write_text("a\nb\n")
    with pytest.raises(ek.InputFormatError, match="2 keys for 8 vectors"):
        ek.load(path)
    bad = tmp_path / "bad.tsv"
    bad.write_text("1\t2\n3\tx\n")
    with pytest.raises(ek.InputFormatError, match="not a number") as info:
        ek.load(bad)
    assert "line 2" in str(info.value)


# ---- gensim's native (pickled) files: only on request --------------------------------------------------
def test_gensim_native_files_load_only_on_request(tmp_path, str_emb):
    models = pytest.importorskip("gensim.models")
    kv = str_emb.to_gensim()
    path = tmp_path / "vectors.kv"
    kv.save(str(path))
    for sniffed in (path, tmp_path / "vectors.model"):
        if sniffed != path:
            sniffed.write_bytes(path.read_bytes())
        with pytest.raises(ek.InputFormatError, match="format='gensim'") as info:
            ek.load(sniffed)
        assert "pickle" in str(info.value) and str(sniffed) in str(info.value)
    back = ek.load(path, format="gensim")
    assert back.keys == str_emb.keys and back.meta["format"] == "gensim"
    np.testing.assert_array_equal(back.vectors, str_emb.vectors)
    mapped = ek.load(path, format="gensim", mmap=True)
    np.testing.assert_array_equal(mapped.vectors, str_emb.vectors)
    # a whole Word2Vec model: its .wv
    w2v = models.Word2Vec([["a", "b", "c"]] * 20, vector_size=4, min_count=1, seed=0, workers=1)
    model_path = tmp_path / "w2v.model"
    w2v.save(str(model_path))
    back = ek.load(model_path, format="gensim")
    assert back.keys == list(w2v.wv.index_to_key)
    np.testing.assert_array_equal(back.vectors, w2v.wv.vectors)
    # gensim's format is read, never written (it is a pickle)
    with pytest.raises(ek.InvalidParameterError, match="never written"):
        str_emb.export(tmp_path / "out.kv", format="gensim")
    with pytest.raises(ek.InputFormatError, match="no pickle header"):
        ek.load(_text_file(tmp_path), format="gensim")


def _text_file(tmp_path):
    path = tmp_path / "plain.txt"
    path.write_text("1 2\na 0.5 0.5\n")
    return path


# ---- GloVe text -----------------------------------------------------------------------------------------
def test_glove_header_sniffing(tmp_path):
    path = tmp_path / "glove.6B.txt"
    path.write_text("\n\nthe 0.1 0.2 0.3\n, 1 2 3\n\n. -1 2.5 3e-2\n", encoding="utf-8")
    back = ek.load(path)
    assert back.keys == ["the", ",", "."] and back.meta["format"] == "glove"
    np.testing.assert_allclose(back["."], [-1, 2.5, 0.03])
    assert ek.load(path, limit=2).keys == ["the", ","]
    # a GloVe file whose first vector looks like a header, read as GloVe on request
    tricky = tmp_path / "tricky.txt"
    tricky.write_text("7 1\n8 2\n")
    with pytest.raises(ek.InputFormatError, match="declares 7 vectors"):
        ek.load(tricky)  # sniffed as a header
    assert word2vec.read_text(tricky, header=False).keys == ["7", "8"]


def test_more_rows_than_the_header_declares(tmp_path):
    path = tmp_path / "long.txt"
    path.write_text("1 2\na 1 2\nb 3 4\n")
    with pytest.raises(ek.InputFormatError, match="declares 1 vectors but the file holds more"):
        ek.load(path)
    assert ek.load(path, limit=1).keys == ["a"]


# ---- streaming: loading takes about the matrix, not a copy per row plus a stacked copy ------------------
@pytest.mark.parametrize("ext", [".txt", ".glove", ".bin", ".jsonl"])
def test_large_loads_stream(tmp_path, monkeypatch, ext):
    import embedkit.io._text as text
    import embedkit.io.word2vec as w2v

    monkeypatch.setattr(text, "BLOCK_BYTES", 1 << 16)
    monkeypatch.setattr(w2v, "BINARY_CHUNK", 1 << 16)
    n, dim = 40_000, 64
    emb = Embeddings(np.arange(n), np.random.default_rng(0).standard_normal((n, dim)))
    path = tmp_path / f"big{ext}"
    emb.export(path, format="glove" if ext == ".glove" else None)
    tracemalloc.start()
    try:
        back = ek.load(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(back.vectors, emb.vectors)
    # the keys, their list and the key -> row index (built while loading, for the duplicate check)
    keys_bytes = sum(k.__sizeof__() for k in back.keys) + 8 * n + sys.getsizeof(back.key_to_index)
    # the matrix (10.2 MB) + the keys + small blocks; a list of rows then np.vstack needs over twice the matrix
    assert peak < emb.vectors.nbytes * 1.25 + keys_bytes, (peak, emb.vectors.nbytes, keys_bytes)


# ---- memory-mapped .ekv --------------------------------------------------------------------------------
def test_ekv_mmap(tmp_path):
    n, dim = 20_000, 128
    emb = Embeddings(np.arange(n), np.random.default_rng(0).standard_normal((n, dim)), {"method": "m"})
    path = tmp_path / "v.ekv"
    emb.save(path)
    tracemalloc.start()
    try:
        mapped = ek.load(path, mmap=True)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < emb.vectors.nbytes / 4  # the keys, not the 10 MB matrix
    assert not mapped.vectors.flags.writeable and not mapped.vectors.flags.owndata
    assert mapped.vectors.ctypes.data % 64 == 0  # aligned in the file
    np.testing.assert_array_equal(mapped.vectors, emb.vectors)
    assert mapped.keys == emb.keys and mapped.meta["method"] == "m"
    assert mapped.most_similar(7, k=3) == emb.most_similar(7, k=3)
    with zipfile.ZipFile(path) as zf:
        assert zf.namelist()[0] == "vectors.npy"
        assert zf.testzip() is None  # padding extra field and all, a valid zip
        np.testing.assert_array_equal(np.load(zf.open("vectors.npy"), allow_pickle=False), emb.vectors)


def test_ekv_mmap_of_older_layouts(tmp_path, str_emb):
    # the layout before issue 8: meta.json first, no alignment padding
    import io

    buf = io.BytesIO()
    np.save(buf, str_emb.vectors)
    old = tmp_path / "old.ekv"
    with zipfile.ZipFile(old, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("meta.json", json.dumps({"format": native.FORMAT_NAME, "format_version": 1}))
        zf.writestr("keys.json", json.dumps({"type": "str", "keys": str_emb.keys}))
        zf.writestr("vectors.npy", buf.getvalue())
    np.testing.assert_array_equal(ek.load(old, mmap=True).vectors, str_emb.vectors)
    folder = tmp_path / "unpacked.ekv"
    with zipfile.ZipFile(old) as zf:
        zf.extractall(folder)
    back = ek.load(folder, mmap=True)
    assert not back.vectors.flags.writeable
    np.testing.assert_array_equal(back.vectors, str_emb.vectors)
    deflated = tmp_path / "deflated.ekv"
    with zipfile.ZipFile(old) as src, zipfile.ZipFile(deflated, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name in src.namelist():
            dst.writestr(name, src.read(name))
    np.testing.assert_array_equal(ek.load(deflated).vectors, str_emb.vectors)  # reads fine
    with pytest.raises(ek.InputFormatError, match="compressed.*cannot be memory-mapped"):
        ek.load(deflated, mmap=True)


def test_gz_jsonl_is_gzipped(tmp_path, str_emb):
    path = tmp_path / "v.jsonl.gz"
    str_emb.export(path)
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        assert json.loads(fh.readline())["id"] == "the"
