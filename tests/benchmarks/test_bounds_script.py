"""benchmarks/bounds.py: gaps and sides, the exact references, a quick run, usage errors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pytest

from hybridsolve import comb
from hybridsolve.benchmarks import bounds
from hybridsolve.benchmarks.bounds import BEST_FOUND, OPTIMUM, Row, summarise, targets
from hybridsolve.datasets import routing

DATA = Path(__file__).parent.parent / "data"


def _row(reference: float, bound: float, *, minimise: bool = True, kind: str = OPTIMUM,
         budget_bound: float | None = None, size: int = 100) -> Row:  # fmt: skip
    return Row("TSP", "uniform", "x", size, minimise, bound, "", 0.1, 1, reference, kind, "ILS",
               1.0, None if budget_bound is None else 0.1, budget_bound)  # fmt: skip


def test_gap_and_side_for_both_senses():
    low = _row(100.0, 99.0, budget_bound=90.0)
    assert low.gap() == pytest.approx(0.01) and low.gap(90.0) == pytest.approx(0.1)
    assert not low.wrong_side() and _row(100.0, 100.5).wrong_side()
    assert _row(100.0, 99.0, budget_bound=101.0).wrong_side()  # the budgeted bound counts
    high = _row(100.0, 102.0, minimise=False)
    assert high.gap() == pytest.approx(0.02) and not high.wrong_side()
    assert _row(100.0, 99.0, minimise=False).wrong_side()
    assert _row(0.0, 0.0).gap() == 0.0 and _row(0.0, -1.0).gap() is None


def test_verdicts_say_whether_the_gap_is_exact_or_an_upper_estimate():
    rows = [_row(100.0, 99.5, budget_bound=99.4), _row(100.0, 98.0, kind=BEST_FOUND, size=200),
            _row(100.0, 98.0, size=500)]  # fmt: skip
    lines = targets(rows)
    assert lines[1].endswith("converged 0.500%: met; within the 0.1 s budget 0.600%: met")
    assert "n=200: converged 2.000% (upper estimate): not shown" in lines[2]
    assert "n=500: converged 2.000%: NOT met" in lines[3]
    assert lines[-1].endswith("0 of 3 rows: met")
    assert "NOT met (TSP x)" in targets([_row(100.0, 101.0)])[-1]
    # Against a tour, the budgeted bound's shortfall from the converged one is a floor.
    slow = targets([_row(100.0, 99.0, kind=BEST_FOUND, budget_bound=94.05)])[1]
    assert slow.endswith("budget 5.950% (at least 5.000%): NOT met")
    close = targets([_row(100.0, 98.5, kind=BEST_FOUND, budget_bound=98.0)])[1]
    assert close.endswith("budget 2.000% (upper estimate): not shown")
    table = summarise(rows)
    assert table[2].startswith("| TSP | uniform | 100 | 1 | optimum | 0.500 | 0.500 | 0.600 |")


def test_budget_is_the_nearest_listed_one_scaled():
    assert bounds.budget({100: 0.1, 1000: 1.0}, 100) == pytest.approx(0.1)
    assert bounds.budget({100: 0.1, 1000: 1.0}, 500) == pytest.approx(0.5)
    assert bounds.budget({100: 5.0, 500: 15.0}, 200) == pytest.approx(10.0)


def test_exact_atsp_matches_enumeration():
    atsp = routing.atsp(np.random.default_rng(3), 7)
    d = atsp.distances
    best = min(
        d[0, p[0]] + sum(d[a, b] for a, b in itertools.pairwise(p)) + d[p[-1], 0]
        for p in itertools.permutations(range(1, 7))
    )
    assert bounds.exact_atsp(atsp) == pytest.approx(best, rel=1e-12)


def test_exact_cvrp_matches_the_ils_on_a_small_instance():
    cvrp = routing.cvrp(np.random.default_rng(4), 8, capacity=15)
    found = comb.solve(cvrp, "ils", iterations=300, seed=0)  # exact at this size (tests/comb)
    assert bounds.exact_cvrp(cvrp) == pytest.approx(found.cost, rel=1e-9)


def test_quick_run_prints_the_tables_and_no_bound_is_on_the_wrong_side(tmp_path, capsys):
    out = tmp_path / "bounds.json"
    code = bounds.main(["--quick", "--tsplib", str(DATA / "euc10.tsp"), "--json", str(out)])
    text = capsys.readouterr().out
    assert code == 0
    for problem in ("TSP", "KP", "MIS", "MWIS", "SMTT", "SMWTT", "CVRP", "ATSP", "MKP", "MULTKP"):
        assert f"\n| {problem} | " in text
    assert "| TSP | euc10 | 10 | 280 | optimum | ILS |" in text  # the bound meets the tour
    assert "| TSP | uniform | 100 | 1 | best found, not optimal |" in text
    assert "bounds on the wrong side: 0 of 13 rows: met" in text
    rows = json.loads(out.read_text())
    assert len(rows) == 13 and all(row["reference"] is not None for row in rows)


def test_lkh_also_looks_for_the_reference_tour(capsys):
    pytest.importorskip("elkai")
    assert bounds.main(["--quick", "--problems", "tsp", "--lkh-max", "100"]) == 0
    text = capsys.readouterr().out
    assert "LKH-3 (elkai, one run) also looks for the tour up to 100 cities." in text
    assert "bounds on the wrong side: 0 of 1 rows: met" in text


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["--sizes", "100,x"], 2, "comma-separated integers"),
        (["--seeds", "-1"], 2, "integers >= 0"),
        (["--sizes", "3"], 2, "integers >= 4"),
        (["--problems", "tsp,vrp"], 2, "expected names from TSP,KP"),
        (["--quick", "--tsplib", str(DATA / "tiny.atsp")], 2, "is an ATSP"),
    ],
)
def test_bad_arguments_are_usage_errors(argv, code, message, capsys):
    assert bounds.main(argv) == code
    assert message in capsys.readouterr().err
