"""The two public problem benchmarks of the ML4CO 2021 competition, generated anew.

The competition (Gasse et al. 2022) published fixed instance sets; these generators follow
its problem descriptions (the formulations of its ``DATA.md``) with size parameters of our
own, and build every instance around a known feasible solution.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from hybridsolve.mip import Problem

__all__ = ["item_placement", "load_balancing"]


def item_placement(
    rng: np.random.Generator,
    items: int = 100,
    bins: int = 10,
    resources: int = 5,
    slack: float = 1.1,
) -> Problem:
    """Balanced item placement: put every item in a bin, balancing resource use over bins.

    The "balanced item placement" benchmark of the ML4CO 2021 competition. Item sizes per
    resource are uniform integers in 1-100. Capacities are made so that a random reference
    placement fits: ``capacity[b, r] = max(load of b under it, slack * mean load)``, rounded
    up. Variables: ``place[i, b]`` binary (row-major), ``deficit[b, r]`` and
    ``max_deficit[r]`` in [0, 1]. Constraints: each item placed once; capacities respected;
    ``deficit[b, r] >= 1 - bins * load[b, r] / total[r]`` (the bin's normalised shortfall
    under an even split; the row is multiplied by ``total[r]`` so that all coefficients are
    integers); ``deficit[b, r] <= max_deficit[r]``. Objective
    ``min 10 * bins * resources * sum max_deficit + sum deficit``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    items, bins, resources : int
        Numbers of items, bins and resource types.
    slack : float
        Capacity over the mean load per bin, at least that of the reference placement.

    Returns
    -------
    Problem

    References
    ----------
    M. Gasse et al., "The machine learning for combinatorial optimization competition
    (ML4CO): results and insights", NeurIPS 2021 Competitions and Demonstrations Track,
    PMLR 176 (2022), 220-231.
    """
    size = rng.integers(1, 101, size=(items, resources)).astype(np.float64)
    reference = rng.integers(0, bins, size=items)
    load = np.zeros((bins, resources))
    np.add.at(load, reference, size)
    total = size.sum(axis=0)
    capacity = np.ceil(np.maximum(load, slack * total / bins))

    n_place = items * bins
    place = np.arange(n_place).reshape(items, bins)
    deficit = n_place + np.arange(bins * resources).reshape(bins, resources)
    max_deficit = n_place + bins * resources + np.arange(resources)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lower: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    row = 0

    def add(r: np.ndarray, c: np.ndarray, v: np.ndarray, lo: np.ndarray, up: np.ndarray):
        nonlocal row
        rows.append(row + r)
        cols.append(c)
        vals.append(v)
        lower.append(lo)
        upper.append(up)
        row += lo.size

    item, b = np.divmod(np.arange(n_place), bins)
    add(item, place.ravel(), np.ones(n_place), np.ones(items), np.ones(items))
    for r in range(resources):  # supply: sum_i size[i, r] place[i, b] <= capacity[b, r]
        add(b, place.ravel(), size[item, r], np.full(bins, -np.inf), capacity[:, r])
    for r in range(resources):  # total[r] deficit[b, r] + bins load[b, r] >= total[r]
        add(
            np.concatenate([b, np.arange(bins)]),
            np.concatenate([place.ravel(), deficit[:, r]]),
            np.concatenate([bins * size[item, r], np.full(bins, total[r])]),
            np.full(bins, total[r]),
            np.full(bins, np.inf),
        )
    for r in range(resources):  # deficit[b, r] - max_deficit[r] <= 0
        add(
            np.concatenate([np.arange(bins), np.arange(bins)]),
            np.concatenate([deficit[:, r], np.full(bins, max_deficit[r])]),
            np.concatenate([np.ones(bins), -np.ones(bins)]),
            np.full(bins, -np.inf),
            np.zeros(bins),
        )
    num_vars = n_place + bins * resources + resources
    A = sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(row, num_vars),
    )
    c = np.concatenate(
        [np.zeros(n_place), np.ones(bins * resources), np.full(resources, 10.0 * bins * resources)]
    )
    integer = np.arange(num_vars) < n_place
    names = (
        [f"place_{i}_{k}" for i in range(items) for k in range(bins)]
        + [f"deficit_{k}_{r}" for k in range(bins) for r in range(resources)]
        + [f"max_deficit_{r}" for r in range(resources)]
    )
    return Problem.from_arrays(
        c, A, np.concatenate(lower), np.concatenate(upper), 0.0, 1.0, integer,
        var_names=names, name=f"itemplace-{items}x{bins}x{resources}",
    )  # fmt: skip


def load_balancing(
    rng: np.random.Generator,
    workers: int = 50,
    workloads: int = 200,
    allowed: int = 5,
    slack: float = 1.2,
) -> Problem:
    """Robust workload apportionment: activate workers so any single failure is survivable.

    The "workload apportionment" benchmark of the ML4CO 2021 competition. Workload ``j``
    needs ``load_j`` (uniform integer in 10-100) and may run on ``allowed`` distinct random
    workers. Capacities are made so that the reference apportionment (each workload's load
    split evenly over its allowed workers, ``load_j / (allowed - 1)`` each, which survives
    any one failure) fits: ``capacity_i = ceil(max(reference use, slack * mean use))``;
    activation costs are uniform integers in 1-100. Variables: ``used_i`` binary, then
    ``reserved[i, j] >= 0`` for each allowed pair. Constraints: capacity
    ``sum_j reserved[i, j] <= capacity_i``; activation ``reserved[i, j] <= max(capacity_i,
    load_j) used_i``; robustness: for every workload ``j`` and every allowed worker ``f``,
    ``sum_{i != f} reserved[i, j] >= load_j``. ``min sum cost_i used_i``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    workers, workloads : int
        Numbers of workers and of workloads.
    allowed : int
        Workers allowed per workload, at least 2.
    slack : float
        Capacity over the mean reference use per worker.

    Returns
    -------
    Problem

    References
    ----------
    M. Gasse et al., "The machine learning for combinatorial optimization competition
    (ML4CO): results and insights", NeurIPS 2021 Competitions and Demonstrations Track,
    PMLR 176 (2022), 220-231.
    """
    if not 2 <= allowed <= workers:
        raise ValueError(f"need 2 <= allowed <= workers, got allowed={allowed}")
    load = rng.integers(10, 101, size=workloads).astype(np.float64)
    cost = rng.integers(1, 101, size=workers).astype(np.float64)
    pair_worker = np.concatenate(
        [np.sort(rng.choice(workers, size=allowed, replace=False)) for _ in range(workloads)]
    )
    pair_load = np.repeat(np.arange(workloads), allowed)
    use = np.bincount(pair_worker, weights=load[pair_load] / (allowed - 1), minlength=workers)
    capacity = np.ceil(np.maximum(use, slack * use.mean()))

    pairs = pair_worker.size
    reserved = workers + np.arange(pairs)
    # capacity rows, then activation rows, then one robustness row per (workload, failure)
    robust_rows = workers + pairs + np.arange(pairs)
    # robustness entries (workload j, failed worker f, member i): reserved[j, i] for i != f
    shape = (workloads, allowed, allowed)
    member_rows = np.broadcast_to(robust_rows.reshape(workloads, allowed, 1), shape).ravel()
    member_cols = np.broadcast_to(reserved.reshape(workloads, 1, allowed), shape).ravel()
    failed = np.broadcast_to(np.eye(allowed, dtype=bool), shape).ravel()
    row_index = np.concatenate([
        pair_worker, workers + np.arange(pairs), workers + np.arange(pairs),
        member_rows[~failed],
    ])  # fmt: skip
    col_index = np.concatenate([reserved, reserved, pair_worker, member_cols[~failed]])
    big_m = np.maximum(capacity[pair_worker], load[pair_load])
    values = np.concatenate([
        np.ones(pairs), np.ones(pairs), -big_m, np.ones(int((~failed).sum())),
    ])  # fmt: skip
    A = sp.csr_matrix(
        (values, (row_index, col_index)), shape=(workers + 2 * pairs, workers + pairs)
    )
    row_lower = np.concatenate([np.full(workers + pairs, -np.inf), load[pair_load]])
    row_upper = np.concatenate([capacity, np.zeros(pairs), np.full(pairs, np.inf)])
    upper = np.concatenate([np.ones(workers), np.full(pairs, np.inf)])
    integer = np.arange(workers + pairs) < workers
    names = [f"used_{i}" for i in range(workers)] + [
        f"reserved_{i}_{j}" for i, j in zip(pair_worker, pair_load)
    ]
    return Problem.from_arrays(
        np.concatenate([cost, np.zeros(pairs)]), A, row_lower, row_upper, 0.0, upper, integer,
        var_names=names, name=f"loadbal-{workers}x{workloads}",
    )  # fmt: skip
