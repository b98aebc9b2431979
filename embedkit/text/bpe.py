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
import time
import zlib
from pathlib import Path
from typing import Iterator

from .._validation import VERBOSE, Param, seed_param, workers_param
from ..api import Method, register
from ..data._open import BOM, is_gzip, open_binary, read_errors, skip_bom
from ..data.corpus import Corpus, _resolve_paths
from ..exceptions import EmptyInputError, InputFormatError, InvalidParameterError
from .tokenizer import SPACE, MergeStep, Tokenizer, load_tokenizer  # noqa: F401  (embedkit.text.bpe.Tokenizer)

logger = logging.getLogger("embedkit")

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


__all__ = ["Tokenizer", "MergeStep", "BPE", "load_tokenizer", "train_tokenizer", "SPACE"]
