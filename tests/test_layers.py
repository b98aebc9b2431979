"""Layers import downward only, and every saved type goes through the artifact registry.

The import graph is taken at the level of embedkit's direct subpackages and top-level modules
(``embedkit.io``, ``embedkit.text``, ``embedkit.embeddings``, ...), imports inside functions
included (ARCHITECTURE.md: "the import graph, imports inside functions included, has no cycle").
"""
from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
from click.testing import CliRunner

import embedkit as ek
from embedkit import artifacts
from embedkit.artifacts import artifact_of

ROOT = Path(ek.__file__).parent


def _unit(module: str) -> str:
    """``embedkit.io.native`` -> ``embedkit.io``: the direct subpackage or top-level module."""
    return ".".join(module.split(".")[:2])


def import_edges(root: Path = ROOT) -> dict[tuple[str, str], str]:
    """``(unit, unit) -> "file:line"`` of one import making that edge, for every embedkit import of
    every module under ``root`` (inside functions too; relative imports resolved)."""
    edges: dict[tuple[str, str], str] = {}
    for f in sorted(root.rglob("*.py")):
        parts = ("embedkit",) + f.relative_to(root).with_suffix("").parts
        module = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        package = module if parts[-1] == "__init__" else module.rsplit(".", 1)[0]
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                if not target.startswith("embedkit"):
                    continue
                if node.module is None or "." not in target:  # from . import x / from embedkit import x
                    targets = [f"{target}.{a.name}" for a in node.names]
                else:
                    targets = [target]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names if a.name.startswith("embedkit")]
            else:
                continue
            for t in targets:
                src, dst = _unit(module), _unit(t)
                if src != dst and dst != "embedkit":  # the package's own __init__ may import everything
                    edges.setdefault((src, dst), f"{f.relative_to(root.parent)}:{node.lineno}")
    return edges


def test_the_import_graph_finds_imports_inside_functions(tmp_path):
    pkg = tmp_path / "embedkit"
    (pkg / "low").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "low" / "__init__.py").write_text("def f():\n    from ..high import x\n")
    (pkg / "high.py").write_text("from .low import f\n")
    edges = import_edges(pkg)
    assert set(edges) == {("embedkit.low", "embedkit.high"), ("embedkit.high", "embedkit.low")}
    assert edges[("embedkit.low", "embedkit.high")] == "embedkit/low/__init__.py:2"


def test_no_import_cycle_between_packages():
    edges = import_edges()
    graph = nx.DiGraph(list(edges))
    assert graph.number_of_edges() > 50  # the walk saw the package (a broken walk would pass trivially)
    cycles = [c for c in nx.strongly_connected_components(graph) if len(c) > 1]
    if cycles:
        cycle = nx.find_cycle(graph.subgraph(cycles[0]))
        path = "\n".join(f"  {a} -> {b}  ({edges[(a, b)]})" for a, b in cycle)
        pytest.fail(f"import cycle between {sorted(cycles[0])}:\n{path}\n"
                    "a lower layer reaches a higher one through a registry or hook (see ARCHITECTURE.md)")


def test_io_names_no_artifact_class():
    """io dispatches through the registry: no class-name strings, no import of the text family or the index."""
    edges = import_edges()
    assert not [e for e in edges if e[0] == "embedkit.io" and e[1] in ("embedkit.text", "embedkit.index")]
    for f in (ROOT / "io").rglob("*.py"):
        assert "__name__ !=" not in f.read_text() and "__name__ ==" not in f.read_text(), f


# ---- every registered artifact round-trips through ek.load ---------------------------------
def _embeddings(tmp_path):
    return ek.Embeddings(["a", "b", "c"], [[1, 0], [0, 1], [1, 1]], {"method": "test"})


