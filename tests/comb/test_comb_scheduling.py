"""comb.SMTT: tardiness by hand, exact MIP formulations against brute force."""

from __future__ import annotations

from itertools import permutations

import numpy as np
import pytest

from hybridsolve.comb import SMTT
from hybridsolve.mip import ProblemError, check, read, solve, write


def brute_force(smtt: SMTT) -> float:
    perms = np.array(list(permutations(range(smtt.num_jobs))))
    completion = np.cumsum(smtt.processing_times[perms], axis=1)
    late = np.maximum(completion - smtt.due_dates[perms], 0)
    return float((smtt.weights[perms] * late).sum(axis=1).min())


def random_instance(seed: int, weighted: bool, n: int = 6) -> SMTT:
    rng = np.random.default_rng(seed)
    p = rng.integers(1, 20, n)
    d = rng.integers(0, int(p.sum() * 0.7), n)
    return SMTT(p, d, rng.integers(1, 10, n) if weighted else None)


def sequence_of(smtt: SMTT, x: np.ndarray) -> np.ndarray:
    n = smtt.num_jobs
    return np.argmax(np.round(x[: n * n]).reshape(n, n), axis=0)  # job in position k


def test_tardiness_by_hand():
    smtt = SMTT([3, 2, 4], [2, 4, 5], weights=[1, 2, 1])
    # completion 3, 5, 9 -> tardiness 1, 1, 4 -> 1*1 + 2*1 + 1*4
    assert smtt.tardiness([0, 1, 2]) == 7.0
    # job 2 ends at 4 (on time), job 1 at 6 (2 late, weight 2), job 0 at 9 (7 late)
    assert smtt.tardiness([2, 1, 0]) == 4 + 7
    assert smtt.completion_times([2, 1, 0]).tolist() == [9, 6, 4]
    assert SMTT([3, 2, 4], [2, 4, 5]).tardiness([2, 1, 0]) == 2 + 7
    assert smtt.total_processing_time == 9 and smtt.num_jobs == smtt.size == 3


@pytest.mark.parametrize(
    ("weighted", "formulation"),
    [(False, "auto"), (False, "big_m"), (True, "auto"), (True, "big_m")],
)
@pytest.mark.parametrize("seed", [1, 2])
def test_mip_optimum_equals_brute_force_over_720_permutations(seed, weighted, formulation):
    smtt = random_instance(seed, weighted)
    problem = smtt.to_problem(formulation)
    result = solve(problem, "highs")
    assert result.status == "optimal"
    best = brute_force(smtt)
    assert result.objective == pytest.approx(best, abs=1e-6)
    assert check(problem, result.x).feasible
    sequence = sequence_of(smtt, result.x)
    smtt.check_sequence(sequence)
    assert smtt.tardiness(sequence) == pytest.approx(best)


def test_scip_agrees_on_a_weighted_instance():
    smtt = random_instance(3, weighted=True)
    assert solve(smtt.to_problem(), "scip").objective == pytest.approx(brute_force(smtt))


def test_auto_picks_positional_for_equal_weights_and_big_m_otherwise():
    unit = random_instance(4, weighted=False, n=3).to_problem()
    assert "T_0" in unit.var_names and "tard_0" in unit.con_names
    assert unit.num_cons == 4 * 3 and unit.num_vars == 3 * 3 + 2 * 3
    weighted = random_instance(4, weighted=True, n=3).to_problem()
    assert "T_job_0" in weighted.var_names and "tard_2_1" in weighted.con_names
    assert weighted.num_cons == 3 * 3 + 3 * 3
    with pytest.raises(ProblemError, match="exact only for equal weights"):
        random_instance(4, weighted=True, n=3).to_problem("positional")
    with pytest.raises(ProblemError, match="formulation must be"):
        random_instance(4, weighted=False, n=3).to_problem("mtz")  # type: ignore[arg-type]


@pytest.mark.parametrize("weighted", [False, True])
def test_rows_are_equalities_or_one_sided(weighted):
    p = random_instance(5, weighted, n=4).to_problem()
    ranged = np.isfinite(p.row_lower) & np.isfinite(p.row_upper) & (p.row_lower != p.row_upper)
    assert not ranged.any()
    equalities = [name for name, lo, hi in zip(p.con_names, p.row_lower, p.row_upper) if lo == hi]
    assert equalities == [f"{kind}_{i}" for kind in ("job", "pos", "comp") for i in range(4)]
    assert p.var_names[:3] == ("x_0_0", "x_0_1", "x_0_2") and "C_3" in p.var_names


@pytest.mark.parametrize("weighted", [False, True])
def test_to_problem_round_trips_through_gzipped_mps(tmp_path, weighted):
    p = random_instance(6, weighted).to_problem()
    q = read(write(p, tmp_path / "smtt.mps.gz"))
    assert q.sense == p.sense and q.var_names == p.var_names and q.con_names == p.con_names
    for name in ("c", "row_lower", "row_upper", "col_lower", "col_upper", "integrality"):
        np.testing.assert_array_equal(getattr(q, name), getattr(p, name))
    np.testing.assert_array_equal(q.A.toarray(), p.A.toarray())


def test_check_sequence_gives_the_reason():
    smtt = SMTT([1, 2, 3], [0, 0, 0])
    with pytest.raises(ProblemError, match="has 2 entries"):
        smtt.check_sequence([0, 1])
    with pytest.raises(ProblemError, match="0 appears more than once and 2 is missing"):
        smtt.tardiness([0, 1, 0])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([3, 0, 2], [1, 1, 1]), "processing_times must be positive, got 0 at index 1"),
        (([3, 1.5, 2], [1, 1, 1]), "processing_times must be integer-valued, got 1.5"),
        (([3, 1, 2], [1, -1, 1]), "due_dates must be non-negative"),
        (([3, 1, 2], [1, 1]), r"due_dates has shape \(2,\), expected \(3,\)"),
        (([3, 1, 2], [1, 1, 1], [1, 0, 1]), "weights must be positive"),
        (([3, np.nan, 2], [1, 1, 1]), "NaN"),
        (([], []), "at least one job"),
    ],
)
def test_smtt_rejects_bad_input(args, message):
    with pytest.raises(ProblemError, match=message):
        SMTT(*args)
