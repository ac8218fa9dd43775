"""``comb``'s TSP and CVRP heuristics against LKH-3 (``elkai``) and PyVRP, in one run.

Run ``python -m hybridsolve.benchmarks.comb_routing [tsp|cvrp|both] [--sizes N,N,...]
[--instances K] [--seed S] [--budget N=SECONDS,...] [--files FILE ...]``.

TSP: on random uniform instances (``datasets.routing.tsp_uniform``, seeds ``S, S+1, ...``)
and on the TSPLIB files given, ``comb.solve(instance, "ils", time_limit=budget)`` runs
against LKH-3 through the ``elkai`` package (``runs=1``, its default parameters otherwise;
LKH-3 takes the time it needs, which is printed). The gap is ``ours / LKH - 1`` and the
time ratio ``our seconds / LKH seconds``. Targets: gap at most 2% at n = 1000 within 1 s
and at most 4% at n = 10000 within 10 s.

CVRP: on random instances of the neural-CO scheme (``datasets.routing.cvrp``) and the
CVRPLIB files given, ``comb``'s ``ils`` and PyVRP's solver run with the same wall-clock
budget and seed; the gap is ``ours / PyVRP - 1``. Targets: at most 3% at n = 100 and at
most 5% at n = 1000.

Both peers are optional (``pip install elkai pyvrp``; elkai wraps LKH-3, which is free for
non-commercial use only, so it is never a dependency of hybridsolve). A missing peer is
reported and its columns stay empty. Costs are always recomputed by the instance's own
cost function from the returned tour or routes: peers see integer distances (unrounded
coordinates are scaled by :data:`SCALE` before rounding), so their own objective values
are not comparable as they are. ``comb.solve`` compiles its kernels before its clock
starts (:func:`hybridsolve.comb.warm_up`).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hybridsolve import comb
from hybridsolve.comb import CVRP, TSP
from hybridsolve.datasets import routing

__all__ = [
    "Row",
    "installed",
    "lkh_cost",
    "lkh_tour",
    "main",
    "pyvrp_cost",
    "pyvrp_routes",
    "run_cvrp",
    "run_tsp",
]

#: Unrounded coordinates are multiplied by this before peers round distances to integers.
SCALE = 100_000.0
#: Default wall-clock budget of our search (and of PyVRP) by instance size.
TSP_BUDGETS = {100: 0.1, 1000: 1.0, 10000: 10.0}
CVRP_BUDGETS = {100: 5.0, 500: 15.0, 1000: 30.0}
#: Largest gap (fraction) the issue asks for, by problem and size.
TARGETS = {("tsp", 1000): 0.02, ("tsp", 10000): 0.04, ("cvrp", 100): 0.03, ("cvrp", 1000): 0.05}


@dataclass(frozen=True)
class Row:
    """One instance's measurement.

    Attributes
    ----------
    problem : str
        ``"tsp"`` or ``"cvrp"``.
    name : str
        Instance name.
    size : int
        Cities (TSP) or customers (CVRP).
    budget : float
        Our time limit in seconds.
    cost, seconds : float
        Our cost and wall-clock time.
    peer_cost, peer_seconds : float or None
        The peer's cost (recomputed by the instance) and time; ``None`` without the peer.
    """

    problem: str
    name: str
    size: int
    budget: float
    cost: float
    seconds: float
    peer_cost: float | None = None
    peer_seconds: float | None = None

    @property
    def gap(self) -> float | None:
        """``cost / peer_cost - 1``, or ``None`` without a peer."""
        if self.peer_cost is None:
            return None
        return self.cost / self.peer_cost - 1.0

    @property
    def ratio(self) -> float | None:
        """Our seconds over the peer's, or ``None`` without a peer."""
        if self.peer_seconds is None:
            return None
        return self.seconds / max(self.peer_seconds, 1e-9)


def _integer_matrix(instance: TSP | CVRP) -> np.ndarray:
    """The instance's distances as integers: exact for rounded metrics, scaled otherwise.

    Built here from the coordinates (not with ``instance.distance_matrix()``, which refuses
    more than 5,000 nodes), since the peers take a full matrix at any size.
    """
    from scipy.spatial.distance import cdist

    if instance.distances is not None:
        d = np.asarray(instance.distances, dtype=np.float64)
    else:
        d = cdist(instance.coords, instance.coords)
        if instance.rounding == "nint":
            return np.floor(d + 0.5).astype(np.int64)
    return np.rint(d * SCALE).astype(np.int64)


