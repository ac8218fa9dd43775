"""CVRP heuristics: savings and sweep, granular local search, ruin-and-recreate.

Solution state (all plain arrays, for the Numba kernels). Customers are nodes ``1..n``;
route ``r`` (``0 <= r < n``) has its own depot sentinel node ``n + 1 + r``, and each route
is a cyclic doubly linked list through its sentinel. ``st`` holds int64 rows ``NXT``,
``PRV``, ``RT`` (route of a node), ``POS`` (index in the route, the sentinel 0) and ``LEN``
(customers on route ``r``, indexed by route); ``fl`` holds float rows ``CUM`` (load up to and
including a node) and ``LOAD`` (indexed by route). Copying the two arrays snapshots a
solution.

* Construction: Clarke and Wright (1964) parallel savings on the ``k``-nearest-neighbour
  pairs; the sweep of Gillett and Miller (1974).
* Local search with granular neighbourhoods (Toth and Vigo 2003): for each customer ``u``
  and each of its ``k`` nearest customers ``v``, relocate ``u`` next to ``v``, swap them,
  2-opt* (two variants, the second reversing route parts) and intra-route 2-opt, each
  move adding an edge ``(u, v)`` or ``(v, u)``; first improvement, and a pair is skipped when
  neither route changed since ``u`` was last examined (the ``whenLastModified`` rule of
  Vidal's HGS-CVRP, 2022). :func:`improve` runs it from given routes (for
  :func:`hybridsolve.comb.improve`).
* Ruin and recreate (SISR, Christiaens and Vanden Berghe 2020): remove strings of
  consecutive customers from routes near a random seed customer, reinsert the removed
  customers one by one at their cheapest feasible position, skipping each position with a
  small "blink" probability, in a random, decreasing-demand, far-first or close-first order;
  then granular local search; simulated annealing acceptance with a temperature that falls
  geometrically over the run.

References
----------
G. Clarke and J. W. Wright, "Scheduling of vehicles from a central depot to a number of
delivery points", Operations Research 12 (1964), 568-581.
B. E. Gillett and L. R. Miller, "A heuristic algorithm for the vehicle-dispatch problem",
Operations Research 22 (1974), 340-349.
P. Toth and D. Vigo, "The granular tabu search and its application to the
vehicle-routing problem", INFORMS Journal on Computing 15 (2003), 333-346.
J. Christiaens and G. Vanden Berghe, "Slack induction by string removals for vehicle
routing problems", Transportation Science 54 (2020), 417-433.
T. Vidal, "Hybrid genetic search for the CVRP: open-source implementation and SWAP*
neighborhood", Computers & Operations Research 140 (2022), 105643.
"""

from __future__ import annotations

import math
import time

import numpy as np
from numba import njit

from hybridsolve.mip.errors import ProblemError, UsageError

from ._random import new_state, rand_below, rand_float
from ._search import Tracker
from .neighbours import MATRIX, dist, metric, nearest, root
from .routing import CVRP

__all__ = ["ils", "improve", "local_search", "savings", "sweep"]

NXT, PRV, RT, POS, LEN = 0, 1, 2, 3, 4
CUM, LOAD = 0, 1

# ------------------------------------------------------------------ state


@njit(cache=True, nogil=True)
def _d(a, b, n, xy, mat, kind):
    """Distance between nodes ``a`` and ``b``; sentinels (``> n``) are the depot."""
    return dist(a if a <= n else 0, b if b <= n else 0, xy, mat, kind)


@njit(cache=True, nogil=True)
def _write(st, fl, q, n, r, seq, m):
    """Make route ``r`` visit ``seq[:m]`` in order."""
    s = n + 1 + r
    prev = s
    load = 0.0
    for i in range(m):
        v = seq[i]
        st[NXT, prev] = v
        st[PRV, v] = prev
        st[RT, v] = r
        st[POS, v] = i + 1
        load += q[v]
        fl[CUM, v] = load
        prev = v
    st[NXT, prev] = s
    st[PRV, s] = prev
    st[RT, s] = r
    st[LEN, r] = m
    fl[LOAD, r] = load


@njit(cache=True, nogil=True)
def _extract(st, n, r, buf):
    """Customers of route ``r`` into ``buf``; returns their number."""
    s = n + 1 + r
    v = st[NXT, s]
    m = 0
    while v != s:
        buf[m] = v
        m += 1
        v = st[NXT, v]
    return m


@njit(cache=True, nogil=True)
def _route_cost(st, n, r, xy, mat, kind):
    s = n + 1 + r
    total = 0.0
    v = s
    while True:
        w = st[NXT, v]
        total += _d(v, w, n, xy, mat, kind)
        v = w
        if v == s:
            break
    return total


