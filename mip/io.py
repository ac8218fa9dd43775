"""Reading and writing MPS/LP files through HiGHS's reader and writer."""

from __future__ import annotations

import gzip
import os
import shutil
import tempfile
import zlib
from dataclasses import replace
from pathlib import Path

import highspy
import numpy as np
import scipy.sparse as sp

from .errors import InputError, UsageError
from .highs_factory import new_highs
from .problem import Problem

__all__ = ["read", "write", "problem_from_highs"]

_SUFFIXES = (".mps", ".lp", ".mps.gz", ".lp.gz")


def _suffix(path: Path) -> str:
    name = path.name.lower()
    for suffix in _SUFFIXES:
        if name.endswith(suffix):
            return suffix
    return ""


#: MPS sections whose data lines are (name, number) pairs after a leading name.
_PAIRED = {"COLUMNS", "RHS", "RANGES"}
_SECTIONS = _PAIRED | {
    "NAME", "OBJSENSE", "ROWS", "BOUNDS", "SOS", "ENDATA",
    "QUADOBJ", "QMATRIX", "QSECTION", "QCMATRIX", "INDICATORS", "OBJNAME",
}  # fmt: skip
_VALUED_BOUNDS = {"UP", "LO", "FX", "LI", "UI", "SC"}


def _is_number(token: str) -> bool:
    try:
        float(token)
    except ValueError:
        return False
    return True


