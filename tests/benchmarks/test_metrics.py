"""Benchmark measures: primal gap and integral (Berthold 2013), sgm, best known, summary."""

from __future__ import annotations

import math

import numpy as np
import pytest

from hybridsolve.benchmarks.metrics import (
    best_known,
    effective_trajectory,
    primal_gap,
    primal_gap_curve,
    primal_integral,
    run_metrics,
    shifted_geometric_mean,
    summary,
    time_to_best,
)
from hybridsolve.mip import InputError, UsageError


def run(
    instance: str = "a",
    solver: str = "s",
    seed: int = 0,
    *,
    status: str = "optimal",
    objective: float | None = 100.0,
    trajectory: list | None = None,
    certified: bool | None = True,
    reference: float | None = None,
    sense: str = "minimize",
    runtime: float = 1.0,
    collection: str = "c",
    time_limit: float = 10.0,
) -> dict:
    return {
        "collection": collection,
        "instance": instance,
        "solver": solver,
        "seed": seed,
        "time_limit": time_limit,
        "status": status,
        "objective": objective,
        "dual_bound": None,
        "sense": sense,
        "runtime": runtime,
        "nodes": 1,
        "certified": certified,
        "trajectory": [] if trajectory is None else trajectory,
        "reference": reference,
        "message": "",
    }


# ----------------------------------------------------------------------------- primal gap


@pytest.mark.parametrize(
    ("value", "best", "gap"),
    [
        (100.0, 100.0, 0.0),
        (110.0, 100.0, 10.0 / 110.0),
        (90.0, 100.0, 10.0 / 100.0),  # a value better than best: symmetric formula
        (-90.0, -100.0, 10.0 / 100.0),  # maximise-like negative values
        (50.0, 40.0, 10.0 / 50.0),  # maximize: 40 found, 50 best is the same formula
        (0.0, 0.0, 0.0),
        (1e-12, 0.0, 0.0),  # within tol * max(1, |best|)
        (0.0, 5.0, 1.0),  # zero against non-zero: |5| / 5
        (-1.0, 2.0, 1.0),  # sign change
        (3.0, -3.0, 1.0),
        (None, 100.0, 1.0),
        (100.0, None, 1.0),
        (None, None, 1.0),
        (1e9 + 0.5, 1e9, 0.0),  # relative tolerance on large values
    ],
)
def test_primal_gap_by_hand(value, best, gap):
    assert primal_gap(value, best) == pytest.approx(gap, abs=1e-15)


def test_primal_gap_in_unit_interval():
    rng = np.random.default_rng(0)
    for value, best in rng.normal(scale=100, size=(200, 2)):
        assert 0.0 <= primal_gap(value, best) <= 1.0


@pytest.mark.parametrize("bad", [math.inf, "x", [1.0]])
def test_primal_gap_rejects_bad_values(bad):
    with pytest.raises(UsageError, match="value"):
        primal_gap(bad, 1.0)


# ----------------------------------------------------------------------------- integral


def test_primal_integral_by_hand():
    # limit 10 s; first incumbent at 2 s with gap 0.5 (200 vs 100), optimum at 6 s
    trajectory = [[0.5, None, 10.0], [2.0, 200.0, 50.0], [6.0, 100.0, 100.0]]
    assert primal_integral(trajectory, 100.0, 10.0, "minimize") == pytest.approx(4.0)


def test_primal_integral_without_incumbent_is_the_limit():
    assert primal_integral([], 100.0, 10.0, "minimize") == 10.0
    assert primal_integral([[1.0, None, 3.0]], 100.0, 7.5, "minimize") == 7.5
    assert primal_integral([[1.0, 100.0, 3.0]], None, 7.5, "minimize") == 7.5


def test_primal_integral_ignores_points_after_the_limit():
    trajectory = [[2.0, 200.0, None], [12.0, 100.0, None]]
    assert primal_integral(trajectory, 100.0, 10.0, "minimize") == pytest.approx(2 + 8 * 0.5)


def test_primal_integral_worse_later_value_does_not_raise_the_gap():
    trajectory = [[1.0, 100.0, None], [3.0, 400.0, None]]
    assert primal_integral(trajectory, 100.0, 10.0, "minimize") == pytest.approx(1.0)