@njit(cache=True, nogil=True)
def _total_cost(st, n, xy, mat, kind):
    total = 0.0
    for r in range(n):
        if st[LEN, r] > 0:
            total += _route_cost(st, n, r, xy, mat, kind)
    return total


@njit(cache=True, nogil=True)
def _from_routes(n, q, flat, starts):
    """State arrays from routes given as ``flat[starts[r]:starts[r + 1]]``."""
    size = 2 * n + 1
    st = np.zeros((5, size), dtype=np.int64)
    fl = np.zeros((2, size))
    for r in range(n):
        _write(st, fl, q, n, r, flat, 0)
    for r in range(starts.shape[0] - 1):
        _write(st, fl, q, n, r, flat[starts[r] :], starts[r + 1] - starts[r])
    return st, fl


# ------------------------------------------------------------------ moves


@njit(cache=True, nogil=True)
def _relocate(st, fl, q, n, u, anchor, b1, b2):
    """Move customer ``u`` to just after ``anchor`` (a customer or a route's sentinel)."""
    ru = st[RT, u]
    rv = st[RT, anchor]
    m1 = _extract(st, n, ru, b1)
    k = 0
    for i in range(m1):
        if b1[i] != u:
            b1[k] = b1[i]
            k += 1
    m1 = k
    if rv == ru:
        m2 = m1
        for i in range(m1):
            b2[i] = b1[i]
    else:
        m2 = _extract(st, n, rv, b2)
    at = 0  # after the sentinel: first on the route
    if anchor <= n:
        for i in range(m2):
            if b2[i] == anchor:
                at = i + 1
    for i in range(m2, at, -1):
        b2[i] = b2[i - 1]
    b2[at] = u
    m2 += 1
    if rv != ru:
        _write(st, fl, q, n, ru, b1, m1)
    _write(st, fl, q, n, rv, b2, m2)


@njit(cache=True, nogil=True)
def _swap(st, fl, q, n, u, v, b1, b2):
    ru = st[RT, u]
    rv = st[RT, v]
    m1 = _extract(st, n, ru, b1)
    if ru == rv:
        i = st[POS, u] - 1
        j = st[POS, v] - 1
        b1[i] = v
        b1[j] = u
        _write(st, fl, q, n, ru, b1, m1)
        return
    m2 = _extract(st, n, rv, b2)
    b1[st[POS, u] - 1] = v
    b2[st[POS, v] - 1] = u
    _write(st, fl, q, n, ru, b1, m1)
    _write(st, fl, q, n, rv, b2, m2)


@njit(cache=True, nogil=True)
def _two_opt_star(st, fl, q, n, a, b, flip, b1, b2, b3, b4):
    """Exchange the tails after ``a`` and after ``b`` (nodes of two different routes).

    Without ``flip``: ``head(a) + tail(b)`` and ``head(b) + tail(a)``. With ``flip``:
    ``head(a) + reversed head(b)`` and ``reversed tail(a) + tail(b)``.
    """
    ra = st[RT, a]
    rb = st[RT, b]
    m1 = _extract(st, n, ra, b1)
    m2 = _extract(st, n, rb, b2)
    pa = st[POS, a]  # customers in head(a)
    pb = st[POS, b]
    k3 = 0
    k4 = 0
    for i in range(pa):
        b3[k3] = b1[i]
        k3 += 1
    if not flip:
        for i in range(pb, m2):
            b3[k3] = b2[i]
            k3 += 1
        for i in range(pb):
            b4[k4] = b2[i]
            k4 += 1
        for i in range(pa, m1):
            b4[k4] = b1[i]
            k4 += 1
    else:
        for i in range(pb - 1, -1, -1):
            b3[k3] = b2[i]
            k3 += 1
        for i in range(m1 - 1, pa - 1, -1):
            b4[k4] = b1[i]
            k4 += 1
        for i in range(pb, m2):
            b4[k4] = b2[i]
            k4 += 1
    _write(st, fl, q, n, ra, b3, k3)
    _write(st, fl, q, n, rb, b4, k4)


@njit(cache=True, nogil=True)
def _reverse_inside(st, fl, q, n, r, i, j, b1):
    """Reverse the customers at indices ``i..j`` (0-based, inclusive) of route ``r``."""
    m = _extract(st, n, r, b1)
    while i < j:
        t = b1[i]
        b1[i] = b1[j]
        b1[j] = t
        i += 1
        j -= 1
    _write(st, fl, q, n, r, b1, m)


@njit(cache=True, nogil=True)
def _find_empty(st, n):
    for r in range(n):
        if st[LEN, r] == 0:
            return r
    return -1


