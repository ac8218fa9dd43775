"""The LNS solver end to end: improvement, time limit, sense and offset, seeds, options."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from dataclasses import replace

import numpy as np
import pytest

import hybridsolve
from hybridsolve import datasets
from hybridsolve.mip import Limit, Status, UsageError, check, write


@pytest.fixture(scope="module")
def medium():
    """A set cover SCIP closes in about 5 s (its optimum is 179, by SCIP)."""
    return datasets.set_cover(np.random.default_rng(3), rows=400, cols=1000, density=0.05)


@pytest.fixture(scope="module")
def big_auction():
    """A combinatorial auction (maximise) whose first 0.1 s incumbent both backends improve."""
    return datasets.combinatorial_auction(np.random.default_rng(3), items=150, bids=750)


@pytest.mark.parametrize("backend", ["scip", "highs"])
def test_a_run_improves_on_its_first_incumbent(big_auction, backend):
    # without the tree arm, so that the improvements come from the neighbourhoods
    options = {"backend": backend, "initial_share": 0.01, "tree": False}
    result = hybridsolve.solve(big_auction, "lns", time_limit=12, seed=1, options=options)
    assert result.status is Status.FEASIBLE and result.limit is Limit.TIME
    assert result.dual_bound is None  # no tree search, no proven bound
    assert check(big_auction, result.x).feasible
    stats = result.stats
    assert stats["backend"] == backend and stats["iterations"] >= 3
    assert result.objective > stats["initial"]["objective"]
    improved = sum(arm["improvements"] for arm in stats["operators"].values())
    assert improved >= 1
    assert sum(arm["pulls"] for arm in stats["operators"].values()) == stats["iterations"]
    values = [primal for _, primal, _ in result.trajectory]
    assert values == sorted(values) and values[-1] == result.objective


def test_the_time_limit_holds_on_a_slow_instance():
    slow = datasets.get("facilities-hard").instance("test", 0)  # 30k variables and rows
    start = time.perf_counter()
    result = hybridsolve.solve(slow, "lns", time_limit=4)
    elapsed = time.perf_counter() - start
    assert elapsed < 4.6, elapsed
    assert result.status in (Status.FEASIBLE, Status.NO_SOLUTION)
    if result.x is not None:
        assert check(slow, result.x).feasible


@pytest.mark.parametrize("backend", ["scip", "highs"])
def test_maximisation_with_an_offset_reports_the_file_objective(backend):
    rng = np.random.default_rng(11)
    auction = replace(datasets.combinatorial_auction(rng, items=60, bids=300), offset=-1000.5)
    exact = hybridsolve.solve(auction, "scip")
    assert exact.status is Status.OPTIMAL
    options = {"backend": backend, "initial_share": 0.02, "operators": "mutation,rins,crossover"}
    result = hybridsolve.solve(auction, "lns", time_limit=6, options=options)
    assert result.x is not None
    certificate = check(auction, result.x)
    assert certificate.feasible
    assert result.objective == pytest.approx(auction.c @ result.x - 1000.5)
    assert result.objective == pytest.approx(certificate.objective)
    assert result.objective <= exact.objective + 1e-6
    assert result.objective >= 0.97 * (exact.objective + 1000.5) - 1000.5


def test_the_resumed_tree_search_proves_optimality(medium):
    exact = hybridsolve.solve(medium, "scip")
    options = {"initial_share": 0.02, "operators": "mutation"}
    result = hybridsolve.solve(medium, "lns", time_limit=60, options=options)
    assert result.stats["initial"]["status"] == "limit"  # the first run did not finish
    arms = result.stats["operators"]
    assert result.status is Status.OPTIMAL
    assert arms["tree@scip"]["pulls"] + arms["tree@highs"]["pulls"] >= 1
    assert result.objective == exact.objective == result.dual_bound
    options = {**options, "tree": False, "iterations": 3}
    without = hybridsolve.solve(medium, "lns", time_limit=60, options=options)
    assert without.status is Status.FEASIBLE
    assert not any(name.startswith("tree@") for name in without.stats["operators"])


def test_an_easy_model_is_solved_to_proven_optimality_by_the_initial_run():
    p = datasets.set_cover(np.random.default_rng(0), rows=30, cols=60)
    result = hybridsolve.solve(p, "lns", time_limit=20)
    reference = hybridsolve.solve(p, "highs")
    assert result.status is Status.OPTIMAL
    assert result.objective == pytest.approx(reference.objective)
    assert result.dual_bound == pytest.approx(reference.objective)


@pytest.mark.parametrize(
    "backend, nodes, generator, size",
    [
        ("scip", "limits/nodes", datasets.generalized_independent_set, dict(nodes=60)),
        ("highs", "mip_max_nodes", datasets.multiple_knapsack, dict(items=60, knapsacks=5)),
        ("both", "both", datasets.multiple_knapsack, dict(items=60, knapsacks=5)),
    ],
)
def test_the_same_seed_gives_the_same_run(backend, nodes, generator, size):
    """With node limits instead of time limits, and no clock-shared tree arm, the run is
    deterministic (the tree arm's turns follow measured seconds, so they vary with load)."""
    p = generator(np.random.default_rng(4), **size)
    options = {"backend": backend, "iterations": 8, "iteration_time": 30, "tree": False}
    limits = {"scip": {"limits/nodes": 1}, "highs": {"mip_max_nodes": 1}}
    options.update(limits.get(backend) or {**limits["scip"], **limits["highs"]})

    def run(seed):
        result = hybridsolve.solve(p, "lns", seed=seed, time_limit=120, options=options)
        pulls = {name: arm["pulls"] for name, arm in result.stats["operators"].items()}
        return result.objective, [p for _, p, _ in result.trajectory], pulls, result.limit

    first = run(5)
    assert first == run(5)
    assert first[3] is Limit.ITERATIONS


def test_bad_options_are_usage_errors(medium):
    cases = {
        "backend": ("gurobi", "lns backend must be one of scip, highs, both"),
        "policy": ("greedy", "lns policy must be one of"),
        "operators": ("mutation,nonsense", "unknown lns operator nonsense"),
        "initial_share": (1.5, "initial_share must be in"),
        "rates": ("most", "lns rates must be first or all"),
    }
    for key, (value, message) in cases.items():
        with pytest.raises(UsageError, match=message):
            hybridsolve.solve(medium, "lns", time_limit=5, options={key: value})
    with pytest.raises(UsageError, match="unknown SCIP parameter"):
        hybridsolve.solve(medium, "lns", time_limit=5, options={"no/such": 1})
    with pytest.raises(UsageError, match="needs a time limit or an iteration count"):
        hybridsolve.solve(medium, "lns")


@pytest.mark.parametrize("policy", ["ucb1", "thompson", "softmax", "linucb", "lints"])
def test_every_bandit_policy_runs(medium, policy):
    # without the tree arm: a tree turn that proves optimality ends the run early
    options = {"policy": policy, "iterations": 4, "initial_share": 0.02, "tree": False}
    result = hybridsolve.solve(medium, "lns", time_limit=10, options=options)
    assert result.x is not None and check(medium, result.x).feasible
    assert result.stats["policy"] == policy and result.stats["iterations"] == 4


def test_cli_prints_progress_and_bandit_statistics(tmp_path, medium):
    path = tmp_path / "medium.mps.gz"
    write(medium, path)
    cmd = [sys.executable, "-m", "hybridsolve", "solve", str(path), "--solver", "lns",
           "--time-limit", "8"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert sum(line.startswith("*") for line in lines) >= 2  # incumbent progress lines
    assert any(line.startswith("lns ") and "scip+highs sub-MIPs" in line for line in lines)
    arms = [line for line in lines if re.match(r"^  [a-z_]+-[0-9.]+@(scip|highs) +[0-9]+ ", line)]
    trees = [line for line in lines if re.match(r"^  tree@(scip|highs) +[0-9]+ +[0-9]+", line)]
    assert {line.split("@")[1].split()[0] for line in arms} <= {"scip", "highs"}
    assert len(trees) == 2  # both exact searches are arms
    summary = r"^tree@(scip|highs) +[0-9]+ nodes, dual bound"
    assert len([line for line in lines if re.match(summary, line)]) == 2
    assert sum(int(line.split()[1]) for line in arms + trees) == int(
        next(line for line in lines if line.startswith("lns ")).split()[1]
    )  # pulls add up to the iterations
    js = subprocess.run(cmd + ["--json"], capture_output=True, text=True, timeout=60)
    data = json.loads(js.stdout)
    assert data["solver"] == "lns" and data["status"] in ("feasible", "optimal")
    assert data["stats"]["operators"]
