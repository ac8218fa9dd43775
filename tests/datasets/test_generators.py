"""MIP generators: determinism, feasibility, exact file round trips, structure by hand."""

from __future__ import annotations

import gzip
import hashlib

import numpy as np
import pyscipopt
import pytest

from hybridsolve import datasets
from hybridsolve.mip import check, read, solve, write

# Small sizes of every MIP generator: solved to optimality by HiGHS in well under a second.
SMALL = {
    "set_cover": (datasets.set_cover, dict(rows=60, cols=120)),
    "combinatorial_auction": (datasets.combinatorial_auction, dict(items=20, bids=60)),
    "capacitated_facility_location": (
        datasets.capacitated_facility_location,
        dict(customers=15, facilities=8),
    ),
    "independent_set_ba": (datasets.independent_set, dict(nodes=60, affinity=3)),
    "independent_set_er": (
        datasets.independent_set,
        dict(nodes=40, graph="erdos_renyi", probability=0.15),
    ),
    "vertex_cover": (datasets.vertex_cover, dict(nodes=60, affinity=3)),
    "generalized_independent_set": (datasets.generalized_independent_set, dict(nodes=25)),
    "multiple_knapsack": (datasets.multiple_knapsack, dict(items=20, knapsacks=3)),
    "multiple_knapsack_correlated": (
        datasets.multiple_knapsack,
        dict(items=20, knapsacks=3, correlated=True),
    ),
    "multidimensional_knapsack": (datasets.multidimensional_knapsack, dict(items=25)),
    "market_split": (datasets.market_split, dict(rows=2, items=12)),
    "load_balancing": (datasets.load_balancing, dict(workers=8, workloads=12, allowed=3)),
    "item_placement": (datasets.item_placement, dict(items=8, bins=2, resources=2)),
    "total_tardiness": (datasets.total_tardiness, dict(jobs=6)),
}


def _make(key: str, seed: int = 0):
    generator, params = SMALL[key]
    return generator(np.random.default_rng(seed), **params)


def _digest(problem, tmp_path, tag: str) -> str:
    path = write(problem, tmp_path / f"{tag}.mps.gz")
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("key", sorted(SMALL))
def test_same_seed_same_file_other_seed_other_file(key, tmp_path):
    first = _digest(_make(key, 7), tmp_path, "a")
    again = _digest(_make(key, 7), tmp_path, "b")
    other = _digest(_make(key, 8), tmp_path, "c")
    assert first == again
    assert first != other


@pytest.mark.parametrize("key", sorted(SMALL))
def test_small_instances_solve_to_a_certified_optimum(key):
    problem = _make(key)
    result = solve(problem, "highs", time_limit=60)
    assert result.status.value == "optimal", result.summary()
    assert check(problem, result.x).feasible


@pytest.mark.parametrize("key", sorted(SMALL))
def test_highs_reader_gives_back_the_same_arrays(key, tmp_path):
    problem = _make(key)
    back = read(write(problem, tmp_path / "m.mps.gz"))
    assert back.sense == problem.sense
    for field in ("c", "row_lower", "row_upper", "col_lower", "col_upper", "integrality"):
        np.testing.assert_array_equal(getattr(back, field), getattr(problem, field), field)
    assert (back.A != problem.A).nnz == 0
    assert back.var_names == problem.var_names


@pytest.mark.parametrize("key", sorted(SMALL))
def test_scip_reader_gives_back_the_same_model(key, tmp_path):
    problem = _make(key)
    path = write(problem, tmp_path / "m.mps.gz")
    text = gzip.decompress(path.read_bytes()).decode()
    lines = [line.split() for line in text.splitlines()]
    assert ["RANGES"] not in lines
    if problem.sense == "maximize":  # on its own line, which both readers understand
        assert lines[lines.index(["OBJSENSE"]) + 1] == ["MAX"]

    model = pyscipopt.Model()
    model.hideOutput()
    model.readProblem(str(path))
    sign = -1.0 if model.getObjectiveSense() == "maximize" else 1.0
    assert sign == (-1.0 if problem.sense == "maximize" else 1.0)
    by_name = {var.name: var for var in model.getVars()}
    assert sorted(by_name) == sorted(problem.var_names)
    for j, name in enumerate(problem.var_names):
        var = by_name[name]
        assert var.getObj() == problem.c[j]
        assert var.getLbGlobal() == problem.col_lower[j]
        upper = var.getUbGlobal()
        assert (upper >= model.infinity() and np.isinf(problem.col_upper[j])) or (
            upper == problem.col_upper[j]
        )
        assert (var.vtype() != "CONTINUOUS") == problem.integrality[j]
    conss = {cons.name: cons for cons in model.getConss()}
    assert sorted(conss) == sorted(problem.con_names)
    A = problem.A.tocsr()
    for i, name in enumerate(problem.con_names):
        row = A.getrow(i)
        expected = {problem.var_names[j]: v for j, v in zip(row.indices, row.data)}
        assert model.getValsLinear(conss[name]) == pytest.approx(expected, rel=0, abs=0)
        lhs, rhs = model.getLhs(conss[name]), model.getRhs(conss[name])
        assert (lhs <= -model.infinity() and np.isneginf(problem.row_lower[i])) or (
            lhs == problem.row_lower[i]
        )
        assert (rhs >= model.infinity() and np.isposinf(problem.row_upper[i])) or (
            rhs == problem.row_upper[i]
        )


