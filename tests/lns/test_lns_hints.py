"""The LNS with hints: the hint arms, certified answers, wrong hints, the time limit, seeds."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from hybridsolve import datasets
from hybridsolve.lns import Context, LnsBackend, portfolio
from hybridsolve.lns.operators import HINTED, hint_confident, hint_disagree
from hybridsolve.mip import Hints, Limit, Problem, Status, check, solve

#: The portfolio's hint arms: every rate of the two hint families.
HINT_ARMS = {"hint_disagree-0.1", "hint_disagree-0.3", "hint_confident-0.3", "hint_confident-0.6"}
#: The bandit's hint arms: each family at its first rate (option rates=first, the default),
#: with a SCIP and with a HiGHS sub-MIP (the default backend).
HINT_FIRST = {"hint_disagree-0.1", "hint_confident-0.3"}
HINT_PULLS = {f"{arm}@{backend}" for arm in HINT_FIRST for backend in ("scip", "highs")}


@pytest.fixture(scope="module")
def small() -> tuple[Problem, np.ndarray, float]:
    """A set cover SCIP solves in about a second (optimum 355), its optimum and value."""
    p = datasets.set_cover(np.random.default_rng(5), rows=200, cols=500)
    exact = solve(p, "scip")
    assert exact.status is Status.OPTIMAL
    return p, exact.x, exact.objective


@pytest.fixture(scope="module")
def easy() -> Problem:
    """A set cover SCIP closes in about 8 s: too large for a 3 s run to prove it optimal."""
    return datasets.get("setcover-easy").instance("test", 0)


def _flipped(p: Problem, x: np.ndarray) -> Hints:
    """Deliberately wrong hints: every binary predicted the other way, fully confident."""
    return Hints.from_values(p, 1.0 - np.round(x))


def _noisy(p: Problem, x: np.ndarray, seed: int, wrong: float = 0.2) -> Hints:
    """``x`` with a ``wrong`` share of its binaries flipped, random confidences."""
    rng = np.random.default_rng(seed)
    values = np.round(x)
    flip = rng.random(p.num_vars) < wrong
    values[flip] = 1.0 - values[flip]
    return Hints.from_values(p, values, rng.uniform(0.1, 1.0, p.num_vars))


def _fixed(nb, ctx: Context) -> np.ndarray:
    """Indices of the integer variables the neighbourhood fixes."""
    idx = ctx.integer
    return idx[nb.lower[idx] == nb.upper[idx]]


def test_the_hint_operators_free_disagreements_and_fix_confident_predictions():
    p = datasets.set_cover(np.random.default_rng(7), rows=40, cols=80)
    x = np.ones(p.num_vars)  # every column taken: feasible for a set cover
    rng = np.random.default_rng(0)
    value = p.objective(x)
    assert not any(arm.name.rsplit("-", 1)[0] in HINTED for arm in portfolio(Context(p)))

    # hint_disagree: the 5 disagreements are freed, then random others up to the rate
    values = x.copy()
    values[[3, 17, 29, 41, 66]] = 0.0
    confidence = np.linspace(0.05, 1.0, p.num_vars)
    confidence[10] = 0.0  # says nothing: neither freed for disagreeing nor fixed
    values[10] = 0.0
    ctx = Context(p, hints=Hints.from_values(p, values, confidence))
    arms = {arm.name for arm in portfolio(ctx, lp=False)}
    assert HINT_ARMS <= arms
    nb = hint_disagree(ctx, x, value, 0.3, rng)
    fixed = _fixed(nb, ctx)
    assert len(fixed) == p.num_vars - round(0.3 * p.num_vars)
    assert not set(fixed) & {3, 17, 29, 41, 66}
    assert np.array_equal(nb.lower[fixed], x[fixed]) and nb.contains(x)
    # more disagreements than the rate frees: a subset of them, the rest fixed
    ctx = Context(p, hints=Hints.from_values(p, 1.0 - x))
    nb = hint_disagree(ctx, x, value, 0.1, rng)
    assert nb.free == round(0.1 * p.num_vars) and nb.contains(x)

    # hint_confident: the most confident 70% of the predictions fixed to the prediction
    ctx = Context(p, hints=Hints.from_values(p, values, confidence))
    nb = hint_confident(ctx, x, value, 0.3, rng)
    fixed = _fixed(nb, ctx)
    count = round(0.7 * (p.num_vars - 1))  # one prediction has confidence 0
    assert set(fixed) == set(np.argsort(-confidence)[:count])
    assert np.array_equal(nb.lower[fixed], values[fixed])
    assert 10 not in fixed and not nb.contains(x)  # fixes to the hints, not the incumbent
    # equal confidences: a random choice among them, so the arm's pulls differ
    ctx = Context(p, hints=Hints.from_values(p, values))
    one, two = (_fixed(hint_confident(ctx, x, value, 0.3, rng), ctx) for _ in range(2))
    assert len(one) == len(two) == round(0.7 * p.num_vars) and set(one) != set(two)


def test_hints_reach_the_lns_and_its_hint_arms_are_pulled(small):
    p, x, _ = small
    options = {"tree": False, "initial_share": 0.001, "iterations": 12}
    options["operators"] = "hint_disagree,hint_confident"
    result = solve(p, LnsBackend(), hints=_noisy(p, x, 1), time_limit=20, seed=2, options=options)
    assert result.x is not None and check(p, result.x).feasible
    assert result.stats["hints"]["used"] and "trust_region" in result.stats["hints"]
    report = result.stats["hints"]["lns"]
    assert set(report["arms"]) == HINT_PULLS and report["predicted"] == p.num_vars
    assert report["pulls"] == result.stats["iterations"] == 12
    assert set(result.stats["operators"]) <= HINT_PULLS
    assert sum(arm["pulls"] for arm in result.stats["operators"].values()) == 12
    # without hints the hint families have no arm: no iteration, no hint report
    plain = solve(p, LnsBackend(), time_limit=20, seed=2, options=options)
    assert plain.stats["iterations"] == 0 and "hints" not in plain.stats
    assert plain.x is not None and check(p, plain.x).feasible


@pytest.mark.parametrize("hints", ["noisy", "flipped"])
def test_a_hinted_run_is_certified_and_keeps_to_the_time_limit(easy, hints):
    """Wrong hints included: a feasible ``x``, its own objective, no optimality claimed
    without proof (the LP bound for the check), and the limit holds with the trust-region
    solve inside it."""
    reference = solve(easy, "scip", time_limit=1.5, options={"limits/solutions": 1})
    assert reference.x is not None
    guess = _noisy(easy, reference.x, 3) if hints == "noisy" else _flipped(easy, reference.x)
    started = time.perf_counter()
    result = solve(easy, LnsBackend(), hints=guess, time_limit=3, seed=0)
    elapsed = time.perf_counter() - started
    assert elapsed < 3.6, elapsed
    assert result.status in (Status.FEASIBLE, Status.OPTIMAL)
    certificate = check(easy, result.x)
    assert certificate.feasible and result.objective == pytest.approx(certificate.objective)
    relaxed = solve(replace(easy, integrality=np.zeros(easy.num_vars, dtype=bool)), "highs")
    assert result.objective >= relaxed.objective - 1e-6
    if result.status is Status.OPTIMAL:
        assert result.dual_bound == pytest.approx(result.objective)
    else:
        assert result.limit is Limit.TIME
        if result.dual_bound is not None:  # the trees' best bound: valid, at least the LP's
            assert relaxed.objective - 1e-6 <= result.dual_bound <= result.objective + 1e-6
    assert set(result.stats["hints"]["lns"]["arms"]) == HINT_PULLS  # in the full portfolio


@pytest.mark.parametrize("backend", ["scip", "highs"])
def test_the_optimum_is_still_found_with_wrong_hints(small, backend):
    """Flipped hints send the trust region and the hint arms the wrong way; the other arms
    still reach the optimum, and the run never reports anything better than it."""
    p, x, optimum = small
    options = {"backend": backend, "tree": False, "initial_share": 0.001}

    def at_optimum(time_, primal, dual, point) -> bool:
        assert primal >= optimum - 1e-6, "an objective better than the optimum"
        return primal <= optimum + 1e-6

    result = solve(
        p, LnsBackend(), hints=_flipped(p, x), time_limit=15, seed=1, options=options,
        callback=at_optimum,
    )  # fmt: skip
    assert result.status is Status.FEASIBLE and result.limit is Limit.INTERRUPT
    assert result.objective == pytest.approx(optimum)
    assert check(p, result.x).feasible
    assert result.stats["hints"]["trust_region"]["objective"] > optimum  # a wrong start
    assert set(result.stats["hints"]["lns"]["arms"]) == {f"{arm}@{backend}" for arm in HINT_FIRST}


@pytest.mark.parametrize("backend, nodes", [("scip", "limits/nodes"), ("highs", "mip_max_nodes")])
def test_the_same_seed_gives_the_same_hinted_run(backend, nodes):
    """With node limits instead of time limits and no tree arm, as in test_search.py."""
    p = datasets.generalized_independent_set(np.random.default_rng(4), nodes=60)
    hints = _noisy(p, solve(p, "scip").x, 5)
    options = {"backend": backend, "iterations": 8, "iteration_time": 30, nodes: 1}
    options.update(tree=False, operators="hint_disagree,hint_confident,mutation")

    def run(seed):
        result = solve(p, LnsBackend(), hints=hints, seed=seed, time_limit=120, options=options)
        pulls = {name: arm["pulls"] for name, arm in result.stats["operators"].items()}
        return result.objective, [v for _, v, _ in result.trajectory], pulls, result.limit

    first = run(5)
    assert first == run(5)
    assert first[3] is Limit.ITERATIONS and set(first[2]) & HINT_PULLS
