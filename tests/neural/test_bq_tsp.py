"""neural.bq: BQ-NCO states, policy, decoding, imitation training and the comb method 'bq'."""

from __future__ import annotations

import dataclasses
import inspect
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from hybridsolve import comb
from hybridsolve.comb.solve import methods, register_method
from hybridsolve.datasets.routing import tsp_uniform
from hybridsolve.mip import UsageError
from hybridsolve.neural import WeightsError, register, save
from hybridsolve.neural.bq import (
    BQPolicy,
    TrainConfig,
    beam_search,
    bq,
    decode,
    get,
    greedy,
    imitation_loss,
    load_policy,
    make_labels,
    train,
)
from hybridsolve.neural.bq import labels as labels_module
from hybridsolve.neural.bq.decode import dihedral
from hybridsolve.neural.bq.train import build_parser, datasets

TINY = {"dim": 16, "layers": 2, "heads": 2, "ff": 32}
TSP_PROBLEM = get("tsp")
SHAPES = {"features": 6, "pairs": 1, "actions": 1}
CPU = torch.device("cpu")


def _policy(seed: int = 0) -> BQPolicy:
    torch.manual_seed(seed)
    return BQPolicy(**SHAPES, **TINY)


def _instances(sizes, seed: int = 0) -> list[comb.TSP]:
    rng = np.random.default_rng(seed)
    return [tsp_uniform(rng, n) for n in sizes]


def _entry(policy: BQPolicy) -> dict:
    return {
        "problem": "tsp",
        "model": policy.config(),
        "train_sizes": [10],
        "instances": 0,
        "labeller": "test",
        "knn": None,
        "data_seed": 0,
        "train_command": "test",
        "validation_gap": None,
        "device": "cpu",
        "epochs": 0,
        "seconds": 0.0,
        "created": "2025-01-01T00:00:00Z",
    }


@pytest.fixture
def weights_file(tmp_path):
    """A tiny untrained policy saved and registered in tmp_path; returns the .pt path."""
    policy = _policy()
    entry = save(policy.state_dict(), tmp_path / "tiny.pt", entry=_entry(policy))
    register("tiny", entry, tmp_path)
    return tmp_path / "tiny.pt"


def _is_tour(tour: np.ndarray, n: int) -> bool:
    return tour.dtype == np.int64 and sorted(tour.tolist()) == list(range(n)) and tour[0] == 0


# ------------------------------------------------------------------ states and model


def _env(coords, origin, current, visited) -> dict:
    return {"coords": torch.as_tensor(coords, dtype=torch.float32), "origin": torch.tensor(origin),
            "current": torch.tensor(current), "visited": torch.as_tensor(visited)}  # fmt: skip


def test_state_tokens_masks_and_normalisation():
    rng = np.random.default_rng(1)
    coords = rng.random((3, 7, 2)) * [4.0, 2.0] + 10.0
    visited = np.zeros((3, 7), dtype=bool)
    visited[0, 0] = True
    visited[1, [2, 3, 4]] = True
    visited[2, [5, 6, 0, 1]] = True
    state = TSP_PROBLEM.state(_env(coords, [0, 2, 5], [0, 4, 1], visited))
    assert state.features.shape == (3, 8, 6) and state.pairs.shape == (3, 8, 8, 1)
    assert state.selectable.shape == (3, 8, 1)
    # tokens: current, origin, then the remaining nodes in index order (padded to 8)
    assert state.nodes[1].tolist()[:6] == [4, 2, 0, 1, 5, 6]
    assert state.nodes[2].tolist()[:5] == [1, 5, 2, 3, 4]
    assert state.present.tolist()[0] == [True, False] + [True] * 6
    assert state.present.tolist()[2] == [True] * 5 + [False] * 3
    assert state.selectable[..., 0].tolist()[1] == [False, False] + [True] * 4 + [False] * 2
    flags = state.features[..., -2:]
    assert flags[0, 0].tolist() == [1.0, 1.0]  # origin is current at the start
    assert flags[1, 0].tolist() == [0.0, 1.0] and flags[1, 1].tolist() == [1.0, 0.0]
    assert state.features[2, 5:].abs().sum() == 0  # padding is zero
    for row in range(3):
        xy = state.features[row, state.present[row], :2]
        assert xy.min() >= 0 and xy.max() <= 1 + 1e-6
        assert torch.isclose((xy.amax(0) - xy.amin(0)).max(), torch.tensor(1.0))
        # the distance features are the distances to the current node and to the origin
        to_current = torch.linalg.norm(xy - xy[0], dim=1)
        assert torch.allclose(state.features[row, state.present[row], 2], to_current, atol=1e-6)
        pair = state.pairs[row, 0, state.present[row], 0]
        assert torch.allclose(pair, to_current, atol=1e-6)


