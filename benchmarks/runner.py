"""Benchmark sweeps: every (instance, solver, seed) in its own process, stored as it ends.

A sweep plans the runs of a collection, skips those the store holds already, and executes
the rest on a local pool of ``jobs`` worker processes or on a Dask cluster. Each run is a
``python -m hybridsolve.benchmarks.worker`` process with a wall-clock guard of the time
limit plus a grace period: a run that hangs is killed and stored as ``timeout``, one that
dies as ``crashed``; neither stops the sweep. Records are written by the calling process
only, one transaction per finished run, so Ctrl-C (which kills the running workers) leaves
no partial rows and rerunning the same command resumes.

Chains (:mod:`.chains`): the runs of ``lns+warm`` for one (collection, seed, time limit)
share a state file of the LNS bandit in the folder ``<db without suffix>.bandit`` and run
one at a time, in instance order. Runs start in plan order, and a chain's next run waits
until the one before it is stored; all other runs go side by side as before. A run that
fails leaves the file as the last finished run wrote it and the chain goes on with the next
instance; a resumed sweep continues each chain from its file.

Dask: ``cluster="tcp://host:8786"`` submits every run to that scheduler; each worker still
isolates the run in a subprocess. Start workers with one thread each (``dask worker
tcp://host:8786 --nthreads 1``) so that one worker runs one solve at a time; on SLURM,
``dask-jobqueue``'s ``SLURMCluster(cores=1, processes=1, ...)`` gives the same shape. Model
files must be readable at the same path on every worker (a shared file system);
distribution names need no files at all, and state files of chains are found under the
same absolute path as on the submitting machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hybridsolve.datasets import Collection
from hybridsolve.mip import UsageError

from .chains import Dispatch, chained, state_file, state_folder
from .store import Store
from .worker import MARKER, Task, guided_options, record_of

__all__ = ["SweepStats", "dask_client", "default_grace", "execute", "plan", "sweep"]

_RUNNING: set[subprocess.Popen] = set()
_RUNNING_LOCK = threading.Lock()


def default_grace(time_limit: float) -> float:
    """Seconds a run may take beyond its limit before it is killed: ``10 + 10%``."""
    return 10.0 + 0.1 * time_limit


def plan(
    collection: Collection,
    solvers: Sequence[str],
    seeds: Sequence[int],
    time_limit: float,
    *,
    states: str | Path | None = None,
) -> list[Task]:
    """Every run of a sweep, instance by instance, then solver, then seed.

    Parameters
    ----------
    collection : Collection
        The instances (see :func:`hybridsolve.datasets.load`).
    solvers : sequence of str
        Solver names.
    seeds : sequence of int
        Solver seeds.
    time_limit : float
        Seconds per run.
    states : str or pathlib.Path, optional
        Folder of the bandit state files of ``+warm`` solvers (see :mod:`.chains`); needed
        when there are any.

    Returns
    -------
    list of Task
    """
    if not solvers or not seeds:
        raise UsageError("a sweep needs at least one solver and one seed")
    if not time_limit > 0:
        raise UsageError(f"the time limit must be > 0 seconds, got {time_limit}")
    from hybridsolve.solvers import available

    from .peers import PEERS

    known = [*available(), *PEERS]
    for solver in solvers:
        base, plus, guidance = solver.partition("+")
        if plus and base not in available():
            raise UsageError(
                f"unknown guided solver {solver!r}; write SOLVER+hints[:WEIGHTS] with SOLVER "
                f"one of {', '.join(available())}, scip+gnn[:WEIGHTS] / lns+gnn, or lns+warm"
            )
        if plus:
            guided_options(base, guidance)  # unknown guidance, or one the solver cannot take
        if not plus and ":" not in solver and solver not in known:
            raise UsageError(
                f"unknown solver {solver!r}; choose from {', '.join(known)}, SOLVER+hints, "
                "scip+gnn, lns+warm, or name a plug-in as module:function"
            )
        if chained(solver) and states is None:
            raise UsageError(f"{solver!r} needs a folder for its bandit state files")
    tasks = []
    for name in collection.names:
        path = collection.path(name)
        reference = collection.reference(name)
        recipe = collection.recipe(name)
        for solver in solvers:
            for seed in seeds:
                tasks.append(
                    Task(
                        collection=collection.label,
                        instance=name,
                        solver=solver,
                        seed=int(seed),
                        time_limit=float(time_limit),
                        path=None if path is None else str(path.resolve()),
                        generate=None if recipe is None else list(recipe),
                        reference=None if reference is None else reference.objective,
                        bandit_state=(
                            str(state_file(states, collection.label, seed, time_limit))
                            if chained(solver)
                            else None
                        ),
                    )
                )
    return tasks


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def execute(task: Task, grace: float) -> dict[str, Any]:
    """Run one task in a worker process under a wall-clock guard and return its record.

    Parameters
    ----------
    task : Task
        The run.
    grace : float
        Seconds allowed beyond ``task.time_limit`` before the worker is killed.

    Returns
    -------
    dict
        The store record: the worker's own, or one with status ``timeout`` / ``crashed``.
    """
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "hybridsolve.benchmarks.worker"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Ctrl-C reaches the sweep only; it kills the workers itself
    )
    with _RUNNING_LOCK:
        _RUNNING.add(process)
    try:
        out, err = process.communicate(task.to_json(), timeout=task.time_limit + grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        wall = time.perf_counter() - start
        message = f"killed after {wall:.1f} s (limit {task.time_limit:g} s + {grace:g} s grace)"
        return record_of(task, status="timeout", runtime=wall, message=message)
    finally:
        with _RUNNING_LOCK:
            _RUNNING.discard(process)
    wall = time.perf_counter() - start
    lines = [line for line in out.splitlines() if line.startswith(MARKER)]
    if process.returncode == 0 and lines:
        return json.loads(lines[-1][len(MARKER) :])
    if process.returncode < 0:
        reason = f"worker died with {_signal_name(process.returncode)}"
    else:
        tail = err.strip().splitlines()[-1:] or ["no output"]
        reason = f"worker exited with code {process.returncode}: {tail[0]}"
    return record_of(task, status="crashed", runtime=wall, message=reason)


def _kill_running() -> None:
    with _RUNNING_LOCK:
        for process in list(_RUNNING):
            if process.poll() is None:
                process.kill()


@dataclass
class SweepStats:
    """Counts of a sweep, for the progress display and the caller.

    Attributes
    ----------
    total : int
        Runs planned, stored ones included.
    skipped : int
        Runs already in the store.
    done : int
        Runs finished and stored by this sweep.
    running : int
        Runs under way.
    durations : list of float
        Wall seconds of the runs this sweep finished.
    """

    total: int
    skipped: int
    done: int = 0
    running: int = 0
    durations: list[float] = field(default_factory=list)

    @property
    def left(self) -> int:
        """Runs not started yet."""
        return self.total - self.skipped - self.done - self.running

    def eta(self, parallel: int) -> float | None:
        """Seconds until the sweep ends, from the mean duration so far (None before that)."""
        if not self.durations:
            return None
        mean = sum(self.durations) / len(self.durations)
        return mean * (self.left + self.running) / max(parallel, 1)


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def progress_line(stats: SweepStats, elapsed: float, parallel: int) -> str:
    """One line: a bar, runs done / running / left, elapsed time and estimate."""
    todo = stats.total - stats.skipped
    filled = int(30 * stats.done / todo) if todo else 30
    return (
        f"[{'#' * filled}{'.' * (30 - filled)}] {stats.done}/{todo} done, "
        f"{stats.running} running, {stats.left} left ({stats.skipped} stored before), "
        f"elapsed {_clock(elapsed)}, eta {_clock(stats.eta(parallel))}"
    )


def sweep(
    collection: Collection,
    solvers: Sequence[str],
    seeds: Sequence[int],
    time_limit: float,
    store: Store,
    *,
    jobs: int = 1,
    cluster: str | None = None,
    grace: float | None = None,
    progress: Callable[[SweepStats, float], None] | None = None,
) -> SweepStats:
    """Run every missing (instance, solver, seed) of a collection and store each result.

    Parameters
    ----------
    collection : Collection
        The instances.
    solvers : sequence of str
        Solver names: registered solvers, peers of :mod:`.peers`, or ``module:function``
        plug-ins (see :mod:`.worker`).
    seeds : sequence of int
        Solver seeds.
    time_limit : float
        Wall-clock seconds per run.
    store : Store
        Where finished runs go.
    jobs : int
        Runs side by side on the local pool (ignored with ``cluster``). The runs of one
        chain (``lns+warm``, see :mod:`.chains`) never run side by side.
    cluster : str, optional
        Address of a Dask scheduler to submit the runs to.
    grace : float, optional
        Seconds beyond the limit before a run is killed; :func:`default_grace` by default.
    progress : callable, optional
        Called as ``progress(stats, elapsed)`` when a run starts or ends.

    Returns
    -------
    SweepStats

    Raises
    ------
    KeyboardInterrupt
        After killing the running workers; every finished run is stored.
    """
    if jobs < 1:
        raise UsageError(f"jobs must be >= 1, got {jobs}")
    states = state_folder(store.path)
    tasks = plan(collection, solvers, seeds, time_limit, states=states)
    stored = store.keys()
    todo = [task for task in tasks if task.key not in stored]
    if any(task.bandit_state for task in todo):
        states.mkdir(parents=True, exist_ok=True)
    stats = SweepStats(total=len(tasks), skipped=len(tasks) - len(todo))
    grace = default_grace(time_limit) if grace is None else grace
    start = time.perf_counter()
    report = progress or (lambda stats, elapsed: None)
    report(stats, 0.0)

    def finished(record: dict[str, Any], seconds: float) -> None:
        store.add(record)
        stats.done += 1
        stats.durations.append(seconds)

    if cluster is not None:
        _on_dask(cluster, todo, grace, stats, finished, report, start)
    else:
        _on_pool(jobs, todo, grace, stats, finished, report, start)
    return stats


def sweep_distributions(
    db: str,
    distributions: Sequence[str],
    n: int,
    solvers: Sequence[str],
    seeds: Sequence[int],
    time_limit: float,
    *,
    jobs: int = 1,
    cluster: str | None = None,
) -> list[dict[str, Any]]:
    """:func:`sweep` the first ``n`` test instances of each distribution into one store.

    Prints a line per distribution and the progress on stderr; runs already in the store
    are kept (rerun after an interruption).

    Returns
    -------
    list of dict
        The stored rows of exactly the planned runs.
    """
    from hybridsolve.datasets import load

    from .store import KEY

    planned = set()
    with Store(db) as store:
        for distribution in distributions:
            print(f"{distribution}: {n} instances x {len(solvers)} solvers x "
                  f"{len(seeds)} seeds, {time_limit:g} s each", flush=True)  # fmt: skip
            collection = load(distribution, n=n)
            sweep(
                collection, solvers, seeds, time_limit, store, jobs=jobs, cluster=cluster,
                progress=lambda stats, elapsed: print(
                    "  " + progress_line(stats, elapsed, jobs), file=sys.stderr, flush=True
                ),
            )  # fmt: skip
            tasks = plan(collection, solvers, seeds, time_limit, states=state_folder(db))
            planned |= {task.key for task in tasks}
        return [row for row in store.rows() if tuple(row[k] for k in KEY) in planned]


def _on_pool(jobs, todo, grace, stats, finished, report, start) -> None:
    dispatch = Dispatch(todo)
    running: dict[Future, Task] = {}
    with ThreadPoolExecutor(jobs) as pool:
        try:
            while True:
                for _, task in dispatch.take(jobs - len(running)):
                    running[pool.submit(_timed_execute, task, grace)] = task
                if not running:
                    break
                stats.running = len(running)
                report(stats, time.perf_counter() - start)
                finished_now, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in finished_now:
                    finished(*future.result())
                    dispatch.finished(running.pop(future))
            stats.running = 0
            report(stats, time.perf_counter() - start)
        except BaseException:
            for future in running:
                future.cancel()
            _kill_running()
            raise


def _timed_execute(task: Task, grace: float) -> tuple[dict[str, Any], float]:
    began = time.perf_counter()
    return execute(task, grace), time.perf_counter() - began


def dask_client(address: str) -> Any:
    """A ``distributed.Client`` connected to the scheduler at ``address``.

    Raises
    ------
    UsageError
        Dask is not installed, or the scheduler cannot be reached within 30 s.
    """
    try:
        from distributed import Client
    except ImportError:
        raise UsageError(
            "--cluster needs Dask: pip install 'dask[distributed]' (dask-jobqueue for SLURM)"
        ) from None
    try:
        return Client(address, timeout=30)
    except (OSError, TimeoutError) as error:
        raise UsageError(f"cannot reach the Dask scheduler at {address}: {error}") from None


def _on_dask(address, todo, grace, stats, finished, report, start) -> None:
    from distributed import as_completed

    dispatch = Dispatch(todo)
    running: dict[Any, Task] = {}
    with dask_client(address) as client:

        def submit(batch: list[tuple[int, Task]]) -> list[Any]:
            # the plan's order as Dask's priority: a chain's next run goes before later ones
            futures = [
                client.submit(_timed_execute, task, grace, pure=False, priority=-position,
                              key=f"run-{position}-{os.getpid()}")
                for position, task in batch
            ]  # fmt: skip
            running.update(zip(futures, (task for _, task in batch)))
            return futures

        capacity = max(1, sum(client.nthreads().values()))
        try:
            pending = as_completed(submit(dispatch.take()))
            stats.running = min(len(running), capacity)
            report(stats, time.perf_counter() - start)
            for future in pending:
                finished(*future.result())
                dispatch.finished(running.pop(future))
                for new in submit(dispatch.take()):
                    pending.add(new)
                stats.running = min(len(running), capacity)
                report(stats, time.perf_counter() - start)
        except BaseException:
            client.cancel(list(running))
            raise
