"""comb.MIS: validation, both formulations on both backends, the clique partition."""

from __future__ import annotations

from itertools import combinations

import numpy as np
import pytest

from hybridsolve.comb import MIS
from hybridsolve.mip import Problem, ProblemError, check, read, solve, write

PATH4 = MIS(4, [[0, 1], [1, 2], [2, 3]])
CYCLE5 = MIS(5, [[0, 1], [1, 2], [2, 3], [3, 4], [4, 0]])
STAR = MIS(5, [[0, 1], [0, 2], [0, 3], [0, 4]])


@pytest.mark.parametrize("backend", ["scip", "highs"])
@pytest.mark.parametrize("formulation", ["clique", "edge"])
@pytest.mark.parametrize(("graph", "optimum"), [(PATH4, 2), (CYCLE5, 2), (STAR, 4)])
def test_small_graphs_have_the_known_optimum(graph, optimum, formulation, backend):
    problem = graph.to_problem(formulation)
    result = solve(problem, backend)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(optimum)
    assert check(problem, result.x).feasible
    nodes = np.flatnonzero(np.round(result.x) == 1)
    graph.check_independent(nodes)
    assert graph.weight(nodes) == pytest.approx(optimum)


def random_graph(seed: int = 7, n: int = 40, p: float = 0.2) -> MIS:
    rng = np.random.default_rng(seed)
    i, j = np.triu_indices(n, k=1)
    keep = rng.random(i.size) < p
    clique = [(a, b) for a, b in combinations(range(5), 2)]  # a K5 to find
    edges = np.vstack([np.column_stack([i[keep], j[keep]]), clique])
    return MIS(n, edges, weights=rng.integers(1, 10, n))


def test_clique_rows_cover_every_edge_exactly_once():
    graph = random_graph()
    problem = graph.to_problem("clique")
    A = problem.A.toarray()
    together = A.T @ A  # how many rows contain both i and j
    adjacency = graph.adjacency().toarray()
    off = ~np.eye(graph.num_nodes, dtype=bool)
    assert (together[off & (adjacency == 1)] == 1).all()
    assert (together[off & (adjacency == 0)] == 0).all()  # rows are cliques
    assert problem.num_cons < graph.num_edges
    assert max(len(c) for c in graph.clique_partition()) >= 3


def test_clique_partition_is_deterministic_and_order_free():
    graph = random_graph()
    shuffled = np.random.default_rng(0).permutation(graph.edges)[:, ::-1]
    again = MIS(graph.num_nodes, shuffled, graph.weights)
    first, second = graph.clique_partition(), again.clique_partition()
    assert len(first) == len(second)
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


def test_disjoint_cliques_are_found_whole():
    k5 = list(combinations(range(5), 2))
    triangle = list(combinations(range(5, 8), 2))
    graph = MIS(9, k5 + triangle + [(8, 7)])
    cliques = [c.tolist() for c in graph.clique_partition()]
    assert cliques == [[0, 1, 2, 3, 4], [5, 6, 7], [7, 8]]


def test_k4_is_one_clique_row_and_tightens_the_relaxation():
    k4 = MIS(4, list(combinations(range(4), 2)))
    assert [c.tolist() for c in k4.clique_partition()] == [[0, 1, 2, 3]]
    bounds = {}
    for formulation in ("clique", "edge"):
        p = k4.to_problem(formulation)
        lp = Problem.from_arrays(p.c, p.A, p.row_lower, p.row_upper, 0.0, 1.0, sense="maximize")
        bounds[formulation] = solve(lp, "highs").objective
    assert bounds["clique"] == pytest.approx(1.0) and bounds["edge"] == pytest.approx(2.0)


@pytest.mark.parametrize("backend", ["scip", "highs"])
def test_weighted_star_takes_the_heavy_centre(backend):
    star = MIS(5, STAR.edges, weights=[5, 1, 1, 1, 1])
    result = solve(star.to_problem(), backend)
    assert result.objective == pytest.approx(5.0)
    assert np.round(result.x).tolist() == [1, 0, 0, 0, 0]


def test_edges_are_normalised_and_deduplicated():
    graph = MIS(3, [[1, 0], [0, 1], [2, 1], [1, 2]])
    assert graph.edges.tolist() == [[0, 1], [1, 2]] and graph.num_edges == 2
    assert graph.degrees().tolist() == [1, 2, 1]
    adjacency = graph.adjacency()
    assert adjacency.format == "csr" and (adjacency != adjacency.T).nnz == 0
    assert adjacency.toarray().tolist() == [[0, 1, 0], [1, 0, 1], [0, 1, 0]]
    assert MIS(3, []).num_edges == 0
    assert MIS(3, []).to_problem().num_cons == 0


def test_to_problem_names_and_sense():
    p = PATH4.to_problem("edge")
    assert p.var_names == ("x_0", "x_1", "x_2", "x_3")
    assert p.con_names == ("edge_0_1", "edge_1_2", "edge_2_3")
    assert p.sense == "maximize" and p.integrality.all() and p.row_upper.tolist() == [1, 1, 1]
    assert PATH4.to_problem("clique").con_names[0] == "clique_0"
    with pytest.raises(ProblemError, match="formulation must be 'clique' or 'edge'"):
        PATH4.to_problem("cliques")  # type: ignore[arg-type]


@pytest.mark.parametrize("formulation", ["clique", "edge"])
def test_to_problem_round_trips_through_gzipped_mps(tmp_path, formulation):
    p = random_graph().to_problem(formulation)
    q = read(write(p, tmp_path / "mis.mps.gz"))
    assert q.sense == p.sense and q.var_names == p.var_names and q.con_names == p.con_names
    for name in ("c", "row_lower", "row_upper", "col_lower", "col_upper", "integrality"):
        np.testing.assert_array_equal(getattr(q, name), getattr(p, name))
    np.testing.assert_array_equal(q.A.toarray(), p.A.toarray())


def test_check_independent_names_the_edge():
    with pytest.raises(ProblemError, match="nodes 1 and 2 are adjacent"):
        PATH4.check_independent([2, 1])
    with pytest.raises(ProblemError, match="nodes 2 and 3 are adjacent"):
        PATH4.check_independent([3, 0, 2])
    with pytest.raises(ProblemError, match="lists index 0 more than once"):
        PATH4.check_independent([0, 0])
    PATH4.check_independent([0, 2])
    PATH4.check_independent([])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((3, [[0, 1], [2, 2]]), "edge 1 is a self loop on node 2"),
        ((3, [[0, 3]]), "out of range 0..2"),
        ((3, [[0, 1, 2]]), r"edges has shape \(1, 3\), expected \(m, 2\)"),
        ((3, [[0, 1.5]]), "integer indices"),
        ((-1, []), "num_nodes must be non-negative"),
        ((2.0, []), "num_nodes must be an integer"),
        ((3, [[0, 1]], [1, -1, 1]), "weights must be non-negative"),
        ((3, [[0, 1]], [1, 1]), r"weights has shape \(2,\), expected \(3,\)"),
    ],
)
def test_mis_rejects_bad_input(args, message):
    with pytest.raises(ProblemError, match=message):
        MIS(*args)
