"""``embedkit tokenize``: train a BPE tokenizer, encode, decode and explain with it.

``tokenize train`` is ``train bpe`` (its options come from the ``bpe`` parameter
table); registered from main.py.
"""
from __future__ import annotations

import sys

import click

import embedkit as ek


@click.group("tokenize")
def tokenize() -> None:
    """BPE subword tokenization (sentencepiece): train, encode, decode, explain."""


def _load(model: str):
    tok = ek.load(model, format="sentencepiece")
    return tok


def _texts(text: tuple[str, ...]) -> list[str]:
    """The TEXT arguments joined, or one text per line of stdin when none is given."""
    if text:
        return [" ".join(text)]
    return [line.rstrip("\n") for line in sys.stdin]


@tokenize.command("encode")
@click.argument("model", type=click.Path())
@click.argument("text", nargs=-1)
@click.option("--ids", is_flag=True, help="print ids instead of pieces")
@click.option("--dropout", type=float, default=0.0, show_default=True,
              help="BPE-dropout: skip each merge with this probability (a sampled segmentation)")
@click.option("--seed", type=int, default=None, help="seed of the --dropout draw [default: a fresh one]")
def encode(model, text, ids, dropout, seed):
    """Split TEXT (or each line of stdin) into pieces, printed space-separated."""
    tok = _load(model)
    for i, line in enumerate(_texts(text)):
        s = None if seed is None else seed + i
        out = tok.encode_ids(line, dropout=dropout, seed=s) if ids else tok.encode(line, dropout=dropout, seed=s)
        click.echo(" ".join(str(x) for x in out))


@tokenize.command("decode")
@click.argument("model", type=click.Path())
@click.argument("pieces", nargs=-1)
def decode(model, pieces):
    """Join PIECES (or ids; or each line of stdin, space-separated) back into text."""
    tok = _load(model)
    lines = [list(pieces)] if pieces else [line.split() for line in sys.stdin]
    for items in lines:
        if items and all(x.isdigit() for x in items):
            bad = [x for x in items if int(x) >= tok.vocab_size]
            if bad:
                raise click.BadParameter(f"id {bad[0]} is not below the vocabulary size {tok.vocab_size}",
                                         param_hint="PIECES")
            click.echo(tok.decode([int(x) for x in items]))
        else:
            click.echo(tok.decode(items))


@tokenize.command("explain")
@click.argument("model", type=click.Path())
@click.argument("word")
def explain(model, word):
    """The merges that turn WORD's characters into its pieces, in the order they apply."""
    tok = _load(model)
    steps = tok.explain(word)
    symbols, _ = tok._symbols(tok.processor.normalize(word))
    click.echo(f"{'characters':<22} {' '.join(symbols)}")
    for step in steps:
        pair = f"{step.left} + {step.right}"
        click.echo(f"{pair:<22} {' '.join(step.pieces)}   (merge #{step.rank + 1})")
    click.echo(f"{'pieces':<22} {' '.join(tok.encode(word))}")
