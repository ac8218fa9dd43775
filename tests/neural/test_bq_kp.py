"""neural.bq.kp: the 0-1 knapsack's BQ states, decoding, sub-problems, labels and training."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import hybridsolve.neural.bq.kp  # noqa: F401  (registers "kp")
from hybridsolve import comb
from hybridsolve.datasets.routing import knapsack, tsp_uniform
from hybridsolve.mip import ProblemError, UsageError
from hybridsolve.neural.bq import BQPolicy, TrainConfig, beam_search, decode, get, greedy, train
from hybridsolve.neural.bq.imitation import token_targets
from hybridsolve.neural.bq.kp import KPProblem

TINY = {"dim": 16, "layers": 2, "heads": 2, "ff": 32}
P = get("kp")
T, F = True, False

#: Optimum {0, 2}: value 10, weight 5 of 6.
SMALL = comb.KP(values=np.array([4, 2, 6, 1]), weights=np.array([2, 4, 3, 5]), capacity=6)


def _policy(seed: int = 0) -> BQPolicy:
    torch.manual_seed(seed)
    return BQPolicy(P.features, P.pairs, P.actions, **TINY)


def _instances(sizes, seed: int = 0, integer: bool = True) -> list[comb.KP]:
    rng = np.random.default_rng(seed)
    return [knapsack(rng, n, integer=integer) for n in sizes]


def _data(instances) -> dict[str, torch.Tensor]:
    arrays = [P.arrays(instance) for instance in instances]
    return {key: torch.as_tensor(np.stack([a[key] for a in arrays]), dtype=torch.float32)
            for key in arrays[0]}  # fmt: skip


def _optimum(instance: comb.KP) -> float:
    """Best value by enumerating every subset."""
    best = 0.0
    for mask in itertools.product([False, True], repeat=instance.num_items):
        chosen = np.flatnonzero(mask)
        if instance.weight(chosen) <= instance.capacity:
            best = max(best, instance.value(chosen))
    return best


def _take(env, item: int):
    """Step every row of ``env`` by taking ``item`` (which must be selectable)."""
    state = P.state(env)
    token = (state.nodes == item) & state.selectable[..., 0]
    assert bool(token.any(dim=1).all())
    return P.step(env, state, token.long().argmax(dim=1))


# ------------------------------------------------------------------ instances


def test_problem_attributes_arrays_and_instance_checks():
    assert isinstance(P, KPProblem) and get(SMALL) is P
    assert (P.features, P.pairs, P.actions, P.maximize, P.answer, P.label_method) == (
        5, 0, 1, True, "selection", "dp")  # fmt: skip
    arrays = P.arrays(SMALL)
    assert arrays.keys() == {"values", "weights", "capacity", "exact"}
    assert np.allclose(arrays["values"], [4 / 6, 2 / 6, 1.0, 1 / 6])
    assert arrays["weights"].tolist() == [2, 4, 3, 5] and arrays["capacity"].tolist() == [6]
    assert arrays["exact"].tolist() == [1.0]
    real = comb.KP(values=[0.5, 1.0], weights=[0.25, 0.75], capacity=0.5)
    scaled = P.arrays(real)  # not whole numbers: scaled by the capacity
    assert np.allclose(scaled["weights"], [0.5, 1.5]) and scaled["capacity"].tolist() == [1.0]
    assert scaled["exact"].tolist() == [0.0]
    huge = comb.KP(values=[1, 1], weights=[2**25, 3], capacity=2**25)
    assert P.arrays(huge)["exact"].tolist() == [0.0]  # beyond float32's whole numbers
    assert P.size(SMALL) == 4 and P.cost(SMALL, np.array([0, 2])) == 10.0
    generated = P.generate(np.random.default_rng(0), 9)
    assert isinstance(generated, comb.KP) and generated.is_integral
    with pytest.raises(ProblemError, match="decodes KP instances, not TSP"):
        P.arrays(tsp_uniform(np.random.default_rng(0), 5))
    with pytest.raises(ProblemError, match="weighs"):
        P.check(SMALL, np.array([1, 2]))


# ------------------------------------------------------------------ states


def test_states_along_a_construction():
    env = P.start(_data([SMALL]))
    state = P.state(env)
    assert state.pairs is None and state.features.shape == (1, 5, 5)
    assert state.nodes.tolist() == [[0, 0, 1, 2, 3]]
    assert state.present.tolist() == [[True] * 5]
    assert state.selectable[..., 0].tolist() == [[False, True, True, True, True]]
    expected = [
        [0, 0, 0, 1, 6 / 14],  # the knapsack: flag, room / total weight of the items
        [2 / 6, 4 / 6, 1.0, 0, 0],  # weight / room, value / best value, ratio / best ratio
        [4 / 6, 2 / 6, 0.25, 0, 0],
        [3 / 6, 1.0, 1.0, 0, 0],
        [5 / 6, 1 / 6, 0.1, 0, 0],
    ]
    assert torch.allclose(state.features[0], torch.tensor(expected, dtype=torch.float32))
    env = _take(env, 2)
    state = P.state(env)
    assert state.nodes.tolist() == [[0, 0]] and state.selectable[..., 0].tolist() == [[F, T]]
    assert torch.allclose(state.features[0], torch.tensor([[0, 0, 0, 1, 1.0],
                                                           [2 / 3, 1, 1, 0, 0]]))  # fmt: skip
    assert not P.finished(env).any()
    env = _take(env, 0)
    assert P.finished(env).all() and P.max_steps(env) == 4
    state = P.state(env)  # a finished row keeps its knapsack token
    assert state.present.tolist() == [[True]] and not state.selectable.any()
    assert [a.tolist() for a in P.answers(env)] == [[0, 2]]


def test_padding_zero_values_finished_rows_and_scale_invariance():
    nothing = comb.KP(values=[3, 0, 5, 1], weights=[9, 1, 8, 7], capacity=6)  # nothing fits
    scaled = comb.KP(values=[40, 20, 60, 10], weights=[20, 40, 30, 50], capacity=60)
    env = P.start(_data([SMALL, nothing, scaled]))
    assert P.finished(env).tolist() == [F, T, F]
    state = P.state(env)
    assert state.present.tolist() == [[T] * 5, [T, F, F, F, F], [T] * 5]
    assert state.selectable[1].sum() == 0 and state.features[1, 1:].abs().sum() == 0
    assert torch.equal(state.features[0], state.features[2])  # same sub-problem, same tokens
    assert P.answers(env)[1].tolist() == []
    # a finished row stays as it is whatever is chosen
    after = P.step(env, state, torch.tensor([3, 1, 3]))
    assert torch.equal(after["taken"][1], env["taken"][1]) and after["used"][1] == 0
    assert after["taken"][0].tolist() == [F, F, T, F] and env["taken"][0].sum() == 0


def test_knn_keeps_the_best_value_per_weight():
    state = P.state(P.start(_data([SMALL])), knn=2)
    assert state.nodes.tolist() == [[0, 0, 2]]  # ratios 2, 0.5, 2, 0.2
    # the state is the kept items: both fit together (room 6 / weight 5, clipped to 1)
    assert torch.allclose(state.features[0], torch.tensor([[0, 0, 0, 1, 1.0],
                                                           [2 / 6, 4 / 6, 1, 0, 0],
                                                           [3 / 6, 1, 1, 0, 0]]))  # fmt: skip
    state = P.state(P.start(_data([SMALL])), knn=1)
    assert state.nodes.tolist() == [[0, 0]] and state.selectable[0, 1, 0]


def test_exact_fits_are_taken_and_real_data_never_overflows():
    tight = comb.KP(values=[1, 1, 1], weights=[3, 3, 2], capacity=6)
    env = _take(_take(P.start(_data([tight])), 0), 1)  # 3 + 3 = 6: full
    assert P.finished(env).all() and P.answers(env)[0].tolist() == [0, 1]
    policy = _policy()
    instances = _instances([15] * 40, seed=8, integer=False)
    rng = np.random.default_rng(8)
    for k in range(0, 40, 2):  # capacities that are sums of some of the weights
        w = instances[k].weights
        subset = rng.random(w.size) < 0.5
        instances[k] = comb.KP(instances[k].values, w, capacity=float(w[subset].sum()))
    for answers, _ in (greedy(policy, instances, device="cpu"),
                       beam_search(policy, instances, width=4, device="cpu")):  # fmt: skip
        for instance, answer in zip(instances, answers):
            instance.check_selection(answer)


# ------------------------------------------------------------------ decoding


def test_decoded_selections_are_valid_and_maximal():
    policy = _policy()
    instances = _instances([12, 12, 12, 20, 1, 2, 3], seed=1)
    runs = {
        "greedy": greedy(policy, instances, device="cpu", batch=2),
        "beam": beam_search(policy, instances, width=4, device="cpu"),
        "knn": greedy(policy, instances, knn=3, device="cpu"),
        "knn-beam": decode(policy, instances, beam=4, knn=3, device="cpu"),
    }
    for answers, values in runs.values():
        for instance, answer, value in zip(instances, answers, values):
            instance.check_selection(answer)
            assert answer.dtype == np.int64 and value == instance.value(answer)
            room = instance.capacity - instance.weight(answer)
            rest = np.setdiff1d(np.arange(instance.num_items), answer)
            assert not (instance.weights[rest] <= room).any()  # nothing else fits


def test_greedy_is_deterministic_and_beam_is_never_worse():
    policy = _policy(seed=2)
    instances = _instances([15] * 6, seed=3)
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


# ------------------------------------------------------------------ labels and sub-problems


def test_dp_labels_are_optimal():
    instances = _instances([10, 10, 10, 6], seed=4)
    for instance in instances:
        answer = P.label(instance, time_limit=None, iterations=None, seed=0)
        P.check(instance, answer)
        assert P.cost(instance, answer) == _optimum(instance)
    with pytest.raises(UsageError, match="whole-number"):
        P.label(_instances([5], integer=False)[0], time_limit=None, iterations=None, seed=0)


def test_following_the_expert_reproduces_its_value():
    instances = _instances([14] * 4, seed=5)
    env = P.start(_data(instances))
    experts = [P.label(instance, time_limit=None, iterations=None, seed=0)
               for instance in instances]  # fmt: skip
    masks = np.stack([P.expert(i, a)["selected"] for i, a in zip(instances, experts)])
    assert masks.dtype == np.int8
    rng = np.random.default_rng(5)
    orders = [rng.permutation(np.flatnonzero(m)) for m in masks]
    for k in range(max(len(o) for o in orders)):
        state = P.state(env)
        choice = torch.zeros(len(instances), dtype=torch.long)
        for b, order in enumerate(orders):
            if k < len(order):  # any remaining expert item is allowed
                token = (state.nodes[b] == int(order[k])) & state.selectable[b, :, 0]
                assert token.any()
                choice[b] = int(token.long().argmax())
        env = P.step(env, state, choice)
    assert P.finished(env).all()
    for instance, answer, expert in zip(instances, P.answers(env), experts):
        assert np.array_equal(answer, np.sort(expert))
        assert P.cost(instance, answer) == P.cost(instance, expert)


def _rows(state, row: int) -> np.ndarray:
    """The present tokens' features of a row, sorted (token order does not matter)."""
    rows = state.features[row][state.present[row]].numpy()
    return rows[np.lexsort(rows.T[::-1])]


