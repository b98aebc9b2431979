"""Vectors into PostgreSQL + pgvector (a real server started from the pgserver wheel), LanceDB
(embedded) and Elasticsearch/OpenSearch _bulk files (checked against the documented formats)."""
from __future__ import annotations

import json
import sys
import warnings

import numpy as np
import pytest
from click.testing import CliRunner

import embedkit as ek
from embedkit.exceptions import DatabaseError, InputFormatError, InvalidParameterError, MissingDependencyError
from embedkit.io.targets import mask_url
from embedkit.recsys.model import FactorModel


def _bits(x) -> np.ndarray:
    return np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)


def _tricky(n: int, dim: int, seed: int = 0) -> np.ndarray:
    """Random float32 rows plus values that a decimal or double path could alter."""
    x = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    x[0, :6] = [np.float32(1e-38), np.float32(3.4e38), -0.0, np.float32(1 / 3), np.nextafter(np.float32(1), 2),
                np.float32(-1.17549435e-38)]
    x[1] *= np.float32(1e-30)
    return x


def _exact_top(x: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    xu = x / np.linalg.norm(x, axis=1, keepdims=True)
    qu = q / np.linalg.norm(q, axis=1, keepdims=True)
    return np.argsort(-(qu @ xu.T), axis=1)[:, :k]


# ---------------------------------------------------------------- PostgreSQL + pgvector
@pytest.fixture(scope="session")
def pg_url():
    """A real PostgreSQL with pgvector from the pgserver wheel (run as the 'pgserver' system
    user when the tests run as root), listening on a Unix socket in a temporary folder."""
    pytest.importorskip("psycopg", reason="psycopg not installed (pip install 'embedkit[postgres]')")
    pytest.importorskip("pgvector", reason="pgvector not installed (pip install 'embedkit[postgres]')")
    pgserver = pytest.importorskip("pgserver", reason="pgserver (PostgreSQL + pgvector in a wheel) not installed")
    import shutil
    import tempfile

    # a folder of its own under /tmp: pgserver, run as root, hands it to the 'pgserver' user
    folder = tempfile.mkdtemp(prefix="embedkit-pg-")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            server = pgserver.get_server(folder, cleanup_mode="stop")
    except Exception as exc:  # noqa: BLE001 - any failure to start means: no server here
        pytest.skip(f"pgserver could not start PostgreSQL here: {type(exc).__name__}: {exc}")
    yield server.get_uri()
    server.cleanup()
    shutil.rmtree(folder, ignore_errors=True)


def _sql(url, query, params=None):
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(query, params).fetchall()


def _indexdefs(url, table):
    return [r[0] for r in _sql(url, "SELECT indexdef FROM pg_indexes WHERE tablename = %s ORDER BY indexname",
                               (table,))]


def _opclass(url, index):
    """(access method, operator class) of an index, from the catalogue (pg_indexes omits default classes)."""
    return _sql(url, "SELECT am.amname, oc.opcname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                     "JOIN pg_am am ON am.oid = c.relam JOIN pg_opclass oc ON oc.oid = i.indclass[0] "
                     "WHERE i.indexrelid = to_regclass(%s)", (index,))[0]


def test_pg_round_trip_is_bit_exact(pg_url):
    x = _tricky(300, 24)
    emb = ek.Embeddings([f"w{i}" for i in range(300)] , x, {"method": "test"})
    emb.export(pg_url, table="rt")
    back = ek.load(pg_url, table="rt")
    assert back.keys == emb.keys
    assert np.array_equal(_bits(back.vectors), _bits(x))
    assert back.meta["method"] == "test" and back.meta["format"] == "postgresql"
    cols = _sql(pg_url, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'rt' "
                        "ORDER BY ordinal_position")
    assert cols == [("key", "text"), ("embedding", "USER-DEFINED")]
    assert _sql(pg_url, "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'rt'::regclass "
                        "AND attname = 'embedding'") == [("vector(24)",)]
    assert len(ek.load(pg_url, table="rt", limit=7)) == 7


def test_pg_int_keys_metadata_and_indexes(pg_url):
    emb = ek.Embeddings(list(range(50)), _tricky(50, 8, seed=1))
    emb.export(pg_url, table="ints", metric="l2", index="ivfflat", metadata={3: {"label": "three"}, "4": [1, 2]})
    back = ek.load(pg_url, table="ints")
    assert back.keys == list(range(50))
    assert np.array_equal(_bits(back.vectors), _bits(emb.vectors))
    assert _sql(pg_url, "SELECT metadata->>'label' FROM ints WHERE key = '3'") == [("three",)]
    assert _sql(pg_url, "SELECT metadata FROM ints WHERE key = '4'") == [([1, 2],)]
    assert _sql(pg_url, "SELECT count(*) FROM ints WHERE metadata IS NULL") == [(48,)]
    defs = _indexdefs(pg_url, "ints")
    assert _opclass(pg_url, "ints_embedding_idx") == ("ivfflat", "vector_l2_ops")
    assert any("USING ivfflat (embedding) WITH (lists='1')" in d for d in defs), defs
    assert any("ints_pkey" in d and "(key)" in d for d in defs), defs

    emb.export(pg_url, table="ints", metric="dot", m=8, ef_construction=32)
    assert _opclass(pg_url, "ints_embedding_idx") == ("hnsw", "vector_ip_ops")
    defs = _indexdefs(pg_url, "ints")
    assert any("WITH (m='8', ef_construction='32')" in d for d in defs), defs
    emb.export(pg_url, table="ints", index="none")
    assert len(_indexdefs(pg_url, "ints")) == 1  # the primary key only


def test_pg_replacement_is_one_transaction(pg_url):
    old = ek.Embeddings(["a", "b", "c"], np.arange(12, dtype=np.float32).reshape(3, 4) + 1)
    old.export(pg_url, table="swap")
    before = _indexdefs(pg_url, "swap")

    # a duplicate key: 1 and "1" are the same text. export refuses it before touching the database...
    dup = ek.Embeddings([1, "1", 2], np.ones((3, 6), dtype=np.float32))
    with pytest.raises(ek.DuplicateKeyError):
        dup.export(pg_url, table="swap")
    # ...and the target's own writer, given it anyway, fails on the primary key after the COPY
    from embedkit.io import postgres

    with pytest.raises(DatabaseError, match="duplicate|unique"):
        postgres.write(dup, pg_url, table="swap")
    # a failure after the load and the key, while setting up the index build
    other = ek.Embeddings(["x", "y"], np.ones((2, 6), dtype=np.float32))
    with pytest.raises(DatabaseError, match="maintenance_work_mem"):
        other.export(pg_url, table="swap", maintenance_work_mem="1kB")

    back = ek.load(pg_url, table="swap")
    assert back.keys == ["a", "b", "c"] and np.array_equal(back.vectors, old.vectors)
    assert _indexdefs(pg_url, "swap") == before
    assert _sql(pg_url, "SELECT count(*) FROM pg_tables WHERE tablename LIKE '%ek_new%'") == [(0,)]

    other.export(pg_url, table="swap")  # a good run replaces it, names kept
    assert ek.load(pg_url, table="swap").keys == ["x", "y"]
    assert [d.split(" ON ")[0] for d in _indexdefs(pg_url, "swap")] == [
        "CREATE INDEX swap_embedding_idx", "CREATE UNIQUE INDEX swap_pkey"]


def test_pg_hnsw_recall_against_exact(pg_url):
    from pgvector.psycopg import register_vector
    import psycopg

    rng = np.random.default_rng(3)
    x = rng.standard_normal((3000, 16)).astype(np.float32)
    q = rng.standard_normal((60, 16)).astype(np.float32)
    ek.Embeddings(list(range(len(x))), x).export(pg_url, table="recall")
    assert _opclass(pg_url, "recall_embedding_idx") == ("hnsw", "vector_cosine_ops")
    truth = _exact_top(x, q, 10)
    hits = 0
    with psycopg.connect(pg_url) as conn:
        register_vector(conn)
        conn.execute("SET hnsw.ef_search = 100")
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT key FROM recall ORDER BY embedding <=> %s LIMIT 10", (q[0],)).fetchall())
        assert "recall_embedding_idx" in plan  # the index answers, not a scan
        for i in range(len(q)):
            rows = conn.execute("SELECT key FROM recall ORDER BY embedding <=> %s LIMIT 10", (q[i],)).fetchall()
            hits += len({int(r[0]) for r in rows} & set(truth[i].tolist()))
    assert hits / (10 * len(q)) >= 0.95


def test_pg_factor_model_items_and_users(pg_url):
    rng = np.random.default_rng(4)
    users = ek.Embeddings([f"u{i}" for i in range(7)], rng.standard_normal((7, 5)).astype(np.float32))
    items = ek.Embeddings([f"i{i}" for i in range(9)], rng.standard_normal((9, 5)).astype(np.float32))
    model = FactorModel(users, items)
    model.export(pg_url, table="fm_items")
    model.export(pg_url, table="fm_users", which="users")
    got_items, got_users = ek.load(pg_url, table="fm_items"), ek.load(pg_url, table="fm_users")
    assert got_items.keys == items.keys and np.array_equal(_bits(got_items.vectors), _bits(items.vectors))
    assert got_users.keys == users.keys and np.array_equal(_bits(got_users.vectors), _bits(users.vectors))


def test_pg_cli(pg_url, tmp_path):
    from embedkit_cli.main import cli

    emb = ek.Embeddings(["x", "y", "z"], np.eye(3, dtype=np.float32) + 0.5)
    emb.save(tmp_path / "v.ekv")
    meta = tmp_path / "meta.jsonl"
    meta.write_text('{"key": "y", "colour": "red"}\n')
    res = CliRunner().invoke(cli, ["export", str(tmp_path / "v.ekv"), "-o", pg_url, "--table", "clitab",
                                   "--metric", "l2", "--index", "ivfflat", "--nlist", "2", "--metadata", str(meta)])
    assert res.exit_code == 0, res.output
    assert "table clitab" in res.output
    assert np.array_equal(ek.load(pg_url, table="clitab").vectors, emb.vectors)
    assert _sql(pg_url, "SELECT metadata->>'colour' FROM clitab WHERE key = 'y'") == [("red",)]
    assert _opclass(pg_url, "clitab_embedding_idx") == ("ivfflat", "vector_l2_ops")
    assert any("WITH (lists='2')" in d for d in _indexdefs(pg_url, "clitab"))
    res = CliRunner().invoke(cli, ["export", str(tmp_path / "v.ekv"), "-o", pg_url, "--max-bytes", "5000"])
    assert res.exit_code == 2 and "--max-bytes: not an option of postgresql" in res.output


def test_pg_errors_never_show_the_password(tmp_path):
    pytest.importorskip("psycopg")
    pytest.importorskip("pgvector")
    from embedkit_cli.main import cli

    url = "postgresql://bob:s3cr3t-pw@127.0.0.1:1/db?connect_timeout=3"
    emb = ek.Embeddings(["a"], np.ones((1, 3), dtype=np.float32))
    with pytest.raises(DatabaseError) as info:
        emb.export(url, table="t")
    assert "s3cr3t" not in str(info.value) and "bob:***@127.0.0.1:1" in str(info.value)
    emb.save(tmp_path / "v.ekv")
    res = CliRunner().invoke(cli, ["export", str(tmp_path / "v.ekv"), "-o", url, "--table", "t"])
    assert res.exit_code == 2 and "s3cr3t" not in res.output and "***" in res.output


def test_mask_url():
    assert mask_url("postgresql://u:p%40ss@h:5/db?sslmode=require") == "postgresql://u:***@h:5/db?sslmode=require"
    assert mask_url("postgresql://h/db?user=u&password=x&a=b") == "postgresql://h/db?user=u&password=***&a=b"
    assert mask_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert mask_url("lancedb:///data/db") == "lancedb:///data/db"


def test_bad_targets_and_missing_packages(monkeypatch):
    emb = ek.Embeddings(["a", "b"], np.ones((2, 3), dtype=np.float32))
    with pytest.raises(InvalidParameterError, match="postgresql://, postgres://, lancedb://"):
        emb.export("mysql://h/db")
    with pytest.raises(InvalidParameterError, match="index"):
        emb.export("postgresql://h/db", index="btree")
    bad = ek.Embeddings(["a", "b"], np.array([[1, 2, 3], [1, np.nan, 3]], dtype=np.float32))
    with pytest.raises(InputFormatError, match="'b'.*NaN"):
        bad.export("postgresql://h/db")
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingDependencyError, match=r"embedkit\[postgres\]"):
        emb.export("postgresql://h/db", table="t")
    monkeypatch.setitem(sys.modules, "lancedb", None)
    with pytest.raises(MissingDependencyError, match=r"embedkit\[lancedb\]"):
        emb.export("lancedb:///tmp/x", table="t")


