"""comb.bounds.orienteering: prize upper bounds above exact optima and heuristic tours."""

from __future__ import annotations

import numpy as np
import pytest

from hybridsolve.comb import KP, OP, solve
from hybridsolve.comb.bounds import orienteering
from hybridsolve.comb.bounds.orienteering import op_bound
from hybridsolve.datasets.routing import op as op_instance
from hybridsolve.mip import UsageError


def optimum(op: OP) -> float:
    """Best prize by dynamic programming over node subsets (shortest closed walks, Held-Karp).

    ``walk[S, j]``: shortest path from the depot through the nodes of ``S`` (bit ``j - 1``
    for node ``j``) ending at ``j``; a subset is feasible when its shortest tour fits.
    """
    d = op.distance_matrix()
    m = op.num_nodes - 1
    walk = np.full((1 << m, m), np.inf)
    for j in range(m):
        walk[1 << j, j] = d[0, j + 1]
    for subset in range(1, 1 << m):
        for j in range(m):
            if np.isfinite(walk[subset, j]):
                for k in range(m):
                    if not subset >> k & 1:
                        bigger = subset | 1 << k
                        walk[bigger, k] = min(walk[bigger, k], walk[subset, j] + d[j + 1, k + 1])
    best = 0.0
    for subset in range(1, 1 << m):
        members = [j for j in range(m) if subset >> j & 1]
        length = min(walk[subset, j] + d[j + 1, 0] for j in members)
        if length <= op.max_length + 1e-9:
            best = max(best, float(op.prizes[[j + 1 for j in members]].sum()))
    return best


def random_op(seed: int, n: int, rounding: str) -> OP:
    rng = np.random.default_rng(seed)
    kind = ("const", "uniform", "distance")[seed % 3]
    base = op_instance(rng, n, kind, max_length=(1.0, 1.5, 2.0, 2.5)[seed % 4])
    if rounding == "none":
        return base
    return OP(np.round(100 * base.coords), base.prizes, 100 * base.max_length, rounding="nint")


@pytest.mark.parametrize("rounding", ["none", "nint"])
@pytest.mark.parametrize("seed", range(6))
def test_bound_lies_above_the_optimum_and_the_heuristic(seed, rounding):
    op = random_op(seed, 9, rounding)
    best = optimum(op)
    result = op_bound(op)
    assert solve(op, "ils", seed=seed).cost <= best + 1e-9
    assert best <= result.bound <= max(result.single, result.knapsack)
    assert result.bound <= 1.3 * best  # the cuts leave little of the knapsack's gap
    assert result.trajectory[-1][1] == result.bound


def test_bound_on_a_larger_instance_is_close_to_the_heuristic():
    op = op_instance(np.random.default_rng(3), 50, "uniform")
    result = op_bound(op)
    heuristic = solve(op, "ils").cost
    assert heuristic <= result.bound <= 1.1 * heuristic < result.knapsack
    assert result.iterations > 1 and result.cuts > 0


def test_budget_too_short_to_leave_the_depot():
    coords = [[0, 0], [1, 0], [0, 2], [3, 3]]
    op = OP(coords, [0, 1, 2, 3], max_length=1.5)
    result = op_bound(op)
    assert result.bound == 0 and result.single == 0 and result.reachable == 0


def test_single_node_tours_are_bounded_exactly():
    # node 1 alone fits (length 2), node 2 is out of reach (length 3 > 2.5)
    op = OP([[0, 0], [1, 0], [-1.5, 0]], [0, 4, 5], max_length=2.5)
    result = op_bound(op)
    assert result.single == 4 and result.bound == 4 == optimum(op)


def test_nint_distances_without_the_triangle_inequality():
    # steps of 0.4 round to 0, the direct 0.8 and 1.2 to 1: node 3 lies 1 from the depot
    # but 0 along 0-1-2-3, so the tour 0-1-2-3-0 of length 1 collects everything
    op = OP([[0, 0], [0.4, 0], [0.8, 0], [1.2, 0]], [0, 1, 2, 3], 1.0, rounding="nint")
    assert op.tour_length([1, 2, 3]) == 1 and op.tour_length([3]) == 2
    assert op_bound(op).bound >= optimum(op) == 6


def test_stage_two_can_be_skipped_or_stopped(monkeypatch):
    op = random_op(3, 9, "none")
    best = optimum(op)
    stopped = op_bound(op, stop=lambda: True)
    assert stopped.iterations == 1 and best <= stopped.bound
    timed = op_bound(op, time_limit=1e-9)
    assert timed.iterations <= 1 and best <= timed.bound
    monkeypatch.setattr(orienteering, "LP_NODES", 2)
    skipped = op_bound(op)
    assert skipped.reachable > 2 and skipped.iterations == 0
    assert best <= skipped.bound == max(skipped.single, skipped.knapsack)


def test_bound_is_deterministic_and_checks_its_arguments():
    op = random_op(2, 9, "nint")
    a, b = op_bound(op), op_bound(op)
    assert (a.bound, a.cuts, a.iterations) == (b.bound, b.cuts, b.iterations)
    with pytest.raises(UsageError, match="needs an OP"):
        op_bound(KP([1], [1], 1))
    with pytest.raises(UsageError, match="time_limit"):
        op_bound(op, time_limit="1")
    with pytest.raises(UsageError, match="stop"):
        op_bound(op, stop=0)
