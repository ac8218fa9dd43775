"""The ``hybridsolve`` command line.

Exit codes: 0 finished (whatever the model status; for ``check``: certified), 1 solver
error (for ``check``: not certified), 2 usage error, 3 unreadable input, 130 interrupted
outside a solve. Heavy modules are imported inside the commands so that ``--help``
stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, NoReturn

__all__ = ["main"]

#: What the suite is: the first line of ``hybridsolve --help`` (pyproject's description and the
#: README's opening say the same).
DESCRIPTION = (
    "hybridsolve: exact MIP solving (SCIP, HiGHS), bandit LNS, routing, packing and scheduling "
    "heuristics and learned policies, with instance generation and benchmarking."
)

_EPILOG = """exit codes: 0 finished (whatever the model status), 1 solver error,
2 usage error, 3 unreadable input; 'check' exits 0 when certified, 1 when not."""


def _option(text: str) -> tuple[str, Any]:
    """Parse ``KEY=VALUE`` into a native option, typing the value as int/float/bool/str."""
    key, sep, raw = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    lowered = raw.lower()
    if lowered in ("true", "false"):
        return key, lowered == "true"
    for kind in (int, float):
        try:
            return key, kind(raw)
        except ValueError:
            pass
    return key, raw


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr and exit code 2, like every other error."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"hybridsolve: error: {message} (see '{self.prog} --help')\n")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hybridsolve",
        description=DESCRIPTION,
        epilog=_EPILOG,
    )
    from hybridsolve import __version__

    parser.add_argument("--version", action="version", version=f"hybridsolve {__version__}")
    verbs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    verbs.required = True

    run = verbs.add_parser("solve", help="solve an MPS/LP file", epilog=_EPILOG)
    run.add_argument("file", help="model file: .mps, .lp, optionally .gz")
    run.add_argument(
        "--solver", default="scip", help="scip (default), highs, lns, or a registered solver"
    )
    run.add_argument(
        "--time-limit", type=float, metavar="S", help="wall-clock seconds, reading included"
    )
    run.add_argument(
        "--mip-rel-gap",
        type=float,
        default=0.0,
        metavar="G",
        help="relative gap to stop at (default 0)",
    )
    run.add_argument("--threads", type=int, default=1, metavar="N")
    run.add_argument("--seed", type=int, default=0, metavar="N")
    run.add_argument("--warm-start", metavar="FILE.sol", help="start from a (partial) .sol file")
    run.add_argument(
        "--hints",
        metavar="forge[:NAME_OR_PATH]",
        help="learned solution hints (neural extra): 'forge' for the shipped hint model, "
        "forge:NAME_OR_PATH for other weights; predicted inside the time limit",
    )
    run.add_argument(
        "--branching",
        metavar="gnn[:NAME_OR_PATH]",
        help="learned variable selection for SCIP (neural extra): 'gnn' for the shipped "
        "scorer, gnn:NAME_OR_PATH for weights you trained (hybridsolve train branching)",
    )
    run.add_argument("--solution-file", metavar="OUT.sol", help="write the solution (MIPLIB .sol)")
    run.add_argument(
        "--option",
        type=_option,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="native solver parameter, repeatable (e.g. limits/nodes=100)",
    )
    run.add_argument("--log", action="store_true", help="show the solver's own log")
    run.add_argument("--json", action="store_true", help="print one JSON object and nothing else")
    run.add_argument("--quiet", action="store_true", help="no progress lines")

    cert = verbs.add_parser("check", help="certify a .sol file against a model", epilog=_EPILOG)
    cert.add_argument("file", help="model file")
    cert.add_argument("solution", help=".sol file; variables it omits are taken as 0")
    cert.add_argument(
        "--tol", type=float, default=1e-6, help="feasibility tolerance (default 1e-6)"
    )
    cert.add_argument("--json", action="store_true", help="print one JSON object")

    gen = verbs.add_parser(
        "generate", help="write instances of a registered distribution", epilog=_EPILOG
    )
    gen.add_argument("distribution", nargs="?", help="e.g. setcover-easy (see --list)")
    gen.add_argument("--list", action="store_true", help="print the distribution names and exit")
    gen.add_argument("--out", metavar="DIR", help="output directory (created when missing)")
    gen.add_argument("--split", default="test", help="train, valid or test (default test)")
    gen.add_argument("--n", type=int, default=100, metavar="N", help="instances (default 100)")
    gen.add_argument("--seed", type=int, default=0, metavar="S", help="base seed (default 0)")
    gen.add_argument(
        "--solve-reference",
        type=float,
        metavar="SECONDS",
        help="solve each instance with SCIP this long; store objective and bound",
    )
    gen.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="reference solves side by side"
    )
    gen.add_argument("--quiet", action="store_true", help="print only the final line")

    bench = verbs.add_parser(
        "bench", help="run solvers over instances into a results database", epilog=_EPILOG
    )
    bench.add_argument(
        "--instances", required=True, metavar="DIST_OR_DIR",
        help="registered distribution, directory of MPS/LP files, or one file",
    )  # fmt: skip
    bench.add_argument(
        "--solvers", default="scip,highs", metavar="A,B",
        help="comma-separated: registered solvers, peers (scip-raw), module:function plug-ins, "
        "guided variants SOLVER+hints, scip+gnn / lns+gnn, and lns+warm: the LNS whose bandit "
        "starts from what the runs before it learned (state in DB-without-suffix.bandit/); the "
        "lns+warm runs of one seed form a chain that runs one at a time, in instance order, "
        "while other runs go side by side (--jobs)",
    )  # fmt: skip
    bench.add_argument("--time-limit", type=float, default=60.0, metavar="S", help="per run")
    bench.add_argument("--seeds", default="0", metavar="0,1,2", help="solver seeds")
    bench.add_argument("--db", required=True, metavar="FILE", help="SQLite results file")
    bench.add_argument("--jobs", type=int, default=1, metavar="N", help="runs side by side")
    bench.add_argument("--cluster", metavar="ADDR", help="Dask scheduler, e.g. tcp://host:8786")
    bench.add_argument(
        "--n", type=int, default=10, metavar="N", help="instances of a distribution (default 10)"
    )
    bench.add_argument("--split", default="test", help="split of a distribution (default test)")
    bench.add_argument(
        "--grace", type=float, metavar="S", help="seconds past the limit before a run is killed"
    )
    bench.add_argument("--quiet", action="store_true", help="print only the final line")

    rep = verbs.add_parser("report", help="tables and plots from a results database")
    rep.add_argument("db", help="SQLite results file written by 'bench'")
    rep.add_argument("--out", required=True, metavar="DIR", help="output directory")
    rep.add_argument("--baseline", metavar="SOLVER", help="solver the others are compared to")
    rep.add_argument("--pair", metavar="A,B", help="the two solvers of the scatter plot")

    for verb, kind, default in (
        ("tsp", "TSPLIB .tsp/.atsp", "ils; nearest_neighbour, greedy, space_filling, "
         "cheapest_insertion, farthest_insertion, two_opt, or_opt, or_3opt; bq (the BQ-NCO "
         "policy, neural extra; --option weights=NAME_OR_PATH, beam=16, knn=100, polish=1); "
         "udc (divide and conquer with the BQ policy for large instances, neural extra; "
         "--option rounds=N, size=100, variants=2, divider=learned, polish=1)"),
        ("cvrp", "CVRPLIB .vrp", "ils; savings, sweep, local_search; bq (the BQ-NCO policy, "
         "neural extra; same options as for tsp); udc (as for tsp, start=savings|sweep)"),
    ):  # fmt: skip
        route = verbs.add_parser(
            verb, help=f"solve a {kind} file with the comb heuristics", epilog=_EPILOG
        )
        route.add_argument("file", help=f"{kind} file (read with vrplib)")
        route.add_argument("--method", metavar="NAME", help=f"default {default}")
        route.add_argument(
            "--time-limit", type=float, metavar="S",
            help="wall-clock seconds from the start, reading FILE included; a first run "
            "compiles its kernels before the clock starts",
        )  # fmt: skip
        route.add_argument("--seed", type=int, default=0, metavar="N")
        route.add_argument(
            "--best-known", type=float, metavar="VALUE",
            help="reference cost for the gap"
            + (" (default: the Cost line of FILE's .sol file, if any)" if verb == "cvrp" else ""),
        )  # fmt: skip
        route.add_argument(
            "--option", type=_option, action="append", default=[], metavar="KEY=VALUE",
            help="method option, repeatable (e.g. iterations=1000, k=12)",
        )  # fmt: skip
        route.add_argument(
            "--no-bound", action="store_true",
            help="skip the proven lower bound and the gap to it ("
            + ("Held-Karp for .tsp files, computed beside the search; the assignment bound "
               "for .atsp files, after it)" if verb == "tsp" else "an LP with rounded "
               "capacity cuts up to 200 customers, the degree bound above; computed beside "
               "the search)"),
        )  # fmt: skip
        route.add_argument(
            "--json", action="store_true",
            help="print one JSON object (0-based node indices; CVRP depot 0): cost, "
            "lower_bound and gap (to the bound), best_known and best_known_gap, ...",
        )  # fmt: skip
        route.add_argument("--plot", metavar="OUT.png", help="draw the tour or routes")
        route.add_argument("--quiet", action="store_true", help="no progress lines")

    warm = verbs.add_parser(
        "warmup", help="compile the heuristics' kernels once, after installing",
        description="Compile every Numba kernel of the comb heuristics into Numba's cache, "
        "so that the first tsp/cvrp run (and comb.solve) is as fast as later ones.",
        epilog=_EPILOG,
    )  # fmt: skip
    warm.add_argument("--quiet", action="store_true", help="no progress lines")

    learn = verbs.add_parser(
        "train", help="train a neural model (neural extra)",
        description="Train a neural model. 'hybridsolve train bq --help' lists the options "
        "of the BQ-NCO trainer (problems tsp, atsp, cvrp, op, kp), 'hybridsolve train forge "
        "--help' those of FORGE's self-supervised pretraining on MIP instances, 'hybridsolve "
        "train forge-gap --help' those of FORGE's integrality-gap head, 'hybridsolve train "
        "hints --help' those of the solution-hint head (Predict-and-Search), 'hybridsolve "
        "train branching collect --help' the strong-branching sample collection, 'hybridsolve "
        "train udc --help' those of UDC's divider heatmap.",
        epilog=_EPILOG,
    )  # fmt: skip
    learn.add_argument(
        "model", choices=list(_TRAINERS),
        help="the model family: bq (BQ-NCO), forge (FORGE MIP embeddings), forge-gap "
        "(FORGE's integrality-gap head), hints (solution hints for the MIP solvers), "
        "branching (strong-branching samples for learned branching), udc (UDC's divider heatmap)",
    )  # fmt: skip
    learn.add_argument("options", nargs="*", help="the trainer's options (see train MODEL --help)")

    emb = verbs.add_parser(
        "embed", help="FORGE embeddings of MPS/LP files (neural extra)",
        description="FORGE instance embeddings of MPS/LP files with the pretrained encoder: "
        "the square-rooted histogram of the nodes' codes, then the pooled node embedding "
        "scaled to length 1 (hybridsolve.neural.forge.instance_vector).", epilog=_EPILOG,
    )  # fmt: skip
    emb.add_argument("files", nargs="+", metavar="FILE", help="model files: .mps, .lp, .gz")
    emb.add_argument(
        "--json", action="store_true",
        help="print one JSON list, one object per file: file, embedding, codes_used, ...",
    )  # fmt: skip
    emb.add_argument(
        "--out", metavar="FILE.npz",
        help="write the embeddings (stacked, one row per file) and the file names",
    )  # fmt: skip
    emb.add_argument(
        "--variables", action="store_true",
        help="with --out: also the per-variable embeddings and codes (the rows of all files; "
        "variable_counts says how many are each file's)",
    )  # fmt: skip
    emb.add_argument(
        "--weights", default="forge", metavar="NAME_OR_PATH",
        help="shipped weights name or a registered .pt file (default: forge)",
    )  # fmt: skip
    emb.add_argument("--device", default="auto", help="auto (default), cpu, cuda or cuda:N")
    return parser


#: ``hybridsolve train MODEL``: each trainer's module; it parses its own options.
_TRAINERS = {
    "bq": "hybridsolve.neural.bq.train",
    "forge": "hybridsolve.neural.forge.train",
    "forge-gap": "hybridsolve.neural.forge.gap",
    "hints": "hybridsolve.neural.hints.train",
    "branching": "hybridsolve.neural.branching.command",
    "udc": "hybridsolve.neural.udc.train",
}


def _cmd_train(argv: Sequence[str]) -> int:
    """``hybridsolve train MODEL ...``: the trainer's own command line, lazily imported."""
    from importlib import import_module

    from hybridsolve.neural.runtime import require_torch

    require_torch()  # a missing torch is one line; the forge package checks torch_geometric
    model, options = argv[0], list(argv[1:])
    return import_module(_TRAINERS[model]).main(options, prog=f"hybridsolve train {model}")


