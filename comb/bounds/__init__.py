"""Proven bounds for the comb problems: how far from optimal a heuristic answer can be.

A lower bound for the minimisation problems (TSP, ATSP, CVRP, SMTT) and an upper bound
for the maximisation ones (KP, MIS, OP), in the instance's own cost units.
"""

from __future__ import annotations

from .tsp import HeldKarp, held_karp

__all__ = ["HeldKarp", "held_karp"]