def test_barabasi_albert_edge_count_and_simplicity():
    edges = datasets.barabasi_albert(np.random.default_rng(0), 50, 3)
    assert len(edges) == 3 * 4 // 2 + (50 - 4) * 3
    assert (edges[:, 0] < edges[:, 1]).all()
    assert len({tuple(e) for e in edges}) == len(edges)
    degree = np.bincount(edges.ravel(), minlength=50)
    assert degree.min() >= 3


def test_erdos_renyi_extremes():
    rng = np.random.default_rng(0)
    assert datasets.erdos_renyi(rng, 10, 0.0).shape == (0, 2)
    assert len(datasets.erdos_renyi(rng, 10, 1.0)) == 45


def test_bad_graph_parameters_are_refused():
    with pytest.raises(ValueError, match="affinity"):
        datasets.barabasi_albert(np.random.default_rng(0), 3, 3)
    with pytest.raises(ValueError, match="unknown graph model 'grid'"):
        datasets.independent_set(np.random.default_rng(0), 10, graph="grid")
    with pytest.raises(ValueError, match="allowed"):
        datasets.load_balancing(np.random.default_rng(0), workers=3, workloads=2, allowed=1)


def test_independent_set_optimum_equals_brute_force():
    rng = np.random.default_rng(4)
    problem = datasets.independent_set(rng, nodes=12, graph="erdos_renyi", probability=0.3)
    edges = datasets.erdos_renyi(np.random.default_rng(4), 12, 0.3)
    subsets = (np.arange(2**12)[:, None] >> np.arange(12)) & 1
    independent = ~np.any(subsets[:, edges[:, 0]] & subsets[:, edges[:, 1]], axis=1)
    best = subsets[independent].sum(axis=1).max()
    for backend in ("highs", "scip"):
        assert solve(problem, backend).objective == best


def test_vertex_cover_optimum_equals_brute_force_on_a_tree():
    problem = datasets.vertex_cover(np.random.default_rng(1), nodes=5, affinity=1)
    result = solve(problem, "highs")
    edges = datasets.barabasi_albert(np.random.default_rng(1), 5, 1)
    chosen = result.x > 0.5
    assert np.all(chosen[edges[:, 0]] | chosen[edges[:, 1]])
    subsets = (np.arange(2**5)[:, None] >> np.arange(5)) & 1
    covers = np.all(subsets[:, edges[:, 0]] | subsets[:, edges[:, 1]], axis=1)
    assert result.objective == pytest.approx((subsets[covers] @ problem.c).min(), abs=1e-9)


def test_gisp_rows_and_values_by_hand():
    problem = datasets.generalized_independent_set(
        np.random.default_rng(2), nodes=8, probability=0.5, removable=0.5
    )
    nodes = 8
    removable = problem.num_vars - nodes
    assert problem.num_cons == problem.A[:, :nodes].sum() / 2  # one row per edge
    assert (problem.A[:, nodes:].sum(axis=0) == -1).all()  # each y in exactly one row
    assert np.all(problem.c[:nodes] == 100) and np.all(problem.c[nodes:] == -1)
    assert removable > 0
    # choosing every node and paying every removable edge violates exactly the fixed edges
    x = np.ones(problem.num_vars)
    fixed = np.asarray(problem.A[:, nodes:].sum(axis=1)).ravel() == 0
    assert len(check(problem, x).violations) == int(fixed.sum())


def test_auction_bids_are_sets_of_items_with_positive_prices():
    problem = datasets.combinatorial_auction(np.random.default_rng(5), items=30, bids=80)
    assert problem.num_vars == 80
    assert set(np.unique(problem.A.data)) == {1.0}
    assert (problem.c > 0).all()
    assert problem.sense == "maximize"
    assert (problem.A.getnnz(axis=1) > 0).all()


def test_load_balancing_reference_apportionment_is_feasible():
    problem = datasets.load_balancing(np.random.default_rng(3), workers=6, workloads=9, allowed=3)
    x = np.zeros(problem.num_vars)
    row_lower = problem.row_lower
    A = problem.A.tocsc()
    for j, name in enumerate(problem.var_names):
        if name.startswith("used_"):
            x[j] = 1.0
    for j, name in enumerate(problem.var_names):
        if name.startswith("reserved_"):
            rows = A.indices[A.indptr[j] : A.indptr[j + 1]]
            load = max(row_lower[r] for r in rows if np.isfinite(row_lower[r]))
            x[j] = load / 2  # split over the 3 allowed workers: load / (3 - 1) each
    assert check(problem, x).feasible


def test_every_generator_names_its_source_in_the_docstring():
    for generator, _ in SMALL.values():
        assert "References" in generator.__doc__ or "Follows" in generator.__doc__
