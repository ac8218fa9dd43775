"""The BQ-MDP of the orienteering problem (Drakulic et al. 2023).

A partial tour ``depot -> ... -> current`` leaves a sub-problem that depends on the nodes
visited so far only through the length they used: collect the most prize on a path from
``current`` through unvisited nodes back to the depot within the remaining length.
Partial tours that leave the same sub-problem are bisimilar, and the BQ state is that
sub-problem: the current node, the depot (the destination of the path), the nodes still
*reachable* (unvisited, of positive prize, with ``d(current, j) + d(j, depot)`` within the
remaining length) and the remaining length.

Tokens: the current node, the depot (absent before the first move, when it is the current
node) and the reachable nodes. Every state is re-normalised by translating the current
node to the origin and dividing all coordinates by the remaining length, so the remaining
length is the unit of every state (it is 1 and is not a feature) and sub-problems that
differ by a translation and a uniform scaling of the plane and the budget give the same
tokens. Every reachable node then lies in the unit disc around the current node. Eight
features per token: ``x``, ``y``, the distances to the current node and to the depot, the
slack ``1 - d(current, j) - d(j, depot)`` (the budget left after visiting ``j`` and going
home), ``prize / largest prize of the state's reachable nodes`` (0 on the current node and
the depot), *is depot* and *is current*. Token pairs carry their (normalised) distance.

Actions: one per token. Choosing a reachable node moves there; choosing the depot token
ends the tour, allowed once the tour has left the depot or when nothing is reachable
(before the first move the depot is token 0, the current node). ``knn`` keeps the ``knn``
reachable nodes nearest to the current node.

Feasibility. The decoder sees float32 arrays, so the budget is kept conservatively: the
used length is a float64 sum of upper bounds of the instance's own distances (Euclidean
distances of the unit-square coordinates plus ``2e-7``; with ``rounding="nint"`` the rounded
distance of that bound, in the instance's units), checked against the budget less
``1e-6`` of it. Every decoded tour therefore passes :meth:`hybridsolve.comb.OP.check_tour`;
a tour that uses the budget to within ``1e-6`` of it may be out of reach.

Expert tours come from hybridsolve's iterated local search (:func:`hybridsolve.comb.solve`
with ``"ils"``). A sub-problem is cut from an expert tour, reversed with probability 1/2
(same length and prize), at a position ``j`` uniform in ``[0, len]``: the target is the
next node of the tour, or the depot (end) at ``j = len``. Where the conservative budget
cannot follow the expert to its end (a tour within ``1e-6`` of the budget), the expert
tour counts as ending at the first node out of reach.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from hybridsolve.comb.routing import OP
from hybridsolve.datasets.routing import op
from hybridsolve.mip.errors import UsageError

from .problem import BQProblem, Env, State, compact, distances, nearest, register
from .tsp import unit_coords

__all__ = ["OPProblem"]

#: Added to every Euclidean distance (unit-square units): more than float32's coordinate error.
_PAD = 2e-7
#: Relative error allowed for the float32 scale of rounded instances.
_PAD_REL = 2e-7
#: Part of the budget kept free: more than the float32 error of the budget.
_SLACK = 1e-6


def _metric(a: torch.Tensor, b: torch.Tensor, scale: torch.Tensor,
            rounded: torch.Tensor) -> torch.Tensor:  # fmt: skip
    """``[B, K]`` float64 upper bounds of the instance's distances between ``a`` and ``b``.

    ``a`` and ``b`` are ``[B, K, 2]`` unit-square coordinates (``b`` may broadcast); the
    result is in unit-square units, or in the instance's units for rounded rows.
    """
    a, b = a.double(), b.double()
    dx = a[..., 0] - b[..., 0]
    dy = a[..., 1] - b[..., 1]
    d = torch.sqrt(dx * dx + dy * dy) + _PAD
    real = torch.floor(d * scale.double().unsqueeze(1) * (1.0 + _PAD_REL) + 0.5)
    return torch.where(rounded.unsqueeze(1) > 0.5, real, d)


class OPProblem(BQProblem):
    """The orienteering problem: tours without the depot; see the module docstring."""

    name = "op"
    kind = OP
    features = 8
    pairs = 1
    actions = 1
    maximize = True
    answer = "tour"
    label_method = "ils"

    def generate(self, rng: np.random.Generator, size: int) -> OP:
        """Kool et al.'s distance prizes (:func:`hybridsolve.datasets.routing.op`)."""
        return op(rng, size, prizes="distance")

    def arrays(self, instance: OP) -> dict[str, np.ndarray]:
        """``coords`` (unit square, depot first), ``prizes`` (by the largest), ``length``.

        ``length`` is ``max_length`` in unit-square units; ``scale`` (the instance's units
        per unit-square unit) and ``rounded`` (1 for ``"nint"``) let the budget use the
        instance's own distances.
        """
        self._instance(instance)
        xy = np.asarray(instance.coords, dtype=np.float64)
        spread = float(np.ptp(xy, axis=0).max())
        scale = spread if spread > 0 else 1.0
        prizes = instance.prizes.astype(np.float64)
        top = float(prizes.max())
        return {
            "coords": unit_coords(xy),
            "prizes": prizes / top if top > 0 else prizes,
            "length": np.array([instance.max_length / scale]),
            "scale": np.array([scale]),
            "rounded": np.array([1.0 if instance.rounding == "nint" else 0.0]),
        }

    def size(self, instance: OP) -> int:
        return instance.num_nodes

    def cost(self, instance: OP, answer: np.ndarray) -> float:
        return instance.tour_prize(answer)

    def check(self, instance: OP, answer: np.ndarray) -> None:
        instance.check_tour(answer)

    # -------------------------------------------------------------- construction

    def start(self, data: dict[str, torch.Tensor]) -> Env:
        coords = data["coords"]
        batch, n = coords.shape[:2]
        dev = coords.device
        zeros = torch.zeros(batch, dtype=torch.long, device=dev)
        visited = torch.zeros(batch, n, dtype=torch.bool, device=dev)
        visited[:, 0] = True
        return {
            "coords": coords, "prizes": data["prizes"],
            "length": data["length"].reshape(batch), "scale": data["scale"].reshape(batch),
            "rounded": data["rounded"].reshape(batch),
            "current": zeros, "used": torch.zeros(batch, dtype=torch.float64, device=dev),
            "visited": visited, "done": torch.zeros(batch, dtype=torch.bool, device=dev),
            "tour": torch.zeros(batch, n, dtype=torch.long, device=dev), "count": zeros.clone(),
        }  # fmt: skip

    def _hop(self, env: Env, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return _metric(a, b, env["scale"], env["rounded"])

    def budget(self, env: Env) -> torch.Tensor:
        """``[B]`` float64: the length a tour may use, in the units of ``env["used"]``."""
        length = env["length"].double()
        full = torch.where(env["rounded"] > 0.5, length * env["scale"].double(), length)
        return full * (1.0 - _SLACK)

    def reachable(self, env: Env) -> torch.Tensor:
        """``[B, N]`` bool: unvisited nodes of positive prize that fit with the way home."""
        xy = env["coords"]
        rows = torch.arange(xy.shape[0], device=xy.device)
        here = xy[rows, env["current"]].unsqueeze(1)
        to = self._hop(env, xy, here)
        back = self._hop(env, xy, xy[:, :1])
        fits = env["used"].unsqueeze(1) + to + back <= self.budget(env).unsqueeze(1)
        return fits & ~env["visited"] & (env["prizes"] > 0) & ~env["done"].unsqueeze(1)

    def state(self, env: Env, knn: int | None = None) -> State:
        """Current node, depot, then the reachable nodes (the ``knn`` nearest ones)."""
        coords, current = env["coords"], env["current"]
        reach = self.reachable(env)
        keep = reach if knn is None else nearest(coords, current, reach, knn)
        depot = torch.zeros_like(current)
        nodes, filled = compact(keep, [current, depot])
        batch, tokens = nodes.shape
        present = filled.clone()
        away = current != 0
        present[:, 1] = away
        unit = torch.where(env["rounded"] > 0.5, env["scale"].double(), 1.0)
        remaining = ((self.budget(env) - env["used"]) / unit).clamp_min(1e-12)
        xy = coords.gather(1, nodes.unsqueeze(-1).expand(-1, -1, 2)).double()
        rel = ((xy - xy[:, :1]) / remaining.view(-1, 1, 1)).clamp(-2.0, 2.0)
        rel = rel * present.unsqueeze(-1)
        home = torch.where(away.view(-1, 1), rel[:, 1], rel[:, 0]).unsqueeze(1)
        to_current = rel.norm(dim=-1)
        to_depot = (rel - home).norm(dim=-1)
        slack = (1.0 - to_current - to_depot).clamp(-1.0, 1.0)
        visitable = filled.clone()
        visitable[:, :2] = False
        prize = torch.where(visitable, env["prizes"].gather(1, nodes), 0.0).double()
        top = prize.amax(dim=1, keepdim=True)
        prize = torch.where(top > 0, prize / top.clamp_min(1e-300), 0.0)
        flags = torch.zeros(batch, tokens, 2, dtype=torch.float64, device=nodes.device)
        flags[:, 0, 0] = (~away).double()
        flags[:, 1, 0] = away.double()
        flags[:, 0, 1] = 1.0
        parts = [rel, to_current.unsqueeze(-1), to_depot.unsqueeze(-1), slack.unsqueeze(-1),
                 prize.unsqueeze(-1), flags]  # fmt: skip
        dtype = coords.dtype
        features = (torch.cat(parts, dim=-1) * present.unsqueeze(-1)).to(dtype)
        pair = distances(rel.to(dtype), present)
        selectable = visitable
        selectable[:, 1] = away
        selectable[:, 0] = ~away & ~reach.any(dim=1)
        return State(features, pair, present, selectable.unsqueeze(-1), nodes)

    def step(self, env: Env, state: State, choice: torch.Tensor) -> Env:
        live = ~env["done"]
        pick = choice.unsqueeze(1)
        node = state.nodes.gather(1, pick).squeeze(1)
        act = live & state.selectable.flatten(1).gather(1, pick).squeeze(1)
        end = act & (node == 0)
        move = act & (node != 0)
        xy = env["coords"]
        rows = torch.arange(node.shape[0], device=node.device)
        hop = self._hop(env, xy[rows, node].unsqueeze(1), xy[rows, env["current"]].unsqueeze(1))
        visited = env["visited"].clone()
        visited[rows, node] = visited[rows, node] | move
        tour = env["tour"].clone()
        slot = env["count"].clamp(max=tour.shape[1] - 1)
        tour[rows, slot] = torch.where(move, node, tour[rows, slot])
        current = torch.where(move, node, torch.where(end, 0, env["current"]))
        return {**env, "current": current, "visited": visited, "tour": tour,
                "used": torch.where(move, env["used"] + hop.squeeze(1), env["used"]),
                "count": env["count"] + move.long(), "done": env["done"] | end}  # fmt: skip

    def finished(self, env: Env) -> torch.Tensor:
        return env["done"]

    def answers(self, env: Env) -> list[Any]:
        tours, counts = env["tour"].cpu().numpy(), env["count"].cpu().numpy()
        return [tour[:count].astype(np.int64) for tour, count in zip(tours, counts)]

    def max_steps(self, env: Env) -> int:
        return int(env["visited"].shape[1])  # at most n moves and the end

    # -------------------------------------------------------------- imitation

    def label(self, instance: OP, *, time_limit: float | None, iterations: int | None,
              seed: int) -> np.ndarray:  # fmt: skip
        from hybridsolve.comb import solve

        return solve(instance, "ils", time_limit=time_limit, seed=seed, iterations=iterations).tour

    def expert(self, instance: OP, answer: np.ndarray) -> dict[str, np.ndarray]:
        """``tour``: the ``(n,)`` expert tour padded with -1; ``length``: its node count."""
        tour = np.full(instance.size, -1, dtype=np.int64)
        answer = np.asarray(answer, dtype=np.int64)
        tour[: answer.size] = answer
        return {"tour": tour, "length": np.array(answer.size, dtype=np.int64)}

    def sample(
        self,
        data: dict[str, np.ndarray],
        experts: dict[str, np.ndarray],
        rng: np.random.Generator,
        device: torch.device,
    ) -> tuple[Env, torch.Tensor]:
        """One sub-problem per expert tour, in a random direction, at a random position.

        The tour is followed with the budget arithmetic of :meth:`step` (on ``device``), so
        the target is always allowed in the state; the environment keeps the depot
        (node 0), the current node (node 1 after the first move) and the reachable nodes.
        A row whose expert tour is empty while some node is reachable (not an ILS tour)
        is replaced by a random other row of the batch.

        Raises
        ------
        UsageError
            No row of the batch gives a usable sub-problem.
        """
        tensor = torch.as_tensor
        full = self.start({key: tensor(value, device=device) for key, value in data.items()})
        tours = np.asarray(experts["tour"], dtype=np.int64)
        counts = np.asarray(experts["length"], dtype=np.int64).reshape(-1)
        batch, size = tours.shape
        if size == 0:
            raise UsageError("OP sub-problems need instances with nodes besides the depot")
        positions = np.arange(size)
        flip = rng.random(batch) < 0.5
        back = np.clip(counts[:, None] - 1 - positions, 0, None)
        order = np.where(flip[:, None] & (positions < counts[:, None]),
                         np.take_along_axis(tours, back, axis=1), tours)  # fmt: skip
        inside = positions < counts[:, None]
        order = np.where(inside, order, 0)
        walk = tensor(order, device=device)
        xy = full["coords"]
        walk_xy = xy.gather(1, walk.unsqueeze(-1).expand(-1, -1, 2))
        before_xy = torch.cat([xy[:, :1], walk_xy[:, :-1]], dim=1)
        hops = self._hop(full, walk_xy, before_xy)
        homes = self._hop(full, walk_xy, xy[:, :1])
        budget = self.budget(full)
        positive = full["prizes"].gather(1, walk) > 0
        used = torch.zeros(batch, size + 1, dtype=torch.float64, device=device)
        ok = torch.zeros(batch, size, dtype=torch.bool, device=device)
        for k in range(size):  # sequential, as step() adds up the used length
            ok[:, k] = used[:, k] + hops[:, k] + homes[:, k] <= budget
            used[:, k + 1] = used[:, k] + hops[:, k]
        ok &= positive & tensor(inside, device=device)
        reach_len = ok.long().cumprod(dim=1).sum(dim=1).cpu().numpy()
        j = np.floor(rng.random(batch) * (reach_len + 1)).astype(np.int64)
        j = np.minimum(j, reach_len)
        jt = tensor(j, device=device)
        rows = torch.arange(batch, device=device)
        previous = tensor(np.take_along_axis(order, np.maximum(j - 1, 0)[:, None], 1)[:, 0],
                          device=device)  # fmt: skip
        current = torch.where(jt > 0, previous, 0)
        following = tensor(np.take_along_axis(order, np.minimum(j, size - 1)[:, None], 1)[:, 0],
                           device=device)  # fmt: skip
        following = torch.where(tensor(j < reach_len, device=device), following, 0)
        visited = full["visited"].clone()
        prefix = tensor(positions[None, :] < j[:, None], device=device)
        visited.scatter_(1, walk, prefix | visited.gather(1, walk))
        visited[:, 0] = True
        env = {**full, "current": current, "used": used[rows, jt], "visited": visited}
        reach = self.reachable(env)
        bad = (jt == 0) & (following == 0) & reach.any(dim=1)
        keep = rows[~bad]
        if keep.numel() == 0:
            raise UsageError("no expert tour of this batch gives a sub-problem to imitate")
        if bool(bad.any()):
            pick = keep[torch.as_tensor(rng.integers(0, keep.numel(), size=batch),
                                        device=device)]  # fmt: skip
            rows = torch.where(bad, pick, rows)
            env = {key: value[rows] for key, value in env.items()}
            reach, following, jt = reach[rows], following[rows], jt[rows]
        current = env["current"]
        nodes, filled = compact(reach, [torch.zeros_like(current), current])
        tokens = nodes.shape[1]
        index = torch.arange(tokens, device=device).unsqueeze(0)
        reduced = {
            "coords": env["coords"].gather(1, nodes.unsqueeze(-1).expand(-1, -1, 2)),
            "prizes": torch.where(filled, env["prizes"].gather(1, nodes), 0.0),
            "length": env["length"], "scale": env["scale"], "rounded": env["rounded"],
            "current": (jt > 0).long(), "used": env["used"],
            "visited": ~filled | (index < 2), "done": torch.zeros_like(env["done"]),
            "tour": torch.zeros_like(nodes), "count": torch.zeros_like(current),
        }  # fmt: skip
        target = ((nodes == following.unsqueeze(1)) & filled & (index >= 2)) | (
            (following == 0).unsqueeze(1) & (index == 0)
        )
        return reduced, target.unsqueeze(-1)


register(OPProblem())