def _cmd_embed(args: argparse.Namespace) -> int:
    import numpy as np

    from hybridsolve.mip import UsageError
    from hybridsolve.neural.runtime import require_geometric

    if args.variables and not args.out:
        raise UsageError("--variables needs --out FILE.npz (the JSON holds instance embeddings)")
    if args.out and not args.out.endswith(".npz"):
        raise UsageError(f"--out must end in '.npz', got {args.out!r}")
    require_geometric()
    from hybridsolve.neural.forge import embed_many

    embeddings = embed_many(args.files, weights=args.weights, device=args.device)
    if args.out:
        arrays = {
            "embeddings": np.stack([e.vector for e in embeddings]),
            "histograms": np.stack([e.histogram for e in embeddings]),
            "pooled": np.stack([e.pooled for e in embeddings]),
            "predicted_gap": np.array(
                [np.nan if e.predicted_gap is None else e.predicted_gap for e in embeddings]
            ),
            "files": np.array(args.files),
        }
        if args.variables:
            arrays["variables"] = np.concatenate([e.variables for e in embeddings])
            arrays["codes"] = np.concatenate([e.codes for e in embeddings])
            arrays["variable_counts"] = np.array([e.num_vars for e in embeddings])
        try:
            np.savez(args.out, **arrays)
        except OSError as exc:
            raise UsageError(f"--out: cannot write {args.out} ({exc.strerror})") from None
    if args.json:
        print(json.dumps([
            {"file": file, "embedding": e.vector.tolist(), "codes_used": e.codes_used,
             "variables": e.num_vars, "constraints": e.num_cons,
             "predicted_gap": e.predicted_gap}
            for file, e in zip(args.files, embeddings)
        ]))  # fmt: skip
    else:
        for file, e in zip(args.files, embeddings):
            gap = "" if e.predicted_gap is None else f", predicted gap {e.predicted_gap:.3f}"
            print(f"{file}: {e.num_vars} variables, {e.num_cons} constraints, "
                  f"{e.codes_used} codes used, embedding of {e.vector.size}{gap}")  # fmt: skip
        if args.out:
            print(f"{len(embeddings)} embedding(s) written to {args.out}")
    return 0


