"""A trained sentencepiece model: text <-> pieces <-> ids, and the merges behind a BPE
segmentation (:meth:`Tokenizer.merges`, :meth:`Tokenizer.explain`, BPE-dropout sampling).

Trained by the ``bpe`` method (:mod:`embedkit.text.bpe`, Sennrich et al. 2016, on
sentencepiece: Kudo & Richardson 2018) or read from any sentencepiece ``.model`` file.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import NamedTuple, Sequence

from .._atomic import atomic_path
from ..artifacts import register_artifact
from ..exceptions import ArgumentTypeError, InputFormatError, InvalidParameterError, KeyNotFoundError
from ._spm_proto import _read_model_proto

#: sentencepiece's whitespace mark: a piece that starts a word starts with it
SPACE = "\u2581"


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
            raise KeyNotFoundError(f"{piece!r} is not a piece of this tokenizer", key=piece, keys=list(self._index))
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
            raise ArgumentTypeError(f"encode takes a str or a list of str; got {type(text).__name__}")
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
        raise ArgumentTypeError("decode takes a list of pieces (str) or a list of ids (int), not a mix")

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


def load_tokenizer(path) -> Tokenizer:
    """Read a sentencepiece ``.model`` file (``ek.load("tok.model")`` does the same)."""
    return Tokenizer.load(path)


def _summary(tok: Tokenizer) -> list[tuple[str, str]]:
    merges = sum(1 for p in tok.vocab if tok.piece_type(p) == "normal" and len(p) > 1)
    return [("vocabulary", f"{tok.vocab_size} pieces ({merges} merges)"),
            ("train", f"{tok.meta.get('spm_train_time_s', 0.0):.2f} s (sentencepiece)")]


register_artifact("tokenizer", Tokenizer, format="sentencepiece", save=lambda tok, path: tok.save(path),
                  load=lambda path, *, mmap=False, allow_nonfinite=False: Tokenizer.load(path), summary=_summary,
                  suffixes=(".model",))

__all__ = ["Tokenizer", "MergeStep", "load_tokenizer", "SPACE"]
