"""Capacitated facility location instances (Cornuéjols, Sridharan & Thizy 1991)."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from hybridsolve.mip import Problem

__all__ = ["capacitated_facility_location"]


def capacitated_facility_location(
    rng: np.random.Generator, customers: int = 100, facilities: int = 100, ratio: float = 5.0
) -> Problem:
    """A capacitated facility location problem with continuous (splittable) assignment.

    Follows Cornuéjols, Sridharan & Thizy (1991) as used by Gasse et al. (2019): customers
    and facilities at uniform points of the unit square, demands uniform integers in 5-35,
    capacities uniform integers in 10-160 scaled so that their total is ``ratio`` times the
    total demand, fixed costs ``U{100..110} * sqrt(capacity) + U{0..90}`` and transportation
    cost ``10 * distance * demand`` (rounded to 4 decimals so that files store it exactly).
    Variables: ``y_j`` binary (open facility ``j``), then ``x_ij`` in [0, 1] (share of
    customer ``i`` served by ``j``), row-major. Constraints: every demand met, capacities
    respected, total open capacity covers total demand, and ``x_ij <= y_j``. Opening every
    facility is always feasible when ``ratio >= 1``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    customers, facilities : int
        Number of customers and of candidate facilities.
    ratio : float
        Total capacity over total demand.

    Returns
    -------
    Problem

    References
    ----------
    G. Cornuéjols, R. Sridharan and J.-M. Thizy, "A comparison of heuristics and relaxations
    for the capacitated plant location problem", European Journal of Operational Research
    50 (1991), 280-297.
    M. Gasse, D. Chételat, N. Ferroni, L. Charlin and A. Lodi, "Exact combinatorial
    optimization with graph convolutional neural networks", NeurIPS 2019.
    """
    customer_xy = rng.random((customers, 2))
    facility_xy = rng.random((facilities, 2))
    demand = rng.integers(5, 36, size=customers).astype(np.float64)
    capacity = rng.integers(10, 161, size=facilities).astype(np.float64)
    fixed = np.floor(
        rng.integers(100, 111, size=facilities) * np.sqrt(capacity)
        + rng.integers(0, 91, size=facilities)
    )
    capacity = np.floor(capacity * ratio * demand.sum() / capacity.sum())
    distance = np.linalg.norm(customer_xy[:, None, :] - facility_xy[None, :, :], axis=2)
    transport = np.round(10.0 * distance * demand[:, None], 4)

    pairs = customers * facilities
    cust, fac = np.divmod(np.arange(pairs), facilities)  # x_ij in row-major order
    x_col = facilities + np.arange(pairs)
    total_row = customers + facilities
    link_rows = total_row + 1 + np.arange(pairs)
    row_index = np.concatenate([
        cust, customers + fac, customers + np.arange(facilities),
        np.full(facilities, total_row), link_rows, link_rows,
    ])  # fmt: skip
    col_index = np.concatenate([
        x_col, x_col, np.arange(facilities), np.arange(facilities), x_col, fac,
    ])  # fmt: skip
    values = np.concatenate([
        np.ones(pairs), demand[cust], -capacity, capacity, np.ones(pairs), -np.ones(pairs),
    ])  # fmt: skip
    shape = (total_row + 1 + pairs, facilities + pairs)
    A = sp.csr_matrix((values, (row_index, col_index)), shape=shape)
    row_lower = np.concatenate([
        np.ones(customers), np.full(facilities, -np.inf), [demand.sum()], np.full(pairs, -np.inf),
    ])  # fmt: skip
    row_upper = np.concatenate([
        np.ones(customers), np.zeros(facilities), [np.inf], np.zeros(pairs),
    ])  # fmt: skip
    integer = np.concatenate([np.ones(facilities, dtype=bool), np.zeros(pairs, dtype=bool)])
    return Problem.from_arrays(
        np.concatenate([fixed, transport.ravel()]), A, row_lower, row_upper, 0.0, 1.0, integer,
        name=f"cfl-{customers}x{facilities}",
    )  # fmt: skip
