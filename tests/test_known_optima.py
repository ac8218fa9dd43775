"""Hand-written model files in tests/data against optima verified without any solver.

Every optimum below was derived by hand and by exact enumeration (see tests/data/README.md);
the solvers are checked against them, never the other way round.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyscipopt
import pytest

import hybridsolve
from hybridsolve import mip
from hybridsolve.mip import Status

DATA = Path(__file__).parent / "data"
SOLVERS = ("scip", "highs")

#: file -> (status, optimum in the file's sense with the offset, sense)
KNOWN = {
    "max_offset.mps": (Status.OPTIMAL, 29.0, "maximize"),
    "ranged_free.mps": (Status.OPTIMAL, -25.0, "minimize"),
    "knapsack.lp": (Status.OPTIMAL, 309.0, "maximize"),
    "assignment.mps.gz": (Status.OPTIMAL, 18.0, "minimize"),
    "fixed_format.mps": (Status.OPTIMAL, 11.0, "minimize"),
    "infeasible.mps": (Status.INFEASIBLE, None, "minimize"),
    "unbounded.mps": (Status.UNBOUNDED, None, "minimize"),
    "lp_only.mps": (Status.OPTIMAL, -31.0 / 3.0, "minimize"),
    "objsense_sameline.mps": (Status.OPTIMAL, 24.0, "maximize"),
    "small.mps": (Status.OPTIMAL, 14.5, "maximize"),
}
OPTIMAL = [name for name, (status, _, _) in KNOWN.items() if status is Status.OPTIMAL]
CASES = [(name, solver) for name in KNOWN for solver in SOLVERS]


def approx(value: float) -> object:
    return pytest.approx(value, rel=1e-9, abs=1e-9)


@pytest.fixture(scope="module")
def solved() -> dict:
    """Each (file, solver) solved once through the front door, from the path."""
    cache: dict = {}

    def get(name: str, solver: str) -> hybridsolve.Result:
        if (name, solver) not in cache:
            cache[name, solver] = hybridsolve.solve(DATA / name, solver, time_limit=60)
        return cache[name, solver]

    return get


def test_every_model_file_is_listed():
    models = (".mps", ".lp", ".mps.gz", ".lp.gz")
    files = {p.name for p in DATA.iterdir() if p.name.endswith(models)}
    assert files == set(KNOWN)
    readme = (DATA / "README.md").read_text()
    assert all(name in readme for name in KNOWN)


@pytest.mark.parametrize(("name", "solver"), CASES)
def test_known_optimum(solved, name, solver):
    status, optimum, sense = KNOWN[name]
    result = solved(name, solver)
    assert result.solver == solver
    assert result.status is status, (result.raw_status, result.message)
    problem = mip.read(DATA / name)
    assert problem.sense == sense
    if status is Status.OPTIMAL:
        assert result.objective == approx(optimum)
        assert result.dual_bound == approx(optimum)
        assert result.certificate is not None and result.certificate.feasible
        assert result.x.shape == (problem.num_vars,)
        certificate = mip.check(problem, result.x)
        assert certificate.feasible, certificate.summary()
        assert certificate.objective == result.objective
    else:
        assert result.x is None
        assert result.objective is None
        assert result.certificate is None


@pytest.mark.parametrize("name", list(KNOWN))
def test_backends_agree(solved, name):
    scip, highs = solved(name, "scip"), solved(name, "highs")
    assert scip.status is highs.status
    if scip.objective is None:
        assert highs.objective is None
    else:
        assert scip.objective == approx(highs.objective)


def test_infeasible_model_has_a_feasible_relaxation():
    """The infeasibility is integral: the LP relaxation has optimum 1.5 (X + Y = 1.5)."""
    problem = mip.read(DATA / "infeasible.mps")
    relaxed = mip.Problem.from_arrays(
        problem.c, problem.A, problem.row_lower, problem.row_upper,
        problem.col_lower, problem.col_upper, False, var_names=problem.var_names,
        con_names=problem.con_names,
    )  # fmt: skip
    for solver in SOLVERS:
        result = hybridsolve.solve(relaxed, solver, time_limit=60)
        assert result.status is Status.OPTIMAL
        assert result.objective == approx(1.5)


def test_files_parse_as_written():
    """The MPS conventions the optima depend on: offset sign, OBJSENSE, RANGES, FR/MI/LO."""
    offset = mip.read(DATA / "max_offset.mps")
    assert offset.maximize and offset.offset == 12.5  # objective row RHS -12.5
    assert mip.read(DATA / "objsense_sameline.mps").maximize
    ranged = mip.read(DATA / "ranged_free.mps")
    inf = np.inf
    np.testing.assert_array_equal(ranged.row_lower, [3, -2, 3, -2, -inf, -4])
    np.testing.assert_array_equal(ranged.row_upper, [8, 4, 7, 1, 6, inf])
    np.testing.assert_array_equal(ranged.col_lower, [-inf, -inf, -3, -2.5, 0])
    np.testing.assert_array_equal(ranged.col_upper, [inf, inf, 6, inf, 5])
    np.testing.assert_array_equal(ranged.integrality, [True, False, True, False, True])
    fixed = mip.read(DATA / "fixed_format.mps")
    assert fixed.var_names == ("X1", "X2", "X3")
    assert fixed.con_names == ("DEMAND", "MIXA", "MIXB", "CAP")
    np.testing.assert_array_equal(fixed.row_lower, [4.5, 3, 5.2, -inf])


@pytest.mark.parametrize(("name", "solver"), CASES)
def test_cli_json(name, solver):
    status, optimum, _ = KNOWN[name]
    path = DATA / name
    run = subprocess.run(
        [sys.executable, "-m", "hybridsolve", "solve", str(path), "--solver", solver, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    out = json.loads(run.stdout)  # exactly one JSON object, nothing else
    assert out["status"] == status.value
    assert out["solver"] == solver
    if status is not Status.OPTIMAL:
        assert out["objective"] is None and out["x"] is None
        return
    problem = mip.read(path)
    assert out["objective"] == approx(optimum)
    assert out["dual_bound"] == approx(optimum)
    assert out["certificate"]["feasible"] is True
    assert list(out["x"]) == list(problem.var_names)
    x = np.array([out["x"][n] for n in problem.var_names])
    certificate = mip.check(problem, x)
    assert certificate.feasible, certificate.summary()
    assert certificate.objective == approx(optimum)


def _assert_same_model(p: mip.Problem, q: mip.Problem) -> None:
    for attr in ("c", "row_lower", "row_upper", "col_lower", "col_upper", "integrality"):
        np.testing.assert_array_equal(getattr(q, attr), getattr(p, attr), err_msg=attr)
    assert q.A.shape == p.A.shape
    np.testing.assert_array_equal(q.A.toarray(), p.A.toarray())
    assert (q.sense, q.offset) == (p.sense, p.offset)
    assert (q.var_names, q.con_names) == (p.var_names, p.con_names)


@pytest.mark.parametrize("suffix", [".mps", ".mps.gz"])
@pytest.mark.parametrize("name", list(KNOWN))
def test_round_trip(tmp_path, name, suffix):
    status, optimum, _ = KNOWN[name]
    original = mip.read(DATA / name)
    written = mip.write(original, tmp_path / f"copy{suffix}")
    again = mip.read(written)
    _assert_same_model(original, again)
    for solver in SOLVERS:
        result = hybridsolve.solve(again, solver, time_limit=60)
        assert result.status is status
        if optimum is not None:
            assert result.objective == approx(optimum)


@pytest.mark.parametrize("name", list(KNOWN))
def test_scip_reads_written_mps(tmp_path, name):
    """SCIP's own MPS reader sees the model our writer wrote, and its optimum."""
    status, optimum, sense = KNOWN[name]
    problem = mip.read(DATA / name)
    path = mip.write(problem, tmp_path / "copy.mps")
    model = pyscipopt.Model()
    model.hideOutput()
    model.readProblem(str(path))
    assert model.getObjectiveSense() == sense
    assert model.getNConss() == problem.num_cons
    by_name = {v.name: v for v in model.getVars()}
    assert sorted(by_name) == sorted(problem.var_names)

    def finite(value: float) -> float:
        return value if abs(value) < model.infinity() else np.sign(value) * np.inf

    for j, var_name in enumerate(problem.var_names):
        var = by_name[var_name]
        assert finite(var.getLbOriginal()) == problem.col_lower[j], var_name
        assert finite(var.getUbOriginal()) == problem.col_upper[j], var_name
        assert (var.vtype() in ("BINARY", "INTEGER")) == bool(problem.integrality[j]), var_name
        assert var.getObj() == problem.c[j], var_name
    model.optimize()
    assert model.getStatus() == status.value
    if optimum is not None:
        assert model.getObjVal() == approx(optimum)