def lkh_tour(instance: TSP) -> np.ndarray:
    """A tour of ``instance`` by LKH-3 through ``elkai`` (one run).

    Coordinates go to LKH-3 as ``EUC_2D`` (scaled by :data:`SCALE` unless the instance
    already rounds to integers); an explicit matrix goes as integers.

    Raises
    ------
    ImportError
        When ``elkai`` is not installed.
    """
    import elkai

    n = instance.num_nodes
    if instance.distances is None and instance.coords is not None:
        scale = 1.0 if instance.rounding == "nint" else SCALE
        points = enumerate(np.asarray(instance.coords, dtype=np.float64) * scale)
        tour = elkai.Coordinates2D({i: (float(x), float(y)) for i, (x, y) in points}).solve_tsp(
            runs=1
        )
    else:
        tour = elkai.DistanceMatrix(_integer_matrix(instance).tolist()).solve_tsp(runs=1)
    return np.asarray([int(v) for v in tour][:n], dtype=np.int64)


def pyvrp_routes(instance: CVRP, seconds: float, seed: int) -> list[np.ndarray]:
    """Routes of ``instance`` by PyVRP's solver within ``seconds`` of wall clock.

    Raises
    ------
    ImportError
        When ``pyvrp`` is not installed.
    RuntimeError
        When PyVRP's best solution is infeasible.
    """
    import pyvrp
    from pyvrp.stop import MaxRuntime

    d = _integer_matrix(instance)
    m = instance.num_nodes
    locations = [pyvrp.Location(float(x), float(y)) for x, y in instance.coords]
    clients = [pyvrp.Client(i, delivery=[int(instance.demands[i])]) for i in range(1, m)]
    fleet = [pyvrp.VehicleType(m - 1, capacity=[int(math.floor(instance.capacity))])]
    data = pyvrp.ProblemData(locations, clients, [pyvrp.Depot(0)], fleet, [d], [np.zeros_like(d)])
    best = pyvrp.solve(data, MaxRuntime(seconds), seed=seed, display=False).best
    if not best.is_feasible():
        raise RuntimeError(f"PyVRP found no feasible solution of {instance.name}")
    # Client activities carry the client's index among the clients (customer index - 1).
    return [
        np.asarray([a.idx + 1 for a in route if a.is_client()], dtype=np.int64)
        for route in best.routes()
    ]


def lkh_cost(instance: TSP) -> float:
    """The cost, by the instance's own metric, of :func:`lkh_tour`'s tour (checked)."""
    tour = lkh_tour(instance)
    instance.check_tour(tour)
    return instance.tour_cost(tour)


def pyvrp_cost(instance: CVRP, seconds: float, seed: int) -> float:
    """The cost, by the instance's own metric, of :func:`pyvrp_routes`'s routes (checked)."""
    routes = pyvrp_routes(instance, seconds, seed)
    instance.check_routes(routes)
    return instance.routes_cost(routes)


def installed(module: str) -> bool:
    """Whether the optional peer package ``module`` (``elkai``, ``pyvrp``) can be imported."""
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def _peer(name: str, module: str) -> bool:
    if not installed(module):
        print(f"peer {name} not installed (pip install {module}); its columns stay empty")
        return False
    return True


def _measure(
    problem: str, instances: Sequence[TSP] | Sequence[CVRP], budget: Callable[[int], float],
    seed: int, peer: tuple[str, str, Callable[..., float]],
) -> list[Row]:  # fmt: skip
    """Run our ILS and, when installed, the peer (``(name, module, cost function)``)."""
    name, module, peer_cost_of = peer
    has_peer = _peer(name, module)
    rows = []
    for instance in instances:
        size = instance.num_nodes if problem == "tsp" else instance.num_customers
        seconds = budget(size)
        ours = comb.solve(instance, "ils", time_limit=seconds, seed=seed)
        peer_cost = peer_seconds = None
        if has_peer:
            start = time.perf_counter()
            peer_cost = peer_cost_of(instance, seconds)
            peer_seconds = time.perf_counter() - start
        rows.append(
            Row(
                problem,
                instance.name,
                size,
                seconds,
                ours.cost,
                ours.runtime,
                peer_cost,
                peer_seconds,
            )  # fmt: skip
        )
        _print_row(rows[-1])
    return rows


def run_tsp(instances: Sequence[TSP], budget: Callable[[int], float], seed: int) -> list[Row]:
    """Measure ``comb``'s ILS and LKH-3 on each TSP instance."""
    lkh = ("LKH-3", "elkai", lambda instance, _: lkh_cost(instance))
    return _measure("tsp", instances, budget, seed, lkh)


def run_cvrp(instances: Sequence[CVRP], budget: Callable[[int], float], seed: int) -> list[Row]:
    """Measure ``comb``'s ILS and PyVRP with the same budget on each CVRP instance."""
    pyvrp = ("PyVRP", "pyvrp", lambda instance, seconds: pyvrp_cost(instance, seconds, seed))
    return _measure("cvrp", instances, budget, seed, pyvrp)


