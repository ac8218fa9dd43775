"""Assignment lower bound for the asymmetric TSP.

A tour leaves every node once and enters every node once, so its arcs form an assignment
(a permutation ``s`` with ``s(i) != i``) and its cost is at least that of the cheapest such
assignment; the cheapest one may be a union of several cycles, which is why it is only a
bound (Eastman 1958; Balas and Toth 1985). Relaxing further, every tour costs at least the
sum of the row minima of the matrix (the cheapest arc out of each node), and at least the
sum of the column minima (the cheapest arc into each node); the assignment bound is at
least both, and they cost O(n^2) time against the assignment's O(n^3).

Self-loops are forbidden by an infinite diagonal, which
:func:`scipy.optimize.linear_sum_assignment` never chooses while a finite assignment exists
(one does for ``n >= 2``: any cyclic shift).

References
----------
W. L. Eastman, "Linear programming with pattern constraints", PhD thesis, Harvard (1958).
E. Balas and P. Toth, "Branch and bound methods", in E. L. Lawler et al. (eds.), The
Traveling Salesman Problem, Wiley (1985), 361-401.
D. F. Crouse, "On implementing 2D rectangular assignment algorithms", IEEE Transactions on
Aerospace and Electronic Systems 52 (2016), 1679-1696.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from hybridsolve.mip.errors import UsageError

from ..routing import ATSP
from ._limits import checked
from .tsp import SAFETY

__all__ = ["AssignmentBound", "assignment_bound"]


@dataclass(frozen=True)
class AssignmentBound:
    """The result of :func:`assignment_bound`.

    Attributes
    ----------
    bound : float
        A valid lower bound on the optimal tour cost, in the instance's own cost units.
    method : str
        ``"assignment"`` (the cheapest assignment), ``"minima"`` (the larger of the row
        and column minima sums; the assignment was not started because of the time limit
        or ``stop``) or ``"exact"`` (``n <= 2``: the only tour's cost).
    iterations : int
        Bounds computed: 1 (minima) or 2 (minima, then assignment); 0 for ``n <= 2``.
    seconds : float
        Wall-clock seconds of the computation.
    cycles : int
        Number of cycles of the cheapest assignment (0 when it was not computed). With one
        cycle the assignment is a tour, so ``bound`` is the optimum (up to the margin).
    """

    bound: float
    method: str
    iterations: int
    seconds: float
    cycles: int


def _cycles(successor: np.ndarray) -> int:
    """Number of cycles of the permutation ``i -> successor[i]``."""
    seen = np.zeros(successor.size, dtype=bool)
    count = 0
    for start in range(successor.size):
        if seen[start]:
            continue
        count += 1
        node = start
        while not seen[node]:
            seen[node] = True
            node = int(successor[node])
    return count


def _safe(value: float, scale: float, integer: bool) -> float:
    """``value`` less ``SAFETY * scale``, rounded up when every tour cost is an integer."""
    low = value - SAFETY * scale
    return float(math.ceil(low)) if integer else low


def assignment_bound(
    atsp: ATSP,
    *,
    time_limit: float | None = None,
    stop: Callable[[], bool] | None = None,
) -> AssignmentBound:
    """The assignment lower bound of an asymmetric TSP.

    Parameters
    ----------
    atsp : ATSP
        The instance.
    time_limit : float, optional
        Wall-clock seconds. The row and column minima are always computed; the assignment
        (one O(n^3) call that cannot be interrupted, about 0.3 s for 2000 nodes) is
        started only while time is left.
    stop : callable, optional
        Called without arguments after the minima; when it returns true the assignment is
        skipped.

    Returns
    -------
    AssignmentBound

    Raises
    ------
    UsageError
        When ``atsp`` is not an :class:`~hybridsolve.comb.ATSP`, or on a bad
        ``time_limit`` or ``stop``.

    Notes
    -----
    Validity: every tour is an assignment without fixed points, so it costs at least the
    cheapest one, and at least the row and column minima sums.

    The sums are computed in float64 from the matrix entries themselves (the costs
    :meth:`ATSP.tour_cost` adds), and the assignment solver keeps dual potentials that
    are sums of at most ``2 n`` costs, so the assignment it returns costs at most about
    ``8 n^2 u max|c|`` (``u = 2**-53``) more than the true minimum. ``SAFETY * n max|c|``
    is taken off every bound, which covers that for ``n`` up to about a million. When every
    entry is an integer all these sums are exact (below ``2**53``) and the bound is rounded
    up, ``ceil(bound - margin)``, the exact integer value.

    For ``n <= 2`` there is a single tour, whose cost is returned exactly.
    """
    if not isinstance(atsp, ATSP):
        raise UsageError(f"assignment_bound needs an ATSP, got {type(atsp).__name__}")
    checked(time_limit, stop)
    started = time.perf_counter()
    n = atsp.num_nodes
    if n <= 2:
        cost = atsp.tour_cost(np.arange(n))
        return AssignmentBound(cost, "exact", 0, time.perf_counter() - started, 1)
    cost = np.array(atsp.distances, dtype=np.float64)
    np.fill_diagonal(cost, np.inf)
    integer = bool(np.all(atsp.distances == np.floor(atsp.distances)))
    scale = n * float(atsp.distances.max())
    minima = max(float(cost.min(axis=1).sum()), float(cost.min(axis=0).sum()))
    bound = _safe(minima, scale, integer)
    late = time_limit is not None and time.perf_counter() - started >= time_limit
    if late or (stop is not None and stop()):
        return AssignmentBound(bound, "minima", 1, time.perf_counter() - started, 0)
    rows, successor = linear_sum_assignment(cost)
    value = float(cost[rows, successor].sum())
    bound = max(bound, _safe(value, scale, integer))
    cycles = _cycles(successor)
    return AssignmentBound(bound, "assignment", 2, time.perf_counter() - started, cycles)
