"""Lower bounds for the CVRP: degree and radial bounds for any size, a cutting-plane LP.

The bounds work on the undirected graph on the depot ``0`` and the customers ``1..n``, with
edge costs ``c_ij = min(d_ij, d_ji)``: a route costs at least its edges under these costs
(they are the instance's own costs when it is symmetric, as it is from coordinates). A
solution uses each customer-customer edge at most once and a depot edge ``{0, i}`` at most
twice (the route ``0-i-0``); every customer has degree 2, and the depot degree ``2K`` with
``K`` routes.

*Vehicles.* Demands are integers and a route may carry at most the capacity ``Q`` (plus
the instance's tolerance of 1e-9), so at most ``Qe = floor(Q + 1e-9)``; a set ``S`` of
customers needs at least ``r(S) = max(1, ceil(d(S) / Qe))`` routes, and there are at least
``k = r(all customers)`` of them.

*Degree bound* (:data:`DEGREE`). Each edge has two ends, so a solution's cost is half the
sum, over all nodes ``v``, of the costs of the solution's edges at ``v`` (with their
multiplicity). A customer ``i`` has two edge ends: at least the two smallest values of the
multiset ``{c_0i, c_0i} + {c_ij : j a customer, j != i}``. The depot has ``2K >= 2k``
edge ends, at most two to each customer: at least ``2 * (sum of the k smallest c_0i)``.
So every solution costs at least ``1/2 sum_i two_i + sum of the k smallest c_0i``. For
coordinate instances it is computed without a distance matrix: the two cheapest
customer-customer edges at ``i`` join ``i`` to its two nearest customers, found with a
:class:`scipy.spatial.cKDTree`, since ``nint`` rounding is monotone (the rounded distance to
the nearest point is the smallest rounded distance); the tree's distances are shrunk by a
relative 1e-12 before rounding, against their last-bit differences from ``numpy.hypot``.

*Radial bound* (:data:`RADIAL`), the radial bound of Haimovich and Rinnooy Kan (1985)
with its vehicle counts rounded up. Let ``delta_i`` be the shortest-path distance from the
depot to customer ``i`` under the costs ``c``. A route through ``i`` is a closed walk
through the depot and ``i``: its part from the depot to ``i`` and its part back are both
depot-``i`` walks, so it costs at least ``2 delta_i``, hence at least ``2 max_{i in R}
delta_i = 2 int_0^inf [max_{i in R} delta_i >= t] dt``. Summing over the routes, a solution
costs at least ``2 int_0^inf N(t) dt``, ``N(t)`` the number of its routes that visit a
customer of ``S_t = {i : delta_i >= t}``; these routes visit, and carry the demand of, all
of ``S_t``, so ``N(t) >= r(S_t)`` when ``S_t`` is not empty (at least one route visits it,
even when its demand is 0). With ``delta`` sorted in decreasing order, ``delta_(1) >= ...
>= delta_(n)``, and ``r_j = r({(1), ..., (j)})`` (``r_0 = 0``), ``S_t`` is the first ``j``
customers for ``t`` in ``(delta_(j+1), delta_(j)]``, and the integral is exactly
``sum_j delta_(j) (r_j - r_(j-1))``, a sum of non-negative terms. Since ``r(S) >= d(S) /
Qe``, it is at least the original bound ``2 sum_i delta_i d_i / Q`` (for ``Qe <= Q``).
``delta`` is found by Dijkstra's algorithm on the complete graph in O(n^2) time and O(n)
memory, each edge's cost computed on the fly as the instance computes it (``hypot`` and
``nint`` rounding, :func:`.._common.lengths`); with ``nint`` rounding a path of two edges
may be shorter than the direct edge (``nint(0.4) + nint(0.4) = 0 < nint(0.8) = 1``), so
``delta_i = c_0i`` would not be valid.

*LP bound* (:data:`LP`). The linear relaxation of the two-index vehicle flow formulation
(Laporte, Nobert and Desrochers 1985; Toth and Vigo 2002, ch. 1): ``x_e`` in ``[0, 1]``
for customer-customer edges and ``[0, 2]`` for depot edges, ``x(delta(i)) = 2`` at every
customer, ``x(delta(0)) >= 2k``, and the rounded capacity inequalities
``x(delta(S)) >= 2 r(S)`` (with ``r(S) >= 1`` they include the subtour elimination
constraints), written as ``x(E(S)) <= |S| - r(S)`` when that row is shorter (the two are
equivalent under the degree equations). Every solution satisfies all of them, so the LP
optimum over any subset of them is a lower bound. The inequalities are separated
heuristically (Augerat et al. 1995; Lysgaard, Letchford and Eglese 2004) from the LP
solution ``x*``: the connected components of the customer graph of the edges with
``x*_e >= t``, for a few thresholds ``t`` (components not joined to the depot violate the
subtour constraint), and a greedy growth from every customer that adds the customer most
strongly joined to the set, keeping the most violated set met. The LP is solved by HiGHS's
dual simplex, re-solved from the last basis after each round, until no violated inequality
is found and no edge is missing, the bound stalls, a time limit or a stop request. Its
columns are at first the depot edges and the edges to each customer's nearest customers;
each round adds the other edges whose reduced cost is negative (column generation). The
LP includes the degree bound's constraints, so its optimum is at least the degree bound; all three
bounds are computed (the LP up to ``lp_limit`` customers) and the largest is reported.

*Floating point.* The LP's objective value is not used as such: from the dual values ``y``
of a solve (optimal or not), the Lagrangian bound ``sum_r y_r b_r + sum_e u_e min(0, c_e -
(A^T y)_e)`` (``y`` clipped to the sign each row's sense allows; ``u_e`` the edge's upper
bound) is a lower bound on the LP for every such ``y`` (Neumaier and Shcherbina 2004), since
``0 <= x_e <= u_e``. It is computed here, from the rows as this module wrote them, over
*all* edges, in the LP or not, so it bounds the LP over the complete graph. It is computed
in float64 and ``SAFETY * scale`` is taken off it, ``scale`` being the sum of the
magnitudes of the terms it adds, which covers the rounding errors of sums of up to about
10^7 terms (Higham 2002, ch. 4); the degree and radial bounds likewise (the radial
bound's ``delta_i`` are float sums along paths of at most ``n`` edges, larger than the
exact sums by a relative ``n * 2**-53`` at most, within the same margin). When every cost
is an integer (``nint`` rounding, or an integer matrix) a bound is then rounded up.

References
----------
M. Haimovich and A. H. G. Rinnooy Kan, "Bounds and heuristics for capacitated routing
problems", Mathematics of Operations Research 10 (1985), 527-542.
G. Laporte, Y. Nobert and M. Desrochers, "Optimal routing under capacity and distance
restrictions", Operations Research 33 (1985), 1050-1073.
P. Augerat, J. M. Belenguer, E. Benavent, A. Corberán, D. Naddef and G. Rinaldi,
"Computational results with a branch and cut code for the capacitated vehicle routing
problem", Research Report 949-M, Université Joseph Fourier, Grenoble (1995).
J. Lysgaard, A. N. Letchford and R. W. Eglese, "A new branch-and-cut algorithm for the
capacitated vehicle routing problem", Mathematical Programming 100 (2004), 423-445.
P. Toth and D. Vigo (eds.), The Vehicle Routing Problem, SIAM (2002).
A. Neumaier and O. Shcherbina, "Safe bounds in linear and mixed-integer linear
programming", Mathematical Programming 99 (2004), 283-296.
N. J. Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM (2002), ch. 4.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from hybridsolve.mip.errors import UsageError
from hybridsolve.mip.highs import set_options
from hybridsolve.mip.highs_factory import new_highs

from .. import _common as cm
from ..routing import CVRP
from ._limits import checked, number
from ._lp import lp_solution
from .tsp import SAFETY

__all__ = ["DEGREE", "LP", "RADIAL", "CVRPBound", "cvrp_bound"]

#: ``CVRPBound.method`` of the degree bound.
DEGREE = "degree"

#: ``CVRPBound.method`` of the radial bound.
RADIAL = "radial"

#: ``CVRPBound.method`` of the cutting-plane LP bound.
LP = "lp"

#: Tolerance of routes' loads in :meth:`CVRP.check_routes`.
_LOAD_TOL = 1e-9

#: Smallest violation ``2 r(S) - x*(delta(S))`` of a cut that is added; HiGHS's primal
#: feasibility tolerance is 1e-7, so smaller violations may be artefacts of the solve.
_VIOLATION = 1e-4

#: Thresholds ``t`` of the component heuristic: the support (``x*_e > 0``, up to the
#: solver's tolerance), and the edges carrying at least a quarter, half, three quarters
#: and all of a unit of flow.
_THRESHOLDS = (1e-6, 0.25, 0.5, 0.75, 1.0 - 1e-6)

#: The cutting-plane loop stops when the best Lagrangian value has risen by less than a
#: relative :data:`_STALL_RISE` over the last :data:`_STALL_ROUNDS` rounds (the best, as
#: the value of one round may fall below an earlier one's when priced edges enter).
_STALL_ROUNDS = 5
_STALL_RISE = 1e-5

#: Relative amount by which a :class:`~scipy.spatial.cKDTree` distance is shrunk before it
#: is rounded, so that it is no larger than the ``numpy.hypot`` value the instance's cost
#: uses (the two agree to a few units of 2**-53).
_KD_SHRINK = 1e-12

#: The ``matrix`` argument of :func:`_radii` for an instance without a distance matrix
#: (read-only, as instances' arrays are, so that both calls share a compiled signature).
_NO_MATRIX = cm.frozen(np.zeros((0, 0)))

#: Nearest customers of each customer whose edges start in the LP, with all depot edges;
#: edges of good routes are mostly among them, and pricing adds any other that is needed.
_NEIGHBOURS = 10

#: An edge outside the LP enters when its reduced cost is below ``-_PRICE`` times the
#: largest edge cost (HiGHS's dual feasibility tolerance is 1e-7).
_PRICE = 1e-7


@dataclass(frozen=True)
class CVRPBound:
    """The result of :func:`cvrp_bound`.

    Attributes
    ----------
    bound : float
        A valid lower bound on the cost of every solution, in the instance's cost units.
    method : str
        Where ``bound`` comes from: :data:`LP`, :data:`RADIAL` or :data:`DEGREE`, the
        largest (beyond ``lp_limit`` customers, or when the LP did not do better, as when
        the time ran out first, the larger of the radial and degree bounds).
    iterations : int
        LP solves (0 without the LP).
    cuts : int
        Rounded capacity inequalities added to the LP.
    vehicles : int
        The least number of routes ``k`` used by the degree and LP bounds.
    converged : bool
        Whether the cutting-plane loop ended because the separation heuristics found no
        violated inequality; ``False`` without the LP and after a limit, a stop request
        or a stall.
    seconds : float
        Wall-clock seconds, including the degree and radial bounds and the LP setup.
    """

    bound: float
    method: str
    iterations: int
    cuts: int
    vehicles: int
    converged: bool
    seconds: float


def _effective_capacity(cvrp: CVRP) -> int:
    """The largest load a route may carry: loads are integers at most ``Q + 1e-9``."""
    return int(math.floor(cvrp.capacity + _LOAD_TOL))


def _routes_needed(demand: int, capacity: int) -> int:
    """``r(S) = max(1, ceil(d(S) / Qe))`` (every demand is 0 when ``Qe`` is 0)."""
    if demand <= 0:
        return 1
    return max(1, -(-demand // capacity))


def _integer_costs(cvrp: CVRP) -> bool:
    """Whether every edge cost of ``cvrp`` is an integer."""
    if cvrp.distances is not None:
        return bool(np.all(cvrp.distances == np.floor(cvrp.distances)))
    return cvrp.rounding == "nint"


def _finish(value: float, scale: float, integer: bool) -> float:
    """``value - SAFETY * scale``, rounded up when every solution cost is an integer."""
    low = value - SAFETY * scale
    return float(math.ceil(low)) if integer else low


def _edge_costs(cvrp: CVRP, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Costs ``min(d_ab, d_ba)`` of the edges ``{a[e], b[e]}``, as the instance computes them."""
    if cvrp.distances is not None:
        return np.minimum(cvrp.distances[a, b], cvrp.distances[b, a])
    return cm.lengths(cvrp.coords[a], cvrp.coords[b], cvrp.rounding)


