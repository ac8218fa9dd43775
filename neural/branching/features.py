"""What the branching scorers read: candidate features, node state and node features.

Per candidate, :data:`FEATURES` (cheap to compute at every node, as the deployed rule
must): the variable's LP value and fractionality, its objective coefficient, pseudo-cost
scores and counts, the node's depth and where its LP bound lies between the root bound and
the incumbent. :data:`STATE` is every variable's LP state at a node (what Gasse et al.'s
graph network reads at every node), turned into :data:`NODE_FEATURES` beside the static
variable features of :mod:`..graph`. This module imports no torch: the deployed rule
(:mod:`.rule`) computes the same features as the recorder.
"""

from __future__ import annotations

import numpy as np
import pyscipopt
from pyscipopt import SCIP_BRANCHDIR

from hybridsolve.mip import Problem

__all__ = [
    "FEATURES",
    "KINDS",
    "NODE_FEATURES",
    "NodeReader",
    "STATE",
    "candidate_features",
    "node_features",
    "node_state",
    "static_features",
]

#: Candidate features, in column order.
FEATURES = (
    "lp_value_fraction",  # fractional part of the LP value
    "fractionality",  # min(f, 1 - f)
    "objective",  # objective coefficient / largest absolute one (minimisation sense)
    "pseudocost_down",  # pseudo-cost per unit change down, / mean over the candidates
    "pseudocost_up",
    "pseudocost_score",  # SCIP's pseudo-cost score at this LP value, / the largest one
    "branchings_down",  # log(1 + times the variable was branched on downwards so far)
    "branchings_up",
    "depth",  # node depth / (1 + largest depth so far)
    "bound_position",  # (node LP bound - root bound) / (incumbent - root bound), in [0, 1]
    "column_degree",  # nonzeros of the column / the largest column's
)

#: Per-variable LP state at a sampled node, in column order.
STATE = (
    "lp_value",  # the variable's value in the node LP
    "lower",  # its local lower bound at the node
    "upper",  # its local upper bound at the node
    "reduced_cost",  # its reduced cost in the node LP (0 when not a column)
)

#: The scorer kinds.
#: The scorer kinds (:mod:`.model`): what they read differs (``mlp`` the candidate features,
#: ``hybrid`` those and the static graph once, ``gcnn`` those and the node's graph).
KINDS = ("mlp", "hybrid", "gcnn")

#: Per-variable node features the GCNN reads beside :data:`~..graph.VAR_FEATURES`.
NODE_FEATURES = (
    "lp_position",  # (x - local lb) / (local ub - local lb), 0 when fixed or unbounded
    "fractionality",  # min(f, 1 - f) of the LP value, integer variables only
    "at_lower",  # x at its local lower bound
    "at_upper",  # x at its local upper bound
    "fixed",  # local bounds equal (fixed by branching or propagation)
    "reduced_cost",  # reduced cost / the node's largest absolute reduced cost
)

_TOL = 1e-6


def node_features(state: np.ndarray, integer: np.ndarray) -> np.ndarray:
    """:data:`NODE_FEATURES` from a node's :data:`STATE` ``(n, 4)``.

    Parameters
    ----------
    state : numpy.ndarray
        LP value, local lower and upper bound, reduced cost of every variable.
    integer : numpy.ndarray
        Boolean ``(n,)``: integer variables.

    Returns
    -------
    numpy.ndarray
        ``(n, len(NODE_FEATURES))`` float32.
    """
    x, lower, upper, reduced = (state[:, i].astype(np.float64) for i in range(4))
    span = upper - lower
    finite = np.isfinite(span) & (span > _TOL) & (np.abs(span) < 1e15)
    out = np.zeros((len(x), len(NODE_FEATURES)), dtype=np.float32)
    out[:, 0] = np.where(finite, (x - lower) / np.where(finite, span, 1.0), 0.0)
    frac = x - np.floor(x)
    out[:, 1] = np.where(integer, np.minimum(frac, 1 - frac), 0.0)
    out[:, 2] = np.abs(x - lower) <= _TOL
    out[:, 3] = np.abs(upper - x) <= _TOL
    out[:, 4] = np.abs(span) <= _TOL
    out[:, 5] = reduced / max(float(np.abs(reduced).max(initial=0.0)), 1e-12)
    return out


