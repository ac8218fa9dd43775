"""``comb.solve``: one entry point for the heuristics of every combinatorial problem type.

:data:`_METHODS` maps each instance type to its named methods, each called as
``method(instance, *, tracker, seed, **options)`` and returning the raw solution (a tour,
a list of routes, a selection or a sequence as int64 arrays). :func:`solve` picks the
method, runs it under a :class:`~hybridsolve.comb._search.Tracker`, checks the answer with
the instance's own validity check and wraps it in a frozen :class:`Solution`.

:func:`improve` runs a type's local search (:data:`_IMPROVERS`) from a given solution
instead, with the same checks and the same :class:`Solution`.

Both first compile the kernels they will run (:mod:`.warmup`), before the clock of their
time limit starts; :func:`warm_up` does that step alone.

``solve(..., bound=True)`` also computes a proven bound on the optimum
(:mod:`.bounding`, beside the heuristic or after it), stored in the :class:`Solution`
with the gap between the two.
"""

from __future__ import annotations

import importlib.metadata
import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from hybridsolve.mip.errors import ProblemError, SolverError, UsageError
from hybridsolve.mip.result import relative_gap

from . import bounding, cvrp, graphs, knapsack, op, scheduling, tsp, warmup
from ._search import Progress, Tracker
from .graphs import MIS
from .knapsack import KP
from .routing import ATSP, CVRP, OP, TSP
from .scheduling import SMTT

__all__ = ["PLUGINS", "Solution", "improve", "methods", "register_method", "solve", "warm_up"]

#: Entry-point group of packages that add methods: each entry names a function, called once
#: with no arguments the first time :func:`solve` meets a method it does not know, that
#: calls :func:`register_method` (``hybridsolve.neural`` registers ``"bq"`` this way).
PLUGINS = "hybridsolve.comb_methods"
_plugins: list[str] = []  # the entry points loaded so far

#: Methods by instance type, each from the module of its problem (:mod:`.tsp`, :mod:`.cvrp`,
#: :mod:`.op`, :mod:`.knapsack`, :mod:`.graphs`, :mod:`.scheduling`); the last one listed is
#: the default.
_METHODS: dict[type, dict[str, Callable[..., Any]]] = {
    TSP: {
        "nearest_neighbour": tsp.nearest_neighbour,
        "greedy": tsp.greedy,
        "space_filling": tsp.space_filling,
        "cheapest_insertion": tsp.cheapest_insertion,
        "farthest_insertion": tsp.farthest_insertion,
        "two_opt": tsp.two_opt,
        "or_opt": tsp.or_opt,
        "or_3opt": tsp.or_3opt,
        "ils": tsp.ils,
    },
    ATSP: {
        "nearest_neighbour": tsp.nearest_neighbour,
        "greedy": tsp.greedy,
        "cheapest_insertion": tsp.cheapest_insertion,
        "farthest_insertion": tsp.farthest_insertion,
        "or_opt": tsp.or_opt,
        "or_3opt": tsp.or_3opt,
        "ils": tsp.ils,
    },
    CVRP: {
        "savings": cvrp.savings,
        "sweep": cvrp.sweep,
        "local_search": cvrp.local_search,
        "ils": cvrp.ils,
    },
    KP: {"greedy": knapsack.kp_greedy, "dp": knapsack.kp_dp},
    MIS: {"greedy": graphs.mis_greedy, "ls": graphs.mis_ls},
    SMTT: {
        "edd": scheduling.smtt_edd,
        "mdd": scheduling.smtt_mdd,
        "wi": scheduling.smtt_wi,
        "ls": scheduling.smtt_ls,
    },
    OP: {"greedy": op.op_greedy, "ils": op.op_ils},
}

#: The methods that ship with comb, by type, in order; :func:`register_method` never replaces
#: them and the default method is the last of them.
_BUILTIN: dict[type, tuple[str, ...]] = {kind: tuple(table) for kind, table in _METHODS.items()}

