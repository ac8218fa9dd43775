"""The neural methods offered to :func:`hybridsolve.comb.solve`, registered without torch.

``pyproject.toml`` names :func:`register` in the entry-point group
:data:`hybridsolve.comb.solve.PLUGINS`; :mod:`hybridsolve.comb` loads that group the first
time it is asked for a method it does not ship, so ``comb.solve(tsp, "bq")`` works without
comb importing this package and without importing torch before a policy actually runs.
"""

from __future__ import annotations

from typing import Any

from hybridsolve.comb import ATSP, CVRP, KP, OP, TSP
from hybridsolve.comb.solve import register_method

__all__ = ["register"]

#: The instance types the BQ-NCO policies decode.
KINDS = (TSP, ATSP, CVRP, OP, KP)

#: The instance types UDC divides and conquers.
UDC_KINDS = (TSP, CVRP)


def _bq(
    instance: Any,
    *,
    tracker: Any,
    seed: int = 0,
    weights: str | None = None,
    beam: int = 1,
    knn: int | str | None = "auto",
    augment: int = 1,
    polish: bool = False,
    device: str = "auto",
    batch: int = 256,
) -> Any:
    """BQ-NCO solution (:func:`hybridsolve.neural.bq.bq`); torch is imported on the first call.

    The options are spelled out because :func:`hybridsolve.comb.solve` checks option names
    against the signature.
    """
    from hybridsolve.neural.bq import bq

    return bq(instance, tracker=tracker, seed=seed, weights=weights, beam=beam, knn=knn,
              augment=augment, polish=polish, device=device, batch=batch)  # fmt: skip


def _udc(
    instance: Any,
    *,
    tracker: Any,
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
    """UDC divide-and-conquer (:func:`hybridsolve.neural.udc.udc`); torch is imported on use."""
    from hybridsolve.neural.udc import udc

    return udc(instance, tracker=tracker, seed=seed, weights=weights, divider=divider,
               divider_weights=divider_weights, start=start, size=size, rounds=rounds,
               patience=patience, variants=variants, beam=beam, sampling=sampling, knn=knn,
               polish=polish, device=device, batch=batch)  # fmt: skip


def register() -> None:
    """Register the neural comb methods: ``"bq"`` for TSP, ATSP, CVRP, OP and KP, ``"udc"``
    for TSP and CVRP."""
    for kind in KINDS:
        register_method(kind, "bq", _bq)
    for kind in UDC_KINDS:
        register_method(kind, "udc", _udc)
