"""comb routing instances: validation, hand-computed costs, tour and route checks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hybridsolve.comb import ATSP, CVRP, OP, TSP
from hybridsolve.mip import ProblemError

UNIT_SQUARE = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
# depot (0, 0) and five customers; the distances from the depot are all 5
VRP_COORDS = [[0, 0], [3, 4], [6, 8], [-3, 4], [0, -5], [4, -3]]
VRP_DEMANDS = [0, 4, 5, 3, 6, 2]
ATSP_MATRIX = [[9999, 2, 5, 7], [3, 9999, 4, 1], [6, 8, 9999, 2], [1, 5, 3, 9999]]


# ---------------------------------------------------------------------------- TSP


def test_unit_square_tour_costs_four():
    tsp = TSP(coords=UNIT_SQUARE)
    assert tsp.tour_cost([0, 1, 2, 3]) == pytest.approx(4.0)
    assert tsp.tour_cost([3, 2, 1, 0]) == pytest.approx(4.0)
    assert tsp.tour_cost([0, 2, 1, 3]) == pytest.approx(2 + 2 * math.sqrt(2))
    assert tsp.num_nodes == tsp.size == 4


def test_explicit_matrix_defines_the_cost():
    matrix = [[0, 1, 9, 1], [1, 0, 1, 9], [9, 1, 0, 1], [1, 9, 1, 0]]
    tsp = TSP(coords=UNIT_SQUARE, distances=matrix)
    assert tsp.tour_cost([0, 1, 2, 3]) == 4.0
    assert tsp.tour_cost([0, 2, 1, 3]) == 9 + 1 + 9 + 1  # the matrix, not the geometry
    assert tsp.distance_matrix() is tsp.distances


def test_nint_rounds_halves_up_like_tsplib():
    # 2.5 rounds to 3 under TSPLIB's nint (numpy.rint would give 2)
    tsp = TSP(coords=[[0, 0], [2.5, 0]], rounding="nint")
    assert tsp.tour_cost([0, 1]) == 6.0
    assert tsp.distance_matrix().tolist() == [[0.0, 3.0], [3.0, 0.0]]
    assert TSP(coords=[[0, 0], [2.5, 0]]).tour_cost([0, 1]) == 5.0


def test_six_city_tour_by_hand_with_and_without_rounding():
    coords = [[0, 0], [3, 0], [3, 4], [0, 4], [1, 2], [2, 2.6]]
    tour = [0, 1, 5, 2, 3, 4]
    # 3 + sqrt(7.76) + sqrt(2.96) + 3 + sqrt(5) + sqrt(5), rounded: 3 + 3 + 2 + 3 + 2 + 2
    exact = 6 + math.sqrt(7.76) + math.sqrt(2.96) + 2 * math.sqrt(5)
    assert TSP(coords=coords).tour_cost(tour) == pytest.approx(exact)
    assert TSP(coords=coords, rounding="nint").tour_cost(tour) == 15.0


@pytest.mark.parametrize("rounding", ["none", "nint"])
def test_coordinate_cost_matches_the_matrix(rounding):
    rng = np.random.default_rng(5)
    tsp = TSP(coords=rng.random((30, 2)) * 100, rounding=rounding)
    tour = rng.permutation(30)
    d = tsp.distance_matrix()
    assert tsp.tour_cost(tour) == pytest.approx(d[tour, np.roll(tour, -1)].sum())


def test_large_matrix_is_refused_but_tour_cost_works():
    coords = np.column_stack([np.arange(5001.0), np.zeros(5001)])
    tsp = TSP(coords=coords)
    with pytest.raises(ProblemError, match="refused above 5000 nodes"):
        tsp.distance_matrix()
    assert tsp.tour_cost(np.arange(5001)) == pytest.approx(2 * 5000.0)


@pytest.mark.parametrize(
    ("tour", "message"),
    [
        ([0, 1, 2], "has 3 entries, expected a permutation of 4"),
        ([0, 1, 1, 3], "not a permutation: 1 appears more than once and 2 is missing"),
        ([0, 1, 2, 4], "index 4 at position 3, out of range 0..3"),
        ([0, 1, 2.5, 3], "integer indices"),
        ([True, True, False, True], "boolean"),
        ([[0, 1], [2, 3]], "one-dimensional"),
    ],
)
def test_check_tour_gives_the_reason(tour, message):
    tsp = TSP(coords=UNIT_SQUARE)
    with pytest.raises(ProblemError, match=message):
        tsp.check_tour(tour)
    with pytest.raises(ProblemError, match=message):
        tsp.tour_cost(tour)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({}, "needs coords or distances"),
        ({"coords": [[0, 0], [np.nan, 1]]}, r"coords contains NaN at index \(1, 0\)"),
        ({"coords": [[0, 0, 0], [1, 1, 1]]}, r"coords has shape \(2, 3\), expected \(n, 2\)"),
        ({"coords": [[0, 0], [np.inf, 1]]}, "infinite"),
        ({"distances": [[0, 1, 2], [1, 0, 3]]}, "square matrix"),
        ({"distances": [[0, -1], [-1, 0]]}, "non-negative"),
        ({"distances": [[0, 1], [2, 0]]}, "not symmetric.*use ATSP"),
        ({"coords": UNIT_SQUARE, "distances": np.zeros((3, 3))}, r"expected \(4, 4\)"),
        ({"coords": UNIT_SQUARE, "rounding": "round"}, "rounding must be 'none' or 'nint'"),
        ({"coords": "abc"}, "string"),
    ],
)
def test_tsp_rejects_bad_input(kwargs, message):
    with pytest.raises(ProblemError, match=message):
        TSP(**kwargs)


def test_arrays_are_read_only_copies():
    source = np.array(UNIT_SQUARE)
    tsp = TSP(coords=source)
    source[0, 0] = 99.0
    assert tsp.coords[0, 0] == 0.0
    with pytest.raises(ValueError):
        tsp.coords[0, 0] = 1.0
    with pytest.raises(AttributeError):
        tsp.rounding = "nint"  # type: ignore[misc]


def test_repr_is_short():
    text = repr(TSP(coords=np.zeros((1000, 2)), name="big"))
    assert text == "TSP('big', n=1000, coords, rounding='none')"
    assert "[" not in repr(CVRP(VRP_COORDS, VRP_DEMANDS, 10))


# --------------------------------------------------------------------------- ATSP


def test_atsp_cost_depends_on_direction_and_ignores_the_diagonal():
    atsp = ATSP(ATSP_MATRIX)
    assert atsp.distances.diagonal().tolist() == [0, 0, 0, 0]
    assert atsp.tour_cost([0, 1, 2, 3]) == 2 + 4 + 2 + 1
    assert atsp.tour_cost([0, 3, 2, 1]) == 7 + 3 + 8 + 3
    assert atsp.tour_cost([2, 3, 0, 1]) == 9  # same cycle, other start


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ([[0, 1, 2], [1, 0, 2]], r"square matrix, got shape \(2, 3\)"),
        ([[0, 1], [-2, 0]], r"non-negative, got -2 at index \(1, 0\)"),
        ([[0, np.nan], [1, 0]], "NaN"),
        ([1, 2, 3], "square matrix"),
    ],
)
def test_atsp_rejects_bad_matrices(matrix, message):
    with pytest.raises(ProblemError, match=message):
        ATSP(matrix)


def test_atsp_check_tour():
    with pytest.raises(ProblemError, match="2 appears more than once and 3 is missing"):
        ATSP(ATSP_MATRIX).check_tour([0, 1, 2, 2])


# --------------------------------------------------------------------------- CVRP


def test_cvrp_routes_cost_by_hand():
    exact = CVRP(VRP_COORDS, VRP_DEMANDS, capacity=10)
    nint = CVRP(VRP_COORDS, VRP_DEMANDS, capacity=10, rounding="nint")
    routes = [[1, 2], [3], [4, 5]]
    # [1, 2]: 5 + 5 + 10; [3]: 5 + 5; [4, 5]: 5 + sqrt(20) + 5
    assert exact.routes_cost(routes) == pytest.approx(40 + math.sqrt(20))
    assert nint.routes_cost(routes) == 44.0
    exact.check_routes(routes)
    assert exact.route_loads(routes).tolist() == [9, 3, 8]
    assert exact.num_customers == exact.size == 5 and exact.num_nodes == 6
    assert exact.total_demand == 20
    assert exact.routes_cost([]) == 0.0
    assert exact.routes_cost([[], [3]]) == pytest.approx(10.0)


def test_cvrp_explicit_distances_define_the_cost():
    d = np.full((3, 3), 7.0)
    cvrp = CVRP([[0, 0], [1, 0], [2, 0]], [0, 1, 1], 5, distances=d)
    assert cvrp.routes_cost([[1, 2]]) == 21.0
    assert cvrp.distance_matrix().diagonal().tolist() == [0, 0, 0]


@pytest.mark.parametrize(
    ("routes", "message"),
    [
        ([[1, 2], [3], [4]], "customer 5 is not visited"),
        ([[1, 2], [2, 3], [4, 5]], "customer 2 is visited more than once"),
        ([[0, 1, 2], [3], [4, 5]], "route 0 contains the depot"),
        ([[1, 2, 3], [4, 5]], "route 0 carries 12 > capacity 10"),
        ([[1, 2], [3], [4, 6]], "out of range 0..5"),
        ([1, 2, 3, 4, 5], "route 0 must be a sequence of customer indices"),
        (np.array([1, 2, 3, 4, 5]), "routes must be a list of routes"),
    ],
)
def test_check_routes_gives_the_reason(routes, message):
    cvrp = CVRP(VRP_COORDS, VRP_DEMANDS, capacity=10)
    with pytest.raises(ProblemError, match=message):
        cvrp.check_routes(routes)


@pytest.mark.parametrize(
    ("demands", "capacity", "message"),
    [
        ([0, 4, 5, -3, 6, 2], 10, r"demands must be non-negative, got -3 at index 3"),
        ([0, 4, 5, 12, 6, 2], 10, "customer 3 has demand 12 > capacity 10"),
        ([1, 4, 5, 3, 6, 2], 10, r"demands\[0\] is the depot's and must be 0"),
        ([0, 4, 5.5, 3, 6, 2], 10, "integer-valued"),
        ([0, 4, 5, 3, 6], 10, r"demands has shape \(5,\), expected \(6,\)"),
        ([0, 4, np.nan, 3, 6, 2], 10, "NaN"),
        (VRP_DEMANDS, 0, "capacity must be positive"),
        (VRP_DEMANDS, np.nan, "capacity must be finite"),
    ],
)
def test_cvrp_rejects_bad_demands_and_capacity(demands, capacity, message):
    with pytest.raises(ProblemError, match=message):
        CVRP(VRP_COORDS, demands, capacity)


def test_cvrp_needs_a_customer_and_square_distances():
    with pytest.raises(ProblemError, match="at least 2"):
        CVRP([[0, 0]], [0], 10)
    with pytest.raises(ProblemError, match=r"expected \(6, 6\)"):
        CVRP(VRP_COORDS, VRP_DEMANDS, 10, distances=np.zeros((5, 5)))


# ----------------------------------------------------------------------------- OP


def make_op(**kwargs) -> OP:
    args = {"coords": [[0, 0], [3, 4], [6, 8], [0, -5]], "prizes": [0, 1, 2, 5]}
    args["max_length"] = 20.0
    args.update(kwargs)
    return OP(**args)


def test_op_prize_and_length_by_hand():
    op = make_op()
    assert op.tour_length([1, 2]) == pytest.approx(5 + 5 + 10)
    assert op.tour_prize([1, 2]) == 3.0
    op.check_tour([1, 2])  # exactly at the limit
    assert op.tour_length([3]) == pytest.approx(10.0)
    assert op.tour_length([]) == 0.0 and op.tour_prize([]) == 0.0
    long = 5 + 5 + math.sqrt(36 + 169) + 5
    assert op.tour_length([1, 2, 3]) == pytest.approx(long)
    with pytest.raises(ProblemError, match="tour length 29.3.* exceeds max_length 20"):
        op.check_tour([1, 2, 3])
    assert op.size == 3 and op.num_nodes == 4


@pytest.mark.parametrize(
    ("tour", "message"),
    [
        ([0, 1], "contains the depot"),
        ([1, 1], "lists index 1 more than once"),
        ([4], "out of range"),
    ],
)
def test_op_check_tour_gives_the_reason(tour, message):
    with pytest.raises(ProblemError, match=message):
        make_op().check_tour(tour)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prizes": [1, 1, 2, 5]}, r"prizes\[0\] is the depot's"),
        ({"prizes": [0, 1, -2, 5]}, "prizes must be non-negative"),
        ({"prizes": [0, 1, 2]}, "prizes has shape"),
        ({"max_length": -1}, "max_length must be non-negative"),
        ({"coords": [[0, 0], [1, np.nan], [2, 2], [3, 3]]}, "NaN"),
    ],
)
def test_op_rejects_bad_input(kwargs, message):
    with pytest.raises(ProblemError, match=message):
        make_op(**kwargs)
