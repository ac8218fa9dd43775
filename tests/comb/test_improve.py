"""comb.improve: local search from a given solution for TSP, ATSP, CVRP, OP and KP."""

from __future__ import annotations

import numpy as np
import pytest

from hybridsolve.comb import KP, MIS, Solution, improve, solve
from hybridsolve.datasets.routing import atsp, cvrp, knapsack, op, tsp_uniform
from hybridsolve.mip import ProblemError, UsageError


def _instances():
    """Small generated instances, each with a deliberately bad valid start."""
    rng = np.random.default_rng(7)
    tsp = tsp_uniform(rng, 120)
    asym = atsp(rng, 40)
    vrp = cvrp(rng, 30)
    orient = op(rng, 40)
    kp = knapsack(rng, 60)
    d = orient.distance_matrix()
    fits = np.flatnonzero(d[0, 1:] + d[1:, 0] <= orient.max_length) + 1
    poorest = int(fits[np.argmin(orient.prizes[fits])])  # a one-node tour of little prize
    return {
        "tsp": (tsp, rng.permutation(tsp.num_nodes)),
        "atsp": (asym, rng.permutation(asym.num_nodes)),
        "cvrp": (vrp, [[c] for c in range(1, vrp.num_customers + 1)] + [[]]),
        "op": (orient, []),
        "op-one-node": (orient, [poorest]),
        "kp": (kp, []),
    }


INSTANCES = _instances()


def _check(sol: Solution) -> None:
    """The solution passes its instance's own check."""
    inst = sol.instance
    if sol.routes is not None:
        inst.check_routes(sol.routes)
    elif sol.selection is not None:
        inst.check_selection(sol.selection)
    else:
        inst.check_tour(sol.tour)


def _cost(inst, answer) -> float:
    """The instance's own cost of a raw answer."""
    if hasattr(inst, "routes_cost"):
        return inst.routes_cost(answer)
    if hasattr(inst, "tour_prize"):
        return inst.tour_prize(answer)
    if hasattr(inst, "tour_cost"):
        return inst.tour_cost(answer)
    return inst.value(answer)


def _answer(sol: Solution):
    for field in ("tour", "routes", "selection"):
        if getattr(sol, field) is not None:
            return getattr(sol, field)
    raise AssertionError("no answer")


@pytest.mark.parametrize("name", sorted(INSTANCES))
def test_improves_a_bad_start(name):
    inst, start = INSTANCES[name]
    before = _cost(inst, start)
    sol = improve(inst, start, seed=1)
    _check(sol)
    assert sol.method == "improve" and sol.seed == 1
    assert sol.cost == pytest.approx(_cost(inst, _answer(sol)))
    assert (sol.cost > before) if sol.maximize else (sol.cost < before)
    assert sol.trajectory[0][1] == pytest.approx(before)
    assert sol.trajectory[-1][1] == pytest.approx(sol.cost)
    assert len(sol.trajectory) == 2


@pytest.mark.parametrize("name", ["tsp", "atsp", "cvrp", "op", "kp"])
def test_never_worse_than_a_good_start(name):
    inst, _ = INSTANCES[name]
    good = solve(inst, seed=3)  # ILS for the routing problems, DP for the knapsack
    sol = improve(inst, _answer(good), seed=3)
    _check(sol)
    if sol.maximize:
        assert sol.cost >= good.cost
    else:
        assert sol.cost <= good.cost


@pytest.mark.parametrize("name", ["tsp", "atsp", "cvrp", "op", "kp"])
def test_same_seed_same_result(name):
    inst, start = INSTANCES[name]
    first = improve(inst, start, seed=5)
    second = improve(inst, start, seed=5)
    assert first.cost == second.cost
    if first.routes is not None:
        assert [r.tolist() for r in first.routes] == [r.tolist() for r in second.routes]
    else:
        assert np.array_equal(_answer(first), _answer(second))


@pytest.mark.parametrize("seed", range(3))
def test_tsp_from_nearest_neighbour_is_close_to_or_opt(seed):
    inst = tsp_uniform(np.random.default_rng(seed), 200)
    start = solve(inst, "nearest_neighbour", seed=seed)
    sol = improve(inst, start.tour, seed=seed)
    reference = solve(inst, "or_opt", seed=seed)
    assert sol.cost < start.cost
    assert sol.cost <= 1.05 * reference.cost


def test_tsp_or3_option_and_neighbour_list_length():
    inst, start = INSTANCES["tsp"]
    plain = improve(inst, start, seed=2)
    more = improve(inst, start, seed=2, or3opt=True, k=12)
    _check(more)
    assert more.cost < inst.tour_cost(start)
    assert plain.cost < inst.tour_cost(start)


def test_knapsack_fill_then_swap_reaches_the_optimum():
    # from {0}: item 2 fits and is added, then 0 -> 1 raises the value by 3 within the room
    inst = KP(values=[6, 9, 2], weights=[6, 7, 3], capacity=10)
    sol = improve(inst, [0])
    assert sol.selection.tolist() == [1, 2]
    assert sol.cost == 11


def test_a_local_optimum_is_returned_unchanged():
    inst, start = INSTANCES["tsp"]
    local = improve(inst, start, seed=4)
    again = improve(inst, local.tour, seed=4)
    assert np.array_equal(again.tour, local.tour)
    assert again.trajectory == ((again.trajectory[0][0], local.cost),)


@pytest.mark.parametrize("name", ["tsp", "cvrp", "op", "kp"])
def test_a_tiny_time_limit_still_gives_a_valid_solution_no_worse(name):
    inst, start = INSTANCES[name]
    before = _cost(inst, start)
    sol = improve(inst, start, time_limit=1e-9)
    _check(sol)
    assert (sol.cost >= before) if sol.maximize else (sol.cost <= before)


@pytest.mark.parametrize(
    ("name", "bad", "message"),
    [
        ("tsp", "repeat", "invalid start tour for TSP: tour is not a permutation"),
        ("atsp", "short", "invalid start tour for ATSP: tour has 39 entries"),
        ("cvrp", "heavy", "invalid start routes for CVRP: route 0 carries"),
        ("cvrp", "missing", "invalid start routes for CVRP: customer 1 is not visited"),
        ("op", "depot", "invalid start tour for OP: tour contains the depot"),
        ("kp", "heavy", "invalid start selection for KP: selection weighs"),
    ],
)
def test_an_invalid_start_is_refused(name, bad, message):
    inst, _ = INSTANCES[name]
    if bad == "repeat":
        start = np.arange(inst.num_nodes)
        start[5] = 4
    elif bad == "short":
        start = np.arange(inst.num_nodes - 1)
    elif bad == "heavy" and name == "cvrp":
        start = [list(range(1, inst.num_customers + 1))]
    elif bad == "missing":
        start = [list(range(2, inst.num_customers + 1))]
    elif bad == "depot":
        start = [0, 1]
    else:
        start = list(range(inst.num_items))
    with pytest.raises(ProblemError, match=message) as info:
        improve(inst, start)
    assert "\n" not in str(info.value)


def test_usage_errors():
    inst, start = INSTANCES["tsp"]
    with pytest.raises(UsageError, match="has no option 'iterations'"):
        improve(inst, start, iterations=3)
    with pytest.raises(UsageError, match="time_limit must be a positive number"):
        improve(inst, start, time_limit=0)
    with pytest.raises(UsageError, match="seed must be an integer"):
        improve(inst, start, seed=1.5)
    with pytest.raises(UsageError, match="no local search for MIS"):
        improve(MIS(3, [[0, 1]]), [0])
