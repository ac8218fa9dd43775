"""The ``hybridsolve`` command line on small models written here, run as a subprocess."""

from __future__ import annotations

import importlib.metadata
import itertools
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hybridsolve

#: max 5 x1 + 4 x2 + 3 x3 + 0.5 y  s.t.  2 x1 + 3 x2 + x3 <= 5 (cap1),
#: 4 x1 + x2 + 2 x3 + y <= 11 (cap2), x1 + x2 >= 1 (cover); x integer in [0, 3], y in [0, 1.5].
SMALL_MPS = (Path(__file__).parent / "data" / "small.mps").read_text()

NAMES = ["x1", "x2", "x3", "y"]

#: min a + b  s.t.  a + b >= 3, a, b binary: infeasible.
INFEASIBLE_MPS = """\
NAME infeas
ROWS
 N obj
 G need
COLUMNS
    MARKER 'MARKER' 'INTORG'
    a obj 1 need 1
    b obj 1 need 1
    MARKER 'MARKER' 'INTEND'
RHS
    rhs need 3
BOUNDS
 BV bnd a
 BV bnd b
ENDATA
"""


def violations(x: dict[str, float], tol: float = 1e-6) -> list[str]:
    """The small model's violated rows and bounds, computed here, independently of hybridsolve."""
    x1, x2, x3, y = (x[n] for n in NAMES)
    bad = []
    if 2 * x1 + 3 * x2 + x3 > 5 + tol:
        bad.append("cap1")
    if 4 * x1 + x2 + 2 * x3 + y > 11 + tol:
        bad.append("cap2")
    if x1 + x2 < 1 - tol:
        bad.append("cover")
    for name, hi in zip(NAMES, (3, 3, 3, 1.5)):
        if not -tol <= x[name] <= hi + tol:
            bad.append(name)
    for name in NAMES[:3]:
        if abs(x[name] - round(x[name])) > tol:
            bad.append(name)
    return bad


def objective(x: dict[str, float]) -> float:
    return 5 * x["x1"] + 4 * x["x2"] + 3 * x["x3"] + 0.5 * x["y"]


def brute_force() -> tuple[float, dict[str, float]]:
    """Optimum by enumerating the integers; y is then best at min(1.5, cap2 slack)."""
    best, best_x = -np.inf, None
    for x1, x2, x3 in itertools.product(range(4), repeat=3):
        slack = 11 - (4 * x1 + x2 + 2 * x3)
        if slack < 0:
            continue
        x = {"x1": x1, "x2": x2, "x3": x3, "y": min(1.5, slack)}
        if not violations(x) and objective(x) > best:
            best, best_x = objective(x), x
    return best, best_x


OPTIMUM, OPTIMAL_X = brute_force()


def test_brute_force_reference():
    assert OPTIMUM == 14.5 and OPTIMAL_X == {"x1": 1, "x2": 0, "x3": 3, "y": 1.0}


