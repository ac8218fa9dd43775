"""The BQ-MDP of the 0-1 knapsack problem (Drakulic et al. 2023).

Taking items one by one, a partial selection leaves a sub-problem that no longer depends
on which items were taken, only on how much room they left: a knapsack of the remaining
capacity over the items not taken that still fit. Partial selections that leave the same
sub-problem are bisimilar, and the BQ state is that sub-problem.

Tokens: one *knapsack* token, always present and never selectable (so every state, also a
finished one, has a present token; it carries the state-level feature), followed by the
items that still fit. Five features per token, re-normalised for every state so that
sub-problems that differ by a scaling of the weights and capacity, or of the values, give
the same tokens:

- items: ``weight / remaining capacity``, ``value / largest value of the state's items``,
  ``(value / weight) / best value-per-weight ratio of the state's items`` (weights below
  ``1e-6`` of the remaining capacity count as ``1e-6`` there), then two zeros;
- the knapsack token: three zeros, the flag ``1``, and
  ``min(1, remaining capacity / total weight of the state's items)`` (1: everything fits).

No pair features. One action per item token: take it. The construction ends when no item
fits any more. Items of no value are never candidates (taking them cannot raise the value,
and the exact DP leaves them out too), so an optimal selection is exactly a finished
construction. ``knn`` keeps only the ``knn`` candidate items of best value per weight.

Feasibility is exact: :meth:`KPProblem.arrays` keeps weights and capacity in their own
units where they are whole numbers up to ``2**24`` (exact in the decoder's float32), and the
room is tracked in float64, so an item that fits exactly is taken. Other instances are
scaled by the capacity and an item fits only with a margin of ``2.5e-7`` of the capacity,
more than float32's rounding, so every decoded selection passes
:meth:`hybridsolve.comb.KP.check_selection`.

Expert selections are optimal, from comb's exact dynamic programming
(:func:`hybridsolve.comb.solve` with ``"dp"``; integer data, as
:func:`hybridsolve.datasets.routing.knapsack` makes with ``integer=True``). By tail
recursion every item of an optimal selection ``S*`` not taken yet is an optimal next
action, whatever subset of ``S*`` was taken before: :meth:`KPProblem.sample` takes a
subset of ``S*`` (size uniform in ``[0, |S*| - 1]``; its members uniform, or those of best
value per weight) as already taken and gives every remaining item of ``S*`` as target.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from hybridsolve.comb.knapsack import KP
from hybridsolve.datasets.routing import knapsack
from hybridsolve.mip.errors import UsageError

from .problem import BQProblem, Env, State, compact, register, within_k

__all__ = ["KPProblem"]

#: Largest whole number the decoder's float32 holds exactly.
_EXACT = 2**24
#: Room kept free (relative to the capacity) in instances that are not exact.
_MARGIN = 2.5e-7
#: Smallest weight per remaining capacity in the value-per-weight feature.
_TINY = 1e-6


def _exact(instance: KP) -> bool:
    """Whole-number weights and capacity that float32 represents exactly."""
    weights = instance.weights.astype(np.float64)
    capacity = float(instance.capacity)
    whole = bool(np.all(weights == np.round(weights))) and capacity.is_integer()
    largest = max(float(weights.max(initial=0.0)), capacity)
    return whole and largest <= _EXACT


class KPProblem(BQProblem):
    """The 0-1 knapsack problem: selections of item indices; see the module docstring."""

    name = "kp"
    kind = KP
    features = 5
    pairs = 0
    actions = 1
    maximize = True
    answer = "selection"
    label_method = "dp"

    def generate(self, rng: np.random.Generator, size: int) -> KP:
        """Integer data (:func:`hybridsolve.datasets.routing.knapsack`, ``integer=True``)."""
        return knapsack(rng, size, integer=True)

    def arrays(self, instance: KP) -> dict[str, np.ndarray]:
        """``values`` (by the largest value), ``weights``, ``capacity`` and ``exact``.

        Weights and capacity stay in their own units when they are whole numbers up to
        ``2**24`` (``exact = 1``), else they are divided by the capacity (``exact = 0``).
        """
        self._instance(instance)
        values = instance.values.astype(np.float64)
        top = float(values.max(initial=0.0))
        weights = instance.weights.astype(np.float64)
        capacity = float(instance.capacity)
        exact = _exact(instance)
        scale = 1.0 if exact or capacity <= 0 else capacity
        return {
            "values": values / top if top > 0 else values,
            "weights": weights / scale,
            "capacity": np.array([capacity / scale]),
            "exact": np.array([1.0 if exact else 0.0]),
        }

    def size(self, instance: KP) -> int:
        return instance.num_items

    def cost(self, instance: KP, answer: np.ndarray) -> float:
        return instance.value(answer)

    def check(self, instance: KP, answer: np.ndarray) -> None:
        instance.check_selection(answer)

    # -------------------------------------------------------------- construction

    def start(self, data: dict[str, torch.Tensor]) -> Env:
        values = data["values"]
        batch = values.shape[0]
        return {
            "values": values,
            "weights": data["weights"],
            "capacity": data["capacity"].reshape(batch),
            "exact": data["exact"].reshape(batch),
            "used": torch.zeros(batch, dtype=torch.float64, device=values.device),
            "taken": torch.zeros(values.shape, dtype=torch.bool, device=values.device),
        }

    def _room(self, env: Env) -> torch.Tensor:
        """``[B]`` float64: the capacity an item may still use (less the margin)."""
        capacity = env["capacity"].double()
        margin = torch.where(env["exact"] > 0.5, 0.0, _MARGIN) * capacity
        return capacity - margin - env["used"]

    def candidates(self, env: Env) -> torch.Tensor:
        """``[B, N]`` bool: items not taken, of positive value, that fit."""
        fits = env["weights"].double() <= self._room(env).unsqueeze(1)
        return fits & ~env["taken"] & (env["values"] > 0)

    def state(self, env: Env, knn: int | None = None) -> State:
        """Knapsack token, then the candidate items (all, or the ``knn`` best by ratio)."""
        candidates = self.candidates(env)
        values, weights = env["values"], env["weights"]
        if knn is not None:
            ratio = values.double() / weights.double().clamp_min(1e-300)
            candidates = within_k(-ratio.clamp_max(1e300), candidates, knn)
        items, filled = compact(candidates)
        batch = items.shape[0]
        head = torch.zeros(batch, 1, dtype=torch.long, device=items.device)
        nodes = torch.cat([head, items], dim=1)
        present = torch.cat([torch.ones_like(head, dtype=torch.bool), filled], dim=1)
        dtype = values.dtype
        capacity = env["capacity"].double()
        room = (capacity - env["used"]).clamp_min(0.0)
        w = torch.where(filled, weights.gather(1, items), 0.0).double()
        v = torch.where(filled, values.gather(1, items), 0.0).double()
        per_room = torch.where(room.unsqueeze(1) > 0, w / room.unsqueeze(1).clamp_min(1e-300), 0.0)
        top = v.amax(dim=1, keepdim=True) if v.shape[1] else v.sum(dim=1, keepdim=True)
        per_top = torch.where(top > 0, v / top.clamp_min(1e-300), 0.0)
        ratio = torch.where(filled, per_top / per_room.clamp_min(_TINY), 0.0)
        best = ratio.amax(dim=1, keepdim=True) if ratio.shape[1] else ratio.sum(1, keepdim=True)
        relative = torch.where(best > 0, ratio / best.clamp_min(1e-300), 0.0)
        total = w.sum(dim=1)
        fill = torch.where(total > 0, room / total.clamp_min(1e-300), 1.0).clamp(max=1.0)
        items_part = torch.stack([per_room, per_top, relative, torch.zeros_like(w),
                                  torch.zeros_like(w)], dim=-1)  # fmt: skip
        knapsack_part = torch.zeros(batch, 1, self.features, dtype=torch.float64,
                                    device=items.device)  # fmt: skip
        knapsack_part[:, 0, 3] = 1.0
        knapsack_part[:, 0, 4] = fill
        features = torch.cat([knapsack_part, items_part], dim=1)
        features = (features * present.unsqueeze(-1)).to(dtype)
        selectable = present.clone()
        selectable[:, 0] = False
        return State(features, None, present, selectable.unsqueeze(-1), nodes)

    def step(self, env: Env, state: State, choice: torch.Tensor) -> Env:
        live = ~self.finished(env)
        item = state.nodes.gather(1, choice.unsqueeze(1)).squeeze(1)
        picked = state.selectable.flatten(1).gather(1, choice.unsqueeze(1)).squeeze(1)
        take = live & picked
        rows = torch.arange(item.shape[0], device=item.device)
        taken = env["taken"].clone()
        taken[rows, item] = taken[rows, item] | take
        weight = env["weights"][rows, item].double()
        used = torch.where(take, env["used"] + weight, env["used"])
        return {**env, "taken": taken, "used": used}

    def finished(self, env: Env) -> torch.Tensor:
        return ~self.candidates(env).any(dim=1)

    def answers(self, env: Env) -> list[Any]:
        return [np.flatnonzero(row).astype(np.int64) for row in env["taken"].cpu().numpy()]

    def max_steps(self, env: Env) -> int:
        return int(env["taken"].shape[1])

    # -------------------------------------------------------------- imitation

    def label(self, instance: KP, *, time_limit: float | None, iterations: int | None,
              seed: int) -> np.ndarray:  # fmt: skip
        """An optimal selection by comb's exact DP (``iterations`` is ignored).

        Raises
        ------
        UsageError
            Weights or capacity that are not whole numbers.
        """
        from hybridsolve.comb import solve

        return solve(instance, "dp", time_limit=time_limit, seed=seed).selection

    def expert(self, instance: KP, answer: np.ndarray) -> dict[str, np.ndarray]:
        """``selected``: the ``(n,)`` 0/1 mask of the expert selection (int8)."""
        mask = np.zeros(instance.num_items, dtype=np.int8)
        mask[np.asarray(answer, dtype=np.int64)] = 1
        return {"selected": mask}

    def _taking(self, env: Env, taken: np.ndarray, device: torch.device) -> Env:
        """``env`` with the items of ``taken`` ([B, N] bool) taken."""
        mask = torch.as_tensor(taken, device=device)
        used = torch.where(mask, env["weights"].double(), 0.0).sum(dim=1)
        return {**env, "taken": mask, "used": used}

    def sample(
        self,
        data: dict[str, np.ndarray],
        experts: dict[str, np.ndarray],
        rng: np.random.Generator,
        device: torch.device,
    ) -> tuple[Env, torch.Tensor]:
        """One sub-problem per expert selection: a random part of it already taken.

        With ``S`` the expert's items of positive value that fit (all of an optimal
        selection), ``k`` is uniform in ``[0, |S| - 1]`` and ``k`` members of ``S`` are
        taken; the targets are the other members of ``S``. Half of the rows take ``k``
        random members, the other half the ``k`` members of best value per weight: a
        policy takes the obvious items first, so the states it meets late in a
        construction keep only the marginal items of ``S``, which uniform subsets rarely
        leave (measured: trained on uniform subsets alone, the greedy policy left ``S`` in
        29 of 32 validation instances of KP100, mostly for a heavy high-value item). A row
        whose ``S`` is empty (nothing fits: its construction is over before it starts) has
        nothing to imitate; it is replaced by a copy of a random row of the batch that has
        one. The environment keeps only the candidate items of each state.

        Raises
        ------
        UsageError
            No row of the batch has an expert item to imitate.
        """
        tensor = torch.as_tensor
        full = self.start({key: tensor(value, device=device) for key, value in data.items()})
        candidates = self.candidates(full).cpu().numpy()
        wanted = (np.asarray(experts["selected"]) > 0) & candidates
        counts = wanted.sum(axis=1)
        usable = np.flatnonzero(counts > 0)
        if usable.size == 0:
            raise UsageError("no expert selection of this batch takes an item: nothing to imitate")
        rows = np.arange(counts.size)
        empty = counts == 0
        rows[empty] = rng.choice(usable, size=int(empty.sum()))
        taken = np.zeros(wanted.shape, dtype=bool)
        target = np.zeros(wanted.shape, dtype=bool)
        ratio = data["values"] / np.maximum(data["weights"], 1e-300)
        for b, row in enumerate(rows):
            members = rng.permutation(np.flatnonzero(wanted[row]))
            if rng.random() < 0.5:  # the order a value-per-weight policy takes them in
                members = members[np.argsort(-ratio[row, members], kind="stable")]
            k = int(rng.integers(0, members.size))
            taken[b, members[:k]] = True
            target[b, members[k:]] = True
        index = tensor(rows, device=device)
        env = {key: value[index] for key, value in full.items()}
        env = self._taking(env, taken, device)
        # float rounding (instances that are not exact) may leave a row without a target
        # that fits: such a row starts from nothing taken, where every target fits
        lost = ~(tensor(target, device=device) & self.candidates(env)).any(dim=1).cpu().numpy()
        if lost.any():
            taken[lost] = False
            target[lost] = wanted[rows[lost]]
            env = self._taking(env, taken, device)
        # keep only the candidate items of each state
        keep = self.candidates(env)
        items, filled = compact(keep)
        reduced = {
            "values": torch.where(filled, env["values"].gather(1, items), 0.0),
            "weights": torch.where(filled, env["weights"].gather(1, items), 0.0),
            "capacity": env["capacity"],
            "exact": env["exact"],
            "used": env["used"],
            "taken": ~filled,
        }
        goal = tensor(target, device=device).gather(1, items) & filled
        return reduced, goal.unsqueeze(-1)


register(KPProblem())
