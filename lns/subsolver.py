"""Repair: the sub-MIPs of the search, solved on one backend model reused every iteration.

Each sub-solver builds the full model once and, per iteration, changes only the variable
bounds that differ from the last iteration, adds the neighbourhood's extra rows (removed
again before the next one), swaps the objective when asked, and cuts the search off at the
incumbent's objective: SCIP through its objective limit, HiGHS through a row
``c @ x <= cutoff`` kept in the model. The incumbent goes in as a warm start.
:class:`ScipTree` and :class:`HighsTree` are different: the backend's own search of the
full model, never reset, resumed for a while whenever the search asks (HiGHS's in a thread
of its own, paused between turns).
"""

from __future__ import annotations

import atexit
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import highspy
import numpy as np
import pyscipopt
from pyscipopt import SCIP_EVENTTYPE
from pyscipopt.scip import Term

from hybridsolve.mip import Problem, ScipPlugin, SolverError, UsageError
from hybridsolve.mip.highs import build_highs, set_options
from hybridsolve.mip.scip import build_scip, install_plugins

from .neighbourhood import Neighbourhood

__all__ = [
    "SUBSOLVERS",
    "Attempt",
    "HighsSubSolver",
    "HighsTree",
    "ScipSubSolver",
    "ScipTree",
    "SubSolver",
]

#: ``found(x)`` receives every improving solution of a sub-MIP as it is found.
Found = Callable[[np.ndarray], None]
#: ``stop()`` says whether the sub-MIP must stop now.
Stop = Callable[[], bool]


@dataclass(frozen=True)
class Attempt:
    """What one sub-MIP solve gave.

    Attributes
    ----------
    status : str
        ``optimal`` (the sub-MIP was solved), ``infeasible`` (nothing at least as good as
        the cutoff in the neighbourhood), ``limit`` (time limit or stop request),
        ``unbounded``, ``infeasible_or_unbounded`` or ``error``.
    x : numpy.ndarray or None
        The best solution by the model's own objective, ``None`` when none was found.
    seconds : float
        Wall time of the solve.
    dual_bound : float or None
        The backend's dual bound (meaningful for a solve of the full model only).
    """

    status: str
    x: np.ndarray | None
    seconds: float
    dual_bound: float | None = None


class SubSolver(Protocol):
    """A backend model that solves one neighbourhood after another."""

    name: str

    def solve(
        self,
        neighbourhood: Neighbourhood | None,
        *,
        start: np.ndarray | None,
        cutoff: float | None,
        time_limit: float,
        stop: Stop,
        found: Found,
    ) -> Attempt:
        """Solve the sub-MIP of ``neighbourhood`` (the full model when ``None``).

        ``start`` is a warm start (NaN where unspecified), ``cutoff`` an objective value
        in the model's sense that no returned solution may be worse than.
        """
        ...


def _slack(value: float) -> float:
    """Room above a cutoff so the incumbent itself stays feasible (round-off)."""
    return 1e-6 * max(1.0, abs(value))


class _Tracker:
    """Keeps the best solution of one solve by the model's own objective, within the cutoff."""

    def __init__(self, problem: Problem, found: Found, cutoff: float | None) -> None:
        self.problem, self.found = problem, found
        self.sign = -1.0 if problem.maximize else 1.0
        self.x: np.ndarray | None = None
        self.value = np.inf
        if cutoff is not None:
            self.value = self.sign * (cutoff - problem.offset) + _slack(cutoff)

    def offer(self, x: np.ndarray) -> None:
        value = self.sign * float(self.problem.c @ x)
        if value < self.value:
            self.x, self.value = x, value
            self.found(x)