def _subword(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("the cat sat on the mat with the other cat\nthe dog sat on the log near the cat\n" * 20)
    return ek.train("subword", str(text), units="char", dim=8, epochs=2, min_count=1, workers=1, verbose=False,
                    seed=0)


def _encoder(tmp_path):
    data = {"features": np.eye(6, dtype=np.float32), "labels": [0, 0, 0, 1, 1, 1]}
    return ek.train("triplet", data, **ek.get_method("triplet").quick_params, seed=0)


def _node_classifier(tmp_path):
    """A trained GCN classifier (its .ekv keeps the encoder, scores, labels and masks)."""
    pytest.importorskip("torch_geometric")
    s, d = np.array([0, 1, 2, 3, 4, 5, 0]), np.array([1, 2, 0, 4, 5, 3, 3])
    X = np.eye(6, dtype=np.float32)
    data = ek.read_node_data((s, d), features=X, labels={i: "xy"[i // 3] for i in range(6)},
                             train_mask=np.arange(6) % 3 == 0, test_mask=np.arange(6) % 3 != 0)
    return ek.train("gcn", data, epochs=3, hidden=4, seed=0, verbose=False, workers=1)


def _factor_model(tmp_path):
    users = ek.Embeddings(["u0", "u1"], [[1.0, 0.0], [0.0, 1.0]])
    items = ek.Embeddings(["i0", "i1", "i2"], [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    return ek.FactorModel(users, items, item_bias=np.array([0.1, 0.2, 0.3], dtype=np.float32),
                          meta={"method": "test"})


def _tokenizer(tmp_path):
    text = tmp_path / "corpus.txt"
    text.write_text("the cat sat on the mat with the other cat and the dog\n" * 50)
    return ek.train("bpe", str(text), **ek.get_method("bpe").quick_params)


def _vector_index(tmp_path):
    pytest.importorskip("faiss")
    return ek.Embeddings(["a", "b", "c"], [[1, 0], [0, 1], [1, 1]]).index("flat", attach=False)


#: artifact name -> (a small instance, the file it is saved to)
MAKERS = {
    "embeddings": (_embeddings, "x.ekv"),
    "subword-embeddings": (_subword, "x.ekv"),
    "encoder-embeddings": (_encoder, "x.ekv"),
    "gnn-embeddings": (_node_classifier, "x.ekv"),
    "factor-model": (_factor_model, "x.ekv"),
    "tokenizer": (_tokenizer, "x.model"),
    "vector-index": (_vector_index, "x.faiss"),
}


def test_every_artifact_has_a_round_trip_test():
    assert {a.name for a in artifacts.artifacts()} == set(MAKERS)


def _vectors_of(obj):
    if isinstance(obj, ek.FactorModel):
        return obj.users.keys + obj.items.keys, np.vstack([obj.users.vectors, obj.items.vectors])
    if isinstance(obj, ek.Tokenizer):
        return obj.vocab, None
    if isinstance(obj, ek.VectorIndex):
        return obj.keys, obj.vectors()
    return list(obj.keys), obj.vectors


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_each_artifact_round_trips_through_ek_load(name, tmp_path):
    make, filename = MAKERS[name]
    obj = make(tmp_path)
    art = artifact_of(obj)
    assert art.name == name
    path = tmp_path / filename
    art.save(obj, path)
    back = ek.load(path)
    if art.load is None:  # saved as its vectors: loads back as plain embeddings
        assert type(back) is ek.Embeddings
    elif isinstance(obj, ek.VectorIndex):  # ek.load gives an index's stored rows; the registry the index
        assert type(back) is ek.Embeddings and type(art.load(path)) is type(obj)
        back = art.load(path)
    else:
        assert type(back) is type(obj)
    keys, vectors = _vectors_of(obj)
    keys_back, vectors_back = _vectors_of(back)
    assert keys_back == keys
    if vectors is not None:
        np.testing.assert_array_equal(vectors_back, vectors)
    rows = art.summary(obj)
    assert rows and all(isinstance(k, str) and isinstance(v, str) for k, v in rows)


def test_loading_imports_the_module_that_registers_a_format():
    """Each artifact's registering module is listed under its format in PROVIDERS, so that a file
    loads whatever was imported before."""
    for art in artifacts.artifacts():
        assert art.provider in artifacts.PROVIDERS.get(art.format, ()), (art.name, art.provider)


def test_a_meta_json_picks_its_artifact():
    assert artifacts.artifact_for_meta({"format": "embedkit.embeddings"}).name == "embeddings"
    assert artifacts.artifact_for_meta({"format": "embedkit.embeddings", "subword": {}}).name == "subword-embeddings"
    assert artifacts.artifact_for_meta({"format": "embedkit.factor_model"}).name == "factor-model"
    assert artifacts.artifact_for_meta({"format": "something else"}) is None
    assert artifacts.artifact_for_suffix(".MODEL").name == "tokenizer"


# ---- the CLI's summary rows come from the registry -----------------------------------------
def _mark(monkeypatch, name: str) -> None:
    art = artifacts.artifact_named(name)
    monkeypatch.setitem(artifacts._REGISTRY, name, dataclasses.replace(
        art, summary=lambda obj: [("registry", f"{name} {type(obj).__name__}")]))


@pytest.mark.parametrize("name, args", [
    ("embeddings", ["deepwalk", "karate", "--dim", "4", "--walk-length", "5", "--walks-per-node", "1",
                    "--epochs", "1", "--workers", "1", "--seed", "0"]),
    ("factor-model", ["popular", "RATINGS"]),
    ("tokenizer", ["bpe", "TEXT", "--vocab-size", "40", "--no-byte-fallback"]),
])
def test_train_summary_comes_from_the_registry(name, args, tmp_path, monkeypatch):
    from embedkit_cli.main import cli

    ratings = tmp_path / "ratings.csv"
    ratings.write_text("u1,i1\nu1,i2\nu2,i2\nu2,i3\nu3,i1\n")
    text = tmp_path / "text.txt"
    text.write_text("the cat sat on the mat with the other cat and the dog\n" * 50)
    args = [str(ratings) if a == "RATINGS" else str(text) if a == "TEXT" else a for a in args]
    _mark(monkeypatch, name)
    out = tmp_path / ("out.model" if name == "tokenizer" else "out.ekv")
    res = CliRunner().invoke(cli, ["train", *args, "-o", str(out), "--quiet"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    loop_rows = {"epochs", "last", "resumed", "checkpoints", "history"}  # the training loop's (cli/_history.py)
    assert [line.split()[0] for line in lines if line.split()[0] not in loop_rows] == [
        "method", "input", "registry", "total", "written"]
    assert f"{name} {type(ek.load(out)).__name__}" in lines[2]


def test_export_picks_a_table_of_an_artifact_that_holds_several(tmp_path):
    """`embedkit export --which`: the registry says which artifacts hold several tables (a recommender)."""
    from embedkit_cli.main import cli

    model = _factor_model(tmp_path)
    model.save(tmp_path / "model.ekv")
    res = CliRunner().invoke(cli, ["export", str(tmp_path / "model.ekv"), "-o", str(tmp_path / "users.txt"),
                                   "--which", "users"])
    assert res.exit_code == 0, res.output
    assert "2 x 2 vectors" in res.output and ek.load(tmp_path / "users.txt").keys == ["u0", "u1"]
    res = CliRunner().invoke(cli, ["export", str(tmp_path / "model.ekv"), "-o", str(tmp_path / "items.txt")])
    assert res.exit_code == 0 and ek.load(tmp_path / "items.txt").keys == ["i0", "i1", "i2"]
    _embeddings(tmp_path).save(tmp_path / "v.ekv")
    res = CliRunner().invoke(cli, ["export", str(tmp_path / "v.ekv"), "-o", str(tmp_path / "v.txt"), "--which", "users"])
    assert res.exit_code == 2 and "--which: for a recommender model only" in res.output
