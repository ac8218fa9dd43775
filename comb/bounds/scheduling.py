"""Lower bounds on the total weighted tardiness of a single machine (:class:`SMTT`).

Both bounds rest on one fact: the job in position ``k`` of any sequence completes no
earlier than the ``k`` shortest processing times take together, ``P_k = q_1 + ... + q_k``
(``q`` the processing times sorted ascending), since the first ``k`` jobs of the sequence
are ``k`` distinct jobs. If that job is ``j``, it also completes no earlier than
``p_j + P_{k-1}``: the ``k - 1`` jobs before it are other jobs, at least as long together
as the ``k - 1`` shortest. The larger of the two, ``e_jk = max(P_k, p_j + P_{k-1})``, is
exactly ``p_j`` plus the ``k - 1`` shortest times of the other jobs, and tardiness
``w_j max(0, C - d_j)`` does not decrease with ``C``.

* :func:`smtt_bound` below :data:`ASSIGNMENT_LIMIT` jobs: the *assignment relaxation*.
  Every sequence puts each job in one position and each position holds one job, and costs
  at least ``sum_j c_{j, k(j)}`` with ``c_jk = w_j max(0, e_jk - d_j)``; the cheapest
  assignment of jobs to positions (:func:`scipy.optimize.linear_sum_assignment`) is
  therefore a lower bound (Lawler 1964 used positional costs of this kind for sequencing).
* Above it, a closed form that needs no ``n x n`` table: pair the completion-time bounds
  ``P_k`` with the due dates sorted ascending (EDD order ``d_(1) <= ... <= d_(n)``),
  ``LB = w_min sum_k max(0, P_k - d_(k))``. Relaxing ``e_jk`` to ``P_k`` and ``w_j`` to
  ``w_min`` gives the assignment costs ``w_min f(P_k - d_j)`` with ``f(t) = max(0, t)``
  convex; for a convex ``f`` the assignment of sorted ``P`` to sorted ``d`` is a cheapest
  one (the rearrangement argument: when ``P_a < P_b`` and ``d_x < d_y`` are crossed,
  ``f(P_a - d_y) + f(P_b - d_x) >= f(P_a - d_x) + f(P_b - d_y)`` because ``f`` is convex
  and the crossed arguments lie outside the uncrossed ones with the same sum), so ``LB``
  is the value of that weaker assignment relaxation, valid as well.

References
----------
E. L. Lawler, "On scheduling problems with deferral costs", Management Science 11 (1964),
280-288.
G. H. Hardy, J. E. Littlewood and G. Pólya, "Inequalities", Cambridge University Press
(1934), section 10.2 (rearrangement) and theorem 108 (majorisation for convex functions).
R. Jonker and A. Volgenant, "A shortest augmenting path algorithm for dense and sparse
linear assignment problems", Computing 38 (1987), 325-340.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.optimize import linear_sum_assignment

from hybridsolve.mip.errors import UsageError

from ..scheduling import SMTT
from ._limits import Clock, checked
from .tsp import SAFETY

__all__ = ["ASSIGNMENT_LIMIT", "TardinessBound", "smtt_bound"]

#: Largest number of jobs for which :func:`smtt_bound` solves the assignment relaxation: its
#: ``n x n`` float64 cost table takes 32 MB at 2000 jobs, and the assignment a fraction of a
#: second to a few seconds; above it the ``O(n log n)`` closed form is used.
ASSIGNMENT_LIMIT = 2000


@dataclass(frozen=True)
class TardinessBound:
    """The result of :func:`smtt_bound`.

    Attributes
    ----------
    bound : float
        A valid lower bound on the smallest total weighted tardiness, in the instance's units.
    method : {"assignment", "sorted"}
        The relaxation solved: the assignment of jobs to positions, or the closed form
        pairing sorted completion-time bounds with sorted due dates.
    seconds : float
        Wall-clock seconds of the computation.
    iterations : int
        Always 0: both relaxations are solved exactly, in one pass.
    """

    bound: float
    method: Literal["assignment", "sorted"]
    seconds: float
    iterations: int


def smtt_bound(
    smtt: SMTT, *, time_limit: float | None = None, stop: Callable[[], bool] | None = None
) -> TardinessBound:
    """A lower bound on the total weighted tardiness: the assignment relaxation, or its sorted form.

    See the module's description for both relaxations and why they are valid. For a single
    job the bound is its tardiness: ``e_11 = p_1`` is its completion time.

    Parameters
    ----------
    smtt : SMTT
        The instance.
    time_limit : float, optional
        Accepted, like ``stop``, for the interface shared by the bounds: each relaxation is
        solved in one uninterrupted step (at most a few seconds at :data:`ASSIGNMENT_LIMIT`
        jobs).
    stop : callable, optional
        See ``time_limit``.

    Returns
    -------
    TardinessBound
        The assignment bound up to :data:`ASSIGNMENT_LIMIT` jobs, the sorted one above. The
        optimal assignment is computed in float64; ``SAFETY * n * max(c)`` is taken off
        its cost against rounding, and when every weight is a whole number, so that every
        sequence's cost is one, the bound is then rounded up.

    Raises
    ------
    UsageError
        When ``smtt`` is not a :class:`~hybridsolve.comb.SMTT`, or on a bad limit or ``stop``.
    """
    if not isinstance(smtt, SMTT):
        raise UsageError(f"smtt_bound needs an SMTT, got {type(smtt).__name__}")
    checked(time_limit, stop)
    clock = Clock(time_limit, stop)
    p = smtt.processing_times.astype(np.float64)
    d = smtt.due_dates.astype(np.float64)
    w = smtt.weights
    shortest = np.sort(p)
    done = np.cumsum(shortest)  # P_k, k = 1..n
    if smtt.num_jobs <= ASSIGNMENT_LIMIT:
        before = done - shortest  # P_{k-1}
        earliest = np.maximum(done[None, :], p[:, None] + before[None, :])
        cost = w[:, None] * np.maximum(earliest - d[:, None], 0.0)
        rows, cols = linear_sum_assignment(cost)
        value = float(cost[rows, cols].sum())
        scale = smtt.num_jobs * float(cost.max())
        method: Literal["assignment", "sorted"] = "assignment"
    else:
        late = np.maximum(done - np.sort(d), 0.0)
        value = float(w.min()) * float(late.sum())
        scale = value
        method = "sorted"
    low = max(value - SAFETY * scale, 0.0)
    bound = float(math.ceil(low)) if bool(np.all(w == np.floor(w))) else low
    return TardinessBound(bound, method, clock.seconds(), 0)
