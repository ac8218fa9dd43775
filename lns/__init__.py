"""Bandit-driven adaptive large neighbourhood search over SCIP and HiGHS sub-MIPs.

``hybridsolve.solve(problem, solver="lns", time_limit=60)`` runs it; :class:`Settings`
lists the options, :data:`OPERATORS` the destroy operator families and :data:`POLICIES`
the bandit policies. An arm is an operator at one rate with one sub-MIP solver (SCIP or
HiGHS, ``backend="both"`` by default). The solvers' own searches of the full model
(:class:`ScipTree`, and :class:`HighsTree` paused in its own thread between turns) start
the run and stay two more arms, ``tree@scip`` and ``tree@highs``. A
:class:`BanditState` file (``bandit_state=FILE``) carries the bandit from one run to the
next.
With hints (``hybridsolve.mip.solve(..., hints=...)``) two more families join the
portfolio: ``hint_disagree`` and ``hint_confident``.
"""

from __future__ import annotations

from .backend import LnsBackend
from .bandit import CONTEXTUAL, POLICIES
from .neighbourhood import Context, Neighbourhood, Row
from .operators import OPERATORS, Arm, portfolio
from .search import BACKENDS, Settings, search
from .state import BanditState
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
    "BACKENDS",
    "CONTEXTUAL",
    "OPERATORS",
    "POLICIES",
    "SUBSOLVERS",
    "Arm",
    "Attempt",
    "BanditState",
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
