"""Kernels compiled before the clock: comb.warm_up, and solve/improve warming themselves."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from hybridsolve import comb
from hybridsolve.comb import TSP, warmup
from hybridsolve.comb.solve import _METHODS, register_method
from hybridsolve.datasets.routing import tsp_uniform
from hybridsolve.mip import UsageError

# Runs in a fresh interpreter, where no dispatcher has a signature yet (even when Numba's
# disk cache has them all): for every built-in method and improver, on instances of every
# layout, warming must leave nothing for the real call to compile or load.
_SCRIPT = r"""
from hybridsolve import comb
from hybridsolve.comb import _random, cvrp, graphs, knapsack, neighbours, op, scheduling, tsp
from hybridsolve.comb import warmup
from hybridsolve.comb.solve import _IMPROVERS, methods
from hybridsolve.mip import UsageError
from hybridsolve.warmup import instances as every_layout

MODULES = (_random, cvrp, graphs, knapsack, neighbours, op, scheduling, tsp)


def signatures():
    return {
        f"{m.__name__}.{n}": len(getattr(m, n).signatures)
        for m in MODULES for n in dir(m) if hasattr(getattr(m, n), "signatures")
    }


checked = 0


def fresh(label, before):
    global checked
    checked += 1
    grown = {k: v for k, v in signatures().items() if v != before[k]}
    if grown:
        print("COMPILED IN THE RUN", label, sorted(grown))


instances = every_layout()
for instance in instances:
    for method in methods(instance):
        options = {"iterations": 20} if method in ("ils", "ls") else {}
        comb.warm_up(instance, method, **options)
        before = signatures()
        try:
            solution = comb.solve(instance, method, **options)
        except UsageError:  # space_filling without coordinates
            continue
        fresh(f"{instance!r} {method}", before)
    improver = _IMPROVERS.get(type(instance))
    if improver is not None:
        warmup.warm_improver(instance, improver, {})
        before = signatures()
        start = solution.tour if solution.routes is None else solution.routes
        comb.improve(instance, start if solution.selection is None else solution.selection)
        fresh(f"{instance!r} improve", before)
print("checked", checked)
"""


def test_warming_leaves_nothing_to_compile_for_the_run():
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "checked 62", proc.stdout


def _sleeping(seconds: float, calls: list):
    def warm(*args, **kwargs) -> float:
        calls.append(args)
        time.sleep(seconds)
        return seconds

    return warm


def test_the_clock_of_solve_and_improve_starts_after_warming(monkeypatch):
    instance = tsp_uniform(np.random.default_rng(0), 40)
    calls: list = []
    monkeypatch.setattr(warmup, "warm_method", _sleeping(1.5, calls))
    monkeypatch.setattr(warmup, "warm_improver", _sleeping(1.5, calls))
    began = time.perf_counter()
    solution = comb.solve(instance, "ils", time_limit=0.2)
    assert time.perf_counter() - began >= 1.5 and len(calls) == 1
    assert solution.runtime < 1.5
    assert all(t < 1.5 for t, _ in solution.trajectory)
    improved = comb.improve(instance, solution.tour, time_limit=0.2)
    assert len(calls) == 2 and improved.runtime < 1.5


def test_warm_up_runs_once_per_method_layout_and_options():
    coords = tsp_uniform(np.random.default_rng(1), 25)
    comb.warm_up(coords, "ils", k=6)
    assert comb.warm_up(coords, "ils", k=6) == 0.0
    assert comb.warm_up(TSP(coords=coords.coords[::-1]), "ils", k=6, iterations=3) == 0.0
    assert comb.warm_up(coords, "ils", k=7) > 0.0  # other options: warmed again
    assert comb.warm_up(TSP(distances=coords.distance_matrix()), "ils", k=6) > 0.0


def test_twins_mirror_the_layout_and_stay_small():
    rng = np.random.default_rng(2)
    big = tsp_uniform(rng, 100)
    both = TSP(coords=big.coords, distances=big.distance_matrix(), rounding="nint")
    twin = warmup.twin(both)
    assert twin.num_nodes == warmup.TWIN_SIZE and twin.rounding == "nint"
    assert twin.coords is not None and twin.distances is not None
    assert warmup.twin(TSP(coords=big.coords[:5])).num_nodes == 5
    kp = comb.KP([3, 4], [1.5, 2.0], 3)
    kp_twin = warmup.twin(kp)
    assert kp_twin.values.dtype == np.int64 and kp_twin.weights.dtype == np.float64
    assert isinstance(kp_twin.capacity, int)
    assert TSP(coords=np.asfortranarray(big.coords)).coords.flags.c_contiguous


def test_bad_options_are_reported_by_the_run_and_not_remembered():
    instance = tsp_uniform(np.random.default_rng(3), 20)
    with pytest.raises(UsageError, match="no option 'depth'"):
        comb.warm_up(instance, "ils", depth=3)
    with pytest.raises(UsageError, match="k \\(neighbour list length\\)"):
        comb.solve(instance, "ils", k=0)
    assert comb.warm_up(instance, "ils", k=0) > 0.0  # tried again, still refused


def test_registered_methods_are_not_warmed(monkeypatch):
    monkeypatch.setitem(_METHODS, TSP, dict(_METHODS[TSP]))
    calls: list = []

    def identity(instance, *, tracker, seed=0):
        calls.append(instance.num_nodes)
        return np.arange(instance.num_nodes)

    register_method(TSP, "identity", identity)
    instance = tsp_uniform(np.random.default_rng(4), 30)
    assert comb.warm_up(instance, "identity") == 0.0 and calls == []
    assert comb.solve(instance, "identity").cost == instance.tour_cost(np.arange(30))
    assert calls == [30]
