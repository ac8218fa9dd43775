"""One benchmark run in its own process: ``python -m hybridsolve.benchmarks.worker``.

The runner writes a :class:`Task` as JSON to the worker's stdin; the worker loads the
instance (reading its file or generating it from its distribution), runs the solver with
one thread, certifies the answer itself with :func:`hybridsolve.mip.check`, and prints one
line ``RESULT {json}`` on stdout. Any error becomes a record with status ``error``; a
process that dies or hangs is recorded by the runner (``crashed`` / ``timeout``).

Solvers are resolved in this order: a ``module:function`` name (a plug-in, called as
``function(problem, time_limit=..., seed=..., path=...)`` and returning a
:class:`hybridsolve.mip.Result`), a peer of :mod:`hybridsolve.benchmarks.peers`, or a name
registered with :func:`hybridsolve.register` (``scip``, ``highs``, ``lns``, ...), each
optionally guided (:func:`guided_options`).
"""

from __future__ import annotations

import importlib
import json
import socket
import sys
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from typing import Any

__all__ = ["MARKER", "Task", "main", "record_of", "run_task"]

#: Prefix of the worker's result line on stdout.
MARKER = "RESULT "


@dataclass(frozen=True)
class Task:
    """One (instance, solver, seed) run to do.

    Attributes
    ----------
    collection, instance : str
        Collection label and instance name.
    solver : str
        Solver name (see the module docstring).
    seed : int
        Solver seed.
    time_limit : float
        Wall-clock limit in seconds.
    path : str or None
        Model file; ``None`` for an instance generated from ``generate``.
    generate : list or None
        ``[distribution, split, index, base_seed]`` of a registered distribution.
    reference : float or None
        Best known objective, when known.
    bandit_state : str or None
        State file of the LNS bandit for ``lns+warm``: read at the start of the run when it
        exists, written back at its end. Runs sharing it form a chain that the runner runs
        one at a time, in instance order.
    """

    collection: str
    instance: str
    solver: str
    seed: int
    time_limit: float
    path: str | None = None
    generate: list | None = None
    reference: float | None = None
    bandit_state: str | None = None

    @property
    def key(self) -> tuple:
        """``(collection, instance, solver, seed, time_limit)``, as the store keys runs."""
        return (self.collection, self.instance, self.solver, self.seed, float(self.time_limit))

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Task:
        return cls(**json.loads(text))


def record_of(task: Task, **fields: Any) -> dict[str, Any]:
    """A store record for ``task`` with the given fields and defaults for the rest."""
    record = {
        "collection": task.collection,
        "instance": task.instance,
        "solver": task.solver,
        "seed": task.seed,
        "time_limit": float(task.time_limit),
        "status": "error",
        "objective": None,
        "dual_bound": None,
        "sense": "minimize",
        "runtime": 0.0,
        "nodes": None,
        "certified": None,
        "trajectory": [],
        "reference": task.reference,
        "message": "",
        "stats": {},
        "host": socket.gethostname(),
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="milliseconds"),
    }
    record.update(fields)
    return record


def _problem(task: Task):
    from hybridsolve.mip import read

    if task.path is not None:
        return read(task.path)
    from hybridsolve.datasets import get

    distribution, split, index, base_seed = task.generate
    return get(distribution).instance(split, index, base_seed)


def _solver(task: Task):
    name = task.solver
    base, plus, guidance = name.partition("+")
    if plus:
        return _guided(base, guidance, task.bandit_state)
    if ":" in name:
        module, _, function = name.partition(":")
        return getattr(importlib.import_module(module), function)
    from hybridsolve.benchmarks.peers import PEERS

    if name in PEERS:
        return PEERS[name]
    from hybridsolve.solvers import solve

    def registered(problem, *, time_limit: float, seed: int, path: str | None):
        return solve(problem, name, time_limit=time_limit, seed=seed, threads=1)

    return registered


