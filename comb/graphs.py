"""Graph problems: the maximum (weighted) independent set."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
import scipy.sparse as sp

from hybridsolve.mip import Problem
from hybridsolve.mip.errors import ProblemError

from . import _common as cm

__all__ = ["MIS"]


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