#: How each type's answer is stored, checked and costed: (Solution field, check method,
#: cost method, larger is better).
_ANSWERS: dict[type, tuple[str, str, str, bool]] = {
    TSP: ("tour", "check_tour", "tour_cost", False),
    ATSP: ("tour", "check_tour", "tour_cost", False),
    CVRP: ("routes", "check_routes", "routes_cost", False),
    OP: ("tour", "check_tour", "tour_prize", True),
    KP: ("selection", "check_selection", "value", True),
    MIS: ("selection", "check_independent", "weight", True),
    SMTT: ("sequence", "check_sequence", "tardiness", False),
}

#: Local searches from a given solution, by instance type, each called as
#: ``improver(instance, solution, *, tracker, seed, **options)`` with the checked solution in
#: the form of :data:`_ANSWERS` (its parameter named after the :class:`Solution` field).
_IMPROVERS: dict[type, Callable[..., Any]] = {
    TSP: tsp.improve,
    ATSP: tsp.improve,
    CVRP: cvrp.improve,
    OP: op.op_improve,
    KP: knapsack.kp_improve,
}


def _listed(value: np.ndarray | tuple[np.ndarray, ...] | None):
    if value is None:
        return None
    if isinstance(value, tuple):
        return [part.tolist() for part in value]
    return value.tolist()


