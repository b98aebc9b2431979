"""The explorer page (embedkit/explorer): exact neighbours, a self-contained file, and the page itself
run in a real headless Chromium (Debian's ``chromium``; .ci/run installs it): ``#q=KEY`` lists the
neighbours ``emb.most_similar`` gives, in the same order, and the page asks the network for nothing."""
from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
from click.testing import CliRunner

import embedkit as ek
from embedkit import Embeddings
from embedkit.exceptions import InvalidParameterError, MissingDependencyError
from embedkit.explorer import project
from embedkit.explorer.page import nearest_neighbours
from embedkit_cli.main import cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def clusters():
    """Three clusters of 60 keys in 16 dimensions; keys with spaces, accents, markup (``</script>``)
    and URL-ish text."""
    rng = np.random.default_rng(1)
    centres = rng.standard_normal((3, 16)) * 2.5
    names = ["alpha", "béta", "<gamma>"]
    keys, vectors, labels = [], [], {}
    for c, name in enumerate(names):
        for i in range(60):
            key = f"{name} {i}" if i % 7 else f"{name}/{i}?x=1&y#z"
            key = f"{name}</script><b>{i}" if i == 3 else key
            keys.append(key)
            vectors.append(centres[c] + rng.standard_normal(16))
            labels[key] = name
    return Embeddings(keys, np.asarray(vectors, dtype=np.float32)), labels


def _page_data(path: Path) -> dict:
    text = path.read_text(encoding="utf-8")
    data = json.loads(re.search(r'<script type="application/json" id="data">(.*?)</script>', text, re.S).group(1))
    for name, dtype in (("xy", "<f4"), ("label", "<u2"), ("nbr", "<i4"), ("cos", "<f4")):
        raw = re.search(rf'id="blob-{name}">([^<]*)</script>', text).group(1)
        data[name] = np.frombuffer(base64.b64decode(raw), dtype=dtype)
    return data


def test_neighbours_are_most_similar(clusters):
    emb, _ = clusters
    index, cosine = nearest_neighbours(emb._unit_vectors(), np.arange(len(emb)), 8, block=50)
    for row, key in enumerate(emb.keys):
        expected = emb.most_similar(key, k=8)
        assert [emb.keys[i] for i in index[row]] == [k for k, _ in expected]
        np.testing.assert_allclose(cosine[row], [s for _, s in expected], atol=1e-5)


@pytest.mark.parametrize("method, fit_points", [("pca", None), ("tsne", None), ("tsne", 90)])
def test_projection_keeps_clusters_apart(clusters, method, fit_points):
    emb, labels = clusters
    xy = project(emb._unit_vectors(), method, fit_points=fit_points, seed=0)
    assert xy.shape == (len(emb), 2) and np.isfinite(xy).all()
    group = np.array([labels[k] for k in emb.keys])
    centres = {g: xy[group == g].mean(axis=0) for g in set(group)}
    nearest = [min(centres, key=lambda g: np.linalg.norm(p - centres[g])) for p in xy]
    assert (np.array(nearest) == group).mean() >= 0.97


def test_page_is_self_contained(clusters, tmp_path):
    emb, labels = clusters
    out = ek.explore(emb, tmp_path / "map.html", labels=labels, k=5)
    text = out.read_text(encoding="utf-8")
    assert not re.search(r'(?:src|href)\s*=\s*["\']?\s*(?:https?:)?//', text, re.I)
    assert "<link" not in text and not re.search(r"<script[^>]*\ssrc=", text)
    assert not re.search(r"https?://", text)  # nor any address the script could fetch
    data = _page_data(out)
    assert data["keys"] == emb.keys and data["mapped"] == len(emb) and data["k"] == 5
    assert data["labels"] == ["<gamma>", "alpha", "béta"]
    assert [data["labels"][i] for i in data["label"]] == [labels[k] for k in emb.keys]
    assert "<gamma>" not in text.split('id="data"')[0]  # the title and markup carry no raw key text
    # emb.explore is the same page
    again = emb.explore(tmp_path / "again.html", labels=labels, k=5)
    assert _page_data(again)["keys"] == data["keys"]
    np.testing.assert_array_equal(_page_data(again)["nbr"], data["nbr"])


