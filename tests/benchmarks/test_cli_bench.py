"""``hybridsolve bench`` and ``hybridsolve report`` as subprocesses: end to end and errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hybridsolve.benchmarks.store import Store


def cli(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "hybridsolve", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_generate_bench_report_end_to_end(tmp_path):
    data, db, rep = tmp_path / "ip", tmp_path / "r.sqlite", tmp_path / "rep"
    assert cli("generate", "itemplacement-easy", "--n", "2", "--out", data).returncode == 0
    bench = cli("bench", "--instances", data, "--solvers", "scip,highs", "--seeds", "0,1",
                "--time-limit", "20", "--db", db, "--jobs", "2")  # fmt: skip
    assert bench.returncode == 0, bench.stderr
    assert bench.stdout.strip() == f"8 runs stored in {db} (0 were stored before)"
    assert "8/8 done, 0 running, 0 left" in bench.stderr.splitlines()[-1]
    with Store(db) as store:
        rows = store.rows()
    assert {r["collection"] for r in rows} == {"itemplacement-easy"}
    assert all(r["status"] == "optimal" and r["certified"] for r in rows)
    report = cli("report", db, "--out", rep, "--baseline", "scip")
    assert report.returncode == 0, report.stderr
    written = [Path(line) for line in report.stdout.splitlines()]
    assert {p.name for p in written} >= {"report.md", "report.html", "profile.png", "scatter.png"}
    assert all(p.stat().st_size > 0 for p in written)
    text = (rep / "report.md").read_text()
    assert "| scip (baseline) | 4 | 4 | 4 | 0 |" in text


def one_line_error(proc: subprocess.CompletedProcess, code: int, text: str) -> None:
    assert proc.returncode == code, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert text in proc.stderr


def test_bench_and_report_errors(tmp_path):
    db = tmp_path / "r.sqlite"
    base = ["bench", "--db", db, "--time-limit", "5"]
    one_line_error(cli(*base, "--instances", "setcover-eazy"), 2, "did you mean setcover-easy")
    one_line_error(cli(*base, "--instances", tmp_path / "nope"), 3, "no such file or directory")
    one_line_error(
        cli(*base, "--instances", "setcover-easy", "--seeds", "a,b"), 2, "--seeds takes integers"
    )
    one_line_error(
        cli(*base, "--instances", "setcover-easy", "--solvers", "cplex"), 2, "unknown solver"
    )
    one_line_error(cli("bench", "--instances", "setcover-easy"), 2, "--db")
    one_line_error(cli("report", tmp_path / "missing.sqlite", "--out", tmp_path), 3, "no such")
    Store(tmp_path / "empty.sqlite").close()
    one_line_error(cli("report", tmp_path / "empty.sqlite", "--out", tmp_path), 2, "no runs")
