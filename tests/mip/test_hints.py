"""Hints into the solvers: validation, the trust region, SCIP and HiGHS (and the LNS start)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from pyscipopt import SCIP_RESULT, Branchrule

import hybridsolve
from hybridsolve import mip
from hybridsolve.datasets.knapsack import multidimensional_knapsack
from hybridsolve.datasets.setcover import set_cover
from hybridsolve.mip import Hints, HintSettings, HintWarning, Problem, Request, Status, UsageError
from hybridsolve.mip.scip import ScipBackend
from hybridsolve.mip.trust import better_start, trust_region

SOLVERS = ["scip", "highs"]


@pytest.fixture(scope="module")
def knapsack() -> tuple[Problem, np.ndarray, float]:
    """A 0-1 multidimensional knapsack (maximise) with its optimum from a plain solve."""
    problem = multidimensional_knapsack(np.random.default_rng(0), 60, 5)
    plain = mip.solve(problem, "highs", time_limit=60)
    assert plain.status is Status.OPTIMAL
    assert mip.solve(problem, "scip", time_limit=60).objective == pytest.approx(plain.objective)
    return problem, plain.x, plain.objective


@pytest.fixture(scope="module")
def cover() -> tuple[Problem, np.ndarray, float]:
    """A set cover (minimise) with its optimum from a plain solve."""
    problem = set_cover(np.random.default_rng(1), 200, 400, 0.03)
    plain = mip.solve(problem, "scip", time_limit=60)
    assert plain.status is Status.OPTIMAL
    assert mip.solve(problem, "highs", time_limit=60).objective == pytest.approx(plain.objective)
    return problem, plain.x, plain.objective


def one_line_usage_error(call, match: str) -> None:
    with pytest.raises(UsageError, match=match) as info:
        call()
    assert "\n" not in str(info.value)


# --- the Hints object -----------------------------------------------------------------


def test_from_probabilities_rounds_and_measures_confidence(knapsack):
    problem = knapsack[0]
    p = np.full(problem.num_vars, np.nan)
    p[:4] = [0.9, 0.1, 0.5, 0.75]
    hints = Hints.from_probabilities(problem, p)
    assert hints.value[:4].tolist() == [1, 0, 0, 1]
    assert hints.confidence[:4] == pytest.approx([0.8, 0.8, 0.0, 0.5])
    assert hints.predicted.sum() == 4 and (hints.confidence[4:] == 0).all()
    assert hints.most_confident(3).tolist() == [0, 1, 3]  # ties go to the lower index
    assert hints.most_confident(10).tolist() == [0, 1, 3, 2]


def test_bad_shapes_and_values_give_one_line_errors(knapsack):
    problem = knapsack[0]
    n = problem.num_vars
    one_line_usage_error(lambda: Hints.from_probabilities(problem, np.full(n - 1, 0.5)), "length")
    one_line_usage_error(lambda: Hints.from_probabilities(problem, np.full(n, 1.5)), r"\[0, 1\]")
    one_line_usage_error(lambda: Hints(np.zeros(n), np.ones(n + 1)), "length")
    one_line_usage_error(lambda: Hints(np.zeros(n), np.full(n, 2.0)), "confidence")
    one_line_usage_error(lambda: Hints(np.zeros((2, n)), np.ones((2, n))), "one-dimensional")
    wrong = Hints(np.zeros(n + 3), np.ones(n + 3))
    one_line_usage_error(lambda: mip.solve(problem, "scip", hints=wrong), "length")
    outside = Hints(np.full(n, 2.0), np.ones(n))
    one_line_usage_error(lambda: mip.solve(problem, "highs", hints=outside), "outside its bounds")
    half = Hints(np.full(n, 0.5), np.ones(n))
    one_line_usage_error(lambda: mip.solve(problem, "highs", hints=half), "not integral")
    one_line_usage_error(lambda: mip.solve(problem, "scip", hints="forge"), "a function or None")
    one_line_usage_error(lambda: HintSettings(trust_time=1.5), "trust_time")
    one_line_usage_error(lambda: Hints(np.zeros(n), np.ones(n)).with_settings(deltas=3), "deltas")


def test_only_integer_variables_take_predictions():
    # x0 binary, x1 general integer in [0, 5], x2 continuous
    problem = Problem.from_arrays(
        [1, 1, 1], [[1, 1, 1]], 2, np.inf, 0, [1, 5, 4], [True, True, False]
    )
    one_line_usage_error(
        lambda: Hints(np.array([1, 2, 3.0]), np.ones(3)).validate(problem), "x2 is continuous"
    )
    one_line_usage_error(
        lambda: Hints.from_probabilities(problem, [0.9, 0.9, np.nan]), "x1 is not binary"
    )
    hints = Hints.from_values(problem, [1, 2, 3.5])  # continuous values are dropped
    assert np.isnan(hints.value[2]) and hints.value[:2].tolist() == [1, 2]


def test_partial_solution_sets_enough_for_scip():
    """SCIP ignores a partial solution with more than 85% unset: set at least 20%."""
    n = 100
    conf = np.linspace(0.0, 1.0, n)
    hints = Hints(np.zeros(n), conf, HintSettings(partial_share=0.05))
    partial = hints.partial_solution()
    assert (~np.isnan(partial)).sum() == 20
    assert np.flatnonzero(~np.isnan(partial)).min() == 80  # the most confident ones
    assert (~np.isnan(hints.partial_solution(share=0.5))).sum() == 50
    few = Hints(np.r_[np.zeros(10), np.full(90, np.nan)], np.ones(n))
    assert (~np.isnan(few.partial_solution())).sum() == 10  # all there is


# --- the trust region -----------------------------------------------------------------


def test_trust_region_row_allows_delta_flips(knapsack):
    problem, x, _ = knapsack
    hints = Hints.from_values(problem, x, settings=HintSettings(region=1.0, delta=2))
    region = trust_region(problem, hints)
    assert region.size == problem.num_vars and region.delta == 2
    assert set(region.ones.tolist()) == set(np.flatnonzero(x > 0.5).tolist())
    restricted = region.problem(problem)
    assert restricted.num_cons == problem.num_cons + 1
    assert restricted.con_names[-1] == "hybridsolve_trust_region"
    assert mip.check(restricted, x).feasible
    two = x.copy()
    two[:2] = 1 - two[:2]
    three = x.copy()
    three[:3] = 1 - three[:3]
    assert region.flips(two) == 2 and region.flips(three) == 3
    row = restricted.A[-1].toarray().ravel() @ three
    assert row > restricted.row_upper[-1]  # three flips violate the row, two do not
    assert restricted.A[-1].toarray().ravel() @ two <= restricted.row_upper[-1]


def test_trust_region_k0_k1_pick_the_most_confident_of_each_side(knapsack):
    problem, x, _ = knapsack
    conf = np.linspace(0.1, 1.0, problem.num_vars)
    hints = Hints.from_values(problem, x, conf, HintSettings(k0=5, k1=3))
    region = trust_region(problem, hints)
    zeros, ones = np.flatnonzero(x < 0.5), np.flatnonzero(x > 0.5)
    assert region.zeros.tolist() == sorted(zeros[-5:].tolist())
    assert region.ones.tolist() == sorted(ones[-3:].tolist())
    assert region.delta == 0  # fixed by default
    assert trust_region(problem, hints.with_settings(delta=None)).delta == 1  # PaS: 5%, >= 1
    assert len(trust_region(problem, hints, scale=0.5).zeros) == 3  # ceil(5 / 2)
    only_ones = Hints.from_values(problem, x, conf, HintSettings(k1=4))
    assert len(trust_region(problem, only_ones).zeros) == 0


def test_better_start_keeps_the_better_full_point(knapsack):
    problem, x, _ = knapsack
    empty = np.zeros(problem.num_vars)  # feasible, objective 0
    assert better_start(problem, None, x) is x
    assert better_start(problem, empty, None) is empty
    assert better_start(problem, empty, x) is x
    assert np.array_equal(better_start(problem, x, empty), x)
    partial = np.full(problem.num_vars, np.nan)
    assert better_start(problem, partial, empty) is empty


# --- hinted solves ----------------------------------------------------------------------


@pytest.mark.parametrize("solver", SOLVERS)
def test_a_perfect_hint_gives_the_optimum_first(solver, knapsack):
    problem, x, optimum = knapsack
    hints = Hints.from_values(problem, x, settings=HintSettings(region=1.0, delta=0))
    result = hybridsolve.solve(problem, solver, time_limit=30, hints=hints)
    assert result.status is Status.OPTIMAL
    assert result.objective == pytest.approx(optimum)
    assert mip.check(problem, result.x).feasible
    first_time, first_value, _ = result.trajectory[0]
    assert first_value == pytest.approx(optimum) and first_time < 1.0
    trust = result.stats["hints"]["trust_region"]
    assert trust["objective"] == pytest.approx(optimum) and trust["solver"] == solver


@pytest.mark.parametrize("solver", [*SOLVERS, "lns"])
def test_flipped_hints_never_give_a_wrong_answer(solver, knapsack, cover):
    for problem, x, optimum in (knapsack, cover):
        hints = Hints.from_values(problem, 1 - x)
        options = {"iterations": 12} if solver == "lns" else None
        result = hybridsolve.solve(problem, solver, time_limit=20, hints=hints, options=options)
        assert result.objective == pytest.approx(optimum)
        assert result.status is Status.OPTIMAL or solver == "lns"
        assert mip.check(problem, result.x).feasible
        assert result.stats["hints"]["used"]


@pytest.mark.parametrize("solver", SOLVERS)
def test_the_trust_region_never_cuts_off_the_optimum(solver, cover):
    """Five confident wrong values and room for one flip: the region excludes the optimum."""
    problem, x, optimum = cover
    wrong = np.full(problem.num_vars, np.nan)
    picked = np.flatnonzero(x > 0.5)[:5]
    wrong[picked] = 0
    hints = Hints.from_values(problem, wrong, settings=HintSettings(region=1.0, delta=1))
    region = trust_region(problem, hints)
    assert region.flips(x) >= 5 > region.delta
    result = hybridsolve.solve(problem, solver, time_limit=30, hints=hints)
    trust = result.stats["hints"]["trust_region"]
    assert trust["objective"] is not None and trust["objective"] > optimum + 0.5
    assert result.status is Status.OPTIMAL
    assert result.objective == pytest.approx(optimum)
    # the trust-region solve's incumbents count as the solve's own
    assert any(abs(value - trust["objective"]) < 1e-6 for _, value, _ in result.trajectory)


@pytest.mark.parametrize("solver", SOLVERS)
def test_an_infeasible_region_is_halved_until_it_is_not(solver, cover):
    problem, x, optimum = cover
    n = problem.num_vars
    nothing = np.where(problem.integrality, 0.0, np.nan)  # no column chosen covers nothing
    hints = Hints.from_values(problem, nothing, np.linspace(1.0, 0.5, n), HintSettings(region=1.0))
    result = hybridsolve.solve(problem, solver, time_limit=30, hints=hints)
    trust = result.stats["hints"]["trust_region"]
    assert 2 <= trust["attempts"] <= 4
    assert trust["zeros"] == math.ceil(n / 2 ** (trust["attempts"] - 1))
    assert trust["status"] != "infeasible" or trust["attempts"] == 4
    assert result.status is Status.OPTIMAL and result.objective == pytest.approx(optimum)


@pytest.mark.parametrize("solver", SOLVERS)
def test_time_limit_holds_with_wrong_hints(solver, hard_problem):
    n = hard_problem.num_vars
    value = np.where(hard_problem.integrality, 1.0, np.nan)  # everything 1: far off
    hints = Hints(value, np.ones(n))
    result = hybridsolve.solve(hard_problem, solver, time_limit=1.5, hints=hints)
    assert result.runtime < 1.5 + 0.5
    assert result.status is Status.FEASIBLE and mip.check(hard_problem, result.x).feasible
    assert result.stats["hints"]["trust_region"]["seconds"] < 0.5


def test_a_callback_stop_during_the_trust_region_solve(knapsack):
    problem, x, _ = knapsack
    hints = Hints.from_values(problem, 1 - x, settings=HintSettings(k0=40, delta=40))
    seen = []
    result = hybridsolve.solve(
        problem, "scip", time_limit=30, hints=hints, callback=lambda *a: seen.append(a) or True
    )
    assert len(seen) == 1 and result.limit is mip.Limit.INTERRUPT
    assert result.status is Status.FEASIBLE and result.objective == pytest.approx(seen[0][1])
    assert result.stats["hints"]["trust_region"]["seconds"] < 5


# --- what each backend does with them ---------------------------------------------------


class _Candidates(Branchrule):
    """Records SCIP's branching candidates of highest priority, then lets SCIP branch."""

    def __init__(self) -> None:
        self.seen: list[tuple[list[str], list[str]]] = []

    def branchexeclp(self, allowaddcons):
        cands, _, _, n, top, _ = self.model.getLPBranchCands()
        names = [c.name.removeprefix("t_") for c in cands[:n]]
        self.seen.append((names[:top], names[top:]))
        return {"result": SCIP_RESULT.DIDNOTRUN}

    def branchexecps(self, allowaddcons):
        return {"result": SCIP_RESULT.DIDNOTRUN}

    def branchexecext(self, allowaddcons):
        return {"result": SCIP_RESULT.DIDNOTRUN}


