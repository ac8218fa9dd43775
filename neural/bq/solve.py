"""The BQ-NCO policy as a :func:`hybridsolve.comb.solve` method for the TSP.

:func:`bq` has the signature of comb's methods, ``method(instance, *, tracker, seed,
**options)``; :mod:`hybridsolve.neural.plugin` registers a lazy wrapper of it under the
name ``"bq"`` through comb's entry-point group of plug-ins, so
``comb.solve(tsp, "bq", weights=...)`` works while :mod:`hybridsolve.comb` never imports
:mod:`hybridsolve.neural`.

The policy decodes one tour (greedy, or beam search), optionally restricted to the ``knn``
nearest remaining nodes at every step as the paper does for large instances
(Drakulic et al. 2023); ``polish=True`` then runs hybridsolve's 2-opt + Or-opt local search
from that tour.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hybridsolve.comb._search import Tracker
from hybridsolve.comb.routing import TSP
from hybridsolve.mip.errors import ProblemError

from ..runtime import device as resolve_device
from ..weights import DIRECTORY, MANIFEST, WeightsError, load, manifest
from .decode import decode
from .model import BQPolicy

__all__ = ["bq", "load_policy"]

#: Policies already loaded, by (file, sha256, device, file size and mtime); a few at most.
_LOADED: dict[tuple[Any, ...], tuple[BQPolicy, dict[str, Any]]] = {}
_KEEP = 4


def _entry(weights: str | os.PathLike[str]) -> tuple[str, dict[str, Any] | None]:
    """The weights file (as a string) and its manifest entry, or ``None`` when none is found."""
    if isinstance(weights, os.PathLike) or str(weights).endswith(".pt"):
        path = Path(weights)
        entries = manifest(path.parent) if (path.parent / MANIFEST).exists() else {}
        entry = next((e for e in entries.values() if e["file"] == path.name), None)
        return str(path.resolve()), entry
    entry = manifest().get(str(weights))
    file = str(DIRECTORY / entry["file"]) if entry is not None else str(weights)
    return file, entry


def load_policy(
    weights: str | os.PathLike[str] = "tsp", *, device: str | torch.device = "auto"
) -> tuple[BQPolicy, dict[str, Any]]:
    """A :class:`~.model.BQPolicy` built from a manifest entry and loaded with its weights.

    The model is constructed from the entry's ``model`` field and its parameter shapes are
    passed to :func:`hybridsolve.neural.weights.load` as ``expected``, so weights trained
    with other hyper-parameters fail with a one-line :class:`WeightsError`. Loaded policies
    are kept in memory (by file, checksum and device) for the next call.

    Parameters
    ----------
    weights : str or path-like, default "tsp"
        A name in the shipped registry, or a ``.pt`` file with a ``manifest.json`` beside it
        that describes it (as :func:`~.train.train` writes).
    device : str or torch.device, default "auto"
        Where the model goes.

    Returns
    -------
    policy : BQPolicy
        In eval mode.
    entry : dict
        The manifest entry.

    Raises
    ------
    WeightsError
        Unknown name, missing manifest entry, a file that is missing, corrupt or modified,
        an entry for another problem or with bad hyper-parameters, or mismatched shapes.
    """
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    file, entry = _entry(weights)
    if entry is None:
        if not (isinstance(weights, os.PathLike) or str(weights).endswith(".pt")):
            load(weights)  # raises the registry's "unknown weights ..., available: ..."
        raise WeightsError(
            f"{file}: no {MANIFEST} entry beside it describes this file, so the model's "
            "hyper-parameters are unknown; register it with hybridsolve.neural.weights.register"
        )
    try:
        stat = os.stat(file)
        key: tuple[Any, ...] = (file, entry["sha256"], str(dev), stat.st_size, stat.st_mtime_ns)
    except OSError:
        key = ()  # missing file: load() below says so
    if key in _LOADED:
        return _LOADED[key]
    if entry["problem"] != "tsp":
        raise WeightsError(f"{file}: trained for {entry['problem']!r}, not for the TSP")
    try:
        policy = BQPolicy(**entry["model"])
    except Exception as exc:  # UsageError or TypeError from unknown keyword arguments
        raise WeightsError(
            f"{file}: the manifest's model hyper-parameters are unusable ({exc})"
        ) from None
    expected = {name: tuple(value.shape) for name, value in policy.state_dict().items()}
    state_dict, entry = load(weights, map_location=dev, expected=expected)
    policy.load_state_dict(state_dict)
    policy.to(dev).eval()
    if key:
        while len(_LOADED) >= _KEEP:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = (policy, entry)
    return policy, entry


def _polish(instance: TSP, tour: np.ndarray, seed: int) -> np.ndarray:
    """2-opt + Or-opt local search (neighbour lists, don't-look bits) from ``tour``.

    :func:`hybridsolve.comb.improve`, the moves of comb's ``or_opt`` method started from
    the decoded tour.
    """
    from hybridsolve.comb import improve

    return improve(instance, tour, seed=seed).tour


def bq(
    instance: TSP,
    *,
    tracker: Tracker,
    seed: int = 0,
    weights: str = "tsp",
    beam: int = 1,
    knn: int | None = None,
    polish: bool = False,
    device: str = "auto",
    batch: int = 256,
) -> np.ndarray:
    """A TSP tour from the BQ-NCO policy (Drakulic et al. 2023), as a comb method.

    Parameters
    ----------
    instance : TSP
        With coordinates (an explicit distance matrix, if any, only costs the tour).
    tracker : Tracker
        Receives the decoded tour's length, then the polished one's. Decoding itself is
        not interrupted by the time limit; polishing is skipped once it has passed.
    seed : int, default 0
        Order in which the polishing local search first visits the nodes; decoding is
        deterministic.
    weights : str or path-like, default "tsp"
        A shipped weights name, or a ``.pt`` file registered in a ``manifest.json`` beside
        it (see :func:`load_policy`). No weights are shipped yet, so the default raises
        :class:`WeightsError` until a model is trained and registered.
    beam : int, default 1
        Beam width; ``1`` is the greedy rollout.
    knn : int, optional
        Restrict every state to the ``knn`` remaining nodes nearest to the current node
        (the paper's setting for large instances).
    polish : bool, default False
        Improve the tour with 2-opt and Or-opt local search.
    device : str, default "auto"
        Where the model runs.
    batch : int, default 256
        Most partial tours per forward pass.

    Returns
    -------
    numpy.ndarray
        The tour, an int64 permutation of ``0..n-1``.

    Raises
    ------
    ProblemError
        A non-TSP instance.
    UsageError
        No coordinates, or bad options.
    WeightsError
        Weights that cannot be loaded.
    """
    if not isinstance(instance, TSP):
        raise ProblemError(f"bq solves TSP instances, not {type(instance).__name__}")
    policy, _ = load_policy(weights, device=device)
    tours, lengths = decode(policy, [instance], beam=beam, knn=knn, device=device, batch=batch)
    tour = tours[0]
    tracker.record(float(lengths[0]))
    if polish and instance.num_nodes >= 5 and not tracker.expired():
        tour = _polish(instance, tour, seed)
        tracker.record(instance.tour_cost(tour))
    return tour
