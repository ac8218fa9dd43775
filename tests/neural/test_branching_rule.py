"""The learned branching rule: numpy scorers equal torch, SCIP branches with it, bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

import hybridsolve
from hybridsolve import mip
from hybridsolve.datasets import registry
from hybridsolve.mip import Problem, Status, UsageError
from hybridsolve.neural.branching import BranchingWarning, plugin, weights_of
from hybridsolve.neural.branching.features import FEATURES
from hybridsolve.neural.weights import WeightsError

torch = pytest.importorskip("torch")

from hybridsolve.neural.branching.inference import load_scorer  # noqa: E402
from hybridsolve.neural.branching.model import batch_nodes, build  # noqa: E402
from hybridsolve.neural.branching.samples import NodeSample  # noqa: E402
from hybridsolve.neural.graph import encode  # noqa: E402
from hybridsolve.neural.training import publish  # noqa: E402

KINDS = ("mlp", "hybrid", "gcnn")


@pytest.fixture(scope="module")
def instance() -> Problem:
    """An item-placement instance SCIP needs a few hundred nodes for (0.2 s)."""
    return registry.get("itemplacement-easy").instance("test", 0)


def _publish(model, folder: Path, name: str) -> Path:
    entry = {"problem": "mip-branching", "model": model.config(), "train_sizes": [1, 1],
             "instances": 1, "labeller": "test", "knn": None, "data_seed": 0,
             "train_command": "test", "validation_gap": None, "device": "cpu", "epochs": 1,
             "seconds": 1.0}  # fmt: skip
    path = folder / f"{name}.pt"
    publish(model.state_dict(), path, name, entry, say=False)
    return path


@pytest.fixture(scope="module")
def weights(tmp_path_factory) -> dict[str, Path]:
    """One random (untrained) scorer of each kind, registered in a temporary folder."""
    folder = tmp_path_factory.mktemp("weights")
    out = {}
    for kind in KINDS:
        torch.manual_seed(1)
        model = build(kind)
        for parameter in model.parameters():
            torch.nn.init.normal_(parameter, std=0.3)
        model.standardise_on(np.random.default_rng(0).normal(size=(50, len(FEATURES))))
        out[kind] = _publish(model.eval(), folder, kind)
    return out


@pytest.mark.parametrize("kind", KINDS)
def test_the_numpy_scorer_gives_the_torch_scores(instance, weights, kind):
    rng = np.random.default_rng(3)
    n = instance.num_vars
    columns = np.sort(rng.choice(np.flatnonzero(instance.integrality), 7, replace=False))
    lower = np.zeros(n)
    upper = np.where(rng.random(n) < 0.2, 0.0, 1.0)
    state = np.column_stack([rng.uniform(lower, upper), lower, upper, rng.normal(size=n)])
    sample = NodeSample(columns, rng.normal(size=(7, len(FEATURES))).astype(np.float32),
                        np.arange(7.0), 3, state.astype(np.float32))  # fmt: skip
    model = build(kind)
    model.load_state_dict(torch.load(weights[kind]))
    model.eval()
    with torch.no_grad():
        expected = model(batch_nodes([(encode(instance), [sample])], kind))[0].numpy()
    scorer = load_scorer(weights[kind])
    scorer.prepare(instance)
    found = scorer.scores(sample.features, sample.columns, lambda: sample.state)
    assert np.allclose(found, expected, atol=1e-4) and np.ptp(found) > 0


@pytest.mark.parametrize("kind", KINDS)
def test_scip_branches_with_the_rule_and_proves_the_same_optimum(instance, weights, kind):
    plain = hybridsolve.solve(instance, "scip", threads=1)
    guided = hybridsolve.solve(instance, "scip", threads=1, branching=f"gnn:{weights[kind]}")
    assert plain.status is Status.OPTIMAL and guided.status is Status.OPTIMAL
    assert guided.objective == pytest.approx(plain.objective, abs=1e-6)
    assert mip.check(instance, guided.x).feasible
    stats = guided.stats["plugins"]["gnn_branching"]
    assert stats["used"] and stats["kind"] == kind and stats["error"] is None
    assert stats["branched"] > 0 and stats["model_seconds"] > 0
    assert stats["branched"] + stats["fallbacks"] >= guided.nodes // 2


def test_the_lns_tree_arm_branches_with_the_rule(instance, weights):
    spec = f"gnn:{weights['mlp']}"
    result = hybridsolve.solve(instance, "lns", time_limit=5, seed=0, branching=spec)
    assert result.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert mip.check(instance, result.x).feasible
    assert result.stats["plugins"]["gnn_branching"]["branched"] > 0
    with pytest.raises(UsageError, match="needs options backend=scip or both, and tree=true"):
        hybridsolve.solve(instance, "lns", time_limit=5, branching=spec,
                          options={"backend": "highs"})  # fmt: skip


def test_the_shipped_scorer_branches_from_a_fresh_install(instance):
    plain = hybridsolve.solve(instance, "scip", threads=1)
    guided = hybridsolve.solve(instance, "scip", threads=1, branching="gnn")
    stats = guided.stats["plugins"]["gnn_branching"]
    assert stats["weights"] == "branching-hybrid" and stats["kind"] == "hybrid"
    assert stats["branched"] > 0 and stats["error"] is None
    assert guided.status is Status.OPTIMAL and mip.check(instance, guided.x).feasible
    assert guided.objective == pytest.approx(plain.objective, abs=1e-6)


def test_a_depth_limit_leaves_deep_nodes_to_scip(instance, weights):
    result = mip.solve(instance, "scip", plugins=[plugin(f"gnn:{weights['mlp']}", max_depth=0)])
    stats = result.stats["plugins"]["gnn_branching"]
    assert result.status is Status.OPTIMAL and stats["branched"] == 1 and stats["fallbacks"] > 0


def test_models_it_cannot_branch_on_get_scips_rule_after_one_warning(weights):
    lp = Problem.from_arrays(np.array([1.0, 2.0]), sp.csr_matrix([[1.0, 1.0]]), [1.0], [np.inf],
                             [0.0, 0.0], [5.0, 5.0], [False, False])  # fmt: skip
    with pytest.warns(BranchingWarning, match="no integer variables"):
        result = hybridsolve.solve(lp, "scip", branching=f"gnn:{weights['hybrid']}")
    assert result.status is Status.OPTIMAL and result.objective == pytest.approx(1.0)
    assert result.stats["plugins"]["gnn_branching"]["used"] is False


def test_bad_weights_and_spellings_fail_in_one_line(instance, weights, tmp_path):
    assert weights_of("gnn") == "branching-hybrid" and weights_of("gnn:x.pt") == "x.pt"
    for spec, message in (("lookahead", "unknown branching"), ("gnn:", "needs weights")):
        with pytest.raises(UsageError, match=message):
            weights_of(spec)
    with pytest.raises(UsageError, match="needs the scip solver"):
        hybridsolve.solve(instance, "highs", branching="gnn")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(weights["mlp"].read_bytes())
    (tmp_path / "manifest.json").write_text((weights["mlp"].parent / "manifest.json").read_text()
                                            .replace('"mlp.pt"', '"corrupt.pt"'))  # fmt: skip
    corrupt.write_bytes(corrupt.read_bytes()[:-9] + b"123456789")
    with pytest.raises(WeightsError, match="corrupt.pt"):
        hybridsolve.solve(instance, "scip", branching=f"gnn:{corrupt}")
    with pytest.raises(WeightsError, match="does not exist"):
        hybridsolve.solve(instance, "scip", branching=f"gnn:{tmp_path / 'none.pt'}")


def test_a_scorer_for_other_features_is_refused(instance, tmp_path):
    model = build("mlp", features=3)
    path = _publish(model, tmp_path, "narrow")
    with pytest.raises(WeightsError, match="reads 3 candidate features; this rule computes 11"):
        hybridsolve.solve(instance, "scip", branching=f"gnn:{path}")


def test_the_command_line_prints_the_rule_line_and_refuses_other_solvers(instance, weights,
                                                                         tmp_path):  # fmt: skip
    path = tmp_path / "m.mps"
    mip.write(instance, path)
    run = [sys.executable, "-m", "hybridsolve", "solve", str(path), "--branching"]
    done = subprocess.run([*run, f"gnn:{weights['hybrid']}"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "branching   hybrid" in done.stdout and "% of the solve" in done.stdout
    done = subprocess.run([*run, "gnn", "--solver", "highs"], capture_output=True, text=True)
    assert done.returncode == 2 and "needs the scip solver" in done.stderr
    assert done.stderr.count("\n") == 1


def test_a_guided_solve_imports_no_torch(instance, weights, tmp_path):
    code = (
        "import sys, hybridsolve\n"
        "from hybridsolve.datasets import registry\n"
        "p = registry.get('itemplacement-easy').instance('test', 0)\n"
        f"r = hybridsolve.solve(p, 'scip', branching='gnn:{weights['hybrid']}')\n"
        "assert r.stats['plugins']['gnn_branching']['branched'] > 0\n"
        "print('torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


def test_bench_names_take_learned_branching_for_scip_only():
    from hybridsolve.benchmarks.runner import plan
    from hybridsolve.datasets import load

    collection = load("mknapsack-easy", n=1)
    assert [t.solver for t in plan(collection, ["scip", "scip+gnn:b"], [0], 5)] == [
        "scip", "scip+gnn:b"]  # fmt: skip
    with pytest.raises(UsageError, match="needs the scip solver"):
        plan(collection, ["highs+gnn"], [0], 5)


def test_the_comparison_table_counts_ratios_wins_and_the_rule_share():
    from hybridsolve.benchmarks.branching import compare, table

    def row(solver, instance, runtime, nodes, status="optimal", rule=None):
        stats = {} if rule is None else {"plugins": {"gnn_branching": {
            "used": True, "prepare_seconds": 0.0, "features_seconds": rule / 2,
            "model_seconds": rule / 2}}}  # fmt: skip
        return {"collection": "c", "solver": solver, "instance": instance, "seed": 0,
                "status": status, "certified": True, "runtime": runtime, "time_limit": 9.0,
                "nodes": nodes, "stats": stats}  # fmt: skip

    rows = [row("scip", "a", 3.0, 90), row("scip", "b", 1.0, 10),
            row("scip+gnn", "a", 1.0, 40, rule=0.5), row("scip+gnn", "b", 9.0, 0, "time_limit",
                                                         rule=1.0)]  # fmt: skip
    (found,) = compare(rows)
    assert found["time_ratio"] == pytest.approx((np.sqrt(2 * 10) - 1) / (np.sqrt(4 * 2) - 1))
    assert found["node_ratio"] == pytest.approx(40 / 90) and found["both_solved"] == 1
    assert (found["wins"], found["losses"], found["solved"]) == (1, 1, 1)
    assert found["rule_share"] == pytest.approx(1.5 / 10)
    assert "| c | scip+gnn | 2 |" in table([found])


def test_a_user_trains_on_a_folder_of_their_own_models_and_benches_it(tmp_path):
    """README's flow: collect -> fit -> solve --branching gnn:MINE -> bench scip,scip+gnn:MINE."""
    from hybridsolve.benchmarks.store import Store

    models = tmp_path / "mine"
    models.mkdir()
    for index in range(3):
        mip.write(registry.get("itemplacement-easy").instance("train", index),
                  models / f"m{index}.mps")  # fmt: skip
    cli = [sys.executable, "-m", "hybridsolve"]
    common = ["--distributions", "mine", "--instances", "5", "--time-limit", "5", "--rate",
              "0.3", "--jobs", "1", "--workdir", str(tmp_path), "--no-progress"]  # fmt: skip

    def run(*args: str) -> subprocess.CompletedProcess:
        done = subprocess.run([*cli, *args], capture_output=True, text=True, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done

    counts = run("train", "branching", "collect", *common).stdout
    assert '"instances": 3' in counts  # the folder's three files, not five
    fitted = run("train", "branching", "fit", *common, "--kind", "mlp", "--validation", "1",
                 "--epochs", "2", "--output", "out/mine.pt", "--name", "mine")  # fmt: skip
    assert 'validation_gap": null' not in fitted.stdout  # the folder's last file is held out
    solved = run("solve", "mine/m0.mps", "--branching", "gnn:out/mine.pt").stdout
    assert "branching   mlp (out/mine.pt)" in solved
    run("bench", "--instances", "mine", "--db", "b.sqlite", "--solvers",
        "scip,scip+gnn:out/mine.pt", "--time-limit", "20")  # fmt: skip
    with Store(tmp_path / "b.sqlite") as store:
        rows = store.rows()
    assert len(rows) == 6 and all(row["status"] == "optimal" and row["certified"] for row in rows)
    learned = [row for row in rows if row["solver"] == "scip+gnn:out/mine.pt"]
    assert all(row["stats"]["plugins"]["gnn_branching"]["used"] for row in learned)
