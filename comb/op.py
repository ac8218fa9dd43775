"""Orienteering problem (OP) heuristics: greedy insertion, local search and iterated local search.

The methods are :func:`op_greedy`, :func:`op_ils` and, from a given tour (for
:func:`hybridsolve.comb.improve`), :func:`op_improve`; they run on the Numba kernels below.

A tour is held as an ``int64`` array ``tour`` whose first ``size`` entries list the visited
nodes in order; the depot (node 0) closes the walk at both ends and is never stored. Nodes
in ``candidates`` (positive prize, reachable from the depot and back within the limit) are
the only ones ever inserted; ``visited[v]`` is 1 for the stored nodes, 2 for nodes blocked
from insertion for the moment, and 0 otherwise. Costs come from a full distance matrix
(:meth:`hybridsolve.comb.OP.distance_matrix`); the instance type :class:`~hybridsolve.comb.OP`
lives in :mod:`hybridsolve.comb.routing` with the other routing problems.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from ._random import new_state, rand_below
from ._search import Tracker, iteration_budget, run_chunks
from .routing import OP

__all__ = [
    "DEFAULT_ITERATIONS",
    "greedy_insertion",
    "ils_iterations",
    "local_search",
    "local_search_round",
    "op_greedy",
    "op_improve",
    "op_ils",
    "tour_length",
    "tour_prize",
]

#: Smallest length change counted as an improvement.
_LENGTH_EPS = 1e-9
#: Smallest prize change counted as an improvement.
_PRIZE_EPS = 1e-12


@njit(cache=True, nogil=True)
def tour_length(tour: np.ndarray, size: int, dist: np.ndarray) -> float:
    """Length of the closed walk ``0, tour[:size], 0``."""
    prev = 0
    total = 0.0
    for k in range(size):
        total += dist[prev, tour[k]]
        prev = tour[k]
    return total + dist[prev, 0]


@njit(cache=True, nogil=True)
def tour_prize(tour: np.ndarray, size: int, prizes: np.ndarray) -> float:
    """Total prize of ``tour[:size]``."""
    total = 0.0
    for k in range(size):
        total += prizes[tour[k]]
    return total


@njit(cache=True, nogil=True)
def _two_opt(tour: np.ndarray, size: int, dist: np.ndarray) -> float:
    """First-improvement 2-opt on the closed walk; returns its new length.

    Walk position ``k`` holds the depot for ``k = 0`` and ``k = size + 1`` and
    ``tour[k - 1]`` otherwise; a move replaces the edges leaving positions ``i`` and ``j``
    by reversing ``tour[i:j]``.
    """
    improved = True
    while improved:
        improved = False
        for i in range(size - 1):
            a = 0 if i == 0 else tour[i - 1]
            b = tour[i]
            for j in range(i + 2, size + 1):
                c = tour[j - 1]
                e = 0 if j == size else tour[j]
                delta = dist[a, c] + dist[b, e] - dist[a, b] - dist[c, e]
                if delta < -_LENGTH_EPS:
                    tour[i:j] = tour[i:j][::-1].copy()
                    b = tour[i]
                    improved = True
    return tour_length(tour, size, dist)


@njit(cache=True, nogil=True)
def _insert_at(tour: np.ndarray, size: int, index: int, node: int) -> None:
    """Insert ``node`` before ``tour[index]`` (``index == size`` appends)."""
    for k in range(size, index, -1):
        tour[k] = tour[k - 1]
    tour[index] = node


@njit(cache=True, nogil=True)
def _remove_at(tour: np.ndarray, size: int, index: int) -> None:
    """Remove ``tour[index]``, shifting the rest left."""
    for k in range(index, size - 1):
        tour[k] = tour[k + 1]


@njit(cache=True, nogil=True)
def _cheapest_insertion(node: int, tour: np.ndarray, size: int, dist: np.ndarray):
    """Cheapest place for ``node`` in the walk: ``(added length, index)``, to insert it
    before ``tour[index]``."""
    best = np.inf
    at = 0
    prev = 0
    for k in range(size + 1):
        nxt = 0 if k == size else tour[k]
        delta = dist[prev, node] + dist[node, nxt] - dist[prev, nxt]
        if delta < best:
            best = delta
            at = k
        prev = nxt
    return best, at


@njit(cache=True, nogil=True)
def _three_cheapest(
    node: int, tour: np.ndarray, size: int, dist: np.ndarray, deltas: np.ndarray,
    places: np.ndarray,
) -> None:  # fmt: skip
    """The three cheapest places for ``node`` in increasing added length, as in
    :func:`_cheapest_insertion`; unused slots get place ``-1``."""
    deltas[:] = np.inf
    places[:] = -1
    prev = 0
    for k in range(size + 1):
        nxt = 0 if k == size else tour[k]
        delta = dist[prev, node] + dist[node, nxt] - dist[prev, nxt]
        if delta < deltas[2]:
            j = 2
            while j > 0 and delta < deltas[j - 1]:
                deltas[j] = deltas[j - 1]
                places[j] = places[j - 1]
                j -= 1
            deltas[j] = delta
            places[j] = k
        prev = nxt


@njit(cache=True, nogil=True)
def greedy_insertion(
    tour: np.ndarray,
    size: int,
    visited: np.ndarray,
    candidates: np.ndarray,
    dist: np.ndarray,
    prizes: np.ndarray,
    limit: float,
) -> int:
    """Insert unvisited candidates by largest prize per added length while they fit.

    Each step takes, over every unvisited candidate, its cheapest insertion and keeps the
    one with the largest ratio of prize to added length (a zero added length counts as an
    infinite ratio; ties go to the lowest node index) among those that keep the walk within
    ``limit``. Returns the new size.
    """
    length = tour_length(tour, size, dist)
    while True:
        best_key = -1.0
        best_node = -1
        best_at = 0
        for node in candidates:
            if visited[node]:
                continue
            delta, at = _cheapest_insertion(node, tour, size, dist)
            if length + delta > limit:
                continue
            key = prizes[node] / delta if delta > 0.0 else np.inf
            if key > best_key:
                best_key = key
                best_node = node
                best_at = at
        if best_node < 0:
            return size
        _insert_at(tour, size, best_at, best_node)
        visited[best_node] = 1
        size += 1
        length = tour_length(tour, size, dist)


@njit(cache=True, nogil=True)
def _replace_once(
    tour: np.ndarray,
    size: int,
    visited: np.ndarray,
    candidates: np.ndarray,
    dist: np.ndarray,
    prizes: np.ndarray,
    limit: float,
) -> bool:
    """Apply the first improving drop/add exchange; return whether one was found.

    Dropping ``tour[i]`` and inserting an unvisited candidate at its cheapest place in the
    remaining walk improves when the walk still fits and the prize grows, or stays equal
    while the walk gets shorter (freeing length for later insertions). Each candidate's
    three cheapest places in the whole walk are computed once: at least one of them avoids
    the two edges at the dropped node, so with the edge that closes the gap it gives the
    cheapest place in the shorter walk, and a pass costs ``O(n L)`` for ``L`` visits.
    """
    length = tour_length(tour, size, dist)
    m = candidates.shape[0]
    deltas = np.empty((m, 3))
    places = np.empty((m, 3), dtype=np.int64)
    for c in range(m):
        if not visited[candidates[c]]:
            _three_cheapest(candidates[c], tour, size, dist, deltas[c], places[c])
    for i in range(size):
        r = tour[i]
        a = 0 if i == 0 else tour[i - 1]
        b = 0 if i == size - 1 else tour[i + 1]
        base = length - (dist[a, r] + dist[r, b] - dist[a, b])
        for c in range(m):
            node = candidates[c]
            if visited[node]:
                continue
            gain = prizes[node] - prizes[r]
            if gain < -_PRIZE_EPS:
                continue
            delta = dist[a, node] + dist[node, b] - dist[a, b]
            at = i  # index in the walk without tour[i]
            for t in range(3):
                k = places[c, t]
                if k < 0:
                    break
                if k != i and k != i + 1:
                    if deltas[c, t] < delta:
                        delta = deltas[c, t]
                        at = k if k < i else k - 1
                    break
            new_length = base + delta
            if new_length > limit:
                continue
            if gain > _PRIZE_EPS or new_length < length - _LENGTH_EPS:
                _remove_at(tour, size, i)
                visited[r] = 0
                _insert_at(tour, size - 1, at, node)
                visited[node] = 1
                return True
    return False


@njit(cache=True, nogil=True)
def local_search(
    tour: np.ndarray,
    size: int,
    visited: np.ndarray,
    candidates: np.ndarray,
    dist: np.ndarray,
    prizes: np.ndarray,
    limit: float,
) -> int:
    """Rounds of :func:`local_search_round` until one changes nothing.

    Every round shortens the walk, adds prize, or keeps the prize and shortens the walk,
    so the loop ends. Returns the new size.
    """
    while True:
        size, changed = local_search_round(tour, size, visited, candidates, dist, prizes, limit)
        if not changed:
            return size


@njit(cache=True, nogil=True)
def local_search_round(
    tour: np.ndarray,
    size: int,
    visited: np.ndarray,
    candidates: np.ndarray,
    dist: np.ndarray,
    prizes: np.ndarray,
    limit: float,
) -> tuple[int, bool]:
    """2-opt, then greedy insertion, then (when nothing was inserted) one drop/add exchange.

    Returns the new size and whether a node was inserted or exchanged; a round that
    returns ``False`` leaves a local optimum of all three moves.
    """
    _two_opt(tour, size, dist)
    grown = greedy_insertion(tour, size, visited, candidates, dist, prizes, limit)
    if grown > size:
        return grown, True
    return size, _replace_once(tour, size, visited, candidates, dist, prizes, limit)


@njit(cache=True, nogil=True)
def _shake(tour: np.ndarray, size: int, visited: np.ndarray, count: int, state) -> int:
    """Drop ``count`` consecutive visits from a random start (wrapping past the depot).

    The dropped nodes are marked ``visited = 2``: blocked, so the repair that follows
    cannot simply put them back. Returns the new size.
    """
    start = rand_below(state, size)
    for k in range(count):
        visited[tour[(start + k) % size]] = 2
    kept = 0
    for k in range(size):
        if visited[tour[k]] == 1:
            tour[kept] = tour[k]
            kept += 1
    return kept


@njit(cache=True, nogil=True)
def ils_iterations(
    current: np.ndarray,
    best: np.ndarray,
    ints: np.ndarray,
    candidates: np.ndarray,
    dist: np.ndarray,
    prizes: np.ndarray,
    limit: float,
    state: np.ndarray,
    iterations: int,
) -> float:
    """Run ``iterations`` shake + repair rounds of the iterated local search.

    ``current`` and ``best`` hold tours and ``ints = [current size, best size, shake
    strength]``; all three are updated in place. A round drops ``strength`` consecutive
    visits of a copy of the current tour (:func:`_shake`), repairs it with
    :func:`local_search` while the dropped nodes stay blocked, then once more with them
    allowed. The result becomes current when its prize is not smaller, and best when its
    prize is larger (or equal with a shorter walk). The strength goes back to 1 after a
    new best and otherwise grows by one per round, wrapping to 1 past the tour size.
    Returns the best prize.
    """
    n = dist.shape[0]
    work = np.empty_like(current)
    visited = np.zeros(n, dtype=np.int64)
    best_prize = tour_prize(best, ints[1], prizes)
    best_length = tour_length(best, ints[1], dist)
    current_prize = tour_prize(current, ints[0], prizes)
    for _ in range(iterations):
        size = ints[0]
        if size == 0:
            break
        work[:] = current
        visited[:] = 0
        for k in range(size):
            visited[work[k]] = 1
        strength = min(ints[2], size)
        size = _shake(work, size, visited, strength, state)
        size = local_search(work, size, visited, candidates, dist, prizes, limit)
        for v in candidates:
            if visited[v] == 2:
                visited[v] = 0
        size = local_search(work, size, visited, candidates, dist, prizes, limit)
        prize = tour_prize(work, size, prizes)
        if prize >= current_prize - _PRIZE_EPS:
            current[:] = work
            ints[0] = size
            current_prize = prize
        length = tour_length(work, size, dist)
        if prize > best_prize + _PRIZE_EPS or (
            prize >= best_prize - _PRIZE_EPS and length < best_length - _LENGTH_EPS
        ):
            best[:] = work
            ints[1] = size
            best_prize = prize
            best_length = length
            ints[2] = 1
        else:
            ints[2] = 1 if strength >= size else strength + 1
    return best_prize


# ------------------------------------------------------------------ methods

#: Rounds of :func:`op_ils` without a time limit and without ``iterations``.
DEFAULT_ITERATIONS = 1000


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
    size = greedy_insertion(tour, 0, visited, candidates, dist, prizes, limit)
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
    rounds = iteration_budget(iterations, tracker, DEFAULT_ITERATIONS)
    dist, prizes, candidates = _op_arrays(instance)
    current, visited, size = _op_greedy(instance, dist, prizes, candidates)
    tracker.record(instance.tour_prize(current[:size]))
    limit = instance.max_length
    size = local_search(current, size, visited, candidates, dist, prizes, limit)
    tracker.record(instance.tour_prize(current[:size]))
    best = current.copy()
    ints = np.array([size, size, 1], dtype=np.int64)
    if 0 < size < candidates.size:
        state = new_state(seed)

        def step(k: int) -> float:
            ils_iterations(current, best, ints, candidates, dist, prizes, limit, state, k)
            return instance.tour_prize(best[: ints[1]])

        run_chunks(step, rounds, tracker, lambda: ints[1] == candidates.size)
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
        size, changed = local_search_round(
            work, size, visited, candidates, dist, prizes, instance.max_length
        )
        if not changed:
            break
    return work[:size].copy()
