"""Byte-pair-encoding (BPE) tokenization, backed by sentencepiece.

BPE (Sennrich, Haddow & Birch, "Neural Machine Translation of Rare Words with
Subword Units", ACL 2016) splits words into characters and repeatedly merges the
most frequent adjacent pair into a new symbol until the vocabulary holds
``vocab_size`` pieces: frequent words end as one piece, rare words as a few
frequent groups of letters. The training and the encoder are sentencepiece's
(Kudo & Richardson, "SentencePiece: A simple and language independent subword
tokenizer and detokenizer for Neural Text Processing", EMNLP 2018, demo track),
``model_type="bpe"``; embedkit adds streaming input (a :class:`~embedkit.Corpus`,
gzip files), errors that say what to change, and :meth:`Tokenizer.merges` /
:meth:`Tokenizer.explain`, which show the merges behind a segmentation.

The seed's teaching example, *la souris rit sous la pluie*:

>>> import embedkit as ek
>>> sentence = "la souris rit sous la pluie".split()
>>> tok = ek.train("bpe", [sentence] * 20, vocab_size=25, byte_fallback=False, verbose=False)
>>> tok.merges()  # the 11 merges learned, most frequent pair first
[('l', 'a'), ('o', 'u'), ('r', 'i'), ('▁', 's'), ('▁', 'la'), ('▁s', 'ou'), ('i', 'e'), ('l', 'u'), ('▁', 'p'), ('ri', 's'), ('ri', 't')]
>>> for step in tok.explain("souris"):  # from the characters ▁ s o u r i s to the pieces
...     print(f"{step.left + ' + ' + step.right:<8} -> {' '.join(step.pieces)}")
o + u    -> ▁ s ou r i s
r + i    -> ▁ s ou ri s
▁ + s    -> ▁s ou ri s
▁s + ou  -> ▁sou ri s
ri + s   -> ▁sou ris
>>> tok.encode("la souris rit sous la pluie")
['▁la', '▁sou', 'ris', '▁', 'rit', '▁sou', 's', '▁la', '▁p', 'lu', 'ie']
>>> tok.decode(tok.encode("la souris rit sous la pluie"))
'la souris rit sous la pluie'
>>> tok.encode("sourire")  # a word never seen is spelled with the pieces it shares
['▁sou', 'ri', 'r', 'e']

("▁" is sentencepiece's mark of a word start; a merge never crosses it.)
"""
from __future__ import annotations

import io
import logging
import os
import re
import struct
import time
import zlib
from pathlib import Path
from typing import Iterator, NamedTuple, Sequence

from .._atomic import atomic_path
from .._validation import VERBOSE, Param, seed_param, workers_param
from ..api import Method, register
from ..data._open import BOM, is_gzip, open_binary, read_errors, skip_bom
from ..data.corpus import Corpus, _resolve_paths
from ..exceptions import EmptyInputError, InputFormatError, InvalidParameterError

logger = logging.getLogger("embedkit")

#: sentencepiece's whitespace mark: a piece that starts a word starts with it
SPACE = "\u2581"
NORMALIZATIONS = ("nmt_nfkc", "nfkc", "identity")

BPE_PARAMS: tuple[Param, ...] = (
    Param("vocab_size", int, 8000, "pieces in the vocabulary, special and byte pieces included", low=4),
    Param("character_coverage", float, 0.9995, "share of the corpus's characters the vocabulary covers; "
          "rarer characters become bytes (byte_fallback) or <unk> (1.0 for small alphabets, 0.9995 for CJK)",
          low=0.0, high=1.0, low_open=True),
    Param("byte_fallback", bool, True, "spell characters outside the vocabulary as UTF-8 byte pieces "
          "(<0xE2>...) instead of <unk>, so every text encodes losslessly (adds 256 pieces)"),
    Param("user_defined_symbols", str, "", "comma-separated strings always kept as one piece "
          "(e.g. '<sep>,<mask>'); in Python a list of strings works too"),
    Param("lowercase", bool, False, "fold case (sentencepiece's *_cf normalization rules)"),
    Param("normalization", str, "nmt_nfkc", "Unicode normalization: sentencepiece's nmt_nfkc (NFKC plus "
          "cleaning of control characters), nfkc, or identity (text kept as given)", choices=NORMALIZATIONS),
    Param("remove_extra_whitespaces", bool, True, "drop leading and trailing spaces and collapse runs of "
          "spaces (sentencepiece's default)"),
    Param("max_sentences", int, 0, "files: train on a random sample of this many non-blank lines, drawn "
          "with seed (like sentencepiece's input_sentence_size, whose draw no seed controls); 0 = all lines. "
          "A Corpus is always used whole", low=0),
    Param("max_sentence_length", int, 65536, "longest line in bytes; sentencepiece skips longer lines "
          "(its own default is 4192)", low=16),
    workers_param("sentencepiece training threads (0 = all cores)"),
    seed_param("random seed of the max_sentences sample (BPE training itself is deterministic)"),
    VERBOSE,
)


