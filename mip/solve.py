"""Driving a backend: limits, the time guard, Ctrl-C, certification, the honest status."""

from __future__ import annotations

import math
import os
import threading
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .backend import (
    ABANDON,
    Backend,
    Callback,
    Monitor,
    Outcome,
    Progress,
    Request,
    ScipPlugin,
    beats,
)
from .check import certified, check
from .errors import HybridsolveError, UsageError
from .highs import HighsBackend
from .hints import Hints, HintSource, HintWarning, binaries
from .io import read
from .problem import Problem
from .result import Limit, Result, Status, relative_gap
from .scip import ScipBackend
from .solfile import start_vector
from .trust import better_start, trust_region

__all__ = ["BACKENDS", "gap_closed", "solve"]

#: The backends ``mip`` itself provides, by name.
BACKENDS: dict[str, Callable[[], Backend]] = {"scip": ScipBackend, "highs": HighsBackend}


def gap_closed(primal: float, dual: float | None) -> bool:
    """Whether primal and dual bound agree (1e-6 absolute or 1e-9 relative)."""
    return dual is not None and abs(primal - dual) <= max(1e-6, 1e-9 * abs(primal))


def _validate(time_limit, mip_rel_gap, threads, seed) -> None:
    if time_limit is not None and not (isinstance(time_limit, (int, float)) and time_limit > 0):
        raise UsageError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    if not (isinstance(mip_rel_gap, (int, float)) and 0 <= mip_rel_gap < math.inf):
        raise UsageError(f"mip_rel_gap must be >= 0, got {mip_rel_gap!r}")
    if not (isinstance(threads, (int, np.integer)) and threads >= 1):
        raise UsageError(f"threads must be a positive integer, got {threads!r}")
    if not (isinstance(seed, (int, np.integer)) and 0 <= seed < 2**31):
        raise UsageError(f"seed must be an integer in [0, 2**31), got {seed!r}")


def _run(backend: Backend, monitor: Monitor) -> Outcome:
    """Run the backend in a worker thread; this thread guards time and takes Ctrl-C.

    A backend that has not returned :data:`~hybridsolve.mip.backend.ABANDON` seconds
    after it was asked to stop (a solver deep in presolve on a large model, say, checks
    neither its clock nor our flag) is left to finish in the background: the monitor is
    closed and the incumbents it recorded are the answer.
    """
    box: dict[str, Any] = {}
    done = threading.Event()

    def work() -> None:
        try:
            box["outcome"] = backend.run(monitor)
        except BaseException as exc:  # reported as a Result with status error
            box["error"] = exc
        finally:
            done.set()

    worker = threading.Thread(target=work, name=f"hybridsolve-{backend.name}", daemon=True)
    worker.start()
    # Event.wait, not Thread.join: a KeyboardInterrupt inside join() can leave the thread
    # marked as finished while it still runs.
    while not done.is_set():
        try:
            done.wait(0.05)
            monitor.check_deadline()
        except KeyboardInterrupt:
            monitor.request_stop(Limit.INTERRUPT)
        asked = monitor.stop_requested
        if asked is not None and not done.is_set() and time.perf_counter() > asked + ABANDON:
            monitor.close()
            return Outcome(
                Status.FEASIBLE,
                "abandoned",
                limit=monitor.stop_reason,
                message=f"{backend.name} did not stop within {ABANDON:g} s of being asked;"
                " it finishes in the background",
            )
    worker.join()
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, HybridsolveError):
            raise exc
        return Outcome(Status.ERROR, "exception", message=f"{type(exc).__name__}: {exc}")
    return box["outcome"]


