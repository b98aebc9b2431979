"""PPMI + truncated SVD: count-based word (or node) vectors.

Levy, Goldberg & Dagan, "Improving Distributional Similarity with Lessons
Learned from Word Embeddings", TACL 2015, with their hyperwords defaults where
they help: dynamic context window, context distribution smoothing ``cds=0.75``,
shifted PPMI (``pmi_shift``, their ``neg``), eigenvalue weighting ``eig=0.5`` and optional ``w+c``.

Pipeline: sequences (a text corpus encoded over its vocabulary, or uniform
random walks on a graph) -> symmetric co-occurrence counts within ``window``
(:func:`embedkit.engines.cooccurrence.cooccurrence`) -> shifted PPMI
(:func:`embedkit.engines.ppmi.ppmi`) -> ``PPMI ~ U S V^T`` by randomized SVD
(:func:`embedkit.engines.lowrank.truncated_svd`) -> word vectors ``W = U S^eig``
(plus context vectors ``C = V S^eig`` with ``add_context``), rows unit length
with ``normalize``.
"""
from __future__ import annotations

import logging
import time

import numpy as np

from .._device import resolve_device
from .._lazy import lazy_module
from .._validation import VERBOSE, Param, device_param, seed_param
from ..api import Method, register
from ..embeddings import Embeddings
from ..engines.cooccurrence import cooccurrence
from ..engines.lowrank import BACKENDS, truncated_svd
from ..engines.ppmi import ppmi
from ..exceptions import InvalidParameterError
from ._reading import READ_PARAMS, corpus_from

sp = lazy_module("scipy.sparse")  # imported on first use: import embedkit stays fast

logger = logging.getLogger("embedkit")


def _is_graph(data) -> bool:
    """A Graph, a networkx graph or a scipy sparse adjacency matrix (a str path is text)."""
    from ..data.graph import Graph

    return (isinstance(data, Graph) or sp.issparse(data)
            or type(data).__module__.split(".")[0] == "networkx")


