"""Maps of a space (embedkit/plot.py): projections that keep what they should, and PNG files that
decode at the requested size."""
from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

import embedkit as ek
from embedkit import Embeddings
from embedkit.plot import project
from embedkit_cli.main import cli

pytest.importorskip("matplotlib")
Image = pytest.importorskip("PIL.Image")


@pytest.fixture
def two_clusters():
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((2, 20)) * 3
    vectors = np.vstack([centres[i // 60] + rng.standard_normal(20) for i in range(120)])
    keys = [f"{'left' if i < 60 else 'right'}{i}" for i in range(120)]
    return Embeddings(keys, vectors), {k: k.rstrip("0123456789") for k in keys}


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_projection_separates_clusters(two_clusters, method):
    emb, labels = two_clusters
    keys, xy = project(emb, method, seed=0)
    assert keys == emb.keys and xy.shape == (120, 2)
    side = np.array([labels[k] == "left" for k in keys])
    # the two clusters are apart: every point is nearer its own cluster's centre
    c_left, c_right = xy[side].mean(axis=0), xy[~side].mean(axis=0)
    nearer_left = np.linalg.norm(xy - c_left, axis=1) < np.linalg.norm(xy - c_right, axis=1)
    assert (nearer_left == side).all()


def test_sampling_keeps_the_highlighted_keys(two_clusters):
    emb, _ = two_clusters
    keys, xy = project(emb, "pca", max_points=30, keep=["right117", "left3"], seed=1)
    assert len(keys) == 30 and "right117" in keys and "left3" in keys
    assert project(emb, "pca", max_points=30, keep=["right117"], seed=1)[0] == \
        project(emb, "pca", max_points=30, keep=["right117"], seed=1)[0]


def test_plot_writes_a_png_of_the_requested_size(two_clusters, tmp_path):
    emb, labels = two_clusters
    path = tmp_path / "map.png"
    fig = emb.plot(path, labels=labels, highlight=["left0", "right100"], size=(640, 480))
    with Image.open(path) as img:
        img.load()  # decodes
        assert img.format == "PNG" and img.size == (640, 480)
        pixels = np.asarray(img.convert("RGB")).reshape(-1, 3)
        assert len(np.unique(pixels, axis=0)) > 10  # something was drawn
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.texts] == ["left0", "right100"]
    assert sorted(t.get_text() for t in ax.get_legend().get_texts()) == ["left (60)", "right (60)"]
    with pytest.raises(ek.KeyNotFoundError, match="nope"):
        emb.plot(tmp_path / "x.png", highlight=["nope"])
    with pytest.raises(ek.InvalidParameterError, match="method"):
        emb.plot(tmp_path / "x.png", method="umap")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["map.png"]


def test_plot_command(two_clusters, tmp_path):
    emb, labels = two_clusters
    vectors = tmp_path / "v.ekv"
    emb.save(vectors)
    label_file = tmp_path / "labels.csv"
    label_file.write_text("".join(f"{k},{v}\n" for k, v in labels.items()))
    out = tmp_path / "map.png"
    res = CliRunner().invoke(cli, ["plot", str(vectors), "-o", str(out), "--labels", str(label_file),
                                   "--method", "pca", "--highlight", "left1,right70", "--highlight", "left5",
                                   "--size", "500x300"])
    assert res.exit_code == 0, res.output
    with Image.open(out) as img:
        img.load()
        assert img.size == (500, 300)
    res = CliRunner().invoke(cli, ["plot", str(vectors), "-o", str(out), "--size", "big"])
    assert res.exit_code == 2 and "WIDTHxHEIGHT" in res.output


def test_missing_matplotlib_names_the_extra(monkeypatch, two_clusters):
    import embedkit._optional as optional

    real = optional.importlib.import_module
    monkeypatch.setattr(optional.importlib, "import_module",
                        lambda name, *a: (_ for _ in ()).throw(ImportError(name)) if name == "matplotlib"
                        else real(name, *a))
    with pytest.raises(ek.MissingDependencyError, match=r"embedkit\[plot\]"):
        two_clusters[0].plot()
