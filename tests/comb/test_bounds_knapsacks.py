"""comb.bounds.knapsacks: multi-dimensional and multiple knapsack bounds between optimum and LP."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hybridsolve import datasets
from hybridsolve.comb.bounds.knapsacks import mkp_bound, multiple_kp_bound
from hybridsolve.mip import UsageError
from hybridsolve.mip import solve as mip_solve


def optimum(problem) -> float:
    result = mip_solve(problem, "scip", time_limit=20.0)
    assert result.status == "optimal"
    return result.objective


def relaxation(problem) -> float:
    lp = dataclasses.replace(problem, integrality=np.zeros(problem.num_vars, dtype=bool))
    result = mip_solve(lp, "highs")
    assert result.status == "optimal"
    return result.objective


def mkp_instance(seed: int, items: int, knapsacks: int):
    problem = datasets.multidimensional_knapsack(np.random.default_rng(seed), items, knapsacks)
    return problem, (problem.c, problem.A.toarray(), problem.row_upper)


def multiple_instance(seed: int, items: int, knapsacks: int, correlated: bool = False):
    rng = np.random.default_rng(seed)
    problem = datasets.multiple_knapsack(rng, items, knapsacks, correlated)
    capacity_rows = problem.A.toarray()[items:]  # rows after the items' assignment rows
    return problem, (problem.c[:items], capacity_rows[0, :items], problem.row_upper[items:])


# ------------------------------------------------------------------ multi-dimensional


@pytest.mark.parametrize(("seed", "items", "knapsacks"), [(0, 30, 3), (1, 45, 4), (2, 60, 5)])
def test_mkp_bound_lies_between_the_optimum_and_the_lp(seed, items, knapsacks):
    problem, arrays = mkp_instance(seed, items, knapsacks)
    result = mkp_bound(*arrays)
    lp = relaxation(problem)
    assert result.lower <= optimum(problem) <= result.bound <= lp + 1e-6
    assert result.lp == pytest.approx(lp, rel=1e-9)
    assert result.bound == int(result.bound)  # integer profits: rounded down
    assert result.exact and result.iterations > 1
    assert result.multipliers[result.row] == 0 and np.all(result.multipliers >= 0)


def test_the_lagrangian_bound_is_below_the_lp_on_seeded_instances():
    below = 0
    for seed in range(5):
        problem, arrays = mkp_instance(10 + seed, 40, 4)
        result = mkp_bound(*arrays)
        lp = relaxation(problem)
        assert result.bound <= lp + 1e-6
        below += result.bound < np.floor(lp + 1e-6)  # better than the LP rounded down
    assert below >= 3


def test_mkp_first_value_at_the_lp_duals_is_already_below_the_lp():
    problem, arrays = mkp_instance(3, 40, 4)
    first = mkp_bound(*arrays, iterations=1)
    assert first.iterations == 1
    assert optimum(problem) <= first.bound <= relaxation(problem) + 1e-6
    assert mkp_bound(*arrays).bound <= first.bound


def test_mkp_bound_is_anytime_and_reports_progress():
    problem, arrays = mkp_instance(4, 40, 4)
    best = optimum(problem)
    seen: list[float] = []
    result = mkp_bound(*arrays, progress=seen.append)
    assert seen and seen[-1] == result.bound
    assert all(a > b for a, b in zip(seen, seen[1:], strict=False))
    assert [b for _, b in result.trajectory] == seen
    for cut in (
        mkp_bound(*arrays, stop=lambda: True),
        mkp_bound(*arrays, time_limit=1e-6),
        mkp_bound(*arrays, iterations=3),
    ):
        assert best <= result.bound <= cut.bound
        assert cut.iterations <= 3
    assert mkp_bound(*arrays, iterations=3).iterations == 3


def test_mkp_bound_is_deterministic():
    _, arrays = mkp_instance(5, 50, 5)
    first, second = mkp_bound(*arrays), mkp_bound(*arrays)
    assert first.bound == second.bound and first.iterations == second.iterations
    assert np.array_equal(first.multipliers, second.multipliers)
    with pytest.raises(ValueError):
        first.multipliers[0] = 1.0  # read-only


def test_mkp_fractional_weights_fall_back_to_martello_toth():
    problem, (p, W, b) = mkp_instance(6, 30, 3)
    W = W + 0.5  # no longer whole: the inner knapsack is bounded by U2
    problem = dataclasses.replace(problem, A=type(problem.A)(W))
    result = mkp_bound(p, W, b)
    assert not result.exact
    assert optimum(problem) <= result.bound <= relaxation(problem) + 1e-6


def test_mkp_fractional_profits_are_not_rounded():
    problem, (p, W, b) = mkp_instance(7, 30, 3)
    p = p + 0.25
    problem = dataclasses.replace(problem, c=p)
    result = mkp_bound(p, W, b)
    assert optimum(problem) <= result.bound <= relaxation(problem) + 1e-6
    assert result.bound != int(result.bound)


def test_mkp_degenerate_cases():
    assert mkp_bound([], np.zeros((2, 0)), [3, 4]).bound == 0
    W = np.array([[0, 2, 5], [0, 1, 1]])
    # zero capacity: only the weightless item fits
    assert mkp_bound([7, 8, 9], W, [0, 0]).bound == 7
    # every item fits both rows together: the total, no iterations
    loose = mkp_bound([7, 8, 9], W, [10, 10])
    assert loose.bound == 24 and loose.iterations == 0 and loose.row == -1
    # item 2 is too heavy for row 0 alone; items 0 and 1 fit
    assert mkp_bound([7, 8, 9], W, [4, 10]).bound == 15
    # a single row is solved exactly: items 1 and 2 (weight 7) do not fit capacity 6
    single = mkp_bound([1, 8, 9], [[1, 2, 5]], [6])
    assert single.bound == 10 and single.exact and single.iterations == 1
    assert mkp_bound([-5, 3], [[1, 1]], [1]).bound == 3  # a negative profit is never taken


def test_mkp_bound_checks_its_arguments():
    W = [[1, 2], [3, 4]]
    with pytest.raises(UsageError, match="weights must have shape"):
        mkp_bound([1, 2, 3], W, [1, 1])
    with pytest.raises(UsageError, match="weights must have 2 dimension"):
        mkp_bound([1, 2], [1, 2], [1])
    with pytest.raises(UsageError, match="weights must be non-negative"):
        mkp_bound([1, 2], [[1, -2], [3, 4]], [1, 1])
    with pytest.raises(UsageError, match="capacities must be non-negative"):
        mkp_bound([1, 2], W, [1, -1])
    with pytest.raises(UsageError, match="profits must be finite"):
        mkp_bound([1, np.nan], W, [1, 1])
    with pytest.raises(UsageError, match="array of numbers"):
        mkp_bound(["a", 2], W, [1, 1])
    with pytest.raises(UsageError, match="iterations"):
        mkp_bound([1, 2], W, [1, 1], iterations=0)
    with pytest.raises(UsageError, match="iterations"):
        mkp_bound([1, 2], W, [1, 1], iterations=True)
    with pytest.raises(UsageError, match="time_limit"):
        mkp_bound([1, 2], W, [1, 1], time_limit=-1)
    with pytest.raises(UsageError, match="stop"):
        mkp_bound([1, 2], W, [1, 1], stop=1)
    with pytest.raises(UsageError, match="progress"):
        mkp_bound([1, 2], W, [1, 1], progress="no")


# ------------------------------------------------------------------ multiple


@pytest.mark.parametrize(
    ("seed", "items", "knapsacks", "correlated"),
    [(0, 20, 3, False), (1, 20, 3, True), (2, 30, 4, False), (3, 40, 5, False)],
)
def test_multiple_bound_lies_between_the_optimum_and_the_lp(seed, items, knapsacks, correlated):
    problem, arrays = multiple_instance(seed, items, knapsacks, correlated)
    result = multiple_kp_bound(*arrays)
    lp = relaxation(problem)
    assert optimum(problem) <= result.bound <= lp + 1e-6
    # every item fits some knapsack here, so Dantzig's bound of the surrogate is the LP
    assert result.dantzig == pytest.approx(lp, rel=1e-9)
    assert result.exact and result.bound == int(result.bound)
    assert result.capacity <= arrays[2].sum()


def test_multiple_bound_is_strictly_below_the_lp_on_seeded_instances():
    gaps = []
    for seed in range(4):
        problem, arrays = multiple_instance(20 + seed, 30, 4)
        gaps.append(relaxation(problem) - multiple_kp_bound(*arrays).bound)
    assert min(gaps) > 1


def test_multiple_bound_without_dynamic_programming_is_martello_toth():
    problem, (p, w, c) = multiple_instance(5, 25, 3)
    w = w + 0.5  # fractional weights: U2 of the surrogate knapsack
    exact = multiple_kp_bound(p, np.floor(w), c)
    result = multiple_kp_bound(p, w, c)
    assert not result.exact
    assert result.bound <= result.dantzig + 1e-6
    interrupted = multiple_kp_bound(p, np.floor(w), c, stop=lambda: True)
    assert not interrupted.exact and interrupted.bound >= exact.bound
    assert optimum(problem) <= exact.bound


def test_multiple_bound_progress_and_determinism():
    _, arrays = multiple_instance(6, 40, 5)
    seen: list[float] = []
    result = multiple_kp_bound(*arrays, progress=seen.append)
    assert seen[-1] == result.bound and all(a > b for a, b in zip(seen, seen[1:], strict=False))
    again = multiple_kp_bound(*arrays)
    assert (again.bound, again.dantzig, again.capacity) == (
        result.bound, result.dantzig, result.capacity,
    )  # fmt: skip
    tiny = multiple_kp_bound(*arrays, time_limit=1e-9)
    assert tiny.bound >= result.bound


def test_multiple_degenerate_cases():
    assert multiple_kp_bound([], [], [5, 6]).bound == 0
    assert multiple_kp_bound([3, 4], [1, 1], []).bound == 0  # no knapsack
    assert multiple_kp_bound([3, 4, 5], [0, 2, 0], [0, 0]).bound == 8  # weightless items
    # item 2 (weight 9) fits no knapsack; items 0 and 1 fit separately but not together
    assert multiple_kp_bound([5, 6, 100], [4, 4, 9], [5, 5]).bound == 11
    # capacities 5 and 5 are tightened to 4 each (the subset sums are 0, 4, 8): total 8
    assert multiple_kp_bound([5, 6, 7], [4, 4, 4], [5, 5]).capacity == 8
    assert multiple_kp_bound([5, 6, 7], [4, 4, 4], [5, 5]).bound == 13


def test_multiple_bound_checks_its_arguments():
    with pytest.raises(UsageError, match="weights must have 2 entries"):
        multiple_kp_bound([1, 2], [1, 2, 3], [4])
    with pytest.raises(UsageError, match="weights must be non-negative"):
        multiple_kp_bound([1, 2], [1, -2], [4])
    with pytest.raises(UsageError, match="capacities must be non-negative"):
        multiple_kp_bound([1, 2], [1, 2], [-4])
    with pytest.raises(UsageError, match="capacities must be finite"):
        multiple_kp_bound([1, 2], [1, 2], [np.nan])
    with pytest.raises(UsageError, match="capacities must have 1 dimension"):
        multiple_kp_bound([1, 2], [1, 2], [[4]])
    with pytest.raises(UsageError, match="time_limit"):
        multiple_kp_bound([1, 2], [1, 2], [4], time_limit=0)
    with pytest.raises(UsageError, match="stop"):
        multiple_kp_bound([1, 2], [1, 2], [4], stop=3)
