"""Strong-branching expert samples for learned branching (Gasse et al., NeurIPS 2019).

While SCIP solves a training instance, a branching rule of ours runs at every node: at a
random share of the nodes (``rate``, 5% by default, as Gasse et al. do) it scores every LP
branching candidate by strong branching from Python (PySCIPOpt's ``startStrongbranch`` /
``getVarStrongbranch(..., idempotent=True)`` / ``getBranchScoreMultiple`` /
``endStrongbranch``; SCIP's own ``vanillafullstrong`` scores are not reachable from
Python), records the node's candidate features with the scores, and branches on the best
candidate; at the other nodes it leaves the choice to pseudo-cost branching (its priority
raised above SCIP's default rule for the collection run), so the tree looks like one a
cheap rule grows and the samples cover deep nodes too.

Each sample holds the candidates' :data:`~.features.FEATURES` and every variable's
:data:`~.features.STATE` at the node (:mod:`.features`); the static graph of the instance
(:mod:`..graph`, for the graph models) is rebuilt from the instance when training.

The strong-branching score of a candidate is SCIP's product score of the two children's
LP bound gains (``getBranchScoreMultiple``); an infeasible child counts as a large gain.
The label of a node is the candidate with the best score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyscipopt
from pyscipopt import SCIP_RESULT

from hybridsolve.mip import Problem

from .features import NodeReader

__all__ = ["NodeSample", "Recorder", "strong_branching"]

#: Gain given to an infeasible child (its bound is infinite).
INFEASIBLE_GAIN = 1e6


@dataclass(frozen=True)
class NodeSample:
    """One node's candidates, features and strong-branching scores.

    Attributes
    ----------
    columns : numpy.ndarray
        ``(k,)`` file-order indices of the candidates.
    features : numpy.ndarray
        ``(k, len(FEATURES))`` float32.
    scores : numpy.ndarray
        ``(k,)`` strong-branching scores (higher is better).
    depth : int
        The node's depth.
    state : numpy.ndarray
        ``(n, len(STATE))`` float32: every variable's LP state at the node, in file order
        (for models that read the whole node, as Gasse et al.'s GCNN does).
    """

    columns: np.ndarray
    features: np.ndarray
    scores: np.ndarray
    depth: int
    state: np.ndarray

    @property
    def best(self) -> int:
        """Position of the expert's choice among the candidates."""
        return int(np.argmax(self.scores))


def _gain(bound: float, lp: float) -> float:
    """A child's LP bound gain: :data:`INFEASIBLE_GAIN` when infeasible, 0 when unknown."""
    if np.isinf(bound):
        return INFEASIBLE_GAIN
    return 0.0 if np.isnan(bound) else max(bound - lp, 0.0)


def strong_branching(
    model: pyscipopt.Model, candidates: list, itlim: int = 10**9
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Strong-branching bounds and scores of LP candidates at the current node.

    Parameters
    ----------
    model : pyscipopt.Model
        During the solve, at a node whose LP is solved (inside a branching rule).
    candidates : list of pyscipopt.Variable
        The LP branching candidates.
    itlim : int
        LP iteration limit of each child LP.

    Returns
    -------
    down, up : numpy.ndarray
        The children's LP bounds (``inf`` where infeasible, NaN where not valid).
    scores : numpy.ndarray
        SCIP's product score of the two gains (infeasible: :data:`INFEASIBLE_GAIN`).
    """
    lp = model.getLPObjVal()
    down = np.full(len(candidates), np.nan)
    up = np.full(len(candidates), np.nan)
    scores = np.zeros(len(candidates))
    model.startStrongbranch()
    try:
        for i, var in enumerate(candidates):
            low, high, low_ok, high_ok, low_inf, high_inf, *_ = model.getVarStrongbranch(
                var, itlim, idempotent=True
            )
            down[i] = np.inf if low_inf else (low if low_ok else np.nan)
            up[i] = np.inf if high_inf else (high if high_ok else np.nan)
            gains = [_gain(bound, lp) for bound in (down[i], up[i])]
            scores[i] = model.getBranchScoreMultiple(var, gains)
    finally:
        model.endStrongbranch()
    return down, up, scores


class Recorder(pyscipopt.Branchrule):
    """Strong branching with sampling at a share of the nodes; nothing elsewhere.

    Parameters
    ----------
    problem : Problem
        The model being solved.
    variables : list of pyscipopt.Variable
        Its SCIP variables, in file order (original ones; their transformed counterparts
        are looked up when the solve starts).
    rate : float
        Share of the nodes sampled.
    seed : int
        Which nodes.
    limit : int or None
        Stop sampling after so many samples.
    """

    def __init__(self, problem: Problem, variables: list, rate: float = 0.05, seed: int = 0,
                 limit: int | None = None) -> None:  # fmt: skip
        self.reader = NodeReader(problem, variables)
        self.rate, self.limit = rate, limit
        self.rng = np.random.default_rng(seed)
        self.samples: list[NodeSample] = []

    def branchexeclp(self, allowaddcons: bool) -> dict:
        model = self.model
        depth = self.reader.visit(model)
        full = self.limit is not None and len(self.samples) >= self.limit
        if full or self.rng.random() >= self.rate:
            return {"result": SCIP_RESULT.DIDNOTRUN}
        candidates, values, *_ = model.getLPBranchCands()
        if not candidates:
            return {"result": SCIP_RESULT.DIDNOTRUN}
        features, columns = self.reader.candidates(model, candidates, values)
        state = self.reader.state(model)
        _, _, scores = strong_branching(model, candidates)
        sample = NodeSample(columns, features, scores, depth, state)
        self.samples.append(sample)
        model.branchVar(candidates[sample.best])
        return {"result": SCIP_RESULT.BRANCHED}