class _ScipModel:
    """A ``pyscipopt.Model`` of the full problem with the search's settings and events.

    Parameters
    ----------
    problem : Problem
        The full model.
    seed : int
        SCIP's random seed shift.
    options : dict, optional
        SCIP parameters, passed through.
    """

    name = "scip"

    def __init__(self, problem: Problem, seed: int = 0, options: dict[str, Any] | None = None):
        self.problem = problem
        self.model, self.vars = build_scip(problem)
        settings = {"misc/catchctrlc": False, "randomization/randomseedshift": int(seed)}
        for key, value in {**settings, **(options or {})}.items():
            try:
                self.model.setParam(key, value)
            except (KeyError, LookupError, TypeError, ValueError) as exc:
                raise UsageError(
                    f"unknown SCIP parameter or invalid value: {key}={value!r}"
                ) from exc
        self._stop: Stop = lambda: False
        self._tracker: _Tracker | None = None
        self.model.attachEventHandlerCallback(
            self._on_event,
            [SCIP_EVENTTYPE.BESTSOLFOUND, SCIP_EVENTTYPE.NODESOLVED, SCIP_EVENTTYPE.LPSOLVED],
            name="hybridsolve_lns",
        )

    def _values(self, sol: pyscipopt.scip.Solution) -> np.ndarray:
        return np.fromiter((sol[v] for v in self.vars), dtype=np.float64, count=len(self.vars))

    def _on_event(self, scip: pyscipopt.Model, event: pyscipopt.scip.Event) -> None:
        if event.getType() == SCIP_EVENTTYPE.BESTSOLFOUND and self._tracker is not None:
            self._tracker.offer(self._values(scip.getBestSol()))
        if self._stop():
            scip.interruptSolve()

    def _offer(self, start: np.ndarray) -> None:
        """Hand SCIP a start: complete or partial before solving, complete while solving."""
        m = self.model
        given = np.flatnonzero(~np.isnan(start))
        if m.getStage() == pyscipopt.scip.PY_SCIP_STAGE.PROBLEM:
            sol = m.createSol() if len(given) == len(self.vars) else m.createPartialSol()
        elif len(given) == len(self.vars):
            sol = m.createOrigSol()  # a resumed search takes solutions in the original space
        else:
            return
        for j in given.tolist():
            m.setSolVal(sol, self.vars[j], float(start[j]))
        m.addSol(sol)  # False when SCIP already holds it, or rejects it: both harmless

    def _optimize(
        self, time_limit: float, stop: Stop, tracker: _Tracker
    ) -> tuple[str, float | None]:
        """Run SCIP for ``time_limit`` more seconds; its status and dual bound."""
        m = self.model
        fresh = m.getStage() == pyscipopt.scip.PY_SCIP_STAGE.PROBLEM
        spent = 0.0 if fresh else m.getSolvingTime()  # SCIP's clock runs on over resumes
        m.setParam("limits/time", spent + max(time_limit, 1e-3))
        self._stop, self._tracker = stop, tracker
        try:
            m.optimizeNogil()
        finally:
            self._tracker = None
        dual = m.getDualbound()
        dual = None if m.isInfinity(abs(dual)) else float(dual)
        return _SCIP_STATUS.get(m.getStatus(), "limit"), dual


class ScipTree(_ScipModel):
    """SCIP's own branch and bound on the full model, resumed for a while at each call.

    The model is never reset: each call hands SCIP the incumbent (so its pruning uses the
    best solution the search knows) and lets the search go on where it stopped. The LNS
    starts with it and may pull it again as one more bandit arm.

    Parameters
    ----------
    problem, seed, options
        As :class:`_ScipModel`.
    plugins : tuple of ScipPlugin
        Installed on the model once (a learned branching rule, for example); what each
        returns is kept in :attr:`plugins` by its ``__name__``.
    """

    def __init__(self, problem: Problem, seed: int = 0, options: dict[str, Any] | None = None,
                 plugins: tuple[ScipPlugin, ...] = ()) -> None:  # fmt: skip
        super().__init__(problem, seed, options)
        self.plugins = install_plugins(self.model, self.vars, problem, plugins)

    @property
    def nodes(self) -> int:
        """Branch-and-bound nodes so far (0 before the first turn)."""
        if self.model.getStage() == pyscipopt.scip.PY_SCIP_STAGE.PROBLEM:
            return 0
        return int(self.model.getNNodes())

    def solve(
        self, *, start: np.ndarray | None, cutoff: float | None, time_limit: float, stop: Stop,
        found: Found,
    ) -> Attempt:  # fmt: skip
        """Continue the search for ``time_limit`` seconds; ``optimal`` once it is proven."""
        began = time.perf_counter()
        m = self.model
        if m.getStage() == pyscipopt.scip.PY_SCIP_STAGE.SOLVED:
            status, dual = _SCIP_STATUS.get(m.getStatus(), "limit"), None
            return Attempt(status, None, 0.0, dual)
        if start is not None:
            self._offer(start)
        tracker = _Tracker(self.problem, found, cutoff)
        status, dual = self._optimize(time_limit, stop, tracker)
        if status != "infeasible" and m.getNSols() > 0:
            tracker.offer(self._values(m.getBestSol()))
        return Attempt(status, tracker.x, time.perf_counter() - began, dual)