def solve(
    problem: Problem | str | os.PathLike,
    backend: Backend | str = "scip",
    *,
    time_limit: float | None = None,
    mip_rel_gap: float = 0.0,
    threads: int = 1,
    seed: int = 0,
    warm_start: Mapping[str, float] | np.ndarray | str | os.PathLike | None = None,
    callback: Callback | None = None,
    log: bool = False,
    options: Mapping[str, Any] | None = None,
    progress: Callable[[Progress], None] | None = None,
    hints: Hints | HintSource | None = None,
    plugins: Sequence[ScipPlugin] = (),
) -> Result:
    """Solve a model with one backend and return a certified :class:`Result`.

    Parameters
    ----------
    problem : Problem, str or os.PathLike
        A model, or the path of an MPS/LP file (reading counts against ``time_limit``).
    backend : Backend or str
        A :class:`Backend` instance, or ``"scip"`` / ``"highs"``.
    time_limit : float, optional
        Wall-clock seconds from the call, reading included; a guard interrupts a backend
        that overshoots.
    mip_rel_gap : float
        Stop at this relative gap (status ``feasible``, limit ``gap``, unless closed).
    threads : int
        Threads for the backend.
    seed : int
        Random seed; the same seed repeats the run on a deterministic backend.
    warm_start : dict, array_like, str or os.PathLike, optional
        Start values by name, as a length-``n`` array (NaN = free), or a ``.sol`` path;
        partial starts are completed by the backend.
    callback : callable, optional
        ``callback(time, primal, dual, x)`` at every certified improvement; return
        ``True`` to stop (status feasible, limit interrupt).
    log : bool
        Show the backend's own log.
    options : dict, optional
        Native parameter names and values, passed through unchanged.
    progress : callable, optional
        Receives :class:`Progress` at every incumbent and every few seconds.
    hints : Hints or callable, optional
        Predicted values and confidences for integer variables (:class:`Hints`; what is
        done with them is in its :class:`HintSettings`), or a function
        ``hints(problem, deadline) -> Hints | None`` that predicts them (a learned model;
        ``deadline`` is the ``time.perf_counter()`` value of the time limit, or ``None``),
        called once the model is read, inside the time limit: its seconds are
        ``Result.stats["hints"]["predict_seconds"]``, and ``None`` means solve without
        hints (the function warns why). The trust-region solve runs
        first, inside ``time_limit``, and its incumbents count as the solve's own; the
        full model is solved afterwards, so hints never cut off its optimum. A model
        without binary variables, or hints that predict nothing, is solved without them
        after one :class:`HintWarning`; ``Result.stats["hints"]`` says what was used.

    plugins : sequence of callable
        SCIP plugins: functions ``plugin(model, variables, problem)`` called on the built
        ``pyscipopt.Model`` before it runs (:data:`ScipPlugin`), to install a branching
        rule, a heuristic or an event handler; their returns are
        ``Result.stats["plugins"]``. Other backends refuse them with a
        :class:`UsageError`. The trust-region solve of hints runs without them.

    Returns
    -------
    Result
        Any returned ``x`` has passed :func:`check`; ``objective`` is recomputed from it.

    Raises
    ------
    UsageError
        Bad arguments, unknown backend name or native option, hints that do not match
        the model.
    InputError
        Unreadable model file or warm-start file.
    """
    start = time.perf_counter()
    _validate(time_limit, mip_rel_gap, threads, seed)
    if hints is not None and not isinstance(hints, Hints) and not callable(hints):
        raise UsageError(
            f"hints must be a hybridsolve.mip.Hints, a function or None, got {hints!r:.60}"
        )
    if isinstance(backend, str):
        if backend not in BACKENDS:
            raise UsageError(f"unknown solver {backend!r}; choose from {', '.join(BACKENDS)}")
        backend = BACKENDS[backend]()
    plugins = tuple(plugins)
    if any(not callable(plugin) for plugin in plugins):
        raise UsageError("plugins must be functions plugin(model, variables, problem)")
    if plugins and not getattr(backend, "accepts_plugins", False):
        raise UsageError(
            f"SCIP plugins need the scip solver (or lns); {backend.name} cannot take them"
        )
    if not isinstance(problem, Problem):
        problem = read(problem)
    start_values = None if warm_start is None else start_vector(problem, warm_start)
    deadline = None if time_limit is None else start + time_limit
    predicted: dict[str, Any] = {}
    if hints is not None and not isinstance(hints, Hints):
        began = time.perf_counter()
        hints = hints(problem, deadline)
        predicted = {"predict_seconds": time.perf_counter() - began}
        if hints is None:
            predicted.update(used=False, reason="the hint model does not apply to this model")
        elif not isinstance(hints, Hints):
            raise UsageError(f"the hints function returned {type(hints).__name__}, not Hints")
    if hints is not None:
        hints.validate(problem)
    empty = problem.empty_domains()
    if empty:
        return Result(
            Status.INFEASIBLE,
            runtime=time.perf_counter() - start,
            solver=backend.name,
            raw_status="empty domain",
            message=f"lower bound above upper bound for {', '.join(empty[:5])}",
        )
    request = Request(
        deadline=deadline,
        mip_rel_gap=float(mip_rel_gap),
        threads=threads,
        seed=int(seed),
        warm_start=start_values,
        log=log,
        options=dict(options or {}),
        hints=hints,
        plugins=plugins,
    )
    monitor = Monitor(problem, start, deadline, callback, progress)
    hint_stats: dict[str, Any] = {}
    if hints is not None:
        request, hint_stats = _hint_step(problem, backend.name, request, monitor)
    if monitor.stopping:  # the user's callback or Ctrl-C during the trust-region solve
        outcome = Outcome(Status.FEASIBLE, "interrupted", limit=monitor.stop_reason)
    else:
        backend.prepare(problem, request)
        outcome = _run(backend, monitor)
        if outcome.status is Status.INFEASIBLE_OR_UNBOUNDED and not monitor.stopping:
            outcome = _settle(problem, type(backend), request, monitor, outcome)
    if hints is not None or predicted:
        used = {**predicted, **hint_stats, **outcome.stats.get("hints", {})}
        outcome.stats = {**outcome.stats, "hints": used}
    return _finish(problem, backend.name, outcome, monitor, float(mip_rel_gap))


