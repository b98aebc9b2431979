"""Embeddings inside downstream pipelines (embedkit/pipeline.py): the scikit-learn
EmbeddingTransformer and to_torch."""
from __future__ import annotations

import numpy as np
import pytest

import embedkit as ek
from embedkit import Embeddings


@pytest.fixture(scope="module")
def topics():
    """Two topics of 40 words each; a word's vector is its topic's centre plus noise."""
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((2, 16)) * 2
    words = {t: [f"{name}{i}" for i in range(40)] for t, name in enumerate(("sport", "food"))}
    keys = words[0] + words[1]
    vectors = np.vstack([centres[t] + rng.standard_normal((40, 16)) for t in (0, 1)])
    return Embeddings(keys, vectors), words


def _documents(words, n, seed):
    """Documents of 3-8 words from one topic, plus unknown words; the label is the topic."""
    rng = np.random.default_rng(seed)
    docs, labels = [], []
    for _ in range(n):
        t = int(rng.integers(2))
        doc = list(rng.choice(words[t], size=int(rng.integers(3, 9))))
        doc += [f"unseen{rng.integers(1000)}" for _ in range(int(rng.integers(0, 3)))]
        rng.shuffle(doc)
        docs.append(" ".join(doc))
        labels.append(t)
    return docs, np.array(labels)


def test_pipeline_learns_a_toy_task(topics):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, cross_val_score
    from sklearn.pipeline import Pipeline

    emb, words = topics
    train_docs, train_y = _documents(words, 200, seed=1)
    test_docs, test_y = _documents(words, 200, seed=2)
    pipe = Pipeline([("vectors", ek.EmbeddingTransformer(emb, tokenizer="whitespace")),
                     ("clf", LogisticRegression(max_iter=1000))])
    pipe.fit(train_docs, train_y)
    assert pipe.score(test_docs, test_y) >= 0.95
    # the same pipeline on shuffled labels learns nothing
    shuffled = np.random.default_rng(3).permutation(train_y)
    assert pipe.fit(train_docs, shuffled).score(test_docs, test_y) < 0.75
    # cloning (cross-validation, grid search) shares the embeddings instead of copying them
    scores = cross_val_score(pipe, train_docs, train_y, cv=3)
    assert scores.min() >= 0.9
    grid = GridSearchCV(pipe, {"vectors__normalize": [False, True], "vectors__pooling": ["mean", "max"]}, cv=3)
    grid.fit(train_docs, train_y)
    assert grid.best_estimator_.named_steps["vectors"].emb is emb
    assert list(pipe.named_steps["vectors"].get_feature_names_out()[:2]) == ["emb0", "emb1"]


def test_items_keys_and_token_lists():
    emb = Embeddings(["a", "b", 7], np.array([[1.0, 0.0], [0.0, 2.0], [4.0, 4.0]]))
    t = ek.EmbeddingTransformer(emb)
    out = t.fit_transform(["a", ["a", "b"], ("b", "zzz"), 7, "7", ["zzz"], np.array(["a", "a"])])
    np.testing.assert_allclose(out, [[1, 0], [0.5, 1], [0, 2], [4, 4], [4, 4], [0, 0], [1, 0]])
    assert out.dtype == np.float32 and out.shape == (7, 2)
    np.testing.assert_allclose(ek.EmbeddingTransformer(emb, pooling="sum").transform([["a", "b", "b"]]), [[1, 4]])
    np.testing.assert_allclose(ek.EmbeddingTransformer(emb, pooling="max").transform([["a", "b"]]), [[1, 2]])
    np.testing.assert_allclose(ek.EmbeddingTransformer(emb, normalize=True).transform(["b", ["zzz"]]), [[0, 1], [0, 0]])
    # a string item is one key unless a tokenizer is given
    assert ek.EmbeddingTransformer(emb).transform(["a b"]).tolist() == [[0.0, 0.0]]
    np.testing.assert_allclose(ek.EmbeddingTransformer(emb, tokenizer=str.split).transform(["a b"]), [[0.5, 1]])
    # pandas columns
    pd = pytest.importorskip("pandas")
    np.testing.assert_allclose(t.transform(pd.Series(["a", "b"])), [[1, 0], [0, 2]])
    np.testing.assert_allclose(t.transform(pd.DataFrame({"k": ["a", "b"]})), [[1, 0], [0, 2]])
    with pytest.raises(ValueError, match="2 columns"):
        t.transform(pd.DataFrame({"k": ["a"], "j": ["b"]}))


def test_oov_policies():
    emb = Embeddings(["a", "b"], np.array([[1.0, 0.0], [0.0, 3.0]]))
    items = [["a", "zzz"], ["zzz"]]
    np.testing.assert_allclose(ek.EmbeddingTransformer(emb, oov="zero").transform(items), [[1, 0], [0, 0]])
    mean = [0.5, 1.5]
    np.testing.assert_allclose(ek.EmbeddingTransformer(emb, oov="mean").transform(items),
                               [[(1 + 0.5) / 2, (0 + 1.5) / 2], mean])
    with pytest.raises(ek.KeyNotFoundError, match="item 0: key 'zzz'"):
        ek.EmbeddingTransformer(emb, oov="error").transform(items)
    with pytest.raises(ek.InvalidParameterError, match="oov"):
        ek.EmbeddingTransformer(emb, oov="drop").fit(items)
    with pytest.raises(ek.InvalidParameterError, match="tokenizer"):
        ek.EmbeddingTransformer(emb, tokenizer="bpe").transform(items)
    assert ek.EmbeddingTransformer(emb).coverage(items) == pytest.approx(1 / 3)


# ---- PyTorch ---------------------------------------------------------------------------------------
def test_to_torch():
    torch = pytest.importorskip("torch")
    emb = Embeddings(["a", "b", 42], np.arange(9, dtype=np.float32).reshape(3, 3))
    module, rows = emb.to_torch()
    assert isinstance(module, torch.nn.Embedding) and module.weight.shape == (3, 3)
    assert not module.weight.requires_grad
    assert rows == {"a": 0, "b": 1, 42: 2}
    np.testing.assert_array_equal(module(torch.tensor([rows[42], rows["a"]])).numpy(), emb.vectors[[2, 0]])
    # the module owns a copy: training it leaves the embeddings alone
    module, rows = emb.to_torch(freeze=False, oov_row=True)
    assert module.weight.requires_grad and module.padding_idx == 3 and module.weight.shape == (4, 3)
    ids = torch.tensor([rows.get(k, len(emb)) for k in ["a", "unknown", "b"]])
    out = module(ids)
    np.testing.assert_array_equal(out[1].detach().numpy(), [0, 0, 0])
    out.sum().backward()
    torch.optim.SGD(module.parameters(), lr=1.0).step()
    np.testing.assert_array_equal(module.weight[3].detach().numpy(), [0, 0, 0])  # padding row never moves
    assert not np.allclose(module.weight[0].detach().numpy(), emb.vectors[0])
    np.testing.assert_array_equal(emb.vectors, np.arange(9, dtype=np.float32).reshape(3, 3))


def test_to_torch_from_a_memory_mapped_file(tmp_path):
    torch = pytest.importorskip("torch")
    emb = Embeddings(["x", "y"], [[1.0, 2.0], [3.0, 4.0]])
    emb.save(tmp_path / "v.ekv")
    mapped = ek.load(tmp_path / "v.ekv", mmap=True)
    module, rows = mapped.to_torch(freeze=False)  # read-only map: the weights are a writable copy
    assert module(torch.tensor([rows["y"]])).tolist() == [[3.0, 4.0]]