@dataclass(frozen=True, repr=False, eq=False)
class Solution:
    """A checked answer of :func:`solve`.

    Attributes
    ----------
    instance : object
        The instance solved.
    method : str
        The method that produced it.
    cost : float
        Its cost under the instance's own cost function: tour length, total route length,
        total tardiness; for maximisation problems the value collected (OP prize, knapsack
        value, independent set weight).
    runtime : float
        Wall-clock seconds of the method.
    seed : int
        The seed it ran with.
    tour : numpy.ndarray or None
        TSP/ATSP: a permutation of the nodes; OP: the visited nodes without the depot.
    routes : tuple of numpy.ndarray or None
        CVRP: one array of customers per route, the depot (0) implied at both ends.
    selection : numpy.ndarray or None
        Knapsack: chosen items; independent set: chosen nodes.
    sequence : numpy.ndarray or None
        Total tardiness: the job order.
    trajectory : tuple of (float, float)
        ``(seconds, cost)`` at each improvement the method recorded.
    maximize : bool
        Whether a larger cost is better.
    bound : float or None
        A proven bound on the optimum (``solve(..., bound=True)``), in the cost's units: a
        lower bound when smaller is better (TSP, ATSP, CVRP, SMTT), an upper bound when
        larger is (OP, KP, MIS); ``None`` when none was computed.
    bound_method : str or None
        The bound's function in :mod:`hybridsolve.comb.bounds`, followed by the relaxation
        it used where it says (``"held_karp"``, ``"cvrp_bound:lp"``).
    """

    instance: Any
    method: str
    cost: float
    runtime: float
    seed: int = 0
    tour: np.ndarray | None = None
    routes: tuple[np.ndarray, ...] | None = None
    selection: np.ndarray | None = None
    sequence: np.ndarray | None = None
    trajectory: tuple[tuple[float, float], ...] = ()
    maximize: bool = False
    bound: float | None = None
    bound_method: str | None = None

    def gap(self, reference: float | None = None) -> float | None:
        """Relative gap to a reference value, or to the proven bound without one.

        Parameters
        ----------
        reference : float, optional
            A reference cost (a best known one): the gap is
            ``(cost - reference) / |reference|`` (reversed for maximisation), positive when
            worse than it; ``0`` when both are zero and ``inf`` when only the reference is.

        Returns
        -------
        float or None
            With a reference, the gap to it. Without one, the gap to :attr:`bound` as the
            MIP results measure theirs (:func:`hybridsolve.mip.result.relative_gap`):
            ``|cost - bound| / max(|cost|, 1e-10)``, the share of the cost the optimum may
            still be below it (above it for maximisation); 0 when both are 0, and very
            large when only the cost is. ``None`` without a bound.
        """
        if reference is None:
            return relative_gap(self.cost, self.bound)
        diff = (reference - self.cost) if self.maximize else (self.cost - reference)
        if reference == 0:
            return 0.0 if diff == 0 else math.inf
        return diff / abs(reference)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields (instance described by its type, name and size).

        With a bound, ``lower_bound`` (minimisation) or ``upper_bound`` (maximisation),
        ``bound_method`` and ``gap`` (:meth:`gap` without a reference) follow ``cost``.
        """
        out: dict[str, Any] = {
            "problem": type(self.instance).__name__,
            "name": getattr(self.instance, "name", ""),
            "size": int(self.instance.size),
            "method": self.method,
            "cost": self.cost,
        }
        if self.bound is not None:
            out["upper_bound" if self.maximize else "lower_bound"] = self.bound
            out["bound_method"] = self.bound_method
            out["gap"] = self.gap()
        out["runtime"] = self.runtime
        out["seed"] = self.seed
        for field in ("tour", "routes", "selection", "sequence"):
            value = getattr(self, field)
            if value is not None:
                out[field] = _listed(value)
        out["trajectory"] = [list(point) for point in self.trajectory]
        return out

    def summary(self) -> str:
        """One line for people."""
        what = type(self.instance).__name__
        extra = f", {len(self.routes)} routes" if self.routes is not None else ""
        if self.bound is not None:
            extra += f", bound {self.bound:.10g}, gap {100 * self.gap():.3f}%"
        return (
            f"{what} {getattr(self.instance, 'name', '') or ''} size {self.instance.size}: "
            f"{self.method} cost {self.cost:.10g}{extra} in {self.runtime:.3f} s"
        ).replace("  ", " ")

    def __repr__(self) -> str:
        return (
            f"Solution({type(self.instance).__name__}, method={self.method!r}, "
            f"cost={self.cost:.10g}, runtime={self.runtime:.3f})"
        )


def methods(instance_or_type: Any, *, registered: bool = False) -> tuple[str, ...]:
    """Names of the methods :func:`solve` knows for an instance (or instance type).

    Parameters
    ----------
    instance_or_type : object or type
        An instance, or its type.
    registered : bool, default False
        Also list the methods added with :func:`register_method` (after the built-in ones).
        They are left out by default because they may need more than the instance to run
        (the ``"bq"`` policy needs trained weights).
    """
    kind = instance_or_type if isinstance(instance_or_type, type) else type(instance_or_type)
    if registered:
        _load_plugins()
        return tuple(_METHODS.get(kind, {}))
    return _BUILTIN.get(kind, ())


def register_method(kind: type, name: str, function: Callable[..., Any]) -> None:
    """Add a method for one instance type, so that :func:`solve` can run it by name.

    This is how solvers outside :mod:`hybridsolve.comb` (the neural policies) plug in
    without comb importing them. Registering a name again replaces the earlier
    registration; the built-in methods cannot be replaced and stay the default.

    Parameters
    ----------
    kind : type
        An instance type that :func:`solve` knows (``TSP``, ``CVRP``, ...).
    name : str
        The method's name, a Python identifier.
    function : callable
        Called as ``function(instance, *, tracker, seed, **options)``; it returns the raw
        answer (a tour, routes, ...), which :func:`solve` checks and costs. Its other
        keyword parameters are the method's options.

    Raises
    ------
    UsageError
        An unknown type, a bad or built-in name, or a function without the ``tracker`` and
        ``seed`` keyword parameters.
    """
    if not isinstance(kind, type) or kind not in _METHODS:
        known = ", ".join(sorted(t.__name__ for t in _METHODS))
        raise UsageError(f"register_method: no methods for {kind!r}; types: {known}")
    if not isinstance(name, str) or not name.isidentifier():
        raise UsageError(f"register_method: method names are identifiers, got {name!r}")
    if name in _BUILTIN[kind]:
        raise UsageError(f"register_method: {name!r} is a built-in {kind.__name__} method")
    if not callable(function):
        raise UsageError(f"register_method: {name!r} needs a callable, got {function!r}")
    parameters = inspect.signature(function).parameters
    missing = [p for p in ("tracker", "seed") if p not in parameters]
    if missing or len(parameters) < 3:
        raise UsageError(
            f"register_method: {name!r} must take (instance, *, tracker, seed, **options)"
        )
    _METHODS[kind][name] = function


def _load_plugins() -> None:
    """Let the installed plug-ins (entry-point group :data:`PLUGINS`) register their methods."""
    for entry in importlib.metadata.entry_points(group=PLUGINS):
        if entry.name not in _plugins:
            _plugins.append(entry.name)
            entry.load()()


def solve(
    instance: Any,
    method: str | None = None,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    progress: Progress | None = None,
    bound: bool = False,
    **options: Any,
) -> Solution:
    """Run a heuristic on a combinatorial instance and return its checked solution.

    Parameters
    ----------
    instance : TSP, ATSP, CVRP, OP, KP, MIS or SMTT
        The instance.
    method : str, optional
        A name from ``methods(instance, registered=True)``; by default the last
        (strongest) built-in one, for the routing problems ``"ils"``. Methods added with
        :func:`register_method` run by name only (``hybridsolve.neural`` adds ``"bq"`` for
        the TSP through :data:`PLUGINS`).
    time_limit : float, optional
        Wall-clock seconds for the search. Without it the iterative methods stop after a
        number of iterations (an ``iterations`` option where they take one) and the
        answer depends only on the seed.
    seed : int
        Seed of every random choice.
    progress : callable, optional
        Called as ``progress(seconds, cost)`` at each recorded improvement. With
        ``bound=True``, as ``progress(seconds, cost, bound)``, ``bound`` the best proven
        bound so far (``None`` before the first); then also when the bound alone improves,
        at most every :data:`~hybridsolve.comb._search.BOUND_LINE_SECONDS` during the
        search, and once more with its final value if that is new.
    bound : bool, default False
        Also compute a proven bound on the optimum (:mod:`hybridsolve.comb.bounds`;
        :mod:`hybridsolve.comb.bounding` says when): TSP Held-Karp, CVRP LP, MIS and OP
        bounds in a thread beside the heuristic, under its time limit and stopped when it
        returns (without a time limit they run to their own end, for at most
        :data:`~hybridsolve.comb.bounding.UNTIMED_SECONDS`); ATSP, KP and SMTT closed forms
        after it, outside its time limit.
    **options
        Method options, such as ``iterations``, ``k`` (neighbour list length) or
        ``start`` (construction); see each method's docstring.

    Returns
    -------
    Solution
        Checked with the instance's own check (``check_tour``, ``check_routes``, ...).
        Its ``runtime`` and trajectory count from the start of the search; with
        ``bound=True`` it holds the bound (``bound``, ``bound_method``, ``gap()``).

    Raises
    ------
    UsageError
        On an unknown instance type, method or option, a non-positive time limit or a
        seed that is not an integer.
    SolverError
        When a method returns an answer the instance's check refuses (a bug).

    Notes
    -----
    The built-in methods run Numba-compiled kernels. Before the clock of ``time_limit``
    starts, :func:`warm_up` compiles those the method needs (or loads them from Numba's
    cache, next to the modules), by running it once on a tiny instance of the same
    layout: the first call in a process may take several seconds longer than
    ``time_limit`` with an empty cache, but its search gets the whole limit, as later
    calls do. With ``bound=True`` the bound's kernels are compiled the same way, for any
    method.
    """
    name, function = _method(instance, method, options)
    _check_limits(time_limit, seed)
    kind = type(instance)
    if name in _BUILTIN[kind]:
        warmup.warm_method(instance, name, function, options)
    if bound:
        warmup.warm_bound(instance, bounding.BOUNDS[kind][0])
    bounder = bounding.BoundRun(instance, time_limit, int(seed)) if bound else None
    latest = None if bounder is None else (lambda: bounder.latest)
    tracker = Tracker(time_limit, progress, maximize=_ANSWERS[kind][3], bound=latest)
    try:
        answer = function(instance, tracker=tracker, seed=int(seed), **options)
        runtime = tracker.elapsed()
        try:
            answer, cost = _answer(instance, answer)
        except ProblemError as exc:
            raise SolverError(f"method {name!r} returned an invalid solution: {exc}") from None
    except BaseException:
        if bounder is not None:
            bounder.abort()  # without waiting: it ends after its current step
        raise
    proven = (None, None) if bounder is None else bounder.finish()
    tracker.poll(final=True)
    return _solution(instance, name, answer, cost, runtime, tracker, int(seed), proven)


def improve(
    instance: Any,
    solution: Any,
    *,
    time_limit: float | None = None,
    seed: int = 0,
    **options: Any,
) -> Solution:
    """Improve a given solution by local search and return the checked result.

    The search starts from ``solution`` itself:

    * TSP: 2-opt and Or-opt with neighbour lists and don't-look bits (the moves of the
      ``"or_opt"`` method); ATSP: Or-opt and or3opt segment swaps
      (:func:`hybridsolve.comb.tsp.improve`);
    * CVRP: the granular local search of the ``"local_search"`` method: relocate, swap,
      2-opt* and 2-opt (:func:`hybridsolve.comb.cvrp.improve`);
    * OP: the local search of the ``"ils"`` method: 2-opt, greedy insertion and drop/add
      exchanges (:func:`hybridsolve.comb.op.op_improve`);
    * KP: items that still fit by decreasing value per weight, then value-raising 1-1
      exchanges (:func:`hybridsolve.comb.knapsack.kp_improve`).

    The result is never worse than ``solution``: when the search does not beat it, the
    given solution itself is returned.

    Parameters
    ----------
    instance : TSP, ATSP, CVRP, OP or KP
        The instance.
    solution : array_like or sequence of array_like
        The starting solution in the form :class:`Solution` stores it: a tour (TSP, ATSP;
        for the OP the visited nodes without the depot), a list of routes of customers
        without the depot (CVRP) or the chosen items (KP).
    time_limit : float, optional
        Wall-clock seconds; checked between passes of the search, which otherwise runs to
        a local optimum.
    seed : int
        Order in which the TSP, ATSP and CVRP searches first examine the nodes (the OP
        and KP searches are deterministic).
    **options
        ``k`` (neighbour list length) for the TSP, ATSP and CVRP; ``or3opt`` (add or3opt
        segment swaps; default only for the ATSP) for the TSP and ATSP.

    Returns
    -------
    Solution
        Method ``"improve"``; its trajectory starts with the cost of ``solution``. The
        kernels are compiled before the clock starts, as in :func:`solve`.

    Raises
    ------
    ProblemError
        When ``solution`` fails the instance's own check (``check_tour``,
        ``check_routes``, ``check_selection``).
    UsageError
        On another instance type, an unknown option, a non-positive time limit or a seed
        that is not an integer.
    SolverError
        When the search returns an answer the instance's check refuses (a bug).
    """
    kind = type(instance)
    if kind not in _IMPROVERS:
        known = ", ".join(sorted(t.__name__ for t in _IMPROVERS))
        raise UsageError(f"improve has no local search for {kind.__name__}; it takes {known}")
    _check_limits(time_limit, seed)
    function = _IMPROVERS[kind]
    field, _, _, maximize = _ANSWERS[kind]
    _check_options(function, f"improve for {kind.__name__}", options,
                   ("instance", field, "tracker", "seed"))  # fmt: skip
    warmup.warm_improver(instance, function, options)
    tracker = Tracker(time_limit, maximize=maximize)
    try:
        start, start_cost = _answer(instance, solution)
    except ProblemError as exc:
        raise ProblemError(f"improve: invalid start {field} for {kind.__name__}: {exc}") from None
    tracker.record(start_cost)
    answer = function(instance, start, tracker=tracker, seed=int(seed), **options)
    runtime = tracker.elapsed()
    try:
        answer, cost = _answer(instance, answer)
    except ProblemError as exc:
        raise SolverError(f"improve returned an invalid solution: {exc}") from None
    if (cost < start_cost) if maximize else (cost > start_cost):
        answer, cost = start, start_cost
    return _solution(instance, "improve", answer, cost, runtime, tracker, int(seed))


def warm_up(
    instance: Any, method: str | None = None, *, bound: bool = False, **options: Any
) -> float:
    """Compile the kernels that ``solve(instance, method, bound=bound, **options)`` will run.

    :func:`solve` does this itself before its clock starts; calling it first only moves
    the wait (the command line does, to report it). The method runs once on a tiny
    instance of the same type and layout (:func:`hybridsolve.comb.warmup.twin`), which
    makes Numba compile, or load from its cache, the kernels with the argument types of
    the real run. Each method, layout and set of options is warmed once per process.

    Parameters
    ----------
    instance : TSP, ATSP, CVRP, OP, KP, MIS or SMTT
        The instance to be solved.
    method : str, optional
        As for :func:`solve`.
    bound : bool, default False
        Also compile the kernels of the instance's bound, as :func:`solve` does with
        ``bound=True`` (once per layout, for any method).
    **options
        The method options of the run (``start``, ``k``, ...; ``iterations`` does not
        matter).

    Returns
    -------
    float
        Seconds spent: several with an empty Numba cache, a fraction of one when the
        kernels come from the cache, 0 when already warmed (and for methods added with
        :func:`register_method`, which are not warmed, bound aside).

    Raises
    ------
    UsageError
        On an unknown instance type, method or option.
    """
    name, function = _method(instance, method, options)
    seconds = 0.0
    if name in _BUILTIN[type(instance)]:
        seconds += warmup.warm_method(instance, name, function, options)
    if bound:
        seconds += warmup.warm_bound(instance, bounding.BOUNDS[type(instance)][0])
    return seconds


def _method(
    instance: Any, method: str | None, options: dict[str, Any]
) -> tuple[str, Callable[..., Any]]:
    """The name and function of a method for ``instance``, its options checked.

    Raises
    ------
    UsageError
        On an unknown instance type, method or option.
    """
    kind = type(instance)
    if kind not in _METHODS:
        known = ", ".join(sorted(t.__name__ for t in _METHODS))
        raise UsageError(f"no heuristics for {kind.__name__}; solve takes {known}")
    table = _METHODS[kind]
    name = _BUILTIN[kind][-1] if method is None else method
    if name not in table:
        _load_plugins()
    if name not in table:
        raise UsageError(
            f"unknown method {name!r} for {kind.__name__}; choose from {', '.join(table)}"
        )
    function = table[name]
    _check_options(function, f"method {name!r}", options, ("instance", "tracker", "seed"))
    return name, function


def _check_limits(time_limit: float | None, seed: int) -> None:
    """Refuse a time limit that is not a positive number and a seed that is not an integer."""
    if time_limit is not None and (
        isinstance(time_limit, bool)
        or not isinstance(time_limit, (int, float))
        or not time_limit > 0
    ):
        raise UsageError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise UsageError(f"seed must be an integer, got {seed!r}")


def _check_options(
    function: Callable[..., Any], what: str, options: dict[str, Any], fixed: tuple[str, ...]
) -> None:
    """Refuse options that are not parameters of ``function`` besides the ``fixed`` ones."""
    accepted = [p for p in inspect.signature(function).parameters if p not in fixed]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        allowed = ", ".join(accepted) or "none"
        raise UsageError(f"{what} has no option {unknown[0]!r} (options: {allowed})")


def _answer(instance: Any, raw: Any) -> tuple[np.ndarray | tuple[np.ndarray, ...], float]:
    """A raw answer checked with the instance's own check, as int64 arrays, and its cost.

    Raises
    ------
    ProblemError
        From the check.
    """
    field, check, cost_of, _ = _ANSWERS[type(instance)]
    getattr(instance, check)(raw)
    if field == "routes":
        answer = tuple(np.asarray(route, dtype=np.int64) for route in raw)
    else:
        answer = np.asarray(raw, dtype=np.int64)
    return answer, float(getattr(instance, cost_of)(answer))


def _solution(
    instance: Any, method: str, answer: np.ndarray | tuple[np.ndarray, ...], cost: float,
    runtime: float, tracker: Tracker, seed: int,
    proven: tuple[float | None, str | None] = (None, None),
) -> Solution:  # fmt: skip
    """The :class:`Solution`, its trajectory closed by ``cost`` unless it was recorded last.

    ``proven`` is the bound and its method (:meth:`bounding.BoundRun.finish`), if any.
    """
    field, _, _, maximize = _ANSWERS[type(instance)]
    trajectory = list(tracker.trajectory)
    best = tracker.best
    tol = 1e-9 * max(1.0, abs(cost))
    if best is None or abs(best - cost) > tol:
        trajectory.append((runtime, cost))
    return Solution(
        instance=instance, method=method, cost=cost, runtime=runtime, seed=seed,
        trajectory=tuple(trajectory), maximize=maximize, bound=proven[0],
        bound_method=proven[1], **{field: answer},
    )  # fmt: skip
