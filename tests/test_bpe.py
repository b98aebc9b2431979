"""BPE tokenization (sentencepiece): round trips, the merge explanation, input forms, errors."""
from __future__ import annotations

import gzip
import shutil

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import embedkit as ek
from embedkit.text.bpe import SPACE, Tokenizer

EMMA = ek.datasets.path("austen-emma.txt.gz")


@pytest.fixture(scope="module")
def emma_lines() -> list[str]:
    with gzip.open(EMMA, "rt", encoding="utf-8") as f:
        return f.read().splitlines()


@pytest.fixture(scope="module")
def tok() -> Tokenizer:
    """sentencepiece's defaults (NFKC, whitespace collapsed) plus byte fallback, on Emma."""
    return ek.train("bpe", str(EMMA), vocab_size=1000, workers=1, verbose=False)


@pytest.fixture(scope="module")
def identity_tok() -> Tokenizer:
    """No normalization at all: text is kept exactly as given."""
    return ek.train("bpe", str(EMMA), vocab_size=1000, normalization="identity", remove_extra_whitespaces=False,
                    workers=1, verbose=False)


# ---------------------------------------------------------------------------- round trips
def test_round_trip_on_real_text(tok, identity_tok, emma_lines):
    lines = [line for line in emma_lines if line.strip()]
    assert len(lines) > 13_000
    # what holds with the default normalization: decode(encode(x)) is x as the model sees it
    assert all(tok.decode(tok.encode(line)) == tok.normalize(line) for line in lines)
    assert all(tok.decode(tok.encode_ids(line)) == tok.normalize(line) for line in lines)
    # Emma is clean text: normalizing changes only whitespace (collapsed, stripped)
    assert all(tok.normalize(line) == " ".join(line.split()) for line in lines)
    # without normalization the round trip is exact
    assert all(identity_tok.decode(identity_tok.encode(line)) == line for line in emma_lines)


# Any text without U+2581 ("▁"): sentencepiece writes spaces as that character, so a literal
# one in the input decodes as a space. Non-ASCII, control characters and whitespace runs included.
_TEXT = st.text(alphabet=st.characters(blacklist_characters="\u2581", blacklist_categories=("Cs",)),
                max_size=60)


@settings(max_examples=300, deadline=None)
@given(text=_TEXT)
def test_round_trip_on_any_text(tok, identity_tok, text):
    # byte fallback spells characters outside the vocabulary as UTF-8 bytes: nothing becomes <unk>
    assert tok.decode(tok.encode(text)) == tok.normalize(text)
    assert "<unk>" not in tok.encode(text)
    # normalization="identity", remove_extra_whitespaces=False: normalize is the identity
    assert identity_tok.normalize(text) == text
    assert identity_tok.decode(identity_tok.encode(text)) == text


def test_normalization_examples(tok):
    assert tok.normalize("  ﬁne\tday\u3000") == "fine day"  # NFKC ligature, tab and ideographic space
    assert tok.encode("\u2603") == ["▁", "<0xE2>", "<0x98>", "<0x83>"]  # a snowman, as its UTF-8 bytes
    assert tok.decode(["▁", "<0xE2>", "<0x98>", "<0x83>"]) == "\u2603"


def test_lowercase_folds_case():
    low = ek.train("bpe", str(EMMA), vocab_size=800, lowercase=True, workers=1, verbose=False)
    assert low.encode("EMMA Woodhouse") == low.encode("emma woodhouse") == ["▁emma", "▁woodhouse"]
    assert low.meta["normalization"] == "nmt_nfkc_cf"
    with pytest.raises(ek.InvalidParameterError, match="'lowercase' must be False with normalization='identity'"):
        ek.train("bpe", str(EMMA), lowercase=True, normalization="identity", verbose=False)