# ---------------------------------------------------------------- LanceDB
@pytest.fixture()
def lancedb():
    return pytest.importorskip("lancedb", reason="lancedb not installed (pip install 'embedkit[lancedb]')")


def test_lancedb_round_trip(lancedb, tmp_path):
    x = _tricky(200, 12)
    emb = ek.Embeddings([f"w{i}" for i in range(200)], x, {"method": "test"})
    url = f"lancedb://{tmp_path / 'db'}"
    emb.export(url, table="words", metadata={"w1": {"pos": "noun"}})
    back = ek.load(url, table="words")
    assert back.keys == emb.keys and np.array_equal(_bits(back.vectors), _bits(x))
    assert back.meta["method"] == "test"
    tbl = lancedb.connect(str(tmp_path / "db")).open_table("words")
    schema = tbl.schema
    assert str(schema.field("vector").type) == "fixed_size_list<item: float>[12]"
    assert json.loads(tbl.to_arrow().column("metadata")[1].as_py()) == {"pos": "noun"}
    ints = ek.Embeddings(list(range(10)), x[:10])
    ints.export(url, table="words")  # overwrites
    back = ek.load(url, table="words", limit=4)
    assert back.keys == [0, 1, 2, 3] and np.array_equal(back.vectors, x[:4])


def test_lancedb_index_recall(lancedb, tmp_path):
    from embedkit.io.lancedb_target import MIN_INDEX_ROWS, default_partitions

    rng = np.random.default_rng(5)
    n = MIN_INDEX_ROWS + 1000
    # clustered, as learned embeddings are (uniform Gaussian rows are IVF's worst case)
    centres = 2 * rng.standard_normal((30, 32))
    x = (centres[rng.integers(0, 30, n)] + rng.standard_normal((n, 32))).astype(np.float32)
    q = (centres[rng.integers(0, 30, 50)] + rng.standard_normal((50, 32))).astype(np.float32)
    # 40 cells, more than the 20 LanceDB probes by default, so that the index (not a full scan) answers
    ek.Embeddings(list(range(n)), x).export(f"lancedb://{tmp_path}", table="vec", nlist=40)
    tbl = lancedb.connect(str(tmp_path)).open_table("vec")
    indices = tbl.list_indices()
    assert len(indices) == 1 and indices[0].index_type == "IvfFlat" and indices[0].columns == ["vector"]
    truth = _exact_top(x, q, 10)

    def recall(nprobes=None):
        hits = 0
        for i in range(len(q)):  # LanceDB's own API
            query = tbl.search(q[i]).distance_type("cosine").limit(10)
            if nprobes is not None:
                query = query.nprobes(nprobes)
            hits += len(set(query.to_arrow().column("key").to_pylist()) & set(truth[i].tolist()))
        return hits / (10 * len(q))

    assert recall() >= 0.95  # LanceDB's default nprobes (20 of 40 cells)
    r1 = recall(nprobes=1)
    assert r1 < recall()  # one cell finds less: the index is what answers
    assert default_partitions(n) == 19 and default_partitions(1_000_000) == 250  # round(sqrt(n) / 4)

    ek.Embeddings(list(range(100)), x[:100]).export(f"lancedb://{tmp_path}", table="small")
    assert lancedb.connect(str(tmp_path)).open_table("small").list_indices() == []  # below MIN_INDEX_ROWS


