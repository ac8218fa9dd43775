"""UDC divide-and-conquer as a :func:`hybridsolve.comb.solve` method for the TSP and the CVRP.

:func:`udc` has the signature of comb's methods, ``method(instance, *, tracker, seed,
**options)``; :mod:`hybridsolve.neural.plugin` registers a lazy wrapper of it under the
name ``"udc"``, so ``comb.solve(tsp, "udc")`` and ``hybridsolve tsp FILE --method udc``
work while comb never imports this package.

1. **Divide**: an initial solution of the whole instance: by default one of comb's
   constructions (``start``; the TSP's ``greedy`` edge matching on k-nearest-neighbour
   candidates, the CVRP's ``savings`` on k-nearest-neighbour pairs), or for the TSP the
   learned divider (``divider="learned"``: a gated GNN's heatmap on a sparse k-NN graph,
   decoded into a tour; :mod:`.divider`). UDC's own ablation found a heuristic start as
   good or better at 10,000 nodes.
2. **Conquer**: rounds of sub-problems of about ``size`` nodes, each round's sub-problems
   decoded by the BQ-NCO policy as one batch (:mod:`.tsp`: sub-paths with fixed end points;
   :mod:`.cvrp`: groups of neighbouring routes), a sub-problem's new solution kept only
   where it is better, so no round makes the solution worse; every round moves the split
   points (UDC's "reunion").
3. **Stop**: after ``rounds`` rounds, at the time limit, or after ``patience`` rounds in a
   row without a gain; each round's cost goes to the trajectory and a line
   ``round R: cost C, gain G%, I/P sub-problems improved`` to the ``hybridsolve.udc``
   logger (the command line shows them). ``polish=True`` ends with comb's local search
   (:func:`hybridsolve.comb.improve`).

Memory stays O(n k): comb's constructions and local search use k-nearest-neighbour lists,
the conquer step holds the sub-problems of one batch, and costs are computed from
coordinates.

References
----------
Z. Zheng, C. Zhou, T. Xialiang, M. Yuan and Z. Wang, "UDC: A Unified Neural
Divide-and-Conquer Framework for Large-Scale Combinatorial Optimization Problems",
NeurIPS 2024.
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from hybridsolve.comb._search import Tracker
from hybridsolve.comb.routing import CVRP, TSP
from hybridsolve.mip.errors import ProblemError, UsageError

from ..bq.problem import BQProblem, check_knn, get
from ..bq.solve import improve_answer, load_policy
from ..bq.tsp import unit_coords
from ..runtime import device as resolve_device
from . import cvrp as cvrp_rounds
from . import tsp as tsp_rounds

__all__ = ["DIVIDERS", "udc"]

log = logging.getLogger("hybridsolve.udc")

#: The dividers: comb's construction, or the learned heatmap (TSP only).
DIVIDERS = ("heuristic", "learned")

#: Rounds run without a time limit when ``rounds`` is not given.
DEFAULT_ROUNDS = 20

#: Share of the time limit kept for the final polish when ``polish=True``.
POLISH_SHARE = 0.2

_DEFAULT_START = {TSP: "greedy", CVRP: "savings"}


def _integer(name: str, value: Any, low: int, high: int | None = None) -> int:
    """An option as an int in ``[low, high]`` (the command line passes strings)."""
    if isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise UsageError(f"{name} must be an integer, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise UsageError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        span = f">= {low}" if high is None else f"between {low} and {high}"
        raise UsageError(f"{name} must be {span}, got {value}")
    return int(value)


def _flag(name: str, value: Any) -> bool:
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise UsageError(f"{name} must be true or false, got {value!r}")


def _knn(value: Any, entry: dict[str, Any]) -> int | None:
    if isinstance(value, str):
        if value.lower() == "auto":
            return entry["knn"]
        if value.lower() == "none":
            return None
        return _integer("knn", value, 1)
    return check_knn(value)


def _start(instance: Any, problem: BQProblem, divider: str, start: str | None, seed: int,
           divider_weights: str | None, device: torch.device) -> Any:  # fmt: skip
    """The divider's initial solution in comb's form (``problem.answer``)."""
    from hybridsolve.comb import solve
    from hybridsolve.comb.solve import methods

    if divider == "learned":
        if start is not None:
            raise UsageError("start names comb's construction; the learned divider takes none")
        if not isinstance(instance, TSP):
            raise UsageError("the learned divider is for the TSP; the CVRP takes divider=heuristic")
        from .divider import learned_tour

        return learned_tour(instance.coords, weights=divider_weights or "udc-divider",
                            device=device)  # fmt: skip
    name = _DEFAULT_START[type(instance)] if start is None else str(start)
    allowed = [m for m in methods(instance) if m not in ("ils", "local_search")]
    if name not in allowed:
        raise UsageError(f"start must be one of {', '.join(allowed)}, got {name!r}")
    return getattr(solve(instance, name, seed=seed), problem.answer)


def udc(
    instance: Any,
    *,
    tracker: Tracker,
    seed: int = 0,
    weights: str | None = None,
    divider: str = "heuristic",
    divider_weights: str | None = None,
    start: str | None = None,
    size: int | str = 100,
    rounds: int | str | None = None,
    patience: int | str = 6,
    variants: int | str = 2,
    beam: int | str = 1,
    sampling: bool | str = False,
    knn: int | str | None = "auto",
    polish: bool | str = False,
    device: str = "auto",
    batch: int | str = 1024,
) -> Any:
    """A solution by UDC divide-and-conquer (Zheng et al. 2024), as a comb method.

    Parameters
    ----------
    instance : TSP or CVRP
        With node coordinates (a distance matrix, if any, only costs the answer).
    tracker : Tracker
        Receives the start's cost and every round's; the time limit stops the rounds
        between batches of sub-problems.
    seed : int, default 0
        Seed of the sampled decodings and of the construction and polish.
    weights : str or path-like, optional
        BQ-NCO weights of the conqueror (a shipped name or a registered ``.pt``); by
        default the problem's (``"tsp"``, ``"cvrp"``).
    divider : {"heuristic", "learned"}
        How the first solution is made: comb's construction ``start``, or (TSP) the learned
        heatmap divider (:func:`.divider.learned_tour`).
    divider_weights : str or path-like, optional
        The learned divider's weights (default the shipped ``udc-divider``; ``hybridsolve
        train udc`` writes others).
    start : str, optional
        comb's construction for the heuristic divider (default ``greedy`` for the TSP,
        ``savings`` for the CVRP).
    size : int, default 100
        Nodes per sub-problem (the TSP's sub-paths; the CVRP's route groups hold at least
        this many customers, where there are that many).
    rounds : int, optional
        Most conquer rounds; without it, rounds until the time limit (or 20 without one).
    patience : int, default 6
        Stop after this many rounds in a row without a gain.
    variants : int, default 2
        Decodings per sub-problem, 1 to 16 (the TSP: both directions under up to 8
        symmetries of the unit square; the CVRP: up to 8 symmetries).
    beam : int, default 1
        Beam width of every decoding.
    sampling : bool, default False
        Sample every action from the policy (seeded) instead of the most likely one.
    knn : int, "auto" or "none", default "auto"
        Candidate restriction of every policy state; ``"auto"`` takes the weights'.
    polish : bool, default False
        End with comb's local search, which gets at least 20% of the time limit.
    device : str, default "auto"
        Where the policy runs.
    batch : int, default 1024
        Most decodings per forward pass.

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        The tour or the routes.

    Raises
    ------
    ProblemError
        An instance that is neither a TSP nor a CVRP.
    UsageError
        No coordinates, or a bad option.
    WeightsError
        Missing or corrupt weights (the conqueror's or the learned divider's).
    """
    kind = type(instance)
    if kind not in (TSP, CVRP):
        raise ProblemError(f"UDC solves TSP and CVRP instances, not {kind.__name__}")
    if instance.coords is None:
        raise UsageError("UDC needs node coordinates; this instance has only a distance matrix")
    if divider not in DIVIDERS:
        raise UsageError(f"divider must be one of {', '.join(DIVIDERS)}, got {divider!r}")
    problem = get(instance)
    size = _integer("size", size, 4)
    limit = None if rounds is None else _integer("rounds", rounds, 0)
    patience = _integer("patience", patience, 1)
    variants = _integer("variants", variants, 1, 16 if kind is TSP else 8)
    beam = _integer("beam", beam, 1)
    batch = _integer("batch", batch, 1)
    sampling, polish = _flag("sampling", sampling), _flag("polish", polish)
    dev = resolve_device(device)
    policy, entry = load_policy(problem.name if weights is None else weights, device=dev,
                                problem=problem.name)  # fmt: skip
    policy.eval()
    generator = torch.Generator().manual_seed(seed) if sampling else None
    conqueror = tsp_rounds.Conqueror(policy, _knn(knn, entry), variants, beam, generator, dev,
                                     batch)  # fmt: skip
    if divider_weights is not None and divider != "learned":
        raise UsageError("divider_weights are the learned divider's; add divider=learned")
    answer = _start(instance, problem, divider, start, seed, divider_weights, dev)
    cost = problem.cost(instance, answer)
    tracker.record(cost)
    label = "learned divider" if divider == "learned" else start or _DEFAULT_START[kind]
    log.info("start (%s): cost %.10g", label, cost)
    if limit is None and tracker.time_limit is None:
        limit = DEFAULT_ROUNDS
    stop = tracker.remaining() * (1.0 - POLISH_SHARE) if polish else tracker.remaining()
    deadline = tracker.elapsed() + stop
    one_round = _tsp_round if kind is TSP else _cvrp_round
    unit = unit_coords(instance.coords)
    idle, r = 0, 0
    pace = Pace(tracker, deadline)
    with torch.inference_mode():
        while (limit is None or r < limit) and idle < patience and pace.left() > 0:
            answer, improved, parts = one_round(instance, unit, answer, conqueror, size, r,
                                                pace)  # fmt: skip
            new = problem.cost(instance, answer)
            gain = (cost - new) / cost if cost > 0 else 0.0
            log.info("round %d: cost %.10g, gain %.3f%%, %d/%d sub-problems improved",
                     r + 1, new, 100 * gain, improved, parts)  # fmt: skip
            idle = 0 if improved else idle + 1
            cost = new
            tracker.record(cost)
            r += 1
    if polish:
        left = tracker.remaining()
        answer = improve_answer(problem, instance, answer, seed,
                         None if left == float("inf") else max(left, 1e-3))  # fmt: skip
        tracker.record(problem.cost(instance, answer))
    return answer


class Pace:
    """How many sub-problems still fit before the deadline, from the time of the last batch.

    The first batch of a run is a probe of :data:`PROBE` sub-problems; afterwards a batch
    takes what the measured seconds per sub-problem allow, so a time limit is kept to
    about one sub-problem's decoding rather than one round's.
    """

    #: Sub-problems in the first batch, decoded to measure the pace.
    PROBE = 4

    def __init__(self, tracker: Tracker, deadline: float) -> None:
        self.tracker = tracker
        self.deadline = deadline
        self.per_item: float | None = None

    def left(self) -> float:
        """Seconds before the deadline."""
        return self.deadline - self.tracker.elapsed()

    def take(self, wanted: int) -> int:
        """How many of ``wanted`` sub-problems to decode now (0: stop)."""
        left = self.left()
        if left <= 0:
            return 0
        if left == float("inf"):
            return wanted
        if self.per_item is None:
            return min(wanted, self.PROBE)
        return min(wanted, int(left / max(self.per_item, 1e-9)))

    def timed(self, count: int, began: float) -> None:
        """Record that ``count`` sub-problems took since ``began`` (tracker seconds)."""
        if count:
            self.per_item = (self.tracker.elapsed() - began) / count


def batches(count: int, conqueror: tsp_rounds.Conqueror, pace: Pace) -> Iterator[slice]:
    """Consecutive slices of ``count`` sub-problems, each as many as the batch and the pace
    allow; ends early at the deadline (the sub-problems not reached stay as they are)."""
    most = max(1, conqueror.batch // (conqueror.variants * conqueror.beam))
    begin = 0
    while begin < count:
        take = pace.take(min(most, count - begin))
        if take == 0:
            return
        began = pace.tracker.elapsed()
        yield slice(begin, begin + take)
        pace.timed(take, began)
        begin += take


def _tsp_round(instance: TSP, unit: np.ndarray, tour: np.ndarray,
               conqueror: tsp_rounds.Conqueror, size: int, r: int,
               pace: Pace) -> tuple[np.ndarray, int, int]:  # fmt: skip
    """One conquer round on the tour: (new tour, pieces improved, pieces)."""
    length = max(1, len(tour) // max(1, -(-len(tour) // size)))
    start = tsp_rounds.offset(r, length)
    pieces = tsp_rounds.split(tour, size, start)
    improved = 0
    for part in batches(len(pieces), conqueror, pace):
        pieces[part], count = tsp_rounds.conquer(instance, unit, pieces[part], conqueror)
        improved += count
    return tsp_rounds.stitch(pieces, start), improved, len(pieces)


def _cvrp_round(instance: CVRP, unit: np.ndarray, routes: list[np.ndarray],
                conqueror: tsp_rounds.Conqueror, size: int, r: int,
                pace: Pace) -> tuple[list[np.ndarray], int, int]:  # fmt: skip
    """One conquer round on the routes: (new routes, groups improved, groups)."""
    parts = cvrp_rounds.groups(unit, routes, size, r)
    out: list[np.ndarray] = []
    improved = 0
    reached = 0
    for part in batches(len(parts), conqueror, pace):
        new, count = cvrp_rounds.conquer(instance, routes, parts[part], conqueror)
        out.extend(new)
        improved += count
        reached = part.stop
    out.extend(routes[i] for group in parts[reached:] for i in group)
    return out, improved, len(parts)
