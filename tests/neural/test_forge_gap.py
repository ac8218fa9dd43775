"""FORGE's integrality-gap head: it learns, it is applied only to its own encoder's
embeddings, it reaches embed and the command line, and its trainer runs end to end."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from hybridsolve.cli import main  # noqa: E402
from hybridsolve.datasets import registry  # noqa: E402
from hybridsolve.mip import UsageError  # noqa: E402
from hybridsolve.neural import manifest  # noqa: E402
from hybridsolve.neural.forge import embed, embed_many  # noqa: E402
from hybridsolve.neural.forge.gap import GapConfig, GapTrainConfig, fit, predict, train  # noqa: E402

DATA = Path(__file__).parents[1] / "data"


def test_the_head_learns_a_gap_that_depends_on_the_embedding():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 5))
    y = 1.0 / (1.0 + np.exp(-2.0 * x[:, 0]))  # a gap in (0, 1) from the first feature
    head, curve = fit(x[:150], y[:150], GapConfig(inputs=5, epochs=300), seed=0)
    error = np.abs(predict(head, x[150:]) - y[150:]).mean()
    assert curve[-1] < curve[0] / 3
    assert error < 0.5 * np.abs(y[150:] - y[:150].mean()).mean()  # beats the mean
    again, _ = fit(x[:150], y[:150], GapConfig(inputs=5, epochs=300), seed=0)
    assert np.array_equal(predict(again, x[150:]), predict(head, x[150:]))


def test_the_shipped_head_belongs_to_the_shipped_encoder_and_fills_predicted_gap():
    entries = manifest()
    assert entries["forge-gap"]["model"]["encoder"] == entries["forge"]["sha256"]
    problems = [registry.get(name).instance("test", 0) for name in ("gisp-easy", "mknapsack-easy")]
    found = embed_many(problems)
    assert all(0.0 <= item.predicted_gap <= 1.0 for item in found)
    # the labels of these domains lie near 1 (GISP) and near 0 (multiple knapsack)
    assert found[0].predicted_gap > 0.5 > found[1].predicted_gap
    assert embed(problems[0], gap=None).predicted_gap is None


def test_a_head_of_other_encoder_weights_is_refused_or_skipped(tmp_path):
    tiny = tmp_path / "w"
    from hybridsolve.neural.forge import TrainConfig
    from hybridsolve.neural.forge import train as train_forge

    train_forge(TrainConfig(
        distributions="mknapsack-easy", instances_per_distribution=2, validation=0, width=8,
        codes=16, rank=2, epochs=1, output="w/forge.pt", name="tiny", workdir=str(tmp_path),
        progress=False,
    ))  # fmt: skip
    with pytest.raises(UsageError, match="trained on other FORGE weights"):
        embed(DATA / "small.mps", weights=tiny / "forge.pt", gap="forge-gap")
    assert embed(DATA / "small.mps", weights=tiny / "forge.pt").predicted_gap is None


def test_embed_json_reports_the_predicted_gap(capsys):
    assert main(["embed", str(DATA / "small.mps"), "--json"]) == 0
    (record,) = json.loads(capsys.readouterr().out)
    assert isinstance(record["predicted_gap"], float) and 0.0 <= record["predicted_gap"] <= 1.0


def test_train_forge_gap_end_to_end(tmp_path, capsys):
    config = GapTrainConfig(
        distributions="gisp-easy,mknapsack-easy", per_distribution=3, validation=1,
        time_limit=5.0, jobs=1, epochs=50, label_cache="labels", output="out/gap.pt",
        name="g", workdir=str(tmp_path), progress=False,
    )  # fmt: skip
    entry = train(config)
    assert entry["instances"] == 4 and entry["problem"] == "mip-gap"
    assert entry["model"]["encoder"] == manifest()["forge"]["sha256"]
    assert 0.0 <= entry["validation_gap"] <= 1.0
    assert entry["train_command"] == (
        "hybridsolve train forge-gap --distributions gisp-easy,mknapsack-easy "
        "--per-distribution 3 --jobs 1 --label-cache labels --epochs 50 "
        "--output out/gap.pt --name g"
    )
    assert len(list((tmp_path / "labels").iterdir())) == 6
    assert manifest(tmp_path / "out")["g"]["sha256"] == entry["sha256"]
    found = embed(DATA / "small.mps", gap=tmp_path / "out" / "gap.pt")
    assert 0.0 <= found.predicted_gap <= 1.0
    assert main(["train", "forge-gap", "--validation", "5", "--per-distribution", "2"]) == 2
    assert "validation must lie" in capsys.readouterr().err
