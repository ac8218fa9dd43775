"""BQ-NCO policies against ``comb``'s heuristics, LKH-3 and PyVRP on fixed TSP/CVRP test sets.

Run ``python -m hybridsolve.benchmarks.bq_routing [--problem tsp|cvrp] [--sizes N,N,...]
[--instances K] [--beam-instances K] [--weights NAME_OR_PATH] [--beam W] [--knn K|none]
[--device auto] [--batch B] [--jobs J] [--cache DIR] [--seed S] [--json OUT]``.

Test sets. The test set of size ``n`` is ``K`` instances drawn one after the other from
``numpy.random.default_rng([S, n])`` (``S = 2024`` by default) by
``datasets.routing.tsp_uniform`` / ``cvrp``: a stream distinct from the training and
validation streams of :func:`hybridsolve.neural.bq.train` (``[data_seed, 0]`` and
``[data_seed, 1]``, ``data_seed = 1234`` by default). ``K`` is 1000 at ``n <= 100`` and 128
above unless ``--instances`` says otherwise; a smaller set is a prefix of a larger one.

Reference. Every gap is measured against the problem's labelling solver, the expert the
policies imitate (:meth:`~hybridsolve.neural.bq.BQProblem.label`): for the TSP
``comb.solve(instance, "ils", seed=0)`` with its default iteration budget (the budget of
the TSP labels), for the CVRP the CVRP problem's own labeller. References are computed by
:func:`hybridsolve.neural.bq.make_labels` in ``--jobs`` worker processes and cached in
``--cache`` (one ``.npz`` per instance, keyed by the instance's data and the labeller's
settings), so a rerun, or a run on a prefix of the set, labels nothing again.

Decoding restricts every state to the ``--knn K`` candidates nearest to the current node
where ``n > K`` (default 100: full states up to 100 nodes, the paper's setting above).

Rows, per problem and size (``gap = cost / reference - 1`` per instance, its mean and
largest over the row's instances; negative where a method beats the reference):

- ``bq greedy``: :func:`~hybridsolve.neural.bq.greedy` over the whole set, batched;
- ``bq beam-W``: :func:`~hybridsolve.neural.bq.beam_search` of width ``W`` (``--beam``) on
  the first ``--beam-instances`` instances (beam search costs about ``W`` times greedy);
- ``bq beam-W + improve``: those beams, each polished by :func:`hybridsolve.comb.improve`
  (2-opt and Or-opt for tours, the granular local search for routes);
- ``comb METHOD``: ``comb.solve(instance, METHOD, seed=0)`` for the TSP's
  ``nearest_neighbour``, ``greedy`` and ``or_opt`` and the CVRP's ``savings`` and
  ``local_search``, on the whole set;
- ``comb ils``: ``comb.solve(instance, "ils", time_limit=T, seed=0)`` with ``T`` the time
  per instance of ``bq beam-W + improve``, on the beam rows' instances;
- the external peer on those instances: for the TSP LKH-3 through ``elkai`` (one run, its
  default parameters: elkai takes no time limit, so its own time is printed; elkai is
  free for non-commercial use only and never a dependency, so the row is skipped with a
  note when it is missing), for the CVRP PyVRP with ``MaxRuntime(T)``.

Time per instance is wall clock. For the policy rows it is the time of the whole batched
call divided by the number of instances: batch throughput is where a neural policy earns
its place, and on a GPU one forward pass serves many instances. ``beam + improve`` adds
the mean wall clock of one ``improve`` call (on the CPU, one instance at a time) to the
beam row's time. comb's methods and the peers solve one instance at a time in this
process. Everything is warmed up (model, Numba compilation) before a clock starts.

Targets of the shipped models, on the mean gap: TSP100 greedy <= 2%, beam-16 <= 1%,
beam-16 + improve <= 0.3%; TSP1000 greedy <= 6%; CVRP100 greedy <= 5%.

At the top the command prints the facts of the weights' manifest entry (training sizes,
device, epochs, seconds, validation gap, training command); ``--json OUT`` writes them
with every row (its per-instance costs and references included).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hybridsolve import comb
from hybridsolve.datasets import routing

from .arguments import Parser, positive, run_main
from .comb_routing import installed, lkh_cost, pyvrp_cost

__all__ = ["TARGETS", "Decoding", "MethodRow", "benchmark_set", "main", "measure", "references"]

PROG = "python -m hybridsolve.benchmarks.bq_routing"
#: Default sizes (cities for the TSP, customers for the CVRP).
SIZES = (100, 200, 500, 1000)
#: Default first entry of the test sets' seed sequence ``[seed, n]``.
TEST_SEED = 2024
#: Default ``--knn``: the candidate restriction of decoding where ``n`` exceeds it.
KNN = 100
#: Largest mean gap (fraction) the issue asks of the shipped models, by (problem, size) and
#: row kind: ``greedy``, ``beam`` (width 16) and ``beam+improve``.
TARGETS: dict[tuple[str, int], dict[str, float]] = {
    ("tsp", 100): {"greedy": 0.02, "beam": 0.01, "beam+improve": 0.003},
    ("tsp", 1000): {"greedy": 0.06},
    ("cvrp", 100): {"greedy": 0.05},
}
#: The beam width the beam targets were set for.
TARGET_BEAM = 16
#: comb's untimed heuristics shown beside the policy, by problem.
COMB_METHODS = {
    "tsp": ("nearest_neighbour", "greedy", "or_opt"),
    "cvrp": ("savings", "local_search"),
}
GENERATORS: dict[str, Callable[[np.random.Generator, int], Any]] = {
    "tsp": routing.tsp_uniform,
    "cvrp": routing.cvrp,
}


@dataclass(frozen=True)
class MethodRow:
    """One method's measurement on one test set.

    Attributes
    ----------
    problem : str
        ``"tsp"`` or ``"cvrp"``.
    size : int
        Cities (TSP) or customers (CVRP).
    method : str
        What ran (``"bq greedy"``, ``"comb ils"``, ...).
    costs : tuple of float
        Per instance, the cost by the instance's own metric; NaN where the method found no
        feasible solution.
    references : tuple of float
        Per instance, the reference (labelling solver's) cost.
    seconds : float
        Wall-clock seconds per instance.
    target : float, optional
        Largest mean gap (fraction) asked of this row.
    note : str
        What else to know (a time limit, a subset).
    """

    problem: str
    size: int
    method: str
    costs: tuple[float, ...]
    references: tuple[float, ...]
    seconds: float
    target: float | None = None
    note: str = ""

    @property
    def instances(self) -> int:
        """Instances the method ran on."""
        return len(self.costs)

    @property
    def gaps(self) -> np.ndarray:
        """Per instance ``cost / reference - 1`` (NaN without a solution)."""
        return np.asarray(self.costs, dtype=np.float64) / np.asarray(self.references) - 1.0

    @property
    def failures(self) -> int:
        """Instances without a feasible solution."""
        return int(np.isnan(np.asarray(self.costs, dtype=np.float64)).sum())

    @property
    def mean_gap(self) -> float | None:
        """Mean gap over the solved instances (``None`` when none is solved)."""
        gaps = self.gaps[np.isfinite(self.gaps)]
        return float(gaps.mean()) if gaps.size else None

    @property
    def max_gap(self) -> float | None:
        """Largest gap over the solved instances (``None`` when none is solved)."""
        gaps = self.gaps[np.isfinite(self.gaps)]
        return float(gaps.max()) if gaps.size else None

    @property
    def met(self) -> bool | None:
        """Whether the mean gap meets the target (``None`` without a target)."""
        if self.target is None:
            return None
        return self.mean_gap is not None and self.failures == 0 and self.mean_gap <= self.target

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields; gaps as fractions."""
        return {
            "problem": self.problem,
            "size": self.size,
            "method": self.method,
            "instances": self.instances,
            "mean_gap": self.mean_gap,
            "max_gap": self.max_gap,
            "seconds_per_instance": self.seconds,
            "failures": self.failures,
            "target": self.target,
            "met": self.met,
            "note": self.note,
            "costs": [None if np.isnan(c) else float(c) for c in self.costs],
            "references": [float(r) for r in self.references],
        }

    def line(self) -> str:
        """The row as printed."""
        mean, largest = self.mean_gap, self.max_gap
        target = "-"
        if self.target is not None:
            target = f"<= {100 * self.target:g} %: {'met' if self.met else 'NOT met'}"
        note = self.note
        if self.failures:
            note = f"{note}; " * bool(note) + f"no feasible solution on {self.failures}"
        return (
            f"  {self.method:26} {self.instances:>9} {_percent(mean):>10} {_percent(largest):>10}"
            f" {self.seconds:12.6f}  {target:18} {note}"
        ).rstrip()


HEADER = (
    f"  {'method':26} {'instances':>9} {'mean gap %':>10} {'max gap %':>10} {'s/instance':>12}"
    f"  {'target':18} note"
)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:+.3f}"


