"""MIPLIB .sol files and warm-start vectors."""

from __future__ import annotations

import numpy as np
import pytest

from hybridsolve.mip import InputError, Problem, UsageError, read_sol, start_vector, write_sol


def problem() -> Problem:
    return Problem.from_arrays([1.0, 2.0, 3.0], var_names=["x", "y", "z"], col_upper=10)


def test_write_then_read_round_trip(tmp_path):
    path = write_sol(tmp_path / "a.sol", problem(), np.array([1.0, 0.1, 1e-12]))
    lines = path.read_text().splitlines()
    assert lines[0] == f"=obj= {1 + 0.2 + 3e-12!r}"
    sol = read_sol(path)
    assert sol.values == {"x": 1.0, "y": 0.1, "z": 1e-12}
    assert sol.objective == pytest.approx(1.2)
    assert not sol.infeasible


def test_infeasible_marker(tmp_path):
    path = write_sol(tmp_path / "i.sol", problem(), None)
    assert path.read_text() == "=infeas=\n"
    assert read_sol(path).infeasible


def test_scip_format_and_comments_are_read(tmp_path):
    path = tmp_path / "s.sol"
    path.write_text(
        "solution status: optimal solution found\nobjective value: 7\n"
        "x 1 \t(obj:1)\n# a comment\ny 3 # trailing\n"
    )
    sol = read_sol(path)
    assert sol.values == {"x": 1.0, "y": 3.0} and sol.objective == 7.0


@pytest.mark.parametrize(
    ("text", "message"),
    [("x one\n", "not a number"), ("x 1 2 3\n", "expected 'name value'"), ("x 1\nx 2\n", "twice"),
     ("x nan\n", "NaN")],
)  # fmt: skip
def test_bad_lines_are_reported_with_line_numbers(tmp_path, text, message):
    path = tmp_path / "bad.sol"
    path.write_text(text)
    with pytest.raises(InputError, match=message):
        read_sol(path)


def test_missing_sol_file(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        read_sol(tmp_path / "nope.sol")


def test_start_vector_from_dict_array_and_file(tmp_path):
    p = problem()
    vec = start_vector(p, {"z": 2.0})
    assert np.isnan(vec[:2]).all() and vec[2] == 2.0
    assert start_vector(p, np.array([1.0, np.nan, 3.0]))[2] == 3.0
    path = write_sol(tmp_path / "w.sol", p, np.array([1.0, 2.0, 3.0]))
    assert start_vector(p, path).tolist() == [1.0, 2.0, 3.0]
    assert start_vector(p, str(path)).tolist() == [1.0, 2.0, 3.0]


@pytest.mark.parametrize(
    ("start", "message"),
    [
        ({"w": 1.0}, "warm start: unknown variable 'w'"),
        (np.zeros(2), "shape"),
        ({"x": np.inf}, "infinite"),
    ],
)
def test_start_vector_rejects_bad_starts(start, message):
    with pytest.raises(UsageError, match=message):
        start_vector(problem(), start)


def test_start_from_infeasible_file_is_refused(tmp_path):
    path = write_sol(tmp_path / "i.sol", problem(), None)
    with pytest.raises(UsageError, match="infeas"):
        start_vector(problem(), path)