def test_lancedb_cli(lancedb, tmp_path):
    from embedkit_cli.main import cli

    emb = ek.Embeddings(["x", "y"], np.eye(2, dtype=np.float32))
    emb.save(tmp_path / "v.ekv")
    res = CliRunner().invoke(cli, ["export", str(tmp_path / "v.ekv"), "-o", f"lancedb://{tmp_path / 'l'}",
                                   "--table", "t"])
    assert res.exit_code == 0, res.output
    assert np.array_equal(ek.load(f"lancedb://{tmp_path / 'l'}", table="t").vectors, emb.vectors)
    with pytest.raises(DatabaseError, match="t2"):
        ek.load(f"lancedb://{tmp_path / 'l'}", table="t2")


# ---------------------------------------------------------------- Elasticsearch / OpenSearch _bulk
def _bulk_pairs(folder, cap):
    """Every (action, document) pair of the folder's bulk files, checking the _bulk rules."""
    files = sorted(folder.glob("bulk-*.ndjson"))
    assert files
    pairs = []
    for f in files:
        raw = f.read_bytes()
        assert len(raw) <= cap
        assert raw.endswith(b"\n")
        lines = raw.decode("utf-8").split("\n")[:-1]
        assert len(lines) % 2 == 0 and all(line.strip() for line in lines)
        objs = [json.loads(line) for line in lines]
        pairs += list(zip(objs[0::2], objs[1::2]))
    return files, pairs


