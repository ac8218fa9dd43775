"""Lower bounds on the total weighted tardiness of a single machine (:class:`SMTT`).

The positional bounds rest on one fact: the job in position ``k`` of any sequence completes
no earlier than the ``k`` shortest processing times take together, ``P_k = q_1 + ... +
q_k`` (``q`` the processing times sorted ascending), since the first ``k`` jobs of the
sequence are ``k`` distinct jobs. If that job is ``j``, it also completes no earlier than
``p_j + P_{k-1}``: the ``k - 1`` jobs before it are other jobs, at least as long together
as the ``k - 1`` shortest. The larger of the two, ``e_jk = max(P_k, p_j + P_{k-1})``, is
exactly ``p_j`` plus the ``k - 1`` shortest times of the other jobs, and tardiness
``w_j max(0, C - d_j)`` does not decrease with ``C``.

:func:`smtt_bound` computes two or three bounds and reports the largest:

* Up to :data:`ASSIGNMENT_LIMIT` jobs, the *assignment relaxation*. Every sequence puts
  each job in one position and each position holds one job, and costs at least
  ``sum_j c_{j, k(j)}`` with ``c_jk = w_j max(0, e_jk - d_j)``; the cheapest assignment of
  jobs to positions (:func:`scipy.optimize.linear_sum_assignment`) is therefore a lower
  bound (Lawler 1964 used positional costs of this kind for sequencing).
* Above it, a closed form that needs no ``n x n`` table: pair the completion-time bounds
  ``P_k`` with the due dates sorted ascending (EDD order ``d_(1) <= ... <= d_(n)``),
  ``LB = w_min sum_k max(0, P_k - d_(k))``. Relaxing ``e_jk`` to ``P_k`` and ``w_j`` to
  ``w_min`` gives the assignment costs ``w_min f(P_k - d_j)`` with ``f(t) = max(0, t)``
  convex; for a convex ``f`` the assignment of sorted ``P`` to sorted ``d`` is a cheapest
  one (the rearrangement argument: when ``P_a < P_b`` and ``d_x < d_y`` are crossed,
  ``f(P_a - d_y) + f(P_b - d_x) >= f(P_a - d_x) + f(P_b - d_y)`` because ``f`` is convex
  and the crossed arguments lie outside the uncrossed ones with the same sum), so ``LB``
  is the value of that weaker assignment relaxation, valid as well.
* When ``n T`` is at most :data:`TIME_INDEXED_LIMIT` (``T = sum_j p_j``), the *Lagrangian
  relaxation of the time-indexed formulation* (Dyer and Wolsey 1990; Sousa and Wolsey
  1992; van den Akker, Hurkens and Savelsbergh 2000). A sequence runs without idle time,
  so job ``j`` starts at some ``S_j`` in ``[0, T - p_j]`` and occupies the unit slots
  ``S_j .. S_j + p_j - 1``; as the ``p_j`` add up to ``T``, every slot ``s`` in
  ``[0, T)`` is occupied by exactly one job. For any real multipliers ``lam_s``, then,
  ``sum_s lam_s (cover_s - 1) = 0``, and the sequence's cost equals
  ``sum_j (w_j max(0, S_j + p_j - d_j) + lam_{S_j} + ... + lam_{S_j + p_j - 1})
  - sum_s lam_s``, which is at least ``L(lam)``, the same expression with each job at its
  own cheapest start, regardless of the others. So ``L(lam)`` is a lower bound for every
  ``lam``; the multipliers need no sign, since the slot constraints hold with equality
  (adding a constant to every ``lam_s`` changes ``L`` by ``c (sum_j p_j - T) = 0``, so
  nothing is lost against the ``lam >= 0`` of the ``<= 1`` capacity rows either). Each
  job's subproblem picks one start, a problem with integral LP relaxation, so
  ``max L`` equals the time-indexed LP bound (Geoffrion 1974), which is far stronger than
  the positional bounds (Potts and Van Wassenhove 1985 took the machine-capacity
  constraints of another formulation into the objective in the same way). One evaluation takes
  ``O(n T)`` time, the window sums read from prefix sums of ``lam``. ``L`` is maximised by
  subgradient ascent: the number of chosen windows covering slot ``s``, less 1, is a
  subgradient; the step is Polyak's (1969), ``theta (U - L(lam)) / |g|^2`` with ``U`` the
  cost of a sequence computed here (the better of EDD and WSPT), and ``theta`` starts at 2
  and is halved after :data:`PATIENCE` evaluations without a new best ``L`` (Held, Wolfe
  and Crowder 1974), the ascent ending below :data:`MIN_THETA`. It starts at ``lam = 0``,
  where ties are broken towards the latest start, so that each job completes on time where
  it can and ``L(0)`` is the sum of the jobs' own smallest tardiness; a subgradient ``0``
  means the chosen windows tile ``[0, T)``, a sequence of cost ``L``, which is then
  optimal. Every bound reported is a value ``L(lam)`` actually computed, valid however the
  ascent went.

References
----------
E. L. Lawler, "On scheduling problems with deferral costs", Management Science 11 (1964),
280-288.
G. H. Hardy, J. E. Littlewood and G. Pólya, "Inequalities", Cambridge University Press
(1934), section 10.2 (rearrangement) and theorem 108 (majorisation for convex functions).
M. E. Dyer and L. A. Wolsey, "Formulating the single machine sequencing problem with
release dates as a mixed integer program", Discrete Applied Mathematics 26 (1990), 255-270.
J. P. Sousa and L. A. Wolsey, "A time indexed formulation of non-preemptive single machine
scheduling problems", Mathematical Programming 54 (1992), 353-367.
J. M. van den Akker, C. A. J. Hurkens and M. W. P. Savelsbergh, "Time-indexed formulations
for machine scheduling problems: column generation", INFORMS Journal on Computing 12 (2000),
111-124.
C. N. Potts and L. N. Van Wassenhove, "A branch and bound algorithm for the total weighted
tardiness problem", Operations Research 33 (1985), 363-377.
A. M. Geoffrion, "Lagrangean relaxation for integer programming", Mathematical Programming
Study 2 (1974), 82-114.
B. T. Polyak, "Minimization of unsmooth functionals", USSR Computational Mathematics and
Mathematical Physics 9 (1969), 14-29.
M. Held, P. Wolfe and H. P. Crowder, "Validation of subgradient optimization", Mathematical
Programming 6 (1974), 62-88.
N. J. Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM (2002), ch. 4.
R. Jonker and A. Volgenant, "A shortest augmenting path algorithm for dense and sparse
linear assignment problems", Computing 38 (1987), 325-340.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numba import njit
from scipy.optimize import linear_sum_assignment

from hybridsolve.mip.errors import UsageError

from ..scheduling import SMTT
from ._limits import Clock, checked, number
from .tsp import SAFETY

__all__ = [
    "ASSIGNMENT_LIMIT",
    "DEFAULT_ITERATIONS",
    "MIN_THETA",
    "PATIENCE",
    "TIME_INDEXED_LIMIT",
    "TardinessBound",
    "smtt_bound",
]

#: Largest number of jobs for which :func:`smtt_bound` solves the assignment relaxation: its
#: ``n x n`` float64 cost table takes 32 MB at 2000 jobs, and the assignment a fraction of a
#: second to a few seconds; above it the ``O(n log n)`` closed form is used.
ASSIGNMENT_LIMIT = 2000

#: Largest ``n T`` (jobs times the total processing time) for which :func:`smtt_bound` runs
#: the time-indexed Lagrangian ascent. One evaluation of ``L`` takes ``O(n T)`` time, about
#: 1.5 ns per ``n T`` on one core (15 ms for 1000 jobs of mean length 10), so about 0.1 s
#: at this size, where the :data:`DEFAULT_ITERATIONS` take a minute or two unless
#: ``time_limit`` or ``stop`` ends them (the ascent's arrays have only ``T + 1`` entries).
TIME_INDEXED_LIMIT = 50_000_000

#: Evaluations of the time-indexed ``L`` without ``iterations`` (up to a few dozen jobs the
#: ascent usually ends earlier, when its step factor drops below :data:`MIN_THETA`).
DEFAULT_ITERATIONS = 1000

#: The step factor ``theta`` of the first ascent steps.
_FIRST_THETA = 2.0

#: The ascent ends when its step factor drops below this.
MIN_THETA = 1e-3

#: Evaluations without a new best ``L`` after which the step factor is halved.
PATIENCE = 40

#: Unit roundoff of float64.
_UNIT = 2.0**-53


@dataclass(frozen=True)
class TardinessBound:
    """The result of :func:`smtt_bound`.

    Attributes
    ----------
    bound : float
        A valid lower bound on the smallest total weighted tardiness, in the instance's units.
    method : {"assignment", "sorted", "time-indexed"}
        The relaxation whose bound is reported, the largest of those computed: the
        assignment of jobs to positions, the closed form pairing sorted completion-time
        bounds with sorted due dates, or the Lagrangian relaxation of the time-indexed
        formulation.
    seconds : float
        Wall-clock seconds of the computation.
    iterations : int
        Evaluations of the time-indexed Lagrangian function (ascent steps); 0 when it was
        not run (``n T`` above :data:`TIME_INDEXED_LIMIT`, or the assignment bound already
        equal to a known sequence's cost).
    """

    bound: float
    method: Literal["assignment", "sorted", "time-indexed"]
    seconds: float
    iterations: int


@njit(cache=True, nogil=True)
def _lagrangian(p, d, w, lam, prefix, sub):
    """One evaluation of the time-indexed Lagrangian function ``L(lam)``.

    Each job ``j`` takes the start ``t`` in ``[0, T - p_j]`` of smallest
    ``w_j max(0, t + p_j - d_j) + lam_t + ... + lam_{t + p_j - 1}`` (the last one on ties),
    the window sums read from the prefix sums of ``lam`` (written to ``prefix``, length
    ``T + 1``). Fills ``sub`` (length ``T + 1``) with the subgradient: ``sub[s]``, ``s < T``,
    is the number of chosen windows covering slot ``s``, less 1. Returns ``L(lam)`` and the
    sum of the magnitudes of the jobs' minima. Pure numeric, it runs without the GIL.
    """
    n = p.shape[0]
    horizon = lam.shape[0]
    prefix[0] = 0.0
    for s in range(horizon):
        prefix[s + 1] = prefix[s] + lam[s]
    sub[:] = 0.0
    total = 0.0
    magnitude = 0.0
    for j in range(n):
        pj = p[j]
        last = horizon - pj  # the latest start
        early = min(d[j] - pj, last)  # the latest start on time
        best = np.inf
        pick = 0
        for t in range(early + 1):  # on time: the window alone
            c = prefix[t + pj] - prefix[t]
            if c <= best:
                best = c
                pick = t
        wj = w[j]
        for t in range(max(early + 1, 0), last + 1):
            c = prefix[t + pj] - prefix[t] + wj * (t + pj - d[j])
            if c <= best:
                best = c
                pick = t
        total += best
        magnitude += abs(best)
        sub[pick] += 1.0
        sub[pick + pj] -= 1.0
    run = 0.0
    for s in range(horizon):
        run += sub[s]
        sub[s] = run - 1.0
    sub[horizon] = 0.0
    return total - prefix[horizon], magnitude


def _sequence_cost(smtt: SMTT) -> float:
    """The smaller tardiness of the EDD sequence and the WSPT sequence (Smith's ratio rule).

    The target of the ascent's step length: the cost of a sequence, so at least the optimum.
    """
    p, d, w = smtt.processing_times, smtt.due_dates, smtt.weights
    edd = np.lexsort((p, d))
    wspt = np.lexsort((d, p / w))
    return min(smtt.tardiness(edd), smtt.tardiness(wspt))


def _time_indexed(
    smtt: SMTT,
    clock: Clock,
    iterations: int,
    upper: float,
    integer: bool,
    improved: Callable[[float], None],
) -> tuple[float, int]:
    """Subgradient ascent on the time-indexed Lagrangian function; the best valid bound.

    See :func:`smtt_bound` for the step rule and the rounding margin. Returns the largest
    margin-reduced ``L`` (not rounded) and the number of evaluations; ``improved`` is
    called with each larger one.
    """
    p = np.ascontiguousarray(smtt.processing_times, dtype=np.int64)
    d = np.ascontiguousarray(smtt.due_dates, dtype=np.int64)
    w = np.ascontiguousarray(smtt.weights, dtype=np.float64)
    n = smtt.num_jobs
    horizon = smtt.total_processing_time
    lam = np.zeros(horizon)
    prefix = np.empty(horizon + 1)
    sub = np.empty(horizon + 1)
    rounding = 2.0 * _UNIT * (2 * n + 1) * (horizon + 2)
    best = -math.inf
    theta = _FIRST_THETA
    idle = 0
    count = 0
    while True:
        value, magnitude = _lagrangian(p, d, w, lam, prefix, sub)
        count += 1
        size = float(np.abs(lam).sum())
        low = value - SAFETY * (magnitude + size) - rounding * size
        if low > best:
            best, idle = low, 0
            improved(best)
        else:
            idle += 1
        g = sub[:horizon]
        norm = float(g @ g)
        reached = math.ceil(best) >= upper if integer else best >= upper
        if norm == 0.0 or reached or count >= iterations or clock.expired():
            break
        if idle >= PATIENCE:
            theta /= 2.0
            idle = 0
            if theta < MIN_THETA:
                break
        lam += (theta * max(upper - value, 0.0) / norm) * g
    return best, count


def smtt_bound(
    smtt: SMTT,
    *,
    time_limit: float | None = None,
    stop: Callable[[], bool] | None = None,
    iterations: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> TardinessBound:
    """A lower bound on the total weighted tardiness: the best of the module's relaxations.

    See the module's description for the relaxations and why they are valid. The
    assignment bound (up to :data:`ASSIGNMENT_LIMIT` jobs) or the sorted one (above) is
    computed first, then, when ``n T`` is at most :data:`TIME_INDEXED_LIMIT`, the
    time-indexed Lagrangian ascent; the larger bound is reported. For a single job the
    bound is its tardiness: ``e_11 = p_1`` is its completion time.

    Parameters
    ----------
    smtt : SMTT
        The instance.
    time_limit : float, optional
        Wall-clock seconds for the run, checked after each evaluation of the time-indexed
        ``L``; the assignment (at most a few seconds at :data:`ASSIGNMENT_LIMIT` jobs) and
        one evaluation are always done.
    stop : callable, optional
        Called without arguments at the same points; the ascent ends when it returns true
        (so it can run beside a heuristic and stop with it).
    iterations : int, optional
        Largest number of evaluations of the time-indexed ``L``; :data:`DEFAULT_ITERATIONS`
        when omitted. Without ``time_limit`` and ``stop`` the result depends only on the
        instance and ``iterations``.
    progress : callable, optional
        Called with each better bound, as :attr:`TardinessBound.bound` would report it,
        when it is found (from the thread the bound runs in): the assignment or sorted
        bound first, then each larger one of the ascent.

    Returns
    -------
    TardinessBound
        The largest bound, with the relaxation that gave it (the assignment or sorted one
        on ties).

    Raises
    ------
    UsageError
        When ``smtt`` is not a :class:`~hybridsolve.comb.SMTT`, or on a bad limit, ``stop``
        or ``iterations``.

    Notes
    -----
    The relaxations are solved in float64, so a computed value may exceed the exact one by
    rounding errors; a margin is taken off each. For the assignment it is ``SAFETY * n *
    max(c)``. For ``L(lam)`` it is ``SAFETY * (sum_j |m_j| + sum_s |lam_s|) + 2 u (2 n +
    1)(T + 2) sum_s |lam_s|`` (``m_j`` the jobs' minima, ``u = 2**-53``): the prefix sums
    of ``lam`` carry errors up to ``T u sum_s |lam_s|`` each (Higham 2002, ch. 4), every
    window sum two of them, every job's minimum is thus within about ``(2 T + 3) u
    sum_s |lam_s|`` (plus a few ``u`` of its own magnitude) of the exact one, and the
    sums over jobs and slots add ``n u sum_j |m_j|`` and ``T u sum_s |lam_s|``; ``SAFETY =
    1e-9`` covers the terms in ``n u`` for ``n`` up to about a million. When every weight
    is a whole number, so that every sequence's cost is one, the bound is then rounded up.
    """
    if not isinstance(smtt, SMTT):
        raise UsageError(f"smtt_bound needs an SMTT, got {type(smtt).__name__}")
    checked(time_limit, stop, progress)
    if iterations is not None and not (
        number(iterations) and isinstance(iterations, (int, np.integer)) and iterations >= 1
    ):
        raise UsageError(f"iterations must be a positive integer, got {iterations!r}")
    clock = Clock(time_limit, stop)
    p = smtt.processing_times.astype(np.float64)
    d = smtt.due_dates.astype(np.float64)
    w = smtt.weights
    integer = bool(np.all(w == np.floor(w)))
    shortest = np.sort(p)
    done = np.cumsum(shortest)  # P_k, k = 1..n
    if smtt.num_jobs <= ASSIGNMENT_LIMIT:
        before = done - shortest  # P_{k-1}
        earliest = np.maximum(done[None, :], p[:, None] + before[None, :])
        cost = w[:, None] * np.maximum(earliest - d[:, None], 0.0)
        rows, cols = linear_sum_assignment(cost)
        value = float(cost[rows, cols].sum())
        scale = smtt.num_jobs * float(cost.max())
        method: Literal["assignment", "sorted", "time-indexed"] = "assignment"
    else:
        late = np.maximum(done - np.sort(d), 0.0)
        value = float(w.min()) * float(late.sum())
        scale = value
        method = "sorted"
    bound = _rounded(value - SAFETY * scale, integer)
    shown = [bound]
    if progress is not None:
        progress(bound)

    def improved(low: float) -> None:
        value = _rounded(low, integer)
        if progress is not None and value > shown[0]:
            shown[0] = value
            progress(value)

    count = 0
    if smtt.num_jobs * smtt.total_processing_time <= TIME_INDEXED_LIMIT:
        upper = _sequence_cost(smtt)
        if bound < upper:
            low, count = _time_indexed(
                smtt, clock, DEFAULT_ITERATIONS if iterations is None else int(iterations),
                upper, integer, improved,
            )  # fmt: skip
            lagrangian = _rounded(low, integer)
            if lagrangian > bound:
                bound, method = lagrangian, "time-indexed"
    return TardinessBound(bound, method, clock.seconds(), count)


def _rounded(low: float, integer: bool) -> float:
    """``low`` clipped at 0, rounded up when every sequence's cost is a whole number."""
    low = max(low, 0.0)
    return float(math.ceil(low)) if integer else low
