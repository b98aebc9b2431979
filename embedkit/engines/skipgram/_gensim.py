"""The gensim backend: gensim's Word2Vec fed the engine's integer sequences (a reference to
compare with), one ``Word2Vec.train`` call per epoch of the shared loop, with gensim's own
learning-rate schedule (from ``alpha`` at the first epoch's start to ``min_alpha`` at the last
one's end). The history's ``loss`` is gensim's running training loss (``compute_loss=True``: the
negative-sampling loss summed over its pairs) divided by the epoch's trained words. See
:mod:`embedkit.engines.skipgram`."""
from __future__ import annotations

import numpy as np

from ._common import SGNSConfig, SGNSTraining, _init_vectors


class Training(SGNSTraining):
    def __init__(self, tokens, offsets, counts, cfg: SGNSConfig, unit: str = "words"):
        from gensim.models import Word2Vec

        self.cfg, self.unit = cfg, unit
        V = len(counts)
        names = [str(i) for i in range(V)]

        class _Sentences:
            def __iter__(self):
                for s in range(len(offsets) - 1):
                    yield [names[t] for t in tokens[offsets[s]:offsets[s + 1]].tolist()]

        self.sentences = _Sentences()
        self.model = Word2Vec(vector_size=cfg.dim, window=cfg.window, negative=cfg.negatives, sample=cfg.sample,
                              epochs=cfg.epochs, alpha=cfg.learning_rate, min_alpha=cfg.min_learning_rate,
                              ns_exponent=cfg.ns_exponent, sg=int(cfg.sg), hs=0, min_count=1, seed=cfg.seed,
                              workers=cfg.workers)
        self.model.build_vocab(self.sentences)
        self.per_epoch = int(offsets[-1])
        self.rows = np.array([int(k) for k in self.model.wv.index_to_key], dtype=np.int64)
        self.out = _init_vectors(V, cfg.dim, cfg.seed)

    def _alpha(self, done: int) -> float:
        cfg = self.cfg
        return max(cfg.min_learning_rate, cfg.learning_rate - (cfg.learning_rate - cfg.min_learning_rate) * done / cfg.epochs)

    def run_epoch(self, epoch) -> None:
        e = epoch.number - 1
        m = self.model
        trained, _ = m.train(self.sentences, total_examples=m.corpus_count, epochs=1, start_alpha=self._alpha(e),
                             end_alpha=self._alpha(e + 1), compute_loss=True)
        epoch.add(self.per_epoch, float(m.get_latest_training_loss()), int(trained))

    def state(self) -> dict:
        kind, keys, pos, has_gauss, cached = self.model.random.get_state()
        return {"syn0": self.model.wv.vectors, "syn1": self.model.syn1neg, "random_keys": keys,
                "random": [kind, int(pos), int(has_gauss), float(cached)]}

    def set_state(self, state: dict) -> None:
        self.model.wv.vectors[...] = state["syn0"]
        self.model.syn1neg[...] = state["syn1"]
        kind, pos, has_gauss, cached = state["random"]
        self.model.random.set_state((kind, np.asarray(state["random_keys"], dtype=np.uint32), pos, has_gauss, cached))

    def vectors(self) -> np.ndarray:
        self.out[self.rows] = self.model.wv.vectors
        return self.out

    def output_vectors(self) -> np.ndarray:
        out = np.zeros_like(self.out)
        out[self.rows] = self.model.syn1neg
        return out


def training(tokens, offsets, counts, cfg: SGNSConfig, *, device, sharded, units, unit, start=None):
    """The backend's entry in the engine's registry (``device``, ``sharded`` and ``units`` do not apply)."""
    if start is not None:
        from ...exceptions import InvalidParameterError

        raise InvalidParameterError("skip-gram engine", "backend", "'numba' or 'torch' to continue from init=",
                                    "gensim", hint="gensim's own vocabulary update is not wired to init=")
    return Training(tokens, offsets, counts, cfg, unit)