@pytest.mark.parametrize("flavour", ["elasticsearch", "opensearch"])
def test_bulk_files_follow_the_format(tmp_path, flavour):
    x = _tricky(400, 16)
    keys = [f"k{i}" for i in range(399)] + ['quote " and é']
    emb = ek.Embeddings(keys, x)
    out = tmp_path / "bulk"
    emb.export(out, format=flavour, table="words", max_bytes=20_000, metadata={"k5": {"tag": "x"}})
    files, pairs = _bulk_pairs(out, 20_000)
    assert len(files) > 5
    assert [a["index"]["_id"] for a, _ in pairs] == keys
    assert all(a == {"index": {"_index": "words", "_id": d["key"]}} for a, d in pairs)
    got = np.array([d["vector"] for _, d in pairs], dtype=np.float64).astype(np.float32)
    assert np.array_equal(_bits(got), _bits(x))
    assert pairs[5][1]["metadata"] == {"tag": "x"} and "metadata" not in pairs[4][1]
    back = ek.load(out)
    assert back.keys == keys and np.array_equal(_bits(back.vectors), _bits(x))

    mapping = json.loads((out / "mapping.json").read_text())
    props = mapping["mappings"]["properties"]
    assert props["key"] == {"type": "keyword"}
    if flavour == "elasticsearch":
        assert props["vector"] == {"type": "dense_vector", "dims": 16, "index": True, "similarity": "cosine",
                                   "index_options": {"type": "hnsw", "m": 16, "ef_construction": 100}}
        assert "settings" not in mapping
    else:
        assert mapping["settings"] == {"index": {"knn": True}}
        assert props["vector"] == {"type": "knn_vector", "dimension": 16, "method": {
            "name": "hnsw", "space_type": "cosinesimil", "engine": "lucene",
            "parameters": {"m": 16, "ef_construction": 100}}}


