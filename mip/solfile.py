"""MIPLIB ``.sol`` solution files, and warm starts built from them or from values."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError, UsageError
from .problem import Problem

__all__ = ["SolFile", "read_sol", "write_sol", "start_vector"]


@dataclass(frozen=True)
class SolFile:
    """Contents of a solution file.

    Attributes
    ----------
    values : dict of str to float
        Variable values by name (variables not listed are unspecified).
    objective : float or None
        The ``=obj=`` line, when present.
    infeasible : bool
        Whether the file says ``=infeas=``.
    """

    values: dict[str, float] = field(default_factory=dict)
    objective: float | None = None
    infeasible: bool = False


def _number(token: str, path: Path, lineno: int) -> float:
    try:
        value = float(token)
    except ValueError:
        raise InputError(f"{path}:{lineno}: {token!r} is not a number") from None
    if math.isnan(value):
        raise InputError(f"{path}:{lineno}: value is NaN")
    return value


def read_sol(path: str | os.PathLike) -> SolFile:
    """Read a MIPLIB ``.sol`` file.

    Accepts ``=obj= value``, ``=infeas=``, ``name value`` lines and ``#`` comments, and
    also SCIP's own format (``objective value:`` and ``name value (obj:c)`` lines).

    Raises
    ------
    InputError
        When the file is missing, a directory, or has a line that is not one of the above.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: {'is a directory' if path.is_dir() else 'no such file'}")
    values: dict[str, float] = {}
    objective = None
    infeasible = False
    with open(path, encoding="utf-8", errors="replace") as handle:
        for lineno, line in enumerate(handle, start=1):
            text = line.split("#", 1)[0].strip()
            lowered = text.lower()
            if not text or lowered.startswith("solution status:"):
                continue
            if lowered.startswith("objective value:"):
                objective = _number(text.split(":", 1)[1].strip(), path, lineno)
                continue
            tokens = text.split()
            if tokens[0] == "=infeas=":
                infeasible = True
            elif tokens[0] == "=obj=" and len(tokens) == 2:
                objective = _number(tokens[1], path, lineno)
            elif len(tokens) == 2 or (len(tokens) == 3 and tokens[2].startswith("(obj:")):
                if tokens[0] in values:
                    raise InputError(f"{path}:{lineno}: variable {tokens[0]!r} appears twice")
                values[tokens[0]] = _number(tokens[1], path, lineno)
            else:
                raise InputError(f"{path}:{lineno}: expected 'name value', got {text!r}")
    return SolFile(values=values, objective=objective, infeasible=infeasible)


def write_sol(
    path: str | os.PathLike, problem: Problem, x: np.ndarray | None, objective: float | None = None
) -> Path:
    """Write a MIPLIB ``.sol`` file (``=infeas=`` when ``x`` is ``None``).

    Parameters
    ----------
    path : str or os.PathLike
        Target file.
    problem : Problem
        The model, for the variable names.
    x : numpy.ndarray or None
        Values in file order.
    objective : float, optional
        Objective to write; recomputed from the model when omitted.

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    with open(path, "w", encoding="utf-8") as handle:
        if x is None:
            handle.write("=infeas=\n")
            return path
        values = np.asarray(x, dtype=np.float64)
        obj = problem.objective(values) if objective is None else objective
        handle.write(f"=obj= {obj!r}\n")
        for name, value in zip(problem.var_names, values.tolist()):
            handle.write(f"{name} {value!r}\n")
    return path


def start_vector(
    problem: Problem, start: Mapping[str, float] | np.ndarray | str | os.PathLike
) -> np.ndarray:
    """Turn a warm start into a vector in file order, NaN where unspecified.

    Parameters
    ----------
    problem : Problem
        The model.
    start : dict, array_like, str or os.PathLike
        Values by variable name, a length-``n`` array (NaN = unspecified), or the path of
        a ``.sol`` file.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    UsageError
        On unknown names in a dict, a wrong length, infinite values or an ``=infeas=`` file.
    InputError
        When a ``.sol`` file cannot be read or names an unknown variable.
    """
    source, error = "warm start", UsageError
    if isinstance(start, (str, os.PathLike)):
        sol = read_sol(start)
        if sol.infeasible:
            raise UsageError(f"{start}: the solution file says =infeas=, nothing to start from")
        start, source, error = sol.values, f"{start}", InputError
    if isinstance(start, Mapping):
        vector = np.full(problem.num_vars, np.nan)
        for name, value in start.items():
            try:
                vector[problem.index_of(name)] = float(value)
            except KeyError:
                raise error(f"{source}: unknown variable {name!r}") from None
    else:
        vector = np.array(start, dtype=np.float64)
        if vector.shape != (problem.num_vars,):
            raise UsageError(f"warm start has shape {vector.shape}, expected ({problem.num_vars},)")
    if np.isinf(vector).any():
        raise UsageError("warm start contains infinite values")
    return vector
