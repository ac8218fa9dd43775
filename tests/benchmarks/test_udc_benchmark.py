"""benchmarks/udc_routing.py: gaps to the strongest peer, targets, a failed row, a tiny run."""

from __future__ import annotations

import json

import pytest

from hybridsolve.benchmarks import udc_routing
from hybridsolve.benchmarks.udc_routing import Outcome, summarise


def _outcome(problem: str, size: int, costs: dict[str, float], **extra) -> Outcome:
    return Outcome(problem, "x", size, 1.0, dict(costs), {k: 2.0 for k in costs}, **extra)


def test_gaps_are_to_the_best_peer_or_the_best_known():
    outcome = _outcome("tsp", 1000, {"udc": 104.0, "comb ils": 100.0, "LKH-3": 98.0})
    assert outcome.reference == 98.0
    assert outcome.gap("udc") == pytest.approx(104 / 98 - 1)
    assert outcome.gap("LKH-3") == 0.0
    known = _outcome("tsp", 1000, {"udc": 104.0, "comb ils": 100.0}, best_known=80.0)
    assert known.gap("comb ils") == pytest.approx(0.25)
    assert _outcome("tsp", 10, {"udc": 1.0}).gap("udc") is None  # no peer ran


def test_the_table_gives_mean_and_largest_gaps_and_the_targets():
    outcomes = [
        _outcome("tsp", 1000, {"udc": 103.0, "comb ils": 100.0}),
        _outcome("tsp", 1000, {"udc": 106.0, "comb ils": 100.0}),
        _outcome("cvrp", 1000, {"udc": 105.0, "comb ils": 95.0, "PyVRP": 100.0}),
    ]
    lines = summarise(outcomes)
    udc_tsp = next(line for line in lines if "| tsp | 1000 |" in line and "| udc |" in line)
    assert "+4.50 (+6.00)" in udc_tsp and "<= 4%: not met" in udc_tsp
    udc_cvrp = next(line for line in lines if "| cvrp |" in line and "| udc |" in line)
    assert "+5.00 (+5.00)" in udc_cvrp and "<= 6%: met" in udc_cvrp  # against PyVRP


def test_a_tiny_run_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "udc.json"
    code = udc_routing.main(["--sizes", "150", "--instances", "1", "--budgets", "1",
                             "--no-learned", "--lkh-max", "0", "--bq-max", "0", "--throughput", "8",
                             "--json", str(out)])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0
    assert "GPU: not measured" in text or "cuda" in text
    rows = json.loads(out.read_text())[0]
    assert set(rows["costs"]) == {"start", "udc", "udc + polish", "comb or_opt", "comb ils"}
    assert rows["costs"]["udc"] <= rows["costs"]["start"] + 1e-9
    assert "| tsp | 150 | 1 | udc |" in text


def test_bad_arguments_are_one_line_errors(capsys):
    assert udc_routing.main(["--sizes", "100,200", "--instances", "1"]) == 2
    assert "one value per size" in capsys.readouterr().err
    assert udc_routing.main(["--budgets", "-1"]) == 2
    assert "positive numbers" in capsys.readouterr().err
