"""The Gutenberg benchmark corpus: the text between each book's ``*** START OF`` and
``*** END OF`` lines, one file (cached under benchmarks/out/).

Books are UTF-8 but for a few, which are read as latin-1 (PROVENANCE.md says so).
"""
from __future__ import annotations

import gzip
import os
from pathlib import Path
import re

_MARK = re.compile(r"^\ufeff?\s*\*\*\*\s*(START|END) OF")

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("EMBEDKIT_SHARED_DATA", HERE.parent.parent / "shared" / "data"))
BOOKS = DATA / "gutenberg-top100-authors" / "books"


def body_lines(raw: bytes) -> list[str]:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if _MARK.match(line) and "START OF" in line)
    end = next(i for i, line in enumerate(lines) if _MARK.match(line) and "END OF" in line)
    return lines[start + 1:end]


def corpus_file(out_dir: Path = HERE / "out") -> Path:
    """Write (once) and return the plain-text corpus of all books' bodies."""
    out = out_dir / "gutenberg-bodies.txt"
    if out.exists():
        return out
    if not BOOKS.is_dir():
        raise SystemExit(f"{BOOKS} not found: the Gutenberg benchmark needs ../shared/data")
    out_dir.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for book in sorted(BOOKS.glob("*.txt.gz")):
            with gzip.open(book, "rb") as g:
                f.write("\n".join(body_lines(g.read())))
            f.write("\n\n")
    os.replace(tmp, out)
    return out


def tokenized_file(out_dir: Path = HERE / "out") -> Path:
    """(Once) the corpus tokenized by embedkit's default reader (lowercase, words),
    one paragraph per line, space-separated: the input both tools train on."""
    out = out_dir / "gutenberg-tokens.txt"
    if out.exists():
        return out
    import embedkit as ek

    corpus = ek.read_text(corpus_file(out_dir), unit="paragraph", verbose=False)
    tmp = out.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for seq in corpus:
            f.write(" ".join(seq))
            f.write("\n")
    os.replace(tmp, out)
    return out


def head_mb(path: Path, mb: float, out_dir: Path = HERE / "out") -> Path:
    """(Once) the first ``mb`` MB of ``path``, cut at a line end: a smaller run of the same corpus."""
    part = out_dir / f"{path.stem}-{mb:g}mb{path.suffix}"
    if not part.exists():
        with open(path, "rb") as src, open(part, "wb") as dst:
            data = src.read(int(mb * 2**20))
            dst.write(data[:data.rfind(b"\n") + 1])
    return part


if __name__ == "__main__":
    print(corpus_file(), tokenized_file())
