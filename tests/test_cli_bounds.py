"""``hybridsolve tsp`` / ``cvrp``: the proven lower bound and the gap to it, ``--no-bound``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hybridsolve.cli import main

DATA = Path(__file__).parent / "data"


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def summary(out: str) -> dict[str, str]:
    """The last line's ``word value`` pairs (``cost 15  bound 14  gap 6.667%  ...``)."""
    words = out.splitlines()[-1].split()
    return dict(zip(words[::2], words[1::2]))


def test_tsp_prints_cost_bound_and_gap(capsys):
    code, out = run(capsys, "tsp", str(DATA / "euc10.tsp"), "--time-limit", "1")
    assert code == 0
    line = summary(out)
    cost, bound, gap = float(line["cost"]), float(line["bound"]), line["gap"]
    assert 0 < bound <= cost and gap.endswith("%")
    assert float(gap[:-1]) == pytest.approx(100 * (cost - bound) / cost, abs=1e-3)


def test_no_bound_skips_bound_and_gap(capsys):
    code, out = run(capsys, "tsp", str(DATA / "euc10.tsp"), "--time-limit", "1", "--no-bound")
    assert code == 0
    last = out.splitlines()[-1]
    assert last.startswith("cost ") and "bound" not in last and "gap" not in last
    code, out = run(capsys, "tsp", str(DATA / "euc10.tsp"), "--no-bound", "--json")
    assert code == 0
    assert not {"lower_bound", "upper_bound", "gap", "bound_method"} & set(json.loads(out))


def test_json_has_lower_bound_gap_and_best_known_gap(capsys):
    code, out = run(capsys, "tsp", str(DATA / "euc10.tsp"), "--json", "--best-known", "250")
    assert code == 0
    data = json.loads(out)
    assert data["bound_method"] == "held_karp" and "upper_bound" not in data
    assert 0 < data["lower_bound"] <= data["cost"]
    gap = (data["cost"] - data["lower_bound"]) / data["cost"]
    assert data["gap"] == pytest.approx(gap)
    assert data["best_known_gap"] == pytest.approx((data["cost"] - 250) / 250)


@pytest.mark.parametrize(
    ("verb", "name", "method"),
    [("tsp", "tiny.atsp", "assignment_bound:"), ("cvrp", "tiny.vrp", "cvrp_bound:")],
)
def test_atsp_and_cvrp_files_get_their_bounds(capsys, verb, name, method):
    code, out = run(capsys, verb, str(DATA / name), "--json", "--option", "iterations=20")
    assert code == 0
    data = json.loads(out)
    assert data["bound_method"].startswith(method)
    assert data["lower_bound"] <= data["cost"] and data["gap"] >= 0


def test_cities_on_one_point_give_bound_and_gap_zero(capsys, tmp_path):
    lines = ["NAME : point", "TYPE : TSP", "DIMENSION : 5", "EDGE_WEIGHT_TYPE : EUC_2D",
             "NODE_COORD_SECTION", *(f"{i} 4 4" for i in range(1, 6)), "EOF"]  # fmt: skip
    path = tmp_path / "point.tsp"
    path.write_text("\n".join(lines) + "\n")
    code, out = run(capsys, "tsp", str(path), "--json")
    assert code == 0
    data = json.loads(out)
    assert data["cost"] == 0 and data["lower_bound"] == 0 and data["gap"] == 0
    code, out = run(capsys, "tsp", str(path))
    assert code == 0
    line = summary(out)
    assert line["cost"] == "0" and line["bound"] == "0" and line["gap"] == "0.000%"


def test_progress_lines_show_the_gap_closing(capsys, tmp_path):
    from hybridsolve.comb import TSP
    from hybridsolve.datasets import write_tsplib

    xy = np.round(np.random.default_rng(8).random((400, 2)) * 10**6)
    path = tmp_path / "u400.tsp"
    write_tsplib(TSP(coords=xy, rounding="nint"), path)
    code, out = run(capsys, "tsp", str(path), "--time-limit", "1")
    assert code == 0
    lines = out.splitlines()
    head = next(i for i, line in enumerate(lines) if line.split()[:2] == ["time", "cost"])
    assert lines[head].split() == ["time", "cost", "bound", "gap"]
    rows = [line.split() for line in lines[head + 1 : -1]]
    shown = [(float(r[1]), float(r[2]), float(r[3][:-1])) for r in rows if r[2] != "-"]
    assert shown, "no progress line has a bound"
    for cost, bound, gap in shown:
        assert gap == pytest.approx(100 * (cost - bound) / cost, abs=1e-3)
    bounds = [bound for _, bound, _ in shown]
    assert bounds == sorted(bounds)
    line = summary(out)
    assert float(line["bound"]) == pytest.approx(bounds[-1], rel=1e-9)


def test_no_bound_progress_has_no_bound_columns(capsys):
    code, out = run(capsys, "tsp", str(DATA / "euc10.tsp"), "--time-limit", "1", "--no-bound")
    assert code == 0
    assert any(line.split() == ["time", "cost"] for line in out.splitlines())