@njit(cache=True, nogil=True)
def _improve_pair(st, fl, q, cap, n, xy, mat, kind, sym, eps, u, v, b1, b2, b3, b4):
    """Apply the first improving move adding an edge between ``u`` and ``v``; its delta."""
    ru = st[RT, u]
    rv = st[RT, v]
    pu = st[PRV, u]
    x = st[NXT, u]
    pv = st[PRV, v]
    y = st[NXT, v]
    qu = q[u]
    qv = q[v]
    same = ru == rv
    d_pu_u = _d(pu, u, n, xy, mat, kind)
    d_u_x = _d(u, x, n, xy, mat, kind)
    d_pv_v = _d(pv, v, n, xy, mat, kind)
    d_v_y = _d(v, y, n, xy, mat, kind)
    d_uv = _d(u, v, n, xy, mat, kind)
    d_vu = _d(v, u, n, xy, mat, kind) if not sym else d_uv
    removal = _d(pu, x, n, xy, mat, kind) - d_pu_u - d_u_x
    fits_u = same or fl[LOAD, rv] + qu <= cap + 1e-9
    # relocate u after v
    if fits_u and y != u:
        delta = removal + d_vu + _d(u, y, n, xy, mat, kind) - d_v_y
        if delta < -eps:
            _relocate(st, fl, q, n, u, v, b1, b2)
            return delta
    # relocate u before v
    if fits_u and pv != u:
        delta = removal + _d(pv, u, n, xy, mat, kind) + d_uv - d_pv_v
        if delta < -eps:
            _relocate(st, fl, q, n, u, pv, b1, b2)
            return delta
    # swap u and v
    if v != x and v != pu:
        if same or (fl[LOAD, ru] - qu + qv <= cap + 1e-9 and fl[LOAD, rv] - qv + qu <= cap + 1e-9):
            delta = (
                _d(pu, v, n, xy, mat, kind) + _d(v, x, n, xy, mat, kind) - d_pu_u - d_u_x
                + _d(pv, u, n, xy, mat, kind) + _d(u, y, n, xy, mat, kind) - d_pv_v - d_v_y
            )  # fmt: skip
            if delta < -eps:
                _swap(st, fl, q, n, u, v, b1, b2)
                return delta
    if not same:
        lu = fl[LOAD, ru]
        lv = fl[LOAD, rv]
        # 2-opt* adding u -> v: head(u) + tail from v, head(pv) + tail from x
        if (
            fl[CUM, u] + lv - fl[CUM, pv] <= cap + 1e-9
            and fl[CUM, pv] + lu - fl[CUM, u] <= cap + 1e-9
        ):
            delta = d_uv + _d(pv, x, n, xy, mat, kind) - d_u_x - d_pv_v
            if delta < -eps:
                _two_opt_star(st, fl, q, n, u, pv, False, b1, b2, b3, b4)
                return delta
        # 2-opt* adding v -> u: head(pu) + tail from y, head(v) + tail from u
        if (
            fl[CUM, pu] + lv - fl[CUM, v] <= cap + 1e-9
            and fl[CUM, v] + lu - fl[CUM, pu] <= cap + 1e-9
        ):
            delta = d_vu + _d(pu, y, n, xy, mat, kind) - d_pu_u - d_v_y
            if delta < -eps:
                _two_opt_star(st, fl, q, n, pu, v, False, b1, b2, b3, b4)
                return delta
        if sym:
            # reversing variants: (u, x), (v, y) -> (u, v), (x, y)
            if (
                fl[CUM, u] + fl[CUM, v] <= cap + 1e-9
                and lu - fl[CUM, u] + lv - fl[CUM, v] <= cap + 1e-9
            ):
                delta = d_uv + _d(x, y, n, xy, mat, kind) - d_u_x - d_v_y
                if delta < -eps:
                    _two_opt_star(st, fl, q, n, u, v, True, b1, b2, b3, b4)
                    return delta
            # (pu, u), (pv, v) -> (pu, pv), (u, v)
            if (
                fl[CUM, pu] + fl[CUM, pv] <= cap + 1e-9
                and lu - fl[CUM, pu] + lv - fl[CUM, pv] <= cap + 1e-9
            ):
                delta = d_uv + _d(pu, pv, n, xy, mat, kind) - d_pu_u - d_pv_v
                if delta < -eps:
                    _two_opt_star(st, fl, q, n, pu, pv, True, b1, b2, b3, b4)
                    return delta
    elif sym:
        lo = min(st[POS, u], st[POS, v]) - 1
        hi = max(st[POS, u], st[POS, v]) - 1
        if hi > lo + 1:
            # u before v: (u, x), (v, y) -> (u, v), (x, y), reversing x..v (v before u: y..u)
            delta = d_uv + _d(x, y, n, xy, mat, kind) - d_u_x - d_v_y
            if delta < -eps:
                _reverse_inside(st, fl, q, n, ru, lo + 1, hi, b1)
                return delta
            # u before v: (pu, u), (pv, v) -> (pu, pv), (u, v), reversing u..pv (or v..pu)
            delta = d_uv + _d(pu, pv, n, xy, mat, kind) - d_pu_u - d_pv_v
            if delta < -eps:
                _reverse_inside(st, fl, q, n, ru, lo, hi - 1, b1)
                return delta
    return 0.0


