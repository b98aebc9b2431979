"""GCN/GAT results keep their trained encoder through save/load (issue 20, part 4): a loaded
result embeds a grown graph and starts ``init=`` exactly as the object ``ek.train`` returned
does, from Python and from the CLI (``--init FILE``). Known answer: a planted new community,
embedded by the loaded model without training, lands nearest itself. Old files (vectors only)
and broken ones are refused with clear errors naming the file."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

import embedkit as ek
from embedkit.exceptions import EmbedkitError, InputFormatError, InvalidParameterError

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

CPU = dict(seed=0, verbose=False, workers=1)


@pytest.fixture(scope="module")
def planted(sbm):
    """Three communities of 30 nodes trained on; a fourth (30 new nodes) joins by a few edges.
    Labels (of the old nodes, masks by id) for the classifier."""
    s, d, lab, X = sbm([30] * 4, 0.3, 0.01, 16, 1.5, 0)
    old = lab < 3
    keep = old[s] & old[d]
    ids = np.arange(90)
    g_old = ek.read_node_data((s[keep], d[keep]), features=X[:90])
    g_new = ek.read_node_data((s, d), features=X)
    labelled = ek.read_node_data((s[keep], d[keep]), features=X[:90], labels={i: int(lab[i]) for i in range(90)},
                                 train_mask=ids % 5 < 3, val_mask=ids % 5 == 3, test_mask=ids % 5 == 4)
    return dict(s=s, d=d, lab=lab, X=X, g_old=g_old, g_new=g_new, labelled=labelled)


#: name -> (method, data key, parameters)
CASES = {
    "gcn": ("gcn", "g_old", dict(dim=16, normalize_features=False, epochs=60)),
    "gat": ("gat", "g_old", dict(dim=16, normalize_features=False, epochs=60, heads=2, dropout=0.2, attn_dropout=0.0)),
    "gcn-classifier": ("gcn", "labelled", dict(epochs=40)),
    "gat-classifier": ("gat", "labelled", dict(epochs=20, heads=2)),
}


@pytest.fixture(scope="module")
def trained(planted, tmp_path_factory):
    """name -> (in-memory result, loaded result, path, parameters)."""
    out = {}
    folder = tmp_path_factory.mktemp("gnn_save")
    for name, (method, data, params) in CASES.items():
        res = ek.train(method, planted[data], **params, **CPU)
        path = folder / f"{name}.ekv"
        res.save(path)
        out[name] = (res, ek.load(path), path, params)
    return out


@pytest.mark.parametrize("name", list(CASES))
def test_a_loaded_result_holds_the_same_encoder_and_embeds_a_grown_graph_identically(trained, planted, name):
    res, loaded, path, _ = trained[name]
    assert type(loaded) is type(res)
    assert loaded.keys == res.keys and np.array_equal(loaded.vectors, res.vectors)
    sd, sd2 = res.model.state_dict(), loaded.model.state_dict()
    assert sorted(sd) == sorted(sd2) and all(torch.equal(sd[k], sd2[k]) for k in sd)
    assert not loaded.model.training
    with zipfile.ZipFile(path) as zf:  # arrays and JSON, never a pickle
        names = zf.namelist()
        assert all(n.endswith((".npy", ".json")) for n in names)
        assert all(f"gnn/encoder/{k}.npy" in names for k in sd)
    a, b = res.embed(planted["g_new"]), loaded.embed(planted["g_new"])
    assert a.keys == b.keys == list(planted["g_new"].graph.nodes)
    assert np.array_equal(a.vectors, b.vectors)
    # on the training graph itself the encoder gives the saved vectors back
    assert np.array_equal(loaded.embed(planted["g_old"]).vectors, res.vectors)
    # a loaded result saves again as it was
    loaded.save(path.with_name(f"{name}-again.ekv"))
    again = ek.load(path.with_name(f"{name}-again.ekv"))
    assert np.array_equal(again.embed(planted["g_new"]).vectors, a.vectors)
    if name.endswith("classifier"):
        assert loaded.classes == res.classes and loaded.multi_label == res.multi_label
        assert np.array_equal(loaded.scores, res.scores)
        assert loaded.predict() == res.predict()
        assert dict(loaded.evaluate()) == dict(res.evaluate())


@pytest.mark.parametrize("name", ["gcn", "gat", "gcn-classifier"])
def test_init_from_a_loaded_file_equals_init_from_the_object_bit_for_bit(trained, planted, name):
    res, loaded, _, params = trained[name]
    method = CASES[name][0]
    if name.endswith("classifier"):
        lab, ids = planted["lab"], np.arange(120)
        data = ek.read_node_data((planted["s"], planted["d"]), features=planted["X"],
                                 labels={i: int(lab[i]) for i in range(90)},  # the new nodes: unlabelled
                                 train_mask=ids % 5 < 3, val_mask=ids % 5 == 3, test_mask=ids % 5 == 4)
    else:
        data = planted["g_new"]
    kw = dict(params, epochs=5, **CPU)
    from_obj = ek.train(method, data, init=res, freeze_existing=True, **kw)
    from_file = ek.train(method, data, init=loaded, freeze_existing=True, **kw)
    assert from_file.keys == from_obj.keys
    assert np.array_equal(from_file.vectors, from_obj.vectors)
    assert [r["loss"] for r in from_file.history] == [r["loss"] for r in from_obj.history]
    assert np.array_equal(from_file.vectors[:len(res)], res.vectors)  # frozen old rows
    sd, sd2 = from_obj.model.state_dict(), from_file.model.state_dict()
    assert all(torch.equal(sd[k], sd2[k]) for k in sd)


def _cos_to_communities(emb, lab, who):
    V = emb.vectors / np.linalg.norm(emb.vectors, axis=1, keepdims=True)
    comm = np.array([lab[int(k)] for k in emb.keys])
    C = V[comm == who] @ V.T
    return [float(C[:, comm == c].mean()) for c in range(lab.max() + 1)]


@pytest.mark.parametrize("name", ["gcn", "gat"])
def test_a_planted_new_community_embedded_by_the_loaded_model_lands_nearest_itself(trained, planted, name):
    """No training: the loaded encoder places the 30 new nodes nearest one another, and each new
    node's nearest old nodes are few (it is not mistaken for an old community)."""
    _, loaded, _, _ = trained[name]
    emb = loaded.embed(planted["g_new"])
    lab = planted["lab"]
    cos = _cos_to_communities(emb, lab, 3)
    assert cos[3] > max(cos[:3]) + 0.2, cos
    # each new node's 10 nearest nodes: mostly new ones
    near = [sum(lab[int(k)] == 3 for k, _ in emb.most_similar(key, k=10)) for key in emb.keys[90:]]
    assert np.mean(near) >= 7, np.mean(near)