def test_user_defined_symbols_stay_whole():
    t = ek.train("bpe", str(EMMA), vocab_size=800, user_defined_symbols=["<sep>", "Mr."], workers=1, verbose=False)
    assert t.encode("Mr.Knightley<sep>Emma")[:2] == ["▁", "Mr."] and "<sep>" in t.encode("Mr.Knightley<sep>Emma")
    assert t.piece_type("<sep>") == "user_defined"
    same = ek.train("bpe", str(EMMA), vocab_size=800, user_defined_symbols="<sep>,Mr.", workers=1, verbose=False)
    assert same.vocab == t.vocab


# ---------------------------------------------------------------------------- merges
def test_the_merge_simulation_is_the_encoder(tok, emma_lines):
    """explain()/segment() replay sentencepiece's BPE encoder (highest-scoring adjacent merge first,
    leftmost on ties): same pieces as encode() for every word type and every line of Emma."""
    words = sorted(set(" ".join(emma_lines).split()))
    assert len(words) > 10_000
    words = words[::3]  # every third word type (the simulation is Python: about 0.3 ms a word)
    assert [w for w in words if tok.segment(w) != tok.encode(w)] == []
    lines = [line for line in emma_lines[:2000] if line.strip()]
    assert [line for line in lines if tok.segment(line) != tok.encode(line)] == []
    for word in ("Woodhouse", "handsome", "Knightley", "unpersuadable"):
        steps = tok.explain(word)
        assert steps and "".join(steps[-1].pieces) == SPACE + word
        assert steps[-1].pieces == tok.encode(word)
        ranks = [s.rank for s in steps]
        assert all(0 <= r < len(tok.merges()) for r in ranks)


@pytest.mark.parametrize("options", [{}, {"byte_fallback": False}, {"lowercase": True},
                                     {"user_defined_symbols": ["Mr.", "<sep>"]}])
def test_the_dropout_kernel_at_zero_is_the_encoder(options, emma_lines):
    """sample_ids (embedkit's numba BPE encoder, used for BPE-dropout) with dropout 0 gives
    sentencepiece's ids for every word type and 2000 lines of Emma, whatever the options."""
    t = ek.train("bpe", str(EMMA), vocab_size=1000, workers=1, verbose=False, **options)
    words = sorted(set(" ".join(emma_lines).split()))
    lines = [line for line in emma_lines[:2000] if line.strip()] + ["Mr.Knightley<sep>\u2603 x"]
    for texts in (words, lines):
        ptr, ids = t.sample_ids(texts, 0.0)
        assert [ids[ptr[i]:ptr[i + 1]].tolist() for i in range(len(texts))] == t.encode_ids(texts)


def test_bpe_dropout_is_repeatable_for_a_seed(tok):
    words = ["Woodhouse", "handsome", "Knightley", "comfortable"] * 50
    a = tok.encode(words, dropout=0.3, seed=1)
    assert a == tok.encode(words, dropout=0.3, seed=1) and a != tok.encode(words, dropout=0.3, seed=2)
    assert all("".join(p) == SPACE + w for p, w in zip(a, words))  # always a spelling of the word
    assert sum(p != tok.encode(w) for p, w in zip(a, words)) > 50  # often not the deterministic one
    ptr, ids = tok.sample_ids(words[:4], 0.3, seed=1, samples=3)
    assert ptr.shape == (13,) and ids.dtype.name == "int32"
    with pytest.raises(ek.InvalidParameterError, match="dropout"):
        tok.encode("x", dropout=1.0)


def test_merges_are_ordered_and_build_the_vocabulary(tok):
    merges = tok.merges()
    merged = [p for p in tok.vocab if tok.piece_type(p) == "normal" and len(p) > 1]
    assert len(merges) == len(merged) > 500
    seen = {p for p in tok.vocab if len(p) == 1}  # the characters
    for left, right in merges:  # every merge joins two pieces that exist before it
        assert left in seen and right in seen, (left, right)
        seen.add(left + right)
    assert [a + b for a, b in merges] == merged  # in id order: sentencepiece ranks merges by id
    assert merges[0] == ("▁", "t")  # the most frequent pair of Emma's letters