@njit(cache=True, nogil=True)
def _local_search(
    st, fl, q, cap, n, xy, mat, kind, sym, eps, nb, order, stamp, tested, clock, b1, b2, b3, b4,
    passes,
):  # fmt: skip
    """Granular first-improvement local search until no move improves; the total delta.

    With ``passes >= 0`` it stops after that many passes over the customers; a later call
    carries on with the same search (a pass that returns ``0.0`` found no improving move).
    """
    total = 0.0
    improved = True
    while improved and passes != 0:
        passes -= 1
        improved = False
        for idx in range(n):
            u = order[idx]
            last = tested[u]
            tested[u] = clock[0]
            for kk in range(nb.shape[1]):
                v = nb[u, kk]
                ru = st[RT, u]
                rv = st[RT, v]
                if stamp[ru] <= last and stamp[rv] <= last:
                    continue
                delta = _improve_pair(st, fl, q, cap, n, xy, mat, kind, sym, eps, u, v,
                                      b1, b2, b3, b4)  # fmt: skip
                if delta != 0.0:
                    clock[0] += 1
                    stamp[ru] = clock[0]
                    stamp[rv] = clock[0]
                    stamp[st[RT, u]] = clock[0]
                    stamp[st[RT, v]] = clock[0]
                    total += delta
                    improved = True
            # a route of its own
            ru = st[RT, u]
            if st[LEN, ru] > 1 and stamp[ru] > last:
                pu = st[PRV, u]
                x = st[NXT, u]
                delta = (
                    _d(pu, x, n, xy, mat, kind) - _d(pu, u, n, xy, mat, kind)
                    - _d(u, x, n, xy, mat, kind) + _d(0, u, n, xy, mat, kind)
                    + _d(u, 0, n, xy, mat, kind)
                )  # fmt: skip
                if delta < -eps:
                    r = _find_empty(st, n)
                    _relocate(st, fl, q, n, u, n + 1 + r, b1, b2)
                    clock[0] += 1
                    stamp[ru] = clock[0]
                    stamp[r] = clock[0]
                    total += delta
                    improved = True
    return total


# ------------------------------------------------------------------ ruin and recreate


@njit(cache=True, nogil=True)
def _ruin(st, fl, q, n, nb, state, mean_removed, max_string, removed, b1):
    """SISR string removal around a random seed customer; returns the number removed."""
    used = 0
    routes = 0
    for r in range(n):
        if st[LEN, r] > 0:
            used += 1
    avg = n / max(used, 1)
    ls_max = min(float(max_string), avg)
    ks_max = 4.0 * mean_removed / (1.0 + ls_max) - 1.0
    ks = int(rand_float(state) * ks_max) + 1
    seed = 1 + rand_below(state, n)
    count = 0
    done = np.empty(ks, dtype=np.int64)
    for kk in range(-1, nb.shape[1]):
        if routes >= ks:
            break
        c = seed if kk < 0 else nb[seed, kk]
        r = st[RT, c]
        seen = False
        for t in range(routes):
            if done[t] == r:
                seen = True
        if seen:
            continue
        m = _extract(st, n, r, b1)
        l_max = min(float(m), ls_max)
        length = int(rand_float(state) * l_max) + 1
        length = min(length, m)
        at = st[POS, c] - 1
        lo = max(0, at - length + 1)
        hi = min(at, m - length)
        start = lo + rand_below(state, hi - lo + 1)
        for i in range(start, start + length):
            removed[count] = b1[i]
            count += 1
        k = 0
        for i in range(m):
            if i < start or i >= start + length:
                b1[k] = b1[i]
                k += 1
        _write(st, fl, q, n, r, b1, k)
        done[routes] = r
        routes += 1
    return count


