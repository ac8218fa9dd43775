"""The bisimulation-quotiented (BQ) state of a partial TSP tour, as batched token tensors.

Drakulic et al. (2023) observe that a partial TSP tour ``origin -> ... -> current`` leaves a
sub-problem that no longer depends on the nodes already visited between its two ends: what
remains is a *path* TSP from ``current`` through every unvisited node back to ``origin``.
Partial solutions that leave the same sub-problem are bisimilar, and the BQ-MDP identifies
them: its state is the set of remaining nodes plus the origin and the current node, and
that is all the policy sees.

Here that state is a set of tokens, one per node of the sub-problem, each with four
features: ``x``, ``y`` and two flags, *is origin* and *is current*. Coordinates are
re-normalised for every state to the unit square with the aspect ratio kept (the longer
side of the bounding box of the state's tokens spans ``[0, 1]``), so that sub-problems that
differ by a translation and a uniform scaling give the same tokens. This extends the
paper's quotient by the similarity symmetries of the Euclidean TSP, and it is what lets a
policy trained on small instances read the small neighbourhoods of the k-nearest-neighbour
restriction below as ordinary small instances.

For large instances the paper restricts the tokens given to the policy to the ``knn``
remaining nodes nearest to the current node (plus origin and current), so a step costs
``O(knn^2)`` attention instead of ``O(N^2)``: pass ``knn`` to :func:`build_state`.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

from typing import NamedTuple

import torch

from hybridsolve.mip.errors import UsageError

__all__ = ["FEATURES", "TSPState", "build_state", "normalise"]

#: Number of features per token: x, y, is origin, is current (the flags come last).
FEATURES = 4


class TSPState(NamedTuple):
    """Batched BQ states of partial TSP tours, one row per sub-problem.

    Attributes
    ----------
    features : torch.Tensor
        ``[B, T, 4]`` float: normalised ``x``, ``y``, then the *is origin* and *is current*
        flags; all zero on padding tokens.
    present : torch.Tensor
        ``[B, T]`` bool: the token belongs to the state (a remaining node, the origin or the
        current node); ``False`` marks padding, which attention ignores.
    selectable : torch.Tensor
        ``[B, T]`` bool: the token is a remaining node the tour may visit next.
    nodes : torch.Tensor
        ``[B, T]`` int64: the node of the full instance each token stands for (arbitrary on
        padding tokens).
    """

    features: torch.Tensor
    present: torch.Tensor
    selectable: torch.Tensor
    nodes: torch.Tensor


def normalise(coords: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """Map the present tokens of each row into the unit square, keeping the aspect ratio.

    Parameters
    ----------
    coords : torch.Tensor
        ``[B, T, 2]`` coordinates.
    present : torch.Tensor
        ``[B, T]`` bool; at least one token per row should be present.

    Returns
    -------
    torch.Tensor
        ``[B, T, 2]``: ``(coords - low) / scale`` with ``low`` the corner of the row's
        bounding box and ``scale`` its longer side; zero on absent tokens and wherever the
        present tokens coincide.
    """
    inside = present.unsqueeze(-1)
    low = torch.where(inside, coords, torch.inf).amin(dim=1, keepdim=True)
    high = torch.where(inside, coords, -torch.inf).amax(dim=1, keepdim=True)
    scale = (high - low).amax(dim=-1, keepdim=True)
    scale = torch.where(torch.isfinite(scale) & (scale > 0), scale, torch.ones_like(scale))
    low = torch.where(torch.isfinite(low), low, torch.zeros_like(low))
    return torch.where(inside, (coords - low) / scale, torch.zeros_like(coords))


def _check(
    coords: torch.Tensor, origin: torch.Tensor, current: torch.Tensor, visited: torch.Tensor
) -> None:
    if coords.ndim != 3 or coords.shape[-1] != 2:
        raise UsageError(f"coords must have shape [B, N, 2], got {tuple(coords.shape)}")
    batch, nodes = coords.shape[:2]
    if tuple(origin.shape) != (batch,) or tuple(current.shape) != (batch,):
        raise UsageError(
            f"origin and current must have shape [{batch}], got {tuple(origin.shape)} and "
            f"{tuple(current.shape)}"
        )
    if tuple(visited.shape) != (batch, nodes) or visited.dtype != torch.bool:
        raise UsageError(
            f"visited must be a bool tensor of shape [{batch}, {nodes}], got "
            f"{visited.dtype} {tuple(visited.shape)}"
        )


def build_state(
    coords: torch.Tensor,
    origin: torch.Tensor,
    current: torch.Tensor,
    visited: torch.Tensor,
    *,
    knn: int | None = None,
) -> TSPState:
    """The BQ state tokens of a batch of partial tours.

    Parameters
    ----------
    coords : torch.Tensor
        ``[B, N, 2]`` node coordinates of each instance.
    origin : torch.Tensor
        ``[B]`` int64: first node of each partial tour.
    current : torch.Tensor
        ``[B]`` int64: last node visited (equal to ``origin`` before the first move).
    visited : torch.Tensor
        ``[B, N]`` bool: nodes on the partial tour, ``origin`` and ``current`` included;
        padding nodes of an instance smaller than ``N`` count as visited.
    knn : int, optional
        Give the policy only the current node, the origin and the ``knn`` remaining nodes
        nearest to the current node (Euclidean, ties by index order of ``torch.topk``);
        then ``T = knn + 2``. Without it (or when ``knn >= N``) every node of the instance
        has a token, ``T = N``, and visited nodes are padding.

    Returns
    -------
    TSPState
        Tokens, the present and selectable masks and the node index of each token.

    Raises
    ------
    UsageError
        On inconsistent shapes or a ``knn`` that is not a positive integer.
    """
    _check(coords, origin, current, visited)
    if knn is not None and (isinstance(knn, bool) or not isinstance(knn, int) or knn < 1):
        raise UsageError(f"knn must be a positive integer or None, got {knn!r}")
    batch, size = coords.shape[:2]
    rows = torch.arange(batch, device=coords.device)
    if knn is None or knn >= size:
        nodes = torch.arange(size, device=coords.device).expand(batch, size)
        is_origin = nodes == origin.unsqueeze(1)
        is_current = nodes == current.unsqueeze(1)
        selectable = ~visited
        present = selectable | is_origin | is_current
        token_coords = coords
    else:
        here = coords[rows, current].unsqueeze(1)
        squared = ((coords - here) ** 2).sum(dim=-1).masked_fill(visited, torch.inf)
        near_squared, near = squared.topk(knn, dim=1, largest=False)
        valid = torch.isfinite(near_squared)
        near = torch.where(valid, near, current.unsqueeze(1))
        nodes = torch.cat([current.unsqueeze(1), origin.unsqueeze(1), near], dim=1)
        # before the first move the origin is the current node: one token carries both flags
        distinct = (origin != current).unsqueeze(1)
        present = torch.cat([torch.ones_like(distinct), distinct, valid], dim=1)
        selectable = torch.cat([torch.zeros_like(distinct), torch.zeros_like(distinct), valid], 1)
        is_origin = present & (nodes == origin.unsqueeze(1))
        is_current = present & (nodes == current.unsqueeze(1))
        token_coords = coords.gather(1, nodes.unsqueeze(-1).expand(-1, -1, 2))
    flags = torch.stack([is_origin, is_current], dim=-1).to(coords.dtype)
    features = torch.cat([normalise(token_coords, present), flags], dim=-1)
    return TSPState(features, present, selectable, nodes)
