"""How the word methods (skipgram, cbow, subword) run on the shared training loop: the loop's
parameter rows, the corpus digest that identifies a checkpoint's data, and validation on a
word-similarity set (Spearman) or an analogy set (accuracy) after every epoch."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..exceptions import InvalidParameterError
from ..training import digest, loop_params

#: built-in validation sets: name -> evaluator ("similarity" or "analogy")
BUILTIN = {"wordsim353": "similarity", "simlex999": "similarity", "google": "analogy"}

LOOP_ROWS = loop_params("a word-similarity set (Spearman correlation) or an analogy set (accuracy): a built-in "
                        "name (wordsim353, simlex999, google), the path of such a file, or a callable taking the "
                        "embeddings and returning metrics (the first one primary, higher better)")


def corpus_digest(enc, extra=()) -> dict:
    """What identifies the training data in a checkpoint: the token ids, the sequence bounds and
    the vocabulary (``extra``: more JSON-able parts, e.g. a subword unit table's shape)."""
    return {"description": f"{enc.num_tokens} tokens, {len(enc.words)} words",
            "digest": digest(enc.tokens, enc.offsets, [str(w) for w in enc.words], *extra)}


def _kind_of_file(path: Path) -> str:
    """"analogy" for a file of ``: section`` lines and 4-word questions, else "similarity"."""
    from ..data._open import text_lines

    for _, line in text_lines(path):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        if text.startswith(":") or len(text.split()) == 4:
            return "analogy"
        return "similarity"
    return "similarity"


def text_validation(method: str, validation) -> Callable | None:
    """``validate(emb) -> {metric: value}`` for the ``validation=`` parameter, or None."""
    if validation is None:
        return None
    if callable(validation):
        def custom(emb) -> dict:
            m = validation(emb)
            primary = getattr(m, "primary", None) or next(iter(m))
            return {primary: float(m[primary]), **{k: v for k, v in m.items() if k != primary
                                                   and isinstance(v, (int, float))}}
        return custom
    if not isinstance(validation, (str, Path)):
        raise InvalidParameterError(method, "validation", "a built-in set name (" + ", ".join(BUILTIN) + "), the "
                                    "path of a similarity or analogy file, or a callable", validation)
    kind = BUILTIN.get(str(validation))
    if kind is None:
        path = Path(validation)
        if not path.is_file():
            raise InvalidParameterError(method, "validation", "a built-in set name (" + ", ".join(BUILTIN) + ") or "
                                        "an existing similarity/analogy file", str(validation))
        kind = _kind_of_file(path)
        validation = str(path)

    if kind == "analogy":
        from ..evaluate.analogy import analogy

        def validate(emb) -> dict:
            return {"accuracy": float(analogy(emb, validation)["accuracy"])}
    else:
        from ..evaluate.similarity import similarity

        def validate(emb) -> dict:
            return {"spearman": float(similarity(emb, validation)["spearman"])}
    return validate
