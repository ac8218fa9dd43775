"""comb.bounds.scheduling: total tardiness lower bounds below exact optima and heuristics."""

from __future__ import annotations

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
    assert result.method == "assignment" and result.iterations == 0
    assert result.bound <= best <= solve(smtt, "ls", seed=seed).cost
    assert result.bound == int(result.bound)  # whole weights: rounded up


def test_bound_lies_below_scip_on_eight_jobs():
    smtt = random_smtt(21, 8, weighted=True)
    result = mip_solve(smtt.to_problem(), "scip")
    assert result.status == "optimal"
    assert smtt_bound(smtt).bound <= result.objective + 1e-6


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
    assert smtt_bound(SMTT([3, 4, 5], [12, 12, 12])).bound == 0


@pytest.mark.parametrize("seed", range(4))
def test_sorted_form_above_the_assignment_limit(seed, monkeypatch):
    smtt = random_smtt(40 + seed, 6, weighted=seed % 2 == 1)
    assignment = smtt_bound(smtt)
    monkeypatch.setattr(scheduling, "ASSIGNMENT_LIMIT", 3)
    result = smtt_bound(smtt)
    assert result.method == "sorted"
    p, d = np.sort(smtt.processing_times), np.sort(smtt.due_dates)
    assert result.bound == smtt.weights.min() * np.maximum(np.cumsum(p) - d, 0).sum()
    assert result.bound <= assignment.bound <= brute_force(smtt)


def test_bound_is_deterministic_and_checks_its_arguments():
    smtt = random_smtt(3, 7, weighted=True)
    assert smtt_bound(smtt).bound == smtt_bound(smtt, time_limit=5, stop=lambda: True).bound
    with pytest.raises(UsageError, match="needs an SMTT"):
        smtt_bound(KP([1], [1], 1))
    with pytest.raises(UsageError, match="time_limit"):
        smtt_bound(smtt, time_limit=-1)
    with pytest.raises(UsageError, match="stop"):
        smtt_bound(smtt, stop=3)
