"""comb.scheduling total tardiness methods: optima by brute force and the MIP, the rules."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pytest

from hybridsolve import solve as mip_solve
from hybridsolve.comb import SMTT, solve
from hybridsolve.comb.solve import methods
from hybridsolve.datasets.routing import smtt as smtt_instance
from hybridsolve.mip import UsageError


def run(smtt: SMTT, method: str, time_limit: float | None = None, seed: int = 0, **options):
    solution = solve(smtt, method, time_limit=time_limit, seed=seed, **options)
    smtt.check_sequence(solution.sequence)
    assert solution.cost == pytest.approx(smtt.tardiness(solution.sequence))
    assert solution.trajectory[-1][1] == pytest.approx(solution.cost)
    return solution.sequence


def brute_force(smtt: SMTT) -> float:
    perms = np.array(list(permutations(range(smtt.num_jobs))))
    completion = np.cumsum(smtt.processing_times[perms], axis=1)
    late = np.maximum(completion - smtt.due_dates[perms], 0)
    return float((smtt.weights[perms] * late).sum(axis=1).min())


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("seed", range(8))
def test_local_search_finds_the_brute_force_optimum(seed, weighted):
    rng = np.random.default_rng(seed)
    smtt = smtt_instance(rng, 2 + seed % 6, tardiness_factor=0.4 + 0.05 * seed, weighted=weighted)
    optimum = brute_force(smtt)
    assert smtt.tardiness(run(smtt, "ls", iterations=100)) == pytest.approx(optimum)
    for rule in ("edd", "mdd", "wi"):
        assert smtt.tardiness(run(smtt, rule)) >= optimum - 1e-9


@pytest.mark.parametrize("weighted", [False, True])
def test_local_search_matches_the_mip_on_eight_jobs(weighted):
    smtt = smtt_instance(np.random.default_rng(8), 8, weighted=weighted)
    result = mip_solve(smtt.to_problem(), "highs", mip_rel_gap=0.0)
    assert result.status == "optimal"
    assert smtt.tardiness(run(smtt, "ls", iterations=200)) == pytest.approx(result.objective)


def test_rules_by_hand():
    # p = (4, 1, 3), d = (4, 2, 3)
    smtt = SMTT([4, 1, 3], [4, 2, 3])
    assert run(smtt, "edd").tolist() == [1, 2, 0]  # due dates 2, 3, 4
    # MDD at t=0: max(p, d) = 4, 2, 3 -> job 1; t=1: max(t+p, d) = 5, -, 4 -> job 2
    assert run(smtt, "mdd").tolist() == [1, 2, 0]
    # equal due dates: EDD puts the shorter job first, which is optimal here
    assert run(SMTT([5, 2], [1, 1]), "edd").tolist() == [1, 0]


def test_adjacent_pair_rule_leaves_no_gaining_adjacent_swap():
    smtt = smtt_instance(np.random.default_rng(2), 40, weighted=True)
    seq = run(smtt, "wi")
    total = smtt.tardiness(seq)
    for k in range(smtt.num_jobs - 1):
        swapped = seq.copy()
        swapped[[k, k + 1]] = swapped[[k + 1, k]]
        assert smtt.tardiness(swapped) >= total - 1e-9
    assert total <= smtt.tardiness(run(smtt, "edd"))


def test_weighted_mdd_prefers_the_heavy_job():
    # both late at once; the weighted key max(p, d - t) / w picks the heavy job first
    smtt = SMTT([3, 3], [0, 0], weights=[1, 5])
    assert run(smtt, "mdd").tolist() == [1, 0]


def test_same_seed_same_sequence_and_no_worse_than_its_start():
    smtt = smtt_instance(np.random.default_rng(4), 40, weighted=True)
    first = run(smtt, "ls", seed=9, iterations=20)
    assert np.array_equal(first, run(smtt, "ls", seed=9, iterations=20))
    starts = [smtt.tardiness(run(smtt, rule)) for rule in ("edd", "mdd", "wi")]
    assert smtt.tardiness(first) <= min(starts)


def test_the_time_limit_bounds_the_run_and_zero_tardiness_stops_early():
    smtt = smtt_instance(np.random.default_rng(6), 60)
    solution = solve(smtt, time_limit=0.3)
    assert solution.method == "ls" and methods(smtt) == ("edd", "mdd", "wi", "ls")
    smtt.check_sequence(solution.sequence)
    assert 0.3 <= solution.runtime < 1.5
    easy = solve(SMTT([1, 2, 3], [10, 10, 10]), time_limit=30.0)
    assert easy.cost == 0 and easy.runtime < 5.0


@pytest.mark.parametrize("bad", [-3, 1.5])
def test_bad_iterations_are_refused(bad):
    with pytest.raises(UsageError, match="iterations must be a non-negative integer"):
        run(SMTT([1, 2], [1, 1]), "ls", iterations=bad)