def _cmd_warmup(args: argparse.Namespace) -> int:
    """``hybridsolve warmup``: compile (or load from the cache) every comb kernel."""
    from hybridsolve.warmup import warm_everything

    def show(label: str, seconds: float) -> None:
        print(f"{seconds:7.2f} s  {label}", flush=True)

    total = warm_everything(None if args.quiet else show)
    print(f"kernels ready in {total:.1f} s")
    return 0


def _fmt(value: float | None, width: int) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.8g}"


def _progress_printer():
    from hybridsolve.mip import Progress

    header = [f"{'':1}{'time':>8} {'nodes':>9} {'primal':>16} {'dual':>16} {'gap':>9}"]

    def show(report: Progress) -> None:
        if header:
            print(header.pop(), flush=True)
        gap = "-" if report.gap is None else f"{100 * report.gap:.3f}%"
        nodes = "-" if report.nodes is None else str(report.nodes)
        print(
            f"{'*' if report.incumbent else ' '}{report.time:>8.2f} {nodes:>9} "
            f"{_fmt(report.primal, 16)} {_fmt(report.dual, 16)} {gap:>9}",
            flush=True,
        )

    return show


def _cmd_solve(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    from hybridsolve.mip import Status, UsageError, read, write_sol
    from hybridsolve.solvers import available, solve

    if args.solver not in available():
        raise UsageError(f"unknown solver {args.solver!r}; choose from {', '.join(available())}")
    if args.time_limit is not None and args.time_limit <= 0:
        raise UsageError(f"--time-limit must be positive, got {args.time_limit:g}")
    problem = read(args.file)
    if not (args.json or args.quiet):
        print(f"{args.file}: {problem!r}", flush=True)
    time_limit = None
    if args.time_limit is not None:
        time_limit = max(args.time_limit - (time.perf_counter() - start), 1e-3)
    result = solve(
        problem,
        args.solver,
        time_limit=time_limit,
        mip_rel_gap=args.mip_rel_gap,
        threads=args.threads,
        seed=args.seed,
        warm_start=args.warm_start,
        hints=args.hints,
        branching=args.branching,
        log=args.log,
        options=dict(args.option),
        progress=None if (args.json or args.quiet) else _progress_printer(),
    )
    result = _with_total_runtime(result, time.perf_counter() - start)
    if args.solution_file:
        if result.x is not None or result.status is Status.INFEASIBLE:
            write_sol(args.solution_file, problem, result.x, result.objective)
    if args.json:
        out = result.to_dict(include_x=False)
        out["file"] = args.file
        out["x"] = None if result.x is None else dict(zip(problem.var_names, result.x.tolist()))
        print(json.dumps(out))
    else:
        print(result.summary())
        if result.stats.get("hints"):
            print(_hint_line(result.stats["hints"]))
        learned = result.stats.get("plugins", {}).get("gnn_branching")
        if learned:
            print(_branching_line(learned, result.runtime))
        if result.stats.get("operators"):
            print(_operator_table(result.stats))
    return 1 if result.status is Status.ERROR else 0


def _hint_line(hints: dict) -> str:
    """What the hints did: predictions, trust region, trust-region solve."""
    if not hints.get("used"):
        return f"hints       not used: {hints.get('reason', 'unknown')}"
    words = [f"hints       {hints['predicted']} predicted"]
    if "predict_seconds" in hints:
        words.append(f"in {hints['predict_seconds']:.2f} s")
    trust = hints.get("trust_region")
    if trust:
        found = trust.get("objective")
        words.append(
            f"; trust region {trust['zeros'] + trust['ones']} variables, delta {trust['delta']}"
            f", {trust.get('solver', '-')} {trust.get('seconds', 0):.1f} s -> "
            f"{'-' if found is None else f'{found:.10g}'}"
        )
    return " ".join(words)


def _branching_line(stats: dict, runtime: float) -> str:
    """What the learned branching rule did: branchings, fallbacks, its share of the time."""
    if not stats.get("used"):
        return f"branching   not used: {stats.get('reason', 'unknown')}"
    spent = stats["prepare_seconds"] + stats["features_seconds"] + stats["model_seconds"]
    line = (f"branching   {stats['kind']} ({stats['weights']}): {stats['branched']} branchings, "
            f"{stats['fallbacks']} left to SCIP, {spent:.2f} s in the rule "
            f"({100 * spent / max(runtime, 1e-9):.1f}% of the solve)")  # fmt: skip
    if stats.get("error"):
        line += f"; model error: {stats['error']}"
    return line


def _operator_table(stats: dict) -> str:
    """The LNS statistics: the run, the tree searches, and pulls, improvements and time per
    arm (an operator at one rate with its sub-MIP solver, or a tree)."""
    initial = stats.get("initial", {})
    memory = stats.get("bandit_state")
    warm = "" if memory is None else (
        f"; bandit state {memory['file']} ({memory['earlier_runs']} earlier runs, "
        f"{memory['replayed']} observations replayed)")  # fmt: skip
    lines = [
        f"lns         {stats['iterations']} iterations, "
        f"{stats['backend'].replace('both', 'scip+highs')} sub-MIPs, "
        f"{stats['policy']} bandit; initial run {initial.get('seconds', 0):.1f} s "
        f"-> {initial.get('objective', '-')}{warm}",
    ]
    for backend, tree in stats.get("trees", {}).items():
        bound = tree["dual_bound"]
        lines.append(f"tree@{backend:6} {tree['nodes']} nodes, dual bound "
                     f"{'-' if bound is None else f'{bound:.10g}'}")  # fmt: skip
    lines.append(f"{'  arm':30} {'pulls':>6} {'improved':>9} {'solved':>7} {'limit':>6} "
                 f"{'seconds':>8}")  # fmt: skip
    for name, arm in stats["operators"].items():
        lines.append(
            f"  {name:28} {arm['pulls']:>6} {arm['improvements']:>9} {arm['solved']:>7} "
            f"{arm['limits']:>6} {arm['seconds']:>8.1f}"
        )
    return "\n".join(lines)


def _with_total_runtime(result, runtime: float):
    """The result with ``runtime`` counted from the start of the command (reading included)."""
    from dataclasses import replace

    return replace(result, runtime=max(result.runtime, runtime))


def _cmd_check(args: argparse.Namespace) -> int:
    import numpy as np

    from hybridsolve.mip import InputError, check, read, read_sol

    problem = read(args.file)
    sol = read_sol(args.solution)
    if sol.infeasible:
        raise InputError(f"{args.solution}: says =infeas=, there is no solution to check")
    x = np.zeros(problem.num_vars)
    for name, value in sol.values.items():
        try:
            x[problem.index_of(name)] = value
        except KeyError:
            raise InputError(f"{args.solution}: unknown variable {name!r}") from None
    certificate = check(problem, x, tol=args.tol)
    stated = sol.objective
    mismatch = (
        stated is not None
        and certificate.objective is not None
        and abs(stated - certificate.objective) > args.tol * max(1.0, abs(certificate.objective))
    )
    ok = certificate.feasible and not mismatch
    if args.json:
        print(json.dumps({**certificate.to_dict(), "stated_objective": stated, "certified": ok}))
    else:
        print(certificate.summary())
        if mismatch:
            print(f"  objective stated in the file ({stated:.10g}) differs from the recomputed one")
    return 0 if ok else 1


def _cmd_generate(args: argparse.Namespace) -> int:
    from hybridsolve import datasets
    from hybridsolve.mip import UsageError

    if args.list:
        print("\n".join(datasets.distributions()))
        return 0
    if not args.distribution or not args.out:
        raise UsageError("generate needs a DISTRIBUTION and --out DIR (or --list)")
    say = None if args.quiet else (lambda line: print(line, flush=True))
    manifest = datasets.generate(
        args.distribution,
        args.out,
        split=args.split,
        n=args.n,
        seed=args.seed,
        reference_time=args.solve_reference,
        jobs=args.jobs,
        progress=say,
    )
    print(
        f"{len(manifest['instances'])} instances of {manifest['distribution']} "
        f"({manifest['split']} split, seed {manifest['seed']}) in {args.out}"
    )
    return 0


def _names(text: str, what: str) -> list[str]:
    from hybridsolve.mip import UsageError

    names = [part.strip() for part in text.split(",") if part.strip()]
    if not names:
        raise UsageError(f"{what} needs at least one name")
    return names


def _cmd_bench(args: argparse.Namespace) -> int:
    from hybridsolve.benchmarks.runner import progress_line, sweep
    from hybridsolve.benchmarks.store import Store
    from hybridsolve.datasets import load
    from hybridsolve.mip import UsageError

    solvers = _names(args.solvers, "--solvers")
    try:
        seeds = [int(seed) for seed in _names(args.seeds, "--seeds")]
    except ValueError:
        raise UsageError(f"--seeds takes integers like 0,1,2, got {args.seeds!r}") from None
    if args.time_limit <= 0:
        raise UsageError(f"--time-limit must be positive, got {args.time_limit:g}")
    collection = load(args.instances, split=args.split, n=args.n)
    parallel = args.jobs
    tty = sys.stderr.isatty()

    def show(stats, elapsed: float) -> None:
        line = progress_line(stats, elapsed, parallel)
        print(("\r" + line) if tty else line, end="" if tty else "\n", file=sys.stderr, flush=True)

    with Store(args.db) as store:
        stats = sweep(
            collection, solvers, seeds, args.time_limit, store,
            jobs=args.jobs, cluster=args.cluster, grace=args.grace,
            progress=None if args.quiet else show,
        )  # fmt: skip
    if tty and not args.quiet:
        print(file=sys.stderr)
    print(f"{stats.done} runs stored in {args.db} ({stats.skipped} were stored before)")
    return 0


def _cmd_report(args: argparse.Namespace) -> int:
    from pathlib import Path

    from hybridsolve.benchmarks.report import write_report
    from hybridsolve.benchmarks.store import Store
    from hybridsolve.mip import InputError

    if not Path(args.db).is_file():
        raise InputError(f"{args.db}: no such results file")
    with Store(args.db) as store:
        rows = store.rows()
    pair = None if args.pair is None else tuple(_names(args.pair, "--pair"))
    files = write_report(rows, args.out, baseline=args.baseline, pair=pair)
    for file in files:
        print(file)
    return 0


def _sol_cost(path) -> float | None:
    """The ``Cost`` line of the CVRPLIB ``.sol`` file next to ``path``, if there is one."""
    sol = path.with_suffix(".sol")
    if not sol.is_file():
        return None
    for line in sol.read_text(errors="replace").splitlines():
        head, _, value = line.strip().partition(" ")
        if head.lower() == "cost":
            try:
                return float(value)
            except ValueError:
                return None
    return None


def _plot(solution, path: str) -> None:
    """Draw the tour or routes of ``solution`` into a PNG file."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    xy = solution.instance.coords
    fig, ax = plt.subplots(figsize=(7, 7))
    if solution.routes is not None:
        colours = plt.get_cmap("tab20")
        for r, route in enumerate(solution.routes):
            walk = [0, *route.tolist(), 0]
            ax.plot(xy[walk, 0], xy[walk, 1], "-", lw=0.8, color=colours(r % 20))
        ax.plot(xy[1:, 0], xy[1:, 1], "o", ms=2, color="black")
        ax.plot(xy[0, 0], xy[0, 1], "s", ms=8, color="red")
    else:
        walk = [*solution.tour.tolist(), int(solution.tour[0])]
        ax.plot(xy[walk, 0], xy[walk, 1], "-", lw=0.6, color="tab:blue")
        ax.plot(xy[:, 0], xy[:, 1], "o", ms=1.5, color="black")
    name = getattr(solution.instance, "name", "") or type(solution.instance).__name__
    ax.set_title(f"{name}: {solution.method}, cost {solution.cost:.10g}")
    ax.set_aspect("equal")
    try:
        fig.savefig(path, dpi=120, bbox_inches="tight")
    except (OSError, ValueError) as exc:
        from hybridsolve.mip import UsageError

        raise UsageError(f"--plot: cannot write {path} ({exc})") from None
    finally:
        plt.close(fig)


#: Seconds of kernel compilation above which ``hybridsolve tsp/cvrp`` say that they compiled
#: (loading the kernels from Numba's cache takes about 0.2 s).
_COMPILE_NOTE_S = 0.5


class _PrintLines(logging.Handler):
    """A logging handler that prints each message on the current ``sys.stdout``."""

    def emit(self, record: logging.LogRecord) -> None:
        print(record.getMessage(), flush=True)


@contextlib.contextmanager
def _logged(name: str, show: bool) -> Iterator[None]:
    """While inside, print the INFO lines of logger ``name`` (when ``show``)."""
    logger = logging.getLogger(name)
    handler = _PrintLines()
    if show:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)


def _cmd_route(args: argparse.Namespace) -> int:
    start = time.perf_counter()
    from dataclasses import replace
    from pathlib import Path

    from hybridsolve.comb import solve, warm_up
    from hybridsolve.datasets import read_cvrplib, read_tsplib
    from hybridsolve.mip import UsageError
    from hybridsolve.mip.result import relative_gap

    if args.time_limit is not None and args.time_limit <= 0:
        raise UsageError(f"--time-limit must be positive, got {args.time_limit:g}")
    instance = (read_tsplib if args.command == "tsp" else read_cvrplib)(args.file)
    if args.plot and getattr(instance, "coords", None) is None:
        raise UsageError(f"--plot needs node coordinates; {args.file} has none")
    best_known = args.best_known
    if best_known is None and args.command == "cvrp":
        best_known = _sol_cost(Path(args.file))
    if not (args.json or args.quiet):
        print(f"{args.file}: {instance!r}", flush=True)
    bound = not args.no_bound
    header = [f"{'time':>9} {'cost':>16}" + (f" {'bound':>16} {'gap':>9}" if bound else "")]

    def show(seconds: float, cost: float, proven: float | None = None) -> None:
        if header:
            print(header.pop(), flush=True)
        line = f"{seconds:>9.2f} {cost:>16.10g}"
        if proven is not None:
            line += f" {proven:>16.10g} {100 * relative_gap(cost, proven):>8.3f}%"
        elif bound:
            line += f" {'-':>16} {'-':>9}"
        print(line, flush=True)

    options = dict(args.option)
    compiling = warm_up(instance, args.method, bound=bound, **options)  # before the clock
    if compiling > _COMPILE_NOTE_S and not (args.json or args.quiet):
        print(f"compiling kernels (first run only): {compiling:.1f} s", flush=True)
    time_limit = None
    if args.time_limit is not None:  # counted from the start: reading in, compiling out
        time_limit = max(args.time_limit - (time.perf_counter() - start - compiling), 1e-3)
    with _logged("hybridsolve.udc", not (args.json or args.quiet)):  # udc's round lines
        solution = solve(
            instance, args.method, time_limit=time_limit, seed=args.seed,
            progress=None if (args.json or args.quiet) else show, bound=bound, **options,
        )  # fmt: skip
    solution = replace(solution, runtime=time.perf_counter() - start - compiling)
    known_gap = None if best_known is None else solution.gap(best_known)
    if args.plot:
        _plot(solution, args.plot)
    if args.json:
        out = {"file": args.file, **solution.to_dict(), "best_known": best_known,
               "best_known_gap": known_gap}  # fmt: skip
        print(json.dumps(out))
    else:
        line = f"cost {solution.cost:.10g}"
        if solution.bound is not None:
            line += f"  bound {solution.bound:.10g}  gap {100 * solution.gap():.3f}%"
        if known_gap is not None:
            line += f"  best known {best_known:.10g} (gap {100 * known_gap:.3f}%)"
        if solution.routes is not None:
            line += f"  routes {len(solution.routes)}"
        print(f"{line}  time {solution.runtime:.2f} s  method {solution.method}")
        if args.plot:
            print(f"plot written to {args.plot}")
    return 0


def _warning_line(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    """Warnings (a hint model that does not apply, ...) as one line on stderr."""
    print(f"hybridsolve: warning: {message}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command: Callable[[Any], int]
    args: Any  # the trainer's argv, or the parsed namespace
    if argv[:1] == ["train"] and argv[1:2] and argv[1] in _TRAINERS:  # its own options
        command, args = _cmd_train, argv[1:]
    else:
        args = _parser().parse_args(argv)  # --help exits here, before any heavy import
        command = {
            "solve": _cmd_solve,
            "check": _cmd_check,
            "generate": _cmd_generate,
            "bench": _cmd_bench,
            "report": _cmd_report,
            "tsp": _cmd_route,
            "cvrp": _cmd_route,
            "warmup": _cmd_warmup,
            "embed": _cmd_embed,
        }[args.command]
    from hybridsolve.mip.errors import HybridsolveError

    try:
        with warnings.catch_warnings():
            warnings.showwarning = _warning_line
            return command(args)
    except HybridsolveError as exc:
        print(f"hybridsolve: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hybridsolve: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, never a traceback
        print(f"hybridsolve: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
