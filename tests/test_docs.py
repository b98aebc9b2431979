"""Docs that run: every ```python block of README.md and docs/*.md, and every CLI line of README.md.

Each markdown file's Python blocks run in order in one namespace, in a temporary folder holding
small fixtures made from the shipped data (``corpora/``): ``graph.edgelist`` (karate),
``labels.txt``, ``x.npy`` / ``y.csv`` (karate features and factions), ``corpus.txt`` and
``books/emma.txt.gz`` (a slice of *Emma*), ``u.data`` / ``u1.base`` / ``u1.test`` /
``ratings.csv`` (generated ratings with two taste groups), ``vectors.ekv`` / ``words.vec``
(vectors over Emma's words), ``triplets.tsv``. ``shared/data`` links to ../shared/data when present.

A block that must not run as is says so in an HTML comment on the line before its fence
(docs/contributing convention, see docs/cli.md "Docs that run"):

* ``<!-- docs-test: skip REASON -->``: never run; the reason is required and shown as the skip;
* ``<!-- docs-test: needs shared-data -->``: skipped when ../shared/data is absent;
* ``<!-- docs-test: slow -->``: marked ``slow``.

The CLI lines of README.md (```bash blocks) run through ``python -m embedkit_cli`` in the same
kind of folder, one block's lines in order; ``a && b`` runs both; each must exit 0.
"""
from __future__ import annotations

import gzip
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"
MARKER = re.compile(r"<!--\s*docs-test:\s*(?P<kind>skip|needs|slow)\b\s*(?P<arg>.*?)\s*-->")
FENCE = re.compile(r"^```(?P<lang>[A-Za-z]*)[^\n]*\n(?P<body>.*?)^```[ \t]*$", re.S | re.M)


@dataclass
class Block:
    file: str
    line: int
    lang: str
    code: str
    skip: str | None = None
    needs_data: bool = False
    slow: bool = False

    @property
    def id(self) -> str:
        return f"{self.file}:{self.line}"


def parse_blocks(path: Path) -> list[Block]:
    """The fenced blocks of ``path`` with the docs-test marker on the line(s) just before them."""
    text = path.read_text(encoding="utf-8")
    rel = str(path.relative_to(ROOT))
    blocks = []
    for m in FENCE.finditer(text):
        line = text.count("\n", 0, m.start()) + 1
        b = Block(rel, line, m.group("lang").lower(), m.group("body"))
        before = text[:m.start()].rstrip("\n").split("\n")
        # markers: the comment lines directly above the fence
        i = len(before) - 1
        while i >= 0 and before[i].strip().startswith("<!--"):
            mk = MARKER.search(before[i])
            if mk:
                kind, arg = mk.group("kind"), mk.group("arg")
                if kind == "skip":
                    if not arg:
                        raise AssertionError(f"{b.id}: 'docs-test: skip' needs a reason")
                    b.skip = arg
                elif kind == "needs":
                    if arg != "shared-data":
                        raise AssertionError(f"{b.id}: unknown need {arg!r} (only 'shared-data')")
                    b.needs_data = True
                else:
                    b.slow = True
            i -= 1
        blocks.append(b)
    return blocks


DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PY_BLOCKS = [b for f in DOC_FILES for b in parse_blocks(f) if b.lang == "python"]
CLI_BLOCKS = [b for b in parse_blocks(ROOT / "README.md") if b.lang in ("bash", "sh", "shell", "console")]


def _param(b: Block):
    marks = [pytest.mark.slow] if b.slow else []
    if b.needs_data:
        marks.append(pytest.mark.data)
    return pytest.param(b, id=b.id, marks=marks)


# ----------------------------------------------------------------------------- fixtures

