"""Bandit-driven adaptive large neighbourhood search over SCIP and HiGHS sub-MIPs.

``hybridsolve.solve(problem, solver="lns", time_limit=60, options={"backend": "highs"})``
runs it; :class:`Settings` lists the options, :data:`OPERATORS` the destroy operator
families and :data:`POLICIES` the bandit policies. The backend's own search of the full model
(:class:`ScipTree`, or :class:`HighsTree` paused in its own thread between turns) starts
the run and stays one more arm, ``tree``.
With hints (``hybridsolve.mip.solve(..., hints=...)``) two more families join the
portfolio: ``hint_disagree`` and ``hint_confident``.
"""

from __future__ import annotations

from .backend import LnsBackend
from .neighbourhood import Context, Neighbourhood, Row
from .operators import OPERATORS, Arm, portfolio
from .search import POLICIES, Settings, search
from .subsolver import (
    SUBSOLVERS,
    Attempt,
    HighsSubSolver,
    HighsTree,
    ScipSubSolver,
    ScipTree,
    SubSolver,
)

__all__ = [
    "OPERATORS",
    "POLICIES",
    "SUBSOLVERS",
    "Arm",
    "Attempt",
    "Context",
    "HighsSubSolver",
    "HighsTree",
    "LnsBackend",
    "Neighbourhood",
    "Row",
    "ScipSubSolver",
    "ScipTree",
    "Settings",
    "SubSolver",
    "portfolio",
    "search",
]