def test_a_learned_table_model_round_trips_and_init_from_its_file_matches(planted, tmp_path):
    """No features: the saved table is matched by node key on init, from the file as from the object."""
    s, d, lab = planted["s"], planted["d"], planted["lab"]
    old = (lab[s] < 3) & (lab[d] < 3)
    g_old, g_new = ek.read_graph((s[old], d[old])), ek.read_graph((s, d))
    prev = ek.train("gcn", g_old, dim=8, epochs=20, **CPU)
    assert prev.meta["features"] == "learned"
    prev.save(tmp_path / "t.ekv")
    loaded = ek.load(tmp_path / "t.ekv")
    assert torch.equal(loaded.model.table, prev.model.table)
    with pytest.raises(EmbedkitError, match="cannot embed other nodes"):
        loaded.embed(g_new)
    a = ek.train("gcn", g_new, init=prev, dim=8, epochs=3, **CPU)
    b = ek.train("gcn", g_new, init=loaded, dim=8, epochs=3, **CPU)
    assert np.array_equal(a.vectors, b.vectors)


def test_degree_features_keep_the_training_scale_and_spectral_refuse_another_graph(planted, tmp_path):
    g_old, g_new = planted["g_old"].graph, planted["g_new"].graph
    deg = ek.train("gcn", g_old, input_features="degree", dim=8, epochs=10, **CPU)
    assert deg.meta["degree_log_max"] == pytest.approx(np.log1p(g_old.degree().max()))
    deg.save(tmp_path / "deg.ekv")
    loaded = ek.load(tmp_path / "deg.ekv")
    assert np.array_equal(loaded.embed(g_new).vectors, deg.embed(g_new).vectors)
    assert np.array_equal(loaded.embed(g_old).vectors, deg.vectors)
    spec = ek.train("gcn", g_old, input_features="spectral", dim=8, epochs=10, **CPU)
    spec.save(tmp_path / "spec.ekv")
    loaded = ek.load(tmp_path / "spec.ekv")
    assert np.array_equal(loaded.embed(g_old).vectors, spec.vectors)  # its own graph: the same basis
    for model in (spec, loaded):
        with pytest.raises(EmbedkitError, match="eigenvectors.*another basis"):
            model.embed(g_new)