def msplit_mps(m: int = 4, n: int = 40, seed: int = 1) -> str:
    """Market split (Cornuéjols & Dawande) with slacks: feasible at once, needs a big tree."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(m, n))
    d = a.sum(axis=1) // 2
    lines = ["NAME msplit", "ROWS", " N obj", *(f" E r{i}" for i in range(m)), "COLUMNS"]
    lines.append("    M1 'MARKER' 'INTORG'")
    for j in range(n):
        lines += [f"    x{j} r{i} {a[i, j]}" for i in range(m) if a[i, j]]
    lines.append("    M2 'MARKER' 'INTEND'")
    for i in range(m):
        lines += [f"    sp{i} obj 1 r{i} 1", f"    sm{i} obj 1 r{i} -1"]
    lines += ["RHS", *(f"    rhs r{i} {d[i]}" for i in range(m)), "BOUNDS"]
    lines += [f" BV bnd x{j}" for j in range(n)]
    return "\n".join([*lines, "ENDATA"]) + "\n"


def cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hybridsolve", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def ok(proc: subprocess.CompletedProcess) -> subprocess.CompletedProcess:
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == 0, (proc.returncode, proc.stdout, proc.stderr)
    return proc


def one_json(proc: subprocess.CompletedProcess) -> dict:
    """stdout must be exactly one JSON object on one line."""
    lines = proc.stdout.splitlines()
    assert len(lines) == 1, proc.stdout
    data = json.loads(lines[0])
    assert isinstance(data, dict)
    return data


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.mps"
    path.write_text(SMALL_MPS)
    return path


@pytest.fixture
def infeasible(tmp_path: Path) -> Path:
    path = tmp_path / "infeas.mps"
    path.write_text(INFEASIBLE_MPS)
    return path


SOLVERS = ["scip", "highs"]


# --------------------------------------------------------------------------------- solve


@pytest.mark.parametrize("solver", SOLVERS)
def test_json_output(small, solver):
    proc = ok(cli("solve", small, "--solver", solver, "--json"))
    assert proc.stderr == ""
    data = one_json(proc)
    assert data["status"] == "optimal" and data["success"] is True and data["limit"] is None
    assert data["objective"] == pytest.approx(OPTIMUM, abs=1e-6)
    assert data["dual_bound"] == pytest.approx(OPTIMUM, abs=1e-6)
    assert data["solver"] == solver
    x = data["x"]
    assert list(x) == NAMES
    assert violations(x) == []
    assert objective(x) == pytest.approx(OPTIMUM, abs=1e-6)
    assert x == pytest.approx(OPTIMAL_X, abs=1e-6)  # the optimum is unique
    assert data["certificate"]["feasible"] is True


_COLUMNS = ["time", "nodes", "primal", "dual", "gap"]


def _number_or_dash(token: str) -> float | None:
    return None if token == "-" else float(token)


@pytest.mark.parametrize("solver", SOLVERS)
def test_progress_lines_and_summary(small, solver):
    proc = ok(cli("solve", small, "--solver", solver))
    lines = proc.stdout.splitlines()
    headers = [i for i, line in enumerate(lines) if line.split() == _COLUMNS]
    assert len(headers) == 1, proc.stdout
    head = headers[0]
    header_ends = [m.end() for m in re.finditer(r"\S+", lines[head])]
    summary = next(i for i, line in enumerate(lines) if line.startswith("status"))
    assert summary > head + 1, "no progress line between the header and the summary"
    primals = []
    for line in lines[head + 1 : summary]:
        marker, body = line[:1], line[1:]
        assert marker in ("*", " "), line
        tokens = body.split()
        assert len(tokens) == 5, line
        # each value is right-aligned under its column name
        assert [m.end() + 1 for m in re.finditer(r"\S+", body)] == header_ends, line
        time_, nodes, primal, dual, gap = tokens
        assert float(time_) >= 0
        assert nodes == "-" or int(nodes) >= 0
        _number_or_dash(dual)
        assert gap == "-" or (gap.endswith("%") and float(gap[:-1]) >= 0)
        if marker == "*":
            primals.append(float(primal))
    assert primals, "no incumbent line"
    assert primals == sorted(primals), "incumbents of a maximisation must improve"
    assert primals[-1] == pytest.approx(OPTIMUM, abs=1e-6)
    tail = "\n".join(lines[summary:])
    assert re.search(r"^status\s+optimal\b", tail, re.M), tail
    assert re.search(r"^objective\s+14\.5\b", tail, re.M), tail


def test_quiet_prints_only_the_summary(small):
    proc = ok(cli("solve", small, "--quiet"))
    assert proc.stdout.splitlines()[0].split() == ["status", "optimal"]
    assert not any(line.split() == _COLUMNS for line in proc.stdout.splitlines())


@pytest.mark.parametrize("solver", SOLVERS)
def test_solution_file_is_miplib_sol_and_check_certifies_it(small, tmp_path, solver):
    sol = tmp_path / f"{solver}.sol"
    ok(cli("solve", small, "--solver", solver, "--quiet", "--solution-file", sol))
    lines = sol.read_text().splitlines()
    first = lines[0].split()
    assert first[0] == "=obj=" and len(first) == 2
    assert float(first[1]) == pytest.approx(OPTIMUM, abs=1e-6)
    values = {}
    for line in lines[1:]:
        name, value = line.split()
        values[name] = float(value)
    assert list(values) == NAMES
    assert violations(values) == [] and objective(values) == pytest.approx(OPTIMUM, abs=1e-6)

    checked = ok(cli("check", small, sol))
    assert "NOT" not in checked.stdout
    data = one_json(ok(cli("check", small, sol, "--json")))
    assert data["certified"] is True and data["feasible"] is True
    assert data["objective"] == pytest.approx(OPTIMUM, abs=1e-6)


def test_check_partial_solution_takes_omitted_as_zero(small, tmp_path):
    sol = tmp_path / "partial.sol"
    sol.write_text("x1 1\n")  # x2 = x3 = y = 0: feasible, objective 5
    data = one_json(ok(cli("check", small, sol, "--json")))
    assert data["certified"] is True and data["objective"] == pytest.approx(5.0)


def test_check_violated_row_exits_1_and_names_it(small, tmp_path):
    sol = tmp_path / "bad.sol"
    sol.write_text("=obj= 27\nx1 3\nx2 3\nx3 0\ny 0\n")  # cap1: 15 > 5, cap2: 15 > 11
    proc = cli("check", small, sol)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert re.search(r"\bcap1\b", proc.stdout), proc.stdout
    assert re.search(r"\bcap2\b", proc.stdout), proc.stdout
    assert not re.search(r"\bcover\b", proc.stdout), proc.stdout
    data = json.loads(cli("check", small, sol, "--json").stdout)
    assert data["certified"] is False
    assert {v["name"] for v in data["violations"]} == {"cap1", "cap2"}


def test_check_integrality_violation_exits_1(small, tmp_path):
    sol = tmp_path / "frac.sol"
    sol.write_text("x1 0.5\nx2 0.5\n")
    proc = cli("check", small, sol)
    assert proc.returncode == 1 and re.search(r"integrality\s+x1", proc.stdout), proc.stdout


def test_check_wrong_stated_objective_exits_1(small, tmp_path):
    sol = tmp_path / "lie.sol"
    sol.write_text("=obj= 100\nx1 1\nx2 0\nx3 3\ny 1\n")  # feasible, but the objective is 14.5
    proc = cli("check", small, sol)
    assert proc.returncode == 1, proc.stdout


@pytest.mark.parametrize("solver", SOLVERS)
def test_infeasible_model(infeasible, tmp_path, solver):
    sol = tmp_path / "out.sol"
    proc = ok(cli("solve", infeasible, "--solver", solver, "--json", "--solution-file", sol))
    data = one_json(proc)
    assert data["status"] == "infeasible"
    assert data["x"] is None and data["objective"] is None
    assert sol.read_text().split() == ["=infeas="]
    human = ok(cli("solve", infeasible, "--solver", solver))
    assert re.search(r"^status\s+infeasible\b", human.stdout, re.M), human.stdout


@pytest.mark.parametrize("solver", SOLVERS)
def test_warm_start_file_is_used(small, tmp_path, solver):
    start = tmp_path / "start.sol"
    start.write_text("=obj= 14.5\n" + "".join(f"{n} {OPTIMAL_X[n]}\n" for n in NAMES))
    data = one_json(ok(cli("solve", small, "--solver", solver, "--json", "--warm-start", start)))
    assert data["status"] == "optimal"
    assert data["objective"] == pytest.approx(OPTIMUM, abs=1e-6)
    assert "warm start" not in data["message"], data["message"]
    # The optimal start is the first incumbent: nothing worse is ever reported.
    assert data["trajectory"][0][1] == pytest.approx(OPTIMUM, abs=1e-6), data["trajectory"]


@pytest.mark.parametrize("solver", SOLVERS)
def test_partial_warm_start_file_is_accepted(small, tmp_path, solver):
    start = tmp_path / "partial.sol"
    start.write_text("x1 1\nx3 3\n")
    data = one_json(ok(cli("solve", small, "--solver", solver, "--json", "--warm-start", start)))
    assert data["status"] == "optimal"
    assert data["objective"] == pytest.approx(OPTIMUM, abs=1e-6)


def test_scip_node_limit_option(tmp_path):
    model = tmp_path / "msplit.mps"
    model.write_text(msplit_mps())
    sol = tmp_path / "msplit.sol"
    args = ["--option", "limits/nodes=1", "--json", "--solution-file", sol]
    data = one_json(ok(cli("solve", model, *args)))
    assert data["status"] in ("feasible", "no_solution"), data
    assert data["limit"] == "nodes", data
    assert data["nodes"] is not None and data["nodes"] <= 1
    if data["status"] == "feasible":
        assert data["certificate"]["feasible"] is True
        assert data["dual_bound"] is not None and data["dual_bound"] < data["objective"]
        ok(cli("check", model, sol))


def test_time_limit_stops_a_hard_model(tmp_path):
    model = tmp_path / "msplit.mps"
    model.write_text(msplit_mps())
    data = one_json(ok(cli("solve", model, "--time-limit", "1", "--json")))
    assert data["status"] == "feasible" and data["limit"] == "time", data
    assert data["runtime"] < 1 + 1.5, data["runtime"]  # guard: limit + 0.25 s grace


# --------------------------------------------------------------- help, version, imports


def test_help_lists_commands():
    proc = ok(cli("--help"))
    assert re.search(r"^\s+solve\s+\S", proc.stdout, re.M), proc.stdout
    assert re.search(r"^\s+check\s+\S", proc.stdout, re.M), proc.stdout
    assert "exit codes" in proc.stdout


def test_help_says_what_the_suite_is():
    proc = ok(cli("--help"))
    # the description is the paragraph after the usage lines (argparse wraps it)
    paragraphs = [" ".join(part.split()) for part in proc.stdout.split("\n\n")]
    description = paragraphs[1]
    assert description.startswith("hybridsolve: exact MIP solving (SCIP, HiGHS)"), proc.stdout
    for also in ("LNS", "heuristics", "learned policies", "instance generation", "benchmarking"):
        assert also in description, (also, description)
    assert "Solve MIP/LP files" not in proc.stdout


@pytest.mark.parametrize("verb", ["solve", "check"])
def test_verb_help(verb):
    proc = ok(cli(verb, "--help"))
    assert f"usage: hybridsolve {verb}" in proc.stdout


def test_help_imports_no_heavy_modules():
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "hybridsolve", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    modules = set()
    for line in proc.stderr.splitlines():
        if line.startswith("import time:") and line.count("|") == 2:
            name = line.split("|")[2].strip()
            if name != "imported package":
                modules.add(name)
    assert "hybridsolve.cli" in modules, "could not parse the -X importtime output"
    top = {name.split(".")[0] for name in modules}
    heavy = {"torch", "torch_geometric", "pyscipopt", "highspy", "scipy", "numba"}
    assert not top & heavy, sorted(top & heavy)


def test_version():
    proc = ok(cli("--version"))
    assert proc.stdout.strip() == f"hybridsolve {hybridsolve.__version__}"
    assert hybridsolve.__version__ == importlib.metadata.version("hybridsolve")


def test_console_script_version():
    script = Path(sys.executable).parent / "hybridsolve"
    if not script.exists():
        pytest.skip("the hybridsolve console script is not installed next to this python")
    proc = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == f"hybridsolve {hybridsolve.__version__}"


def test_warmup_compiles_every_comb_kernel_and_says_so():
    """'hybridsolve warmup' runs every comb method on every instance layout and reports it."""
    out = subprocess.run(
        [sys.executable, "-m", "hybridsolve", "warmup"], capture_output=True, text=True, timeout=900
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1].startswith("kernels ready in ") and len(lines) == 12
    assert any("CVRP" in line for line in lines) and any("SMTT" in line for line in lines)
