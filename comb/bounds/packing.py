"""Upper bounds for the packing problems: the 0-1 knapsack (:class:`KP`) and the maximum
weight independent set (:class:`MIS`).

:func:`kp_bound` is a closed form: Dantzig's linear-programming bound sharpened by
Martello and Toth's branch on the critical item. :func:`mis_bound` starts from a greedy
clique cover and lowers it by a subgradient ascent on a Lagrangian relaxation of clique
inequalities; it is anytime, every value it reports is valid.

Both bounds are computed in float64 and then raised by a relative margin of
:data:`~hybridsolve.comb.bounds.tsp.SAFETY` times the size of the numbers summed, against
rounding; when every value (weight) is a whole number, so is the optimum, and the bound is
then rounded down.

References
----------
G. B. Dantzig, "Discrete-variable extremum problems", Operations Research 5 (1957), 266-288.
S. Martello and P. Toth, "An upper bound for the zero-one knapsack problem and a branch and
bound algorithm", European Journal of Operational Research 1 (1977), 169-175.
M. Held, P. Wolfe and H. P. Crowder, "Validation of subgradient optimization", Mathematical
Programming 6 (1974), 62-88.
M. L. Fisher, "The Lagrangian relaxation method for solving integer programming problems",
Management Science 27 (1981), 1-18.
T. Volgenant and R. Jonker, "A branch and bound algorithm for the symmetric traveling
salesman problem based on the 1-tree relaxation", European Journal of Operational Research 9
(1982), 83-89.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hybridsolve.mip.errors import UsageError

from ..graphs import MIS
from ..knapsack import KP
from ._limits import Clock, checked, frozen
from .tsp import SAFETY

__all__ = ["MIN_THETA", "PATIENCE", "CliqueBound", "KnapsackBound", "kp_bound", "mis_bound"]

#: The step factor ``theta`` of the first iterations of :func:`mis_bound`.
_FIRST_THETA = 2.0

#: :func:`mis_bound`'s ascent ends when its step factor drops below this.
MIN_THETA = 1e-3

#: Iterations without a new lowest ``L`` after which :func:`mis_bound` halves its step factor.
PATIENCE = 20

#: Weight of the current subgradient in :func:`mis_bound`'s direction (Volgenant and Jonker
#: 1982; the rest is the previous direction's).
_CURRENT_WEIGHT = 0.6


def _whole(values: np.ndarray) -> bool:
    """Whether every entry of ``values`` is a whole number."""
    return bool(np.all(values == np.floor(values)))


def _safe_upper(value: float, scale: float, integer: bool) -> float:
    """``value`` raised by the rounding margin, then rounded down when the optimum is whole."""
    upper = value + SAFETY * scale
    return float(math.floor(upper)) if integer else upper


# ------------------------------------------------------------------ knapsack


@dataclass(frozen=True)
class KnapsackBound:
    """The result of :func:`kp_bound`.

    Attributes
    ----------
    bound : float
        A valid upper bound on the largest value that fits, in the instance's units.
    dantzig : float
        The optimal value of the linear relaxation of the knapsack without the items heavier
        than the capacity (no safety margin, no rounding); ``bound`` is at most this, plus
        the margin.
    seconds : float
        Wall-clock seconds of the computation.
    iterations : int
        Always 0: the bound is a closed form.
    """

    bound: float
    dantzig: float
    seconds: float
    iterations: int


def kp_bound(
    kp: KP, *, time_limit: float | None = None, stop: Callable[[], bool] | None = None
) -> KnapsackBound:
    """Martello and Toth's upper bound ``U2`` of a 0-1 knapsack, at most Dantzig's.

    Items of no value are left out, and so are the items heavier than the capacity, which
    no solution holds. The weightless items of positive value are in every optimum; the
    others are sorted by decreasing value per weight, and the first ``s`` fill the knapsack
    up to a room ``r`` too small for the next one, the *critical* item ``s``.

    * Dantzig (1957): filling the room with the fraction ``r / w_s`` of the critical item
      gives ``U1 = V + r v_s / w_s`` (``V``: the value of the items before it and of the
      weightless ones), the optimum of the linear relaxation.
    * Martello and Toth (1977): an optimum leaves the critical item out or takes it. Left
      out, the room is filled at best at the ratio of the item after it,
      ``U0 = V + r v_{s+1} / w_{s+1}``; taken, weight ``w_s - r`` must leave the items
      before it, each worth at least the ratio of the last of them, item ``s - 1``, per
      unit of weight, so ``U1' = V + v_s - (w_s - r) v_{s-1} / w_{s-1}``. The bound
      ``max(U0, U1')`` holds in both cases and is at most Dantzig's (the ratios are sorted).

    Parameters
    ----------
    kp : KP
        The instance.
    time_limit : float, optional
        Accepted, like ``stop``, for the interface shared by the bounds: the bound is a
        sort and a pass over the items, never cut short.
    stop : callable, optional
        See ``time_limit``.

    Returns
    -------
    KnapsackBound
        ``bound`` is rounded down when every value is a whole number. With every item
        fitting, the bound is the value of them all; with no capacity, the value of the
        weightless items.

    Raises
    ------
    UsageError
        When ``kp`` is not a :class:`~hybridsolve.comb.KP`, or on a bad limit or ``stop``.
    """
    if not isinstance(kp, KP):
        raise UsageError(f"kp_bound needs a KP, got {type(kp).__name__}")
    checked(time_limit, stop)
    clock = Clock(time_limit, stop)
    values = kp.values.astype(np.float64)
    weights = kp.weights.astype(np.float64)
    capacity = float(kp.capacity)
    useful = values > 0
    free = float(values[useful & (weights == 0)].sum())
    items = np.flatnonzero(useful & (weights > 0) & (weights <= capacity))
    ratio = values[items] / weights[items]
    rank = np.argsort(-ratio, kind="stable")
    items, ratio = items[rank], ratio[rank]
    filled = np.cumsum(weights[items])
    s = int(np.searchsorted(filled, capacity, side="right"))  # items that fit whole
    base = free + float(values[items[:s]].sum())
    if s == items.size:
        dantzig = upper = base
    else:
        room = capacity - float(filled[s - 1])  # s >= 1: every item fits alone
        critical = items[s]
        dantzig = base + room * float(ratio[s])
        left_out = base + (room * float(ratio[s + 1]) if s + 1 < items.size else 0.0)
        taken = (
            base + float(values[critical]) - (float(weights[critical]) - room) * float(ratio[s - 1])
        )
        upper = max(left_out, taken)
    scale = free + float(values[items].sum()) + capacity * float(ratio[0] if ratio.size else 0)
    bound = _safe_upper(upper, scale, _whole(values))
    return KnapsackBound(bound, dantzig, clock.seconds(), 0)


# ------------------------------------------------------------------ independent set


@dataclass(frozen=True, repr=False, eq=False)
class CliqueBound:
    """The result of :func:`mis_bound`.

    Attributes
    ----------
    bound : float
        A valid upper bound on the largest weight of an independent set.
    cover_bound : float
        The bound of the greedy clique partition alone, the ascent's starting value.
    cliques : int
        Clique inequalities relaxed: the cliques of the partition (single nodes included)
        and those covering the other edges.
    multipliers : numpy.ndarray
        The multipliers, one per clique, at which ``bound`` was computed (read-only).
    iterations : int
        Lagrangian functions evaluated; 0 for a graph without edges.
    seconds : float
        Wall-clock seconds of the run.
    trajectory : tuple of (float, float)
        ``(seconds, bound)`` at each improvement of the bound.
    """

    bound: float
    cover_bound: float
    cliques: int
    multipliers: np.ndarray
    iterations: int
    seconds: float
    trajectory: tuple[tuple[float, float], ...]

    def __repr__(self) -> str:
        return (
            f"CliqueBound(bound={self.bound:.10g}, cover_bound={self.cover_bound:.10g}, "
            f"cliques={self.cliques}, iterations={self.iterations}, seconds={self.seconds:.3f})"
        )


def _neighbour_sets(mis: MIS) -> list[set[int]]:
    neighbours: list[set[int]] = [set() for _ in range(mis.num_nodes)]
    for i, j in mis.edges.tolist():
        neighbours[i].add(j)
        neighbours[j].add(i)
    return neighbours


def _partition(order: np.ndarray, rank: np.ndarray, neighbours: list[set[int]]) -> list[list[int]]:
    """Partition the nodes into cliques, each grown greedily from the heaviest node left.

    The neighbours not yet placed of the clique's first node join it, heaviest first, when
    they are adjacent to every member so far.
    """
    placed = np.zeros(rank.size, dtype=bool)
    cliques = []
    for v in order.tolist():
        if placed[v]:
            continue
        clique = [v]
        for u in sorted((u for u in neighbours[v] if not placed[u]), key=rank.__getitem__):
            if all(u in neighbours[c] for c in clique[1:]):
                clique.append(u)
        placed[clique] = True
        cliques.append(clique)
    return cliques


def _edge_cliques(
    mis: MIS, rank: np.ndarray, neighbours: list[set[int]], covered: set[tuple[int, int]],
    clock: Clock,
) -> list[list[int]]:  # fmt: skip
    """Cliques covering the edges outside ``covered``, until done or the clock expires.

    Edges are taken by decreasing weight of their ends; an edge not yet covered is grown
    into a clique by its ends' common neighbours, heaviest first, each joining when it is
    adjacent to every member so far. The clique's edges are then covered.
    """
    w = mis.weights
    edges = mis.edges
    first = np.lexsort((rank[edges[:, 1]], rank[edges[:, 0]], -(w[edges[:, 0]] + w[edges[:, 1]])))
    cliques = []
    for i, j in edges[first].tolist():
        if (i, j) in covered:
            continue
        if clock.expired():
            break
        clique = [i, j]
        for u in sorted(neighbours[i] & neighbours[j], key=rank.__getitem__):
            if all(u in neighbours[c] for c in clique[2:]):
                clique.append(u)
        for a in clique:
            for b in clique:
                if a < b:
                    covered.add((a, b))
        cliques.append(clique)
    return cliques


def _greedy_weight(order: np.ndarray, neighbours: list[set[int]], w: np.ndarray) -> float:
    """Weight of the independent set taking the nodes of ``order`` whenever free."""
    blocked = np.zeros(w.size, dtype=bool)
    total = 0.0
    for v in order.tolist():
        if not blocked[v]:
            total += float(w[v])
            blocked[v] = True
            blocked[list(neighbours[v])] = True
    return total


def mis_bound(
    mis: MIS,
    *,
    time_limit: float | None = None,
    stop: Callable[[], bool] | None = None,
    iterations: int | None = None,
    lower: float | None = None,
    progress: Callable[[float], None] | None = None,
) -> CliqueBound:
    """An upper bound on the maximum weight independent set, by cliques and Lagrangian ascent.

    An independent set holds at most one node of every clique ``K``: ``sum_{v in K} x_v <= 1``.
    Relaxing a family of such inequalities with multipliers ``lam_K >= 0`` gives, for every
    ``lam``,

        ``L(lam) = sum_K lam_K + sum_v max(0, w_v - sum_{K containing v} lam_K)``,

    an upper bound on the optimum: for an independent set ``x``, its weight is at most
    ``sum_v (w_v - sum_{K} lam_K) x_v + sum_K lam_K`` since every relaxed term
    ``lam_K (1 - sum_{v in K} x_v)`` is non-negative, and the maximum over all binary ``x``
    separates by node (Fisher 1981).

    The family holds two kinds of cliques.

    * A greedy *partition* of the nodes into cliques (from the heaviest node left, its
      neighbours not yet placed join, heaviest first, when adjacent to every member).
      With ``lam_K`` the largest weight in ``K`` and 0 elsewhere, ``L`` is the clique cover
      bound ``sum_K max_{v in K} w_v``: the ascent starts there and reports its best
      value, so the result is never above the clique cover bound.
    * Cliques *covering every edge* the partition leaves out (the edges taken by decreasing
      weight of their ends, each grown by common neighbours). With them every edge lies in
      a relaxed clique, and the minimum of ``L`` over ``lam`` is the bound of the linear
      relaxation with all these clique inequalities, which is at most the edge relaxation's
      and usually far below it (the edge inequalities alone give about half the total
      weight). A time limit or ``stop`` met while they are built leaves the rest out; the
      bound, with fewer inequalities relaxed, is then weaker but still valid.

    ``L`` is convex, and ``g_K = 1 - sum_{v in K} x_v`` at its maximising ``x`` (``x_v = 1``
    where ``w_v - sum lam_K > 0``) is a subgradient. The descent (an "ascent" on the dual of
    the maximisation) steps ``lam`` against Volgenant and Jonker's direction
    ``0.6 g_k + 0.4 d_{k-1}`` (projected on ``lam >= 0``: components at 0 that would turn
    negative are dropped), with the relative step ``theta (L(lam) - lower) / |d|^2`` of
    Held, Wolfe and Crowder (1974). ``theta`` starts at 2 and is halved after
    :data:`PATIENCE` iterations without a lower value; the descent goes on from where it is
    (restarting from the best multipliers stalls it, the clique cover being a corner of
    ``L``). It ends when ``theta`` drops below :data:`MIN_THETA`, when the bound reaches
    ``lower`` (then ``lower`` is optimal), when the projected subgradient vanishes (``lam``
    minimises ``L``), or at a limit or a stop request. Every value reported is an
    ``L(lam)`` actually computed, so it is valid whenever the run ends.

    Parameters
    ----------
    mis : MIS
        The instance.
    time_limit : float, optional
        Wall-clock seconds, checked between cliques and after each evaluation of ``L``; at
        least the clique partition and one evaluation are done.
    stop : callable, optional
        Called without arguments at the same points; the run ends when it returns true.
    iterations : int, optional
        Largest number of evaluations of ``L``.
    lower : float, optional
        The weight of a known independent set, the target of the step length (a
        heuristic's answer). By default that of the greedy set by decreasing weight.
    progress : callable, optional
        Called with each better bound, as :attr:`CliqueBound.bound` would report it, when it is
        found (from the thread the bound runs in).

    Returns
    -------
    CliqueBound
        The bound, rounded down when every weight is a whole number. A graph without edges
        gives the total weight and no nodes give 0, both without iterations.

    Raises
    ------
    UsageError
        When ``mis`` is not a :class:`~hybridsolve.comb.MIS`, or on a bad limit, ``stop``,
        ``iterations`` or ``lower``.
    """
    if not isinstance(mis, MIS):
        raise UsageError(f"mis_bound needs a MIS, got {type(mis).__name__}")
    checked(time_limit, stop, progress)
    if iterations is not None and (
        isinstance(iterations, (bool, np.bool_))
        or not isinstance(iterations, (int, np.integer))
        or iterations < 1
    ):
        raise UsageError(f"iterations must be a positive integer, got {iterations!r}")
    if lower is not None and (
        isinstance(lower, (bool, np.bool_))
        or not isinstance(lower, (int, float, np.integer, np.floating))
        or not math.isfinite(lower)
        or lower < 0
    ):
        raise UsageError(f"lower must be a finite, non-negative weight, got {lower!r}")
    clock = Clock(time_limit, stop)
    w = mis.weights
    integer = _whole(w)
    if mis.num_edges == 0:
        total = _safe_upper(float(w.sum()), float(w.sum()), integer)
        seconds = clock.seconds()
        return CliqueBound(total, total, mis.num_nodes, frozen(w), 0, seconds, ((seconds, total),))
    order = np.lexsort((np.arange(w.size), -w))  # heaviest first, then by index
    rank = np.empty(w.size, dtype=np.int64)
    rank[order] = np.arange(w.size)
    neighbours = _neighbour_sets(mis)
    partition = _partition(order, rank, neighbours)
    covered = {(a, b) for clique in partition for a in clique for b in clique if a < b}
    cliques = partition + _edge_cliques(mis, rank, neighbours, covered, clock)
    sizes = [len(c) for c in cliques]
    member = sp.csr_matrix(
        (np.ones(sum(sizes)), (np.repeat(np.arange(len(cliques)), sizes), np.concatenate(cliques))),
        shape=(len(cliques), w.size),
    )
    lam = np.zeros(len(cliques))
    lam[: len(partition)] = [w[c[0]] for c in partition]  # each clique's first is its heaviest
    cover = _safe_upper(float(lam.sum()), float(lam.sum()), integer)
    target = _greedy_weight(order, neighbours, w) if lower is None else float(lower)
    best, best_lam = math.inf, lam
    trajectory: list[tuple[float, float]] = []
    theta = _FIRST_THETA
    previous = None
    idle = 0
    count = 0
    while True:
        loads = member.T @ lam
        reduced = w - loads
        chosen = reduced > 0
        value = float(lam.sum()) + float(reduced[chosen].sum())
        count += 1
        scale = float(lam.sum()) + float(loads.sum()) + float(w.sum())
        if value < best:
            best, best_lam, idle = value, lam, 0
            bound = _safe_upper(value, scale, integer)
            if not trajectory or bound < trajectory[-1][1]:
                trajectory.append((clock.seconds(), bound))
                if progress is not None:
                    progress(bound)
        else:
            idle += 1
        sub = 1.0 - member @ chosen.astype(np.float64)
        sub[(lam <= 0) & (sub > 0)] = 0.0  # projected on lam >= 0
        if (
            not sub.any()
            or trajectory[-1][1] <= target
            or (iterations is not None and count >= iterations)
            or clock.expired()
        ):
            break
        if idle >= PATIENCE:
            theta /= 2.0
            idle = 0
            if theta < MIN_THETA:
                break
        direction = sub
        if previous is not None:
            direction = _CURRENT_WEIGHT * sub + (1.0 - _CURRENT_WEIGHT) * previous
            direction[(lam <= 0) & (direction > 0)] = 0.0
            if not direction.any():
                direction = sub
        previous = direction
        step = theta * (value - target) / float(np.square(direction).sum())
        lam = np.maximum(lam - step * direction, 0.0)
    return CliqueBound(
        trajectory[-1][1], cover, len(cliques), frozen(best_lam), count, clock.seconds(),
        tuple(trajectory),
    )  # fmt: skip
