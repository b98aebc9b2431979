"""Shipped data: loadable through the package, and matching its MANIFEST."""
from __future__ import annotations

import hashlib
import re
from collections import Counter

import pytest

import embedkit as ek


def test_karate_loads_from_the_installed_package():
    from importlib.resources import files

    assert (files("embedkit.corpora") / "karate.edgelist").is_file()
    g = ek.datasets.load("karate")
    assert (g.num_nodes, g.num_edges, g.weighted, g.directed) == (34, 78, True, False)
    labels = ek.datasets.load_labels("karate")
    assert Counter(labels.values()) == {"0": 17, "1": 17}


@pytest.mark.parametrize("name", ["karate.edgelist", "karate.labels", "austen-emma.txt.gz"])
def test_manifest_checksums_match(name):
    manifest = ek.datasets.path("MANIFEST.md").read_text()
    row = next(line for line in manifest.splitlines() if line.startswith(f"| `{name}`"))
    digest = re.findall(r"\b[0-9a-f]{64}\b", row)[0]
    assert hashlib.sha256(ek.datasets.path(name).read_bytes()).hexdigest() == digest


def test_unknown_dataset_lists_the_choices():
    with pytest.raises(ek.InputFormatError, match="choose one of: karate"):
        ek.datasets.load("cora")


def test_the_shipped_novel_reads_as_a_corpus():
    corpus = ek.datasets.load("emma")
    assert isinstance(corpus, ek.Corpus) and corpus.unit == "paragraph"
    assert corpus.vocab[:3] == ["to", "the", "and"]
    assert 150_000 < corpus.num_tokens < 170_000