class ScipSubSolver(_ScipModel):
    """Sub-MIPs on one ``pyscipopt.Model``: between solves ``freeTransform`` and edits.

    Takes the parameters of :class:`_ScipModel`; ``options`` apply to every sub-MIP.
    """

    def __init__(self, problem: Problem, seed: int = 0, options: dict[str, Any] | None = None):
        super().__init__(problem, seed, options)
        m = self.model
        # Sub-MIP settings in the spirit of SCIP's own LNS heuristics (heur_alns.c): cheap
        # presolving, no cutting planes; user options still win.
        m.setPresolve(pyscipopt.SCIP_PARAMSETTING.FAST)
        m.setSeparating(pyscipopt.SCIP_PARAMSETTING.OFF)
        for key, value in (options or {}).items():
            m.setParam(key, value)
        self.lower, self.upper = problem.col_lower.copy(), problem.col_upper.copy()
        self.cost = problem.c.copy()
        self._rows: list[pyscipopt.scip.Constraint] = []

    def _edit(self, nb: Neighbourhood | None, cutoff: float | None) -> None:
        """Bring the model from the last neighbourhood to this one (problem stage)."""
        m, p = self.model, self.problem
        for cons in self._rows:
            m.delCons(cons)
        self._rows = []
        lower = p.col_lower if nb is None else nb.lower
        upper = p.col_upper if nb is None else nb.upper
        for j in np.flatnonzero((lower != self.lower) | (upper != self.upper)).tolist():
            v, lo, hi = self.vars[j], _bound(lower[j]), _bound(upper[j])
            if lower[j] > self.upper[j]:  # keep lower <= upper at every step
                m.chgVarUb(v, hi)
                m.chgVarLb(v, lo)
            else:
                m.chgVarLb(v, lo)
                m.chgVarUb(v, hi)
        self.lower, self.upper = lower.copy(), upper.copy()
        cost = p.c if nb is None or nb.objective is None else nb.objective
        replaced = nb is not None and nb.objective is not None
        sense = "maximize" if p.maximize and not replaced else "minimize"
        changed = np.flatnonzero(cost != self.cost).tolist()
        terms = {Term(self.vars[j]): float(cost[j]) for j in changed}
        m.setObjective(pyscipopt.Expr(terms), sense=sense, clear=False)
        self.cost = cost.copy()
        limit = m.infinity()
        if cutoff is not None and not replaced:
            limit = cutoff - _slack(cutoff) if p.maximize else cutoff + _slack(cutoff)
        elif p.maximize and not replaced:
            limit = -limit
        m.setObjlimit(limit)
        for i, row in enumerate(() if nb is None else nb.rows):
            expr = pyscipopt.quicksum(
                float(a) * self.vars[j] for j, a in zip(row.index.tolist(), row.coefs.tolist())
            )
            cons = pyscipopt.scip.ExprCons(expr, lhs=_bound(row.lower), rhs=_bound(row.upper))
            self._rows.append(m.addCons(cons, name=f"lns_row_{i}"))

    def solve(
        self,
        neighbourhood: Neighbourhood | None,
        *,
        start: np.ndarray | None,
        cutoff: float | None,
        time_limit: float,
        stop: Stop,
        found: Found,
    ) -> Attempt:
        """Solve one sub-MIP; see :class:`SubSolver`."""
        began = time.perf_counter()
        m = self.model
        if m.getStage() != pyscipopt.scip.PY_SCIP_STAGE.PROBLEM:
            m.freeTransform()
        self._edit(neighbourhood, cutoff)
        if start is not None:
            self._offer(start)
        tracker = _Tracker(self.problem, found, cutoff)
        status, dual = self._optimize(time_limit, stop, tracker)
        if status != "infeasible" and m.getNSols() > 0:
            # SCIP keeps solutions of earlier solves: offer the best only if it is one of
            # this sub-MIP (a warm start or a solution found before the events were caught).
            x = self._values(m.getBestSol())
            if neighbourhood is None or neighbourhood.contains(x):
                tracker.offer(x)
        return Attempt(status, tracker.x, time.perf_counter() - began, dual)


