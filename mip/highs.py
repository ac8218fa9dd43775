"""The HiGHS backend (``highspy``)."""

from __future__ import annotations

import math
from typing import Any

import highspy
import numpy as np

from .backend import Monitor, Outcome, Request
from .errors import SolverError, UsageError
from .highs_factory import new_highs
from .problem import Problem
from .result import Limit, Status

__all__ = ["HighsBackend", "build_highs", "run_lp", "set_options"]

_MS = highspy.HighsModelStatus

_STATUS = {
    _MS.kOptimal: (Status.OPTIMAL, None),
    _MS.kModelEmpty: (Status.OPTIMAL, None),
    _MS.kInfeasible: (Status.INFEASIBLE, None),
    _MS.kUnbounded: (Status.UNBOUNDED, None),
    _MS.kUnboundedOrInfeasible: (Status.INFEASIBLE_OR_UNBOUNDED, None),
    _MS.kTimeLimit: (Status.FEASIBLE, Limit.TIME),
    _MS.kIterationLimit: (Status.FEASIBLE, Limit.ITERATIONS),
    _MS.kSolutionLimit: (Status.FEASIBLE, Limit.SOLUTIONS),
    _MS.kInterrupt: (Status.FEASIBLE, Limit.INTERRUPT),
    _MS.kHighsInterrupt: (Status.FEASIBLE, Limit.INTERRUPT),
    _MS.kObjectiveBound: (Status.FEASIBLE, Limit.OBJECTIVE),
    _MS.kObjectiveTarget: (Status.FEASIBLE, Limit.OBJECTIVE),
    _MS.kMemoryLimit: (Status.FEASIBLE, Limit.MEMORY),
}

_FEASIBLE_SOLUTION = 2  # HiGHS kSolutionStatusFeasible


def build_highs(problem: Problem) -> highspy.Highs:
    """A silent ``highspy.Highs`` holding ``problem`` (variables in file order)."""
    lp = highspy.HighsLp()
    lp.model_name_ = problem.name
    lp.num_col_ = problem.num_vars
    lp.num_row_ = problem.num_cons
    lp.sense_ = highspy.ObjSense.kMaximize if problem.maximize else highspy.ObjSense.kMinimize
    lp.offset_ = problem.offset
    lp.col_cost_ = problem.c
    lp.col_lower_ = problem.col_lower
    lp.col_upper_ = problem.col_upper
    lp.row_lower_ = problem.row_lower
    lp.row_upper_ = problem.row_upper
    # column-wise in the file's entry order: HiGHS's search depends on it
    start, index, value = problem.column_entries
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = start
    lp.a_matrix_.index_ = index
    lp.a_matrix_.value_ = value
    lp.a_matrix_.num_col_ = problem.num_vars
    lp.a_matrix_.num_row_ = problem.num_cons
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[flag] for flag in problem.integrality.tolist()]
    lp.col_names_ = list(problem.var_names)
    lp.row_names_ = list(problem.con_names)
    highs = new_highs()
    highs.silent()
    if highs.passModel(lp) == highspy.HighsStatus.kError:
        raise SolverError("HiGHS rejected the model")
    return highs


def set_options(highs: highspy.Highs, options: dict[str, Any]) -> None:
    """Set HiGHS options by their native names.

    Raises
    ------
    UsageError
        An unknown option or a bad value (the message names it).
    """
    for key, value in options.items():
        try:
            status = highs.setOptionValue(key, value)
        except (TypeError, ValueError) as exc:
            raise UsageError(f"HiGHS option {key}={value!r}: {exc}") from None
        if status == highspy.HighsStatus.kError:
            raise UsageError(f"unknown HiGHS option or invalid value: {key}={value!r}")


def run_lp(highs: highspy.Highs, seconds: float | None) -> bool:
    """Run the LP held by ``highs`` for at most ``seconds`` more (``None``: no limit).

    HiGHS's ``time_limit`` bounds the run time an object has accumulated over all its LP
    runs, so an object solved again and again (a cutting-plane loop, a re-solved
    relaxation) gets that run time plus ``seconds``. Returns ``False`` on a HiGHS error.
    """
    limit = math.inf if seconds is None else highs.getRunTime() + max(float(seconds), 0.0)
    highs.setOptionValue("time_limit", limit)
    return highs.run() != highspy.HighsStatus.kError