def guided_options(base: str, guidance: str, bandit_state: str | None = None) -> dict[str, Any]:
    """The :func:`hybridsolve.solve` keywords of a guided solver name ``BASE+GUIDANCE``.

    ``hints[:WEIGHTS]`` gives ``{"hints": "forge[:WEIGHTS]"}``, ``gnn[:WEIGHTS]`` (SCIP and
    the LNS only) ``{"branching": "gnn[:WEIGHTS]"}``, and ``warm`` (the LNS only)
    ``{"options": {"bandit_state": bandit_state}}``: the bandit starts from what the runs
    before it wrote to that file and writes its own statistics back.

    Raises
    ------
    UsageError
        Other guidance, or guidance that the solver cannot take.
    """
    from hybridsolve.mip import UsageError
    from hybridsolve.solvers import BRANCHING_SOLVERS

    name = f"{base}+{guidance}"
    method, colon, weights = guidance.partition(":")
    if method == "hints":
        return {"hints": f"forge{colon}{weights}"}
    if method == "warm":
        if base != "lns" or colon:
            raise UsageError(
                f"{name!r}: carrying the bandit's statistics from instance to instance (+warm) "
                "is for the LNS only; write lns+warm"
            )
        return {"options": {"bandit_state": bandit_state}}
    if method != "gnn":
        raise UsageError(
            f"unknown guided solver {name!r}; write SOLVER+hints[:WEIGHTS], "
            f"SOLVER+gnn[:WEIGHTS] with SOLVER one of {', '.join(BRANCHING_SOLVERS)}, or lns+warm"
        )
    if base not in BRANCHING_SOLVERS:
        raise UsageError(f"{name!r}: learned branching (+gnn) needs the scip solver or lns")
    return {"branching": f"gnn{colon}{weights}"}


def _guided(base: str, guidance: str, bandit_state: str | None):
    """``BASE+GUIDANCE`` as a benchmark solver (see :func:`guided_options`)."""
    from hybridsolve.solvers import solve

    options = guided_options(base, guidance, bandit_state)

    def guided(problem, *, time_limit: float, seed: int, path: str | None):
        return solve(problem, base, time_limit=time_limit, seed=seed, threads=1, **options)

    return guided


def run_task(task: Task) -> dict[str, Any]:
    """Load the instance, run the solver, certify, and build the store record.

    Returns
    -------
    dict
        A record with every column of :data:`hybridsolve.benchmarks.store.COLUMNS`.
    """
    from hybridsolve.mip import HybridsolveError, check

    start = time.perf_counter()
    known: dict[str, Any] = {}  # the model's sense, once it is read
    try:
        problem = _problem(task)
        known["sense"] = problem.sense
        run = _solver(task)
        result = run(problem, time_limit=task.time_limit, seed=task.seed, path=task.path)
    except HybridsolveError as error:
        return record_of(task, message=str(error), runtime=time.perf_counter() - start, **known)
    except Exception as error:  # a plug-in's bug costs this run only
        message = f"{type(error).__name__}: {error}".splitlines()[0]
        return record_of(task, message=message, runtime=time.perf_counter() - start, **known)
    certified = None
    message = result.message or ""
    if result.x is not None:
        certificate = check(problem, result.x)
        objective_ok = result.objective is not None and abs(
            certificate.objective - result.objective
        ) <= 1e-6 * max(1.0, abs(result.objective))
        certified = certificate.feasible and objective_ok
        if not certified:
            message = f"not certified: {certificate.summary().splitlines()[0]}"
    return record_of(
        task,
        status=result.status.value,
        objective=result.objective,
        dual_bound=result.dual_bound,
        sense=problem.sense,
        runtime=result.runtime,
        nodes=result.nodes,
        certified=certified,
        trajectory=[list(point) for point in result.trajectory],
        message=message,
        stats=result.stats,
    )


def main() -> int:
    """Read a task from stdin, print its record on stdout; exit 0 unless stdin is bad."""
    try:
        task = Task.from_json(sys.stdin.read())
    except (ValueError, TypeError) as error:
        print(f"hybridsolve worker: bad task: {error}", file=sys.stderr)
        return 2
    record = run_task(task)
    sys.stdout.write("\n" + MARKER + json.dumps(record) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