def _two_nearest(cvrp: CVRP) -> np.ndarray:
    """``(n, 2)`` lower bounds on the two smallest customer-customer costs at each customer.

    ``inf`` where a customer has fewer than two other customers. From the matrix: the exact
    values. From coordinates: the KD-tree returns the three smallest distances from each
    customer to the customers, its own zero among them, so the other two are the two
    smallest distances to other customers (a duplicate point gives a second zero, which is
    right); shrunk by :data:`_KD_SHRINK` and rounded as the instance rounds, they are at
    most the two smallest costs, since rounding is non-decreasing.
    """
    n = cvrp.num_customers
    out = np.full((n, 2), np.inf)
    if n < 2:
        return out
    if cvrp.distances is not None:
        d = cvrp.distances[1:, 1:]
        work = np.minimum(d, d.T)
        np.fill_diagonal(work, np.inf)
        return np.sort(np.partition(work, 1, axis=1)[:, :2], axis=1)
    k = min(3, n)
    dist, _ = cKDTree(cvrp.coords[1:]).query(cvrp.coords[1:], k=k)
    dist = np.sort(np.asarray(dist, dtype=np.float64).reshape(n, k), axis=1)[:, 1:]
    low = dist * (1.0 - _KD_SHRINK)
    if cvrp.rounding == "nint":
        low = np.floor(low + 0.5)
    out[:, : k - 1] = low
    return out


