"""``comb.solve(..., bound=True)``: the proven bound and the gap in every comb ``Solution``."""

from __future__ import annotations

import itertools
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from hybridsolve import comb
from hybridsolve.comb import MIS, OP, TSP, _search, bounding
from hybridsolve.comb.bounds import held_karp, mis_bound
from hybridsolve.comb.solve import _METHODS, methods
from hybridsolve.datasets import routing
from hybridsolve.datasets.graphs import erdos_renyi
from hybridsolve.mip import UsageError


def tour_optimum(instance: Any) -> float:
    """Cheapest tour of a TSP or ATSP, node 0 first, by enumeration."""
    rest = range(1, instance.num_nodes)
    return min(instance.tour_cost([0, *order]) for order in itertools.permutations(rest))


def cvrp_optimum(instance: comb.CVRP) -> float:
    """Every solution is a customer order cut into routes: the cheapest feasible one."""
    n = instance.num_customers
    best = np.inf
    for order in itertools.permutations(range(1, n + 1)):
        for cuts in itertools.product((False, True), repeat=n - 1):
            routes, route = [], [order[0]]
            for customer, cut in zip(order[1:], cuts):
                if cut:
                    routes.append(route)
                    route = []
                route.append(customer)
            routes.append(route)
            if instance.route_loads(routes).max() <= instance.capacity:
                best = min(best, instance.routes_cost(routes))
    return float(best)


def op_optimum(instance: OP) -> float:
    """The most prize of a tour within the length limit, by enumeration."""
    best = 0.0
    nodes = range(1, instance.num_nodes)
    for k in range(1, instance.num_nodes):
        for subset in itertools.combinations(nodes, k):
            prize = float(instance.prizes[list(subset)].sum())
            if prize <= best:
                continue
            for order in itertools.permutations(subset):
                if instance.tour_length(order) <= instance.max_length + 1e-9:
                    best = prize
                    break
    return best


def subsets_optimum(count: int, value: Callable[[list[int]], float | None]) -> float:
    """The largest ``value`` over the subsets of ``range(count)`` (``None``: infeasible)."""
    values = (value([i for i in range(count) if mask >> i & 1]) for mask in range(1 << count))
    return max(v for v in values if v is not None)


def kp_optimum(kp: comb.KP) -> float:
    return subsets_optimum(
        kp.num_items, lambda items: kp.value(items) if kp.weight(items) <= kp.capacity else None
    )


def mis_optimum(mis: MIS) -> float:
    def weight(nodes: list[int]) -> float | None:
        chosen = set(nodes)
        clash = any(i in chosen and j in chosen for i, j in mis.edges.tolist())
        return None if clash else mis.weight(nodes)

    return subsets_optimum(mis.num_nodes, weight)


def smtt_optimum(smtt: comb.SMTT) -> float:
    return min(smtt.tardiness(order) for order in itertools.permutations(range(smtt.num_jobs)))


def small(kind: str) -> tuple[Any, float]:
    """A small instance of each type and its optimum."""
    rng = np.random.default_rng(7)
    if kind == "TSP":
        instance = routing.tsp_uniform(rng, 8)
        return instance, tour_optimum(instance)
    if kind == "ATSP":
        instance = routing.atsp(rng, 7)
        return instance, tour_optimum(instance)
    if kind == "CVRP":
        instance = routing.cvrp(rng, 5, capacity=15)
        return instance, cvrp_optimum(instance)
    if kind == "OP":
        instance = routing.op(rng, 7, prizes="uniform")
        return instance, op_optimum(instance)
    if kind == "KP":
        instance = routing.knapsack(rng, 12)
        return instance, kp_optimum(instance)
    if kind == "MIS":
        instance = MIS(12, erdos_renyi(rng, 12, 0.3), weights=0.5 + rng.random(12))
        return instance, mis_optimum(instance)
    instance = routing.smtt(rng, 7)
    return instance, smtt_optimum(instance)


#: Each type's bound method, as ``Solution.bound_method`` names it.
METHODS = {
    "TSP": "held_karp",
    "ATSP": "assignment_bound:assignment",
    "CVRP": "cvrp_bound:lp",
    "OP": "op_bound",
    "KP": "kp_bound",
    "MIS": "mis_bound",
    "SMTT": "smtt_bound:time-indexed",
}