def _write_fixtures(d: Path) -> None:
    """Small input files named by the docs, made from corpora/ or generated (seeded)."""
    import shutil

    import embedkit as ek

    corp = ROOT / "corpora"
    shutil.copy(corp / "karate.edgelist", d / "graph.edgelist")
    shutil.copy(corp / "karate.labels", d / "labels.txt")
    labels = ek.datasets.load_labels("karate")
    g = ek.datasets.load("karate")
    rng = np.random.default_rng(0)
    # features: the faction plus noise, one row per node in graph order
    y = np.array([int(labels[n]) for n in g.nodes])
    x = rng.normal(size=(len(g.nodes), 8)).astype(np.float32)
    x[:, 0] += 2 * y
    np.save(d / "x.npy", x)
    (d / "y.csv").write_text("node,label\n" + "".join(f"{n},{labels[n]}\n" for n in g.nodes))

    # text: the first ~30k words of Emma
    with gzip.open(corp / "austen-emma.txt.gz", "rt", encoding="utf-8") as f:
        lines = [next(f) for _ in range(3000)]
    (d / "corpus.txt").write_text("".join(lines), encoding="utf-8")
    (d / "books").mkdir()
    with gzip.open(d / "books" / "emma.txt.gz", "wt", encoding="utf-8") as f:
        f.write("".join(lines))

    # ratings: 300 users x 200 items in two taste groups, MovieLens u.data layout
    rows = []
    for u in range(1, 301):
        group = u % 2
        items = rng.choice(np.arange(1, 201), size=25, replace=False)
        for it in items:
            liked = (it % 2) == group
            r = int(np.clip(rng.normal(4.2 if liked else 2.2, 0.7), 1, 5).round())
            rows.append((u, int(it), r, 880000000 + int(rng.integers(0, 10 ** 6))))
    rows += [(196, 242, 5, 881250949), (196, 6, 4, 881250950), (1, 6, 5, 881250951)]
    (d / "u.data").write_text("".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in rows))
    perm = rng.permutation(len(rows))
    cut = int(0.8 * len(rows))
    (d / "u1.base").write_text("".join("%d\t%d\t%d\t%d\n" % rows[k] for k in sorted(perm[:cut])))
    (d / "u1.test").write_text("".join("%d\t%d\t%d\t%d\n" % rows[k] for k in sorted(perm[cut:])))
    (d / "ratings.csv").write_text("userId,movieId,rating,timestamp\n"
                                   + "".join(f"{u},{i},{r},{t}\n" for u, i, r, t in rows))

    # word vectors: Emma's 500 most frequent words (+ a few the docs name), random but fixed
    from collections import Counter

    counts = Counter(w for ln in lines for w in re.findall(r"[a-z]+", ln.lower()))
    vocab = [w for w, _ in counts.most_common(500)]
    from embedkit.evaluate import _weat_sets as weat   # the WEAT words docs/export-and-search.md tests

    extra = ["paris", "rome", "berlin", "cat", "kitten", "car", "truck", "big", "large", "quick", "fast",
             "he", "him", "his", "she", "her", "hers", "engineer", "scientist", "nurse", "teacher"]
    for _, words in (weat.FLOWERS, weat.INSECTS, weat.PLEASANT, weat.UNPLEASANT, weat.MALE_NAMES,
                     weat.FEMALE_NAMES, weat.CAREER, weat.FAMILY):
        extra += words
    vocab += list(dict.fromkeys(w for w in extra if w not in vocab))
    emb = ek.Embeddings(vocab, rng.normal(size=(len(vocab), 32)).astype(np.float32))
    emb.save(d / "vectors.ekv")
    emb.export(d / "words.vec")
    triplets = "cat\tkitten\tcar\ncar\ttruck\tcat\nbig\tlarge\tquick\nquick\tfast\tbig\n"
    for name in ("triplets.tsv", "synonym_triplets.tsv", "held_out_triplets.tsv"):
        (d / name).write_text(triplets)
    (d / "corpora").symlink_to(corp)      # docs that name the shipped files by their repository path

    if SHARED_DATA.exists():
        (d / "shared").mkdir()
        (d / "shared" / "data").symlink_to(SHARED_DATA)