def test_merges_need_a_bpe_model(tmp_path):
    import io

    import sentencepiece as spm

    buf = io.BytesIO()
    spm.SentencePieceTrainer.train(sentence_iterator=iter(["la souris rit sous la pluie"] * 20), model_writer=buf,
                                   model_type="unigram", vocab_size=15, minloglevel=2)
    uni = Tokenizer(buf.getvalue())
    assert uni.model_type == "unigram" and uni.decode(uni.encode("la pluie")) == "la pluie"
    with pytest.raises(ek.InvalidParameterError, match="a BPE model"):
        uni.merges()


# ---------------------------------------------------------------------------- input forms, save/load
def test_gzip_and_plain_files_give_the_same_model(tmp_path, tok):
    plain = tmp_path / "emma.txt"
    with gzip.open(EMMA, "rb") as src, open(plain, "wb") as dst:
        shutil.copyfileobj(src, dst)
    from_plain = ek.train("bpe", str(plain), vocab_size=1000, workers=1, verbose=False)
    assert from_plain.vocab == tok.vocab  # sentencepiece's own reader vs embedkit's gzip stream


def test_a_corpus_trains_on_its_word_counts():
    corpus = ek.datasets.load_text("emma", min_count=1)
    t = ek.train("bpe", corpus, vocab_size=1000, workers=1, verbose=False)
    lines = [" ".join(seq) for seq in corpus]  # the same tokens, as text
    same = ek.train("bpe", [line.split() for line in lines], vocab_size=1000, workers=1, verbose=False)
    assert t.vocab == same.vocab
    assert t.encode("emma woodhouse") == ["▁emma", "▁woodhouse"]


