"""Measure the hardness level of registered distributions with single-threaded SCIP.

Run ``python -m hybridsolve.benchmarks.calibrate [NAME ...] [--n 5] [--time-limit 100]
[--jobs 1] [--split test] [--json OUT]``.

Every instance ``0 .. n-1`` of the split is generated and solved by SCIP through
:func:`hybridsolve.solve` (one thread, seed 0, relative gap 0, the time limit), each solve in
a fresh process. The script prints, per distribution, the model size, the median wall time
(a run stopped by the limit counts as the limit), the number of instances proven optimal,
the level those figures put it at, and whether that is the registered level:

- easy: median under 10 s and at least 80% of the instances optimal (a few domains, the
  multiple knapsack above all, have heavy-tailed solve times);
- medium: not easy, and at least half of the instances optimal within the limit;
- hard: fewer than half optimal within the limit (the median is the limit).

With ``--jobs 2`` two solves share a 2-core machine, which slows each a little; the
registry's figures were taken that way (see ``hybridsolve.datasets.registry.CALIBRATION``).
Exit status 1 when some distribution measures at a level other than its own.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import statistics
import sys
import time
from dataclasses import asdict, dataclass

from hybridsolve.datasets import registry

__all__ = ["Measurement", "level_of", "main", "measure_one"]


@dataclass(frozen=True)
class Measurement:
    """One SCIP solve of one generated instance.

    Attributes
    ----------
    distribution : str
        Registered name.
    index : int
        Instance index in the split.
    num_vars, num_cons : int
        Model size.
    seconds : float
        Wall time of :func:`hybridsolve.solve`, at most about the limit.
    status : str
        Status of the result (``optimal`` when SCIP closed the gap).
    objective : float or None
        Best objective found.
    """

    distribution: str
    index: int
    num_vars: int
    num_cons: int
    seconds: float
    status: str
    objective: float | None


def measure_one(task: tuple[str, str, int, float]) -> Measurement:
    """Generate and solve one instance: ``(name, split, index, time_limit)``.

    Returns
    -------
    Measurement
    """
    from hybridsolve.solvers import solve

    name, split, index, time_limit = task
    problem = registry.get(name).instance(split, index)
    start = time.perf_counter()
    result = solve(problem, "scip", time_limit=time_limit, threads=1, seed=0)
    seconds = time.perf_counter() - start
    return Measurement(
        name, index, problem.num_vars, problem.num_cons, seconds, result.status.value,
        result.objective,
    )  # fmt: skip


def level_of(runs: list[Measurement], time_limit: float) -> str:
    """The level the measured runs put a distribution at (see the module docstring).

    Parameters
    ----------
    runs : list of Measurement
        The runs of one distribution.
    time_limit : float
        The limit the runs had.

    Returns
    -------
    str
        ``"easy"``, ``"medium"`` or ``"hard"``.
    """
    optimal = sum(run.status == "optimal" for run in runs)
    median = statistics.median(min(run.seconds, time_limit) for run in runs)
    if 5 * optimal >= 4 * len(runs) and median < 10.0:
        return "easy"
    if 2 * optimal >= len(runs):
        return "medium"
    return "hard"


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="distributions (default: all)")
    parser.add_argument("--n", type=int, default=5, help="instances per distribution")
    parser.add_argument("--time-limit", type=float, default=100.0)
    parser.add_argument("--jobs", type=int, default=1, help="solves run side by side")
    parser.add_argument("--split", default="test", choices=registry.SPLITS)
    parser.add_argument("--json", help="also write every measurement to this JSON file")
    args = parser.parse_args(argv)
    names = args.names or registry.distributions()
    for name in names:
        registry.get(name)

    tasks = [(name, args.split, i, args.time_limit) for name in names for i in range(args.n)]
    runs: dict[str, list[Measurement]] = {name: [] for name in names}
    context = multiprocessing.get_context("spawn")
    mismatches = 0
    print(f"{'distribution':24} {'vars':>7} {'cons':>7} {'median s':>9} {'optimal':>8}  level")
    with context.Pool(args.jobs, maxtasksperchild=1) as pool:
        for run in pool.imap(measure_one, tasks):
            runs[run.distribution].append(run)
            done = runs[run.distribution]
            if len(done) < args.n:
                continue
            level = level_of(done, args.time_limit)
            expected = registry.get(run.distribution).level
            mismatches += level != expected
            median = statistics.median(min(r.seconds, args.time_limit) for r in done)
            optimal = sum(r.status == "optimal" for r in done)
            verdict = "ok" if level == expected else f"MISMATCH (registered {expected})"
            print(
                f"{run.distribution:24} {run.num_vars:7d} {run.num_cons:7d} {median:9.1f} "
                f"{optimal:4d}/{len(done):<3d}  {level} {verdict}",
                flush=True,
            )
    if args.json:
        with open(args.json, "w") as handle:
            json.dump([asdict(r) for rs in runs.values() for r in rs], handle, indent=1)
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