_SCIP_STATUS = {
    "optimal": "optimal",
    "infeasible": "infeasible",
    "unbounded": "unbounded",
    "inforunbd": "infeasible_or_unbounded",
}


def _bound(value: float) -> float | None:
    return None if not np.isfinite(value) else float(value)


_HS = highspy.HighsModelStatus
_HIGHS_STATUS = {
    _HS.kOptimal: "optimal",
    _HS.kInfeasible: "infeasible",
    _HS.kUnbounded: "unbounded",
    _HS.kUnboundedOrInfeasible: "infeasible_or_unbounded",
    _HS.kModelError: "error",
    _HS.kSolveError: "error",
}


class HighsSubSolver:
    """Sub-MIPs on one ``highspy.Highs``: bounds, costs and rows changed in place.

    Parameters
    ----------
    problem : Problem
        The full model.
    seed : int
        HiGHS's random seed.
    options : dict, optional
        HiGHS options for every sub-MIP.
    """

    name = "highs"

    def __init__(self, problem: Problem, seed: int = 0, options: dict[str, Any] | None = None):
        self.problem = problem
        h = self.highs = _highs_model(problem, seed, options)
        used = np.flatnonzero(problem.c).astype(np.int32)
        h.addRow(-highspy.kHighsInf, highspy.kHighsInf, len(used), used, problem.c[used])
        self.cutoff_row = problem.num_cons
        self.lower, self.upper = problem.col_lower.copy(), problem.col_upper.copy()
        self.cost = problem.c.copy()
        self._extra = 0
        self._stop: Stop = lambda: False
        self._tracker: _Tracker | None = None
        h.cbMipImprovingSolution.subscribe(self._on_solution)
        for hook in (h.cbMipInterrupt, h.cbSimplexInterrupt, h.cbIpmInterrupt):
            hook.subscribe(self._on_tick)

    def _on_solution(self, event) -> None:
        if self._tracker is not None:
            self._tracker.offer(np.array(event.data_out.mip_solution)[: self.problem.num_vars])

    def _on_tick(self, event) -> None:
        if self._stop():
            event.interrupt()

    def _edit(self, nb: Neighbourhood | None, cutoff: float | None) -> None:
        h, p, inf = self.highs, self.problem, highspy.kHighsInf
        if self._extra:
            first = self.cutoff_row + 1
            h.deleteRows(self._extra, np.arange(first, first + self._extra, dtype=np.int32))
            self._extra = 0
        lower = p.col_lower if nb is None else nb.lower
        upper = p.col_upper if nb is None else nb.upper
        changed = np.flatnonzero((lower != self.lower) | (upper != self.upper)).astype(np.int32)
        if len(changed):
            h.changeColsBounds(len(changed), changed, lower[changed], upper[changed])
        self.lower, self.upper = lower.copy(), upper.copy()
        replaced = nb is not None and nb.objective is not None
        cost = nb.objective if replaced else p.c
        changed = np.flatnonzero(cost != self.cost).astype(np.int32)
        if len(changed):
            h.changeColsCost(len(changed), changed, cost[changed])
        self.cost = cost.copy()
        maximize = p.maximize and not replaced
        h.changeObjectiveSense(
            highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
        )
        lo, hi = -inf, inf
        if cutoff is not None:
            if p.maximize:
                lo = cutoff - p.offset - _slack(cutoff)
            else:
                hi = cutoff - p.offset + _slack(cutoff)
        h.changeRowBounds(self.cutoff_row, lo, hi)
        for row in () if nb is None else nb.rows:
            h.addRow(
                max(row.lower, -inf), min(row.upper, inf), len(row.index),
                row.index.astype(np.int32), row.coefs.astype(np.float64),
            )  # fmt: skip
            self._extra += 1

    def solve(
        self,
        neighbourhood: Neighbourhood | None,
        *,
        start: np.ndarray | None,
        cutoff: float | None,
        time_limit: float,
        stop: Stop,
        found: Found,
    ) -> Attempt:
        """Solve one sub-MIP; see :class:`SubSolver`."""
        began = time.perf_counter()
        h = self.highs
        self._edit(neighbourhood, cutoff)
        if start is not None:
            given = np.flatnonzero(~np.isnan(start)).astype(np.int32)
            h.setSolution(len(given), given, start[given].astype(np.float64))
        h.setOptionValue("time_limit", max(time_limit, 1e-3))  # HiGHS times each run()
        self._stop, self._tracker = stop, _Tracker(self.problem, found, cutoff)
        h.run()
        tracker = self._tracker
        self._tracker = None
        status = _highs_outcome(h, self.problem, tracker)
        dual = _bound(h.getInfo().mip_dual_bound)
        return Attempt(status, tracker.x, time.perf_counter() - began, dual)


