"""TSP and ATSP heuristics: tour construction, local search and iterated local search.

A tour lives in two int64 arrays, ``tour`` (node at each position) and ``pos`` (position of
each node). Every change goes through three in-array primitives, so an undo log of the
writes can restore the tour after a rejected kick:

* reversal of a tour path, of the shorter side (Bentley 1992), for 2-opt;
* exchange of two adjacent blocks of the cycle ``[A][B][C] -> [B][A][C]``, done on the two
  smaller blocks (the three rotations of the result are the same cycle); it implements
  Or-opt segment insertion, the orientation-keeping 3-opt move "or3opt" (segment swap) and
  the double-bridge kick.

Local search (Bentley 1992; Johnson and McGeoch 1997) scans a FIFO queue of active nodes
(don't-look bits) and, for each, the candidate moves that add an edge to one of its ``k``
nearest neighbours, applying the first improving move:

* 2-opt (symmetric only);
* Or-opt: a segment of 1-3 nodes next to the node moves between two neighbouring nodes,
  in either orientation (symmetric) or in its own orientation (asymmetric);
* or3opt ("Or-3opt", segment swap): ``a b..c d..e f -> a d..e b..c f``, the one pure 3-opt
  move that keeps every orientation, so it serves the ATSP too.

:func:`improve` runs this local search from a given tour (for :func:`hybridsolve.comb.improve`).

The iterated local search (Lourenço, Martin and Stützle 2003; Johnson and McGeoch 1997,
"ILS-2.5opt") applies a double-bridge kick (Martin, Otto and Felten 1991) whose three cut
points lie within a short stretch of the tour (segments of at most ``segment`` nodes), so
the local search that follows only touches the six nodes at the cuts and their
surroundings; the kick is kept when the tour got no longer and undone otherwise.

Costs come from :mod:`hybridsolve.comb.neighbours`: coordinates with TSPLIB rounding, or an
explicit matrix. No ``n x n`` matrix is built for coordinate instances.

References
----------
J. L. Bentley, "Fast algorithms for geometric traveling salesman problems", ORSA Journal on
Computing 4 (1992), 387-411.
D. S. Johnson and L. A. McGeoch, "The traveling salesman problem: a case study in local
optimization", in Aarts and Lenstra (eds.), Local Search in Combinatorial Optimization,
Wiley (1997), 215-310.
O. Martin, S. W. Otto and E. W. Felten, "Large-step Markov chains for the traveling
salesman problem", Complex Systems 5 (1991), 299-326.
H. R. Lourenço, O. C. Martin and T. Stützle, "Iterated local search", in Handbook of
Metaheuristics, Kluwer (2003), 321-353.
D. J. Rosenkrantz, R. E. Stearns and P. M. Lewis, "An analysis of several heuristics for
the traveling salesman problem", SIAM Journal on Computing 6 (1977), 563-581.
J. J. Bartholdi and L. K. Platzman, "An O(N log N) planar travelling salesman heuristic
based on spacefilling curves", Operations Research Letters 1 (1982), 121-125.
"""

from __future__ import annotations

import itertools
import time

import numpy as np
from numba import njit

from hybridsolve.mip.errors import ProblemError, UsageError

from ._random import new_state, rand_below
from ._search import Tracker
from .neighbours import MATRIX, dist, metric, nearest, nearest_in, root
from .routing import ATSP, TSP

__all__ = [
    "STARTS",
    "cheapest_insertion",
    "construct",
    "farthest_insertion",
    "greedy",
    "ils",
    "improve",
    "nearest_neighbour",
    "or_3opt",
    "or_opt",
    "space_filling",
    "two_opt",
]

#: Move sets of the local search (bit flags).
TWO_OPT, OR_OPT, OR3OPT = 1, 2, 4

# ------------------------------------------------------------------ tour primitives


@njit(cache=True, nogil=True)
def _put(tour, pos, p, v, logp, logv, logn):
    if logn[0] >= 0:
        if logn[0] < logp.shape[0]:
            logp[logn[0]] = p
            logv[logn[0]] = tour[p]
            logn[0] += 1
        else:
            logn[1] = 1  # overflow: this change cannot be undone
    tour[p] = v
    pos[v] = p


