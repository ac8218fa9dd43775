"""Bad input, through the Python API and the command line.

Every bad file is written here with ``tmp_path``. The API must raise the typed exception
(``InputError`` for files, ``UsageError`` for arguments, ``ProblemError`` for arrays) with
a message that names the file and the problem; the command line must exit with the
documented code and print exactly one ``hybridsolve: error: ...`` line on stderr.
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import hybridsolve
from hybridsolve.mip import InputError, Problem, ProblemError, UsageError, read, read_sol

#: max 5 x1 + 4 x2 + 3 x3 + 0.5 y, x integer in [0, 3], y in [0, 1.5]; optimum 14.5.
SMALL_MPS = (Path(__file__).parent / "data" / "small.mps").read_text()

X2_LINE = "    x2        obj       4.0        cap1      3.0\n"
assert X2_LINE in SMALL_MPS

# ----------------------------------------------------------------------------- helpers


def cli(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hybridsolve", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def assert_one_error_line(proc: subprocess.CompletedProcess, code: int) -> str:
    """Exit ``code``, no traceback, exactly one ``hybridsolve: error:`` line on stderr."""
    assert "Traceback" not in proc.stderr, proc.stderr
    assert proc.returncode == code, (proc.returncode, proc.stdout, proc.stderr)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("hybridsolve: error:"), proc.stderr
    return lines[0]


@pytest.fixture
def small(tmp_path: Path) -> Path:
    path = tmp_path / "small.mps"
    path.write_text(SMALL_MPS)
    return path


def _garbage(seed: int = 0) -> str:
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 .,;:=+-*/!?()[]{}<>'\"\t"
    return "\n".join("".join(rng.choice(alphabet) for _ in range(rng.randint(5, 70)))
                     for _ in range(40)) + "\n"  # fmt: skip


# Each case: (file name, content or None for "do not create" or "<dir>", regex the message
# must match besides the file name).
_PARSE = r"pars|malformed|invalid|unexpected|truncat|incomplete|end of file|error"
BAD_FILES: dict[str, tuple[str, str | None, str]] = {
    "missing": ("missing.mps", None, r"no such file|not found|does not exist"),
    "empty": ("empty.mps", "", r"empty"),
    "truncated_mid_columns": (
        "truncated.mps",
        SMALL_MPS[: SMALL_MPS.index("    x3        obj") + 37],  # cut inside "cap1" on x3's line
        _PARSE,
    ),
    "truncated_at_line_end_in_columns": (
        "truncated2.mps",
        SMALL_MPS[: SMALL_MPS.index("    x3        obj")],
        _PARSE,
    ),
    "garbled_random_text": ("garbled.mps", _garbage(), _PARSE),
    "garbled_lp": ("garbled.lp", "random words here\nand more words\n", _PARSE),
    "columns_too_many_fields": (
        "toomany.mps",
        SMALL_MPS.replace(X2_LINE, X2_LINE.rstrip("\n") + "   cap2  1.0  extra\n"),
        r"COLUMNS|field|malformed|x2|line",
    ),
    "columns_missing_value": (
        "oddfields.mps",
        SMALL_MPS.replace(X2_LINE, "    x2        obj       4.0        cap1\n"),
        r"COLUMNS|field|malformed|value|cap1|line",
    ),
    "columns_value_not_a_number": (
        "nonnum.mps",
        SMALL_MPS.replace(X2_LINE, "    x2        obj       4.0        cap1      abc\n"),
        r"number|numeric|abc",
    ),
    "columns_unknown_row": (
        "unkrow.mps",
        SMALL_MPS.replace(X2_LINE, "    x2        obj       4.0        nosuchrow 3.0\n"),
        r"nosuchrow",
    ),
    "directory": ("adir.mps", "<dir>", r"directory"),
    "unknown_extension": ("model.txt", SMALL_MPS, r"file type|extension|\.txt"),
}

#: The cases also run through the command line (the rest share a root cause with these).
CLI_CASES = [
    "missing",
    "empty",
    "truncated_mid_columns",
    "garbled_random_text",
    "garbled_lp",
    "columns_too_many_fields",
    "directory",
    "unknown_extension",
]


def make_bad(tmp_path: Path, case: str) -> tuple[Path, str]:
    name, content, pattern = BAD_FILES[case]
    path = tmp_path / name
    if content == "<dir>":
        path.mkdir()
    elif content is not None:
        path.write_text(content)
    return path, pattern


# ------------------------------------------------------------------------ bad model files


@pytest.mark.parametrize("entry", ["mip.read", "hybridsolve.solve"])
@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_model_file_raises_input_error(tmp_path, case, entry):
    path, pattern = make_bad(tmp_path, case)
    call = read if entry == "mip.read" else hybridsolve.solve
    with pytest.raises(InputError) as info:
        call(str(path))
    message = str(info.value)
    assert info.value.exit_code == 3
    assert path.name in message, message
    assert re.search(pattern, message, re.IGNORECASE), message


@pytest.mark.parametrize("case", CLI_CASES)
def test_bad_model_file_cli(tmp_path, case):
    path, pattern = make_bad(tmp_path, case)
    line = assert_one_error_line(cli("solve", path), 3)
    assert path.name in line
    assert re.search(pattern, line, re.IGNORECASE), line


@pytest.mark.parametrize("case", ["missing", "garbled_random_text", "directory"])
def test_bad_model_file_check_cli(tmp_path, case):
    path, _ = make_bad(tmp_path, case)
    sol = tmp_path / "x.sol"
    sol.write_text("x1 1\n")
    line = assert_one_error_line(cli("check", path, sol), 3)
    assert path.name in line


def test_good_file_still_reads(small):
    """Guard for the cases above: the unmodified model reads and has the expected shape."""
    problem = read(small)
    assert (problem.num_vars, problem.num_cons, problem.A.nnz) == (4, 3, 9)
    assert problem.maximize


# ----------------------------------------------------------------------- bad arguments


def test_unknown_solver(small):
    with pytest.raises(UsageError) as info:
        hybridsolve.solve(small, "no_such_solver")
    assert isinstance(info.value, ValueError)
    assert "no_such_solver" in str(info.value) and "scip" in str(info.value)
    line = assert_one_error_line(cli("solve", small, "--solver", "no_such_solver"), 2)
    assert "no_such_solver" in line


@pytest.mark.parametrize("limit", [-1.0, 0.0, float("nan")])
def test_bad_time_limit_api(small, limit):
    with pytest.raises(UsageError, match="time"):
        hybridsolve.solve(small, time_limit=limit)


@pytest.mark.parametrize("limit", ["-1", "0"])
def test_bad_time_limit_cli(small, limit):
    line = assert_one_error_line(cli("solve", small, "--time-limit", limit), 2)
    assert "time" in line


@pytest.mark.parametrize("solver", ["scip", "highs"])
def test_unknown_native_option_api(small, solver):
    with pytest.raises(UsageError) as info:
        hybridsolve.solve(small, solver, options={"no_such_option": 1})
    assert "no_such_option" in str(info.value)


@pytest.mark.parametrize("solver", ["scip", "highs"])
def test_unknown_native_option_cli(small, solver):
    line = assert_one_error_line(
        cli("solve", small, "--solver", solver, "--option", "foo/bar=1"), 2
    )
    assert "foo/bar" in line


@pytest.mark.parametrize(
    "args",
    [
        ["solve", "{small}", "--time-limit", "abc"],
        ["solve", "{small}", "--option", "novalue"],
        ["no_such_command"],
    ],
    ids=["time_limit_not_a_number", "option_without_equals", "unknown_command"],
)
def test_argparse_usage_errors_are_one_line(small, args):
    """The documented contract: every error is one ``hybridsolve: error:`` line, exit 2."""
    proc = cli(*[a.format(small=small) for a in args])
    assert_one_error_line(proc, 2)


# ------------------------------------------------------------------------- warm starts


@pytest.mark.parametrize("solver", ["scip", "highs"])
def test_warm_start_unknown_variable_dict(small, solver):
    with pytest.raises(UsageError) as info:
        hybridsolve.solve(small, solver, warm_start={"x1": 1.0, "nosuchvar": 2.0})
    assert "nosuchvar" in str(info.value)


def test_warm_start_unknown_variable_file(small, tmp_path):
    sol = tmp_path / "unknown.sol"
    sol.write_text("x1 1\nnosuchvar 2\n")
    with pytest.raises(InputError) as info:
        hybridsolve.solve(small, warm_start=sol)
    message = str(info.value)
    assert "nosuchvar" in message
    assert sol.name in message, f"the message should name the .sol file: {message!r}"
    line = assert_one_error_line(cli("solve", small, "--warm-start", sol), 3)
    assert "nosuchvar" in line
    assert sol.name in line


@pytest.mark.parametrize("solver", ["scip", "highs"])
@pytest.mark.parametrize("length", [3, 5])
def test_warm_start_wrong_length(small, solver, length):
    with pytest.raises(UsageError) as info:
        hybridsolve.solve(small, solver, warm_start=np.zeros(length))
    message = str(info.value)
    assert str(length) in message and "4" in message, message


GARBLED_SOLS = {
    "not_a_number": ("=obj= 3\nx1 one\n", r":2\b.*one"),
    "free_text": ("this is not a solution file at all\n", r":1\b"),
    "obj_not_a_number": ("=obj= abc\nx1 1\n", r":1\b.*abc"),
    "duplicate_variable": ("x1 1\nx1 2\n", r":2\b.*x1"),
}


@pytest.mark.parametrize("case", list(GARBLED_SOLS))
def test_garbled_sol_file(small, tmp_path, case):
    text, pattern = GARBLED_SOLS[case]
    sol = tmp_path / f"{case}.sol"
    sol.write_text(text)
    with pytest.raises(InputError) as info:
        read_sol(sol)
    message = str(info.value)
    assert sol.name in message and re.search(pattern, message), message
    with pytest.raises(InputError):
        hybridsolve.solve(small, warm_start=sol)
    assert sol.name in assert_one_error_line(cli("solve", small, "--warm-start", sol), 3)
    assert sol.name in assert_one_error_line(cli("check", small, sol), 3)


def test_missing_sol_file(small, tmp_path):
    sol = tmp_path / "nowhere.sol"
    with pytest.raises(InputError, match="nowhere.sol"):
        hybridsolve.solve(small, warm_start=sol)
    assert "nowhere.sol" in assert_one_error_line(cli("check", small, sol), 3)


def test_check_sol_with_unknown_variable(small, tmp_path):
    sol = tmp_path / "unknown.sol"
    sol.write_text("=obj= 5\nx1 1\nnosuchvar 0\n")
    line = assert_one_error_line(cli("check", small, sol), 3)
    assert "nosuchvar" in line and sol.name in line


# ------------------------------------------------------------------- Problem.from_arrays


BAD_ARRAYS = {
    "A_wrong_columns": (dict(c=[1, 2], A=[[1, 2, 3]]), r"A .*shape|shape.*A"),
    "c_two_dimensional": (dict(c=[[1, 2]]), r"c .*dimension|shape"),
    "col_lower_wrong_length": (dict(c=[1, 2], col_lower=[0, 0, 0]), r"col_lower"),
    "row_upper_wrong_length": (dict(c=[1, 2], A=[[1, 1]], row_upper=[1, 2]), r"row_upper"),
    "integrality_wrong_length": (dict(c=[1, 2], integrality=[True]), r"integrality"),
    "var_names_wrong_length": (dict(c=[1, 2], var_names=["a"]), r"var_names"),
    "nan_in_c": (dict(c=[1, np.nan]), r"\bc\b.*NaN|NaN.*\bc\b"),
    "nan_in_A": (dict(c=[1, 2], A=[[1, np.nan]]), r"\bA\b.*NaN|NaN.*\bA\b"),
    "nan_in_row_upper": (dict(c=[1, 2], A=[[1, 1]], row_upper=[np.nan]), r"row_upper.*NaN"),
    "nan_in_col_upper": (dict(c=[1, 2], col_upper=[1, np.nan]), r"col_upper.*NaN"),
    "duplicate_var_names": (dict(c=[1, 2], var_names=["a", "a"]), r"duplicate.*'a'"),
    "duplicate_con_names": (
        dict(c=[1, 2], A=[[1, 1], [1, 0]], con_names=["r", "r"]),
        r"con_names.*duplicate.*'r'",
    ),
    "var_name_with_space": (dict(c=[1, 2], var_names=["a", "b c"]), r"'b c'.*whitespace"),
    "con_name_with_tab": (dict(c=[1, 2], A=[[1, 1]], con_names=["r\t1"]), r"con_names"),
    "empty_var_name": (dict(c=[1, 2], var_names=["a", ""]), r"empty"),
}


@pytest.mark.parametrize("case", list(BAD_ARRAYS))
def test_problem_from_arrays_rejects(case):
    kwargs, pattern = BAD_ARRAYS[case]
    with pytest.raises(ProblemError) as info:
        Problem.from_arrays(**kwargs)
    assert isinstance(info.value, ValueError) and isinstance(info.value, InputError)
    assert re.search(pattern, str(info.value)), str(info.value)
