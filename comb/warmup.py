"""Compiling a run's Numba kernels before its clock starts.

The heuristics are ``@njit(cache=True)`` kernels: the first call in a process compiles
them (seconds each with an empty Numba cache) or loads them from the cache (a fraction of
a second). Inside a time limit either would be taken from the search, and a compilation
in its last chunk would overrun the limit. So :func:`hybridsolve.comb.solve` and
:func:`hybridsolve.comb.improve` first run the method once on a *twin* of the instance,
before their :class:`~hybridsolve.comb._search.Tracker` starts.

A twin is a tiny instance of the same type and layout: the same optional arrays present
(coordinates, an explicit distance matrix), the same dtypes (integer or float knapsack
data), the same rounding rule. Instances store C-ordered read-only arrays, so the kernels
see exactly the argument types of the real run and Numba compiles (or loads) the very
specializations that run needs. Its size is ``min(size, TWIN_SIZE)``, so the Python code
around the kernels takes the same branches (small tours are enumerated, ...), and its data
are laid out for the method to reach every kernel (a twin OP fits some of its nodes, not
all; a twin SMTT has late jobs). Each combination of method, layout and options is warmed
once per process.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from dataclasses import fields
from typing import Any

import numpy as np

from hybridsolve.mip.errors import ProblemError, UsageError

from ._search import Tracker
from .graphs import MIS
from .knapsack import KP
from .routing import ATSP, CVRP, OP, TSP
from .scheduling import SMTT

__all__ = ["TWIN_SIZE", "twin", "warm_bound", "warm_improver", "warm_method"]

#: Size of a twin (nodes, customers, items or jobs) for instances at least this large.
TWIN_SIZE = 16

_warmed: set[tuple] = set()  # (type, method, layout, options) warmed in this process


def _points(rng: np.random.Generator, m: int) -> np.ndarray:
    return 100.0 * rng.random((m, 2))


def _matrix(xy: np.ndarray) -> np.ndarray:
    return np.hypot(xy[:, None, 0] - xy[None, :, 0], xy[:, None, 1] - xy[None, :, 1])


def _tsp(instance: TSP, m: int, rng: np.random.Generator) -> TSP:
    xy = _points(rng, m)
    return TSP(
        coords=None if instance.coords is None else xy,
        distances=None if instance.distances is None else _matrix(xy),
        rounding=instance.rounding,
    )


def _atsp(instance: ATSP, m: int, rng: np.random.Generator) -> ATSP:
    return ATSP(100.0 * rng.random((m, m)))


def _cvrp(instance: CVRP, m: int, rng: np.random.Generator) -> CVRP:
    xy = _points(rng, m + 1)
    return CVRP(
        coords=xy, demands=np.concatenate([[0], rng.integers(1, 4, m)]), capacity=6,
        distances=None if instance.distances is None else _matrix(xy),
        rounding=instance.rounding,
    )  # fmt: skip


def _op(instance: OP, m: int, rng: np.random.Generator) -> OP:
    # nodes on a circle of radius 40 around the depot: each fits alone, not all together
    angles = 2.0 * np.pi * np.arange(m) / max(m, 1)
    ring = 50.0 + 40.0 * np.column_stack([np.cos(angles), np.sin(angles)])
    return OP(
        coords=np.vstack([[50.0, 50.0], ring]),
        prizes=np.concatenate([[0], rng.integers(1, 10, m)]),
        max_length=100.0,
        rounding=instance.rounding,
    )


def _kp(instance: KP, m: int, rng: np.random.Generator) -> KP:
    capacity = 2 * m if isinstance(instance.capacity, int) else 2.0 * m
    return KP(
        values=rng.integers(1, 20, m).astype(instance.values.dtype),
        weights=rng.integers(1, 10, m).astype(instance.weights.dtype),
        capacity=capacity,
    )


def _mis(instance: MIS, m: int, rng: np.random.Generator) -> MIS:
    edges = [(i, (i + step) % m) for i in range(m) for step in (1, 2) if (i + step) % m != i]
    return MIS(m, np.array(edges, dtype=np.int64).reshape(-1, 2), 0.5 + rng.random(m))


def _smtt(instance: SMTT, m: int, rng: np.random.Generator) -> SMTT:
    return SMTT(rng.integers(1, 10, m), rng.integers(0, 10, m), 0.5 + rng.random(m))


_TWINS: dict[type, Callable[[Any, int, np.random.Generator], Any]] = {
    TSP: _tsp, ATSP: _atsp, CVRP: _cvrp, OP: _op, KP: _kp, MIS: _mis, SMTT: _smtt,
}  # fmt: skip

#: A starting solution of each type's local search (see ``_IMPROVERS`` in :mod:`.solve`),
#: in the checked form :func:`hybridsolve.comb.improve` hands it over.
_STARTS: dict[type, Callable[[Any], Any]] = {
    TSP: lambda tiny: np.arange(tiny.num_nodes, dtype=np.int64),
    ATSP: lambda tiny: np.arange(tiny.num_nodes, dtype=np.int64),
    CVRP: lambda tiny: tuple(np.array([c], dtype=np.int64) for c in range(1, tiny.num_nodes)),
    OP: lambda tiny: np.zeros(0, dtype=np.int64),
    KP: lambda tiny: np.zeros(0, dtype=np.int64),
}


def twin(instance: Any) -> Any:
    """A tiny instance of the type and layout of ``instance`` (its data from a fixed seed).

    Parameters
    ----------
    instance : TSP, ATSP, CVRP, OP, KP, MIS or SMTT
        The instance to mirror.

    Returns
    -------
    object
        An instance of ``min(instance.size, TWIN_SIZE)`` nodes, customers, items or jobs.
    """
    make = _TWINS[type(instance)]
    return make(instance, min(int(instance.size), TWIN_SIZE), np.random.default_rng(0))


def _layout(instance: Any) -> tuple:
    """The type, the size up to :data:`TWIN_SIZE`, array dtypes and other fields' types."""
    parts: list[Any] = [type(instance), min(int(instance.size), TWIN_SIZE)]
    for field in fields(instance):
        value = getattr(instance, field.name)
        if isinstance(value, np.ndarray):
            parts.append((field.name, value.dtype.str, value.ndim))
        elif field.name != "name":
            parts.append((field.name, type(value).__name__))
    return tuple(parts)


