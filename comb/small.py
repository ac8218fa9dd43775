"""Heuristics for the knapsack, independent set, total tardiness and orienteering problems.

Every method has the signature ``method(instance, *, tracker, seed=0, **options)`` and
returns its best solution as an ``int64`` array (knapsack: chosen items; independent set:
chosen nodes; tardiness: the job sequence; orienteering: the tour without the depot). The
:class:`~hybridsolve.comb._search.Tracker` carries the time limit and receives each
improvement. Methods that search until a limit take ``iterations``: without a time limit
they stop after that many rounds (a default when omitted), so a run is reproducible from
its seed; with a time limit and no ``iterations`` they run until the limit.

:func:`kp_improve` and :func:`op_improve` improve a given solution instead (for
:func:`hybridsolve.comb.improve`): ``improver(instance, solution, *, tracker, seed=0)``.

Kernels are ``@njit(cache=True)`` functions on plain arrays; random numbers come from the
seeded generator of :mod:`hybridsolve.comb._random`. :data:`METHODS` maps each instance type
to its named methods; the orienteering kernels live in :mod:`hybridsolve.comb.op`.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable

import numpy as np
from numba import njit

from hybridsolve.mip.errors import UsageError

from . import op as opk
from ._random import new_state, rand_below, rand_float
from ._search import Tracker
from .graphs import MIS
from .knapsack import KP
from .routing import OP
from .scheduling import SMTT

__all__ = [
    "METHODS",
    "kp_dp",
    "kp_greedy",
    "kp_improve",
    "mis_greedy",
    "mis_ls",
    "op_greedy",
    "op_improve",
    "op_ils",
    "smtt_edd",
    "smtt_ls",
    "smtt_mdd",
    "smtt_wi",
]

#: Rounds of the searches run without a time limit and without ``iterations``.
DEFAULT_ITERATIONS = {"mis": 10_000, "smtt": 1000, "op": 1000}

#: Relative slack below which a change in a floating-point cost is not an improvement.
_EPS = 1e-9


# ------------------------------------------------------------------ shared edges


def _iterations(value: int | None, tracker: Tracker, default: int) -> int | None:
    """The number of rounds to run: ``value``, else ``default`` without a time limit."""
    if value is None:
        return default if tracker.time_limit is None else None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise UsageError(f"iterations must be a non-negative integer, got {value!r}")
    if value < 0:
        raise UsageError(f"iterations must be a non-negative integer, got {value}")
    return int(value)


def _run(
    step: Callable[[int], float],
    iterations: int | None,
    tracker: Tracker,
    optimal: Callable[[], bool] | None = None,
) -> None:
    """Call ``step(k)`` (``k`` rounds, returning the best cost) until a limit is reached.

    Chunks grow or shrink so that each takes about 50 ms (less near the deadline); the
    best cost after every chunk goes to the tracker. The run also ends as soon as
    ``optimal()`` says that the best solution cannot be beaten.
    """
    done, chunk = 0, 1
    while (iterations is None or done < iterations) and not tracker.expired():
        k = chunk if iterations is None else min(chunk, iterations - done)
        began = time.perf_counter()
        tracker.record(step(k))
        if optimal is not None and optimal():
            return
        done += k
        per_round = max(time.perf_counter() - began, 1e-7) / k
        target = min(0.05, max(tracker.remaining(), 0.0) / 2.0 + 1e-3)
        chunk = int(min(max(target / per_round, 1), 2 * k, 1 << 20))


# ------------------------------------------------------------------ knapsack


def _kp_order(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Items of positive value by decreasing value per weight (weightless ones first)."""
    useful = np.flatnonzero(values > 0)
    w = weights[useful].astype(np.float64)
    ratio = np.full(useful.size, np.inf)
    np.divide(values[useful], w, out=ratio, where=w > 0)
    return useful[np.argsort(-ratio, kind="stable")]


@njit(cache=True)
def _kp_fill(weights: np.ndarray, room: float, order: np.ndarray, taken: np.ndarray) -> float:
    """Take the items of ``order`` in turn whenever they fit in what is left of ``room``.

    Returns the room left.
    """
    for i in order:
        if not taken[i] and weights[i] <= room:
            taken[i] = 1
            room -= weights[i]
    return room


@njit(cache=True)
def _kp_dp_rows(
    values: np.ndarray, weights: np.ndarray, best: np.ndarray, keep: np.ndarray, first: int,
    last: int,
) -> None:  # fmt: skip
    """Add items ``first..last-1`` to the table: ``best[c]`` is the largest value within
    weight ``c``; ``keep[k, c]`` records that item ``k`` improved it."""
    capacity = best.shape[0] - 1
    for k in range(first, last):
        wk = weights[k]
        vk = values[k]
        for c in range(capacity, wk - 1, -1):
            candidate = best[c - wk] + vk
            if candidate > best[c]:
                best[c] = candidate
                keep[k, c] = 1


@njit(cache=True)
def _kp_trace(weights: np.ndarray, keep: np.ndarray, count: int, capacity: int) -> np.ndarray:
    """The items (positions ``< count``) of the optimum within ``capacity``."""
    taken = np.zeros(count, dtype=np.bool_)
    c = capacity
    for k in range(count - 1, -1, -1):
        if keep[k, c]:
            taken[k] = True
            c -= weights[k]
    return taken


