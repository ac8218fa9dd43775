"""``hybridsolve tsp`` and ``hybridsolve cvrp`` on small TSPLIB/CVRPLIB files."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from hybridsolve.cli import main
from hybridsolve.datasets.routing import read_cvrplib, read_tsplib

DATA = Path(__file__).parents[1] / "data"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_tsp_json_gives_cost_runtime_and_a_valid_tour(capsys):
    code, out, _ = run(capsys, "tsp", str(DATA / "euc10.tsp"), "--json", "--best-known", "250")
    assert code == 0
    data = json.loads(out)
    inst = read_tsplib(DATA / "euc10.tsp")
    inst.check_tour(data["tour"])
    assert data["cost"] == inst.tour_cost(data["tour"])
    assert data["runtime"] > 0 and data["method"] == "ils" and data["best_known"] == 250
    assert data["best_known_gap"] == pytest.approx((data["cost"] - 250) / 250)


def test_tsp_progress_lines_and_gap(capsys):
    code, out, _ = run(capsys, "tsp", str(DATA / "tiny.tsp"), "--method", "or_opt",
                       "--best-known", "15", "--seed", "3")  # fmt: skip
    assert code == 0
    # a first run with an empty Numba cache says that it compiled, after the first line
    lines = [line for line in out.splitlines() if not line.startswith("compiling kernels")]
    assert lines[0].startswith(str(DATA / "tiny.tsp"))
    assert lines[1].split() == ["time", "cost", "bound", "gap"]
    assert lines[-1].startswith("cost 15  bound ")
    assert "  best known 15 (gap 0.000%)" in lines[-1]
    assert "method or_opt" in lines[-1]


def test_compiling_is_reported_and_not_counted_in_the_time_limit(capsys, monkeypatch):
    import hybridsolve.comb

    calls = []

    def warm_up(instance, method=None, **options) -> float:
        calls.append((method, options))
        time.sleep(1.0)
        return 1.0

    monkeypatch.setattr(hybridsolve.comb, "warm_up", warm_up)
    argv = ("tsp", str(DATA / "euc10.tsp"), "--time-limit", "0.2", "--option", "k=5")
    code, out, _ = run(capsys, *argv)
    assert code == 0 and calls == [(None, {"bound": True, "k": 5})]
    lines = out.splitlines()
    assert lines[1] == "compiling kernels (first run only): 1.0 s"
    assert lines[2].split() == ["time", "cost", "bound", "gap"]
    assert float(lines[-1].split(" time ")[1].split()[0]) < 1.0  # the search's time only
    for quiet in ("--quiet", "--json"):
        code, out, _ = run(capsys, *argv, quiet)
        assert code == 0 and "compiling" not in out
    assert json.loads(out)["runtime"] < 1.0


def test_atsp_file_and_options(capsys):
    code, out, _ = run(capsys, "tsp", str(DATA / "tiny.atsp"), "--json", "--option",
                       "iterations=10")  # fmt: skip
    assert code == 0
    assert json.loads(out)["cost"] == 9.0


def test_cvrp_reads_best_known_from_sol_file_and_plots(capsys, tmp_path):
    vrp = tmp_path / "x_style.vrp"
    shutil.copy(DATA / "x_style.vrp", vrp)
    inst = read_cvrplib(vrp)
    code, out, _ = run(capsys, "cvrp", str(vrp), "--json", "--option", "iterations=200")
    assert code == 0
    first = json.loads(out)
    inst.check_routes(first["routes"])
    assert first["best_known"] is None
    (tmp_path / "x_style.sol").write_text(f"Route #1: 1 2\nCost {first['cost']:g}\n")
    png = tmp_path / "routes.png"
    code, out, _ = run(capsys, "cvrp", str(vrp), "--plot", str(png), "--option",
                       "iterations=200")  # fmt: skip
    assert code == 0
    assert "(gap 0.000%)" in out and f"plot written to {png}" in out
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["tsp", "missing.tsp"], 3, "no such file"),
        (["cvrp", str(DATA / "tiny.tsp")], 3, "not CVRP"),
        (["tsp", str(DATA / "tiny.tsp"), "--method", "lkh"], 2, "unknown method 'lkh'"),
        (["tsp", str(DATA / "tiny.tsp"), "--time-limit", "-1"], 2, "--time-limit must be"),
        (["tsp", str(DATA / "tiny.tsp"), "--option", "depth=3"], 2, "has no option 'depth'"),
        (["tsp", str(DATA / "tiny.atsp"), "--plot", "x.png"], 2, "--plot needs node"),
        (["cvrp", str(DATA / "tiny.vrp"), "--seed", "x"], 2, "invalid int value"),
    ],
)
def test_errors_are_one_line_with_exit_codes(capsys, argv, code, message):
    if argv[-1] == "x":  # argparse exits through SystemExit
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == code
        assert message in capsys.readouterr().err
        return
    got, _, err = run(capsys, *argv)
    assert got == code
    assert message in err and err.count("\n") == 1