def _degree_bound(cvrp: CVRP, k: int, integer: bool) -> float:
    """The degree bound (module docstring) with ``k`` routes at least."""
    n = cvrp.num_customers
    depot = _edge_costs(cvrp, np.zeros(n, dtype=np.int64), np.arange(1, n + 1))
    near = _two_nearest(cvrp)
    two = np.minimum(np.minimum(2.0 * depot, depot + near[:, 0]), near[:, 0] + near[:, 1])
    ends = float(np.partition(depot, k - 1)[:k].sum())
    value = 0.5 * float(two.sum()) + ends
    return _finish(value, value, integer)


@njit(cache=True, nogil=True)
def _radii(coords, matrix, nint):
    """Shortest-path distances from the depot to the customers under ``min(d_ij, d_ji)``.

    Dijkstra's algorithm on the complete graph, O(m^2) time and O(m) memory for ``m``
    nodes. An edge's cost is ``min(matrix[i, j], matrix[j, i])`` when ``matrix`` has rows,
    else ``hypot`` of the coordinate differences, rounded as ``floor(d + 0.5)`` when
    ``nint``: the C library's ``hypot``, as ``numpy.hypot`` in :func:`.._common.lengths`.
    """
    m = matrix.shape[0] if matrix.shape[0] > 0 else coords.shape[0]
    dist = np.full(m, np.inf)
    done = np.zeros(m, dtype=np.bool_)
    dist[0] = 0.0
    for _ in range(m):
        u = -1
        for v in range(m):
            if not done[v] and (u < 0 or dist[v] < dist[u]):
                u = v
        done[u] = True
        for v in range(m):
            if done[v]:
                continue
            if matrix.shape[0] > 0:
                c = min(matrix[u, v], matrix[v, u])
            else:
                c = math.hypot(coords[u, 0] - coords[v, 0], coords[u, 1] - coords[v, 1])
                if nint:
                    c = math.floor(c + 0.5)
            if dist[u] + c < dist[v]:
                dist[v] = dist[u] + c
    return dist[1:]


