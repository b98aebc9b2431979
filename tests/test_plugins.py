"""Methods as plugins: a package installed apart declares a Method in the ``embedkit.methods``
entry-point group and is listed, documented, trained and contract-checked like a built-in one.

The toy plugin is a real distribution: its pyproject.toml is turned into a wheel (zipped here,
as a build backend would: this machine has no ``wheel`` package and no network), and pip
installs that wheel into a throwaway folder put on ``sys.path`` / ``PYTHONPATH``; embedkit
finds it through importlib.metadata as it would in site-packages. Its method, Laplacian
eigenmaps, has a known answer on karate: the first non-trivial eigenvector splits the two
factions (one node off at most).
"""
from __future__ import annotations

import base64
import hashlib
import importlib
import os
import subprocess
import sys
import textwrap
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import embedkit as ek
from embedkit import api, testing
from embedkit_cli.main import cli

ROOT = Path(__file__).resolve().parents[1]

TOY_PYPROJECT = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "toy-spectral"
version = "0.1"
dependencies = ["embedkit"]

[project.entry-points."embedkit.methods"]
spectral = "toy_spectral:Spectral"
"""

TOY_MODULE = '''\
"""Laplacian eigenmaps as an embedkit plugin method."""
import numpy as np

import embedkit as ek
from embedkit.api import Method, Param


class Spectral(Method):
    """Laplacian eigenmaps (Belkin & Niyogi 2003): a node's vector is its row of the eigenvectors
    of the ``dim`` smallest non-zero eigenvalues of the normalised Laplacian, scaled by
    ``D^-1/2``. Dense ``(V, V)`` eigendecomposition: graphs of a few thousand nodes."""

    name = "spectral"
    family = "graph"
    summary = "Laplacian eigenmaps (Belkin & Niyogi 2003), a toy plugin"
    input_kind = "graph"
    params = (Param("dim", int, 2, "eigenvectors kept (the size of a node vector)", low=1),)
    quick_params = {"dim": 2}

    def _fit(self, data, dim):
        g = data if isinstance(data, ek.Graph) else ek.read_graph(data)
        n = g.num_nodes
        if dim >= n:
            raise ek.InvalidParameterError(self.name, "dim", f"an integer below the number of nodes ({n})", dim)
        a = np.zeros((n, n))
        rows = np.repeat(np.arange(n), np.diff(g.indptr))
        a[rows, g.indices] = g.weights
        a = np.maximum(a, a.T)
        deg = a.sum(axis=1)
        d = np.where(deg > 0, 1.0 / np.sqrt(np.maximum(deg, 1e-12)), 0.0)
        _, vecs = np.linalg.eigh(np.eye(n) - d[:, None] * a * d[None, :])
        vecs = vecs[:, 1:dim + 1] * d[:, None]
        vecs *= np.sign(vecs[np.abs(vecs).argmax(axis=0), np.arange(dim)])  # a fixed sign per column
        return ek.Embeddings(g.nodes, vecs.astype(np.float32))
'''

BAD_PYPROJECT = """\
[project]
name = "bad-plugins"
version = "2.0"

