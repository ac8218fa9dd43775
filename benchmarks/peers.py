"""External peers for benchmark sweeps: what users would run instead of hybridsolve.

A peer is a function ``peer(problem, *, time_limit, seed, path) -> Result``: ``path`` is the
instance's model file when it has one (``None`` for an instance generated in memory). The
worker certifies whatever a peer returns with :func:`hybridsolve.mip.check`.

- ``scip-raw``: SCIP with default settings on the model as SCIP's own file reader loads it
  (``Model.readProblem``), which is what a plain ``pyscipopt`` user runs; only the time
  limit, the seed and one thread are set. Compared with the ``scip`` solver it differs in
  the variable order SCIP's reader produces, which changes SCIP's search.
- ``balans``: Balans 2.2 (Cai, Kadıoğlu & Dilkina, IJCAI 2025; PyPI ``balans``, not a
  hybridsolve dependency) with its default configuration, SCIP underneath, stopped after
  the time limit. Its answer is mapped back to the model by variable name and its objective
  recomputed from the solution in the model's own sense (Balans 2.2 can misreport the
  objective offset); the trajectory is Balans's per-iteration objectives, shifted by the
  same correction and timed from the end of the run backwards with ALNS's iteration
  runtimes (Balans does not time its first solve separately). Balans's own ``MaxRuntime``
  starts counting only when its ALNS loop starts, after the first solve, so the peer stops
  the loop at a wall-clock deadline ``time_limit`` after the call instead (the global
  deadline Balans sets for its sub-MIPs is the same). Seed ``s`` runs Balans with
  seed ``s + 1``: Balans 2.2 fails on seed 0. Limits under 10 s give Balans's first solve
  half the limit, as Balans refuses a total limit below its 10 s first-solve default.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyscipopt
from alns.stop import MaxRuntime

from hybridsolve.mip import Limit, Problem, Result, ScipBackend, Status, UsageError, check, write
from hybridsolve.mip import solve as solve_with

__all__ = ["PEERS", "ScipFileBackend", "balans", "scip_raw"]


@contextlib.contextmanager
def _model_file(problem: Problem, path: str | None) -> Iterator[str]:
    """``path``, or a temporary MPS file of ``problem`` when there is none."""
    if path is not None:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="hybridsolve-peer-") as scratch:
        yield str(write(problem, Path(scratch) / "model.mps"))


class ScipFileBackend(ScipBackend):
    """The SCIP backend on a model read by SCIP's own reader from ``path``.

    Parameters
    ----------
    path : str or pathlib.Path
        Model file that holds the same model as the :class:`Problem` being solved.
    """

    name = "scip-raw"

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self._path = str(path)

    def build(self, problem: Problem) -> tuple[pyscipopt.Model, list[pyscipopt.Variable]]:
        """Read the file with SCIP and list its variables in the problem's order."""
        model = pyscipopt.Model()
        model.hideOutput()
        model.readProblem(self._path)
        by_name = {var.name: var for var in model.getVars()}
        return model, [by_name[name] for name in problem.var_names]


def scip_raw(problem: Problem, *, time_limit: float, seed: int, path: str | None) -> Result:
    """Solve with SCIP's defaults on the model as SCIP reads it from the file.

    An instance without a file is written to a temporary MPS file first.
    """
    with _model_file(problem, path) as file:
        return solve_with(problem, ScipFileBackend(file), time_limit=time_limit, seed=seed)


class _Deadline(MaxRuntime):
    """An ALNS stopping criterion at a fixed wall-clock time (``perf_counter`` seconds)."""

    def __init__(self, seconds: float, started: float) -> None:
        super().__init__(seconds)
        self._end = started + seconds

    def __call__(self, rng, best, current) -> bool:
        return time.perf_counter() >= self._end


def balans(problem: Problem, *, time_limit: float, seed: int, path: str | None) -> Result:
    """Run Balans 2.2 with its default configuration for ``time_limit`` seconds.

    Raises
    ------
    UsageError
        When the ``balans`` package is not installed.
    """
    try:
        from balans.solver import Balans
    except ImportError:
        raise UsageError("the balans peer needs the balans package: pip install balans") from None
    start = time.perf_counter()
    with _model_file(problem, path) as file:
        short = {"timelimit_first_solution": time_limit / 2} if time_limit < 10 else {}
        solver = Balans(seed=seed + 1, stop=_Deadline(time_limit, start), **short)
        with contextlib.redirect_stdout(io.StringIO()):
            outcome = solver.solve(file)
        runtime = time.perf_counter() - start
        if outcome is None:
            return Result(Status.NO_SOLUTION, runtime=runtime, solver="balans", limit=Limit.TIME)
        reader = pyscipopt.Model()
        reader.hideOutput()
        reader.readProblem(file)
        name_of = {var.getIndex(): var.name for var in reader.getVars()}
    # Balans's own auxiliary variables (added by some operators) are not the model's.
    solution = outcome.best_state.solution().items()
    values = {name_of[index]: value for index, value in solution if index in name_of}
    x = np.array([values[name] for name in problem.var_names], dtype=np.float64)
    certificate = check(problem, x)
    reported = np.asarray(outcome.statistics.objectives, dtype=np.float64)
    best_reported = reported.max() if problem.maximize else reported.min()
    shift = certificate.objective - best_reported
    ends = runtime - np.cumsum(np.asarray(outcome.statistics.runtimes)[::-1])[::-1]
    times = np.concatenate([ends, [runtime]])[-len(reported) :]
    trajectory = tuple((float(t), float(v + shift), None) for t, v in zip(times, reported))
    return Result(
        Status.FEASIBLE,
        objective=certificate.objective,
        x=x,
        runtime=runtime,
        trajectory=trajectory,
        solver="balans",
        raw_status="alns",
        limit=Limit.TIME,
        certificate=certificate,
    )


#: Peers by name.
PEERS: dict[str, Callable[..., Result]] = {"scip-raw": scip_raw, "balans": balans}
