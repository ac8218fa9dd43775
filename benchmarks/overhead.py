"""Overhead of :func:`hybridsolve.solve` over the raw solver calls, and of the CLI's startup.

Run ``python -m hybridsolve.benchmarks.overhead [--quick] [--repeats N] [--out DIR]
[--cli-runs N]``.

The script generates its own MIP instances (set cover, multi-dimensional knapsack,
capacitated facility location, market split) from fixed seeds, writes them as MPS files, and
solves each file with SCIP and with HiGHS twice over: through ``hybridsolve.solve(path,
solver=..., time_limit=60)`` and through the plain ``pyscipopt`` / ``highspy`` calls with the
same settings (time limit 60 s, relative gap 0, seed 0, one thread). Every timing is wall
clock from creating the solver to holding its answer and releasing it, reading the file
included. Raw and hybridsolve runs alternate (raw, ours, raw, ours, ...) so that drift in the
machine's speed hits both alike. The overhead ratio is hybridsolve's median time divided by
the raw median; its median over the instances whose raw median lies in 0.5-10 s is compared
with the target 1.05. The two paths must agree on the objective (to 1e-6 relative) and on
whether optimality was proven; a disagreement is reported loudly and makes the script exit
with status 1. Node counts of both paths are printed: different counts mean the solver took
a different path (SCIP, for one, orders the variables it reads from a file differently from
a model built in code), so that row's ratio mixes overhead with performance variability.

The second measurement is the startup of the command line: the median wall time of
``hybridsolve --help`` against ``python -c pass`` in fresh processes, with the target
"under 0.5 s".
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import highspy
import numpy as np
import pyscipopt

from hybridsolve.datasets import (
    capacitated_facility_location,
    market_split,
    multidimensional_knapsack,
    set_cover,
)
from hybridsolve.mip import Problem, Status, write
from hybridsolve.solvers import solve

__all__ = [
    "Measurement",
    "Run",
    "cli_startup",
    "instances",
    "main",
    "measure",
    "raw_highs",
    "raw_scip",
    "via_hybridsolve",
]

#: Time limit of every solve, in seconds (raw and hybridsolve alike).
TIME_LIMIT = 60.0
#: Objectives agree when they differ by at most this, relative to ``max(1, |a|, |b|)``.
OBJECTIVE_TOLERANCE = 1e-6
#: Instances whose raw median time lies in this range enter the median ratio.
RATIO_WINDOW = (0.5, 10.0)
#: The overhead ratio hybridsolve aims to stay under.
TARGET_RATIO = 1.05
#: The startup time ``hybridsolve --help`` aims to stay under, in seconds.
TARGET_STARTUP = 0.5
BACKENDS = ("scip", "highs")


# --------------------------------------------------------------------------- instances


def _seeded(generator: Callable[..., Problem], seed: int, *args) -> Problem:
    """``generator(default_rng(seed), *args)``, named after its sizes and the seed."""
    problem = generator(np.random.default_rng(seed), *args)
    return replace(problem, name=f"{problem.name}-s{seed}")


def instances(quick: bool) -> list[Problem]:
    """The benchmark instances, generated deterministically.

    Sizes are tuned so that each full-mode instance takes about 0.5-10 s with
    single-threaded SCIP on a small machine; ``quick`` gives three instances of a few
    tenths of a second for a smoke run.

    Parameters
    ----------
    quick : bool
        Return the small smoke-test set.

    Returns
    -------
    list of Problem
    """
    if quick:
        return [
            _seeded(set_cover, 0, 200, 400, 0.05),
            _seeded(multidimensional_knapsack, 0, 30, 5, 0.25),
            _seeded(capacitated_facility_location, 0, 20, 15, 5.0),
        ]
    return [
        _seeded(set_cover, 0, 500, 1000, 0.05),
        _seeded(set_cover, 1, 400, 800, 0.05),
        _seeded(multidimensional_knapsack, 0, 50, 5, 0.25),
        _seeded(multidimensional_knapsack, 2, 60, 10, 0.25),
        _seeded(capacitated_facility_location, 1, 40, 25, 3.0),
        _seeded(capacitated_facility_location, 3, 40, 25, 3.0),
        _seeded(market_split, 0, 3, 24),
        _seeded(market_split, 2, 3, 24),
    ]


# --------------------------------------------------------------------------- solving


@dataclass
class Run:
    """What one solve of a file returned.

    Attributes
    ----------
    seconds : float
        Wall time of the whole call.
    status : str
        ``"optimal"`` when the solver proved optimality, otherwise its own status word.
    objective : float or None
        Objective in the file's sense, ``None`` without a solution.
    nodes : int or None
        Branch-and-bound nodes as the solver counts them; equal counts on both paths
        suggest the solver took the same path.
    """

    seconds: float
    status: str
    objective: float | None
    nodes: int | None


def raw_scip(path: Path) -> Run:
    """Solve ``path`` with plain ``pyscipopt``, settings as hybridsolve's defaults.

    Parameters
    ----------
    path : pathlib.Path
        MPS file.

    Returns
    -------
    Run
    """
    start = time.perf_counter()
    model = pyscipopt.Model()
    model.hideOutput()
    model.readProblem(str(path))
    model.setParam("limits/time", TIME_LIMIT)
    model.setParam("limits/gap", 0.0)
    model.setParam("randomization/randomseedshift", 0)
    model.optimize()
    status = model.getStatus()
    objective = model.getObjVal() if model.getNSols() > 0 else None
    nodes = model.getNTotalNodes()
    del model
    return Run(time.perf_counter() - start, status, objective, nodes)


def raw_highs(path: Path) -> Run:
    """Solve ``path`` with plain ``highspy``, settings as hybridsolve's defaults.

    Parameters
    ----------
    path : pathlib.Path
        MPS file.

    Returns
    -------
    Run
    """
    start = time.perf_counter()
    highs = highspy.Highs()
    highs.silent()
    highs.setOptionValue("time_limit", TIME_LIMIT)
    highs.setOptionValue("mip_rel_gap", 0.0)
    highs.setOptionValue("threads", 1)
    highs.setOptionValue("random_seed", 0)
    highs.readModel(str(path))
    highs.run()
    model_status = highs.getModelStatus()
    status = (
        "optimal"
        if model_status == highspy.HighsModelStatus.kOptimal
        else highs.modelStatusToString(model_status)
    )
    info = highs.getInfo()
    has_solution = info.primal_solution_status == 2  # kSolutionStatusFeasible
    objective = info.objective_function_value if has_solution else None
    nodes = int(info.mip_node_count)
    del highs
    return Run(time.perf_counter() - start, status, objective, nodes)


def via_hybridsolve(path: Path, backend: str) -> Run:
    """Solve ``path`` through :func:`hybridsolve.solve` with its default settings.

    Parameters
    ----------
    path : pathlib.Path
        MPS file.
    backend : {"scip", "highs"}
        Solver name.

    Returns
    -------
    Run
    """
    start = time.perf_counter()
    result = solve(path, solver=backend, time_limit=TIME_LIMIT)
    seconds = time.perf_counter() - start
    return Run(seconds, str(result.status), result.objective, result.nodes)


RAW: dict[str, Callable[[Path], Run]] = {"scip": raw_scip, "highs": raw_highs}


@dataclass
class Measurement:
    """Raw and hybridsolve timings of one instance with one backend.

    Attributes
    ----------
    instance, backend : str
        Instance name and solver name.
    raw_seconds, ours_seconds : list of float
        Wall times of every repetition.
    raw_status, ours_status : str
        Status of the last repetition of each path.
    raw_objective, ours_objective : float or None
        Objective of the last repetition of each path.
    raw_nodes, ours_nodes : int or None
        Node count of the last repetition of each path.
    problems : list of str
        Disagreements between the two paths (objective or status), empty when none.
    """

    instance: str
    backend: str
    raw_seconds: list[float] = field(default_factory=list)
    ours_seconds: list[float] = field(default_factory=list)
    raw_status: str = ""
    ours_status: str = ""
    raw_objective: float | None = None
    ours_objective: float | None = None
    raw_nodes: int | None = None
    ours_nodes: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def raw_median(self) -> float:
        """Median raw wall time in seconds."""
        return statistics.median(self.raw_seconds)

    @property
    def ours_median(self) -> float:
        """Median hybridsolve wall time in seconds."""
        return statistics.median(self.ours_seconds)

    @property
    def ratio(self) -> float:
        """hybridsolve's median time over the raw median."""
        return self.ours_median / self.raw_median


