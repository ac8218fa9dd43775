"""Bookkeeping shared by the time-limited searches of :mod:`hybridsolve.comb`.

A :class:`Tracker` holds the wall clock of one run: its start, its deadline, the
trajectory of improvements ``(seconds, cost)`` and the optional progress callback that the
command line uses to print one line per improvement.
"""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Progress", "Tracker"]

#: ``progress(seconds, cost)``, called on every improvement a search records.
Progress = Callable[[float, float], None]


class Tracker:
    """Clock, deadline and improvement trajectory of one run.

    Parameters
    ----------
    time_limit : float, optional
        Wall-clock seconds from construction; ``None`` for no limit.
    progress : callable, optional
        Called as ``progress(seconds, cost)`` on each recorded improvement.
    maximize : bool
        Larger costs are better (the orienteering prize).
    """

    def __init__(
        self, time_limit: float | None = None, progress: Progress | None = None,
        maximize: bool = False,
    ) -> None:  # fmt: skip
        self.start = time.perf_counter()
        self.time_limit = time_limit
        self.progress = progress
        self.maximize = maximize
        self.trajectory: list[tuple[float, float]] = []

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
        """Record ``cost`` when it improves on the best so far; say whether it did."""
        best = self.best
        better = best is None or (cost > best if self.maximize else cost < best)
        if not better:
            return False
        t = self.elapsed()
        self.trajectory.append((t, float(cost)))
        if self.progress is not None:
            self.progress(t, float(cost))
        return True
