"""The ``hybridsolve`` command line.

Exit codes: 0 finished (whatever the model status; for ``check``: certified), 1 solver
error (for ``check``: not certified), 2 usage error, 3 unreadable input, 130 interrupted
outside a solve. Heavy modules are imported inside the commands so that ``--help``
stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any, NoReturn

__all__ = ["main"]

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
        description="Solve MIP/LP files with SCIP or HiGHS behind one certified result.",
        epilog=_EPILOG,
    )
    from hybridsolve import __version__

    parser.add_argument("--version", action="version", version=f"hybridsolve {__version__}")
    verbs = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    verbs.required = True

    run = verbs.add_parser("solve", help="solve an MPS/LP file", epilog=_EPILOG)
    run.add_argument("file", help="model file: .mps, .lp, optionally .gz")
    run.add_argument(
        "--solver", default="scip", help="scip (default), highs, or a registered solver"
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
    return parser


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
    return 1 if result.status is Status.ERROR else 0


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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(argv)
    from hybridsolve.mip.errors import HybridsolveError

    try:
        return {"solve": _cmd_solve, "check": _cmd_check}[args.command](args)
    except HybridsolveError as exc:
        print(f"hybridsolve: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("hybridsolve: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line, never a traceback
        print(f"hybridsolve: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