def test_primal_integral_maximize():
    # best 50: 40 at 2 s (gap 10/50 = 0.2), 25 at 4 s is worse and ignored, 50 at 5 s
    trajectory = [[2.0, 40.0, 60.0], [4.0, 25.0, 60.0], [5.0, 50.0, 50.0]]
    assert primal_integral(trajectory, 50.0, 10.0, "maximize") == pytest.approx(2 + 3 * 0.2)
    # the same values read as minimisation: 25 at 4 s is an improvement (gap 0.5) and the
    # later 50 is worse, so the gap stays 0.5
    assert primal_integral(trajectory, 50.0, 10.0, "minimize") == pytest.approx(
        2 + 2 * 0.2 + 6 * 0.5
    )


def test_primal_integral_incumbent_at_time_zero():
    assert primal_integral([[0.0, 100.0, None]], 100.0, 10.0, "minimize") == 0.0


def test_gap_curve_matches_integral():
    trajectory = [[2.0, 200.0, 50.0], [6.0, 100.0, 100.0]]
    times = np.array([0.0, 1.999, 2.0, 5.0, 6.0, 9.0, 20.0, -1.0])
    curve = primal_gap_curve(trajectory, 100.0, 10.0, "minimize", times)
    assert curve.tolist() == [1.0, 1.0, 0.5, 0.5, 0.0, 0.0, 0.0, 1.0]
    grid = np.linspace(0.0, 10.0, 100001)
    values = primal_gap_curve(trajectory, 100.0, 10.0, "minimize", grid)
    assert np.mean(values) * 10.0 == pytest.approx(4.0, abs=1e-3)


@pytest.mark.parametrize(
    ("trajectory", "limit", "sense", "message"),
    [
        ([[2.0, 1.0, None], [1.0, 1.0, None]], 10.0, "minimize", "back in time"),
        ([[-1.0, 1.0, None]], 10.0, "minimize", "bad time"),
        ([[1.0]], 10.0, "minimize", "time, primal, dual"),
        ([], 0.0, "minimize", "time limit"),
        ([], math.inf, "minimize", "time limit"),
        ([], 10.0, "min", "sense"),
    ],
)
def test_primal_integral_rejects_bad_input(trajectory, limit, sense, message):
    with pytest.raises(UsageError, match=message):
        primal_integral(trajectory, 1.0, limit, sense)


# ----------------------------------------------------------------------------- time to best


def test_time_to_best():
    trajectory = [[0.5, None, 1.0], [1.0, 120.0, 90.0], [3.0, 100.0, 95.0], [7.0, 100.0, 100.0]]
    assert time_to_best(trajectory, 100.0, "minimize") == 3.0
    assert time_to_best(trajectory, 120.0, "minimize") == 1.0
    assert time_to_best(trajectory, 50.0, "minimize") is None
    assert time_to_best(trajectory, None, "minimize") is None
    assert time_to_best([[1.0, 40.0, None], [2.0, 50.0, None]], 50.0, "maximize") == 2.0


# ----------------------------------------------------------------------------- sgm


def test_shifted_geometric_mean_by_hand():
    # (1 + 1) * (7 + 1) = 16, sqrt = 4, minus 1
    assert shifted_geometric_mean([1.0, 7.0], 1.0) == pytest.approx(3.0)
    # (0 + 10) (90 + 10) = 1000^(1/2)... three values: 10 * 100 * 1000 -> 100, minus 10
    assert shifted_geometric_mean([0.0, 90.0, 990.0], 10.0) == pytest.approx(90.0)
    assert shifted_geometric_mean([2.0, 8.0], 0.0) == pytest.approx(4.0)
    assert shifted_geometric_mean([0.0, 8.0], 0.0) == 0.0
    assert shifted_geometric_mean([5.0], 1.0) == pytest.approx(5.0)


@pytest.mark.parametrize(
    ("values", "shift", "message"),
    [
        ([], 1.0, "no values"),
        ([1.0, -0.5], 1.0, "non-negative"),
        ([1.0, math.nan], 1.0, "non-negative"),
        ([1.0], -1.0, "shift"),
    ],
)
def test_shifted_geometric_mean_rejects_bad_input(values, shift, message):
    with pytest.raises(UsageError, match=message):
        shifted_geometric_mean(values, shift)


# ----------------------------------------------------------------------------- best known


