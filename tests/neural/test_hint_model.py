"""Learned solution hints: pools, targets, training (resumable), prediction, and hinted
solves through the front door, the command line and the benchmark harness."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

import torch  # noqa: E402

from hybridsolve import solve  # noqa: E402
from hybridsolve.cli import main  # noqa: E402
from hybridsolve.datasets import registry  # noqa: E402
from hybridsolve.mip import HintWarning, Problem, Status, UsageError, check, write  # noqa: E402
from hybridsolve.neural import WeightsError  # noqa: E402
from hybridsolve.neural.hints import hint_source, weights_of  # noqa: E402
from hybridsolve.neural.hints import pools as pools_module  # noqa: E402
from hybridsolve.neural.hints.model import HintModel  # noqa: E402
from hybridsolve.neural.hints.pools import Pool, collect, targets  # noqa: E402
from hybridsolve.neural.hints.predict import predict  # noqa: E402
from hybridsolve.neural.hints.train import HintTrainConfig, train  # noqa: E402
from hybridsolve.neural.weights import load_model  # noqa: E402

DISTRIBUTION = "mknapsack-easy"


def _config(workdir: Path, **changes) -> HintTrainConfig:
    settings = dict(
        distributions=DISTRIBUTION, per_distribution=3, validation=1, time_limit=2.0, jobs=1,
        width=16, layers=1, hidden=8, epochs=3, batch_size=1, init="none",
        output="out/h.pt", name="h", workdir=str(workdir), progress=False,
    )  # fmt: skip
    settings.update(changes)
    return HintTrainConfig(**settings)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, dict]:
    """A small hint model trained for real on SCIP pools of three instances."""
    workdir = tmp_path_factory.mktemp("hints")
    entry = train(_config(workdir))
    return workdir, entry


@pytest.fixture(scope="module")
def weights(trained) -> str:
    return str(trained[0] / "out" / "h.pt")


@pytest.fixture(scope="module")
def instance() -> Problem:
    return registry.get(DISTRIBUTION).instance("test", 0)


def test_targets_weigh_solutions_by_objective():
    item = Pool("d", "train", 0, np.array([1, 3]), np.array([[1, 0], [0, 1]], dtype=np.int8),
                np.array([101.0, 100.0]), False)  # fmt: skip
    target = targets(item, 4, temperature=0.01)  # scale 0.01 * 100 = 1: weights 1/e and 1
    w = np.exp(-1.0) / (1 + np.exp(-1.0))
    assert np.isnan(target[[0, 2]]).all()
    assert target[1] == pytest.approx(w, rel=1e-6) and target[3] == pytest.approx(1 - w, rel=1e-6)


def test_pools_hold_improving_certified_solutions_and_are_cached(tmp_path, monkeypatch):
    (found,) = collect([DISTRIBUTION], "train", 1, cache=tmp_path, time_limit=2.0)
    problem = registry.get(DISTRIBUTION).instance("train", 0)
    assert found.size >= 1 and found.solutions.shape == (found.size, len(found.columns))
    assert (np.diff(found.objectives) < 0).all()  # minimisation sense, each one better
    plain = solve(problem, "scip", time_limit=2.0, threads=1, seed=0)
    assert plain.objective is not None and -found.objectives[-1] == pytest.approx(plain.objective)

    def refuse(task):
        raise AssertionError("a cached pool was labelled again")

    monkeypatch.setattr(pools_module, "_label", refuse)
    (again,) = collect([DISTRIBUTION], "train", 1, cache=tmp_path, time_limit=2.0)
    assert np.array_equal(again.solutions, found.solutions)
    (path,) = tmp_path.iterdir()
    path.write_bytes(b"damaged")
    with pytest.raises(AssertionError, match="labelled again"):
        collect([DISTRIBUTION], "train", 1, cache=tmp_path, time_limit=2.0)


def test_training_writes_registered_weights(trained):
    workdir, entry = trained
    assert entry["problem"] == "mip-hints" and entry["instances"] == 2
    assert entry["train_command"] == (
        "hybridsolve train hints --distributions mknapsack-easy --per-distribution 3 "
        "--validation 1 --time-limit 2.0 --jobs 1 --init none --width 16 --layers 1 "
        "--hidden 8 --epochs 3 --batch-size 1 --output out/h.pt --name h"
    )
    assert entry["validation_gap"] > 0
    assert len(list((workdir / "runs" / "hint-pools").iterdir())) == 3


def test_bad_training_settings_are_one_line_usage_errors(capsys):
    assert main(["train", "hints", "--validation", "5", "--per-distribution", "2"]) == 2
    assert "validation must lie" in capsys.readouterr().err
    assert main(["train", "hints", "--distributions", "nosuch-easy"]) == 2
    assert "nosuch-easy" in capsys.readouterr().err


def test_a_resumed_run_ends_with_the_weights_of_an_uninterrupted_one(trained):
    workdir, entry = trained
    chunked = _config(workdir, checkpoint="ck.pt", max_steps=2, output="out/c.pt", name="c")
    assert train(chunked) is None
    resumed = train(_config(workdir, checkpoint="ck.pt", output="out/c.pt", name="c"), resume=True)
    assert resumed["validation_gap"] == pytest.approx(entry["validation_gap"], rel=1e-6)
    a, _ = load_model(workdir / "out" / "h.pt", HintModel, device="cpu")
    b, _ = load_model(workdir / "out" / "c.pt", HintModel, device="cpu")
    for (key, value), other in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(value, other), key


def test_the_encoder_starts_from_the_forge_weights(tmp_path):
    from hybridsolve.neural.forge import load_forge
    from hybridsolve.neural.hints.train import _initial

    model = _initial(_config(tmp_path, init="forge", width=128, layers=2), torch.device("cpu"))
    forge, _ = load_forge("forge")
    for key, value in model.encoder.state_dict().items():
        assert torch.equal(value, forge.state_dict()[key]), key


@pytest.mark.parametrize("solver", ["scip", "highs", "lns"])
def test_a_hinted_solve_is_certified_on_every_solver(solver, weights, instance):
    result = solve(instance, solver, time_limit=8.0, threads=1, hints=f"forge:{weights}")
    assert result.x is not None and check(instance, result.x).feasible
    used = result.stats["hints"]
    assert used["used"] and used["predicted"] == int(instance.integrality.sum())
    assert used["predict_seconds"] > 0 and "trust_region" in used
    assert result.runtime <= 8.0 + 0.5


def test_hints_keep_the_optimum_of_the_plain_solve(weights, instance):
    plain = solve(instance, "scip", threads=1)
    hinted = solve(instance, "scip", threads=1, hints=f"forge:{weights}")
    assert plain.status is hinted.status is Status.OPTIMAL
    assert hinted.objective == pytest.approx(plain.objective)


def test_predictions_cover_binaries_only(weights):
    # x0 binary, x1 general integer in [0, 5], x2 continuous
    problem = Problem.from_arrays(
        np.array([-1.0, -2.0, -1.0]), sp.csr_matrix(np.array([[1.0, 1.0, 1.0]])),
        np.array([-np.inf]), np.array([4.5]), np.zeros(3), np.array([1.0, 5.0, 3.0]),
        np.array([True, True, False]),
    )  # fmt: skip
    hints = predict(problem, weights)
    assert hints.predicted.tolist() == [True, False, False]
    assert solve(problem, "scip", hints=hints).objective == pytest.approx(-8.5)  # x1 = 4, x2 = 0.5


def test_a_model_without_binaries_is_solved_plainly_after_one_warning(weights):
    problem = Problem.from_arrays(
        np.array([-1.0, -1.0]), sp.csr_matrix(np.array([[2.0, 1.0]])), np.array([-np.inf]),
        np.array([7.0]), np.zeros(2), np.array([4.0, 4.0]), np.array([True, True]),
    )  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = solve(problem, "highs", hints=f"forge:{weights}")
    assert [str(w.message) for w in caught if w.category is HintWarning] == [
        "hints ignored: the model has no binary variables; solving without them"
    ]
    assert result.objective == pytest.approx(-5.0) and result.stats["hints"]["used"] is False


def test_corrupt_or_unknown_weights_give_one_line_errors(trained, instance, tmp_path, capsys):
    workdir, _ = trained
    copy = tmp_path / "w"
    shutil.copytree(workdir / "out", copy)
    data = bytearray((copy / "h.pt").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / "h.pt").write_bytes(bytes(data))
    with pytest.raises(WeightsError):
        hint_source(f"forge:{copy / 'h.pt'}")(instance, None)
    path = write(instance, tmp_path / "m.mps")
    assert main(["solve", str(path), "--hints", f"forge:{copy / 'h.pt'}", "--quiet"]) == 3
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "h.pt" in err
    assert main(["solve", str(path), "--hints", "forge:no-such-weights", "--quiet"]) == 3
    assert "no-such-weights" in capsys.readouterr().err


def test_other_weights_are_refused(instance):
    with pytest.raises(WeightsError, match="not for 'mip-hints'"):
        predict(instance, "forge")


def test_hint_spellings():
    assert weights_of("forge") == "forge-hints"
    assert weights_of("forge:mine.pt") == "mine.pt"
    assert weights_of("other") == "other"
    with pytest.raises(UsageError, match="needs weights"):
        weights_of("forge:")


def test_the_command_line_solves_with_hints(weights, instance, tmp_path, capsys):
    path = write(instance, tmp_path / "m.mps")
    code = main(["solve", str(path), "--hints", f"forge:{weights}", "--time-limit", "8",
                 "--quiet"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0 and "certified feasible" in out
    assert "predicted in" in out and "trust region" in out
    assert main(["solve", str(path), "--hints", f"forge:{weights}", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found["stats"]["hints"]["used"] is True


def test_benchmark_solver_names_with_hints(weights):
    from hybridsolve.benchmarks.runner import plan
    from hybridsolve.benchmarks.worker import run_task
    from hybridsolve.datasets import load

    collection = load(DISTRIBUTION, n=1)
    (task,) = plan(collection, [f"scip+hints:{weights}"], [0], 8.0)
    record = run_task(task)
    assert record["certified"] is True and record["stats"]["hints"]["used"] is True
    for bad in ("nosuch+hints", "scip+magic"):
        with pytest.raises(UsageError, match="unknown guided solver"):
            plan(collection, [bad], [0], 8.0)


def test_hint_quality_scores_perfect_and_flipped_predictions(instance):
    from hybridsolve.benchmarks.hint_quality import scores

    best = solve(instance, "scip", threads=1).x
    mask = instance.integrality
    perfect = np.where(mask, np.round(best), np.nan)
    good = scores(instance, perfect, best, perfect)
    assert good["agree"] == 1.0 and good["inside"] and good["bce"] < 1e-4
    bad = scores(instance, 1 - perfect, best, perfect)
    assert bad["agree"] == 0.0 and not bad["inside"] and bad["bce"] > 10


def test_the_numpy_forward_pass_matches_the_torch_model(trained, instance):
    from hybridsolve.neural.graph import encode
    from hybridsolve.neural.hints.inference import probabilities
    from hybridsolve.neural.hints.predict import _model

    workdir, _ = trained
    model, _ = load_model(workdir / "out" / "h.pt", HintModel, device="cpu")
    graph = encode(instance, lp=True)
    with torch.no_grad():
        expected = torch.sigmoid(model(graph.to_data())).double().numpy()
    found = probabilities(_model(str(workdir / "out" / "h.pt")), graph)
    assert np.abs(found - expected).max() < 1e-5


def test_a_hinted_solve_does_not_import_torch(tmp_path, instance):
    import subprocess
    import sys

    path = write(instance, tmp_path / "m.mps")
    code = (
        "import sys, hybridsolve\n"
        f"r = hybridsolve.solve({str(path)!r}, 'highs', hints='forge', time_limit=5)\n"
        "assert r.stats['hints']['used'], r.stats\n"
        "print('torch' in sys.modules, 'torch_geometric' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_pools_are_collected_on_a_dask_cluster_like_locally(tmp_path):
    distributed = pytest.importorskip("distributed")
    local = collect([DISTRIBUTION], "train", 2, cache=tmp_path / "local", time_limit=5.0, jobs=2)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        remote = collect([DISTRIBUTION], "train", 2, cache=tmp_path / "dask", time_limit=5.0,
                         cluster=cluster.scheduler_address)  # fmt: skip
    assert len(list((tmp_path / "dask").iterdir())) == 2
    for a, b in zip(local, remote):
        assert a.index == b.index and a.objectives[-1] == pytest.approx(b.objectives[-1])


def test_fine_tuning_starts_from_all_of_a_hint_models_weights(trained, weights, tmp_path):
    from hybridsolve.neural.hints.train import _initial

    start = _initial(_config(tmp_path, init=f"hints:{weights}"), torch.device("cpu"))
    model, _ = load_model(weights, HintModel, device="cpu")
    for (key, value), other in zip(start.state_dict().items(), model.state_dict().values()):
        assert torch.equal(value, other), key
    with pytest.raises(UsageError, match="shapes"):
        _initial(_config(tmp_path, init=f"hints:{weights}", width=32), torch.device("cpu"))


def test_the_command_line_warns_in_one_line_and_solves_without_hints(capsys):
    data = Path(__file__).parents[1] / "data"
    assert main(["solve", str(data / "small.mps"), "--hints", "forge", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err.splitlines() == [
        "hybridsolve: warning: hints ignored: the model has no binary variables; solving "
        "without them"
    ]
    assert "status      optimal" in captured.out and "hints       not used" in captured.out