def kp_greedy(instance: KP, *, tracker: Tracker, seed: int = 0) -> np.ndarray:
    """Greedy by value per weight, or the best single item if that is worth more.

    Items are taken in order of decreasing value-to-weight ratio whenever they still fit;
    the result is compared with the most valuable item that fits alone, which makes it a
    1/2-approximation.

    Parameters
    ----------
    instance : KP
        The instance.
    tracker : Tracker
        Receives the value.
    seed : int
        Unused (the method is deterministic).

    Returns
    -------
    numpy.ndarray
        Chosen item indices, sorted.

    References
    ----------
    S. Martello and P. Toth, "Knapsack problems: algorithms and computer
    implementations", Wiley (1990), section 2.4.
    """
    values = instance.values.astype(np.float64)
    weights = instance.weights.astype(np.float64)
    order = _kp_order(values, weights)
    taken = np.zeros(instance.num_items, dtype=np.uint8)
    _kp_fill(weights, float(instance.capacity), order, taken)
    selection = np.flatnonzero(taken)
    fits = order[weights[order] <= instance.capacity]
    if fits.size:
        single = fits[np.argmax(values[fits])]
        if values[single] > values[selection].sum():
            selection = np.array([single], dtype=np.int64)
    tracker.record(instance.value(selection))
    return selection.astype(np.int64)


@njit(cache=True)
def _kp_step(
    values: np.ndarray, weights: np.ndarray, capacity: float, order: np.ndarray,
    taken: np.ndarray,
) -> bool:  # fmt: skip
    """One round of :func:`kp_improve`: fill, then the best 1-1 exchange; whether one was made.

    The items of ``order`` are taken whenever they fit; then, over every chosen item ``i``
    and every unchosen item ``j`` of ``order`` with ``values[j] > values[i]`` that fits in
    the room ``i`` leaves, the exchange with the largest value gain is made (the first one
    met on ties).
    """
    room = capacity
    for i in range(taken.shape[0]):
        if taken[i]:
            room -= weights[i]
    room = _kp_fill(weights, room, order, taken)
    gain = 0.0
    out = -1
    into = -1
    for i in range(taken.shape[0]):
        if not taken[i]:
            continue
        for j in order:
            if not taken[j] and values[j] - values[i] > gain and weights[j] - weights[i] <= room:
                gain = values[j] - values[i]
                out = i
                into = j
    if out < 0:
        return False
    taken[out] = 0
    taken[into] = 1
    return True


def kp_improve(
    instance: KP, selection: np.ndarray, *, tracker: Tracker, seed: int = 0
) -> np.ndarray:
    """Add the items that still fit, then 1-1 exchanges that raise the value, until none applies.

    Each round first takes, in order of decreasing value per weight (weightless items
    first), every unchosen item of positive value that still fits, then makes the best
    exchange of one chosen item for one unchosen item of larger value that fits in its
    place (``O(n^2)`` per round). Every exchange raises the value, so the rounds end; the
    tracker's deadline is checked between them.

    Parameters
    ----------
    instance : KP
        The instance.
    selection : numpy.ndarray
        The starting selection, distinct item indices that fit (already checked).
    tracker : Tracker
        Clock and deadline.
    seed : int
        Unused (the improvement is deterministic).

    Returns
    -------
    numpy.ndarray
        The improved selection, sorted.
    """
    values = instance.values.astype(np.float64)
    weights = instance.weights.astype(np.float64)
    order = _kp_order(values, weights)
    taken = np.zeros(instance.num_items, dtype=np.uint8)
    taken[selection] = 1
    capacity = float(instance.capacity)
    while not tracker.expired():
        if not _kp_step(values, weights, capacity, order, taken):
            break
    return np.flatnonzero(taken).astype(np.int64)


