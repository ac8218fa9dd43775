"""Strong-branching samples: the scores are strong branching's, shards round-trip and resume."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pyscipopt
import pytest
import scipy.sparse as sp

from hybridsolve import mip
from hybridsolve.datasets import registry
from hybridsolve.mip import Problem, Status, UsageError
from hybridsolve.neural.branching import collect as collect_module
from hybridsolve.neural.branching.collect import collect, record
from hybridsolve.neural.branching.features import FEATURES, STATE
from hybridsolve.neural.branching.samples import strong_branching

#: No presolve, cuts, propagation or objective scaling: the root LP is the model's own LP.
BARE = {
    "presolving/maxrounds": 0, "separating/maxroundsroot": 0, "separating/maxrounds": 0,
    "propagating/maxroundsroot": 0, "propagating/maxrounds": 0, "misc/scaleobj": False,
}  # fmt: skip


@pytest.fixture(scope="module")
def tiny() -> Problem:
    """min -(5.1a + 4.3b + 3.2c + 2.05d)  s.t.  2a + 3b + 2c + d <= 4.5,  a + b + c + d <= 2.5."""
    A = sp.csr_matrix(np.array([[2.0, 3.0, 2.0, 1.0], [1.0, 1.0, 1.0, 1.0]]))
    return Problem.from_arrays(
        -np.array([5.1, 4.3, 3.2, 2.05]), A, np.full(2, -np.inf), np.array([4.5, 2.5]),
        np.zeros(4), np.ones(4), np.ones(4, dtype=bool),
    )  # fmt: skip


def _lp(problem: Problem, j: int | None = None, side: str = "") -> float | None:
    lower, upper = problem.col_lower.copy(), problem.col_upper.copy()
    if j is not None:
        (upper if side == "down" else lower)[j] = 0.0 if side == "down" else 1.0
    relaxed = dataclasses.replace(problem, col_lower=lower, col_upper=upper,
                                  integrality=np.zeros(problem.num_vars, dtype=bool))  # fmt: skip
    result = mip.solve(relaxed, "highs")
    return result.objective if result.status is Status.OPTIMAL else None


def test_strong_branching_bounds_match_the_child_lps_solved_directly(tiny):
    found = {}

    class AtRoot(pyscipopt.Branchrule):
        def branchexeclp(self, allowaddcons):
            if "root" not in found:
                candidates, *_ = self.model.getLPBranchCands()
                found["root"] = self.model.getLPObjVal()
                found["names"] = [var.name for var in candidates]
                found["down"], found["up"], found["scores"] = strong_branching(
                    self.model, candidates
                )
            return {"result": pyscipopt.SCIP_RESULT.DIDNOTRUN}

    def install(model, variables, problem):
        found["index"] = {var.name: j for j, var in enumerate(variables)}
        model.includeBranchrule(AtRoot(), "at_root", "", priority=1_000_000, maxdepth=-1,
                                maxbounddist=1.0)  # fmt: skip

    result = mip.solve(tiny, "scip", options=BARE, plugins=[install])
    assert result.status is Status.OPTIMAL and found["names"]
    root = _lp(tiny)
    assert found["root"] == pytest.approx(root, abs=1e-6)
    for name, down, up, score in zip(found["names"], found["down"], found["up"], found["scores"]):
        j = found["index"][name.removeprefix("t_")]
        for side, bound in (("down", down), ("up", up)):
            direct = _lp(tiny, j, side)
            if direct is None:
                assert np.isinf(bound)
            else:
                assert bound == pytest.approx(direct, abs=1e-6)
        assert score >= 0


def test_recorded_samples_are_well_formed():
    problem = registry.get("itemplacement-easy").instance("test", 0)
    samples, nodes = record(problem, rate=1.0, time_limit=10, limit=5)
    assert len(samples) == 5 and nodes > 5
    for sample in samples:
        k = len(sample.columns)
        assert sample.features.shape == (k, len(FEATURES)) and np.isfinite(sample.features).all()
        assert ((0 <= sample.columns) & (sample.columns < problem.num_vars)).all()
        assert problem.integrality[sample.columns].all()
        assert sample.state.shape == (problem.num_vars, len(STATE))
        lp, lower, upper, _ = sample.state.T
        assert ((lower - 1e-6 <= lp) & (lp <= upper + 1e-6)).all()
        fraction = lp[sample.columns] - np.floor(lp[sample.columns])
        assert np.allclose(np.minimum(fraction, 1 - fraction), sample.features[:, 1], atol=1e-5)
        assert sample.scores[sample.best] == sample.scores.max()


def test_shards_round_trip_resume_and_are_relabelled_when_damaged(tmp_path, monkeypatch):
    names = ["itemplacement-easy"]
    first = collect(names, "train", 2, cache=tmp_path, rate=0.2, time_limit=10)
    assert all(shard.samples for shard in first)

    def refuse(task):
        raise AssertionError("a cached shard was collected again")

    monkeypatch.setattr(collect_module, "_collect_one", refuse)
    again = collect(names, "train", 2, cache=tmp_path, rate=0.2, time_limit=10)
    for a, b in zip(first, again):
        assert a.nodes == b.nodes and len(a.samples) == len(b.samples)
        for x, y in zip(a.samples, b.samples):
            assert np.array_equal(x.columns, y.columns) and np.array_equal(x.scores, y.scores)
            assert np.array_equal(x.features, y.features) and x.depth == y.depth
            assert np.array_equal(x.state, y.state)
    next(iter(sorted(tmp_path.iterdir()))).write_bytes(b"damaged")
    with pytest.raises(AssertionError, match="collected again"):
        collect(names, "train", 2, cache=tmp_path, rate=0.2, time_limit=10)


def test_the_collect_command_prints_counts_and_refuses_bad_input(tmp_path, capsys):
    from hybridsolve.cli import main

    args = ["train", "branching", "collect", "--distributions", "itemplacement-easy",
            "--instances", "1", "--time-limit", "5", "--rate", "0.2", "--jobs", "1",
            "--workdir", str(tmp_path), "--no-progress"]  # fmt: skip
    assert main(args) == 0
    counts = json.loads(capsys.readouterr().out)["itemplacement-easy"]
    assert counts["instances"] == 1 and 0 < counts["samples"] <= counts["nodes"]
    assert len(list((tmp_path / "runs" / "branching-samples").iterdir())) == 1
    assert main(["train", "branching", "collect", "--rate", "2"]) == 2
    assert "rate must lie in (0, 1]" in capsys.readouterr().err
    assert main(["train", "branching", "collect", "--distributions", "nosuch-easy"]) == 2
    assert main(["train", "branching", "guess"]) == 2
    assert "unknown step 'guess'" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["mlp", "hybrid", "gcnn"])
def test_a_scorer_learns_to_imitate_and_fit_registers_it(tmp_path, capsys, kind):
    torch = pytest.importorskip("torch")
    from hybridsolve.cli import main
    from hybridsolve.neural.branching.fit import informative
    from hybridsolve.neural.branching.model import batch_nodes, build, imitation_loss, top_k
    from hybridsolve.neural.graph import encode
    from hybridsolve.neural.weights import manifest

    args = ["train", "branching", "fit", "--distributions", "itemplacement-easy",
            "--instances", "2", "--validation", "1", "--time-limit", "5", "--rate", "0.3",
            "--jobs", "1", "--epochs", "2", "--kind", kind, "--output", "out/b.pt",
            "--name", "b", "--workdir", str(tmp_path), "--no-progress"]  # fmt: skip
    if kind == "hybrid":  # its encoder starts from the shipped FORGE weights
        args += ["--init", "forge"]
    assert main(args) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["problem"] == "mip-branching" and entry["instances"] > 0
    assert entry["model"]["kind"] == kind and entry["validation_gap"] > 0
    assert entry["model"]["width"] == (128 if kind == "hybrid" else 64)
    assert manifest(tmp_path / "out")["b"]["sha256"] == entry["sha256"]
    shards = collect(["itemplacement-easy"], "train", 1, cache=tmp_path / "runs" /
                     "branching-samples", rate=0.3, time_limit=5)  # fmt: skip
    nodes = [s for s in shards[0].samples if informative(s)][:24]
    graph = encode(registry.get("itemplacement-easy").instance("train", 0))
    torch.manual_seed(0)
    model = build(kind)
    model.standardise_on(np.concatenate([s.features for s in nodes]))
    batch = batch_nodes([(graph, nodes)], kind)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    before = (float(imitation_loss(model, batch).detach()), top_k(model, batch))
    for _ in range(40):
        optimizer.zero_grad()
        imitation_loss(model, batch).backward()
        optimizer.step()
    after = (float(imitation_loss(model, batch).detach()), top_k(model, batch))
    assert after[0] < 0.9 * before[0] and after[1] > before[1]
    wrong = dataclasses.replace(batch, features=batch.features[..., :3])
    with pytest.raises(UsageError, match="expects 11 candidate features, got 3"):
        model(wrong)


def test_nodes_without_a_lesson_are_skipped():
    from hybridsolve.neural.branching.fit import informative
    from hybridsolve.neural.branching.samples import NodeSample

    def node(scores):
        k = len(scores)
        features = np.zeros((k, len(FEATURES)), np.float32)
        state = np.zeros((k, len(STATE)), np.float32)
        return NodeSample(np.arange(k), features, np.array(scores, float), 0, state)

    assert informative(node([0.0, 2.0, 1.0]))
    assert not informative(node([3.0])) and not informative(node([0.0, 0.0, 0.0]))


def test_fit_refuses_bad_settings_in_one_line(capsys):
    from hybridsolve.cli import main

    for args, message in ((["--kind", "mlp", "--init", "forge"], "--init applies to the hybrid"),
                          (["--kind", "tree"], "kind must be one of mlp, hybrid, gcnn"),
                          (["--max-nodes", "0"], "max_nodes and lr must be positive")):  # fmt: skip
        assert main(["train", "branching", "fit", *args]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
