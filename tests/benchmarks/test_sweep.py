"""Benchmark sweeps for real: worker processes, the SQLite store, crashes, resuming, Dask."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from hybridsolve import datasets
from hybridsolve.benchmarks import runner
from hybridsolve.benchmarks.store import COLUMNS, KEY, Store
from hybridsolve.mip import InputError, UsageError, write

HERE = Path(__file__).parent
#: Optima of the two instances below, by exhaustive enumeration in the fixture.
SOLVERS = ["scip", "highs"]


def _brute_force_knapsack(values, weights, capacity) -> float:
    n = len(values)
    subsets = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    return float((subsets[subsets @ weights <= capacity] @ values).max())


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """Two 0-1 knapsacks of 12 items with optima known by enumeration."""
    from hybridsolve.mip import Problem

    out = tmp_path_factory.mktemp("knap")
    optima = {}
    for k in range(2):
        rng = np.random.default_rng(k)
        values, weights = rng.integers(1, 50, 12), rng.integers(1, 30, 12)
        capacity = int(weights.sum() // 2)
        problem = Problem.from_arrays(
            values, weights[None, :], -np.inf, capacity, 0, 1, True, sense="maximize"
        )
        write(problem, out / f"kp{k}.mps")
        optima[f"kp{k}"] = _brute_force_knapsack(values, weights, capacity)
    return out, optima


@pytest.fixture
def plugins(monkeypatch):
    path = os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    monkeypatch.setenv("PYTHONPATH", path)


def _summary(rows):
    return sorted(
        (r["instance"], r["solver"], r["seed"], r["status"], r["objective"], r["certified"])
        for r in rows
    )


def test_sweep_stores_every_run_with_known_optima(folder, tmp_path):
    directory, optima = folder
    collection = datasets.load(directory)
    with Store(tmp_path / "r.sqlite") as store:
        stats = runner.sweep(collection, SOLVERS, [0, 1], 30, store, jobs=2)
        rows = store.rows()
    assert (stats.total, stats.done, stats.skipped) == (8, 8, 0)
    assert len(rows) == 8
    for row in rows:
        assert row["status"] == "optimal" and row["certified"] is True
        assert row["objective"] == pytest.approx(optima[row["instance"]])
        assert row["sense"] == "maximize" and row["trajectory"]
        assert row["collection"] == str(directory)
    with Store(tmp_path / "r.sqlite") as store:  # rerun: everything is stored already
        again = runner.sweep(collection, SOLVERS, [0, 1], 30, store)
        assert (again.done, again.skipped) == (0, 8) and len(store.rows()) == 8


def test_misbehaving_solvers_cost_one_run_each(folder, tmp_path, plugins):
    directory, optima = folder
    collection = datasets.load(directory)
    mod = "hybridsolve_test_plugins"
    solvers = ["scip", f"{mod}:segfault", f"{mod}:sleepy", f"{mod}:raises", f"{mod}:liar"]
    with Store(tmp_path / "r.sqlite") as store:
        runner.sweep(collection, solvers, [0], 2, store, jobs=2, grace=2)
        rows = {(r["instance"], r["solver"]): r for r in store.rows()}
    assert len(rows) == 10
    for name in optima:
        assert rows[name, "scip"]["status"] == "optimal"
        crashed = rows[name, f"{mod}:segfault"]
        assert crashed["status"] == "crashed" and "SIGSEGV" in crashed["message"]
        slept = rows[name, f"{mod}:sleepy"]
        assert slept["status"] == "timeout" and 4 <= slept["runtime"] < 30
        failed = rows[name, f"{mod}:raises"]
        assert failed["status"] == "error" and failed["message"] == "RuntimeError: boom"
        lie = rows[name, f"{mod}:liar"]
        assert lie["certified"] is False and lie["message"].startswith("not certified")


def test_interrupted_sweep_resumes_without_losing_or_duplicating(folder, tmp_path):
    directory, _ = folder
    db = tmp_path / "r.sqlite"
    command = [
        sys.executable, "-m", "hybridsolve", "bench", "--instances", str(directory),
        "--solvers", "scip,highs,scip-raw", "--seeds", "0,1,2", "--time-limit", "30",
        "--db", str(db),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        if db.exists() and _count(db) >= 2:
            break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "Traceback" not in err
    partial = _count(db)
    assert 2 <= partial < 18
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == (
        f"{18 - partial} runs stored in {db} ({partial} were stored before)"
    )
    with Store(db) as store:
        rows = store.rows()
    assert (
        len(rows) == 18 == len({tuple(r[k] for k in ("instance", "solver", "seed")) for r in rows})
    )
    assert all(r["status"] == "optimal" for r in rows)


def _count(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as connection:
        try:
            return connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def test_dask_local_cluster_gives_the_same_rows_as_the_local_pool(folder, tmp_path):
    distributed = pytest.importorskip("distributed")
    directory, _ = folder
    collection = datasets.load(directory)
    with Store(tmp_path / "pool.sqlite") as store:
        runner.sweep(collection, SOLVERS, [0], 30, store, jobs=2)
        pool_rows = store.rows()
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with Store(tmp_path / "dask.sqlite") as store:
            stats = runner.sweep(
                collection, SOLVERS, [0], 30, store, cluster=cluster.scheduler_address
            )
            dask_rows = store.rows()
    assert stats.done == 4
    assert _summary(dask_rows) == _summary(pool_rows)


def test_store_is_wal_rejects_duplicates_and_bad_files(tmp_path):
    db = tmp_path / "r.sqlite"
    with Store(db) as store:
        task = runner.plan(datasets.load("itemplacement-easy", n=1), ["scip"], [0], 5)[0]
        from hybridsolve.benchmarks.worker import record_of

        stats = {"iterations": 3, "operators": {"rins-0.1": {"pulls": 3, "seconds": 0.5}}}
        record = record_of(task, status="feasible", objective=1.5, trajectory=[[0.1, 2.0, None]],
                           stats=stats)  # fmt: skip
        assert store.add(record) is True
        assert store.add(record) is False
        assert store.keys() == {task.key}
        assert store.rows()[0]["trajectory"] == [[0.1, 2.0, None]]
        assert store.rows()[0]["stats"] == stats
    with sqlite3.connect(db) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    (tmp_path / "junk.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(InputError, match="not a usable results database"):
        Store(tmp_path / "junk.sqlite")


def test_a_version_1_store_gains_the_stats_column(tmp_path):
    db = tmp_path / "old.sqlite"
    old = {name: kind for name, kind in COLUMNS.items() if name != "stats"}
    with sqlite3.connect(db) as connection:
        connection.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        connection.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        columns = ", ".join(f"{name} {kind}" for name, kind in old.items())
        connection.execute(f"CREATE TABLE runs ({columns}, PRIMARY KEY ({', '.join(KEY)}))")
        values = ["c", "i", "scip", 0, 5.0, "optimal", 1.0, 1.0, "minimize", 0.5, 3, 1, "[]",
                  None, "", "host", "2026-11-23T00:00:00+00:00"]  # fmt: skip
        connection.execute(f"INSERT INTO runs VALUES ({', '.join('?' for _ in old)})", values)
    with Store(db) as store:
        (row,) = store.rows()
        assert row["stats"] == {} and row["objective"] == 1.0
    with Store(db) as store:  # reopening the upgraded file works too
        assert len(store.rows()) == 1


def test_bad_sweeps_are_refused(folder, tmp_path):
    collection = datasets.load(folder[0])
    with Store(tmp_path / "r.sqlite") as store:
        with pytest.raises(UsageError, match="unknown solver 'gurobi'"):
            runner.sweep(collection, ["scip", "gurobi"], [0], 10, store)
        with pytest.raises(UsageError, match="at least one solver"):
            runner.sweep(collection, [], [0], 10, store)
        with pytest.raises(UsageError, match="time limit must be > 0"):
            runner.sweep(collection, ["scip"], [0], 0, store)
        with pytest.raises(UsageError, match="jobs must be >= 1"):
            runner.sweep(collection, ["scip"], [0], 10, store, jobs=0)
