"""The routing benchmark script: peers' answers, gaps and verdicts, the command end to end."""

from __future__ import annotations

import numpy as np
import pytest

from hybridsolve import comb
from hybridsolve.benchmarks import comb_routing
from hybridsolve.benchmarks.comb_routing import Row, lkh_tour, main, pyvrp_routes, summary
from hybridsolve.datasets import routing


def test_gap_ratio_and_verdicts():
    rows = [
        Row("tsp", "a", 1000, 1.0, 100.5, 1.0, 100.0, 4.0),
        Row("tsp", "b", 1000, 1.0, 103.0, 1.0, 100.0, 2.0),
        Row("cvrp", "c", 100, 5.0, 110.0, 5.0, 100.0, 5.0),
        Row("cvrp", "d", 50, 5.0, 7.0, 5.0),
    ]
    assert rows[0].gap == pytest.approx(0.005) and rows[0].ratio == pytest.approx(0.25)
    assert rows[3].gap is None and rows[3].ratio is None
    lines = summary(rows)
    assert lines[0].startswith("cvrp n=50: 1 instances") and "no peer" in lines[0]
    assert "mean gap to PyVRP +10.000 %" in lines[1] and lines[1].endswith("NOT met")
    assert "mean gap to LKH-3 +1.750 % (max +3.000 %)" in lines[2]
    assert "median time ratio 0.375" in lines[2] and lines[2].endswith("<= 2 %: met")


def test_budgets_scale_with_the_nearest_listed_size():
    budget = comb_routing._budgets("200=2", {100: 0.1, 1000: 1.0})
    assert budget(100) == 0.1 and budget(200) == 2.0 and budget(400) == pytest.approx(4.0)
    assert budget(2000) == pytest.approx(2.0)


def test_pyvrp_routes_are_valid_and_optimal_on_a_small_instance():
    pytest.importorskip("pyvrp")
    inst = routing.cvrp(np.random.default_rng(4), 9, capacity=15)
    routes = pyvrp_routes(inst, 0.5, seed=0)
    inst.check_routes(routes)
    ours = comb.solve(inst, "ils", iterations=300, seed=0)  # exact here (tests/comb)
    assert inst.routes_cost(routes) == pytest.approx(ours.cost, rel=1e-9)


def test_lkh_tour_matches_our_optimum_on_nine_cities():
    pytest.importorskip("elkai")
    inst = routing.tsp_uniform(np.random.default_rng(2), 9)
    tour = lkh_tour(inst)
    inst.check_tour(tour)
    ours = comb.solve(inst, "ils", iterations=300, seed=0)
    assert inst.tour_cost(tour) == pytest.approx(ours.cost, rel=1e-9)


def test_command_prints_rows_and_summary(capsys):
    assert main(["cvrp", "--sizes", "20", "--instances", "2", "--budget", "20=0.3"]) == 0
    out = capsys.readouterr().out
    assert out.count("cvrp cvrp-uniform-20") == 2
    assert "cvrp n=20: 2 instances, budget 0.3 s" in out