def _bound(value: float) -> float | None:
    """A bound HiGHS reports, ``None`` where it is infinite (none known)."""
    value = float(value)
    return value if np.isfinite(value) and abs(value) < highspy.kHighsInf else None


def _highs_outcome(h: highspy.Highs, problem: Problem, tracker: _Tracker) -> str:
    """After ``h.run()``: its solution offered to ``tracker``, its status as an Attempt's."""
    if h.getInfo().primal_solution_status == 2:  # kSolutionStatusFeasible
        tracker.offer(np.array(h.getSolution().col_value)[: problem.num_vars])
    return _HIGHS_STATUS.get(h.getModelStatus(), "limit")


def _highs_model(problem: Problem, seed: int, options: dict[str, Any] | None) -> highspy.Highs:
    """A silent one-thread ``Highs`` of the full problem, proving to a zero gap, with
    ``options`` on top.

    Raises
    ------
    UsageError
        An unknown option or a bad value.
    """
    h = build_highs(problem)
    set_options(h, {"random_seed": int(seed), "threads": 1, "mip_rel_gap": 0.0, **(options or {})})
    return h


class HighsTree:
    """HiGHS's branch and bound on the full model, paused between its turns, never restarted.

    HiGHS has no resumable solve call, so the search runs in a thread of its own and pauses
    by blocking inside its own interrupt callbacks (simplex, IPM and MIP) once the turn's
    time is up or the search is stopping; :meth:`solve` gives it the next turn and waits
    until it pauses (or finishes). The incumbent of the LNS reaches HiGHS through its
    user-solution callback (``cbMipUserSolution``), so its pruning uses the best solution
    the search knows. A finished search reports ``optimal`` (or ``infeasible``,
    ``unbounded``) with its dual bound.

    HiGHS calls back every few tenths of a second, but some stretches (root cuts and
    heuristics) go up to about a second without a callback. :meth:`solve` therefore
    returns at most :data:`OVERRUN` seconds after its turn or a stop request even when
    HiGHS has not paused yet; HiGHS then pauses at its next callback, running beside the
    next arm until then. :meth:`close` interrupts the search at its next callback; trees
    still running when Python exits are closed and joined first (``atexit``), so HiGHS's
    threads never outlive the interpreter.

    Parameters
    ----------
    problem : Problem
        The full model.
    seed : int
        HiGHS's random seed.
    options : dict, optional
        HiGHS options, passed through.
    deadline : float, optional
        ``time.perf_counter()`` time at which the search must be over: HiGHS gets it as its
        own time limit, which it checks in stretches without callbacks too (presolve,
        long LP solves on large models), so the search ends near it even if nobody closes
        it, and Python's exit never waits long for it.
    """

    name = "highs"

    #: Seconds :meth:`solve` waits past its turn (or a stop request) for HiGHS to pause.
    OVERRUN = 0.05

    def __init__(self, problem: Problem, seed: int = 0, options: dict[str, Any] | None = None,
                 deadline: float | None = None) -> None:  # fmt: skip
        self.problem = problem
        h = self.highs = _highs_model(problem, seed, options)
        self.search_deadline = deadline
        self.nodes = 0  #: branch-and-bound nodes so far (HiGHS's own count)
        self.runs = 0  #: calls of ``Highs.run`` (one: the search is never restarted)
        self.dual_bound: float | None = None
        self.primal_bound: float | None = None  #: HiGHS's incumbent value, injected ones included
        self._lock = threading.Lock()  # the pause handshake: deadline, events, closing
        self._turn = threading.Event()  # set while HiGHS may run
        self._paused = threading.Event()  # set while HiGHS waits (or has finished)
        self._thread: threading.Thread | None = None
        self._deadline = 0.0
        self._closing = False
        self._finished = False
        self._failure: BaseException | None = None
        self._pending: np.ndarray | None = None  # a complete solution to hand over
        self._stop: Stop = lambda: False
        self._tracker: _Tracker | None = None
        h.cbMipImprovingSolution.subscribe(self._on_solution)
        h.cbMipUserSolution.subscribe(self._on_user_solution)
        for hook in (h.cbMipInterrupt, h.cbSimplexInterrupt, h.cbIpmInterrupt):
            hook.subscribe(self._on_tick)

    def _on_solution(self, event) -> None:
        tracker = self._tracker
        if tracker is not None:
            tracker.offer(np.array(event.data_out.mip_solution)[: self.problem.num_vars])

    def _on_user_solution(self, event) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:
            event.data_in.setSolution(pending)

    def _on_tick(self, event) -> None:
        """HiGHS's interrupt callbacks: pause here when the turn is over."""
        if event.data_out.mip_node_count:
            self.nodes = max(self.nodes, int(event.data_out.mip_node_count))
        for field in ("dual_bound", "primal_bound"):
            bound = _bound(getattr(event.data_out, f"mip_{field}"))
            if bound is not None:
                setattr(self, field, bound)
        with self._lock:
            if not self._closing:
                if time.perf_counter() < self._deadline and not self._stop():
                    return
                self._turn.clear()
                self._paused.set()
        self._turn.wait()
        if self._closing:
            event.interrupt()

    def _search(self) -> None:
        try:
            self.runs += 1
            if self.search_deadline is not None:  # HiGHS stops itself then, callbacks or not
                left = self.search_deadline - time.perf_counter() + self.OVERRUN
                self.highs.setOptionValue("time_limit", max(left, 1e-3))
            self.highs.run()
        except BaseException as exc:  # reported by solve(), in the main thread
            self._failure = exc
        finally:
            self._finished = True
            self._paused.set()

    def solve(
        self, *, start: np.ndarray | None, cutoff: float | None, time_limit: float, stop: Stop,
        found: Found,
    ) -> Attempt:  # fmt: skip
        """Give the search ``time_limit`` more seconds; ``optimal`` once it is proven."""
        began = time.perf_counter()
        tracker = _Tracker(self.problem, found, cutoff)
        if not self._finished:
            if start is not None:  # partial starts before the first turn, complete ones later
                given = np.flatnonzero(~np.isnan(start)).astype(np.int32)
                if self._thread is None and len(given):
                    self.highs.setSolution(len(given), given, start[given].astype(np.float64))
                elif len(given) == len(start):
                    self._pending = start.astype(np.float64)
            end = began + max(time_limit, 1e-3)
            with self._lock:
                self._stop, self._tracker = stop, tracker
                self._deadline = end
                self._paused.clear()
                self._turn.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._search, name="hybridsolve-highs",
                                                daemon=True)  # fmt: skip
                _LIVE.add(self)
                self._thread.start()
            while not self._paused.wait(0.01):
                if time.perf_counter() > end + self.OVERRUN or stop():
                    break
        if self._failure is not None:
            raise SolverError(f"HiGHS failed on the full model: {self._failure}")
        status = "limit"
        if self._finished:
            status = _highs_outcome(self.highs, self.problem, tracker)
            info = self.highs.getInfo()
            dual = _bound(info.mip_dual_bound if self.problem.is_mip
                          else info.objective_function_value)  # fmt: skip
            self.dual_bound = self.dual_bound if dual is None else dual
        return Attempt(status, tracker.x, time.perf_counter() - began, self.dual_bound)

    def close(self, timeout: float | None = None) -> None:
        """Have the search interrupt itself at its next callback; wait up to ``timeout`` s
        (``None``: until its thread has ended)."""
        if self._thread is None:
            return
        with self._lock:
            self._closing = True
            self._turn.set()
        self._thread.join(timeout)


#: Trees whose thread was started; :func:`_close_all` joins the ones still running at exit.
_LIVE: weakref.WeakSet[HighsTree] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    for tree in list(_LIVE):
        tree.close()


#: Sub-solver classes by backend name.
SUBSOLVERS: dict[str, type] = {"scip": ScipSubSolver, "highs": HighsSubSolver}
