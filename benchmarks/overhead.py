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
a different path (hybridsolve builds the SCIP model in code in the variable order SCIP's MPS
reader produces, and hands HiGHS the column entries in the file's order, so counts differ
only where a file departs from the usual layout), and that row's ratio then mixes overhead
with performance variability.

A second group, "file order", holds small capacitated lot-sizing models (the kind of
production-planning model MIPLIB's vpm2 is) written with the entries of each column in a
shuffled row order, as files from modelling tools often list them; HiGHS's search depends on
that order, so these files check that hybridsolve hands HiGHS the model its reader builds.
``--files`` adds MPS/LP files of your own (a MIPLIB collection, say) as a third group. The
median ratio is printed per group and over all instances.

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
import scipy.sparse as sp

from hybridsolve.datasets import (
    capacitated_facility_location,
    market_split,
    multidimensional_knapsack,
    set_cover,
)
from hybridsolve.mip import Problem, Status, read, write
from hybridsolve.solvers import solve

__all__ = [
    "Measurement",
    "Run",
    "cli_startup",
    "instances",
    "main",
    "lot_sizing",
    "measure",
    "raw_highs",
    "raw_scip",
    "via_hybridsolve",
    "write_file_order",
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
#: Instance groups, in report order.
GROUPS = ("generated", "file order", "files")


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


def lot_sizing(rng: np.random.Generator, items: int, periods: int, load: float = 0.8) -> Problem:
    """A multi-item capacitated lot-sizing model with setup times (a vpm2-like MIP).

    Production ``x[i, t] >= 0``, stock ``s[i, t] >= 0`` and setups ``y[i, t]`` binary:
    ``s[i, t-1] + x[i, t] - s[i, t] = d[i, t]``, ``x[i, t] <= D[i, t] y[i, t]`` with ``D``
    the remaining demand, and per period ``sum_i a_i x[i, t] + b_i y[i, t] <= C``; minimise
    setup plus holding costs. Demands are uniform in 0-100 (zero with probability 0.3),
    unit times ``a`` in [1, 2], setup times ``b`` in [10, 40]; the capacity is the mean load
    over ``load``, raised where needed so that every prefix of the horizon is feasible with
    all setups. In the manner of Trigeiro, Thomas & McClain (1989).

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    items, periods : int
        Number of items and of periods.
    load : float
        Mean capacity utilisation without setups.

    Returns
    -------
    Problem
    """
    demand = rng.integers(0, 101, size=(items, periods)).astype(np.float64)
    demand[rng.random((items, periods)) < 0.3] = 0.0
    unit = rng.uniform(1.0, 2.0, items)
    setup_time = rng.uniform(10.0, 40.0, items)
    setup_cost = rng.uniform(200.0, 1000.0, items)
    holding = rng.uniform(1.0, 5.0, items)
    need = (unit[:, None] * demand).sum(axis=0)
    prefix = (np.cumsum(need) / np.arange(1, periods + 1)).max() + setup_time.sum()
    capacity = max(need.mean() / load, prefix)
    block = items * periods
    x = np.arange(block).reshape(items, periods)
    stock, setup = x + block, x + 2 * block
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    lower: list[float] = []
    upper: list[float] = []
    for i in range(items):
        for t in range(periods):
            balance, link = len(lower), len(lower) + 1
            terms = [(balance, x[i, t], 1.0), (balance, stock[i, t], -1.0)]
            terms += [(balance, stock[i, t - 1], 1.0)] if t else []
            terms += [(link, x[i, t], 1.0), (link, setup[i, t], -max(demand[i, t:].sum(), 1.0))]
            for row, col, val in terms:
                rows.append(row)
                cols.append(col)
                vals.append(val)
            lower += [demand[i, t], -np.inf]
            upper += [demand[i, t], 0.0]
    for t in range(periods):
        for i in range(items):
            rows += [len(lower)] * 2
            cols += [x[i, t], setup[i, t]]
            vals += [unit[i], setup_time[i]]
        lower.append(-np.inf)
        upper.append(capacity)
    A = sp.csr_matrix((vals, (rows, cols)), shape=(len(lower), 3 * block))
    cost = np.concatenate(
        [np.zeros(block), np.repeat(holding, periods), np.repeat(setup_cost, periods)]
    )
    binary = np.arange(3 * block) >= 2 * block
    return Problem.from_arrays(
        cost, A, lower, upper, 0.0, np.where(binary, 1.0, np.inf), binary,
        name=f"lotsize-{items}x{periods}",
    )  # fmt: skip


def write_file_order(problem: Problem, path: Path, seed: int) -> Path:
    """Write ``problem`` as MPS with each column's entries in a shuffled row order.

    HiGHS's writer lists a column's entries in the order its model holds them, so the
    file's COLUMNS section keeps the shuffle.

    Parameters
    ----------
    problem : Problem
        The model.
    path : pathlib.Path
        Target ``.mps`` file.
    seed : int
        Seed of the shuffle.

    Returns
    -------
    pathlib.Path
    """
    rng = np.random.default_rng(seed)
    start, index, value = (np.array(a) for a in problem.column_entries)
    for j in range(problem.num_vars):
        order = start[j] + rng.permutation(start[j + 1] - start[j])
        index[start[j] : start[j + 1]], value[start[j] : start[j + 1]] = index[order], value[order]
    highs = problem.to_highs()
    lp = highs.getLp()
    lp.a_matrix_.index_, lp.a_matrix_.value_ = index, value
    highs.passModel(lp)
    highs.writeModel(str(path))
    return path


def file_order_instances(quick: bool) -> list[Problem]:
    """vpm2-like lot-sizing models for the "file order" group (one when ``quick``).

    Sized so that HiGHS takes about 1-2 s on each with one thread.

    Parameters
    ----------
    quick : bool
        Return one instance for a smoke run.

    Returns
    -------
    list of Problem
    """
    sizes = [(1, 6, 12)] if quick else [(1, 6, 12), (0, 8, 12), (1, 8, 12), (1, 10, 15)]
    return [_seeded(lot_sizing, seed, items, periods) for seed, items, periods in sizes]


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
    group : str
        Instance group, one of :data:`GROUPS`.
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
    group: str = GROUPS[0]
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


def measure(
    path: Path, name: str, backend: str, repeats: int, group: str = GROUPS[0]
) -> Measurement:
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
    group : str
        Instance group, one of :data:`GROUPS`.

    Returns
    -------
    Measurement
    """
    result = Measurement(name, backend, group)
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


def _median_lines(measurements: list[Measurement], label: str) -> None:
    low, high = RATIO_WINDOW
    for backend in BACKENDS:
        inside = [m for m in measurements if m.backend == backend and low <= m.raw_median <= high]
        if not inside:
            print(f"{label} / {backend}: no instance with raw time in {low:g}-{high:g} s")
            continue
        subsets = (
            (inside, f"with raw time in {low:g}-{high:g} s"),
            ([m for m in inside if m.raw_nodes == m.ours_nodes], "of those with equal nodes"),
        )
        for subset, which in subsets:
            if subset:
                ratio = statistics.median(m.ratio for m in subset)
                verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
                print(
                    f"{label} / {backend}: median overhead ratio {ratio:.3f} over {len(subset)}"
                    f" instance(s) {which} ({verdict})"
                )


def _report(problems: list[tuple[Problem, str]], measurements: list[Measurement]) -> None:
    print(f"{'instance':<22} {'group':<10} {'vars':>6} {'int':>6} {'cons':>6} {'nnz':>7}")
    for problem, group in problems:
        print(
            f"{problem.name:<22} {group:<10} {problem.num_vars:>6}"
            f" {int(problem.integrality.sum()):>6} {problem.num_cons:>6} {problem.A.nnz:>7}"
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
    for group in GROUPS:
        members = [m for m in measurements if m.group == group]
        if members:
            _median_lines(members, group)
    _median_lines(measurements, "all")
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
        "--files",
        type=Path,
        nargs="+",
        default=[],
        metavar="FILE",
        help="MPS/LP files of your own, measured as the group 'files'",
    )
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
        files = [
            (write(p, directory / f"{p.name}.mps"), p, GROUPS[0]) for p in instances(args.quick)
        ]
        files += [
            (write_file_order(p, directory / f"{p.name}.mps", seed), p, GROUPS[1])
            for seed, p in enumerate(file_order_instances(args.quick))
        ]
        files += [(path, read(path), GROUPS[2]) for path in args.files]
        problems = [(problem, group) for _, problem, group in files]
        measurements: list[Measurement] = []
        for path, problem, group in files:
            for backend in BACKENDS:
                m = measure(path, problem.name, backend, args.repeats, group)
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
