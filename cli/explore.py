"""``embedkit explore``: an interactive HTML map of a vectors file (registered from main.py)."""
from __future__ import annotations

import time

import click

import embedkit as ek
from embedkit.explorer import PROJECTIONS
from embedkit.explorer.page import MAX_POINTS

from ._report import echo_rows


@click.command("explore")
@click.argument("vectors", type=click.Path())
@click.option("-o", "--output", required=True, type=click.Path(), help="the HTML file to write (e.g. map.html)")
@click.option("--labels", default=None, type=click.Path(), help="colour by label: a 'key label' file, CSV or .mat")
@click.option("--method", default="pca", show_default=True, type=click.Choice(list(PROJECTIONS)),
              help="2-D projection; tsne is slow (fitted on --fit-points), umap needs 'embedkit[explore]'")
@click.option("-k", "--neighbors", "k", default=10, show_default=True, type=click.IntRange(min=1),
              help="nearest neighbours listed per key")
@click.option("--max-points", default=MAX_POINTS, show_default=True, type=click.IntRange(min=3),
              help="above this, draw a random sample of this many keys (said on the page)")
@click.option("--fit-points", default=None, type=click.IntRange(min=3),
              help="fit the projection on this many random keys, place the rest next to their neighbours "
                   "[default: all for pca, 10000 for tsne, 50000 for umap]")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--title", default=None, help="page title [default: the number of keys]")
@click.option("-q", "--quiet", is_flag=True, help="no progress bar")
def explore(vectors, output, labels, method, k, max_points, fit_points, seed, title, quiet):
    """Write an interactive map of VECTORS to one HTML file that opens offline (file://).

    Zoom and pan, colour by label, the key on hover, a search box, and the nearest neighbours
    of the selected key; OUTPUT#q=KEY opens with KEY selected.
    """
    start = time.perf_counter()
    emb = ek.load(vectors)
    path = ek.explore(emb, output, labels=labels, method=method, k=k, max_points=max_points,
                      fit_points=fit_points, seed=seed, title=title, verbose=False if quiet else None)
    shown = min(len(emb), max_points)
    echo_rows([("vectors", f"{vectors} ({len(emb)} x {emb.dim})"),
               ("map", f"{method}, {shown} of {len(emb)} keys" + (" (random sample)" if shown < len(emb) else "")),
               ("neighbours", f"{min(k, len(emb) - 1)} per key (cosine)"),
               ("time", f"{time.perf_counter() - start:.1f} s"),
               ("written", f"{path} ({path.stat().st_size / 1e6:.1f} MB); open {path}#q=KEY to select KEY")])
