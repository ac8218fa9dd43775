"""ATSP assignment bound: the cheapest derangement, below exact optima and heuristic tours."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from hybridsolve.comb import ATSP, TSP, solve
from hybridsolve.comb.bounds.atsp import assignment_bound
from hybridsolve.datasets.routing import atsp
from hybridsolve.mip import UsageError


def optimum(matrix: np.ndarray) -> float:
    """Optimal tour cost by enumerating the tours that start at node 0."""
    n = matrix.shape[0]
    return min(
        matrix[0, p[0]] + sum(matrix[u, v] for u, v in itertools.pairwise(p)) + matrix[p[-1], 0]
        for p in itertools.permutations(range(1, n))
    )


def cheapest_derangement(matrix: np.ndarray) -> float:
    """The assignment bound by enumeration: the cheapest permutation without fixed points."""
    n = matrix.shape[0]
    return min(
        sum(matrix[i, s[i]] for i in range(n))
        for s in itertools.permutations(range(n))
        if all(s[i] != i for i in range(n))
    )


def instance(seed: int, n: int, integer: bool) -> ATSP:
    rng = np.random.default_rng(seed)
    return ATSP(rng.integers(1, 100, (n, n)) if integer else rng.random((n, n)))


CASES = [(seed, n, integer) for integer in (False, True)
         for seed, n in ((0, 3), (1, 5), (2, 7), (3, 8), (4, 8))]  # fmt: skip


@pytest.mark.parametrize(("seed", "n", "integer"), CASES)
def test_bound_is_the_cheapest_derangement_and_below_the_optimum(seed, n, integer):
    inst = instance(seed, n, integer)
    matrix = inst.distance_matrix()
    result = assignment_bound(inst)
    assert result.method == "assignment" and result.iterations == 2
    assert result.bound <= optimum(matrix)
    exact = cheapest_derangement(matrix)
    if integer:
        assert result.bound == exact
    else:
        assert exact * (1.0 - 1e-8) <= result.bound <= exact
    assert result.bound >= max(
        np.where(np.eye(n, dtype=bool), np.inf, matrix).min(axis=axis).sum() for axis in (0, 1)
    ) * (1.0 - 1e-8)


def test_an_assignment_that_is_a_tour_gives_the_optimum():
    rng = np.random.default_rng(5)
    matrix = rng.integers(50, 100, (7, 7)).astype(float)
    matrix[np.arange(7), (np.arange(7) + 3) % 7] = 1.0  # the cheap arcs form one cycle
    result = assignment_bound(ATSP(matrix))
    assert result.cycles == 1 and result.bound == 7.0 == optimum(matrix)


def test_bound_is_below_the_heuristic_tour_on_a_hundred_nodes():
    inst = atsp(np.random.default_rng(100), 100, scaled=False)
    result = assignment_bound(inst)
    tour = solve(inst, time_limit=1.0)
    assert 0.5 * tour.cost < result.bound <= tour.cost
    assert result.bound == math.floor(result.bound) and result.cycles > 1


@pytest.mark.parametrize("n", [1, 2])
def test_one_and_two_nodes_give_the_tour_cost(n):
    inst = ATSP(np.array([[0.0, 2.5], [4.25, 0.0]])[:n, :n])
    result = assignment_bound(inst)
    assert result.method == "exact" and result.iterations == 0
    assert result.bound == inst.tour_cost(np.arange(n)) == (0.0, 6.75)[n - 1]


def test_time_limit_and_stop_leave_the_minima_bound():
    inst = instance(9, 40, False)
    calls = []

    def stop() -> bool:
        calls.append(1)
        return True

    for result in (assignment_bound(inst, stop=stop), assignment_bound(inst, time_limit=1e-9)):
        assert result.method == "minima" and result.iterations == 1 and result.cycles == 0
        assert 0.0 < result.bound <= assignment_bound(inst).bound
    assert len(calls) == 1


def test_same_inputs_give_the_same_bound():
    inst = instance(11, 60, False)
    assert assignment_bound(inst).bound == assignment_bound(inst).bound


@pytest.mark.parametrize("options", [{"time_limit": 0}, {"time_limit": True}, {"stop": 3}])
def test_bad_options_are_refused(options):
    with pytest.raises(UsageError):
        assignment_bound(instance(0, 4, False), **options)


def test_only_atsp_instances_are_accepted():
    with pytest.raises(UsageError, match="needs an ATSP"):
        assignment_bound(TSP(coords=np.zeros((3, 2))))
