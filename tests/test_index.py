"""Search indexes (embedkit/index/): recall against exact search, keys, save/load, most_similar
through an attached index, the export/search CLI, and errors that name the missing extra."""
from __future__ import annotations

import json
from importlib.util import find_spec

import numpy as np
import pytest
from click.testing import CliRunner

import embedkit as ek
from embedkit import Embeddings
from embedkit.index import KINDS, build_index, load_index
from embedkit_cli.main import cli

N, DIM, QUERIES, K = 20_000, 32, 500, 10


HAS_HNSWLIB = find_spec("hnswlib") is not None
needs_faiss = pytest.mark.skipif(find_spec("faiss") is None, reason="faiss-cpu not installed")
needs_hnswlib = pytest.mark.skipif(not HAS_HNSWLIB, reason="hnswlib not installed")


@pytest.fixture(scope="module")
def space():
    """20k random Gaussian vectors (the hard case for ANN: no cluster structure), string keys,
    queries, and the exact cosine top-10 by brute force."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, DIM)).astype(np.float32)
    emb = Embeddings([f"item-{i}" for i in range(N)], x)
    q = rng.standard_normal((QUERIES, DIM)).astype(np.float32)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    truth = np.argsort(-(q / np.linalg.norm(q, axis=1, keepdims=True)) @ unit.T, axis=1)[:, :K]
    return emb, q, truth


def _recall(found_keys: np.ndarray, truth: np.ndarray, keys: list) -> float:
    want = np.asarray(keys, dtype=object)[truth]
    return float(np.mean([len(set(a) & set(b)) / K for a, b in zip(found_keys.tolist(), want.tolist())]))


#: (kind, library, parameters): defaults except IVF, whose default nprobe (nlist/8) is tuned for data with
#: cluster structure; on structureless Gaussian data half the cells must be scanned (docs/export-and-search.md)
KINDS_UNDER_TEST = [
    pytest.param("exact", "numpy", {}, id="exact"),
    pytest.param("flat", "faiss", {}, id="flat-faiss", marks=needs_faiss),
    pytest.param("ivf", "faiss", {"nlist": 128, "nprobe": 64}, id="ivf-faiss", marks=needs_faiss),
    pytest.param("hnsw", "faiss", {}, id="hnsw-faiss", marks=needs_faiss),
    pytest.param("hnsw", "hnswlib", {}, id="hnsw-hnswlib", marks=needs_hnswlib),
]


@pytest.mark.parametrize("kind,library,params", KINDS_UNDER_TEST)
def test_recall_at_10_against_exact_search(space, kind, library, params):
    emb, q, truth = space
    index = emb.index(kind, "cosine", library, attach=False, **params)
    assert (index.kind, index.library, len(index), index.dim) == (kind, library, N, DIM)
    keys, scores = index.search(q, K)
    assert keys.shape == (QUERIES, K) and scores.dtype == np.float32
    recall = _recall(keys, truth, emb.keys)
    assert recall >= (1.0 if kind in ("exact", "flat") else 0.95), recall
    # the scores are the cosines of the keys returned, best first
    for row in (0, 123, 499):
        cos = [emb.vectors[emb.index_of(k)] @ q[row] / np.linalg.norm(emb[k]) / np.linalg.norm(q[row])
               for k in keys[row]]
        np.testing.assert_allclose(scores[row], cos, rtol=1e-4, atol=1e-5)
        assert list(scores[row]) == sorted(scores[row], reverse=True)


@needs_faiss
@pytest.mark.parametrize("metric", ["l2", "dot"])
def test_other_metrics_match_brute_force(space, metric):
    emb, q, _ = space
    emb = Embeddings(emb.keys[:5000], emb.vectors[:5000])
    x = emb.vectors
    if metric == "l2":
        d = np.sqrt(((q[:50, None, :] - x[None, :, :]) ** 2).sum(-1))
        truth, best = np.argsort(d, axis=1)[:, :K], np.sort(d, axis=1)[:, :K]
    else:
        s = q[:50] @ x.T
        truth, best = np.argsort(-s, axis=1)[:, :K], -np.sort(-s, axis=1)[:, :K]
    for kind in ("exact", "flat"):
        ids, scores = emb.index(kind, metric, attach=False).search_ids(q[:50], K)
        np.testing.assert_array_equal(ids, truth)
        np.testing.assert_allclose(scores, best, rtol=1e-4, atol=1e-3)
    ids, _ = emb.index("hnsw", metric, attach=False).search_ids(q[:50], K)
    assert np.mean([len(set(a) & set(b)) / K for a, b in zip(ids, truth)]) >= 0.9


def test_batches_and_single_queries_agree(space):
    emb, q, _ = space
    index = emb.index("exact", attach=False)
    ids, scores = index.search_ids(q[:40], 5)
    ids_b, scores_b = index.search_ids(q[:40], 5, batch_size=7)
    np.testing.assert_array_equal(ids, ids_b)
    np.testing.assert_allclose(scores, scores_b, rtol=1e-6)  # BLAS rounds differently per batch shape
    one_keys, one_scores = index.search(q[3], 5)  # a single (dim,) query answers (k,)
    assert one_keys.shape == (5,) and list(one_keys) == [emb.keys[i] for i in ids[3]]
    with pytest.raises(ValueError, match=r"shape \(m, 32\)"):
        index.search(np.zeros((2, 31)), 5)
    with pytest.raises(ek.InvalidParameterError, match="k"):
        index.search(q[:2], 0)


def test_k_larger_than_the_index():
    emb = Embeddings(["a", "b", "c"], np.eye(3))
    keys, scores = emb.index("exact", attach=False).search(np.array([[1.0, 0.2, 0.0]]), 5)
    assert list(keys[0][:3]) == ["a", "b", "c"] and list(keys[0][3:]) == [None, None]
    assert np.isnan(scores[0][3:]).all() and not np.isnan(scores[0][:3]).any()


# ---- most_similar through an attached index -----------------------------------------------------------
@needs_faiss
def test_most_similar_uses_an_attached_cosine_index(space):
    emb, q, _ = space
    emb = Embeddings(emb.keys[:5000], emb.vectors[:5000])  # a fresh one: the module fixture stays unattached
    exact = emb.most_similar("item-7", k=10)
    assert emb.ann is None
    index = emb.index("hnsw")
    assert emb.ann is index
    calls = []
    real = index.search_ids

    def spy(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    index.search_ids = spy
    approx = emb.most_similar("item-7", k=10)
    assert calls and "item-7" not in [k for k, _ in approx] and len(approx) == 10
    assert len({k for k, _ in approx} & {k for k, _ in exact}) >= 9
    by_vector = emb.most_similar(q[0], k=3)
    assert len(calls) == 2 and len(by_vector) == 3
    emb.ann = None
    assert emb.most_similar("item-7", k=10) == exact
    emb.index("flat", metric="l2")  # an l2 index does not answer cosine queries
    assert emb.most_similar("item-7", k=10) == exact
    with pytest.raises(ValueError, match="keys"):
        emb.ann = Embeddings(emb.keys[::-1], emb.vectors).index("exact", attach=False)


# ---- save / load ---------------------------------------------------------------------------------------
SAVED = [pytest.param("exact", "numpy", ".npy", id="exact"),
         pytest.param("flat", "faiss", ".faiss", id="flat", marks=needs_faiss),
         pytest.param("ivf", "faiss", ".faiss", id="ivf", marks=needs_faiss),
         pytest.param("hnsw", "faiss", ".faiss", id="hnsw-faiss", marks=needs_faiss),
         pytest.param("hnsw", "hnswlib", ".hnsw", id="hnsw-hnswlib", marks=needs_hnswlib)]


@pytest.mark.parametrize("kind,library,ext", SAVED)
def test_saved_index_answers_the_same_with_its_keys(tmp_path, kind, library, ext):
    rng = np.random.default_rng(1)
    keys = [f"ключ-{i}" for i in range(2000)]
    emb = Embeddings(keys, rng.standard_normal((2000, 16)))
    params = {"nlist": 16, "nprobe": 4} if kind == "ivf" else {}
    index = emb.index(kind, library=library, attach=False, **params)
    path = tmp_path / f"index{ext}"
    index.save(path)
    side = json.loads((tmp_path / f"index{ext}.keys.json").read_text(encoding="utf-8"))
    assert side["keys"] == keys and side["type"] == "str"
    assert side["index"]["library"] == library and side["index"]["metric"] == "cosine"
    back = load_index(path)
    assert (back.kind, back.library, back.metric, len(back)) == (kind, library, "cosine", 2000)
    assert back.params == index.params
    q = rng.standard_normal((20, 16))
    k1, s1 = index.search(q, 5)
    k2, s2 = back.search(q, 5)
    assert k1.tolist() == k2.tolist()
    np.testing.assert_allclose(s1, s2, rtol=1e-6)
    assert back.neighbors("ключ-3", 3) == index.neighbors("ключ-3", 3)
    # ek.load reads an index file as its keys and (unit) rows
    vectors = ek.load(path)
    assert vectors.keys == keys
    np.testing.assert_allclose(vectors.vectors, emb.normalized().vectors, atol=1e-6)
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"index{ext}", f"index{ext}.keys.json"]


def test_int_keys_stay_ints(tmp_path):
    emb = Embeddings([5, 17, 3], np.eye(3))
    emb.index("exact", attach=False).save(tmp_path / "i.npy")
    back = load_index(tmp_path / "i.npy")
    assert back.keys == [5, 17, 3] and list(back.search(np.array([0.0, 1.0, 0.0]), 1)[0]) == [17]
    assert back.neighbors(3, 1)[0][0] in (5, 17) and back.neighbors("3", 1) == back.neighbors(3, 1)


@needs_faiss
def test_bare_faiss_file_and_bad_files(tmp_path):
    import faiss

    x = np.random.default_rng(0).standard_normal((50, 8)).astype(np.float32)
    raw = faiss.IndexFlatL2(8)
    raw.add(x)
    path = tmp_path / "raw.faiss"
    faiss.write_index(raw, str(path))
    index = load_index(path)  # no side-car: rows numbered, metric from the index
    assert index.keys == list(range(50)) and index.metric == "l2"
    keys, scores = index.search(x[7], 1)
    assert keys[0] == 7 and scores[0] == pytest.approx(0.0, abs=1e-3)
    junk = tmp_path / "junk.faiss"
    junk.write_bytes(b"not an index")
    with pytest.raises(ek.InputFormatError, match="junk.faiss"):
        load_index(junk)
    with pytest.raises(ek.InputFormatError, match="side-car"):
        load_index(_touch(tmp_path / "lonely.hnsw"))


def _touch(path):
    path.write_bytes(b"x")
    return path


# ---- parameters and missing extras ---------------------------------------------------------------------
def test_parameters_are_checked_by_name():
    emb = Embeddings(["a", "b"], np.eye(2))
    with pytest.raises(ek.InvalidParameterError, match="kind"):
        emb.index("annoy")
    with pytest.raises(ek.InvalidParameterError, match="metric"):
        emb.index("exact", metric="manhattan")
    with pytest.raises(ek.InvalidParameterError, match="nlist"):
        emb.index("exact", nlist=4)
    with pytest.raises(ek.InvalidParameterError, match="library"):
        emb.index("flat", library="hnswlib")
    if HAS_HNSWLIB:
        idx = emb.index("hnsw", library="hnswlib", attach=False)
        with pytest.raises(ek.InvalidParameterError, match="search-time"):
            idx.set_params(m=8)
        with pytest.raises(ek.InvalidParameterError, match="ef_search"):
            idx.set_params(ef_search=0)
        assert idx.set_params(ef_search=200).params["ef_search"] == 200


def test_missing_library_names_the_extra(monkeypatch):
    import embedkit._optional as optional

    real = optional.importlib.import_module

    def without_indexes(name, *args):
        if name in ("faiss", "hnswlib"):
            raise ImportError(name)
        return real(name, *args)

    monkeypatch.setattr(optional.importlib, "import_module", without_indexes)
    emb = Embeddings(["a", "b"], np.eye(2))
    for kind in ("flat", "ivf", "hnsw"):
        with pytest.raises(ek.MissingDependencyError, match=r"pip install 'embedkit\[index\]'"):
            emb.index(kind)
    assert list(emb.index("exact").search(np.array([1.0, 0.0]), 1)[0]) == ["a"]  # numpy needs no extra


def test_every_kind_has_a_backend_table():
    assert set(KINDS) == {"exact", "flat", "ivf", "hnsw"}
    assert list(KINDS["hnsw"]) == ["faiss", "hnswlib"]
    with pytest.raises(ek.InvalidParameterError, match="kind"):
        build_index(Embeddings(["a"], [[1.0]]), kind="lsh")


# ---- the CLI -------------------------------------------------------------------------------------------
@needs_faiss
def test_cli_export_and_search(tmp_path):
    rng = np.random.default_rng(2)
    emb = Embeddings([f"w{i}" for i in range(300)], rng.standard_normal((300, 8)))
    vectors = tmp_path / "v.ekv"
    emb.save(vectors)
    runner = CliRunner()
    out = tmp_path / "index.faiss"
    res = runner.invoke(cli, ["export", str(vectors), "--format", "faiss", "-o", str(out), "--kind", "flat"])
    assert res.exit_code == 0, res.output
    assert "300 x 8" in res.output and out.exists()
    res = runner.invoke(cli, ["search", str(out), "w5", "-k", "4", "--json"])
    assert res.exit_code == 0, res.output
    got = json.loads(res.output)
    want = emb.most_similar("w5", k=4)
    assert [k for k, _ in got] == [k for k, _ in want]
    np.testing.assert_allclose([s for _, s in got], [s for _, s in want], rtol=1e-5)
    vec = ",".join(str(v) for v in emb["w9"])
    res = runner.invoke(cli, ["search", str(out), "--vector", vec, "-k", "1", "--json"])
    assert res.exit_code == 0 and json.loads(res.output)[0][0] == "w9"
    res = runner.invoke(cli, ["search", str(vectors), "w5", "-k", "4", "--json"])  # a vectors file: exact
    assert [k for k, _ in json.loads(res.output)] == [k for k, _ in want]
    res = runner.invoke(cli, ["search", str(out), "w5", "-k", "4"])
    assert res.exit_code == 0 and "cosine" in res.output and "w5" in res.output
    # errors: one line, exit code 2
    assert runner.invoke(cli, ["search", str(out)]).exit_code == 2
    assert runner.invoke(cli, ["search", str(out), "nope"]).exit_code == 2
    assert runner.invoke(cli, ["export", str(vectors), "-o", str(tmp_path / "x.npy"), "--nlist", "3"]).exit_code == 2
    res = runner.invoke(cli, ["search", str(out), "w5", "--nprobe", "3"])
    assert res.exit_code == 2 and "search-time" in res.output
    if HAS_HNSWLIB:
        hn = tmp_path / "index.hnsw"
        res = runner.invoke(cli, ["export", str(vectors), "-o", str(hn), "--ef-construction", "50"])
        assert res.exit_code == 0, res.output
        res = runner.invoke(cli, ["search", str(hn), "w5", "-k", "4", "--json", "--ef-search", "100"])
        assert [k for k, _ in json.loads(res.output)] == [k for k, _ in want]
