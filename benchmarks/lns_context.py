"""A contextual LNS bandit trained on several distributions against the cold default.

```bash
python -m hybridsolve.benchmarks.lns_context --out runs/ctx            # about 20 minutes
python -m hybridsolve.benchmarks.lns_context --out runs/ctx --context features
```

The question (issue: "context from the instance"): can one bandit-state file, learned on a
mix of distributions, pick the right arms for each? The script

1. *trains*: runs the LNS with a contextual policy (``--policy``, LinUCB by default) whose
   context is the instance's FORGE embedding (``--context forge``) or its size and shape
   (``--context features``), on ``--train`` instances of the *train* split of every
   distribution, taken round-robin, all writing one state file (``OUT/state.json``);
2. *tests*: on ``--test`` instances of the *test* split of every distribution, runs the
   default LNS (Thompson sampling, cold) and the contextual LNS starting from a copy of the
   trained state (frozen: no test run learns from another), same time limit and seed;
3. prints per distribution the shifted geometric mean primal integral (Berthold 2013,
   against the best value either run found) of both, their ratio and wins/ties/losses of
   the contextual run, and writes every run to ``OUT/runs.json`` (rerunning skips them).

The solves run in this process, one at a time (one thread each); the FORGE weights and
torch are loaded once, so their import does not count in the runs' time limits here.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hybridsolve import datasets, solve

from .metrics import primal_integral, shifted_geometric_mean

__all__ = ["main"]

DISTRIBUTIONS = ("setcover-medium", "cauctions-medium", "indset-medium", "gisp-medium",
                 "facilities-medium", "loadbalancing-medium")  # fmt: skip


def _run(problem, options: dict[str, Any], time_limit: float, seed: int) -> dict[str, Any]:
    result = solve(problem, "lns", time_limit=time_limit, seed=seed, threads=1, options=options)
    return {
        "objective": result.objective,
        "sense": "maximize" if problem.maximize else "minimize",
        "trajectory": [[t, p, d] for t, p, d in result.trajectory],
        "iterations": result.stats.get("iterations"),
    }


def _context(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {"policy": args.policy}
    if args.context == "forge":
        from hybridsolve.neural.forge import context_source

        options["context"] = context_source("forge")
    return options


def _table(runs: dict[str, dict[str, Any]], distributions: Sequence[str], tests: int,
           time_limit: float) -> str:  # fmt: skip
    header = f"{'distribution':22} {'sgm PI cold':>12} {'sgm PI ctx':>11} {'ratio':>6}"
    lines = [f"{header} {'W/T/L':>7}"]
    for name in distributions:
        cold, ctx, wins, ties, losses = [], [], 0, 0, 0
        for j in range(tests):
            a, b = runs.get(f"cold/{name}/{j}"), runs.get(f"ctx/{name}/{j}")
            if a is None or b is None:
                continue
            values = [v for v in (a["objective"], b["objective"]) if v is not None]
            best = (max if a["sense"] == "maximize" else min)(values) if values else None
            pa, pb = (primal_integral(r["trajectory"], best, time_limit, r["sense"])
                      for r in (a, b))  # fmt: skip
            cold.append(pa)
            ctx.append(pb)
            wins += pb < pa - 1e-9
            losses += pb > pa + 1e-9
            ties += abs(pb - pa) <= 1e-9
        if not cold:
            continue
        sa, sb = shifted_geometric_mean(cold, 1.0), shifted_geometric_mean(ctx, 1.0)
        lines.append(f"{name:22} {sa:>12.3f} {sb:>11.3f} {sb / sa:>6.2f} "
                     f"{f'{wins}/{ties}/{losses}':>7}")  # fmt: skip
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the experiment; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m hybridsolve.benchmarks.lns_context",
                                     description=__doc__.split("\n\n")[0])  # fmt: skip
    parser.add_argument("--distributions", default=",".join(DISTRIBUTIONS))
    parser.add_argument("--train", type=int, default=2, help="train instances per distribution")
    parser.add_argument("--test", type=int, default=2, help="test instances per distribution")
    parser.add_argument("--time-limit", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--policy", default="linucb", choices=("linucb", "lints"))
    parser.add_argument("--context", default="forge", choices=("forge", "features"))
    parser.add_argument("--out", required=True, help="folder for the state and the runs")
    args = parser.parse_args(argv)
    names = [d for d in args.distributions.split(",") if d]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    state, record = out / "state.json", out / "runs.json"
    runs: dict[str, dict[str, Any]] = json.loads(record.read_text()) if record.exists() else {}
    context = _context(args)
    plan = [(f"train/{n}/{i}", n, "train", i) for i in range(args.train) for n in names]
    plan += [(f"{kind}/{n}/{j}", n, "test", j) for n in names for j in range(args.test)
             for kind in ("cold", "ctx")]  # fmt: skip
    for key, name, split, index in plan:
        if key in runs:
            continue
        problem = datasets.get(name).instance(split, index)
        options: dict[str, Any] = {}
        if key.startswith("train/"):
            options = {**context, "bandit_state": str(state)}
        elif key.startswith("ctx/"):
            frozen = out / "frozen.json"
            shutil.copyfile(state, frozen)
            options = {**context, "bandit_state": str(frozen)}
        runs[key] = _run(problem, options, args.time_limit, args.seed)
        record.write_text(json.dumps(runs))
        print(f"{key}: {runs[key]['objective']} ({runs[key]['iterations']} iterations)",
              flush=True)  # fmt: skip
    print(f"\n{args.policy} with {args.context} context, trained on {args.train} train "
          f"instances per distribution, against the cold default; {args.time_limit:g} s, "
          f"seed {args.seed}")  # fmt: skip
    print(_table(runs, names, args.test, args.time_limit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
