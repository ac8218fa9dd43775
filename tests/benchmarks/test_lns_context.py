"""``benchmarks/lns_context.py``: a contextual bandit trained on a mix, against the cold LNS."""

from __future__ import annotations

import json

from hybridsolve.benchmarks import lns_context
from hybridsolve.lns import BanditState


def test_the_experiment_trains_one_state_tests_frozen_copies_and_resumes(tmp_path, capsys):
    args = ["--distributions", "setcover-medium,indset-medium", "--train", "1", "--test", "1",
            "--time-limit", "4", "--context", "features", "--out", str(tmp_path)]  # fmt: skip
    assert lns_context.main(args) == 0
    out = capsys.readouterr().out
    runs = json.loads((tmp_path / "runs.json").read_text())
    assert set(runs) == {f"{kind}/{name}/0" for kind in ("train", "cold", "ctx")
                         for name in ("setcover-medium", "indset-medium")}  # fmt: skip
    assert all(run["objective"] is not None for run in runs.values())
    assert BanditState.load(tmp_path / "state.json").runs == 2  # the test runs did not write it
    rows = [line.split() for line in out.splitlines() if line.startswith(("setcover", "indset"))]
    assert [row[0] for row in rows] == ["setcover-medium", "indset-medium"]
    assert all(float(row[3]) > 0 and row[4].count("/") == 2 for row in rows)
    assert lns_context.main(args) == 0  # every run is stored: nothing runs again
    assert "train/" not in capsys.readouterr().out
