"""word2vec: skip-gram and CBOW with negative sampling.

Mikolov, Chen, Corrado & Dean, "Efficient Estimation of Word Representations in
Vector Space" (ICLR workshop 2013) and Mikolov, Sutskever, Chen, Corrado & Dean,
"Distributed Representations of Words and Phrases and their Compositionality"
(NIPS 2013). Both methods are front ends of the shared engine
(:mod:`embedkit.engines.skipgram`); parameters are named as gensim names them.

Training runs on the shared loop (:mod:`embedkit.training`): ``result.history`` has one row per
epoch with ``loss`` -- word2vec's negative-sampling objective of a (context, center) pair,
``-log sigma(u . v_center) - sum_noise log sigma(-u . v_noise)``, averaged over a sample of the
epoch's pairs (numba: the pairs of every 64th center word; torch: every 4th minibatch; CBOW's
``u`` is the mean context vector and a pair is a center) -- and ``words_per_s``;
``callbacks=``, ``validation=`` (a similarity or analogy set, with ``patience=``: the best
epoch is kept) and ``checkpoint=`` (after every epoch and every ``checkpoint_every`` seconds
inside one; the same call again resumes, bit-identical with ``workers=1``).
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import replace

from .._device import resolve_device
from .._validation import VERBOSE, Param, device_param, seed_param, workers_param
from ..api import Method, register
from ..embeddings import Embeddings
from ..engines.skipgram import SGNSConfig, run_sgns, sgns_training
from ..engines.skipgram._continue import CONTINUE_PARAMS, check_init, continue_from, keep_output
from ._loop import LOOP_ROWS, corpus_digest, text_validation
from ._reading import READ_PARAMS, corpus_from

logger = logging.getLogger("embedkit")

WORD2VEC_PARAMS: tuple[Param, ...] = (
    Param("dim", int, 100, "vector size (gensim's vector_size)", low=1),
    Param("window", int, 5, "maximum distance between the center and a context word (dynamic window: "
          "each center draws its own span in 1..window)", low=1),
    Param("negatives", int, 5, "noise words (negative samples) per positive example", low=1),
    Param("sample", float, 1e-3, "subsampling threshold for frequent words (0 disables)", low=0.0),
    Param("min_count", int, None, "ignore words rarer than this (default: the corpus's own, 5 for a path)",
          low=1, nullable=True),
    Param("max_vocab", int, None, "keep at most this many most frequent words", low=1, nullable=True),
    Param("epochs", int, 5, "passes over the corpus", low=1),
    Param("learning_rate", float, 0.025, "initial learning rate (decays linearly to min_learning_rate; "
          "gensim's alpha)", low=0.0, low_open=True),
    Param("min_learning_rate", float, 0.0001, "final learning rate (gensim's min_alpha)", low=0.0),
    Param("ns_exponent", float, 0.75, "exponent of the unigram noise distribution", low=-1.0, high=1.0),
    # True by default: on the Gutenberg benchmark (23M words, 3 epochs) it is 3.1x gensim's words/s at
    # analogy 44.0% vs gensim's 43.1%; per-pair draws ran at 0.83x gensim (docs/benchmarks.md)
    Param("shared_negatives", bool, True, "numba skip-gram: draw the noise words once per context window "
          "(pWord2Vec, Ji et al. 2016) instead of once per pair as word2vec.c does; about 3.5x faster"),
    workers_param("CPU threads of the numba/gensim backends (0 = all cores; the torch backend "
                  "uses one CPU thread, measured faster)"),
    seed_param("random seed (repeatable on the CPU; numba/gensim need workers=1 for "
               "bit-identical vectors, torch is repeatable at any thread count)"),
    device_param(),
    Param("backend", str, "auto", "engine: auto (torch on a GPU, numba on the CPU), numba, torch, gensim",
          choices=("auto", "numba", "torch", "gensim")),
    *READ_PARAMS,
    VERBOSE,
    *LOOP_ROWS,
    *CONTINUE_PARAMS,
)

# CBOW starts at word2vec.c's CBOW rate, 0.05 (gensim uses 0.025 for both): the gradient of the
# mean context vector is spread over its words. Chosen on validation sets outside the benchmark's
# (MEN, MTurk-771; Gutenberg, 3 epochs): 20 MB slice, MEN 0.42 / MTurk 0.32 at 0.05 against
# 0.31 / 0.21 at 0.025; whole corpus in docs/benchmarks.md
CBOW_PARAMS: tuple[Param, ...] = tuple(
    replace(p, default=0.05, help=p.help + "; 0.05 for cbow, as word2vec.c") if p.name == "learning_rate" else p
    for p in WORD2VEC_PARAMS)


class _Word2Vec(Method):
    family = "text"
    input_kind = "text"
    params = WORD2VEC_PARAMS
    quick_params = {"dim": 8, "epochs": 2, "min_count": 1, "workers": 1, "verbose": False}
    sg: bool = True

    def _fit(self, data, **params):
        corpus = corpus_from(data, params)
        dev = resolve_device(params["device"], method=self.name)
        workers = params["workers"] or os.cpu_count() or 1
        t0 = time.perf_counter()
        init = check_init(self.name, params["init"])
        enc = corpus.encode(params["min_count"], params["max_vocab"])
        validate = text_validation(self.name, params["validation"])
        t1 = time.perf_counter()
        cfg = SGNSConfig.from_params(params, sg=self.sg, workers=workers)
        keys, counts, start, cont = list(enc.words), enc.counts, None, None
        if init is not None:  # a vocabulary update: merged counts, previous rows (docs/updating-embeddings.md)
            cont = continue_from(self.name, init, keys, counts, params["dim"], params["seed"],
                                 freeze=params["freeze_existing"])
            keys, counts, start = cont.keys, cont.counts, cont.start
        training = sgns_training(enc.tokens, enc.offsets, counts, cfg, backend=params["backend"], device=dev,
                                 start=start)
        run = run_sgns(training, self.name, params,
                       data_digest=lambda: corpus_digest(enc, () if cont is None else ([str(k) for k in keys],)),
                       validate=None if validate is None else (lambda v: validate(Embeddings(keys, v))))
        vectors = training.vectors().copy()
        t2 = time.perf_counter()
        epochs_run = len(run.history) or params["epochs"]
        words_per_s = enc.num_tokens * epochs_run / max(t2 - t1, 1e-9)
        logger.info("%s: %d words x %d epochs in %.2fs (%.0f words/s)", self.name, enc.num_tokens,
                    epochs_run, t2 - t1, words_per_s)
        meta = {"vocab_size": len(enc.words), "num_tokens": enc.num_tokens, "corpus": repr(corpus),
                "read_time_s": round(t1 - t0, 4), "train_time_s": round(t2 - t1, 4),
                "words_per_s": round(words_per_s), "device": dev, "backend": training.backend,
                "history": run.history, "training": run.summary(),
                "counts": [int(c) for c in counts], **({} if cont is None else cont.meta())}
        emb = Embeddings(keys, vectors, meta)
        keep_output(emb, training.output_vectors())
        return emb


@register
class SkipGram(_Word2Vec):
    """Skip-gram with negative sampling (Mikolov et al. 2013): every context word
    predicts the center word. Slower than CBOW, better on rare words."""

    name = "skipgram"
    summary = "word2vec skip-gram with negative sampling (Mikolov et al. 2013)"
    sg = True


@register
class CBOW(_Word2Vec):
    """Continuous bag of words with negative sampling (Mikolov et al. 2013): the
    mean of the context vectors predicts the center word. Several times faster
    than skip-gram."""

    name = "cbow"
    summary = "word2vec CBOW with negative sampling (Mikolov et al. 2013)"
    sg = False
    params = CBOW_PARAMS
