"""The virtual solver best(scip,highs) and the lns-miplib suite of named MIPLIB models.

Every run below has time limit 10 s and reference 100 (minimise) and finds one incumbent:
``opt(t)`` the optimum 100 at ``t`` s (primal integral ``t``, final gap 0), ``sub(t)`` the
value 110 at ``t`` s (integral ``t + (10 - t) / 11``, final gap 1/11).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from hybridsolve.benchmarks.metrics import (
    best_of,
    best_of_name,
    run_metrics,
    summary_against_best_of,
)
from hybridsolve.benchmarks.report import write_report
from hybridsolve.benchmarks.store import Store
from hybridsolve.benchmarks.suite import SUITES, best_of_table, main
from hybridsolve.mip import Problem, UsageError, write

LIMIT = 10.0
MEMBERS = ("scip", "highs")
#: (collection, instance, solver, seed, value, time): c1 has scip and highs once, the lns on
#: seeds 0 and 1; in c2 scip also ran seed 1, e is a tie of scip and highs, and f has no
#: scip or highs run.
RUNS = [
    ("c1", "a", "scip", 0, 100.0, 2.0),
    ("c1", "a", "highs", 0, 100.0, 4.0),
    ("c1", "a", "lns", 0, 100.0, 1.0),
    ("c1", "a", "lns", 1, 100.0, 4.0),
    ("c1", "b", "scip", 0, 100.0, 6.0),
    ("c1", "b", "highs", 0, 100.0, 3.0),
    ("c1", "b", "lns", 0, 100.0, 3.0),
    ("c1", "b", "lns", 1, 110.0, 1.0),
    ("c2", "d", "scip", 0, 110.0, 0.5),
    ("c2", "d", "scip", 1, 100.0, 8.0),
    ("c2", "d", "highs", 0, 100.0, 5.0),
    ("c2", "d", "lns", 0, 100.0, 3.0),
    ("c2", "d", "lns", 1, 100.0, 2.0),
    ("c2", "e", "scip", 0, 100.0, 2.0),
    ("c2", "e", "highs", 0, 100.0, 2.0),
    ("c2", "e", "lns", 0, 100.0, 2.0),
    ("c2", "f", "lns", 0, 100.0, 1.0),
]
SUB = 0.5 + 9.5 / 11  # integral of sub(0.5)


def sgm(values: list[float]) -> float:
    """Shifted geometric mean with shift 1, written out."""
    return math.prod(v + 1 for v in values) ** (1 / len(values)) - 1


def ratio(ours: list[float], theirs: list[float]) -> float:
    return sgm(ours) / sgm(theirs)


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    """The runs of :data:`RUNS`, through the result store."""
    db = tmp_path_factory.mktemp("best") / "r.sqlite"
    with Store(db) as store:
        for collection, instance, solver, seed, value, time in RUNS:
            store.add({
                "collection": collection, "instance": instance, "solver": solver,
                "seed": seed, "time_limit": LIMIT, "status": "feasible", "objective": value,
                "dual_bound": None, "sense": "minimize", "runtime": LIMIT, "nodes": 1,
                "certified": True, "trajectory": [[time, value, None]], "reference": 100.0,
                "message": "", "stats": {}, "host": "test", "finished_at": "now",
            })  # fmt: skip
    with Store(db) as store:
        return store.rows()


def test_best_of_takes_the_smaller_integral_of_the_same_seed_else_seed_0(rows):
    virtual = best_of(run_metrics(rows), MEMBERS)
    got = {(m["collection"], m["instance"], m["seed"]): m for m in virtual}
    expected = {  # key: (member, its seed, integral)
        ("c1", "a", 0): ("scip", 2.0), ("c1", "a", 1): ("scip", 2.0),
        ("c1", "b", 0): ("highs", 3.0), ("c1", "b", 1): ("highs", 3.0),
        ("c2", "d", 0): ("scip", SUB),  # found first, though not the optimum
        ("c2", "d", 1): ("highs", 5.0),  # scip's own seed 1 (8 s) against highs's seed 0
        ("c2", "e", 0): ("scip", 2.0),  # a tie: the member named first
    }  # fmt: skip
    assert got.keys() == expected.keys()  # f: no scip or highs run, no virtual run
    for key, (member, integral) in expected.items():
        assert got[key]["solver"] == "best(scip,highs)" == best_of_name(MEMBERS)
        assert got[key]["member"] == member
        assert got[key]["primal_integral"] == pytest.approx(integral, rel=1e-12)
    assert best_of(run_metrics(rows), ("highs", "scip"))[-1]["member"] == "highs"


def test_ratios_and_wins_against_the_best_of_by_collection_and_overall(rows):
    lines = summary_against_best_of(run_metrics(rows), MEMBERS)
    got = {(s["collection"], s["solver"]): s for s in lines}
    expected = {  # (solver integrals, best-of integrals on the same runs, W/T/L)
        ("c1", "highs"): ([4, 3], [2, 3], (0, 2, 0)),
        ("c1", "lns"): ([1, 4, 3, 1 + 9 / 11], [2, 2, 3, 3], (0, 3, 1)),
        ("c1", "scip"): ([2, 6], [2, 3], (0, 2, 0)),
        # d, seed 0: the best of is scip's sub(0.5); an optimum at the end beats its final gap
        ("c2", "highs"): ([5, 2], [SUB, 2], (1, 1, 0)),
        ("c2", "lns"): ([3, 2, 2], [SUB, 5, 2], (1, 2, 0)),
        ("c2", "scip"): ([SUB, 8, 2], [SUB, 5, 2], (0, 3, 0)),
        ("overall", "highs"): ([4, 3, 5, 2], [2, 3, SUB, 2], (1, 3, 0)),
        ("overall", "lns"): ([1, 4, 3, 1 + 9 / 11, 3, 2, 2], [2, 2, 3, 3, SUB, 5, 2], (1, 5, 1)),
        ("overall", "scip"): ([2, 6, SUB, 8, 2], [2, 3, SUB, 5, 2], (0, 5, 0)),
    }
    assert list(got) == list(expected)  # by collection and solver, overall last
    for key, (ours, theirs, wtl) in expected.items():
        assert got[key]["baseline"] == "best(scip,highs)"
        assert got[key]["integral_ratio"] == pytest.approx(ratio(ours, theirs), rel=1e-12)
        assert (got[key]["wins"], got[key]["ties"], got[key]["losses"]) == wtl
    assert got[("c2", "lns")]["runs"] == 4  # f counts as a run, but shares nothing

    table = best_of_table(run_metrics(rows), MEMBERS).splitlines()
    assert table[0].split() == ["distribution", "solver", "PI", "ratio", "W/T/L"]
    assert table[-2].split() == ["overall", "lns", f"{ratio(*expected['overall', 'lns'][:2]):.3f}",
                                 "1/5/1"]  # fmt: skip


def test_best_of_needs_two_members_that_ran(rows):
    metrics = run_metrics(rows)
    for members, message in ((("scip",), "two or more"), (("scip", "scip"), "two or more"),
                             (("scip", "gurobi"), "no runs of gurobi")):  # fmt: skip
        with pytest.raises(UsageError, match=message):
            summary_against_best_of(metrics, members)


def test_the_report_has_the_best_of_section(rows, tmp_path):
    write_report(rows, tmp_path, baseline="scip", best_of=MEMBERS)
    text = (tmp_path / "report.md").read_text()
    section = text[text.index("## Against best(scip,highs)") : text.index("## Per instance")]
    wanted = f"| c2 | highs | 2 | {ratio([5, 2], [SUB, 2]):.2f} | 1/1/0 |"
    assert wanted in section.splitlines()
    assert "best(scip,highs)" in (tmp_path / "report.html").read_text()
    with pytest.raises(UsageError, match="no runs of gurobi"):
        write_report(rows, tmp_path / "other", best_of=("scip", "gurobi"))
    assert not (tmp_path / "other").exists()


# ----------------------------------------------------------------------------- lns-miplib


def knapsack(seed: int) -> Problem:
    rng = np.random.default_rng(seed)
    values, weights = rng.integers(1, 30, 8), rng.integers(1, 20, 8)
    return Problem.from_arrays(
        -values, weights[None, :], -np.inf, int(weights.sum() // 2), 0, 1, True
    )


def test_lns_miplib_runs_the_named_models_it_finds(tmp_path, capsys):
    folder = tmp_path / "miplib"
    folder.mkdir()
    write(knapsack(0), folder / "pk1.mps")
    write(knapsack(1), folder / "noswot.mps.gz")
    write(knapsack(2), folder / "other.mps")  # not one of the suite's models
    db, out = tmp_path / "r.sqlite", tmp_path / "rep"
    args = ["lns-miplib", "--db", str(db), "--out", str(out), "--instances", str(folder),
            "--solvers", "scip,highs", "--seeds", "0", "--time-limit", "5"]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    warning = [line for line in captured.err.splitlines() if "warning" in line]
    assert len(warning) == 1 and warning[0].endswith(
        f": warning: {folder} lacks 4 of the 6 models, left out: 50v-10, b1c1s1, gen-ip054, "
        "neos-5140963-mincio"
    )
    with Store(db) as store:
        stored = store.rows()
    known = dict(SUITES["lns-miplib"].named)
    assert sorted((r["instance"], r["solver"]) for r in stored) == [
        ("noswot", "highs"), ("noswot", "scip"), ("pk1", "highs"), ("pk1", "scip")
    ]  # fmt: skip
    for row in stored:
        assert row["collection"] == "lns-miplib" and row["status"] == "optimal"
        assert row["reference"] == known[row["instance"]]  # -41 and 11, from the suite
    printed = captured.out
    assert "\nagainst scip:" in printed and "\nagainst highs:" in printed
    table = printed[printed.index("against best(scip,highs)") :].splitlines()[2:5]
    assert [line.split()[:2] for line in table] == [
        ["lns-miplib", "highs"], ["lns-miplib", "scip"], ["overall", "highs"]
    ]  # fmt: skip
    assert "## Against best(scip,highs)" in (out / "report.md").read_text()


def test_lns_miplib_without_any_named_model_is_one_line_and_exit_code_2(tmp_path, capsys):
    write(knapsack(0), tmp_path / "other.mps")
    db, out = tmp_path / "r.sqlite", tmp_path / "rep"
    args = ["lns-miplib", "--db", str(db), "--out", str(out), "--instances", str(tmp_path)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    assert err.endswith(
        f"error: {tmp_path}: none of the models 50v-10, b1c1s1, gen-ip054, "
        "neos-5140963-mincio, noswot, pk1 (as NAME.mps, .mps.gz, .lp or .lp.gz)"
    )
    assert not db.exists()


@pytest.mark.parametrize(
    "suite, extra, message",
    [
        ("lns-miplib", [], "suite 'lns-miplib' needs --instances DIR"),
        ("lns", ["--instances", "x"], "--instances is for suites of named models, not 'lns'"),
    ],
)
def test_instances_go_with_named_suites_only(tmp_path, capsys, suite, extra, message):
    with pytest.raises(SystemExit) as exc:
        main([suite, "--db", str(tmp_path / "r.sqlite"), "--out", str(tmp_path), *extra])
    assert exc.value.code == 2 and message in capsys.readouterr().err