def kp_dp(
    instance: KP, *, tracker: Tracker, seed: int = 0, max_cells: int = 100_000_000
) -> np.ndarray:
    """Exact dynamic programming over the capacity, for integer weights and capacity.

    The classical recursion ``best_k(c) = max(best_{k-1}(c), best_{k-1}(c - w_k) + v_k)``
    over items in order of decreasing value per weight, in ``O(n C)`` time and a
    ``n x (C + 1)`` table of one-byte decision flags, ``C`` the capacity (reduced to the
    total weight when smaller); items of no value or too heavy to fit are left out first.
    The time limit is checked between blocks of items; when it stops the recursion, the
    optimum over the items processed so far is completed greedily with the rest, so the
    answer is feasible but no longer proven optimal.

    Parameters
    ----------
    instance : KP
        The instance; weights and capacity must be whole numbers.
    tracker : Tracker
        Clock and deadline; receives the value.
    seed : int
        Unused (the method is deterministic).
    max_cells : int
        Largest table (items times capacities) the method may allocate, one byte a cell.

    Returns
    -------
    numpy.ndarray
        Chosen item indices, sorted.

    Raises
    ------
    UsageError
        When a weight or the capacity is not a whole number, or the table would exceed
        ``max_cells``.

    References
    ----------
    R. Bellman, "Dynamic programming", Princeton University Press (1957).
    H. Kellerer, U. Pferschy and D. Pisinger, "Knapsack problems", Springer (2004),
    section 2.3.
    """
    if isinstance(max_cells, (bool, np.bool_)) or not isinstance(max_cells, (int, np.integer)):
        raise UsageError(f"max_cells must be a positive integer, got {max_cells!r}")
    if max_cells < 1:
        raise UsageError(f"max_cells must be a positive integer, got {max_cells}")
    weights = instance.weights.astype(np.float64)
    fractional = np.flatnonzero(weights != np.round(weights))
    if fractional.size:
        i = int(fractional[0])
        raise UsageError(
            f"knapsack method 'dp' needs whole-number weights, got weights[{i}] = "
            f"{weights[i]:g}; use method 'greedy', or solve KP.to_problem() with a MIP solver"
        )
    if not float(instance.capacity).is_integer():
        raise UsageError(
            f"knapsack method 'dp' needs a whole-number capacity, got {instance.capacity:g}; "
            "use method 'greedy', or solve KP.to_problem() with a MIP solver"
        )
    values = instance.values.astype(np.float64)
    w = weights.astype(np.int64)
    capacity = int(instance.capacity)
    order = _kp_order(values, weights)
    order = order[w[order] <= capacity]
    capacity = min(capacity, int(w[order].sum()))
    cells = order.size * (capacity + 1)
    if cells > max_cells:
        raise UsageError(
            f"knapsack method 'dp' needs a table of {order.size} items x {capacity + 1} "
            f"capacities = {cells} cells > max_cells = {max_cells}; raise max_cells or use "
            "method 'greedy'"
        )
    best = np.zeros(capacity + 1)
    keep = np.zeros((order.size, capacity + 1), dtype=np.uint8)
    block = max(1, 2_000_000 // (capacity + 1))
    values_in_order, weights_in_order = values[order], w[order]
    done = 0
    while done < order.size and not tracker.expired():
        last = min(order.size, done + block)
        _kp_dp_rows(values_in_order, weights_in_order, best, keep, done, last)
        done = last
    taken = np.zeros(instance.num_items, dtype=np.uint8)
    taken[order[:done][_kp_trace(weights_in_order, keep, done, capacity)]] = 1
    if done < order.size:
        room = float(instance.capacity) - float(weights[taken == 1].sum())
        _kp_fill(weights, room, order[done:], taken)
    selection = np.flatnonzero(taken).astype(np.int64)
    tracker.record(instance.value(selection))
    return selection


# ------------------------------------------------------------------ independent set

# Rows of the integer state array of the independent set search.
_IN = 0  # node in the solution
_TIGHT = 1  # number of solution neighbours
_LOCK = 2  # forced in by the current kick, not to be removed
_TOUCHED = 3  # status changed during the current round
_WAS = 4  # status before the current round (valid when touched)
_TLIST = 5  # the touched nodes, cnt[0] of them
_STACK = 6  # nodes to examine, cnt[1] of them
_QUEUED = 7  # node on the stack


def _mis_graph(instance: MIS) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(indptr, neighbours, weights)``: the adjacency in CSR form and the weights."""
    adjacency = instance.adjacency()
    adjacency.sort_indices()
    return (
        adjacency.indptr.astype(np.int64),
        adjacency.indices.astype(np.int64),
        np.ascontiguousarray(instance.weights, dtype=np.float64),
    )


@njit(cache=True)
def _mis_greedy(indptr: np.ndarray, nbr: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """GWMIN: repeatedly take the node of largest ``w(v) / (deg(v) + 1)`` in what is left
    (ties to the lowest index) and delete it with its neighbours. Returns a 0/1 mask."""
    n = indptr.shape[0] - 1
    degree = indptr[1:] - indptr[:-1]
    alive = np.ones(n, dtype=np.bool_)
    chosen = np.zeros(n, dtype=np.uint8)
    heap = [(-weights[v] / (degree[v] + 1.0), v) for v in range(n)]
    heapq.heapify(heap)
    while heap:
        key, v = heapq.heappop(heap)
        if not alive[v] or key != -weights[v] / (degree[v] + 1.0):
            continue
        chosen[v] = 1
        alive[v] = False
        for i in range(indptr[v], indptr[v + 1]):
            u = nbr[i]
            if not alive[u]:
                continue
            alive[u] = False
            for j in range(indptr[u], indptr[u + 1]):
                x = nbr[j]
                if alive[x]:
                    degree[x] -= 1
                    heapq.heappush(heap, (-weights[x] / (degree[x] + 1.0), x))
    return chosen


@njit(cache=True)
def _touch(st: np.ndarray, cnt: np.ndarray, v: int) -> None:
    if not st[_TOUCHED, v]:
        st[_TOUCHED, v] = 1
        st[_WAS, v] = st[_IN, v]
        st[_TLIST, cnt[0]] = v
        cnt[0] += 1


@njit(cache=True)
def _push(st: np.ndarray, cnt: np.ndarray, v: int) -> None:
    if not st[_QUEUED, v]:
        st[_QUEUED, v] = 1
        st[_STACK, cnt[1]] = v
        cnt[1] += 1


@njit(cache=True)
def _mis_add(indptr, nbr, w, st, tw, cnt, value, v) -> None:
    """Put ``v`` in the solution; ``value[0]`` is the solution weight, ``cnt[2]`` its size."""
    _touch(st, cnt, v)
    st[_IN, v] = 1
    value[0] += w[v]
    cnt[2] += 1
    for i in range(indptr[v], indptr[v + 1]):
        u = nbr[i]
        st[_TIGHT, u] += 1
        tw[u] += w[v]
    _push(st, cnt, v)


@njit(cache=True)
def _mis_drop(indptr, nbr, w, st, tw, cnt, value, v) -> None:
    """Take ``v`` out of the solution and queue the nodes whose moves it may enable."""
    _touch(st, cnt, v)
    st[_IN, v] = 0
    value[0] -= w[v]
    cnt[2] -= 1
    for i in range(indptr[v], indptr[v + 1]):
        u = nbr[i]
        st[_TIGHT, u] -= 1
        tw[u] = 0.0 if st[_TIGHT, u] == 0 else tw[u] - w[v]
        _push(st, cnt, u)
        if not st[_IN, u] and st[_TIGHT, u] == 1:
            for j in range(indptr[u], indptr[u + 1]):
                if st[_IN, nbr[j]]:
                    _push(st, cnt, nbr[j])
                    break


@njit(cache=True)
def _mis_two_swap(indptr, nbr, w, st, tw, cnt, value, mark, x) -> None:
    """(1,2)-swap at solution node ``x``: replace it by two non-adjacent 1-tight neighbours
    of larger total weight (the first such pair found), if any."""
    end = indptr[x + 1]
    for i in range(indptr[x], end):
        a = nbr[i]
        if st[_IN, a] or st[_TIGHT, a] != 1:
            continue
        for k in range(indptr[a], indptr[a + 1]):
            mark[nbr[k]] = a + 1  # adjacency never changes, so old marks stay true
        for j in range(i + 1, end):
            b = nbr[j]
            if st[_IN, b] or st[_TIGHT, b] != 1 or mark[b] == a + 1:
                continue
            if w[a] + w[b] > w[x] + _EPS * max(1.0, w[x]):
                _mis_drop(indptr, nbr, w, st, tw, cnt, value, x)
                _mis_add(indptr, nbr, w, st, tw, cnt, value, a)
                _mis_add(indptr, nbr, w, st, tw, cnt, value, b)
                return


@njit(cache=True)
def _mis_descent(indptr, nbr, w, st, tw, cnt, value, mark) -> None:
    """Apply improving moves to the queued nodes until the queue is empty.

    A node out of the solution is inserted when free (no solution neighbour) or, by an
    (omega,1)-swap, when heavier than its solution neighbours together (which leave, unless
    one is locked). A solution node tries a (1,2)-swap. Every move raises the weight, or
    keeps it and adds a free node, so the loop ends.
    """
    while cnt[1] > 0:
        cnt[1] -= 1
        v = st[_STACK, cnt[1]]
        st[_QUEUED, v] = 0
        if not st[_IN, v]:
            if st[_TIGHT, v] == 0:
                _mis_add(indptr, nbr, w, st, tw, cnt, value, v)
            elif w[v] > tw[v] + _EPS * max(1.0, w[v]):
                locked = False
                for i in range(indptr[v], indptr[v + 1]):
                    if st[_IN, nbr[i]] and st[_LOCK, nbr[i]]:
                        locked = True
                if not locked:
                    for i in range(indptr[v], indptr[v + 1]):
                        if st[_IN, nbr[i]]:
                            _mis_drop(indptr, nbr, w, st, tw, cnt, value, nbr[i])
                    _mis_add(indptr, nbr, w, st, tw, cnt, value, v)
        elif not st[_LOCK, v]:
            _mis_two_swap(indptr, nbr, w, st, tw, cnt, value, mark, v)


@njit(cache=True)
def _mis_forget(st: np.ndarray, cnt: np.ndarray) -> None:
    """Start a new round: clear the touched list."""
    for k in range(cnt[0]):
        st[_TOUCHED, st[_TLIST, k]] = 0
    cnt[0] = 0


@njit(cache=True)
def _mis_start(indptr, nbr, w, st, tw, cnt, value, mark, chosen) -> None:
    """Load the 0/1 mask ``chosen`` and descend from it with every node queued."""
    n = w.shape[0]
    for v in range(n):
        if chosen[v]:
            _mis_add(indptr, nbr, w, st, tw, cnt, value, v)
    for v in range(n):
        _push(st, cnt, v)
    _mis_descent(indptr, nbr, w, st, tw, cnt, value, mark)
    _mis_forget(st, cnt)


@njit(cache=True)
def _mis_ils(indptr, nbr, w, st, tw, cnt, value, mark, best, scale, state, iterations) -> float:
    """``iterations`` rounds of kick, descent and acceptance; returns the best weight.

    ``value = [current weight, best weight]``; ``best`` is the best 0/1 mask.
    """
    n = w.shape[0]
    for _ in range(iterations):
        before = value[0]
        v = rand_below(state, n)
        tries = 0
        while st[_IN, v] and tries < 32:
            v = rand_below(state, n)
            tries += 1
        while st[_IN, v]:
            v = (v + 1) % n
        for i in range(indptr[v], indptr[v + 1]):
            if st[_IN, nbr[i]]:
                _mis_drop(indptr, nbr, w, st, tw, cnt, value, nbr[i])
        _mis_add(indptr, nbr, w, st, tw, cnt, value, v)
        st[_LOCK, v] = 1
        _mis_descent(indptr, nbr, w, st, tw, cnt, value, mark)
        st[_LOCK, v] = 0
        if value[0] > value[1] + _EPS * max(1.0, value[1]):
            value[1] = value[0]
            for u in range(n):
                best[u] = st[_IN, u]
        elif value[0] < before - _EPS * max(1.0, before):
            loss = (before - value[0]) / scale
            behind = (value[1] - value[0]) / scale
            if rand_float(state) >= 1.0 / (1.0 + loss * behind):
                for k in range(cnt[0]):
                    u = st[_TLIST, k]
                    if st[_IN, u] and not st[_WAS, u]:
                        _mis_drop(indptr, nbr, w, st, tw, cnt, value, u)
                for k in range(cnt[0]):
                    u = st[_TLIST, k]
                    if st[_WAS, u] and not st[_IN, u]:
                        _mis_add(indptr, nbr, w, st, tw, cnt, value, u)
                value[0] = before
                for k in range(cnt[1]):
                    st[_QUEUED, st[_STACK, k]] = 0
                cnt[1] = 0
        _mis_forget(st, cnt)
    return value[1]


def mis_greedy(instance: MIS, *, tracker: Tracker, seed: int = 0) -> np.ndarray:
    """The GWMIN greedy: largest ``w(v) / (deg(v) + 1)`` first in the remaining graph.

    With unit weights this is the minimum-degree greedy. The set is maximal and weighs at
    least ``sum_v w(v) / (deg(v) + 1)``.

    Parameters
    ----------
    instance : MIS
        The instance.
    tracker : Tracker
        Receives the weight.
    seed : int
        Unused (ties go to the lowest node index).

    Returns
    -------
    numpy.ndarray
        Chosen node indices, sorted.

    References
    ----------
    S. Sakai, M. Togasaki and K. Yamazaki, "A note on greedy algorithms for the maximum
    weighted independent set problem", Discrete Applied Mathematics 126 (2003), 313-322.
    """
    chosen = _mis_greedy(*_mis_graph(instance)) if instance.num_nodes else np.zeros(0)
    selection = np.flatnonzero(chosen).astype(np.int64)
    tracker.record(instance.weight(selection))
    return selection


def mis_ls(
    instance: MIS, *, tracker: Tracker, seed: int = 0, iterations: int | None = None
) -> np.ndarray:
    """Iterated local search with (1,2)-swaps after Andrade, Resende and Werneck (ARW).

    Starts from :func:`mis_greedy` and descends with three moves: insert a free node; the
    weighted (omega,1)-swap of Nogueira, Pinheiro and Subramanian (insert a node heavier
    than its solution neighbours together, which leave); and ARW's (1,2)-swap (replace a
    solution node by two non-adjacent neighbours whose only solution neighbour it is, when
    they weigh more). The incremental bookkeeping follows ARW: each node knows how many
    solution neighbours it has, and only nodes near a change are examined again.

    Each round of the iterated search forces one uniformly drawn non-solution node in
    (its solution neighbours leave) and descends again without removing it, as in ARW's
    perturbation. A result at least as heavy as the current solution replaces it; a lighter
    one with probability ``1 / (1 + d * d_best)``, where ``d`` and ``d_best`` are its losses
    against the current and the best solution in units of the mean node weight; otherwise
    the round is undone. With unit weights the (omega,1)-swap never applies and the search
    is ARW's unweighted one.

    Parameters
    ----------
    instance : MIS
        The instance, weighted or not.
    tracker : Tracker
        Clock, deadline and trajectory.
    seed : int
        Seed of the kicks and the acceptance.
    iterations : int, optional
        Rounds to run; by default 10,000 without a time limit, unbounded with one.

    Returns
    -------
    numpy.ndarray
        The heaviest independent set found, node indices sorted.

    References
    ----------
    D. V. Andrade, M. G. C. Resende and R. F. Werneck, "Fast local search for the maximum
    independent set problem", Journal of Heuristics 18 (2012), 525-547.
    B. Nogueira, R. G. S. Pinheiro and A. Subramanian, "A hybrid iterated local search
    heuristic for the maximum weight independent set problem", Optimization Letters 12
    (2018), 567-583.
    """
    rounds = _iterations(iterations, tracker, DEFAULT_ITERATIONS["mis"])
    n = instance.num_nodes
    if n == 0:
        return mis_greedy(instance, tracker=tracker)
    indptr, nbr, w = _mis_graph(instance)
    chosen = _mis_greedy(indptr, nbr, w)
    tracker.record(instance.weight(np.flatnonzero(chosen)))
    st = np.zeros((8, n), dtype=np.int64)
    tw = np.zeros(n)
    cnt = np.zeros(3, dtype=np.int64)
    value = np.zeros(2)
    mark = np.zeros(n, dtype=np.int64)
    _mis_start(indptr, nbr, w, st, tw, cnt, value, mark, chosen)
    best = st[_IN].astype(np.uint8)
    value[1] = value[0]
    tracker.record(instance.weight(np.flatnonzero(best)))
    if cnt[2] < n:
        positive = w[w > 0]
        scale = float(positive.mean()) if positive.size else 1.0
        state = new_state(seed)

        def step(k: int) -> float:
            _mis_ils(indptr, nbr, w, st, tw, cnt, value, mark, best, scale, state, k)
            return instance.weight(np.flatnonzero(best))

        _run(step, rounds, tracker)
    return np.flatnonzero(best).astype(np.int64)


# ------------------------------------------------------------------ total tardiness


def _smtt_arrays(instance: SMTT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.ascontiguousarray(instance.processing_times, dtype=np.int64),
        np.ascontiguousarray(instance.due_dates, dtype=np.int64),
        np.ascontiguousarray(instance.weights, dtype=np.float64),
    )


@njit(cache=True)
def _smtt_mdd(p: np.ndarray, d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted modified due date: at time ``t`` run next the job of smallest
    ``max(p_j, d_j - t) / w_j`` (ties: earlier due date, then lower index)."""
    n = p.shape[0]
    done = np.zeros(n, dtype=np.bool_)
    seq = np.empty(n, dtype=np.int64)
    t = 0
    for k in range(n):
        pick = -1
        key = np.inf
        for j in range(n):
            if done[j]:
                continue
            kj = max(p[j], d[j] - t) / w[j]
            if kj < key or (kj == key and d[j] < d[pick]):
                pick = j
                key = kj
        seq[k] = pick
        done[pick] = True
        t += p[pick]
    return seq


