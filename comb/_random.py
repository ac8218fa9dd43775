"""A small seeded random number generator for Numba kernels.

The state is a one-element ``uint64`` array handed to every kernel, so a run is
reproducible from its seed whatever else used Numba's global generator. The generator is
Vigna's xorshift64* ("An experimental exploration of Marsaglia's xorshift generators,
scrambled", ACM TOMS 42, 2016); the seed is spread by one round of splitmix64.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["new_state", "rand_below", "rand_float"]


def new_state(seed: int) -> np.ndarray:
    """A fresh generator state from an integer seed."""
    z = (int(seed) + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    z ^= z >> 31
    return np.array([z or 1], dtype=np.uint64)


@njit(cache=True, nogil=True)
def _next(state: np.ndarray) -> np.uint64:
    x = state[0]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    state[0] = x
    return x * np.uint64(0x2545F4914F6CDD1D)


@njit(cache=True, nogil=True)
def rand_float(state: np.ndarray) -> float:
    """Uniform float in ``[0, 1)``."""
    return (_next(state) >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@njit(cache=True, nogil=True)
def rand_below(state: np.ndarray, n: int) -> int:
    """Uniform integer in ``[0, n)`` (``n >= 1``)."""
    return int(rand_float(state) * n)
