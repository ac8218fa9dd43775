"""The project's own benchmark suites: which distributions, solvers, limits and seeds.

Run ``python -m hybridsolve.benchmarks.suite NAME --db results.sqlite --out report/
[--jobs N] [--cluster ADDR] [--n N]``, or ``--list`` to see the suites. Each distribution of
the suite goes through the same sweep as ``hybridsolve bench`` (resumable: rerun the command
after an interruption), then the report is written and the headline printed: per
distribution and solver the solved count, the shifted geometric mean primal integral, its
ratio to the suite's baseline solver, and wins/ties/losses against it on the final primal
gap. A suite of named models (MIPLIB) runs instead on the files of those names in the folder
given with ``--instances DIR``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hybridsolve.datasets import Collection, Reference
from hybridsolve.datasets.loader import instance_name
from hybridsolve.mip import InputError, UsageError

__all__ = ["SUITES", "Suite", "best_of_table", "headline", "main", "named_collection", "pair_table"]


@dataclass(frozen=True)
class Suite:
    """A benchmark configuration.

    Attributes
    ----------
    name, description : str
        What it is called and what it measures.
    distributions : tuple of str
        Registered distribution names (none in a suite of named models).
    solvers : tuple of str
        Solver names (registered solvers, peers, plug-ins).
    baseline : str
        The solver the others are compared with.
    also : tuple of str
        Further solvers to compare with; the headline gets one table per baseline.
    pairs : tuple of (str, str)
        ``(without, with)`` pairs compared one to one: the headline gets one table of the
        second solver's primal-integral ratio and wins/ties/losses against the first.
    best_of : tuple of str
        Solvers whose per-run best (:func:`~hybridsolve.benchmarks.metrics.best_of`) is one
        more baseline: the headline gets a table of every solver against it, per
        distribution and overall.
    named : tuple of (str, float)
        Models by file name with their known optimal objective values; a suite with names
        runs on the files of these names in the folder given with ``--instances`` (see
        :func:`named_collection`) instead of on distributions.
    time_limit : float
        Seconds per run.
    seeds : tuple of int
        Solver seeds.
    n : int
        Test-split instances per distribution, or the named models to run (the first ``n``
        found).
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
    best_of: tuple[str, ...] = ()
    named: tuple[tuple[str, float], ...] = ()


#: The LNS cold and warm (bandit state carried across the instances), the exact solvers and
#: Balans, compared with SCIP, HiGHS, Balans and the per-run best of SCIP and HiGHS.
_LNS = Suite(
    "lns",
    "The LNS meta-solver (SCIP and HiGHS sub-MIPs, a SCIP and a HiGHS tree among its arms), "
    "cold and warm (lns+warm: the bandit state of the earlier instances of a distribution "
    "and seed), against SCIP default, HiGHS, the per-instance best of the two and Balans "
    "2.2.0 (optional peer, `pip install balans`) on medium and hard distributions of six "
    "domains, 60 s, one thread, 3 seeds; primal-integral ratios and wins against each, and "
    "warm against cold.",
    ("setcover-medium", "setcover-hard", "cauctions-medium", "cauctions-hard",
     "indset-medium", "indset-hard", "gisp-medium", "gisp-hard",
     "facilities-medium", "facilities-hard", "loadbalancing-medium", "loadbalancing-hard"),
    ("lns", "lns+warm", "scip", "highs", "balans"),
    "scip",
    60.0,
    (0, 1, 2),
    5,
    also=("highs", "balans"),
    pairs=(("lns", "lns+warm"),),
    best_of=("scip", "highs"),
)  # fmt: skip