@njit(cache=True)
def _pair_cost(i: int, j: int, t: int, p, d, w) -> float:
    """Weighted tardiness of job ``i`` then job ``j``, started at time ``t``."""
    return w[i] * max(0, t + p[i] - d[i]) + w[j] * max(0, t + p[i] + p[j] - d[j])


@njit(cache=True)
def _smtt_pairs(seq: np.ndarray, p, d, w) -> None:
    """Walk the sequence; swap an adjacent pair whenever that lowers its cost at its actual
    start time, and step back one place after a swap; ends when no pair gains."""
    n = seq.shape[0]
    k = 0
    t = 0  # start time of position k
    while k < n - 1:
        i, j = seq[k], seq[k + 1]
        if _pair_cost(j, i, t, p, d, w) < _pair_cost(i, j, t, p, d, w) - _EPS:
            seq[k], seq[k + 1] = j, i
            if k > 0:
                k -= 1
                t -= p[seq[k]]
        else:
            t += p[i]
            k += 1


@njit(cache=True)
def _smtt_prefix(seq, p, d, w, start, prefix) -> None:
    """``start[k]``: start time of position ``k``; ``prefix[k]``: cost of positions ``< k``."""
    t = 0
    c = 0.0
    for k in range(seq.shape[0]):
        start[k] = t
        prefix[k] = c
        j = seq[k]
        t += p[j]
        c += w[j] * max(0, t - d[j])
    prefix[seq.shape[0]] = c


