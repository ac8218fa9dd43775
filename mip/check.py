"""An independent feasibility certificate, computed from the model's arrays alone."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .problem import Problem

__all__ = ["Certificate", "Violation", "certified", "check"]

#: Values this large are a solver's infinity (SCIP uses 1e20), never a solution value.
SOLVER_INFINITY = 1e20


@dataclass(frozen=True)
class Violation:
    """One violated requirement.

    Attributes
    ----------
    kind : {"bound", "integrality", "row"}
        What is violated.
    name : str
        Variable or constraint name.
    amount : float
        Size of the violation (relative to ``max(1, |bound|)`` for bounds and rows,
        distance to the nearest integer for integrality).
    """

    kind: str
    name: str
    amount: float


@dataclass(frozen=True)
class Certificate:
    """Outcome of :func:`check`.

    Attributes
    ----------
    feasible : bool
        Whether every bound, integrality requirement and row holds within ``tol``.
    objective : float or None
        ``c @ x + offset`` recomputed from the arrays, in the file's sense
        (``None`` when ``x`` has the wrong shape or is not finite).
    max_bound_violation, max_integrality_violation, max_row_violation : float
        Worst violation of each kind (0 when none).
    violations : tuple of Violation
        The worst violations beyond ``tol``, worst first (at most ``limit``).
    tol : float
        Tolerance used.
    reason : str
        Why ``x`` could not be checked at all, else empty.
    """

    feasible: bool
    objective: float | None
    max_bound_violation: float
    max_integrality_violation: float
    max_row_violation: float
    violations: tuple[Violation, ...]
    tol: float
    reason: str = ""

    def summary(self) -> str:
        """A few lines for people."""
        if self.reason:
            return f"NOT CERTIFIED: {self.reason}"
        head = "certified feasible" if self.feasible else "NOT FEASIBLE"
        lines = [
            f"{head} (tol {self.tol:g}); objective {self.objective:.10g}",
            f"  max violation: bound {self.max_bound_violation:.3g}, "
            f"integrality {self.max_integrality_violation:.3g}, row {self.max_row_violation:.3g}",
        ]
        lines += [f"  {v.kind:<11} {v.name}: {v.amount:.3g}" for v in self.violations]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        return {
            "feasible": self.feasible,
            "objective": self.objective,
            "max_bound_violation": self.max_bound_violation,
            "max_integrality_violation": self.max_integrality_violation,
            "max_row_violation": self.max_row_violation,
            "violations": [v.__dict__ for v in self.violations],
            "tol": self.tol,
            "reason": self.reason,
        }


def _excess(value: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Violation of ``lower <= value <= upper``, relative to ``max(1, |bound|)``."""
    with np.errstate(invalid="ignore"):
        below = np.where(np.isfinite(lower), (lower - value) / np.maximum(1.0, np.abs(lower)), 0.0)
        above = np.where(np.isfinite(upper), (value - upper) / np.maximum(1.0, np.abs(upper)), 0.0)
    return np.maximum(np.maximum(below, above), 0.0)


def check(problem: Problem, x, tol: float = 1e-6, limit: int = 10) -> Certificate:
    """Certify a solution against a model, independently of any solver.

    Parameters
    ----------
    problem : Problem
        The model.
    x : array_like
        Values of all variables in file order.
    tol : float
        Feasibility tolerance: bound and row violations are measured relative to
        ``max(1, |bound|)`` (as SCIP's feastol), integrality as the absolute distance to
        the nearest integer.
    limit : int
        How many of the worst violations to list.

    Returns
    -------
    Certificate
    """
    empty = Certificate(False, None, 0.0, 0.0, 0.0, (), tol)
    values = np.asarray(x, dtype=np.float64)
    if values.shape != (problem.num_vars,):
        return Certificate(**{**empty.__dict__, "reason": (
            f"x has shape {values.shape}, expected ({problem.num_vars},)")})  # fmt: skip
    if not (np.abs(values) < SOLVER_INFINITY).all():
        return Certificate(**{**empty.__dict__, "reason": "x contains NaN or infinite values"})
    bound = _excess(values, problem.col_lower, problem.col_upper)
    integrality = np.where(problem.integrality, np.abs(values - np.round(values)), 0.0)
    row = _excess(problem.A @ values, problem.row_lower, problem.row_upper)
    kinds = (
        ("bound", problem.var_names, bound),
        ("integrality", problem.var_names, integrality),
        ("row", problem.con_names, row),
    )
    violations = []
    for kind, names, amounts in kinds:
        bad = np.flatnonzero(amounts > tol)
        worst = bad[np.argsort(-amounts[bad], kind="stable")[:limit]]
        violations += [Violation(kind, names[i], float(amounts[i])) for i in worst]
    violations.sort(key=lambda v: -v.amount)
    return Certificate(
        feasible=not violations,
        objective=problem.objective(values),
        max_bound_violation=float(bound.max(initial=0.0)),
        max_integrality_violation=float(integrality.max(initial=0.0)),
        max_row_violation=float(row.max(initial=0.0)),
        violations=tuple(violations[:limit]),
        tol=tol,
    )


def certified(
    problem: Problem, x: np.ndarray | None, tol: float = 1e-6
) -> tuple[np.ndarray, Certificate] | None:
    """``x`` with integer variables rounded when that keeps it feasible, and its certificate.

    Returns ``None`` when ``x`` is ``None`` or fails :func:`check` both rounded and as given.
    """
    if x is None:
        return None
    values = np.asarray(x, dtype=np.float64)
    snapped = np.where(problem.integrality, np.round(values), values)
    for candidate in (snapped, values):
        certificate = check(problem, candidate, tol)
        if certificate.feasible:
            return candidate, certificate
    return None
