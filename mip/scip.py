"""The SCIP backend (``pyscipopt``); SCIP's camelCase API stays inside this module."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pyscipopt
from pyscipopt import SCIP_EVENTTYPE

from .backend import Monitor, Outcome, Request, ScipPlugin
from .errors import UsageError
from .hints import Hints
from .problem import Problem
from .result import Limit, Status

__all__ = ["ScipBackend", "build_scip", "install_plugins"]

_STATUS = {
    "optimal": (Status.OPTIMAL, None),
    "infeasible": (Status.INFEASIBLE, None),
    "unbounded": (Status.UNBOUNDED, None),
    "inforunbd": (Status.INFEASIBLE_OR_UNBOUNDED, None),
    "timelimit": (Status.FEASIBLE, Limit.TIME),
    "nodelimit": (Status.FEASIBLE, Limit.NODES),
    "totalnodelimit": (Status.FEASIBLE, Limit.NODES),
    "stallnodelimit": (Status.FEASIBLE, Limit.NODES),
    "gaplimit": (Status.FEASIBLE, Limit.GAP),
    "primallimit": (Status.FEASIBLE, Limit.OBJECTIVE),
    "duallimit": (Status.FEASIBLE, Limit.OBJECTIVE),
    "sollimit": (Status.FEASIBLE, Limit.SOLUTIONS),
    "bestsollimit": (Status.FEASIBLE, Limit.SOLUTIONS),
    "memlimit": (Status.FEASIBLE, Limit.MEMORY),
    "userinterrupt": (Status.FEASIBLE, Limit.INTERRUPT),
    "terminate": (Status.FEASIBLE, Limit.INTERRUPT),
    "restartlimit": (Status.FEASIBLE, Limit.OTHER),
}


def _bound(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


def build_scip(problem: Problem) -> tuple[pyscipopt.Model, list[pyscipopt.Variable]]:
    """A quiet ``pyscipopt.Model`` holding ``problem`` and its variables in file order."""
    model = pyscipopt.Model(problem.name or "hybridsolve")
    model.hideOutput()
    variables = [
        model.addVar(
            name=name,
            vtype="I" if integer else "C",
            lb=_bound(lb),
            ub=_bound(ub),
            obj=cost,
        )
        for name, integer, lb, ub, cost in zip(
            problem.var_names,
            problem.integrality.tolist(),
            problem.col_lower.tolist(),
            problem.col_upper.tolist(),
            problem.c.tolist(),
        )
    ]
    # SCIP's MPS reader creates integer columns as binaries and re-types each one that has
    # a bounds entry (integer, then binary again), which moves it in SCIP's variable
    # array; doing the same gives SCIP the variable order, and so the search, of its own
    # reader on a typical MPS file (every binary with a bounds line, as MIPLIB's files
    # and HiGHS's writer have them).
    binary = problem.integrality & (problem.col_lower == 0.0) & (problem.col_upper == 1.0)
    for j in np.flatnonzero(binary).tolist():
        model.chgVarType(variables[j], "I")
        model.chgVarType(variables[j], "B")
    Term = pyscipopt.scip.Term
    indptr, indices, data = problem.A.indptr, problem.A.indices.tolist(), problem.A.data.tolist()
    for i, name in enumerate(problem.con_names):
        start, end = indptr[i], indptr[i + 1]
        expr = pyscipopt.Expr(
            {Term(variables[j]): value for j, value in zip(indices[start:end], data[start:end])}
        )
        lower, upper = _bound(problem.row_lower[i]), _bound(problem.row_upper[i])
        model.addCons(pyscipopt.scip.ExprCons(expr, lhs=lower, rhs=upper), name=name)
    if problem.maximize:
        model.setMaximize()
    if problem.offset:
        model.addObjoffset(problem.offset)
    return model, variables


def install_plugins(
    model: pyscipopt.Model, variables: list, problem: Problem, plugins: Sequence[ScipPlugin]
) -> dict[str, Any]:
    """Call every plugin on a built model; what each returns, by its ``__name__``."""
    return {getattr(plugin, "__name__", type(plugin).__name__): plugin(model, variables, problem)
            for plugin in plugins}  # fmt: skip


def _apply_hints(model: pyscipopt.Model, variables: list[pyscipopt.Variable], hints: Hints) -> dict:
    """Add the confident part as a partial solution and set branching priorities.

    The partial solution is added only where it sets enough variables for SCIP's
    ``completesol`` heuristic (``heuristics/completesol/maxunknownrate``), which otherwise
    ignores it. Returns what was done.
    """
    settings, done = hints.settings, {}
    if settings.partial:
        partial = hints.partial_solution()
        given = np.flatnonzero(~np.isnan(partial))
        needed = (1.0 - model.getParam("heuristics/completesol/maxunknownrate")) * len(variables)
        if len(given) and len(given) >= needed:
            sol = model.createPartialSol()
            for j in given.tolist():
                model.setSolVal(sol, variables[j], float(partial[j]))
            done["partial"] = int(len(given)) if model.addSol(sol) else 0
        else:
            done["partial"] = 0
            done["partial_skipped"] = (
                f"{len(given)} of {len(variables)} variables predicted; SCIP completes "
                f"partial solutions that set at least {needed:.0f}"
            )
    if settings.priorities:
        priorities = hints.priorities()
        for j, priority in priorities.items():
            model.chgVarBranchPriority(variables[j], priority)
        done["priorities"] = len(priorities)
    return done


class ScipBackend:
    """Solve with SCIP; option names are SCIP parameter names (``limits/nodes``, ...).

    SCIP's branch and bound is sequential: ``threads`` is accepted for a uniform API and
    does not parallelise the tree search.
    """

    name = "scip"
    accepts_plugins = True

    def __init__(self) -> None:
        self._model: pyscipopt.Model | None = None
        self._vars: list[pyscipopt.Variable] = []
        self._is_mip = True
        self._message = ""
        self._stats: dict = {}

    def build(self, problem: Problem) -> tuple[pyscipopt.Model, list[pyscipopt.Variable]]:
        """The SCIP model of ``problem`` and its variables in file order.

        Subclasses may build it differently, e.g. with SCIP's own file reader.
        """
        return build_scip(problem)

    def prepare(self, problem: Problem, request: Request) -> None:
        """Build the model, set limits and parameters, and add the warm start and hints."""
        self._stats = {}
        model, variables = self.build(problem)
        if request.log:
            model.hideOutput(False)
        settings = {
            "misc/catchctrlc": False,  # Ctrl-C reaches Python, which stops SCIP via the monitor
            "limits/gap": float(request.mip_rel_gap),
            "randomization/randomseedshift": int(request.seed),
            **request.options,
        }
        for key, value in settings.items():
            try:
                model.setParam(key, value)
            except (KeyError, LookupError, TypeError, ValueError) as exc:
                raise UsageError(
                    f"unknown SCIP parameter or invalid value: {key}={value!r}"
                ) from exc
        if request.warm_start is not None:
            given = np.flatnonzero(~np.isnan(request.warm_start))
            full = len(given) == problem.num_vars
            sol = model.createSol() if full else model.createPartialSol()
            for j in given.tolist():
                model.setSolVal(sol, variables[j], float(request.warm_start[j]))
            if not model.addSol(sol):
                self._message = "SCIP did not accept the warm start"
        if request.hints is not None:
            self._stats = {"hints": _apply_hints(model, variables, request.hints)}
        if request.plugins:
            self._stats["plugins"] = install_plugins(model, variables, problem, request.plugins)
        left = request.time_left()
        if left is not None and "limits/time" not in request.options:
            model.setParam("limits/time", left)  # what is left once the model is built
        self._model, self._vars, self._is_mip = model, variables, problem.is_mip

    def _values(self, sol: pyscipopt.scip.Solution) -> np.ndarray:
        return np.fromiter((sol[v] for v in self._vars), dtype=np.float64, count=len(self._vars))

    def run(self, monitor: Monitor) -> Outcome:
        """Run SCIP without the GIL, reporting incumbents from an event handler."""
        model = self._model
        assert model is not None, "prepare() first"

        def on_event(scip: pyscipopt.Model, event: pyscipopt.scip.Event) -> None:
            if event.getType() == SCIP_EVENTTYPE.BESTSOLFOUND:
                nodes = scip.getNTotalNodes()
                monitor.incumbent(self._values(scip.getBestSol()), self._dual(scip), nodes)
            elif monitor.report_due():
                primal = scip.getPrimalbound()
                primal = None if scip.isInfinity(abs(primal)) else primal
                monitor.tick(scip.getNTotalNodes(), primal, self._dual(scip))
            if monitor.stopping:
                scip.interruptSolve()

        model.attachEventHandlerCallback(
            on_event,
            [SCIP_EVENTTYPE.BESTSOLFOUND, SCIP_EVENTTYPE.NODESOLVED, SCIP_EVENTTYPE.LPSOLVED],
            name="hybridsolve_monitor",
        )
        model.optimizeNogil()
        raw = model.getStatus()
        status, limit = _STATUS.get(raw, (Status.ERROR, None))
        has_x = model.getNSols() > 0
        if status is Status.FEASIBLE and not has_x:
            status = Status.NO_SOLUTION
        if status is Status.ERROR and has_x:
            status = Status.FEASIBLE
        keep_x = status in (Status.OPTIMAL, Status.FEASIBLE) and has_x
        x = self._values(model.getBestSol()) if keep_x else None
        dual = self._dual(model) if status in (Status.OPTIMAL, Status.FEASIBLE) else None
        nodes = model.getNTotalNodes() if self._is_mip else None
        model.freeProb()
        self._model = None
        return Outcome(status, raw, x, dual, nodes, limit, self._message, self._stats)

    @staticmethod
    def _dual(scip: pyscipopt.Model) -> float | None:
        value = scip.getDualbound()
        return None if scip.isInfinity(abs(value)) else float(value)
