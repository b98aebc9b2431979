"""GCN and GAT: embedkit against a plain PyTorch Geometric script, in one run.

    .venv/bin/python benchmarks/gnn_vs_pyg.py [--sets cora,pubmed] [--methods gcn,gat] [--seeds 10]

Data, read in place from ``../shared/data`` (``EMBEDKIT_DATA`` to point elsewhere):
Planetoid Cora and PubMed with the public split, read by ``ek.datasets.read_planetoid``.
The shared copy of PubMed lacks ``ind.pubmed.allx``: only 1060 of its 19717 nodes have
features, so on PubMed both tools get the same structural input (the 32 leading
eigenvectors of the normalised adjacency, ``input_features="spectral"``).

The plain script is the textbook PyG example (``examples/gcn.py`` / ``examples/gat.py``):
the tensors handed to it are the same ones embedkit trains on (row-normalised features,
edge_index, labels, masks), a two-layer ``GCNConv``/``GATConv`` model with the papers'
hyper-parameters, Adam, and every epoch one training step plus one evaluation pass; it
reports the test accuracy of the epoch with the best validation accuracy. embedkit runs
``ek.train(method, data, seed=s)`` with its defaults (the same hyper-parameters; patience
100 on validation accuracy, best epoch's weights kept). Seconds per epoch: training time
over epochs run, for both. Tools alternate within each seed; torch uses ``--threads``.
Writes ``benchmarks/out/gnn_results.json`` and prints markdown.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("EMBEDKIT_DATA", HERE.parent.parent / "shared" / "data"))

#: the papers' settings (GCN: Kipf & Welling 2017; GAT: Velickovic et al. 2018, PubMed: 8 output heads,
#: lr 0.01, weight decay 0.001)
SETTINGS = {
    ("gcn", "cora"): dict(hidden=16, dropout=0.5, learning_rate=0.01, weight_decay=5e-4, epochs=200),
    ("gcn", "pubmed"): dict(hidden=16, dropout=0.5, learning_rate=0.01, weight_decay=5e-4, epochs=200),
    ("gat", "cora"): dict(hidden=8, heads=8, output_heads=1, dropout=0.6, learning_rate=0.005, weight_decay=5e-4, epochs=200),
    ("gat", "pubmed"): dict(hidden=8, heads=8, output_heads=8, dropout=0.6, learning_rate=0.01, weight_decay=1e-3, epochs=200),
}


def plain_pyg(method: str, x, edge_index, y, masks, s: dict, seed: int) -> tuple[float, float, int]:
    """The PyG example loop; returns (test accuracy at best validation accuracy, s/epoch, epochs)."""
    import torch
    import torch.nn.functional as F
    from torch_geometric.nn import GATConv, GCNConv

    torch.manual_seed(seed)
    train_mask, val_mask, test_mask = masks

    class GCN(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = GCNConv(x.size(1), s["hidden"], cached=True)
            self.conv2 = GCNConv(s["hidden"], int(y.max()) + 1, cached=True)

        def forward(self, x, ei):
            x = F.dropout(x, p=s["dropout"], training=self.training)
            x = F.relu(self.conv1(x, ei))
            x = F.dropout(x, p=s["dropout"], training=self.training)
            return self.conv2(x, ei)

    class GAT(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = GATConv(x.size(1), s["hidden"], heads=s["heads"], dropout=s["dropout"])
            self.conv2 = GATConv(s["hidden"] * s["heads"], int(y.max()) + 1, heads=s["output_heads"],
                                 concat=False, dropout=s["dropout"])

        def forward(self, x, ei):
            x = F.dropout(x, p=s["dropout"], training=self.training)
            x = F.elu(self.conv1(x, ei))
            x = F.dropout(x, p=s["dropout"], training=self.training)
            return self.conv2(x, ei)

    model = GCN() if method == "gcn" else GAT()
    if method == "gcn":  # as PyG's example: weight decay on the first layer only
        opt = torch.optim.Adam([dict(params=model.conv1.parameters(), weight_decay=s["weight_decay"]),
                                dict(params=model.conv2.parameters(), weight_decay=0)], lr=s["learning_rate"])
    else:
        opt = torch.optim.Adam(model.parameters(), lr=s["learning_rate"], weight_decay=s["weight_decay"])
    best_val = test_at_best = 0.0
    t0 = time.perf_counter()
    for _ in range(s["epochs"]):
        model.train()
        opt.zero_grad()
        out = model(x, edge_index)
        F.cross_entropy(out[train_mask], y[train_mask]).backward()
        opt.step()
        model.eval()
        with torch.no_grad():
            pred = model(x, edge_index).argmax(1)
        accs = [float((pred[m] == y[m]).float().mean()) for m in (train_mask, val_mask, test_mask)]
        if accs[1] > best_val:
            best_val, test_at_best = accs[1], accs[2]
    return test_at_best, (time.perf_counter() - t0) / s["epochs"], s["epochs"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", default="cora,pubmed")
    ap.add_argument("--methods", default="gcn,gat")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "out" / "gnn_results.json"))
    a = ap.parse_args()

    import torch
    import torch_geometric

    import embedkit as ek
    from embedkit.gnn._features import input_features

    torch.set_num_threads(a.threads)
    results = []
    for name in a.sets.split(","):
        nd = ek.datasets.read_planetoid(DATA / name, name)
        feats = "given" if nd.has_features is None else "spectral"
        X, _ = input_features(nd, feats, True, "benchmark")
        e = nd.graph.edge_array()
        tensors = (torch.from_numpy(X), torch.from_numpy(e.T.copy()), torch.from_numpy(nd.labels),
                   tuple(torch.from_numpy(m) for m in (nd.train_mask, nd.val_mask, nd.test_mask)))
        for method in a.methods.split(","):
            s = SETTINGS[(method, name)]
            ek_params = {k: v for k, v in s.items() if k != "epochs"}
            if method == "gat":
                ek_params["attn_dropout"] = s["dropout"]
            row = {"set": name, "method": method, "features": feats, "settings": s,
                   "embedkit": {"acc": [], "s_per_epoch": [], "epochs": []}, "pyg": {"acc": [], "s_per_epoch": []}}
            for seed in range(a.seeds):
                order = ("embedkit", "pyg") if seed % 2 == 0 else ("pyg", "embedkit")
                for tool in order:
                    if tool == "pyg":
                        acc, spe, _ = plain_pyg(method, *tensors[:3], tensors[3], s, seed)
                        row["pyg"]["acc"].append(acc)
                        row["pyg"]["s_per_epoch"].append(spe)
                    else:
                        res = ek.train(method, nd, input_features=feats, epochs=s["epochs"], seed=seed,
                                       workers=a.threads, verbose=False, **ek_params)
                        row["embedkit"]["acc"].append(res.evaluate()["test_accuracy"])
                        row["embedkit"]["s_per_epoch"].append(res.meta["seconds_per_epoch"])
                        row["embedkit"]["epochs"].append(res.meta["epochs_run"])
                print(f"{name} {method} seed {seed}: embedkit {row['embedkit']['acc'][-1]:.3f} "
                      f"{row['embedkit']['s_per_epoch'][-1]:.4f} s/epoch | pyg {row['pyg']['acc'][-1]:.3f} "
                      f"{row['pyg']['s_per_epoch'][-1]:.4f} s/epoch", flush=True)
            results.append(row)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    meta = {"torch": torch.__version__, "torch_geometric": torch_geometric.__version__, "embedkit": ek.__version__,
            "threads": a.threads, "seeds": a.seeds, "loadavg": os.getloadavg()}
    out.write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    print(f"\n{meta}\n")
    print("| data | method | input | embedkit test acc | PyG script test acc | embedkit s/epoch | PyG s/epoch | ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for r in results:
        ea, pa = r["embedkit"]["acc"], r["pyg"]["acc"]
        es, ps = statistics.median(r["embedkit"]["s_per_epoch"]), statistics.median(r["pyg"]["s_per_epoch"])
        sd = lambda v: statistics.stdev(v) if len(v) > 1 else 0.0  # noqa: E731
        print(f"| {r['set']} | {r['method']} | {r['features']} | {100 * np.mean(ea):.1f} ± {100 * sd(ea):.1f} | "
              f"{100 * np.mean(pa):.1f} ± {100 * sd(pa):.1f} | {es:.4f} | {ps:.4f} | {es / ps:.2f}x |")


if __name__ == "__main__":
    main()