def _depot_radii(cvrp: CVRP) -> np.ndarray:
    """``delta_i``, the shortest-path distances from the depot, by :func:`_radii`."""
    matrix = _NO_MATRIX if cvrp.distances is None else cvrp.distances
    return _radii(cvrp.coords, matrix, cvrp.rounding == "nint")


def _radial_bound(cvrp: CVRP, capacity: int, integer: bool) -> float:
    """The radial bound (module docstring): ``2 sum_j delta_(j) (r_j - r_(j-1))``."""
    delta = _depot_radii(cvrp)
    order = np.argsort(-delta, kind="stable")
    load = np.cumsum(cvrp.demands[1:][order])
    need = np.where(load <= 0, 1, np.maximum(1, -(-load // max(capacity, 1))))
    value = 2.0 * float((delta[order] * np.diff(need, prepend=0)).sum())
    return _finish(value, value, integer)


@njit(cache=True, nogil=True)
def _grow(x, degree, demand, capacity, out_sets, out_violation):
    """Greedy growth of a customer set from every seed customer.

    ``x`` is the dense symmetric LP solution on nodes ``0..n`` (0 the depot) and ``degree``
    its row sums. From seed ``s`` the set repeatedly takes the customer ``v`` outside it
    with the largest ``x(v : S)`` (while positive), updating
    ``x(delta(S)) += degree[v] - 2 x(v : S)``. ``out_violation[s - 1]`` gets the largest
    ``2 r(S) - x(delta(S))`` met and ``out_sets[s - 1]`` that set.
    """
    m = x.shape[0]
    n = m - 1
    order = np.empty(n, dtype=np.int64)
    for s in range(1, m):
        inside = np.zeros(m, dtype=np.bool_)
        inside[s] = True
        link = x[s].copy()
        cut = degree[s]
        load = demand[s]
        order[0] = s
        size = 1
        need = 1 if load <= 0 else max(1, -(-load // capacity))
        best = 2.0 * need - cut
        best_size = 1
        while size < n:
            pick = -1
            strongest = 0.0
            for u in range(1, m):
                if not inside[u] and link[u] > strongest:
                    strongest = link[u]
                    pick = u
            if pick < 0:
                break
            inside[pick] = True
            order[size] = pick
            size += 1
            cut += degree[pick] - 2.0 * link[pick]
            load += demand[pick]
            for u in range(m):
                link[u] += x[pick, u]
            need = 1 if load <= 0 else max(1, -(-load // capacity))
            if 2.0 * need - cut > best:
                best = 2.0 * need - cut
                best_size = size
        out_violation[s - 1] = best
        for t in range(best_size):
            out_sets[s - 1, order[t]] = True


@njit(cache=True, nogil=True)
def _dual_sums(masks, across, y, p, pair, full):
    """Add ``(A^T y)_{ij}`` to ``full[i, j]`` for every pair of nodes ``i != j``.

    ``p[v]`` is the dual of node ``v``'s degree row (the depot's for ``v = 0``), ``y[r]``
    that of the cut of customer set ``masks[r]``. The degree rows of ``i`` and ``j`` hold
    edge ``{i, j}``; an ``x(E(S))`` row holds it when both ends are in ``S``; an
    ``x(delta(S))`` row (``across[r]``) when exactly one is, a coefficient
    ``1_S(i) + 1_S(j) - 2 1_S(i) 1_S(j)``, added as written with ``pair = -2``. In a fixed
    order, so the result is deterministic.
    """
    m = p.shape[0]
    ends = p.copy()
    members = np.empty(m, dtype=np.int64)
    for r in range(masks.shape[0]):
        w = y[r]
        if w == 0.0:
            continue
        size = 0
        for v in range(m):
            if masks[r, v]:
                members[size] = v
                size += 1
        if across[r]:
            for t in range(size):
                ends[members[t]] += w
            w = pair * w
        for t in range(size):
            i = members[t]
            for u in range(size):
                full[i, members[u]] += w
    for i in range(m):
        for j in range(m):
            full[i, j] += ends[i] + ends[j]


class _CuttingPlanes:
    """The two-index LP in HiGHS over a growing set of edges, with its rows' descriptions.

    Rows ``0..n-1`` are the degree equations of customers ``1..n``, row ``n`` the depot
    degree, row ``n + 1 + r`` the ``r``-th cut: a customer set (a row of ``masks``) in the
    ``x(delta(S)) >= 2 r(S)`` form (``across[r]``) or the ``x(E(S)) <= |S| - r(S)`` one.
    The columns are the edges of :data:`_NEIGHBOURS` nearest neighbour lists plus the
    depot edges at first; :meth:`price` adds those whose reduced cost is negative.
    """

    def __init__(self, cvrp: CVRP, k: int, capacity: int) -> None:
        n = cvrp.num_customers
        m = self.m = n + 1
        a, b = np.triu_indices(m, 1)
        self.a, self.b = a.astype(np.int64), b.astype(np.int64)
        self.cost = _edge_costs(cvrp, self.a, self.b)
        self.upper = np.where(self.a == 0, 2.0, 1.0)
        self.demand = np.array(cvrp.demands, dtype=np.int64)
        self.capacity = capacity
        self.masks = np.zeros((0, m), dtype=np.bool_)
        self.across = np.zeros(0, dtype=np.bool_)
        self.row_lower = np.concatenate([np.full(n, 2.0), [2.0 * k]])
        self.row_upper = np.concatenate([np.full(n, 2.0), [math.inf]])
        self.position = np.full(self.a.size, -1, dtype=np.int64)  # edge -> column
        self.columns = np.zeros(0, dtype=np.int64)  # column -> edge
        h = self.highs = new_highs()
        set_options(h, {"output_flag": False, "threads": 1, "random_seed": 0, "solver": "simplex"})
        none = np.zeros(0, dtype=np.int32)
        h.addRows(m, self.row_lower, self.row_upper, 0, none, none, np.zeros(0))
        matrix = np.full((m, m), np.inf)
        matrix[self.a, self.b] = self.cost
        matrix[self.b, self.a] = self.cost
        near = min(_NEIGHBOURS, n - 1)
        first = [np.flatnonzero(self.a == 0)]
        if near > 0:
            rows = np.repeat(np.arange(1, m), near)
            cols = np.argpartition(matrix[1:, 1:], near - 1, axis=1)[:, :near].ravel() + 1
            first.append(self._edge(rows, cols))
        self._add_columns(np.unique(np.concatenate(first)))

    def _edge(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        """Ids of the edges ``{i, j}`` (``i != j``) in the order of ``numpy.triu_indices``."""
        lo, hi = np.minimum(i, j), np.maximum(i, j)
        return lo * self.m - lo * (lo + 1) // 2 + (hi - lo - 1)

    def _add_columns(self, edges: np.ndarray) -> None:
        """Add the edges as columns, with their entries in every row so far."""
        n = self.m - 1
        a, b = self.a[edges], self.b[edges]
        first, second = self.masks[:, a], self.masks[:, b]
        member = np.where(self.across[:, None], first != second, first & second)
        cut_row, cut_col = np.nonzero(member)
        count = edges.size
        col = np.concatenate([np.arange(count), np.arange(count), cut_col])
        row = np.concatenate([np.where(a == 0, n, a - 1), b - 1, self.m + cut_row])
        order = np.lexsort((row, col))
        starts = np.searchsorted(col[order], np.arange(count)).astype(np.int32)
        self.position[edges] = self.columns.size + np.arange(count)
        self.columns = np.concatenate([self.columns, edges])
        self.highs.addCols(count, self.cost[edges], np.zeros(count), self.upper[edges],
                           row.size, starts, row[order].astype(np.int32),
                           np.ones(row.size))  # fmt: skip

    def add_cuts(self, sets: list[np.ndarray]) -> None:
        """Add the rounded capacity inequality of each set, in its form with fewer entries."""
        a, b = self.a[self.columns], self.b[self.columns]
        entries, lower, upper, across = [], [], [], []
        for inside in sets:
            size = int(inside.sum())
            need = self._need(inside)
            crossing = np.flatnonzero(inside[a] != inside[b])
            within = np.flatnonzero(inside[a] & inside[b])
            use_across = crossing.size <= within.size
            entries.append(crossing if use_across else within)
            lower.append(2.0 * need if use_across else -math.inf)
            upper.append(math.inf if use_across else float(size - need))
            across.append(use_across)
        self.masks = np.vstack([self.masks, np.array(sets)])
        self.across = np.concatenate([self.across, across])
        self.row_lower = np.concatenate([self.row_lower, lower])
        self.row_upper = np.concatenate([self.row_upper, upper])
        starts = np.cumsum([0] + [e.size for e in entries[:-1]]).astype(np.int32)
        index = np.concatenate(entries).astype(np.int32)
        self.highs.addRows(len(sets), np.array(lower), np.array(upper),
                           index.size, starts, index, np.ones(index.size))  # fmt: skip

    def solve(self, seconds: float | None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Run HiGHS for at most ``seconds``: the edge values if optimal, the row duals if valid.

        See :func:`._lp.lp_solution`.
        """
        values, y = lp_solution(self.highs, seconds, self.row_lower.size)
        x = None
        if values is not None:
            x = np.zeros(self.a.size)
            x[self.columns] = values
        return x, y

    def _pulled(self, p: np.ndarray, y: np.ndarray, pair: float) -> np.ndarray:
        """``(A^T y)_e`` for every edge, ``p`` the node rows' duals and ``y`` the cuts'.

        With ``pair = -2``; with ``pair = +2`` and absolute values, the sum of the
        magnitudes of the terms added instead (see :func:`_dual_sums`).
        """
        full = np.zeros((self.m, self.m))
        _dual_sums(self.masks, self.across, y, p, pair, full)
        return full[self.a, self.b]

    def dual_bound(self, y: np.ndarray) -> tuple[float, float, np.ndarray]:
        """The Lagrangian bound at ``y``, the magnitude of its terms, every edge's reduced cost.

        ``y`` is first clipped to the signs the rows allow (``>=`` rows non-negative,
        ``<=`` rows non-positive). The magnitude bounds the sum of the absolute values of
        all terms the computation adds, so its rounding errors are a tiny multiple of it.
        """
        n = self.m - 1
        y = np.where(self.row_upper == math.inf, np.maximum(y, 0.0), y)
        y = np.where(self.row_lower == -math.inf, np.minimum(y, 0.0), y)
        rhs = np.where(self.row_lower == -math.inf, self.row_upper, self.row_lower)
        p = np.concatenate([[y[n]], y[:n]])
        cuts = y[self.m :]
        reduced = self.cost - self._pulled(p, cuts, -2.0)
        magnitude = np.abs(self.cost) + self._pulled(np.abs(p), np.abs(cuts), 2.0)
        terms = y * rhs
        value = float(terms.sum()) + float((self.upper * np.minimum(reduced, 0.0)).sum())
        scale = float(np.abs(terms).sum()) + float((self.upper * magnitude).sum())
        return value, scale, reduced

    def price(self, reduced: np.ndarray) -> bool:
        """Add the edges outside the LP with a negative reduced cost; whether there were any."""
        tolerance = _PRICE * max(1.0, float(self.cost.max()))
        missing = np.flatnonzero((self.position < 0) & (reduced < -tolerance))
        if missing.size:
            self._add_columns(missing)
        return bool(missing.size)

    def _need(self, inside: np.ndarray) -> int:
        return _routes_needed(int(self.demand[inside].sum()), self.capacity)

    def separate(self, x: np.ndarray) -> list[np.ndarray]:
        """Customer sets whose rounded capacity inequality ``x`` violates, most violated first."""
        m = self.m
        dense = np.zeros((m, m))
        dense[self.a, self.b] = x
        dense[self.b, self.a] = x
        degree = dense.sum(axis=1)
        found: dict[bytes, tuple[float, np.ndarray]] = {}

        def offer(inside: np.ndarray, violation: float) -> None:
            if violation > _VIOLATION:
                found.setdefault(np.packbits(inside).tobytes(), (violation, inside))

        a, b = self.a[self.m - 1 :], self.b[self.m - 1 :]  # the customer-customer edges
        flow = x[self.m - 1 :]
        load = self.demand[1:]
        for threshold in _THRESHOLDS:
            strong = flow >= threshold
            graph = csr_matrix((np.ones(int(strong.sum())), (a[strong] - 1, b[strong] - 1)),
                               shape=(m - 1, m - 1))  # fmt: skip
            count, label = connected_components(graph, directed=False)
            same = label[a - 1] == label[b - 1]
            within = np.bincount(label[a[same] - 1], weights=flow[same], minlength=count)
            cut = np.bincount(label, weights=degree[1:], minlength=count) - 2.0 * within
            demand = np.bincount(label, weights=load, minlength=count).astype(np.int64)
            for c in range(count):
                violation = 2.0 * _routes_needed(int(demand[c]), self.capacity) - cut[c]
                offer(np.concatenate([[False], label == c]), float(violation))
        sets = np.zeros((m - 1, m), dtype=np.bool_)
        violation = np.empty(m - 1)
        _grow(dense, degree, self.demand, max(self.capacity, 1), sets, violation)
        for s in range(m - 1):
            offer(sets[s], float(violation[s]))
        ranked = sorted(found.values(), key=lambda item: -item[0])
        return [inside for _, inside in ranked]


def _checked(time_limit, stop, lp_limit, progress) -> None:
    checked(time_limit, stop, progress)
    if not (number(lp_limit) and isinstance(lp_limit, (int, np.integer)) and lp_limit >= 0):
        raise UsageError(f"lp_limit must be a non-negative integer, got {lp_limit!r}")


def _warm() -> None:
    """Compile (or load from Numba's cache) the kernels of the radial and LP bounds."""
    coords = cm.frozen(np.zeros((2, 2)))
    _radii(coords, _NO_MATRIX, True)
    _radii(coords, cm.frozen(np.zeros((2, 2))), False)
    x = np.zeros((2, 2))
    masks = np.zeros((1, 2), dtype=np.bool_)
    _grow(x, np.zeros(2), np.zeros(2, dtype=np.int64), 1, masks, np.zeros(1))
    _dual_sums(masks, np.zeros(1, dtype=np.bool_), np.zeros(1), np.zeros(2), 2.0, x)


def _cutting_planes(
    lp: _CuttingPlanes,
    integer: bool,
    left: Callable[[], float | None],
    stop: Callable[[], bool] | None,
    improved: Callable[[float], None],
) -> tuple[float, int, int, bool]:
    """Solve, price and separate until done; the best safe bound, solves, cuts, convergence.

    ``left()`` gives the seconds left (``None``: no limit); ``improved`` is called with each
    better safe bound. The bound is ``-inf`` when no solve returned valid duals.
    """
    best, iterations, cuts = -math.inf, 0, 0
    history: list[float] = []
    while True:
        seconds = left()
        if seconds is not None and seconds <= 0:
            return best, iterations, cuts, False
        x, y = lp.solve(seconds)
        iterations += 1
        if y is None:
            return best, iterations, cuts, False
        value, scale, reduced = lp.dual_bound(y)
        low = _finish(value, scale, integer)
        if low > best:
            best = low
            improved(best)
        history.append(max(value, history[-1]) if history else value)  # the best so far
        stalled = len(history) > _STALL_ROUNDS and (
            history[-1] - history[-1 - _STALL_ROUNDS] <= _STALL_RISE * abs(history[-1])
        )
        seconds = left()
        if (
            x is None
            or stalled
            or (stop is not None and stop())
            or (seconds is not None and seconds <= 0)
        ):
            return best, iterations, cuts, False
        priced = lp.price(reduced)
        sets = lp.separate(x)
        if not (sets or priced):
            return best, iterations, cuts, True
        if sets:
            lp.add_cuts(sets)
            cuts += len(sets)


def cvrp_bound(
    cvrp: CVRP,
    *,
    time_limit: float | None = None,
    stop: Callable[[], bool] | None = None,
    lp_limit: int = 1000,
    progress: Callable[[float], None] | None = None,
) -> CVRPBound:
    """A lower bound on the cost of every solution of a CVRP.

    Parameters
    ----------
    cvrp : CVRP
        The instance.
    time_limit : float, optional
        Wall-clock seconds for the run. The degree and radial bounds are always computed
        (O(n log n) and O(n^2) time, O(n) memory from coordinates; O(n^2) from a matrix);
        the LP's solves get the time left, and no round of cuts starts after it.
    stop : callable, optional
        Called without arguments after each LP solve; the loop ends when it returns true.
    lp_limit : int
        Largest number of customers for the cutting-plane LP; beyond it only the degree
        and radial bounds are computed, and 0 never runs the LP. The LP holds the edges
        it needs, but all ``n (n + 1) / 2`` are costed and priced at every round. Up to
        the default 1000 it stays within a few hundred MB, and on uniform random
        instances (:func:`hybridsolve.datasets.routing.cvrp`) of 300 to 1000 customers
        its bound after 5 s is at least the degree and radial bounds, and after 10 s 15%
        to 26% below a 10 s heuristic's cost, against 28% to 40%; with the depot far off the
        customers (a corner depot, as in some X instances) the radial bound is the
        larger there. A round of the LP takes up to about 1 s at 1000 customers, by
        which a time limit may be overrun.
    progress : callable, optional
        Called with each better bound, as :attr:`CVRPBound.bound` would report it, when it
        is found (from the thread the bound runs in): the larger of the degree and radial
        bounds first, then each LP bound above it.

    Returns
    -------
    CVRPBound
        The largest of the degree bound, the radial bound and the best safe LP bound
        found.

    Raises
    ------
    UsageError
        When ``cvrp`` is not a :class:`~hybridsolve.comb.CVRP`, or on a bad
        ``time_limit``, ``stop`` or ``lp_limit``.

    Notes
    -----
    Validity: every solution satisfies the degree, depot-degree and rounded capacity
    constraints (module docstring), so the degree bound and every Lagrangian bound of
    the LP over them are at most its cost; each of its routes costs at least twice the
    largest shortest-path distance from the depot to its customers, and enough routes
    reach every distance to carry the demand beyond it, so the radial bound is too. Each
    bound is reported less a float margin.
    Without ``time_limit`` and ``stop`` the result depends only on the instance.
    """
    if not isinstance(cvrp, CVRP):
        raise UsageError(f"cvrp_bound needs a CVRP, got {type(cvrp).__name__}")
    _checked(time_limit, stop, lp_limit, progress)
    n = cvrp.num_customers
    use_lp = n <= lp_limit
    _warm()
    started = time.perf_counter()
    capacity = _effective_capacity(cvrp)
    k = _routes_needed(cvrp.total_demand, capacity)
    integer = _integer_costs(cvrp)
    best, method = _degree_bound(cvrp, k, integer), DEGREE
    radial = _radial_bound(cvrp, capacity, integer)
    if radial > best:
        best, method = radial, RADIAL
    if progress is not None:
        progress(best)
    floor = best
    iterations, cuts, converged = 0, 0, False

    def improved(low: float) -> None:
        if progress is not None and low > floor:
            progress(low)

    def left() -> float | None:
        return None if time_limit is None else time_limit - (time.perf_counter() - started)

    if use_lp and not (stop is not None and stop()) and (left() is None or left() > 0):
        lp = _CuttingPlanes(cvrp, k, capacity)
        low, iterations, cuts, converged = _cutting_planes(lp, integer, left, stop, improved)
        if low >= best:
            best, method = low, LP
    seconds = time.perf_counter() - started
    return CVRPBound(best, method, iterations, cuts, k, converged, seconds)
