"""comb.KP: validation, selections, and the MIP export against brute force."""

from __future__ import annotations

import numpy as np
import pytest

from hybridsolve.comb import KP
from hybridsolve.mip import ProblemError, check, read, solve, write


def brute_force(kp: KP) -> float:
    n = kp.num_items
    subsets = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    feasible = subsets @ kp.weights <= kp.capacity + 1e-9
    return float((subsets[feasible] @ kp.values).max())


@pytest.mark.parametrize("integer", [True, False])
def test_mip_optimum_equals_brute_force(integer):
    rng = np.random.default_rng(11 if integer else 12)
    if integer:
        weights, values = rng.integers(1, 60, 14), rng.integers(1, 60, 14)
        kp = KP(values, weights, int(weights.sum() // 3))
    else:
        kp = KP(rng.random(14), rng.random(14), 14 / 4)
    problem = kp.to_problem()
    result = solve(problem, "highs")
    assert result.status == "optimal"
    assert result.objective == pytest.approx(brute_force(kp), abs=1e-6)
    assert check(problem, result.x).feasible
    selection = np.flatnonzero(np.round(result.x) == 1)
    kp.check_selection(selection)
    assert kp.value(selection) == pytest.approx(result.objective, abs=1e-6)


def test_to_problem_layout():
    problem = KP([5, 4, 3], [2, 3, 1], 4, name="k").to_problem()
    assert problem.sense == "maximize" and problem.name == "k"
    assert problem.var_names == ("x_0", "x_1", "x_2") and problem.con_names == ("cap",)
    assert problem.A.toarray().tolist() == [[2, 3, 1]]
    assert problem.row_upper.tolist() == [4.0] and problem.row_lower.tolist() == [-np.inf]
    assert problem.integrality.all() and problem.col_upper.tolist() == [1, 1, 1]
    assert problem.c.tolist() == [5, 4, 3]


def test_to_problem_round_trips_through_gzipped_mps(tmp_path):
    rng = np.random.default_rng(3)
    kp = KP(rng.integers(1, 100, 20), rng.integers(1, 100, 20), 500, name="rt")
    p = kp.to_problem()
    q = read(write(p, tmp_path / "kp.mps.gz"))
    assert q.sense == p.sense and q.var_names == p.var_names and q.con_names == p.con_names
    for name in ("c", "row_lower", "row_upper", "col_lower", "col_upper", "integrality"):
        np.testing.assert_array_equal(getattr(q, name), getattr(p, name))
    np.testing.assert_array_equal(q.A.toarray(), p.A.toarray())


def test_value_and_check_selection_by_hand():
    kp = KP([10, 7, 4, 3], [5, 4, 3, 1], 8)
    assert kp.value([0, 3]) == 13.0 and kp.weight([0, 3]) == 6.0
    kp.check_selection([0, 2])  # weight exactly 8
    kp.check_selection([])
    with pytest.raises(ProblemError, match="selection weighs 9 > capacity 8"):
        kp.check_selection([0, 1])
    with pytest.raises(ProblemError, match="lists index 1 more than once"):
        kp.value([1, 1])
    with pytest.raises(ProblemError, match="boolean"):
        kp.value(np.array([True, False, False, True]))
    with pytest.raises(ProblemError, match="out of range 0..3"):
        kp.check_selection([4])


def test_integer_input_keeps_integers():
    kp = KP(np.array([3, 4]), np.array([1, 2]), 2)
    assert kp.weights.dtype == np.int64 and kp.is_integral and kp.capacity == 2
    real = KP([0.5, 0.25], [0.1, 0.2], 0.3)
    assert real.weights.dtype == np.float64 and not real.is_integral
    assert real.num_items == real.size == 2
    with pytest.raises(ValueError):
        kp.values[0] = 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (([1, 2], [1, -2], 3), r"weights must be non-negative, got -2 at index 1"),
        (([1, np.nan], [1, 2], 3), r"values contains NaN at index 1"),
        (([1, 2, 3], [1, 2], 3), r"weights has shape \(2,\), expected \(3,\)"),
        (([1, 2], [1, 2], -1), "capacity must be non-negative"),
        (([[1, 2]], [1, 2], 1), "values has shape"),
        (([-1, 2], [1, 2], 1), "values must be non-negative"),
    ],
)
def test_kp_rejects_bad_input(args, message):
    with pytest.raises(ProblemError, match=message):
        KP(*args)
