"""Synthetic data with a known answer, for tests, docs and sanity checks."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: (male, female) word of each role; a role's words share its context words
_ROLES = {
    "royal": ("king", "queen"),
    "common": ("man", "woman"),
    "young": ("boy", "girl"),
    "parent": ("father", "mother"),
    "heir": ("prince", "princess"),
    "sibling": ("brother", "sister"),
}
_ROLE_CONTEXT = {
    "royal": ["throne", "crown", "reign", "realm"],
    "common": ["street", "market", "work", "town"],
    "young": ["school", "toys", "play", "lessons"],
    "parent": ["family", "children", "home", "raise"],
    "heir": ["castle", "future", "title", "inherit"],
    "sibling": ["together", "twin", "elder", "younger"],
}
_GENDER_CONTEXT = {0: ["he", "his", "him", "himself"], 1: ["she", "her", "hers", "herself"]}
#: synonyms used in exactly the same contexts: each must be the other's nearest neighbour
_SYNONYMS = [("car", "automobile"), ("big", "large"), ("quick", "fast"), ("doctor", "physician")]
_SYNONYM_CONTEXT = [["drive", "road", "engine"], ["size", "huge", "giant"], ["speed", "race", "run"],
                    ["hospital", "patient", "medicine"]]
_FILLER = ["the", "a", "of", "and", "to", "in", "was", "is", "with", "that"]


@dataclass
class PlantedText:
    """Sentences plus the answers planted in them.

    ``analogies``: ``(a, b, c, d)`` tuples with a:b :: c:d (e.g. man:king ::
    woman:queen, i.e. king - man + woman = queen); ``neighbours``: word -> the
    word that must be its nearest neighbour.
    """

    sentences: list
    analogies: list = field(default_factory=list)
    neighbours: dict = field(default_factory=dict)


def planted_text(num_sentences: int = 20_000, seed: int = 0, filler: int = 3) -> PlantedText:
    """A corpus whose vectors must solve gender/role analogies and rank synonyms first.

    Each sentence mentions one role word (king, queen, man, ...) with one of its
    gender's context words and one of its role's context words, or one synonym
    with its group's context words, plus ``filler`` frequent function words, in
    random order. A role word's co-occurrences are thus (gender) + (role), so
    king - man + woman = queen holds for every pair of roles (30 analogies).
    """
    rng = np.random.default_rng(seed)
    roles = list(_ROLES)
    sentences = []
    for _ in range(num_sentences):
        if rng.random() < 0.8:
            role = roles[rng.integers(len(roles))]
            gender = int(rng.integers(2))
            words = [_ROLES[role][gender]]
            words += list(rng.choice(_GENDER_CONTEXT[gender], 2))
            words += list(rng.choice(_ROLE_CONTEXT[role], 2))
        else:
            g = int(rng.integers(len(_SYNONYMS)))
            words = [_SYNONYMS[g][int(rng.integers(2))]] + list(rng.choice(_SYNONYM_CONTEXT[g], 3))
        words += list(rng.choice(_FILLER, filler))
        rng.shuffle(words)
        sentences.append([str(w) for w in words])
    analogies = []
    for r1 in roles:
        for r2 in roles:
            if r1 != r2:
                m1, f1 = _ROLES[r1]
                m2, f2 = _ROLES[r2]
                analogies.append((m2, m1, f2, f1))  # man:king :: woman:queen
    neighbours = {}
    for a, b in _SYNONYMS:
        neighbours[a], neighbours[b] = b, a
    return PlantedText(sentences, analogies, neighbours)
