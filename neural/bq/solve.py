"""The BQ-NCO policy as a :func:`hybridsolve.comb.solve` method for TSP, ATSP, CVRP, OP and KP.

:func:`bq` has the signature of comb's methods, ``method(instance, *, tracker, seed,
**options)``; :mod:`hybridsolve.neural.plugin` registers a lazy wrapper of it under the
name ``"bq"`` through comb's entry-point group of plug-ins, so
``comb.solve(tsp, "bq", weights=...)`` works while :mod:`hybridsolve.comb` never imports
:mod:`hybridsolve.neural`.

The policy decodes one solution (greedy, or beam search), optionally restricted to the
``knn`` nearest candidates at every step as the paper does for large instances
(Drakulic et al. 2023); ``polish=True`` then runs comb's local search from it
(:func:`hybridsolve.comb.improve`: 2-opt and Or-opt for tours, granular local search for
routes, ...).

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

import os
from typing import Any

import torch

from hybridsolve.comb._search import Tracker
from hybridsolve.mip.errors import ProblemError, UsageError

from ..weights import load_model
from .decode import decode
from .model import BQPolicy
from .problem import BQProblem, get

__all__ = ["bq", "improve_answer", "load_policy"]


def load_policy(
    weights: str | os.PathLike[str] = "tsp",
    *,
    device: str | torch.device = "auto",
    problem: str | None = None,
) -> tuple[BQPolicy, dict[str, Any]]:
    """A :class:`~.model.BQPolicy` built from a manifest entry and loaded with its weights.

    :func:`hybridsolve.neural.weights.load_model` with :class:`~.model.BQPolicy`: the model
    is constructed from the entry's ``model`` field and its parameter shapes are checked, so
    weights trained with other hyper-parameters fail with a one-line :class:`WeightsError`.
    Loaded policies are kept in memory (by file, checksum and device) for the next call.

    Parameters
    ----------
    weights : str or path-like, default "tsp"
        A name in the shipped registry, or a ``.pt`` file with a ``manifest.json`` beside it
        that describes it (as :func:`~.train.train` writes).
    device : str or torch.device, default "auto"
        Where the model goes.
    problem : str, optional
        The problem the weights must have been trained for.

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
    return load_model(weights, BQPolicy, device=device, problem=problem)


def improve_answer(problem: BQProblem, instance: Any, answer: Any, seed: int,
                   seconds: float | None) -> Any:  # fmt: skip
    """comb's local search from an answer in comb's form (:func:`hybridsolve.comb.improve`),
    its result in the same form (``problem.answer``); BQ's and UDC's ``polish``."""
    from hybridsolve.comb import improve

    return getattr(improve(instance, answer, time_limit=seconds, seed=seed), problem.answer)


def bq(
    instance: Any,
    *,
    tracker: Tracker,
    seed: int = 0,
    weights: str | None = None,
    beam: int = 1,
    knn: int | str | None = "auto",
    augment: int = 1,
    polish: bool = False,
    device: str = "auto",
    batch: int = 256,
) -> Any:
    """A solution from the BQ-NCO policy (Drakulic et al. 2023), as a comb method.

    Parameters
    ----------
    instance : TSP, ATSP, CVRP, OP or KP
        The instance (a TSP with coordinates; an explicit distance matrix, if any, only
        costs the tour).
    tracker : Tracker
        Receives the decoded solution's cost, then the polished one's. Decoding itself is
        not interrupted by the time limit; polishing gets what is left of it.
    seed : int, default 0
        Seed of the polishing local search; decoding is deterministic.
    weights : str or path-like, optional
        A shipped weights name, or a ``.pt`` file registered in a ``manifest.json`` beside
        it (see :func:`load_policy`); by default the shipped weights named after the
        problem (``"tsp"``, ``"cvrp"``, ``"kp"``, ...).
    beam : int, default 1
        Beam width; ``1`` is the greedy rollout.
    knn : int, "auto" or None, default "auto"
        Restrict every state to the ``knn`` candidates nearest to the current node (the
        paper's setting for large instances); ``"auto"`` takes the restriction the weights
        were trained with (their manifest's ``knn``), ``None`` (or ``"none"``) lifts it.
    augment : int, default 1
        Also decode under up to 8 symmetries of the unit square and keep the best
        (:func:`~.decode.greedy`).
    polish : bool, default False
        Improve the decoded solution with comb's local search
        (:func:`hybridsolve.comb.improve`).
    device : str, default "auto"
        Where the model runs.
    batch : int, default 256
        Most partial solutions per forward pass.

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        The tour, routes or selection, in comb's form.

    Raises
    ------
    ProblemError
        An instance of a type BQ-NCO does not decode.
    UsageError
        An instance the policy cannot read, or bad options.
    WeightsError
        Weights that cannot be loaded, or that were trained for another problem.
    """
    try:
        problem = get(instance)
    except UsageError as exc:
        raise ProblemError(str(exc)) from None
    policy, entry = load_policy(problem.name if weights is None else weights, device=device,
                                problem=problem.name)  # fmt: skip
    if isinstance(knn, str):  # the command line's --option knn=auto / knn=none
        if knn.lower() not in ("auto", "none"):
            raise UsageError(f"knn must be a positive integer, 'auto' or 'none', got {knn!r}")
        knn = entry["knn"] if knn.lower() == "auto" else None
    answers, costs = decode(policy, [instance], beam=beam, knn=knn, augment=augment,
                            device=device, batch=batch)  # fmt: skip
    answer = answers[0]
    tracker.record(float(costs[0]))
    remaining = tracker.remaining()
    if polish and remaining > 0:
        seconds = None if remaining == float("inf") else remaining
        answer = improve_answer(problem, instance, answer, seed, seconds)
        tracker.record(problem.cost(instance, answer))
    return answer
