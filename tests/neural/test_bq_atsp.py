"""neural.bq.atsp: the asymmetric TSP's BQ states, decoding, sub-problems, labels and training."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import hybridsolve.neural.bq.atsp  # noqa: F401  (registers "atsp")
from hybridsolve import comb
from hybridsolve.datasets.routing import atsp, tsp_uniform
from hybridsolve.mip import ProblemError, UsageError
from hybridsolve.neural.bq import BQPolicy, TrainConfig, beam_search, decode, get, greedy, train
from hybridsolve.neural.bq.atsp import ATSPProblem, unit_matrix
from hybridsolve.neural.bq.imitation import token_targets
from hybridsolve.neural.bq.labels import make_labels

TINY = {"dim": 16, "layers": 2, "heads": 2, "ff": 32}
P = get("atsp")

#: d(i -> j) = (j - i) mod 5: every arc out of (and into) a node has a different length.
CYCLIC = np.array([[(j - i) % 5 for j in range(5)] for i in range(5)], dtype=np.float64)


def _policy(seed: int = 0) -> BQPolicy:
    torch.manual_seed(seed)
    return BQPolicy(P.features, P.pairs, P.actions, **TINY)


def _instances(sizes, seed: int = 0) -> list[comb.ATSP]:
    rng = np.random.default_rng(seed)
    return [atsp(rng, n) for n in sizes]


def _env(dist, origin, current, visited) -> dict[str, torch.Tensor]:
    dist = torch.as_tensor(np.asarray(dist, dtype=np.float64))
    return {"dist": dist, "origin": torch.tensor(origin), "current": torch.tensor(current),
            "visited": torch.tensor(visited)}  # fmt: skip


def _visited(n: int, rows: list[list[int]]) -> list[list[bool]]:
    return [[i in row for i in range(n)] for row in rows]


def _optimum(instance: comb.ATSP) -> float:
    """Shortest tour by enumerating every permutation of the nodes after node 0."""
    d, n = instance.distances, instance.num_nodes
    if n <= 2:
        return float(d[0].sum() + d[:, 0].sum())
    rest = np.array(list(itertools.permutations(range(1, n))))
    tours = np.concatenate([np.zeros((len(rest), 1), dtype=int), rest], axis=1)
    return float(d[tours, np.roll(tours, -1, axis=1)].sum(axis=1).min())


# ------------------------------------------------------------------ instances


def test_problem_attributes_arrays_and_instance_checks():
    assert isinstance(P, ATSPProblem) and get(_instances([4])[0]) is P
    assert (P.features, P.pairs, P.actions, P.answer, P.label_method) == (6, 2, 1, "tour", "ils")
    instance = comb.ATSP(CYCLIC * 3)
    arrays = P.arrays(instance)
    assert arrays.keys() == {"dist"} and arrays["dist"].dtype == np.float64
    assert np.array_equal(arrays["dist"], CYCLIC / 4)
    assert P.size(instance) == 5 and P.cost(instance, np.arange(5)) == pytest.approx(15.0)
    assert np.array_equal(unit_matrix(np.zeros((3, 3))), np.zeros((3, 3)))
    generated = P.generate(np.random.default_rng(0), 9)
    assert isinstance(generated, comb.ATSP) and P.arrays(generated)["dist"].shape == (9, 9)
    with pytest.raises(ProblemError, match="decodes ATSP instances, not TSP"):
        P.arrays(tsp_uniform(np.random.default_rng(0), 5))
    with pytest.raises(ProblemError):
        P.check(instance, np.array([0, 1, 2, 2, 4]))


# ------------------------------------------------------------------ states


def test_first_state_tokens_features_and_pairs():
    env = P.start({"dist": torch.as_tensor(CYCLIC)[None]})
    state = P.state(env)
    assert state.nodes.tolist() == [[0, 0, 1, 2, 3, 4]]
    assert state.present.tolist() == [[True, False, True, True, True, True]]
    assert state.selectable[..., 0].tolist() == [[False, False, True, True, True, True]]
    # mean off-diagonal distance 2.5; d(current -> j), d(j -> origin), shortest out, in, flags
    expected = [
        [0.0, 0.0, 0.4, 0.4, 1.0, 1.0],  # node 0: current and origin
        [0.0] * 6,  # the absent origin token
        [0.4, 1.6, 0.4, 0.4, 0.0, 0.0],
        [0.8, 1.2, 0.4, 0.4, 0.0, 0.0],
        [1.2, 0.8, 0.4, 0.4, 0.0, 0.0],
        [1.6, 0.4, 0.4, 0.4, 0.0, 0.0],
    ]
    assert torch.allclose(state.features[0], torch.tensor(expected, dtype=torch.float64))
    assert state.pairs.shape == (1, 6, 6, 2)
    assert state.pairs[0, 1].abs().sum() == 0 and state.pairs[0, :, 1].abs().sum() == 0
    assert state.pairs[0, 2, 4].tolist() == pytest.approx([0.8, 1.2])  # d(1 -> 3), d(3 -> 1)
    assert torch.equal(state.pairs[..., 0], state.pairs[..., 1].transpose(1, 2))


def _reference(dist: np.ndarray, origin: int, current: int, tokens: list[int]) -> np.ndarray:
    """The features of the present tokens, from their definition."""
    arcs = [dist[a, b] for a in tokens for b in tokens if a != b]
    scale = np.mean(arcs) if arcs and np.mean(arcs) > 0 else 1.0
    rows = []
    for v in tokens:
        out = [dist[v, w] for w in tokens if w != v]
        into = [dist[w, v] for w in tokens if w != v]
        rows.append([dist[current, v] / scale, dist[v, origin] / scale,
                     min(out, default=0.0) / scale, min(into, default=0.0) / scale,
                     float(v == origin), float(v == current)])  # fmt: skip
    return np.array(rows)


def test_states_along_partial_tours_with_padding_and_a_finished_row():
    dist = np.random.default_rng(3).integers(1, 10, size=(6, 6)).astype(np.float64)
    np.fill_diagonal(dist, 0.0)
    batch = np.stack([dist] * 4)
    walks = [[0], [0, 3, 2], [0, 2, 3, 4, 5], [0, 1, 2, 3, 5, 4]]
    env = _env(batch, [0, 0, 0, 0], [w[-1] for w in walks], _visited(6, walks))
    state = P.state(env)
    assert state.features.shape == (4, 7, 6) and state.pairs.shape == (4, 7, 7, 2)
    T, F = True, False
    assert state.present.tolist() == [[T, F, T, T, T, T, T], [T, T, T, T, T, F, F],
                                      [T, T, T, F, F, F, F], [T, T, F, F, F, F, F]]  # fmt: skip
    assert state.selectable[..., 0].tolist() == [[F, F, T, T, T, T, T], [F, F, T, T, T, F, F],
                                                 [F, F, T, F, F, F, F], [F] * 7]  # fmt: skip
    assert state.nodes[0].tolist() == [0, 0, 1, 2, 3, 4, 5]
    assert state.nodes[1, :5].tolist() == [2, 0, 1, 4, 5]
    assert state.nodes[2, :3].tolist() == [5, 0, 1]
    assert state.nodes[3, :2].tolist() == [4, 0]
    for row, walk in enumerate(walks):
        tokens = state.nodes[row][state.present[row]].tolist()
        want = _reference(dist, 0, walk[-1], tokens)
        assert np.allclose(state.features[row][state.present[row]].numpy(), want)
        assert state.features[row][~state.present[row]].abs().sum() == 0
        inside = np.ix_(state.present[row].numpy(), state.present[row].numpy())
        arcs = [dist[a, b] for a in tokens for b in tokens if a != b]
        scale = np.mean(arcs) if arcs else 1.0
        pairs = state.pairs[row].numpy()
        assert np.allclose(pairs[..., 0][inside] * scale, dist[np.ix_(tokens, tokens)])
        assert np.allclose(pairs[..., 1][inside] * scale, dist[np.ix_(tokens, tokens)].T)
    assert state.present.any(dim=1).all()


def test_states_are_invariant_to_scaling_and_to_the_order_of_the_visited_nodes():
    dist = np.random.default_rng(4).random((7, 7))
    np.fill_diagonal(dist, 0.0)
    walks = [[0, 1, 2, 3], [0, 2, 1, 3]]  # bisimilar: same current, same visited set
    one = P.state(_env(np.stack([dist, dist]), [0, 0], [3, 3], _visited(7, walks)))
    assert torch.equal(one.features[0], one.features[1]) and torch.equal(one.pairs[0], one.pairs[1])
    scaled = P.state(_env(np.stack([dist, dist]) * 7.0, [0, 0], [3, 3], _visited(7, walks)))
    assert torch.allclose(one.features, scaled.features) and torch.allclose(one.pairs, scaled.pairs)
    assert torch.equal(one.nodes, scaled.nodes) and torch.equal(one.selectable, scaled.selectable)


def test_knn_keeps_current_origin_and_the_nearest_successors():
    dist = np.random.default_rng(2).random((2, 20, 20))
    for b in range(2):
        np.fill_diagonal(dist[b], 0.0)
    walks = [[0], [3, 11, 12, 9]]
    env = _env(dist, [0, 3], [0, 9], _visited(20, walks))
    state = P.state(env, knn=5)
    assert state.features.shape == (2, 7, 6)
    assert state.nodes[:, 0].tolist() == [0, 9] and state.nodes[:, 1].tolist() == [0, 3]
    assert state.present[:, :2].tolist() == [[True, False], [True, True]]
    for row, walk in enumerate(walks):
        out = dist[row, walk[-1]].copy()  # by d(current -> j), not d(j -> current)
        out[walk] = np.inf
        nearest = set(np.argsort(out)[:5].tolist())
        assert set(state.nodes[row][state.selectable[row, :, 0]].tolist()) == nearest
        tokens = state.nodes[row][state.present[row]].tolist()
        want = _reference(dist[row], walk[0], walk[-1], tokens)
        assert np.allclose(state.features[row][state.present[row]].numpy(), want)
    # fewer remaining nodes than knn: everything remaining, and padding that is not present
    walks = [[0], [3] + [i for i in range(20) if i not in (3, 4, 5)]]
    late = P.state(_env(dist, [0, 3], [0, walks[1][-1]], _visited(20, walks)), knn=5)
    assert late.selectable[1].sum() == 2 and late.present[1].sum() == 4


def test_masked_actions_get_minus_infinity():
    walks = [[0, 1, 2], [0]]
    dist = np.stack([CYCLIC, CYCLIC])
    state = P.state(_env(dist, [0, 0], [2, 0], _visited(5, walks)))
    state = state._replace(features=state.features.float(), pairs=state.pairs.float())
    logits = _policy()(state)
    assert logits.shape == (2, 6, 1)
    assert torch.isneginf(logits[~state.selectable]).all()
    assert torch.isfinite(logits[state.selectable]).all()


# ------------------------------------------------------------------ decoding


def test_every_decoded_tour_is_valid():
    policy = _policy()
    instances = _instances([12, 12, 12, 30, 1, 2, 3, 5])
    runs = {
        "greedy": greedy(policy, instances, device="cpu", batch=2),
        "beam": beam_search(policy, instances, width=4, device="cpu", batch=8),
        "knn": greedy(policy, instances, knn=4, device="cpu"),
        "knn-beam": decode(policy, instances, beam=4, knn=4, device="cpu"),
    }
    for tours, costs in runs.values():
        assert len(tours) == len(instances)
        for instance, tour, cost in zip(instances, tours, costs):
            instance.check_tour(tour)
            assert tour.dtype == np.int64 and tour[0] == 0
            assert cost == pytest.approx(instance.tour_cost(tour))


def test_greedy_is_deterministic_and_beam_is_never_worse():
    policy = _policy(seed=1)
    instances = _instances([15] * 6 + [9] * 3, seed=3)
    first, cost = greedy(policy, instances, device="cpu")
    again, cost_again = greedy(policy, instances, device="cpu", batch=4)
    single, cost_single = beam_search(policy, instances, width=1, device="cpu")
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert all(np.array_equal(a, b) for a, b in zip(first, single))
    assert np.array_equal(cost, cost_again) and np.array_equal(cost, cost_single)
    _, beam_cost = beam_search(policy, instances, width=4, device="cpu")
    _, knn_greedy = greedy(policy, instances, knn=5, device="cpu")
    _, knn_beam = beam_search(policy, instances, width=4, knn=5, device="cpu")
    assert (beam_cost <= cost + 1e-9).all() and (knn_beam <= knn_greedy + 1e-9).all()
    assert beam_cost.sum() < cost.sum()


def test_step_leaves_finished_rows_and_the_input_env_alone():
    env = P.start({"dist": torch.as_tensor(np.stack([CYCLIC[:1, :1], CYCLIC[:1, :1]]))})
    assert P.finished(env).all()  # one node: finished at the start
    env = P.start({"dist": torch.as_tensor(np.stack([CYCLIC, CYCLIC]))})
    before = {key: value.clone() for key, value in env.items()}
    state = P.state(env)
    after = P.step(env, state, torch.tensor([2, 5]))
    assert all(torch.equal(env[key], before[key]) for key in env)
    assert after["current"].tolist() == [1, 4] and after["count"].tolist() == [2, 2]
    done = {**after, "count": torch.tensor([5, 2])}
    again = P.step(done, P.state(done), torch.tensor([2, 2]))
    assert again["current"][0] == 1 and again["count"].tolist() == [5, 3]


# ------------------------------------------------------------------ sub-problems


def _labelled(n: int, count: int, seed: int) -> tuple[list[comb.ATSP], np.ndarray]:
    instances = _instances([n] * count, seed=seed)
    tours = np.stack([P.label(i, time_limit=None, iterations=30, seed=0) for i in instances])
    return instances, tours


def test_following_the_expert_through_step_reproduces_its_cost():
    """sample() cuts states that state()/step() continue exactly as the expert does."""
    n, batch = 9, 6
    instances, tours = _labelled(n, batch, seed=5)
    real = np.stack([P.arrays(i)["dist"] for i in instances])
    ids = np.arange(n)[:, None] * n + np.arange(n)[None, :] + 1.0  # d(i, j) names i and j
    np.fill_diagonal(ids, 0.0)
    ids = np.stack([ids] * batch)
    seen = set()
    for seed in range(30):
        env, target = P.sample({"dist": real}, {"tour": tours}, np.random.default_rng(seed), "cpu")
        named, _ = P.sample({"dist": ids}, {"tour": tours}, np.random.default_rng(seed), "cpu")
        size = env["dist"].shape[1]
        # the global node behind each local one (the draws do not depend on the data)
        local = named["dist"][:, np.arange(size), (np.arange(size) + 1) % size].numpy()
        nodes = ((local - 1) // n).astype(int)
        for b in range(batch):
            sub = real[b][np.ix_(nodes[b], nodes[b])]
            assert np.allclose(env["dist"][b].numpy(), sub, atol=1e-6)
        origin = nodes[:, 0]
        current = nodes[np.arange(batch), env["current"].numpy()]
        seen.add(0 if bool((env["current"] == 0).all()) else n - size + 1)
        placed = int(env["count"][0])
        state = P.state(env)
        wanted = token_targets(state.nodes, state.selectable, target)
        assert (wanted.flatten(1).sum(dim=1) == 1).all()  # one successor: tours are directed
        succ = {b: {int(t[k]): int(t[(k + 1) % n]) for k in range(n)} for b, t in enumerate(tours)}
        first = True
        while not bool(P.finished(env).all()):
            state = P.state(env)
            nxt = [succ[b][int(nodes[b, env["current"][b]])] for b in range(batch)]
            token = [int(np.flatnonzero(nodes[b][state.nodes[b].numpy()] == nxt[b])[0])
                     for b in range(batch)]  # fmt: skip
            choice = torch.tensor(token)
            assert state.selectable[torch.arange(batch), choice, 0].all()
            if first:
                assert wanted[torch.arange(batch), choice, 0].all()
                first = False
            env = P.step(env, state, choice)
        for b in range(batch):
            local = env["tour"][b].tolist()  # origin, current (when j > 0), the followed ones
            tail = local[placed - 1 :] + [0]
            rest = sum(float(env["dist"][b, i, j]) for i, j in zip(tail[:-1], tail[1:]))
            prefix = [int(origin[b])]
            while prefix[-1] != current[b]:
                prefix.append(succ[b][prefix[-1]])
            head = sum(real[b][i, j] for i, j in zip(prefix[:-1], prefix[1:]))
            tour = prefix + nodes[b][local[placed:]].tolist()
            at = tours[b].tolist().index(tour[0])
            assert tour == np.roll(tours[b], -at).tolist()
            scale = instances[b].distances.max()
            cost = instances[b].tour_cost(tours[b])
            assert (head + rest) * scale == pytest.approx(cost, rel=1e-5)
    assert seen == set(range(n - 2))  # every cut position was drawn


def test_sub_problems_are_rotations_never_reversals():
    n = 8
    tours = np.stack([np.random.default_rng(s).permutation(n) for s in range(16)])
    ids = np.arange(n)[:, None] * n + np.arange(n)[None, :] + 1.0
    np.fill_diagonal(ids, 0.0)
    for seed in range(10):
        env, target = P.sample({"dist": np.stack([ids] * 16)}, {"tour": tours},
                               np.random.default_rng(seed), "cpu")  # fmt: skip
        size = env["dist"].shape[1]
        local = env["dist"][:, np.arange(size), (np.arange(size) + 1) % size].numpy()
        nodes = ((local - 1) // n).astype(int)
        head = int(env["count"][0])
        assert env["visited"][:, :head].all() and not env["visited"][:, head:].any()
        assert target[:, head, 0].all() and target.sum() == 16
        for b in range(16):
            at = tours[b].tolist().index(int(nodes[b, head - 1]))
            forward = [int(tours[b][(at + k + 1) % n]) for k in range(size - head)]
            assert nodes[b, head:].tolist() == forward  # the remaining nodes in tour order
    with pytest.raises(UsageError, match="at least 3 nodes"):
        P.sample({"dist": np.zeros((1, 2, 2))}, {"tour": np.array([[0, 1]])},
                 np.random.default_rng(0), "cpu")  # fmt: skip


# ------------------------------------------------------------------ labels


@pytest.mark.parametrize("n", [3, 4, 5, 6, 7, 8, 9])
def test_ils_labels_are_optimal_on_tiny_instances(n):
    for instance in _instances([n] * 3, seed=10 + n):
        tour = P.label(instance, time_limit=None, iterations=None, seed=0)
        P.check(instance, tour)
        assert P.cost(instance, tour) == pytest.approx(_optimum(instance), rel=1e-12)
        assert np.array_equal(P.expert(instance, tour)["tour"], tour)


def test_make_labels_runs_the_ils_labeller():
    instances = _instances([10, 10, 10], seed=7)
    labels = make_labels(P, instances, iterations=20)
    for instance, expert, cost in zip(instances, labels.experts, labels.costs):
        instance.check_tour(expert["tour"])
        assert cost == pytest.approx(instance.tour_cost(expert["tour"]))


# ------------------------------------------------------------------ training


def test_imitation_loss_drops_on_a_fixed_batch(fit):
    instances, tours = _labelled(10, 16, seed=8)
    data = {"dist": np.stack([P.arrays(i)["dist"] for i in instances]).astype(np.float32)}
    env, target = P.sample(data, {"tour": tours}, np.random.default_rng(1), "cpu")
    policy = _policy(seed=2)
    losses = fit(policy, P, env, target)
    assert losses[-1] < 0.5 * losses[0]


def test_training_writes_weights_that_comb_solve_uses(tmp_path):
    config = TrainConfig(problem="atsp", size=8, instances=32, epochs=2, batch_size=16, **TINY,
                         validation=4, progress=False, device="cpu", label_iterations=20,
                         output=str(tmp_path / "w.pt"), workdir=str(tmp_path))  # fmt: skip
    entry = train(config)
    assert entry is not None and entry["problem"] == "atsp" and entry["validation_gap"] is not None
    assert entry["model"]["features"] == 6 and entry["model"]["pairs"] == 2
    instance = _instances([11], seed=9)[0]
    plain = comb.solve(instance, "bq", weights=str(tmp_path / "w.pt"), device="cpu")
    instance.check_tour(plain.tour)
    assert plain.cost == pytest.approx(instance.tour_cost(plain.tour))
    better = comb.solve(instance, "bq", weights=str(tmp_path / "w.pt"), device="cpu", beam=4,
                        knn=5, polish=True)  # fmt: skip
    instance.check_tour(better.tour)
    assert better.cost == pytest.approx(instance.tour_cost(better.tour))
