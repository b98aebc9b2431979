"""Popularity baseline: every user is recommended the items most users interacted with.

Not personalised; it is the floor every recommender report shows (a model that does
not beat it has learned nothing about the users).
"""
from __future__ import annotations

import numpy as np

from .._validation import Param
from ..api import Method, register
from ._common import interactions_of, make_model


@register
class Popular(Method):
    """Scores every item by its popularity in the training interactions.

    ``fit(interactions) -> FactorModel`` with ``dim`` 1: user vectors are 1 and item vectors
    hold the popularity, so ``score(u, i)`` is item ``i``'s popularity for every user.
    ``weighting="users"`` (default) counts the users who interacted with an item;
    ``"sum"`` adds their interaction values (ratings or counts) up.

    >>> import embedkit as ek
    >>> inter = ek.read_interactions(([0, 1, 1, 2], ["a", "a", "b", "c"]))
    >>> model = ek.train("popular", inter)
    >>> model.recommend(2, k=2)
    [('a', 2.0), ('b', 1.0)]
    """

    name = "popular"
    family = "recsys"
    summary = "popularity baseline: the items most users interacted with, for everyone"
    input_kind = "interactions"
    params = (
        Param("weighting", str, "users", "popularity = the number of users of an item ('users') or the sum "
              "of their interaction values ('sum')", choices=("users", "sum")),
    )
    quick_params: dict = {}

    def _fit(self, data, **params):
        inter = interactions_of(data, self.name)
        if params["weighting"] == "users":
            pop = inter.item_counts().astype(np.float32)
        else:
            pop = np.bincount(inter.indices, weights=inter.values, minlength=inter.num_items).astype(np.float32)
        users = np.ones((inter.num_users, 1), dtype=np.float32)
        return make_model(inter, users, pop[:, None], {"interactions": repr(inter)})