def benchmark_set(problem: str, n: int, count: int, seed: int = TEST_SEED) -> list[Any]:
    """The first ``count`` instances of the test set of ``problem`` and size ``n``.

    Drawn one after the other from ``numpy.random.default_rng([seed, n])``, so the set of
    ``count`` instances is a prefix of any larger one.
    """
    rng = np.random.default_rng([seed, n])
    return [GENERATORS[problem](rng, n) for _ in range(count)]


def references(
    problem: str, instances: Sequence[Any], *, jobs: int = 1, cache: str | Path | None = None
) -> np.ndarray:
    """Costs of the problem's labelling solver (seed 0, its default budget) on ``instances``.

    Computed by :func:`hybridsolve.neural.bq.make_labels` in ``jobs`` processes and cached
    in ``cache`` (one ``.npz`` per instance).
    """
    from hybridsolve.neural.bq import make_labels

    labels = make_labels(problem, instances, workers=jobs, cache_dir=cache, seed=0,
                         progress=sys.stderr.isatty())  # fmt: skip
    return np.asarray(labels.costs, dtype=np.float64)


def _timed(function: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    out = function()
    return out, time.perf_counter() - start


def _one_by_one(
    instances: Sequence[Any],
    solve: Callable[[Any], float],
    infeasible: type[Exception] | tuple[type[Exception], ...] = (),
) -> tuple[list[float], float]:
    """Costs of ``solve`` on each instance and the mean wall-clock seconds per call.

    ``infeasible`` names the exceptions that mean "no feasible solution found" (NaN cost).
    """
    costs, total = [], 0.0
    for instance in instances:
        start = time.perf_counter()
        try:
            cost = float(solve(instance))
        except infeasible:
            cost = float("nan")
        total += time.perf_counter() - start
        costs.append(cost)
    return costs, total / max(1, len(instances))


@dataclass(frozen=True)
class Decoding:
    """How the policy decodes: its weights, device, batch, beam width and kNN rule."""

    policy: Any
    device: Any
    batch: int
    beam: int
    knn: int | None

    def knn_at(self, n: int) -> int | None:
        """The candidate restriction at size ``n``: ``knn`` where ``n`` exceeds it."""
        return self.knn if self.knn is not None and n > self.knn else None


def _warm_up(problem: str, decoding: Decoding) -> None:
    """Every code path once on a small instance: model, kernels, Numba compilation."""
    from hybridsolve.neural.bq import beam_search, greedy

    instance = GENERATORS[problem](np.random.default_rng(0), 20)
    options = {"device": decoding.device, "batch": decoding.batch}
    greedy(decoding.policy, [instance], knn=10, **options)
    answers, _ = beam_search(decoding.policy, [instance], width=decoding.beam, **options)
    comb.improve(instance, answers[0], seed=0)
    for method in COMB_METHODS[problem]:
        comb.solve(instance, method, seed=0)
    comb.solve(instance, "ils", time_limit=0.05, seed=0)
    if problem == "cvrp" and installed("pyvrp"):
        pyvrp_cost(instance, 0.05, 0)


def measure(
    problem: str,
    n: int,
    instances: Sequence[Any],
    reference: np.ndarray,
    decoding: Decoding,
    beam_instances: int,
    report: Callable[[MethodRow | str], None] = lambda _: None,
) -> list[MethodRow]:
    """Every row of one test set; ``report`` receives each row (or note) when it is ready.

    Parameters
    ----------
    problem : str
        ``"tsp"`` or ``"cvrp"``.
    n : int
        The set's size.
    instances : sequence
        The test set.
    reference : numpy.ndarray
        The reference cost of each instance.
    decoding : Decoding
        The policy and its decoding settings.
    beam_instances : int
        How many of the first instances the beam, ``comb ils`` and peer rows run on.
    report : callable, optional
        Called with each :class:`MethodRow` and with the notes of skipped rows.

    Returns
    -------
    list of MethodRow
    """
    from hybridsolve.neural.bq import beam_search, get, greedy

    bq = get(problem)
    knn = decoding.knn_at(n)
    options = {"knn": knn, "device": decoding.device, "batch": decoding.batch}
    targets = TARGETS.get((problem, n), {})
    beam_targets = decoding.beam == TARGET_BEAM
    rows: list[MethodRow] = []

    def add(method: str, costs: Sequence[float], seconds: float, kind: str = "",
            note: str = "") -> None:  # fmt: skip
        target = targets.get(kind) if kind == "greedy" or beam_targets else None
        row = MethodRow(problem, n, method, tuple(float(c) for c in costs),
                        tuple(float(r) for r in reference[: len(costs)]), seconds, target,
                        note)  # fmt: skip
        rows.append(row)
        report(row)

    count = len(instances)
    subset = list(instances[: min(count, beam_instances)])
    part = "" if len(subset) == count else f"first {len(subset)} of {count}"
    (answers, costs), seconds = _timed(lambda: greedy(decoding.policy, list(instances), **options))
    for instance, answer in zip(instances, answers):
        bq.check(instance, answer)
    add("bq greedy", costs, seconds / count, "greedy")

    width = decoding.beam
    (beams, costs), seconds = _timed(
        lambda: beam_search(decoding.policy, subset, width=width, **options)
    )
    for instance, answer in zip(subset, beams):
        bq.check(instance, answer)
    beam_seconds = seconds / len(subset)
    add(f"bq beam-{width}", costs, beam_seconds, "beam", part)

    polished, improve_seconds = _one_by_one(
        list(zip(subset, beams)), lambda pair: comb.improve(*pair, seed=0).cost
    )
    budget = beam_seconds + improve_seconds
    add(f"bq beam-{width} + improve", polished, budget, "beam+improve", part)

    for method in COMB_METHODS[problem]:
        costs, seconds = _one_by_one(instances, lambda x, m=method: comb.solve(x, m, seed=0).cost)
        add(f"comb {method}", costs, seconds)
    equal = f"time limit {budget:.3g} s = bq beam-{width} + improve"
    costs, seconds = _one_by_one(
        subset, lambda x: comb.solve(x, "ils", time_limit=budget, seed=0).cost
    )
    add("comb ils", costs, seconds, note=equal + (f", {part}" if part else ""))

    if problem == "tsp":
        if installed("elkai"):
            costs, seconds = _one_by_one(subset, lkh_cost)
            note = "runs=1, its own time (elkai takes no time limit)"
            add("LKH-3 (elkai)", costs, seconds, note=note + (f", {part}" if part else ""))
        else:
            report("  LKH-3: elkai not installed (pip install elkai; LKH-3 is free for "
                   "non-commercial use only, never a dependency): row skipped")  # fmt: skip
    elif installed("pyvrp"):
        # PyVRP raises RuntimeError when its best solution within the time is infeasible
        costs, seconds = _one_by_one(subset, lambda x: pyvrp_cost(x, budget, 0), RuntimeError)
        note = f"MaxRuntime {budget:.3g} s = bq beam-{width} + improve"
        add("PyVRP", costs, seconds, note=note + (f", {part}" if part else ""))
    else:
        report("  PyVRP: not installed (pip install pyvrp): row skipped")
    return rows


# ------------------------------------------------------------------ command line


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        sizes = ()
    if not sizes or min(sizes) < 3:
        raise argparse.ArgumentTypeError(
            f"expected sizes of at least 3 like 100,200,500,1000, got {text!r}"
        )
    return tuple(dict.fromkeys(sizes))


def _knn(text: str) -> int | None:
    return None if text.lower() in ("none", "0") else positive(text)


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = Parser(
        prog=PROG,
        description="BQ-NCO greedy / beam / beam + local search against comb's heuristics, "
        "LKH-3 (elkai) and PyVRP: gaps to the labelling solver and time per instance.",
    )
    parser.add_argument("--problem", choices=("tsp", "cvrp"), default="tsp")
    parser.add_argument(
        "--sizes",
        type=_sizes,
        default=SIZES,
        metavar="N,N,...",
        help="cities / customers (default: 100,200,500,1000)",
    )
    parser.add_argument(
        "--instances",
        type=positive,
        metavar="K",
        help="instances per size (default: 1000 at n <= 100, 128 above)",
    )
    parser.add_argument(
        "--beam-instances",
        type=positive,
        metavar="K",
        help="cap on the instances of the beam, comb ils and peer rows",
    )
    parser.add_argument(
        "--weights",
        metavar="NAME_OR_PATH",
        help="shipped weights name, or a .pt file with a manifest.json beside it "
        "(default: the problem's name)",
    )
    parser.add_argument(
        "--beam",
        type=positive,
        default=TARGET_BEAM,
        metavar="W",
        help=f"beam width (default {TARGET_BEAM})",
    )
    parser.add_argument(
        "--knn",
        type=_knn,
        default=KNN,
        metavar="K|none",
        help=f"decode on the K nearest candidates where n > K (default {KNN})",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument(
        "--batch",
        type=positive,
        default=256,
        help="most partial solutions per forward pass (default 256)",
    )
    parser.add_argument(
        "--jobs", type=positive, default=1, help="processes computing the references (default 1)"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        metavar="DIR",
        help="folder caching the references (default: no cache)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=TEST_SEED,
        help=f"test sets are default_rng([SEED, n]) (default {TEST_SEED})",
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="write every row as JSON")
    return parser.parse_args(argv)


def describe(weights: str, entry: dict[str, Any], device: Any, decoding: Decoding) -> list[str]:
    """The lines about the weights (manifest facts) and the decoding printed at the top."""
    gap = entry.get("validation_gap")
    model = " ".join(f"{key}={value}" for key, value in entry["model"].items())
    knn = "none" if decoding.knn is None else f"{decoding.knn} where n > {decoding.knn}"
    return [
        f"weights {weights}: {entry['file']} (sha256 {entry['sha256'][:12]}), problem "
        f"{entry['problem']}, model {model}",
        f"  trained on sizes {entry['train_sizes']} (data seed {entry['data_seed']}), "
        f"{entry['epochs']} epochs in {float(entry['seconds']):.0f} s on {entry['device']}, "
        f"torch {entry['torch_version']}, created {entry['created']}; validation gap "
        f"{'-' if gap is None else f'{100 * gap:.3f} %'}",
        f"  train command: {entry['train_command']}",
        f"decoding on {device}, batch {decoding.batch}, beam {decoding.beam}, knn {knn}",
    ]


def _run(args: argparse.Namespace) -> int:
    from hybridsolve.neural import device as resolve_device
    from hybridsolve.neural.bq import get, load_policy

    bq = get(args.problem)  # UsageError where BQ-NCO has no such problem (yet)
    weights = args.weights or args.problem
    dev = resolve_device(args.device)
    policy, entry = load_policy(weights, device=dev, problem=args.problem)
    decoding = Decoding(policy, dev, args.batch, args.beam, args.knn)
    for line in describe(weights, entry, dev, decoding):
        print(line)
    if entry["data_seed"] == args.seed:
        print(f"warning: --seed {args.seed} is the weights' data seed; test sets are "
              "default_rng([seed, n]), training sets default_rng([seed, 0 or 1])")  # fmt: skip
    print(f"reference: the {args.problem} labeller ({bq.label_method}, its default budget, "
          f"seed 0); gap = cost / reference - 1")  # fmt: skip
    _warm_up(args.problem, decoding)
    out: dict[str, Any] = {"problem": args.problem, "weights": str(weights), "manifest": entry,
                           "device": str(dev), "settings": _settings(args), "rows": []}  # fmt: skip
    if args.json is not None:  # an unwritable --json fails now, not after the measurements
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    for n in args.sizes:
        count = args.instances or (1000 if n <= 100 else 128)
        instances = benchmark_set(args.problem, n, count, args.seed)
        start = time.perf_counter()
        reference = references(args.problem, instances, jobs=args.jobs, cache=args.cache)
        seconds = time.perf_counter() - start
        knn = decoding.knn_at(n)
        print(f"\n{args.problem} n={n}: {count} instances (default_rng([{args.seed}, {n}])), "
              f"knn {knn or 'none'}; references ready in {seconds:.1f} s")  # fmt: skip
        print(HEADER, flush=True)
        rows = measure(args.problem, n, instances, reference, decoding,
                       args.beam_instances or count, _print)  # fmt: skip
        out["rows"] += [row.to_dict() for row in rows]
        if args.json is not None:
            args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


def _print(item: MethodRow | str) -> None:
    print(item.line() if isinstance(item, MethodRow) else item, flush=True)


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {key: (str(value) if isinstance(value, Path) else value)
            for key, value in vars(args).items()}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its tables.

    Returns
    -------
    int
        0 when done; 2 on a usage error (one line on stderr), 3 on unusable weights.
    """
    return run_main(PROG, _parse, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