@njit(cache=True)
def _smtt_segment(seq, lo, hi, move, t, p, d, w) -> float:
    """Cost of positions ``lo..hi`` after a move, starting at time ``t``.

    ``move`` 0 swaps the jobs at ``lo`` and ``hi``; 1 moves the job at ``lo`` to ``hi``
    (the others shift left); 2 moves the job at ``hi`` to ``lo`` (the others shift right).
    """
    c = 0.0
    for k in range(lo, hi + 1):
        if move == 0:
            j = seq[hi] if k == lo else (seq[lo] if k == hi else seq[k])
        elif move == 1:
            j = seq[lo] if k == hi else seq[k + 1]
        else:
            j = seq[hi] if k == lo else seq[k - 1]
        t += p[j]
        c += w[j] * max(0, t - d[j])
    return c


@njit(cache=True)
def _smtt_apply(seq, lo, hi, move) -> None:
    if move == 0:
        seq[lo], seq[hi] = seq[hi], seq[lo]
    elif move == 1:
        job = seq[lo]
        seq[lo:hi] = seq[lo + 1 : hi + 1].copy()
        seq[hi] = job
    else:
        job = seq[hi]
        seq[lo + 1 : hi + 1] = seq[lo:hi].copy()
        seq[lo] = job


@njit(cache=True)
def _smtt_descent(seq, p, d, w, start, prefix) -> float:
    """First-improvement descent over pairwise interchanges and insertions (forward and
    backward) of every pair of positions; returns the cost of the local optimum."""
    n = seq.shape[0]
    _smtt_prefix(seq, p, d, w, start, prefix)
    improved = True
    while improved:
        improved = False
        for lo in range(n - 1):
            for hi in range(lo + 1, n):
                old = prefix[hi + 1] - prefix[lo]
                for move in range(3):
                    if move > 0 and hi == lo + 1:
                        break  # an insertion between neighbours is the swap
                    new = _smtt_segment(seq, lo, hi, move, start[lo], p, d, w)
                    if new < old - _EPS * max(1.0, old):
                        _smtt_apply(seq, lo, hi, move)
                        _smtt_prefix(seq, p, d, w, start, prefix)
                        old = prefix[hi + 1] - prefix[lo]
                        improved = True
    return prefix[n]


