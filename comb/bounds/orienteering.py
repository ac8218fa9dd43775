"""An upper bound on the prize an orienteering tour (:class:`OP`) can collect.

A tour of :class:`~hybridsolve.comb.OP` is a closed walk from the depot (node 0) through
distinct nodes and back, accepted by :meth:`OP.check_tour` when its length is at most
``max_length + 1e-9``; the empty tour collects nothing, and a tour of one node ``i`` runs
``0 -> i -> 0``, twice over the edge ``{0, i}``. The bound is the larger of the best prize of
a single node within reach (its tour's length computed as :meth:`OP.tour_length` does) and
a bound on the tours of two nodes or more, in which the depot and every visited node have
two *distinct* walk neighbours and every edge is used at most once. No triangle inequality
is assumed anywhere, so the bound holds for rounded (``"nint"``) distances as for exact
ones.

Tours of two nodes or more are bounded in two stages.

1. *Narrowing and a knapsack.* Such a walk's length is half the sum, over its nodes, of the
   two edges at each, so it is at least ``h_0 + sum_{i in S} h_i`` with ``h_i`` half the
   two shortest edges at ``i`` towards the nodes a tour can hold. Node ``i`` can be held
   only if twice its shortest-path distance ``s_i`` from the depot fits the budget
   (shortest paths, not direct edges: rounded distances need not obey the triangle
   inequality) and ``h_0 + h_i`` does; dropping the nodes that fail raises the other
   ``h``, so the tests repeat until none drops. The most prize under the budget
   ``sum h_i <= max_length - h_0`` is a 0-1 knapsack, bounded by
   :func:`~hybridsolve.comb.bounds.packing.kp_bound` (at most its linear relaxation,
   Dantzig 1957).
2. *A linear relaxation with cuts.* With ``x_e`` for the edges among the kept nodes (those
   on some walk within the budget, ``s_i + d_ij + s_j`` for ``{i, j}``, ``d_0j + s_j`` at
   the depot) and ``y_i`` for visiting ``i``, every such tour satisfies: ``x(delta(0)) = 2``,
   ``x(delta(i)) = 2 y_i``, ``x_e <= y_i`` for each end ``i != 0`` of ``e``,
   ``sum d_e x_e <= max_length`` and, for every node set ``S`` without the depot and
   ``k`` in ``S``, ``x(delta(S)) >= 2 y_k`` (a tour visiting ``k`` enters and leaves ``S``;
   the generalised subtour elimination constraints of Fischetti, Salazar-González and
   Toth 1998). The linear program ``max sum p_i y_i`` over ``0 <= x, y <= 1`` starts
   without the last family; after each solve (HiGHS's dual simplex, warm started) the
   violated ones are found from the connected components of the support of ``x`` and,
   when those give none, from a minimum ``0``-``k`` cut for each ``k`` (exact separation
   by maximum flow), and added. The rounds end when none is violated, or at a limit.

Validity at every step. The bound taken from a round is not the solver's objective value
but the Lagrangian bound of its row duals ``pi`` (any ``pi`` will do once clipped to the
signs the rows allow): for every ``v`` in the box and the rows' ranges,
``c^T v = pi^T A v + (c - A^T pi)^T v <= sum_r max over row r of pi_r (A v)_r +
sum_j max(0, (c - A^T pi)_j)``, which holds however inexactly the solver worked, and
whether or not it reached optimality (Neumaier and Shcherbina 2004). The bound reported is
the least of the knapsack's and of the rounds', each raised by ``SAFETY`` times the size of
its terms against rounding.

References
----------
G. B. Dantzig, "Discrete-variable extremum problems", Operations Research 5 (1957), 266-288.
S. Martello and P. Toth, "An upper bound for the zero-one knapsack problem and a branch and
bound algorithm", European Journal of Operational Research 1 (1977), 169-175.
M. Fischetti, J. J. Salazar-González and P. Toth, "Solving the orienteering problem through
branch-and-cut", INFORMS Journal on Computing 10 (1998), 133-148.
A. Neumaier and O. Shcherbina, "Safe bounds in linear and mixed-integer linear
programming", Mathematical Programming 99 (2004), 283-296.
Q. Huangfu and J. A. J. Hall, "Parallelizing the dual revised simplex method", Mathematical
Programming Computation 10 (2018), 119-142.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import highspy
import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import breadth_first_order, connected_components, maximum_flow

from hybridsolve.mip.errors import ProblemError, UsageError
from hybridsolve.mip.highs import set_options
from hybridsolve.mip.highs_factory import new_highs

from .. import _common as cm
from ..knapsack import KP
from ..routing import _TOL, OP
from ._limits import Clock, checked
from ._lp import lp_solution
from .packing import kp_bound
from .tsp import SAFETY

__all__ = ["CUT_TOLERANCE", "LP_NODES", "PrizeBound", "op_bound"]

#: Violation, in units of ``x``, above which a subtour elimination constraint is added.
CUT_TOLERANCE = 1e-6

#: Largest number of kept nodes for which the linear relaxation of stage 2 is built: it
#: has up to ``n^2 / 2`` edge columns and twice as many linking rows, some 45 000 columns
#: at this size, whose first solve takes about a second; above it the bound is stage 1's.
LP_NODES = 300

#: Scale of the integer capacities given to the maximum flow (``x`` is at most 1); only
#: the choice of candidate cuts depends on it, their violation is checked on ``x`` itself.
_FLOW_SCALE = 1 << 20


@dataclass(frozen=True, repr=False, eq=False)
class PrizeBound:
    """The result of :func:`op_bound`.

    Attributes
    ----------
    bound : float
        A valid upper bound on the largest prize of a tour, in the instance's units.
    single : float
        The largest prize of a tour with one node (0 when none is within reach).
    knapsack : float
        Stage 1's bound on the tours of two nodes or more (0 when none fits).
    reachable : int
        Nodes, besides the depot, kept as possible members of a tour of two nodes or more
        (0 when fewer than two are).
    cuts : int
        Subtour elimination constraints added to the linear relaxation.
    iterations : int
        Linear programs solved (0 when stage 2 did not run).
    seconds : float
        Wall-clock seconds of the run.
    trajectory : tuple of (float, float)
        ``(seconds, bound)`` at each improvement of the bound.
    """

    bound: float
    single: float
    knapsack: float
    reachable: int
    cuts: int
    iterations: int
    seconds: float
    trajectory: tuple[tuple[float, float], ...]

    def __repr__(self) -> str:
        return (
            f"PrizeBound(bound={self.bound:.10g}, single={self.single:.10g}, "
            f"knapsack={self.knapsack:.10g}, reachable={self.reachable}, cuts={self.cuts}, "
            f"iterations={self.iterations}, seconds={self.seconds:.3f})"
        )


def _distances(op: OP) -> np.ndarray:
    """The full distance matrix, each entry computed as :meth:`OP.tour_length` computes it."""
    n = op.num_nodes
    if n > cm.MAX_MATRIX_NODES:
        raise ProblemError(
            f"OP has {n} nodes: the bound needs a full {n} x {n} distance matrix, refused above "
            f"{cm.MAX_MATRIX_NODES} nodes"
        )
    return cm.lengths(op.coords[:, None, :], op.coords[None, :, :], op.rounding)


def _from_depot(dist: np.ndarray) -> np.ndarray:
    """Shortest-path distances from node 0 (Dijkstra's algorithm on the complete graph)."""
    n = dist.shape[0]
    best = dist[0].copy()
    best[0] = 0.0
    done = np.zeros(n, dtype=bool)
    for _ in range(n):
        u = int(np.argmin(np.where(done, np.inf, best)))
        done[u] = True
        np.minimum(best, best[u] + dist[u], out=best)
    return best


def _half_degrees(dist: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Half the two shortest edges of each of ``members`` towards the others (``members[0]`` is 0).

    Needs three members or more, so that each has two others.
    """
    sub = dist[np.ix_(members, members)].copy()
    np.fill_diagonal(sub, np.inf)
    return np.partition(sub, 1, axis=1)[:, :2].sum(axis=1) / 2.0


class _Relaxation:
    """Stage 2's linear program in HiGHS, with a copy of its rows for the dual bound.

    Columns: the edges ``(a[e], b[e])``, ``a < b``, then ``y_1 .. y_{n-1}`` (``n`` kept
    nodes, the depot first); rows: the depot's degree, the other degrees, the length, the
    linking rows, then the cuts.
    """

    def __init__(self, dist: np.ndarray, prizes: np.ndarray, reach: np.ndarray, budget: float):
        n = self.n = dist.shape[0]
        a, b = np.triu_indices(n, 1)
        usable = reach[a] + dist[a, b] + reach[b] <= budget
        a, b = self.a, self.b = a[usable], b[usable]
        m = self.m = a.size
        cols = m + n - 1
        self.cost = np.concatenate([np.zeros(m), prizes[1:]])
        edges = np.arange(m)
        ends = np.concatenate([a, b])
        twice = np.concatenate([edges, edges])
        rows = [ends, np.arange(1, n)]
        columns = [twice, m + np.arange(n - 1)]
        values = [np.ones(2 * m), np.full(n - 1, -2.0)]
        rows.append(np.full(m, n))
        columns.append(edges)
        values.append(dist[a, b])
        inner = ends > 0  # linking rows x_e - y_i <= 0, one per end i != 0
        count = int(inner.sum())
        link = n + 1 + np.arange(count)
        rows += [link, link]
        columns += [twice[inner], m + ends[inner] - 1]
        values += [np.ones(count), -np.ones(count)]
        self.rows = sp.csr_matrix(
            (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))),
            shape=(n + 1 + count, cols),
        )
        self.lower = np.concatenate([[2.0], np.zeros(n - 1), [-np.inf], np.full(count, -np.inf)])
        self.upper = np.concatenate([[2.0], np.zeros(n - 1), [budget], np.zeros(count)])
        h = self.highs = new_highs()
        set_options(h, {"output_flag": False, "threads": 1, "random_seed": 0, "solver": "simplex"})
        h.addCols(cols, self.cost, np.zeros(cols), np.ones(cols), 0, np.zeros(cols, np.int32),
                  np.zeros(0, np.int32), np.zeros(0))  # fmt: skip
        h.changeObjectiveSense(highspy.ObjSense.kMaximize)
        self._add_rows(self.rows, self.lower, self.upper)

    def _add_rows(self, rows: sp.csr_matrix, lower: np.ndarray, upper: np.ndarray) -> None:
        self.highs.addRows(rows.shape[0], lower, upper, rows.nnz, rows.indptr[:-1].astype(np.int32),
                           rows.indices.astype(np.int32), rows.data)  # fmt: skip

    def solve(self, seconds: float | None) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Run HiGHS; return the column values if optimal, and the row duals if valid
        (:func:`._lp.lp_solution`)."""
        return lp_solution(self.highs, seconds, self.lower.size)

    def dual_bound(self, duals: np.ndarray) -> float:
        """The Lagrangian bound at ``duals`` clipped to the rows' signs, raised against rounding."""
        pi = np.where(self.upper == np.inf, np.minimum(duals, 0.0), duals)
        pi = np.where(self.lower == -np.inf, np.maximum(pi, 0.0), pi)
        side = np.where(pi > 0, self.upper, np.where(pi < 0, self.lower, 0.0))
        rows = float((pi * side).sum())
        reduced = self.cost - self.rows.T @ pi
        columns = float(np.maximum(reduced, 0.0).sum())
        scale = (
            float(np.abs(pi * side).sum())
            + float(np.abs(self.cost).sum())
            + float((abs(self.rows).T @ np.abs(pi)).sum())
        )
        return rows + columns + SAFETY * scale

    def cuts(self, values: np.ndarray, clock: Clock) -> list[np.ndarray]:
        """Node sets (masks, depot excluded) whose subtour elimination constraint ``x`` violates.

        First the connected components of the support of ``x`` away from the depot; when
        they give none, a minimum cut between the depot and each visited node, the most
        visited first, until the clock expires; each set once.
        """
        n, m = self.n, self.m
        x, y = values[:m], np.concatenate([[0.0], values[m:]])
        found = []
        support = x > CUT_TOLERANCE
        graph = sp.csr_matrix((x[support], (self.a[support], self.b[support])), shape=(n, n))
        count, label = connected_components(graph, directed=False)
        for part in range(count):
            if part != label[0]:
                self._keep_violated(label == part, x, y, found)
        if found:
            return found
        scaled = np.floor(x * _FLOW_SCALE).astype(np.int32)
        capacity = sp.csr_matrix(
            (np.concatenate([scaled, scaled]),
             (np.concatenate([self.a, self.b]), np.concatenate([self.b, self.a]))),
            shape=(n, n),
        )  # fmt: skip
        seen = set()
        for k in np.argsort(-y, kind="stable").tolist():
            if y[k] <= CUT_TOLERANCE or clock.expired():
                break
            flow = maximum_flow(capacity, 0, k)
            if flow.flow_value >= (2.0 * y[k] - CUT_TOLERANCE) * _FLOW_SCALE:
                continue
            residual = (capacity - flow.flow).tocsr()
            residual.data[residual.data < 0] = 0
            residual.eliminate_zeros()
            inside = np.ones(n, dtype=bool)
            inside[breadth_first_order(residual, 0, return_predecessors=False)] = False
            key = inside.tobytes()
            if key not in seen:
                seen.add(key)
                self._keep_violated(inside, x, y, found)
        return found

    def _keep_violated(self, inside: np.ndarray, x, y, found: list[np.ndarray]) -> None:
        """Append ``inside`` to ``found`` if ``x`` violates its cut at its most visited node."""
        crossing = float(x[inside[self.a] != inside[self.b]].sum())
        if 2.0 * float(y[inside].max()) - crossing > CUT_TOLERANCE:
            found.append(inside)

    def add_cuts(self, sets: list[np.ndarray], values: np.ndarray) -> None:
        """Add ``x(delta(S)) - 2 y_k >= 0`` for each set, ``k`` its most visited node."""
        y = np.concatenate([[0.0], values[self.m :]])
        rows, columns, entries = [], [], []
        for r, inside in enumerate(sets):
            crossing = np.flatnonzero(inside[self.a] != inside[self.b])
            k = int(np.flatnonzero(inside)[np.argmax(y[inside])])
            rows.append(np.full(crossing.size + 1, r))
            columns.append(np.concatenate([crossing, [self.m + k - 1]]))
            entries.append(np.concatenate([np.ones(crossing.size), [-2.0]]))
        block = sp.csr_matrix(
            (np.concatenate(entries), (np.concatenate(rows), np.concatenate(columns))),
            shape=(len(sets), self.rows.shape[1]),
        )
        lower, upper = np.zeros(len(sets)), np.full(len(sets), np.inf)
        self.rows = sp.vstack([self.rows, block], format="csr")
        self.lower = np.concatenate([self.lower, lower])
        self.upper = np.concatenate([self.upper, upper])
        self._add_rows(block, lower, upper)


def op_bound(
    op: OP,
    *,
    time_limit: float | None = None,
    stop: Callable[[], bool] | None = None,
    progress: Callable[[float], None] | None = None,
) -> PrizeBound:
    """An upper bound on the orienteering optimum: narrowing, a knapsack, then an LP with cuts.

    See the module's description for both stages and why every bound they give is valid.

    Parameters
    ----------
    op : OP
        The instance.
    time_limit : float, optional
        Wall-clock seconds, passed to HiGHS for each solve and checked between maximum
        flows and rounds; stage 1 always runs whole (a few passes over the distance matrix).
    stop : callable, optional
        Called without arguments after each solve and between maximum flows; the run ends
        when it returns true.
    progress : callable, optional
        Called with each better bound, as :attr:`PrizeBound.bound` would report it, when it is
        found (from the thread the bound runs in).

    Returns
    -------
    PrizeBound
        The bound, rounded down when every prize is a whole number. A budget too short to
        reach any node gives 0.

    Raises
    ------
    UsageError
        When ``op`` is not a :class:`~hybridsolve.comb.OP`, or on a bad limit or ``stop``.
    ProblemError
        Above ``5000`` nodes, where no full distance matrix is built.

    Notes
    -----
    The budget is taken as ``(max_length + 1e-9) (1 + SAFETY)``: the tolerance
    :meth:`OP.check_tour` grants, and a relative margin for the rounding of sums of
    distances (the relaxations', and the tour length's), each a few units of ``2**-53`` per
    term, far below ``SAFETY = 1e-9``. Stage 2 runs when at least two nodes are kept and at
    most :data:`LP_NODES`.
    """
    if not isinstance(op, OP):
        raise UsageError(f"op_bound needs an OP, got {type(op).__name__}")
    checked(time_limit, stop, progress)
    clock = Clock(time_limit, stop)
    prizes = op.prizes
    whole = bool(np.all(prizes == np.floor(prizes)))
    dist = _distances(op)
    alone = dist[0, 1:] + dist[1:, 0] <= op.max_length + _TOL
    single = float(prizes[1:][alone].max()) if alone.any() else 0.0
    budget = (op.max_length + _TOL) * (1.0 + SAFETY)
    reach = _from_depot(dist)
    members = np.concatenate([[0], 1 + np.flatnonzero(2.0 * reach[1:] <= budget)])
    knapsack = 0.0
    while members.size >= 3:
        half = _half_degrees(dist, members)
        keep = np.concatenate([[True], half[0] + half[1:] <= budget])
        if keep.all():
            items = KP(prizes[members[1:]], half[1:], float(budget - half[0]))
            knapsack = kp_bound(items).bound
            break
        members = members[keep]
    several = knapsack
    trajectory = [(clock.seconds(), _rounded(max(single, several), whole))]
    if progress is not None:
        progress(trajectory[-1][1])
    solves = cuts = 0
    if 3 <= members.size <= LP_NODES + 1:
        lp = _Relaxation(dist[np.ix_(members, members)], prizes[members], reach[members], budget)
        while True:
            left = None if time_limit is None else time_limit - clock.seconds()
            values, duals = lp.solve(left)
            solves += 1
            if duals is not None:
                several = min(several, lp.dual_bound(duals))
                bound = _rounded(max(single, several), whole)
                if bound < trajectory[-1][1]:
                    trajectory.append((clock.seconds(), bound))
                    if progress is not None:
                        progress(bound)
            if values is None or clock.expired():
                break
            found = lp.cuts(values, clock)
            if not found:
                break
            lp.add_cuts(found, values)
            cuts += len(found)
    reachable = members.size - 1 if members.size >= 3 else 0
    return PrizeBound(
        trajectory[-1][1], single, knapsack, reachable, cuts, solves, clock.seconds(),
        tuple(trajectory),
    )  # fmt: skip


def _rounded(value: float, whole: bool) -> float:
    """``value`` rounded down when every prize is a whole number (so is every tour's prize)."""
    return float(math.floor(value)) if whole else float(value)
