"""The BQ-MDP of the capacitated vehicle routing problem (Drakulic et al. 2023).

A solution is built one customer at a time. After a partial solution whose last route
ends at customer ``current`` with ``room`` capacity left, what remains is a sub-problem
that no longer depends on the customers already served nor on the order they were served
in: serve every remaining customer, starting at ``current`` with ``room`` left, each later
route leaving the depot with full capacity. Partial solutions that leave the same
sub-problem are bisimilar, and the BQ state is that sub-problem: the depot, the current
node and the remaining customers, with the remaining capacity.

Tokens: the current node, the depot (absent at the start, when the depot is the current
node) and the remaining customers (with ``knn``, only the ``knn`` nearest to the current
node), each with eight features: ``x``, ``y``, the distances to the current node and to
the depot, the demand as a fraction of the capacity (0 on the depot and the current node),
the remaining capacity as a fraction of the capacity (the same on every token), *is depot*
and *is current*. Coordinates are re-normalised for every state to the unit square with the
aspect ratio kept (:func:`~.tsp.path_state`, shared with the TSP), so sub-problems that
differ by a translation and a uniform scaling give the same tokens. Token pairs carry their
distance, which biases attention (:mod:`.model`).

Actions: two per customer token. Action 0 goes to the customer directly (allowed when it
fits into the remaining capacity; from the depot every customer fits); action 1 goes to it
through the depot, closing the current route and opening a new one with full capacity
(allowed on every remaining customer when the current node is not the depot). Each step
places one customer, so a solution of ``n`` customers takes ``n`` steps.

Demands and the capacity are kept as integers inside the construction (a CVRP's demands are
integral and only ``floor(capacity)`` of a capacity counts), so a route is never refused or
overloaded by floating-point rounding.

Expert solutions come from PyVRP (:func:`pyvrp_routes`; Wouda, Lan and Kool 2024), on
integer distances: the instance's own for ``"nint"`` rounding or an integral matrix,
Euclidean distances of the unit-square coordinates scaled by :data:`SCALE` otherwise. A
sub-problem is cut from an expert solution whose routes are put in a random order, each
in a random direction, or chained by proximity (:func:`augment`; all these are the same
solution for symmetric distances); where
the expert opens a new route, the first and the last customer of every route not yet
started are equally correct next customers (the paper's multi-target case), with action 0
from the depot and action 1 elsewhere.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
N. A. Wouda, L. Lan and W. Kool, "PyVRP: a high-performance VRP solver package",
INFORMS Journal on Computing 36(4), 2024.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from hybridsolve.comb.routing import CVRP
from hybridsolve.datasets.routing import cvrp as cvrp_instance
from hybridsolve.mip.errors import ProblemError, SolverError, UsageError

from .problem import BQProblem, Env, State, register
from .tsp import path_state, unit_coords

__all__ = ["DEFAULT_ITERATIONS", "SCALE", "CVRPProblem", "augment", "pyvrp_routes"]

#: PyVRP iterations per instance when neither a time limit nor iterations are given.
DEFAULT_ITERATIONS = 1000

#: Unit-square distances are multiplied by this before rounding to PyVRP's integers.
SCALE = 100_000

#: Largest capacity whose demands survive the float32 arrays exactly.
_MAX_CAPACITY = 2**22

_TOL = 1e-9


def _capacity(instance: CVRP) -> int:
    """The capacity that counts: loads are integers, so ``floor(capacity)``."""
    return int(np.floor(instance.capacity + _TOL))


def _pyvrp_distances(instance: CVRP) -> np.ndarray:
    """Integer distances for PyVRP: exact where the instance's are integers, scaled otherwise."""
    if instance.distances is not None:
        d = np.asarray(instance.distances, dtype=np.float64)
        if np.array_equal(d, np.rint(d)) and d.max(initial=0.0) < 2**40:
            return np.rint(d).astype(np.int64)
        top = d.max(initial=0.0)
        return np.rint(d * (SCALE / top if top > 0 else 1.0)).astype(np.int64)
    if instance.rounding == "nint":
        return np.rint(instance.distance_matrix()).astype(np.int64)
    xy = unit_coords(instance.coords)
    d = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=-1))
    return np.rint(d * SCALE).astype(np.int64)


