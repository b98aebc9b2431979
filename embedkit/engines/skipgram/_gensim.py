"""The gensim backend: gensim's Word2Vec fed the engine's integer sequences (a reference to
compare with). See :mod:`embedkit.engines.skipgram`."""
from __future__ import annotations

from ._common import SGNSConfig, _init_vectors


def _train_gensim(tokens, offsets, counts, cfg: SGNSConfig, verbose):
    from gensim.models import Word2Vec

    V = len(counts)
    names = [str(i) for i in range(V)]

    class _Sentences:
        def __iter__(self):
            for s in range(len(offsets) - 1):
                yield [names[t] for t in tokens[offsets[s]:offsets[s + 1]].tolist()]

    model = Word2Vec(
        sentences=_Sentences(), vector_size=cfg.dim, window=cfg.window, negative=cfg.negatives,
        sample=cfg.sample, epochs=cfg.epochs, alpha=cfg.learning_rate, min_alpha=cfg.min_learning_rate,
        ns_exponent=cfg.ns_exponent, sg=int(cfg.sg), hs=0, min_count=1, seed=cfg.seed,
        workers=cfg.workers,
    )
    out = _init_vectors(V, cfg.dim, cfg.seed)
    for key, row in model.wv.key_to_index.items():
        out[int(key)] = model.wv.vectors[row]
    return out


def train(tokens, offsets, counts, cfg: SGNSConfig, *, device, verbose, sharded, units):
    """The backend's entry in the engine's registry (``device``, ``sharded`` and ``units`` do not apply)."""
    return _train_gensim(tokens, offsets, counts, cfg, verbose)
