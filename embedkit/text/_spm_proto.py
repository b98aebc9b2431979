"""A reader of sentencepiece's model file (a serialized ``ModelProto``, sentencepiece_model.proto):
the pieces with their scores and types and the few settings embedkit needs, with no protobuf
package (Kudo & Richardson, "SentencePiece", EMNLP 2018)."""
from __future__ import annotations

import struct
from typing import Iterator

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
