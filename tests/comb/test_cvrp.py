"""CVRP heuristics: exact optima of small instances, validity, determinism, errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hybridsolve.comb import CVRP, solve
from hybridsolve.comb.solve import methods
from hybridsolve.datasets.routing import cvrp, read_cvrplib
from hybridsolve.mip import ProblemError, UsageError

DATA = Path(__file__).parents[1] / "data"


def exact_cvrp(d: np.ndarray, demands, capacity) -> float:
    """Optimal CVRP cost: Held-Karp for each feasible customer subset, then set partition."""
    n = d.shape[0] - 1
    full = 1 << n
    path = np.full((full, n), np.inf)  # depot -> subset, ending at j
    for j in range(n):
        path[1 << j, j] = d[0, j + 1]
    for s in range(1, full):
        for j in range(n):
            if path[s, j] < np.inf:
                for k in range(n):
                    if not s >> k & 1:
                        t = s | 1 << k
                        path[t, k] = min(path[t, k], path[s, j] + d[j + 1, k + 1])
    load = np.array([sum(demands[j + 1] for j in range(n) if s >> j & 1) for s in range(full)])
    route = np.array([(path[s] + d[1:, 0]).min() if s and load[s] <= capacity else np.inf
                      for s in range(full)])  # fmt: skip
    best = np.full(full, np.inf)
    best[0] = 0.0
    for s in range(1, full):
        low = s & -s
        t = s
        while t:
            if t & low:
                best[s] = min(best[s], route[t] + best[s ^ t])
            t = (t - 1) & s
    return float(best[full - 1])


@pytest.mark.parametrize("seed", range(3))
def test_ils_finds_the_exact_optimum_of_small_instances(seed):
    inst = cvrp(np.random.default_rng(seed), 9, capacity=15)
    best = exact_cvrp(inst.distance_matrix(), inst.demands, inst.capacity)
    sol = solve(inst, "ils", iterations=300, seed=seed)
    inst.check_routes(sol.routes)
    assert sol.cost == pytest.approx(best, rel=1e-9)


def test_cvrplib_x_style_file_with_rounding():
    inst = read_cvrplib(DATA / "x_style.vrp")
    assert inst.rounding == "nint" and inst.num_customers == 10
    best = exact_cvrp(inst.distance_matrix(), inst.demands, inst.capacity)
    sol = solve(inst, iterations=300)
    assert sol.cost == best == inst.routes_cost(sol.routes)
    assert solve(read_cvrplib(DATA / "tiny.vrp"), iterations=100).cost == 44.0


def test_asymmetric_matrix_is_respected():
    rng = np.random.default_rng(4)
    d = rng.integers(1, 100, size=(9, 9)).astype(float)
    inst = CVRP(coords=rng.random((9, 2)), demands=[0, 3, 4, 5, 2, 6, 1, 4, 3], capacity=10,
                distances=d)  # fmt: skip
    best = exact_cvrp(inst.distances, inst.demands, inst.capacity)
    sol = solve(inst, iterations=400)
    inst.check_routes(sol.routes)
    assert sol.cost == pytest.approx(best)


@pytest.mark.parametrize("name", methods(CVRP))
def test_every_method_returns_valid_routes(name):
    inst = cvrp(np.random.default_rng(6), 200)
    sol = solve(inst, name, **({"iterations": 100} if name == "ils" else {}))
    inst.check_routes(sol.routes)
    assert sol.cost == pytest.approx(inst.routes_cost(sol.routes))
    assert all(len(route) > 0 for route in sol.routes)


def test_search_improves_and_same_seed_same_routes():
    inst = cvrp(np.random.default_rng(9), 120)
    start = solve(inst, "savings").cost
    local = solve(inst, "local_search").cost
    a = solve(inst, "ils", iterations=300, seed=1)
    b = solve(inst, "ils", iterations=300, seed=1)
    assert a.cost < local < start
    assert [r.tolist() for r in a.routes] == [r.tolist() for r in b.routes]
    sweep = solve(inst, "sweep", seed=2)
    inst.check_routes(sweep.routes)
    assert solve(inst, "local_search", start="sweep").cost < sweep.cost


def test_time_limit_is_respected():
    inst = cvrp(np.random.default_rng(3), 500)
    sol = solve(inst, time_limit=1.0)
    inst.check_routes(sol.routes)
    assert sol.runtime < 2.5


def test_bad_inputs_give_clear_errors():
    coords = [[0, 0], [1, 0], [0, 1]]
    with pytest.raises(ProblemError, match="demands must be non-negative"):
        CVRP(coords=coords, demands=[0, -1, 2], capacity=5)
    with pytest.raises(ProblemError, match="customer 2 has demand 7 > capacity 5"):
        CVRP(coords=coords, demands=[0, 1, 7], capacity=5)
    with pytest.raises(ProblemError, match="demands has shape"):
        CVRP(coords=coords, demands=[0, 1], capacity=5)
    inst = CVRP(coords=coords, demands=[0, 1, 2], capacity=5)
    with pytest.raises(UsageError, match="unknown method 'tabu'"):
        solve(inst, "tabu")
    with pytest.raises(UsageError, match="unknown start 'random'"):
        solve(inst, "local_search", start="random")
    with pytest.raises(UsageError, match="blink must be"):
        solve(inst, blink=2.0)
    with pytest.raises(UsageError, match="has no option 'segment'"):
        solve(inst, segment=3)
