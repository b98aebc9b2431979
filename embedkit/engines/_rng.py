"""A small counter-seeded random generator for numba kernels.

Each walk (or chunk of work) seeds its own xorshift64* state from
``(seed, index)`` with splitmix64, so results do not depend on how work is
split among threads.
"""
from __future__ import annotations

import numpy as np
from .._jit import njit

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_STAR = np.uint64(0x2545F4914F6CDD1D)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S12 = np.uint64(12)
_S25 = np.uint64(25)
_S11 = np.uint64(11)
_INV53 = 1.0 / 9007199254740992.0


@njit(cache=True, inline="always")
def seed_state(seed, index):
    """splitmix64 of (seed, index): a non-zero xorshift state."""
    z = np.uint64(seed) * _GOLDEN + np.uint64(index) + _GOLDEN
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    z = z ^ (z >> _S31)
    if z == np.uint64(0):
        z = _GOLDEN
    return z


@njit(cache=True, inline="always")
def next_u64(state):
    """xorshift64*: returns (new_state, random uint64)."""
    x = state
    x ^= x >> _S12
    x ^= x << _S25
    x ^= x >> _S27
    return x, x * _STAR


@njit(cache=True, inline="always")
def next_float(state):
    """Returns (new_state, uniform float64 in [0, 1))."""
    state, r = next_u64(state)
    return state, float(r >> _S11) * _INV53
