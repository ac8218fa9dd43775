"""comb.bounds.scheduling: total tardiness lower bounds below exact optima and heuristics."""

from __future__ import annotations

import time
from itertools import permutations

import numpy as np
import pytest

from hybridsolve.comb import KP, SMTT, solve
from hybridsolve.comb.bounds import scheduling
from hybridsolve.comb.bounds.scheduling import smtt_bound
from hybridsolve.mip import UsageError
from hybridsolve.mip import solve as mip_solve


def random_smtt(seed: int, n: int, weighted: bool) -> SMTT:
    """Due dates after Potts and Van Wassenhove: tardiness factor and range of due dates."""
    rng = np.random.default_rng(seed)
    p = rng.integers(1, 20, n)
    factor, spread = [(0.2, 0.6), (0.6, 0.2), (0.4, 0.4), (0.8, 0.8), (1.0, 0.2)][seed % 5]
    total = int(p.sum())
    low = max(0, int(total * (1 - factor - spread / 2)))
    d = rng.integers(low, int(total * (1 - factor + spread / 2)) + 1, n)
    return SMTT(p, d, rng.integers(1, 10, n) if weighted else None)


def brute_force(smtt: SMTT) -> float:
    return min(smtt.tardiness(order) for order in permutations(range(smtt.num_jobs)))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(6))
def test_bound_lies_below_the_optimum_and_the_heuristic(seed, weighted):
    smtt = random_smtt(seed, 4 + seed % 4, weighted)
    best = brute_force(smtt)
    result = smtt_bound(smtt)
    assert result.method in ("assignment", "time-indexed")
    assert result.bound <= best <= solve(smtt, "ls", seed=seed).cost
    assert result.bound == int(result.bound)  # whole weights: rounded up


@pytest.mark.parametrize(
    ("seed", "n", "weighted"), [(21, 8, True), (102, 13, False), (106, 19, False), (107, 15, True)]
)
def test_bound_lies_below_scip(seed, n, weighted):
    smtt = random_smtt(seed, n, weighted)
    result = mip_solve(smtt.to_problem(), "scip")
    assert result.status == "optimal"
    bound = smtt_bound(smtt)
    assert bound.method == "time-indexed"
    assert bound.bound <= result.objective + 1e-6
    # the time-indexed LP bound is close on these: within 5% of the optimum (4% on seed 21,
    # where the ascent reaches the LP bound, 381, exactly; under 1% on the others)
    assert bound.bound >= 0.95 * result.objective


def assignment_only(smtt: SMTT, monkeypatch) -> float:
    """The bound without the time-indexed relaxation."""
    with monkeypatch.context() as patch:
        patch.setattr(scheduling, "TIME_INDEXED_LIMIT", 0)
        result = smtt_bound(smtt)
    assert result.method == "assignment" and result.iterations == 0
    return result.bound


def test_time_indexed_bound_is_stronger_than_the_assignment(monkeypatch):
    gained = missing = stronger = 0.0
    for seed in range(10):
        for weighted in (False, True):
            smtt = random_smtt(seed, 7, weighted)
            best, old = brute_force(smtt), assignment_only(smtt, monkeypatch)
            new = smtt_bound(smtt).bound
            assert old <= new <= best
            gained += new - old
            missing += best - old
            stronger += new > old
    # the assignment misses about 10% of the optima in total; the time-indexed bound
    # closes nearly all of that, and is strictly larger on about half the instances
    assert missing > 0 and gained >= 0.95 * missing
    assert stronger >= 10


def test_bound_is_anytime(monkeypatch):
    smtt = random_smtt(3, 40, weighted=True)
    old = assignment_only(smtt, monkeypatch)
    full = smtt_bound(smtt)
    assert full.method == "time-indexed" and full.iterations > 100
    again = smtt_bound(smtt)
    assert (again.bound, again.method, again.iterations) == (
        full.bound, full.method, full.iterations,
    )  # fmt: skip
    few = smtt_bound(smtt, iterations=5)
    assert few.iterations == 5 and few.bound <= full.bound
    calls = []
    stopped = smtt_bound(smtt, stop=lambda: calls.append(1) or len(calls) >= 3)
    assert stopped.iterations == 3 and len(calls) == 3
    assert stopped.bound >= old  # the larger of the two is kept
    timed = smtt_bound(smtt, time_limit=1e-6)
    assert timed.iterations == 1 and timed.bound == old
    long = random_smtt(4, 300, weighted=True)
    started = time.perf_counter()
    result = smtt_bound(long, time_limit=0.2)
    assert time.perf_counter() - started < 1.5
    assert 1 <= result.iterations < scheduling.DEFAULT_ITERATIONS


def test_time_indexed_bound_is_skipped_above_its_limit(monkeypatch):
    smtt = random_smtt(3, 7, weighted=True)
    monkeypatch.setattr(scheduling, "TIME_INDEXED_LIMIT", 7 * smtt.total_processing_time - 1)
    result = smtt_bound(smtt)
    assert result.method == "assignment" and result.iterations == 0
    monkeypatch.setattr(scheduling, "TIME_INDEXED_LIMIT", 7 * smtt.total_processing_time)
    assert smtt_bound(smtt).method == "time-indexed"