def candidate_features(
    model: pyscipopt.Model,
    candidates: list,
    values: list,
    columns: np.ndarray,
    static: dict[str, np.ndarray],
    root_bound: float,
    max_depth: int,
) -> np.ndarray:
    """:data:`FEATURES` of the LP candidates at the current node.

    Parameters
    ----------
    model : pyscipopt.Model
        During the solve.
    candidates, values : list
        The LP candidates and their LP values (``getLPBranchCands``).
    columns : numpy.ndarray
        The candidates' file-order variable indices.
    static : dict
        ``objective`` and ``degree`` of every variable in file order
        (:func:`static_features`).
    root_bound : float
        The root node's LP bound.
    max_depth : int
        The largest depth seen so far.

    Returns
    -------
    numpy.ndarray
        ``(k, len(FEATURES))`` float32.
    """
    k = len(candidates)
    out = np.zeros((k, len(FEATURES)), dtype=np.float32)
    if k == 0:
        return out
    value = np.asarray(values, dtype=np.float64)
    frac = value - np.floor(value)
    out[:, 0] = frac
    out[:, 1] = np.minimum(frac, 1 - frac)
    out[:, 2] = static["objective"][columns]
    pc_down = np.array([model.getVarPseudocost(v, SCIP_BRANCHDIR.DOWNWARDS) for v in candidates])
    pc_up = np.array([model.getVarPseudocost(v, SCIP_BRANCHDIR.UPWARDS) for v in candidates])
    mean = max(float(np.mean(np.concatenate([pc_down, pc_up]))), 1e-9)
    out[:, 3], out[:, 4] = pc_down / mean, pc_up / mean
    score = np.array([model.getVarPseudocostScore(v, x) for v, x in zip(candidates, values)])
    out[:, 5] = score / max(float(score.max()), 1e-9)
    out[:, 6] = [np.log1p(v.getNBranchings(SCIP_BRANCHDIR.DOWNWARDS)) for v in candidates]
    out[:, 7] = [np.log1p(v.getNBranchings(SCIP_BRANCHDIR.UPWARDS)) for v in candidates]
    out[:, 8] = model.getDepth() / (1 + max_depth)
    incumbent = model.getPrimalbound()
    lp = model.getLPObjVal()
    if not model.isInfinity(abs(incumbent)) and incumbent - root_bound > 1e-9:
        out[:, 9] = min(max((lp - root_bound) / (incumbent - root_bound), 0.0), 1.0)
    out[:, 10] = static["degree"][columns]
    return out


def node_state(model: pyscipopt.Model, variables: list) -> np.ndarray:
    """:data:`STATE` of every variable at the current node (``variables``: transformed)."""
    out = np.empty((len(variables), len(STATE)), dtype=np.float32)
    for j, var in enumerate(variables):
        out[j] = (var.getLPSol(), var.getLbLocal(), var.getUbLocal(),
                  model.getVarRedcost(var) if var.isInLP() else 0.0)  # fmt: skip
    return out


def static_features(problem: Problem) -> dict[str, np.ndarray]:
    """Every variable's minimised objective scaled to [-1, 1] and column degree, file order."""
    c = problem.c * (-1.0 if problem.maximize else 1.0)
    top = float(np.abs(c).max()) if len(c) else 0.0
    objective = c / top if top > 0 else c
    degree = np.diff(problem.A.tocsc().indptr).astype(np.float64)
    degree = degree / max(float(degree.max()), 1.0) if len(degree) else degree
    return {"objective": objective, "degree": degree}


class NodeReader:
    """What a branching rule reads at SCIP's nodes (the recorder's and the learned rule's).

    Parameters
    ----------
    problem : Problem
        The model being solved.
    variables : list of pyscipopt.Variable
        Its SCIP variables in file order (original ones; their transformed counterparts are
        looked up when a node's state is first read).

    Attributes
    ----------
    root_bound : float or None
        The root node's LP bound, once a node was visited.
    deepest : int
        The largest depth visited.
    """

    def __init__(self, problem: Problem, variables: list) -> None:
        names = [var.name for var in variables]
        # SCIP's transformed problem prefixes the names with "t_"
        self.index = {name: j for j, name in enumerate(names)}
        self.index.update({f"t_{name}": j for j, name in enumerate(names)})
        self.static = static_features(problem)
        self.variables, self.transformed = variables, None
        self.root_bound: float | None = None
        self.deepest = 0

    def visit(self, model: pyscipopt.Model) -> int:
        """Note the node (depth, root bound); returns its depth."""
        depth = model.getDepth()
        self.deepest = max(self.deepest, depth)
        if self.root_bound is None:
            self.root_bound = model.getLPObjVal()
        return depth

    def candidates(
        self, model: pyscipopt.Model, candidates: list, values: list
    ) -> tuple[np.ndarray, np.ndarray]:
        """:data:`FEATURES` ``(k, len(FEATURES))`` and file-order columns ``(k,)`` of the
        LP candidates (after :meth:`visit` at this node)."""
        assert self.root_bound is not None, "visit() the node first"
        columns = np.array([self.index[var.name] for var in candidates], dtype=np.int64)
        features = candidate_features(model, candidates, values, columns, self.static,
                                      self.root_bound, self.deepest)  # fmt: skip
        return features, columns

    def state(self, model: pyscipopt.Model) -> np.ndarray:
        """:data:`STATE` of every variable at the node, in file order."""
        if self.transformed is None:
            self.transformed = [model.getTransformedVar(var) for var in self.variables]
        return node_state(model, self.transformed)