def _cell(value: float | None, fmt: str) -> str:
    return "-" if value is None else format(value, fmt)


def _print_row(row: Row) -> None:
    gap = None if row.gap is None else 100 * row.gap
    print(
        f"  {row.problem:4} {row.name:28} n={row.size:<6} ours {row.cost:14.6f} in"
        f" {row.seconds:7.2f} s | peer {_cell(row.peer_cost, '14.6f')} in"
        f" {_cell(row.peer_seconds, '7.2f')} s | gap {_cell(gap, '+7.3f')} %"
        f" | time ratio {_cell(row.ratio, '.3f')}",
        flush=True,
    )


def summary(rows: Sequence[Row]) -> list[str]:
    """Lines of mean gap and time ratio per problem and size, with the targets' verdicts."""
    lines = []
    groups: dict[tuple[str, int], list[Row]] = {}
    for row in rows:
        groups.setdefault((row.problem, row.size), []).append(row)
    for (problem, size), group in sorted(groups.items()):
        peer = "LKH-3" if problem == "tsp" else "PyVRP"
        gaps = [r.gap for r in group if r.gap is not None]
        line = f"{problem} n={size}: {len(group)} instances, budget {group[0].budget:g} s"
        if gaps:
            ratios = [r.ratio for r in group if r.ratio is not None]
            mean = statistics.fmean(gaps)
            line += (
                f", mean gap to {peer} {100 * mean:+.3f} % (max {100 * max(gaps):+.3f} %),"
                f" median time ratio {statistics.median(ratios):.3f}"
            )
            target = TARGETS.get((problem, size))
            if target is not None:
                verdict = "met" if mean <= target else "NOT met"
                line += f"; target <= {100 * target:g} %: {verdict}"
        else:
            line += f", mean cost {statistics.fmean(r.cost for r in group):.6f} (no peer)"
        lines.append(line)
    return lines


def _budgets(text: str | None, defaults: dict[int, float]) -> Callable[[int], float]:
    table = dict(defaults)
    for part in filter(None, (text or "").split(",")):
        size, _, seconds = part.partition("=")
        table[int(size)] = float(seconds)

    def budget(n: int) -> float:
        # The budget of the nearest listed size, scaled linearly with n.
        size = min(table, key=lambda s: abs(math.log(s / n)))
        return table[size] * (1.0 if size == n else n / size)

    return budget


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m hybridsolve.benchmarks.comb_routing",
        description="comb's TSP/CVRP heuristics against LKH-3 (elkai) and PyVRP.",
    )
    parser.add_argument("problem", nargs="?", choices=("tsp", "cvrp", "both"), default="both")
    parser.add_argument("--sizes", help="comma-separated sizes (default: the budget tables')")
    parser.add_argument("--instances", type=int, default=3, help="random instances per size")
    parser.add_argument("--seed", type=int, default=0, help="first instance seed; run seed")
    parser.add_argument("--budget", help="N=SECONDS,... overriding the default budgets")
    parser.add_argument("--files", nargs="*", default=[], type=Path,
                        help="TSPLIB .tsp / CVRPLIB .vrp files to add")  # fmt: skip
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its table; 0 on success."""
    args = _parse(argv)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else None
    rows: list[Row] = []
    rng_seeds = range(args.seed, args.seed + args.instances)
    tsp_files = [routing.read_tsplib(f) for f in args.files if f.suffix != ".vrp"]
    vrp_files = [routing.read_cvrplib(f) for f in args.files if f.suffix == ".vrp"]
    if args.problem in ("tsp", "both"):
        tsps = [routing.tsp_uniform(np.random.default_rng(s), n)
                for n in sizes or TSP_BUDGETS for s in rng_seeds]  # fmt: skip
        tsps += [t for t in tsp_files if isinstance(t, TSP)]
        print(f"TSP: comb ils (time limit) vs LKH-3 via elkai (runs=1), seed {args.seed}")
        rows += run_tsp(tsps, _budgets(args.budget, TSP_BUDGETS), args.seed)
    if args.problem in ("cvrp", "both"):
        cvrps = [routing.cvrp(np.random.default_rng(s), n)
                 for n in sizes or CVRP_BUDGETS for s in rng_seeds]  # fmt: skip
        print(f"CVRP: comb ils vs PyVRP, same wall-clock budget, seed {args.seed}")
        rows += run_cvrp(cvrps + vrp_files, _budgets(args.budget, CVRP_BUDGETS), args.seed)
    print()
    for line in summary(rows):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
