"""What a destroy operator hands to the repair step: a sub-MIP around an incumbent."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse as sp

from hybridsolve.mip import Hints, Problem

from .relax import LocalBranchingLP

__all__ = ["Context", "Neighbourhood", "Row"]


@dataclass(frozen=True)
class Row:
    """An extra linear constraint ``lower <= coefs @ x[index] <= upper`` of a sub-MIP."""

    index: np.ndarray
    coefs: np.ndarray
    lower: float
    upper: float


@dataclass(frozen=True)
class Neighbourhood:
    """The sub-MIP of one LNS iteration, expressed on the full model.

    Attributes
    ----------
    lower, upper : numpy.ndarray
        Variable bounds of the sub-MIP (within the model's own bounds); a fixed variable
        has equal bounds. Continuous variables keep the model's bounds.
    rows : tuple of Row
        Extra constraints (local branching, an objective-improvement row).
    objective : numpy.ndarray or None
        Replacement objective (proximity search, random objective), minimised; ``None``
        keeps the model's objective, and then the sub-MIP is cut off at the incumbent.
    free : int
        Number of integer variables whose domain was not reduced to a point.
    """

    lower: np.ndarray
    upper: np.ndarray
    rows: tuple[Row, ...] = ()
    objective: np.ndarray | None = None
    free: int = 0

    def contains(self, x: np.ndarray, tol: float = 1e-6) -> bool:
        """Whether ``x`` satisfies the bounds and extra rows (the objective is not checked)."""
        if np.any(x < self.lower - tol) or np.any(x > self.upper + tol):
            return False
        for row in self.rows:
            activity = float(row.coefs @ x[row.index])
            if activity < row.lower - tol * max(1.0, abs(row.lower)):
                return False
            if activity > row.upper + tol * max(1.0, abs(row.upper)):
                return False
        return True


@dataclass
class Context:
    """What the destroy operators may look at.

    Attributes
    ----------
    problem : Problem
        The model.
    integer : numpy.ndarray
        Indices of the integer variables.
    binary : numpy.ndarray
        Indices of the integer variables with bounds ``[0, 1]``.
    lp : numpy.ndarray or None
        An optimal solution of the LP relaxation, when it could be computed.
    elite : list of numpy.ndarray
        Distinct good solutions seen so far, best first (for crossover).
    scale : float
        Multiplier on the destroy rate of the operator about to run: the search sets it to
        that arm's own scale, adapted to how the arm's sub-MIPs went.
    hints : Hints or None
        Predicted values and confidences (:class:`hybridsolve.mip.Hints`), for the hint
        operators; ``None`` without hints.
    relax_time : float
        Seconds allowed for one solve of :meth:`local_branching_lp` (LB-RELAX).
    """

    problem: Problem
    integer: np.ndarray = field(init=False)
    binary: np.ndarray = field(init=False)
    lp: np.ndarray | None = None
    elite: list[np.ndarray] = field(default_factory=list)
    scale: float = 1.0
    hints: Hints | None = None
    relax_time: float = 1.0
    _columns: sp.csc_matrix | None = field(default=None, init=False, repr=False)
    _lb_lp: LocalBranchingLP | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        p = self.problem
        self.integer = np.flatnonzero(p.integrality)
        is_binary = (p.col_lower[self.integer] == 0) & (p.col_upper[self.integer] == 1)
        self.binary = self.integer[is_binary]

    def columns(self) -> sp.csc_matrix:
        """The constraint matrix by columns (computed once)."""
        if self._columns is None:
            self._columns = self.problem.A.tocsc()
        return self._columns

    def local_branching_lp(self) -> LocalBranchingLP:
        """The LP relaxation of local branching around an incumbent (built once)."""
        if self._lb_lp is None:
            self._lb_lp = LocalBranchingLP(self.problem, self.binary)
        return self._lb_lp

    def __getstate__(self) -> dict:
        """Pickle without the HiGHS model of :meth:`local_branching_lp` (rebuilt on use)."""
        return {**self.__dict__, "_lb_lp": None}

    def rate(self, rate: float) -> float:
        """An operator's destroy rate after the adaptive scale, kept in ``[0.02, 0.95]``."""
        return float(np.clip(rate * self.scale, 0.02, 0.95))

    def fixing(self, x: np.ndarray, fix: np.ndarray) -> Neighbourhood:
        """Fix the integer variables ``fix`` (indices) to their values in ``x``."""
        p = self.problem
        lower, upper = p.col_lower.copy(), p.col_upper.copy()
        value = np.clip(np.round(x[fix]), p.col_lower[fix], p.col_upper[fix])
        lower[fix] = upper[fix] = value
        return Neighbourhood(lower, upper, free=len(self.integer) - len(fix))

    def free_first(self, x: np.ndarray, order: np.ndarray, rate: float) -> Neighbourhood:
        """Free the first ``rate`` share of the integer variables in ``order``, fix the rest.

        ``order`` lists all integer variables, those to free first at the front.
        """
        count = int(round(self.rate(rate) * len(self.integer)))
        return self.fixing(x, np.sort(order[count:]))

    def hinted(self) -> np.ndarray:
        """Mask (length ``n``) of the integer variables predicted with confidence above 0.

        A prediction with confidence 0 says nothing; no prediction at all without hints.
        """
        if self.hints is None:
            return np.zeros(self.problem.num_vars, dtype=bool)
        return self.hints.predicted & (self.hints.confidence > 0) & self.problem.integrality

    def remember(self, x: np.ndarray, keep: int = 5) -> None:
        """Add a solution to the elite pool (best first; the caller sorts by improving)."""
        if not any(np.array_equal(x, other) for other in self.elite):
            self.elite.insert(0, x.copy())
            del self.elite[keep:]