def _scan_mps(path: Path) -> tuple[bool, str]:
    """Check the numeric fields of an MPS file; return whether it maximises, and its NAME.

    HiGHS's reader takes a non-numeric field as 0 and drops a dangling name or an odd
    field without an error, and it reads ``OBJSENSE MAX`` written on one line as
    minimisation. This pass catches those cases; it checks field counts and numbers only
    and leaves parsing to HiGHS.

    Raises
    ------
    InputError
        On a COLUMNS/RHS/RANGES line whose fields do not come in (name, number) pairs, or
        a BOUNDS line whose value is not a number.
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    section, maximize, name = "", False, ""
    with opener(path, "rt", encoding="latin-1") as handle:
        for lineno, line in enumerate(handle, start=1):
            tokens = line.split()
            if not tokens or line.startswith("*"):
                continue
            if not line[0].isspace() and tokens[0].upper() in _SECTIONS:
                section = tokens[0].upper()
                if section == "NAME" and len(tokens) > 1:
                    name = tokens[1]
                if section == "OBJSENSE" and len(tokens) > 1:
                    maximize = tokens[1].upper() in ("MAX", "MAXIMIZE")
                continue
            if section == "OBJSENSE":
                maximize = maximize or tokens[0].upper() in ("MAX", "MAXIMIZE")
            elif section in _PAIRED and "'MARKER'" not in tokens:
                # COLUMNS: column (row value)+; RHS/RANGES: [set] (row value)+
                values = tokens[2::2] if len(tokens) % 2 else tokens[1::2]
                if (section == "COLUMNS" and len(tokens) % 2 == 0) or len(tokens) < 2:
                    raise InputError(f"{path}:{lineno}: {section} line needs name/value pairs")
                bad = next((t for t in values if not _is_number(t)), None)
                if bad is not None:
                    raise InputError(f"{path}:{lineno}: {bad!r} is not a number ({section})")
            elif section == "BOUNDS" and tokens[0].upper() in _VALUED_BOUNDS:
                if len(tokens) < 3 or not _is_number(tokens[-1]):
                    raise InputError(f"{path}:{lineno}: BOUNDS line needs a numeric value")
    return maximize, name


def _log_lines(log_path: str) -> list[str]:
    with open(log_path, "rb") as handle:
        text = handle.read().decode("utf-8", "replace")
    return [line.strip() for line in text.splitlines() if line.strip()]


def _first(lines: list[str], prefix: str) -> str | None:
    return next((line for line in lines if line.startswith(prefix)), None)


def read(path: str | os.PathLike) -> Problem:
    """Read a free or fixed MPS file or a CPLEX LP file (optionally gzipped).

    Parameters
    ----------
    path : str or os.PathLike
        ``.mps``, ``.lp``, ``.mps.gz`` or ``.lp.gz`` file.

    Returns
    -------
    Problem
        The model in file order, with its sense and objective offset.

    Raises
    ------
    InputError
        When the file is missing, empty, a directory, of an unknown type, or not a model
        HiGHS's reader accepts without warnings (the message quotes HiGHS).
    """
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected an MPS or LP file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    suffix = _suffix(path)
    if not suffix:
        raise InputError(f"{path}: unknown file type, expected one of {', '.join(_SUFFIXES)}")
    try:
        maximize, name = _scan_mps(path) if suffix.startswith(".mps") else (False, "")
    except (OSError, EOFError, zlib.error) as error:  # a corrupt or truncated .gz, say
        raise InputError(f"{path}: cannot read: {error}") from None
    highs = new_highs()
    highs.setOptionValue("log_to_console", False)
    with tempfile.TemporaryDirectory(prefix="hybridsolve-read-") as scratch:
        log_path = os.path.join(scratch, "read.log")
        source = str(path)
        if not path.name.endswith(suffix):  # HiGHS knows lower-case suffixes only
            source = os.path.join(scratch, "model" + suffix)
            os.symlink(path.resolve(), source)
        highs.setOptionValue("log_file", log_path)
        status = highs.readModel(source)
        highs.setOptionValue("log_file", "")
        lines = _log_lines(log_path)
    if status == highspy.HighsStatus.kError:
        error = _first(lines, "ERROR:") or "HiGHS could not read the file"
        raise InputError(f"{path}: cannot parse: {error.removeprefix('ERROR:').strip()}")
    if any("switching to fixed format" in line for line in lines):
        detail = _first(lines, "WARNING:") or ""
        raise InputError(
            f"{path}: malformed MPS line (names with spaces or a wrong field count): "
            f"{detail.removeprefix('WARNING:').strip()}"
        )
    warning = _first(lines, "WARNING:")
    if status != highspy.HighsStatus.kOk or warning:
        raise InputError(
            f"{path}: {(warning or 'reader warning').removeprefix('WARNING:').strip()}"
        )
    problem = problem_from_highs(highs, name=name or path.name.split(".")[0], maximize=maximize)
    if problem.num_vars == 0:
        raise InputError(f"{path}: invalid or empty model, no variables found")
    return problem


def problem_from_highs(highs: highspy.Highs, name: str = "", maximize: bool = False) -> Problem:
    """Convert the model held by a ``highspy.Highs`` into a :class:`Problem`.

    The entry order of a column-wise matrix is kept (:attr:`Problem.column_entries`);
    ``maximize`` forces the maximisation sense where the caller knows better than HiGHS.

    Raises
    ------
    InputError
        When the model has a quadratic objective or semi-continuous/semi-integer variables,
        which hybridsolve does not support.
    """
    lp = highs.getLp()
    if highs.getModel().hessian_.dim_ > 0:
        raise InputError(f"{name}: quadratic objectives are not supported")
    kinds = list(lp.integrality_)
    integ = np.zeros(lp.num_col_, dtype=bool)
    for j, kind in enumerate(kinds):
        if kind == highspy.HighsVarType.kInteger:
            integ[j] = True
        elif kind != highspy.HighsVarType.kContinuous:
            raise InputError(f"{name}: semi-continuous/semi-integer variables are not supported")
    matrix = lp.a_matrix_
    shape = (lp.num_row_, lp.num_col_)
    value, index, start = (np.asarray(a) for a in (matrix.value_, matrix.index_, matrix.start_))
    colwise = matrix.format_ != highspy.MatrixFormat.kRowwise
    if colwise:
        A = sp.csc_matrix((value, index, start), shape=shape).tocsr()
    else:
        A = sp.csr_matrix((value, index, start), shape=shape)
    try:
        var_names = list(lp.col_names_) or None
        con_names = list(lp.row_names_) or None
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: names are not valid text") from exc
    maximize = maximize or lp.sense_ == highspy.ObjSense.kMaximize
    problem = Problem.from_arrays(
        lp.col_cost_, A, lp.row_lower_, lp.row_upper_, lp.col_lower_, lp.col_upper_, integ,
        sense="maximize" if maximize else "minimize",
        offset=lp.offset_, var_names=var_names, con_names=con_names, name=name or lp.model_name_,
    )  # fmt: skip
    if colwise:
        problem._keep_column_order(start, index, value)
    return problem


def _integral_bounds(problem: Problem) -> Problem:
    """The same model with integer bounds rounded inwards (file formats want whole numbers)."""
    integer = problem.integrality
    lower = np.where(integer, np.ceil(problem.col_lower - 1e-9), problem.col_lower) + 0.0
    upper = np.where(integer, np.floor(problem.col_upper + 1e-9), problem.col_upper)
    if np.array_equal(lower, problem.col_lower) and np.array_equal(upper, problem.col_upper):
        return problem
    for array in (lower, upper):
        array.setflags(write=False)
    return replace(problem, col_lower=lower, col_upper=upper)


def write(problem: Problem, path: str | os.PathLike) -> Path:
    """Write a model as free MPS or CPLEX LP, gzipped when the name ends in ``.gz``.

    MPS output has ``OBJSENSE`` on its own line and explicit bounds, so SCIP and HiGHS
    read it back identically. Bounds of integer variables are rounded inwards to whole
    numbers (the same feasible set); coefficients keep HiGHS's 15 significant digits. The
    LP format has no ranged rows: HiGHS writes each as two rows.

    Parameters
    ----------
    problem : Problem
        The model.
    path : str or os.PathLike
        Target ending in ``.mps``, ``.lp``, ``.mps.gz`` or ``.lp.gz``.

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    UsageError
        On an unknown file type.
    InputError
        When HiGHS's writer fails.
    """
    path = Path(path)
    suffix = _suffix(path)
    if not suffix:
        raise UsageError(f"{path}: unknown file type, expected one of {', '.join(_SUFFIXES)}")
    highs = _integral_bounds(problem).to_highs()
    plain_suffix = suffix.removesuffix(".gz")
    with tempfile.TemporaryDirectory(prefix="hybridsolve-write-") as tmp:
        plain = Path(tmp) / f"model{plain_suffix}"
        if highs.writeModel(str(plain)) == highspy.HighsStatus.kError or not plain.exists():
            raise InputError(f"{path}: HiGHS could not write the model")
        if suffix.endswith(".gz"):
            # no name or time stamp in the gzip header: the same model gives the same bytes
            with open(plain, "rb") as src, open(path, "wb") as raw:
                with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as dst:
                    shutil.copyfileobj(src, dst)
        else:
            shutil.copyfile(plain, path)
    return path
