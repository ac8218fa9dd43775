"""``hybridsolve train bq``: the BQ-NCO trainer behind the front door's command line."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest

from hybridsolve import comb
from hybridsolve.cli import main
from hybridsolve.datasets.routing import knapsack
from hybridsolve.neural.bq.train import TrainConfig, build_parser

TINY = ["--dim", "16", "--layers", "2", "--heads", "2", "--ff", "32"]


def test_train_bq_writes_registered_weights_that_comb_solve_loads(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the working folder: paths are recorded relative to it
    out = tmp_path / "w" / "bq-kp12.pt"
    argv = ["train", "bq", "--problem", "kp", "--size", "12", "--instances", "32", "--epochs",
            "2", "--batch-size", "16", *TINY, "--validation", "4", "--device", "cpu",
            "--no-progress", "--output", str(out), "--label-cache", "labels"]  # fmt: skip
    assert main(argv) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["problem"] == "kp" and entry["train_sizes"] == [12] and entry["epochs"] == 2
    assert entry["instances"] == 32 and entry["labeller"] == "dp, its default budget, seed=0"
    assert entry["train_command"].startswith("hybridsolve train bq --problem kp")
    assert "--problem kp" in entry["train_command"] and entry["device"].startswith("cpu (1 thread,")
    assert json.loads((out.parent / "manifest.json").read_text())["bq-kp12"]["file"] == out.name
    # the recorded command is portable: relative paths, and the trainer's own parser reads it
    words = shlex.split(entry["train_command"])
    assert "--workdir" not in words and str(tmp_path) not in entry["train_command"]
    recorded = vars(build_parser().parse_args(words[3:]))
    assert recorded["output"] == "w/bq-kp12.pt" and recorded["label_cache"] == "labels"
    assert recorded["problem"] == "kp" and recorded["size"] == 12 and recorded["dim"] == 16
    recorded.pop("resume")
    assert TrainConfig(**recorded).command() == entry["train_command"]  # run from tmp_path
    assert (tmp_path / "labels").is_dir()
    instance = knapsack(np.random.default_rng(3), 12)
    solution = comb.solve(instance, "bq", weights=str(out), device="cpu")
    instance.check_selection(solution.selection)
    assert solution.cost == pytest.approx(instance.value(solution.selection))


def test_train_bq_workdir_takes_and_records_paths_relative_to_it(tmp_path, capsys):
    argv = ["train", "bq", "--problem", "kp", "--size", "8", "--instances", "16", "--epochs",
            "1", *TINY, "--validation", "0", "--device", "cpu", "--no-progress",
            "--workdir", str(tmp_path), "--output", "runs/w.pt"]  # fmt: skip
    assert main(argv) == 0
    entry = json.loads(capsys.readouterr().out)
    assert (tmp_path / "runs" / "w.pt").is_file()
    assert entry["train_command"].endswith("--output runs/w.pt")
    assert "--workdir" not in entry["train_command"]
    outside = ["train", "bq", "--problem", "kp", "--workdir", str(tmp_path / "runs"),
               "--output", str(tmp_path / "w.pt"), "--no-progress"]  # fmt: skip
    assert main(outside) == 2
    err = capsys.readouterr().err.strip()
    assert "lies outside the working folder" in err and len(err.splitlines()) == 1


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
            "--label-cache", str(tmp_path / "labels"), "--workdir", str(tmp_path)]  # fmt: skip
    assert main(argv) == 3
    assert "cannot be read" in capsys.readouterr().err