def _finite(value: float) -> float | None:
    return float(value) if math.isfinite(value) and abs(value) < highspy.kHighsInf else None


class HighsBackend:
    """Solve with HiGHS; option names are HiGHS's own (``mip_heuristic_effort``, ...)."""

    name = "highs"

    def __init__(self) -> None:
        self._highs: highspy.Highs | None = None
        self._problem: Problem | None = None
        self._stats: dict = {}

    def prepare(self, problem: Problem, request: Request) -> None:
        """Pass the model, limits, options and warm start to a new ``Highs``."""
        highs = build_highs(problem)
        settings = {
            "output_flag": bool(request.log),
            "mip_rel_gap": float(request.mip_rel_gap),
            "random_seed": int(request.seed),
            "threads": int(request.threads),
            **request.options,
        }
        set_options(highs, settings)
        start, self._stats = request.warm_start, {}
        hints = request.hints
        if start is None and hints is not None and hints.settings.partial:
            # no trust-region point: HiGHS completes the confident part with a small MIP
            start = hints.partial_solution()
            self._stats = {"hints": {"partial": int((~np.isnan(start)).sum())}}
        if start is not None:
            given = np.flatnonzero(~np.isnan(start))
            status = highs.setSolution(
                len(given), given.astype(np.int32), start[given].astype(np.float64)
            )
            if status == highspy.HighsStatus.kError:
                raise UsageError("HiGHS rejected the warm start")
        left = request.time_left()
        if left is not None and "time_limit" not in request.options:
            # what is left once the model is passed; HiGHS's clock runs from its creation
            highs.setOptionValue("time_limit", highs.getRunTime() + left)
        self._highs = highs
        self._problem = problem

    def run(self, monitor: Monitor) -> Outcome:
        """Run HiGHS, reporting incumbents and polling the stop flag in its callbacks."""
        highs, problem = self._highs, self._problem
        assert highs is not None and problem is not None, "prepare() first"

        def improving(event) -> None:
            out = event.data_out
            stop = monitor.incumbent(
                np.array(out.mip_solution), _finite(out.mip_dual_bound), int(out.mip_node_count)
            )
            if stop:
                event.interrupt()

        def heartbeat(event) -> None:
            if monitor.stopping:
                event.interrupt()
            elif monitor.report_due():
                out = event.data_out
                if problem.is_mip:
                    primal, dual = _finite(out.mip_primal_bound), _finite(out.mip_dual_bound)
                    monitor.tick(int(out.mip_node_count), primal, dual)
                else:
                    monitor.tick(None, None, None)

        highs.cbMipImprovingSolution.subscribe(improving)
        for hook in (highs.cbMipInterrupt, highs.cbSimplexInterrupt, highs.cbIpmInterrupt):
            hook.subscribe(heartbeat)
        highs.run()
        model_status = highs.getModelStatus()
        info = highs.getInfo()
        raw = highs.modelStatusToString(model_status)
        status, limit = _STATUS.get(model_status, (Status.ERROR, None))
        if (
            limit is Limit.SOLUTIONS
            and info.mip_node_count >= highs.getOptionValue("mip_max_nodes")[1]
        ):
            limit = Limit.NODES  # HiGHS reports its node limit as a solution limit
        has_x = info.primal_solution_status == _FEASIBLE_SOLUTION
        if status is Status.FEASIBLE and not has_x:
            status = Status.NO_SOLUTION
        if status is Status.ERROR and has_x:
            status = Status.FEASIBLE
        keep_x = status in (Status.OPTIMAL, Status.FEASIBLE) and has_x
        x = np.array(highs.getSolution().col_value, dtype=np.float64) if keep_x else None
        if model_status == _MS.kModelEmpty:
            x = np.zeros(0)
        if problem.is_mip:
            dual = _finite(info.mip_dual_bound) if status is not Status.INFEASIBLE else None
            nodes = int(info.mip_node_count) if info.mip_node_count >= 0 else None
        else:
            dual = _finite(info.objective_function_value) if status is Status.OPTIMAL else None
            nodes = None
        highs.clearSolver()
        return Outcome(status, raw, x, dual, nodes, limit, stats=self._stats)
