"""Imitation accuracy of branching scorers per distribution, on held-out instances.

``python -m hybridsolve.benchmarks.branching_accuracy --weights A,B --distributions X,Y``

Collects (or reads from the cache) strong-branching shards of the first ``--n`` instances
of a split no scorer trains on (``valid`` by default; training reads ``train``) and prints,
per distribution and scorer, the imitation loss and the top-1 / top-5 accuracy against the
strong-branching choice. It is how the shipped mixed scorer is held against
per-distribution scorers trained on the same nodes of their own distribution (issue 15,
after Huang et al. 2024)::

    python -m hybridsolve.benchmarks.branching_accuracy \\
        --weights branching-hybrid,runs/per-dist/setcover.pt,runs/per-dist/indset.pt \\
        --distributions setcover-easy,indset-easy --n 10
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Print the accuracy table; exit 0, 2 on a usage error, 3 on unusable weights."""
    parser = argparse.ArgumentParser(
        prog="python -m hybridsolve.benchmarks.branching_accuracy",
        description="Held-out imitation accuracy of branching scorers per distribution.",
    )
    parser.add_argument("--weights", required=True, help="comma-separated names or .pt files")
    parser.add_argument("--distributions", required=True, help="comma-separated names")
    parser.add_argument("--split", default="valid", help="the split (default valid)")
    parser.add_argument("--n", type=int, default=10, help="instances per distribution")
    parser.add_argument("--rate", type=float, default=0.5)
    parser.add_argument("--samples", type=int, default=80)
    parser.add_argument("--time-limit", type=float, default=60.0)
    parser.add_argument("--cache", default="runs/branching-samples")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)
    from hybridsolve.mip.errors import HybridsolveError
    from hybridsolve.neural.branching.collect import collect
    from hybridsolve.neural.branching.fit import evaluate, groups
    from hybridsolve.neural.branching.model import build
    from hybridsolve.neural.weights import load_model

    lines = ["| distribution | weights | nodes | loss | top-1 | top-5 |",
             "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    try:
        models = {name: load_model(name, build, device="cpu", problem="mip-branching")
                  for name in args.weights.split(",")}  # fmt: skip
        for distribution in args.distributions.split(","):
            held = collect(
                [distribution], args.split, args.n, cache=args.cache, rate=args.rate,
                time_limit=args.time_limit, limit=args.samples, jobs=args.jobs,
            )  # fmt: skip
            for name, (model, entry) in models.items():
                kind = entry["model"]["kind"]
                found = evaluate(model, groups(held, kind), kind, "cpu")
                figures = " | ".join(f"{found[key]:.3f}" for key in ("loss", "top1", "top5"))
                lines.append(f"| {distribution} | {name} | {found['nodes']} | {figures} |")
    except HybridsolveError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