@njit(cache=True)
def _smtt_ils(current, best, cost, p, d, w, state, iterations) -> float:
    """``iterations`` rounds: two to four random interchanges of the current sequence, a
    descent, and acceptance when not worse. ``cost = [current, best]``; returns the best."""
    n = current.shape[0]
    work = np.empty_like(current)
    start = np.empty(n, dtype=np.int64)
    prefix = np.empty(n + 1)
    for _ in range(iterations):
        work[:] = current
        for _kick in range(2 + rand_below(state, 3)):
            a = rand_below(state, n)
            b = rand_below(state, n)
            work[a], work[b] = work[b], work[a]
        value = _smtt_descent(work, p, d, w, start, prefix)
        if value <= cost[0] + _EPS * max(1.0, cost[0]):
            current[:] = work
            cost[0] = value
            if value < cost[1] - _EPS * max(1.0, cost[1]):
                best[:] = work
                cost[1] = value
        if cost[1] == 0.0:
            break
    return cost[1]


def smtt_edd(instance: SMTT, *, tracker: Tracker, seed: int = 0) -> np.ndarray:
    """Earliest due date first (ties: shorter job, then lower index).

    Optimal when at most one job is late, and for the maximum lateness (Jackson 1955);
    weights are ignored.

    Parameters
    ----------
    instance : SMTT
        The instance.
    tracker : Tracker
        Receives the total weighted tardiness.
    seed : int
        Unused.

    Returns
    -------
    numpy.ndarray
        The job sequence.

    References
    ----------
    J. R. Jackson, "Scheduling a production line to minimize maximum tardiness", Research
    Report 43, Management Science Research Project, UCLA (1955).
    """
    p, d, _ = _smtt_arrays(instance)
    seq = np.lexsort((np.arange(p.size), p, d)).astype(np.int64)
    tracker.record(instance.tardiness(seq))
    return seq


