"""The project's benchmark suites: configurations valid, the smoke suite run end to end."""

from __future__ import annotations

from hybridsolve import datasets
from hybridsolve.benchmarks.peers import PEERS
from hybridsolve.benchmarks.suite import SUITES, main
from hybridsolve.solvers import available


def test_suites_name_registered_distributions_and_solvers():
    for suite in SUITES.values():
        assert set(suite.distributions) <= set(datasets.distributions())
        assert bool(suite.distributions) != bool(suite.named)  # distributions or named models
        for solver in suite.solvers:
            base, plus, guidance = solver.partition("+")
            assert base in set(available()) | set(PEERS)
            assert guidance in ("", "hints") or (base, guidance) == ("lns", "warm")
        assert suite.baseline in suite.solvers and set(suite.also) <= set(suite.solvers)
        assert {name for pair in suite.pairs for name in pair} <= set(suite.solvers)
        assert set(suite.best_of) <= set(suite.solvers) and len(suite.best_of) != 1
        assert suite.time_limit > 0 and suite.seeds and suite.n > 0


def test_smoke_suite_runs_reports_and_prints_the_headline(tmp_path, capsys):
    db, out = tmp_path / "r.sqlite", tmp_path / "rep"
    assert main(["smoke", "--db", str(db), "--out", str(out), "--n", "1", "--jobs", "2"]) == 0
    printed = capsys.readouterr().out.splitlines()
    header = next(i for i, line in enumerate(printed) if line.startswith("distribution"))
    table = printed[header + 1 :]
    assert len(table) == 6  # 3 distributions x 2 solvers
    for line in table:
        name, solver, solved, *_ = line.split()
        assert name in SUITES["smoke"].distributions and solver in ("scip", "highs")
        assert solved == "1/1"
    assert (out / "report.md").stat().st_size > 0 and (out / "profile.png").stat().st_size > 0
    assert main(["smoke", "--db", str(db), "--out", str(out), "--n", "1"]) == 0  # all stored
    assert "0/0 done" in capsys.readouterr().err


def test_an_unusable_database_is_one_line_and_exit_code_3(tmp_path, capsys):
    db = tmp_path / "missing-folder" / "r.sqlite"
    assert main(["smoke", "--db", str(db), "--out", str(tmp_path / "rep"), "--n", "1"]) == 3
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.endswith(f"{db}: not a usable results database (unable to open database file)")


def test_suite_overrides_are_checked(tmp_path, capsys):
    args = ["hints", "--db", str(tmp_path / "r.sqlite"), "--out", str(tmp_path / "rep")]
    for extra, message in (
        (["--solvers", "scip,gurobi"], "gurobi not in suite 'hints'"),
        (["--seeds", "0,x"], "--seeds must be comma-separated integers"),
    ):
        try:
            main(args + extra)
        except SystemExit as exc:
            assert exc.code == 2
        else:
            raise AssertionError("a bad override was accepted")
        assert message in capsys.readouterr().err


def test_the_pair_table_compares_each_guided_solver_with_its_plain_one():
    from hybridsolve.benchmarks.metrics import run_metrics
    from hybridsolve.benchmarks.suite import pair_table

    def row(solver, instance, found_at):
        return {
            "collection": "c", "instance": instance, "solver": solver, "seed": 0,
            "time_limit": 10.0, "status": "feasible", "objective": 5.0, "dual_bound": None,
            "sense": "minimize", "runtime": 10.0, "nodes": 1, "certified": True,
            "trajectory": [[found_at, 5.0, None]], "message": "", "reference": None,
        }  # fmt: skip

    rows = [row("scip", "a", 4.0), row("scip+hints", "a", 2.0),
            row("scip", "b", 4.0), row("scip+hints", "b", 2.0)]  # fmt: skip
    lines = pair_table(run_metrics(rows), (("scip", "scip+hints"),)).splitlines()
    assert len(lines) == 2 and lines[1].split()[:4] == ["c", "scip+hints", "/", "scip"]
    assert lines[1].split()[4] == "0.500"  # found at 2 s instead of 4 s: half the integral
    both = pair_table(run_metrics(rows), (("highs", "highs+hints"), ("scip", "scip+hints")))
    assert both.splitlines()[1:] == lines[1:]  # a pair that did not run is left out
