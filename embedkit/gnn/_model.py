"""The encoder: a stack of PyG ``GCNConv`` or ``GATConv`` layers.

GCN (Kipf & Welling, ICLR 2017): ``H' = act(D~^-1/2 A~ D~^-1/2 H W)``, ``A~ = A + I``.
GAT (Velickovic et al., ICLR 2018): ``alpha_ij = softmax_j(LeakyReLU(a^T [W h_i || W h_j]))``,
``h_i' = act(sum_j alpha_ij W h_j)``; hidden layers concatenate ``heads`` heads, the
output layer averages ``output_heads`` heads.
"""
from __future__ import annotations


def build_encoder(kind: str, in_dim: int | None, num_nodes: int, hidden: int, out_dim: int, layers: int,
                  heads: int = 1, output_heads: int = 1, dropout: float = 0.5, attn_dropout: float = 0.0,
                  cached: bool = True):
    """A ``torch.nn.Module`` mapping ``(x, edge_index) -> (out, hidden_repr)``.

    ``x``: float ``(V, in_dim)``, or None when ``in_dim`` is None (the input is then a
    learnable ``(num_nodes, hidden)`` table, i.e. a one-hot input times the first weight
    matrix). ``out``: ``(V, out_dim)`` (no activation); ``hidden_repr``: the input of the
    last layer, ``(V, hidden)`` (``(V, hidden * heads)`` for GAT), or ``out`` when
    ``layers == 1``. Dropout is applied to every layer's input, as in both papers.
    ``forward(x, edge_index, node_ids)``: ``node_ids`` (the global rows of a sampled
    subgraph's nodes) picks the rows of the learnable table. ``cached``: GCN keeps the
    normalised adjacency of the first call (full-batch training only).
    """
    import torch
    from torch import nn
    from torch_geometric.nn import GATConv, GCNConv

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
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
                if kind == "gcn":
                    self.convs.append(GCNConv(width, out_dim if last else hidden, cached=cached))
                    width = hidden
                else:
                    h = output_heads if last else heads
                    self.convs.append(GATConv(width, out_dim if last else hidden, heads=h, concat=not last,
                                              dropout=attn_dropout))
                    width = hidden * heads
            self.act = nn.ReLU() if kind == "gcn" else nn.ELU()
            self.drop = nn.Dropout(dropout)

        def param_groups(self, weight_decay: float) -> list[dict]:
            """Adam groups: GCN decays the first layer only (Kipf & Welling; PyG's example), GAT every layer."""
            if kind != "gcn" or len(self.convs) == 1:
                return [{"params": list(self.parameters()), "weight_decay": weight_decay}]
            first = list(self.convs[0].parameters()) + ([self.table] if self.table is not None else [])
            rest = [p for conv in self.convs[1:] for p in conv.parameters()]
            return [{"params": first, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]

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

    return Encoder()