# ---------------------------------------------------------------------------- the model file
_PIECE_TYPES = {1: "normal", 2: "unknown", 3: "control", 4: "user_defined", 5: "unused", 6: "byte"}
_MODEL_TYPES = {1: "unigram", 2: "bpe", 3: "word", 4: "char"}


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i


def _fields(buf: bytes) -> Iterator[tuple[int, int, object]]:
    """(field number, wire type, value) of a protobuf message (the four wire types sentencepiece uses)."""
    i, n = 0, len(buf)
    while i < n:
        key, i = _varint(buf, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(buf, i)
        elif wire == 1:
            value, i = buf[i:i + 8], i + 8
        elif wire == 2:
            size, i = _varint(buf, i)
            value, i = buf[i:i + size], i + size
        elif wire == 5:
            value, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield number, wire, value


def _read_model_proto(buf: bytes) -> tuple[list[tuple[str, float, str]], dict]:
    """Pieces ``(piece, score, type)`` and a few settings of a sentencepiece ``ModelProto``.

    A small reader of the fields embedkit needs (sentencepiece_model.proto: ModelProto.pieces = 1,
    trainer_spec = 2, normalizer_spec = 3), so that no protobuf package is needed.
    """
    pieces: list[tuple[str, float, str]] = []
    spec = {"model_type": "unigram", "byte_fallback": False, "normalization": "nmt_nfkc",
            "add_dummy_prefix": True, "remove_extra_whitespaces": True, "user_defined_symbols": []}
    for number, wire, value in _fields(buf):
        if number == 1 and wire == 2:
            piece, score, kind = "", 0.0, 1
            for f, w, v in _fields(value):
                if f == 1 and w == 2:
                    piece = bytes(v).decode("utf-8")
                elif f == 2 and w == 5:
                    score = struct.unpack("<f", v)[0]
                elif f == 3 and w == 0:
                    kind = v
            pieces.append((piece, score, _PIECE_TYPES.get(kind, "normal")))
        elif number == 2 and wire == 2:
            for f, w, v in _fields(value):
                if f == 3 and w == 0:
                    spec["model_type"] = _MODEL_TYPES.get(v, str(v))
                elif f == 35 and w == 0:
                    spec["byte_fallback"] = bool(v)
        elif number == 3 and wire == 2:
            for f, w, v in _fields(value):
                if f == 1 and w == 2:
                    spec["normalization"] = bytes(v).decode("utf-8")
                elif f == 3 and w == 0:
                    spec["add_dummy_prefix"] = bool(v)
                elif f == 4 and w == 0:
                    spec["remove_extra_whitespaces"] = bool(v)
    spec["user_defined_symbols"] = [p for p, _, t in pieces if t == "user_defined"]
    return pieces, spec


class MergeStep(NamedTuple):
    """One merge of :meth:`Tokenizer.explain`: ``left + right`` became one piece,
    leaving ``pieces``; ``rank`` is the merge's place in :meth:`Tokenizer.merges` (0 = first learned)."""

    left: str
    right: str
    rank: int
    pieces: list


class Tokenizer:
    """A trained sentencepiece model: text <-> pieces <-> ids.

    Build one with ``ek.train("bpe", corpus, vocab_size=8000)`` or load a
    sentencepiece ``.model`` file with :meth:`Tokenizer.load` / ``ek.load``.
    ``encode`` normalizes the text first (NFKC, whitespace, case folding, per the
    model's settings), so ``decode(encode(x)) == normalize(x)`` for every text
    without the "▁" character (U+2581, sentencepiece's own space mark) when the
    model has ``byte_fallback``; with ``normalization="identity"`` and
    ``remove_extra_whitespaces=False``, ``normalize(x) == x``.

    Parameters
    ----------
    model : bytes of a serialized sentencepiece ``ModelProto`` (the content of a ``.model`` file).
    meta : dict, optional; JSON-able information (training parameters, time).
    """

    def __init__(self, model: bytes, meta: dict | None = None, *, source: object = None):
        import sentencepiece as spm

        model = bytes(model)
        try:
            pieces, spec = _read_model_proto(model)
            if not pieces:
                raise ValueError("no pieces")
            sp = spm.SentencePieceProcessor(model_proto=model)
        except (ValueError, IndexError, UnicodeDecodeError, RuntimeError, struct.error) as exc:
            raise InputFormatError(f"not a sentencepiece model file ({type(exc).__name__}: {exc})",
                                   source) from None
        self._model = model
        self._sp = sp
        self._pieces = pieces
        self._spec = spec
        self._vocab = [p for p, _, _ in pieces]
        self._index = {p: i for i, p in enumerate(self._vocab)}
        self._merge_scores: dict | None = None
        self._pairs: tuple | None = None
        self.meta: dict = dict(meta or {})
        self.meta.update({k: v for k, v in spec.items()})
        self.meta["vocab_size"] = len(pieces)

    # ---- persistence --------------------------------------------------------------
    @classmethod
    def load(cls, path) -> "Tokenizer":
        """Read a sentencepiece ``.model`` file (any model type; :meth:`merges` needs BPE)."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise InputFormatError("no such file", path) from None
        except IsADirectoryError:
            raise InputFormatError("is a folder, not a sentencepiece .model file", path) from None
        return cls(data, source=path)

    def save(self, path) -> None:
        """Write the sentencepiece ``.model`` file (protobuf; sentencepiece, HuggingFace and
        ``spm_encode`` read it). Written atomically."""
        with atomic_path(path) as tmp:
            tmp.write_bytes(self._model)

    def to_bytes(self) -> bytes:
        """The serialized sentencepiece model (what :meth:`save` writes)."""
        return self._model

    @property
    def processor(self):
        """The underlying ``sentencepiece.SentencePieceProcessor``."""
        return self._sp

    # ---- vocabulary ---------------------------------------------------------------
    @property
    def vocab(self) -> list[str]:
        """Every piece, in id order (``<unk>``, ``<s>``, ``</s>``, user symbols, merges, bytes, characters)."""
        return list(self._vocab)

    @property
    def vocab_size(self) -> int:
        return len(self._vocab)

    def __len__(self) -> int:
        return len(self._vocab)

    def piece_to_id(self, piece: str) -> int:
        """Id of ``piece``; the ``<unk>`` id when it is not in the vocabulary."""
        return self._index.get(piece, self._sp.unk_id())

    def id_to_piece(self, i: int) -> str:
        return self._vocab[i]

    def piece_type(self, piece: str) -> str:
        """"normal", "unknown", "control", "user_defined", "unused" or "byte"."""
        i = self._index.get(piece)
        if i is None:
            raise KeyError(f"{piece!r} is not a piece of this tokenizer")
        return self._pieces[i][2]

    @property
    def model_type(self) -> str:
        return self._spec["model_type"]

    def __repr__(self) -> str:
        return (f"Tokenizer({self.model_type}, vocab_size={self.vocab_size}, "
                f"normalization={self._spec['normalization']!r})")

    # ---- encoding -----------------------------------------------------------------
    def encode(self, text: str | Sequence[str], *, dropout: float = 0.0, seed: int | None = None) -> list:
        """Pieces of ``text`` (a list of str), or one list per text for a list of texts.

        ``dropout`` > 0 samples a segmentation with BPE-dropout (Provilkov, Emelianenko &
        Voita, ACL 2020): at each merge step every candidate merge is skipped with that
        probability, so the same word is sometimes spelled with smaller pieces
        (:meth:`sample_ids`; repeatable for a ``seed``, a fresh draw when it is None).
        """
        return self._encode(text, True, dropout, seed)

    def encode_ids(self, text: str | Sequence[str], *, dropout: float = 0.0, seed: int | None = None) -> list:
        """Ids of :meth:`encode`'s pieces."""
        return self._encode(text, False, dropout, seed)

    def _encode(self, text, as_pieces: bool, dropout: float, seed: int | None):
        single = isinstance(text, str)
        if not single and not (isinstance(text, (list, tuple)) and all(isinstance(t, str) for t in text)):
            raise TypeError(f"encode takes a str or a list of str; got {type(text).__name__}")
        if not 0.0 <= dropout < 1.0:
            raise InvalidParameterError("encode", "dropout", "a number >= 0 and < 1", dropout)
        if isinstance(text, tuple):
            text = list(text)
        if dropout == 0:
            return self._sp.encode(text, out_type=str if as_pieces else int)
        if self.model_type != "bpe":
            raise InvalidParameterError("encode", "dropout", "0 for a non-BPE model", dropout)
        if seed is None:
            import numpy as np

            seed = int(np.random.default_rng().integers(2**63))
        ptr, ids = self.sample_ids([text] if single else text, dropout, seed=seed)
        out = [ids[ptr[i]:ptr[i + 1]].tolist() for i in range(len(ptr) - 1)]
        if as_pieces:
            out = [[self._vocab[i] for i in seq] for seq in out]
        return out[0] if single else out

    def decode(self, pieces: Sequence[str] | Sequence[int]) -> str:
        """Text of a list of pieces or of ids (the inverse of :meth:`encode`, up to :meth:`normalize`)."""
        pieces = list(pieces)
        if not pieces:
            return ""
        if all(isinstance(p, str) for p in pieces):
            return self._sp.decode_pieces(pieces)
        if all(isinstance(p, int) or type(p).__module__ == "numpy" for p in pieces):
            return self._sp.decode_ids([int(p) for p in pieces])
        raise TypeError("decode takes a list of pieces (str) or a list of ids (int), not a mix")

    def normalize(self, text: str) -> str:
        """``text`` as the model sees it, written back as plain text (so that
        ``decode(encode(text)) == normalize(text)`` with byte fallback)."""
        normalized = self._sp.normalize(text)
        if self._spec["add_dummy_prefix"] and normalized.startswith(SPACE):
            normalized = normalized[1:]
        return normalized.replace(SPACE, " ")

    # ---- merges ---------------------------------------------------------------------
    def _scores(self) -> dict:
        """Piece -> (score, rank) of the pieces BPE merges into (normal pieces longer than one character)."""
        if self._merge_scores is None:
            if self.model_type != "bpe":
                raise InvalidParameterError("merges", "model", "a BPE model (model_type='bpe')",
                                            self.model_type, hint="only BPE models are built by merges")
            merged = [(p, s) for p, s, t in self._pieces if t == "normal" and len(p) > 1]
            merged.sort(key=lambda ps: -ps[1])  # sentencepiece scores merges -rank: 0, -1, -2, ...
            self._merge_scores = {p: (s, r) for r, (p, s) in enumerate(merged)}
        return self._merge_scores

    def _symbols(self, normalized: str) -> tuple[list[str], list[bool]]:
        """The encoder's starting symbols: characters, with user-defined symbols whole (frozen)."""
        users = sorted(self._spec["user_defined_symbols"], key=len, reverse=True)
        symbols, frozen = [], []
        i = 0
        while i < len(normalized):
            match = next((u for u in users if normalized.startswith(u, i)), None)
            if match:
                symbols.append(match)
                frozen.append(True)
                i += len(match)
            else:
                symbols.append(normalized[i])
                frozen.append(False)
                i += 1
        return symbols, frozen

    def _merge_all(self, symbols: list[str], frozen: list[bool], limit: float = float("inf"),
                   steps: list | None = None) -> list[str]:
        """sentencepiece's BPE encoder: merge the adjacent pair whose merged piece scores highest
        (the leftmost on ties) until no pair is a piece; pieces of rank >= ``limit`` are ignored."""
        scores = self._scores()
        symbols, frozen = list(symbols), list(frozen)
        while len(symbols) > 1:
            best, best_score, best_rank = -1, None, -1
            for i in range(len(symbols) - 1):
                if frozen[i] or frozen[i + 1]:
                    continue
                hit = scores.get(symbols[i] + symbols[i + 1])
                if hit is None or hit[1] >= limit:
                    continue
                if best_score is None or hit[0] > best_score:
                    best, best_score, best_rank = i, hit[0], hit[1]
            if best < 0:
                break
            left, right = symbols[best], symbols[best + 1]
            symbols[best:best + 2] = [left + right]
            del frozen[best + 1]
            if steps is not None:
                steps.append(MergeStep(left, right, best_rank, list(symbols)))
        return symbols

    def _pair_table(self) -> tuple:
        """``(keys, merged, ranks)``: every split ``left + right`` of every merged piece into two
        pieces, keyed ``id(left) * vocab_size + id(right)`` (sorted int64), with the merged piece's
        id and rank (the encoder looks merges up by the concatenated string, so every split counts)."""
        import numpy as np

        if self._pairs is None:
            scores = self._scores()
            mergeable = {p for p, _, t in self._pieces if t == "normal"}
            keys, merged, ranks = [], [], []
            v = len(self._vocab)
            for piece, (_, rank) in scores.items():
                for j in range(1, len(piece)):
                    left, right = piece[:j], piece[j:]
                    if left in mergeable and right in mergeable:
                        keys.append(self._index[left] * v + self._index[right])
                        merged.append(self._index[piece])
                        ranks.append(rank)
            keys_a = np.asarray(keys, dtype=np.int64)
            order = np.argsort(keys_a)
            self._pairs = (keys_a[order], np.asarray(merged, dtype=np.int32)[order],
                           np.asarray(ranks, dtype=np.int64)[order])
        return self._pairs

    def _symbol_ids(self, texts: Sequence[str]):
        """CSR ``(ptr int64, ids int32)`` of the encoder's starting symbols of each text: characters
        (user-defined symbols whole), a character outside the vocabulary already spelled as byte
        pieces (byte fallback) or as ``<unk>`` (one per run), as sentencepiece's output has them."""
        import numpy as np

        index, pieces = self._index, self._pieces
        unk = self._sp.unk_id()
        fallback = self._spec["byte_fallback"]
        users = bool(self._spec["user_defined_symbols"])
        ptr = [0]
        ids: list[int] = []
        for text in texts:
            normalized = self._sp.normalize(text)
            symbols = self._symbols(normalized)[0] if users else normalized
            prev_unknown = False
            for sym in symbols:
                i = index.get(sym)
                if i is not None and pieces[i][2] in ("normal", "user_defined"):
                    ids.append(i)
                    prev_unknown = False
                elif fallback:
                    ids.extend(index[f"<0x{b:02X}>"] for b in sym.encode("utf-8"))
                elif not prev_unknown:
                    ids.append(unk)
                    prev_unknown = True
            ptr.append(len(ids))
        return np.asarray(ptr, dtype=np.int64), np.asarray(ids, dtype=np.int32)

    def sample_ids(self, texts: Sequence[str], dropout: float, seed: int = 0, samples: int = 1):
        """``samples`` BPE-dropout segmentations of each text (Provilkov et al. 2020), repeatable:
        at each merge step every candidate merge is skipped with probability ``dropout``.

        Returns CSR ``(ptr int64 (samples * len(texts) + 1,), ids int32)``, segmentation
        ``s * len(texts) + t`` being ``ids[ptr[j]:ptr[j + 1]]``. ``dropout=0`` gives
        :meth:`encode_ids` exactly. Computed by a numba kernel, in parallel, the same for a seed
        on any number of threads.
        """
        from ._bpe_dropout import segment

        if not 0.0 <= dropout < 1.0:
            raise InvalidParameterError("sample_ids", "dropout", "a number >= 0 and < 1", dropout)
        sym_ptr, syms = self._symbol_ids(list(texts))
        return segment(sym_ptr, syms, self._pair_table(), len(self._vocab), dropout, seed, int(samples))

    def merges(self) -> list[tuple[str, str]]:
        """The learned merges in order, as ``(left, right)`` piece pairs (BPE models only).

        A merged piece's pair is read off the model the way the encoder builds it: the
        piece's characters merged with the earlier merges only, which leaves two symbols
        for every piece a BPE trainer creates.
        """
        scores = self._scores()
        out = []
        for piece, (_, rank) in sorted(scores.items(), key=lambda kv: kv[1][1]):
            syms = self._merge_all(list(piece), [False] * len(piece), limit=rank)
            if len(syms) != 2:  # not reachable from two earlier pieces (a hand-edited model)
                syms = [syms[0], "".join(syms[1:])]
            out.append((syms[0], syms[1]))
        return out

    def explain(self, text: str) -> list[MergeStep]:
        """The merges that turn ``text``'s characters into its pieces, in the order the
        encoder applies them (BPE models only). The last step's ``pieces`` equal
        :meth:`encode`'s for in-vocabulary characters (characters outside the vocabulary
        are then spelled as bytes or ``<unk>``); text that needs no merge gives ``[]``.
        """
        normalized = self._sp.normalize(text)
        symbols, frozen = self._symbols(normalized)
        steps: list[MergeStep] = []
        self._merge_all(symbols, frozen, steps=steps)
        return steps

    def segment(self, text: str) -> list[str]:
        """:meth:`encode`, simulated in Python from :meth:`explain`'s merges: the final symbols,
        with a symbol that is no piece spelled as UTF-8 byte pieces (byte fallback) or kept as
        one unknown piece (runs of unknown symbols joined, as sentencepiece does)."""
        normalized = self._sp.normalize(text)
        symbols, frozen = self._symbols(normalized)
        out: list[str] = []
        unknown_run = False
        for sym in self._merge_all(symbols, frozen):
            i = self._index.get(sym)
            if i is not None and self._pieces[i][2] in ("normal", "user_defined"):
                out.append(sym)
                unknown_run = False
            elif self._spec["byte_fallback"]:
                out.extend(f"<0x{b:02X}>" for b in sym.encode("utf-8"))
            elif unknown_run:
                out[-1] += sym
            else:
                out.append(sym)
                unknown_run = True
        return out


# ---------------------------------------------------------------------------- training
_TOO_HIGH = re.compile(r"Vocabulary size too high \((\d+)\)\. Please set it to a value <= (\d+)")
_TOO_LOW = re.compile(r"Vocabulary size is smaller than required_chars\. (\d+) vs (\d+)")


def _has_text(path: Path) -> bool:
    """Whether a (possibly gzipped) file holds anything but whitespace; stops at the first text."""
    with open_binary(path) as fh, read_errors(path):
        skip_bom(fh)
        while True:
            chunk = fh.read(1 << 16)
            if not chunk:
                return False
            if chunk.strip():
                return True


def _starts_with_bom(path: Path) -> bool:
    with open_binary(path) as fh, read_errors(path):
        return fh.read(3) == BOM


def _open_lines(path: Path):
    """(the file on disk, for progress by bytes read; the stream of its lines, gunzipped) from the
    shared opener (gzip by suffix or magic; errors as InputFormatError)."""
    stream = open_binary(path)
    return getattr(stream, "fileobj", None) or stream, stream


def _count_lines(paths: list[Path]) -> int:
    """Non-blank lines of the files (the population :func:`_file_lines` samples from)."""
    n = 0
    for path in paths:
        raw, stream = _open_lines(path)
        try:
            with read_errors(path):
                skip_bom(stream)
                n += sum(1 for line in stream if line.strip())
        finally:
            stream.close()
            raw.close()
    return n


def _file_lines(paths: list[Path], verbose: bool | None, sample: int = 0, seed: int = 0) -> Iterator[str]:
    """Non-blank lines of plain or gzip files, streamed (progress in bytes read from disk).

    ``sample`` > 0 keeps that many lines drawn uniformly without replacement with ``seed``
    (a first pass counts the lines), in file order.
    """
    import numpy as np

    from .._progress import progress

    keep = None
    if sample > 0:
        total_lines = _count_lines(paths)
        if sample < total_lines:
            keep = np.zeros(total_lines, dtype=bool)
            keep[np.random.default_rng(seed).choice(total_lines, sample, replace=False)] = True
            logger.info("bpe: training on %d of %d lines (max_sentences, seed %d)", sample, total_lines, seed)
    index = 0
    total = sum(p.stat().st_size for p in paths)
    with progress(total=total, desc="reading text for sentencepiece", verbose=verbose, unit="B") as bar:
        for path in paths:
            raw, stream = _open_lines(path)
            reported = 0
            lineno = 0
            try:
                skip_bom(stream)
                for lineno, line in enumerate(stream, 1):
                    if lineno % 4096 == 0:
                        pos = raw.tell()
                        bar.update(pos - reported)
                        reported = pos
                    if not line.strip():
                        continue
                    index += 1
                    if keep is not None and not keep[index - 1]:
                        continue
                    try:
                        yield line.decode("utf-8").rstrip("\r\n")
                    except UnicodeDecodeError as e:
                        raise InputFormatError(f"bytes that are not UTF-8 at byte {e.start} of the line "
                                               f"({line[e.start:e.start + 4]!r})", path, lineno) from None
                bar.update(raw.tell() - reported)
            except (OSError, EOFError, zlib.error) as e:
                with read_errors(path, lineno + 1):
                    raise e
            finally:
                stream.close()
                raw.close()


def _word_count_lines(corpus: Corpus) -> Iterator[str]:
    """``word<TAB>count`` lines of a corpus's vocabulary (sentencepiece's ``input_format="tsv"``)."""
    for word, count in corpus.word_counts().items():
        word = word.replace("\t", " ").replace("\n", " ").replace("\r", " ")
        if word.strip():
            yield f"{word}\t{count}"


def train_tokenizer(data, **params) -> Tokenizer:
    """``ek.train("bpe", data, **params)``."""
    return BPE(**params).fit(data)


def _rule(params: dict) -> str:
    rule = params["normalization"]
    if params["lowercase"]:
        if rule == "identity":
            raise InvalidParameterError("bpe", "lowercase", "False with normalization='identity'", True,
                                        hint="choose normalization 'nmt_nfkc' or 'nfkc' to fold case")
        rule += "_cf"
    return rule


def _symbols_param(value) -> list[str]:
    if isinstance(value, str):
        return [s for s in value.split(",") if s]
    return [str(s) for s in value]


@register
class BPE(Method):
    """Byte-pair-encoding tokenizer (Sennrich et al. 2016) trained by sentencepiece
    (Kudo & Richardson 2018); ``fit`` returns a :class:`Tokenizer`, not vectors.

    Input: a path, list of paths, glob or folder of plain-text or ``.gz`` files
    (one sentence or paragraph per line; plain files are read by sentencepiece
    itself, gzip files streamed to it line by line), or a :class:`~embedkit.Corpus`
    / list of token lists, whose word counts are what sentencepiece sees (its
    ``input_format="tsv"``: one ``word<TAB>count`` line per word type, the same
    model as training on the text, without a copy of the corpus).
    """

    name = "bpe"
    family = "text"
    summary = "BPE subword tokenizer (Sennrich et al. 2016) trained with sentencepiece"
    input_kind = "text"
    returns = "tokenizer"
    params = BPE_PARAMS
    quick_params = {"vocab_size": 60, "byte_fallback": False, "workers": 1, "verbose": False}

    def get_params(self):
        given = dict(self._given)
        if isinstance(given.get("user_defined_symbols"), (list, tuple)):
            given["user_defined_symbols"] = ",".join(_symbols_param(given["user_defined_symbols"]))
        from .._validation import validate

        return validate(self.name, self.params, given)

    def _fit(self, data, **params) -> Tokenizer:
        import sentencepiece as spm

        rule = _rule(params)
        workers = params["workers"] or os.cpu_count() or 1
        options = dict(model_type="bpe", vocab_size=params["vocab_size"],
                       character_coverage=params["character_coverage"], byte_fallback=params["byte_fallback"],
                       normalization_rule_name=rule, remove_extra_whitespaces=params["remove_extra_whitespaces"],
                       max_sentence_length=params["max_sentence_length"], num_threads=workers, minloglevel=2)
        symbols = _symbols_param(params["user_defined_symbols"])
        if symbols:
            options["user_defined_symbols"] = symbols
        if isinstance(data, (list, tuple)) and any(isinstance(s, str) and " " in s and not os.path.exists(s)
                                                   for s in data):
            raise InputFormatError("a list of strings is read as a list of files, and these look like sentences; "
                                   "pass a list of token lists ([sentence.split() for sentence in texts]), a "
                                   "Corpus or a path")
        source, name, feed = self._input(data, params, options)
        model = io.BytesIO()
        start = time.perf_counter()
        logger.info("bpe: training a %d-piece sentencepiece BPE model on %s", params["vocab_size"], name)
        try:
            spm.SentencePieceTrainer.train(model_writer=model, **feed, **options)
        except RuntimeError as exc:
            raise self._error(exc, name, params) from None
        elapsed = time.perf_counter() - start
        tok = Tokenizer(model.getvalue(), {"corpus": name, "sentencepiece_version": spm.__version__,
                                           "spm_train_time_s": round(elapsed, 4)}, source=source)
        logger.info("bpe: %d pieces in %.2fs", tok.vocab_size, elapsed)
        return tok

    def _input(self, data, params, options) -> tuple[object, str, dict]:
        """(source, name, the trainer's input keyword) for every input form."""
        if isinstance(data, Corpus) or (isinstance(data, (list, tuple)) and data and
                                        all(isinstance(s, (list, tuple)) for s in data)):
            corpus = data if isinstance(data, Corpus) else Corpus(list(data), min_count=1, verbose=False)
            name = corpus._name()
            corpus.word_counts()  # the counting pass; raises EmptyInputError for an empty corpus
            options["input_format"] = "tsv"
            return None, name, {"sentence_iterator": _word_count_lines(corpus)}
        if not isinstance(data, (str, os.PathLike, list, tuple)):
            raise InputFormatError(f"cannot read text from a {type(data).__name__}; pass a path, a list of "
                                   "paths, a glob, a list of token lists or an embedkit.Corpus")
        paths = _resolve_paths(data)
        name = str(paths[0]) if len(paths) == 1 else f"{paths[0]} (+{len(paths) - 1} files)"
        if not any(_has_text(p) for p in paths):
            raise EmptyInputError(f"{name}: no text (empty corpus)")
        # plain files go to sentencepiece as they are, unless one starts with a byte-order mark
        # (sentencepiece would keep it as a character of the first line)
        if all(p.suffix != ".gz" and not is_gzip(p) and not _starts_with_bom(p) for p in paths) and \
                not any("," in str(p) for p in paths) and not params["max_sentences"]:
            return paths[0], name, {"input": [str(p) for p in paths]}
        lines = _file_lines(paths, params["verbose"], params["max_sentences"], params["seed"])
        return paths[0], name, {"sentence_iterator": lines}

    @staticmethod
    def _error(exc: RuntimeError, name: str, params: dict) -> Exception:
        msg = str(exc)
        m = _TOO_HIGH.search(msg)
        if m:
            return InvalidParameterError(
                "bpe", "vocab_size", f"an integer <= {m.group(2)} for this corpus", params["vocab_size"],
                hint=f"{name} has too few distinct character sequences for more pieces; lower vocab_size to "
                     f"{m.group(2)} or less, or train on more text")
        m = _TOO_LOW.search(msg)
        if m:
            extra = " (256 of them are byte pieces: byte_fallback=False drops them)" if params["byte_fallback"] else ""
            return InvalidParameterError(
                "bpe", "vocab_size", f"an integer >= {m.group(2)} for this corpus{extra}", params["vocab_size"],
                hint="the vocabulary must hold every special piece and kept character; raise vocab_size or "
                     "lower character_coverage")
        if "sentences_.empty()" in msg or "!sentences_.empty()" in msg:
            return EmptyInputError(f"{name}: no text (empty corpus)")
        return InputFormatError(f"sentencepiece could not train on it: {msg}", name)


def load_tokenizer(path) -> Tokenizer:
    """Read a sentencepiece ``.model`` file (``ek.load("tok.model")`` does the same)."""
    return Tokenizer.load(path)


__all__ = ["Tokenizer", "MergeStep", "BPE", "load_tokenizer", "train_tokenizer", "SPACE"]
