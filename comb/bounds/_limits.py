"""Argument checks and a clock shared by the bounds.

Each public bound function takes ``time_limit`` (wall-clock seconds) and ``stop`` (a
callable without arguments, true to end an iterative ascent early), the iterative ones also
``progress`` (called with each better bound as it is found); :func:`checked` refuses bad
ones (:func:`number` tells a real number from a bool) and :class:`Clock` answers
whether either has ended the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from hybridsolve.mip.errors import UsageError

__all__: list[str] = []


def number(value: object) -> bool:
    """Whether ``value`` is a real number (not a bool)."""
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )


def checked(
    time_limit: float | None,
    stop: Callable[[], bool] | None,
    progress: Callable[[float], None] | None = None,
) -> None:
    """Refuse a time limit that is not a positive number, or an uncallable ``stop`` or ``progress``.

    Raises
    ------
    UsageError
        With the reason.
    """
    if time_limit is not None and not (number(time_limit) and time_limit > 0):
        raise UsageError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    if stop is not None and not callable(stop):
        raise UsageError(f"stop must be a callable without arguments, got {stop!r}")
    if progress is not None and not callable(progress):
        raise UsageError(f"progress must be a callable taking the bound, got {progress!r}")


class Clock:
    """Wall-clock seconds since construction, and whether the run must end.

    Parameters
    ----------
    time_limit : float, optional
        Seconds after which :meth:`expired` answers true.
    stop : callable, optional
        Called by :meth:`expired`; a true answer ends the run.
    """

    def __init__(self, time_limit: float | None, stop: Callable[[], bool] | None) -> None:
        self.started = time.perf_counter()
        self.time_limit = time_limit
        self.stop = stop

    def seconds(self) -> float:
        """Seconds since the clock started."""
        return time.perf_counter() - self.started

    def expired(self) -> bool:
        """Whether the time limit has passed or ``stop`` asks to end."""
        if self.time_limit is not None and self.seconds() >= self.time_limit:
            return True
        return self.stop is not None and bool(self.stop())


def frozen(array: np.ndarray) -> np.ndarray:
    """A read-only float64 copy of ``array`` (the penalties and multipliers results hold)."""
    out = np.array(array, dtype=np.float64)
    out.setflags(write=False)
    return out
