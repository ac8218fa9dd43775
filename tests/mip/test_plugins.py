"""SCIP plugins handed to a solve: installed before SCIP runs, refused by other backends."""

from __future__ import annotations

import numpy as np
import pyscipopt
import pytest

import hybridsolve
from hybridsolve import mip
from hybridsolve.datasets import registry
from hybridsolve.mip import Status, UsageError


class _FirstCandidate(pyscipopt.Branchrule):
    """Branch on the first fractional LP candidate: a rule SCIP would never pick itself."""

    def __init__(self) -> None:
        self.calls = 0

    def branchexeclp(self, allowaddcons):
        candidates, *_ = self.model.getLPBranchCands()
        if not candidates:
            return {"result": pyscipopt.SCIP_RESULT.DIDNOTRUN}
        self.calls += 1
        self.model.branchVar(candidates[0])
        return {"result": pyscipopt.SCIP_RESULT.BRANCHED}


@pytest.fixture(scope="module")
def problem():
    return registry.get("itemplacement-easy").instance("test", 0)  # 236 nodes in 0.14 s


def test_a_plugin_installs_a_branching_rule_that_scip_uses(problem):
    rule = _FirstCandidate()

    def first_candidate(model, variables, given):
        assert len(variables) == given.num_vars == problem.num_vars
        model.includeBranchrule(rule, "first", "first LP candidate", priority=1_000_000,
                                maxdepth=-1, maxbounddist=1.0)  # fmt: skip
        return {"installed": True}

    plain = hybridsolve.solve(problem, "scip")
    guided = hybridsolve.solve(problem, "scip", plugins=[first_candidate])
    assert rule.calls > 0 and guided.stats["plugins"] == {"first_candidate": {"installed": True}}
    assert plain.status is guided.status is Status.OPTIMAL
    assert guided.objective == pytest.approx(plain.objective)
    assert mip.check(problem, guided.x).feasible and guided.nodes != plain.nodes


def test_other_backends_refuse_plugins_in_one_line(problem):
    with pytest.raises(UsageError, match=r"need the scip solver \(or lns\); highs cannot") as info:
        hybridsolve.solve(problem, "highs", plugins=[lambda model, variables, given: None])
    assert "\n" not in str(info.value)
    with pytest.raises(UsageError, match="needs options backend=scip") as info:
        hybridsolve.solve(problem, "lns", time_limit=5, options={"backend": "highs"},
                          plugins=[lambda model, variables, given: None])  # fmt: skip
    assert "\n" not in str(info.value)
    with pytest.raises(UsageError, match="plugins must be functions"):
        mip.solve(problem, "scip", plugins=["not a function"])


def test_the_hint_trust_region_solve_runs_without_the_plugins(problem):
    calls = []

    def count(model, variables, given):
        calls.append(given.num_cons)
        return None

    hints = mip.Hints.from_values(problem, np.zeros(problem.num_vars), 0.5)
    result = hybridsolve.solve(problem, "scip", hints=hints, plugins=[count])
    assert calls == [problem.num_cons]  # the full model only, not the restricted one
    assert result.stats["plugins"] == {"count": None}