def test_best_known_minimize_reference_and_runs():
    rows = [
        run("a", "x", objective=105.0, reference=100.0),
        run("a", "y", objective=102.0, reference=100.0),
        run("b", "x", objective=95.0, reference=100.0),  # a run beats the reference
        run("b", "y", objective=90.0, certified=False, reference=100.0),  # ignored
        run("c", "x", objective=80.0, status="timeout", certified=None),  # ignored
        run("c", "y", objective=85.0, status="feasible"),
        run("d", "x", status="infeasible", objective=None, certified=None),
        run("d", "y", status="infeasible", objective=None, certified=None),
    ]
    assert best_known(rows) == {
        ("c", "a"): 100.0,
        ("c", "b"): 95.0,
        ("c", "c"): 85.0,
        ("c", "d"): None,
    }


def test_best_known_maximize():
    rows = [
        run("a", "x", objective=40.0, reference=50.0, sense="maximize"),
        run("b", "x", objective=60.0, reference=50.0, sense="maximize"),
        run("b", "y", objective=70.0, certified=False, reference=50.0, sense="maximize"),
    ]
    assert best_known(rows) == {("c", "a"): 50.0, ("c", "b"): 60.0}


def test_best_known_keys_include_the_collection():
    rows = [run("a", objective=1.0, collection="p"), run("a", objective=2.0, collection="q")]
    assert best_known(rows) == {("p", "a"): 1.0, ("q", "a"): 2.0}


def test_best_known_rejects_mixed_senses_and_bad_rows():
    with pytest.raises(InputError, match="both senses"):
        best_known([run("a"), run("a", sense="maximize")])
    # a run that failed before reading the model carries the default sense: not a conflict
    failed = run("a", "p", status="error", objective=None, certified=None)
    assert best_known([run("a", sense="maximize"), failed]) == {("c", "a"): 100.0}
    bad = run()
    del bad["status"]
    with pytest.raises(InputError, match="lacks key.*status"):
        best_known([bad])
    with pytest.raises(InputError, match="unknown status 'done'"):
        best_known([run(status="done")])
    with pytest.raises(InputError, match="back in time"):
        best_known([run(trajectory=[[2.0, 1.0, None], [1.0, 1.0, None]])])


# ----------------------------------------------------------------------------- run metrics


def test_run_metrics_rules():
    rows = [
        run("a", "x", objective=100.0, runtime=3.0, trajectory=[[1.0, 120.0, 90.0]]),
        run("a", "y", objective=90.0, certified=False, trajectory=[[0.1, 90.0, None]]),
        run("a", "z", status="timeout", objective=None, certified=None, runtime=10.5),
        run("a", "w", status="feasible", objective=110.0, runtime=10.0, trajectory=[]),
    ]
    x, y, z, w = run_metrics(rows)
    assert x["best_known"] == 100.0 and y["best_known"] == 100.0
    # incumbent 120 at 1 s, the final 100 appended at the run time 3 s
    assert x["primal_gap"] == 0.0
    assert x["primal_integral"] == pytest.approx(1.0 + 2.0 * 20.0 / 120.0)
    assert x["time_to_best"] == 3.0
    assert x["solved"] and x["has_solution"]
    # an uncertified solution is no solution, whatever its value
    assert y["primal_gap"] == 1.0 and y["primal_integral"] == 10.0
    assert not y["solved"] and not y["has_solution"] and y["time_to_best"] is None
    assert z["primal_gap"] == 1.0 and z["primal_integral"] == 10.0 and not z["solved"]
    # no trajectory: the solution counts from the end of the run on
    assert w["primal_gap"] == pytest.approx(10.0 / 110.0)
    assert w["primal_integral"] == pytest.approx(10.0)
    assert w["time_to_best"] == 10.0 and not w["solved"] and w["has_solution"]
    assert effective_trajectory(rows[1]) == []


def test_run_metrics_certified_error_status_is_no_solution():
    (m,) = run_metrics([run(status="error", objective=5.0, certified=True, trajectory=[])])
    assert m["primal_gap"] == 1.0 and not m["has_solution"] and m["best_known"] is None


# ----------------------------------------------------------------------------- summary


