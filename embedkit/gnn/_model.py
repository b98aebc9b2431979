"""The encoder of every GNN method: a stack of graph convolution layers of one registered type.

This module knows no layer type: each lives in its own file as a :class:`LayerType`
registered in :data:`LAYERS` under its method's ``kind`` (``gcn.py``: PyG ``GCNConv``,
ReLU, weight decay on the first layer; ``gat.py``: PyG ``GATConv``, attention heads,
ELU, attention dropout). A new layer type is one file: a :class:`LayerType` subclass
decorated with :func:`register_layer` and a method class whose ``kind`` names it.
"""
from __future__ import annotations

from ..exceptions import EmbedkitError

LAYERS: dict[str, type["LayerType"]] = {}


class LayerType:
    """How one kind of graph convolution makes the layers of an encoder.

    Subclasses set ``name`` (the ``kind`` of their method) and take their own settings
    as keyword arguments of ``__init__`` (e.g. GAT's ``heads``); they implement
    :meth:`conv`, and override :meth:`width`, :meth:`activation` and
    :meth:`param_groups` where the default does not fit.
    """

    name = ""

    def conv(self, in_width: int, out_width: int, last: bool):
        """The torch module of one layer, ``(x (V, in_width), edge_index) -> (V, width(out_width, last))``."""
        raise NotImplementedError

    def width(self, out_width: int, last: bool) -> int:
        """The number of columns a layer made by ``conv(_, out_width, last)`` outputs."""
        return out_width

    def activation(self):
        """The non-linearity between layers (a torch module); ReLU by default."""
        from torch import nn

        return nn.ReLU()

    def param_groups(self, encoder, weight_decay: float) -> list[dict]:
        """Adam parameter groups of ``encoder``; by default every parameter is decayed."""
        return [{"params": list(encoder.parameters()), "weight_decay": weight_decay}]


def register_layer(cls: type[LayerType]) -> type[LayerType]:
    """Class decorator: make ``cls`` the layer type of kind ``cls.name``."""
    if not cls.name:
        raise EmbedkitError(f"{cls.__name__}: a GNN layer type needs a name")
    LAYERS[cls.name] = cls
    return cls


def layer_type(kind: str) -> type[LayerType]:
    """The layer type registered under ``kind``; an unknown kind raises an error listing the kinds."""
    try:
        return LAYERS[kind]
    except KeyError:
        raise EmbedkitError(f"no GNN layer type {kind!r}; the layer types are: "
                            f"{', '.join(sorted(LAYERS)) or '(none registered)'}") from None


def build_encoder(kind: str, in_dim: int | None, num_nodes: int, hidden: int, out_dim: int, layers: int,
                  dropout: float = 0.5, **options):
    """A ``torch.nn.Module`` mapping ``(x, edge_index) -> (out, hidden_repr)``: ``layers``
    convolutions of the layer type ``kind`` (see :data:`LAYERS`), made with that type's
    ``options`` (GCN: ``cached``; GAT: ``heads``, ``output_heads``, ``attn_dropout``).

    ``x``: float ``(V, in_dim)``, or None when ``in_dim`` is None (the input is then a
    learnable ``(num_nodes, hidden)`` table, i.e. a one-hot input times the first weight
    matrix). ``out``: ``(V, out_dim)`` (no activation); ``hidden_repr``: the input of the
    last layer, ``(V, hidden)`` (``(V, hidden * heads)`` for GAT), or ``out`` when
    ``layers == 1``. Dropout is applied to every layer's input, as in both papers.
    ``forward(x, edge_index, node_ids)``: ``node_ids`` (the global rows of a sampled
    subgraph's nodes) picks the rows of the learnable table.

    The module's ``config`` holds these arguments (JSON-able), so that
    ``build_encoder(**net.config)`` makes the same module again: a saved result's
    encoder is rebuilt from it and given the saved weights (:mod:`embedkit.gnn._saved`).
    """
    import torch
    from torch import nn

    spec = layer_type(kind)(**options)

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.layer_type = spec
            self.table = None
            first = in_dim
            if in_dim is None:
                self.table = nn.Parameter(torch.empty(num_nodes, hidden))
                nn.init.xavier_uniform_(self.table)
                first = hidden
            self.convs = nn.ModuleList()
            width = first
            for i in range(layers):
                last = i == layers - 1
                out = out_dim if last else hidden
                self.convs.append(spec.conv(width, out, last))
                width = spec.width(out, last)
            self.act = spec.activation()
            self.drop = nn.Dropout(dropout)

        def param_groups(self, weight_decay: float) -> list[dict]:
            """Adam groups, as the layer type decays them."""
            return self.layer_type.param_groups(self, weight_decay)

        def forward(self, x, edge_index, node_ids=None):
            if self.table is not None:
                h = self.table if node_ids is None else self.table[node_ids]
            else:
                h = x
            hidden_repr = h
            for i, conv in enumerate(self.convs):
                h = conv(self.drop(h), edge_index)
                if i < len(self.convs) - 1:
                    h = self.act(h)
                    hidden_repr = h
            return h, (hidden_repr if len(self.convs) > 1 else h)

    net = Encoder()
    net.config = {"kind": kind, "in_dim": in_dim, "num_nodes": int(num_nodes), "hidden": int(hidden),
                  "out_dim": int(out_dim), "layers": int(layers), "dropout": float(dropout), **options}
    return net