def _old_format(res, path):
    """What this version's predecessors wrote for a GNN result: the vectors and metadata only."""
    ek.Embeddings(res.keys, res.vectors, res.meta).save(path)


def test_a_file_saved_before_encoders_were_kept_loads_as_vectors_and_init_says_how_to_get_one(trained, planted,
                                                                                              tmp_path):
    res, _, _, params = trained["gcn"]
    _old_format(res, tmp_path / "old.ekv")
    old = ek.load(tmp_path / "old.ekv")
    assert type(old) is ek.Embeddings and np.array_equal(old.vectors, res.vectors)
    with pytest.raises(InvalidParameterError, match="holds no encoder weights.*retrain it with this version"):
        ek.train("gcn", planted["g_new"], init=old, **dict(params, epochs=2), **CPU)
    with pytest.raises(InvalidParameterError, match="ek.load"):
        ek.train("gcn", planted["g_new"], init=str(tmp_path / "old.ekv"), **dict(params, epochs=2), **CPU)


def _rewrite(src, dst, change):
    """Copy the zip ``src`` to ``dst`` with ``change(members: dict name -> bytes)`` applied."""
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    change(members)
    with zipfile.ZipFile(dst, "w", compression=zipfile.ZIP_STORED) as zf:
        for n, data in members.items():
            zf.writestr(n, data)


def _npy(a, pickle: bool = False) -> bytes:
    """``a`` as ``.npy`` bytes (``pickle``: an object array, which a loader must refuse)."""
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=pickle)
    return buf.getvalue()


def _meta(change):
    def apply(members):
        meta = json.loads(members["meta.json"])
        change(meta)
        members["meta.json"] = json.dumps(meta).encode()
    return apply


W = "gnn/encoder/convs.0.lin.weight.npy"


def _set(name, value):
    def apply(members):
        members[name] = value
    return apply


def _drop(name):
    def apply(members):
        del members[name]
    return apply


