"""Learned branching for SCIP (Gasse et al. 2019; Gupta et al. 2020): imitate strong branching.

- :mod:`.features`: what the scorers read (candidate features, node state);
- :mod:`.samples`: Python strong branching and the recording rule;
- :mod:`.collect`: one sample shard per instance over registered distributions (parallel
  processes or Dask, cached, resumable);
- :mod:`.model`: the scorers (``mlp``, ``hybrid``, ``gcnn``) and the imitation loss;
- :mod:`.fit`: ``hybridsolve train branching fit``; :mod:`.command`: ``... collect``;
- :mod:`.inference`: the scorers in numpy; :mod:`.rule`: the SCIP branching rule.

:func:`plugin` turns the front door's spelling (``branching="gnn"``,
``"gnn:NAME_OR_PATH"``) into the SCIP plugin :func:`hybridsolve.mip.solve` installs on the
built model, so reading the weights and encoding the instance count inside the time limit.
Nothing here imports torch.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

from hybridsolve.mip import Problem, ScipPlugin, UsageError

__all__ = ["DEFAULT_WEIGHTS", "MAX_NONZEROS", "BranchingWarning", "plugin", "weights_of"]

#: The shipped scorer: the hybrid trained on the easy levels of the Gasse four.
DEFAULT_WEIGHTS = "branching-hybrid"
#: Larger models are solved with SCIP's own rule (the graph encoding holds every edge).
MAX_NONZEROS = 5_000_000


class BranchingWarning(UserWarning):
    """A learned branching rule that cannot apply to a model; SCIP's own rule branches."""


def weights_of(spec: str) -> str:
    """The weights named by a branching spelling: ``"gnn"`` or ``"gnn:NAME_OR_PATH"``.

    Raises
    ------
    UsageError
        Another method or an empty name.
    """
    method, colon, weights = spec.partition(":")
    if method != "gnn":
        raise UsageError(f"unknown branching {spec!r}; use gnn or gnn:NAME_OR_PATH")
    if colon and not weights:
        raise UsageError("--branching gnn: needs weights after the colon (gnn:NAME_OR_PATH)")
    return weights or DEFAULT_WEIGHTS


def plugin(spec: str = "gnn", *, max_depth: int | None = None) -> ScipPlugin:
    """The SCIP plugin that installs the learned branching rule.

    Parameters
    ----------
    spec : str
        ``"gnn"`` (:data:`DEFAULT_WEIGHTS`) or ``"gnn:NAME_OR_PATH"``.
    max_depth : int, optional
        Deeper nodes go to SCIP's rule.

    Returns
    -------
    callable
        ``gnn_branching(model, variables, problem) -> dict``: reads the weights (bad ones
        fail with one line), encodes the instance for the graph scorers and includes
        :class:`~.rule.LearnedBranching`; its dict (``Result.stats["plugins"]
        ["gnn_branching"]``) is filled during the solve. A model without integer variables
        or too large to encode gets SCIP's own rule after a :class:`BranchingWarning`.
    """
    weights = weights_of(spec)

    def gnn_branching(model: Any, variables: list, problem: Problem) -> dict[str, Any]:
        stats: dict[str, Any] = {"weights": weights, "used": False}
        reason = None
        if not problem.integrality.any():
            reason = "the model has no integer variables, so there is nothing to branch on"
        elif problem.A.nnz > MAX_NONZEROS:
            reason = f"{problem.A.nnz} nonzeros is more than the rule encodes ({MAX_NONZEROS})"
        if reason is not None:
            warnings.warn(f"learned branching not used: {reason}", BranchingWarning, stacklevel=2)
            stats["reason"] = reason
            return stats
        from .inference import load_scorer
        from .rule import PRIORITY, LearnedBranching

        start = time.perf_counter()
        scorer = load_scorer(weights)
        scorer.prepare(problem)
        stats.update(used=True, kind=scorer.kind, prepare_seconds=time.perf_counter() - start)
        rule = LearnedBranching(scorer, problem, variables, max_depth, stats)
        model.includeBranchrule(rule, "hybridsolve_gnn", "learned variable selection",
                                priority=PRIORITY, maxdepth=-1, maxbounddist=1.0)  # fmt: skip
        return stats

    return gnn_branching
