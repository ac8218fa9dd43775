"""The solver registry behind :func:`hybridsolve.solve`.

A solver is any factory returning a :class:`hybridsolve.mip.Backend`. Packages that add
solvers (``lns``, neural-guided variants, external peers) call :func:`register`; ``mip``
itself knows only SCIP and HiGHS.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from hybridsolve.mip import BACKENDS, Backend, Problem, Result, UsageError
from hybridsolve.mip import solve as _solve_with

__all__ = ["BRANCHING_SOLVERS", "available", "register", "solve"]

#: The solvers a learned branching rule can drive (SCIP, and the LNS's SCIP tree arm).
BRANCHING_SOLVERS = ("scip", "lns")


def _lns() -> Backend:
    """The LNS meta-solver, imported on first use (alns and mabwiser load slowly)."""
    from hybridsolve.lns import LnsBackend

    return LnsBackend()


_REGISTRY: dict[str, Callable[[], Backend]] = {**BACKENDS, "lns": _lns}


def register(name: str, factory: Callable[[], Backend], *, replace: bool = False) -> None:
    """Make a solver available to :func:`solve` and the command line under ``name``.

    Parameters
    ----------
    name : str
        Solver name, e.g. ``"lns"``.
    factory : callable
        Returns a fresh :class:`hybridsolve.mip.Backend` for each solve.
    replace : bool
        Allow replacing an existing registration.

    Raises
    ------
    UsageError
        When ``name`` is taken and ``replace`` is false.
    """
    if name in _REGISTRY and not replace:
        raise UsageError(f"solver {name!r} is already registered")
    _REGISTRY[name] = factory


def available() -> list[str]:
    """Registered solver names."""
    return list(_REGISTRY)


def solve(problem: Problem | str | os.PathLike, solver: str = "scip", **kwargs: Any) -> Result:
    """Solve a model or an MPS/LP file with a registered solver.

    Parameters
    ----------
    problem : Problem, str or os.PathLike
        Model or file path.
    solver : str
        A name from :func:`available`.
    **kwargs
        ``time_limit``, ``mip_rel_gap``, ``threads``, ``seed``, ``warm_start``,
        ``callback``, ``log``, ``options``, ``progress``, ``hints``: see
        :func:`hybridsolve.mip.solve`. ``hints`` may also be a string: ``"forge"`` (the
        shipped hint model, :mod:`hybridsolve.neural.hints`), ``"forge:NAME_OR_PATH"``
        (other hint weights) or a weights name or file; the model predicts once the
        problem is read, inside the time limit, and a model it does not fit is solved
        without hints after one warning. ``branching`` (``scip``, or ``lns`` for its
        tree arm): ``"gnn"`` (the shipped learned branching rule,
        :mod:`hybridsolve.neural.branching`) or ``"gnn:NAME_OR_PATH"``, installed as a
        SCIP plugin beside any in ``plugins``; a model it cannot apply to is branched by
        SCIP's own rule after one warning. For ``lns``, ``options["context"]`` may be
        ``"forge[:NAME_OR_PATH]"``: a contextual bandit policy (``linucb``, ``lints``) then
        sees the instance's FORGE embedding (:func:`hybridsolve.neural.forge.context_source`).
        ``time_limit`` counts from this call, the import of a solver loaded on first use
        included.

    Returns
    -------
    Result

    Raises
    ------
    UsageError
        Unknown solver name or bad argument.
    InputError
        Unreadable input file.
    """
    if solver not in _REGISTRY:
        raise UsageError(f"unknown solver {solver!r}; choose from {', '.join(_REGISTRY)}")
    start = time.perf_counter()
    if isinstance(kwargs.get("hints"), str):
        from hybridsolve.neural.hints import hint_source

        kwargs["hints"] = hint_source(kwargs["hints"])
    options = kwargs.get("options") or {}
    if solver == "lns" and isinstance(options.get("context"), str):
        from hybridsolve.neural.forge import context_source

        kwargs["options"] = {**options, "context": context_source(options["context"])}
    branching = kwargs.pop("branching", None)
    if branching is not None:
        if solver not in BRANCHING_SOLVERS:
            raise UsageError(f"learned branching needs the scip solver (or lns), not {solver!r}")
        from hybridsolve.neural.branching import plugin

        kwargs["plugins"] = (*kwargs.get("plugins", ()), plugin(branching))
    backend = _REGISTRY[solver]()
    limit = kwargs.get("time_limit")
    if isinstance(limit, (int, float)) and limit > 0:  # the solver's import counts too
        kwargs["time_limit"] = max(limit - (time.perf_counter() - start), 1e-3)
    return _solve_with(problem, backend, **kwargs)