class _Spy(ScipBackend):
    def build(self, problem):
        model, variables = super().build(problem)
        self.rule = _Candidates()
        model.includeBranchrule(self.rule, "spy", "", priority=10**6, maxdepth=-1, maxbounddist=1)
        return model, variables


def test_scip_branches_on_confident_variables_first(knapsack):
    problem, x, _ = knapsack
    value = np.where(np.arange(problem.num_vars) % 2 == 0, x, np.nan)  # even ones only
    hints = Hints(value, np.where(np.isnan(value), 0.0, 1.0), HintSettings(trust_region=False))
    backend = _Spy()
    result = mip.solve(problem, backend, hints=hints, options={"limits/nodes": 20})
    assert result.stats["hints"]["priorities"] == (problem.num_vars + 1) // 2
    hinted = {name for name, v in zip(problem.var_names, value) if not np.isnan(v)}
    split = [(top, rest) for top, rest in backend.rule.seen if rest]
    assert split, "no node had candidates of two priorities"
    for top, rest in backend.rule.seen:
        assert set(top) <= hinted or not (set(top) | set(rest)) & hinted


def test_scip_completes_the_partial_solution(knapsack, capfd):
    problem, x, optimum = knapsack
    hints = Hints.from_values(problem, x, settings=HintSettings(trust_region=False))
    result = mip.solve(problem, "scip", time_limit=30, hints=hints, log=True)
    out = capfd.readouterr().out
    assert "completesol" in out and "ignore partial solution" not in out
    assert result.stats["hints"]["partial"] == 30
    assert result.objective == pytest.approx(optimum)