def _hint_step(
    problem: Problem, solver: str, request: Request, monitor: Monitor
) -> tuple[Request, dict[str, Any]]:
    """Check that the hints apply and run the trust-region solve.

    Returns the request for the backend (hints dropped where they do not apply, the
    trust-region point folded into the warm start) and what was done, for
    ``Result.stats["hints"]``.
    """
    hints = request.hints
    assert hints is not None
    reason = ""
    if not binaries(problem).any():
        reason = "the model has no binary variables"
    elif not hints.predicted.any():
        reason = "they predict no variable"
    if reason:
        warnings.warn(f"hints ignored: {reason}; solving without them", HintWarning, stacklevel=3)
        return replace(request, hints=None), {"used": False, "reason": reason}
    stats: dict[str, Any] = {"used": True, "predicted": int(hints.predicted.sum())}
    settings = hints.settings
    if not settings.trust_region or trust_region(problem, hints) is None:
        return request, stats
    left = request.time_left()
    budget = settings.trust_seconds if left is None else settings.trust_time * left
    name = settings.trust_solver or (solver if solver in BACKENDS else "scip")
    trust: dict[str, Any] = {"solver": name, "attempts": 0}
    stats["trust_region"] = trust

    def forward(time_: float, primal: float, dual: float | None, x: np.ndarray) -> bool:
        return monitor.incumbent(x, None)  # a bound of the restricted model is no bound

    began = time.perf_counter()
    for attempt in range(settings.shrink + 1):
        region = trust_region(problem, hints, scale=0.5**attempt)
        remaining = budget - (time.perf_counter() - began)
        if region is None or (attempt and remaining <= 0):
            break
        trust.update(zeros=len(region.zeros), ones=len(region.ones), delta=region.delta,
                     attempts=attempt + 1)  # fmt: skip
        found = solve(
            region.problem(problem),
            name,
            time_limit=max(remaining, 1e-3),
            mip_rel_gap=request.mip_rel_gap,
            threads=request.threads,
            seed=request.seed,
            warm_start=request.warm_start,
            callback=forward,
        )
        if found.limit is Limit.INTERRUPT and not monitor.stopping:
            monitor.request_stop(Limit.INTERRUPT)  # Ctrl-C
        if found.status is not Status.INFEASIBLE or monitor.stopping:
            break
    point = certified(problem, found.x)
    trust.update(
        seconds=time.perf_counter() - began,
        status=found.status.value,
        objective=point[1].objective if point else None,
    )
    if point is None:
        return request, stats
    return replace(request, warm_start=better_start(problem, request.warm_start, point[0])), stats