def test_fractional_weights_are_not_rounded():
    smtt = SMTT([3, 5, 2, 4], [2, 4, 3, 5], weights=[1.5, 0.25, 2.0, 1.0])
    bound = smtt_bound(smtt).bound
    assert 0 < bound <= brute_force(smtt)
    assert bound != int(bound)


def test_single_job_is_exact():
    assert smtt_bound(SMTT([7], [3], weights=[2.5])).bound == pytest.approx(10.0)
    assert smtt_bound(SMTT([7], [9])).bound == 0


def test_zero_due_dates_give_the_spt_optimum():
    # every job is late by its completion time: the bound is sum of SPT completion times
    p = np.array([4, 1, 3, 2, 5])
    smtt = SMTT(p, np.zeros(5, dtype=int))
    spt = float(np.cumsum(np.sort(p)).sum())
    assert smtt_bound(smtt).bound == spt == brute_force(smtt)


def test_late_due_dates_give_zero():
    result = smtt_bound(SMTT([3, 4, 5], [12, 12, 12]))
    assert result.bound == 0 and result.iterations == 0  # EDD is on time: nothing to raise


@pytest.mark.parametrize("seed", range(4))
def test_sorted_form_above_the_assignment_limit(seed, monkeypatch):
    smtt = random_smtt(40 + seed, 6, weighted=seed % 2 == 1)
    assignment = assignment_only(smtt, monkeypatch)
    monkeypatch.setattr(scheduling, "ASSIGNMENT_LIMIT", 3)
    monkeypatch.setattr(scheduling, "TIME_INDEXED_LIMIT", 0)
    result = smtt_bound(smtt)
    assert result.method == "sorted"
    p, d = np.sort(smtt.processing_times), np.sort(smtt.due_dates)
    assert result.bound == smtt.weights.min() * np.maximum(np.cumsum(p) - d, 0).sum()
    assert result.bound <= assignment <= brute_force(smtt)


def test_bound_is_deterministic_and_checks_its_arguments():
    smtt = random_smtt(3, 7, weighted=True)
    assert smtt_bound(smtt).bound == smtt_bound(smtt, time_limit=5).bound
    with pytest.raises(UsageError, match="needs an SMTT"):
        smtt_bound(KP([1], [1], 1))
    with pytest.raises(UsageError, match="time_limit"):
        smtt_bound(smtt, time_limit=-1)
    with pytest.raises(UsageError, match="stop"):
        smtt_bound(smtt, stop=3)
    for bad in (0, -2, 2.5, True, "10", float("nan")):
        with pytest.raises(UsageError, match="iterations must be a positive integer"):
            smtt_bound(smtt, iterations=bad)


def time_indexed_lp(smtt: SMTT) -> float:
    """The LP relaxation of the time-indexed formulation, by HiGHS (scipy's linprog).

    ``x_jt`` (job ``j`` starts at ``t``, ``0 <= t <= T - p_j``): each job starts once, each
    unit slot ``s < T`` is covered by at most one job.
    """
    from scipy.optimize import linprog

    p, d, w = smtt.processing_times, smtt.due_dates, smtt.weights
    horizon = int(p.sum())
    columns = [(j, t) for j in range(smtt.num_jobs) for t in range(horizon - p[j] + 1)]
    cost = [w[j] * max(0, t + p[j] - d[j]) for j, t in columns]
    once = np.zeros((smtt.num_jobs, len(columns)))
    slots = np.zeros((horizon, len(columns)))
    for k, (j, t) in enumerate(columns):
        once[j, k] = 1.0
        slots[t : t + p[j], k] = 1.0
    result = linprog(cost, A_ub=slots, b_ub=np.ones(horizon), A_eq=once,
                     b_eq=np.ones(smtt.num_jobs), bounds=(0, 1), method="highs")  # fmt: skip
    assert result.status == 0
    return float(result.fun)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_time_indexed_bound_meets_its_lp_relaxation_and_stays_below_the_mip(seed, weighted):
    smtt = random_smtt(seed, 6, weighted)
    lp, best = time_indexed_lp(smtt), brute_force(smtt)
    assert lp <= best + 1e-9
    result = smtt_bound(smtt, iterations=5000)
    assert result.bound <= best  # and no more than the LP, up to rounding up to an integer
    assert result.bound <= np.ceil(lp - 1e-9)
    assert result.bound >= 0.99 * lp - 1  # the ascent reaches the LP (its Lagrangian dual)
    assert smtt_bound(smtt).bound >= optimum_free_lower(smtt)


def optimum_free_lower(smtt: SMTT) -> float:
    """The assignment bound alone, which the reported bound never falls below."""
    return scheduling.smtt_bound(smtt, iterations=1).bound