def test_states_are_invariant_to_translation_and_scaling():
    rng = np.random.default_rng(8)
    coords = rng.random((2, 9, 2))
    visited = np.zeros((2, 9), dtype=bool)
    visited[:, [0, 3, 4]] = True
    a = TSP_PROBLEM.state(_env(coords, [0, 0], [4, 3], visited))
    b = TSP_PROBLEM.state(_env(coords * 7.5 - 3.0, [0, 0], [4, 3], visited))
    assert torch.allclose(a.features, b.features, atol=1e-5)
    assert torch.allclose(a.pairs, b.pairs, atol=1e-5)


def test_knn_state_keeps_current_origin_and_the_nearest_remaining_nodes():
    rng = np.random.default_rng(2)
    coords = rng.random((2, 20, 2))
    visited = np.zeros((2, 20), dtype=bool)
    visited[0, 0] = True
    visited[1, [3, 9, 11, 12]] = True
    state = TSP_PROBLEM.state(_env(coords, [0, 3], [0, 9], visited), knn=5)
    assert state.features.shape == (2, 7, 6)
    assert state.nodes[:, 0].tolist() == [0, 9] and state.nodes[:, 1].tolist() == [0, 3]
    assert state.present[:, :2].tolist() == [[True, False], [True, True]]
    for row, here in ((0, 0), (1, 9)):
        d = ((coords[row] - coords[row, here]) ** 2).sum(-1)
        d[visited[row]] = np.inf
        nearest = set(np.argsort(d)[:5].tolist())
        assert set(state.nodes[row][state.selectable[row, :, 0]].tolist()) == nearest
    # fewer remaining nodes than knn: every remaining node, no padding beyond them
    visited[1] = True
    visited[1, [4, 5]] = False
    late = TSP_PROBLEM.state(_env(coords, [0, 3], [0, 9], visited), knn=5)
    assert late.selectable[1].sum() == 2 and late.present[1].sum() == 4


def test_masked_tokens_get_minus_infinity():
    policy = _policy()
    visited = np.zeros((2, 6), dtype=bool)
    visited[:, :3] = True
    state = TSP_PROBLEM.state(_env(np.random.default_rng(0).random((2, 6, 2)), [0, 1], [2, 1],
                                   visited))  # fmt: skip
    logits = policy(state)
    assert logits.shape == (2, 5, 1)
    assert torch.isneginf(logits[~state.selectable]).all()
    assert torch.isfinite(logits[state.selectable]).all()
    with pytest.raises(UsageError, match="features per token"):
        BQPolicy(5, 1, 1, **TINY)(state)


def test_policy_config_and_bad_hyper_parameters():
    policy = _policy()
    assert policy.config() == {**SHAPES, **TINY, "dropout": 0.0}
    assert BQPolicy(**policy.config()).state_dict().keys() == policy.state_dict().keys()
    with pytest.raises(UsageError, match="multiple of heads"):
        BQPolicy(6, dim=10, heads=4)
    with pytest.raises(UsageError, match="layers must be a positive integer"):
        BQPolicy(6, layers=0)
    with pytest.raises(UsageError, match="pairs must be a non-negative integer"):
        BQPolicy(6, pairs=-1)


# ------------------------------------------------------------------ decoding


def test_every_decoded_tour_is_a_permutation():
    policy = _policy()
    instances = _instances([12, 12, 12, 30, 1, 2, 3, 5])
    runs = {
        "greedy": greedy(policy, instances, device="cpu", batch=2),
        "beam": beam_search(policy, instances, width=4, device="cpu", batch=8),
        "knn": greedy(policy, instances, knn=4, device="cpu"),
        "knn-beam": decode(policy, instances, beam=3, knn=4, device="cpu"),
    }
    for tours, lengths in runs.values():
        assert len(tours) == len(instances)
        for instance, tour, length in zip(instances, tours, lengths):
            assert _is_tour(tour, instance.num_nodes)
            assert length == pytest.approx(instance.tour_cost(tour))


