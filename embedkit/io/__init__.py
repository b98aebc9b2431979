"""Reading and writing vectors: one :func:`load` and one :func:`export`,
chosen by file extension (or ``format=``)."""
from __future__ import annotations

from pathlib import Path

from ..exceptions import InputFormatError, InvalidParameterError
from . import arrays, native, word2vec

__all__ = ["load", "export", "WRITERS"]

#: format name -> writer(emb, path, **kwargs)
WRITERS = {
    "word2vec": word2vec.write_text,
    "glove": lambda emb, path, **kw: word2vec.write_text(emb, path, header=False, **kw),
    "word2vec-binary": word2vec.write_binary,
    "npy": arrays.write_npy,
    "npz": arrays.write_npz,
    "ekv": native.save_native,
}

_BY_EXTENSION = {
    ".txt": "word2vec", ".vec": "word2vec", ".w2v": "word2vec",
    ".bin": "word2vec-binary", ".npy": "npy", ".npz": "npz", ".ekv": "ekv",
}


#: formats written gzipped when the path ends in .gz
_GZIP_OK = ("word2vec", "glove", "word2vec-binary")


def _format_from_path(path: Path) -> str | None:
    suffixes = path.suffixes
    ext = suffixes[-2] if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1 else path.suffix
    return _BY_EXTENSION.get(ext.lower())


def export(emb, path, format: str | None = None, **kwargs) -> None:
    """Write ``emb`` to ``path`` in ``format`` (default: from the extension)."""
    path = Path(path)
    fmt = format or _format_from_path(path)
    if fmt is None:
        raise InvalidParameterError(
            "export", "format", "one of " + ", ".join(sorted(WRITERS)) +
            " (or a path ending in " + ", ".join(sorted(_BY_EXTENSION)) + ")", format or path.suffix or str(path),
        )
    if fmt not in WRITERS:
        raise InvalidParameterError("export", "format", "one of " + ", ".join(sorted(WRITERS)), fmt)
    if path.suffix.lower() == ".gz" and fmt not in _GZIP_OK:
        raise InvalidParameterError("export", "format", "one of " + ", ".join(sorted(_GZIP_OK)) +
                                    " for a path ending in .gz", fmt,
                                    hint=f"{fmt} files are not gzipped; drop the .gz from the path")
    WRITERS[fmt](emb, path, **kwargs)


def _with_subwords(obj, path: Path):
    """Subword embeddings come back with their tokenizer (stored inside the .ekv)."""
    meta = getattr(obj, "meta", None)
    if isinstance(meta, dict) and "subword" in meta and type(obj).__name__ == "Embeddings":
        from ..text.subword import SubwordEmbeddings

        return SubwordEmbeddings.from_saved(obj, path)
    return obj


def load(path, format: str | None = None, *, limit: int | None = None, mmap: bool = False):
    """Load :class:`~embedkit.Embeddings` from ``path``.

    Reads embedkit ``.ekv`` (zip or folder), word2vec text and binary (gensim's
    ``save_word2vec_format`` output included), GloVe text (no header), ``.npy``
    (with ``<path>.keys.json`` if present) and ``.npz``. The format is sniffed
    from the content when the extension does not settle it. A sentencepiece
    ``.model`` file (or ``format="sentencepiece"``) gives a
    :class:`~embedkit.text.bpe.Tokenizer`; an ``.ekv`` of subword embeddings a
    :class:`~embedkit.text.subword.SubwordEmbeddings`.
    """
    path = Path(path)
    if not path.exists():
        raise InputFormatError("no such file or folder", path)
    if format == "sentencepiece" or (format is None and path.suffix.lower() == ".model"):
        from ..text.bpe import Tokenizer

        try:
            return Tokenizer.load(path)
        except InputFormatError as not_spm:
            if format == "sentencepiece" or path.is_dir():
                raise
            try:  # other tools write vectors as .model too (word2vec binary, for one)
                return word2vec.read_binary(path, limit=limit) if word2vec.sniff_binary(path) else \
                    word2vec.read_text(path, limit=limit)
            except (InputFormatError, ValueError, UnicodeDecodeError, OSError):
                raise not_spm from None
    fmt = format or _format_from_path(path)
    if fmt is None or fmt == "ekv":
        if native.is_native(path):
            return _with_subwords(native.load_native(path), path)
        if fmt == "ekv":
            raise InputFormatError("not an embedkit .ekv file (no meta.json inside)", path)
        fmt = "word2vec-binary" if word2vec.sniff_binary(path) else "word2vec"
    if fmt in ("word2vec", "glove"):
        if word2vec.sniff_binary(path):
            return word2vec.read_binary(path, limit=limit)
        return word2vec.read_text(path, limit=limit)
    if fmt == "word2vec-binary":
        return word2vec.read_binary(path, limit=limit)
    if fmt == "npy":
        return arrays.read_npy(path, mmap=mmap)
    if fmt == "npz":
        return arrays.read_npz(path)
    raise InvalidParameterError("load", "format", "one of " + ", ".join(sorted(WRITERS)), fmt)
