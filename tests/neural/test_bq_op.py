"""neural.bq.op: the orienteering problem's BQ states, budget, sub-problems, labels, training."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
import torch

import hybridsolve.neural.bq.op  # noqa: F401  (registers "op")
from hybridsolve import comb
from hybridsolve.datasets.routing import op, tsp_uniform
from hybridsolve.mip import ProblemError, UsageError
from hybridsolve.neural.bq import BQPolicy, TrainConfig, beam_search, decode, get, greedy, train
from hybridsolve.neural.bq.imitation import token_targets
from hybridsolve.neural.bq.op import OPProblem

TINY = {"dim": 16, "layers": 2, "heads": 2, "ff": 32}
P = get("op")
T, F = True, False

#: Node 3 is out of reach; the optimum visits 1 and 2 (length 2 + sqrt 2, prize 3).
SMALL = comb.OP(coords=[[0, 0], [1, 0], [0, 1], [3, 0]], prizes=[0, 1, 2, 0.5], max_length=4)


def _policy(seed: int = 0) -> BQPolicy:
    torch.manual_seed(seed)
    return BQPolicy(P.features, P.pairs, P.actions, **TINY)


def _instances(sizes, seed: int = 0) -> list[comb.OP]:
    rng = np.random.default_rng(seed)
    return [op(rng, n, prizes="distance") for n in sizes]


def _stack(instances) -> dict[str, np.ndarray]:
    arrays = [P.arrays(instance) for instance in instances]
    return {key: np.stack([a[key] for a in arrays]).astype(np.float32) for key in arrays[0]}


def _data(instances) -> dict[str, torch.Tensor]:
    return {key: torch.as_tensor(value) for key, value in _stack(instances).items()}


def _go(env, nodes: list[int]):
    """Step every row of ``env`` to ``nodes[row]`` (0: end), which must be allowed."""
    state = P.state(env)
    want = torch.tensor(nodes).unsqueeze(1)
    token = (state.nodes == want) & state.selectable[..., 0]
    assert bool(token.any(dim=1).all()), (state.nodes, state.selectable[..., 0], nodes)
    return P.step(env, state, token.long().argmax(dim=1))


def _optimum(instance: comb.OP) -> float:
    """Largest prize by enumerating every ordered subset of the nodes."""
    best = 0.0
    nodes = range(1, instance.num_nodes)
    for k in range(1, instance.num_nodes):
        for tour in itertools.permutations(nodes, k):
            if instance.tour_length(tour) <= instance.max_length:
                best = max(best, instance.tour_prize(tour))
    return best


# ------------------------------------------------------------------ instances


def test_problem_attributes_arrays_and_instance_checks():
    assert isinstance(P, OPProblem) and get(SMALL) is P
    assert (P.features, P.pairs, P.actions, P.maximize, P.answer, P.label_method) == (
        8, 1, 1, True, "tour", "ils")  # fmt: skip
    arrays = P.arrays(SMALL)
    assert arrays.keys() == {"coords", "prizes", "length", "scale", "rounded"}
    assert np.allclose(arrays["coords"], np.array(SMALL.coords) / 3)
    assert np.allclose(arrays["prizes"], [0, 0.5, 1, 0.25])
    assert arrays["length"].tolist() == pytest.approx([4 / 3])
    assert arrays["scale"].tolist() == [3.0] and arrays["rounded"].tolist() == [0.0]
    assert P.size(SMALL) == 4 and P.cost(SMALL, np.array([2, 1])) == 3.0
    generated = P.generate(np.random.default_rng(0), 9)
    assert isinstance(generated, comb.OP) and generated.size == 9
    with pytest.raises(ProblemError, match="decodes OP instances, not TSP"):
        P.arrays(tsp_uniform(np.random.default_rng(0), 5))
    with pytest.raises(ProblemError, match="exceeds max_length"):
        P.check(SMALL, np.array([3]))


# ------------------------------------------------------------------ states


def test_states_along_a_tour():
    env = P.start(_data([SMALL]))
    state = P.state(env)
    assert state.features.shape == (1, 4, 8) and state.pairs.shape == (1, 4, 4, 1)
    assert state.nodes.tolist() == [[0, 0, 1, 2]]
    assert state.present.tolist() == [[T, F, T, T]]
    assert state.selectable[..., 0].tolist() == [[F, F, T, T]]
    # units of the remaining length 4: x, y, d(current), d(depot), slack, prize, flags
    start = [
        [0, 0, 0, 0, 1, 0, 1, 1],  # the depot is the current node
        [0] * 8,  # the absent depot token
        [0.25, 0, 0.25, 0.25, 0.5, 0.5, 0, 0],
        [0, 0.25, 0.25, 0.25, 0.5, 1, 0, 0],
    ]
    assert torch.allclose(state.features[0], torch.tensor(start), atol=1e-5)
    assert state.pairs[0, 2, 3, 0] == pytest.approx(math.sqrt(2) / 4, abs=1e-5)
    assert state.pairs[0, 1].abs().sum() == 0
    env = _go(env, [1])
    state = P.state(env)
    assert state.nodes.tolist() == [[1, 0, 2]] and state.present.all()
    assert state.selectable[..., 0].tolist() == [[F, T, T]]  # the tour may end now
    r = math.sqrt(2) / 3  # remaining length 3: d(1, 2) in its units
    after = [
        [0, 0, 0, 1 / 3, 2 / 3, 0, 0, 1],
        [-1 / 3, 0, 1 / 3, 0, 2 / 3, 0, 1, 0],
        [-1 / 3, 1 / 3, r, 1 / 3, 1 - r - 1 / 3, 1, 0, 0],
    ]
    assert torch.allclose(state.features[0], torch.tensor(after), atol=1e-5)
    env = _go(env, [2])
    state = P.state(env)
    assert state.nodes.tolist() == [[2, 0]] and state.selectable[..., 0].tolist() == [[F, T]]
    assert not P.finished(env).any()
    env = _go(env, [0])
    assert P.finished(env).all() and P.max_steps(env) == 4
    assert [a.tolist() for a in P.answers(env)] == [[1, 2]]
    assert P.state(env).present[:, 0].all()  # a finished row keeps a token


def test_nothing_reachable_finished_rows_and_knn():
    far = comb.OP(coords=[[0, 0], [5, 0], [0, 5]], prizes=[0, 1, 1], max_length=4)
    free = comb.OP(coords=[[0, 0], [1, 0], [0, 1]], prizes=[0, 0, 1], max_length=4)
    env = P.start(_data([far, free]))
    state = P.state(env)
    # nothing reachable: ending at once (token 0, the depot) is the only action
    assert state.selectable[0, :, 0].tolist() == [T, F, F]
    # a node without prize is never a candidate
    assert state.nodes[1].tolist() == [0, 0, 2] and state.selectable[1, :, 0].tolist() == [F, F, T]
    env = P.step(env, state, torch.tensor([0, 2]))
    assert P.finished(env).tolist() == [T, F] and P.answers(env)[0].tolist() == []
    again = P.step(env, P.state(env), torch.tensor([1, 1]))  # a finished row stays as it is
    assert torch.equal(again["tour"][0], env["tour"][0]) and again["done"].all()
    assert P.answers(again)[1].tolist() == [2]
    instance = _instances([20], seed=1)[0]
    env = P.start(_data([instance]))
    state = P.state(env, knn=5)
    assert state.nodes.shape == (1, 7) and state.selectable.sum() == 5
    xy = np.asarray(instance.coords)
    nearest = np.argsort(np.hypot(*(xy[1:] - xy[0]).T))[:5] + 1
    assert set(state.nodes[0, 2:].tolist()) == set(nearest.tolist())


def test_similar_sub_problems_give_equal_tokens():
    bigger = comb.OP(coords=np.array(SMALL.coords) * 7 + [2, -3], prizes=np.array(SMALL.prizes) * 5,
                     max_length=28)  # fmt: skip
    env = _go(P.start(_data([SMALL, bigger])), [1, 1])
    state = P.state(env)
    assert torch.allclose(state.features[0], state.features[1], atol=1e-5)
    assert torch.allclose(state.pairs[0], state.pairs[1], atol=1e-5)


# ------------------------------------------------------------------ the budget


def _random_rollouts(instances, seed: int) -> list[np.ndarray]:
    """Tours of uniformly random allowed actions through ``state``/``step``."""
    env = P.start(_data(instances))
    gen = torch.Generator().manual_seed(seed)
    for _ in range(P.max_steps(env) + 1):
        if P.finished(env).all():
            break
        state = P.state(env)
        weights = state.selectable.flatten(1).float() + 1e-9
        env = P.step(env, state, torch.multinomial(weights, 1, generator=gen).squeeze(1))
    assert P.finished(env).all()
    return P.answers(env)


def test_no_construction_exceeds_the_budget():
    rng = np.random.default_rng(2)
    instances = []
    for k in range(300):
        scale = 10.0 ** rng.uniform(-3, 4)
        coords = rng.random((9, 2)) * scale
        if k % 3 == 0:  # integer coordinates with TSPLIB's rounding
            coords = np.round(coords * 100 / scale) * 10
        rounding = "none" if k % 3 == 2 else "nint"
        base = comb.OP(coords, np.r_[0, rng.random(8)], 1.0, rounding=rounding)
        cycle = base.tour_length(np.arange(1, 9))
        limit = cycle * rng.uniform(0.1, 1.2)
        instances.append(comb.OP(coords, base.prizes, limit, rounding=rounding))
    # a tour of exactly the budget is (conservatively) out of reach
    instances.append(comb.OP([[0, 0], [3, 4]] + [[0, 0]] * 7, [0, 1] + [0] * 7, 10.0))
    tours = _random_rollouts(instances, seed=0) + _random_rollouts(instances, seed=1)
    tours += greedy(_policy(), instances, device="cpu")[0]
    tours += beam_search(_policy(), instances, width=4, device="cpu")[0]
    for k, tour in enumerate(tours):
        instances[k % len(instances)].check_tour(tour)
    assert tours[len(instances) - 1].tolist() == []
    assert sum(len(tour) for tour in tours) > 3 * len(tours)  # the tours do visit nodes
    nearly = comb.OP([[0, 0], [3, 4]], [0, 1], 10.0 * (1 + 2e-6))
    assert greedy(_policy(), [nearly], device="cpu")[0][0].tolist() == [1]


# ------------------------------------------------------------------ decoding


def test_decoded_tours_are_valid():
    policy = _policy()
    instances = _instances([12, 12, 12, 20, 1, 2, 3], seed=3)
    runs = {
        "greedy": greedy(policy, instances, device="cpu", batch=2),
        "beam": beam_search(policy, instances, width=4, device="cpu"),
        "knn": greedy(policy, instances, knn=3, device="cpu"),
        "knn-beam": decode(policy, instances, beam=4, knn=3, device="cpu"),
    }
    for answers, prizes in runs.values():
        for instance, answer, prize in zip(instances, answers, prizes):
            instance.check_tour(answer)
            assert answer.dtype == np.int64 and prize == instance.tour_prize(answer)


def test_greedy_is_deterministic_and_beam_is_never_worse():
    policy = _policy(seed=2)
    instances = _instances([15] * 6, seed=4)
    first, cost = greedy(policy, instances, device="cpu")
    again, cost_again = greedy(policy, instances, device="cpu", batch=4)
    single, cost_single = beam_search(policy, instances, width=1, device="cpu")
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert all(np.array_equal(a, b) for a, b in zip(first, single))
    assert np.array_equal(cost, cost_again) and np.array_equal(cost, cost_single)
    _, beam = beam_search(policy, instances, width=4, device="cpu")
    _, knn_greedy = greedy(policy, instances, knn=4, device="cpu")
    _, knn_beam = beam_search(policy, instances, width=4, knn=4, device="cpu")
    assert (beam >= cost - 1e-9).all() and (knn_beam >= knn_greedy - 1e-9).all()
    assert beam.sum() > cost.sum()


# ------------------------------------------------------------------ labels and sub-problems


def test_ils_labels_are_valid_and_optimal_on_small_instances():
    for instance in _instances([6, 7, 7], seed=5):
        tour = P.label(instance, time_limit=None, iterations=50, seed=0)
        P.check(instance, tour)
        assert P.cost(instance, tour) == pytest.approx(_optimum(instance))


def _labelled(sizes, seed: int):
    instances = _instances(sizes, seed=seed)
    tours = [P.label(i, time_limit=None, iterations=30, seed=0) for i in instances]
    return instances, tours


def test_following_the_expert_reproduces_its_prize():
    instances, tours = _labelled([15] * 6, seed=6)
    experts = [P.expert(i, t) for i, t in zip(instances, tours)]
    assert experts[0]["tour"].shape == (15,) and experts[0]["length"].shape == ()
    assert all((e["tour"][e["length"] :] == -1).all() for e in experts)
    env = P.start(_data(instances))
    for k in range(max(len(t) for t in tours) + 1):
        live = ~P.finished(env)
        nodes = [int(t[k]) if k < len(t) else 0 for t in tours]
        state = P.state(env)
        choice = torch.zeros(len(tours), dtype=torch.long)
        for b, node in enumerate(nodes):
            if live[b]:
                token = (state.nodes[b] == node) & state.selectable[b, :, 0]
                assert token.any()
                choice[b] = int(token.long().argmax())
        env = P.step(env, state, choice)
    assert P.finished(env).all()
    for instance, answer, tour in zip(instances, P.answers(env), tours):
        assert np.array_equal(answer, tour) and P.cost(instance, answer) == P.cost(instance, tour)


def _rows(state, row: int) -> np.ndarray:
    rows = state.features[row][state.present[row]].numpy()
    return rows[np.lexsort(rows.T[::-1])]


def test_sampled_states_are_states_along_the_expert_tour():
    instances, tours = _labelled([10], seed=7)
    instance, tour = instances[0], tours[0]
    # every state along both directions of the expert tour, from the full construction
    along = []
    for walk in (list(tour), list(tour[::-1])):
        env = P.start(_data([instance]))
        for node in [*walk, 0]:
            along.append(_rows(P.state(env), 0))
            env = _go(env, [node])
    data = {key: np.repeat(value, 32, axis=0) for key, value in _stack([instance]).items()}
    expert = P.expert(instance, tour)
    experts = {key: np.stack([value] * 32) for key, value in expert.items()}
    seen = set()
    for seed in range(3):
        env, target = P.sample(data, experts, np.random.default_rng(seed), torch.device("cpu"))
        state = P.state(env)
        token_targets(state.nodes, state.selectable, target)  # raises when not allowed
        assert target.sum(dim=(1, 2)).tolist() == [1] * 32
        for b in range(32):
            rows = _rows(state, b)
            same = [other.shape == rows.shape and np.allclose(other, rows, atol=1e-5)
                    for other in along]  # fmt: skip
            match = [k for k, hit in enumerate(same) if hit]
            assert match
            seen.add(match[0])
    assert len(seen) > len(tour)  # many positions and both directions


def test_tight_and_empty_expert_tours():
    # [1] is a tour of exactly the budget; the other nodes are out of reach
    tight = comb.OP([[0, 0], [3, 4], [10, 0], [0, 10]], [0, 1, 0.5, 0.5], 10.0)
    loose = SMALL
    data = _stack([tight, loose])
    experts = {"tour": np.array([[1, -1, -1], [-1, -1, -1]]), "length": np.array([1, 0])}
    env, target = P.sample(data, experts, np.random.default_rng(0), torch.device("cpu"))
    state = P.state(env)
    token_targets(state.nodes, state.selectable, target)
    # the tight tour ends before node 1 (out of the conservative reach); the empty tour of
    # an instance with reachable nodes is replaced by the other row
    assert env["current"].tolist() == [0, 0] and (env["length"] == env["length"][0]).all()
    assert target[:, 0, 0].all()
    with pytest.raises(UsageError, match="no expert tour"):
        P.sample({key: value[1:] for key, value in data.items()},
                 {key: value[1:] for key, value in experts.items()},
                 np.random.default_rng(0), torch.device("cpu"))  # fmt: skip


# ------------------------------------------------------------------ training


def test_imitation_fits_a_fixed_batch(fit):
    instances, tours = _labelled([10] * 16, seed=8)
    data = _stack(instances)
    experts = {key: np.stack([P.expert(i, t)[key] for i, t in zip(instances, tours)])
               for key in ("tour", "length")}  # fmt: skip
    env, target = P.sample(data, experts, np.random.default_rng(8), torch.device("cpu"))
    policy = _policy(seed=3)
    losses = fit(policy, P, env, target)
    assert losses[-1] < 0.5 * losses[0]


def test_training_writes_weights_that_comb_solve_uses(tmp_path):
    config = TrainConfig(problem="op", size=10, instances=32, epochs=2, batch_size=16,
                         validation=4, progress=False, device="cpu", label_iterations=20,
                         output=str(tmp_path / "w.pt"), workdir=str(tmp_path), **TINY)  # fmt: skip
    entry = train(config)
    assert entry is not None and entry["problem"] == "op"
    assert entry["model"] == {**TINY, "features": 8, "pairs": 1, "actions": 1, "dropout": 0.0}
    assert entry["validation_gap"] is not None
    instance = _instances([25], seed=9)[0]
    solution = comb.solve(instance, "bq", weights=str(tmp_path / "w.pt"), device="cpu")
    instance.check_tour(solution.tour)
    assert solution.cost == instance.tour_prize(solution.tour) > 0
    beam = comb.solve(instance, "bq", weights=str(tmp_path / "w.pt"), beam=4, knn=8, device="cpu")
    instance.check_tour(beam.tour)
