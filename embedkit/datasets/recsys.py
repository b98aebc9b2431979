"""Synthetic user-item data with a known answer, for recommender tests, docs and sanity checks."""
from __future__ import annotations

import numpy as np

from ..data.interactions import Interactions


def block_interactions(blocks: int = 4, users_per_block: int = 10, items_per_block: int = 8,
                       density: float = 1.0, seed: int = 0) -> Interactions:
    """A block-diagonal (checkerboard) interaction matrix: the users of block ``b`` interact only
    with the items of block ``b`` (each with probability ``density``).

    Users are ``"u<n>"``, items ``"i<n>"``, numbered block by block. With ``density=1`` and
    ``k`` interactions of every user held out, the user's unseen in-block items are exactly the
    held-out ones, so a model that ranks a user's own block first has recall@k = 1.
    """
    rng = np.random.default_rng(seed)
    u_rows, i_rows = [], []
    for b in range(blocks):
        users = np.arange(b * users_per_block, (b + 1) * users_per_block)
        items = np.arange(b * items_per_block, (b + 1) * items_per_block)
        uu, ii = np.meshgrid(users, items, indexing="ij")
        keep = rng.random(uu.shape) < density
        u_rows.append(uu[keep])
        i_rows.append(ii[keep])
    n_users, n_items = blocks * users_per_block, blocks * items_per_block
    return Interactions.from_arrays(np.concatenate(u_rows), np.concatenate(i_rows),
                                    users=[f"u{j}" for j in range(n_users)], items=[f"i{j}" for j in range(n_items)],
                                    source="block_interactions")


def low_rank_interactions(num_users: int = 300, num_items: int = 200, rank: int = 4, per_user: int = 20,
                          sharpness: float = 3.0, seed: int = 0) -> Interactions:
    """Implicit interactions drawn from a low-rank taste model.

    User and item factors are standard normal in ``rank`` dimensions (item factors scaled so
    that popularity varies); every user draws ``per_user`` distinct items with probability
    proportional to ``exp(sharpness * u . v / sqrt(rank))``. Personal tastes dominate, so a
    model that learns the factors beats the popularity ranking.
    """
    rng = np.random.default_rng(seed)
    U = rng.standard_normal((num_users, rank))
    V = rng.standard_normal((num_items, rank)) * rng.uniform(0.5, 1.5, (num_items, 1))
    logits = sharpness * (U @ V.T) / np.sqrt(rank)
    rows, cols = [], []
    for u in range(num_users):
        # Gumbel top-k: per_user distinct items drawn without replacement, probability ~ exp(logit)
        g = logits[u] + rng.gumbel(size=num_items)
        chosen = np.argpartition(-g, per_user - 1)[:per_user]
        rows.append(np.full(per_user, u))
        cols.append(chosen)
    return Interactions.from_arrays(np.concatenate(rows), np.concatenate(cols), source="low_rank_interactions")


def low_rank_ratings(num_users: int = 300, num_items: int = 200, rank: int = 4, density: float = 0.15,
                     noise: float = 0.3, seed: int = 0) -> Interactions:
    """Explicit 1-5 ratings from a biased low-rank model (Koren et al. 2009's form).

    ``r = clip(round(3.5 + b_u + b_i + u . v + noise), 1, 5)`` on a random ``density`` of the
    cells; biases ~ N(0, 0.3), factors ~ N(0, 0.7 / rank ** 0.25), so ``u . v`` has a standard
    deviation of about 0.5. The signal is larger than the noise, so a model that learns biases and factors predicts much better than the mean.
    """
    rng = np.random.default_rng(seed)
    U = rng.normal(0, 0.7 / rank ** 0.25, (num_users, rank))
    V = rng.normal(0, 0.7 / rank ** 0.25, (num_items, rank))
    bu = rng.normal(0, 0.3, num_users)
    bi = rng.normal(0, 0.3, num_items)
    mask = rng.random((num_users, num_items)) < density
    r, c = np.nonzero(mask)
    val = 3.5 + bu[r] + bi[c] + np.einsum("ij,ij->i", U[r], V[c]) + rng.normal(0, noise, r.shape[0])
    val = np.clip(np.round(val), 1, 5)
    return Interactions.from_arrays(r, c, val, source="low_rank_ratings")
