"""UDC's conquer step for the TSP: sub-paths with fixed end points, re-solved in batches.

A tour is cut into ``P`` consecutive sub-paths of about ``size`` nodes (:func:`split`). A
sub-path ``a -> x_1 ... x_k -> b`` with its end points fixed is a path TSP from ``a``
through the ``x_i`` to ``b``: exactly the BQ-NCO state of a partial tour whose current node
is ``a`` and whose origin is ``b`` (:mod:`hybridsolve.neural.bq.tsp`), so the shipped BQ
policy serves as the conqueror without retraining. Each sub-path is re-built from scratch
by the policy in several *variants* (both directions, under the symmetries of the unit
square), all sub-paths of a round in one batch (:func:`conquer`); a sub-path takes the
best variant's order only where it is shorter than its current one on the instance's own
metric, so a round never makes the tour longer. The BQ state re-normalises the
coordinates of every step to the unit square, which is UDC's normalisation of
sub-problems.

Everything here is O(n) in memory besides the batch being decoded: no distance matrix is
built (an instance that comes with one uses it for costs only).

References
----------
Z. Zheng, C. Zhou, T. Xialiang, M. Yuan and Z. Wang, "UDC: A Unified Neural
Divide-and-Conquer Framework for Large-Scale Combinatorial Optimization Problems",
NeurIPS 2024.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from hybridsolve.comb._common import lengths
from hybridsolve.comb.routing import TSP

from ..bq.decode import dihedral, rollout
from ..bq.model import BQPolicy
from ..bq.problem import get

__all__ = ["Conqueror", "conquer", "path_costs", "split", "stitch"]

#: Golden-ratio step (as a share of the sub-path length) added to the split points every
#: second round, so that rounds do not repeat their seams.
_DRIFT = 0.6180339887498949


def offset(round_index: int, length: int) -> int:
    """Where round ``round_index`` (from 0) starts its first sub-path, in tour positions.

    Every odd round shifts the split points by half a sub-path (UDC's "reunion": the seams
    of one round lie in the middle of the next round's sub-paths); every pair of rounds
    also drifts by a golden-ratio share of ``length``, so a deterministic conqueror does
    not see the same sub-paths again two rounds later.
    """
    half = (round_index % 2) * (length // 2)
    drift = int((round_index // 2) * _DRIFT * length)
    return (half + drift) % max(length, 1)


def split(tour: np.ndarray, size: int, start: int = 0) -> list[np.ndarray]:
    """The tour, rotated to begin at position ``start``, cut into sub-paths.

    Parameters
    ----------
    tour : numpy.ndarray
        A permutation of the nodes.
    size : int
        Target sub-path length; the ``ceil(n / size)`` pieces differ in length by at most
        one node.
    start : int
        Position of the first piece's first node.

    Returns
    -------
    list of numpy.ndarray
        Consecutive pieces whose concatenation is the rotated tour (:func:`stitch`).
    """
    tour = np.asarray(tour, dtype=np.int64)
    pieces = max(1, -(-tour.size // max(size, 1)))
    return np.array_split(np.roll(tour, -start), pieces)


def stitch(pieces: list[np.ndarray], start: int = 0) -> np.ndarray:
    """The tour of :func:`split`'s pieces, rotated back by ``start`` positions."""
    return np.roll(np.concatenate(pieces), start)


def path_costs(instance: TSP, paths: np.ndarray) -> np.ndarray:
    """``[R]`` lengths of ``[R, m]`` open paths on the instance's own metric (float64)."""
    a, b = paths[:, :-1], paths[:, 1:]
    if instance.distances is not None:
        return instance.distances[a, b].sum(axis=1)
    return lengths(instance.coords[a], instance.coords[b], instance.rounding).sum(axis=1)


@dataclass(frozen=True)
class Conqueror:
    """How the BQ policy re-solves sub-paths.

    Attributes
    ----------
    policy : BQPolicy
        A TSP policy, in eval mode, on ``device``.
    knn : int or None
        Candidate restriction of every state (the weights' own by default).
    variants : int
        Decodings per sub-path, 1 to 16: both directions (``a`` to ``b`` and ``b`` to
        ``a``) under the first ``variants // 2`` of the 8 symmetries of the unit square
        (:func:`~hybridsolve.neural.bq.decode.dihedral`), the forward direction first.
    beam : int
        Beam width of every decoding (1: greedy or sampled rollout).
    generator : torch.Generator or None
        Sample every action from the policy instead of taking the most likely one.
    device : torch.device
        Where the policy runs.
    batch : int
        Most decodings (rows) per rollout.
    """

    policy: BQPolicy
    knn: int | None
    variants: int
    beam: int
    generator: torch.Generator | None
    device: torch.device
    batch: int


def _variants(count: int) -> list[tuple[bool, int]]:
    """(reversed, symmetry) pairs: forward, backward, then both under each symmetry."""
    return [(bool(k % 2), k // 2) for k in range(count)]


def _decode(conqueror: Conqueror, xy: np.ndarray) -> np.ndarray:
    """Interior orders (``[R, beam, m - 2]``, local indices ``2..m-1``) of ``[R, m, 2]`` paths.

    Token 0 of every row is the path's first node, token 1 its last; the policy's state
    has ``current = 0`` and ``origin = 1`` with both visited.
    """
    problem = get("tsp")
    rows, m = xy.shape[:2]
    width = conqueror.beam
    out = np.empty((rows, width, m - 2), dtype=np.int64)
    chunk = max(1, conqueror.batch // width)
    for begin in range(0, rows, chunk):
        part = torch.as_tensor(xy[begin : begin + chunk], dtype=torch.float32)
        part = part.repeat_interleave(width, dim=0).to(conqueror.device)
        r = part.shape[0]
        zeros = torch.zeros(r, dtype=torch.long, device=conqueror.device)
        visited = torch.zeros(r, m, dtype=torch.bool, device=conqueror.device)
        visited[:, :2] = True
        env = {"coords": part, "origin": zeros + 1, "current": zeros,
               "visited": visited, "tour": torch.zeros(r, m, dtype=torch.long,
                                                       device=conqueror.device),
               "count": zeros + 2}  # fmt: skip
        env = rollout(conqueror.policy, problem, env, width, conqueror.knn, width > 1,
                      conqueror.generator)  # fmt: skip
        tours = env["tour"][:, 2:].cpu().numpy().reshape(-1, width, m - 2)
        out[begin : begin + tours.shape[0]] = tours  # every beam is a candidate
    return out


def conquer(instance: TSP, unit: np.ndarray, pieces: list[np.ndarray],
            conqueror: Conqueror) -> tuple[list[np.ndarray], int]:  # fmt: skip
    """Re-solve every piece with at least two interior nodes; keep the shorter orders.

    Parameters
    ----------
    instance : TSP
        The instance (costs on its own metric).
    unit : numpy.ndarray
        ``(n, 2)`` its coordinates in the unit square (what the policy reads).
    pieces : list of numpy.ndarray
        Sub-paths (:func:`split`); their end points stay in place.
    conqueror : Conqueror
        The policy and its decoding settings.

    Returns
    -------
    pieces : list of numpy.ndarray
        The same pieces, each either unchanged or a strictly shorter order of its nodes.
    improved : int
        How many pieces changed.
    """
    out = list(pieces)
    improved = 0
    by_length: dict[int, list[int]] = {}
    for index, piece in enumerate(pieces):
        if piece.size >= 4:
            by_length.setdefault(piece.size, []).append(index)
    variants = _variants(conqueror.variants)
    for m, members in by_length.items():
        paths = np.stack([pieces[i] for i in members])  # [S, m]
        # per variant: the paths in its direction, and their nodes in token order
        # (first node, last node, then the interior), which the local indices refer to
        directed = [paths[:, ::-1] if backwards else paths for backwards, _ in variants]
        arranged = [np.concatenate([ends[:, :1], ends[:, -1:], ends[:, 1:-1]], axis=1)
                    for ends in directed]  # fmt: skip
        rows = []
        for (_, symmetry), order in zip(variants, arranged):
            xy = unit[order]
            rows.append(xy if symmetry == 0 else
                        np.stack([dihedral(row, symmetry) for row in xy]))  # fmt: skip
        local = _decode(conqueror, np.concatenate(rows))  # [V * S, W, m - 2]
        count, width = len(members), conqueror.beam
        candidates = np.empty((len(variants), width, count, m), dtype=np.int64)
        for v, (backwards, _) in enumerate(variants):
            ends = directed[v]
            for w in range(width):
                chosen = local[v * count : (v + 1) * count, w]
                interior = np.take_along_axis(arranged[v], chosen, axis=1)
                path = np.concatenate([ends[:, :1], interior, ends[:, -1:]], axis=1)
                candidates[v, w] = path[:, ::-1] if backwards else path
        candidates = candidates.reshape(-1, count, m)
        costs = path_costs(instance, candidates.reshape(-1, m)).reshape(-1, count)
        best = costs.argmin(axis=0)
        old = path_costs(instance, paths)
        for k, i in enumerate(members):
            new = costs[best[k], k]
            if new < old[k] - 1e-9 * max(abs(old[k]), 1.0):
                out[i] = candidates[best[k], k]
                improved += 1
    return out, improved