def test_save_and_load(tok, tmp_path):
    path = tmp_path / "tok.model"
    tok.save(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tok.model"]  # atomic: no temporary left
    back = ek.load(path)
    assert isinstance(back, Tokenizer) and back.vocab == tok.vocab
    assert back.encode("Emma Woodhouse, handsome") == tok.encode("Emma Woodhouse, handsome")
    import sentencepiece as spm  # a plain sentencepiece file, readable by sentencepiece itself

    assert spm.SentencePieceProcessor(model_file=str(path)).encode("Emma", out_type=str) == tok.encode("Emma")


def test_a_sample_of_lines_is_drawn_with_the_seed():
    a = ek.train("bpe", str(EMMA), vocab_size=600, max_sentences=2000, seed=1, workers=1, verbose=False)
    b = ek.train("bpe", str(EMMA), vocab_size=600, max_sentences=2000, seed=1, workers=1, verbose=False)
    c = ek.train("bpe", str(EMMA), vocab_size=600, max_sentences=2000, seed=2, workers=1, verbose=False)
    assert a.vocab == b.vocab and a.vocab != c.vocab


# ---------------------------------------------------------------------------- errors
def test_vocab_size_too_high_names_the_maximum():
    with pytest.raises(ek.InvalidParameterError, match=r"'vocab_size' must be an integer <= 48 for this corpus; "
                                                        r"got 100\. .*lower vocab_size to 48"):
        ek.train("bpe", [["la", "souris", "rit", "sous", "la", "pluie"]] * 5, vocab_size=100, byte_fallback=False,
                 verbose=False)


def test_vocab_size_too_low_names_the_minimum():
    with pytest.raises(ek.InvalidParameterError, match=r"'vocab_size' must be an integer >= \d+ for this corpus "
                                                        r"\(256 of them are byte pieces"):
        ek.train("bpe", str(EMMA), vocab_size=50, verbose=False)


def test_empty_input(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n   \n\t\n")
    with pytest.raises(ek.EmptyInputError, match="empty.txt: no text"):
        ek.train("bpe", str(empty), verbose=False)
    gz = tmp_path / "empty.txt.gz"
    with gzip.open(gz, "wt") as f:
        f.write("\n\n")
    with pytest.raises(ek.EmptyInputError, match="empty.txt.gz: no text"):
        ek.train("bpe", str(gz), verbose=False)
    with pytest.raises(ek.EmptyInputError, match="no tokens"):
        ek.train("bpe", [[], []], verbose=False)
    with pytest.raises(ek.InputFormatError, match="no such file"):
        ek.train("bpe", str(tmp_path / "missing.txt"), verbose=False)
    with pytest.raises(ek.InputFormatError, match="look like sentences.*token lists"):
        ek.train("bpe", ["la souris rit", "sous la pluie"], verbose=False)


def test_unreadable_model_file(tmp_path):
    bad = tmp_path / "bad.model"
    bad.write_bytes(b"this is not a protobuf \xff\xfe")
    with pytest.raises(ek.InputFormatError, match="bad.model: not a sentencepiece model file"):
        ek.load(bad)
    with pytest.raises(ek.InputFormatError, match="missing.model: no such file"):
        Tokenizer.load(tmp_path / "missing.model")
    with pytest.raises(ek.InputFormatError, match="no such file"):
        ek.load(tmp_path / "missing.model")
    # other tools name vector files .model too: those still load as vectors
    import numpy as np

    vectors = ek.Embeddings(["a", "b"], np.eye(2, dtype=np.float32))
    vectors.export(tmp_path / "v.bin")
    (tmp_path / "w2v.model").write_bytes((tmp_path / "v.bin").read_bytes())
    assert ek.load(tmp_path / "w2v.model").keys == ["a", "b"]


def test_undecodable_gzip_line_is_named(tmp_path):
    gz = tmp_path / "latin1.txt.gz"
    with gzip.open(gz, "wb") as f:
        f.write("first line\ncaf\xe9 au lait\n".encode("latin-1"))
    with pytest.raises(ek.InputFormatError, match=r"latin1.txt.gz, line 2: bytes that are not UTF-8"):
        ek.train("bpe", str(gz), vocab_size=20, byte_fallback=False, verbose=False)


# ---------------------------------------------------------------------------- CLI
def test_cli_tokenize_train_encode_decode_explain(tmp_path):
    from click.testing import CliRunner

    from embedkit_cli.main import cli

    runner = CliRunner()
    model = tmp_path / "tok.model"
    res = runner.invoke(cli, ["tokenize", "train", str(EMMA), "--vocab-size", "800", "-o", str(model), "--workers",
                              "1", "--quiet"])
    assert res.exit_code == 0, res.output
    assert "800 pieces" in res.output and str(model) in res.output
    tok = ek.load(model)
    res = runner.invoke(cli, ["tokenize", "encode", str(model), "Emma Woodhouse, handsome"])
    assert res.exit_code == 0 and res.output.split() == tok.encode("Emma Woodhouse, handsome")
    res = runner.invoke(cli, ["tokenize", "encode", str(model), "--ids"], input="Emma\nclever and rich\n")
    assert [line.split() for line in res.output.splitlines()] == [[str(i) for i in tok.encode_ids(t)]
                                                                   for t in ("Emma", "clever and rich")]
    pieces = tok.encode("clever and rich")
    res = runner.invoke(cli, ["tokenize", "decode", str(model), *pieces])
    assert res.exit_code == 0 and res.output == "clever and rich\n"
    res = runner.invoke(cli, ["tokenize", "decode", str(model), *map(str, tok.encode_ids("clever and rich"))])
    assert res.output == "clever and rich\n"
    res = runner.invoke(cli, ["tokenize", "explain", str(model), "handsome"])
    assert res.exit_code == 0 and res.output.splitlines()[-1].split()[1:] == tok.encode("handsome")
    # train bpe is the same command
    res = runner.invoke(cli, ["train", "bpe", str(EMMA), "--vocab-size", "100000", "--quiet"])
    assert res.exit_code == 2 and "must be an integer <= " in res.output and "Traceback" not in res.output
    res = runner.invoke(cli, ["tokenize", "encode", str(tmp_path / "nope.model"), "x"])
    assert res.exit_code == 2 and "nope.model: no such file" in res.output