def test_sampled_page_says_so_and_keeps_neighbours_exact(clusters, tmp_path):
    emb, _ = clusters
    out = ek.explore(emb, tmp_path / "sample.html", max_points=50, k=6, seed=3)
    data = _page_data(out)
    assert data["sampled"] and data["mapped"] == 50 and data["n"] == len(emb)
    assert "50 of 180 keys" in out.read_text(encoding="utf-8")
    nbr = data["nbr"].reshape(50, 6)
    for row in range(50):
        key = data["keys"][row]
        assert [data["keys"][i] for i in nbr[row]] == [k for k, _ in emb.most_similar(key, k=6)]
    assert len(data["xy"]) == 2 * 50


def test_bad_parameters(clusters, tmp_path):
    emb, _ = clusters
    with pytest.raises(InvalidParameterError, match="method"):
        ek.explore(emb, tmp_path / "m.html", method="mds")
    with pytest.raises(InvalidParameterError, match="k"):
        ek.explore(emb, tmp_path / "m.html", k=0)
    with pytest.raises(InvalidParameterError, match="max_points"):
        ek.explore(emb, tmp_path / "m.html", max_points=2)
    assert not (tmp_path / "m.html").exists()


def test_umap_names_its_extra_when_missing(clusters, tmp_path):
    emb, _ = clusters
    try:
        import umap  # noqa: F401
    except ImportError:
        with pytest.raises(MissingDependencyError, match=r"umap-learn.*embedkit\[explore\]"):
            ek.explore(emb, tmp_path / "u.html", method="umap")
    else:
        data = _page_data(ek.explore(emb, tmp_path / "u.html", method="umap", k=3))
        assert np.isfinite(data["xy"]).all() and data["method"] == "UMAP"


def test_cli_explore(clusters, tmp_path):
    emb, labels = clusters
    vec, lab = tmp_path / "v.ekv", tmp_path / "labels.tsv"
    emb.save(vec)
    lab.write_text("".join(f"{k}\t{v}\n" for k, v in labels.items() if " " not in k and "\t" not in k))
    res = CliRunner().invoke(cli, ["explore", str(vec), "-o", str(tmp_path / "m.html"), "-k", "4", "--quiet",
                                   "--labels", str(lab)])
    assert res.exit_code == 0, res.output
    assert "180 of 180 keys" in res.output and "#q=KEY" in res.output
    data = _page_data(tmp_path / "m.html")
    assert data["k"] == 4 and data["labels"] == ["<gamma>", "alpha", "béta"]
    labelled = [k for k in emb.keys if " " not in k]
    assert all(data["labels"][data["label"][emb.keys.index(k)]] == labels[k] for k in labelled)
    assert all(data["label"][i] == 0xFFFF for i, k in enumerate(emb.keys) if " " in k)
    res = CliRunner().invoke(cli, ["explore", str(vec), "-o", str(tmp_path / "m.html"), "--method", "mds"])
    assert res.exit_code != 0 and "mds" in res.output


# ------------------------------------------------------------------------------------------------------
# In a real browser
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars"]


