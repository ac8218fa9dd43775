"""solve(): limits, interrupts, warm starts, callbacks, seeds and honest statuses, for real."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import numpy as np
import pytest

import hybridsolve
from hybridsolve.mip import Limit, Problem, Status, check

BACKENDS = ["scip", "highs"]


def assert_certified(problem: Problem, result) -> None:
    assert result.x is not None
    cert = check(problem, result.x)
    assert cert.feasible, cert.summary()
    assert cert.objective == pytest.approx(result.objective, rel=1e-12, abs=1e-12)


def assert_monotone(problem: Problem, trajectory) -> None:
    primals = [point[1] for point in trajectory]
    step = np.diff(primals)
    assert (step > 0).all() if problem.maximize else (step < 0).all()
    assert all(b[0] >= a[0] for a, b in zip(trajectory, trajectory[1:]))


@pytest.mark.parametrize("solver", BACKENDS)
def test_knapsack_optimum_trajectory_and_callback(solver, knapsack_problem):
    problem, best = knapsack_problem
    seen = []
    result = hybridsolve.solve(
        problem, solver, callback=lambda t, p, d, x: seen.append((t, p, x.copy()))
    )
    assert result.status is Status.OPTIMAL and result.success and result.limit is None
    assert result.objective == pytest.approx(best)
    assert result.dual_bound == pytest.approx(best) and result.gap == pytest.approx(0, abs=1e-9)
    assert_certified(problem, result)
    assert result.trajectory[-1][1] == pytest.approx(best)
    assert_monotone(problem, result.trajectory)
    for _, primal, x in seen:  # every incumbent handed to the callback is certified
        assert check(problem, x).feasible and check(problem, x).objective == pytest.approx(primal)
    assert [p for _, p, _ in seen] == [point[1] for point in result.trajectory[: len(seen)]]


@pytest.mark.parametrize("solver", BACKENDS)
def test_time_limit_is_respected(solver, hard_problem):
    result = hybridsolve.solve(hard_problem, solver, time_limit=1.5)
    assert result.status is Status.FEASIBLE and result.limit is Limit.TIME
    assert result.runtime < 1.5 + 0.5
    assert_certified(hard_problem, result)
    assert result.dual_bound is not None and result.dual_bound <= result.objective
    assert result.gap == pytest.approx(
        abs(result.objective - result.dual_bound) / abs(result.objective)
    )


@pytest.mark.parametrize("solver", BACKENDS)
def test_callback_can_stop_the_run_and_keeps_the_incumbent(solver, hard_problem):
    calls = []

    def stop_at_second(t, primal, dual, x):
        calls.append(primal)
        return len(calls) >= 2

    result = hybridsolve.solve(hard_problem, solver, time_limit=30, callback=stop_at_second)
    assert result.status is Status.FEASIBLE and result.limit is Limit.INTERRUPT
    assert result.runtime < 15
    assert result.objective <= calls[-1] + 1e-9
    assert_certified(hard_problem, result)


@pytest.mark.parametrize("solver", BACKENDS)
def test_ctrl_c_returns_the_incumbent(solver, hard_problem):
    timer = threading.Timer(1.0, os.kill, args=(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        result = hybridsolve.solve(hard_problem, solver, time_limit=30)
    finally:
        timer.cancel()
    assert result.status is Status.FEASIBLE and result.limit is Limit.INTERRUPT
    assert result.runtime < 10
    assert_certified(hard_problem, result)


@pytest.mark.parametrize("solver", BACKENDS)
def test_full_and_partial_warm_starts(solver, hard_problem):
    first = hybridsolve.solve(hard_problem, "highs", time_limit=2)
    assert first.x is not None
    full = hybridsolve.solve(hard_problem, solver, time_limit=3, warm_start=first.x)
    assert full.trajectory[0][1] <= first.objective + 1e-6
    assert full.objective <= first.objective + 1e-6
    assert_certified(hard_problem, full)

    binaries = {
        name: value
        for name, value, integer in zip(hard_problem.var_names, first.x, hard_problem.integrality)
        if integer
    }
    partial = hybridsolve.solve(hard_problem, solver, time_limit=3, warm_start=binaries)
    assert partial.trajectory[0][1] <= first.objective + 1e-6
    assert_certified(hard_problem, partial)


@pytest.mark.parametrize("solver", BACKENDS)
def test_warm_start_at_the_optimum_is_the_first_incumbent(solver, knapsack_problem):
    problem, best = knapsack_problem
    optimum = hybridsolve.solve(problem, "highs")
    result = hybridsolve.solve(problem, solver, warm_start=optimum.x)
    assert result.trajectory[0][1] == pytest.approx(best)


@pytest.mark.parametrize(
    ("solver", "options"),
    [("scip", {"limits/nodes": 300}), ("highs", {"mip_max_nodes": 300})],
)
def test_same_seed_same_run(solver, options, hard_problem):
    runs = [hybridsolve.solve(hard_problem, solver, seed=7, options=options) for _ in range(2)]
    assert runs[0].limit is Limit.NODES
    assert runs[0].objective == runs[1].objective and runs[0].nodes == runs[1].nodes
    np.testing.assert_array_equal(runs[0].x, runs[1].x)
    assert [p for _, p, _ in runs[0].trajectory] == [p for _, p, _ in runs[1].trajectory]


@pytest.mark.parametrize("solver", BACKENDS)
def test_relative_gap_stop_is_not_called_optimal(solver, hard_problem):
    result = hybridsolve.solve(hard_problem, solver, time_limit=3, mip_rel_gap=0.99)
    # the dual bound stays at 0, so a 99% gap cannot be reached: the time limit stops it
    assert result.status is Status.FEASIBLE and not result.success


@pytest.mark.parametrize("solver", BACKENDS)
def test_infeasible_leaks_no_numbers(solver):
    problem = Problem.from_arrays([1, 1], [[2, 2]], 3, 3, 0, 5, True)
    result = hybridsolve.solve(problem, solver)
    assert result.status is Status.INFEASIBLE
    assert result.x is None and result.objective is None and result.dual_bound is None
    assert result.gap is None and result.to_dict()["objective"] is None


@pytest.mark.parametrize("solver", BACKENDS)
def test_unbounded_mip_is_told_apart_from_infeasible(solver):
    problem = Problem.from_arrays([-1, 0], [[1, -1]], -np.inf, 0, 0, np.inf, [True, False])
    result = hybridsolve.solve(problem, solver)
    assert result.status is Status.UNBOUNDED
    assert result.x is None and result.objective is None


@pytest.mark.parametrize("solver", BACKENDS)
def test_lp_reports_its_dual_bound(solver):
    # max x + y, x + 2y <= 4, 3x + y <= 6 -> (1.6, 1.2), objective 2.8 + 1 offset
    problem = Problem.from_arrays(
        [1, 1], [[1, 2], [3, 1]], -np.inf, [4, 6], sense="maximize", offset=1.0
    )
    result = hybridsolve.solve(problem, solver)
    assert result.status is Status.OPTIMAL and result.nodes is None
    assert result.objective == pytest.approx(3.8) and result.dual_bound == pytest.approx(3.8)
    np.testing.assert_allclose(result.x, [1.6, 1.2])


def test_empty_domain_is_infeasible_without_a_backend():
    problem = Problem.from_arrays([1, 1], col_lower=[0, 2], col_upper=[1, 1], var_names=["u", "v"])
    result = hybridsolve.solve(problem, "scip")
    assert result.status is Status.INFEASIBLE and "v" in result.message


def test_progress_reports_incumbents(knapsack_problem):
    problem, best = knapsack_problem
    reports = []
    hybridsolve.solve(problem, "highs", progress=reports.append)
    incumbents = [r for r in reports if r.incumbent]
    assert incumbents and incumbents[-1].primal == pytest.approx(best)


def test_registered_solver_is_used_and_names_are_checked():
    from hybridsolve.mip import HighsBackend, UsageError

    class Named(HighsBackend):
        name = "highs-again"

    hybridsolve.register("highs-again", Named)
    assert "highs-again" in hybridsolve.available()
    result = hybridsolve.solve(Problem.from_arrays([1.0], col_lower=2.0), "highs-again")
    assert result.solver == "highs-again" and result.objective == 2.0
    with pytest.raises(UsageError, match="already registered"):
        hybridsolve.register("highs-again", Named)


class ScriptedBackend:
    """A backend that reports one incumbent and then claims ``final`` is optimal."""

    name = "scripted"

    def __init__(self, incumbent: float = 1.0, final: float = 1.0) -> None:
        self.incumbent, self.final = incumbent, final

    def prepare(self, problem: Problem, request) -> None:
        self.problem = problem

    def run(self, monitor):
        from hybridsolve.mip import Outcome

        monitor.incumbent(np.array([self.incumbent]), 1.0)
        return Outcome(Status.OPTIMAL, "optimal", x=np.array([self.final]), dual_bound=1.0)


def scripted(incumbent: float, final: float):
    from hybridsolve.mip import solve

    problem = Problem.from_arrays([1.0], col_lower=1.0, col_upper=2.0)
    return solve(problem, ScriptedBackend(incumbent, final))


def test_round_off_better_incumbent_does_not_demote_an_optimum():
    result = scripted(incumbent=1.0 - 1e-13, final=1.0)
    assert result.status is Status.OPTIMAL and result.x.tolist() == [1.0]


def test_a_better_incumbent_replaces_a_worse_final_answer():
    result = scripted(incumbent=1.0, final=1.5)
    assert result.status is Status.OPTIMAL and result.objective == 1.0


def test_final_answer_failing_the_certificate_is_not_returned():
    result = scripted(incumbent=1.5, final=2.5)
    assert result.x.tolist() == [1.5] and "bound x0" in result.message
    assert result.status is Status.FEASIBLE and result.limit is Limit.OTHER


def test_highs_objects_print_no_banner_on_stdout():
    """HiGHS 1.16 prints a banner at the first Highs() of a process; stdout stays clean."""
    code = (
        "from hybridsolve.mip.highs_factory import new_highs; a = new_highs(); b = new_highs();"
        "print('done')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout == "done\n", (out.stdout, out.stderr)


class DeafBackend:
    """Builds slowly, reports one incumbent, then ignores the stop flag for a long time."""

    name = "deaf"

    def __init__(self) -> None:
        self.left_after_build: float | None = None
        self.finished = threading.Event()

    def prepare(self, problem: Problem, request) -> None:
        import time

        time.sleep(0.4)  # building a large model
        self.left_after_build = request.time_left()

    def run(self, monitor):
        import time

        from hybridsolve.mip import Outcome

        monitor.incumbent(np.array([2.0]), 1.0)
        time.sleep(4.0)  # deep in presolve: neither the clock nor the flag is looked at
        monitor.incumbent(np.array([1.0]), 1.0)  # too late: the answer has been given
        self.finished.set()
        return Outcome(Status.OPTIMAL, "optimal", x=np.array([1.0]), dual_bound=1.0)


def test_the_guard_returns_soon_after_the_limit_with_the_incumbent():
    """A backend deaf to the stop flag is left behind; model building counts as time."""
    import time

    from hybridsolve.mip import solve

    problem = Problem.from_arrays([1.0], col_lower=1.0, col_upper=2.0)
    backend = DeafBackend()
    start = time.perf_counter()
    result = solve(problem, backend, time_limit=1.0)
    wall = time.perf_counter() - start
    assert not backend.finished.is_set() and wall < 3.0  # well before the backend's 4.4 s
    assert backend.left_after_build is not None and backend.left_after_build <= 0.65
    assert result.status is Status.FEASIBLE and result.limit is Limit.TIME
    assert result.x.tolist() == [2.0] and result.objective == 2.0
    assert "did not stop" in result.message and result.raw_status == "abandoned"
    assert backend.finished.wait(10.0)
    assert result.x.tolist() == [2.0] and len(result.trajectory) == 1  # nothing written late


@pytest.mark.parametrize("solver", BACKENDS)
def test_solvers_get_the_time_left_after_building(solver, monkeypatch):
    """The solver's own limit is what is left once the model is built."""
    import time

    from hybridsolve.mip import backend as backend_module

    seen = []
    original = backend_module.Request.time_left

    def spy(self):
        time.sleep(0.3)  # as if building had taken this long
        seen.append(original(self))
        return seen[-1]

    monkeypatch.setattr(backend_module.Request, "time_left", spy)
    problem = Problem.from_arrays([1.0, 1.0], [[1.0, 1.0]], row_lower=1.0, integrality=True)
    result = hybridsolve.solve(problem, solver, time_limit=5.0)
    assert result.objective == 1.0 and seen and seen[0] <= 4.7
