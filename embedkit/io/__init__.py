"""Reading and writing vectors: one :func:`load` and one :func:`export`,
chosen by file extension (or ``format=``). Each format is a writer in
:data:`WRITERS` and a reader in :data:`READERS`, one module per format.
Databases are named by URL (``postgresql://...``, ``lancedb://DIR``): their
scheme picks a module in :data:`~embedkit.io.targets.URL_TARGETS`.

Artifacts other than plain vectors (subword embeddings, recommender models, encoders,
sentencepiece tokenizers, search indexes) are found through the artifact registry
(:mod:`embedkit.artifacts`): this package names none of their classes."""
from __future__ import annotations

from pathlib import Path

from ..artifacts import artifact_for_meta, artifact_for_suffix, artifacts_for_format
from ..data._open import read_errors
from ..embeddings import Embeddings, register_view
from ..exceptions import DuplicateKeyError, InputFormatError, InvalidParameterError
from . import arrays, gensim_kv, jsonl, native, parquet, projector, search_bulk, word2vec
from ._checks import check_embeddings
from ._text import open_input
from .targets import URL_TARGETS, is_url, mask_url, target_for

__all__ = ["load", "export", "format_for", "resolve_format", "check_output", "check_path", "URL_TARGETS",
           "TARGET_PARAMS", "mask_url", "WRITERS", "READERS"]

#: format name -> writer(emb, path, **kwargs)
WRITERS = {
    "word2vec": word2vec.write_text,
    "glove": lambda emb, path, **kw: word2vec.write_text(emb, path, header=False, **kw),
    "word2vec-binary": word2vec.write_binary,
    "npy": arrays.write_npy,
    "npz": arrays.write_npz,
    "ekv": native.save_native,
    "parquet": parquet.write_parquet,
    "jsonl": jsonl.write_jsonl,
    "projector": projector.write_projector,
    "faiss": lambda emb, path, **kw: _write_index(emb, path, "faiss", **kw),
    "hnswlib": lambda emb, path, **kw: _write_index(emb, path, "hnswlib", **kw),
    "elasticsearch": lambda emb, path, **kw: search_bulk.write_bulk(emb, path, "elasticsearch", **kw),
    "opensearch": lambda emb, path, **kw: search_bulk.write_bulk(emb, path, "opensearch", **kw),
}


#: the format name of search index files in the artifact registry (:mod:`embedkit.index` registers it)
INDEX_FORMAT = "embedkit.index"


def _index_artifact():
    return artifacts_for_format(INDEX_FORMAT)[0]


def _write_index(emb, path, library: str, *, kind: str = "hnsw", metric: str = "cosine", **params) -> None:
    """A search index file (faiss or hnswlib) + ``<path>.keys.json``; see :mod:`embedkit.index`."""
    index = _index_artifact().from_embeddings(emb, kind=kind, metric=metric, library=library, **params)
    index.save(path)


def _read_index(path, *, limit=None, mmap=False, allow_nonfinite=False):
    """The keys and the vectors stored in a search index (unit rows for a cosine index)."""
    return _cut(check_embeddings(_index_artifact().load(path).to_embeddings(), path, allow_nonfinite), limit)


def _word2vec_any(path, *, limit=None, mmap=False, allow_nonfinite=False):
    """word2vec text or binary, whichever the content is (GloVe text without a header included)."""
    if word2vec.sniff_binary(path):
        return word2vec.read_binary(path, limit=limit, allow_nonfinite=allow_nonfinite)
    return word2vec.read_text(path, limit=limit, allow_nonfinite=allow_nonfinite)


def _cut(emb, limit):
    """The first ``limit`` vectors, for readers that cannot stop early."""
    if limit is None or type(emb) is not Embeddings or len(emb) <= limit:
        return emb
    return type(emb)(emb.keys[:limit], emb.vectors[:limit], emb.meta)


def _ekv(path, *, limit=None, mmap=False, allow_nonfinite=False):
    return _cut(native.load_native(path, mmap=mmap, allow_nonfinite=allow_nonfinite), limit)


def _gensim(path, *, limit=None, mmap=False, allow_nonfinite=False):
    return _cut(check_embeddings(gensim_kv.read_gensim(path, mmap=mmap), path, allow_nonfinite), limit)


