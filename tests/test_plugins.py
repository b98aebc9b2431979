"""Methods as plugins: a package installed apart declares a Method in the ``embedkit.methods``
entry-point group and is listed, documented, trained and contract-checked like a built-in one.

The plugin is docs/adding-a-method.md's ``embedkit-eigenmaps``, built from the pyproject.toml and
the module on that page, so the page walks the path tested here. It is a real distribution: its
pyproject.toml is turned into a wheel (zipped here,
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
import re
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

DOC = ROOT / "docs" / "adding-a-method.md"


def _doc_block(lang: str) -> str:
    """The first ```lang block of docs/adding-a-method.md: the plugin is built from the page."""
    m = re.search(rf"^```{lang}\n(.*?)^```", DOC.read_text(encoding="utf-8"), re.S | re.M)
    assert m, f"{DOC} has no {lang} block"
    return m.group(1)


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
    """Install the docs' plugin and the bad plugins into a folder on sys.path; forget them after."""
    target = tmp_path / "site"
    assert "eigenmaps" not in api._REGISTRY, "a test left the docs' method registered in this process"
    _install(_package(tmp_path / "eigenmaps", _doc_block("toml"), "embedkit_eigenmaps", _doc_block("python")), target)
    _install(_package(tmp_path / "bad", BAD_PYPROJECT, "bad_plugins", BAD_MODULE), target)
    assert (target / "embedkit_eigenmaps-0.1.dist-info" / "entry_points.txt").exists()
    monkeypatch.syspath_prepend(str(target))  # also invalidates the import and metadata caches
    api._forget_plugins()
    yield target
    api._forget_plugins()
    for mod in [m for m in sys.modules if m.split(".")[0] in ("embedkit_eigenmaps", "bad_plugins")]:
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
    assert "eigenmaps" in names and api.plugin_origin("eigenmaps") == "embedkit-eigenmaps 0.1"
    assert api.plugin_origin("node2vec") is None and ek.get_method("node2vec").__module__.startswith("embedkit.")
    assert "embedkit_eigenmaps" not in sys.modules  # listed from the metadata; imported on first use

    # ek.train: Laplacian eigenmaps split karate's two factions (one node off at most)
    emb = ek.train("eigenmaps", karate, dim=2)
    assert isinstance(emb, ek.Embeddings) and emb.vectors.shape == (34, 2)
    assert emb.meta["method"] == "eigenmaps" and emb.meta["params"] == {"dim": 2}
    assert _faction_split(emb, karate_labels) >= 33 / 34
    with pytest.raises(ek.InvalidParameterError, match="'dim' must be an integer >= 1; got 0"):
        ek.train("eigenmaps", karate, dim=0)

    # the CLI: listed with where it comes from; options from its Param table; trains
    runner = CliRunner()
    res = runner.invoke(cli, ["methods"])
    assert res.exit_code == 0, res.output
    row = next(line for line in res.output.splitlines() if "eigenmaps" in line)
    assert "graph" in row and "embedkit-eigenmaps" in row
    res = runner.invoke(cli, ["train", "eigenmaps", "--help"])
    assert res.exit_code == 0, res.output
    assert "--dim INT" in res.output and "eigenvectors kept" in res.output and "--directed" in res.output
    out = tmp_path / "eigenmaps.ekv"
    res = runner.invoke(cli, ["train", "eigenmaps", "karate", "--dim", "3", "-o", str(out)])
    assert res.exit_code == 0, res.output
    back = ek.load(out)
    assert back.dim == 3 and back.meta["method"] == "eigenmaps" and _faction_split(back, karate_labels) >= 33 / 34
    res = runner.invoke(cli, ["train", "eigenmaps", "karate", "--dim", "40", "-o", str(tmp_path / "x.ekv")])
    assert res.exit_code == 2 and "'dim' must be an integer below the number of nodes (34); got 40" in res.output

    # the whole contract, as a plugin author runs it
    report = testing.check_method("eigenmaps")
    assert report["vectors[cpu]"] == report["round_trip.ekv[cpu]"] == report["input_forms"] == "passed"
    assert report["bad_inputs"] == report["seed_repeatable[cpu]"] == report["bad_parameters"] == "passed"


def test_broken_plugins_are_named_and_the_rest_keeps_working(installed, karate):
    with pytest.warns(ek.PluginWarning):
        assert {"broken", "misnamed", "eigenmaps"} <= set(ek.methods())
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
    assert ek.train("eigenmaps", karate, dim=2).dim == 2

    runner = CliRunner()
    res = runner.invoke(cli, ["methods"])
    assert res.exit_code == 0
    assert "plugin failed to load" in res.output and "node2vec" in res.output and "eigenmaps" in res.output
    assert "'broken' (bad_plugins.missing:Broken, from bad-plugins 2.0) could not be loaded" in \
        " ".join(res.output.split())
    res = runner.invoke(cli, ["train", "--help"])
    assert res.exit_code == 0 and "eigenmaps" in res.output
    res = runner.invoke(cli, ["train", "misnamed", "karate"])
    assert res.exit_code == 2 and "set name = 'misnamed'" in " ".join(res.output.split())


def test_the_installed_plugin_trains_from_the_command_line(installed, karate_labels, tmp_path):
    """A real `embedkit` process finds the plugin through PYTHONPATH, as an installed package."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(installed), os.environ.get("PYTHONPATH", "")])}
    out = tmp_path / "eigenmaps.txt"
    r = subprocess.run([sys.executable, "-m", "embedkit_cli", "train", "eigenmaps",
                        str(ROOT / "corpora" / "karate.edgelist"), "-o", str(out)],
                       capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "eigenmaps" in r.stdout and str(out) in " ".join(r.stdout.split())
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