BROKEN = {
    "wrong shape": (_set(W, _npy(np.zeros((3, 3), np.float32))), r"convs.0.lin.weight.npy has shape \(3, 3\)"),
    "nan": (_set(W, _npy(np.full((16, 16), np.nan, np.float32))), "NaN or infinity"),
    "missing": (_drop(W), "missing gnn/encoder/convs.0.lin.weight.npy"),
    "truncated": (lambda m: m.__setitem__(W, m[W][:-40]), "truncated"),
    "pickled": (_set(W, _npy(np.array([1, "a"], dtype=object), pickle=True)), "Python objects"),
    "not numbers": (_set(W, _npy(np.array(["a", "b"]))), "not numbers"),
    "architecture": (_meta(lambda m: m["gnn_encoder"]["config"].update(hidden=12)), "has shape"),
    "unknown layer": (_meta(lambda m: m["gnn_encoder"]["config"].update(kind="no-such-layer")),
                      "no GNN layer type 'no-such-layer'"),
    "bad option": (_meta(lambda m: m["gnn_encoder"]["config"].update(heads=2)), "cannot build a gcn encoder"),
    "huge": (_meta(lambda m: m["gnn_encoder"]["config"].update(layers=10 ** 9)), "over the limit"),
    "newer": (_meta(lambda m: m["gnn_encoder"].update(version=99)), "newer embedkit"),
    "bad config": (_meta(lambda m: m["gnn_encoder"].update(config=[1])), "config"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_encoder_is_an_input_format_error_naming_the_file(trained, tmp_path, case):
    _, _, path, _ = trained["gcn"]
    change, message = BROKEN[case]
    bad = tmp_path / f"{case.replace(' ', '_')}.ekv"
    _rewrite(path, bad, change)
    with pytest.raises(InputFormatError, match=message) as err:
        ek.load(bad)
    assert str(bad) in str(err.value)


def test_a_broken_classifier_file_is_refused(trained, tmp_path):
    _, _, path, _ = trained["gcn-classifier"]
    bad = tmp_path / "clf.ekv"
    _rewrite(path, bad, _set("gnn/scores.npy", _npy(np.zeros((90, 2), np.float32))))
    with pytest.raises(InputFormatError, match=r"scores.npy has shape \(90, 2\), expected \(90, 3\)"):
        ek.load(bad)


def test_an_unpacked_ekv_folder_loads_with_its_encoder(trained, planted, tmp_path):
    res, _, path, _ = trained["gat"]
    with zipfile.ZipFile(path) as zf:
        zf.extractall(tmp_path / "unpacked")
    loaded = ek.load(tmp_path / "unpacked")
    assert np.array_equal(loaded.embed(planted["g_new"]).vectors, res.embed(planted["g_new"]).vectors)


def test_cli_init_from_a_saved_gnn_fine_tunes_and_refuses_old_and_broken_files(planted, tmp_path):
    from click.testing import CliRunner

    from embedkit_cli.main import cli

    s, d, lab, X = planted["s"], planted["d"], planted["lab"], planted["X"]
    old = (lab[s] < 3) & (lab[d] < 3)
    (tmp_path / "old.txt").write_text("".join(f"{a} {b}\n" for a, b in zip(s[old], d[old])))
    (tmp_path / "new.txt").write_text("".join(f"{a} {b}\n" for a, b in zip(s, d)))
    np.save(tmp_path / "old_x.npy", X[:90])
    np.save(tmp_path / "new_x.npy", X)
    opts = ["--dim", "16", "--seed", "0", "--workers", "1", "--no-normalize-features", "--quiet"]
    runner = CliRunner()
    res = runner.invoke(cli, ["train", "gcn", str(tmp_path / "old.txt"), "--features", str(tmp_path / "old_x.npy"),
                              "--epochs", "40", "-o", str(tmp_path / "prev.ekv"), *opts])
    assert res.exit_code == 0, res.output
    res = runner.invoke(cli, ["train", "gcn", str(tmp_path / "new.txt"), "--features", str(tmp_path / "new_x.npy"),
                              "--epochs", "5", "--init", str(tmp_path / "prev.ekv"), "--freeze-existing",
                              "-o", str(tmp_path / "tuned.ekv"), *opts])
    assert res.exit_code == 0, res.output
    prev, tuned = ek.load(tmp_path / "prev.ekv"), ek.load(tmp_path / "tuned.ekv")
    assert isinstance(tuned, type(prev)) and tuned.model is not None
    assert len(tuned) == 120 and all(np.array_equal(prev[k], tuned[k]) for k in prev.keys)
    assert tuned.meta["init"]["new_keys"] == 30 and tuned.meta["init"]["freeze_existing"] is True
    # the same run in Python, from the same file, gives the same vectors
    data = ek.read_node_data(str(tmp_path / "new.txt"), features=str(tmp_path / "new_x.npy"))
    again = ek.train("gcn", data, init=prev, freeze_existing=True, epochs=5, dim=16, normalize_features=False, **CPU)
    assert again.keys == tuned.keys and np.array_equal(again.vectors, tuned.vectors)
    # the new community, placed by the fine-tuned encoder, is nearest itself
    comm = {str(i): int(lab[i]) for i in range(120)}
    V = tuned.vectors / np.linalg.norm(tuned.vectors, axis=1, keepdims=True)
    c = np.array([comm[str(k)] for k in tuned.keys])
    C = V[c == 3] @ V.T
    assert C[:, c == 3].mean() > max(C[:, c == j].mean() for j in range(3)) + 0.2
    # an old file (vectors only) and a broken one: one line each, exit 2, naming the problem / the file
    _old_format(prev, tmp_path / "vectors_only.ekv")
    _rewrite(tmp_path / "prev.ekv", tmp_path / "broken.ekv", _drop(W))
    for name, message in (("vectors_only.ekv", "holds no encoder weights"), ("broken.ekv", "broken.ekv")):
        res = runner.invoke(cli, ["train", "gcn", str(tmp_path / "new.txt"), "--features",
                                  str(tmp_path / "new_x.npy"), "--epochs", "2", "--init", str(tmp_path / name),
                                  "-o", str(tmp_path / "x.ekv"), *opts])
        assert res.exit_code == 2, res.output
        assert message in res.output and "Traceback" not in res.output
