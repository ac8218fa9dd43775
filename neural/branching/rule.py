"""The learned branching rule SCIP runs: score the LP candidates with a model, branch on the best.

:class:`LearnedBranching` is a PySCIPOpt branching rule installed above SCIP's default
(``relpscost``, priority 10000) by the plugin of :func:`~hybridsolve.neural.branching.plugin`.
At every node with LP branching candidates it computes their :data:`~.features.FEATURES`
(the same function the sample recorder uses), scores them with a
:class:`~.inference.NumpyScorer` and branches on the best one. It leaves the node to SCIP's
own rule (``DIDNOTRUN``, counted as a fallback) where it cannot help: no LP candidates,
scores that are not finite, an error in the model, or a node deeper than ``max_depth``.

The time spent in feature extraction and in the model is counted, so a benchmark can print
the share of the solve the learned rule costs.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import pyscipopt
from pyscipopt import SCIP_RESULT

from hybridsolve.mip import Problem

from .features import NodeReader
from .inference import NumpyScorer

__all__ = ["PRIORITY", "LearnedBranching"]

#: Priority of the learned rule: above relpscost's 10000, below nothing SCIP ships.
PRIORITY = 20_000


class LearnedBranching(pyscipopt.Branchrule):
    """Branch on the candidate a trained scorer ranks first.

    Parameters
    ----------
    scorer : NumpyScorer
        Prepared for ``problem`` (:meth:`~.inference.NumpyScorer.prepare`).
    problem : Problem
        The model being solved.
    variables : list of pyscipopt.Variable
        Its SCIP variables in file order.
    max_depth : int or None
        Nodes deeper than this go to SCIP's rule.
    stats : dict
        Filled during the solve: ``branched``, ``fallbacks``, ``features_seconds``,
        ``model_seconds`` and ``error`` (the first error's message, if any).
    """

    def __init__(self, scorer: NumpyScorer, problem: Problem, variables: list,
                 max_depth: int | None, stats: dict[str, Any]) -> None:  # fmt: skip
        self.scorer, self.max_depth, self.stats = scorer, max_depth, stats
        self.reader = NodeReader(problem, variables)
        stats.update(branched=0, fallbacks=0, features_seconds=0.0, model_seconds=0.0, error=None)

    def branchexeclp(self, allowaddcons: bool) -> dict:
        model, stats = self.model, self.stats
        depth = self.reader.visit(model)
        candidates, values, *_ = model.getLPBranchCands()
        if not candidates or (self.max_depth is not None and depth > self.max_depth):
            stats["fallbacks"] += 1
            return {"result": SCIP_RESULT.DIDNOTRUN}
        start = time.perf_counter()
        features, columns = self.reader.candidates(model, candidates, values)
        middle = time.perf_counter()
        try:
            with np.errstate(all="ignore"):
                scores = self.scorer.scores(features, columns, lambda: self.reader.state(model))
        except Exception as exc:  # noqa: BLE001 (inside SCIP's callback: fall back, never abort)
            stats["error"] = stats["error"] or f"{type(exc).__name__}: {exc}"
            scores = np.array([np.nan])
        end = time.perf_counter()
        stats["features_seconds"] += middle - start
        stats["model_seconds"] += end - middle
        if not np.all(np.isfinite(scores)):
            stats["fallbacks"] += 1
            return {"result": SCIP_RESULT.DIDNOTRUN}
        model.branchVar(candidates[int(np.argmax(scores))])
        stats["branched"] += 1
        return {"result": SCIP_RESULT.BRANCHED}