@pytest.mark.parametrize("kind", list(METHODS))
def test_bound_optimum_and_cost_are_in_order_with_the_gap_between(kind):
    instance, best = small(kind)
    solution = comb.solve(instance, bound=True)
    tol = 1e-9 * max(1.0, abs(best))
    if solution.maximize:
        assert solution.cost <= best + tol and best <= solution.bound
    else:
        assert solution.bound <= best and best <= solution.cost + tol
    assert solution.bound_method == METHODS[kind]
    gap = abs(solution.cost - solution.bound) / max(abs(solution.cost), 1e-10)
    assert solution.gap() == pytest.approx(gap) and solution.gap() >= 0
    data = solution.to_dict()
    here, absent = ("lower_bound", "upper_bound")[:: -1 if solution.maximize else 1]
    assert data[here] == solution.bound and absent not in data
    assert data["gap"] == solution.gap() and data["bound_method"] == METHODS[kind]
    assert f"bound {solution.bound:.10g}, gap" in solution.summary()


def test_no_bound_unless_asked():
    instance, _ = small("TSP")
    solution = comb.solve(instance)
    assert solution.bound is None and solution.bound_method is None and solution.gap() is None
    data = solution.to_dict()
    assert not {"lower_bound", "upper_bound", "gap", "bound_method"} & set(data)
    assert "bound" not in solution.summary()
    assert solution.gap(solution.cost) == 0.0  # a reference keeps its meaning


def test_without_a_time_limit_the_bound_runs_to_its_end_and_repeats_under_a_seed():
    tsp = routing.tsp_uniform(np.random.default_rng(3), 60)
    first = comb.solve(tsp, "ils", iterations=30, seed=5, bound=True)
    again = comb.solve(tsp, "ils", iterations=30, seed=5, bound=True)
    assert np.array_equal(first.tour, again.tour) and first.bound == again.bound
    assert first.bound == held_karp(tsp, seed=5).bound
    mis = MIS(40, erdos_renyi(np.random.default_rng(4), 40, 0.2), weights=np.arange(1.0, 41))
    runs = [comb.solve(mis, "ls", iterations=20, seed=2, bound=True) for _ in range(2)]
    assert runs[0].bound == runs[1].bound == mis_bound(mis).bound


def test_a_time_limit_stops_the_bound_when_the_heuristic_returns():
    tsp = routing.tsp_uniform(np.random.default_rng(1), 5000)  # converges in about 3 s
    comb.warm_up(tsp, "greedy", bound=True)
    began = time.perf_counter()
    solution = comb.solve(tsp, "greedy", time_limit=30.0, bound=True)
    assert time.perf_counter() - began < 2.0  # not the 30 s, nor convergence
    assert 0 < solution.bound < solution.cost


def test_without_a_time_limit_the_bound_is_capped(monkeypatch):
    tsp = routing.tsp_uniform(np.random.default_rng(1), 5000)
    comb.warm_up(tsp, "greedy", bound=True)
    monkeypatch.setattr(bounding, "UNTIMED_SECONDS", 0.3)
    began = time.perf_counter()
    solution = comb.solve(tsp, "greedy", bound=True)
    assert time.perf_counter() - began < 2.0
    assert 0 < solution.bound < solution.cost


def test_a_failing_heuristic_stops_the_bound(monkeypatch):
    def broken(instance, *, tracker, seed):
        raise RuntimeError("broken heuristic")

    monkeypatch.setitem(_METHODS[TSP], "broken", broken)
    tsp = routing.tsp_uniform(np.random.default_rng(2), 1500)
    with pytest.raises(RuntimeError, match="broken heuristic"):
        comb.solve(tsp, "broken", time_limit=30.0, bound=True)
    for thread in threading.enumerate():
        if thread.name == "held_karp":
            thread.join(timeout=5.0)
            assert not thread.is_alive()


def test_cities_on_one_point_give_bound_and_gap_zero():
    solution = comb.solve(TSP(coords=np.full((7, 2), 3.5)), bound=True)
    assert solution.cost == 0.0 and solution.bound == 0.0 and solution.gap() == 0.0
    assert solution.to_dict()["gap"] == 0.0
    xy = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    unreachable = comb.solve(OP(xy, np.array([0.0, 1.0, 2.0]), max_length=1.0), bound=True)
    assert unreachable.cost == 0.0 and unreachable.bound == 0.0 and unreachable.gap() == 0.0