def smtt_mdd(instance: SMTT, *, tracker: Tracker, seed: int = 0) -> np.ndarray:
    """Modified due date rule: next the job of smallest ``max(t + p_j, d_j)`` at time ``t``.

    For weights, the weighted form ``max(p_j, d_j - t) / w_j`` of Kanet and Li, which
    orders jobs as the modified due date does when all weights are equal.

    Parameters
    ----------
    instance : SMTT
        The instance.
    tracker : Tracker
        Receives the total weighted tardiness.
    seed : int
        Unused.

    Returns
    -------
    numpy.ndarray
        The job sequence.

    References
    ----------
    K. R. Baker and J. W. M. Bertrand, "A dynamic priority rule for scheduling against
    due-dates", Journal of Operations Management 3 (1982), 37-42.
    J. J. Kanet and X. Li, "A weighted modified due date rule for sequencing to minimize
    weighted tardiness", Journal of Scheduling 7 (2004), 261-276.
    """
    seq = _smtt_mdd(*_smtt_arrays(instance))
    tracker.record(instance.tardiness(seq))
    return seq


def smtt_wi(instance: SMTT, *, tracker: Tracker, seed: int = 0) -> np.ndarray:
    """Wilkerson-Irwin-style adjacent pair rule, from the EDD sequence.

    Walking along the sequence, two adjacent jobs are swapped when that lowers their
    weighted tardiness at the time they actually start (for unit weights, Wilkerson and
    Irwin's pairwise condition); after a swap the walk steps back one position, as their
    procedure backtracks, so at the end no adjacent swap gains. Every swap lowers the
    total, so the walk ends.

    Parameters
    ----------
    instance : SMTT
        The instance.
    tracker : Tracker
        Receives the total weighted tardiness.
    seed : int
        Unused.

    Returns
    -------
    numpy.ndarray
        The job sequence.

    References
    ----------
    L. J. Wilkerson and J. D. Irwin, "An improved method for scheduling independent
    tasks", AIIE Transactions 3 (1971), 239-245.
    """
    p, d, w = _smtt_arrays(instance)
    seq = np.lexsort((np.arange(p.size), p, d)).astype(np.int64)
    _smtt_pairs(seq, p, d, w)
    tracker.record(instance.tardiness(seq))
    return seq


def smtt_ls(
    instance: SMTT, *, tracker: Tracker, seed: int = 0, iterations: int | None = None
) -> np.ndarray:
    """Iterated local search over interchanges and insertions.

    Starts from the best of EDD, MDD and the adjacent pair rule; descends by first
    improvement over every pairwise interchange and every insertion (a job moved forward
    or backward to another position), evaluating a move on the positions it changes only.
    Each round kicks the current sequence with two to four random interchanges, descends,
    and keeps the result when it is not worse (the interchange kicks of iterated
    dynasearch). Stops early at zero tardiness.

    Parameters
    ----------
    instance : SMTT
        The instance.
    tracker : Tracker
        Clock, deadline and trajectory.
    seed : int
        Seed of the kicks.
    iterations : int, optional
        Rounds to run; by default 1000 without a time limit, unbounded with one.

    Returns
    -------
    numpy.ndarray
        The best job sequence found.

    References
    ----------
    H. A. J. Crauwels, C. N. Potts and L. N. Van Wassenhove, "Local search heuristics for
    the single machine total weighted tardiness scheduling problem", INFORMS Journal on
    Computing 10 (1998), 341-350.
    R. K. Congram, C. N. Potts and S. L. van de Velde, "An iterated dynasearch algorithm
    for the single-machine total weighted tardiness scheduling problem", INFORMS Journal
    on Computing 14 (2002), 52-67.
    """
    rounds = _iterations(iterations, tracker, DEFAULT_ITERATIONS["smtt"])
    starts = [method(instance, tracker=tracker) for method in (smtt_edd, smtt_mdd, smtt_wi)]
    current = min(starts, key=instance.tardiness).copy()
    p, d, w = _smtt_arrays(instance)
    n = p.size
    value = _smtt_descent(current, p, d, w, np.empty(n, dtype=np.int64), np.empty(n + 1))
    tracker.record(instance.tardiness(current))
    best = current.copy()
    cost = np.array([value, value])
    if n > 1 and value > 0.0:
        state = new_state(seed)

        def step(k: int) -> float:
            _smtt_ils(current, best, cost, p, d, w, state, k)
            return instance.tardiness(best)

        _run(step, rounds, tracker, lambda: cost[1] == 0.0)
    return best


# ------------------------------------------------------------------ orienteering