def table() -> list[dict]:
    """Solvers base, good and bad on instances a, b and seeds 0, 1 (minimise, optimum 10)."""
    rows = []
    for instance in ("a", "b"):
        for seed in (0, 1):
            # base: optimum at 2 s (integral 2), except (b, 1): 20 (gap 0.5) at 2 s
            value = 20.0 if (instance, seed) == ("b", 1) else 10.0
            status = "feasible" if value > 10 else "optimal"
            rows.append(
                run(instance, "base", seed, status=status, objective=value, runtime=2.0,
                    trajectory=[[2.0, value, 0.0]], reference=10.0)
            )  # fmt: skip
            # good: optimum at 1 s everywhere
            rows.append(
                run(instance, "good", seed, objective=10.0, runtime=1.0,
                    trajectory=[[1.0, 10.0, 10.0]], reference=10.0)
            )  # fmt: skip
    # bad: 20 on (a, 0); optimum on (a, 1); timeout on (b, 0); uncertified on (b, 1)
    rows.append(run("a", "bad", 0, status="feasible", objective=20.0, runtime=10.0,
                    trajectory=[[5.0, 20.0, None]], reference=10.0))  # fmt: skip
    rows.append(run("a", "bad", 1, objective=10.0, runtime=4.0, trajectory=[[4.0, 10.0, None]],
                    reference=10.0))  # fmt: skip
    rows.append(run("b", "bad", 0, status="timeout", objective=None, certified=None,
                    runtime=10.2, reference=10.0))  # fmt: skip
    rows.append(run("b", "bad", 1, status="optimal", objective=10.0, certified=False,
                    runtime=3.0, trajectory=[[3.0, 10.0, 10.0]], reference=10.0))  # fmt: skip
    return rows


def test_summary_counts_and_win_tie_loss():
    lines = {s["solver"]: s for s in summary(run_metrics(table()))}
    base, good, bad = lines["base"], lines["good"], lines["bad"]
    assert base["baseline"] == "bad"  # alphabetically first by default
    lines = {s["solver"]: s for s in summary(run_metrics(table()), baseline="base")}
    base, good, bad = lines["base"], lines["good"], lines["bad"]
    assert [base["runs"], base["solved"], base["with_solution"], base["errors"]] == [4, 3, 4, 0]
    assert [good["runs"], good["solved"], good["with_solution"], good["errors"]] == [4, 4, 4, 0]
    assert [bad["runs"], bad["solved"], bad["with_solution"], bad["errors"]] == [4, 1, 2, 1]
    assert (base["wins"], base["ties"], base["losses"]) == (0, 0, 0)
    # good vs base: ties on 3 runs, wins on (b, 1) where base has gap 0.5
    assert (good["wins"], good["ties"], good["losses"]) == (1, 3, 0)
    # bad gaps: 0.5, 0, 1, 1 against base 0, 0, 0, 0.5
    assert (bad["wins"], bad["ties"], bad["losses"]) == (0, 1, 3)
    assert bad["mean_primal_gap"] == pytest.approx((0.5 + 0 + 1 + 1) / 4)
    # integrals: base 2, 2, 2, 2 + 8 * 0.5 = 6; good 1 each
    assert base["mean_primal_integral"] == pytest.approx(3.0)
    assert good["sgm_primal_integral"] == pytest.approx(1.0)
    assert base["sgm_primal_integral"] == pytest.approx((3 * 3 * 3 * 7) ** 0.25 - 1)
    assert good["integral_ratio"] == pytest.approx(1.0 / ((3 * 3 * 3 * 7) ** 0.25 - 1))
    assert base["integral_ratio"] == 1.0
    # times: base solved 2, 2, 2 and unsolved counts as the limit 10
    assert base["sgm_runtime"] == pytest.approx((3 * 3 * 3 * 11) ** 0.25 - 1)


def test_summary_ratio_uses_shared_runs_and_collections_apart():
    rows = table()
    rows = [r for r in rows if not (r["solver"] == "good" and r["instance"] == "b")]
    rows.append(run("a", "base", 0, objective=10.0, collection="other"))
    lines = {(s["collection"], s["solver"]): s for s in summary(run_metrics(rows), baseline="base")}
    good = lines[("c", "good")]
    assert good["runs"] == 2 and (good["wins"], good["ties"], good["losses"]) == (0, 2, 0)
    assert good["integral_ratio"] == pytest.approx(1.0 / 2.0)  # base's a runs: 2 and 2
    assert ("other", "good") not in lines
    assert lines[("other", "base")]["runs"] == 1


def test_summary_rejects_bad_input():
    with pytest.raises(UsageError, match="no runs"):
        summary([])
    with pytest.raises(UsageError, match="baseline solver 'nope'"):
        summary(run_metrics(table()), baseline="nope")
