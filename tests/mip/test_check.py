"""The independent certificate."""

from __future__ import annotations

import numpy as np
import pytest

from hybridsolve.mip import Problem, check


def model() -> Problem:
    # 2a + b <= 4 (row "cap"), a - b = 0 (row "eq"), 0 <= a <= 3 integer, b >= -1
    return Problem.from_arrays(
        [3.0, 1.0], [[2.0, 1.0], [1.0, -1.0]], [-np.inf, 0.0], [4.0, 0.0],
        [0.0, -1.0], [3.0, np.inf], [True, False], offset=-2.0,
        var_names=["a", "b"], con_names=["cap", "eq"],
    )  # fmt: skip


def test_feasible_point_is_certified_with_recomputed_objective():
    cert = check(model(), [1.0, 1.0])
    assert cert.feasible and cert.violations == ()
    assert cert.objective == pytest.approx(3 + 1 - 2)


def test_each_kind_of_violation_is_named_worst_first():
    cert = check(model(), [2.5, 2.5])
    assert not cert.feasible
    kinds = {(v.kind, v.name) for v in cert.violations}
    assert kinds == {("row", "cap"), ("integrality", "a")}
    assert cert.violations[0] == max(cert.violations, key=lambda v: v.amount)
    assert cert.max_row_violation == pytest.approx((7.5 - 4) / 4)
    assert cert.max_integrality_violation == pytest.approx(0.5)
    bound = check(model(), [4.0, 4.0])
    assert ("bound", "a") in {(v.kind, v.name) for v in bound.violations}


def test_tolerance_is_relative_to_the_bound():
    p = model()
    assert check(p, [1.0, 1.0 + 5e-7]).feasible
    assert not check(p, [1.0, 1.0 + 5e-6]).feasible
    assert check(p, [1.0, 1.0 + 5e-6], tol=1e-5).feasible


@pytest.mark.parametrize("x", [[1.0], [np.nan, 1.0], [1.0, 1e20], [np.inf, 0.0]])
def test_unusable_points_are_not_certified(x):
    cert = check(model(), x)
    assert not cert.feasible and cert.reason and cert.objective is None
    assert "NOT CERTIFIED" in cert.summary()


def test_maximisation_objective_keeps_the_file_sense():
    p = Problem.from_arrays([2.0], sense="maximize", offset=1.0, col_upper=[5.0])
    assert check(p, [5.0]).objective == 11.0
