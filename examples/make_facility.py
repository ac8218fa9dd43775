"""Write ``facility.mps.gz``, the README's example: a capacitated facility location MIP.

Instance scheme of Cornuéjols, Sridharan & Thizy (1991), as used by Gasse et al. (2019):
customers and facilities uniform in the unit square, demands U[5, 35], capacities
U[10, 160] scaled to ``ratio`` times total demand, fixed cost
``U[100, 110] * sqrt(capacity) + U[0, 90]``, transport cost ``10 * distance * demand``.
Run ``python examples/make_facility.py`` to regenerate the file bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.sparse as sp

from hybridsolve.mip import Problem, write


def facility_location(customers: int, facilities: int, ratio: float, seed: int) -> Problem:
    """Capacitated facility location with fractional assignments and open/close binaries.

    Variables ``y[f]`` (open, binary) then ``x[c, f]`` (share of customer ``c`` served by
    ``f``); rows: demand ``sum_f x[c, f] = 1``, capacity ``sum_c d[c] x[c, f] <= s[f] y[f]``,
    tightening ``x[c, f] <= y[f]``, and total capacity ``sum_f s[f] y[f] >= sum_c d[c]``.
    """
    rng = np.random.default_rng(seed)
    cpos, fpos = rng.random((customers, 2)), rng.random((facilities, 2))
    demand = rng.integers(5, 36, size=customers).astype(float)
    capacity = rng.integers(10, 161, size=facilities).astype(float)
    fixed = rng.integers(100, 111, size=facilities) * np.sqrt(capacity)
    fixed += rng.integers(0, 91, size=facilities)
    capacity *= ratio * demand.sum() / capacity.sum()
    distance = np.linalg.norm(cpos[:, None, :] - fpos[None, :, :], axis=2)
    transport = 10.0 * distance * demand[:, None]
    n_x = customers * facilities
    x_index = np.arange(n_x).reshape(customers, facilities) + facilities
    rows, cols, vals, lower, upper = [], [], [], [], []

    def add(indices, coefficients, lo, hi):
        rows.extend([len(lower)] * len(indices))
        cols.extend(indices)
        vals.extend(coefficients)
        lower.append(lo)
        upper.append(hi)

    for c in range(customers):
        add(x_index[c], np.ones(facilities), 1.0, 1.0)
    for f in range(facilities):
        add([*x_index[:, f], f], [*demand, -capacity[f]], -np.inf, 0.0)
    for c in range(customers):
        for f in range(facilities):
            add([x_index[c, f], f], [1.0, -1.0], -np.inf, 0.0)
    add(list(range(facilities)), capacity, demand.sum(), np.inf)
    A = sp.csr_matrix((vals, (rows, cols)), shape=(len(lower), facilities + n_x))
    cost = np.r_[fixed, transport.ravel()]
    integer = np.r_[np.ones(facilities, dtype=bool), np.zeros(n_x, dtype=bool)]
    names = [f"open_{f}" for f in range(facilities)]
    names += [f"serve_{c}_{f}" for c in range(customers) for f in range(facilities)]
    return Problem.from_arrays(
        cost, A, lower, upper, 0.0, 1.0, integer, var_names=names, name="facility"
    )


if __name__ == "__main__":
    target = Path(__file__).with_name("facility.mps.gz")
    write(facility_location(customers=60, facilities=30, ratio=3.0, seed=2026), target)
    print(f"wrote {target}")
