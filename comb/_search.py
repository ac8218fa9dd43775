"""Bookkeeping shared by the time-limited searches of :mod:`hybridsolve.comb`.

A :class:`Tracker` holds the wall clock of one run: its start, its deadline, the
trajectory of improvements ``(seconds, cost)`` and the optional progress callback that the
command line uses to print one line per improvement; with a proven bound computed beside
the run, the callback also gets the bound, and is called when the bound alone improves (at
most every :data:`BOUND_LINE_SECONDS`), so that the lines show the gap closing.

Every method of :func:`hybridsolve.comb.solve` has the signature
``method(instance, *, tracker, seed=0, **options)`` and returns its best solution as
``int64`` arrays; the tracker carries the time limit and receives each improvement. The
searches that run until a limit take ``iterations``: without a time limit they stop after
that many rounds (a default when omitted, :func:`iteration_budget`), so a run is
reproducible from its seed; with a time limit and no ``iterations`` they run until the
limit, in chunks of rounds timed by :func:`run_chunks`.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from hybridsolve.mip.errors import UsageError

__all__ = ["BOUND_LINE_SECONDS", "EPS", "Progress", "Tracker", "iteration_budget", "run_chunks"]

#: Relative slack below which a change in a floating-point cost is not an improvement.
#: Numba kernels read it as a compile-time constant: their cached machine code does not
#: see a change here until their own module changes (or the cache is cleared).
EPS = 1e-9

#: ``progress(seconds, cost)``, called on every improvement a search records; with a bound
#: source, ``progress(seconds, cost, bound)``.
Progress = Callable[..., None]

#: Shortest time between two progress calls for an improvement of the bound alone.
BOUND_LINE_SECONDS = 0.5


class Tracker:
    """Clock, deadline and improvement trajectory of one run.

    Parameters
    ----------
    time_limit : float, optional
        Wall-clock seconds from construction; ``None`` for no limit.
    progress : callable, optional
        Called as ``progress(seconds, cost)`` on each recorded improvement; with ``bound``,
        as ``progress(seconds, cost, bound)``, also by :meth:`poll`.
    maximize : bool
        Larger costs are better (the orienteering prize).
    bound : callable, optional
        Returns the best proven bound so far, or ``None`` before the first
        (:attr:`hybridsolve.comb.bounding.BoundRun.latest`).
    """

    def __init__(
        self, time_limit: float | None = None, progress: Progress | None = None,
        maximize: bool = False, bound: Callable[[], float | None] | None = None,
    ) -> None:  # fmt: skip
        self.start = time.perf_counter()
        self.time_limit = time_limit
        self.progress = progress
        self.maximize = maximize
        self.bound = bound
        self.trajectory: list[tuple[float, float]] = []
        self._shown: tuple[float, float | None] = (-float("inf"), None)  # (seconds, bound)

    def elapsed(self) -> float:
        """Seconds since the start."""
        return time.perf_counter() - self.start

    def remaining(self) -> float:
        """Seconds left before the deadline (``inf`` without a limit)."""
        if self.time_limit is None:
            return float("inf")
        return self.time_limit - self.elapsed()

    def expired(self) -> bool:
        """Whether the deadline has passed."""
        return self.remaining() <= 0.0

    @property
    def best(self) -> float | None:
        """The best cost recorded so far."""
        return self.trajectory[-1][1] if self.trajectory else None

    def record(self, cost: float) -> bool:
        """Record ``cost`` when it improves on the best so far; say whether it did.

        Searches record their best cost after each chunk of work, so a cost that is no
        better is the time to report a better bound (:meth:`poll`).
        """
        best = self.best
        better = best is None or (cost > best if self.maximize else cost < best)
        if not better:
            self.poll()
            return False
        t = self.elapsed()
        self.trajectory.append((t, float(cost)))
        self._report(t)
        return True

    def _report(self, t: float) -> None:
        """Call ``progress`` with the best cost, and the bound where there is a source."""
        if self.progress is None:
            return
        if self.bound is None:
            self.progress(t, self.trajectory[-1][1])
            return
        bound = self.bound()
        self._shown = (t, bound)
        self.progress(t, self.trajectory[-1][1], bound)

    def poll(self, final: bool = False) -> None:
        """Report a bound that improved since the last call of ``progress``.

        At most every :data:`BOUND_LINE_SECONDS`, unless ``final`` (the bound's last value,
        once the run is over), and only once there is a cost.
        """
        if self.progress is None or self.bound is None or not self.trajectory:
            return
        t = self.elapsed()
        bound = self.bound()
        shown_at, shown = self._shown
        if bound is not None and bound != shown and (final or t - shown_at >= BOUND_LINE_SECONDS):
            self._report(t)


def iteration_budget(value: int | None, tracker: Tracker, default: int) -> int | None:
    """The number of rounds to run: ``value``, else ``default`` without a time limit.

    ``None`` means rounds until the tracker's deadline.

    Raises
    ------
    UsageError
        When ``value`` is not a non-negative integer.
    """
    if value is None:
        return default if tracker.time_limit is None else None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise UsageError(f"iterations must be a non-negative integer, got {value!r}")
    if value < 0:
        raise UsageError(f"iterations must be a non-negative integer, got {value}")
    return int(value)


def run_chunks(
    step: Callable[[int], float],
    iterations: int | None,
    tracker: Tracker,
    optimal: Callable[[], bool] | None = None,
) -> None:
    """Call ``step(k)`` (``k`` rounds, returning the best cost) until a limit is reached.

    Chunks grow or shrink so that each takes about 50 ms (less near the deadline); the
    best cost after every chunk goes to the tracker. The run also ends after ``iterations``
    rounds in all (``None``: no such limit) and as soon as ``optimal()`` says that the best
    solution cannot be beaten.
    """
    done, chunk = 0, 1
    while (iterations is None or done < iterations) and not tracker.expired():
        k = chunk if iterations is None else min(chunk, iterations - done)
        began = time.perf_counter()
        tracker.record(step(k))
        if optimal is not None and optimal():
            return
        done += k
        per_round = max(time.perf_counter() - began, 1e-7) / k
        target = min(0.05, max(tracker.remaining(), 0.0) / 2.0 + 1e-3)
        chunk = int(min(max(target / per_round, 1), 2 * k, 1 << 20))