#: format name -> reader(path, *, limit, mmap, allow_nonfinite); every reader refuses NaN/infinity
#: (unless allow_nonfinite=True) and a key found twice, naming the place (line or row)
READERS = {
    "word2vec": _word2vec_any,
    "glove": _word2vec_any,
    "word2vec-binary": lambda path, *, limit=None, mmap=False, allow_nonfinite=False: word2vec.read_binary(
        path, limit=limit, allow_nonfinite=allow_nonfinite),
    "npy": lambda path, *, limit=None, mmap=False, allow_nonfinite=False: _cut(
        arrays.read_npy(path, mmap=mmap, allow_nonfinite=allow_nonfinite), limit),
    "npz": lambda path, *, limit=None, mmap=False, allow_nonfinite=False: _cut(
        arrays.read_npz(path, allow_nonfinite=allow_nonfinite), limit),
    "ekv": _ekv,
    "parquet": lambda path, *, limit=None, mmap=False, allow_nonfinite=False: parquet.read_parquet(
        path, limit=limit, allow_nonfinite=allow_nonfinite),
    "jsonl": lambda path, *, limit=None, mmap=False, allow_nonfinite=False: jsonl.read_jsonl(
        path, limit=limit, allow_nonfinite=allow_nonfinite),
    "projector": lambda path, *, limit=None, mmap=False, allow_nonfinite=False: projector.read_projector(
        path, limit=limit, allow_nonfinite=allow_nonfinite),
    "gensim": _gensim,
    "faiss": _read_index,
    "hnswlib": _read_index,
    "elasticsearch": lambda path, *, limit=None, mmap=False, allow_nonfinite=False: search_bulk.read_bulk(
        path, limit=limit, allow_nonfinite=allow_nonfinite),
    "opensearch": lambda path, *, limit=None, mmap=False, allow_nonfinite=False: search_bulk.read_bulk(
        path, limit=limit, allow_nonfinite=allow_nonfinite),
}

#: format or URL scheme -> the options its writer takes (declared once; the CLI builds its flags from them)
TARGET_PARAMS = {**{scheme: module.PARAMS for scheme, module in URL_TARGETS.items()},
                 "elasticsearch": search_bulk.PARAMS, "opensearch": search_bulk.PARAMS}

_BY_EXTENSION = {
    ".txt": "word2vec", ".vec": "word2vec", ".w2v": "word2vec",
    ".bin": "word2vec-binary", ".npy": "npy", ".npz": "npz", ".ekv": "ekv",
    ".parquet": "parquet", ".jsonl": "jsonl", ".ndjson": "jsonl", ".tsv": "projector",
    ".faiss": "faiss", ".hnsw": "hnswlib",
}

#: formats written gzipped when the path ends in .gz
_GZIP_OK = ("word2vec", "glove", "word2vec-binary", "jsonl")


def _format_from_path(path: Path) -> str | None:
    suffixes = path.suffixes
    ext = suffixes[-2] if suffixes and suffixes[-1] == ".gz" and len(suffixes) > 1 else path.suffix
    return _BY_EXTENSION.get(ext.lower())


def format_for(path, format: str | None = None) -> str | None:
    """The format :func:`export` writes to ``path``: ``format``, else the extension's (None if unknown);
    for a database URL its scheme (``"postgresql"``, ``"lancedb"``)."""
    if format is None and is_url(path):
        return str(path).split("://", 1)[0].lower()
    return format or _format_from_path(Path(path))


def resolve_format(path, format: str | None = None) -> str:
    """The writer's name for ``path``: ``format`` or the extension's; raises
    :class:`~embedkit.exceptions.InvalidParameterError` when :data:`WRITERS` has none for it."""
    path = Path(path)
    fmt = format or _format_from_path(path)
    if fmt is None:
        raise InvalidParameterError(
            "export", "format", "one of " + ", ".join(sorted(WRITERS)) +
            " (or a path ending in " + ", ".join(sorted(_BY_EXTENSION)) + ")", format or path.suffix or str(path),
        )
    if fmt not in WRITERS:
        hint = "gensim's pickled format is read (format='gensim') but never written; export .txt or .bin, " \
               "which gensim's load_word2vec_format reads" if fmt == "gensim" else ""
        raise InvalidParameterError("export", "format", "one of " + ", ".join(sorted(WRITERS)), fmt, hint=hint)
    if path.suffix.lower() == ".gz" and fmt not in _GZIP_OK:
        raise InvalidParameterError("export", "format", "one of " + ", ".join(sorted(_GZIP_OK)) +
                                    " for a path ending in .gz", fmt,
                                    hint=f"{fmt} files are not gzipped; drop the .gz from the path")
    return fmt


def export(emb, path, format: str | None = None, **kwargs) -> None:
    """Write ``emb`` to ``path`` in ``format`` (default: from the extension), or into the
    database a URL names (``postgresql://...``, ``lancedb://DIR``; ``table=`` and the
    target's options, see :mod:`embedkit.io.targets`). Two vectors under one key are refused."""
    if is_url(path):
        if format is not None:
            raise InvalidParameterError("export", "format", "None for a database URL (its scheme says where)", format)
        _check_unique_keys(emb)
        target_for(path).write(emb, path, **kwargs)
        return
    path = Path(path)
    fmt = resolve_format(path, format)
    _check_unique_keys(emb)
    WRITERS[fmt](emb, path, **kwargs)


def _check_unique_keys(emb) -> None:
    """Refuse to export two vectors under one key (as written: 1 and "1" are one key in a text file)."""
    keys = getattr(emb, "keys", None)
    if not isinstance(keys, list):
        return
    written = [k if isinstance(k, str) else str(k) for k in keys]
    if len(set(written)) != len(written):
        seen: dict = {}
        for row, k in enumerate(written):
            first = seen.setdefault(k, row)
            if first != row:
                raise DuplicateKeyError(f"cannot export: key {keys[row]!r} appears twice, at rows {first} and "
                                        f"{row}; a file of vectors holds each key once")


