"""How well FORGE's gap head predicts integrality gaps on unseen instances.

Run ``python -m hybridsolve.benchmarks.forge_gap [--per-distribution N] [--time-limit S]
[--jobs J] [--cache DIR] [--gap NAME_OR_PATH] [--train-per-distribution N]``.

The *test* split of every registered distribution (never seen by the encoder nor the head)
is labelled like the head's training data (:mod:`hybridsolve.neural.gap_labels`: the LP
relaxation against the best solution SCIP finds within the time limit; cached, so a rerun
solves nothing). Each instance's gap is predicted by the head (``predicted_gap`` of
:func:`hybridsolve.neural.forge.embed_many`) and by three baselines fitted on the head's own
train labels (the same cache, the first ``--train-per-distribution`` train instances):

- *mean*: the mean train gap, whatever the instance;
- *statistics kNN*: the mean gap of the 5 nearest train instances in the plain
  size/density/type statistics of :mod:`.forge_clusters` (standardised), a predictor that
  knows nothing learned;
- *domain mean*: the mean train gap of the instance's own distribution, an oracle that is
  told the distribution's name, which the head never is.

It prints the mean absolute error per domain and overall, and the head's error as a ratio
to each baseline.
"""

from __future__ import annotations

import argparse
import statistics as stats
from collections import defaultdict
from collections.abc import Sequence

import numpy as np

from hybridsolve.datasets import registry
from hybridsolve.neural.gap_labels import GapLabel, collect

from .forge_clusters import standardise
from .forge_clusters import statistics as plain_statistics

__all__ = ["baselines", "main"]

#: Neighbours of the statistics kNN baseline.
NEIGHBOURS = 5


def _instances(labels: Sequence[GapLabel]) -> list:
    return [registry.get(item.distribution).instance(item.split, item.index) for item in labels]


def baselines(train: Sequence[GapLabel], test: Sequence[GapLabel]) -> dict[str, np.ndarray]:
    """Predictions of the mean, statistics-kNN and domain-mean baselines for ``test``.

    Parameters
    ----------
    train, test : sequence of GapLabel
        Labelled instances with a gap.

    Returns
    -------
    dict of str to numpy.ndarray
    """
    gaps = np.array([item.gap for item in train])
    by_name: dict[str, list[float]] = defaultdict(list)
    for item in train:
        by_name[item.distribution].append(item.gap)
    features_test = np.stack([plain_statistics(p) for p in _instances(test)])
    features_train = np.stack([plain_statistics(p) for p in _instances(train)])
    scaled_test, scaled_train = standardise(features_test, features_train)
    distance = ((scaled_test[:, None, :] - scaled_train[None, :, :]) ** 2).sum(axis=2)
    nearest = np.argsort(distance, axis=1, kind="stable")[:, :NEIGHBOURS]
    return {
        "mean": np.full(len(test), gaps.mean()),
        "statistics kNN": gaps[nearest].mean(axis=1),
        "domain mean": np.array([np.mean(by_name[item.distribution]) for item in test]),
    }


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m hybridsolve.benchmarks.forge_gap",
        description="Error of FORGE's integrality-gap head on the registered test splits.",
    )
    parser.add_argument("--per-distribution", type=int, default=3, help="test instances each")
    parser.add_argument(
        "--train-per-distribution", type=int, default=6,
        help="train instances each for the baselines (the head's training labels)",
    )  # fmt: skip
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds of each label")
    parser.add_argument("--jobs", type=int, default=2, help="labelling processes")
    parser.add_argument("--cache", default="runs/gap-labels", help="label cache folder")
    parser.add_argument("--weights", default="forge", help="FORGE encoder weights")
    parser.add_argument("--gap", default="auto", help="gap head (default: <weights>-gap)")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Label, predict and print the table; 0 on success."""
    args = _parse(argv)
    from hybridsolve.neural.forge import embed_many

    names = registry.distributions()
    label = {"cache": args.cache, "time_limit": args.time_limit, "jobs": args.jobs}
    test = [i for i in collect(names, "test", args.per_distribution, **label) if i.gap is not None]
    train = collect(names, "train", args.train_per_distribution, **label)
    train = [item for item in train if item.gap is not None]
    found = embed_many(_instances(test), weights=args.weights, gap=args.gap)
    if any(item.predicted_gap is None for item in found):
        print(f"no gap head for weights {args.weights!r} (--gap {args.gap})")
        return 1
    predictions = {"forge head": np.array([item.predicted_gap for item in found])}
    predictions |= baselines(train, test)
    truth = np.array([item.gap for item in test])
    domains = sorted({registry.get(item.distribution).domain for item in test})
    columns = list(predictions)
    print(
        f"mean absolute error of the gap on {len(test)} test instances "
        f"({args.per_distribution} per distribution; labels: SCIP {args.time_limit:g} s)\n"
    )
    print(f"{'domain':<16} {'gap':>6} " + " ".join(f"{c:>15}" for c in columns))
    for domain in [*domains, "all"]:
        rows = np.array([
            domain == "all" or registry.get(item.distribution).domain == domain for item in test
        ])  # fmt: skip
        errors = [np.abs(predictions[c][rows] - truth[rows]).mean() for c in columns]
        print(f"{domain:<16} {truth[rows].mean():>6.3f} " + " ".join(f"{e:>15.4f}" for e in errors))
    head = np.abs(predictions["forge head"] - truth).mean()
    for name in columns[1:]:
        other = np.abs(predictions[name] - truth).mean()
        print(f"forge head / {name}: {head / other:.3f}")
    proven = stats.mean(item.proven for item in test)
    print(f"labels proven optimal: {proven:.0%} (the rest are gaps to SCIP's best solution)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
