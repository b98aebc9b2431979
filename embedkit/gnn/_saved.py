"""A GCN/GAT result's trained encoder inside its ``.ekv``, so that a loaded result embeds a
grown graph (``embed``) and starts a fine-tuning run (``init=``) as the object ``ek.train``
returned does.

The ``.ekv`` is the embeddings' zip (:mod:`embedkit.io.native`: ``vectors.npy``,
``keys.json``, ``meta.json``) plus stored ``.npy`` members, never pickles:

- ``gnn/encoder/<name>.npy``: each tensor of the encoder's ``state_dict`` (float32; e.g.
  ``convs.0.lin.weight`` ``(hidden, F)``, ``convs.0.bias``, GAT's ``att_src``/``att_dst``,
  ``table`` ``(V_train, hidden)`` for a model whose input was a learned table of node vectors);
- a node classifier's ``gnn/scores.npy`` ``(V, C)`` float32, ``gnn/labels.npy`` (``(V,)``
  int32, -1 unlabelled; ``(V, C)`` bool when multi-label) and ``gnn/mask_<split>.npy`` bool
  ``(V,)`` for the train/val/test masks it had.

``meta.json``'s ``"gnn_encoder"`` entry says how to rebuild the module: ``config`` (the
arguments of :func:`~embedkit.gnn._model.build_encoder`: layer type, input width or None for
a learned table, its rows, hidden and output widths, layers, dropout and the layer type's
options such as GAT's heads), the activation, which output the vectors are, each tensor's
shape and, for a classifier, its classes. How the input features were made (``features``,
``normalize_features``, ``num_input_features``, ``degree_log_max``, ``graph_digest``) is
in the result's metadata, saved with it.

Loading builds the module on torch's ``meta`` device (nothing allocated, no random draw), checks
every member against it (names, shapes, float dtype, finite values; the zip limits of
:mod:`embedkit.io._limits`) and assigns the arrays. A problem is an
:class:`~embedkit.exceptions.InputFormatError` naming the file and the member.
"""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..embeddings import Embeddings
from ..exceptions import EmbedkitError, InputFormatError
from ..io._limits import LimitedZip, check_array_kind, member_errors, read_npy, read_npy_header

logger = logging.getLogger("embedkit")

#: the meta.json entry of a saved GNN encoder
ENTRY = "gnn_encoder"
#: the version of that entry and its members this embedkit writes and reads
VERSION = 1
ENCODER_DIR = "gnn/encoder/"
CLASSIFIER_DIR = "gnn/"
#: the most layers a saved encoder may declare (each needs members anyway; this bounds the rebuild)
MAX_LAYERS = 1024
_INT_FIELDS = ("num_nodes", "hidden", "out_dim", "layers")


def _plain(value):
    """A JSON value for a class name (numpy scalars as Python ones)."""
    return value.item() if isinstance(value, np.generic) else value


def encoder_members(result) -> tuple[dict, dict]:
    """``({"gnn_encoder": entry}, {member name without .npy: array})`` of a result holding its encoder."""
    from .result import NodeClassifier

    net = result.model
    sd = net.state_dict()
    arrays = {ENCODER_DIR + k: v.detach().cpu().numpy() for k, v in sd.items()}
    entry = {"version": VERSION, "config": dict(net.config), "activation": type(net.act).__name__,
             "output": result._output, "tensors": {k: list(v.shape) for k, v in sd.items()}}
    if isinstance(result, NodeClassifier):
        masks = {k: np.asarray(m, dtype=bool) for k, m in result._masks.items() if m is not None}
        entry["classifier"] = {"classes": [_plain(c) for c in result.classes], "multi_label": bool(result.multi_label),
                               "masks": sorted(masks)}
        arrays[CLASSIFIER_DIR + "scores"] = result.scores
        arrays[CLASSIFIER_DIR + "labels"] = result._labels if result.multi_label else result._labels.astype(np.int32)
        arrays.update({f"{CLASSIFIER_DIR}mask_{k}": m for k, m in masks.items()})
    return {ENTRY: entry}, arrays


