"""UDC's conquer step for the CVRP: groups of neighbouring routes re-solved as small CVRPs.

The routes are ordered by the polar angle of their centroid around the depot and cut into
groups of consecutive routes holding at least ``size`` customers (:func:`groups`). A group
is a CVRP of its own (the depot, its customers, the same capacity and metric), decoded by
the BQ-NCO CVRP policy; all groups of a batch go through the policy together
(:func:`hybridsolve.neural.bq.decode.decode`). A group takes the policy's routes only where
they cost less than its current ones, so a round never makes the solution worse; every
customer stays in exactly one route and every route within the capacity (the policy's
construction never overloads a route, and the answer is checked against the sub-instance).
Rounds shift the first group by half a group (UDC's reunion), so customers move between
the groups of consecutive rounds.

References
----------
Z. Zheng, C. Zhou, T. Xialiang, M. Yuan and Z. Wang, "UDC: A Unified Neural
Divide-and-Conquer Framework for Large-Scale Combinatorial Optimization Problems",
NeurIPS 2024.
"""

from __future__ import annotations

import numpy as np

from hybridsolve.comb.routing import CVRP

from ..bq.decode import decode
from .tsp import Conqueror, offset

__all__ = ["conquer", "groups", "sub_instance"]


def _angles(unit: np.ndarray, routes: list[np.ndarray]) -> np.ndarray:
    centroids = np.stack([unit[route].mean(axis=0) for route in routes])
    delta = centroids - unit[0]
    return np.arctan2(delta[:, 1], delta[:, 0])


def groups(unit: np.ndarray, routes: list[np.ndarray], size: int, r: int) -> list[list[int]]:
    """Route indices of each group of round ``r``.

    Routes are sorted by the angle of their centroid around the depot; the sorted cycle is
    rotated by :func:`~.tsp.offset` (in routes, for a group of the average number of
    routes) and cut greedily into runs of routes with at least ``size`` customers; a last
    run with fewer than ``size / 2`` customers joins the run before it. Every route is in
    exactly one group.
    """
    order = np.argsort(_angles(unit, routes), kind="stable")
    counts = np.array([route.size for route in routes])
    total = int(counts.sum())
    per_group = max(1, int(round(len(routes) * min(size, total) / max(total, 1))))
    order = np.roll(order, -offset(r, per_group))
    out: list[list[int]] = [[]]
    held = 0
    for index in order:
        if held >= size:
            out.append([])
            held = 0
        out[-1].append(int(index))
        held += int(counts[index])
    if len(out) > 1 and held < size / 2:
        out[-2].extend(out.pop())
    return out


def sub_instance(instance: CVRP, customers: np.ndarray) -> CVRP:
    """The CVRP of the depot and ``customers`` (same capacity, metric and rounding)."""
    nodes = np.concatenate([[0], customers])
    distances = None
    if instance.distances is not None:
        distances = instance.distances[np.ix_(nodes, nodes)]
    return CVRP(coords=instance.coords[nodes], demands=instance.demands[nodes],
                capacity=instance.capacity, distances=distances,
                rounding=instance.rounding)  # fmt: skip


def conquer(
    instance: CVRP, routes: list[np.ndarray], parts: list[list[int]], conqueror: Conqueror
) -> tuple[list[np.ndarray], int]:
    """Every group of ``parts`` re-decoded as one batch; each keeps the cheaper routes.

    Parameters
    ----------
    instance : CVRP
        The instance.
    routes : list of numpy.ndarray
        The current routes (customers ``1..n``, depot implied).
    parts : list of list of int
        Groups of route indices (:func:`groups`).
    conqueror : Conqueror
        A CVRP policy and its decoding settings (``variants`` are symmetries of the unit
        square, at most 8).

    Returns
    -------
    routes : list of numpy.ndarray
        The routes of these groups: each group's old ones, or its new cheaper ones.
    improved : int
        Groups whose routes changed.
    """
    customers = [np.concatenate([routes[i] for i in part]) for part in parts]
    subs = [sub_instance(instance, c) for c in customers]
    answers, costs = decode(conqueror.policy, subs, beam=conqueror.beam, knn=conqueror.knn,
                            augment=conqueror.variants, device=conqueror.device,
                            batch=conqueror.batch, generator=conqueror.generator)  # fmt: skip
    out: list[np.ndarray] = []
    improved = 0
    for part, nodes, sub, answer, cost in zip(parts, customers, subs, answers, costs):
        old = [routes[i] for i in part]
        if cost < instance.routes_cost(old) - 1e-9 * max(cost, 1.0):
            sub.check_routes(answer)
            out.extend(nodes[np.asarray(route, dtype=np.int64) - 1] for route in answer)
            improved += 1
        else:
            out.extend(old)
    return out, improved
