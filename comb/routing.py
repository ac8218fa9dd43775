"""Routing instances: symmetric and asymmetric TSP, CVRP and the orienteering problem.

Conventions shared by every type here:

* Node indices are 0-based. In :class:`CVRP` and :class:`OP` the depot is node 0 and a route
  or tour lists only the other nodes; the depot at both ends is implied.
* Costs computed from coordinates are Euclidean, optionally rounded with TSPLIB's ``EUC_2D``
  rule ``nint(d) = floor(d + 0.5)`` (``rounding="nint"``). An explicit distance matrix, when
  given, takes precedence over the coordinates for every cost.
* Diagonals of distance matrices are ignored (stored as zero).
* Arrays are read-only copies; instances are immutable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from hybridsolve.mip.errors import ProblemError

from . import _common as cm

__all__ = ["ATSP", "CVRP", "OP", "TSP", "Rounding"]

Rounding = Literal["none", "nint"]

#: Absolute tolerance for capacity and length limits.
_TOL = 1e-9


def _set(obj, **fields) -> None:
    for key, value in fields.items():
        object.__setattr__(obj, key, value)


def _coords(value, what: str, min_nodes: int) -> np.ndarray:
    out = cm.float_array(value, what, (None, 2))
    if out.shape[0] < min_nodes:
        raise ProblemError(f"{what} has {out.shape[0]} rows, need at least {min_nodes}")
    return cm.frozen(out)


def _walk_cost(
    walk: np.ndarray, coords: np.ndarray | None, distances: np.ndarray | None, rounding: str
) -> float:
    """Total cost of the consecutive pairs of ``walk`` (an explicit node sequence)."""
    if walk.size < 2:
        return 0.0
    if distances is not None:
        return float(distances[walk[:-1], walk[1:]].sum())
    assert coords is not None
    return float(cm.lengths(coords[walk[:-1]], coords[walk[1:]], rounding).sum())


def _closed(tour: np.ndarray) -> np.ndarray:
    return np.concatenate([tour, tour[:1]])


@dataclass(frozen=True, repr=False, eq=False)
class TSP:
    """A symmetric travelling salesman problem on ``n`` nodes.

    Parameters
    ----------
    coords : array_like, optional
        ``(n, 2)`` node coordinates.
    distances : array_like, optional
        ``(n, n)`` symmetric, non-negative distance matrix; the diagonal is ignored. When
        given it defines every cost, and ``coords`` (if any) only describe the layout.
    rounding : {"none", "nint"}
        How distances computed from ``coords`` are rounded: ``"nint"`` is TSPLIB's
        ``EUC_2D`` rule.
    name : str
        Instance name.

    Raises
    ------
    ProblemError
        When both ``coords`` and ``distances`` are missing, on wrong shapes, NaN or infinite
        entries, negative or asymmetric distances, or an unknown rounding rule.

    Notes
    -----
    A tour is a permutation of ``0..n-1``; the edge back to the first node is implied.
    """

    coords: np.ndarray | None = None
    distances: np.ndarray | None = None
    rounding: Rounding = "none"
    name: str = ""

    def __post_init__(self) -> None:
        if self.coords is None and self.distances is None:
            raise ProblemError("TSP needs coords or distances (or both)")
        coords = None if self.coords is None else _coords(self.coords, "coords", 1)
        distances = None
        if self.distances is not None:
            n = None if coords is None else coords.shape[0]
            distances = cm.square_matrix(self.distances, "distances", n)
            if distances.shape[0] < 1:
                raise ProblemError("distances has no nodes")
            asym = np.abs(distances - distances.T) > 1e-9 * np.maximum(1.0, np.abs(distances))
            if asym.any():
                i, j = (int(k) for k in np.argwhere(asym)[0])
                raise ProblemError(
                    f"distances is not symmetric (d[{i}, {j}] = {distances[i, j]:g}, "
                    f"d[{j}, {i}] = {distances[j, i]:g}); use ATSP for asymmetric distances"
                )
            distances = cm.frozen(distances)
        _set(
            self,
            coords=coords,
            distances=distances,
            rounding=cm.rounding_rule(self.rounding),
            name=str(self.name),
        )

    @property
    def num_nodes(self) -> int:
        """Number of nodes ``n``."""
        source = self.coords if self.coords is not None else self.distances
        assert source is not None
        return int(source.shape[0])

    @property
    def size(self) -> int:
        """Problem size, the number of nodes."""
        return self.num_nodes

    def distance_matrix(self) -> np.ndarray:
        """The ``(n, n)`` distance matrix (read-only).

        The given matrix, or one computed from the coordinates with the instance's rounding.

        Raises
        ------
        ProblemError
            When it would be computed for more than 5000 nodes (use :meth:`tour_cost`, which
            needs no matrix).
        """
        if self.distances is not None:
            return self.distances
        assert self.coords is not None
        return cm.coordinate_matrix(self.coords, self.rounding, "TSP")

    def check_tour(self, tour: Sequence[int] | np.ndarray) -> None:
        """Check that ``tour`` is a permutation of ``0..n-1``.

        Raises
        ------
        ProblemError
            With the reason: wrong length, repeated or missing node, index out of range.
        """
        cm.permutation(tour, "tour", self.num_nodes)

    def tour_cost(self, tour: Sequence[int] | np.ndarray) -> float:
        """Length of the closed tour, in O(n) time (no matrix is built from coordinates).

        Raises
        ------
        ProblemError
            When ``tour`` is not a permutation of the nodes.
        """
        idx = cm.permutation(tour, "tour", self.num_nodes)
        return _walk_cost(_closed(idx), self.coords, self.distances, self.rounding)

    def __repr__(self) -> str:
        kind = "coords" if self.distances is None else "matrix"
        head = f"TSP({cm.short_name(self.name)}n={self.num_nodes}"
        return f"{head}, {kind}, rounding={self.rounding!r})"


@dataclass(frozen=True, repr=False, eq=False)
class ATSP:
    """An asymmetric travelling salesman problem given by its distance matrix.

    Parameters
    ----------
    distances : array_like
        ``(n, n)`` non-negative matrix; ``distances[i, j]`` is the cost of going from ``i``
        to ``j``. The diagonal is ignored.
    name : str
        Instance name.

    Raises
    ------
    ProblemError
        On a non-square matrix, NaN or infinite entries, or negative off-diagonal entries.
    """

    distances: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        distances = cm.square_matrix(self.distances, "distances")
        if distances.shape[0] < 1:
            raise ProblemError("distances has no nodes")
        _set(self, distances=cm.frozen(distances), name=str(self.name))

    @property
    def num_nodes(self) -> int:
        """Number of nodes ``n``."""
        return int(self.distances.shape[0])

    @property
    def size(self) -> int:
        """Problem size, the number of nodes."""
        return self.num_nodes

    def distance_matrix(self) -> np.ndarray:
        """The ``(n, n)`` distance matrix (read-only, zero diagonal)."""
        return self.distances

    def check_tour(self, tour: Sequence[int] | np.ndarray) -> None:
        """Check that ``tour`` is a permutation of ``0..n-1``.

        Raises
        ------
        ProblemError
            With the reason: wrong length, repeated or missing node, index out of range.
        """
        cm.permutation(tour, "tour", self.num_nodes)

    def tour_cost(self, tour: Sequence[int] | np.ndarray) -> float:
        """Cost of the closed tour in the order given (direction matters).

        Raises
        ------
        ProblemError
            When ``tour`` is not a permutation of the nodes.
        """
        idx = cm.permutation(tour, "tour", self.num_nodes)
        return _walk_cost(_closed(idx), None, self.distances, "none")

    def __repr__(self) -> str:
        return f"ATSP({cm.short_name(self.name)}n={self.num_nodes})"


@dataclass(frozen=True, repr=False, eq=False)
class CVRP:
    """A capacitated vehicle routing problem with one depot and unlimited identical vehicles.

    Parameters
    ----------
    coords : array_like
        ``(n + 1, 2)`` coordinates, the depot first (index 0), then the ``n`` customers.
    demands : array_like
        ``(n + 1,)`` integer-valued, non-negative demands; ``demands[0]`` (depot) must be 0.
    capacity : float
        Vehicle capacity, positive; no single demand may exceed it.
    distances : array_like, optional
        ``(n + 1, n + 1)`` non-negative distance matrix (diagonal ignored); when given it
        defines every cost.
    rounding : {"none", "nint"}
        Rounding of distances computed from ``coords`` (``"nint"``: TSPLIB ``EUC_2D``, as
        in the CVRPLIB X instances).
    name : str
        Instance name.

    Raises
    ------
    ProblemError
        On wrong shapes, NaN, negative or fractional demands, a non-zero depot demand, a
        demand larger than the capacity, a non-positive capacity or bad distances.

    Notes
    -----
    A solution is a list of routes; each route lists customer indices ``1..n`` in visiting
    order, without the depot, which starts and ends every route.
    """

    coords: np.ndarray
    demands: np.ndarray
    capacity: float
    distances: np.ndarray | None = None
    rounding: Rounding = "none"
    name: str = ""

    def __post_init__(self) -> None:
        coords = _coords(self.coords, "coords", 2)
        m = coords.shape[0]
        demands = cm.float_array(self.demands, "demands", (m,))
        cm.non_negative(demands, "demands")
        demands = cm.integral(demands, "demands")
        if demands[0] != 0:
            raise ProblemError(f"demands[0] is the depot's and must be 0, got {demands[0]}")
        capacity = cm.scalar(self.capacity, "capacity")
        if capacity <= 0:
            raise ProblemError(f"capacity must be positive, got {capacity:g}")
        over = np.flatnonzero(demands > capacity + _TOL)
        if over.size:
            j = int(over[0])
            raise ProblemError(f"customer {j} has demand {demands[j]} > capacity {capacity:g}")
        distances = None
        if self.distances is not None:
            distances = cm.frozen(cm.square_matrix(self.distances, "distances", m))
        _set(
            self,
            coords=coords,
            demands=cm.frozen(demands),
            capacity=capacity,
            distances=distances,
            rounding=cm.rounding_rule(self.rounding),
            name=str(self.name),
        )

    @property
    def num_customers(self) -> int:
        """Number of customers ``n`` (the depot excluded)."""
        return int(self.coords.shape[0] - 1)

    @property
    def num_nodes(self) -> int:
        """Number of nodes ``n + 1``, the depot included."""
        return int(self.coords.shape[0])

    @property
    def size(self) -> int:
        """Problem size, the number of customers."""
        return self.num_customers

    @property
    def total_demand(self) -> int:
        """Sum of all demands."""
        return int(self.demands.sum())

    def distance_matrix(self) -> np.ndarray:
        """The ``(n + 1, n + 1)`` distance matrix (read-only), given or computed.

        Raises
        ------
        ProblemError
            When it would be computed for more than 5000 nodes.
        """
        if self.distances is not None:
            return self.distances
        return cm.coordinate_matrix(self.coords, self.rounding, "CVRP")

    def _routes(self, routes) -> list[np.ndarray]:
        if isinstance(routes, (str, bytes)) or (
            isinstance(routes, np.ndarray) and routes.ndim != 2
        ):
            raise ProblemError("routes must be a list of routes, each a sequence of customers")
        out = []
        for r, route in enumerate(routes):
            if np.ndim(route) != 1:
                raise ProblemError(
                    f"route {r} must be a sequence of customer indices, got {route!r}"
                )
            idx = cm.indices(route, f"route {r}", self.num_nodes)
            if (idx == 0).any():
                raise ProblemError(
                    f"route {r} contains the depot (index 0); routes list customers only"
                )
            out.append(idx)
        return out

    def routes_cost(self, routes: Sequence[Sequence[int]]) -> float:
        """Total length of the routes, each from the depot through its customers and back.

        Only the indices are checked (``1..n``, no depot), so partial solutions can be
        costed; use :meth:`check_routes` for feasibility. Empty routes cost nothing.

        Raises
        ------
        ProblemError
            When a route is not a sequence of customer indices.
        """
        parts = self._routes(routes)
        if not parts:
            return 0.0
        depot = np.zeros(1, dtype=np.int64)
        walk = np.concatenate([depot] + [np.concatenate([p, depot]) for p in parts])
        return _walk_cost(walk, self.coords, self.distances, self.rounding)

    def route_loads(self, routes: Sequence[Sequence[int]]) -> np.ndarray:
        """Total demand carried on each route."""
        return np.array([int(self.demands[p].sum()) for p in self._routes(routes)], dtype=np.int64)

    def check_routes(self, routes: Sequence[Sequence[int]]) -> None:
        """Check a complete solution.

        Every customer is visited exactly once, no route contains the depot, and no route
        carries more than the capacity.

        Raises
        ------
        ProblemError
            With the first reason found.
        """
        parts = self._routes(routes)
        visits = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        count = np.bincount(visits, minlength=self.num_nodes)
        twice = np.flatnonzero(count > 1)
        if twice.size:
            raise ProblemError(f"customer {int(twice[0])} is visited more than once")
        missing = np.flatnonzero(count[1:] == 0)
        if missing.size:
            raise ProblemError(f"customer {int(missing[0]) + 1} is not visited")
        for r, part in enumerate(parts):
            load = int(self.demands[part].sum())
            if load > self.capacity + _TOL:
                raise ProblemError(f"route {r} carries {load} > capacity {self.capacity:g}")

    def __repr__(self) -> str:
        return (
            f"CVRP({cm.short_name(self.name)}customers={self.num_customers}, "
            f"capacity={self.capacity:g}, rounding={self.rounding!r})"
        )


@dataclass(frozen=True, repr=False, eq=False)
class OP:
    """An orienteering problem: collect the most prize on a closed tour of limited length.

    The tour starts and ends at the depot (node 0) and visits each chosen node once; its
    length may not exceed ``max_length`` (Tsiligirides 1984; Fischetti, Salazar-González
    and Toth 1998).

    Parameters
    ----------
    coords : array_like
        ``(n + 1, 2)`` coordinates, the depot first.
    prizes : array_like
        ``(n + 1,)`` non-negative prizes; ``prizes[0]`` (depot) must be 0.
    max_length : float
        Largest allowed tour length, non-negative.
    rounding : {"none", "nint"}
        Rounding of distances computed from ``coords``.
    name : str
        Instance name.

    Raises
    ------
    ProblemError
        On wrong shapes, NaN, negative prizes, a non-zero depot prize or a negative
        ``max_length``.

    Notes
    -----
    A tour lists distinct node indices ``1..n`` without the depot; the empty tour is valid.
    """

    coords: np.ndarray
    prizes: np.ndarray
    max_length: float
    rounding: Rounding = "none"
    name: str = ""

    def __post_init__(self) -> None:
        coords = _coords(self.coords, "coords", 2)
        prizes = cm.float_array(self.prizes, "prizes", (coords.shape[0],))
        cm.non_negative(prizes, "prizes")
        if prizes[0] != 0:
            raise ProblemError(f"prizes[0] is the depot's and must be 0, got {prizes[0]:g}")
        max_length = cm.scalar(self.max_length, "max_length")
        if max_length < 0:
            raise ProblemError(f"max_length must be non-negative, got {max_length:g}")
        _set(
            self,
            coords=coords,
            prizes=cm.frozen(prizes),
            max_length=max_length,
            rounding=cm.rounding_rule(self.rounding),
            name=str(self.name),
        )

    @property
    def num_nodes(self) -> int:
        """Number of nodes ``n + 1``, the depot included."""
        return int(self.coords.shape[0])

    @property
    def size(self) -> int:
        """Problem size, the number of nodes besides the depot."""
        return self.num_nodes - 1

    def distance_matrix(self) -> np.ndarray:
        """The ``(n + 1, n + 1)`` distance matrix computed from the coordinates (read-only).

        Raises
        ------
        ProblemError
            Above 5000 nodes.
        """
        return cm.coordinate_matrix(self.coords, self.rounding, "OP")

    def _nodes(self, tour) -> np.ndarray:
        idx = cm.indices(tour, "tour", self.num_nodes)
        if (idx == 0).any():
            raise ProblemError("tour contains the depot (index 0); list the other nodes only")
        cm.distinct(idx, "tour")
        return idx

    def tour_length(self, tour: Sequence[int] | np.ndarray) -> float:
        """Length of the closed tour depot -> ``tour`` -> depot (0 for the empty tour).

        Raises
        ------
        ProblemError
            When ``tour`` has repeated nodes, the depot, or an index out of range.
        """
        idx = self._nodes(tour)
        depot = np.zeros(1, dtype=np.int64)
        return _walk_cost(np.concatenate([depot, idx, depot]), self.coords, None, self.rounding)

    def tour_prize(self, tour: Sequence[int] | np.ndarray) -> float:
        """Total prize of the nodes on the tour.

        Raises
        ------
        ProblemError
            When ``tour`` has repeated nodes, the depot, or an index out of range.
        """
        return float(self.prizes[self._nodes(tour)].sum())

    def check_tour(self, tour: Sequence[int] | np.ndarray) -> None:
        """Check distinct nodes, no depot in the list, and length ``<= max_length + 1e-9``.

        Raises
        ------
        ProblemError
            With the reason.
        """
        length = self.tour_length(tour)
        if length > self.max_length + _TOL:
            raise ProblemError(f"tour length {length:.10g} exceeds max_length {self.max_length:g}")

    def __repr__(self) -> str:
        return (
            f"OP({cm.short_name(self.name)}n={self.size}, max_length={self.max_length:g}, "
            f"rounding={self.rounding!r})"
        )
