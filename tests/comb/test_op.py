"""comb.op orienteering methods: optima by brute force, validity, determinism."""

from __future__ import annotations

from itertools import combinations, permutations

import numpy as np
import pytest

from hybridsolve.comb import OP, solve
from hybridsolve.comb.solve import methods
from hybridsolve.datasets.routing import op as op_instance
from hybridsolve.mip import UsageError


def run(op: OP, method: str, time_limit: float | None = None, seed: int = 0, **options):
    solution = solve(op, method, time_limit=time_limit, seed=seed, **options)
    op.check_tour(solution.tour)
    assert solution.cost == pytest.approx(op.tour_prize(solution.tour))
    assert solution.trajectory[-1][1] == pytest.approx(solution.cost)
    return solution.tour


def brute_force(op: OP) -> float:
    d = op.distance_matrix()
    best = 0.0
    nodes = range(1, op.num_nodes)
    for k in range(1, op.num_nodes):
        for subset in combinations(nodes, k):
            prize = float(op.prizes[list(subset)].sum())
            if prize <= best:
                continue
            for order in permutations(subset):
                walk = (0, *order, 0)
                if sum(d[a, b] for a, b in zip(walk, walk[1:])) <= op.max_length:
                    best = prize
                    break
    return best


@pytest.mark.parametrize("prizes", ["const", "uniform", "distance"])
@pytest.mark.parametrize("seed", range(4))
def test_iterated_local_search_finds_the_brute_force_optimum(seed, prizes):
    rng = np.random.default_rng(seed)
    op = op_instance(rng, 7, prizes=prizes, max_length=1.2 + 0.4 * seed)
    optimum = brute_force(op)
    assert op.tour_prize(run(op, "ils", iterations=200)) == pytest.approx(optimum)
    assert op.tour_prize(run(op, "greedy")) <= optimum + 1e-9


def test_greedy_inserts_by_prize_per_added_length():
    # depot at 0; node 1 at distance 1 (prize 1), node 2 at distance 3 (prize 2)
    op = OP([[0, 0], [1, 0], [-3, 0]], [0, 1, 2], max_length=6)
    # ratios 1 / 2 against 2 / 6: node 1 first, after which node 2 no longer fits
    assert run(op, "greedy").tolist() == [1]
    assert run(op, "ils").tolist() == [2]


def test_limits_at_both_ends():
    op = op_instance(np.random.default_rng(1), 20, prizes="uniform", max_length=0.0)
    assert run(op, "ils").size == 0
    wide = op_instance(np.random.default_rng(1), 20, prizes="uniform", max_length=100.0)
    assert sorted(run(wide, "greedy").tolist()) == list(range(1, 21))
    solution = solve(wide, time_limit=30.0)
    assert sorted(solution.tour.tolist()) == list(range(1, 21))
    assert solution.runtime < 5.0  # every node on the tour: nothing left to search for


def test_nint_rounding_and_zero_prizes():
    # rounded: 5 from the depot to nodes 1, 3 and 4; d(1, 3) = 3, d(1, 4) = 4, d(3, 4) = 7
    coords = [[0, 0], [3, 4], [6, 8], [0, 5], [5, 0]]
    op = OP(coords, [0, 1, 0, 2, 2], max_length=17, rounding="nint")
    tour = run(op, "ils")
    assert sorted(tour.tolist()) == [1, 3, 4]  # length exactly 17; node 2 has no prize
    assert op.tour_length(tour) == 17


def test_same_seed_same_tour_and_better_than_greedy():
    op = op_instance(np.random.default_rng(7), 60, prizes="distance")
    first = run(op, "ils", seed=3, iterations=60)
    assert np.array_equal(first, run(op, "ils", seed=3, iterations=60))
    assert op.tour_prize(first) >= op.tour_prize(run(op, "greedy"))


def test_the_time_limit_bounds_the_run():
    op = op_instance(np.random.default_rng(8), 100, prizes="uniform")
    solution = solve(op, time_limit=0.3)
    assert solution.method == "ils" and methods(op) == ("greedy", "ils")
    op.check_tour(solution.tour)
    assert 0.3 <= solution.runtime < 1.5


def test_bad_iterations_are_refused():
    op = op_instance(np.random.default_rng(0), 5)
    with pytest.raises(UsageError, match="iterations must be a non-negative integer"):
        run(op, "ils", iterations=-1)
    with pytest.raises(UsageError, match="method 'greedy' has no option 'iterations'"):
        run(op, "greedy", iterations=3)
