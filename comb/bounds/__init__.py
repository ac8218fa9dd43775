"""Proven bounds for the comb problems: how far from optimal a heuristic answer can be.

A lower bound for the minimisation problems (TSP, ATSP, CVRP, SMTT) and an upper bound
for the maximisation ones (KP, MIS, OP, and the multi-dimensional and multiple knapsacks of
:mod:`hybridsolve.datasets`, given as arrays), in the instance's own cost units; each
module says how its bound stays valid.
"""

from __future__ import annotations

from .atsp import AssignmentBound, assignment_bound
from .cvrp import CVRPBound, cvrp_bound
from .knapsacks import MultiDimensionalBound, MultipleKnapsackBound, mkp_bound, multiple_kp_bound
from .orienteering import PrizeBound, op_bound
from .packing import CliqueBound, KnapsackBound, kp_bound, mis_bound
from .scheduling import TardinessBound, smtt_bound
from .tsp import HeldKarp, held_karp

__all__ = [
    "AssignmentBound",
    "CVRPBound",
    "CliqueBound",
    "HeldKarp",
    "KnapsackBound",
    "MultiDimensionalBound",
    "MultipleKnapsackBound",
    "PrizeBound",
    "TardinessBound",
    "assignment_bound",
    "cvrp_bound",
    "held_karp",
    "kp_bound",
    "mis_bound",
    "mkp_bound",
    "multiple_kp_bound",
    "op_bound",
    "smtt_bound",
]