[project.entry-points."embedkit.methods"]
broken = "bad_plugins.missing:Broken"
node2vec = "bad_plugins:Clash"
misnamed = "bad_plugins:Misnamed"
"""

BAD_MODULE = '''\
from embedkit.api import Method


class Clash(Method):
    name = "node2vec"


class Misnamed(Method):
    name = "something-else"
'''


def _wheel(project: Path, out: Path) -> Path:
    """A wheel of ``project`` (its pyproject.toml's name, version and entry points, and its package
    folder), as a PEP 517 backend writes one."""
    meta = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    dist = meta["name"].replace("-", "_")
    info = f"{dist}-{meta['version']}.dist-info"
    files = {str(p.relative_to(project)): p.read_bytes() for p in sorted(project.rglob("*.py"))}
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {meta['name']}\nVersion: {meta['version']}\n".encode()
    files[f"{info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: embedkit-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    groups = meta.get("entry-points", {})
    files[f"{info}/entry_points.txt"] = "".join(
        f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in eps.items()) + "\n" for group, eps in groups.items()
    ).encode()
    record = [f"{name},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},"
              f"{len(data)}" for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join(record) + f"\n{info}/RECORD,,\n").encode()
    path = out / f"{dist}-{meta['version']}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as z:
        for name, data in files.items():
            z.writestr(name, data)
    return path


def _install(project: Path, target: Path) -> None:
    wheel = _wheel(project, project.parent)
    r = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                        "--disable-pip-version-check", "--target", str(target), str(wheel)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr


def _package(root: Path, pyproject: str, module: str, code: str) -> Path:
    root.mkdir()
    (root / "pyproject.toml").write_text(pyproject)
    (root / module).mkdir()
    (root / module / "__init__.py").write_text(code)
    return root


@pytest.fixture
def installed(tmp_path, monkeypatch):
    """Install the toy and the bad plugins into a folder on sys.path; forget them after."""
    target = tmp_path / "site"
    _install(_package(tmp_path / "toy", TOY_PYPROJECT, "toy_spectral", TOY_MODULE), target)
    _install(_package(tmp_path / "bad", BAD_PYPROJECT, "bad_plugins", BAD_MODULE), target)
    assert (target / "toy_spectral-0.1.dist-info" / "entry_points.txt").exists()
    monkeypatch.syspath_prepend(str(target))  # also invalidates the import and metadata caches
    api._forget_plugins()
    yield target
    api._forget_plugins()
    for mod in [m for m in sys.modules if m.split(".")[0] in ("toy_spectral", "bad_plugins")]:
        del sys.modules[mod]
    importlib.invalidate_caches()


def _faction_split(emb, labels) -> float:
    """The share of karate nodes on their faction's side of the first vector coordinate's sign."""
    side = np.array([emb[n][0] > 0 for n in emb.keys])
    club = np.array([labels[str(n)] == "1" for n in emb.keys])
    agree = (side == club).mean()
    return max(agree, 1 - agree)


def test_a_plugin_is_listed_trained_and_checked(installed, karate, karate_labels, tmp_path):
    with pytest.warns(ek.PluginWarning, match=r"plugin method 'node2vec' \(bad_plugins:Clash, from bad-plugins "
                                              r"2.0\) is refused: 'node2vec' is the built-in method"):
        names = ek.methods()
    assert "spectral" in names and api.plugin_origin("spectral") == "toy-spectral 0.1"
    assert api.plugin_origin("node2vec") is None and ek.get_method("node2vec").__module__.startswith("embedkit.")
    assert "toy_spectral" not in sys.modules  # listed from the metadata; imported on first use

    # ek.train: Laplacian eigenmaps split karate's two factions (one node off at most)
    emb = ek.train("spectral", karate, dim=2)
    assert isinstance(emb, ek.Embeddings) and emb.vectors.shape == (34, 2)
    assert emb.meta["method"] == "spectral" and emb.meta["params"] == {"dim": 2}
    assert _faction_split(emb, karate_labels) >= 33 / 34
    with pytest.raises(ek.InvalidParameterError, match="'dim' must be an integer >= 1; got 0"):
        ek.train("spectral", karate, dim=0)

    # the CLI: listed with where it comes from; options from its Param table; trains
    runner = CliRunner()
    res = runner.invoke(cli, ["methods"])
    assert res.exit_code == 0, res.output
    row = next(line for line in res.output.splitlines() if "spectral" in line)
    assert "graph" in row and "toy-spectral" in row
    res = runner.invoke(cli, ["train", "spectral", "--help"])
    assert res.exit_code == 0, res.output
    assert "--dim INT" in res.output and "eigenvectors kept" in res.output and "--directed" in res.output
    out = tmp_path / "spectral.ekv"
    res = runner.invoke(cli, ["train", "spectral", "karate", "--dim", "3", "-o", str(out)])
    assert res.exit_code == 0, res.output
    back = ek.load(out)
    assert back.dim == 3 and back.meta["method"] == "spectral" and _faction_split(back, karate_labels) >= 33 / 34
    res = runner.invoke(cli, ["train", "spectral", "karate", "--dim", "40", "-o", str(tmp_path / "x.ekv")])
    assert res.exit_code == 2 and "'dim' must be an integer below the number of nodes (34); got 40" in res.output

    # the whole contract, as a plugin author runs it
    report = testing.check_method("spectral")
    assert report["vectors[cpu]"] == report["round_trip.ekv[cpu]"] == report["input_forms"] == "passed"
    assert report["bad_inputs"] == report["seed_repeatable[cpu]"] == report["bad_parameters"] == "passed"


def test_broken_plugins_are_named_and_the_rest_keeps_working(installed, karate):
    with pytest.warns(ek.PluginWarning):
        assert {"broken", "misnamed", "spectral"} <= set(ek.methods())
    with pytest.raises(ek.PluginError, match=r"plugin method 'broken' \(bad_plugins.missing:Broken, from "
                                             r"bad-plugins 2.0\) could not be loaded: ModuleNotFoundError"):
        ek.get_method("broken")
    with pytest.raises(ek.PluginError, match=r"'misnamed' .*the class's name is 'something-else'; set name = "
                                             r"'misnamed'"):
        ek.train("misnamed", karate)
    with pytest.raises(ek.PluginError, match="could not be loaded"):  # the same error the second time
        ek.get_method("broken")
    with pytest.raises(ek.PluginError, match="could not be loaded"):  # check_method stops at the start
        testing.check_method("broken")
    assert ek.train("spectral", karate, dim=2).dim == 2

    runner = CliRunner()
    res = runner.invoke(cli, ["methods"])
    assert res.exit_code == 0
    assert "plugin failed to load" in res.output and "node2vec" in res.output and "spectral" in res.output
    assert "'broken' (bad_plugins.missing:Broken, from bad-plugins 2.0) could not be loaded" in \
        " ".join(res.output.split())
    res = runner.invoke(cli, ["train", "--help"])
    assert res.exit_code == 0 and "spectral" in res.output
    res = runner.invoke(cli, ["train", "misnamed", "karate"])
    assert res.exit_code == 2 and "set name = 'misnamed'" in " ".join(res.output.split())


def test_the_installed_plugin_trains_from_the_command_line(installed, karate_labels, tmp_path):
    """A real `embedkit` process finds the plugin through PYTHONPATH, as an installed package."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(installed), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "spectral.txt"
    r = subprocess.run([sys.executable, "-m", "embedkit_cli", "train", "spectral",
                        str(ROOT / "corpora" / "karate.edgelist"), "-o", str(out)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "spectral" in r.stdout and str(out) in " ".join(r.stdout.split())
    assert _faction_split(ek.load(out), karate_labels) >= 33 / 34


def test_plugins_are_read_once_and_only_when_asked(tmp_path):
    """import embedkit reads no entry point; the first listing reads the group once."""
    code = textwrap.dedent("""
        import importlib.metadata as md
        calls = []
        real = md.entry_points
        md.entry_points = lambda **kw: calls.append(kw) or real(**kw)
        import embedkit as ek
        before = len(calls)
        ek.get_method("node2vec")
        ek.methods(); ek.methods()
        print(before, len(calls))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", "1"]