def test_sampled_states_are_states_of_the_construction():
    instance = _instances([12], seed=6)[0]
    expert = P.label(instance, time_limit=None, iterations=None, seed=0)
    optimal = set(expert.tolist())
    data = {key: np.stack([value] * 16).astype(np.float32)
            for key, value in P.arrays(instance).items()}  # fmt: skip
    experts = {"selected": np.stack([P.expert(instance, expert)["selected"]] * 16)}
    full = P.start(_data([instance]))
    for seed in range(4):
        env, target = P.sample(data, experts, np.random.default_rng(seed), torch.device("cpu"))
        state = P.state(env)
        wanted = token_targets(state.nodes, state.selectable, target)  # raises if not allowed
        assert wanted.shape == state.selectable.shape
        for b in range(16):
            # the targets are the expert items not taken yet: rebuild that state by taking
            # the others and compare the tokens
            items = state.nodes[b][wanted[b, :, 0]]
            values, weights = env["values"][b][items].tolist(), env["weights"][b][items].tolist()
            left = list(zip(values, weights))
            taken = []
            for item in sorted(optimal):
                pair = (float(full["values"][0, item]), float(full["weights"][0, item]))
                if pair in left:
                    left.remove(pair)
                else:
                    taken.append(item)
            rebuilt = full
            for item in taken:
                rebuilt = _take(rebuilt, item)
            assert np.allclose(_rows(P.state(rebuilt), 0), _rows(state, b), atol=1e-6)
            assert len(taken) < len(optimal)  # at least one target


