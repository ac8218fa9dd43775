"""comb.graphs independent set methods: optima by brute force, validity, determinism."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from hybridsolve.comb import MIS, solve
from hybridsolve.comb.solve import methods
from hybridsolve.mip import UsageError


def run(mis: MIS, method: str, time_limit: float | None = None, seed: int = 0, **options):
    solution = solve(mis, method, time_limit=time_limit, seed=seed, **options)
    mis.check_independent(solution.selection)
    assert solution.cost == pytest.approx(mis.weight(solution.selection))
    assert solution.trajectory[-1][1] == pytest.approx(solution.cost)
    return solution.selection


def brute_force(mis: MIS) -> float:
    n = mis.num_nodes
    subsets = ((np.arange(2**n)[:, None] >> np.arange(n)) & 1).astype(bool)
    e = mis.edges
    independent = ~(subsets[:, e[:, 0]] & subsets[:, e[:, 1]]).any(axis=1)
    return float((subsets[independent] @ mis.weights).max())


def random_mis(seed: int, n: int, p: float, weighted: bool) -> MIS:
    rng = np.random.default_rng(seed)
    pairs = np.array(list(combinations(range(n), 2)))
    edges = pairs[rng.random(len(pairs)) < p]
    return MIS(n, edges, weights=rng.integers(1, 20, n) if weighted else None)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_local_search_finds_the_brute_force_optimum(seed, weighted):
    mis = random_mis(seed, 8 + seed, 0.15 + 0.05 * (seed % 4), weighted)
    optimum = brute_force(mis)
    assert mis.weight(run(mis, "ls", iterations=300)) == pytest.approx(optimum)
    assert mis.weight(run(mis, "greedy")) <= optimum + 1e-9


def test_greedy_is_maximal_and_follows_the_weight_per_degree_rule():
    star = MIS(5, [[0, 1], [0, 2], [0, 3], [0, 4]], weights=[5, 2, 2, 2, 2])
    # 5 / 5 = 1 for the centre, 2 / 2 = 1 for each leaf: the tie goes to node 0
    assert run(star, "greedy").tolist() == [0]
    heavy = MIS(5, [[0, 1], [0, 2], [0, 3], [0, 4]], weights=[6, 2, 2, 2, 2])
    assert run(heavy, "greedy").tolist() == [0]
    path = MIS(5, [[0, 1], [1, 2], [2, 3], [3, 4]])
    assert run(path, "greedy").tolist() == [0, 2, 4]


def test_the_kicks_escape_a_heavy_centre():
    # no single move improves {centre}; forcing a leaf in frees the other leaves
    star = MIS(4, [[0, 1], [0, 2], [0, 3]], weights=[5, 2, 2, 2])
    assert run(star, "greedy").tolist() == [0]
    assert run(star, "ls", iterations=20).tolist() == [1, 2, 3]


def test_edgeless_and_empty_graphs():
    assert run(MIS(4, np.zeros((0, 2))), "ls").tolist() == [0, 1, 2, 3]
    assert run(MIS(0, np.zeros((0, 2))), "ls").size == 0
    assert run(MIS(0, np.zeros((0, 2))), "greedy").size == 0


def test_same_seed_same_set_on_a_larger_graph():
    from hybridsolve.datasets.graphs import barabasi_albert

    rng = np.random.default_rng(3)
    mis = MIS(400, barabasi_albert(rng, 400, 4), weights=rng.integers(1, 100, 400))
    first = run(mis, "ls", seed=5, iterations=400)
    assert np.array_equal(first, run(mis, "ls", seed=5, iterations=400))
    assert mis.weight(first) >= mis.weight(run(mis, "greedy"))


def test_the_time_limit_bounds_the_run():
    mis = random_mis(1, 300, 0.02, False)
    solution = solve(mis, time_limit=0.3)
    assert solution.method == "ls" and methods(mis) == ("greedy", "ls")
    mis.check_independent(solution.selection)
    assert 0.3 <= solution.runtime < 1.5


@pytest.mark.parametrize("bad", [-1, 2.5, "10", True])
def test_bad_iterations_are_refused(bad):
    with pytest.raises(UsageError, match="iterations must be a non-negative integer"):
        run(MIS(3, [[0, 1]]), "ls", iterations=bad)


def test_bad_options_and_methods_are_refused():
    with pytest.raises(UsageError, match="method 'greedy' has no option 'iterations'"):
        run(MIS(3, [[0, 1]]), "greedy", iterations=5)
    with pytest.raises(UsageError, match="method 'ls' has no option 'kicks'"):
        run(MIS(3, [[0, 1]]), "ls", kicks=5)
    with pytest.raises(UsageError, match="unknown method 'tabu' for MIS; choose from greedy, ls"):
        run(MIS(3, [[0, 1]]), "tabu")
