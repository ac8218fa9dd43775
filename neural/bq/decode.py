"""Batched greedy rollout and beam search of a :class:`~.model.BQPolicy` on TSP instances.

Every tour starts at node 0 (origin = current = 0). Each step builds the BQ state of every
partial tour in the batch (:func:`~.tsp_state.build_state`: the remaining nodes with the
origin and the current node marked, optionally restricted to the ``knn`` nearest remaining
nodes), encodes it in full and moves to the chosen node; the last remaining node is taken
without a model call. Tour lengths are computed by :meth:`hybridsolve.comb.TSP.tour_cost`
on the instance's own metric (rounding or distance matrix included), never by the model.

Beam search (Drakulic et al. 2023 report greedy and beam-search results) keeps, per
instance, the ``width`` partial tours of largest total log-probability and returns the
shortest complete tour among them. The greedy path is protected: its successor always stays
in the beam, so a beam search never returns a longer tour than the greedy rollout of the
same model (up to floating-point ties between logits), and ``width=1`` is the greedy
rollout.

Instances are grouped by size and decoded in chunks of at most ``batch`` rows (a row is one
partial tour: ``batch`` instances for greedy, ``batch // width`` for beam search), under
:func:`torch.inference_mode`, on the chosen device.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from hybridsolve.comb.routing import TSP
from hybridsolve.mip.errors import ProblemError, UsageError

from ..runtime import device as resolve_device
from .model import BQPolicy
from .tsp_state import build_state

__all__ = ["beam_search", "decode", "greedy", "unit_coords"]


def unit_coords(instance: TSP) -> np.ndarray:
    """The instance's coordinates mapped into the unit square, aspect ratio kept (float64).

    Done once per instance in float64 before the float32 model sees them, so instances with
    large coordinates (TSPLIB) lose no precision; every state is re-normalised again.

    Raises
    ------
    UsageError
        When the instance has no coordinates (only a distance matrix).
    """
    if not isinstance(instance, TSP):
        raise ProblemError(f"BQ-NCO decodes TSP instances, not {type(instance).__name__}")
    if instance.coords is None:
        raise UsageError("BQ-NCO needs node coordinates; this TSP has only a distance matrix")
    xy = np.asarray(instance.coords, dtype=np.float64)
    low = xy.min(axis=0)
    scale = float(np.ptp(xy, axis=0).max())
    return (xy - low) / (scale if scale > 0 else 1.0)


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise UsageError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _groups(instances: Sequence[TSP]) -> dict[int, list[int]]:
    """Instance indices by number of nodes."""
    groups: dict[int, list[int]] = {}
    for index, instance in enumerate(instances):
        unit_coords(instance)  # validate early, before any model call
        groups.setdefault(instance.num_nodes, []).append(index)
    return groups


def _rollout(
    model: BQPolicy, coords: torch.Tensor, width: int, knn: int | None, beam: bool
) -> torch.Tensor:
    """Tours ``[B, width, n]`` (int64, on the device) of a chunk of equal-size instances.

    ``beam=False`` is the greedy rollout (``width`` must be 1); ``beam=True`` runs the beam
    bookkeeping even for ``width=1``, which must then reproduce the greedy rollout.
    """
    batch, n = coords.shape[:2]
    dev = coords.device
    rows = batch * width
    if width > 1:
        coords = coords.repeat_interleave(width, dim=0)
    row_index = torch.arange(rows, device=dev)
    visited = torch.zeros(rows, n, dtype=torch.bool, device=dev)
    visited[:, 0] = True
    origin = torch.zeros(rows, dtype=torch.long, device=dev)
    current = torch.zeros(rows, dtype=torch.long, device=dev)
    tours = torch.zeros(rows, n, dtype=torch.long, device=dev)
    # beam bookkeeping: total log-probability per beam, and which beam holds the greedy path
    scores = torch.full((batch, width), -torch.inf, dtype=torch.float64, device=dev)
    scores[:, 0] = 0.0
    greedy_slot = torch.zeros(batch, dtype=torch.long, device=dev)
    first_row = torch.arange(batch, device=dev) * width
    for step in range(1, n):
        if step == n - 1:  # one node left: no choice to make
            chosen = (torch.arange(n, device=dev) * ~visited).sum(dim=1)
        else:
            state = build_state(coords, origin, current, visited, knn=knn)
            logits = model(state.features, state.present, state.selectable).float()
            if not beam:
                token = logits.argmax(dim=1)
                chosen = state.nodes.gather(1, token.unsqueeze(1)).squeeze(1)
            else:
                tokens = logits.shape[1]
                logp = torch.log_softmax(logits, dim=1).double().view(batch, width, tokens)
                flat = (scores.unsqueeze(-1) + logp).view(batch, width * tokens)
                top_scores, top = flat.topk(width, dim=1)
                # keep the greedy beam's best successor in the beam
                greedy_rows = first_row + greedy_slot
                greedy_pick = greedy_slot * tokens + logits[greedy_rows].argmax(dim=1)
                hit = top == greedy_pick.unsqueeze(1)
                missing = ~hit.any(dim=1)
                top[missing, -1] = greedy_pick[missing]
                top_scores[missing, -1] = flat[missing, greedy_pick[missing]]
                greedy_slot = torch.where(missing, width - 1, hit.long().argmax(dim=1))
                # fewer live successors than beams (early steps): duplicate the best one
                dead = ~torch.isfinite(top_scores)
                top = torch.where(dead, top[:, :1], top)
                scores = top_scores
                parents = (first_row.unsqueeze(1) + top // tokens).view(-1)
                token = (top % tokens).view(-1)
                chosen = state.nodes[parents, token]
                visited = visited[parents]
                tours = tours[parents]
                origin = origin[parents]
        tours[:, step] = chosen
        visited[row_index, chosen] = True
        current = chosen
    return tours.view(batch, width, n)


def _decode(
    model: BQPolicy,
    instances: Sequence[TSP],
    beam: bool,
    width: int,
    knn: int | None,
    device: str | torch.device,
    batch: int,
) -> tuple[list[np.ndarray], np.ndarray]:
    if isinstance(instances, TSP):
        instances = [instances]
    instances = list(instances)
    width = _positive("beam width", width)
    batch = _positive("batch", batch)
    if knn is not None:
        knn = _positive("knn", knn)
    groups = _groups(instances)
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    model.to(dev)
    was_training = model.training
    model.eval()
    tours: list[np.ndarray | None] = [None] * len(instances)
    lengths = np.zeros(len(instances))
    chunk = max(1, batch // width)
    try:
        with torch.inference_mode():
            for members in groups.values():
                for start in range(0, len(members), chunk):
                    part = members[start : start + chunk]
                    xy = np.stack([unit_coords(instances[i]) for i in part])
                    coords = torch.as_tensor(xy, dtype=torch.float32, device=dev)
                    candidates = _rollout(model, coords, width, knn, beam).cpu().numpy()
                    for i, beams in zip(part, candidates):
                        costs = [instances[i].tour_cost(tour) for tour in beams]
                        best = int(np.argmin(costs))
                        tours[i] = np.ascontiguousarray(beams[best], dtype=np.int64)
                        lengths[i] = costs[best]
    finally:
        model.train(was_training)
    return [t for t in tours if t is not None], lengths


def greedy(
    model: BQPolicy,
    instances: Sequence[TSP],
    *,
    knn: int | None = None,
    device: str | torch.device = "auto",
    batch: int = 256,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Greedy rollout: at every step the token of largest logit (deterministic).

    Parameters
    ----------
    model : BQPolicy
        The policy; moved to ``device`` and run in eval mode (its mode is restored after).
    instances : sequence of TSP
        Instances with coordinates, of any sizes (grouped by size internally).
    knn : int, optional
        Restrict every state to the ``knn`` remaining nodes nearest to the current node
        (:func:`~.tsp_state.build_state`); for large instances.
    device : str or torch.device, default "auto"
        Where the model runs (see :func:`hybridsolve.neural.device`).
    batch : int, default 256
        Most instances per forward pass.

    Returns
    -------
    tours : list of numpy.ndarray
        One int64 permutation of ``0..n-1`` per instance, starting at node 0.
    lengths : numpy.ndarray
        Their costs under :meth:`hybridsolve.comb.TSP.tour_cost`.

    Raises
    ------
    UsageError
        An instance without coordinates, or a bad ``knn``, ``batch`` or device.
    ProblemError
        An instance that is not a :class:`~hybridsolve.comb.TSP`.
    """
    return _decode(model, instances, False, 1, knn, device, batch)


