"""The calibration script: the level rule, and one real measurement end to end."""

from __future__ import annotations

import json

import pytest

from hybridsolve.benchmarks.calibrate import Measurement, level_of, main


def runs(*pairs: tuple[float, str]) -> list[Measurement]:
    return [Measurement("x-easy", i, 1, 1, s, status, None) for i, (s, status) in enumerate(pairs)]


@pytest.mark.parametrize(
    ("pairs", "level"),
    [
        ([(1, "optimal")] * 5, "easy"),
        ([(1, "optimal")] * 4 + [(100, "feasible")], "easy"),  # one heavy tail allowed
        ([(1, "optimal")] * 3 + [(100, "feasible")] * 2, "medium"),
        ([(12, "optimal")] * 5, "medium"),
        ([(99, "optimal")] * 3 + [(100, "feasible")] * 2, "medium"),
        ([(50, "optimal")] * 2 + [(100, "feasible")] * 3, "hard"),
        ([(100, "no_solution")] * 3, "hard"),
    ],
)
def test_level_rule(pairs, level):
    assert level_of(runs(*pairs), 100.0) == level


def test_a_real_measurement_prints_and_stores_the_runs(tmp_path, capsys):
    out = tmp_path / "cal.json"
    status = main(["tardiness-easy", "--n", "2", "--time-limit", "60", "--json", str(out)])
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].split()[:2] == ["distribution", "vars"]
    assert printed[1].startswith("tardiness-easy") and printed[1].endswith("easy ok")
    assert status == 0
    stored = json.loads(out.read_text())
    assert [r["index"] for r in stored] == [0, 1]
    assert all(r["status"] == "optimal" and r["seconds"] < 60 for r in stored)


def test_unknown_distribution_is_refused():
    from hybridsolve.mip import UsageError

    with pytest.raises(UsageError, match="unknown distribution"):
        main(["nope-easy", "--n", "1"])