def find_chromium() -> str | None:
    """The Chromium binary: $EMBEDKIT_CHROMIUM, else chromium / chromium-browser / google-chrome on PATH."""
    for name in (os.environ.get("EMBEDKIT_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


def run_chromium(binary: str, url: str, *extra: str, timeout: float = 90) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=10000",
                               *extra, url], capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def chromium():
    binary = find_chromium()
    if binary is None:
        pytest.skip("no chromium on PATH (apt-get install chromium; .ci/run installs it)")
    probe = run_chromium(binary, "data:text/html,<p id=x>ok</p>", "--dump-dom")
    if probe.returncode != 0 or 'id="x"' not in probe.stdout:
        pytest.skip(f"chromium at {binary} cannot start headless here: {probe.stderr.strip()[-300:]}")
    return binary


def listed_neighbours(dom: str) -> list[tuple[str, float]]:
    ol = re.search(r'<ol id="neighbors">(.*?)</ol>', dom, re.S)
    assert ol, "no neighbors list in the page"
    return [(html.unescape(k), float(s)) for k, s in
            re.findall(r'<li data-key="([^"]*)" data-similarity="([^"]*)"', ol.group(1))]


def test_page_lists_the_neighbours_of_q(chromium, clusters, tmp_path):
    emb, labels = clusters
    page = ek.explore(emb, tmp_path / "map.html", labels=labels, k=7)
    for key in ["alpha 1", "béta/14?x=1&y#z", "<gamma> 59", "alpha</script><b>3"]:
        url = page.resolve().as_uri() + "#q=" + quote(key, safe="")
        res = run_chromium(chromium, url, "--dump-dom")
        assert res.returncode == 0, res.stderr[-500:]
        shown = listed_neighbours(res.stdout)
        expected = emb.most_similar(key, k=7)
        assert [k for k, _ in shown] == [k for k, _ in expected], key
        np.testing.assert_allclose([s for _, s in shown], [s for _, s in expected], atol=1e-5)
        assert html.escape(key, quote=False) in re.search(r'<h2 id="selected">(.*?)</h2>', res.stdout).group(1)
    res = run_chromium(chromium, page.resolve().as_uri() + "#q=nothing-like-this", "--dump-dom")
    assert listed_neighbours(res.stdout) == [] and "No key" in res.stdout


def _requests_in_netlog(path: Path) -> list[str]:
    """URLs the page asked for, from Chromium's net log (``--log-net-log``): the requests started for a
    file:// document (network isolation key ``file://``), not the browser's own (update checks...)."""
    text = path.read_text()
    log = json.loads(text if text.rstrip().endswith("}") else text.rstrip().rstrip(",") + "]}")
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return sorted({e["params"]["url"] for e in log["events"]
                   if e["type"] == start and "file://" in e["params"].get("network_isolation_key", "")})


def test_page_makes_no_network_request(chromium, clusters, tmp_path):
    emb, labels = clusters
    page = ek.explore(emb, tmp_path / "map.html", labels=labels, k=5)
    # the check can fail: a page that fetches an image shows its request in Chromium's net log
    probe = tmp_path / "probe.html"
    probe.write_text('<img src="http://example.invalid/pixel.png">')
    netlog = tmp_path / "probe.netlog.json"
    run_chromium(chromium, probe.as_uri(), "--dump-dom", f"--log-net-log={netlog}")
    assert "http://example.invalid/pixel.png" in _requests_in_netlog(netlog)
    netlog = tmp_path / "page.netlog.json"
    res = run_chromium(chromium, page.as_uri() + "#q=" + quote("alpha 1"), "--dump-dom", f"--log-net-log={netlog}")
    assert listed_neighbours(res.stdout), "the page did not run"
    assert _requests_in_netlog(netlog) == []


def test_screenshot_shows_the_map(chromium, clusters, tmp_path):
    Image = pytest.importorskip("PIL.Image")
    emb, labels = clusters
    page = ek.explore(emb, tmp_path / "map.html", labels=labels, k=5)
    shot = tmp_path / "map.png"
    res = run_chromium(chromium, page.as_uri(), f"--screenshot={shot}", "--window-size=900,600")
    assert res.returncode == 0 and shot.exists(), res.stderr[-500:]
    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3)
    # the three label colours (tab10 blue, orange, green) are drawn
    for rgb in [(0x1f, 0x77, 0xb4), (0xff, 0x7f, 0x0e), (0x2c, 0xa0, 0x2c)]:
        close = np.abs(pixels.astype(int) - rgb).max(axis=1) <= 40
        assert close.sum() > 50, rgb