def test_bulk_metrics_int_keys_and_errors(tmp_path):
    emb = ek.Embeddings([10, 20, 30], np.arange(9, dtype=np.float32).reshape(3, 3) + 1)
    emb.export(tmp_path / "es", format="elasticsearch", metric="dot")
    emb.export(tmp_path / "os", format="opensearch", metric="l2", engine="faiss")
    es = json.loads((tmp_path / "es" / "mapping.json").read_text())["mappings"]["properties"]["vector"]
    os_ = json.loads((tmp_path / "os" / "mapping.json").read_text())["mappings"]["properties"]["vector"]
    assert es["similarity"] == "max_inner_product"
    assert os_["method"]["space_type"] == "l2" and os_["method"]["engine"] == "faiss"
    _, pairs = _bulk_pairs(tmp_path / "es", 10_000_000)
    assert [d["key"] for _, d in pairs] == [10, 20, 30] and [a["index"]["_id"] for a, _ in pairs] == ["10", "20", "30"]
    assert ek.load(tmp_path / "es", format="elasticsearch").keys == [10, 20, 30]

    zero = ek.Embeddings(["a", "b"], np.array([[1, 2], [0, 0]], dtype=np.float32))
    with pytest.raises(InvalidParameterError, match="'b' all zeros"):
        zero.export(tmp_path / "z", format="elasticsearch")
    zero.export(tmp_path / "z", format="elasticsearch", metric="l2")  # fine for l2
    with pytest.raises(InvalidParameterError, match="max_bytes"):
        ek.Embeddings(["a"], np.full((1, 300), 1 / 3, dtype=np.float32)).export(tmp_path / "m",
                                                                                  format="opensearch", max_bytes=1024)
    assert not (tmp_path / "m").exists()
    with pytest.raises(InvalidParameterError, match="table"):
        emb.export(tmp_path / "u", format="elasticsearch", table="Upper")


def test_bulk_cli(tmp_path):
    from embedkit_cli.main import cli

    emb = ek.Embeddings([f"k{i}" for i in range(50)], np.random.default_rng(0).random((50, 8), dtype=np.float32))
    emb.save(tmp_path / "v.ekv")
    res = CliRunner().invoke(cli, ["export", str(tmp_path / "v.ekv"), "--format", "opensearch", "-o",
                                   str(tmp_path / "os"), "--max-bytes", "2000", "--table", "things"])
    assert res.exit_code == 0, res.output
    files, pairs = _bulk_pairs(tmp_path / "os", 2000)
    assert len(files) > 1 and len(pairs) == 50 and pairs[0][0]["index"]["_index"] == "things"
