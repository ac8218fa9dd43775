"""The project's benchmark suites: configurations valid, the smoke suite run end to end."""

from __future__ import annotations

from hybridsolve import datasets
from hybridsolve.benchmarks.peers import PEERS
from hybridsolve.benchmarks.suite import SUITES, main
from hybridsolve.solvers import available


def test_suites_name_registered_distributions_and_solvers():
    for suite in SUITES.values():
        assert set(suite.distributions) <= set(datasets.distributions())
        for solver in suite.solvers:
            base, plus, guidance = solver.partition("+")
            assert base in set(available()) | set(PEERS) and guidance in ("", "hints")
        assert suite.baseline in suite.solvers and set(suite.also) <= set(suite.solvers)
        assert {name for pair in suite.pairs for name in pair} <= set(suite.solvers)
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
