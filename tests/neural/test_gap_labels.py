"""neural.gap_labels: integrality-gap labels from real LP and SCIP solves, cached."""

from __future__ import annotations

import json

import pytest

from hybridsolve.datasets import registry
from hybridsolve.mip import solve
from hybridsolve.neural.gap_labels import collect, label, relative_gap


def test_relative_gap_is_measured_against_the_mip_and_clipped():
    assert relative_gap(90.0, 100.0) == pytest.approx(0.1)
    assert relative_gap(-110.0, -100.0) == pytest.approx(0.1)
    assert relative_gap(5.0, 0.0) == 1.0
    assert relative_gap(3.0, 3.0) == 0.0


def test_label_of_an_easy_instance_is_proven_and_matches_the_solvers():
    found = label("gisp-easy", "train", 0, time_limit=60.0)
    problem = registry.get("gisp-easy").instance("train", 0)
    assert found.proven
    assert found.mip_objective == pytest.approx(solve(problem, "highs").objective, rel=1e-9)
    relaxation = solve(problem.__class__.from_arrays(
        problem.c, problem.A, problem.row_lower, problem.row_upper, problem.col_lower,
        problem.col_upper, None, sense=problem.sense, offset=problem.offset,
    ), "highs")  # fmt: skip
    assert found.lp_objective == pytest.approx(relaxation.objective, rel=1e-9)
    assert found.gap == pytest.approx(relative_gap(found.lp_objective, found.mip_objective))
    assert 0.0 < found.gap <= 1.0
    # the LP bound lies on the far side of the optimum
    side = 1.0 if problem.maximize else -1.0
    assert side * (found.lp_objective - found.mip_objective) >= -1e-6


def test_collect_caches_one_file_per_instance_and_reuses_it(tmp_path):
    first = collect(["gisp-easy"], "test", 2, cache=tmp_path, time_limit=30.0, jobs=2)
    files = sorted(path.name for path in tmp_path.iterdir())
    assert files == ["gisp-easy-test-0000.json", "gisp-easy-test-0001.json"]
    assert [item.index for item in first] == [0, 1] and all(i.gap is not None for i in first)
    # a cached label is read back, not recomputed: edit it and see the edit come back
    path = tmp_path / files[0]
    data = json.loads(path.read_text()) | {"gap": 0.123}
    path.write_text(json.dumps(data))
    (tmp_path / files[1]).write_text("{not json")  # damaged: labelled again
    again = collect(["gisp-easy"], "test", 2, cache=tmp_path, time_limit=30.0)
    assert again[0].gap == 0.123 and again[1] == first[1]
