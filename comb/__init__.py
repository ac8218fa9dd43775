"""Problem-specific instances and heuristics: TSP, ATSP, CVRP, OP, KP, MIS, SMTT.

Each instance type is a frozen dataclass holding read-only numpy arrays, validated on
construction (bad input raises :class:`hybridsolve.mip.ProblemError`). Where a MIP
formulation exists, ``to_problem()`` exports it as a :class:`hybridsolve.mip.Problem`, so
the same instance can be solved both ways and cross-checked.

:func:`solve` runs the Numba-compiled heuristics (:mod:`.tsp`, :mod:`.cvrp`, ...) on an
instance and returns a checked :class:`Solution`; :func:`improve` runs a local search from a
given solution and returns one too, never worse than the start. Both compile their kernels
before their time limit's clock starts; :func:`warm_up` does that step alone.
"""

from __future__ import annotations

from .graphs import MIS
from .knapsack import KP
from .routing import ATSP, CVRP, OP, TSP, Rounding
from .scheduling import SMTT
from .solve import Solution, improve, solve, warm_up

__all__ = [
    "ATSP",
    "CVRP",
    "KP",
    "MIS",
    "OP",
    "SMTT",
    "TSP",
    "Rounding",
    "Solution",
    "improve",
    "solve",
    "warm_up",
]
