"""Sub-path augmentation: path-TSP sub-problems cut from expert tours, and their loss.

Drakulic et al. (2023) rest their training on *tail recursion*: once a tour has gone
``origin -> ... -> current``, the rest of an optimal tour is an optimal path from
``current`` through the remaining nodes back to ``origin``, which is exactly the
sub-problem the BQ state describes. One expert tour of ``n`` nodes therefore gives a
training example for every suffix, and every rotation and (for the symmetric TSP) both
directions of the cyclic tour are expert tours too. :func:`sample_subproblems` draws one
such sub-problem per tour; :func:`imitation_loss` is the cross-entropy of the policy on the
expert's next node.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch

from hybridsolve.mip.errors import UsageError

from ..runtime import device as resolve_device
from .model import BQPolicy
from .tsp_state import build_state

__all__ = ["SubProblems", "imitation_loss", "sample_subproblems"]


class SubProblems(NamedTuple):
    """A batch of path-TSP sub-problems cut from expert tours, with their targets.

    Attributes
    ----------
    coords : numpy.ndarray
        ``[B, T, 2]`` float32 coordinates of each sub-problem's nodes: the origin first,
        then the current node (absent when ``position == 0``, where they coincide), then the
        remaining nodes in random order.
    origin, current : numpy.ndarray
        ``[B]`` int64 token indices of the origin and the current node.
    visited : numpy.ndarray
        ``[B, T]`` bool: the origin and current tokens.
    target : numpy.ndarray
        ``[B]`` int64 token index of the expert's next node.
    nodes : numpy.ndarray
        ``[B, T]`` int64: node of the full instance behind each token.
    position : int
        Position of the current node in the (rotated) expert tour: the sub-problem has
        ``n - 1 - position`` remaining nodes.
    """

    coords: np.ndarray
    origin: np.ndarray
    current: np.ndarray
    visited: np.ndarray
    target: np.ndarray
    nodes: np.ndarray
    position: int


def sample_subproblems(
    coords: np.ndarray,
    tours: np.ndarray,
    rng: np.random.Generator,
    *,
    position: int | None = None,
) -> SubProblems:
    """One random sub-problem per expert tour (the paper's sub-path augmentation).

    Every tour is rotated to a random start and reversed with probability 1/2; the
    sub-problem after ``position`` moves keeps the origin (the rotated tour's first node),
    the current node (its ``position``-th node) and the remaining nodes, whose first is the
    target. The remaining nodes are shuffled, so the target's token index carries no
    information.

    Parameters
    ----------
    coords : numpy.ndarray
        ``[B, n, 2]`` coordinates.
    tours : numpy.ndarray
        ``[B, n]`` expert tours (permutations).
    rng : numpy.random.Generator
        Source of every random choice.
    position : int, optional
        Current position in ``[0, n - 3]``; drawn uniformly (once for the batch) when
        omitted.

    Returns
    -------
    SubProblems

    Raises
    ------
    UsageError
        On ``n < 3``, mismatched shapes or a position out of range.
    """
    tours = np.asarray(tours, dtype=np.int64)
    coords = np.asarray(coords)
    if tours.ndim != 2 or coords.shape != (*tours.shape, 2):
        raise UsageError(
            f"coords [B, n, 2] and tours [B, n] do not match: {coords.shape}, {tours.shape}"
        )
    batch, n = tours.shape
    if n < 3:
        raise UsageError(f"sub-problems need instances of at least 3 nodes, got {n}")
    if position is None:
        position = int(rng.integers(0, n - 2))
    elif not 0 <= position <= n - 3:
        raise UsageError(f"position must be in [0, {n - 3}], got {position}")
    shift = rng.integers(0, n, size=batch)
    flip = rng.random(batch) < 0.5
    order = np.where(flip[:, None], tours[:, ::-1], tours)
    order = np.take_along_axis(order, (np.arange(n)[None, :] + shift[:, None]) % n, axis=1)
    rest = order[:, position + 1 :]
    shuffle = np.argsort(rng.random(rest.shape), axis=1)
    rest = np.take_along_axis(rest, shuffle, axis=1)
    head = order[:, :1] if position == 0 else order[:, [0, position]]
    nodes = np.concatenate([head, rest], axis=1)
    visited = np.zeros(nodes.shape, dtype=bool)
    visited[:, : head.shape[1]] = True
    return SubProblems(
        coords=np.take_along_axis(coords, nodes[..., None], axis=1).astype(np.float32),
        origin=np.zeros(batch, dtype=np.int64),
        current=np.full(batch, head.shape[1] - 1, dtype=np.int64),
        visited=visited,
        target=head.shape[1] + np.argmin(shuffle, axis=1),
        nodes=nodes,
        position=position,
    )


def imitation_loss(
    model: BQPolicy, batch: SubProblems, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """Mean cross-entropy of the policy on the expert's next node.

    Parameters
    ----------
    model : BQPolicy
        The policy (on ``device``).
    batch : SubProblems
        Sub-problems from :func:`sample_subproblems`.
    device : str or torch.device, default "cpu"
        Where the tensors go.

    Returns
    -------
    torch.Tensor
        Scalar loss, differentiable with respect to the model's parameters.
    """
    dev = device if isinstance(device, torch.device) else resolve_device(device)

    def tensor(array: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(array, device=dev)

    state = build_state(
        tensor(batch.coords), tensor(batch.origin), tensor(batch.current), tensor(batch.visited)
    )
    logits = model(state.features, state.present, state.selectable)
    return torch.nn.functional.cross_entropy(logits.float(), tensor(batch.target))