def test_scip_skips_a_partial_solution_it_would_ignore():
    # 2 binaries and 20 continuous variables: at most 2 of 22 values can be set
    n = 22
    problem = Problem.from_arrays(
        np.ones(n), np.ones((1, n)), 1, np.inf, 0, 1, [True, True] + [False] * 20
    )
    hints = Hints(np.r_[1.0, 0.0, np.full(20, np.nan)], np.r_[1.0, 1.0, np.zeros(20)])
    result = mip.solve(problem, "scip", hints=hints.with_settings(trust_region=False))
    assert result.stats["hints"]["partial"] == 0
    assert "at least" in result.stats["hints"]["partial_skipped"]
    assert result.status is Status.OPTIMAL and result.objective == pytest.approx(1.0)


def test_highs_completes_a_partial_start(knapsack, capfd):
    problem, x, optimum = knapsack
    hints = Hints.from_values(problem, x, settings=HintSettings(trust_region=False))
    result = mip.solve(problem, "highs", time_limit=30, hints=hints, log=True)
    out = capfd.readouterr().out
    assert "user-supplied values of 30 / 60" in out
    assert result.stats["hints"]["partial"] == 30
    assert result.objective == pytest.approx(optimum)


def test_highs_starts_from_the_trust_region_solution(knapsack, capfd):
    problem, x, optimum = knapsack
    hints = Hints.from_values(problem, x, settings=HintSettings(region=1.0, delta=0))
    result = mip.solve(problem, "highs", time_limit=30, hints=hints, log=True)
    out = capfd.readouterr().out
    assert f"MIP start solution is feasible: objective value is {optimum:g}" in out
    assert "partial" not in result.stats["hints"]