@pytest.fixture(scope="module")
def fixture_template(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("docs-fixtures")
    _write_fixtures(d)
    return d


_STATE: dict[str, dict] = {}   # file -> {"dir": Path, "ns": dict, "done": set of block lines}


def _workdir(file: str, template: Path, tmp_path_factory) -> dict:
    import shutil

    if file not in _STATE:
        d = tmp_path_factory.mktemp("docs-" + re.sub(r"\W", "_", file))
        shutil.copytree(template, d, dirs_exist_ok=True, symlinks=True)
        _STATE[file] = {"dir": d, "ns": {"__name__": "__docs__"}, "done": set()}
    return _STATE[file]


def _runnable_here(b: Block) -> bool:
    return b.skip is None and not (b.needs_data and not SHARED_DATA.exists())


@pytest.mark.parametrize("block", [_param(b) for b in PY_BLOCKS])
def test_python_block(block: Block, fixture_template, tmp_path_factory, monkeypatch):
    if block.skip:
        pytest.skip(f"marked in {block.id}: {block.skip}")
    state = _workdir(block.file, fixture_template, tmp_path_factory)
    monkeypatch.chdir(state["dir"])
    # the file's earlier blocks (normally already run by their own tests, in order)
    for prev in PY_BLOCKS:
        if prev.file == block.file and prev.line < block.line and prev.line not in state["done"] \
                and _runnable_here(prev):
            state["done"].add(prev.line)
            exec(compile(prev.code, prev.id, "exec"), state["ns"])
    state["done"].add(block.line)
    exec(compile(block.code, block.id, "exec"), state["ns"])


def _cli_commands(code: str) -> list[list[str]]:
    cmds = []
    for raw in code.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        for part in line.split("&&"):
            argv = shlex.split(part)
            assert argv and argv[0] == "embedkit", f"not an embedkit line: {raw!r} (mark the block)"
            cmds.append(argv)
    return cmds


@pytest.mark.parametrize("block", [_param(b) for b in CLI_BLOCKS])
def test_readme_cli_block(block: Block, fixture_template, tmp_path_factory):
    if block.skip:
        pytest.skip(f"marked in {block.id}: {block.skip}")
    import shutil

    d = tmp_path_factory.mktemp("cli-readme")
    shutil.copytree(fixture_template, d, dirs_exist_ok=True, symlinks=True)
    env = {**os.environ}
    for argv in _cli_commands(block.code):
        r = subprocess.run([sys.executable, "-m", "embedkit_cli", *argv[1:]], cwd=d, env=env,
                           capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, f"{block.id}: {shlex.join(argv)} exited {r.returncode}\n{r.stderr[-3000:]}"


def test_markers_are_read():
    """The convention works: README's make block is marked skip with a reason, and every
    marker in the docs parses (a skip without a reason fails collection above)."""
    readme = parse_blocks(ROOT / "README.md")
    make = [b for b in readme if "make demo" in b.code]
    assert make and make[0].skip
    assert any(b.needs_data for b in PY_BLOCKS)


def test_marker_without_reason_is_refused(tmp_path, monkeypatch):
    """A block cannot be skipped silently: ``skip`` needs a reason, ``needs`` a known need."""
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    md = tmp_path / "x.md"
    md.write_text("<!-- docs-test: skip -->\n```python\n1/0\n```\n")
    with pytest.raises(AssertionError, match="needs a reason"):
        parse_blocks(md)
    md.write_text("<!-- docs-test: needs a-gpu -->\n```python\n1/0\n```\n")
    with pytest.raises(AssertionError, match="unknown need"):
        parse_blocks(md)
    md.write_text("<!-- docs-test: skip a server -->\n<!-- docs-test: slow -->\n```python\n1/0\n```\n\n"
                  "```bash\nx\n```\n")
    a, b = parse_blocks(md)
    assert (a.skip, a.slow, a.lang) == ("a server", True, "python")
    assert (b.skip, b.slow, b.lang) == (None, False, "bash")
