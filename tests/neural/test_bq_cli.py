"""``hybridsolve train bq``: the BQ-NCO trainer behind the front door's command line."""

from __future__ import annotations

import json

import numpy as np
import pytest

from hybridsolve import comb
from hybridsolve.cli import main
from hybridsolve.datasets.routing import knapsack

TINY = ["--dim", "16", "--layers", "2", "--heads", "2", "--ff", "32"]


def test_train_bq_writes_registered_weights_that_comb_solve_loads(tmp_path, capsys):
    out = tmp_path / "w" / "bq-kp12.pt"
    labels = str(tmp_path / "labels")
    argv = ["train", "bq", "--problem", "kp", "--size", "12", "--instances", "32", "--epochs",
            "2", "--batch-size", "16", *TINY, "--validation", "4", "--device", "cpu",
            "--no-progress", "--output", str(out), "--label-cache", labels]  # fmt: skip
    assert main(argv) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["problem"] == "kp" and entry["train_sizes"] == [12] and entry["epochs"] == 2
    assert entry["instances"] == 32 and entry["labeller"] == "dp, its default budget, seed=0"
    assert entry["train_command"].startswith("hybridsolve train bq --problem kp")
    assert "--problem kp" in entry["train_command"] and entry["device"].startswith("cpu (1 thread,")
    assert json.loads((out.parent / "manifest.json").read_text())["bq-kp12"]["file"] == out.name
    instance = knapsack(np.random.default_rng(3), 12)
    solution = comb.solve(instance, "bq", weights=str(out), device="cpu")
    instance.check_selection(solution.selection)
    assert solution.cost == pytest.approx(instance.value(solution.selection))


def test_train_bq_usage_errors_are_one_line_with_exit_code_2(capsys):
    assert main(["train", "bq", "--problem", "vrptw"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("hybridsolve train bq: error: TrainConfig: problem 'vrptw'")
    assert len(err.splitlines()) == 1
    with pytest.raises(SystemExit) as stop:
        main(["train", "bq", "--size", "many"])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "invalid int value: 'many'" in err and len(err.splitlines()) == 1
    with pytest.raises(SystemExit) as stop:
        main(["train", "gnn"])
    assert stop.value.code == 2 and "invalid choice: 'gnn'" in capsys.readouterr().err


def test_a_corrupt_checkpoint_is_exit_code_3(tmp_path, capsys):
    checkpoint = tmp_path / "ck.pt"
    checkpoint.write_bytes(b"garbage")
    argv = ["train", "bq", "--problem", "kp", "--size", "8", "--instances", "16", *TINY,
            "--no-progress", "--checkpoint", str(checkpoint), "--resume",
            "--label-cache", str(tmp_path / "labels")]  # fmt: skip
    assert main(argv) == 3
    assert "cannot be read" in capsys.readouterr().err
