"""comb.knapsack methods: exact DP against brute force and the MIP, greedy bounds."""

from __future__ import annotations

import numpy as np
import pytest

from hybridsolve import solve as mip_solve
from hybridsolve.comb import KP, solve
from hybridsolve.comb.solve import methods
from hybridsolve.mip import UsageError


def run(kp: KP, method: str, time_limit: float | None = None, **options) -> np.ndarray:
    solution = solve(kp, method, time_limit=time_limit, **options)
    kp.check_selection(solution.selection)
    assert solution.cost == pytest.approx(kp.value(solution.selection))
    assert solution.trajectory[-1][1] == pytest.approx(solution.cost)
    return solution.selection


def brute_force(kp: KP) -> float:
    n = kp.num_items
    subsets = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    feasible = subsets @ kp.weights <= kp.capacity
    return float((subsets[feasible] @ kp.values).max())


def random_kp(seed: int, n: int) -> KP:
    rng = np.random.default_rng(seed)
    weights = rng.integers(0, 40, n)
    values = rng.integers(0, 40, n)
    return KP(values, weights, int(rng.integers(0, weights.sum() + 1)))


@pytest.mark.parametrize("seed", range(12))
def test_dp_equals_brute_force_and_greedy_is_half_approximate(seed):
    kp = random_kp(seed, 1 + seed)
    optimum = brute_force(kp)
    assert kp.value(run(kp, "dp")) == pytest.approx(optimum)
    greedy = kp.value(run(kp, "greedy"))
    assert optimum / 2 - 1e-9 <= greedy <= optimum + 1e-9


@pytest.mark.parametrize("n", [15, 60])
def test_dp_equals_the_mip_optimum(n):
    from hybridsolve.datasets.routing import knapsack

    kp = knapsack(np.random.default_rng(n), n)
    result = mip_solve(kp.to_problem(), "highs", mip_rel_gap=0.0)
    assert result.status == "optimal"
    assert kp.value(run(kp, "dp")) == pytest.approx(result.objective)


def test_dp_on_whole_float_weights_and_a_capacity_below_every_weight():
    kp = KP([3.5, 4.0, 1.25], [2.0, 3.0, 1.0], 3.0)
    assert sorted(run(kp, "dp").tolist()) == [0, 2]
    assert run(KP([5, 6], [4, 7], 3), "dp").size == 0


def test_greedy_takes_the_single_best_item_when_that_is_worth_more():
    # by ratio, item 0 (2 / 1) comes first and blocks item 1 (90 / 100)
    kp = KP([2, 90], [1, 100], 100)
    assert run(kp, "greedy").tolist() == [1]
    assert run(kp, "dp").tolist() == [1]


def test_weightless_items_are_always_taken():
    kp = KP([1, 5, 0, 7], [0, 3, 0, 3], 3)
    assert run(kp, "greedy").tolist() == [0, 3]
    assert run(kp, "dp").tolist() == [0, 3]


def test_dp_stopped_by_the_time_limit_is_still_feasible():
    from hybridsolve.datasets.routing import knapsack

    kp = knapsack(np.random.default_rng(5), 200)
    exact = kp.value(run(kp, "dp"))
    stopped = kp.value(run(kp, "dp", time_limit=1e-9))
    assert 0 < stopped <= exact


def test_dp_refuses_fractional_weights_and_capacity():
    with pytest.raises(UsageError, match=r"whole-number weights, got weights\[1\] = 0.5.*'greedy'"):
        run(KP([1, 2], [1, 0.5], 2), "dp")
    with pytest.raises(UsageError, match="whole-number capacity, got 2.5"):
        run(KP([1, 2], [1, 2], 2.5), "dp")


def test_dp_refuses_a_table_beyond_max_cells():
    kp = KP([1, 2, 3], [10, 20, 30], 60)
    with pytest.raises(UsageError, match=r"3 items x 61 capacities = 183 cells > max_cells = 100"):
        run(kp, "dp", max_cells=100)
    for bad in (0, 2.5, True):
        with pytest.raises(UsageError, match="max_cells must be a positive integer"):
            run(kp, "dp", max_cells=bad)


def test_methods_are_registered_with_dp_as_the_default():
    assert methods(KP) == ("greedy", "dp")
    assert solve(KP([3, 4, 5], [1, 2, 3], 4)).method == "dp"
    with pytest.raises(UsageError, match="method 'greedy' has no option 'max_cells'"):
        solve(KP([3], [1], 4), "greedy", max_cells=10)
