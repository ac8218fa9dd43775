"""A MIP as a bipartite graph: constraint nodes, variable nodes, one edge per nonzero.

One format serves every graph model of hybridsolve (FORGE embeddings, the hint head,
learned branching). :func:`encode` builds it from a :class:`~hybridsolve.mip.Problem` with
numpy and scipy alone (no torch), in time linear in the nonzeros; :meth:`MIPGraph.to_data`
turns it into a ``torch_geometric`` :class:`~hybridsolve.neural.graph_data.BipartiteData`
that batches like any PyG graph.

Features (names in :data:`CON_FEATURES`, :data:`VAR_FEATURES` and, with ``lp=True``,
:data:`LP_CON_FEATURES` / :data:`LP_VAR_FEATURES`) follow FORGE's static features (row sense
and right-hand side; variable type, objective and bounds; Shafi & Kadıoğlu 2025) with
additions from Gasse et al. (2019): degrees, the row/objective cosine and, optionally, the
LP relaxation's values, reduced costs and duals from HiGHS. They are normalised per
instance so that models transfer across sizes and scales:

- each row is scaled by its largest absolute coefficient, so edge weights lie in
  ``[-1, 1]`` and a row's bounds are in the units of its coefficients;
- the objective is taken in minimisation sense (a maximised objective is negated here,
  once) and divided by its largest absolute coefficient;
- bounds and right-hand sides go through ``sign(v) log(1 + |v|)``; an infinite one is 0
  with its ``has_*`` flag 0, so ranged rows (both flags, not an equation) and free
  variables (neither flag) are told apart;
- degrees are divided by the instance's largest degree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.sparse as sp

from hybridsolve.mip import Problem

if TYPE_CHECKING:
    from .graph_data import BipartiteData

__all__ = [
    "CON_FEATURES",
    "LP_CON_FEATURES",
    "LP_VAR_FEATURES",
    "VAR_FEATURES",
    "MIPGraph",
    "encode",
]

#: Constraint-node features, in column order.
CON_FEATURES = (
    "equality",  # lower == upper
    "has_lower",  # finite lower bound (a >= row)
    "has_upper",  # finite upper bound (a <= row)
    "lower",  # slog(lower / row scale), 0 when infinite
    "upper",  # slog(upper / row scale), 0 when infinite
    "degree",  # nonzeros / the largest row's nonzeros
    "mean_coefficient",  # mean scaled coefficient, in [-1, 1]
    "objective_cosine",  # cosine of the row with the (minimised) objective
)
#: Variable-node features, in column order.
VAR_FEATURES = (
    "continuous",
    "binary",  # integer with domain inside {0, 1}
    "integer",  # integer, not binary
    "objective",  # minimised objective / its largest absolute coefficient
    "has_lower",
    "has_upper",
    "lower",  # slog(lower), 0 when infinite
    "upper",  # slog(upper), 0 when infinite
    "free",  # neither bound finite
    "degree",  # nonzeros / the largest column's nonzeros
    "mean_coefficient",  # mean scaled coefficient, in [-1, 1]
)
#: Constraint features from the LP relaxation (``encode(..., lp=True)``).
LP_CON_FEATURES = (
    "dual",  # slog(dual x row scale / objective scale), minimisation sense
    "tight",  # activity at a finite bound
)
#: Variable features from the LP relaxation (``encode(..., lp=True)``).
LP_VAR_FEATURES = (
    "lp_value",  # position in [lower, upper] when both are finite, else slog(value)
    "fractionality",  # distance to the nearest integer (integer variables only)
    "reduced_cost",  # reduced cost / objective scale, minimisation sense
    "at_lower",
    "at_upper",
)

_TOL = 1e-6


def _slog(values: np.ndarray) -> np.ndarray:
    """``sign(v) log(1 + |v|)``, with 0 where ``v`` is infinite."""
    out = np.zeros_like(values, dtype=np.float64)
    finite = np.isfinite(values)
    out[finite] = np.sign(values[finite]) * np.log1p(np.abs(values[finite]))
    return out


def _scale(values: np.ndarray) -> np.ndarray:
    """Divide by the largest absolute value (1 when all are 0)."""
    top = float(np.abs(values).max()) if values.size else 0.0
    return values / top if top > 0 else values.astype(np.float64)


@dataclass(frozen=True, eq=False)
class MIPGraph:
    """A :class:`~hybridsolve.mip.Problem` as a bipartite graph of numpy arrays.

    Attributes
    ----------
    con_features : numpy.ndarray
        ``float32`` array ``(m, len(con_names))``.
    var_features : numpy.ndarray
        ``float32`` array ``(n, len(var_names))``.
    edge_index : numpy.ndarray
        ``int64`` array ``(2, nnz)``: row ``i`` (constraint) and column ``j`` (variable)
        of every nonzero, in CSR order of ``problem.A``.
    edge_weight : numpy.ndarray
        ``float32`` array ``(nnz,)``: ``A[i, j]`` divided by row ``i``'s largest absolute
        coefficient.
    integer : numpy.ndarray
        Boolean ``(n,)``: the integer (binary included) variables.
    con_names, var_names : tuple of str
        Feature names of the columns of ``con_features`` / ``var_features``.
    lp_status : str or None
        HiGHS's model status of the LP relaxation with ``lp=True`` (LP features are 0
        unless it is ``"Optimal"``); ``None`` without LP features.
    lp_objective : float or None
        Optimal LP relaxation objective in the problem's own sense, offset included.
    """

    con_features: np.ndarray
    var_features: np.ndarray
    edge_index: np.ndarray
    edge_weight: np.ndarray
    integer: np.ndarray
    con_names: tuple[str, ...]
    var_names: tuple[str, ...]
    lp_status: str | None = None
    lp_objective: float | None = None

    @property
    def num_cons(self) -> int:
        """Number of constraint nodes."""
        return int(self.con_features.shape[0])

    @property
    def num_vars(self) -> int:
        """Number of variable nodes."""
        return int(self.var_features.shape[0])

    def to_data(self) -> BipartiteData:
        """This graph as ``torch_geometric`` data (CPU tensors; ``.to(device)`` moves it).

        Returns
        -------
        BipartiteData
            ``x_con``, ``x_var``, ``edge_index`` (constraint row, variable row),
            ``edge_weight``, ``integer``; batches with ``follow_batch=["x_con", "x_var"]``.
        """
        from .graph_data import BipartiteData

        return BipartiteData.from_graph(self)


def encode(problem: Problem, *, lp: bool = False, lp_time_limit: float = 60.0) -> MIPGraph:
    """Encode ``problem`` as a bipartite graph with per-instance normalised features.

    Parameters
    ----------
    problem : Problem
        The model; rows without nonzeros become isolated constraint nodes.
    lp : bool
        Add the LP relaxation's features (:data:`LP_CON_FEATURES`, :data:`LP_VAR_FEATURES`),
        solved with HiGHS's simplex.
    lp_time_limit : float
        Seconds allowed for that LP.

    Returns
    -------
    MIPGraph
    """
    A = problem.A
    m, n = problem.num_cons, problem.num_vars
    rows = np.repeat(np.arange(m, dtype=np.int64), np.diff(A.indptr))
    row_scale = np.ones(m)
    if A.nnz:
        top = np.maximum.reduceat(np.abs(A.data), A.indptr[:-1][np.diff(A.indptr) > 0])
        row_scale[np.diff(A.indptr) > 0] = top
    weight = A.data / row_scale[rows]
    scaled = sp.csr_matrix((weight, A.indices, A.indptr), shape=A.shape)

    cost = -problem.c if problem.maximize else problem.c.astype(np.float64)
    objective = _scale(cost)
    row_degree = np.diff(A.indptr).astype(np.float64)
    col_degree = np.bincount(A.indices, minlength=n).astype(np.float64)
    col_sum = np.bincount(A.indices, weights=weight, minlength=n)
    row_norm = np.sqrt(np.asarray(scaled.multiply(scaled).sum(axis=1)).ravel())
    cost_norm = float(np.linalg.norm(objective))
    cosine = np.zeros(m)
    if cost_norm > 0:
        ok = row_norm > 0
        cosine[ok] = (scaled @ objective)[ok] / (row_norm[ok] * cost_norm)

    lower, upper = problem.row_lower / row_scale, problem.row_upper / row_scale
    has_lower, has_upper = np.isfinite(lower), np.isfinite(upper)
    cons = [
        has_lower & has_upper & (problem.row_lower == problem.row_upper),
        has_lower,
        has_upper,
        _slog(lower),
        _slog(upper),
        _scale(row_degree),
        np.divide(scaled.sum(axis=1).A1, row_degree, out=np.zeros(m), where=row_degree > 0),
        cosine,
    ]
    integer = problem.integrality
    lo, hi = problem.col_lower, problem.col_upper
    binary = integer & (lo > -1.0 + _TOL) & (hi < 2.0 - _TOL)
    vars_ = [
        ~integer,
        binary,
        integer & ~binary,
        objective,
        np.isfinite(lo),
        np.isfinite(hi),
        _slog(lo),
        _slog(hi),
        ~np.isfinite(lo) & ~np.isfinite(hi),
        _scale(col_degree),
        np.divide(col_sum, col_degree, out=np.zeros(n), where=col_degree > 0),
    ]
    con_names, var_names = CON_FEATURES, VAR_FEATURES
    lp_status = lp_objective = None
    if lp:
        lp_cons, lp_vars, lp_status, lp_objective = _lp_features(
            problem, row_scale, cost, lp_time_limit
        )
        cons += lp_cons
        vars_ += lp_vars
        con_names, var_names = con_names + LP_CON_FEATURES, var_names + LP_VAR_FEATURES
    return MIPGraph(
        con_features=np.column_stack(cons).astype(np.float32).reshape(m, len(con_names)),
        var_features=np.column_stack(vars_).astype(np.float32).reshape(n, len(var_names)),
        edge_index=np.vstack([rows, A.indices.astype(np.int64)]),
        edge_weight=weight.astype(np.float32),
        integer=integer.copy(),
        con_names=con_names,
        var_names=var_names,
        lp_status=lp_status,
        lp_objective=lp_objective,
    )


def _lp_features(
    problem: Problem, row_scale: np.ndarray, cost: np.ndarray, time_limit: float
) -> tuple[list[np.ndarray], list[np.ndarray], str, float | None]:
    """LP-relaxation features of rows and columns, its status and objective."""
    import highspy

    from hybridsolve.mip.highs import build_highs

    m, n = problem.num_cons, problem.num_vars
    highs = build_highs(problem)
    continuous = np.array([highspy.HighsVarType.kContinuous] * n)
    highs.changeColsIntegrality(n, np.arange(n, dtype=np.int32), continuous)
    highs.setOptionValue("time_limit", float(time_limit))
    highs.setOptionValue("threads", 1)
    highs.run()
    status = highs.modelStatusToString(highs.getModelStatus())
    if highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        zeros_m, zeros_n = np.zeros(m), np.zeros(n)
        return [zeros_m] * 2, [zeros_n] * 5, status, None
    solution = highs.getSolution()
    x = np.asarray(solution.col_value, dtype=np.float64)
    activity = np.asarray(solution.row_value, dtype=np.float64)
    sign = -1.0 if problem.maximize else 1.0
    top = float(np.abs(cost).max()) if n else 0.0
    top = top if top > 0 else 1.0
    reduced = sign * np.asarray(solution.col_dual, dtype=np.float64) / top
    dual = sign * np.asarray(solution.row_dual, dtype=np.float64) * row_scale / top
    lo, hi = problem.col_lower, problem.col_upper
    box = np.isfinite(lo) & np.isfinite(hi) & (hi > lo)
    position = _slog(x)
    position[box] = (x[box] - lo[box]) / (hi[box] - lo[box])
    fraction = np.where(problem.integrality, np.abs(x - np.round(x)), 0.0)
    slack = _TOL * np.maximum(1.0, np.abs(activity))
    tight = (np.abs(activity - problem.row_lower) <= slack) | (
        np.abs(activity - problem.row_upper) <= slack
    )
    bound_tol = _TOL * np.maximum(1.0, np.abs(x))
    at_lower = np.isfinite(lo) & (np.abs(x - lo) <= bound_tol)
    at_upper = np.isfinite(hi) & (np.abs(x - hi) <= bound_tol)
    objective = problem.objective(x)
    return (
        [_slog(dual), tight],
        [position, fraction, reduced, at_lower, at_upper],
        status,
        objective,
    )