@njit(cache=True, nogil=True)
def _recreate(st, fl, q, cap, n, xy, mat, kind, removed, count, state, blink, b1):
    """Greedy insertion with blinks of ``removed[:count]``; returns the cost change."""
    total = 0.0
    for t in range(count):
        c = removed[t]
        best = _d(0, c, n, xy, mat, kind) + _d(c, 0, n, xy, mat, kind)
        best_anchor = -1
        for r in range(n):
            if st[LEN, r] == 0 or fl[LOAD, r] + q[c] > cap + 1e-9:
                continue
            s = n + 1 + r
            a = s
            while True:
                b = st[NXT, a]
                if rand_float(state) >= blink:
                    delta = (
                        _d(a, c, n, xy, mat, kind) + _d(c, b, n, xy, mat, kind)
                        - _d(a, b, n, xy, mat, kind)
                    )  # fmt: skip
                    if delta < best:
                        best = delta
                        best_anchor = a
                a = b
                if a == s:
                    break
        if best_anchor < 0:
            best_anchor = n + 1 + _find_empty(st, n)
        # a removed customer is on no route: write it in directly
        r = st[RT, best_anchor]
        m = _extract(st, n, r, b1)
        at = 0 if best_anchor > n else st[POS, best_anchor]
        for i in range(m, at, -1):
            b1[i] = b1[i - 1]
        b1[at] = c
        _write(st, fl, q, n, r, b1, m + 1)
        total += best
    return total


@njit(cache=True, nogil=True)
def _sort_removed(removed, count, q, xy, mat, kind, n, state):
    """SISR orders: random 4, demand 4, far 2, close 1 (weights of the paper)."""
    pick = rand_below(state, 11)
    for i in range(count - 1, 0, -1):  # shuffle first: ties stay random
        j = rand_below(state, i + 1)
        t = removed[i]
        removed[i] = removed[j]
        removed[j] = t
    if pick < 4:
        return
    key = np.empty(count)
    for i in range(count):
        c = removed[i]
        if pick < 8:
            key[i] = -q[c]
        elif pick < 10:
            key[i] = -_d(0, c, n, xy, mat, kind)
        else:
            key[i] = _d(0, c, n, xy, mat, kind)
    order = np.argsort(key, kind="mergesort")
    copy = removed[:count].copy()
    for i in range(count):
        removed[i] = copy[order[i]]


@njit(cache=True, nogil=True)
def _rr_chunk(
    st, fl, q, cap, n, xy, mat, kind, sym, eps, nb, order, stamp, tested, clock, b1, b2, b3, b4,
    best_st, best_fl, cur, state, iterations, t_start, t_end, mean_removed, max_string, blink,
):  # fmt: skip
    """Ruin-and-recreate iterations with local search and annealing; ``cur`` = [cost, best]."""
    removed = np.empty(n, dtype=np.int64)
    save_st = st.copy()
    save_fl = fl.copy()
    for it in range(iterations):
        temp = t_start * (t_end / t_start) ** (it / iterations)
        save_st[:] = st
        save_fl[:] = fl
        start_clock = clock[0]
        count = _ruin(st, fl, q, n, nb, state, mean_removed, max_string, removed, b1)
        clock[0] += 1
        for i in range(count):
            stamp[save_st[RT, removed[i]]] = clock[0]
        _sort_removed(removed, count, q, xy, mat, kind, n, state)
        _recreate(st, fl, q, cap, n, xy, mat, kind, removed, count, state, blink, b1)
        clock[0] += 1
        for i in range(count):
            stamp[st[RT, removed[i]]] = clock[0]
        _local_search(st, fl, q, cap, n, xy, mat, kind, sym, eps, nb, order, stamp, tested,
                      clock, b1, b2, b3, b4, -1)  # fmt: skip
        cost = _total_cost(st, n, xy, mat, kind)
        if cost < cur[0] - temp * math.log(1.0 - rand_float(state)):
            cur[0] = cost
            if cost < cur[1] - eps:
                cur[1] = cost
                best_st[:] = st
                best_fl[:] = fl
        else:
            st[:] = save_st
            fl[:] = save_fl
            clock[0] += 1
            for r in range(n):  # routes changed and changed back: examine them again
                if stamp[r] > start_clock:
                    stamp[r] = clock[0]


@njit(cache=True, nogil=True)
def _savings(n, xy, mat, kind, sym, q, cap, pi, pj):
    """Parallel Clarke-Wright savings over the candidate links ``pi[t] -> pj[t]``.

    Returns the routes as ``(flat, starts)``.
    """
    m = pi.shape[0]
    saving = np.empty(m)
    for t in range(m):
        i = pi[t]
        j = pj[t]
        saving[t] = (
            _d(i, 0, n, xy, mat, kind) + _d(0, j, n, xy, mat, kind) - _d(i, j, n, xy, mat, kind)
        )
    order = np.argsort(-saving, kind="mergesort")
    succ = -np.ones(n + 1, dtype=np.int64)  # symmetric: first link slot
    pred = -np.ones(n + 1, dtype=np.int64)  # symmetric: second link slot
    parent = np.arange(n + 1)
    load = q.astype(np.float64).copy()
    for t in order:
        if saving[t] <= 0.0:
            break
        i = pi[t]
        j = pj[t]
        if sym:
            if pred[i] >= 0 or pred[j] >= 0:
                continue
        elif succ[i] >= 0 or pred[j] >= 0:
            continue
        ri = root(parent, i)
        rj = root(parent, j)
        if ri == rj or load[ri] + load[rj] > cap + 1e-9:
            continue
        parent[ri] = rj
        load[rj] += load[ri]
        if sym:
            if succ[i] < 0:
                succ[i] = j
            else:
                pred[i] = j
            if succ[j] < 0:
                succ[j] = i
            else:
                pred[j] = i
        else:
            succ[i] = j
            pred[j] = i
    flat = np.empty(n, dtype=np.int64)
    starts = np.zeros(n + 1, dtype=np.int64)
    used = np.zeros(n + 1, dtype=np.bool_)
    filled = 0
    routes = 0
    for v0 in range(1, n + 1):
        if used[v0] or pred[v0] >= 0:  # start a walk only at a route end
            continue
        prev = -1
        v = v0
        while v >= 0:
            flat[filled] = v
            filled += 1
            used[v] = True
            if sym:
                nxt = succ[v] if succ[v] != prev else pred[v]
                if nxt >= 0 and used[nxt]:
                    nxt = -1
            else:
                nxt = succ[v]
            prev = v
            v = nxt
        routes += 1
        starts[routes] = filled
    return flat, starts[: routes + 1]


