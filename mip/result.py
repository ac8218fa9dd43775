"""The one result object every solver returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import numpy as np

from .check import Certificate

__all__ = ["Limit", "Result", "Status", "relative_gap"]

#: Denominator floor of the relative gap.
TINY = 1e-10


class Status(str, Enum):
    """What is known about the model after a run."""

    OPTIMAL = "optimal"
    FEASIBLE = "feasible"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    INFEASIBLE_OR_UNBOUNDED = "infeasible_or_unbounded"
    NO_SOLUTION = "no_solution"
    ERROR = "error"

    def __str__(self) -> str:
        return self.value


class Limit(str, Enum):
    """Which limit stopped a run that did not finish."""

    TIME = "time"
    NODES = "nodes"
    ITERATIONS = "iterations"
    SOLUTIONS = "solutions"
    GAP = "gap"
    OBJECTIVE = "objective"
    MEMORY = "memory"
    INTERRUPT = "interrupt"
    OTHER = "other"

    def __str__(self) -> str:
        return self.value


def relative_gap(primal: float | None, dual: float | None) -> float | None:
    """``|primal - dual| / max(|primal|, TINY)``, or ``None`` when either is unknown."""
    if primal is None or dual is None:
        return None
    return abs(primal - dual) / max(abs(primal), TINY)


def _number(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass(frozen=True, eq=False)
class Result:
    """Outcome of one solve, the same for every solver.

    Attributes
    ----------
    status : Status
        optimal, feasible, infeasible, unbounded, infeasible_or_unbounded, no_solution
        or error. ``optimal`` only when the gap is closed; a returned ``x`` always passed
        :func:`hybridsolve.mip.check`.
    objective : float or None
        Objective of ``x`` in the file's sense, offset included, recomputed from the model.
    dual_bound : float or None
        Best proven bound in the file's sense, offset included.
    gap : float or None
        ``|objective - dual_bound| / max(|objective|, 1e-10)``.
    x : numpy.ndarray or None
        Values in file order.
    runtime : float
        Wall-clock seconds, reading included.
    nodes : int or None
        Branch-and-bound nodes.
    trajectory : tuple of (float, float, float or None)
        ``(time, primal, dual)`` at every improvement of the incumbent.
    solver : str
        Solver name.
    raw_status : str
        The backend's own status word.
    message : str
        Human-readable detail.
    limit : Limit or None
        Which limit stopped the run.
    certificate : Certificate or None
        :func:`hybridsolve.mip.check` of ``x``.
    stats : dict
        Solver-specific extras (for example per-operator statistics).
    """

    status: Status
    objective: float | None = None
    dual_bound: float | None = None
    gap: float | None = None
    x: np.ndarray | None = None
    runtime: float = 0.0
    nodes: int | None = None
    trajectory: tuple[tuple[float, float, float | None], ...] = ()
    solver: str = ""
    raw_status: str = ""
    message: str = ""
    limit: Limit | None = None
    certificate: Certificate | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        """``True`` only for a proven optimum."""
        return self.status is Status.OPTIMAL

    @property
    def has_solution(self) -> bool:
        """Whether a certified ``x`` is attached."""
        return self.x is not None

    def to_dict(self, include_x: bool = True) -> dict[str, Any]:
        """JSON-ready form (``None`` for unknown numbers)."""
        out = {
            "status": self.status.value,
            "limit": self.limit.value if self.limit else None,
            "success": self.success,
            "objective": _number(self.objective),
            "dual_bound": _number(self.dual_bound),
            "gap": _number(self.gap),
            "runtime": self.runtime,
            "nodes": self.nodes,
            "solver": self.solver,
            "raw_status": self.raw_status,
            "message": self.message,
            "trajectory": [list(point) for point in self.trajectory],
            "certificate": self.certificate.to_dict() if self.certificate else None,
            "stats": self.stats,
        }
        if include_x:
            out["x"] = None if self.x is None else self.x.tolist()
        return out

    def summary(self) -> str:
        """A few lines for people."""

        def fmt(value: float | None) -> str:
            return "-" if value is None else f"{value:.10g}"

        limit = f" ({self.limit} limit)" if self.limit else ""
        gap = "-" if self.gap is None else f"{100 * self.gap:.4f}%"
        lines = [
            f"status      {self.status}{limit}",
            f"objective   {fmt(self.objective)}",
            f"dual bound  {fmt(self.dual_bound)}",
            f"gap         {gap}",
            f"runtime     {self.runtime:.3f} s",
            f"nodes       {'-' if self.nodes is None else self.nodes}",
            f"solver      {self.solver} ({self.raw_status})",
        ]
        if self.certificate is not None:
            lines.append(f"certificate {self.certificate.summary().splitlines()[0]}")
        if self.message:
            lines.append(f"message     {self.message}")
        return "\n".join(lines)