#: Optimal objective values of the MIPLIB 2017 solution file (miplib2017-v*.solu).
_MIPLIB_2017 = (
    ("50v-10", 3311.179984),
    ("b1c1s1", 24544.25),
    ("gen-ip054", 6840.966),
    ("neos-5140963-mincio", 14393.0),
    ("noswot", -41.0),
    ("pk1", 11.0),
)


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
        _LNS,
        replace(
            _LNS,
            name="lns-miplib",
            description="The lns suite's solvers and comparisons on six MIPLIB 2017 models ("
            + ", ".join(name for name, _ in _MIPLIB_2017)
            + ") read from --instances DIR (NAME.mps, .mps.gz, .lp, .lp.gz), their known "
            "optima as references, 60 s, one thread, 3 seeds.",
            distributions=(),
            n=len(_MIPLIB_2017),
            named=_MIPLIB_2017,
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


def best_of_table(metrics: list[dict], members: tuple[str, ...]) -> str:
    """Per distribution and overall, each solver's PI ratio and W/T/L against ``best(members)``.

    Parameters
    ----------
    metrics : list of dict
        Output of :func:`hybridsolve.benchmarks.metrics.run_metrics`.
    members : tuple of str
        Solvers of the virtual baseline: per instance and seed, the member run with the
        smaller primal integral (a member that ran fewer seeds stands in with its seed-0
        run; see :func:`hybridsolve.benchmarks.metrics.best_of`).

    Returns
    -------
    str
    """
    from .metrics import summary_against_best_of

    lines = [f"{'distribution':24} {'solver':12} {'PI ratio':>9} {'W/T/L':>9}"]
    for row in summary_against_best_of(metrics, members):
        ratio = "-" if row["integral_ratio"] is None else f"{row['integral_ratio']:.3f}"
        wtl = f"{row['wins']}/{row['ties']}/{row['losses']}"
        lines.append(f"{row['collection']:24} {row['solver']:12} {ratio:>9} {wtl:>9}")
    return "\n".join(lines)


def named_collection(
    folder: str | Path, known: tuple[tuple[str, float], ...], label: str, n: int | None = None
) -> tuple[Collection, list[str]]:
    """The models of a folder that bear the given names, with their known optima.

    Parameters
    ----------
    folder : str or pathlib.Path
        A folder holding some of the models as ``NAME.mps``, ``NAME.lp`` or either gzipped.
    known : tuple of (str, float)
        Model names with their optimal objective values, in run order.
    label : str
        The collection's name in the results and the report.
    n : int, optional
        Take only the first ``n`` models found.

    Returns
    -------
    Collection
        The models found (the first ``n``), in the order of ``known``, each with its value as
        a proven optimal :class:`~hybridsolve.datasets.Reference`.
    list of str
        The names without a file.

    Raises
    ------
    InputError
        When ``folder`` is not a readable folder or holds two files of one name.
    UsageError
        When it holds none of the models.
    """
    directory = Path(folder)
    try:
        files = [p for p in directory.iterdir() if p.is_file()]
    except OSError as error:
        raise InputError(
            f"{directory}: not a readable folder ({error.strerror or error})"
        ) from None
    optima = dict(known)
    sources: dict[str, Path] = {}
    for file in sorted(files):
        name = instance_name(file)
        if name not in optima or file.name == name:  # not NAME.mps/.lp[.gz]
            continue
        if name in sources:
            raise InputError(f"{directory}: two files for model {name!r}")
        sources[name] = file
    if not sources:
        raise UsageError(
            f"{directory}: none of the models {', '.join(optima)} (as NAME.mps, .mps.gz, .lp "
            "or .lp.gz)"
        )
    names = [name for name in optima if name in sources][:n]
    found = {name: sources[name] for name in names}
    references = {name: Reference(optima[name], None, True, False, label) for name in names}
    missing = [name for name in optima if name not in sources]
    return Collection(label, names, found, references), missing


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
    parser.add_argument("--instances", help="folder of the models of a suite of named models")
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
    if suite.named and not args.instances:
        parser.error(f"suite {suite.name!r} needs --instances DIR, a folder of its models")
    if args.instances and not suite.named:
        parser.error(f"--instances is for suites of named models, not {suite.name!r}")
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
        return _run(suite, args, parser.prog)
    except HybridsolveError as exc:  # e.g. an unusable --db: one line, its exit code
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code


def _run(suite: Suite, args: argparse.Namespace, prog: str) -> int:
    """Run the suite's sweeps, write the report and print the headline tables."""
    from .metrics import best_of_name, run_metrics, summary
    from .report import write_report
    from .runner import sweep_distributions

    n = args.n or suite.n
    if suite.named:
        collection, missing = named_collection(args.instances, suite.named, suite.name, n)
        if missing:
            print(f"{prog}: warning: {args.instances} lacks {len(missing)} of the "
                  f"{len(suite.named)} models, left out: {', '.join(missing)}",
                  file=sys.stderr)  # fmt: skip
        rows = _sweep_named(args.db, collection, suite, jobs=args.jobs, cluster=args.cluster)
    else:
        distributions = suite.distributions
        if args.distributions:
            distributions = tuple(args.distributions.split(","))
        rows = sweep_distributions(args.db, distributions, n, suite.solvers, suite.seeds,
                                   suite.time_limit, jobs=args.jobs,
                                   cluster=args.cluster)  # fmt: skip
    present = {row["solver"] for row in rows}
    baselines = [name for name in (suite.baseline, *suite.also) if name in present]
    best_of = suite.best_of if set(suite.best_of) <= present else ()
    pairs = tuple(pair for pair in suite.pairs if set(pair) <= present)
    write_report(rows, args.out, baseline=baselines[0] if baselines else None, best_of=best_of)
    metrics = run_metrics(rows)
    for baseline in baselines:  # a reduced run (--solvers) may leave some out
        print(f"\nagainst {baseline}:")
        print(headline(summary(metrics, baseline=baseline)))
    if best_of:
        print(f"\nagainst {best_of_name(best_of)}, per instance and seed the one with the "
              "smaller primal integral:")  # fmt: skip
        print(best_of_table(metrics, best_of))
    if pairs:
        print("\npairs (the second solver against the first):")
        print(pair_table(metrics, pairs))
    return 0


def _sweep_named(
    db: str, collection: Collection, suite: Suite, *, jobs: int, cluster: str | None
) -> list[dict[str, Any]]:
    """Sweep ``collection`` with the suite's solvers, seeds and limit; the rows of those runs."""
    from .runner import progress_line, sweep
    from .store import Store

    print(f"{collection.label}: {len(collection)} models x {len(suite.solvers)} solvers x "
          f"{len(suite.seeds)} seeds, {suite.time_limit:g} s each", flush=True)  # fmt: skip
    names = set(collection.names)
    with Store(db) as store:
        sweep(
            collection, suite.solvers, suite.seeds, suite.time_limit, store, jobs=jobs,
            cluster=cluster, progress=lambda stats, elapsed: print(
                "  " + progress_line(stats, elapsed, jobs), file=sys.stderr, flush=True
            ),
        )  # fmt: skip
        return [
            row
            for row in store.rows([collection.label])
            if row["instance"] in names
            and row["solver"] in suite.solvers
            and row["seed"] in suite.seeds
            and row["time_limit"] == suite.time_limit
        ]


if __name__ == "__main__":
    sys.exit(main())