def _same_objective(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= OBJECTIVE_TOLERANCE * max(1.0, abs(a), abs(b))


def _disagreements(raw: Run, mine: Run) -> list[str]:
    found = []
    if not _same_objective(raw.objective, mine.objective):
        found.append(f"objective raw {raw.objective!r} != hybridsolve {mine.objective!r}")
    if (raw.status == "optimal") != (mine.status == Status.OPTIMAL.value):
        found.append(f"status raw {raw.status!r} vs hybridsolve {mine.status!r}")
    return found


def measure(path: Path, name: str, backend: str, repeats: int) -> Measurement:
    """Time the raw and the hybridsolve path on one file, alternating raw and ours.

    Parameters
    ----------
    path : pathlib.Path
        MPS file.
    name : str
        Instance name for the report.
    backend : {"scip", "highs"}
        Solver name.
    repeats : int
        Number of (raw, ours) pairs.

    Returns
    -------
    Measurement
    """
    result = Measurement(name, backend)
    for _ in range(repeats):
        raw = RAW[backend](path)
        mine = via_hybridsolve(path, backend)
        result.raw_seconds.append(raw.seconds)
        result.ours_seconds.append(mine.seconds)
        for problem in _disagreements(raw, mine):
            if problem not in result.problems:
                result.problems.append(problem)
    result.raw_status, result.raw_objective, result.raw_nodes = raw.status, raw.objective, raw.nodes
    result.ours_status, result.ours_objective, result.ours_nodes = (
        mine.status,
        mine.objective,
        mine.nodes,
    )
    return result


def _warm_up(directory: Path) -> None:
    """Solve a tiny model once on every path so that imports and first calls are not timed."""
    path = directory / "warmup.mps"
    write(_seeded(multidimensional_knapsack, 0, 10, 2, 0.5), path)
    for backend in BACKENDS:
        RAW[backend](path)
        via_hybridsolve(path, backend)
    path.unlink()


# --------------------------------------------------------------------------- CLI startup


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def cli_startup(runs: int) -> tuple[float, float, str]:
    """Median wall times of ``hybridsolve --help`` and of ``python -c pass``.

    The console script next to ``sys.executable`` is used when it exists, otherwise
    ``python -m hybridsolve``. The two commands alternate, after one untimed run of each.

    Parameters
    ----------
    runs : int
        Timed runs of each command.

    Returns
    -------
    tuple of (float, float, str)
        Median seconds of the CLI and of the bare interpreter, and the CLI command used.
    """
    script = Path(sys.executable).parent / "hybridsolve"
    if script.exists():
        cli, label = [str(script), "--help"], "hybridsolve --help"
    else:
        cli, label = [sys.executable, "-m", "hybridsolve", "--help"], "python -m hybridsolve --help"
    bare = [sys.executable, "-c", "pass"]
    _wall(cli)
    _wall(bare)
    cli_times, bare_times = [], []
    for _ in range(runs):
        cli_times.append(_wall(cli))
        bare_times.append(_wall(bare))
    return statistics.median(cli_times), statistics.median(bare_times), label


# --------------------------------------------------------------------------- report


def _objective_text(value: float | None) -> str:
    return "-" if value is None else f"{value:.6g}"


def _report(problems: list[Problem], measurements: list[Measurement]) -> None:
    print(f"{'instance':<22} {'vars':>6} {'int':>6} {'cons':>6} {'nnz':>7}")
    for problem in problems:
        print(
            f"{problem.name:<22} {problem.num_vars:>6} {int(problem.integrality.sum()):>6}"
            f" {problem.num_cons:>6} {problem.A.nnz:>7}"
        )
    print()
    header = (
        f"{'instance':<22} {'backend':<7} {'status':<9} {'objective':>11}"
        f" {'nodes raw/ours':>15} {'raw s':>7} {'ours s':>7} {'ratio':>6}"
    )
    print(header)
    print("-" * len(header))
    for m in measurements:
        nodes = f"{m.raw_nodes}/{m.ours_nodes}"
        flag = "  MISMATCH" if m.problems else ""
        print(
            f"{m.instance:<22} {m.backend:<7} {m.ours_status:<9}"
            f" {_objective_text(m.ours_objective):>11} {nodes:>15} {m.raw_median:>7.3f}"
            f" {m.ours_median:>7.3f} {m.ratio:>6.3f}{flag}"
        )
    print()
    low, high = RATIO_WINDOW
    for backend in BACKENDS:
        inside = [m for m in measurements if m.backend == backend and low <= m.raw_median <= high]
        if not inside:
            print(f"{backend}: no instance with raw time in {low:g}-{high:g} s")
            continue
        subsets = (
            (inside, f"with raw time in {low:g}-{high:g} s"),
            ([m for m in inside if m.raw_nodes == m.ours_nodes], "of those with equal nodes"),
        )
        for subset, label in subsets:
            if subset:
                ratio = statistics.median(m.ratio for m in subset)
                verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
                print(
                    f"{backend}: median overhead ratio {ratio:.3f} over {len(subset)}"
                    f" instance(s) {label} ({verdict})"
                )
    print(f"target: overhead ratio <= {TARGET_RATIO}")


def _report_mismatches(measurements: list[Measurement]) -> bool:
    bad = [m for m in measurements if m.problems]
    for m in bad:
        for problem in m.problems:
            message = f"MISMATCH {m.instance} / {m.backend}: {problem}"
            print(message)
            print(message, file=sys.stderr)
    return bool(bad)


# --------------------------------------------------------------------------- main


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m hybridsolve.benchmarks.overhead",
        description="Overhead of hybridsolve.solve over raw SCIP/HiGHS, and CLI startup time.",
    )
    parser.add_argument("--quick", action="store_true", help="three small instances")
    parser.add_argument(
        "--repeats", type=int, default=3, help="(raw, hybridsolve) pairs per solve (default 3)"
    )
    parser.add_argument("--out", type=Path, help="keep the MPS files and write overhead.json here")
    parser.add_argument(
        "--cli-runs", type=int, default=10, help="timed runs of each startup command (default 10)"
    )
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.cli_runs < 1:
        parser.error("--repeats and --cli-runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables.

    Parameters
    ----------
    argv : list of str, optional
        Command-line arguments; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        0, or 1 when the raw and the hybridsolve path disagree on some instance.
    """
    args = _parse(argv)
    directory = args.out or Path(tempfile.mkdtemp(prefix="hybridsolve-overhead-"))
    directory.mkdir(parents=True, exist_ok=True)
    try:
        _warm_up(directory)
        problems = instances(args.quick)
        measurements: list[Measurement] = []
        for problem in problems:
            path = write(problem, directory / f"{problem.name}.mps")
            for backend in BACKENDS:
                m = measure(path, problem.name, backend, args.repeats)
                measurements.append(m)
                print(
                    f"  {problem.name} / {backend}: raw {m.raw_median:.3f} s,"
                    f" hybridsolve {m.ours_median:.3f} s",
                    file=sys.stderr,
                    flush=True,
                )
        cli_seconds, bare_seconds, cli = cli_startup(args.cli_runs)
    finally:
        if args.out is None:
            shutil.rmtree(directory, ignore_errors=True)

    print(
        f"\nsolve overhead: median of {args.repeats} alternating runs, time limit"
        f" {TIME_LIMIT:g} s, gap 0, seed 0, 1 thread\n"
    )
    _report(problems, measurements)
    print(f"\nCLI startup: median of {args.cli_runs} runs")
    print(f"  {cli:<30} {cli_seconds:.3f} s")
    print(f"  {'python -c pass':<30} {bare_seconds:.3f} s")
    verdict = "met" if cli_seconds < TARGET_STARTUP else "NOT met"
    print(f"target: under {TARGET_STARTUP:g} s ({verdict})")
    mismatch = _report_mismatches(measurements)
    if args.out is not None:
        record = {
            "time_limit": TIME_LIMIT,
            "repeats": args.repeats,
            "measurements": [asdict(m) | {"ratio": m.ratio} for m in measurements],
            "cli_seconds": cli_seconds,
            "python_seconds": bare_seconds,
        }
        (args.out / "overhead.json").write_text(json.dumps(record, indent=2))
    return 1 if mismatch else 0


if __name__ == "__main__":
    raise SystemExit(main())
