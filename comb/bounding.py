"""The proven bound of a :func:`hybridsolve.comb.solve` run, computed beside its heuristic.

:data:`BOUNDS` gives each instance type its bound from :mod:`hybridsolve.comb.bounds`: a
lower bound for the minimisation problems (TSP, ATSP, CVRP, SMTT), an upper bound for the
maximisation ones (KP, MIS, OP).

* The *iterative* bounds (TSP Held-Karp, CVRP LP, MIS Lagrangian, OP LP, SMTT
  time-indexed Lagrangian) run in a
  background thread that :class:`BoundRun` starts right before the heuristic. With a time
  limit they get the heuristic's limit and are stopped, through their ``stop`` callable, as
  soon as the heuristic returns; without one they run to their own end, so that the bound,
  like the answer, depends only on the instance and the seed, but for at most
  :data:`UNTIMED_SECONDS`. The bound kernels and the heuristics' Numba kernels release the
  GIL (``nogil=True``), so the thread runs on another core beside the heuristic, which
  returns to Python only between its chunks of about 50 ms; on one core the two share it.
* The *closed-form* bounds (ATSP assignment, KP Martello-Toth) are
  computed by :meth:`BoundRun.finish`, after the heuristic, outside its time limit: at
  most a few seconds (an ``n x n`` assignment, about 0.3 s for 2000 nodes).

The bound starts with the heuristic, before it has an answer, so the bounds that take a
known solution's cost (``upper`` of Held-Karp, ``lower`` of the MIS bound) compute their
own default (a nearest-neighbour tour, a greedy independent set).
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable
from typing import Any

from .bounds import (
    assignment_bound,
    cvrp_bound,
    held_karp,
    kp_bound,
    mis_bound,
    op_bound,
    smtt_bound,
)
from .graphs import MIS
from .knapsack import KP
from .routing import ATSP, CVRP, OP, TSP
from .scheduling import SMTT

__all__ = ["BOUNDS", "UNTIMED_SECONDS", "BoundRun"]

#: Wall-clock seconds an iterative bound may run when :func:`hybridsolve.comb.solve` has no
#: time limit (Held-Karp usually ends sooner: it converges in about 0.3 s for 1000 cities and
#: 3 s for 5000; the CVRP LP of a few hundred customers often does not); a bound cut by this
#: cap may vary from run to run.
UNTIMED_SECONDS = 10.0

#: Each instance type's bound function and whether it is iterative (run in a thread).
BOUNDS: dict[type, tuple[Callable[..., Any], bool]] = {
    TSP: (held_karp, True),
    CVRP: (cvrp_bound, True),
    MIS: (mis_bound, True),
    OP: (op_bound, True),
    ATSP: (assignment_bound, False),
    KP: (kp_bound, False),
    SMTT: (smtt_bound, True),
}


class BoundRun:
    """The bound of one instance: a thread for an iterative bound, a call for a closed form.

    Parameters
    ----------
    instance : TSP, ATSP, CVRP, OP, KP, MIS or SMTT
        The instance.
    time_limit : float, optional
        The heuristic's time limit, also the iterative bound's (``None``: the bound runs
        to its own end, for at most :data:`UNTIMED_SECONDS`).
    seed : int
        Passed to the bounds that draw (Held-Karp's first nearest-neighbour node).

    Attributes
    ----------
    function : callable
        The bound function (:data:`BOUNDS`).
    result : object or None
        What it returned (:class:`~hybridsolve.comb.bounds.HeldKarp`, ...: its iterations,
        seconds, ...), once :meth:`finish` has returned.
    latest : float or None
        The best bound found so far: an iterative bound's as it improves (through its
        ``progress`` callable), a closed form's once :meth:`finish` has computed it.
    """

    def __init__(self, instance: Any, time_limit: float | None, seed: int) -> None:
        self.instance = instance
        self.function, iterative = BOUNDS[type(instance)]
        self._options: dict[str, Any] = {}
        accepted = inspect.signature(self.function).parameters
        if "seed" in accepted:
            self._options["seed"] = seed
        if "progress" in accepted:
            self._options["progress"] = self._found
        self.latest: float | None = None
        self._timed = time_limit is not None
        self.result: Any = None
        self._error: BaseException | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if iterative:
            limit = UNTIMED_SECONDS if time_limit is None else time_limit
            self._thread = threading.Thread(
                target=self._run, args=(limit,), name=self.function.__name__, daemon=True
            )
            self._thread.start()

    def _found(self, bound: float) -> None:
        """The bound's ``progress``: keep its latest value (one assignment, atomic)."""
        self.latest = float(bound)

    def _run(self, time_limit: float) -> None:
        """The thread's work; an error is kept for :meth:`finish` to raise."""
        try:
            self.result = self.function(
                self.instance, time_limit=time_limit, stop=self._stop.is_set, **self._options
            )
        except BaseException as exc:  # handed to the caller's thread by finish()
            self._error = exc

    def finish(self) -> tuple[float, str]:
        """The bound, once the heuristic has returned.

        An iterative bound under a time limit is asked to stop (it ends after its current
        step: a 1-tree, an LP solve) and joined; without a time limit it is joined as it
        runs to its own end. A closed-form bound is computed now.

        Returns
        -------
        tuple of (float, str)
            The bound, and its method: the bound function's name, followed by the
            relaxation it used where it says (``"cvrp_bound:lp"``, ``"smtt_bound:sorted"``).

        Raises
        ------
        Exception
            What the bound raised.
        """
        if self._thread is None:
            self.result = self.function(self.instance, **self._options)
        else:
            if self._timed:
                self._stop.set()
            self._thread.join()
            if self._error is not None:
                raise self._error
        self.latest = float(self.result.bound)
        method = self.function.__name__
        detail = getattr(self.result, "method", None)
        if detail is not None:
            method = f"{method}:{detail}"
        return self.latest, method

    def abort(self) -> None:
        """Ask a running bound to stop, without waiting (the heuristic failed)."""
        self._stop.set()
