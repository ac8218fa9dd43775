"""The BQ-MDP of the symmetric Euclidean TSP (Drakulic et al. 2023).

A partial tour ``origin -> ... -> current`` leaves a sub-problem that no longer depends on
the nodes visited between its two ends: a *path* TSP from ``current`` through every
unvisited node back to ``origin``. Partial tours that leave the same sub-problem are
bisimilar, and the BQ state is that sub-problem: the remaining nodes plus the origin and
the current node.

Tokens: the current node, the origin (absent before the first move, when it is the current
node) and the remaining nodes, each with six features: ``x``, ``y``, the distances to the
current node and to the origin, *is origin* and *is current*. Coordinates are re-normalised
for every state to the unit square with the aspect ratio kept, so sub-problems that differ
by a translation and a uniform scaling give the same tokens: the paper's quotient extended
by the similarity symmetries of the Euclidean TSP, which also lets a policy trained on
small instances read the small neighbourhoods of the k-nearest-neighbour restriction as
ordinary small instances. Token pairs carry their distance, which biases attention
(:mod:`.model`).

For large instances the paper restricts the tokens to the ``knn`` remaining nodes nearest
to the current node (plus origin and current): a step then costs ``O(knn^2)`` attention
instead of ``O(N^2)``.

Expert tours come from hybridsolve's iterated local search (:func:`hybridsolve.comb.solve`
with ``"ils"``). A sub-problem is cut from an expert tour rotated to a random start and
reversed with probability 1/2 (every rotation and both directions of an optimal tour are
optimal); before the first move both neighbours of the origin are correct next nodes.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from hybridsolve.comb.routing import TSP
from hybridsolve.datasets.routing import tsp_uniform
from hybridsolve.mip.errors import UsageError

from .problem import BQProblem, Env, State, compact, distances, nearest, normalise, register

__all__ = ["TSPProblem", "unit_coords"]


def unit_coords(coords: np.ndarray) -> np.ndarray:
    """Coordinates mapped into the unit square, aspect ratio kept (float64).

    Done once per instance in float64 before the float32 model sees them, so instances with
    large coordinates (TSPLIB) lose no precision; every state is re-normalised again.
    """
    xy = np.asarray(coords, dtype=np.float64)
    low = xy.min(axis=0)
    scale = float(np.ptp(xy, axis=0).max())
    return (xy - low) / (scale if scale > 0 else 1.0)


def path_state(
    coords: torch.Tensor,
    origin: torch.Tensor,
    current: torch.Tensor,
    remaining: torch.Tensor,
    knn: int | None,
    extra: torch.Tensor | None = None,
) -> State:
    """The BQ state of a path sub-problem: ``current`` through ``remaining`` to ``origin``.

    Shared by the TSP and (with the depot as origin and ``extra`` features) the routing
    problems whose sub-problems are paths back to a fixed node.

    Parameters
    ----------
    coords : torch.Tensor
        ``[B, N, 2]``.
    origin, current : torch.Tensor
        ``[B]`` int64 nodes; equal before the first move (one token then).
    remaining : torch.Tensor
        ``[B, N]`` bool: the nodes that may come next (neither origin nor current).
    knn : int or None
        Keep only the ``knn`` remaining nodes nearest to ``current``.
    extra : torch.Tensor, optional
        ``[B, N, E]`` more node features, appended after the distances (before the flags).

    Returns
    -------
    State
        Features ``x, y, d(current), d(origin), *extra, is origin, is current``; one
        action per token, allowed on the remaining nodes.
    """
    keep = remaining if knn is None else nearest(coords, current, remaining, knn)
    nodes, filled = compact(keep, [current, origin])
    present = filled.clone()
    present[:, 1] = origin != current
    xy, _ = normalise(coords.gather(1, nodes.unsqueeze(-1).expand(-1, -1, 2)), present)
    pair = distances(xy, present)
    to_origin = torch.where(present[:, 1, None, None], pair[:, :, 1], pair[:, :, 0])
    parts = [xy, pair[:, :, 0], to_origin]
    if extra is not None:
        parts.append(extra.gather(1, nodes.unsqueeze(-1).expand(-1, -1, extra.shape[-1])))
    flags = torch.zeros(*nodes.shape, 2, dtype=xy.dtype, device=xy.device)
    flags[:, 1, 0] = present[:, 1].to(xy.dtype)
    flags[:, 0, 0] = (~present[:, 1]).to(xy.dtype)  # origin is current: token 0 is both
    flags[:, 0, 1] = 1.0
    features = torch.cat([*parts, flags], dim=-1) * present.unsqueeze(-1)
    selectable = filled.clone()
    selectable[:, :2] = False
    return State(features, pair, present, selectable.unsqueeze(-1), nodes)


def rotations(tours: np.ndarray, rng: np.random.Generator, flip: bool = True) -> np.ndarray:
    """Every tour rotated to a random start and (``flip``) reversed with probability 1/2."""
    batch, n = tours.shape
    shift = rng.integers(0, n, size=batch)
    if flip:
        reverse = rng.random(batch) < 0.5
        tours = np.where(reverse[:, None], tours[:, ::-1], tours)
    return np.take_along_axis(tours, (np.arange(n)[None, :] + shift[:, None]) % n, axis=1)


class TSPProblem(BQProblem):
    """The symmetric Euclidean TSP: tours from node 0; see the module docstring."""

    name = "tsp"
    kind = TSP
    features = 6
    pairs = 1
    label_method = "ils"
    #: The key of :meth:`arrays` that holds the instance (coordinates here).
    data_key = "coords"

    def generate(self, rng: np.random.Generator, size: int) -> TSP:
        """Uniform in the unit square (:func:`hybridsolve.datasets.routing.tsp_uniform`)."""
        return tsp_uniform(rng, size)

    def arrays(self, instance: TSP) -> dict[str, np.ndarray]:
        """``coords``: the coordinates in the unit square.

        Raises
        ------
        UsageError
            When the instance has no coordinates (only a distance matrix).
        """
        self._instance(instance)
        if instance.coords is None:
            raise UsageError("BQ-NCO needs node coordinates; this TSP has only a distance matrix")
        return {"coords": unit_coords(instance.coords)}

    def size(self, instance: TSP) -> int:
        return instance.num_nodes

    def cost(self, instance: TSP, answer: np.ndarray) -> float:
        return instance.tour_cost(answer)

    def check(self, instance: TSP, answer: np.ndarray) -> None:
        instance.check_tour(answer)

    def start(self, data: dict[str, torch.Tensor]) -> Env:
        """Tours at node 0; the environment keeps the instance's one array (``data_key``)."""
        array = data[self.data_key]
        batch, n = array.shape[:2]
        zeros = torch.zeros(batch, dtype=torch.long, device=array.device)
        visited = torch.zeros(batch, n, dtype=torch.bool, device=array.device)
        visited[:, 0] = True
        tour = torch.zeros(batch, n, dtype=torch.long, device=array.device)
        return {self.data_key: array, "origin": zeros, "current": zeros.clone(),
                "visited": visited, "tour": tour, "count": torch.ones_like(zeros)}  # fmt: skip

    def state(self, env: Env, knn: int | None = None) -> State:
        return path_state(env["coords"], env["origin"], env["current"], ~env["visited"], knn)

    def step(self, env: Env, state: State, choice: torch.Tensor) -> Env:
        live = ~self.finished(env)
        node = state.nodes.gather(1, choice.unsqueeze(1)).squeeze(1)
        node = torch.where(live, node, env["current"])
        rows = torch.arange(node.shape[0], device=node.device)
        visited = env["visited"].clone()
        visited[rows, node] = True
        tour = env["tour"].clone()
        slot = env["count"].clamp(max=tour.shape[1] - 1)
        tour[rows, slot] = torch.where(live, node, tour[rows, slot])
        return {**env, "current": node, "visited": visited, "tour": tour,
                "count": env["count"] + live.long()}  # fmt: skip

    def max_steps(self, env: Env) -> int:
        return int(env["visited"].shape[1])

    def finished(self, env: Env) -> torch.Tensor:
        return env["count"] >= env["visited"].shape[1]

    def answers(self, env: Env) -> list[Any]:
        return list(env["tour"].cpu().numpy())

    def label(self, instance: TSP, *, time_limit: float | None, iterations: int | None,
              seed: int) -> np.ndarray:  # fmt: skip
        from hybridsolve.comb import solve

        return solve(instance, "ils", time_limit=time_limit, seed=seed, iterations=iterations).tour

    def expert(self, instance: TSP, answer: np.ndarray) -> dict[str, np.ndarray]:
        return {"tour": np.asarray(answer, dtype=np.int64)}

    def sample(
        self,
        data: dict[str, np.ndarray],
        experts: dict[str, np.ndarray],
        rng: np.random.Generator,
        device: torch.device,
    ) -> tuple[Env, torch.Tensor]:
        """One path sub-problem per expert tour; its size is drawn once for the batch.

        The current node is the ``j``-th of the rotated tour, ``j`` uniform in
        ``[0, n - 3]``, so every sub-problem keeps at least two remaining nodes; the
        environment holds only the origin, the current node and the remaining ones.
        """
        coords, tours = data["coords"], experts["tour"]
        batch, n = tours.shape
        if n < 3:
            raise UsageError(f"sub-problems need instances of at least 3 nodes, got {n}")
        j = int(rng.integers(0, n - 2))
        order = rotations(tours, rng)
        head = order[:, :1] if j == 0 else order[:, [0, j]]
        nodes = np.concatenate([head, order[:, j + 1 :]], axis=1)
        xy = np.take_along_axis(coords, nodes[..., None], axis=1)
        visited = np.zeros(nodes.shape, dtype=bool)
        visited[:, : head.shape[1]] = True
        target = np.zeros((*nodes.shape, 1), dtype=bool)
        target[:, head.shape[1]] = True  # the next node of the tour
        if j == 0:
            target[:, -1] = True  # before the first move: either direction
        tensor = torch.as_tensor
        env = {
            "coords": tensor(xy, dtype=torch.float32, device=device),
            "origin": torch.zeros(batch, dtype=torch.long, device=device),
            "current": torch.full((batch,), head.shape[1] - 1, dtype=torch.long, device=device),
            "visited": tensor(visited, device=device),
        }
        return env, tensor(target, device=device)


register(TSPProblem())