def beam_search(
    model: BQPolicy,
    instances: Sequence[TSP],
    *,
    width: int = 16,
    knn: int | None = None,
    device: str | torch.device = "auto",
    batch: int = 256,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Beam search over the policy's log-probabilities; the shortest beam wins.

    The ``width`` partial tours of largest total log-probability are kept per instance
    (the greedy path always among them); at the end the shortest complete tour, measured by
    :meth:`hybridsolve.comb.TSP.tour_cost`, is returned, so the result is never longer than
    :func:`greedy`'s (up to floating-point ties between logits).

    Parameters
    ----------
    model : BQPolicy
        The policy.
    instances : sequence of TSP
        Instances with coordinates.
    width : int, default 16
        Beams per instance; ``1`` is the greedy rollout.
    knn : int, optional
        As in :func:`greedy`.
    device : str or torch.device, default "auto"
        Where the model runs.
    batch : int, default 256
        Most rows (partial tours) per forward pass: ``max(1, batch // width)`` instances.

    Returns
    -------
    tours : list of numpy.ndarray
    lengths : numpy.ndarray

    Raises
    ------
    UsageError, ProblemError
        As :func:`greedy`, and for a bad ``width``.
    """
    return _decode(model, instances, True, width, knn, device, batch)


def decode(
    model: BQPolicy,
    instances: Sequence[TSP],
    *,
    beam: int = 1,
    knn: int | None = None,
    device: str | torch.device = "auto",
    batch: int = 256,
) -> tuple[list[np.ndarray], np.ndarray]:
    """Greedy rollout (``beam=1``) or beam search of width ``beam``.

    See :func:`greedy` and :func:`beam_search` for the parameters and the return value.
    """
    width = _positive("beam", beam)
    return _decode(model, instances, width > 1, width, knn, device, batch)