def test_lns_starts_from_the_trust_region_solution(knapsack, monkeypatch):
    import hybridsolve.lns.backend as lns_backend

    problem, x, optimum = knapsack
    starts = []
    real = lns_backend.search

    def spy(*args, **kwargs):
        starts.append(kwargs["warm_start"])
        return real(*args, **kwargs)

    monkeypatch.setattr(lns_backend, "search", spy)
    hints = Hints.from_values(problem, x, settings=HintSettings(region=1.0, delta=0))
    result = hybridsolve.solve(
        problem, "lns", time_limit=10, hints=hints, options={"iterations": 2}
    )
    assert len(starts) == 1 and problem.objective(starts[0]) == pytest.approx(optimum)
    assert result.objective == pytest.approx(optimum)
    assert result.stats["hints"]["trust_region"]["solver"] == "scip"


def test_general_integers_go_to_the_partial_solution_not_the_region():
    # max x0 + x1 + 2 y, x0 + x1 + y <= 6, binaries x0 x1, general integer y in [0, 5]
    problem = Problem.from_arrays(
        [1, 1, 2], [[1, 1, 1]], -np.inf, 6, 0, [1, 1, 5], True, sense="maximize"
    )
    hints = Hints.from_values(problem, [1, 1, 4], [0.9, 0.8, 1.0])
    region = trust_region(problem, hints.with_settings(region=1.0))
    assert sorted(region.ones.tolist()) == [0, 1] and len(region.zeros) == 0
    assert hints.partial_solution(share=1.0)[2] == 4
    assert hints.priorities() == {0: 9, 1: 8, 2: 10}
    for solver in SOLVERS:
        result = mip.solve(problem, solver, hints=hints)
        assert result.status is Status.OPTIMAL and result.objective == pytest.approx(11)