class _Members:
    """The ``.npy`` members of an .ekv zip or of its unpacked folder, read with the limits of
    :mod:`embedkit.io._limits`."""

    def __init__(self, path: Path):
        self.path = path
        self.zip = None if path.is_dir() else LimitedZip(path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.zip is not None:
            self.zip.__exit__(*exc)

    def names(self, prefix: str) -> list[str]:
        """The arrays under ``prefix`` (member names without the prefix and ``.npy``)."""
        if self.zip is not None:
            found = self.zip.names()
        else:
            with member_errors(self.path):
                found = [p.relative_to(self.path).as_posix() for p in (self.path / prefix).rglob("*.npy")] \
                    if (self.path / prefix).is_dir() else []
        return sorted(n[len(prefix):-4] for n in found if n.startswith(prefix) and n.endswith(".npy")
                      and "/" not in n[len(prefix):])

    def header(self, member: str):
        """``(shape, dtype)`` of ``member``."""
        if self.zip is not None:
            shape, _, dtype, _ = self.zip.npy_header(member)
            return shape, dtype
        file = self.path / member
        with member_errors(file, member), open(file, "rb") as fh:
            shape, _, dtype, _ = read_npy_header(fh, file, file.stat().st_size, member)
        return shape, dtype

    def read(self, member: str) -> np.ndarray:
        if self.zip is not None:
            return self.zip.read_npy(member)
        file = self.path / member
        with member_errors(file, member), open(file, "rb") as fh:
            return read_npy(fh, file, file.stat().st_size, member)


def _config(entry, path: Path) -> dict:
    """The checked ``config`` of a ``gnn_encoder`` entry."""
    if not isinstance(entry, dict):
        raise InputFormatError(f'meta.json: "{ENTRY}" must be a JSON object', path)
    version = entry.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise InputFormatError(f'meta.json: "{ENTRY}" has no integer version ({version!r})', path)
    if version > VERSION:
        raise InputFormatError(f"a GNN encoder of format version {version}, written by a newer embedkit (this one "
                               f"reads version {VERSION}); upgrade embedkit", path)
    config = entry.get("config")
    if not isinstance(config, dict) or not isinstance(config.get("kind"), str):
        raise InputFormatError(f'meta.json: "{ENTRY}" has no "config" object naming the layer type ("kind")', path)
    for name in _INT_FIELDS:
        v = config.get(name)
        if not isinstance(v, int) or isinstance(v, bool) or v < (0 if name == "num_nodes" else 1):
            raise InputFormatError(f'meta.json: "{ENTRY}" config {name!r} must be a positive integer, not {v!r}', path)
    in_dim = config.get("in_dim")
    if in_dim is not None and (not isinstance(in_dim, int) or isinstance(in_dim, bool) or in_dim < 1):
        raise InputFormatError(f'meta.json: "{ENTRY}" config "in_dim" must be a positive integer or null, '
                               f"not {in_dim!r}", path)
    dropout = config.get("dropout", 0.0)
    if not isinstance(dropout, (int, float)) or isinstance(dropout, bool) or not 0 <= dropout < 1:
        raise InputFormatError(f'meta.json: "{ENTRY}" config "dropout" must be a number in [0, 1), '
                               f"not {dropout!r}", path)
    if config["layers"] > MAX_LAYERS:
        raise InputFormatError(f'meta.json: "{ENTRY}" declares {config["layers"]} layers, over the limit of '
                               f"{MAX_LAYERS}", path)
    return config


def _rebuild(config: dict, entry: dict, path: Path):
    """The encoder ``config`` describes, built on the ``meta`` device (no memory, no random draw)."""
    import torch

    from . import gat, gcn  # noqa: F401  (register the layer types)
    from ._model import build_encoder

    try:
        with torch.device("meta"):
            net = build_encoder(**config)
    except EmbedkitError as exc:  # an unknown layer type
        raise InputFormatError(f'meta.json: "{ENTRY}": {exc}', path) from None
    except (TypeError, ValueError) as exc:  # options this layer type does not take
        raise InputFormatError(f'meta.json: "{ENTRY}" config cannot build a {config["kind"]} encoder ({exc})',
                               path) from None
    act = entry.get("activation")
    if act is not None and act != type(net.act).__name__:
        raise InputFormatError(f'meta.json: "{ENTRY}": the encoder was saved with activation {act}; this '
                               f"embedkit's {config['kind']} layers use {type(net.act).__name__}", path)
    return net


def _encoder(members: _Members, config: dict, entry: dict, path: Path, rows: int):
    """The saved encoder: rebuilt, every member checked against it, the weights assigned."""
    import torch

    if config["in_dim"] is None and config["num_nodes"] > rows:
        raise InputFormatError(f'meta.json: "{ENTRY}" declares a learned input table of {config["num_nodes"]} '
                               f"rows, more than the file's {rows} vectors", path)
    names = members.names(ENCODER_DIR)
    if config["layers"] > len(names):
        raise InputFormatError(f'meta.json: "{ENTRY}" declares {config["layers"]} layers; the file holds '
                               f"{len(names)} encoder arrays ({ENCODER_DIR}*.npy)", path)
    net = _rebuild(config, entry, path)
    expected = {k: tuple(v.shape) for k, v in net.state_dict().items()}
    missing, extra = sorted(set(expected) - set(names)), sorted(set(names) - set(expected))
    if missing or extra:
        raise InputFormatError(
            f"the encoder's arrays do not match its architecture ({config['kind']}, {config['layers']} layers): "
            + "; ".join(part for part in (
                "missing " + ", ".join(f"{ENCODER_DIR}{n}.npy" for n in missing) if missing else "",
                "unexpected " + ", ".join(f"{ENCODER_DIR}{n}.npy" for n in extra) if extra else "") if part), path)
    state = {}
    for name, shape in expected.items():
        member = f"{ENCODER_DIR}{name}.npy"
        got, dtype = members.header(member)
        check_array_kind(got, dtype, path, member, "f", None)
        if tuple(got) != shape:
            raise InputFormatError(f"{member} has shape {tuple(got)}; the architecture in meta.json needs {shape}",
                                   path)
        arr = members.read(member)
        if not np.isfinite(arr).all():
            raise InputFormatError(f"{member} holds NaN or infinity (a broken encoder)", path)
        state[name] = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    net.load_state_dict(state, assign=True)
    return net.eval()


def _classifier(members: _Members, entry: dict, path: Path, rows: int, out_dim: int) -> dict:
    """The keyword arguments of :class:`~embedkit.gnn.NodeClassifier` saved with it."""
    info = entry["classifier"]
    classes = info.get("classes") if isinstance(info, dict) else None
    if not isinstance(classes, list) or not all(isinstance(c, (str, int)) and not isinstance(c, bool) for c in classes):
        raise InputFormatError(f'meta.json: "{ENTRY}" classifier "classes" must be a list of names', path)
    if len(classes) != out_dim:
        raise InputFormatError(f'meta.json: "{ENTRY}": {len(classes)} classes for an encoder of {out_dim} outputs',
                               path)
    multi = info.get("multi_label")
    if not isinstance(multi, bool):
        raise InputFormatError(f'meta.json: "{ENTRY}" classifier "multi_label" must be true or false', path)
    split_names = info.get("masks", [])
    if not isinstance(split_names, list) or not set(split_names) <= {"train", "val", "test"}:
        raise InputFormatError(f'meta.json: "{ENTRY}" classifier "masks" must list some of train, val, test', path)

    def array(name: str, shape: tuple, kinds: str) -> np.ndarray:
        member = f"{CLASSIFIER_DIR}{name}.npy"
        got, dtype = members.header(member)
        check_array_kind(got, dtype, path, member, kinds, None)
        if tuple(got) != shape:
            raise InputFormatError(f"{member} has shape {tuple(got)}, expected {shape}", path)
        return members.read(member)

    c = len(classes)
    scores = array("scores", (rows, c), "f")
    if not np.isfinite(scores).all():
        raise InputFormatError(f"{CLASSIFIER_DIR}scores.npy holds NaN or infinity", path)
    labels = array("labels", (rows, c) if multi else (rows,), "b" if multi else "iu")
    if not multi and labels.size and (labels.min() < -1 or labels.max() >= c):
        raise InputFormatError(f"{CLASSIFIER_DIR}labels.npy holds class indexes outside -1..{c - 1}", path)
    masks = {k: None for k in ("train", "val", "test")}
    masks.update({k: array(f"mask_{k}", (rows,), "b") for k in split_names})
    return {"scores": scores, "classes": classes, "labels": labels.astype(bool if multi else np.int64),
            "masks": masks, "multi_label": multi}


def attach_encoder(emb: Embeddings, path) -> Embeddings:
    """The result saved at ``path`` (whose plain embeddings are ``emb``): a
    :class:`~embedkit.gnn.result.GNNEmbeddings`, or a :class:`~embedkit.gnn.NodeClassifier`,
    holding the saved encoder."""
    from .result import GNNEmbeddings, NodeClassifier

    path = Path(path)
    entry = emb.meta.get(ENTRY)
    config = _config(entry, path)
    output = entry.get("output", "hidden")
    if output not in ("hidden", "out"):
        raise InputFormatError(f'meta.json: "{ENTRY}" output must be "hidden" or "out", not {output!r}', path)
    try:
        import torch  # noqa: F401
        import torch_geometric  # noqa: F401
    except ImportError as exc:
        logger.warning("%s: holds a GNN encoder, but %s is not installed: loaded as vectors only", path, exc.name)
        return emb
    rows = len(emb)
    meta = {k: v for k, v in emb.meta.items() if k != ENTRY}
    with _Members(path) as members:
        model = _encoder(members, config, entry, path, rows)
        if "classifier" in entry:
            kw = _classifier(members, entry, path, rows, config["out_dim"])
    if "classifier" in entry:
        out = NodeClassifier(emb.keys, emb.vectors, meta, model=model, **kw)
    else:
        out = GNNEmbeddings(emb.keys, emb.vectors, meta, model=model, output=output)
    out._index = emb._index
    return out