def _op_arrays(instance: OP) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(distances, prizes, candidates)``: candidates have a prize and fit on their own."""
    dist = np.ascontiguousarray(instance.distance_matrix(), dtype=np.float64)
    prizes = np.ascontiguousarray(instance.prizes, dtype=np.float64)
    fits = dist[0] + dist[:, 0] <= instance.max_length
    candidates = np.flatnonzero((prizes > 0) & fits)
    return dist, prizes, candidates[candidates > 0].astype(np.int64)


def _op_greedy(instance: OP, dist, prizes, candidates) -> tuple[np.ndarray, np.ndarray, int]:
    """``(tour, visited, size)`` of the greedy insertion from the empty tour."""
    tour = np.zeros(instance.num_nodes, dtype=np.int64)
    visited = np.zeros(instance.num_nodes, dtype=np.int64)
    limit = instance.max_length
    size = opk.greedy_insertion(tour, 0, visited, candidates, dist, prizes, limit)
    return tour, visited, size


def op_greedy(instance: OP, *, tracker: Tracker, seed: int = 0) -> np.ndarray:
    """Greedy insertion by prize per added length.

    From the empty tour, repeatedly insert, at its cheapest place, the unvisited node with
    the largest ratio of prize to added length among those that keep the tour within the
    length limit (the ratio rule of Tsiligirides's deterministic heuristic, with cheapest
    insertion instead of appending).

    Parameters
    ----------
    instance : OP
        The instance.
    tracker : Tracker
        Receives the collected prize.
    seed : int
        Unused (ties go to the lowest node index).

    Returns
    -------
    numpy.ndarray
        The tour: visited nodes in order, without the depot.

    References
    ----------
    T. Tsiligirides, "Heuristic methods applied to orienteering", Journal of the
    Operational Research Society 35 (1984), 797-809.
    """
    tour, _, size = _op_greedy(instance, *_op_arrays(instance))
    tracker.record(instance.tour_prize(tour[:size]))
    return tour[:size].copy()


def op_ils(
    instance: OP, *, tracker: Tracker, seed: int = 0, iterations: int | None = None
) -> np.ndarray:
    """Greedy insertion, then an iterated local search.

    The local search repeats, until none applies: 2-opt to shorten the tour; greedy
    insertion of unvisited nodes that fit; drop/add exchanges (one visited node out, one
    unvisited node in at its cheapest place) that raise the prize, or keep it and shorten
    the tour. Each round of the iterated search shakes the current tour by removing a run
    of consecutive visits from a random position, whose length starts at one, grows by one
    after every round without a new best and returns to one after a new best or past the
    tour size (the shake step of Vansteenwegen et al.). The local search repairs the tour
    first without the removed nodes, then with them, and the result replaces the current
    tour when its prize is not smaller. Stops early once every node that fits is on the
    tour.

    Parameters
    ----------
    instance : OP
        The instance.
    tracker : Tracker
        Clock, deadline and trajectory.
    seed : int
        Seed of the shakes.
    iterations : int, optional
        Rounds to run; by default 1000 without a time limit, unbounded with one.

    Returns
    -------
    numpy.ndarray
        The best tour found, without the depot.

    References
    ----------
    T. Tsiligirides, "Heuristic methods applied to orienteering", Journal of the
    Operational Research Society 35 (1984), 797-809.
    P. Vansteenwegen, W. Souffriau, G. Vanden Berghe and D. Van Oudheusden, "Iterated
    local search for the team orienteering problem with time windows", Computers &
    Operations Research 36 (2009), 3281-3290.
    """
    rounds = _iterations(iterations, tracker, DEFAULT_ITERATIONS["op"])
    dist, prizes, candidates = _op_arrays(instance)
    current, visited, size = _op_greedy(instance, dist, prizes, candidates)
    tracker.record(instance.tour_prize(current[:size]))
    limit = instance.max_length
    size = opk.local_search(current, size, visited, candidates, dist, prizes, limit)
    tracker.record(instance.tour_prize(current[:size]))
    best = current.copy()
    ints = np.array([size, size, 1], dtype=np.int64)
    if 0 < size < candidates.size:
        state = new_state(seed)

        def step(k: int) -> float:
            opk.ils_iterations(current, best, ints, candidates, dist, prizes, limit, state, k)
            return instance.tour_prize(best[: ints[1]])

        _run(step, rounds, tracker, lambda: ints[1] == candidates.size)
    return best[: ints[1]].copy()


def op_improve(instance: OP, tour: np.ndarray, *, tracker: Tracker, seed: int = 0) -> np.ndarray:
    """The local search of :func:`op_ils` from a given tour.

    Rounds of 2-opt, greedy insertion of unvisited nodes that fit and drop/add exchanges
    (:func:`hybridsolve.comb.op.local_search_round`) until a round changes nothing or the
    tracker's deadline passes (checked between rounds).

    Parameters
    ----------
    instance : OP
        The instance.
    tour : numpy.ndarray
        The starting tour without the depot (already checked).
    tracker : Tracker
        Clock and deadline.
    seed : int
        Unused (the search is deterministic).

    Returns
    -------
    numpy.ndarray
        The improved tour, without the depot.
    """
    dist, prizes, candidates = _op_arrays(instance)
    work = np.zeros(instance.num_nodes, dtype=np.int64)
    work[: tour.size] = tour
    visited = np.zeros(instance.num_nodes, dtype=np.int64)
    visited[tour] = 1
    size = tour.size
    while not tracker.expired():
        size, changed = opk.local_search_round(
            work, size, visited, candidates, dist, prizes, instance.max_length
        )
        if not changed:
            break
    return work[:size].copy()


#: Methods by instance type, each ``method(instance, *, tracker, seed=0, **options)``.
METHODS: dict[type, dict[str, Callable[..., np.ndarray]]] = {
    KP: {"greedy": kp_greedy, "dp": kp_dp},
    MIS: {"greedy": mis_greedy, "ls": mis_ls},
    SMTT: {"edd": smtt_edd, "mdd": smtt_mdd, "wi": smtt_wi, "ls": smtt_ls},
    OP: {"greedy": op_greedy, "ils": op_ils},
}
