"""The benchmark report: files, plots and the headline numbers, computed by hand below."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from hybridsolve.benchmarks.report import safe_file_stem, write_report
from hybridsolve.mip import UsageError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
ALPHA, BETA = "alpha", "beta/set cover"


def record(collection, instance, solver, seed, status, objective, trajectory, *, runtime,
           sense, reference, certified=True):  # fmt: skip
    return {
        "collection": collection,
        "instance": instance,
        "solver": solver,
        "seed": seed,
        "time_limit": 10.0,
        "status": status,
        "objective": objective,
        "dual_bound": None,
        "sense": sense,
        "runtime": runtime,
        "nodes": None,
        "certified": None if objective is None else certified,
        "trajectory": trajectory,
        "reference": reference,
        "message": "",
        "host": "test",  # extra keys of the store are allowed
    }


def synthetic() -> list[dict]:
    """2 collections x 3 solvers x 3 instances x 2 seeds = 36 runs.

    alpha (minimise; reference 100 for i0 and i1, none for i2, whose best known is 100 from
    the runs):

    - highs: optimal 100 (120 at 1 s, 100 at 3 s), except (i0, 1): feasible 120 (gap 1/6);
    - scip: optimal 100 at 0.5 s, except (i1, 1): timeout;
    - lns: feasible 110 (gap 1/11), except i1: feasible 100, and (i2, 0): 90 but uncertified.

    beta/set cover (maximise, reference 50): highs optimal 50 (40 at 2 s, 50 at 4 s); scip
    optimal 50 at 1 s; lns feasible 45 (gap 0.1), except (i2, 1): error.
    """
    rows = []
    for instance in ("i0", "i1", "i2"):
        for seed in (0, 1):
            ref = None if instance == "i2" else 100.0
            common = {"sense": "minimize", "reference": ref}
            if (instance, seed) == ("i0", 1):
                rows.append(record(ALPHA, instance, "highs", seed, "feasible", 120.0,
                                   [[1.0, 120.0, 90.0]], runtime=10.0, **common))  # fmt: skip
            else:
                rows.append(record(ALPHA, instance, "highs", seed, "optimal", 100.0,
                                   [[1.0, 120.0, 90.0], [3.0, 100.0, 100.0]], runtime=3.0,
                                   **common))  # fmt: skip
            if (instance, seed) == ("i1", 1):
                rows.append(record(ALPHA, instance, "scip", seed, "timeout", None, [],
                                   runtime=10.3, **common))  # fmt: skip
            else:
                rows.append(record(ALPHA, instance, "scip", seed, "optimal", 100.0,
                                   [[0.5, 100.0, 100.0]], runtime=0.5, **common))  # fmt: skip
            if instance == "i1":
                rows.append(record(ALPHA, instance, "lns", seed, "feasible", 100.0,
                                   [[0.2, 110.0, None], [4.0, 100.0, None]], runtime=10.0,
                                   **common))  # fmt: skip
            elif (instance, seed) == ("i2", 0):
                rows.append(record(ALPHA, instance, "lns", seed, "feasible", 90.0,
                                   [[0.2, 90.0, None]], runtime=10.0, certified=False,
                                   **common))  # fmt: skip
            else:
                rows.append(record(ALPHA, instance, "lns", seed, "feasible", 110.0,
                                   [[0.2, 110.0, None]], runtime=10.0, **common))  # fmt: skip
            common = {"sense": "maximize", "reference": 50.0}
            rows.append(record(BETA, instance, "highs", seed, "optimal", 50.0,
                               [[2.0, 40.0, 60.0], [4.0, 50.0, 50.0]], runtime=4.0,
                               **common))  # fmt: skip
            rows.append(record(BETA, instance, "scip", seed, "optimal", 50.0,
                               [[1.0, 50.0, 50.0]], runtime=1.0, **common))  # fmt: skip
            if (instance, seed) == ("i2", 1):
                rows.append(record(BETA, instance, "lns", seed, "error", None, [],
                                   runtime=0.1, **common))  # fmt: skip
            else:
                rows.append(record(BETA, instance, "lns", seed, "feasible", 45.0,
                                   [[0.1, 45.0, None]], runtime=10.0, **common))  # fmt: skip
    return rows


#: Per collection and solver: runs, solved, with solution, errors, W/T/L against highs.
#: alpha, final gaps per (instance, seed) in the order (i0,0) (i0,1) (i1,0) (i1,1) (i2,0) (i2,1):
#: highs 0, 1/6, 0, 0, 0, 0; scip 0, 0, 0, 1, 0, 0; lns 1/11, 1/11, 0, 0, 1, 1/11.
#: scip: win (i0,1), loss (i1,1), 4 ties. lns: win (i0,1) as 1/11 < 1/6, ties on i1, 3 losses.
EXPECTED = {
    ALPHA: {
        "highs (baseline)": ["6", "5", "6", "0", "0/0/0"],
        "lns": ["6", "0", "5", "0", "1/2/3"],
        "scip": ["6", "5", "5", "1", "1/4/1"],
    },
    BETA: {
        "highs (baseline)": ["6", "6", "6", "0", "0/0/0"],
        "lns": ["6", "0", "5", "1", "0/0/6"],
        "scip": ["6", "6", "6", "0", "0/6/0"],
    },
}
COLUMNS = ["runs", "solved", "with solution", "errors", "W/T/L"]


def tables(text: str, start: str, stop: str, heading: str) -> dict[str, list[list[str]]]:
    """Rows of cells of the tables between ``start`` and ``stop``, by sub-heading."""
    part = text[text.index(start) : text.index(stop)]
    out = {}
    for chunk in part.split(heading)[1:]:
        title, body = chunk.split("\n", 1)
        out[title] = body
    return out


def markdown_headline(text: str) -> dict[str, dict[str, dict[str, str]]]:
    out = {}
    for title, body in tables(text, "## Headline", "## Per instance", "### ").items():
        lines = [line for line in body.splitlines() if line.startswith("|")]
        cells = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]
        header, rows = cells[0], cells[2:]
        out[title] = {row[0]: dict(zip(header, row)) for row in rows}
    return out


def html_headline(text: str) -> dict[str, dict[str, dict[str, str]]]:
    out = {}
    for title, body in tables(text, "<h2>Headline</h2>", "<h2>Per instance</h2>", "<h3>").items():
        title = html.unescape(title.removesuffix("</h3>"))
        rows = [
            [html.unescape(c) for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body)
        ]
        out[title] = {row[0]: dict(zip(rows[0], row)) for row in rows[1:]}
    return out


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, list[Path]]:
    out = tmp_path_factory.mktemp("report") / "nested" / "dir"
    return out, write_report(synthetic(), out)


def test_files_written(report):
    out, files = report
    names = [f.name for f in files]
    assert names == [
        "report.md",
        "report.html",
        "profile.png",
        "gap_alpha.png",
        "gap_beta_set_cover.png",
        "scatter.png",
    ]
    for path in files:
        assert path.parent == out and path.is_file() and path.stat().st_size > 0
        if path.suffix == ".png":
            data = path.read_bytes()
            assert data[:8] == PNG_MAGIC
            assert len(data) > 5000


def test_markdown_headline_numbers(report):
    out, _ = report
    text = (out / "report.md").read_text(encoding="utf-8")
    assert text.startswith("# Benchmark report")
    headline = markdown_headline(text)
    assert set(headline) == {ALPHA, BETA}
    for collection, expected in EXPECTED.items():
        assert set(headline[collection]) == set(expected)
        for solver, values in expected.items():
            assert [headline[collection][solver][c] for c in COLUMNS] == values, solver
    # scip's integral is far below highs' on beta (1 vs 2 + 2 * 0.2 = 2.4 each run)
    assert float(headline[BETA]["scip"]["PI ratio"]) == pytest.approx(1.0 / 2.4, abs=0.01)
    assert "Seeds: 0, 1" in text and "Time limits: 10 s" in text and "Runs: 36" in text
    assert "timeout: 1" in text and "uncertified solutions: 1" in text
    for png in ("profile.png", "gap_alpha.png", "gap_beta_set_cover.png", "scatter.png"):
        assert f"]({png})" in text


def test_markdown_per_instance(report):
    out, _ = report
    text = (out / "report.md").read_text(encoding="utf-8")
    part = text[text.index("## Per instance") : text.index("## Plots")]
    # alpha i2: best known 100 from the runs (the uncertified 90 does not count); lns' best
    # certified value over the seeds is 110; scip's mean integral 0.5
    line = next(row for row in part.splitlines() if row.startswith("| i2 |"))
    cells = [c.strip() for c in line.strip("|").split("|")]
    # instance, best known, highs PI, highs best, lns PI, lns best, scip PI, scip best
    assert cells[1] == "100" and cells[5] == "110" and cells[6] == "0.50" and cells[7] == "100"


def test_html_has_the_same_numbers_and_images(report):
    out, _ = report
    text = (out / "report.html").read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    headline = html_headline(text)
    md = markdown_headline((out / "report.md").read_text(encoding="utf-8"))
    assert headline == md
    for collection, expected in EXPECTED.items():
        for solver, values in expected.items():
            assert [headline[collection][solver][c] for c in COLUMNS] == values
    for png in ("profile.png", "gap_alpha.png", "gap_beta_set_cover.png", "scatter.png"):
        assert re.search(rf'<img src="{re.escape(png)}" alt="[^"]+">', text)


def test_single_solver_has_no_scatter(tmp_path):
    rows = [r for r in synthetic() if r["solver"] == "scip"]
    files = write_report(rows, tmp_path)
    assert "scatter.png" not in [f.name for f in files]
    assert "scatter.png" not in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_bad_input(tmp_path):
    with pytest.raises(UsageError, match="no runs to report"):
        write_report([], tmp_path)
    with pytest.raises(UsageError, match="pair must name two different solvers"):
        write_report(synthetic(), tmp_path, pair=("scip", "cplex"))
    with pytest.raises(UsageError, match="baseline solver 'cplex'"):
        write_report(synthetic(), tmp_path, baseline="cplex")


def test_safe_file_stem():
    assert safe_file_stem("beta/set cover") == "beta_set_cover"
    assert safe_file_stem("../..") == "collection"
    assert safe_file_stem("miplib2017.benchmark") == "miplib2017.benchmark"


def test_lns_operator_statistics_are_summed_per_solver_and_collection(tmp_path):
    rows = synthetic()
    arms = [("mutation-0.1", 4, 1, 2.5), ("rins-0.3", 2, 2, 1.0)]
    for row in rows:
        if row["solver"] == "lns" and row["collection"] == ALPHA:
            row["stats"] = {"operators": {name: {"pulls": p, "improvements": i, "seconds": s}
                                          for name, p, i, s in arms}}  # fmt: skip
    write_report(rows, tmp_path)
    text = (tmp_path / "report.md").read_text()
    section = text[text.index("## LNS operators") :]
    assert "### lns on alpha" in section and "beta" not in section  # beta rows have no stats
    assert "| mutation-0.1 | 24 | 6 | 25 | 15.0 |" in section  # 6 runs x (4, 1, 2.5 s)
    assert "| rins-0.3 | 12 | 12 | 100 | 6.0 |" in section
    plain = tmp_path / "plain"
    write_report(synthetic(), plain)
    assert "LNS operators" not in (plain / "report.md").read_text()
