"""neural.graph: a Problem as a bipartite graph, checked against the arrays by hand."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.sparse as sp

from hybridsolve.mip import Problem
from hybridsolve.neural.graph import (
    CON_FEATURES,
    LP_CON_FEATURES,
    LP_VAR_FEATURES,
    VAR_FEATURES,
    encode,
)


def con(graph, name: str) -> np.ndarray:
    return graph.con_features[:, graph.con_names.index(name)]


def var(graph, name: str) -> np.ndarray:
    return graph.var_features[:, graph.var_names.index(name)]


def model(sense: str = "minimize") -> Problem:
    """Rows: a <= row, a ranged row, an equation, an empty >= row; a free variable."""
    A = sp.csr_matrix(
        [
            [2.0, -4.0, 0.0, 0.0],
            [0.0, 1.0, 0.5, 0.0],
            [3.0, 0.0, 0.0, 6.0],
            [0.0, 0.0, 0.0, 0.0],
        ]
    )
    return Problem.from_arrays(
        [1.0, -2.0, 0.0, 4.0], A,
        row_lower=[-np.inf, -1.0, 6.0, 0.0], row_upper=[8.0, 3.0, 6.0, np.inf],
        col_lower=[0.0, -np.inf, 0.0, -2.0], col_upper=[1.0, np.inf, 10.0, 5.0],
        integrality=[True, False, True, True], sense=sense,
    )  # fmt: skip


def test_every_nonzero_is_one_edge_with_its_row_scaled_weight():
    p = model()
    g = encode(p)
    assert g.num_cons == 4 and g.num_vars == 4
    edges = {(int(i), int(j)): float(w) for (i, j), w in zip(g.edge_index.T, g.edge_weight)}
    assert edges == {(0, 0): 0.5, (0, 1): -1.0, (1, 1): 1.0, (1, 2): 0.5, (2, 0): 0.5, (2, 3): 1.0}
    assert g.edge_index.dtype == np.int64 and g.edge_weight.dtype == np.float32
    assert g.con_features.shape == (4, len(CON_FEATURES))
    assert g.var_features.shape == (4, len(VAR_FEATURES))


def test_row_senses_ranges_and_bounds():
    g = encode(model())
    assert con(g, "equality").tolist() == [0, 0, 1, 0]
    assert con(g, "has_lower").tolist() == [0, 1, 1, 1]  # row 1 is ranged: both flags
    assert con(g, "has_upper").tolist() == [1, 1, 1, 0]
    # right-hand sides in units of the row's largest coefficient, through slog
    assert con(g, "upper")[0] == pytest.approx(np.log1p(8.0 / 4.0))
    assert con(g, "lower")[1] == pytest.approx(-np.log1p(1.0))
    assert con(g, "lower")[2] == pytest.approx(np.log1p(1.0))  # 6 / 6
    assert con(g, "degree").tolist() == [1.0, 1.0, 1.0, 0.0]  # the empty row: isolated
    assert con(g, "mean_coefficient")[0] == pytest.approx(-0.25)


def test_variable_types_bounds_and_free_variables():
    g = encode(model())
    assert var(g, "binary").tolist() == [1, 0, 0, 0]
    assert var(g, "integer").tolist() == [0, 0, 1, 1]
    assert var(g, "continuous").tolist() == [0, 1, 0, 0]
    assert var(g, "free").tolist() == [0, 1, 0, 0]
    assert var(g, "has_lower").tolist() == [1, 0, 1, 1]
    assert var(g, "lower")[3] == pytest.approx(-np.log1p(2.0))
    assert var(g, "upper")[2] == pytest.approx(np.log1p(10.0))
    assert var(g, "degree").tolist() == [1.0, 1.0, 0.5, 0.5]
    assert g.integer.tolist() == [True, False, True, True]


def test_maximisation_is_handled_once_as_a_minimised_objective():
    low, high = encode(model()), encode(model("maximize"))
    assert var(low, "objective").tolist() == [0.25, -0.5, 0.0, 1.0]
    assert var(high, "objective").tolist() == [-0.25, 0.5, 0.0, -1.0]
    assert np.allclose(con(high, "objective_cosine"), -con(low, "objective_cosine"))
    # a maximised model and its negated minimisation are the same graph
    negated = dataclasses.replace(model("maximize"), c=-model().c, sense="minimize")
    assert np.array_equal(encode(negated).var_features, high.var_features)


def test_scale_invariance_of_rows_and_objective():
    p = model()
    scaled = Problem.from_arrays(
        10 * p.c, sp.diags([3.0, 0.5, 7.0, 1.0]) @ p.A,
        row_lower=p.row_lower * [3.0, 0.5, 7.0, 1.0], row_upper=p.row_upper * [3.0, 0.5, 7.0, 1.0],
        col_lower=p.col_lower, col_upper=p.col_upper, integrality=p.integrality,
    )  # fmt: skip
    a, b = encode(p), encode(scaled)
    assert np.allclose(a.con_features, b.con_features, atol=1e-6)
    assert np.allclose(a.var_features, b.var_features, atol=1e-6)
    assert np.allclose(a.edge_weight, b.edge_weight)


def test_lp_features_match_the_relaxation():
    # min -x - y  s.t.  x + y <= 1.5, x, y in [0, 1] integer: LP optimum 1.5, e.g. (1, 0.5)
    p = Problem.from_arrays(
        [-1.0, -1.0], [[1.0, 1.0]], row_upper=1.5, col_upper=1.0, integrality=True
    )
    g = encode(p, lp=True)
    assert g.lp_status == "Optimal" and g.lp_objective == pytest.approx(-1.5)
    assert g.con_names == CON_FEATURES + LP_CON_FEATURES
    assert g.var_names == VAR_FEATURES + LP_VAR_FEATURES
    assert con(g, "tight").tolist() == [1.0]
    assert sorted(var(g, "fractionality").tolist()) == pytest.approx([0.0, 0.5])
    assert sorted(var(g, "lp_value").tolist()) == pytest.approx([0.5, 1.0])
    assert con(g, "dual")[0] < 0  # relaxing the row lowers the minimised objective


def test_lp_features_of_an_infeasible_relaxation_are_zero():
    p = Problem.from_arrays([1.0], [[1.0]], row_lower=2.0, col_upper=1.0, integrality=True)
    g = encode(p, lp=True)
    assert g.lp_status == "Infeasible" and g.lp_objective is None
    assert not g.var_features[:, len(VAR_FEATURES) :].any()


def test_to_data_batches_bipartite_edges_per_graph():
    from torch_geometric.data import Batch

    first, second = encode(model()).to_data(), encode(model("maximize")).to_data()
    batch = Batch.from_data_list([first, second], follow_batch=["x_con", "x_var"])
    assert batch.x_con.shape == (8, len(CON_FEATURES)) and batch.x_var.shape == (8, 11)
    shifted = batch.edge_index[:, 6:] - batch.edge_index[:, :6]
    assert (shifted[0] == 4).all() and (shifted[1] == 4).all()
    assert batch.x_var_batch.tolist() == [0] * 4 + [1] * 4


def test_graph_module_does_not_import_torch():
    import subprocess
    import sys

    code = (
        "import sys; from hybridsolve.neural.graph import encode; "
        "from hybridsolve.mip import Problem; encode(Problem.from_arrays([1.0])); "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
