"""The skip-gram engine's parts that every backend shares: the settings (:class:`SGNSConfig`),
the noise distribution (word2vec's unigram^0.75 table and Walker's alias table), frequent-word
subsampling and the initial vectors."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...training import Trainable


@dataclass
class SGNSConfig:
    """Hyper-parameters of the engine; names follow gensim's."""

    dim: int = 128
    window: int = 5
    negatives: int = 5
    sample: float = 1e-3
    epochs: int = 1
    learning_rate: float = 0.025
    min_learning_rate: float = 0.0001
    ns_exponent: float = 0.75
    sg: bool = True
    seed: int = 0
    workers: int = 2
    batch_size: int = 8192
    centers_per_noise_draw: int = 8
    dup_cap: int = 32
    #: numba skip-gram: draw the noise words once per center window instead of once per pair
    shared_negatives: bool = True
    #: with shared_negatives: apply the output rows' updates once at the end of the window
    #: (pWord2Vec) rather than pair by pair (word2vec.c). Deferred is better on text (Gutenberg
    #: 20 MB: analogy 0.144-0.148 against 0.131-0.134, WS353 0.36 against 0.33); pair by pair on
    #: walks (Facebook link prediction: dot-product AUC 0.960 against 0.946), so walk methods
    #: turn it off. docs/benchmarks.md
    defer_output: bool = True
    #: read the corpus as this many contiguous regions advancing side by side (word2vec.c's and
    #: fastText's threads each stream their share of the file), so that every part of an ordered
    #: corpus meets the whole range of learning rates; 1: file order (:mod:`._regions`)
    regions: int = 1
    #: torch backend under torchrun: minibatches between two exchanges of the processes' changed
    #: rows, and how they combine: "sum" (lock-free Hogwild across processes; text: analogy
    #: accuracy 0.052 in 2 processes vs 0.050 in one, 1 epoch on 3.6M Gutenberg tokens) or "mean"
    #: (walks: on small graphs every node is in every minibatch and summed updates diverged,
    #: karate faction accuracy 0.71 vs 0.95; text with the mean: 0.025)
    sync_every: int = 16
    sync_reduce: str = "sum"

    @classmethod
    def from_params(cls, params: dict, *, sg: bool = True, workers: int) -> "SGNSConfig":
        """The settings from a method's validated parameters (the same names; ``ns_exponent``
        defaults to 0.75)."""
        return cls(dim=params["dim"], window=params["window"], negatives=params["negatives"],
                   sample=params["sample"], epochs=params["epochs"], learning_rate=params["learning_rate"],
                   min_learning_rate=params["min_learning_rate"], ns_exponent=params.get("ns_exponent", 0.75), sg=sg,
                   seed=params["seed"], workers=workers, shared_negatives=params["shared_negatives"],
                   regions=params.get("regions", 1))


def noise_table(counts: np.ndarray, exponent: float, size: int | None = None) -> np.ndarray:
    """Unigram^exponent noise table (as in word2vec.c): int32 of ``size`` entries."""
    probs = np.asarray(counts, dtype=np.float64) ** exponent
    probs /= probs.sum()
    if size is None:
        size = int(min(max(100 * len(counts), 1_000_000), 20_000_000))
    cum = np.cumsum(probs)
    table = np.searchsorted(cum, (np.arange(size) + 0.5) / size, side="right")
    return np.minimum(table, len(counts) - 1).astype(np.int32)


def alias_table(counts: np.ndarray, exponent: float) -> tuple[np.ndarray, np.ndarray]:
    """Walker's alias table of the unigram^exponent noise distribution (Vose's construction):
    ``(prob float32 (V,), alias int32 (V,))``; a draw takes a uniform index ``i`` and keeps it
    with probability ``prob[i]``, else takes ``alias[i]``. Exact, and 8 bytes a word: it stays in
    cache where word2vec's table (``noise_table``, up to 20M entries) does not."""
    p = np.asarray(counts, dtype=np.float64) ** exponent
    V = len(p)
    p = p * (V / p.sum())
    prob = np.ones(V, dtype=np.float64)
    alias = np.arange(V, dtype=np.int64)
    small = [i for i in range(V) if p[i] < 1.0]
    large = [i for i in range(V) if p[i] >= 1.0]
    while small and large:
        s_, l_ = small.pop(), large.pop()
        prob[s_] = p[s_]
        alias[s_] = l_
        p[l_] -= 1.0 - p[s_]
        (small if p[l_] < 1.0 else large).append(l_)
    return prob.astype(np.float32), alias.astype(np.int32)


def keep_probabilities(counts: np.ndarray, sample: float) -> np.ndarray:
    """Probability of keeping each token under frequent-word subsampling (gensim's formula)."""
    counts = np.asarray(counts, dtype=np.float64)
    if sample <= 0:
        return np.ones(len(counts), dtype=np.float32)
    threshold = sample * counts.sum()
    with np.errstate(divide="ignore", invalid="ignore"):
        keep = (np.sqrt(counts / threshold) + 1.0) * threshold / counts
    keep[counts == 0] = 1.0
    return np.minimum(keep, 1.0).astype(np.float32)


def _init_vectors(num_tokens: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return ((rng.random((num_tokens, dim), dtype=np.float32) * 2.0 - 1.0) / dim).astype(np.float32)



@dataclass
class SGNSStart:
    """Where a continued training starts (``init=``): ``syn0`` float32 ``(rows, dim)`` the input
    vectors; ``syn1`` float32 ``(V, dim)`` the output vectors (None: zeros, as a fresh start);
    ``frozen0`` bool ``(rows,)`` / ``frozen1`` bool ``(V,)``: rows that training reads but never
    writes (None: none), so they stay bit for bit as given."""

    syn0: np.ndarray
    syn1: np.ndarray | None = None
    frozen0: np.ndarray | None = None
    frozen1: np.ndarray | None = None


class SGNSTraining(Trainable):
    """A backend's training state on the shared loop (:mod:`embedkit.training`): ``run_epoch``
    trains one pass over the sequences, reporting the tokens done and the sampled
    negative-sampling loss; ``state``/``set_state`` hold what a checkpoint needs;
    :meth:`vectors` gives the input vectors as they are now."""

    unit = "words"

    def vectors(self) -> np.ndarray:  # pragma: no cover - abstract
        """The input vectors now, float32 ``(rows, dim)`` (a view: copy to keep)."""
        raise NotImplementedError

    def output_vectors(self) -> np.ndarray:  # pragma: no cover - abstract
        """The output vectors now, float32 ``(V, dim)`` (a view or a copy)."""
        raise NotImplementedError
