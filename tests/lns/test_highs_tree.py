"""HiGHS's tree search as a resumable arm: paused between turns, fed incumbents, closed."""

from __future__ import annotations

import time

import numpy as np
import pytest

from hybridsolve import solve
from hybridsolve.datasets import registry
from hybridsolve.lns.subsolver import HighsTree
from hybridsolve.mip import Status, check


def _never() -> bool:
    return False


@pytest.fixture(scope="module")
def knapsack():
    """A multidimensional knapsack that HiGHS does not close in seconds (thousands of nodes)."""
    return registry.get("mknapsack-easy").instance("test", 0)


def test_the_search_pauses_resumes_and_is_never_restarted(knapsack):
    tree = HighsTree(knapsack, seed=0)
    try:
        counts, seconds = [], []
        while len(counts) < 12 and (len(counts) < 3 or counts[-3] == 0):  # root on a busy machine
            began = time.perf_counter()
            attempt = tree.solve(start=None, cutoff=None, time_limit=0.5, stop=_never,
                                 found=lambda x: None)  # fmt: skip
            seconds.append(time.perf_counter() - began)
            assert attempt.status == "limit"
            counts.append(tree.nodes)
            assert tree._thread is not None and tree._thread.is_alive()  # paused, not ended
        assert 0 < counts[-3] < counts[-2] < counts[-1]  # the same tree grows
        assert tree.runs == 1
        assert max(seconds) < 0.5 + 2.0  # it pauses at its next callback
    finally:
        tree.close()
    assert not tree._thread.is_alive()
    tree.close()  # closing twice is harmless


def test_an_injected_incumbent_reaches_highs():
    # larger than the module's knapsack, whose optimum HiGHS may find in its first 0.2 s
    knapsack = registry.get("mknapsack-medium").instance("test", 0)
    best = solve(knapsack, "scip", time_limit=10)
    assert best.x is not None
    tree = HighsTree(knapsack, seed=0)
    try:
        tree.solve(start=None, cutoff=None, time_limit=0.2, stop=_never, found=lambda x: None)
        assert tree.primal_bound is None or tree.primal_bound < best.objective - 1e-6
        tree.solve(start=best.x, cutoff=None, time_limit=0.5, stop=_never, found=lambda x: None)
        assert tree._pending is None  # taken by the user-solution callback
        assert tree.primal_bound >= best.objective - 1e-6  # maximisation: HiGHS prunes with it
    finally:
        tree.close()


def test_a_stop_request_pauses_the_turn_at_once(knapsack):
    tree = HighsTree(knapsack, seed=0)
    try:
        began = time.perf_counter()
        attempt = tree.solve(start=None, cutoff=None, time_limit=60, stop=lambda: True,
                             found=lambda x: None)  # fmt: skip
        assert attempt.status == "limit" and time.perf_counter() - began < 5
    finally:
        tree.close()


def test_a_proof_by_the_highs_tree_ends_the_lns_optimal():
    problem = registry.get("facilities-easy").instance("test", 0)
    reference = solve(problem, "highs", time_limit=60)
    assert reference.status is Status.OPTIMAL
    result = solve(problem, "lns", time_limit=30, options={"backend": "highs"})
    assert result.status is Status.OPTIMAL
    assert result.objective == pytest.approx(reference.objective, rel=1e-9)
    assert result.dual_bound == pytest.approx(reference.objective, rel=1e-6)
    assert check(problem, result.x).feasible


def test_the_lns_over_highs_pulls_the_tree_arm_and_keeps_its_time_limit(knapsack):
    began = time.perf_counter()
    result = solve(knapsack, "lns", time_limit=6, options={"backend": "highs"})
    assert time.perf_counter() - began < 6 + 4
    assert result.x is not None and check(knapsack, result.x).feasible
    tree = result.stats["operators"].get("tree@highs")
    assert tree is not None and tree["pulls"] >= 1
    no_tree = solve(knapsack, "lns", time_limit=3, options={"backend": "highs", "tree": False})
    assert not any(name.startswith("tree@") for name in no_tree.stats["operators"])
    assert np.isfinite(no_tree.objective)