@njit(cache=True, nogil=True)
def _sweep(n, coords, xy, mat, kind, q, cap, first):
    """Gillett-Miller sweep: customers by polar angle around the depot, cut at capacity.

    Each route then visits its customers nearest neighbour first, from the depot.
    """
    angle = np.empty(n)
    for i in range(n):
        angle[i] = math.atan2(coords[i + 1, 1] - coords[0, 1], coords[i + 1, 0] - coords[0, 0])
    by_angle = np.argsort(angle, kind="mergesort") + 1
    flat = np.empty(n, dtype=np.int64)
    starts = np.zeros(n + 1, dtype=np.int64)
    routes = 0
    load = 0.0
    for t in range(n):
        v = by_angle[(first + t) % n]
        if load + q[v] > cap + 1e-9:
            routes += 1
            starts[routes] = t
            load = 0.0
        flat[t] = v
        load += q[v]
    routes += 1
    starts[routes] = n
    for r in range(routes):  # visit each route's customers nearest-neighbour first
        a = starts[r]
        cur = 0
        for t in range(a, starts[r + 1]):
            best = t
            for s in range(t + 1, starts[r + 1]):
                if _d(cur, flat[s], n, xy, mat, kind) < _d(cur, flat[best], n, xy, mat, kind):
                    best = s
            flat[t], flat[best] = flat[best], flat[t]
            cur = flat[t]
    return flat, starts[: routes + 1]


# ------------------------------------------------------------------ Python edge


class _Context:
    """Metric, demands and candidate lists of one CVRP instance."""

    def __init__(self, instance: CVRP, k: int) -> None:
        if not isinstance(instance, CVRP):
            raise ProblemError(f"expected a CVRP instance, got {type(instance).__name__}")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise UsageError(f"k (neighbour list length) must be a positive integer, got {k!r}")
        self.instance = instance
        self.n = instance.num_customers
        self.xy, self.mat, self.kind = metric(
            instance.coords, instance.distances, instance.rounding
        )
        self.sym = self.kind != MATRIX or bool(np.array_equal(self.mat, self.mat.T))
        self.q = instance.demands.astype(np.float64)
        self.cap = float(instance.capacity)
        if self.kind == MATRIX:
            sub = np.ascontiguousarray(self.mat[1:, 1:])
            nb = nearest(np.zeros((0, 2)), sub, MATRIX, k) + 1
            scale = float(self.mat.max())
        else:
            nb = nearest(np.ascontiguousarray(self.xy[1:]), self.mat, self.kind, k) + 1
            scale = float(np.ptp(self.xy, axis=0).max())
        # row v lists the customers nearest to customer v; row 0 (the depot) is unused
        self.nb = np.vstack([np.zeros((1, nb.shape[1]), dtype=np.int64), nb])
        self.eps = 1e-10 * max(scale, 1e-300)

    def state(self, routes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        flat = np.concatenate(routes) if routes else np.zeros(0, dtype=np.int64)
        starts = np.cumsum([0] + [len(r) for r in routes]).astype(np.int64)
        return _from_routes(self.n, self.q, flat.astype(np.int64), starts)

    def cost(self, st: np.ndarray) -> float:
        return float(_total_cost(st, self.n, self.xy, self.mat, self.kind))


def _routes(st: np.ndarray, n: int) -> list[np.ndarray]:
    """The non-empty routes of a state, as arrays of customers."""
    buf = np.empty(n, dtype=np.int64)
    out = []
    for r in range(n):
        if st[LEN, r] > 0:
            m = _extract(st, n, r, buf)
            out.append(buf[:m].copy())
    return out


def _split(flat: np.ndarray, starts: np.ndarray) -> list[np.ndarray]:
    return [flat[starts[r] : starts[r + 1]].copy() for r in range(len(starts) - 1)]


def _construct(ctx: _Context, start: str, seed: int) -> list[np.ndarray]:
    n = ctx.n
    if start == "savings":
        if n <= 150:
            pi, pj = np.nonzero(~np.eye(n, dtype=bool))
            pi, pj = pi + 1, pj + 1
        else:
            k = min(n - 1, 100)
            nb = ctx.nb if ctx.nb.shape[1] >= k else _Context(ctx.instance, k).nb
            pi = np.repeat(np.arange(1, n + 1), k)
            pj = nb[1:, :k].ravel()
            if ctx.sym:  # one direction of each symmetric pair is enough
                pairs = np.unique(np.stack([np.minimum(pi, pj), np.maximum(pi, pj)], 1), axis=0)
                pi, pj = pairs[:, 0], pairs[:, 1]
        flat, starts = _savings(n, ctx.xy, ctx.mat, ctx.kind, ctx.sym, ctx.q, ctx.cap,
                                np.ascontiguousarray(pi, dtype=np.int64),
                                np.ascontiguousarray(pj, dtype=np.int64))  # fmt: skip
    elif start == "sweep":
        first = int(np.random.default_rng(seed).integers(n))
        coords = np.ascontiguousarray(ctx.instance.coords)
        flat, starts = _sweep(n, coords, ctx.xy, ctx.mat, ctx.kind, ctx.q, ctx.cap, first)
    else:
        raise UsageError(f"unknown start {start!r}; choose from savings, sweep")
    return _split(flat, starts)


def _positive_int(value, what: str) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1
    ):
        raise UsageError(f"{what} must be a positive integer, got {value!r}")


