"""TSP/ATSP heuristics: brute-force optima, validity, determinism, large instances, errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from hybridsolve.comb import ATSP, TSP, solve
from hybridsolve.comb.solve import methods
from hybridsolve.comb.tsp import EXACT_NODES, construct
from hybridsolve.datasets.routing import atsp, read_tsplib, tsp_uniform
from hybridsolve.mip import ProblemError, UsageError

DATA = Path(__file__).parents[1] / "data"


def brute_force(matrix: np.ndarray) -> float:
    """Shortest closed tour by trying every order of the nodes after node 0."""
    n = matrix.shape[0]
    rest = np.array(list(itertools.permutations(range(1, n))))
    tours = np.hstack([np.zeros((len(rest), 1), dtype=int), rest])
    return float(matrix[tours, np.roll(tours, -1, axis=1)].sum(axis=1).min())


@pytest.mark.parametrize("seed", range(4))
def test_ils_finds_the_brute_force_optimum_of_nine_cities(seed):
    inst = tsp_uniform(np.random.default_rng(seed), 9)
    best = brute_force(inst.distance_matrix())
    sol = solve(inst, "ils", iterations=300, seed=seed)
    assert sol.cost == pytest.approx(best, rel=1e-12)
    inst.check_tour(sol.tour)


@pytest.mark.parametrize("seed", range(4))
def test_atsp_ils_finds_the_brute_force_optimum(seed):
    inst = atsp(np.random.default_rng(seed), 9)
    best = brute_force(inst.distances)
    assert solve(inst, iterations=300, seed=seed).cost == pytest.approx(best, rel=1e-12)


@pytest.mark.parametrize("n", [1, 2, 3, 5, EXACT_NODES])
def test_small_instances_are_solved_exactly(n):
    rng = np.random.default_rng(n)
    sym = TSP(coords=rng.random((n, 2)))
    asym = ATSP(rng.random((n, n)))
    for inst, matrix in ((sym, sym.distance_matrix()), (asym, asym.distances)):
        sol = solve(inst)
        inst.check_tour(sol.tour)
        assert sol.cost == pytest.approx(brute_force(matrix) if n > 1 else 0.0)


def test_tsplib_file_with_euc_2d_rounding():
    inst = read_tsplib(DATA / "euc10.tsp")
    assert inst.rounding == "nint"
    best = brute_force(inst.distance_matrix())
    sol = solve(inst, iterations=200)
    assert sol.cost == best == inst.tour_cost(sol.tour)
    assert sol.cost == int(sol.cost)  # rounded edges
    assert solve(read_tsplib(DATA / "tiny.tsp")).cost == 15.0


def test_explicit_symmetric_matrix_defines_the_cost():
    rng = np.random.default_rng(3)
    m = rng.integers(1, 50, size=(9, 9)).astype(float)
    m = m + m.T
    inst = TSP(coords=rng.random((9, 2)), distances=m)  # coordinates only for display
    assert solve(inst, iterations=300).cost == brute_force(inst.distances)


@pytest.mark.parametrize("name", methods(TSP))
def test_every_tsp_method_returns_a_valid_tour(name):
    inst = tsp_uniform(np.random.default_rng(7), 300)
    sol = solve(inst, name, **({"iterations": 300} if name == "ils" else {}))
    inst.check_tour(sol.tour)
    assert sol.cost == pytest.approx(inst.tour_cost(sol.tour))
    assert sol.method == name and sol.runtime >= 0
    times = [t for t, _ in sol.trajectory]
    costs = [c for _, c in sol.trajectory]
    assert times == sorted(times) and costs == sorted(costs, reverse=True)


@pytest.mark.parametrize("name", methods(ATSP))
def test_every_atsp_method_returns_a_valid_tour(name):
    inst = atsp(np.random.default_rng(8), 60)
    sol = solve(inst, name, **({"iterations": 200} if name == "ils" else {}))
    inst.check_tour(sol.tour)
    assert sol.cost == pytest.approx(inst.tour_cost(sol.tour))


def test_local_search_improves_on_its_start_and_ils_on_local_search():
    inst = tsp_uniform(np.random.default_rng(11), 500)
    start = inst.tour_cost(construct(inst, "greedy"))
    two = solve(inst, "two_opt").cost
    oropt = solve(inst, "or_opt").cost
    best = solve(inst, "ils", iterations=2000).cost
    assert best < oropt < start and two < start
    # a random uniform 500-city tour is about 0.7124 sqrt(n A) (1 + 0.33 / n) long
    assert best < 0.7124 * np.sqrt(500) * 1.05


def test_same_seed_same_tour_and_seeds_differ():
    inst = tsp_uniform(np.random.default_rng(5), 400)
    a = solve(inst, iterations=500, seed=3)
    b = solve(inst, iterations=500, seed=3)
    c = solve(inst, iterations=500, seed=4)
    np.testing.assert_array_equal(a.tour, b.tour)
    assert a.cost == b.cost
    assert not np.array_equal(a.tour, c.tour)
    x = solve(atsp(np.random.default_rng(1), 40), iterations=200, seed=2)
    y = solve(atsp(np.random.default_rng(1), 40), iterations=200, seed=2)
    np.testing.assert_array_equal(x.tour, y.tour)


def test_large_instance_needs_no_matrix_and_respects_the_time_limit():
    inst = tsp_uniform(np.random.default_rng(2), 6000)
    with pytest.raises(ProblemError, match="refused"):
        inst.distance_matrix()
    sol = solve(inst, time_limit=1.0)
    inst.check_tour(sol.tour)
    assert sol.runtime < 2.5
    assert sol.cost < 0.7124 * np.sqrt(6000) * 1.10


def test_duplicate_points_and_collinear_cities():
    coords = np.array([[0, 0], [1, 0], [1, 0], [2, 0], [2, 0], [3, 0], [0, 0], [1.5, 0]] * 3, float)
    inst = TSP(coords=coords)
    for name in methods(TSP):
        sol = solve(inst, name, **({"iterations": 100} if name == "ils" else {}))
        inst.check_tour(sol.tour)
    assert solve(inst, iterations=100).cost == pytest.approx(6.0)


def test_bad_inputs_give_clear_errors():
    inst = tsp_uniform(np.random.default_rng(0), 20)
    with pytest.raises(UsageError, match="unknown method 'three_opt'.*choose from"):
        solve(inst, "three_opt")
    with pytest.raises(UsageError, match="has no option 'iterationz'"):
        solve(inst, iterations=5, iterationz=5)
    with pytest.raises(UsageError, match="time_limit must be a positive"):
        solve(inst, time_limit=0)
    with pytest.raises(UsageError, match="seed must be an integer"):
        solve(inst, seed=1.5)
    with pytest.raises(UsageError, match="k .* positive integer"):
        solve(inst, "two_opt", k=0)
    with pytest.raises(UsageError, match="iterations must be a positive integer"):
        solve(inst, iterations=-3)
    with pytest.raises(UsageError, match="unknown start 'random'"):
        solve(inst, "two_opt", start="random")
    with pytest.raises(UsageError, match="unknown method 'two_opt' for ATSP"):
        solve(atsp(np.random.default_rng(0), 10), "two_opt")
    with pytest.raises(UsageError, match="space_filling needs node coordinates"):
        solve(TSP(distances=np.ones((5, 5))), "space_filling")
    with pytest.raises(UsageError, match="no heuristics for str"):
        solve("berlin52.tsp")
    with pytest.raises(ProblemError, match="shape"):
        TSP(coords=np.zeros((5, 3)))
    with pytest.raises(ProblemError, match="square"):
        ATSP(np.zeros((4, 5)))
