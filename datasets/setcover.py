"""Set covering instances (Balas & Ho 1980)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from hybridsolve.mip import Problem

__all__ = ["set_cover"]


def set_cover(
    rng: np.random.Generator, rows: int = 500, cols: int = 1000, density: float = 0.05
) -> Problem:
    """A random set covering problem with integer costs.

    Follows the generator of Balas & Ho (1980) as used by Gasse et al. (2019): a 0-1 matrix
    with the given density in which every row is covered by at least two columns and every
    column covers at least one row; column costs are integers drawn uniformly from 1-100.
    ``min c x`` s.t. ``A x >= 1``, ``x`` binary.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    rows, cols : int
        Number of elements to cover and of candidate sets.
    density : float
        Fraction of nonzero entries of the matrix.

    Returns
    -------
    Problem

    References
    ----------
    E. Balas and A. Ho, "Set covering algorithms using cutting planes, heuristics, and
    subgradient optimization: a computational study", Mathematical Programming Study 12
    (1980), 37-60.
    M. Gasse, D. Chételat, N. Ferroni, L. Charlin and A. Lodi, "Exact combinatorial
    optimization with graph convolutional neural networks", NeurIPS 2019.
    """
    cover = np.zeros((rows, cols), dtype=bool)
    for i in range(rows):
        cover[i, rng.choice(cols, size=2, replace=False)] = True
    cover[rng.integers(0, rows, size=cols), np.arange(cols)] = True
    missing = int(round(density * rows * cols)) - int(cover.sum())
    if missing > 0:
        free = np.flatnonzero(~cover.ravel())
        cover.ravel()[rng.choice(free, size=missing, replace=False)] = True
    costs = rng.integers(1, 101, size=cols)
    return Problem.from_arrays(
        costs, sp.csr_matrix(cover, dtype=np.float64), 1.0, np.inf, 0.0, 1.0, True,
        name=f"setcover-{rows}x{cols}",
    )  # fmt: skip
