"""Held-Karp 1-tree lower bound for the symmetric TSP, by subgradient ascent on node penalties.

A *1-tree* on nodes ``0..n-1`` is a spanning tree on nodes ``1..n-1`` plus two edges at the
special node ``0``; every tour is a 1-tree in which each node has degree 2. With penalties
``pi`` on the nodes, edge costs become ``c_ij + pi_i + pi_j`` and every tour's cost grows by
exactly ``2 * sum(pi)``, so

    ``L(pi) = (minimum 1-tree cost under the penalised costs) - 2 * sum(pi)``

is a lower bound on the optimal tour cost for *every* ``pi`` (Held and Karp 1970). The
Held-Karp bound is ``max L(pi)``; it is approached by subgradient ascent: ``v = degree - 2``
of the current minimum 1-tree is a subgradient of the concave function ``L`` (Held and Karp
1971), and a 1-tree whose degrees are all 2 is an optimal tour.

Validity. A bound is only ever read from a minimum 1-tree of the *complete* graph, computed
by Prim's algorithm in O(n^2) time with the costs computed on the fly (from the coordinates
under the instance's rounding, or read from its matrix): no ``n x n`` matrix is built for
coordinate instances. A minimum spanning tree of a sparse graph weighs at least as much as
the complete graph's, so its value is no lower bound. Every bound reported is a value
``L(pi)`` actually computed on the complete graph, so it is valid whatever the ascent did.

Sparse ascent, complete checks. Most steps of the ascent only need a direction and a value
near ``L(pi)``, so they take the minimum 1-tree of a *candidate graph* (Kruskal's algorithm
over the edges to each node's :data:`CANDIDATES` nearest neighbours, node 0's edges over its
complete row), in O(m log m) time for its ``m`` edges instead of O(n^2): this is how LKH
runs its ascent (Helsgaun 2000), on a sparse graph after a first complete 1-tree. That value
is the Lagrangian function of the TSP on the candidate graph, at least ``L(pi)``; it steers
the steps and is never reported. The complete 1-tree is computed at the first penalties (its
tree joins the candidate graph, which keeps the graph connected), at every halving of the
step factor, at least every :data:`PATIENCE` steps and at the end of the ascent, each time
at the penalties with the best candidate-graph value, and whenever a candidate 1-tree is a
tour or reaches the target ``U``. Each such tree adds its edges that the candidate graph
lacks, so the two 1-trees agree more and more as the penalties settle; where they differ,
only the complete one's value counts.

Step rule. The direction is Volgenant and Jonker's (1982) ``0.6 v_k + 0.4 v_{k-1}``, which
damps the zig-zag of plain subgradient steps. The step length is the relative one of Held
and Karp (1971) and Held, Wolfe and Crowder (1974), ``t_k = lam * (U - L*) / |d_k|^2``, with
``U`` the cost of a known tour and ``L*`` the best value of the ascent so far. (With the
current value ``L(pi_k)`` in its place, an overshoot that lowers ``L`` lengthens the next
step, which lowers it further: from a nearest-neighbour ``U`` on 5000 cities the penalties
grew geometrically and overflowed to NaN.) The factor ``lam`` starts at 2 and is halved,
the ascent resuming from the best penalties found, after :data:`PATIENCE` steps without a
new best value; with ``U`` well above the optimum, as a quick tour's cost is, a large
``lam`` overshoots and ``L`` falls, and these halvings bring the step down to the scale at
which it rises again. (Periods of fixed length that halve as they go, the schedule of Held,
Wolfe and Crowder, shrink ``lam`` too soon on some instances: on TSPLIB's d198 they stopped
9% below the optimum, where 100 steps of patience reach the Held-Karp bound, 0.44% below.)
The ascent ends when ``lam`` drops below :data:`MIN_LAMBDA`, when the complete 1-tree is a
tour, when it reaches ``U``, or at an iteration or time limit or a stop request (followed by
the last complete 1-tree).

References
----------
M. Held and R. M. Karp, "The traveling-salesman problem and minimum spanning trees",
Operations Research 18 (1970), 1138-1162.
M. Held and R. M. Karp, "The traveling-salesman problem and minimum spanning trees: part II",
Mathematical Programming 1 (1971), 6-25.
M. Held, P. Wolfe and H. P. Crowder, "Validation of subgradient optimization", Mathematical
Programming 6 (1974), 62-88.
K. Helsgaun, "An effective implementation of the Lin-Kernighan traveling salesman
heuristic", European Journal of Operational Research 126 (2000), 106-130.
T. Volgenant and R. Jonker, "A branch and bound algorithm for the symmetric traveling
salesman problem based on the 1-tree relaxation", European Journal of Operational Research 9
(1982), 83-89.
J. B. Kruskal, "On the shortest spanning subtree of a graph and the traveling salesman
problem", Proceedings of the American Mathematical Society 7 (1956), 48-50.
R. C. Prim, "Shortest connection networks and some generalizations", Bell System Technical
Journal 36 (1957), 1389-1401.
N. J. Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., SIAM (2002), ch. 4.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numba import njit

from hybridsolve.mip.errors import UsageError

from ..neighbours import MATRIX, NINT, metric, nearest
from ..neighbours import root as find
from ..routing import TSP
from ..tsp import construct
from ..warmup import twin
from ._limits import checked, frozen, number

__all__ = ["CANDIDATES", "MIN_LAMBDA", "PATIENCE", "SAFETY", "HeldKarp", "held_karp"]

#: The first step factor ``lam``.
_FIRST_LAMBDA = 2.0

#: The ascent ends when the step factor drops below this.
MIN_LAMBDA = 1e-3

#: Nearest neighbours of each node whose edges form the candidate graph of the ascent.
CANDIDATES = 10

#: Steps without a rise of the ascent's best value after which the step factor is halved;
#: also the most steps between two complete 1-trees.
PATIENCE = 100

#: Weight of the current subgradient in the direction (Volgenant and Jonker 1982).
_CURRENT_WEIGHT = 0.6

#: Relative safety margin taken off every bound, against floating-point rounding.
SAFETY = 1e-9

#: Half-width, relative to the distance, of the band around a rounding boundary where the
#: ``nint`` kernel recomputes a distance with ``hypot``.
_BOUNDARY = 1e-12


@dataclass(frozen=True, repr=False, eq=False)
class HeldKarp:
    """The result of :func:`held_karp`.

    Attributes
    ----------
    bound : float
        A valid lower bound on the optimal tour cost, in the instance's own cost units.
    penalties : numpy.ndarray
        The node penalties ``pi`` at which ``bound`` was computed (read-only).
    iterations : int
        Steps of the ascent: minimum 1-trees computed to move the penalties (the first on
        the complete graph, the others on the candidate graph).
    checks : int
        Minimum 1-trees of the complete graph computed, each a valid bound: the first, at
        least every :data:`PATIENCE` steps, and at the end of the ascent.
    seconds : float
        Wall-clock seconds of the run: the default ``upper`` tour and the ascent, without
        the compilation of the Numba kernels (or their loading from Numba's cache).
    degrees_ok : bool
        Whether the best 1-tree was a tour: then ``bound`` is the optimal tour cost. It is
        sufficient, not necessary: a bound may equal the optimum without it.
    trajectory : tuple of (float, float)
        ``(seconds, bound)`` at each improvement of the bound.
    """

    bound: float
    penalties: np.ndarray
    iterations: int
    checks: int
    seconds: float
    degrees_ok: bool
    trajectory: tuple[tuple[float, float], ...]

    def __repr__(self) -> str:
        return (
            f"HeldKarp(bound={self.bound:.10g}, iterations={self.iterations}, "
            f"checks={self.checks}, "
            f"seconds={self.seconds:.3f}, degrees_ok={self.degrees_ok})"
        )


@njit(cache=True, nogil=True)
def _cost(i, j, xy, matrix, kind):
    """Cost of edge ``{i, j}``, equal to the one :meth:`TSP.tour_cost` computes.

    ``tour_cost`` uses ``numpy.hypot``; ``sqrt(dx^2 + dy^2)`` is faster and differs from it
    by an ulp or two, which the bound's safety margin covers. Under ``nint`` rounding such a
    difference could move a distance across a rounding boundary and change it by 1, so
    there, near a boundary, the distance is recomputed with ``hypot``.
    """
    if kind == MATRIX:
        return matrix[i, j]
    dx = xy[i, 0] - xy[j, 0]
    dy = xy[i, 1] - xy[j, 1]
    d = math.sqrt(dx * dx + dy * dy)
    if kind != NINT:
        return d
    r = np.floor(d + 0.5)
    if abs(d - r) > 0.5 - _BOUNDARY * (d + 1.0):
        r = np.floor(math.hypot(dx, dy) + 0.5)
    return r


@njit(cache=True, nogil=True)
def _attach_zero(xy, matrix, kind, pi, weight, degree):
    """Node 0's two cheapest penalised edges over its complete row, into ``weight[0:2]``."""
    first = -1
    second = -1
    c1 = np.inf
    c2 = np.inf
    for v in range(1, pi.shape[0]):
        d = _cost(0, v, xy, matrix, kind) + pi[0] + pi[v]
        if d < c1:
            second, c2 = first, c1
            first, c1 = v, d
        elif d < c2:
            second, c2 = v, d
    weight[0] = c1
    weight[1] = c2
    degree[0] = 2
    degree[first] += 1
    degree[second] += 1


@njit(cache=True, nogil=True)
def _one_tree(xy, matrix, kind, pi, weight, degree, parent):
    """Minimum 1-tree of the complete graph under the costs ``c_ij + pi_i + pi_j``.

    Prim's algorithm on nodes ``1..n-1`` (from node 1), over the list of nodes not yet in the
    tree (swap-removed), then the two cheapest edges at node 0. Fills ``weight`` with the
    penalised costs of the ``n`` edges (``weight[0]``, ``weight[1]``: node 0's edges;
    ``weight[v]``, ``v >= 2``: the edge joining ``v`` to the tree) and ``degree`` with the
    node degrees, and ``parent[v]`` (``v >= 2``) with the node that edge joins ``v`` to.
    Needs ``n >= 3``. Pure numeric, it runs without the GIL (``nogil``), so
    that a thread computing the bound runs beside the heuristic of :func:`comb.solve
    <hybridsolve.comb.solve>` on another core.
    """
    n = pi.shape[0]
    degree[:] = 0
    key = np.empty(n)
    near = np.empty(n, dtype=np.int64)
    left = np.empty(n - 2, dtype=np.int64)
    m = n - 2
    best = np.inf
    pick = 0
    for t in range(m):
        v = t + 2
        left[t] = v
        key[v] = _cost(1, v, xy, matrix, kind) + pi[1] + pi[v]
        near[v] = 1
        if key[v] < best:
            best = key[v]
            pick = t
    while m > 0:
        u = left[pick]
        m -= 1
        left[pick] = left[m]
        weight[u] = key[u]
        parent[u] = near[u]
        degree[u] += 1
        degree[near[u]] += 1
        best = np.inf
        pu = pi[u]
        for t in range(m):
            v = left[t]
            d = _cost(u, v, xy, matrix, kind) + pu + pi[v]
            if d < key[v]:
                key[v] = d
                near[v] = u
            if key[v] < best:
                best = key[v]
                pick = t
    _attach_zero(xy, matrix, kind, pi, weight, degree)


@njit(cache=True, nogil=True)
def _sparse_one_tree(xy, matrix, kind, head, tail, cost, pi, weight, degree):
    """Minimum 1-tree over the candidate edges ``{head[e], tail[e]}`` (costs ``cost[e]``).

    Kruskal's algorithm on nodes ``1..n-1`` over the candidate edges under the penalised
    costs, then the two cheapest edges at node 0 over its *complete* row. Fills ``weight``
    and ``degree`` as :func:`_one_tree` does. The candidate edges must join nodes ``1..n-1``
    (:func:`held_karp` includes a spanning tree of them). The value is at least the complete
    graph's: it steers the ascent, it is not a bound.
    """
    n = pi.shape[0]
    degree[:] = 0
    order = np.argsort(cost + pi[head] + pi[tail])
    parent = np.arange(n)
    joined = 0
    for e in order:
        a = head[e]
        b = tail[e]
        ra = find(parent, a)
        rb = find(parent, b)
        if ra == rb:
            continue
        parent[ra] = rb
        weight[2 + joined] = cost[e] + pi[a] + pi[b]
        degree[a] += 1
        degree[b] += 1
        joined += 1
        if joined == n - 2:
            break
    _attach_zero(xy, matrix, kind, pi, weight, degree)


@njit(cache=True, nogil=True)
def _edge_costs(xy, matrix, kind, head, tail):
    """``cost[e]`` of the edges ``{head[e], tail[e]}``, as :func:`_one_tree` computes them."""
    out = np.empty(head.shape[0])
    for e in range(head.shape[0]):
        out[e] = _cost(head[e], tail[e], xy, matrix, kind)
    return out


def _integer_costs(tsp: TSP) -> bool:
    """Whether every edge cost of ``tsp`` is an integer."""
    if tsp.distances is not None:
        return bool(np.all(tsp.distances == np.floor(tsp.distances)))
    return tsp.rounding == "nint"


def _checked(time_limit, iterations, upper, seed, stop, progress) -> None:
    checked(time_limit, stop, progress)
    if iterations is not None and not (
        number(iterations) and isinstance(iterations, (int, np.integer)) and iterations >= 1
    ):
        raise UsageError(f"iterations must be a positive integer, got {iterations!r}")
    if upper is not None and not (number(upper) and math.isfinite(upper) and upper >= 0):
        raise UsageError(f"upper must be a finite, non-negative tour cost, got {upper!r}")
    if not (number(seed) and isinstance(seed, (int, np.integer))):
        raise UsageError(f"seed must be an integer, got {seed!r}")


def _warm(tsp: TSP, need_tour: bool) -> None:
    """Compile (or load from Numba's cache) the kernels for the layout of ``tsp``."""
    small = twin(tsp)
    xy, matrix, kind = metric(small.coords, small.distances, small.rounding)
    check = _Checked(xy, matrix, kind, False, time.perf_counter())
    check(np.zeros(small.num_nodes))
    check.sparse(np.zeros(small.num_nodes))
    if need_tour:
        construct(small, "nearest_neighbour")


def held_karp(
    tsp: TSP,
    *,
    time_limit: float | None = None,
    iterations: int | None = None,
    upper: float | None = None,
    seed: int = 0,
    stop: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> HeldKarp:
    """The Held-Karp 1-tree lower bound of a symmetric TSP.

    Parameters
    ----------
    tsp : TSP
        The instance.
    time_limit : float, optional
        Wall-clock seconds for the ascent (as ``HeldKarp.seconds`` counts them), checked
        after each 1-tree; the last complete 1-tree follows, in O(n^2) time (about 12.5
        million distance evaluations, some 30 ms, for 5000 nodes), and at least one is
        computed.
    iterations : int, optional
        Largest number of 1-trees to compute. Without it and without ``time_limit`` the
        ascent runs until its step factor drops below :data:`MIN_LAMBDA`.
    upper : float, optional
        Cost of a known tour, the target of the step length. By default the cost of a
        nearest-neighbour tour (from a node drawn with ``seed``) under the same costs.
    seed : int
        Seed of the nearest-neighbour tour's first node; the ascent itself draws nothing.
    stop : callable, optional
        Called without arguments after each 1-tree; the ascent ends when it returns true
        (so it can run alongside a heuristic and stop with it).
    progress : callable, optional
        Called with each better bound, as :attr:`HeldKarp.bound` would report it, when it is
        found (from the thread the bound runs in).

    Returns
    -------
    HeldKarp
        The best bound found and its penalties.

    Raises
    ------
    UsageError
        When ``tsp`` is not a :class:`~hybridsolve.comb.TSP` or on a bad limit, ``upper``,
        ``seed`` or ``stop``.

    Notes
    -----
    Every bound reported is a value ``L(pi)`` actually computed, a lower bound for any
    ``pi``: stopping early, a poor ``upper`` or a bad step only make it weaker. An ``upper``
    below the optimum (not a tour's cost) ends the ascent once the bound reaches it.

    ``L(pi)`` is computed in float64, so it carries rounding errors, and a bound above the
    true ``L(pi)`` could exceed the optimum; ``SAFETY * scale`` is therefore taken off it,
    with ``scale = sum(|w_e|) + 6 n max|pi|`` (``w_e``: the 1-tree's penalised edge costs).
    Each penalised cost is within a few units of ``u = 2**-53`` times
    ``|c_ij| + |pi_i| + |pi_j|`` of its exact value (two additions, and the last-ulp
    difference between the distance computed here and ``TSP.tour_cost``'s), so the tree
    chosen under the rounded costs is within ``4 u scale`` of the true minimum 1-tree, and the
    two sums of ``n`` terms add at most ``2 n u scale`` (Higham 2002, ch. 4). ``SAFETY = 1e-9``
    covers both for ``n`` up to about a million, while costing a relative ``1e-9`` or so.
    When every cost is an integer (``nint`` rounding, or an integer matrix) the bound is
    then rounded up, ``ceil(L - margin)``, since every tour costs an integer.

    For ``n <= 3`` there is a single tour, whose cost is returned exactly.
    """
    if not isinstance(tsp, TSP):
        raise UsageError(f"held_karp needs a TSP, got {type(tsp).__name__}")
    _checked(time_limit, iterations, upper, seed, stop, progress)
    n = tsp.num_nodes
    if n <= 3:
        started = time.perf_counter()
        cost = tsp.tour_cost(np.arange(n))
        seconds = time.perf_counter() - started
        return HeldKarp(cost, frozen(np.zeros(n)), 0, 0, seconds, True, ((seconds, cost),))
    _warm(tsp, upper is None)
    started = time.perf_counter()
    if upper is None:
        upper = tsp.tour_cost(construct(tsp, "nearest_neighbour", seed=seed))
    upper = float(upper)
    xy, matrix, kind = metric(tsp.coords, tsp.distances, tsp.rounding)
    check = _Checked(xy, matrix, kind, _integer_costs(tsp), started, progress)
    pi = np.zeros(n)
    value, sub = check(pi)  # the first 1-tree: its tree joins the candidate graph
    count = 1
    ascent_best, ascent_pi, improved = value, pi, count
    lam = _FIRST_LAMBDA
    checked_at = count
    previous = None
    while True:
        if check.last is not pi and (not sub.any() or value >= upper):
            value, sub = check(pi)  # a sparse tour or target: is it one on the complete graph?
        if (
            not sub.any()
            or value >= upper
            or check.trajectory[-1][1] >= upper - SAFETY * upper
            or (iterations is not None and count >= iterations)
            or (time_limit is not None and time.perf_counter() - started >= time_limit)
            or (stop is not None and stop())
        ):
            break
        if previous is None:
            direction = sub
        else:
            direction = _CURRENT_WEIGHT * sub + (1.0 - _CURRENT_WEIGHT) * previous
        norm = float(direction @ direction)
        if norm == 0.0:
            direction, norm = sub, float(sub @ sub)
        pi = pi + (lam * (upper - ascent_best) / norm) * direction
        previous = sub
        stalled = count - improved >= PATIENCE
        if (stalled or count - checked_at >= PATIENCE) and check.last is not ascent_pi:
            grew = check.edges
            checked_value, _ = check(ascent_pi)
            checked_at = count
            if check.edges > grew:  # the ascent's values were too high on the old graph
                ascent_best = min(ascent_best, checked_value)
        if stalled:
            lam /= 2.0
            if lam < MIN_LAMBDA:
                break
            pi, previous, improved = ascent_pi, None, count
        value, sub = check.sparse(pi)
        count += 1
        if value > ascent_best:
            ascent_best, ascent_pi, improved = value, pi, count
    if check.last is not ascent_pi:
        check(ascent_pi)
    seconds = time.perf_counter() - started
    return HeldKarp(
        check.trajectory[-1][1], frozen(check.best_pi), count, check.count, seconds,
        check.tour, tuple(check.trajectory),
    )  # fmt: skip


class _Checked:
    """The complete-graph 1-trees of one ascent: the valid bound, and the candidate graph.

    Calling it computes the minimum 1-tree of the complete graph at ``pi``; its value, less
    the safety margin, is a valid bound, kept when it is the best so far. The tree's edges
    that the candidate graph lacks are added to it. :meth:`sparse` computes the 1-tree over
    the candidate graph, cheaper, for the ascent's steps.

    Attributes
    ----------
    bound : float
        The best valid bound so far (rounded up for integer costs).
    best_pi : numpy.ndarray
        The penalties at which it was computed.
    tour : bool
        Whether that 1-tree was a tour.
    trajectory : list of (float, float)
        ``(seconds, bound)`` at each improvement.
    count : int
        Complete 1-trees computed.
    last : numpy.ndarray or None
        The penalties of the latest complete 1-tree.
    edges : int
        Edges in the candidate graph.
    """

    def __init__(self, xy, matrix, kind, integer: bool, started: float, progress=None) -> None:
        self.metric = (xy, matrix, kind)
        self.progress = progress
        self.integer = integer
        self.started = started
        self.n = n = xy.shape[0] if kind != MATRIX else matrix.shape[0]
        self.weight = np.empty(n)
        self.degree = np.empty(n, dtype=np.int64)
        self.parent = np.zeros(n, dtype=np.int64)
        self.bound, self.best_pi, self.tour = -math.inf, np.zeros(n), False
        self.trajectory: list[tuple[float, float]] = []
        self.count = 0
        self.last: np.ndarray | None = None
        near = nearest(xy, matrix, kind, CANDIDATES)
        self.keys = np.zeros(0, dtype=np.int64)
        self._add(np.repeat(np.arange(n), near.shape[1]), near.ravel())

    @property
    def edges(self) -> int:
        return int(self.keys.size)

    def _add(self, a: np.ndarray, b: np.ndarray) -> None:
        """Add the edges ``{a[e], b[e]}`` not at node 0 to the candidate graph."""
        low, high = np.minimum(a, b), np.maximum(a, b)
        keep = low > 0
        keys = np.union1d(self.keys, low[keep] * self.n + high[keep])
        if keys.size > self.keys.size:
            self.keys = keys
            self.head, self.tail = keys // self.n, keys % self.n
            self.cost = _edge_costs(*self.metric, self.head, self.tail)

    def _value(self, pi: np.ndarray) -> tuple[float, np.ndarray]:
        value = float(self.weight.sum()) - 2.0 * float(pi.sum())
        return value, (self.degree - 2).astype(np.float64)

    def __call__(self, pi: np.ndarray) -> tuple[float, np.ndarray]:
        """The complete-graph 1-tree at ``pi``: its value and subgradient ``degree - 2``."""
        _one_tree(*self.metric, pi, self.weight, self.degree, self.parent)
        self.count += 1
        self.last = pi
        value, sub = self._value(pi)
        scale = float(np.abs(self.weight).sum()) + 6.0 * self.n * float(np.abs(pi).max())
        low = value - SAFETY * scale
        if low > self.bound:
            self.bound, self.best_pi, self.tour = low, pi, not sub.any()
            bound = float(math.ceil(low)) if self.integer else low
            if not self.trajectory or bound > self.trajectory[-1][1]:
                self.trajectory.append((time.perf_counter() - self.started, bound))
                if self.progress is not None:
                    self.progress(bound)
        self._add(np.arange(2, self.n), self.parent[2:])
        return value, sub

    def sparse(self, pi: np.ndarray) -> tuple[float, np.ndarray]:
        """The candidate graph's 1-tree at ``pi``: its value (no bound) and subgradient."""
        _sparse_one_tree(
            *self.metric, self.head, self.tail, self.cost, pi, self.weight, self.degree
        )
        return self._value(pi)
