"""How good are the hint model's predictions, against rounding the LP relaxation?

Run ``python -m hybridsolve.benchmarks.hint_quality [--distributions A,B] [--n N]
[--time-limit S] [--jobs J] [--cache DIR] [--weights NAME_OR_PATH]``.

The first ``n`` *test*-split instances of each distribution (never trained on) are labelled
like the hint model's training data (:mod:`hybridsolve.neural.hints.pools`: SCIP's
improving solutions within the time limit, cached). Two predictors of the best pool
solution's binaries are compared:

- *model*: the hint weights (``forge-hints`` by default), ``P(x_j = 1)``;
- *LP*: the LP relaxation's value of each binary as its probability, the classical
  guess the model must beat (what a solver gets for free from its root LP).

Per distribution it prints, for each predictor, the share of the most confident half of
the binaries that the best solution agrees with (``agree``), the binary cross-entropy
against the objective-weighted pool target (``bce``), and how many instances have their
best solution inside the default trust region (:class:`hybridsolve.mip.HintSettings`: the
most confident half of the binaries fixed to their prediction), which is what the
trust-region solve needs to find it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import numpy as np

from hybridsolve.datasets import registry
from hybridsolve.mip import Hints, Problem
from hybridsolve.mip.hints import binaries
from hybridsolve.mip.trust import trust_region

from .arguments import Parser, positive, run_main

__all__ = ["DEFAULT", "main", "scores"]

#: The medium and hard levels of the five trained domains and of vertex cover (left out).
DEFAULT = ",".join(
    f"{domain}-{level}"
    for domain in ("setcover", "cauctions", "facilities", "indset", "gisp", "mvc")
    for level in ("medium", "hard")
)


def scores(problem: Problem, p: np.ndarray, best: np.ndarray, target: np.ndarray) -> dict:
    """Agreement, cross-entropy and trust-region hit of one predictor on one instance.

    Parameters
    ----------
    problem : Problem
        The instance.
    p : numpy.ndarray
        ``(n,)`` predicted ``P(x_j = 1)``, NaN off the binaries.
    best : numpy.ndarray
        ``(n,)`` the best known solution.
    target : numpy.ndarray
        ``(n,)`` the pool target (:func:`hybridsolve.neural.hints.pools.targets`).

    Returns
    -------
    dict
        ``agree`` (float), ``bce`` (float), ``inside`` (bool).
    """
    mask = binaries(problem)
    q = np.clip(p[mask], 1e-6, 1 - 1e-6)
    t = target[mask]
    bce = float(-(t * np.log(q) + (1 - t) * np.log(1 - q)).mean())
    hints = Hints.from_probabilities(problem, np.where(mask, p, np.nan))
    half = hints.most_confident(max(1, int(mask.sum()) // 2))
    agree = float((hints.value[half] == np.round(best[half])).mean())
    region = trust_region(problem, hints)
    inside = region is not None and region.flips(best) <= region.delta + 1e-6
    return {"agree": agree, "bce": bce, "inside": bool(inside)}


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = Parser(prog="python -m hybridsolve.benchmarks.hint_quality",
                    description=__doc__.split("\n\n")[0])  # fmt: skip
    parser.add_argument("--distributions", default=DEFAULT, help="comma-separated names")
    parser.add_argument("--n", type=positive, default=3, help="test instances each (3)")
    parser.add_argument("--time-limit", type=float, default=10.0, help="labelling SCIP s (10)")
    parser.add_argument("--jobs", type=positive, default=2, help="labelling processes (2)")
    parser.add_argument("--cache", default="runs/hint-pools", help="pool cache folder")
    parser.add_argument("--weights", default="forge-hints", help="hint weights")
    return parser.parse_args(argv)


def _run(args: argparse.Namespace) -> int:
    from hybridsolve.neural.graph import LP_VAR_FEATURES, VAR_FEATURES, encode
    from hybridsolve.neural.hints.pools import collect, targets
    from hybridsolve.neural.hints.predict import predict

    names = [name.strip() for name in args.distributions.split(",") if name.strip()]
    pools = collect(names, "test", args.n, cache=args.cache, time_limit=args.time_limit,
                    jobs=args.jobs, say=print)  # fmt: skip
    lp_column = len(VAR_FEATURES) + LP_VAR_FEATURES.index("lp_value")
    print(f"{'distribution':20} {'n':>2} | {'model agree':>11} {'bce':>6} {'inside':>6} | "
          f"{'LP agree':>8} {'bce':>6} {'inside':>6}")  # fmt: skip
    totals: dict[str, list] = {"model": [], "LP": []}
    for name in names:
        found: dict[str, list] = {"model": [], "LP": []}
        for item in (pool for pool in pools if pool.distribution == name and pool.size):
            problem = registry.get(name).instance("test", item.index)
            best = np.zeros(problem.num_vars)
            best[item.columns] = item.solutions[-1]
            target = targets(item, problem.num_vars)
            hints = predict(problem, args.weights)
            p_model = np.where(hints.value == 1, (1 + hints.confidence) / 2,
                               (1 - hints.confidence) / 2)  # fmt: skip
            lp = encode(problem, lp=True).var_features[:, lp_column].astype(np.float64)
            p_lp = np.where(binaries(problem), np.clip(lp, 0.0, 1.0), np.nan)
            found["model"].append(scores(problem, p_model, best, target))
            found["LP"].append(scores(problem, p_lp, best, target))
        cells = []
        for key in ("model", "LP"):
            rows = found[key]
            totals[key] += rows
            cells.append(_cells(rows))
        print(f"{name:20} {len(found['model']):>2} | {cells[0]:>26} | {cells[1]:>23}")
    print(f"{'all':20} {len(totals['model']):>2} | {_cells(totals['model']):>26} | "
          f"{_cells(totals['LP']):>23}")  # fmt: skip
    return 0


def _cells(rows: list[dict]) -> str:
    if not rows:
        return "-"
    agree = np.mean([row["agree"] for row in rows])
    bce = np.mean([row["bce"] for row in rows])
    inside = sum(row["inside"] for row in rows)
    return f"{agree:11.3f} {bce:6.3f} {inside:>3}/{len(rows):<2}"


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; see the module docstring. Exit code 0, 2 on a usage error."""
    return run_main("python -m hybridsolve.benchmarks.hint_quality", _parse, _run, argv)


if __name__ == "__main__":
    raise SystemExit(main())
