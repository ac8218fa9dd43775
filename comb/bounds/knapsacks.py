"""Upper bounds for two knapsack problems with several constraints, given as plain arrays.

* :func:`mkp_bound`, the multi-dimensional 0-1 knapsack ``max p x``, ``W x <= b``, ``x``
  binary: a Lagrangian relaxation of every constraint but one, minimised by subgradient
  descent from the linear relaxation's duals; anytime, every value it reports is valid.
* :func:`multiple_kp_bound`, the multiple 0-1 knapsack (each item into at most one of
  several knapsacks): the surrogate relaxation with equal multipliers, one 0-1 knapsack
  whose capacity is the sum of the capacities.

Both solve 0-1 knapsacks exactly by dynamic programming over the capacity when the weights
are whole numbers and the table is at most :data:`DP_CELLS` cells, and otherwise bound them
by Martello and Toth's ``U2`` (:func:`~hybridsolve.comb.bounds.packing.kp_bound`). Values are
computed in float64 and raised by the relative margin
:data:`~hybridsolve.comb.bounds.tsp.SAFETY` times the size of the numbers summed, against
rounding; when every profit is a whole number, so is the optimum, and the bound is then
rounded down.

References
----------
S. Martello and P. Toth, "An upper bound for the zero-one knapsack problem and a branch and
bound algorithm", European Journal of Operational Research 1 (1977), 169-175.
S. Martello and P. Toth, "A bound and bound algorithm for the zero-one multiple knapsack
problem", Discrete Applied Mathematics 3 (1981), 275-288.
M. L. Fisher, "The Lagrangian relaxation method for solving integer programming problems",
Management Science 27 (1981), 1-18.
B. T. Polyak, "Minimization of unsmooth functionals", USSR Computational Mathematics and
Mathematical Physics 9 (1969), 14-29.
M. Held, P. Wolfe and H. P. Crowder, "Validation of subgradient optimization", Mathematical
Programming 6 (1974), 62-88.
P. C. Chu and J. E. Beasley, "A genetic algorithm for the multidimensional knapsack
problem", Journal of Heuristics 4 (1998), 63-86.
D. Pisinger, "An exact algorithm for large multiple knapsack problems", European Journal of
Operational Research 114 (1999), 528-541.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.optimize import linprog

from hybridsolve.mip.errors import UsageError

from ..knapsack import KP, _kp_dp_rows, _kp_order, _kp_trace
from ._limits import Clock, checked, frozen
from .packing import _safe_upper, _whole, kp_bound

__all__ = [
    "DP_CELLS",
    "MIN_THETA",
    "PATIENCE",
    "MultiDimensionalBound",
    "MultipleKnapsackBound",
    "mkp_bound",
    "multiple_kp_bound",
]

#: Largest ``items * (capacity + 1)`` for which a 0-1 knapsack is solved exactly by dynamic
#: programming (also the bytes of :func:`mkp_bound`'s table of chosen items); above it, or
#: with fractional weights, Martello and Toth's ``U2`` bounds it instead.
DP_CELLS = 10_000_000

#: The step factor ``theta`` of :func:`mkp_bound`'s first iterations.
_FIRST_THETA = 2.0

#: :func:`mkp_bound`'s descent ends when its step factor drops below this.
MIN_THETA = 1e-3

#: Iterations without a new lowest ``L`` after which :func:`mkp_bound` halves its step factor.
PATIENCE = 20

#: Items per block of :func:`multiple_kp_bound`'s dynamic programme, between clock checks.
_BLOCK = 64

#: The ``keep`` table of :func:`~hybridsolve.comb.knapsack._kp_dp_rows` for a value alone.
_NO_TABLE = np.zeros((0, 0), dtype=np.uint8)


# ------------------------------------------------------------------ arguments


def _array(value: object, what: str, ndim: int) -> np.ndarray:
    """``value`` as a finite float64 array of ``ndim`` dimensions, or a UsageError."""
    try:
        out = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise UsageError(f"{what} must be an array of numbers: {error}") from None
    if out.ndim != ndim:
        raise UsageError(f"{what} must have {ndim} dimension(s), got shape {out.shape}")
    if not np.all(np.isfinite(out)):
        raise UsageError(f"{what} must be finite (no NaN or infinity)")
    return out


def _non_negative(array: np.ndarray, what: str) -> None:
    if np.any(array < 0):
        raise UsageError(f"{what} must be non-negative, got {float(array.min()):g}")


def _iterations(iterations: object) -> None:
    if iterations is not None and (
        isinstance(iterations, (bool, np.bool_))
        or not isinstance(iterations, (int, np.integer))
        or iterations < 1
    ):
        raise UsageError(f"iterations must be a positive integer, got {iterations!r}")


# ------------------------------------------------------------------ kernels


@njit(cache=True, nogil=True)
def _subset_sums(weights: np.ndarray, capacity: int) -> np.ndarray:
    """``reach[c]``: whether some subset of ``weights`` weighs exactly ``c <= capacity``."""
    reach = np.zeros(capacity + 1, dtype=np.bool_)
    reach[0] = True
    for w in weights:
        for c in range(capacity, w - 1, -1):
            if reach[c - w]:
                reach[c] = True
    return reach


# ------------------------------------------------------------------ multi-dimensional


@dataclass(frozen=True, repr=False, eq=False)
class MultiDimensionalBound:
    """The result of :func:`mkp_bound`.

    Attributes
    ----------
    bound : float
        A valid upper bound on ``max p x`` s.t. ``W x <= b``, ``x`` binary.
    lp : float
        The optimal value of the linear relaxation (of the items and rows left after the
        preprocessing, no margin), NaN when the LP was not solved or not needed.
    lower : float
        The value of the greedy feasible solution, the target of the step length.
    row : int
        The constraint kept in the inner knapsack (caller's numbering), -1 when none is left.
    exact : bool
        Whether the inner knapsack was solved exactly (dynamic programming) rather than
        bounded by Martello and Toth's ``U2``.
    multipliers : numpy.ndarray
        ``(m,)`` multipliers at which ``bound`` was computed, 0 for the kept row and the
        rows left out (read-only).
    iterations : int
        Lagrangian functions evaluated.
    seconds : float
        Wall-clock seconds of the run.
    trajectory : tuple of (float, float)
        ``(seconds, bound)`` at each improvement of the bound.
    """

    bound: float
    lp: float
    lower: float
    row: int
    exact: bool
    multipliers: np.ndarray
    iterations: int
    seconds: float
    trajectory: tuple[tuple[float, float], ...]

    def __repr__(self) -> str:
        return (
            f"MultiDimensionalBound(bound={self.bound:.10g}, lp={self.lp:.10g}, "
            f"lower={self.lower:.10g}, row={self.row}, exact={self.exact}, "
            f"iterations={self.iterations}, seconds={self.seconds:.3f})"
        )


def _greedy(profits: np.ndarray, weights: np.ndarray, capacities: np.ndarray) -> float:
    """Value of the items taken by decreasing ``p_j / sum_i W_ij / b_i`` while they fit.

    The ratio is Chu and Beasley's (1998) pseudo-utility with the capacities as surrogate
    weights; items of no relative weight come first. Rows of zero capacity are left out of
    the sum (the items given are those that fit alone, which weigh nothing there).
    """
    positive = capacities > 0
    size = (weights[positive] / capacities[positive, None]).sum(axis=0)
    ratio = np.full(profits.size, np.inf)
    np.divide(profits, size, out=ratio, where=size > 0)
    room = capacities.copy()
    total = 0.0
    for j in np.argsort(-ratio, kind="stable").tolist():
        if np.all(weights[:, j] <= room):
            room -= weights[:, j]
            total += float(profits[j])
    return total


def _lp_duals(
    profits: np.ndarray, weights: np.ndarray, capacities: np.ndarray, seconds: float | None
) -> tuple[float, np.ndarray | None]:
    """The LP relaxation's value and row duals (``>= 0``), or NaN and None when unsolved."""
    options = {} if seconds is None else {"time_limit": max(seconds, 1e-3)}
    result = linprog(
        -profits, A_ub=weights, b_ub=capacities, bounds=(0.0, 1.0), method="highs",
        options=options,
    )  # fmt: skip
    if result.status != 0:
        return math.nan, None
    duals = np.maximum(-np.asarray(result.ineqlin.marginals, dtype=np.float64), 0.0)
    return float(-result.fun), duals


def _inner(
    reduced: np.ndarray, weights: np.ndarray, capacity: float, keep: np.ndarray | None
) -> tuple[float, np.ndarray]:
    """Upper bound on ``max reduced x`` s.t. ``weights x <= capacity``, and a feasible ``x``.

    Only items of positive reduced profit are considered. With ``keep`` (integer weights
    and capacity, the table within :data:`DP_CELLS`) the knapsack is solved exactly and
    ``x`` is its optimum; otherwise the bound is Martello and Toth's ``U2`` and ``x`` the
    items before the critical one in Dantzig's order (the integer part of the linear
    relaxation's solution).
    """
    items = np.flatnonzero(reduced > 0)
    x = np.zeros(reduced.size, dtype=bool)
    if items.size == 0:
        return 0.0, x
    if keep is not None:
        table = keep[: items.size]
        table[:] = 0
        best = np.zeros(int(capacity) + 1)
        int_w = weights[items].astype(np.int64)
        _kp_dp_rows(reduced[items], int_w, best, table, 0, items.size)
        x[items[_kp_trace(int_w, table, items.size, int(capacity))]] = True
        return float(best[-1]), x
    upper = kp_bound(KP(reduced[items], weights[items], capacity)).bound
    order = _kp_order(reduced, weights)
    fits = np.cumsum(weights[order]) <= capacity
    x[order[: int(np.argmin(fits)) if not fits.all() else order.size]] = True
    return upper, x


def mkp_bound(
    profits: np.ndarray,
    weights: np.ndarray,
    capacities: np.ndarray,
    *,
    time_limit: float | None = None,
    stop: Callable[[], bool] | None = None,
    iterations: int | None = None,
    progress: Callable[[float], None] | None = None,
) -> MultiDimensionalBound:
    """An upper bound on the multi-dimensional 0-1 knapsack, by Lagrangian relaxation.

    The problem is ``max p x`` s.t. ``W x <= b``, ``x`` binary. Items of no positive profit
    and items too heavy for some row on their own are in no optimum (or need not be) and
    are left out; so are the rows that every remaining item fits together (redundant).
    One row ``k`` is kept, the one with the smallest capacity relative to its total weight
    ``b_k / sum_j W_kj`` (the tightest, whose knapsack carries the most of the structure);
    the others get multipliers ``mu >= 0`` (Fisher 1981):

        ``L(mu) = mu . b' + max{ sum_j (p_j - mu . W'_j) x_j : W_k x <= b_k, x binary }``

    (``W'``, ``b'``: the other rows) is an upper bound for every ``mu``, since each relaxed
    term ``mu_i (b_i - W_i x)`` is non-negative for a feasible ``x``; so is ``L`` with any
    upper bound on the inner 0-1 knapsack. That knapsack is solved exactly by dynamic
    programming over the capacity when row ``k``'s weights are whole numbers and
    ``items * (b_k + 1) <= DP_CELLS``; otherwise it is bounded by Martello and Toth's
    ``U2`` (1977), and the subgradient below is taken at the items before the critical
    one in Dantzig's order (a heuristic direction: ``L`` then need not be convex, but each
    value stays valid).

    The descent starts from the duals of the linear relaxation (HiGHS through
    :func:`scipy.optimize.linprog`) on the other rows: with the inner knapsack relaxed to
    its LP, ``L`` there is at most the LP optimum (LP duality on the kept row with its own
    dual), and solving it exactly (or by ``U2``, at most Dantzig's bound) only lowers it, so
    the first value reported is already at most the LP bound. When the LP is not solved in
    time, the descent starts from ``mu = 0``, where ``L`` is the bound of row ``k`` alone,
    often weak. At the inner solution ``x(mu)``, ``g = b' - W' x(mu)`` is a subgradient of
    the convex ``L``; ``mu`` moves to ``max(0, mu - theta (L(mu) - lower) g / |g|^2)``
    (Polyak 1969; Held, Wolfe and Crowder 1974) with ``lower`` the value of a greedy
    feasible solution (items by decreasing ``p_j / sum_i W_ij / b_i``, taken while they
    fit). ``theta`` starts at 2 and is halved after :data:`PATIENCE` evaluations without a
    lower ``L``. The descent ends when ``theta`` drops below :data:`MIN_THETA`, when the
    bound reaches ``lower`` (which is then optimal), when the projected subgradient
    vanishes (``mu`` minimises ``L``), or at a limit or a stop request; the smallest ``L``
    seen is reported.

    Parameters
    ----------
    profits : array_like
        ``(n,)`` finite item profits.
    weights : array_like
        ``(m, n)`` non-negative weights, row ``i`` of constraint ``i``.
    capacities : array_like
        ``(m,)`` non-negative capacities.
    time_limit : float, optional
        Wall-clock seconds, also given to the LP; checked after each evaluation of ``L``, at
        least one of which is done.
    stop : callable, optional
        Called without arguments after each evaluation; the run ends when it returns true.
    iterations : int, optional
        Largest number of evaluations of ``L``; 1 gives the value at the LP duals.
    progress : callable, optional
        Called with each better bound, as :attr:`MultiDimensionalBound.bound` would report
        it, when it is found.

    Returns
    -------
    MultiDimensionalBound
        ``bound`` is rounded down when every profit is a whole number. No items give 0; no
        binding row left gives the sum of the remaining profits, both without iterations.

    Raises
    ------
    UsageError
        On arrays of the wrong shape, NaN or infinite entries, negative weights or
        capacities, or a bad limit, ``stop``, ``iterations`` or ``progress``.
    """
    p = _array(profits, "profits", 1)
    W = _array(weights, "weights", 2)
    b = _array(capacities, "capacities", 1)
    if W.shape != (b.size, p.size):
        raise UsageError(
            f"weights must have shape (capacities, profits) = {(b.size, p.size)}, got {W.shape}"
        )
    _non_negative(W, "weights")
    _non_negative(b, "capacities")
    checked(time_limit, stop, progress)
    _iterations(iterations)
    clock = Clock(time_limit, stop)
    integer = _whole(p)
    m = b.size
    items = np.flatnonzero((p > 0) & np.all(W <= b[:, None], axis=0))
    p, W = p[items], W[:, items]
    rows = np.flatnonzero(W.sum(axis=1) > b)
    multipliers = np.zeros(m)
    lower = _greedy(p, W[rows], b[rows])
    if rows.size == 0:
        total = _safe_upper(float(p.sum()), float(p.sum()), integer)
        seconds = clock.seconds()
        return MultiDimensionalBound(
            total, math.nan, lower, -1, True, frozen(multipliers), 0, seconds,
            ((seconds, total),),
        )  # fmt: skip
    W, b = W[rows], b[rows]
    k = int(np.argmin(b / W.sum(axis=1)))
    rest = np.arange(rows.size) != k
    W_rest, b_rest, w_k, b_k = W[rest], b[rest], W[k], float(b[k])
    keep = None
    if _whole(w_k):
        b_k = math.floor(b_k)
        if p.size * (b_k + 1) <= DP_CELLS:
            keep = np.zeros((p.size, b_k + 1), dtype=np.uint8)
    lp = math.nan
    mu = np.zeros(rows.size - 1)
    if rows.size > 1:
        left = None if time_limit is None else time_limit - clock.seconds()
        lp, duals = _lp_duals(p, W, b, left)
        if duals is not None:
            mu = duals[rest]
    best, best_mu = math.inf, mu
    trajectory: list[tuple[float, float]] = []
    theta = _FIRST_THETA
    idle = count = 0
    while True:
        loads = mu @ W_rest
        inner, x = _inner(p - loads, w_k, b_k, keep)
        value = float(mu @ b_rest) + inner
        count += 1
        if value < best:
            best, best_mu, idle = value, mu, 0
            scale = float(mu @ b_rest) + float(loads.sum()) + float(p.sum())
            bound = _safe_upper(value, scale, integer)
            if not trajectory or bound < trajectory[-1][1]:
                trajectory.append((clock.seconds(), bound))
                if progress is not None:
                    progress(bound)
        else:
            idle += 1
        g = b_rest - W_rest @ x
        g[(mu <= 0) & (g > 0)] = 0.0  # projected on mu >= 0
        if (
            not g.any()
            or min(value, trajectory[-1][1]) <= lower
            or (iterations is not None and count >= iterations)
            or clock.expired()
        ):
            break
        if idle >= PATIENCE:
            theta /= 2.0
            idle = 0
            if theta < MIN_THETA:
                break
        step = theta * max(value - lower, 0.0) / float(g @ g)
        mu = np.maximum(mu - step * g, 0.0)
    multipliers[rows[rest]] = best_mu
    return MultiDimensionalBound(
        trajectory[-1][1], lp, lower, int(rows[k]), keep is not None, frozen(multipliers),
        count, clock.seconds(), tuple(trajectory),
    )  # fmt: skip


# ------------------------------------------------------------------ multiple


@dataclass(frozen=True)
class MultipleKnapsackBound:
    """The result of :func:`multiple_kp_bound`.

    Attributes
    ----------
    bound : float
        A valid upper bound on the multiple 0-1 knapsack's optimum.
    dantzig : float
        The linear relaxation of the surrogate knapsack (no margin, no rounding): the linear
        relaxation of the multiple knapsack without the items that fit no knapsack, and so
        the whole LP bound when every item fits some knapsack.
    capacity : float
        The surrogate knapsack's capacity, the sum of the tightened capacities.
    exact : bool
        Whether the surrogate knapsack was solved exactly by dynamic programming; otherwise
        ``bound`` is its Martello and Toth ``U2``.
    iterations : int
        Always 0: the bound is not iterative.
    seconds : float
        Wall-clock seconds of the computation.
    """

    bound: float
    dantzig: float
    capacity: float
    exact: bool
    iterations: int
    seconds: float


def multiple_kp_bound(
    profits: np.ndarray,
    weights: np.ndarray,
    capacities: np.ndarray,
    *,
    time_limit: float | None = None,
    stop: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> MultipleKnapsackBound:
    """An upper bound on the multiple 0-1 knapsack, by its surrogate relaxation.

    The problem is ``max sum_kj p_j x_kj`` s.t. ``sum_k x_kj <= 1`` (each item in at most
    one knapsack), ``sum_j w_j x_kj <= c_k``, ``x`` binary. Items of no positive profit are
    left out, and so are the items heavier than every capacity, which fit nowhere. With
    whole weights each capacity is lowered to the largest weight of a subset of the
    remaining items within it (Pisinger 1999: a knapsack holds a subset), otherwise to the
    total weight. Adding the capacity constraints with equal multipliers gives the
    surrogate relaxation of Martello and Toth (1981): with ``y_j = sum_k x_kj``, one 0-1
    knapsack ``max p y`` s.t. ``w y <= C = sum_k c_k``. It is solved exactly by dynamic
    programming over the capacity when the weights are whole and ``items * (C + 1) <=
    DP_CELLS``, else bounded by Martello and Toth's ``U2`` (1977).

    Its linear relaxation (Dantzig's bound, reported) equals that of the multiple knapsack
    on the same items: any fractional ``y`` with ``w y <= C`` spreads over the knapsacks in
    turn, each filled up to its capacity, and the converse is the surrogate argument. The
    bound is at most this LP value (``U2`` is at most Dantzig's bound, the exact optimum at
    most ``U2``), so it needs no separate minimum with it.

    Parameters
    ----------
    profits : array_like
        ``(n,)`` finite item profits.
    weights : array_like
        ``(n,)`` non-negative item weights.
    capacities : array_like
        ``(m,)`` non-negative knapsack capacities.
    time_limit : float, optional
        Wall-clock seconds, checked between blocks of items of the dynamic programme; when
        it ends the run there, the bound is ``U2``.
    stop : callable, optional
        Called at the same points; the run ends when it returns true.
    progress : callable, optional
        Called with each better bound: ``U2``, then the exact value when lower.

    Returns
    -------
    MultipleKnapsackBound
        ``bound`` is rounded down when every profit is a whole number. No items or no
        knapsacks give 0; zero capacities give the profits of the weightless items.

    Raises
    ------
    UsageError
        On arrays of the wrong shape, NaN or infinite entries, negative weights or
        capacities, or a bad limit, ``stop`` or ``progress``.
    """
    p = _array(profits, "profits", 1)
    w = _array(weights, "weights", 1)
    c = _array(capacities, "capacities", 1)
    if w.size != p.size:
        raise UsageError(f"weights must have {p.size} entries like profits, got {w.size}")
    _non_negative(w, "weights")
    _non_negative(c, "capacities")
    checked(time_limit, stop, progress)
    clock = Clock(time_limit, stop)
    integer = _whole(p)
    keep = (p > 0) & (w <= c.max()) if c.size else np.zeros(p.size, dtype=bool)
    p, w = p[keep], w[keep]
    whole = _whole(w)
    c = np.minimum(c, w.sum())
    if whole and w.size:
        c = np.floor(c)
        reach = _subset_sums(w.astype(np.int64), int(c.max()))
        sums = np.flatnonzero(reach)
        c = sums[np.searchsorted(sums, c, side="right") - 1].astype(np.float64)
    capacity = float(c.sum())
    surrogate = KP(p, w.astype(np.int64) if whole else w, int(capacity) if whole else capacity)
    relaxed = kp_bound(surrogate)
    bound = relaxed.bound
    if progress is not None:
        progress(bound)
    exact = False
    if whole and p.size * (capacity + 1) <= DP_CELLS and not clock.expired():
        best = np.zeros(int(capacity) + 1)
        int_w = w.astype(np.int64)
        first = 0
        while first < p.size and not clock.expired():
            last = min(first + _BLOCK, p.size)
            _kp_dp_rows(p, int_w, best, _NO_TABLE, first, last)
            first = last
        if first == p.size:
            exact = True
            value = _safe_upper(float(best[-1]), float(p.sum()), integer)
            if value < bound:
                bound = value
                if progress is not None:
                    progress(bound)
    return MultipleKnapsackBound(bound, relaxed.dantzig, capacity, exact, 0, clock.seconds())
