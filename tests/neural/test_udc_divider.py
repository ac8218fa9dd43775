"""UDC's learned divider: the k-NN heatmap network, tour decoding, training and shipped weights."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from hybridsolve import comb
from hybridsolve.datasets.routing import tsp_uniform
from hybridsolve.mip.errors import ProblemError, UsageError
from hybridsolve.neural import manifest
from hybridsolve.neural.udc.divider import (
    HeatmapGNN,
    decode_tour,
    heatmap,
    knn_graph,
    learned_tour,
    undirected,
)
from hybridsolve.neural.udc.train import (
    UDCTrainConfig,
    _batch,
    examples,
    main,
    tour_targets,
)
from hybridsolve.neural.weights import WeightsError


def _is_tour(tour: np.ndarray, n: int) -> bool:
    ordered = np.sort(tour)
    return tour.dtype == np.int64 and tour.shape == (n,) and np.array_equal(ordered, np.arange(n))


def _knn_edges(coords: np.ndarray, k: int = 6) -> np.ndarray:
    graph = knn_graph(coords, k)
    return undirected(graph, np.zeros(graph.neighbours.shape))[0]


@pytest.mark.parametrize("n", [3, 4, 5, 17, 400])
def test_decode_of_random_scores_is_a_permutation(n):
    rng = np.random.default_rng(n)
    coords = rng.random((n, 2))
    edges = _knn_edges(coords)
    tour = decode_tour(coords, edges, rng.random(len(edges)))
    assert _is_tour(tour, n)


@pytest.mark.parametrize(
    "coords",
    [
        np.zeros((7, 2)),  # every point the same
        np.repeat(np.random.default_rng(0).random((20, 2)), 3, axis=0),  # triplicates
        np.c_[np.arange(30.0), np.zeros(30)],  # collinear
        np.c_[np.zeros(5), np.arange(5.0) * 1e6],  # collinear, vertical, large
        np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]]),
    ],
    ids=["identical", "triplicates", "collinear", "vertical", "triangle"],
)
def test_decode_of_degenerate_instances_is_a_permutation(coords):
    n = len(coords)
    edges = _knn_edges(coords)
    assert _is_tour(decode_tour(coords, edges, np.ones(len(edges))), n)
    assert _is_tour(decode_tour(coords, np.zeros((0, 2), dtype=np.int64), np.zeros(0)), n)


def test_collinear_points_decode_to_the_optimal_line_tour():
    coords = np.c_[np.random.default_rng(3).permutation(30).astype(float), np.zeros(30)]
    tour = decode_tour(coords, np.zeros((0, 2), dtype=np.int64), np.zeros(0))  # joining only
    assert comb.TSP(coords=coords).tour_cost(tour) == pytest.approx(2 * 29)


def test_decode_of_perfect_scores_reproduces_the_tour():
    instance = tsp_uniform(np.random.default_rng(11), 200)
    tour = comb.solve(instance, "ils", iterations=200).tour
    tour_edges = np.sort(np.stack([tour, np.roll(tour, -1)], axis=1), axis=1)
    edges = np.unique(np.concatenate([_knn_edges(instance.coords, 8), tour_edges]), axis=0)
    scores = (edges[:, None, :] == tour_edges[None]).all(axis=2).any(axis=1).astype(float)
    decoded = decode_tour(instance.coords, edges, scores)
    assert _is_tour(decoded, 200)
    assert instance.tour_cost(decoded) == pytest.approx(instance.tour_cost(tour))
    with_lengths_only = decode_tour(instance.coords, edges, np.zeros(len(edges)))
    assert instance.tour_cost(with_lengths_only) > instance.tour_cost(tour)


def test_decode_is_deterministic():
    rng = np.random.default_rng(5)
    coords = rng.random((300, 2))
    edges = _knn_edges(coords)
    scores = rng.integers(0, 3, len(edges)).astype(float)  # many ties
    assert np.array_equal(decode_tour(coords, edges, scores), decode_tour(coords, edges, scores))


def test_knn_graph_has_n_k_edges_with_consistent_reverses():
    coords = np.random.default_rng(2).random((2000, 2))
    graph = knn_graph(coords, 10)
    assert graph.neighbours.shape == (2000, 10) and graph.features.shape == (2000, 10, 4)
    assert (graph.neighbours != np.arange(2000)[:, None]).all()
    flat, reverse = graph.neighbours.ravel(), graph.reverse.ravel()
    both = reverse >= 0
    assert both.any() and not both.all()
    assert np.array_equal(graph.src[reverse[both]], flat[both])
    assert np.array_equal(flat[reverse[both]], graph.src[both])
    edges, scores = heatmap(HeatmapGNN(hidden=8, layers=1, k=10), coords, device="cpu")
    assert len(edges) == 20000 - both.sum() // 2 <= 2000 * 10
    assert (edges[:, 0] < edges[:, 1]).all() and len(np.unique(edges, axis=0)) == len(edges)
    assert scores.shape == (len(edges),) and ((0 <= scores) & (scores <= 1)).all()


def test_chunked_inference_equals_the_whole_graph_forward():
    torch.manual_seed(0)
    model = HeatmapGNN(hidden=16, layers=3, k=8).eval()
    graph = knn_graph(np.random.default_rng(4).random((500, 2)), 8)
    x = torch.as_tensor(graph.coords, dtype=torch.float32)
    features, neighbours = torch.as_tensor(graph.features), torch.as_tensor(graph.neighbours)
    with torch.no_grad():
        whole = model(x, features, neighbours)
        chunked = model(x, features, neighbours, chunk=8 * 37)  # 37 nodes per slice
    torch.testing.assert_close(chunked, whole, rtol=1e-5, atol=1e-5)


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(ProblemError, match="at least 3 nodes"):
        decode_tour(np.zeros((2, 2)), np.zeros((0, 2), dtype=np.int64), np.zeros(0))
    with pytest.raises(ProblemError, match="NaN"):
        knn_graph(np.array([[0.0, 0.0], [1.0, np.nan], [2.0, 0.0]]), 4)
    with pytest.raises(ProblemError, match=r"shape \(n, 2\)"):
        knn_graph(np.zeros((5, 3)), 4)
    coords = np.random.default_rng(0).random((5, 2))
    with pytest.raises(UsageError, match="outside"):
        decode_tour(coords, np.array([[0, 5]]), np.ones(1))
    with pytest.raises(UsageError, match="scores must have shape"):
        decode_tour(coords, np.array([[0, 1]]), np.ones(2))
    with pytest.raises(UsageError, match="k < min_size"):
        UDCTrainConfig(min_size=10, k=10)


def _tiny_config(tmp_path, **changes) -> UDCTrainConfig:
    settings = dict(min_size=14, max_size=18, instances=6, validation=2, epochs=2,
                    batch_size=3, hidden=8, layers=1, k=4, label_iterations=20,
                    label_cache="cache", output="w/udc-divider.pt", workdir=str(tmp_path),
                    progress=False)  # fmt: skip
    return UDCTrainConfig(**{**settings, **changes})


def test_targets_mark_the_tour_edges():
    coords = np.random.default_rng(0).random((40, 2))
    graph = knn_graph(coords, 6)
    tour = comb.solve(comb.TSP(coords=coords), "ils", iterations=50).tour
    targets = tour_targets(graph, tour)
    assert targets.shape == (40, 6) and targets.sum(axis=1).max() <= 2
    assert targets.sum() > 0.9 * 2 * 40  # nearly all tour edges are among 6 neighbours


def test_loss_falls_over_a_few_steps(tmp_path):
    train_set, _ = examples(_tiny_config(tmp_path, instances=4, validation=0))
    torch.manual_seed(0)
    model = HeatmapGNN(hidden=16, layers=2, k=4)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    x, features, neighbours, target = _batch(train_set, torch.device("cpu"))
    losses = []
    for _ in range(40):
        optimizer.zero_grad()
        loss = F.binary_cross_entropy_with_logits(model(x, features, neighbours), target)
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < 0.7 * losses[0]


def test_trainer_writes_weights_that_learned_tour_loads(tmp_path, capsys):
    config = _tiny_config(tmp_path)
    argv = config.command().split()[3:]
    assert main([*argv, "--workdir", str(tmp_path), "--no-progress"]) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["problem"] == "udc-divider" and entry["train_command"] == config.command()
    assert entry["model"] == {"hidden": 8, "layers": 1, "k": 4}
    assert entry["validation_gap"] is not None and entry["train_sizes"] == [14, 18]
    assert manifest(tmp_path / "w")["udc-divider"]["sha256"] == entry["sha256"]
    coords = np.random.default_rng(9).random((60, 2))
    tour = learned_tour(coords, weights=tmp_path / "w" / "udc-divider.pt", device="cpu")
    assert _is_tour(tour, 60)
    with pytest.raises(ProblemError):
        learned_tour(coords[:2], weights=tmp_path / "w" / "udc-divider.pt")


def test_corrupt_weights_are_a_one_line_weights_error(tmp_path, capsys):
    config = _tiny_config(tmp_path, epochs=1, validation=0)
    argv = config.command().split()[3:]
    assert main([*argv, "--workdir", str(tmp_path), "--no-progress"]) == 0
    weights = tmp_path / "w" / "udc-divider.pt"
    weights.write_bytes(weights.read_bytes()[:100] + b"garbage")
    coords = np.random.default_rng(0).random((20, 2))
    with pytest.raises(WeightsError) as caught:
        learned_tour(coords, weights=weights, device="cpu")
    assert "\n" not in str(caught.value) and str(weights) in str(caught.value)
    with pytest.raises(WeightsError, match="unknown weights"):
        learned_tour(coords, weights="no-such-divider")


def test_shipped_divider_beats_half_again_greedy_on_2000_nodes():
    entry = manifest()["udc-divider"]
    assert entry["problem"] == "udc-divider" and entry["train_command"].startswith(
        "hybridsolve train udc"
    )
    instance = tsp_uniform(np.random.default_rng(987654), 2000)
    tour = learned_tour(instance.coords, device="cpu")
    assert _is_tour(tour, 2000)
    greedy = comb.solve(instance, "greedy").cost
    assert instance.tour_cost(tour) <= 1.5 * greedy