def _settle(
    problem: Problem,
    factory: Callable[[], Backend],
    request: Request,
    monitor: Monitor,
    outcome: Outcome,
) -> Outcome:
    """Tell infeasible from unbounded by solving the model with a zero objective.

    The backend has shown the model is not both feasible and bounded; if it is feasible,
    it is unbounded.
    """
    remaining = None if monitor.deadline is None else monitor.deadline - time.perf_counter()
    if remaining is not None and remaining <= 0:
        return outcome
    zero = np.zeros(problem.num_vars)
    zero.setflags(write=False)
    feasibility = replace(problem, c=zero, offset=0.0, sense="minimize")
    probe = factory()
    probe.prepare(feasibility, replace(request, warm_start=None, hints=None, plugins=()))
    found = _run(probe, Monitor(feasibility, monitor.start, monitor.deadline))
    if found.status in (Status.OPTIMAL, Status.FEASIBLE):
        outcome.status = Status.UNBOUNDED
        outcome.message = "a feasible point exists, so the model is unbounded"
    elif found.status is Status.INFEASIBLE:
        outcome.status = Status.INFEASIBLE
        outcome.message = "the model has no feasible point"
    return outcome


def _finish(
    problem: Problem, solver: str, outcome: Outcome, monitor: Monitor, mip_rel_gap: float
) -> Result:
    """Certify, pick the best certified point, and state only what is proven."""
    status, limit, messages = outcome.status, outcome.limit, [outcome.message]
    if limit is Limit.INTERRUPT and monitor.stop_reason is not None:
        limit = monitor.stop_reason
    final = certified(problem, outcome.x)
    if outcome.x is not None and final is None:
        worst = check(problem, outcome.x)
        detail = worst.reason or ", ".join(
            f"{v.kind} {v.name} by {v.amount:.2g}" for v in worst.violations[:3]
        )
        messages.append(f"the backend's final solution failed the certificate ({detail})")
    best = certified(problem, monitor.best_x)
    if best is not None and (
        final is None or beats(problem, best[1].objective, final[1].objective)
    ):
        final = best  # an incumbent seen on the way beats the backend's final answer
    if status not in (Status.OPTIMAL, Status.FEASIBLE, Status.ERROR):
        final = None  # an infeasibility or unboundedness claim comes without a point
    x, certificate = final if final is not None else (None, None)
    objective = certificate.objective if certificate else None
    dual = outcome.dual_bound
    if x is None and status in (Status.OPTIMAL, Status.FEASIBLE):
        status = Status.ERROR if outcome.x is not None else Status.NO_SOLUTION
    if status is Status.OPTIMAL and not problem.is_mip and dual is None:
        dual = objective
    if status is Status.OPTIMAL and not gap_closed(objective, dual):
        status, limit = Status.FEASIBLE, Limit.GAP if mip_rel_gap > 0 else Limit.OTHER
        messages.append("the backend stopped with an open gap")
    runtime = monitor.elapsed()
    trajectory = list(monitor.trajectory)
    if objective is not None and (not trajectory or beats(problem, objective, trajectory[-1][1])):
        trajectory.append((runtime, objective, dual))
    return Result(
        status=status,
        objective=objective,
        dual_bound=dual,
        gap=relative_gap(objective, dual),
        x=x,
        runtime=runtime,
        nodes=outcome.nodes,
        trajectory=tuple(trajectory),
        solver=solver,
        raw_status=outcome.raw_status,
        message="; ".join(m for m in messages if m),
        limit=None if status is Status.OPTIMAL else limit,
        certificate=certificate,
        stats=outcome.stats,
    )
