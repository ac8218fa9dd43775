"""CVRP lower bounds: below exact optima and heuristic costs; degree, radial and LP; limits."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.sparse.csgraph import csgraph_from_dense, dijkstra

from hybridsolve.comb import CVRP, TSP, solve
from hybridsolve.comb._common import lengths
from hybridsolve.comb.bounds.cvrp import (
    DEGREE,
    LP,
    RADIAL,
    _degree_bound,
    _depot_radii,
    _effective_capacity,
    _integer_costs,
    _radial_bound,
    cvrp_bound,
)
from hybridsolve.datasets.routing import cvrp
from hybridsolve.mip import UsageError


def optimal_routes(inst: CVRP) -> list[list[int]]:
    """An optimal solution by enumeration: every route order of every customer subset, then
    the cheapest partition into capacity-feasible routes (subset dynamic program)."""
    d = inst.distance_matrix()
    n = inst.num_customers
    route = {}
    for mask in range(1, 1 << n):
        members = [i + 1 for i in range(n) if mask >> i & 1]
        if inst.demands[members].sum() > inst.capacity:
            continue
        route[mask] = min(
            ((d[0, p[0]] + sum(d[u, v] for u, v in itertools.pairwise(p)) + d[p[-1], 0], p)
             for p in itertools.permutations(members)),
            key=lambda item: item[0],
        )  # fmt: skip
    best = {0: (0.0, [])}
    for mask in range(1, 1 << n):
        low = mask & -mask  # the route holding the lowest customer left
        options = []
        sub = mask
        while sub:
            if sub & low and sub in route and mask ^ sub in best:
                cost, order = route[sub]
                rest_cost, rest = best[mask ^ sub]
                options.append((cost + rest_cost, [list(order), *rest]))
            sub = (sub - 1) & mask
        best[mask] = min(options, key=lambda item: item[0])
    return best[(1 << n) - 1][1]


def small_instance(seed: int, n: int, layout: str) -> CVRP:
    rng = np.random.default_rng(seed)
    xy = 100.0 * rng.random((n + 1, 2))
    demands = np.concatenate([[0], rng.integers(0, 6, n)])
    capacity = float(max(demands.max(), math.ceil(demands.sum() / 2.5)))
    if layout == "asymmetric":
        matrix = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
        matrix *= rng.uniform(1.0, 1.5, matrix.shape)
        return CVRP(coords=xy, demands=demands, capacity=capacity, distances=matrix)
    return CVRP(coords=xy, demands=demands, capacity=capacity, rounding=layout)


CASES = [(seed, n, layout) for layout in ("none", "nint", "asymmetric")
         for seed, n in ((0, 5), (1, 6), (2, 7), (3, 7))]  # fmt: skip


@pytest.mark.parametrize(("seed", "n", "layout"), CASES)
def test_both_bounds_are_below_the_exact_optimum(seed, n, layout):
    inst = small_instance(seed, n, layout)
    routes = optimal_routes(inst)
    inst.check_routes(routes)
    best = inst.routes_cost(routes)
    lp = cvrp_bound(inst)
    closed = cvrp_bound(inst, lp_limit=0)  # the larger of the degree and radial bounds
    radial = _radial_bound(inst, _effective_capacity(inst), _integer_costs(inst))
    assert lp.method == LP and closed.method in (DEGREE, RADIAL)
    assert radial <= closed.bound <= lp.bound <= best
    assert lp.bound >= 0.9 * best
    if layout == "nint":
        assert lp.bound == math.floor(lp.bound) and closed.bound == math.floor(closed.bound)
        assert radial == math.floor(radial)


def scipy_radii(inst: CVRP) -> np.ndarray:
    """Shortest-path distances from the depot under ``min(d_ij, d_ji)``, by SciPy's Dijkstra
    (zero costs kept as edges: ``csgraph_from_dense`` with ``null_value=inf``)."""
    d = inst.distance_matrix()
    graph = csgraph_from_dense(np.minimum(d, d.T), null_value=np.inf)
    return dijkstra(graph, indices=0)[1:]


@pytest.mark.parametrize(("seed", "n", "layout"), CASES)
def test_radial_bound_is_at_least_the_continuous_radial_bound(seed, n, layout):
    inst = small_instance(seed, n, layout)
    delta = scipy_radii(inst)
    np.testing.assert_allclose(_depot_radii(inst), delta, rtol=1e-12, atol=0.0)
    radial = _radial_bound(inst, _effective_capacity(inst), _integer_costs(inst))
    continuous = 2.0 * float(delta @ inst.demands[1:]) / inst.capacity  # Haimovich-Rinnooy Kan
    assert radial >= continuous * (1.0 - 1e-9)


def test_rounding_up_the_vehicles_beats_the_continuous_radial_bound():
    inst = cvrp(np.random.default_rng(300), 300)
    delta = scipy_radii(inst)
    radial = _radial_bound(inst, _effective_capacity(inst), False)
    continuous = 2.0 * float(delta @ inst.demands[1:]) / inst.capacity
    assert 1.02 * continuous < radial <= solve(inst, time_limit=1.0).cost


@pytest.mark.parametrize("rounding", ["none", "nint"])
def test_radii_from_coordinates_are_those_of_the_cost_matrix(rounding):
    rng = np.random.default_rng(11)
    xy = 6.0 * rng.random((301, 2))  # short edges: nint rounding changes shortest paths
    xy[7] = xy[8]  # a zero-cost edge
    i, j = np.meshgrid(np.arange(301), np.arange(301), indexing="ij")
    matrix = lengths(xy[i], xy[j], rounding)  # the very costs routes_cost adds
    demands = np.concatenate([[0], rng.integers(0, 10, 300)])
    coords = CVRP(coords=xy, demands=demands, capacity=30, rounding=rounding)
    given = CVRP(coords=xy, demands=demands, capacity=30, distances=matrix)
    delta = _depot_radii(coords)
    np.testing.assert_array_equal(delta, _depot_radii(given))
    np.testing.assert_allclose(delta, scipy_radii(given), rtol=1e-12, atol=0.0)
    shorter = np.count_nonzero(delta < matrix[0, 1:])
    assert (shorter > 0) if rounding == "nint" else (shorter == 0)


def test_rounding_makes_a_chain_cheaper_than_the_direct_edge_and_the_bound_stays_valid():
    # customers at 0.4, 0.8, ..., 2.0 on a line: every hop rounds to 0, the direct edge
    # from the depot to the last one to nint(2.0) = 2; one route 0-1-2-3-4-5-0 costs 2
    xy = np.column_stack([0.4 * np.arange(6), np.zeros(6)])
    inst = CVRP(coords=xy, demands=[0, 1, 1, 1, 1, 1], capacity=5, rounding="nint")
    best = inst.routes_cost(optimal_routes(inst))
    direct = inst.distance_matrix()[0, 1:]
    assert best == 2.0 and direct.max() == 2.0
    assert 2.0 * direct.max() > best  # the radial bound with delta_i = c_0i would be wrong
    np.testing.assert_array_equal(_depot_radii(inst), np.zeros(5))
    assert _radial_bound(inst, 5, True) == 0.0
    for lp_limit in (0, 200):
        assert cvrp_bound(inst, lp_limit=lp_limit).bound <= best


def test_radial_bound_doubles_the_degree_bound_with_a_far_depot():
    # twenty customers on the unit circle, the depot 1000 away, two per vehicle: ten
    # vehicles each go out and back, while the degree bound counts each depot edge once
    angles = np.linspace(0.0, 6.0, 20)
    xy = np.vstack([[1000.0, 0.0], np.column_stack([np.cos(angles), np.sin(angles)])])
    inst = CVRP(coords=xy, demands=[0] + [1] * 20, capacity=2)
    result = cvrp_bound(inst, lp_limit=0)
    degree = _degree_bound(inst, result.vehicles, False)
    paired = inst.routes_cost([[i, i + 1] for i in range(1, 21, 2)])
    assert result.method == RADIAL and result.vehicles == 10
    assert 1.9 * degree < result.bound <= paired < 1.0001 * result.bound


def test_customers_without_demand_still_need_a_route():
    # no demand at all: the continuous radial bound is 0, one route must reach 10 and back
    xy = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 3.0]])
    inst = CVRP(coords=xy, demands=[0, 0, 0], capacity=1)
    best = inst.routes_cost(optimal_routes(inst))
    result = cvrp_bound(inst, lp_limit=0)
    assert result.method == RADIAL and 20.0 * (1.0 - 2e-9) <= result.bound <= 20.0
    assert result.bound <= best == pytest.approx(13.0 + math.hypot(10.0, 3.0))


def test_bound_is_below_the_heuristic_on_fifty_customers():
    inst = cvrp(np.random.default_rng(50), 50)
    result = cvrp_bound(inst)
    heuristic = solve(inst, time_limit=1.0).cost
    assert result.method == LP and result.converged
    assert result.cuts > 0 and result.iterations > 1
    assert cvrp_bound(inst, lp_limit=0).bound < result.bound <= heuristic
    assert result.bound > 0.95 * heuristic


def test_three_hundred_customers_get_the_lp_within_a_second():
    inst = cvrp(np.random.default_rng(300), 300)
    result = cvrp_bound(inst, time_limit=1.0)
    closed = cvrp_bound(inst, lp_limit=200)  # no LP: here the radial bound beats the degree
    heuristic = solve(inst, time_limit=1.0).cost
    assert closed.method == RADIAL and closed.iterations == 0 and not closed.converged
    assert result.method == LP and 0.6 * heuristic < closed.bound < result.bound <= heuristic
    assert result.vehicles == math.ceil(inst.total_demand / inst.capacity)


@pytest.mark.parametrize("rounding", ["none", "nint"])
def test_degree_bound_from_coordinates_matches_the_one_from_the_cost_matrix(rounding):
    rng = np.random.default_rng(7)
    xy = 1000.0 * rng.random((301, 2))
    xy[5] = xy[9]  # a duplicate point: a zero-cost edge
    demands = np.concatenate([[0], rng.integers(1, 10, 300)])
    coords = CVRP(coords=xy, demands=demands, capacity=50, rounding=rounding)
    i, j = np.meshgrid(np.arange(301), np.arange(301), indexing="ij")
    matrix = lengths(xy[i], xy[j], rounding)  # the very costs routes_cost adds
    given = CVRP(coords=xy, demands=demands, capacity=50, distances=matrix)
    low = cvrp_bound(coords, lp_limit=0).bound
    exact = cvrp_bound(given, lp_limit=0).bound
    assert low <= exact <= low * (1.0 + 1e-8) + (1.0 if rounding == "nint" else 0.0)


def test_six_thousand_customers_need_no_distance_matrix():
    inst = cvrp(np.random.default_rng(6000), 6000)
    result = cvrp_bound(inst)
    assert result.method == RADIAL and result.iterations == 0
    assert result.bound > 0.0 and result.seconds < 5.0


@pytest.mark.parametrize("layout", ["none", "nint", "matrix"])
def test_one_customer_gives_the_round_trip(layout):
    xy = np.array([[0.0, 0.0], [3.0, 4.2]])
    if layout == "matrix":
        inst = CVRP(coords=xy, demands=[0, 2], capacity=5,
                    distances=[[0.0, 5.0], [7.0, 0.0]])  # fmt: skip
    else:
        inst = CVRP(coords=xy, demands=[0, 2], capacity=5, rounding=layout)
    cost = inst.routes_cost([[1]])
    for lp_limit in (0, 200):
        bound = cvrp_bound(inst, lp_limit=lp_limit).bound
        if layout == "matrix":  # 5 + 7: the bound takes the cheaper direction twice
            assert bound == 10.0 < cost
        else:
            assert cost * (1.0 - 1e-8) <= bound <= cost


@pytest.mark.parametrize("lp_limit", [0, 200])
def test_customers_on_the_depot_give_zero(lp_limit):
    inst = CVRP(coords=np.full((9, 2), 3.5), demands=[0, 4, 4, 4, 4, 0, 1, 2, 3], capacity=5)
    result = cvrp_bound(inst, lp_limit=lp_limit)
    assert result.bound == 0.0 and result.vehicles == 5


def test_fractional_capacity_counts_whole_units_only():
    # loads are integers, so a capacity of 7.5 carries 7: 15 units need 3 vehicles, not 2
    inst = CVRP(coords=np.random.default_rng(1).random((6, 2)), demands=[0, 3, 3, 3, 3, 3],
                capacity=7.5)  # fmt: skip
    result = cvrp_bound(inst)
    assert result.vehicles == 3
    assert result.bound <= inst.routes_cost(optimal_routes(inst))


def test_time_limit_and_stop_are_respected():
    inst = cvrp(np.random.default_rng(200), 200)
    result = cvrp_bound(inst, time_limit=0.3)
    assert 0.25 < result.seconds < 0.3 + 1.0 and not result.converged
    assert result.bound <= solve(inst, time_limit=1.0).cost
    calls = []

    def stop() -> bool:
        calls.append(1)
        return len(calls) >= 2

    result = cvrp_bound(inst, stop=stop)
    assert result.iterations == 1 and len(calls) == 2 and result.method == LP


def test_same_inputs_give_the_same_bound():
    inst = cvrp(np.random.default_rng(60), 60)
    first, second = cvrp_bound(inst), cvrp_bound(inst)
    assert (first.bound, first.iterations, first.cuts) == (
        second.bound,
        second.iterations,
        second.cuts,
    )


@pytest.mark.parametrize(
    "options",
    [{"time_limit": 0}, {"time_limit": True}, {"stop": 3}, {"lp_limit": -1}, {"lp_limit": 2.0}],
)
def test_bad_options_are_refused(options):
    with pytest.raises(UsageError):
        cvrp_bound(small_instance(0, 4, "none"), **options)


def test_only_cvrp_instances_are_accepted():
    with pytest.raises(UsageError, match="needs a CVRP"):
        cvrp_bound(TSP(coords=np.zeros((3, 2))))