def test_rows_without_an_expert_item_are_replaced():
    good = SMALL
    nothing = comb.KP(values=[3, 5, 1, 2], weights=[9, 8, 7, 7], capacity=6)
    data = {key: np.stack([P.arrays(good)[key], P.arrays(nothing)[key]]).astype(np.float32)
            for key in P.arrays(good)}  # fmt: skip
    experts = {"selected": np.array([[1, 0, 1, 0], [0, 0, 0, 0]], dtype=np.int8)}
    env, target = P.sample(data, experts, np.random.default_rng(0), torch.device("cpu"))
    state = P.state(env)
    token_targets(state.nodes, state.selectable, target)
    assert env["capacity"].tolist() == [6.0, 6.0]  # both rows come from the good instance
    only_bad = {key: value[1:] for key, value in data.items()}
    with pytest.raises(UsageError, match="nothing to imitate"):
        P.sample(only_bad, {"selected": experts["selected"][1:]}, np.random.default_rng(0),
                 torch.device("cpu"))  # fmt: skip


# ------------------------------------------------------------------ training


def test_imitation_fits_a_fixed_batch(fit):
    instances = _instances([12] * 16, seed=7)
    data = {key: np.stack([P.arrays(i)[key] for i in instances]).astype(np.float32)
            for key in P.arrays(instances[0])}  # fmt: skip
    experts = {"selected": np.stack([
        P.expert(i, P.label(i, time_limit=None, iterations=None, seed=0))["selected"]
        for i in instances])}  # fmt: skip
    env, target = P.sample(data, experts, np.random.default_rng(7), torch.device("cpu"))
    policy = _policy(seed=3)
    losses = fit(policy, P, env, target)
    assert losses[-1] < 0.7 * losses[0]


def test_training_writes_weights_that_comb_solve_uses(tmp_path):
    config = TrainConfig(problem="kp", size=10, instances=32, epochs=2, batch_size=16,
                         validation=4, progress=False, device="cpu",
                         output=str(tmp_path / "w.pt"), workdir=str(tmp_path), **TINY)  # fmt: skip
    entry = train(config)
    assert entry is not None and entry["problem"] == "kp"
    assert entry["model"] == {**TINY, "features": 5, "pairs": 0, "actions": 1, "dropout": 0.0}
    assert entry["validation_gap"] is not None
    instance = _instances([30], seed=9)[0]
    solution = comb.solve(instance, "bq", weights=str(tmp_path / "w.pt"), device="cpu")
    instance.check_selection(solution.selection)
    assert solution.cost == instance.value(solution.selection) > 0
    beam = comb.solve(instance, "bq", weights=str(tmp_path / "w.pt"), beam=4, device="cpu")
    assert beam.cost >= solution.cost