@pytest.mark.parametrize("solver", SOLVERS)
def test_no_binaries_falls_back_with_one_warning(solver):
    problem = Problem.from_arrays([-1, -1], [[2, 3]], -np.inf, 12, 0, 10, True)  # general ints
    hints = Hints(np.array([3.0, 2.0]), np.ones(2))
    with pytest.warns(HintWarning, match="no binary variables") as caught:
        result = hybridsolve.solve(problem, solver, hints=hints)
    assert len(caught) == 1 and "\n" not in str(caught[0].message)
    assert result.status is Status.OPTIMAL and result.objective == pytest.approx(-6)
    assert result.stats["hints"] == {"used": False, "reason": "the model has no binary variables"}


def test_a_linear_program_takes_no_predictions():
    problem = Problem.from_arrays([1, 2], [[1, 1]], 1, np.inf)
    one_line_usage_error(
        lambda: mip.solve(problem, "scip", hints=Hints([0.0, 1.0], [1.0, 1.0])), "continuous"
    )
    with pytest.warns(HintWarning, match="no binary variables"):
        result = mip.solve(problem, "scip", hints=Hints([np.nan, np.nan], [0.0, 0.0]))
    assert result.status is Status.OPTIMAL and result.objective == pytest.approx(1)


def test_hints_that_predict_nothing_fall_back(knapsack):
    problem = knapsack[0]
    nothing = Hints(np.full(problem.num_vars, np.nan), np.zeros(problem.num_vars))
    with pytest.warns(HintWarning, match="predict no variable"):
        result = mip.solve(problem, "highs", hints=nothing)
    assert result.status is Status.OPTIMAL


def test_no_hints_no_warning_and_no_stats(knapsack):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = mip.solve(knapsack[0], "highs")
    assert "hints" not in result.stats


def test_request_carries_hints(knapsack):
    problem, x, _ = knapsack
    hints = Hints.from_values(problem, x)
    assert Request(deadline=None, hints=hints).hints is hints
    assert Request(deadline=None).hints is None
