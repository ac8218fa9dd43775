"""The project's own benchmark suites: which distributions, solvers, limits and seeds.

Run ``python -m hybridsolve.benchmarks.suite NAME --db results.sqlite --out report/
[--jobs N] [--cluster ADDR] [--n N]``, or ``--list`` to see the suites. Each distribution of
the suite goes through the same sweep as ``hybridsolve bench`` (resumable: rerun the command
after an interruption), then the report is written and the headline printed: per
distribution and solver the solved count, the shifted geometric mean primal integral, its
ratio to the suite's baseline solver, and wins/ties/losses against it on the final primal
gap.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace

__all__ = ["SUITES", "Suite", "headline", "main", "pair_table"]


@dataclass(frozen=True)
class Suite:
    """A benchmark configuration.

    Attributes
    ----------
    name, description : str
        What it is called and what it measures.
    distributions : tuple of str
        Registered distribution names.
    solvers : tuple of str
        Solver names (registered solvers, peers, plug-ins).
    baseline : str
        The solver the others are compared with.
    also : tuple of str
        Further solvers to compare with; the headline gets one table per baseline.
    pairs : tuple of (str, str)
        ``(without, with)`` pairs compared one to one: the headline gets one table of the
        second solver's primal-integral ratio and wins/ties/losses against the first.
    time_limit : float
        Seconds per run.
    seeds : tuple of int
        Solver seeds.
    n : int
        Test-split instances per distribution.
    """

    name: str
    description: str
    distributions: tuple[str, ...]
    solvers: tuple[str, ...]
    baseline: str
    time_limit: float
    seeds: tuple[int, ...]
    n: int
    also: tuple[str, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()


SUITES = {
    suite.name: suite
    for suite in [
        Suite(
            "smoke",
            "Three easy distributions, SCIP against HiGHS, 30 s: checks the harness end to end "
            "in a few minutes.",
            ("setcover-easy", "cauctions-easy", "itemplacement-easy"),
            ("scip", "highs"),
            "scip",
            30.0,  # single-threaded SCIP needs 8-10 s for the first setcover-easy instance
            (0,),
            3,
        ),
        Suite(
            "exact-medium",
            "The exact solvers on five medium distributions, 60 s, 3 seeds: SCIP through "
            "hybridsolve, SCIP on its own file reader (scip-raw) and HiGHS.",
            ("setcover-medium", "cauctions-medium", "facilities-medium", "indset-medium",
             "gisp-medium"),
            ("scip", "scip-raw", "highs"),
            "scip",
            60.0,
            (0, 1, 2),
            10,
        ),
        Suite(
            "lns",
            "The LNS meta-solver (SCIP sub-MIPs) against SCIP default, HiGHS and Balans 2.2.0 "
            "(optional peer, `pip install balans`) on medium and hard distributions of five "
            "domains, 60 s, one thread, 3 seeds; primal-integral ratios and wins against "
            "SCIP and against Balans.",
            ("setcover-medium", "setcover-hard", "cauctions-medium", "cauctions-hard",
             "indset-medium", "indset-hard", "gisp-medium", "gisp-hard",
             "facilities-medium", "facilities-hard"),
            ("lns", "scip", "highs", "balans"),
            "scip",
            60.0,
            (0, 1, 2),
            5,
            also=("balans",),
        ),
        Suite(
            "hints",
            "Learned solution hints (FORGE hint head, Predict-and-Search trust region) against "
            "the same solver without them: SCIP, HiGHS and the LNS, with and without hints, on "
            "the medium and hard levels of the five domains the shipped hint model trained on "
            "and of minimum vertex cover, which it never saw; 60 s, one thread, 3 seeds.",
            ("setcover-medium", "setcover-hard", "cauctions-medium", "cauctions-hard",
             "indset-medium", "indset-hard", "gisp-medium", "gisp-hard",
             "facilities-medium", "facilities-hard", "mvc-medium", "mvc-hard"),
            ("scip", "scip+hints", "highs", "highs+hints", "lns", "lns+hints"),
            "scip",
            60.0,
            (0, 1, 2),
            5,
            pairs=(("scip", "scip+hints"), ("highs", "highs+hints"), ("lns", "lns+hints")),
        ),
    ]
}  # fmt: skip


def headline(summary_rows: list[dict]) -> str:
    """The headline table as text, one line per (distribution, solver).

    Parameters
    ----------
    summary_rows : list of dict
        Output of :func:`hybridsolve.benchmarks.metrics.summary`.

    Returns
    -------
    str
    """
    lines = [
        f"{'distribution':24} {'solver':12} {'solved':>7} {'sgm PI':>8} {'PI ratio':>9} "
        f"{'W/T/L':>9}"
    ]
    for row in summary_rows:
        ratio = "-" if row["integral_ratio"] is None else f"{row['integral_ratio']:.3f}"
        wtl = f"{row['wins']}/{row['ties']}/{row['losses']}"
        lines.append(
            f"{row['collection']:24} {row['solver']:12} {row['solved']:>3}/{row['runs']:<3} "
            f"{row['sgm_primal_integral']:8.2f} {ratio:>9} {wtl:>9}"
        )
    return "\n".join(lines)


def pair_table(metrics: list[dict], pairs: tuple[tuple[str, str], ...]) -> str:
    """Per distribution and pair, the second solver's PI ratio and W/T/L against the first.

    Parameters
    ----------
    metrics : list of dict
        Output of :func:`hybridsolve.benchmarks.metrics.run_metrics`.
    pairs : tuple of (str, str)
        ``(baseline, challenger)`` solver names.

    Returns
    -------
    str
    """
    from .metrics import summary

    lines = [f"{'distribution':24} {'pair':28} {'PI ratio':>9} {'W/T/L':>9}"]
    present = {row["solver"] for row in metrics}
    for base, challenger in pairs:
        if not {base, challenger} <= present:  # a reduced run (--solvers) left it out
            continue
        for row in summary(metrics, baseline=base):
            if row["solver"] != challenger:
                continue
            ratio = "-" if row["integral_ratio"] is None else f"{row['integral_ratio']:.3f}"
            wtl = f"{row['wins']}/{row['ties']}/{row['losses']}"
            pair = f"{challenger} / {base}"
            lines.append(f"{row['collection']:24} {pair:28} {ratio:>9} {wtl:>9}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("name", nargs="?", help="suite name (see --list)")
    parser.add_argument("--list", action="store_true", help="print the suites and exit")
    parser.add_argument("--db", help="SQLite results file (resumable)")
    parser.add_argument("--out", help="report directory")
    parser.add_argument("--jobs", type=int, default=1, help="runs side by side")
    parser.add_argument("--cluster", help="Dask scheduler address")
    parser.add_argument("--n", type=int, help="instances per distribution (default: suite's)")
    parser.add_argument("--distributions", help="comma-separated subset of the suite's")
    parser.add_argument("--solvers", help="comma-separated subset of the suite's solvers")
    parser.add_argument("--time-limit", type=float, help="seconds per run (default: suite's)")
    parser.add_argument("--seeds", help="comma-separated solver seeds (default: suite's)")
    args = parser.parse_args(argv)
    if args.list or not args.name:
        for suite in SUITES.values():
            print(f"{suite.name}: {suite.description}")
        return 0
    if args.name not in SUITES:
        parser.error(f"unknown suite {args.name!r}; choose from {', '.join(SUITES)}")
    if not args.db or not args.out:
        parser.error("--db and --out are needed to run a suite")

    suite = SUITES[args.name]
    if args.distributions:
        unknown = sorted(set(args.distributions.split(",")) - set(suite.distributions))
        if unknown:
            parser.error(f"{', '.join(unknown)} not in suite {suite.name!r}")
    if args.solvers:
        unknown = sorted(set(args.solvers.split(",")) - set(suite.solvers))
        if unknown:
            parser.error(f"{', '.join(unknown)} not in suite {suite.name!r}")
    try:
        suite = replace(
            suite,
            solvers=tuple(args.solvers.split(",")) if args.solvers else suite.solvers,
            time_limit=args.time_limit or suite.time_limit,
            seeds=tuple(int(s) for s in args.seeds.split(",")) if args.seeds else suite.seeds,
        )
    except ValueError:
        parser.error(f"--seeds must be comma-separated integers, got {args.seeds!r}")
    from hybridsolve.mip.errors import HybridsolveError

    try:
        return _run(suite, args)
    except HybridsolveError as exc:  # e.g. an unusable --db: one line, its exit code
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code


def _run(suite: Suite, args: argparse.Namespace) -> int:
    """Run the suite's sweeps, write the report and print the headline tables."""
    from .metrics import run_metrics, summary
    from .report import write_report
    from .runner import sweep_distributions

    distributions = suite.distributions
    if args.distributions:
        distributions = tuple(args.distributions.split(","))
    rows = sweep_distributions(args.db, distributions, args.n or suite.n, suite.solvers,
                               suite.seeds, suite.time_limit, jobs=args.jobs,
                               cluster=args.cluster)  # fmt: skip
    write_report(rows, args.out, baseline=suite.baseline)
    metrics = run_metrics(rows)
    for baseline in (suite.baseline, *suite.also):
        print(f"\nagainst {baseline}:")
        print(headline(summary(metrics, baseline=baseline)))
    if suite.pairs:
        print("\npairs (the second solver against the first):")
        print(pair_table(metrics, suite.pairs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