def pyvrp_routes(
    instance: CVRP,
    *,
    time_limit: float | None = None,
    iterations: int | None = None,
    seed: int = 0,
) -> list[np.ndarray]:
    """Routes of ``instance`` by PyVRP's solver (``pyvrp.solve``).

    PyVRP works on integer distances (see the module docstring); the routes it returns are
    costed by the caller on the instance's own metric (:meth:`CVRP.routes_cost`).

    Parameters
    ----------
    instance : CVRP
        The instance.
    time_limit : float, optional
        Wall-clock seconds (``pyvrp.stop.MaxRuntime``); results then depend on the machine.
    iterations : int, optional
        PyVRP iterations (``pyvrp.stop.MaxIterations``): reproducible from ``seed``. With
        both, the first limit reached stops; with neither, :data:`DEFAULT_ITERATIONS`.
    seed : int, default 0
        PyVRP's seed.

    Returns
    -------
    list of numpy.ndarray
        Non-empty int64 routes of customers ``1..n`` (no depot).

    Raises
    ------
    UsageError
        PyVRP is not installed, or a bad ``time_limit``, ``iterations`` or ``seed``.
    ProblemError
        Not a CVRP.
    SolverError
        PyVRP's best solution is infeasible.
    """
    if not isinstance(instance, CVRP):
        raise ProblemError(f"pyvrp_routes takes a CVRP, not {type(instance).__name__}")
    if time_limit is not None and (isinstance(time_limit, bool)
                                   or not isinstance(time_limit, (int, float))
                                   or not time_limit > 0):  # fmt: skip
        raise UsageError(f"time_limit must be positive seconds or None, got {time_limit!r}")
    if iterations is not None and (isinstance(iterations, bool)
                                   or not isinstance(iterations, (int, np.integer))
                                   or iterations < 1):  # fmt: skip
        raise UsageError(f"iterations must be a positive integer or None, got {iterations!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise UsageError(f"seed must be a non-negative integer, got {seed!r}")
    try:
        import pyvrp
        from pyvrp.stop import MaxIterations, MaxRuntime, MultipleCriteria
    except ImportError:
        raise UsageError("the CVRP labeller needs PyVRP: pip install pyvrp") from None
    m = instance.num_nodes
    distances = _pyvrp_distances(instance)
    xy = unit_coords(instance.coords) * SCALE
    locations = [pyvrp.Location(float(x), float(y)) for x, y in xy]
    clients = [pyvrp.Client(i, delivery=[int(instance.demands[i])]) for i in range(1, m)]
    fleet = [pyvrp.VehicleType(m - 1, capacity=[_capacity(instance)])]
    data = pyvrp.ProblemData(locations, clients, [pyvrp.Depot(0)], fleet, [distances],
                             [np.zeros_like(distances)])  # fmt: skip
    stops = []
    if iterations is not None or time_limit is None:
        stops.append(MaxIterations(int(iterations if iterations is not None
                                       else DEFAULT_ITERATIONS)))  # fmt: skip
    if time_limit is not None:
        stops.append(MaxRuntime(float(time_limit)))
    stop = stops[0] if len(stops) == 1 else MultipleCriteria(stops)
    best = pyvrp.solve(data, stop, seed=int(seed), collect_stats=False, display=False).best
    if not best.is_feasible():
        raise SolverError(f"PyVRP found no feasible solution of {instance!r}")
    # client activities carry the client's index among the clients (customer index - 1)
    routes = [np.asarray([a.idx + 1 for a in route if a.is_client()], dtype=np.int64)
              for route in best.routes()]  # fmt: skip
    return [route for route in routes if route.size]


def _chained(
    routes: list[np.ndarray], coords: np.ndarray, rng: np.random.Generator
) -> list[np.ndarray]:
    """The routes from a random first one, each next the one with an end nearest to the last
    customer served, entered at that end."""
    left = list(range(len(routes)))
    first = left.pop(int(rng.integers(len(left))))
    chain = [routes[first][::-1] if rng.random() < 0.5 else routes[first]]
    while left:
        here = coords[chain[-1][-1]]
        ends = np.array([[routes[r][0], routes[r][-1]] for r in left])
        gaps = ((coords[ends] - here) ** 2).sum(axis=-1)
        k, end = np.unravel_index(int(np.argmin(gaps)), gaps.shape)
        route = routes[left.pop(int(k))]
        chain.append(route[::-1] if end == 1 else route)
    return chain


def augment(
    sequence: np.ndarray,
    starts: np.ndarray,
    rng: np.random.Generator,
    coords: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Every expert solution with its routes re-ordered and re-directed.

    Without ``coords`` the routes go in a random order, each in a random direction. With
    ``coords``, half of the rows chain them instead: a random first route, then always the
    route with an end nearest to the last customer served, entered at that end. A policy
    that opens its next route near where the last one ended meets the states of such
    chains, which random orders (scattered remaining routes) rarely give; the other half
    keeps every order in the training states.

    Parameters
    ----------
    sequence : numpy.ndarray
        ``[B, n]`` int64 customers in route order.
    starts : numpy.ndarray
        ``[B, n]`` bool: the customer opens a route.
    rng : numpy.random.Generator
        Draws, row by row, a permutation of the routes, then a direction per route.
    coords : numpy.ndarray, optional
        ``[B, N, 2]`` node coordinates, for the chained orders.

    Returns
    -------
    sequence, starts : numpy.ndarray
        The same routes, re-ordered and re-directed.
    """
    out_sequence = np.empty_like(sequence)
    out_starts = np.zeros_like(starts)
    for b in range(sequence.shape[0]):
        cuts = np.flatnonzero(starts[b])
        routes = np.split(sequence[b], cuts[1:])
        if coords is not None and rng.random() < 0.5:
            ordered = _chained(routes, coords[b], rng)
        else:
            order = rng.permutation(len(routes))
            flip = rng.random(len(routes)) < 0.5
            ordered = [routes[r][::-1] if flip[r] else routes[r] for r in order]
        place = 0
        for route in ordered:
            out_sequence[b, place : place + route.size] = route
            out_starts[b, place] = True
            place += route.size
    return out_sequence, out_starts


def _expert_targets(
    visited: np.ndarray, current: np.ndarray, sequence: np.ndarray, starts: np.ndarray
) -> np.ndarray:
    """``[B, N, 2]`` bool: every next action that stays on an expert solution.

    ``visited`` (``[B, N]``, the depot included) and ``current`` (``[B]``) describe a
    construction that follows the expert's routes (``sequence``, ``starts``: ``[B, n]``) in
    some order and direction. Inside an unfinished route the target is the route's
    unvisited neighbour of the current customer (action 0); at the depot or after a
    finished route it is each end of each route not yet started (action 0 from the depot,
    1 elsewhere).
    """
    batch, size = visited.shape
    n = sequence.shape[1]
    rows = np.arange(batch)
    route = np.cumsum(starts, axis=1) - 1
    seen = visited[rows[:, None], sequence]
    flat = (route + rows[:, None] * n).ravel()
    length = np.bincount(flat, minlength=batch * n).reshape(batch, n)
    served = np.bincount(flat, weights=seen.ravel(), minlength=batch * n).reshape(batch, n)
    fresh = (served == 0) & (length > 0)
    last = np.ones_like(starts)
    last[:, :-1] = starts[:, 1:]
    ends = (starts | last) & fresh[rows[:, None], route]
    position = np.full((batch, size), -1, dtype=np.int64)
    position[rows[:, None], sequence] = np.arange(n)
    here = position[rows, current]
    at_depot = here < 0
    p = np.maximum(here, 0)
    mine = route[rows, p]
    closed = at_depot | (served[rows, mine] == length[rows, mine])
    follows = np.zeros_like(starts)  # position i + 1 continues the route of position i
    follows[:, :-1] = ~starts[:, 1:]
    columns = np.arange(n)[None, :]
    left = (columns == (p - 1)[:, None]) & ~starts[rows, p][:, None]
    right = (columns == (p + 1)[:, None]) & follows[rows, p][:, None]
    inside = (left | right) & ~seen
    pick = np.where(closed[:, None], ends, inside)
    action = (closed & ~at_depot).astype(np.int64)
    target = np.zeros((batch, size, 2), dtype=bool)
    target[rows[:, None], sequence, action[:, None]] = pick
    return target


class CVRPProblem(BQProblem):
    """The CVRP with one depot and unlimited vehicles; see the module docstring."""

    name = "cvrp"
    kind = CVRP
    features = 8
    pairs = 1
    actions = 2
    answer = "routes"
    label_method = "pyvrp"

    # -------------------------------------------------------------- instances

    def generate(self, rng: np.random.Generator, size: int) -> CVRP:
        """``size`` uniform customers, capacity by the neural-CO table
        (:func:`hybridsolve.datasets.routing.cvrp`)."""
        return cvrp_instance(rng, size)

    def arrays(self, instance: CVRP) -> dict[str, np.ndarray]:
        """``coords`` in the unit square, ``demand`` / capacity and the ``capacity``.

        The capacity is ``floor(capacity)`` (loads are integers), shape ``(1,)``.

        Raises
        ------
        UsageError
            A capacity above ``2**22``, whose demands the float32 arrays would not keep
            exactly.
        """
        self._instance(instance)
        capacity = _capacity(instance)
        if capacity > _MAX_CAPACITY:
            raise UsageError(f"BQ-NCO reads CVRP capacities up to {_MAX_CAPACITY}, got "
                             f"{instance.capacity:g}")  # fmt: skip
        return {
            "coords": unit_coords(instance.coords),
            "demand": np.asarray(instance.demands, dtype=np.float64) / capacity,
            "capacity": np.array([capacity], dtype=np.float64),
        }

    def size(self, instance: CVRP) -> int:
        return instance.num_nodes

    def cost(self, instance: CVRP, answer: list[np.ndarray]) -> float:
        return instance.routes_cost(answer)

    def check(self, instance: CVRP, answer: list[np.ndarray]) -> None:
        instance.check_routes(answer)

    # -------------------------------------------------------------- construction

    @staticmethod
    def _units(demand: torch.Tensor, capacity: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Integer demands ``[B, N]`` and capacities ``[B]`` from the normalised arrays."""
        capacity = capacity.reshape(-1)
        units = torch.round(demand * capacity.unsqueeze(1)).long()
        return units, torch.round(capacity).long()

    def start(self, data: dict[str, torch.Tensor]) -> Env:
        """Every row at the depot with full capacity and nothing served.

        Fields: ``coords``, ``demand`` and ``capacity`` (int64 units), ``room`` (capacity
        left on the current route), ``current``, ``visited`` (the depot is), ``sequence``
        (customers in the order placed), ``starts`` (the customer opens a route) and
        ``count`` (customers placed).
        """
        coords = data["coords"]
        batch, m = coords.shape[:2]
        dev = coords.device
        demand, capacity = self._units(data["demand"], data["capacity"])
        visited = torch.zeros(batch, m, dtype=torch.bool, device=dev)
        visited[:, 0] = True
        zeros = torch.zeros(batch, dtype=torch.long, device=dev)
        return {"coords": coords, "demand": demand, "capacity": capacity,
                "room": capacity.clone(), "current": zeros, "visited": visited,
                "sequence": torch.zeros(batch, m - 1, dtype=torch.long, device=dev),
                "starts": torch.zeros(batch, m - 1, dtype=torch.bool, device=dev),
                "count": zeros.clone()}  # fmt: skip

    def state(self, env: Env, knn: int | None = None) -> State:
        coords, demand, visited = env["coords"], env["demand"], env["visited"]
        capacity = env["capacity"].to(coords.dtype).unsqueeze(1)
        room = env["room"].to(coords.dtype).unsqueeze(1)
        share = torch.where(visited, 0, demand).to(coords.dtype) / capacity
        extra = torch.stack([share, (room / capacity).expand_as(share)], dim=-1)
        origin = torch.zeros_like(env["current"])
        base = path_state(coords, origin, env["current"], ~visited, knn, extra)
        allowed = base.selectable[..., 0]
        fits = demand.gather(1, base.nodes) <= env["room"].unsqueeze(1)
        away = (env["current"] != 0).unsqueeze(1)
        selectable = torch.stack([allowed & fits, allowed & away], dim=-1)
        return base._replace(selectable=selectable)

    def step(self, env: Env, state: State, choice: torch.Tensor) -> Env:
        live = ~self.finished(env)
        token, action = choice // self.actions, choice % self.actions
        node = state.nodes.gather(1, token.unsqueeze(1)).squeeze(1)
        node = torch.where(live, node, env["current"])
        rows = torch.arange(node.shape[0], device=node.device)
        opens = (action == 1) | (env["current"] == 0)
        room = torch.where(opens, env["capacity"], env["room"]) - env["demand"][rows, node]
        visited = env["visited"].clone()
        visited[rows, node] = True
        sequence, starts = env["sequence"].clone(), env["starts"].clone()
        slot = env["count"].clamp(max=max(sequence.shape[1] - 1, 0))
        sequence[rows, slot] = torch.where(live, node, sequence[rows, slot])
        starts[rows, slot] = torch.where(live, opens, starts[rows, slot])
        return {**env, "room": torch.where(live, room, env["room"]), "current": node,
                "visited": visited, "sequence": sequence, "starts": starts,
                "count": env["count"] + live.long()}  # fmt: skip

    def finished(self, env: Env) -> torch.Tensor:
        return env["count"] >= env["sequence"].shape[1]

    def answers(self, env: Env) -> list[Any]:
        """The routes of every row: its sequence split where a route starts."""
        out = []
        for sequence, starts in zip(env["sequence"].cpu().numpy(), env["starts"].cpu().numpy()):
            cuts = np.flatnonzero(starts)
            out.append(np.split(sequence.astype(np.int64), cuts[1:]) if cuts.size else [])
        return out

    def max_steps(self, env: Env) -> int:
        """The number of customers: each step places one."""
        return int(env["sequence"].shape[1])

    # -------------------------------------------------------------- imitation

    def label(self, instance: CVRP, *, time_limit: float | None, iterations: int | None,
              seed: int) -> list[np.ndarray]:  # fmt: skip
        """PyVRP's routes (:func:`pyvrp_routes`; :data:`DEFAULT_ITERATIONS` by default)."""
        return pyvrp_routes(instance, time_limit=time_limit, iterations=iterations, seed=seed)

    def expert(self, instance: CVRP, answer: list[np.ndarray]) -> dict[str, np.ndarray]:
        """``sequence`` (``[n]`` customers in route order) and ``starts`` (``[n]`` bool).

        Empty routes are dropped.
        """
        routes = [np.asarray(route, dtype=np.int64) for route in answer if len(route)]
        n = instance.num_customers
        sequence = np.concatenate(routes) if routes else np.zeros(0, dtype=np.int64)
        if sequence.size != n:
            raise ProblemError(f"the expert routes serve {sequence.size} customers, not {n}")
        starts = np.zeros(n, dtype=bool)
        starts[np.cumsum([0] + [route.size for route in routes[:-1]])] = n > 0
        return {"sequence": sequence, "starts": starts}

    def targets(self, env: Env, experts: dict[str, np.ndarray]) -> torch.Tensor:
        """``[B, N, 2]`` bool: the expert's next actions in a construction that follows it.

        Parameters
        ----------
        env : Env
            Constructions (:meth:`start`, :meth:`step`) that so far served whole expert
            routes, in any order and direction, and a prefix of the current one.
        experts : dict of numpy.ndarray
            Stacked :meth:`expert` arrays.

        Returns
        -------
        torch.Tensor
            The same rule as :meth:`sample`'s targets; empty on finished rows.
        """
        target = _expert_targets(env["visited"].cpu().numpy(), env["current"].cpu().numpy(),
                                 experts["sequence"], experts["starts"])  # fmt: skip
        return torch.as_tensor(target, device=env["visited"].device)

    def sample(
        self,
        data: dict[str, np.ndarray],
        experts: dict[str, np.ndarray],
        rng: np.random.Generator,
        device: torch.device,
        *,
        position: int | None = None,
    ) -> tuple[Env, torch.Tensor]:
        """One sub-problem per expert solution, after the first ``j`` customers.

        The routes are re-ordered and re-directed (:func:`augment`, which draws
        from ``rng`` first), then ``j`` is drawn uniformly from ``[0, n - 1]`` once for the
        batch, so every sub-problem has the same number of tokens. The environment holds
        the depot (node 0), the current customer (node 1, when ``j > 0``) and the
        remaining customers in index order: the nodes the state reads, in the order a full
        construction would give them tokens.

        Parameters
        ----------
        position : int, optional
            Use this ``j`` instead of drawing one (for tests).
        """
        coords = np.asarray(data["coords"], dtype=np.float32)
        demand = np.asarray(data["demand"], dtype=np.float32)
        capacity = np.asarray(data["capacity"], dtype=np.float32).reshape(-1)
        batch, n = experts["sequence"].shape
        if n < 1:
            raise UsageError("sub-problems need instances with at least one customer")
        sequence, starts = augment(experts["sequence"], experts["starts"], rng, data["coords"])
        j = int(rng.integers(0, n)) if position is None else int(position)
        if not 0 <= j < n:
            raise UsageError(f"position must be in [0, {n - 1}], got {position!r}")
        rows = np.arange(batch)
        units = np.rint(demand * capacity[:, None]).astype(np.int64)
        visited = np.zeros(coords.shape[:2], dtype=bool)
        visited[:, 0] = True
        visited[rows[:, None], sequence[:, :j]] = True
        if j == 0:
            current = np.zeros(batch, dtype=np.int64)
            room = np.rint(capacity).astype(np.int64)
        else:
            current = sequence[:, j - 1]
            route = np.cumsum(starts, axis=1) - 1
            on = (route == route[:, j - 1 : j]) & (np.arange(n) < j)
            load = (units[rows[:, None], sequence] * on).sum(axis=1)
            room = np.rint(capacity).astype(np.int64) - load
        target = _expert_targets(visited, current, experts["sequence"], experts["starts"])
        rest = np.argsort(visited, axis=1, kind="stable")[:, : n - j]
        head = [np.zeros((batch, 1), dtype=np.int64)] + ([current[:, None]] if j else [])
        nodes = np.concatenate([*head, rest], axis=1)
        near = np.zeros(nodes.shape, dtype=bool)
        near[:, : len(head)] = True

        def tensor(value: np.ndarray) -> torch.Tensor:
            return torch.as_tensor(value, device=device)

        env = {
            "coords": tensor(np.take_along_axis(coords, nodes[..., None], axis=1)),
            "demand": tensor(np.take_along_axis(units, nodes, axis=1)),
            "capacity": tensor(np.rint(capacity).astype(np.int64)),
            "room": tensor(room),
            "current": tensor(np.full(batch, len(head) - 1, dtype=np.int64)),
            "visited": tensor(near),
        }
        return env, tensor(np.take_along_axis(target, nodes[..., None], axis=1))


register(CVRPProblem())
