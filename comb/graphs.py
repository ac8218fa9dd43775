"""Graph problems: the maximum (weighted) independent set :class:`MIS` and its heuristics.

:func:`mis_greedy` (GWMIN) and :func:`mis_ls` (iterated local search after Andrade,
Resende and Werneck) are methods of :func:`hybridsolve.comb.solve`. They return the chosen
nodes as an ``int64`` array; the conventions they share are those of
:mod:`hybridsolve.comb._search`. Kernels are ``@njit(cache=True)`` functions on plain arrays;
random numbers come from the seeded generator of :mod:`hybridsolve.comb._random`.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numba import njit

from hybridsolve.mip import Problem
from hybridsolve.mip.errors import ProblemError

from . import _common as cm
from ._random import new_state, rand_below, rand_float
from ._search import EPS, Tracker, iteration_budget, run_chunks

__all__ = ["DEFAULT_ITERATIONS", "MIS", "mis_greedy", "mis_ls"]


def _edges(value, num_nodes: int) -> np.ndarray:
    """Undirected edges as a sorted ``(m, 2)`` int64 array with ``i < j`` and no repeats."""
    raw = np.asarray(value)
    if raw.size == 0:
        return np.zeros((0, 2), dtype=np.int64)
    if raw.dtype == bool:
        raise ProblemError("edges must hold node indices, got a boolean array")
    if raw.ndim != 2 or raw.shape[1] != 2:
        raise ProblemError(f"edges has shape {raw.shape}, expected (m, 2)")
    flat = cm.indices(raw.ravel(), "edges", num_nodes)
    edges = flat.reshape(-1, 2)
    loops = np.flatnonzero(edges[:, 0] == edges[:, 1])
    if loops.size:
        e = int(loops[0])
        raise ProblemError(f"edge {e} is a self loop on node {int(edges[e, 0])}")
    return np.unique(np.sort(edges, axis=1), axis=0)


@dataclass(frozen=True, repr=False, eq=False)
class MIS:
    """A maximum (weighted) independent set problem on an undirected graph.

    Parameters
    ----------
    num_nodes : int
        Number of nodes, indexed ``0..num_nodes-1``.
    edges : array_like
        ``(m, 2)`` node index pairs. ``(i, j)`` and ``(j, i)`` are the same edge and repeats
        are dropped; self loops are refused.
    weights : array_like, optional
        ``(num_nodes,)`` non-negative node weights; all ones when omitted.
    name : str
        Instance name.

    Raises
    ------
    ProblemError
        On a negative or non-integer node count, edges of the wrong shape, an index out of
        range, a self loop, or bad weights.

    Notes
    -----
    ``edges`` is stored normalised: ``i < j`` in every row, rows sorted and unique. A
    solution is an array of distinct node indices.
    """

    num_nodes: int
    edges: np.ndarray
    weights: np.ndarray | None = None
    name: str = ""

    def __post_init__(self) -> None:
        if isinstance(self.num_nodes, (bool, np.bool_)) or not isinstance(
            self.num_nodes, (int, np.integer)
        ):
            raise ProblemError(f"num_nodes must be an integer, got {self.num_nodes!r}")
        n = int(self.num_nodes)
        if n < 0:
            raise ProblemError(f"num_nodes must be non-negative, got {n}")
        edges = _edges(self.edges, n)
        if self.weights is None:
            weights = np.ones(n, dtype=np.float64)
        else:
            weights = cm.float_array(self.weights, "weights", (n,))
            cm.non_negative(weights, "weights")
        object.__setattr__(self, "num_nodes", n)
        object.__setattr__(self, "edges", cm.frozen(edges))
        object.__setattr__(self, "weights", cm.frozen(weights))
        object.__setattr__(self, "name", str(self.name))

    @property
    def num_edges(self) -> int:
        """Number of distinct undirected edges."""
        return int(self.edges.shape[0])

    @property
    def size(self) -> int:
        """Problem size, the number of nodes."""
        return self.num_nodes

    def adjacency(self) -> sp.csr_matrix:
        """Symmetric ``(n, n)`` adjacency matrix with ones for edges (scipy CSR)."""
        n, m = self.num_nodes, self.num_edges
        rows = np.concatenate([self.edges[:, 0], self.edges[:, 1]])
        cols = np.concatenate([self.edges[:, 1], self.edges[:, 0]])
        return sp.csr_matrix((np.ones(2 * m), (rows, cols)), shape=(n, n))

    def degrees(self) -> np.ndarray:
        """Number of neighbours of every node."""
        return np.bincount(self.edges.ravel(), minlength=self.num_nodes)

    def _nodes(self, nodes) -> np.ndarray:
        idx = cm.indices(nodes, "nodes", self.num_nodes)
        cm.distinct(idx, "nodes")
        return idx

    def weight(self, nodes: Sequence[int] | np.ndarray) -> float:
        """Total weight of the given nodes (independence is not checked).

        Raises
        ------
        ProblemError
            On repeated or out-of-range indices.
        """
        return float(self.weights[self._nodes(nodes)].sum())

    def check_independent(self, nodes: Sequence[int] | np.ndarray) -> None:
        """Check that the nodes are distinct and pairwise non-adjacent.

        Raises
        ------
        ProblemError
            Naming an edge with both ends in the set.
        """
        idx = self._nodes(nodes)
        chosen = np.zeros(self.num_nodes, dtype=bool)
        chosen[idx] = True
        inside = np.flatnonzero(chosen[self.edges[:, 0]] & chosen[self.edges[:, 1]])
        if inside.size:
            i, j = (int(v) for v in self.edges[inside[0]])
            raise ProblemError(f"nodes {i} and {j} are adjacent, the set is not independent")

    def clique_partition(self) -> tuple[np.ndarray, ...]:
        """A greedy partition of the edges into cliques; every edge lies in exactly one.

        Repeatedly take the node with the most uncovered edges (lowest index on ties), and
        grow a clique from it: scan its neighbours over uncovered edges by decreasing
        uncovered degree (then index) and add each one joined by uncovered edges to every
        member so far; the clique's edges are then covered. This is the greedy clique cover
        that Gasse et al. (2019) and Ecole use for independent set models (they partition
        the nodes and keep one row per leftover edge, which also covers every edge once).

        Returns
        -------
        tuple of numpy.ndarray
            Sorted node indices of each clique (two or more nodes), in the order found.

        References
        ----------
        M. Gasse, D. Chételat, N. Ferroni, L. Charlin and A. Lodi, "Exact combinatorial
        optimization with graph convolutional neural networks", NeurIPS 2019.
        A. Prouvost et al., "Ecole: a gym-like library for machine learning in combinatorial
        optimization solvers", Learning Meets Combinatorial Algorithms workshop, NeurIPS 2020.
        """
        n = self.num_nodes
        neighbours: list[set[int]] = [set() for _ in range(n)]
        for i, j in self.edges.tolist():
            neighbours[i].add(j)
            neighbours[j].add(i)
        degree = self.degrees().astype(np.int64)
        cliques = []
        while n and degree.max() > 0:
            centre = int(np.argmax(degree))
            clique = [centre]
            for u in sorted(neighbours[centre], key=lambda v: (-degree[v], v)):
                if all(u in neighbours[c] for c in clique[1:]):
                    clique.append(u)
            for a, b in combinations(clique, 2):
                neighbours[a].discard(b)
                neighbours[b].discard(a)
            degree[clique] -= len(clique) - 1
            cliques.append(np.array(sorted(clique), dtype=np.int64))
        return tuple(cm.frozen(c) for c in cliques)

    def to_problem(self, formulation: Literal["clique", "edge"] = "clique") -> Problem:
        """The independent set MIP ``max sum w_i x_i``, ``x`` binary.

        Parameters
        ----------
        formulation : {"clique", "edge"}
            ``"edge"``: one row ``x_i + x_j <= 1`` per edge (rows ``edge_<i>_<j>``).
            ``"clique"``: one row ``sum_{i in K} x_i <= 1`` per clique ``K`` of
            :meth:`clique_partition` (rows ``clique_<k>``); same integer solutions, a
            tighter LP relaxation.

        Returns
        -------
        Problem
            Variables ``x_<i>`` in node order.

        Raises
        ------
        ProblemError
            On an unknown formulation.
        """
        n = self.num_nodes
        if formulation == "edge":
            groups: Sequence[np.ndarray] = list(self.edges)
            con_names = [f"edge_{i}_{j}" for i, j in self.edges.tolist()]
        elif formulation == "clique":
            groups = self.clique_partition()
            con_names = cm.names("clique_", range(len(groups)))
        else:
            raise ProblemError(f"formulation must be 'clique' or 'edge', got {formulation!r}")
        sizes = np.array([len(g) for g in groups], dtype=np.int64)
        cols = np.concatenate(groups) if len(groups) else np.zeros(0, dtype=np.int64)
        rows = np.repeat(np.arange(len(groups)), sizes)
        A = sp.csr_matrix((np.ones(cols.size), (rows, cols)), shape=(len(groups), n))
        return Problem.from_arrays(
            self.weights, A, -np.inf, 1.0, 0.0, 1.0, True, sense="maximize",
            var_names=cm.names("x_", range(n)), con_names=con_names, name=self.name or "mis",
        )  # fmt: skip

    def __repr__(self) -> str:
        weighted = ", weighted" if not np.all(self.weights == 1.0) else ""
        head = f"MIS({cm.short_name(self.name)}nodes={self.num_nodes}"
        return f"{head}, edges={self.num_edges}{weighted})"


# ------------------------------------------------------------------ heuristics

#: Rounds of :func:`mis_ls` without a time limit and without ``iterations``.
DEFAULT_ITERATIONS = 10_000

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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
def _touch(st: np.ndarray, cnt: np.ndarray, v: int) -> None:
    if not st[_TOUCHED, v]:
        st[_TOUCHED, v] = 1
        st[_WAS, v] = st[_IN, v]
        st[_TLIST, cnt[0]] = v
        cnt[0] += 1


@njit(cache=True, nogil=True)
def _push(st: np.ndarray, cnt: np.ndarray, v: int) -> None:
    if not st[_QUEUED, v]:
        st[_QUEUED, v] = 1
        st[_STACK, cnt[1]] = v
        cnt[1] += 1


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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
            if w[a] + w[b] > w[x] + EPS * max(1.0, w[x]):
                _mis_drop(indptr, nbr, w, st, tw, cnt, value, x)
                _mis_add(indptr, nbr, w, st, tw, cnt, value, a)
                _mis_add(indptr, nbr, w, st, tw, cnt, value, b)
                return


@njit(cache=True, nogil=True)
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
            elif w[v] > tw[v] + EPS * max(1.0, w[v]):
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


@njit(cache=True, nogil=True)
def _mis_forget(st: np.ndarray, cnt: np.ndarray) -> None:
    """Start a new round: clear the touched list."""
    for k in range(cnt[0]):
        st[_TOUCHED, st[_TLIST, k]] = 0
    cnt[0] = 0


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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
        if value[0] > value[1] + EPS * max(1.0, value[1]):
            value[1] = value[0]
            for u in range(n):
                best[u] = st[_IN, u]
        elif value[0] < before - EPS * max(1.0, before):
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
    rounds = iteration_budget(iterations, tracker, DEFAULT_ITERATIONS)
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

        run_chunks(step, rounds, tracker)
    return np.flatnonzero(best).astype(np.int64)
