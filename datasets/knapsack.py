"""Knapsack-type instances: multi-dimensional, multiple, and market split."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from hybridsolve.mip import Problem

__all__ = ["market_split", "multidimensional_knapsack", "multiple_knapsack"]


def multidimensional_knapsack(
    rng: np.random.Generator, items: int = 100, knapsacks: int = 5, tightness: float = 0.25
) -> Problem:
    """A multi-dimensional 0-1 knapsack problem with correlated profits.

    Follows Chu & Beasley (1998): weights ``w[i, j]`` uniform integers in 1-1000, capacities
    ``tightness * sum_j w[i, j]`` (rounded down) and profits
    ``sum_i w[i, j] / knapsacks + 500 u_j`` with ``u_j`` uniform in [0, 1) (rounded down).
    ``max p x`` s.t. ``W x <= b``, ``x`` binary. Taking nothing is always feasible.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    items : int
        Number of items (variables).
    knapsacks : int
        Number of knapsack constraints (dimensions).
    tightness : float
        Capacity as a fraction of the total weight of each constraint.

    Returns
    -------
    Problem

    References
    ----------
    P. C. Chu and J. E. Beasley, "A genetic algorithm for the multidimensional knapsack
    problem", Journal of Heuristics 4 (1998), 63-86.
    """
    weights = rng.integers(1, 1001, size=(knapsacks, items))
    capacity = np.floor(tightness * weights.sum(axis=1))
    profits = np.floor(weights.sum(axis=0) / knapsacks + 500.0 * rng.random(items))
    return Problem.from_arrays(
        profits, sp.csr_matrix(weights, dtype=np.float64), -np.inf, capacity, 0.0, 1.0, True,
        sense="maximize", name=f"mdknap-{items}x{knapsacks}",
    )  # fmt: skip


def multiple_knapsack(
    rng: np.random.Generator, items: int = 100, knapsacks: int = 10, correlated: bool = False
) -> Problem:
    """A multiple 0-1 knapsack problem: each item goes into at most one of several knapsacks.

    Follows the instance classes of Pisinger (1999), also used by Fukunaga & Korf (2007):
    weights uniform integers in 10-1000; profits uniform integers in 10-1000 (uncorrelated)
    or ``w_j + U{-99..99}`` clipped at 1 (weakly correlated); capacities of the first
    ``knapsacks - 1`` knapsacks uniform integers in ``[0.4, 0.6] * W / knapsacks`` with
    ``W`` the total weight, the last one the rest of ``W / 2``, and every capacity at least
    the largest weight so each knapsack can hold any item. Variables ``x[k, j]`` (knapsack
    ``k``, item ``j``, row-major); ``max sum p_j x[k, j]`` s.t. ``sum_k x[k, j] <= 1`` and
    ``sum_j w_j x[k, j] <= c_k``. Packing nothing is always feasible.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    items : int
        Number of items.
    knapsacks : int
        Number of knapsacks.
    correlated : bool
        Weakly correlated profits instead of uncorrelated ones.

    Returns
    -------
    Problem

    References
    ----------
    D. Pisinger, "An exact algorithm for large multiple knapsack problems", European Journal
    of Operational Research 114 (1999), 528-541.
    A. S. Fukunaga and R. E. Korf, "Bin completion algorithms for multicontainer packing,
    knapsack, and covering problems", JAIR 28 (2007), 393-429.
    """
    weights = rng.integers(10, 1001, size=items)
    if correlated:
        profits = np.maximum(weights + rng.integers(-99, 100, size=items), 1)
    else:
        profits = rng.integers(10, 1001, size=items)
    share = weights.sum() / knapsacks
    capacity = rng.integers(int(0.4 * share), int(0.6 * share) + 1, size=knapsacks)
    capacity[-1] = max(weights.sum() // 2 - capacity[:-1].sum(), 0)
    capacity = np.maximum(capacity, weights.max())
    var = np.arange(knapsacks * items)
    knapsack, item = np.divmod(var, items)
    A = sp.csr_matrix(
        (
            np.concatenate([np.ones(var.size), weights[item].astype(np.float64)]),
            (np.concatenate([item, items + knapsack]), np.concatenate([var, var])),
        ),
        shape=(items + knapsacks, var.size),
    )
    row_upper = np.concatenate([np.ones(items), capacity.astype(np.float64)])
    return Problem.from_arrays(
        profits[item], A, -np.inf, row_upper, 0.0, 1.0, True, sense="maximize",
        name=f"mknap-{items}x{knapsacks}",
    )  # fmt: skip


def market_split(rng: np.random.Generator, rows: int = 4, items: int = 30) -> Problem:
    """A market split problem in its optimisation form with slack variables.

    Follows Cornuéjols & Dawande (1999): coefficients ``a[i, j]`` uniform integers in 0-99
    and right-hand sides ``d_i = floor(sum_j a[i, j] / 2)``. The feasibility question
    ``a x = d``, ``x`` binary, becomes ``min sum(s+ + s-)`` s.t.
    ``a x + s+ - s- = d`` (as in Aardal et al., 2000), so a solution exists at once and
    proving its optimality is what takes time. The original uses ``items = 10 (rows - 1)``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    rows : int
        Number of equations (markets).
    items : int
        Number of binary variables.

    Returns
    -------
    Problem

    References
    ----------
    G. Cornuéjols and M. Dawande, "A class of hard small 0-1 programs", INFORMS Journal on
    Computing 11 (1999), 205-210.
    K. Aardal, R. E. Bixby, C. A. J. Hurkens, A. K. Lenstra and J. W. Smeltink, "Market
    split and basis reduction: towards a solution of the Cornuéjols-Dawande instances",
    INFORMS Journal on Computing 12 (2000), 192-202.
    """
    a = rng.integers(0, 100, size=(rows, items))
    target = (a.sum(axis=1) // 2).astype(np.float64)
    A = sp.hstack([sp.csr_matrix(a, dtype=np.float64), sp.eye(rows), -sp.eye(rows)]).tocsr()
    costs = np.concatenate([np.zeros(items), np.ones(2 * rows)])
    upper = np.concatenate([np.ones(items), np.full(2 * rows, np.inf)])
    integer = np.concatenate([np.ones(items, dtype=bool), np.zeros(2 * rows, dtype=bool)])
    return Problem.from_arrays(
        costs, A, target, target, 0.0, upper, integer, name=f"msplit-{rows}x{items}"
    )
