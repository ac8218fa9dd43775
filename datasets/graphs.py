"""Random graphs and the graph MIPs built on them: independent set, vertex cover, GISP."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from hybridsolve.comb import MIS
from hybridsolve.mip import Problem

__all__ = [
    "barabasi_albert",
    "erdos_renyi",
    "generalized_independent_set",
    "independent_set",
    "vertex_cover",
]


def barabasi_albert(rng: np.random.Generator, nodes: int, affinity: int) -> np.ndarray:
    """Edges of a Barabási-Albert preferential-attachment graph.

    The first ``affinity + 1`` nodes form a clique; every later node links to ``affinity``
    distinct earlier nodes drawn with probability proportional to their degree.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    nodes : int
        Number of nodes, more than ``affinity``.
    affinity : int
        Edges added with every new node (the model's ``m``).

    Returns
    -------
    numpy.ndarray
        ``(edges, 2)`` integer array, ``i < j`` in every row, sorted.

    References
    ----------
    A.-L. Barabási and R. Albert, "Emergence of scaling in random networks", Science 286
    (1999), 509-512.
    """
    if not 1 <= affinity < nodes:
        raise ValueError(f"need 1 <= affinity < nodes, got affinity={affinity}, nodes={nodes}")
    first = np.array(
        [(i, j) for i in range(affinity + 1) for j in range(i + 1, affinity + 1)], dtype=np.int64
    ).reshape(-1, 2)
    degree = np.zeros(nodes)
    degree[: affinity + 1] = affinity
    edges = [first]
    for new in range(affinity + 1, nodes):
        targets = rng.choice(new, size=affinity, replace=False, p=degree[:new] / degree[:new].sum())
        degree[targets] += 1
        degree[new] = affinity
        edges.append(np.column_stack([np.sort(targets), np.full(affinity, new)]))
    return _sorted(np.concatenate(edges))


def erdos_renyi(rng: np.random.Generator, nodes: int, probability: float) -> np.ndarray:
    """Edges of an Erdős-Rényi ``G(n, p)`` graph: each pair linked independently.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    nodes : int
        Number of nodes.
    probability : float
        Probability of each of the ``n (n - 1) / 2`` edges.

    Returns
    -------
    numpy.ndarray
        ``(edges, 2)`` integer array, ``i < j`` in every row, sorted.

    References
    ----------
    P. Erdős and A. Rényi, "On random graphs I", Publicationes Mathematicae 6 (1959),
    290-297.
    """
    i, j = np.triu_indices(nodes, k=1)
    keep = rng.random(i.size) < probability
    return np.column_stack([i[keep], j[keep]]).astype(np.int64)


def _sorted(edges: np.ndarray) -> np.ndarray:
    edges = np.sort(edges, axis=1)
    return edges[np.lexsort((edges[:, 1], edges[:, 0]))]


def _graph(rng: np.random.Generator, nodes: int, graph: str, affinity: int, probability: float):
    if graph == "barabasi_albert":
        return barabasi_albert(rng, nodes, affinity)
    if graph == "erdos_renyi":
        return erdos_renyi(rng, nodes, probability)
    raise ValueError(f"unknown graph model {graph!r}; use 'barabasi_albert' or 'erdos_renyi'")


def independent_set(
    rng: np.random.Generator,
    nodes: int = 500,
    graph: str = "barabasi_albert",
    affinity: int = 4,
    probability: float = 0.05,
) -> Problem:
    """A maximum independent set problem in the clique-partition formulation.

    As in Gasse et al. (2019): a Barabási-Albert graph (affinity 4) or an Erdős-Rényi graph,
    unit weights, and one row ``sum_{i in K} x_i <= 1`` per clique ``K`` of a greedy
    partition of the edges into cliques (:meth:`hybridsolve.comb.MIS.to_problem`), which is
    tighter than one row per edge. The empty set is always feasible.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    nodes : int
        Number of nodes.
    graph : {"barabasi_albert", "erdos_renyi"}
        Random graph model.
    affinity : int
        Barabási-Albert edges per new node.
    probability : float
        Erdős-Rényi edge probability.

    Returns
    -------
    Problem

    References
    ----------
    D. Bergman, A. A. Cire, W.-J. van Hoeve and J. Hooker, "Decision diagrams for
    optimization", Springer (2016), for the clique formulation on random graphs.
    M. Gasse, D. Chételat, N. Ferroni, L. Charlin and A. Lodi, "Exact combinatorial
    optimization with graph convolutional neural networks", NeurIPS 2019.
    """
    edges = _graph(rng, nodes, graph, affinity, probability)
    return MIS(nodes, edges, name=f"indset-{nodes}").to_problem(formulation="clique")


def vertex_cover(
    rng: np.random.Generator,
    nodes: int = 500,
    graph: str = "barabasi_albert",
    affinity: int = 4,
    probability: float = 0.05,
) -> Problem:
    """A minimum weighted vertex cover problem: ``min w x`` s.t. ``x_i + x_j >= 1`` per edge.

    As in Distributional MIPLIB (Huang et al. 2024): a Barabási-Albert (or Erdős-Rényi)
    graph and node weights uniform in [0, 1), rounded to 4 decimals so that files store
    them exactly. Covering every node is always feasible.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    nodes : int
        Number of nodes.
    graph : {"barabasi_albert", "erdos_renyi"}
        Random graph model.
    affinity : int
        Barabási-Albert edges per new node.
    probability : float
        Erdős-Rényi edge probability.

    Returns
    -------
    Problem

    References
    ----------
    W. Huang, T. Huang, A. M. Ferber and B. Dilkina, "Distributional MIPLIB: a multi-domain
    library for advancing ML-guided MILP methods", arXiv:2406.06954 (2024).
    """
    edges = _graph(rng, nodes, graph, affinity, probability)
    weights = np.round(rng.random(nodes), 4)
    rows = np.repeat(np.arange(len(edges)), 2)
    A = sp.csr_matrix((np.ones(rows.size), (rows, edges.ravel())), shape=(len(edges), nodes))
    return Problem.from_arrays(
        weights, A, 1.0, np.inf, 0.0, 1.0, True, name=f"mvc-{nodes}",
        var_names=[f"x_{i}" for i in range(nodes)],
    )  # fmt: skip


def generalized_independent_set(
    rng: np.random.Generator,
    nodes: int = 150,
    probability: float = 0.3,
    removable: float = 0.25,
    revenue: float = 100.0,
    cost: float = 1.0,
) -> Problem:
    """A generalized independent set problem (GISP) on an Erdős-Rényi graph.

    Hochbaum & Pathria (1997), in the form used by Colombi et al. (2017) and Distributional
    MIPLIB: every node ``i`` earns ``revenue`` when chosen (``x_i``); a share ``removable``
    of the edges may be removed at ``cost`` (``y_e``). Fixed edges forbid choosing both
    ends (``x_i + x_j <= 1``); a removable edge must be paid for when both ends are chosen
    (``x_i + x_j - y_e <= 1``). ``max revenue * sum x - cost * sum y``; variables ``x``
    first, then ``y``. The empty set is always feasible.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    nodes : int
        Number of nodes.
    probability : float
        Erdős-Rényi edge probability.
    removable : float
        Share of the edges that may be removed.
    revenue, cost : float
        Revenue of a node and removal cost of an edge.

    Returns
    -------
    Problem

    References
    ----------
    D. S. Hochbaum and A. Pathria, "Forest harvesting and minimum cuts: a new approach to
    handling spatial constraints", Forest Science 43 (1997), 544-554.
    M. Colombi, R. Mansini and M. Savelsbergh, "The generalized independent set problem:
    polyhedral analysis and solution approaches", EJOR 260 (2017), 41-55.
    """
    edges = erdos_renyi(rng, nodes, probability)
    is_removable = rng.random(len(edges)) < removable
    y_of_edge = np.full(len(edges), -1)
    y_of_edge[is_removable] = nodes + np.arange(int(is_removable.sum()))
    rows = np.arange(len(edges))
    row_index = np.concatenate([rows, rows, rows[is_removable]])
    col_index = np.concatenate([edges[:, 0], edges[:, 1], y_of_edge[is_removable]])
    values = np.concatenate([np.ones(2 * len(edges)), -np.ones(int(is_removable.sum()))])
    num_vars = nodes + int(is_removable.sum())
    A = sp.csr_matrix((values, (row_index, col_index)), shape=(len(edges), num_vars))
    c = np.concatenate([np.full(nodes, revenue), np.full(num_vars - nodes, -cost)])
    names = [f"x_{i}" for i in range(nodes)] + [f"y_{i}_{j}" for i, j in edges[is_removable]]
    return Problem.from_arrays(
        c, A, -np.inf, 1.0, 0.0, 1.0, True, sense="maximize", var_names=names,
        name=f"gisp-{nodes}",
    )  # fmt: skip
