"""comb.bounds.packing: knapsack and independent set upper bounds above exact optima."""

from __future__ import annotations

import dataclasses
from itertools import combinations

import numpy as np
import pytest

from hybridsolve.comb import KP, MIS, solve
from hybridsolve.comb.bounds.packing import kp_bound, mis_bound
from hybridsolve.mip import UsageError
from hybridsolve.mip import solve as mip_solve


def random_kp(seed: int, n: int, correlated: bool) -> KP:
    rng = np.random.default_rng(seed)
    weights = rng.integers(1, 100, n)
    values = weights + rng.integers(0, 20, n) if correlated else rng.integers(1, 100, n)
    return KP(values, weights, int(weights.sum() // 3))


def random_mis(seed: int, n: int, p: float, weighted: bool) -> MIS:
    rng = np.random.default_rng(seed)
    pairs = np.array(list(combinations(range(n), 2)))
    edges = pairs[rng.random(len(pairs)) < p]
    return MIS(n, edges, weights=rng.integers(1, 100, n) if weighted else None)


def optimum(problem) -> float:
    result = mip_solve(problem, "scip")
    assert result.status == "optimal"
    return result.objective


def relaxation(problem) -> float:
    lp = dataclasses.replace(problem, integrality=np.zeros(problem.num_vars, dtype=bool))
    result = mip_solve(lp, "highs")
    assert result.status == "optimal"
    return result.objective


# ------------------------------------------------------------------ knapsack


@pytest.mark.parametrize("seed", range(6))
def test_kp_bound_lies_above_the_optimum_and_below_dantzig(seed):
    kp = random_kp(seed, 10 + 4 * seed, correlated=seed % 2 == 1)
    best = solve(kp, "dp").cost
    result = kp_bound(kp)
    assert solve(kp, "greedy").cost <= best <= result.bound <= np.floor(result.dantzig + 1e-6)
    assert result.bound == int(result.bound)  # integer values: rounded down
    assert result.iterations == 0 and result.seconds >= 0


@pytest.mark.parametrize("seed", range(3))
def test_dantzig_is_the_linear_relaxation_and_scip_agrees(seed):
    kp = random_kp(100 + seed, 25, correlated=seed == 1)
    problem = kp.to_problem()
    result = kp_bound(kp)
    assert result.dantzig == pytest.approx(relaxation(problem), rel=1e-9)
    assert optimum(problem) == pytest.approx(solve(kp, "dp").cost)
    assert optimum(problem) <= result.bound


def test_kp_bound_with_fractional_values_is_not_rounded():
    rng = np.random.default_rng(7)
    kp = KP(rng.random(15) * 10, rng.integers(1, 30, 15), 60)
    result = kp_bound(kp)
    assert optimum(kp.to_problem()) <= result.bound <= result.dantzig * (1 + 1e-8)
    assert result.bound != int(result.bound)


def test_martello_toth_improves_on_dantzig():
    # ratios 3, 2, 1.5: items 0 and 1 fill 8 of 9, item 2 (weight 4) is critical
    kp = KP([15, 8, 6], [5, 4, 4], 9)
    result = kp_bound(kp)
    assert result.dantzig == 23 == result.bound  # no room left after items 0 and 1
    kp = KP([15, 8, 6], [5, 4, 4], 10)
    result = kp_bound(kp)
    # Dantzig: 23 + 1 * 1.5 = 24.5; without item 2: 23; with it, drop 3 of item 1 at 2: 23
    assert result.dantzig == pytest.approx(24.5)
    assert result.bound == 23 == solve(kp, "dp").cost


def test_kp_degenerate_cases():
    assert kp_bound(KP([], [], 5)).bound == 0
    assert kp_bound(KP([3, 4], [1, 2], 0)).bound == 0
    assert kp_bound(KP([3, 4, 5], [0, 0, 2], 0)).bound == 7  # weightless items always fit
    assert kp_bound(KP([3, 4], [10, 20], 5)).bound == 0  # nothing fits
    assert kp_bound(KP([3, 4, 0], [1, 2, 1], 100)).bound == 7  # everything fits
    assert kp_bound(KP([3.5, 4.25], [1.0, 2.0], 3.0)).bound == pytest.approx(7.75)


def test_kp_bound_is_deterministic_and_checks_its_arguments():
    kp = random_kp(3, 30, correlated=True)
    assert kp_bound(kp).bound == kp_bound(kp, time_limit=1.0, stop=lambda: True).bound
    with pytest.raises(UsageError, match="needs a KP"):
        kp_bound(MIS(2, [[0, 1]]))
    with pytest.raises(UsageError, match="time_limit"):
        kp_bound(kp, time_limit=0)
    with pytest.raises(UsageError, match="stop"):
        kp_bound(kp, stop=1)


# ------------------------------------------------------------------ independent set


@pytest.mark.parametrize(
    ("seed", "n", "p", "weighted"),
    [(0, 30, 0.2, False), (1, 40, 0.15, True), (2, 50, 0.1, False), (3, 60, 0.1, True),
     (4, 60, 0.3, True)],
)  # fmt: skip
def test_mis_bound_lies_above_the_optimum(seed, n, p, weighted):
    mis = random_mis(seed, n, p, weighted)
    best = optimum(mis.to_problem())
    result = mis_bound(mis)
    heuristic = solve(mis, "ls", seed=seed).cost
    assert heuristic <= best <= result.bound <= result.cover_bound <= mis.weights.sum()
    assert result.bound == int(result.bound)
    assert result.bound <= best + 0.25 * best  # the ascent closes most of the cover's gap
    assert result.trajectory[0][1] == result.cover_bound
    assert result.trajectory[-1][1] == result.bound
    assert result.multipliers.shape == (result.cliques,) and (result.multipliers >= 0).all()


def test_mis_bound_with_fractional_weights_and_a_known_lower_value():
    rng = np.random.default_rng(11)
    mis = random_mis(11, 40, 0.2, weighted=False)
    mis = MIS(mis.num_nodes, mis.edges, weights=rng.random(40))
    best = optimum(mis.to_problem())
    result = mis_bound(mis, lower=solve(mis, "ls").cost)
    assert best <= result.bound <= result.cover_bound
    assert result.bound != int(result.bound)


def test_mis_degenerate_cases():
    empty = mis_bound(MIS(0, np.zeros((0, 2), dtype=int)))
    assert empty.bound == 0 and empty.iterations == 0
    alone = mis_bound(MIS(4, np.zeros((0, 2), dtype=int), weights=[1, 2, 3, 4]))
    assert alone.bound == 10 and alone.iterations == 0
    complete = MIS(5, list(combinations(range(5), 2)), weights=[1, 7, 3, 2, 5])
    assert mis_bound(complete).bound == 7  # one clique: its heaviest node
    path = mis_bound(MIS(4, [[0, 1], [1, 2], [2, 3]]))
    assert path.bound == 2


def test_mis_bound_limits_are_anytime():
    mis = random_mis(5, 60, 0.2, weighted=True)
    best = optimum(mis.to_problem())
    first = mis_bound(mis, stop=lambda: True)
    assert first.iterations == 1 and first.bound == first.cover_bound >= best
    few = mis_bound(mis, iterations=5)
    assert few.iterations == 5 and best <= few.bound <= first.bound
    timed = mis_bound(mis, time_limit=1e-9)  # even the edge cliques are cut short
    assert timed.iterations == 1 and timed.bound >= best


def test_mis_bound_is_deterministic_and_checks_its_arguments():
    mis = random_mis(6, 40, 0.2, weighted=True)
    a, b = mis_bound(mis), mis_bound(mis)
    assert (a.bound, a.iterations, a.trajectory[-1][1]) == (b.bound, b.iterations, b.bound)
    assert np.array_equal(a.multipliers, b.multipliers)
    with pytest.raises(UsageError, match="needs a MIS"):
        mis_bound(KP([1], [1], 1))
    with pytest.raises(UsageError, match="iterations"):
        mis_bound(mis, iterations=0)
    with pytest.raises(UsageError, match="lower"):
        mis_bound(mis, lower=-1.0)
    with pytest.raises(UsageError, match="stop"):
        mis_bound(mis, stop="no")


def triangle_free(seed: int, n: int, weighted: bool) -> MIS:
    """A random bipartite graph plus a 5-cycle of equal weights (its LP is fractional)."""
    rng = np.random.default_rng(seed)
    left, right = np.arange(n // 2), np.arange(n // 2, n)
    pairs = [(a, b) for a in left for b in right if rng.random() < 0.15]
    cycle = [(n + k, n + (k + 1) % 5) for k in range(5)]
    weights = np.r_[rng.integers(1, 20, n), np.full(5, 10)] if weighted else None
    return MIS(n + 5, pairs + cycle, weights=weights)


@pytest.mark.parametrize(("seed", "weighted"), [(0, False), (1, True), (2, True)])
def test_mis_bound_meets_the_lp_relaxation_of_the_edge_formulation(seed, weighted):
    # every clique of a triangle-free graph is an edge or a node, so the bound relaxes
    # exactly the edge rows: its Lagrangian dual is the LP relaxation of to_problem("edge")
    mis = triangle_free(seed, 30, weighted)
    problem = mis.to_problem("edge")
    lp, best = relaxation(problem), optimum(problem)
    assert best < lp  # the 5-cycle leaves a fractional LP
    result = mis_bound(mis, iterations=20000)
    assert best <= result.bound
    # integer weights: the bound is rounded down, as every independent set's weight is
    assert np.floor(lp + 1e-6) <= result.bound <= lp * (1 + 2e-3)
