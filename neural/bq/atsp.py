"""The BQ-MDP of the asymmetric TSP (Drakulic et al. 2023).

As for the TSP (:mod:`.tsp`), a partial tour ``origin -> ... -> current`` leaves a *path*
sub-problem, from ``current`` through every unvisited node to ``origin``, that does not
depend on the order of the nodes visited in between, and the BQ state is that sub-problem.
Only the direction of the arcs now matters: ``d(i -> j)`` and ``d(j -> i)`` differ, and an
instance is its distance matrix alone, with no coordinates.

Tokens: the current node, the origin (absent before the first move, when it is the current
node) and the remaining nodes, each with six features: ``d(current -> j)``,
``d(j -> origin)``, the shortest arc out of ``j`` and the shortest arc into ``j`` among the
state's tokens, *is origin* and *is current*. Token pairs carry both directions,
``d(i -> j)`` and ``d(j -> i)``; they bias every attention head (:mod:`.model`), which is
how the matrix itself enters the policy, as in MatNet's mixed-score attention (Kwon et al.
2021). Every distance of a state is divided by the mean of the state's off-diagonal
distances, so sub-problems whose matrices differ by a positive factor give the same tokens
(the paper's quotient, extended by the scaling symmetry of the ATSP). With ``knn`` the
tokens are restricted to the ``knn`` remaining nodes ``j`` of smallest ``d(current -> j)``
(plus origin and current); the features are then those of the restricted sub-problem.

Tours start at node 0. Expert tours come from hybridsolve's iterated local search
(:func:`hybridsolve.comb.solve` with ``"ils"``). A sub-problem is cut from an expert tour
rotated to a random start, never reversed: a reversed tour of an asymmetric instance has
another length. Before the first move the target is the single successor of the origin.

Memory: an instance's arrays are its ``n x n`` matrix, so a training set at ``n = 50``
holds 20 KB per instance in float64 (10 KB in the trainer's float32), and every decoded
row (each beam) carries its own copy of the matrix, which beam search reorders at every
step.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
Y.-D. Kwon, J. Choo, I. Yoon, M. Park, D. Park and Y. Gwon, "Matrix Encoding Networks for
Neural Combinatorial Optimization", NeurIPS 2021.
"""

from __future__ import annotations

import numpy as np
import torch

from hybridsolve.comb.routing import ATSP
from hybridsolve.datasets.routing import atsp
from hybridsolve.mip.errors import UsageError

from .problem import Env, State, compact, register, within_k
from .tsp import TSPProblem, rotations

__all__ = ["ATSPProblem", "matrix_state", "unit_matrix"]


def unit_matrix(distances: np.ndarray) -> np.ndarray:
    """The distance matrix divided by its largest entry (float64, zero diagonal).

    An all-zero matrix is returned unchanged; every state is re-normalised again.
    """
    d = np.array(distances, dtype=np.float64)
    np.fill_diagonal(d, 0.0)
    top = float(d.max()) if d.size else 0.0
    return d / top if top > 0 else d


def submatrix(dist: torch.Tensor, nodes: torch.Tensor) -> torch.Tensor:
    """``[B, T, T]`` distances ``dist[b, nodes[b, i], nodes[b, j]]`` between the tokens."""
    rows = dist.gather(1, nodes.unsqueeze(-1).expand(-1, -1, dist.shape[2]))
    return rows.gather(2, nodes.unsqueeze(1).expand(-1, nodes.shape[1], -1))