def test_registered_methods_get_the_bound_too():
    pytest.importorskip("torch")
    tsp = routing.tsp_uniform(np.random.default_rng(6), 20)
    assert "bq" in methods(tsp, registered=True)
    solution = comb.solve(tsp, "bq", device="cpu", bound=True)
    assert solution.method == "bq" and solution.bound_method == "held_karp"
    assert solution.bound <= solution.cost and solution.to_dict()["gap"] == solution.gap()


# In a fresh interpreter: warm_up(..., bound=True) leaves nothing for the bound to compile.
_SCRIPT = r"""
from hybridsolve import comb
from hybridsolve.comb import CVRP, TSP, neighbours, tsp
from hybridsolve.comb.bounds import cvrp as cvrp_bounds, tsp as tsp_bounds
from hybridsolve.warmup import instances

MODULES = (tsp_bounds, cvrp_bounds, tsp, neighbours)


def signatures():
    return {
        f"{m.__name__}.{n}": len(getattr(m, n).signatures)
        for m in MODULES for n in dir(m) if hasattr(getattr(m, n), "signatures")
    }


for instance in instances():
    if isinstance(instance, (TSP, CVRP)):
        method = "nearest_neighbour" if isinstance(instance, TSP) else "savings"
        comb.warm_up(instance, method, bound=True)
        before = signatures()
        comb.solve(instance, method, bound=True)
        grown = sorted(k for k, v in signatures().items() if v != before[k])
        print("COMPILED IN THE RUN" if grown else "ok", repr(instance), grown)
"""


def test_warm_up_compiles_the_bound_before_the_clock():
    done = subprocess.run([sys.executable, "-c", _SCRIPT], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "COMPILED IN THE RUN" not in done.stdout and done.stdout.count("ok ") == 5


def test_progress_gets_the_bound_as_it_closes_the_gap(monkeypatch):
    monkeypatch.setattr(_search, "BOUND_LINE_SECONDS", 0.0)  # every rise of the bound
    tsp = routing.tsp_uniform(np.random.default_rng(6), 800)
    comb.warm_up(tsp, "ils", bound=True)
    calls: list[tuple] = []
    solution = comb.solve(
        tsp, "ils", time_limit=1.0, bound=True, progress=lambda *a: calls.append(a)
    )
    assert all(len(call) == 3 for call in calls)
    bounds = [b for _, _, b in calls if b is not None]
    costs = [c for _, c, _ in calls]
    assert len(set(bounds)) >= 3 and bounds == sorted(bounds)  # a closing gap, line by line
    assert costs == sorted(costs, reverse=True) and costs[-1] == pytest.approx(solution.cost)
    assert bounds[-1] == solution.bound  # the last line has the final bound


def test_progress_keeps_two_arguments_without_a_bound():
    calls: list[tuple] = []
    tsp = routing.tsp_uniform(np.random.default_rng(6), 100)
    comb.solve(tsp, "ils", iterations=20, progress=lambda *a: calls.append(a))
    assert calls and all(len(call) == 2 for call in calls)


def test_bound_only_lines_wait_their_interval_except_the_last():
    shown: list[tuple] = []
    latest = [None]
    tracker = _search.Tracker(progress=lambda *a: shown.append(a), bound=lambda: latest[0])
    tracker.poll()
    assert shown == []  # no cost yet
    tracker.record(10.0)
    latest[0] = 5.0
    tracker.poll()
    assert [c[1:] for c in shown] == [(10.0, None)]  # too soon after the cost's line
    tracker.poll(final=True)
    assert [c[1:] for c in shown] == [(10.0, None), (10.0, 5.0)]
    tracker.poll(final=True)
    assert len(shown) == 2  # nothing new


@pytest.mark.parametrize("kind", ["TSP", "CVRP", "MIS", "OP", "SMTT"])
def test_iterative_bounds_report_each_better_bound(kind):
    instance, _ = small(kind)
    function = bounding.BOUNDS[type(instance)][0]
    seen: list[float] = []
    result = function(instance, progress=seen.append)
    assert seen and seen[-1] == result.bound
    maximise = kind in ("MIS", "OP")  # SMTT: its ascent's better bounds, after the assignment's
    assert seen == sorted(seen, reverse=maximise) and len(set(seen)) == len(seen)
    with pytest.raises(UsageError, match="progress must be a callable"):
        function(instance, progress=3)