class _Search:
    """State, stamps and buffers of a local search / ruin-and-recreate run."""

    def __init__(self, ctx: _Context, routes: list[np.ndarray], seed: int) -> None:
        n = ctx.n
        self.ctx = ctx
        self.st, self.fl = ctx.state(routes)
        self.order = np.random.default_rng(seed).permutation(n).astype(np.int64) + 1
        self.stamp = np.zeros(n, dtype=np.int64)
        self.tested = -np.ones(n + 1, dtype=np.int64)
        self.clock = np.zeros(1, dtype=np.int64)
        self.bufs = tuple(np.empty(n + 1, dtype=np.int64) for _ in range(4))

    def args(self) -> tuple:
        c = self.ctx
        return (self.st, self.fl, c.q, c.cap, c.n, c.xy, c.mat, c.kind, c.sym, c.eps, c.nb,
                self.order, self.stamp, self.tested, self.clock, *self.bufs)  # fmt: skip

    def descend(self, tracker: Tracker | None = None) -> None:
        """Granular local search to a local optimum.

        With a ``tracker``, its deadline is checked after every pass over the customers and
        the search stops there.
        """
        if tracker is None:
            _local_search(*self.args(), -1)
            return
        while not tracker.expired():
            if _local_search(*self.args(), 1) == 0.0:
                break


def _construction(start: str):
    def method(instance, *, tracker: Tracker, seed: int = 0, k: int = 40) -> list[np.ndarray]:
        ctx = _Context(instance, k)
        routes = _construct(ctx, start, seed)
        tracker.record(instance.routes_cost(routes))
        return routes

    method.__name__ = start
    method.__doc__ = (
        f"Routes by the ``{start}`` construction.\n\nParameters\n----------\n"
        "instance : CVRP\ntracker : Tracker\n    Receives the cost.\nseed : int\n"
        "    First angle of the sweep.\nk : int\n    Neighbour list length.\n"
    )
    return method


savings = _construction("savings")
sweep = _construction("sweep")


def _descent(ctx: _Context, tracker: Tracker, start: str, seed: int) -> _Search:
    search = _Search(ctx, _construct(ctx, start, seed), seed)
    tracker.record(ctx.cost(search.st))
    search.descend()
    tracker.record(ctx.cost(search.st))
    return search


def local_search(
    instance: CVRP, *, tracker: Tracker, seed: int = 0, start: str = "savings", k: int = 40
) -> list[np.ndarray]:
    """Construction, then granular local search to a local optimum.

    Parameters
    ----------
    instance : CVRP
        The instance.
    tracker : Tracker
        Clock, deadline and trajectory.
    seed : int
        Order in which customers are examined; first angle of the sweep.
    start : {"savings", "sweep"}
        Construction.
    k : int
        Neighbour list length (granularity).

    Returns
    -------
    list of numpy.ndarray
        The routes.
    """
    ctx = _Context(instance, k)
    return _routes(_descent(ctx, tracker, start, seed).st, ctx.n)


