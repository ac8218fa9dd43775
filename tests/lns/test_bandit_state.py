"""The LNS bandit across runs and instances: state files, contexts, both trees and bounds."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

import hybridsolve
from hybridsolve import datasets
from hybridsolve.lns import BanditState, Settings
from hybridsolve.lns.bandit import Selector, instance_features
from hybridsolve.lns.state import KEEP
from hybridsolve.mip import InputError, Status, UsageError, check, write


@pytest.fixture(scope="module")
def cover():
    """A set cover SCIP proves optimal in seconds."""
    return datasets.set_cover(np.random.default_rng(5), rows=300, cols=800, density=0.05)


@pytest.fixture(scope="module")
def wide():
    """A set cover that the first run (0.02 s, then on only until a first solution) does not
    close, so the loop runs."""
    return datasets.set_cover(np.random.default_rng(6), rows=500, cols=1500, density=0.05)


def _options(path, **more):
    return {"tree": False, "iterations": 6, "initial_share": 0.001, "bandit_state": str(path),
            **more}  # fmt: skip


def test_a_second_run_starts_from_the_state_the_first_one_wrote(tmp_path, wide):
    path = tmp_path / "bandit.json"
    first = hybridsolve.solve(wide, "lns", time_limit=20, seed=1, options=_options(path))
    assert first.stats["bandit_state"] == {"file": str(path), "earlier_runs": 0, "replayed": 0}
    saved = json.loads(path.read_text())
    assert saved["runs"] == 1 and len(saved["observations"]) == 6
    pulled = {name for name, arm in first.stats["operators"].items() if arm["pulls"]}
    assert set(saved["totals"]) == pulled
    second = hybridsolve.solve(wide, "lns", time_limit=20, seed=2, options=_options(path))
    assert second.stats["bandit_state"]["earlier_runs"] == 1
    assert second.stats["bandit_state"]["replayed"] == 6  # every arm of the first run is here
    assert check(wide, second.x).feasible
    state = BanditState.load(path)
    assert state.runs == 2 and len(state.observations) == 12
    assert state.totals == {
        name: {key: pytest.approx(first.stats["operators"].get(name, {}).get(key, 0)
                                  + second.stats["operators"].get(name, {}).get(key, 0))
               for key in ("pulls", "improvements", "seconds", "gain", "progress")}
        for name in state.totals
    }  # fmt: skip
    assert not [p for p in tmp_path.iterdir() if p.name != "bandit.json"]  # no temporary left


def test_state_files_round_trip_and_keep_the_latest_observations(tmp_path):
    state = BanditState()
    arm = "mutation-0.2@scip"
    many = [(arm, float(i % 2), None) for i in range(KEEP + 10)]
    totals = {arm: {"pulls": 3, "improvements": 1, "seconds": 2.5, "gain": 0.4, "progress": 0.0}}
    state.record(totals, {arm: 0.64}, many)
    state.save(tmp_path / "s.json")
    again = BanditState.load(tmp_path / "s.json")
    assert again == BanditState(1, many[-KEEP:], state.totals, state.scales)
    assert again.prior("mutation-0.2@scip")["seconds"] == 2.5
    assert again.prior("rins-0.3@highs") == dict.fromkeys(again.prior("x"), 0.0)
    assert BanditState.load(tmp_path / "missing.json") == BanditState()  # a cold start


@pytest.mark.parametrize(
    "text, reason",
    [
        ("{not json", "Expecting property name"),
        ('{"format": "something-else"}', "format field"),
        ('{"format": "hybridsolve-lns-bandit", "version": 7}', "unknown version"),
        (
            '{"format": "hybridsolve-lns-bandit", "version": 1, "runs": 1, "observations": '
            '[["a", "nan", null]], "totals": {}, "scales": {}}',
            "bad observation",
        ),
        (
            '{"format": "hybridsolve-lns-bandit", "version": 1, "runs": 1, "observations": [], '
            '"totals": {}, "scales": {"a": -1}}',
            "bad runs or scales",
        ),
    ],
)
def test_a_corrupt_state_is_one_clear_error(tmp_path, text, reason):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(InputError, match=f"not an LNS bandit state .*{reason}"):
        BanditState.load(path)


def test_the_cli_refuses_a_corrupt_state_with_exit_code_3(tmp_path, cover):
    model, state = tmp_path / "cover.mps", tmp_path / "state.json"
    write(cover, model)
    state.write_text("[1, 2, 3]")
    cmd = [sys.executable, "-m", "hybridsolve", "solve", str(model), "--solver", "lns",
           "--time-limit", "5", "--option", f"bandit_state={state}"]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 3
    assert "not an LNS bandit state" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_warm_replays_only_the_arms_and_contexts_of_this_run():
    names = ["mutation-0.2@scip", "rins-0.3@highs", "tree@scip"]
    plain = Selector(names, lambda: None, None, "thompson", seed=0)
    seen = [("mutation-0.2@scip", 1.0, None), ("gone-0.1@scip", 1.0, None),
            ("tree@scip", 0.0, [0.5, 0.5])]  # fmt: skip
    assert plain.warm(seen) == 2  # contexts are ignored by a non-contextual policy
    assert plain.mab._is_initial_fit
    contextual = Selector(names, lambda: None, lambda: np.ones(2), "linucb", seed=0)
    assert contextual.warm(seen) == 1  # only the observation with a context of length 2
    assert Selector(names, lambda: None, None, "ucb1", seed=0).warm([]) == 0


def test_a_warm_bandit_exploits_what_it_learned():
    names = [f"arm{i}" for i in range(6)]
    cold = Selector(names, lambda: None, None, "thompson", seed=3)
    warm = Selector(names, lambda: None, None, "thompson", seed=3)
    warm.warm(
        [("arm4", 1.0, None)] * 30 + [(name, 0.0, None) for name in names if name != "arm4"] * 30
    )
    rng = np.random.default_rng(0)
    picks = [warm(rng, None, None)[0] for _ in range(20)]
    assert picks.count(4) == 20
    assert len({cold(rng, None, None)[0] for _ in range(20)}) > 1  # unfit: random arms


def test_contextual_policies_see_the_instance_and_the_run(wide):
    features = instance_features(wide)
    assert features.shape == (6,) and np.all((0 <= features) & (features <= 1))
    assert features[3] == 1.0  # all binary
    options = {"policy": "lints", "tree": False, "iterations": 5, "initial_share": 0.001}
    result = hybridsolve.solve(wide, "lns", time_limit=20, options=options)
    assert check(wide, result.x).feasible and result.stats["iterations"] == 5


def test_context_options_are_checked():
    with pytest.raises(UsageError, match="contextual policy"):
        Settings.from_options({"context": lambda p: np.ones(3)})
    with pytest.raises(UsageError, match="forge"):
        Settings.from_options({"policy": "linucb", "context": "forge"})  # not via solve()
    with pytest.raises(UsageError, match="lns context must be 'forge'"):
        hybridsolve.solve(datasets.set_cover(np.random.default_rng(0), rows=5, cols=10), "lns",
                          time_limit=1, options={"policy": "linucb", "context": "gnn"})  # fmt: skip


def test_native_parameters_go_to_the_backend_they_belong_to():
    settings = Settings.from_options({"limits/nodes": 5, "mip_max_nodes": 7})
    assert settings.native_for("scip") == {"limits/nodes": 5}
    assert settings.native_for("highs") == {"mip_max_nodes": 7}
    single = Settings.from_options({"backend": "highs", "mip_max_nodes": 7})
    assert single.native_for("highs") == {"mip_max_nodes": 7}


def test_arms_pair_operators_with_both_sub_mip_solvers(wide):
    options = {"tree": False, "iterations": 16, "initial_share": 0.001, "operators": "mutation",
               "rates": "all"}  # fmt: skip
    result = hybridsolve.solve(wide, "lns", time_limit=30, seed=4, options=options)
    assert result.stats["initial"]["status"] == "limit" and result.stats["iterations"] == 16
    pulled = {name for name, arm in result.stats["operators"].items() if arm["pulls"]}
    assert pulled <= {f"mutation-{r}@{b}" for r in (0.2, 0.5) for b in ("scip", "highs")}
    assert {name.split("@")[1] for name in pulled} == {"scip", "highs"}


def test_both_trees_run_and_the_run_reports_their_best_bound(cover):
    optimum = hybridsolve.solve(cover, "scip", time_limit=120)
    assert optimum.status is Status.OPTIMAL
    result = hybridsolve.solve(cover, "lns", time_limit=8, options={"initial_share": 0.2})
    trees = result.stats["trees"]
    assert set(trees) == {"scip", "highs"} and all(t["nodes"] >= 0 for t in trees.values())
    assert result.stats["initial"]["trees"].keys() == {"scip", "highs"}  # each had a turn
    bounds = [t["dual_bound"] for t in trees.values() if t["dual_bound"] is not None]
    assert bounds and result.dual_bound == pytest.approx(max(bounds))
    assert result.dual_bound <= optimum.objective + 1e-6 <= result.objective + 2e-6
    if result.status is Status.OPTIMAL:
        assert result.objective == pytest.approx(optimum.objective)


@pytest.mark.parametrize("backend", ["scip", "highs"])
def test_a_proof_by_either_tree_ends_the_run_optimal(backend):
    p = datasets.set_cover(np.random.default_rng(1), rows=120, cols=300, density=0.05)
    exact = hybridsolve.solve(p, "scip")
    options = {"backend": backend, "initial_share": 0.01, "operators": "mutation"}
    result = hybridsolve.solve(p, "lns", time_limit=60, options=options)
    assert result.status is Status.OPTIMAL and result.objective == pytest.approx(exact.objective)
    assert result.dual_bound == pytest.approx(exact.objective)
    assert list(result.stats["trees"]) == [backend]