def test_greedy_is_deterministic_and_beam_width_one_is_greedy():
    policy = _policy()
    instances = _instances([15] * 4 + [9] * 3, seed=3)
    first, cost = greedy(policy, instances, device="cpu")
    again, cost_again = greedy(policy, instances, device="cpu", batch=3)
    single, cost_single = beam_search(policy, instances, width=1, device="cpu")
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert all(np.array_equal(a, b) for a, b in zip(first, single))
    assert np.array_equal(cost, cost_again) and np.array_equal(cost, cost_single)
    assert policy.training  # decoding restores the mode


def test_beam_search_is_never_worse_than_greedy():
    policy = _policy(seed=1)
    instances = _instances([20] * 6, seed=4)
    _, greedy_cost = greedy(policy, instances, device="cpu")
    _, beam_cost = beam_search(policy, instances, width=4, device="cpu")
    _, knn_greedy = greedy(policy, instances, knn=6, device="cpu")
    _, knn_beam = beam_search(policy, instances, width=4, knn=6, device="cpu")
    assert (beam_cost <= greedy_cost + 1e-9).all() and (knn_beam <= knn_greedy + 1e-9).all()
    assert beam_cost.sum() < greedy_cost.sum()  # and it does find something better


def test_augmentation_decodes_symmetric_copies_and_keeps_the_best():
    policy = _policy(seed=2)
    instances = _instances([18] * 5, seed=11)
    _, plain = greedy(policy, instances, device="cpu")
    tours, augmented = greedy(policy, instances, augment=8, device="cpu", batch=7)
    assert (augmented <= plain + 1e-9).all() and augmented.sum() < plain.sum()
    for instance, tour, cost in zip(instances, tours, augmented):
        assert _is_tour(tour, 18) and cost == pytest.approx(instance.tour_cost(tour))
    # a symmetry of the square moves every point but keeps every distance
    xy = instances[0].coords
    for k in range(8):
        moved = dihedral(xy, k)
        assert (k == 0) == np.allclose(moved, xy)
        assert np.allclose(np.linalg.norm(moved[1:] - moved[:-1], axis=1),
                           np.linalg.norm(xy[1:] - xy[:-1], axis=1))  # fmt: skip
    _, beamed = beam_search(policy, instances, width=3, augment=4, device="cpu")
    _, beam_plain = beam_search(policy, instances, width=3, device="cpu")
    assert (beamed <= beam_plain + 1e-9).all()
    with pytest.raises(UsageError, match="augment takes 1 to 8"):
        greedy(policy, instances, augment=9, device="cpu")
    kp = BQPolicy(5, **TINY)
    with pytest.raises(UsageError, match="augment needs coordinates; kp"):
        greedy(kp, [comb.KP([1, 2], [1, 1], 1)], augment=2, device="cpu")


def test_decoding_needs_coordinates_and_sane_options():
    policy = _policy()
    matrix_only = comb.TSP(distances=np.ones((4, 4)) - np.eye(4))
    with pytest.raises(UsageError, match="needs node coordinates"):
        greedy(policy, [matrix_only], device="cpu")
    with pytest.raises(UsageError, match="knn must be a positive integer"):
        greedy(policy, _instances([5]), knn=0, device="cpu")


# ------------------------------------------------------------------ training


def test_subproblems_follow_the_expert_tour():
    rng = np.random.default_rng(5)
    coords = rng.random((6, 9, 2)).astype(np.float32)
    tours = np.stack([rng.permutation(9) for _ in range(6)])
    seen = set()
    for seed in range(60):
        rows = np.random.default_rng(seed)
        env, target = TSP_PROBLEM.sample({"coords": coords}, {"tour": tours}, rows, CPU)
        state = TSP_PROBLEM.state(env)
        tokens = env["coords"].shape[1]
        seen.add(tokens)
        assert target.shape == (6, tokens, 1)
        for b in range(6):
            # the environment's nodes are rows of the instance: find them back by coordinates
            xys = env["coords"][b].numpy()
            nodes = [int(np.flatnonzero((coords[b] == xy).all(1))[0]) for xy in xys]
            assert len(set(nodes)) == tokens
            tour = tours[b].tolist()
            at = tour.index(nodes[int(env["current"][b])])
            origin = tour.index(nodes[int(env["origin"][b])])
            wanted = {nodes[k] for k in np.flatnonzero(target[b, :, 0].numpy())}
            if at == origin:  # before the first move, both neighbours are right
                assert wanted == {tour[(at + 1) % 9], tour[(at - 1) % 9]}
            else:
                assert len(wanted) == 1 and wanted <= {tour[(at + 1) % 9], tour[(at - 1) % 9]}
            allowed = state.nodes[b][state.selectable[b, :, 0]].tolist()
            assert {nodes[k] for k in allowed} >= wanted
    assert seen == set(range(4, 10))  # every sub-problem size: 2..7 remaining nodes