def improve(
    instance: CVRP, routes: tuple[np.ndarray, ...], *, tracker: Tracker, seed: int = 0,
    k: int = 40,
) -> list[np.ndarray]:  # fmt: skip
    """Granular local search (relocate, swap, 2-opt*, 2-opt) from the given routes.

    The local search of :func:`local_search`, started from ``routes`` instead of a
    construction; it runs to a local optimum or until the tracker's deadline passes
    (checked after every pass over the customers). Empty routes are dropped.

    Parameters
    ----------
    instance : CVRP
        The instance.
    routes : tuple of numpy.ndarray
        The starting routes (already checked).
    tracker : Tracker
        Clock and deadline.
    seed : int
        Order in which customers are examined.
    k : int
        Neighbour list length (granularity).

    Returns
    -------
    list of numpy.ndarray
        The improved routes.
    """
    ctx = _Context(instance, k)
    search = _Search(ctx, [route for route in routes if route.size], seed)
    search.descend(tracker)
    return _routes(search.st, ctx.n)


def ils(
    instance: CVRP,
    *,
    tracker: Tracker,
    seed: int = 0,
    start: str = "savings",
    k: int = 40,
    iterations: int | None = None,
    removed: float = 10.0,
    string: int = 10,
    blink: float = 0.01,
    t_start: float = 0.1,
    t_end: float = 0.001,
) -> list[np.ndarray]:
    """Ruin and recreate (SISR strings, greedy insertion with blinks) with local search.

    Each iteration removes strings of about ``removed`` customers in total around a random
    customer, reinserts them, runs the granular local search and accepts the result by
    simulated annealing; the temperature falls geometrically from ``t_start`` to ``t_end``
    times the mean edge cost of the first local optimum, over the time limit or the
    ``iterations`` (default ``20 n`` when there is no time limit).

    Parameters
    ----------
    instance : CVRP
        The instance.
    tracker : Tracker
        Clock, deadline and trajectory.
    seed : int
        Seed of every random choice; with ``iterations`` the same seed gives the same routes.
    start : {"savings", "sweep"}
        Construction.
    k : int
        Neighbour list length (granularity of the local search, strings near the seed).
    iterations : int, optional
        Number of ruin-and-recreate steps.
    removed : float
        Mean number of customers removed per step (SISR's ``c-bar``).
    string : int
        Longest string removed (SISR's ``L-max``).
    blink : float
        Probability of skipping an insertion position.
    t_start, t_end : float
        Annealing temperatures, relative to the mean edge cost.

    Returns
    -------
    list of numpy.ndarray
        The best routes found.
    """
    _positive_int(iterations, "iterations")
    _positive_int(string, "string")
    for what, value in (("removed", removed), ("t_start", t_start), ("t_end", t_end)):
        if not (isinstance(value, (int, float)) and value > 0):
            raise UsageError(f"{what} must be a positive number, got {value!r}")
    if not (isinstance(blink, (int, float)) and 0 <= blink < 1):
        raise UsageError(f"blink must be a number in [0, 1), got {blink!r}")
    ctx = _Context(instance, k)
    n = ctx.n
    search = _descent(ctx, tracker, start, seed)
    if n < 2:
        return _routes(search.st, n)
    cost = ctx.cost(search.st)
    edges = n + int(np.count_nonzero(search.st[LEN, :n]))
    scale = cost / edges
    if iterations is None and tracker.time_limit is None:
        iterations = 20 * n
    best_st = search.st.copy()
    best_fl = search.fl.copy()
    cur = np.array([cost, cost])
    state = new_state(seed)
    done = 0
    chunk = 64 if iterations is not None else 8
    budget = tracker.remaining()

    def temperature(frac: float) -> float:
        frac = min(max(frac, 0.0), 1.0)
        return scale * t_start * (t_end / t_start) ** frac

    while True:
        if iterations is not None and done >= iterations:
            break
        if tracker.expired():
            break
        m = chunk if iterations is None else min(chunk, iterations - done)
        if iterations is not None:
            f0, f1 = done / iterations, (done + m) / iterations
        else:
            used = budget - tracker.remaining()
            f0, f1 = used / budget, (used + 0.05) / budget
        t0 = time.perf_counter()
        _rr_chunk(*search.args(), best_st, best_fl, cur, state, m, temperature(f0),
                  temperature(f1), float(removed), int(string), float(blink))  # fmt: skip
        done += m
        tracker.record(float(cur[1]))
        if iterations is None or tracker.time_limit is not None:
            spent = max(time.perf_counter() - t0, 1e-6)
            target = min(0.05, max(tracker.remaining(), 0.0) / 2 + 1e-3)
            chunk = int(min(max(m * target / spent, 1), 1 << 20))
    return _routes(best_st, n)
