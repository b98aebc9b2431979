"""GCN/GAT ``init=``: fine-tune a previous result's encoder on a grown graph.

The previous result (what ``ek.train`` returned: a :class:`~embedkit.gnn.result.GNNEmbeddings`
holding its torch module as ``model``) gives the starting weights; Adam starts afresh. The grown
graph must be embedded the same way: the same layer type and sizes, the same kind of input
features (with the same columns), the same mode and, when supervised, the same classes in the
same order. A model without features (a learned table of node vectors as input) is matched by
node key: the grown graph's nodes that ``init`` had start from their old table rows, new nodes
from fresh ones (then only fine-tuning, not ``embed``, can place new nodes). A result loaded
from its ``.ekv`` (``ek.load``) holds the encoder too and starts the same run bit for bit; a
file saved before embedkit kept GNN encoders holds vectors only, so it is refused, saying how
to get one that works. The result's keys:
the grown graph's nodes, then the previous result's nodes the graph no longer has (their old
rows). ``freeze_existing=True`` copies every old node's row from the
previous result bit for bit; new nodes get the fine-tuned encoder's rows, i.e. they are placed
in the old space by an encoder fine-tuned to agree with it.
"""
from __future__ import annotations

import numpy as np

from .._keys import rows_of
from ..exceptions import InvalidParameterError
from ..training import digest

#: the help texts the shared parameter names carry (docs/parameters.md: one meaning per name)
INIT_MEANING = ("a previous result to continue from: keys in both start from their old rows, new keys get new "
                "rows, old keys absent from the new data keep their vectors")
FREEZE_MEANING = "keep every old row bit for bit (indexes built on them stay valid)"


def check_init(method: str, init, *, mode: str, feat_kind: str, classes) -> None:
    """Refuse an ``init`` this run cannot start from, saying what is missing or what differs."""
    from .result import GNNEmbeddings

    if not isinstance(init, GNNEmbeddings):
        if isinstance(init, (str, bytes)) or hasattr(init, "__fspath__"):
            raise InvalidParameterError(method, "init", "a GCN/GAT result holding its trained encoder's weights",
                                        "a file path", hint="load it first: init=ek.load(path)")
        meta = getattr(init, "meta", None) or {}
        if meta.get("method") in ("gcn", "gat") or {"mode", "features"} <= set(meta):
            raise InvalidParameterError(method, "init", "a GCN/GAT result holding its trained encoder's weights",
                                        f"a {meta.get('method', 'GNN')} result whose file holds no encoder weights "
                                        "(saved before embedkit kept GNN encoders: the vectors only)",
                                        hint="retrain it with this version of embedkit and save it again; the "
                                             ".ekv then keeps the encoder and init= (or --init FILE) takes it")
        raise InvalidParameterError(method, "init", "a GCN/GAT result holding its trained encoder's weights "
                                    "(what ek.train returned, or its .ekv loaded with ek.load)", type(init).__name__,
                                    hint="plain Embeddings hold vectors only, not an encoder")
    if init.model is None:
        raise InvalidParameterError(method, "init", "a result holding its trained encoder (model)",
                                    "a result without one (its file holds no encoder weights)",
                                    hint="retrain it with this version of embedkit and save it again; the .ekv "
                                         "then keeps the encoder")
    if init.meta.get("features") != feat_kind:
        raise InvalidParameterError(method, "input_features", f"{init.meta.get('features')!r} (as the init result)",
                                    feat_kind)
    if init.meta.get("mode") != mode:
        raise InvalidParameterError(method, "mode", f"{init.meta.get('mode')!r} (as the init result)", mode)
    old_classes = getattr(init, "classes", None)
    if mode == "supervised" and list(old_classes) != list(classes):
        raise InvalidParameterError(method, "init", f"a result trained on the same classes in the same order "
                                    f"({list(classes)})", f"classes {list(old_classes)}")


def load_init(method: str, net, init, keys: list) -> None:
    """Copy ``init``'s encoder weights into ``net`` (a fresh encoder of this run's sizes); a
    missing, extra or differently shaped tensor is refused, naming both shapes. A learned input
    table (no features) is matched by node key: ``keys`` (this graph's nodes) that ``init`` has
    start from their old rows, the others keep ``net``'s fresh rows."""
    import torch

    old = dict(init.model.state_dict())
    new = net.state_dict()
    if "table" in old and "table" in new:  # learned input vectors: by node key, new nodes keep their fresh rows
        old["table"] = _table_by_key(old["table"], init.keys[:old["table"].shape[0]], new["table"], keys)
    if set(old) != set(new):
        raise InvalidParameterError(method, "init", f"an encoder with this run's layers ({len(new)} tensors: "
                                    f"{', '.join(sorted(new))})", f"one with {', '.join(sorted(old))}",
                                    hint="layers and the layer type (gcn or gat) must be the same as the init's")
    for k, v in new.items():
        if tuple(old[k].shape) != tuple(v.shape):
            raise InvalidParameterError(method, "init", f"layer sizes equal to this run's: {k} of shape "
                                        f"{tuple(v.shape)}", f"{k} of shape {tuple(old[k].shape)}",
                                        hint="give the same layers, hidden, dim (or classes), heads and input "
                                             "features as the init result's training")
    with torch.no_grad():
        net.load_state_dict({k: old[k].detach().clone() for k in new})


def _table_by_key(old, old_keys: list, fresh, keys: list):
    """This graph's table rows: ``old``'s row for the keys ``init`` had, ``fresh``'s for the others
    (the column count must match; it is checked with the other shapes)."""
    if old.shape[1] != fresh.shape[1]:
        return old
    index = {k: i for i, k in enumerate(old_keys)}
    at = rows_of(index, keys)
    import torch

    out = fresh.detach().clone()
    hit = np.flatnonzero(at >= 0)
    out[torch.from_numpy(hit)] = old[torch.from_numpy(at[hit])]
    return out


def init_digest(init) -> str:
    """What identifies the init (its weights and keys) in a checkpoint's fingerprint."""
    sd = init.model.state_dict()
    return digest(*[sd[k].detach().cpu().numpy() for k in sorted(sd)], [str(k) for k in init.keys])


def carry_over(keys: list, vectors: np.ndarray, init, freeze: bool) -> tuple[list, np.ndarray, np.ndarray, dict]:
    """``(keys, vectors, absent, info)``: the grown graph's rows (old nodes' rows copied from
    ``init`` when ``freeze``) followed by ``init``'s nodes the graph lacks (``absent``: their
    rows in ``init``), and counts for the metadata."""
    at = rows_of(init.key_to_index, keys)
    old = at >= 0
    vectors = np.array(vectors, dtype=np.float32)
    if freeze:
        vectors[old] = init.vectors[at[old]]
    present = np.zeros(len(init), dtype=bool)
    present[at[old]] = True
    absent = np.flatnonzero(~present)
    keys = list(keys) + [init.keys[i] for i in absent]
    vectors = np.concatenate([vectors, init.vectors[absent]]) if absent.size else vectors
    info = {"source": init.meta.get("source", repr(init)), "kept_keys": int(old.sum()),
            "new_keys": int((~old).sum()), "absent_keys_kept": int(absent.size), "freeze_existing": bool(freeze)}
    return keys, vectors, absent, info