def _warm(key: tuple, run: Callable[[], object]) -> float:
    """Call ``run`` unless ``key`` was warmed already; the seconds it took.

    Bad options make ``run`` raise; the real call then reports them, so the error is
    swallowed here and the key is not remembered.
    """
    if key in _warmed:
        return 0.0
    began = time.perf_counter()
    try:
        run()
    except (ProblemError, UsageError):
        return time.perf_counter() - began
    _warmed.add(key)
    return time.perf_counter() - began


def _options_key(options: dict[str, Any]) -> tuple:
    return tuple(sorted((k, repr(v)) for k, v in options.items() if k != "iterations"))


def warm_method(
    instance: Any, name: str, function: Callable[..., Any], options: dict[str, Any]
) -> float:
    """Run a method of :func:`hybridsolve.comb.solve` once on the twin of ``instance``.

    Its ``iterations`` option, if it takes one, is set to 1; the others are passed on
    as given, since some choose kernels (``start``, ``or3opt``, ...).

    Parameters
    ----------
    instance : object
        The instance the real run will solve.
    name : str
        The method's name (part of what is remembered as warmed).
    function : callable
        The method, called as ``function(twin, tracker=..., seed=0, **options)``.
    options : dict
        The options of the real run.

    Returns
    -------
    float
        Seconds spent; 0 when this method, layout and options were warmed before.
    """
    options = dict(options)
    if "iterations" in inspect.signature(function).parameters:
        options["iterations"] = 1
    key = (_layout(instance), name, _options_key(options))
    return _warm(key, lambda: function(twin(instance), tracker=Tracker(), seed=0, **options))


def warm_improver(instance: Any, function: Callable[..., Any], options: dict[str, Any]) -> float:
    """Run the local search of :func:`hybridsolve.comb.improve` once on a twin.

    It starts from a trivial solution of the twin (the identity tour, one route per
    customer, the empty OP tour or knapsack).

    Parameters
    ----------
    instance : TSP, ATSP, CVRP, OP or KP
        The instance the real run will improve.
    function : callable
        The local search, called as ``function(twin, start, tracker=..., seed=0, **options)``.
    options : dict
        The options of the real run.

    Returns
    -------
    float
        Seconds spent; 0 when this layout and these options were warmed before.
    """

    def run() -> object:
        tiny = twin(instance)
        return function(tiny, _STARTS[type(tiny)](tiny), tracker=Tracker(), seed=0, **options)

    return _warm((_layout(instance), "improve", _options_key(options)), run)


def warm_bound(instance: Any, function: Callable[..., Any]) -> float:
    """Run the bound of :func:`hybridsolve.comb.solve` once on the twin of ``instance``.

    This compiles (or loads) the bound's own Numba kernels (Held-Karp's 1-trees, the CVRP
    LP's separation) and the heuristic kernels it calls (Held-Karp's nearest-neighbour
    tour). Its ``iterations``, where it takes them, is set to 1.

    Parameters
    ----------
    instance : object
        The instance whose bound the real run will compute.
    function : callable
        The bound (:data:`hybridsolve.comb.bounding.BOUNDS`), called as
        ``function(twin, **options)``.

    Returns
    -------
    float
        Seconds spent; 0 when this bound and layout were warmed before.
    """
    options = {"iterations": 1} if "iterations" in inspect.signature(function).parameters else {}
    key = (_layout(instance), "bound", function.__name__)
    return _warm(key, lambda: function(twin(instance), **options))
