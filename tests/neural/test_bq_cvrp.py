"""neural.bq.cvrp: the CVRP's BQ states, decoding, sub-problems, PyVRP labels and training."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch

import hybridsolve.neural.bq.cvrp  # noqa: F401  (registers "cvrp")
from hybridsolve import comb
from hybridsolve.datasets.routing import cvrp, tsp_uniform
from hybridsolve.mip import ProblemError, UsageError
from hybridsolve.neural.bq import BQPolicy, TrainConfig, beam_search, decode, get, greedy, train
from hybridsolve.neural.bq.cvrp import augment, pyvrp_routes
from hybridsolve.neural.bq.imitation import token_targets
from hybridsolve.neural.bq.labels import make_labels

TINY = {"dim": 16, "layers": 2, "heads": 2, "ff": 32}
P = get("cvrp")

#: Depot at the origin, customers 1..4; capacity 8 (8.9 counts as 8).
HAND = comb.CVRP(coords=[[0, 0], [1, 0], [2, 0], [0, 2], [4, 2]], demands=[0, 4, 3, 5, 2],
                 capacity=8.9)  # fmt: skip


def _policy(seed: int = 0) -> BQPolicy:
    torch.manual_seed(seed)
    return BQPolicy(P.features, P.pairs, P.actions, **TINY)


def _instances(sizes, seed: int = 0) -> list[comb.CVRP]:
    rng = np.random.default_rng(seed)
    return [cvrp(rng, n) for n in sizes]


def _data(instances, tensors: bool = False) -> dict:
    rows = [P.arrays(instance) for instance in instances]
    data = {key: np.stack([row[key] for row in rows]).astype(np.float32) for key in rows[0]}
    return {key: torch.as_tensor(value) for key, value in data.items()} if tensors else data


def _experts(instances, seed: int = 0) -> tuple[list, dict[str, np.ndarray]]:
    routes = [P.label(i, time_limit=None, iterations=200, seed=seed) for i in instances]
    rows = [P.expert(i, r) for i, r in zip(instances, routes)]
    return routes, {key: np.stack([row[key] for row in rows]) for key in rows[0]}


def _choice(state, node: int, action: int, row: int = 0) -> int:
    """The flat choice of ``action`` on the selectable token of ``node``."""
    token = (state.nodes[row] == node) & state.selectable[row].any(dim=-1)
    assert int(token.sum()) == 1
    return int(token.nonzero()[0, 0]) * P.actions + action


def _step(env, node: int, action: int):
    state = P.state(env)
    return P.step(env, state, torch.tensor([_choice(state, node, action)]))


def _optimum(instance: comb.CVRP) -> float:
    """Exact optimum: Held-Karp paths over every subset, then a set-partition DP."""
    n, d, q = instance.num_customers, instance.distance_matrix(), instance.demands
    full = 1 << n
    path = np.full((full, n), np.inf)
    for i in range(n):
        path[1 << i, i] = d[0, i + 1]
    for s in range(1, full):
        for i in range(n):
            if np.isfinite(path[s, i]):
                for k in range(n):
                    if not s >> k & 1:
                        nxt = s | 1 << k
                        path[nxt, k] = min(path[nxt, k], path[s, i] + d[i + 1, k + 1])
    load = [sum(q[i + 1] for i in range(n) if s >> i & 1) for s in range(full)]
    route = [min(path[s, i] + d[i + 1, 0] for i in range(n) if s >> i & 1) if s else 0.0
             for s in range(full)]  # fmt: skip
    best = [0.0] + [np.inf] * (full - 1)
    for s in range(1, full):
        low = s & -s
        sub = s
        while sub:
            if sub & low and load[sub] <= instance.capacity:
                best[s] = min(best[s], best[s ^ sub] + route[sub])
            sub = (sub - 1) & s
    return float(best[-1])


# ------------------------------------------------------------------ instances and states


def test_problem_attributes_arrays_and_instance_checks():
    assert (P.name, P.features, P.pairs, P.actions, P.answer) == ("cvrp", 8, 1, 2, "routes")
    assert P.label_method == "pyvrp" and not P.maximize
    arrays = P.arrays(HAND)
    assert np.allclose(arrays["coords"], np.asarray(HAND.coords) / 4)
    assert np.allclose(arrays["demand"], [0, 0.5, 0.375, 0.625, 0.25])
    assert arrays["capacity"].tolist() == [8.0] and P.size(HAND) == 5
    generated = P.generate(np.random.default_rng(0), 20)
    assert isinstance(generated, comb.CVRP) and generated.num_customers == 20
    with pytest.raises(ProblemError, match="decodes CVRP instances, not TSP"):
        P.arrays(tsp_uniform(np.random.default_rng(0), 5))
    big = comb.CVRP(coords=[[0, 0], [1, 1]], demands=[0, 1], capacity=2.0**23)
    with pytest.raises(UsageError, match="capacities up to"):
        P.arrays(big)
    with pytest.raises(ProblemError, match="serve 3 customers, not 4"):
        P.expert(HAND, [[1, 2], [], [3]])
    expert = P.expert(HAND, [[1, 4], [], [3, 2]])
    assert expert["sequence"].tolist() == [1, 4, 3, 2]
    assert expert["starts"].tolist() == [True, False, True, False]


def test_states_along_a_hand_made_construction():
    env = P.start(_data([HAND], tensors=True))
    state = P.state(env)
    assert state.features.shape == (1, 6, 8) and state.pairs.shape == (1, 6, 6, 1)
    assert state.nodes[0].tolist() == [0, 0, 1, 2, 3, 4]
    assert state.present[0].tolist() == [True, False, True, True, True, True]
    assert state.selectable[0, :, 0].tolist() == [False, False, True, True, True, True]
    assert not state.selectable[..., 1].any()  # no detour through the depot from the depot
    features = state.features[0]
    assert features[0, 6:].tolist() == [1.0, 1.0]  # the depot is the current node
    assert features[1].abs().sum() == 0  # the absent depot token
    assert features[:, 4].tolist() == pytest.approx([0, 0, 0.5, 0.375, 0.625, 0.25])
    assert features[:, 5].tolist() == [1, 0, 1, 1, 1, 1]
    assert features[5, :4].tolist() == pytest.approx([1.0, 0.5, 5**0.5 / 2, 5**0.5 / 2])

    env = _step(env, 1, 0)  # room 4
    state = P.state(env)
    assert state.nodes[0].tolist() == [1, 0, 2, 3, 4] and state.present.all()
    assert state.selectable[0, :, 0].tolist() == [False, False, True, False, True]
    assert state.selectable[0, :, 1].tolist() == [False, False, True, True, True]
    assert state.features[0, :, 4].tolist() == pytest.approx([0, 0, 0.375, 0.625, 0.25])
    assert state.features[0, :, 5].tolist() == pytest.approx([0.5] * 5)
    assert state.features[0, 0, 6:].tolist() == [0.0, 1.0]
    assert state.features[0, 1, 6:].tolist() == [1.0, 0.0]

    env = _step(env, 4, 0)  # room 2: nothing fits any more
    assert not P.state(env).selectable[..., 0].any()
    env = _step(env, 3, 1)  # a new route: room 8 - 5
    state = P.state(env)
    assert state.nodes[0].tolist() == [3, 0, 2] and int(env["room"][0]) == 3
    assert state.selectable[0].tolist() == [[False, False], [False, False], [True, True]]
    # re-normalised: the remaining points (0, 2), (0, 0), (2, 0) span [0, 2]^2
    expected = torch.tensor([[0, 1, 0, 1], [0, 0, 1, 0], [1, 0, 2**0.5, 1]])
    assert torch.allclose(state.features[0, :, :4], expected)
    assert state.features[0, 2, 4:6].tolist() == pytest.approx([3 / 8, 3 / 8])
    env = _step(env, 2, 0)
    assert bool(P.finished(env).all()) and int(env["room"][0]) == 0
    assert env["starts"][0].tolist() == [True, False, True, False]
    (routes,) = P.answers(env)
    assert [r.tolist() for r in routes] == [[1, 4], [3, 2]] and routes[0].dtype == np.int64
    P.check(HAND, routes)
    expected = 1 + 13**0.5 + 20**0.5 + 2 + 8**0.5 + 2
    assert P.cost(HAND, routes) == pytest.approx(expected)
    finished = P.state(env)
    assert finished.present[0, 0] and not finished.selectable.any()


def test_bisimilar_constructions_give_equal_states():
    """Serving customers 1 and 4 in either order, then 3 on a new route, leaves one sub-problem."""
    data = _data([HAND], tensors=True)
    states = []
    for first, second in ((1, 4), (4, 1)):
        env = _step(_step(_step(P.start(data), first, 0), second, 0), 3, 1)
        states.append(P.state(env))
    for a, b in zip(*states):
        assert torch.equal(a, b)


def test_knn_keeps_current_depot_and_the_nearest_remaining_customers():
    instance = _instances([20], seed=2)[0]
    env = P.start(_data([instance], tensors=True))
    env = P.step(env, P.state(env), torch.tensor([_choice(P.state(env), 7, 0)]))
    state = P.state(env, knn=5)
    assert state.nodes[0, :2].tolist() == [7, 0] and state.nodes.shape == (1, 7)
    coords = env["coords"][0]
    distance = ((coords - coords[7]) ** 2).sum(-1)
    distance[[0, 7]] = torch.inf
    assert set(state.nodes[0, 2:].tolist()) == set(torch.argsort(distance)[:5].tolist())
    assert state.selectable[0, 2:, 1].all() and not state.selectable[0, :2].any()


def test_step_leaves_finished_rows_and_the_input_env_alone():
    instances = [HAND, comb.CVRP(coords=[[0, 0], [1, 1], [2, 2], [3, 1], [1, 3]],
                                 demands=[0, 1, 1, 1, 1], capacity=4)]  # fmt: skip
    env = P.start(_data(instances, tensors=True))
    for _ in range(4):
        state = P.state(env)
        env = P.step(env, state, state.selectable.flatten(1).float().argmax(dim=1))
    assert bool(P.finished(env).all())
    before = {key: value.clone() for key, value in env.items()}
    state = P.state(env)
    after = P.step(env, state, torch.zeros(2, dtype=torch.long))
    assert all(torch.equal(after[key], before[key]) for key in env)
    assert all(torch.equal(env[key], before[key]) for key in env)


# ------------------------------------------------------------------ decoding


def test_every_decoded_solution_is_valid():
    policy = _policy()
    instances = _instances([12, 12, 12, 25, 1, 2, 5], seed=1)
    rng = np.random.default_rng(3)
    xy = rng.integers(0, 1000, size=(10, 2)).astype(float)
    demands = np.r_[0, rng.integers(1, 10, size=9)]
    instances.append(comb.CVRP(coords=xy, demands=demands, capacity=20, rounding="nint"))
    matrix = np.rint(np.hypot(*(xy[:, None] - xy[None, :]).transpose(2, 0, 1)) * 1.3)
    instances.append(comb.CVRP(coords=xy, demands=demands, capacity=20, distances=matrix))
    runs = {
        "greedy": greedy(policy, instances, device="cpu", batch=3),
        "beam": beam_search(policy, instances, width=4, device="cpu"),
        "knn": greedy(policy, instances, knn=4, device="cpu"),
        "knn-beam": decode(policy, instances, beam=4, knn=4, device="cpu"),
    }
    for routes, costs in runs.values():
        assert len(routes) == len(instances)
        for instance, answer, cost in zip(instances, routes, costs):
            instance.check_routes(answer)
            assert cost == pytest.approx(instance.routes_cost(answer))


def test_greedy_is_deterministic_and_beam_is_never_worse():
    policy = _policy(seed=1)
    instances = _instances([15] * 6, seed=4)
    first, cost = greedy(policy, instances, device="cpu")
    again, cost_again = greedy(policy, instances, device="cpu", batch=4)
    assert np.array_equal(cost, cost_again)
    assert all(len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))
               for a, b in zip(first, again))  # fmt: skip
    _, beam = beam_search(policy, instances, width=4, device="cpu")
    _, knn_greedy = greedy(policy, instances, knn=5, device="cpu")
    _, knn_beam = beam_search(policy, instances, width=4, knn=5, device="cpu")
    assert (beam <= cost + 1e-9).all() and (knn_beam <= knn_greedy + 1e-9).all()
    assert beam.sum() < cost.sum()


# ------------------------------------------------------------------ expert and sub-problems


def test_augment_reorders_and_reverses_whole_routes():
    sequence = np.array([[1, 2, 3, 4, 5, 6]])
    starts = np.array([[True, False, False, True, False, True]])
    seen = set()
    rng = np.random.default_rng(0)
    for _ in range(400):
        order, opens = augment(sequence, starts, rng)
        routes = tuple(tuple(r) for r in np.split(order[0], np.flatnonzero(opens[0])[1:]))
        assert sorted(tuple(sorted(r)) for r in routes) == [(1, 2, 3), (4, 5), (6,)]
        seen.add(routes)
    assert len(seen) == 24  # 3! orders times 2 * 2 directions of the longer routes


def _replay(instances, sequence, starts, j):
    """The construction after the first ``j`` customers of ``sequence``, by :meth:`step`."""
    env = P.start(_data(instances, tensors=True))
    for t in range(j):
        state = P.state(env)
        token = (state.nodes == torch.as_tensor(sequence[:, t : t + 1])) & state.selectable.any(-1)
        action = torch.as_tensor(starts[:, t] & (t > 0)).long()
        env = P.step(env, state, token.long().argmax(dim=1) * P.actions + action)
    return env


def test_chained_route_orders_enter_the_nearest_route_end_next():
    instances = _instances([14] * 4, seed=9)
    _, experts = _experts(instances)
    coords = _data(instances)["coords"]
    rng = np.random.default_rng(3)
    chained = 0
    for _ in range(12):
        sequence, starts = augment(experts["sequence"], experts["starts"], rng, coords)
        for b in range(4):
            routes = np.split(sequence[b], np.flatnonzero(starts[b])[1:])
            expert = np.split(experts["sequence"][b], np.flatnonzero(experts["starts"][b])[1:])
            assert sorted(map(sorted, (r.tolist() for r in routes))) == sorted(
                map(sorted, (r.tolist() for r in expert)))  # fmt: skip
            nearest = all(
                np.sum((coords[b, nxt[0]] - coords[b, prev[-1]]) ** 2)
                <= min(np.sum((coords[b, r[[0, -1]]] - coords[b, prev[-1]]) ** 2, axis=1).min()
                       for r in routes[k + 1 :]) + 1e-12
                for k, (prev, nxt) in enumerate(zip(routes, routes[1:]))
            )  # fmt: skip
            chained += nearest
    assert 12 <= chained < 48  # about half the rows are chained; random orders rarely are


def test_sub_problems_match_the_states_of_step_and_their_targets_are_allowed():
    instances = _instances([9] * 5, seed=5)
    _, experts = _experts(instances)
    data = _data(instances)
    for j in range(9):
        env, target = P.sample(data, experts, np.random.default_rng(j), "cpu", position=j)
        sequence, starts = augment(experts["sequence"], experts["starts"],
                                   np.random.default_rng(j), data["coords"])  # fmt: skip
        assert sorted(sequence[0].tolist()) == list(range(1, 10))
        full = _replay(instances, sequence, starts, j)
        mine, theirs = P.state(env), P.state(full)
        assert env["coords"].shape == (5, 10 - j + (j > 0), 2) and target.shape[1:] == (
            10 - j + (j > 0), 2)  # fmt: skip
        assert torch.allclose(mine.features, theirs.features, atol=1e-6)
        assert torch.allclose(mine.pairs, theirs.pairs, atol=1e-6)
        assert torch.equal(mine.present, theirs.present)
        assert torch.equal(mine.selectable, theirs.selectable)
        wanted = token_targets(mine.nodes, mine.selectable, target)  # raises if not allowed
        assert torch.equal(wanted, token_targets(theirs.nodes, theirs.selectable,
                                                 P.targets(full, experts)))  # fmt: skip
        action = (starts[:, j] & (j > 0)).astype(int)  # 1: the expert opens a route here
        for b in range(5):  # the augmented next customer is a target, with its action only
            token = int((theirs.nodes[b] == int(sequence[b, j])).nonzero()[0, 0])
            assert wanted[b, token, action[b]] and not wanted[b, :, 1 - action[b]].any()
        for b in range(5):
            if j > 0 and not starts[b, j]:  # inside a route: its next customer only
                assert int(wanted[b].sum()) == 1
                continue
            routes = np.split(experts["sequence"][b], np.flatnonzero(experts["starts"][b])[1:])
            fresh = [r for r in routes if not set(r.tolist()) & set(sequence[b, :j].tolist())]
            ends = {int(r[0]) for r in fresh} | {int(r[-1]) for r in fresh}
            assert set(theirs.nodes[b][wanted[b].any(-1)].tolist()) == ends


def test_following_any_expert_target_through_step_reproduces_the_expert_cost():
    instances = _instances([11] * 6, seed=6)
    routes, experts = _experts(instances)
    rng = np.random.default_rng(7)
    coords = _data(instances)["coords"]
    for start, chained in ((0, None), (4, None), (0, coords), (4, coords)):
        sequence, starts = augment(experts["sequence"], experts["starts"], rng, chained)
        env = _replay(instances, sequence, starts, start)
        while not bool(P.finished(env).all()):
            state = P.state(env)
            wanted = token_targets(state.nodes, state.selectable, P.targets(env, experts))
            options = [np.flatnonzero(row) for row in wanted.flatten(1).numpy()]
            choice = torch.tensor([int(rng.choice(option)) for option in options])
            env = P.step(env, state, choice)
        for instance, answer, expert in zip(instances, P.answers(env), routes):
            instance.check_routes(answer)
            assert P.cost(instance, answer) == pytest.approx(P.cost(instance, expert), rel=1e-12)
            assert sorted(map(sorted, map(list, answer))) == sorted(map(sorted, map(list, expert)))


# ------------------------------------------------------------------ labels


@pytest.mark.parametrize("n", [1, 3, 6, 8])
def test_pyvrp_labels_are_optimal_on_tiny_instances(n):
    for instance in _instances([n] * 2, seed=10 + n):
        routes = P.label(instance, time_limit=None, iterations=None, seed=0)
        P.check(instance, routes)
        assert P.cost(instance, routes) == pytest.approx(_optimum(instance), rel=1e-4)


def test_pyvrp_labels_on_rounded_and_matrix_instances_and_a_time_limit():
    rng = np.random.default_rng(11)
    xy = rng.integers(0, 100, size=(8, 2)).astype(float)
    demands = np.r_[0, rng.integers(1, 6, size=7)]
    nint = comb.CVRP(coords=xy, demands=demands, capacity=10, rounding="nint")
    routes = pyvrp_routes(nint, iterations=300)
    assert nint.routes_cost(routes) == _optimum(nint)
    matrix = comb.CVRP(coords=xy, demands=demands, capacity=10,
                       distances=np.asarray(nint.distance_matrix()) * 0.37)  # fmt: skip
    routes = pyvrp_routes(matrix, iterations=300, seed=1)
    assert matrix.routes_cost(routes) == pytest.approx(_optimum(matrix))
    timed = pyvrp_routes(nint, time_limit=0.05)
    nint.check_routes(timed)
    labels = make_labels(P, _instances([7, 7], seed=12), iterations=50)
    assert labels.experts[0]["sequence"].shape == (7,) and labels.costs.shape == (2,)


def test_pyvrp_errors(monkeypatch):
    with pytest.raises(UsageError, match="iterations must be a positive integer"):
        pyvrp_routes(HAND, iterations=0)
    with pytest.raises(UsageError, match="time_limit must be positive"):
        pyvrp_routes(HAND, time_limit=-1.0)
    with pytest.raises(ProblemError, match="takes a CVRP"):
        pyvrp_routes(tsp_uniform(np.random.default_rng(0), 4))
    monkeypatch.setitem(sys.modules, "pyvrp", None)
    with pytest.raises(UsageError, match="pip install pyvrp"):
        P.label(HAND, time_limit=None, iterations=None, seed=0)


# ------------------------------------------------------------------ training


def test_imitation_loss_drops_on_a_fixed_batch(fit):
    instances = _instances([10] * 16, seed=8)
    _, experts = _experts(instances)
    env, target = P.sample(_data(instances), experts, np.random.default_rng(1), "cpu",
                           position=3)  # fmt: skip
    policy = _policy(seed=2)
    losses = fit(policy, P, env, target)
    assert losses[-1] < 0.5 * losses[0]


def test_training_writes_weights_that_comb_solve_uses(tmp_path):
    config = TrainConfig(problem="cvrp", size=8, instances=32, epochs=2, batch_size=16, **TINY,
                         validation=4, progress=False, device="cpu", label_iterations=100,
                         label_cache=str(tmp_path / "labels"),
                         output=str(tmp_path / "w.pt"), workdir=str(tmp_path))  # fmt: skip
    entry = train(config)
    assert entry is not None and entry["problem"] == "cvrp" and entry["validation_gap"] is not None
    assert entry["model"]["features"] == 8 and entry["model"]["actions"] == 2
    instance = _instances([13], seed=9)[0]
    plain = comb.solve(instance, "bq", weights=str(tmp_path / "w.pt"), device="cpu")
    instance.check_routes(plain.routes)
    assert plain.cost == pytest.approx(instance.routes_cost(plain.routes))
    better = comb.solve(instance, "bq", weights=str(tmp_path / "w.pt"), device="cpu", beam=4,
                        knn=5, polish=True)  # fmt: skip
    instance.check_routes(better.routes)
    assert better.cost <= plain.cost + 1e-9
