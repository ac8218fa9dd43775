"""Batched greedy rollout and beam search of a :class:`~.model.BQPolicy` on any BQ problem.

Each step builds the BQ state of every partial solution in the batch
(:meth:`~.problem.BQProblem.state`, optionally restricted to the ``knn`` nearest
candidates), encodes it in full and applies the chosen action
(:meth:`~.problem.BQProblem.step`). Steps where every row has at most one allowed action
are taken without a model call. Costs are computed on the instance's own metric
(rounding, distance matrix, prizes) by :meth:`~.problem.BQProblem.cost`, never by the model.

Beam search (Drakulic et al. 2023 report greedy and beam-search results) keeps, per
instance, the ``width`` partial solutions of largest total log-probability and returns the
best complete solution among them. The greedy path is protected: its successor always stays
in the beam, so a beam search never returns a worse solution than the greedy rollout of
the same model (up to floating-point ties between logits), and ``width=1`` is the greedy
rollout. Rows whose construction has finished (an orienteering tour back at the depot, a
full knapsack) carry their score on with a single zero-cost action.

Instances are grouped by size and decoded in chunks of at most ``batch`` rows (a row is one
partial solution: ``batch`` instances for greedy, ``batch // width`` for beam search), under
:func:`torch.inference_mode`, on the chosen device. ``augment`` decodes every instance also
under symmetries of the unit square, which change what the policy reads but not the
costs, and keeps the best (POMO's instance augmentation, Kwon et al. 2020).

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
Y.-D. Kwon, J. Choo, B. Kim, I. Yoon, Y. Gwon and S. Min, "POMO: Policy Optimization with
Multiple Optima for Reinforcement Learning", NeurIPS 2020.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from hybridsolve.mip.errors import ProblemError, SolverError, UsageError

from ..runtime import device as resolve_device
from .model import BQPolicy
from .problem import BQProblem, Env, State, check_knn, gather_rows, get

__all__ = ["beam_search", "decode", "dihedral", "greedy", "rollout"]


def _positive(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise UsageError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _gather_state(state: State, rows: torch.Tensor) -> State:
    return State(*(None if part is None else part[rows] for part in state))


def _logits(model: BQPolicy, state: State, done: torch.Tensor) -> torch.Tensor:
    """``[R, T * A]`` logits; a finished row has one action (index 0) of logit 0."""
    allowed = state.selectable.flatten(1) & ~done.unsqueeze(1)
    stuck = ~done & ~allowed.any(dim=1)
    if stuck.any():
        raise SolverError("BQ decoding reached a state without an allowed action (a bug)")
    if bool((allowed.sum(dim=1) <= 1).all()):  # forced moves: no model call
        logits = torch.zeros(allowed.shape, device=allowed.device).masked_fill(~allowed, -torch.inf)
    else:
        logits = model(state).float().flatten(1).masked_fill(~allowed, -torch.inf)
    logits[done, 0] = 0.0
    return logits


def rollout(
    model: BQPolicy,
    problem: BQProblem,
    env: Env,
    width: int,
    knn: int | None,
    beam: bool,
    generator: torch.Generator | None = None,
) -> Env:
    """Decode a chunk of equal-size instances to the end.

    Parameters
    ----------
    model : BQPolicy
        The policy, in eval mode.
    problem : BQProblem
        The problem of the instances.
    env : Env
        :meth:`~.problem.BQProblem.start` of ``B * width`` rows, each instance repeated
        ``width`` times in consecutive rows.
    width : int
        Beams per instance (1 for greedy).
    knn : int or None
        Candidate restriction of every state.
    beam : bool
        Run the beam bookkeeping (also for ``width=1``, which must then reproduce the
        greedy rollout).
    generator : torch.Generator, optional
        Without beam search: draw every action from the policy's distribution with this
        generator instead of taking the most likely one (sampling, as UDC's conqueror may).

    Returns
    -------
    Env
        The finished constructions, ``width`` rows per instance.
    """
    rows = next(iter(env.values())).shape[0]
    batch = rows // width
    dev = next(iter(env.values())).device
    scores = torch.full((batch, width), -torch.inf, dtype=torch.float64, device=dev)
    scores[:, 0] = 0.0
    greedy_slot = torch.zeros(batch, dtype=torch.long, device=dev)
    first_row = torch.arange(batch, device=dev) * width
    for _ in range(problem.max_steps(env) + 1):
        done = problem.finished(env)
        if bool(done.all()):
            return env
        state = problem.state(env, knn)
        logits = _logits(model, state, done)
        if not beam:
            if generator is None:
                choice = logits.argmax(dim=1)
            else:
                probs = torch.softmax(logits, dim=1)
                choice = torch.multinomial(probs.cpu(), 1, generator=generator).view(-1)
                choice = choice.to(logits.device)
            env = problem.step(env, state, choice)
            continue
        actions = logits.shape[1]
        logp = torch.log_softmax(logits, dim=1).double().view(batch, width, actions)
        flat = (scores.unsqueeze(-1) + logp).view(batch, width * actions)
        top_scores, top = flat.topk(width, dim=1)
        # keep the greedy beam's best successor in the beam
        greedy_pick = greedy_slot * actions + logits[first_row + greedy_slot].argmax(dim=1)
        hit = top == greedy_pick.unsqueeze(1)
        missing = ~hit.any(dim=1)
        top[missing, -1] = greedy_pick[missing]
        top_scores[missing, -1] = flat[missing, greedy_pick[missing]]
        greedy_slot = torch.where(missing, width - 1, hit.long().argmax(dim=1))
        # fewer live successors than beams (early steps): duplicate the best one
        dead = ~torch.isfinite(top_scores)
        top = torch.where(dead, top[:, :1], top)
        scores = top_scores
        parents = (first_row.unsqueeze(1) + top // actions).view(-1)
        choice = (top % actions).view(-1)
        env = problem.step(gather_rows(env, parents), _gather_state(state, parents), choice)
    if not bool(problem.finished(env).all()):
        raise SolverError(f"BQ decoding of {problem.name} did not finish in its step bound")
    return env


def dihedral(coords: np.ndarray, k: int) -> np.ndarray:
    """The ``k``-th of the 8 symmetries of the unit square applied to ``[n, 2]`` coordinates.

    Bit 0 flips ``x``, bit 1 flips ``y``, bit 2 swaps the axes; distances are unchanged, so
    every tour keeps its length, but the policy, which reads coordinates, sees another
    instance (the 8-fold augmentation of Kwon et al. 2020).
    """
    xy = np.array(coords, dtype=np.float64)
    if k & 1:
        xy[:, 0] = 1.0 - xy[:, 0]
    if k & 2:
        xy[:, 1] = 1.0 - xy[:, 1]
    return xy[:, ::-1].copy() if k & 4 else xy


def _decode(
    model: BQPolicy,
    instances: Any,
    beam: bool,
    width: int,
    knn: int | None,
    device: str | torch.device,
    batch: int,
    augment: int = 1,
    generator: torch.Generator | None = None,
) -> tuple[list[Any], np.ndarray]:
    if not isinstance(instances, (list, tuple)):
        instances = [instances]
    instances = list(instances)
    width = _positive("beam width", width)
    batch = _positive("batch", batch)
    augment = _positive("augment", augment)
    if augment > 8:
        raise UsageError(f"augment takes 1 to 8 symmetries of the unit square, got {augment}")
    knn = check_knn(knn)
    if not instances:
        return [], np.zeros(0)
    problem = get(instances[0])
    groups: dict[int, list[int]] = {}
    jobs: list[tuple[int, dict[str, np.ndarray]]] = []  # (instance, arrays) per rollout
    for index, instance in enumerate(instances):
        if type(instance) is not problem.kind:
            raise ProblemError(
                f"one decode call takes one problem type: {problem.kind.__name__} and "
                f"{type(instance).__name__}"
            )
        arrays = problem.arrays(instance)  # validates before any model call
        if augment > 1 and "coords" not in arrays:
            raise UsageError(f"augment needs coordinates; {problem.name} instances have none")
        group = groups.setdefault(problem.size(instance), [])
        for k in range(augment):
            transformed = arrays if k == 0 else {**arrays, "coords": dihedral(arrays["coords"], k)}
            group.append(len(jobs))
            jobs.append((index, transformed))
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    model.to(dev)
    was_training = model.training
    model.eval()
    answers: list[Any] = [None] * len(instances)
    costs = np.full(len(instances), np.nan)
    chunk = max(1, batch // width)
    sign = -1.0 if problem.maximize else 1.0
    try:
        with torch.inference_mode():
            for members in groups.values():
                for begin in range(0, len(members), chunk):
                    part = members[begin : begin + chunk]
                    data = {
                        key: torch.as_tensor(
                            np.repeat(np.stack([jobs[j][1][key] for j in part]), width, axis=0),
                            dtype=torch.float32, device=dev,
                        )
                        for key in jobs[part[0]][1]
                    }  # fmt: skip
                    env = rollout(model, problem, problem.start(data), width, knn, beam,
                                  generator)  # fmt: skip
                    found = problem.answers(env)
                    for k, j in enumerate(part):
                        i = jobs[j][0]
                        for answer in found[k * width : (k + 1) * width]:
                            value = problem.cost(instances[i], answer)
                            if np.isnan(costs[i]) or sign * value < sign * costs[i]:
                                answers[i], costs[i] = answer, value
    finally:
        model.train(was_training)
    return answers, costs


def greedy(
    model: BQPolicy,
    instances: Sequence[Any],
    *,
    knn: int | None = None,
    augment: int = 1,
    device: str | torch.device = "auto",
    batch: int = 256,
) -> tuple[list[Any], np.ndarray]:
    """Greedy rollout: at every step the action of largest logit (deterministic).

    Parameters
    ----------
    model : BQPolicy
        The policy; moved to ``device`` and run in eval mode (its mode is restored after).
    instances : sequence of comb instances
        Instances of one type (TSP, ATSP, CVRP, OP or KP), of any sizes (grouped by size
        internally); a single instance is accepted too.
    knn : int, optional
        Restrict every state to the ``knn`` candidates nearest to the current node; for
        large instances.
    augment : int, default 1
        Decode each instance under the first ``augment`` of the 8 symmetries of the unit
        square (:func:`dihedral`; problems with coordinates) and keep the best solution:
        ``augment`` times the work, in the same batches.
    device : str or torch.device, default "auto"
        Where the model runs (see :func:`hybridsolve.neural.device`).
    batch : int, default 256
        Most rollouts per forward pass.

    Returns
    -------
    answers : list
        One solution per instance in comb's form: a tour (int64 permutation starting at
        node 0), a list of routes, an orienteering tour or a knapsack selection.
    costs : numpy.ndarray
        Their objective values on each instance's own metric.

    Raises
    ------
    UsageError
        An instance the policy cannot read, a model that does not fit the problem, or a
        bad ``knn``, ``batch`` or device.
    ProblemError
        Instances of a type BQ-NCO does not decode, or of several types.
    """
    return _decode(model, instances, False, 1, knn, device, batch, augment)


def beam_search(
    model: BQPolicy,
    instances: Sequence[Any],
    *,
    width: int = 16,
    knn: int | None = None,
    augment: int = 1,
    device: str | torch.device = "auto",
    batch: int = 256,
) -> tuple[list[Any], np.ndarray]:
    """Beam search over the policy's log-probabilities; the best complete beam wins.

    The ``width`` partial solutions of largest total log-probability are kept per instance
    (the greedy path always among them); at the end the best complete one by the
    instance's own cost is returned, so the result is never worse than :func:`greedy`'s
    (up to floating-point ties between logits).

    Parameters
    ----------
    model : BQPolicy
        The policy.
    instances : sequence of comb instances
        As in :func:`greedy`.
    width : int, default 16
        Beams per instance; ``1`` is the greedy rollout.
    knn, augment : int, optional
        As in :func:`greedy`.
    device : str or torch.device, default "auto"
        Where the model runs.
    batch : int, default 256
        Most rows (partial solutions) per forward pass: ``max(1, batch // width)``
        instances.

    Returns
    -------
    answers : list
    costs : numpy.ndarray

    Raises
    ------
    UsageError, ProblemError
        As :func:`greedy`, and for a bad ``width``.
    """
    return _decode(model, instances, True, width, knn, device, batch, augment)


def decode(
    model: BQPolicy,
    instances: Sequence[Any],
    *,
    beam: int = 1,
    knn: int | None = None,
    augment: int = 1,
    device: str | torch.device = "auto",
    batch: int = 256,
    generator: torch.Generator | None = None,
) -> tuple[list[Any], np.ndarray]:
    """Greedy rollout (``beam=1``) or beam search of width ``beam``.

    See :func:`greedy` and :func:`beam_search` for the parameters and the return value;
    with ``beam=1``, a ``generator`` samples every action from the policy instead.
    """
    width = _positive("beam", beam)
    return _decode(model, instances, width > 1, width, knn, device, batch, augment, generator)