@njit(cache=True, nogil=True)
def _reverse(tour, pos, i, length, logp, logv, logn):
    """Reverse ``length`` entries of the cyclic array starting at position ``i``."""
    n = tour.shape[0]
    j = i + length - 1
    for t in range(length // 2):
        a = (i + t) % n
        b = (j - t) % n
        u = tour[a]
        v = tour[b]
        _put(tour, pos, a, v, logp, logv, logn)
        _put(tour, pos, b, u, logp, logv, logn)


@njit(cache=True, nogil=True)
def _reverse_path(tour, pos, x, y, logp, logv, logn):
    """Reverse the tour path from node ``x`` forward to node ``y`` (or its complement)."""
    n = tour.shape[0]
    i = pos[x]
    length = (pos[y] - i) % n + 1
    if 2 * length > n:
        _reverse(tour, pos, (pos[y] + 1) % n, n - length, logp, logv, logn)
    else:
        _reverse(tour, pos, i, length, logp, logv, logn)


@njit(cache=True, nogil=True)
def _swap_adjacent(tour, pos, i, l1, l2, logp, logv, logn):
    """``[A][B] -> [B][A]`` for blocks of ``l1`` and ``l2`` entries starting at ``i``."""
    n = tour.shape[0]
    _reverse(tour, pos, i % n, l1, logp, logv, logn)
    _reverse(tour, pos, (i + l1) % n, l2, logp, logv, logn)
    _reverse(tour, pos, i % n, l1 + l2, logp, logv, logn)


@njit(cache=True, nogil=True)
def _three_blocks(tour, pos, i, la, lb, lc, logp, logv, logn):
    """The cycle ``[A][B][C]`` (``A`` starting at position ``i``) becomes ``[B][A][C]``.

    Whatever block is largest stays in place: swapping any two adjacent blocks of three
    gives the same cycle.
    """
    if lc >= la and lc >= lb:
        _swap_adjacent(tour, pos, i, la, lb, logp, logv, logn)
    elif la >= lb:
        _swap_adjacent(tour, pos, i + la, lb, lc, logp, logv, logn)
    else:
        _swap_adjacent(tour, pos, i + la + lb, lc, la, logp, logv, logn)


@njit(cache=True, nogil=True)
def _undo(tour, pos, logp, logv, logn):
    for t in range(logn[0] - 1, -1, -1):
        tour[logp[t]] = logv[t]
        pos[logv[t]] = logp[t]
    logn[0] = 0


@njit(cache=True, nogil=True)
def _push(v, queue, qs, inq):
    if not inq[v]:
        n = queue.shape[0]
        queue[(qs[0] + qs[1]) % n] = v
        qs[1] += 1
        inq[v] = True


@njit(cache=True, nogil=True)
def _pop(queue, qs, inq):
    v = queue[qs[0]]
    qs[0] = (qs[0] + 1) % queue.shape[0]
    qs[1] -= 1
    inq[v] = False
    return v


@njit(cache=True, nogil=True)
def _tour_length(tour, xy, mat, kind):
    n = tour.shape[0]
    total = 0.0
    for p in range(n):
        total += dist(tour[p], tour[(p + 1) % n], xy, mat, kind)
    return total


# ------------------------------------------------------------------ local search


@njit(cache=True, nogil=True)
def _try_2opt(a, tour, pos, xy, mat, kind, nb, eps, queue, qs, inq, logp, logv, logn):
    n = tour.shape[0]
    for direction in range(2):
        pa = pos[a]
        b = tour[(pa + 1) % n] if direction == 0 else tour[(pa - 1) % n]
        dab = dist(a, b, xy, mat, kind)
        for kk in range(nb.shape[1]):
            c = nb[a, kk]
            dac = dist(a, c, xy, mat, kind)
            if dac >= dab - eps:
                break
            pc = pos[c]
            d = tour[(pc + 1) % n] if direction == 0 else tour[(pc - 1) % n]
            if d == a or c == b:
                continue
            delta = dac + dist(b, d, xy, mat, kind) - dab - dist(c, d, xy, mat, kind)
            if delta < -eps:
                if direction == 0:
                    _reverse_path(tour, pos, b, c, logp, logv, logn)
                else:
                    _reverse_path(tour, pos, a, d, logp, logv, logn)
                _push(a, queue, qs, inq)
                _push(b, queue, qs, inq)
                _push(c, queue, qs, inq)
                _push(d, queue, qs, inq)
                return delta
    return 0.0


@njit(cache=True, nogil=True)
def _move_segment(tour, pos, s1, s2, length, u, flip, logp, logv, logn):
    """Move the segment ``s1..s2`` (forward, ``length`` nodes) to just after node ``u``."""
    n = tour.shape[0]
    lx = (pos[u] - pos[s2]) % n
    _three_blocks(tour, pos, pos[s1], length, lx, n - length - lx, logp, logv, logn)
    if flip:
        _reverse(tour, pos, pos[s1], length, logp, logv, logn)


@njit(cache=True, nogil=True)
def _try_oropt(
    a, tour, pos, xy, mat, kind, nb, nb_in, sym, eps, queue, qs, inq, logp, logv, logn
):  # fmt: skip
    n = tour.shape[0]
    for length in range(1, 4):
        if n < length + 3:
            break
        for side in range(2 if length > 1 else 1):
            pa = pos[a]
            if side == 0:
                s1 = a
                s2 = tour[(pa + length - 1) % n]
            else:
                s1 = tour[(pa - length + 1) % n]
                s2 = a
            p = tour[(pos[s1] - 1) % n]
            nx = tour[(pos[s2] + 1) % n]
            gain = (
                dist(p, s1, xy, mat, kind) + dist(s2, nx, xy, mat, kind)
                - dist(p, nx, xy, mat, kind)
            )  # fmt: skip
            if gain <= eps:
                continue
            for end_index in range(2):
                end = s1 if end_index == 0 else s2
                other = s2 if end_index == 0 else s1
                lists = nb if (sym or end_index == 1) else nb_in
                for kk in range(lists.shape[1]):
                    c = lists[end, kk]
                    dce = (
                        dist(c, end, xy, mat, kind)
                        if end_index == 0
                        else dist(end, c, xy, mat, kind)
                    )
                    if dce >= gain - eps:
                        break
                    if (pos[c] - pos[s1]) % n < length:
                        continue
                    for which in range(2 if sym else 1):
                        # the edge (c, w) receives the segment, ``end`` next to ``c``
                        if sym:
                            w = tour[(pos[c] + 1) % n] if which == 0 else tour[(pos[c] - 1) % n]
                        elif end_index == 0:
                            w = tour[(pos[c] + 1) % n]  # c -> s1 .. s2 -> w
                        else:
                            w = tour[(pos[c] - 1) % n]  # w -> s1 .. s2 -> c
                        if (pos[w] - pos[s1]) % n < length:
                            continue
                        if sym or end_index == 0:
                            delta = dce + dist(other, w, xy, mat, kind) - dist(c, w, xy, mat, kind)
                        else:
                            delta = dce + dist(w, other, xy, mat, kind) - dist(w, c, xy, mat, kind)
                        delta -= gain
                        if delta < -eps:
                            forward = pos[w] == (pos[c] + 1) % n
                            u = c if forward else w
                            first = end if forward else other
                            _move_segment(
                                tour, pos, s1, s2, length, u, first != s1, logp, logv, logn
                            )
                            _push(p, queue, qs, inq)
                            _push(nx, queue, qs, inq)
                            _push(s1, queue, qs, inq)
                            _push(s2, queue, qs, inq)
                            _push(c, queue, qs, inq)
                            _push(w, queue, qs, inq)
                            return delta
    return 0.0


@njit(cache=True, nogil=True)
def _try_or3opt(a, tour, pos, xy, mat, kind, nb, nb_in, eps, queue, qs, inq, logp, logv, logn):
    """Segment swap ``a b..c d..e f -> a d..e b..c f`` with ``d`` near ``a``, ``e`` near ``b``."""
    n = tour.shape[0]
    if n < 5:
        return 0.0
    pa = pos[a]
    b = tour[(pa + 1) % n]
    dab = dist(a, b, xy, mat, kind)
    for kk in range(nb.shape[1]):
        d = nb[a, kk]
        dad = dist(a, d, xy, mat, kind)
        if dad >= dab - eps:
            break
        rd = (pos[d] - pa) % n
        if rd < 2:
            continue
        c = tour[(pos[d] - 1) % n]
        budget = dab + dist(c, d, xy, mat, kind) - dad
        for ke in range(nb_in.shape[1]):
            e = nb_in[b, ke]
            deb = dist(e, b, xy, mat, kind)
            if deb >= budget - eps:
                break
            re = (pos[e] - pa) % n
            if re < rd:
                continue
            f = tour[(pos[e] + 1) % n]
            delta = deb + dist(c, f, xy, mat, kind) - dist(e, f, xy, mat, kind) - budget
            if delta < -eps:
                _three_blocks(tour, pos, pa + 1, rd - 1, re - rd + 1, n - re, logp, logv, logn)
                _push(a, queue, qs, inq)
                _push(b, queue, qs, inq)
                _push(c, queue, qs, inq)
                _push(d, queue, qs, inq)
                _push(e, queue, qs, inq)
                _push(f, queue, qs, inq)
                return delta
    return 0.0


@njit(cache=True, nogil=True)
def _local_search(
    tour, pos, xy, mat, kind, nb, nb_in, sym, moves, eps, queue, qs, inq, logp, logv, logn,
    budget,
):  # fmt: skip
    """Run the queue empty; return the total change of the tour length.

    With ``budget >= 0`` at most that many nodes are taken from the queue; what is left in it
    stays queued, so a later call carries on with the same search.
    """
    total = 0.0
    while qs[1] > 0 and budget != 0:
        budget -= 1
        a = _pop(queue, qs, inq)
        improved = True
        while improved:
            improved = False
            delta = 0.0
            if moves & TWO_OPT:
                delta = _try_2opt(a, tour, pos, xy, mat, kind, nb, eps, queue, qs, inq,
                                  logp, logv, logn)  # fmt: skip
            if delta == 0.0 and moves & OR_OPT:
                delta = _try_oropt(a, tour, pos, xy, mat, kind, nb, nb_in, sym, eps, queue, qs,
                                   inq, logp, logv, logn)  # fmt: skip
            if delta == 0.0 and moves & OR3OPT:
                delta = _try_or3opt(a, tour, pos, xy, mat, kind, nb, nb_in, eps, queue, qs, inq,
                                    logp, logv, logn)  # fmt: skip
            if delta != 0.0:
                total += delta
                improved = True
    return total


@njit(cache=True, nogil=True)
def _ils_chunk(
    tour, pos, xy, mat, kind, nb, nb_in, sym, moves, eps, queue, qs, inq, logp, logv, logn,
    state, iterations, segment, cost,
):  # fmt: skip
    """``iterations`` kicks, each followed by local search and kept unless it lengthens."""
    n = tour.shape[0]
    accepted = 0
    for _ in range(iterations):
        logn[0] = 0
        logn[1] = 0
        top = min(segment, (n - 2) // 2)
        i = rand_below(state, n)
        l1 = 1 + rand_below(state, top)
        l2 = 1 + rand_below(state, top)
        a = tour[i]
        b = tour[(i + 1) % n]
        c = tour[(i + l1) % n]
        d = tour[(i + l1 + 1) % n]
        e = tour[(i + l1 + l2) % n]
        f = tour[(i + l1 + l2 + 1) % n]
        kick = (
            dist(a, d, xy, mat, kind) + dist(e, b, xy, mat, kind) + dist(c, f, xy, mat, kind)
            - dist(a, b, xy, mat, kind) - dist(c, d, xy, mat, kind) - dist(e, f, xy, mat, kind)
        )  # fmt: skip
        _three_blocks(tour, pos, i + 1, l1, l2, n - l1 - l2, logp, logv, logn)
        for v in (a, b, c, d, e, f):
            _push(v, queue, qs, inq)
        delta = kick + _local_search(tour, pos, xy, mat, kind, nb, nb_in, sym, moves, eps,
                                     queue, qs, inq, logp, logv, logn, -1)  # fmt: skip
        if delta <= eps or logn[1] == 1:
            cost[0] += delta
            if delta < -eps:
                accepted += 1
        else:
            _undo(tour, pos, logp, logv, logn)
    logn[0] = -1
    return accepted


# ------------------------------------------------------------------ construction


@njit(cache=True, nogil=True)
def _remove(v, left, where, size):
    p = where[v]
    last = left[size - 1]
    left[p] = last
    where[last] = p
    return size - 1


@njit(cache=True, nogil=True)
def _nearest_neighbour(n, xy, mat, kind, nb, start):
    tour = np.empty(n, dtype=np.int64)
    left = np.arange(n)  # unvisited nodes, swap-removed
    where = np.arange(n)
    size = n
    size = _remove(start, left, where, size)
    visited = np.zeros(n, dtype=np.bool_)
    visited[start] = True
    tour[0] = start
    cur = start
    for step in range(1, n):
        nxt = -1
        for kk in range(nb.shape[1]):
            if not visited[nb[cur, kk]]:
                nxt = nb[cur, kk]
                break
        if nxt < 0:
            best = np.inf
            for t in range(size):
                v = left[t]
                dv = dist(cur, v, xy, mat, kind)
                if dv < best:
                    best = dv
                    nxt = v
        visited[nxt] = True
        size = _remove(nxt, left, where, size)
        tour[step] = nxt
        cur = nxt
    return tour


@njit(cache=True, nogil=True)
def _greedy_edges(n, xy, mat, kind, nb, directed):
    """Greedy matching on candidate edges (Bentley 1992), then fragments joined greedily."""
    k = nb.shape[1]
    m = n * k
    src = np.empty(m, dtype=np.int64)
    dst = np.empty(m, dtype=np.int64)
    length = np.empty(m)
    t = 0
    for i in range(n):
        for kk in range(k):
            src[t] = i
            dst[t] = nb[i, kk]
            length[t] = dist(i, nb[i, kk], xy, mat, kind)
            t += 1
    order = np.argsort(length, kind="mergesort")
    parent = np.arange(n)
    succ = -np.ones(n, dtype=np.int64)  # directed: out-arc; symmetric: adjacency slot 0
    pred = -np.ones(n, dtype=np.int64)  # directed: in-arc; symmetric: adjacency slot 1
    for t in order:
        i = src[t]
        j = dst[t]
        if directed:
            if succ[i] >= 0 or pred[j] >= 0:
                continue
        elif pred[i] >= 0 or pred[j] >= 0:
            continue
        ri = root(parent, i)
        rj = root(parent, j)
        if ri == rj:
            continue
        parent[ri] = rj
        if directed:
            succ[i] = j
            pred[j] = i
        else:
            if succ[i] < 0:
                succ[i] = j
            else:
                pred[i] = j
            if succ[j] < 0:
                succ[j] = i
            else:
                pred[j] = i
    # fragments: walk each from an end, then jump to the nearest end of an unused fragment
    ends = np.empty(n, dtype=np.int64)
    n_ends = 0
    for v in range(n):
        if pred[v] < 0:  # a fragment's end (its head when directed)
            ends[n_ends] = v
            n_ends += 1
    used = np.zeros(n, dtype=np.bool_)
    tour = np.empty(n, dtype=np.int64)
    filled = 0
    cur = ends[0]
    while True:
        # walk the fragment starting at cur
        prev = -1
        v = cur
        while v >= 0:
            tour[filled] = v
            filled += 1
            used[v] = True
            if directed:
                nxt = succ[v]
            else:
                nxt = succ[v] if succ[v] != prev else pred[v]
                if nxt >= 0 and used[nxt]:
                    nxt = -1
            prev = v
            v = nxt
        if filled == n:
            break
        last = tour[filled - 1]
        best = np.inf
        cur = -1
        for t in range(n_ends):
            e = ends[t]
            if not used[e]:
                de = dist(last, e, xy, mat, kind)
                if de < best:
                    best = de
                    cur = e
    return tour


@njit(cache=True, nogil=True)
def _hilbert_keys(xy):
    """Index of each point on a Hilbert curve of order 16 over its bounding box."""
    n = xy.shape[0]
    side = 1 << 16
    lo0 = xy[:, 0].min()
    lo1 = xy[:, 1].min()
    span = max(xy[:, 0].max() - lo0, xy[:, 1].max() - lo1, 1e-300)
    keys = np.empty(n, dtype=np.int64)
    for p in range(n):
        x = min(int((xy[p, 0] - lo0) / span * (side - 1)), side - 1)
        y = min(int((xy[p, 1] - lo1) / span * (side - 1)), side - 1)
        d = 0
        s = side >> 1
        while s > 0:
            rx = 1 if (x & s) > 0 else 0
            ry = 1 if (y & s) > 0 else 0
            d += s * s * ((3 * rx) ^ ry)
            if ry == 0:  # rotate the quadrant so the curve stays continuous
                if rx == 1:
                    x = s - 1 - (x & (s - 1))
                    y = s - 1 - (y & (s - 1))
                x, y = y, x
            s >>= 1
        keys[p] = d
    return keys


@njit(cache=True, nogil=True)
def _cheapest_insertion(n, xy, mat, kind, start):
    """Cheapest insertion (Rosenkrantz, Stearns and Lewis 1977), O(n^2) expected."""
    succ = -np.ones(n, dtype=np.int64)
    inserted = np.zeros(n, dtype=np.bool_)
    second = 0 if start != 0 else 1
    for v in range(n):
        if v != start and dist(start, v, xy, mat, kind) < dist(start, second, xy, mat, kind):
            second = v
    succ[start] = second
    succ[second] = start
    inserted[start] = True
    inserted[second] = True
    best = np.full(n, np.inf)
    edge = -np.ones(n, dtype=np.int64)
    for v in range(n):
        if not inserted[v]:
            for i in (start, second):
                j = succ[i]
                c = (
                    dist(i, v, xy, mat, kind)
                    + dist(v, j, xy, mat, kind)
                    - dist(i, j, xy, mat, kind)
                )
                if c < best[v]:
                    best[v] = c
                    edge[v] = i
    for _ in range(n - 2):
        v = -1
        low = np.inf
        for w in range(n):
            if not inserted[w] and best[w] < low:
                low = best[w]
                v = w
        i = edge[v]
        j = succ[i]
        succ[i] = v
        succ[v] = j
        inserted[v] = True
        for w in range(n):
            if inserted[w]:
                continue
            if edge[w] == i:  # its best edge is gone: rescan the tour
                best[w] = np.inf
                x = start
                while True:
                    y = succ[x]
                    c = (
                        dist(x, w, xy, mat, kind)
                        + dist(w, y, xy, mat, kind)
                        - dist(x, y, xy, mat, kind)
                    )
                    if c < best[w]:
                        best[w] = c
                        edge[w] = x
                    x = y
                    if x == start:
                        break
            else:
                for x in (i, v):
                    y = succ[x]
                    c = (
                        dist(x, w, xy, mat, kind)
                        + dist(w, y, xy, mat, kind)
                        - dist(x, y, xy, mat, kind)
                    )
                    if c < best[w]:
                        best[w] = c
                        edge[w] = x
    tour = np.empty(n, dtype=np.int64)
    x = start
    for p in range(n):
        tour[p] = x
        x = succ[x]
    return tour


@njit(cache=True, nogil=True)
def _farthest_insertion(n, xy, mat, kind, start):
    """Farthest insertion (Rosenkrantz, Stearns and Lewis 1977), O(n^2)."""
    succ = -np.ones(n, dtype=np.int64)
    succ[start] = start
    inserted = np.zeros(n, dtype=np.bool_)
    inserted[start] = True
    near = np.empty(n)
    for v in range(n):
        near[v] = min(dist(start, v, xy, mat, kind), dist(v, start, xy, mat, kind))
    for _ in range(n - 1):
        v = -1
        far = -1.0
        for w in range(n):
            if not inserted[w] and near[w] > far:
                far = near[w]
                v = w
        best = np.inf
        at = start
        x = start
        while True:
            y = succ[x]
            c = dist(x, v, xy, mat, kind) + dist(v, y, xy, mat, kind) - dist(x, y, xy, mat, kind)
            if c < best:
                best = c
                at = x
            x = y
            if x == start:
                break
        succ[v] = succ[at]
        succ[at] = v
        inserted[v] = True
        for w in range(n):
            if not inserted[w]:
                near[w] = min(near[w], dist(v, w, xy, mat, kind), dist(w, v, xy, mat, kind))
    tour = np.empty(n, dtype=np.int64)
    x = start
    for p in range(n):
        tour[p] = x
        x = succ[x]
    return tour


# ------------------------------------------------------------------ Python edge


class _Context:
    """Metric, candidate lists and scratch arrays of one instance."""

    def __init__(self, instance: TSP | ATSP, k: int) -> None:
        if not isinstance(instance, (TSP, ATSP)):
            raise ProblemError(f"expected a TSP or ATSP instance, got {type(instance).__name__}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise UsageError(f"k (neighbour list length) must be a positive integer, got {k!r}")
        self.instance = instance
        self.sym = isinstance(instance, TSP)
        coords = getattr(instance, "coords", None)
        rounding = getattr(instance, "rounding", "none")
        self.xy, self.mat, self.kind = metric(coords, instance.distances, rounding)
        self.n = instance.num_nodes
        self.nb = nearest(self.xy, self.mat, self.kind, k)
        self.nb_in = self.nb if self.sym else nearest_in(np.ascontiguousarray(self.mat.T), k)
        if self.kind == MATRIX:
            scale = float(self.mat.max()) if self.n > 1 else 1.0
        else:
            scale = float(np.ptp(self.xy, axis=0).max()) if self.n > 1 else 1.0
        self.eps = 1e-10 * max(scale, 1e-300)

    def length(self, tour: np.ndarray) -> float:
        return float(_tour_length(tour, self.xy, self.mat, self.kind))


#: Construction heuristics by name.
STARTS = ("nearest_neighbour", "greedy", "space_filling", "cheapest_insertion",
          "farthest_insertion")  # fmt: skip


def _start_node(n: int, seed: int) -> int:
    return int(np.random.default_rng(seed).integers(n))


def construct(instance: TSP | ATSP, start: str = "greedy", *, seed: int = 0, k: int = 10):
    """A tour from one of the construction heuristics in :data:`STARTS`.

    Parameters
    ----------
    instance : TSP or ATSP
        The instance.
    start : str
        ``"nearest_neighbour"`` (from a node drawn with ``seed``), ``"greedy"`` (greedy
        edge matching on the ``k``-nearest-neighbour graph, fragments joined nearest end
        first), ``"space_filling"`` (Hilbert curve order; needs coordinates),
        ``"cheapest_insertion"`` or ``"farthest_insertion"`` (both O(n^2), from a node
        drawn with ``seed``).
    seed : int
        Picks the first node where one is needed.
    k : int
        Neighbour list length.

    Returns
    -------
    numpy.ndarray
        The tour, a permutation of ``0..n-1``.
    """
    return _construct(_Context(instance, k), start, seed)


def _construct(ctx: _Context, start: str, seed: int) -> np.ndarray:
    n = ctx.n
    if start not in STARTS:
        raise UsageError(f"unknown start {start!r}; choose from {', '.join(STARTS)}")
    if n <= 3:
        return np.arange(n, dtype=np.int64)
    if start == "nearest_neighbour":
        return _nearest_neighbour(n, ctx.xy, ctx.mat, ctx.kind, ctx.nb, _start_node(n, seed))
    if start == "greedy":
        return _greedy_edges(n, ctx.xy, ctx.mat, ctx.kind, ctx.nb, not ctx.sym)
    if start == "space_filling":
        coords = getattr(ctx.instance, "coords", None)
        if coords is None:
            raise UsageError("space_filling needs node coordinates; this instance has none")
        return np.argsort(_hilbert_keys(np.ascontiguousarray(coords)), kind="stable")
    if start == "cheapest_insertion":
        return _cheapest_insertion(n, ctx.xy, ctx.mat, ctx.kind, _start_node(n, seed))
    return _farthest_insertion(n, ctx.xy, ctx.mat, ctx.kind, _start_node(n, seed))


class _Search:
    """Tour state and scratch arrays for local search and ILS."""

    def __init__(self, ctx: _Context, tour: np.ndarray, moves: int, log_size: int) -> None:
        n = ctx.n
        self.ctx = ctx
        self.moves = moves
        self.tour = np.ascontiguousarray(tour, dtype=np.int64).copy()
        self.pos = np.empty(n, dtype=np.int64)
        self.pos[self.tour] = np.arange(n)
        self.queue = np.empty(max(n, 1), dtype=np.int64)
        self.qs = np.zeros(2, dtype=np.int64)
        self.inq = np.zeros(max(n, 1), dtype=np.bool_)
        self.logp = np.empty(log_size, dtype=np.int64)
        self.logv = np.empty(log_size, dtype=np.int64)
        self.logn = np.array([-1, 0], dtype=np.int64)
        self.cost = np.array([ctx.length(self.tour)])

    def args(self) -> tuple:
        c = self.ctx
        return (self.tour, self.pos, c.xy, c.mat, c.kind, c.nb, c.nb_in, c.sym, self.moves,
                c.eps, self.queue, self.qs, self.inq, self.logp, self.logv, self.logn)  # fmt: skip

    def descend(self, order: np.ndarray, tracker: Tracker | None = None) -> None:
        """Local search from every node, queued in ``order``.

        With a ``tracker``, its deadline is checked after every ``n`` nodes examined and the
        search stops there; without one it runs to a local optimum.
        """
        if self.ctx.n < 5:
            return
        for v in order:
            self.queue[self.qs[1]] = v
            self.qs[1] += 1
            self.inq[v] = True
        budget = -1 if tracker is None else self.ctx.n
        while self.qs[1] > 0 and not (tracker is not None and tracker.expired()):
            self.cost[0] += _local_search(*self.args(), budget)


def _moves(sym: bool, two: bool, oropt: bool, or3opt: bool) -> int:
    return (TWO_OPT if two and sym else 0) | (OR_OPT if oropt else 0) | (OR3OPT if or3opt else 0)


def _construction(start: str):
    def method(instance, *, tracker: Tracker, seed: int = 0, k: int = 10) -> np.ndarray:
        ctx = _Context(instance, k)
        tour = _construct(ctx, start, seed)
        tracker.record(ctx.length(tour))
        return tour

    method.__name__ = start
    method.__doc__ = (
        f"Tour by the ``{start}`` construction heuristic (see :func:`construct`).\n\n"
        "Parameters\n----------\ninstance : TSP or ATSP\ntracker : Tracker\n"
        "    Receives the tour length.\nseed : int\nk : int\n    Neighbour list length.\n"
    )
    return method


nearest_neighbour = _construction("nearest_neighbour")
greedy = _construction("greedy")
space_filling = _construction("space_filling")
cheapest_insertion = _construction("cheapest_insertion")
farthest_insertion = _construction("farthest_insertion")


def _descent(ctx: _Context, tracker: Tracker, start: str, seed: int, moves: int) -> _Search:
    search = _Search(ctx, _construct(ctx, start, seed), moves, 1)
    tracker.record(float(search.cost[0]))
    order = np.random.default_rng(seed).permutation(ctx.n)
    search.descend(order)
    search.cost[0] = ctx.length(search.tour)
    tracker.record(float(search.cost[0]))
    return search


def _local(two: bool, oropt: bool, or3opt: bool, name: str, what: str):
    def method(
        instance, *, tracker: Tracker, seed: int = 0, start: str = "greedy", k: int = 10
    ) -> np.ndarray:
        ctx = _Context(instance, k)
        if two and not oropt and not ctx.sym:
            raise UsageError("two_opt reverses tour segments and needs a symmetric TSP")
        return _descent(ctx, tracker, start, seed, _moves(ctx.sym, two, oropt, or3opt)).tour

    method.__name__ = name
    method.__doc__ = (
        f"Construction, then {what} with neighbour lists and don't-look bits.\n\n"
        "Parameters\n----------\ninstance : TSP or ATSP\ntracker : Tracker\n"
        "seed : int\n    Order in which nodes are first examined; first node of some starts.\n"
        "start : str\n    Construction heuristic (:data:`STARTS`).\n"
        "k : int\n    Neighbour list length.\n"
    )
    return method


two_opt = _local(True, False, False, "two_opt", "2-opt")
or_opt = _local(True, True, False, "or_opt", "2-opt (symmetric only) and Or-opt")
or_3opt = _local(
    True, True, True, "or_3opt", "2-opt (symmetric only), Or-opt and or3opt segment swaps"
)


def improve(
    instance: TSP | ATSP,
    tour: np.ndarray,
    *,
    tracker: Tracker,
    seed: int = 0,
    k: int = 10,
    or3opt: bool | None = None,
) -> np.ndarray:
    """Local search from a given tour, with neighbour lists and don't-look bits.

    The moves of :func:`or_opt` (2-opt for the TSP, Or-opt for both), optionally with
    or3opt segment swaps, applied first-improvement from ``tour`` itself until none
    improves or the tracker's deadline passes (checked after every ``n`` nodes examined).
    Instances of fewer than five nodes are returned unchanged.

    Parameters
    ----------
    instance : TSP or ATSP
        The instance.
    tour : numpy.ndarray
        The starting tour, a permutation of the nodes (already checked).
    tracker : Tracker
        Clock and deadline.
    seed : int
        Order in which the nodes are first examined.
    k : int
        Neighbour list length.
    or3opt : bool, optional
        Include or3opt segment swaps (default: only for the ATSP, as in :func:`ils`).

    Returns
    -------
    numpy.ndarray
        The improved tour.
    """
    ctx = _Context(instance, k)
    use_or3opt = (not ctx.sym) if or3opt is None else bool(or3opt)
    search = _Search(ctx, tour, _moves(ctx.sym, True, True, use_or3opt), 1)
    search.descend(np.random.default_rng(seed).permutation(ctx.n), tracker)
    return search.tour


#: Instances up to this many nodes are solved by enumeration in :func:`ils`.
EXACT_NODES = 7


def _enumerate(ctx: _Context) -> np.ndarray:
    """An optimal tour by trying every order of the nodes after node 0."""
    n = ctx.n
    if n <= 2:
        return np.arange(n, dtype=np.int64)
    d = np.array([[dist(i, j, ctx.xy, ctx.mat, ctx.kind) for j in range(n)] for i in range(n)])
    rest = np.array(list(itertools.permutations(range(1, n))), dtype=np.int64).reshape(-1, n - 1)
    tours = np.hstack([np.zeros((rest.shape[0], 1), dtype=np.int64), rest])
    costs = d[tours, np.roll(tours, -1, axis=1)].sum(axis=1)
    return tours[int(np.argmin(costs))]


def ils(
    instance: TSP | ATSP,
    *,
    tracker: Tracker,
    seed: int = 0,
    start: str = "greedy",
    k: int = 10,
    iterations: int | None = None,
    segment: int = 50,
    or3opt: bool | None = None,
) -> np.ndarray:
    """Iterated local search with local double-bridge kicks.

    Instances of up to :data:`EXACT_NODES` nodes are solved by enumeration. Otherwise:
    construction, local search (2-opt and Or-opt for the TSP; Or-opt and or3opt for the
    ATSP), then repeated kicks: a double bridge whose three segments each have at most
    ``segment`` nodes, local search from the six nodes at the cuts, undone when the tour
    got longer. Stops at the tracker's time limit or after ``iterations`` kicks
    (default ``10 n`` when there is no time limit).

    Parameters
    ----------
    instance : TSP or ATSP
        The instance.
    tracker : Tracker
        Clock, deadline and trajectory.
    seed : int
        Seed of the kicks; with ``iterations`` (and no time limit reached) the same seed
        gives the same tour.
    start : str
        Construction heuristic (:data:`STARTS`).
    k : int
        Neighbour list length.
    iterations : int, optional
        Number of kicks.
    segment : int
        Longest segment of a kick.
    or3opt : bool, optional
        Include or3opt segment swaps in the local search (default: only for the ATSP).

    Returns
    -------
    numpy.ndarray
        The best tour found.
    """
    for what, value in (("iterations", iterations), ("segment", segment)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1
        ):
            raise UsageError(f"{what} must be a positive integer, got {value!r}")
    ctx = _Context(instance, k)
    n = ctx.n
    if n <= EXACT_NODES:
        tour = _enumerate(ctx)
        tracker.record(ctx.length(tour))
        return tour
    use_or3opt = (not ctx.sym) if or3opt is None else bool(or3opt)
    moves = _moves(ctx.sym, True, True, use_or3opt)
    first = _descent(ctx, tracker, start, seed, moves)
    search = _Search(ctx, first.tour, moves, 64 * n + 4096)
    if iterations is None and tracker.time_limit is None:
        iterations = 10 * n
    state = new_state(seed)
    best = search.tour.copy()
    best_cost = float(search.cost[0])
    done = 0
    chunk = 256 if iterations is not None else 64
    while True:
        if iterations is not None and done >= iterations:
            break
        if tracker.expired():
            break
        m = chunk if iterations is None else min(chunk, iterations - done)
        t0 = time.perf_counter()
        _ils_chunk(*search.args(), state, m, segment, search.cost)
        done += m
        if search.cost[0] < best_cost - ctx.eps:
            best_cost = float(search.cost[0])
            best[:] = search.tour
        tracker.record(best_cost)  # after every chunk: a bound beside it is reported then
        if iterations is None or tracker.time_limit is not None:
            spent = max(time.perf_counter() - t0, 1e-6)
            target = min(0.05, max(tracker.remaining(), 0.0) / 2 + 1e-3)
            chunk = int(min(max(m * target / spent, 1), 1 << 20))
    return best
