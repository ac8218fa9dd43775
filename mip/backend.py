"""The backend protocol and the monitor that backends report to while they run."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .check import certified
from .hints import Hints
from .problem import Problem
from .result import Limit, Status, relative_gap

__all__ = [
    "Backend",
    "Callback",
    "Monitor",
    "Outcome",
    "Progress",
    "Request",
    "ScipPlugin",
    "beats",
]

#: ``callback(time, primal, dual, x)``; a truthy return value stops the solve.
Callback = Callable[[float, float, "float | None", np.ndarray], "bool | None"]

#: ``plugin(model, variables, problem) -> dict | None``: installs something on a built SCIP
#: model (a branching rule, a heuristic, an event handler) before it runs; ``model`` is the
#: ``pyscipopt.Model``, ``variables`` its variables in file order. What it returns is kept
#: in ``Result.stats["plugins"]`` under the plugin's ``__name__``.
ScipPlugin = Callable[[Any, list, Problem], "dict | None"]

#: Seconds a backend may overrun the time limit before the guard interrupts it.
GRACE = 0.1
#: Seconds the guard waits for a backend to stop once asked before it returns without it.
ABANDON = 0.4


@dataclass(frozen=True)
class Progress:
    """A progress report: at every new incumbent and every ``interval`` seconds."""

    time: float
    nodes: int | None
    primal: float | None
    dual: float | None
    incumbent: bool

    @property
    def gap(self) -> float | None:
        """Relative gap, ``None`` while either bound is unknown."""
        return relative_gap(self.primal, self.dual)


@dataclass(frozen=True)
class Request:
    """What a backend is asked to do; validated by :func:`hybridsolve.mip.solve`.

    Attributes
    ----------
    deadline : float or None
        ``time.perf_counter()`` value at which the time limit ends (reading and model
        building count against it); ``None`` without a limit. Backends hand the solver
        :meth:`time_left` at the end of ``prepare``.
    mip_rel_gap : float
        Relative gap at which to stop.
    threads : int
        Threads the backend may use.
    seed : int
        Random seed.
    warm_start : numpy.ndarray or None
        Start values in file order, NaN where unspecified. With hints, the solution of
        the trust-region solve where one was found (see
        :func:`hybridsolve.mip.trust.better_start`), so a backend that knows nothing of
        hints still starts from it.
    log : bool
        Whether the backend prints its own log.
    options : dict
        Native parameter names and values, passed through.
    hints : Hints or None
        Predictions checked against the model, for what a backend can use beyond the
        start (SCIP: partial solution, branching priorities; HiGHS: a partial start when
        there is no warm start). ``None`` without hints or where they do not apply.
        A backend reports what it did with them in ``Outcome.stats["hints"]``.
    plugins : tuple of ScipPlugin
        Functions that install SCIP plugins on the built model (:data:`ScipPlugin`); only
        backends with ``accepts_plugins = True`` (SCIP) take them.
    """

    deadline: float | None
    mip_rel_gap: float = 0.0
    threads: int = 1
    seed: int = 0
    warm_start: np.ndarray | None = None
    log: bool = False
    options: dict[str, Any] = field(default_factory=dict)
    hints: Hints | None = None
    plugins: tuple[ScipPlugin, ...] = ()

    def time_left(self) -> float | None:
        """Seconds until the deadline now (at least 1 ms), ``None`` without a limit."""
        if self.deadline is None:
            return None
        return max(self.deadline - time.perf_counter(), 1e-3)


@dataclass
class Outcome:
    """What a backend found, before certification.

    ``status`` is the backend's claim; :func:`hybridsolve.mip.solve` downgrades it when
    the gap is open or ``x`` fails the certificate. Bounds are in the file's sense,
    offset included, ``None`` when unknown.
    """

    status: Status
    raw_status: str
    x: np.ndarray | None = None
    dual_bound: float | None = None
    nodes: int | None = None
    limit: Limit | None = None
    message: str = ""
    stats: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """A solver that :func:`hybridsolve.mip.solve` can drive.

    ``prepare`` runs in the calling thread and may raise (bad options); ``run`` runs in a
    worker thread, reports incumbents (and progress when ``monitor.report_due()``) to the
    monitor, and stops soon after ``monitor.stopping`` turns true; the calling thread sets
    it on the time guard, Ctrl-C or a callback's request. Backends are constructible
    without arguments (``solve`` builds a second one to tell infeasible from unbounded).
    """

    name: str

    def prepare(self, problem: Problem, request: Request) -> None:
        """Build the model and apply limits, parameters and the warm start."""
        ...

    def run(self, monitor: Monitor) -> Outcome:
        """Solve and return what was found."""
        ...


def beats(problem: Problem, a: float, b: float) -> bool:
    """Whether objective ``a`` is better than ``b`` by more than round-off (1e-9 relative)."""
    margin = 1e-9 * max(1.0, abs(b))
    return a > b + margin if problem.maximize else a < b - margin


class Monitor:
    """Collects incumbents, calls the user's callback, prints progress, holds the stop flag.

    Thread-safe: the backend's worker thread reports, the calling thread may request a
    stop (time guard, Ctrl-C).

    Parameters
    ----------
    problem : Problem
        The model, to recompute and certify every incumbent.
    start : float
        ``time.perf_counter()`` at the start of the solve.
    deadline : float or None
        ``time.perf_counter()`` value of the time limit.
    callback : Callback, optional
        User incumbent callback.
    progress : callable, optional
        Receives :class:`Progress` reports.
    interval : float
        Seconds between periodic progress reports.
    """

    def __init__(
        self,
        problem: Problem,
        start: float,
        deadline: float | None = None,
        callback: Callback | None = None,
        progress: Callable[[Progress], None] | None = None,
        interval: float = 5.0,
    ) -> None:
        self.problem = problem
        self.start = start
        self.deadline = deadline
        self.callback = callback
        self.progress = progress
        self.interval = interval
        self.trajectory: list[tuple[float, float, float | None]] = []
        self.best_x: np.ndarray | None = None
        self.stop_reason: Limit | None = None
        self.stop_requested: float | None = None
        self.closed = False
        self._lock = threading.Lock()
        self._last = start

    def elapsed(self) -> float:
        """Seconds since the start of the solve."""
        return time.perf_counter() - self.start

    @property
    def stopping(self) -> bool:
        """Whether the backend should stop now."""
        return self.stop_reason is not None

    def request_stop(self, reason: Limit) -> None:
        """Ask the backend to stop; the first reason given is kept."""
        with self._lock:
            if self.stop_reason is None:
                self.stop_reason = reason
                self.stop_requested = time.perf_counter()

    def close(self) -> None:
        """Take no more reports: the caller returns without waiting for the backend."""
        with self._lock:
            self.closed = True

    def check_deadline(self) -> None:
        """Request a time stop once the deadline plus a grace period has passed."""
        if self.deadline is not None and time.perf_counter() > self.deadline + GRACE:
            self.request_stop(Limit.TIME)

    def improves(self, objective: float) -> bool:
        """Whether ``objective`` beats the recorded incumbent."""
        return not self.trajectory or beats(self.problem, objective, self.trajectory[-1][1])

    def incumbent(self, x: np.ndarray, dual: float | None, nodes: int | None = None) -> bool:
        """Report a new incumbent; returns whether the backend should stop.

        The incumbent is recorded (integers rounded where that keeps it feasible) only
        when it passes :func:`check` and improves on the last one.
        """
        found = certified(self.problem, x)
        if found is not None and self.improves(found[1].objective):
            point, objective, now = found[0], found[1].objective, self.elapsed()
            with self._lock:
                if self.closed:
                    return True
                self.trajectory.append((now, objective, dual))
                self.best_x = point.copy()
            if self.callback is not None and self.callback(now, objective, dual, point):
                self.request_stop(Limit.INTERRUPT)
            self._report(Progress(now, nodes, objective, dual, True))
        return self.stopping

    def report_due(self) -> bool:
        """Whether a periodic progress report is due; cheap enough for every node."""
        return self.progress is not None and time.perf_counter() - self._last >= self.interval

    def tick(self, nodes: int | None, primal: float | None, dual: float | None) -> None:
        """Periodic progress report from the backend (call when :meth:`report_due`)."""
        self._report(Progress(self.elapsed(), nodes, primal, dual, False))

    def _report(self, report: Progress) -> None:
        self._last = self.start + report.time
        if self.progress is not None:
            self.progress(report)