def _config(tmp_path, **changes) -> TrainConfig:
    settings = {
        **TINY, "size": 10, "instances": 64, "batch_size": 16, "epochs": 2, "lr": 1e-2,
        "device": "cpu", "validation": 4, "label_iterations": 20, "progress": False,
        "label_cache": str(tmp_path / "labels"), "output": str(tmp_path / "out" / "bq.pt"),
        "workdir": str(tmp_path),
    }  # fmt: skip
    settings.update(changes)
    return TrainConfig(**settings)


def test_training_lowers_the_loss_and_writes_loadable_weights(tmp_path):
    config = _config(tmp_path, epochs=25)  # 100 steps
    entry = train(config)
    assert entry is not None and entry["problem"] == "tsp" and entry["epochs"] == 25
    assert entry["model"] == {**SHAPES, **TINY, "dropout": 0.0}
    assert entry["validation_gap"] is not None and "--epochs 25" in entry["train_command"]
    trained, loaded_entry = load_policy(config.output_path(), device="cpu")
    assert loaded_entry["sha256"] == entry["sha256"]

    instances, _ = datasets(config)
    labels = make_labels("tsp", instances, iterations=20, cache_dir=config.label_cache)
    coords = np.stack([TSP_PROBLEM.arrays(i)["coords"] for i in instances]).astype(np.float32)
    tours = np.stack([expert["tour"] for expert in labels.experts])

    def loss(model: BQPolicy) -> float:
        with torch.no_grad():
            return float(np.mean([
                float(imitation_loss(model, TSP_PROBLEM, *TSP_PROBLEM.sample(
                    {"coords": coords}, {"tour": tours}, np.random.default_rng(seed),
                    torch.device("cpu"))))
                for seed in range(6)
            ]))  # fmt: skip

    assert loss(trained) < loss(_policy(seed=config.seed)) - 0.1


def test_a_resumed_run_ends_with_the_same_weights(tmp_path):
    whole = _config(tmp_path, output=str(tmp_path / "a" / "bq.pt"),
                    checkpoint=str(tmp_path / "a" / "ck.pt"))  # fmt: skip
    chunked = _config(tmp_path, output=str(tmp_path / "b" / "bq.pt"),
                      checkpoint=str(tmp_path / "b" / "ck.pt"), max_steps=3)  # fmt: skip
    assert train(whole) is not None
    assert train(chunked) is None  # stopped mid-epoch at step 3
    assert train(_config(tmp_path, **{**chunked.__dict__, "max_steps": 4}), resume=True) is None
    resumed = _config(tmp_path, **{**chunked.__dict__, "max_steps": None})
    assert train(resumed, resume=True) is not None
    a = torch.load(whole.output_path(), weights_only=True)
    b = torch.load(resumed.output_path(), weights_only=True)
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(UsageError, match="lr="):
        train(_config(tmp_path, **{**chunked.__dict__, "lr": 0.5}), resume=True)