def _sniff(path: Path) -> str:
    """The format of a file whose extension does not say it, from its first bytes."""
    if native.is_native(path):
        return "ekv"
    if search_bulk.is_bulk_dir(path):
        return "elasticsearch"
    if path.is_dir():
        raise InputFormatError("a folder, but not an unpacked .ekv (no meta.json) nor _bulk files", path)
    if gensim_kv.looks_like_pickle(path):
        raise gensim_kv.refuse_pickle(path)
    with open_input(path) as fh, read_errors(path):
        head = fh.read(4)
    if head == b"PAR1":
        return "parquet"
    if head[:1] == b"{":
        return "jsonl"
    return "word2vec"


def _load_by_suffix(art, path: Path, limit, allow_nonfinite: bool = False):
    """A file whose extension names an artifact (``.model``: a sentencepiece tokenizer), or vectors
    another tool named so."""
    try:
        return art.load(path)
    except InputFormatError as not_spm:
        if path.is_dir():
            raise
        if gensim_kv.looks_like_pickle(path):  # gensim's Word2Vec.save writes .model files
            raise gensim_kv.refuse_pickle(path) from None
        try:  # other tools write vectors as .model too (word2vec binary, for one)
            return _word2vec_any(path, limit=limit, allow_nonfinite=allow_nonfinite)
        except (InputFormatError, ValueError, UnicodeDecodeError, OSError):
            raise not_spm from None


def load(path, format: str | None = None, *, limit: int | None = None, mmap: bool = False,
         allow_nonfinite: bool = False, **options):
    """Load :class:`~embedkit.Embeddings` from ``path``.

    Reads every format :func:`export` writes: embedkit ``.ekv`` (zip or folder),
    word2vec text and binary (gensim's ``save_word2vec_format`` output included),
    GloVe text (no header), ``.npy`` (with ``<path>.keys.json`` if present),
    ``.npz``, ``.parquet``, ``.jsonl``, the projector's ``.tsv`` (+ ``.metadata.tsv``) and
    search indexes (``.faiss``, ``.hnsw``: their keys and stored rows, unit length for a
    cosine index; :func:`embedkit.load_index` gives the index itself).
    The format is sniffed from the content when the extension does not settle it.
    gensim's own ``KeyedVectors.save`` files are pickles: they load only with
    ``format="gensim"`` (never sniffed). A sentencepiece ``.model`` file (or
    ``format="sentencepiece"``) gives a :class:`~embedkit.text.bpe.Tokenizer`; an
    ``.ekv`` of subword embeddings a :class:`~embedkit.text.subword.SubwordEmbeddings`.

    ``limit``: only the first that many vectors (the text formats, parquet and word2vec
    binary stop reading there). ``mmap=True``: map the matrix read-only from the file
    instead of reading it (``.ekv``, ``.npy``; gensim's side-car arrays); other formats
    ignore it. Text formats stream into one preallocated matrix, so memory is about the
    float32 matrix plus the keys.

    Every format refuses, with an :class:`~embedkit.exceptions.InputFormatError` naming the file
    and the line (text formats) or row: NaN or infinity in a vector (``allow_nonfinite=True``
    accepts them), a key found twice (both places named), a count or shape that does not match
    the data (checked against the file's size before anything is allocated), and malformed
    content. Zip artifacts (``.ekv``, ``.npz``) are read with size and compression-ratio limits;
    see ``docs/formats.md``.

    A database URL reads a table back (``ek.load("postgresql://...", table="items")``,
    ``ek.load("lancedb://DIR", table="items")``; ``options`` go to the target's reader).
    A folder of ``_bulk`` files (``format="elasticsearch"`` or ``"opensearch"``) reads too.
    """
    if is_url(path):
        return target_for(path, "load").read(path, limit=limit, **options)
    if options:
        raise InvalidParameterError("load", next(iter(options)), "an option of a database URL only "
                                    "(postgresql://, lancedb://)", options[next(iter(options))])
    path = Path(path)
    if not path.exists():
        raise InputFormatError("no such file or folder", path)
    if format is not None and format not in READERS:
        art = artifact_for_meta({"format": format})  # an artifact's own format ("sentencepiece")
        if art is not None:
            return art.load(path, mmap=mmap, allow_nonfinite=allow_nonfinite)
    if format is None:
        art = artifact_for_suffix(path.suffix)
        if art is not None:
            return _load_by_suffix(art, path, limit, allow_nonfinite)
    fmt = format or _format_from_path(path) or _sniff(path)
    if fmt == "ekv" and not native.is_native(path):
        raise InputFormatError("not an embedkit .ekv file (no meta.json inside)", path)
    if fmt not in READERS:
        raise InvalidParameterError("load", "format", "one of " + ", ".join(sorted(READERS)), fmt)
    return READERS[fmt](path, limit=limit, mmap=mmap, allow_nonfinite=allow_nonfinite)


from .output import check_output, check_path  # noqa: E402  (the writer-side checks)

register_view("save", native.save_native)
register_view("export", export)
register_view("load", load)
