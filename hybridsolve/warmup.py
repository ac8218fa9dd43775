"""``hybridsolve warmup``: compile every Numba kernel of :mod:`hybridsolve.comb` once.

Numba compiles a kernel at its first call and keeps the machine code in its on-disk cache
(``__pycache__`` beside the installed modules), so only the first run after installing
pays for compilation. :func:`hybridsolve.comb.solve` compiles before its clock starts, so
a first run is as good as a later one but takes longer in wall time; running this once
after installing (the README's first command does) makes the first real run as fast as
the second.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["instances", "warm_everything"]


def instances() -> list[Any]:
    """Small instances of every comb type in every array layout the methods meet.

    TSP from coordinates (floats and TSPLIB's rounded ``nint``, C or Fortran order) and
    from a distance matrix; ATSP; CVRP with coordinates or a matrix; OP; KP with integer
    and with float data; MIS; SMTT.

    Returns
    -------
    list
    """
    from hybridsolve import comb
    from hybridsolve.datasets import routing
    from hybridsolve.datasets.graphs import erdos_renyi

    rng = np.random.default_rng(5)
    tsp = routing.tsp_uniform(rng, 30)
    vrp = routing.cvrp(rng, 30)
    kp = routing.knapsack(rng, 30)
    return [
        tsp,
        comb.TSP(distances=tsp.distance_matrix()),
        comb.TSP(coords=np.asfortranarray(1000 * tsp.coords), rounding="nint"),
        routing.atsp(rng, 20),
        vrp,
        comb.CVRP(vrp.coords, vrp.demands, vrp.capacity, distances=vrp.distance_matrix()),
        routing.op(rng, 30),
        kp,
        comb.KP(kp.values.astype(float), kp.weights.astype(float), float(kp.capacity)),
        comb.MIS(30, erdos_renyi(rng, 30, 0.2), weights=rng.random(30)),
        routing.smtt(rng, 20),
    ]


def warm_everything(progress: Callable[[str, float], None] | None = None) -> float:
    """Warm every built-in method, local search and bound of every type in :func:`instances`.

    Parameters
    ----------
    progress : callable, optional
        ``progress(label, seconds)`` after each instance type and layout.

    Returns
    -------
    float
        Seconds spent in all.
    """
    from hybridsolve import comb
    from hybridsolve.comb import warmup
    from hybridsolve.comb.solve import _IMPROVERS, methods

    total = 0.0
    for instance in instances():
        began = time.perf_counter()
        for method in methods(instance):
            comb.warm_up(instance, method, bound=True)  # the bound once per layout
        improver = _IMPROVERS.get(type(instance))
        if improver is not None:
            warmup.warm_improver(instance, improver, {})
        seconds = time.perf_counter() - began
        total += seconds
        if progress is not None:
            progress(repr(instance), seconds)
    return total