def test_labels_are_cached_on_disk(tmp_path, monkeypatch):
    instances = _instances([9, 9, 6], seed=6)
    first = make_labels("tsp", instances, iterations=10, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 3
    for instance, expert, cost in zip(instances, first.experts, first.costs):
        instance.check_tour(expert["tour"])
        assert cost == pytest.approx(instance.tour_cost(expert["tour"]))

    def fail(job):
        raise AssertionError("labelled again instead of reading the cache")

    monkeypatch.setattr(labels_module, "_label_one", fail)
    again = make_labels("tsp", instances, iterations=10, cache_dir=tmp_path)
    assert all(np.array_equal(a["tour"], b["tour"]) for a, b in zip(first.experts, again.experts))
    assert np.array_equal(first.costs, again.costs)
    (tmp_path / next(iter(sorted(p.name for p in tmp_path.glob("*.npz"))))).write_bytes(b"junk")
    with pytest.raises(AssertionError):  # a damaged file is labelled again
        make_labels("tsp", instances, iterations=10, cache_dir=tmp_path)
    with pytest.raises(AssertionError):  # other settings, other keys
        make_labels("tsp", instances, iterations=11, cache_dir=tmp_path)
    with pytest.raises(UsageError, match="takes TSP instances"):
        make_labels("tsp", [comb.KP([1], [1], 1)])


def test_train_command_round_trips_through_the_command_line_parser(tmp_path):
    config = _config(tmp_path, checkpoint=str(tmp_path / "ck.pt"), grad_clip=None, amp=False)
    command = config.command()
    assert "--workdir" not in command and str(tmp_path) not in command
    args = vars(build_parser().parse_args(shlex.split(command)[3:]))
    args.pop("resume")
    relative = {"checkpoint": "ck.pt", "label_cache": "labels", "output": "out/bq.pt"}
    assert TrainConfig(**{**args, "progress": False}) == dataclasses.replace(
        config, workdir=None, **relative
    )
    # run from the working folder, the recorded paths are the same files
    again = TrainConfig(**{**args, "workdir": str(tmp_path)})
    for field in relative:
        assert again.path(getattr(again, field)) == config.path(getattr(config, field))


def test_paths_outside_the_working_folder_are_refused_before_training(tmp_path):
    inside = tmp_path / "work"
    inside.mkdir()
    config = _config(tmp_path, workdir=str(inside), label_cache="labels",
                     output=str(tmp_path / "elsewhere" / "w.pt"))  # fmt: skip
    with pytest.raises(UsageError, match="output .* lies outside the working folder") as error:
        train(config)
    assert "\n" not in str(error.value)
    assert not (inside / "labels").exists()  # refused before labelling
    escaping = _config(tmp_path, workdir=str(inside), output="../w.pt", label_cache="labels")
    with pytest.raises(UsageError, match="outside the working folder"):
        escaping.command()
    with pytest.raises(UsageError, match="is not a folder"):
        train(_config(tmp_path, workdir=str(tmp_path / "missing")))


# ------------------------------------------------------------------ the comb method


def test_solve_through_comb_with_saved_weights(weights_file):
    instance = _instances([25], seed=7)[0]
    plain = comb.solve(instance, "bq", weights=str(weights_file), device="cpu")
    assert _is_tour(plain.tour, 25) and plain.cost == pytest.approx(instance.tour_cost(plain.tour))
    tours, _ = greedy(load_policy(weights_file, device="cpu")[0], [instance], device="cpu")
    assert np.array_equal(plain.tour, tours[0])
    better = comb.solve(instance, "bq", weights=weights_file, beam=4, knn=8, polish=True)
    assert better.cost <= plain.cost + 1e-9 and len(better.trajectory) >= 1
    assert comb.solve(instance).method == "ils"  # registering 'bq' leaves the default alone


def test_knn_auto_decodes_with_the_restriction_the_weights_were_trained_with(tmp_path):
    policy = _policy(seed=4)
    entry = save(policy.state_dict(), tmp_path / "k.pt", entry={**_entry(policy), "knn": 5})
    register("k", entry, tmp_path)
    instance = _instances([30], seed=12)[0]
    restricted, _ = greedy(policy, [instance], knn=5, device="cpu")
    full, _ = greedy(policy, [instance], device="cpu")
    assert not np.array_equal(restricted[0], full[0])
    auto = comb.solve(instance, "bq", weights=tmp_path / "k.pt", device="cpu")
    assert np.array_equal(auto.tour, restricted[0])
    lifted = comb.solve(instance, "bq", weights=tmp_path / "k.pt", knn="none", device="cpu")
    assert np.array_equal(lifted.tour, full[0])
    with pytest.raises(UsageError, match="knn must be a positive integer, 'auto' or 'none'"):
        comb.solve(instance, "bq", weights=tmp_path / "k.pt", knn="near", device="cpu")


def test_training_on_knn_states_leaves_out_rows_whose_expert_went_farther():
    rng = np.random.default_rng(13)
    coords = rng.random((8, 12, 2)).astype(np.float32)
    tours = np.stack([rng.permutation(12) for _ in range(8)])  # random tours: far next nodes
    env, target = TSP_PROBLEM.sample({"coords": coords}, {"tour": tours}, rng, CPU)
    policy = _policy()
    with pytest.raises(UsageError, match="expert action is not allowed"):
        imitation_loss(policy, TSP_PROBLEM, env, torch.zeros_like(target))  # full states
    state = TSP_PROBLEM.state(env, 4)
    wanted = (target.gather(1, state.nodes.unsqueeze(-1)) & state.selectable).flatten(1)
    kept = wanted.any(1)
    assert 0 < int(kept.sum()) < 8
    logits = policy(state).flatten(1)
    by_hand = torch.logsumexp(logits, 1) - torch.logsumexp(
        logits.masked_fill(~wanted, -torch.inf), 1
    )
    loss = imitation_loss(policy, TSP_PROBLEM, env, target, knn=4)
    assert float(loss.detach()) == pytest.approx(float(by_hand[kept].mean().detach()), rel=1e-5)
    with pytest.raises(UsageError, match="no expert action of this batch"):
        imitation_loss(policy, TSP_PROBLEM, env, target & ~kept.view(-1, 1, 1), knn=4)


def test_command_line_tsp_method_bq(weights_file, capsys):
    from hybridsolve.cli import main

    data = Path(__file__).parents[1] / "data" / "euc10.tsp"
    argv = ["tsp", str(data), "--method", "bq", "--option", f"weights={weights_file}", "--json"]
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["method"] == "bq" and sorted(out["tour"]) == list(range(10))


def test_a_fresh_process_finds_bq_without_importing_torch_first():
    code = (
        "import sys; from hybridsolve import comb; from hybridsolve.comb.solve import methods;"
        "print('bq' in methods(comb.TSP, registered=True), 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.split() == ["True", "False"], out.stderr


def test_the_lazy_wrapper_has_the_options_of_bq():
    from hybridsolve.comb.solve import _METHODS

    methods(comb.TSP, registered=True)  # loads the entry-point plug-ins
    wrapper = _METHODS[comb.TSP]["bq"]
    assert wrapper is not bq
    assert inspect.signature(wrapper).parameters.keys() == inspect.signature(bq).parameters.keys()
    for name, parameter in inspect.signature(bq).parameters.items():
        assert inspect.signature(wrapper).parameters[name].default == parameter.default


def test_registered_methods_are_listed_only_on_request():
    assert "bq" not in methods(comb.TSP)  # comb's own "every method" loops stay runnable
    added = methods(comb.TSP, registered=True)[len(methods(comb.TSP)) :]
    assert added == ("bq", "udc")
    assert "udc" not in methods(comb.ATSP, registered=True)


def test_register_method_refuses_built_ins_and_bad_functions():
    with pytest.raises(UsageError, match="built-in"):
        register_method(comb.TSP, "ils", bq)
    with pytest.raises(UsageError, match="tracker, seed"):
        register_method(comb.TSP, "mine", lambda instance: instance)
    with pytest.raises(UsageError, match="no methods for"):
        register_method(int, "mine", bq)


def test_unknown_and_unregistered_weights(tmp_path):
    with pytest.raises(WeightsError, match="unknown weights 'no-such-weights'"):
        comb.solve(_instances([6])[0], "bq", weights="no-such-weights")
    policy = _policy()
    torch.save(policy.state_dict(), tmp_path / "loose.pt")
    with pytest.raises(WeightsError, match="no manifest.json entry"):
        load_policy(tmp_path / "loose.pt")
    with pytest.raises(WeightsError, match="absent.pt does not exist"):
        load_policy(tmp_path / "absent.pt")


def test_a_corrupt_weights_file_is_reported(weights_file):
    instance = _instances([8])[0]
    comb.solve(instance, "bq", weights=weights_file, device="cpu")  # loads and caches
    weights_file.write_bytes(b"not a torch file")
    with pytest.raises(WeightsError, match="corrupt or modified"):
        comb.solve(instance, "bq", weights=weights_file, device="cpu")


def test_weights_of_another_shape_are_refused(tmp_path):
    policy = _policy()
    claim = {**policy.config(), "dim": 32}
    entry = save(policy.state_dict(), tmp_path / "wrong.pt", entry={**_entry(policy),
                 "model": claim})  # fmt: skip
    register("wrong", entry, tmp_path)
    with pytest.raises(WeightsError, match=r"has shape .* but the model expects"):
        load_policy(tmp_path / "wrong.pt", device="cpu")
