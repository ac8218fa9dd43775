"""The BQ-NCO weights shipped inside the package: complete manifests, and better than the
simple constructions they replace."""

from __future__ import annotations

import shlex
from pathlib import PurePath

import numpy as np
import pytest

from hybridsolve import comb
from hybridsolve.datasets.routing import cvrp, knapsack, tsp_uniform
from hybridsolve.neural import manifest
from hybridsolve.neural.bq import TrainConfig, load_policy
from hybridsolve.neural.bq.train import build_parser

SHIPPED = ("tsp", "cvrp", "kp")


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_policy_records_how_it_was_trained_and_loads(name):
    entry = manifest()[name]
    assert entry["problem"] == name and entry["train_sizes"] == [100]
    assert entry["instances"] > 0 and entry["epochs"] > 0 and entry["seconds"] > 0
    assert entry["train_command"].startswith(("hybridsolve train bq", "python -m hybridsolve"))
    assert f"--problem {name}" in entry["train_command"] or name == "tsp"
    assert entry["device"].startswith(("cpu", "cuda")) and entry["labeller"]
    assert entry["validation_gap"] is not None
    policy, loaded = load_policy(name, device="cpu")  # checksum and shapes checked
    assert loaded["sha256"] == entry["sha256"] and not policy.training


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_train_command_is_portable_and_describes_the_entry(name):
    entry = manifest()[name]
    words = shlex.split(entry["train_command"])
    assert words[:3] == ["hybridsolve", "train", "bq"] and "--workdir" not in words
    args = vars(build_parser().parse_args(words[3:]))
    args.pop("resume")
    config = TrainConfig(**args)  # run from a checkout's root: paths relative to it
    for field in ("checkpoint", "label_cache", "output"):
        value = getattr(config, field)
        assert value is None or not PurePath(value).is_absolute() and ".." not in value, value
    assert config.command() == entry["train_command"]  # written back word for word
    assert PurePath(config.output).name == entry["file"] and config.registry_name() == name
    described = {"problem": config.problem, "train_sizes": [config.size],
                 "instances": config.instances, "epochs": config.epochs, "knn": config.knn,
                 "data_seed": config.data_seed, "labeller": config.labeller(),
                 "model": config.model()}  # fmt: skip
    assert described == {key: entry[key] for key in described}


@pytest.mark.parametrize(
    "make, size, count, seed, baseline, check",
    [
        (tsp_uniform, 20, 8, 20, "nearest_neighbour", lambda i, s: i.check_tour(s.tour)),
        (cvrp, 50, 4, 21, "sweep", lambda i, s: i.check_routes(s.routes)),
    ],
    ids=["tsp20-nearest-neighbour", "cvrp50-sweep"],
)
def test_the_shipped_routing_policies_beat_a_simple_construction(
    make, size, count, seed, baseline, check
):
    rng = np.random.default_rng(seed)
    instances = [make(rng, size) for _ in range(count)]
    bq = [comb.solve(instance, "bq", device="cpu") for instance in instances]
    simple = [comb.solve(instance, baseline).cost for instance in instances]
    for instance, solution in zip(instances, bq):
        check(instance, solution)
    assert np.mean([s.cost for s in bq]) < np.mean(simple)


def test_the_shipped_kp_policy_is_within_two_percent_of_the_optimum():
    rng = np.random.default_rng(22)
    instances = [knapsack(rng, 100) for _ in range(8)]
    bq = np.array([comb.solve(instance, "bq", device="cpu").cost for instance in instances])
    best = np.array([comb.solve(instance, "dp").cost for instance in instances])
    assert (bq <= best + 1e-9).all() and (bq >= 0.98 * best).all()