@register
class SVD(Method):
    """Word or node vectors from the truncated SVD of a shifted PPMI matrix.

    ``fit(data) -> Embeddings``. ``data`` is text (a path, paths, a glob, token
    lists or an :class:`~embedkit.data.corpus.Corpus`): keys are the vocabulary
    words, most frequent first, shape ``(V, dim)``. Or a graph (an
    :class:`~embedkit.Graph`, a networkx graph or a scipy sparse adjacency
    matrix): ``walks_per_node`` uniform random walks of ``walk_length`` nodes
    from every node (DeepWalk's) are counted as sentences; keys are every node,
    in graph order, shape ``(num_nodes, dim)``.

    Defaults: dim=100, window=5 (dynamic), pmi_shift=1, cds=0.75, eig=0.5,
    normalize=True, add_context=False.

    >>> import embedkit as ek
    >>> from embedkit.text.svd import SVD
    >>> sentences = [["the", "cat", "sat"], ["the", "dog", "sat"], ["a", "cat", "ran"]] * 5
    >>> emb = SVD(dim=2, min_count=1, verbose=False).fit(sentences)
    >>> emb.vectors.shape, emb.keys[:2]
    ((6, 2), ['the', 'cat'])
    """

    name = "svd"
    family = "text"
    summary = ("PPMI + truncated SVD of window co-occurrence counts, of text or of graph random walks "
               "(Levy, Goldberg & Dagan 2015)")
    input_kind = "text"
    also_accepts = ("graph",)
    quick_params = {"dim": 8, "walk_length": 10, "walks_per_node": 2, "window": 3, "min_count": 1,
                    "verbose": False}
    params = (
        Param("dim", int, 100, "embedding dimension (number of singular vectors)", low=1),
        Param("window", int, 5, "maximum distance of a counted word (or node) pair", low=1),
        Param("dynamic_window", bool, True, "weight a pair at distance d by (window - d + 1) / window, "
              "word2vec's dynamic window in expectation; false counts every pair 1"),
        Param("min_count", int, None, "drop words rarer than this (None: the corpus's own, 5 for a path); "
              "text only", low=1, nullable=True),
        Param("max_vocab", int, None, "keep at most this many most frequent words (None: no cap); text only",
              low=1, nullable=True),
        Param("pmi_shift", float, 1.0, "shifted PPMI: PMI - log(pmi_shift), as SGNS with pmi_shift negative samples "
              "(1: plain PPMI; hyperwords' neg)",
              low=1.0),
        Param("cds", float, 0.75, "context distribution smoothing: context counts raised to this power",
              low=0.0, low_open=True, high=1.0),
        Param("eig", float, 0.5, "weight of the singular values: vectors U * S**eig (0, 0.5 or 1 are usual)",
              low=0.0, high=1.0),
        Param("add_context", bool, False, "w+c: add the context vectors V * S**eig to the word vectors"),
        Param("normalize", bool, True, "scale every vector to unit length (after the w+c sum, as hyperwords "
              "does)"),
        *READ_PARAMS,
        Param("n_iter", int, 5, "power iterations of the randomized SVD", low=0),
        Param("oversample", int, 10, "extra random directions of the randomized SVD", low=0),
        Param("walk_length", int, 40, "graphs: nodes per random walk", low=2),
        Param("walks_per_node", int, 10, "graphs: walks started from every node", low=1),
        seed_param("random seed (walks and the SVD's random start; repeatable on the CPU)"),
        device_param("the SVD runs there"),
        Param("backend", str, "auto", "SVD engine: auto (torch on a GPU, sklearn on the CPU), sklearn, torch",
              choices=BACKENDS),
        VERBOSE,
    )

    def _fit(self, data, **params):
        dev = resolve_device(params["device"], method=self.name)
        t0 = time.perf_counter()
        keys, tokens, offsets, vocab_size, source = self._sequences(data, params)
        t1 = time.perf_counter()
        if params["dim"] > vocab_size:
            what = "nodes in the graph" if source == "graph" else "words in the vocabulary"
            raise InvalidParameterError(
                self.name, "dim", f"an integer <= {vocab_size} (the number of {what})", params["dim"],
                hint="lower dim" + (", or lower min_count / raise max_vocab" if source == "text" else ""))
        counts = cooccurrence(tokens, offsets, vocab_size, params["window"], dynamic=params["dynamic_window"],
                              verbose=params["verbose"])
        t2 = time.perf_counter()
        matrix = ppmi(counts, pmi_shift=params["pmi_shift"], cds=params["cds"])
        cooc_nnz = counts.nnz
        del counts
        t3 = time.perf_counter()
        if matrix.nnz == 0:
            logger.warning("%s: the PPMI matrix is all zeros (every PMI <= log(pmi_shift)); the vectors are zero",
                           self.name)
        u, s, vt = truncated_svd(matrix, params["dim"], n_iter=params["n_iter"],
                                 oversample=params["oversample"], seed=params["seed"], backend=params["backend"],
                                 device=dev)
        t4 = time.perf_counter()
        vectors = _combine(u, s, vt, params["eig"], params["add_context"], params["normalize"])
        logger.info("%s: %s %.2fs, co-occurrences %.2fs, PPMI %.2fs, SVD %.2fs", self.name,
                    "walks" if source == "graph" else "corpus", t1 - t0, t2 - t1, t3 - t2, t4 - t3)
        meta = {"source": source, "vocab_size": int(vocab_size), "num_tokens": int(offsets[-1]),
                "cooccurrence_nnz": int(cooc_nnz), "ppmi_nnz": int(matrix.nnz),
                "singular_values": [float(x) for x in s[:10]],
                "input_time_s": round(t1 - t0, 4), "cooccurrence_time_s": round(t2 - t1, 4),
                "ppmi_time_s": round(t3 - t2, 4), "svd_time_s": round(t4 - t3, 4), "device": dev}
        return Embeddings(keys, vectors, meta)

    def _sequences(self, data, params):
        """(keys, tokens, offsets, vocab_size, source) from text or from walks on a graph."""
        if _is_graph(data):
            from ..data.graph import read_graph
            from ..engines.walks import random_walks, walks_to_sequences

            g = read_graph(data)
            walks = random_walks(g, walk_length=params["walk_length"], walks_per_node=params["walks_per_node"],
                                 seed=params["seed"], verbose=params["verbose"])
            tokens, offsets = walks_to_sequences(walks)
            return list(g.nodes), tokens, offsets, g.num_nodes, "graph"
        corpus = corpus_from(data, params)
        enc = corpus.encode(params["min_count"], params["max_vocab"])
        return list(enc.words), enc.tokens, enc.offsets, len(enc.words), "text"


def _combine(u, s, vt, eig: float, add_context: bool, normalize: bool) -> np.ndarray:
    """``U S^eig`` (+ ``V S^eig``), rows scaled to unit length if ``normalize``; float32 C-order.

    As hyperwords' ``SVDEmbedding``/``EnsembleEmbedding``: with ``add_context``
    the raw word and context vectors are summed, then normalized.
    """
    weight = s.astype(np.float64) ** eig if eig else np.ones_like(s, dtype=np.float64)
    vectors = u.astype(np.float64) * weight
    if add_context:
        vectors += vt.T.astype(np.float64) * weight
    if normalize:
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors /= np.where(norms > 0, norms, 1.0)
    return np.ascontiguousarray(vectors, dtype=np.float32)