def matrix_state(
    dist: torch.Tensor,
    origin: torch.Tensor,
    current: torch.Tensor,
    remaining: torch.Tensor,
    knn: int | None,
) -> State:
    """The BQ state of a directed path sub-problem: ``current``, ``remaining``, ``origin``.

    Parameters
    ----------
    dist : torch.Tensor
        ``[B, N, N]`` distances, ``dist[b, i, j]`` from ``i`` to ``j``.
    origin, current : torch.Tensor
        ``[B]`` int64 nodes; equal before the first move (one token then).
    remaining : torch.Tensor
        ``[B, N]`` bool: the nodes that may come next (neither origin nor current).
    knn : int or None
        Keep only the ``knn`` remaining nodes ``j`` of smallest ``d(current -> j)``.

    Returns
    -------
    State
        Tokens current (0), origin (1, absent before the first move), then the kept
        remaining nodes in index order. Features ``d(current -> j)``, ``d(j -> origin)``,
        the shortest arc out of and into ``j`` among the present tokens, *is origin*, *is
        current*; pairs ``d(i -> j)``, ``d(j -> i)``; all distances divided by the mean
        off-diagonal distance between present tokens. One action per token, allowed on the
        remaining nodes.
    """
    batch = dist.shape[0]
    rows = torch.arange(batch, device=dist.device)
    keep = remaining if knn is None else within_k(dist[rows, current], remaining, knn)
    nodes, filled = compact(keep, [current, origin])
    present = filled.clone()
    present[:, 1] = origin != current
    tokens = nodes.shape[1]
    eye = torch.eye(tokens, dtype=torch.bool, device=dist.device)
    arcs = present.unsqueeze(2) & present.unsqueeze(1) & ~eye
    zero = torch.zeros((), dtype=dist.dtype, device=dist.device)
    sub = torch.where(arcs, submatrix(dist, nodes), zero)
    mean = sub.sum(dim=(1, 2)) / arcs.sum(dim=(1, 2)).clamp(min=1)
    scale = torch.where(mean > 0, mean, torch.ones_like(mean))
    d = sub / scale.view(-1, 1, 1)
    pairs = torch.stack([d, d.transpose(1, 2)], dim=-1)
    origin_token = present[:, 1].long()  # token 0 is the origin before the first move
    to_origin = d.gather(2, origin_token.view(-1, 1, 1).expand(-1, tokens, 1)).squeeze(-1)
    inf = torch.full((), torch.inf, dtype=d.dtype, device=d.device)
    shortest_out = torch.where(arcs, d, inf).amin(dim=2)
    shortest_in = torch.where(arcs, d, inf).amin(dim=1)
    parts = [d[:, 0], to_origin, shortest_out, shortest_in]
    parts = [torch.where(torch.isfinite(part), part, torch.zeros_like(part)) for part in parts]
    flags = torch.zeros(batch, tokens, 2, dtype=d.dtype, device=d.device)
    flags[:, 1, 0] = present[:, 1].to(d.dtype)
    flags[:, 0, 0] = (~present[:, 1]).to(d.dtype)  # origin is current: token 0 is both
    flags[:, 0, 1] = 1.0
    features = torch.cat([torch.stack(parts, dim=-1), flags], dim=-1) * present.unsqueeze(-1)
    selectable = filled.clone()
    selectable[:, :2] = False
    return State(features, pairs, present, selectable.unsqueeze(-1), nodes)


class ATSPProblem(TSPProblem):
    """The asymmetric TSP: tours from node 0; see the module docstring.

    The tour bookkeeping (:meth:`start`, :meth:`step`, :meth:`finished`, :meth:`answers`,
    :meth:`max_steps`), the ILS labeller and the expert arrays are the TSP's; instances,
    states and sub-problems are the ATSP's own.
    """

    name = "atsp"
    kind = ATSP
    features = 6
    pairs = 2
    label_method = "ils"
    data_key = "dist"

    def generate(self, rng: np.random.Generator, size: int) -> ATSP:
        """MatNet's random matrix, closed under shortest paths.

        See :func:`hybridsolve.datasets.routing.atsp`.
        """
        return atsp(rng, size)

    def arrays(self, instance: ATSP) -> dict[str, np.ndarray]:
        """``dist``: the ``[n, n]`` distance matrix divided by its largest entry."""
        self._instance(instance)
        return {"dist": unit_matrix(instance.distances)}

    def state(self, env: Env, knn: int | None = None) -> State:
        return matrix_state(env["dist"], env["origin"], env["current"], ~env["visited"], knn)

    def sample(
        self,
        data: dict[str, np.ndarray],
        experts: dict[str, np.ndarray],
        rng: np.random.Generator,
        device: torch.device,
    ) -> tuple[Env, torch.Tensor]:
        """One path sub-problem per expert tour; its size is drawn once for the batch.

        The current node is the ``j``-th of the rotated (never reversed) tour, ``j``
        uniform in ``[0, n - 3]``, so every sub-problem keeps at least two remaining nodes.
        The environment holds the distances between the origin (node 0), the current node
        (node 1 when ``j > 0``) and the remaining nodes in tour order, and the tour
        bookkeeping of that construction, so :meth:`step` can follow it to the end.
        """
        dist, tours = data["dist"], experts["tour"]
        batch, n = tours.shape
        if n < 3:
            raise UsageError(f"sub-problems need instances of at least 3 nodes, got {n}")
        j = int(rng.integers(0, n - 2))
        order = rotations(tours, rng, flip=False)
        head = order[:, :1] if j == 0 else order[:, [0, j]]
        nodes = np.concatenate([head, order[:, j + 1 :]], axis=1)
        sub = np.take_along_axis(np.take_along_axis(dist, nodes[:, :, None], axis=1),
                                 nodes[:, None, :], axis=2)  # fmt: skip
        placed = head.shape[1]
        visited = np.zeros(nodes.shape, dtype=bool)
        visited[:, :placed] = True
        tour = np.zeros(nodes.shape, dtype=np.int64)
        tour[:, :placed] = np.arange(placed)
        target = np.zeros((*nodes.shape, 1), dtype=bool)
        target[:, placed] = True  # the successor of the current node in the tour
        tensor = torch.as_tensor
        env = {
            "dist": tensor(sub, dtype=torch.float32, device=device),
            "origin": torch.zeros(batch, dtype=torch.long, device=device),
            "current": torch.full((batch,), placed - 1, dtype=torch.long, device=device),
            "visited": tensor(visited, device=device),
            "tour": tensor(tour, device=device),
            "count": torch.full((batch,), placed, dtype=torch.long, device=device),
        }
        return env, tensor(target, device=device)


register(ATSPProblem())
