"""``lns+warm`` in sweeps: a state file per chain, chains run one run at a time in order."""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from hybridsolve import datasets
from hybridsolve.benchmarks import runner
from hybridsolve.benchmarks.chains import Dispatch, state_file, state_folder
from hybridsolve.benchmarks.store import Store
from hybridsolve.benchmarks.worker import Task
from hybridsolve.mip import UsageError

#: The LNS uses its whole time limit on these instances, so runs side by side overlap.
DIST = "indset-easy"
#: Seconds per run; the first solve of a worker process spends about 2 of them importing
#: the LNS (``hybridsolve.solve`` counts a solver's import in its time limit).
LIMIT = 4.0


def _task(instance: str, seed: int, state: str | None) -> Task:
    solver = "scip" if state is None else "lns+warm"
    return Task("c", instance, solver, seed, LIMIT, bandit_state=state)


def test_dispatch_holds_a_chains_next_run_back_until_the_one_before_ended():
    a0, a1, a2 = (_task(f"i{k}", 0, "a.json") for k in range(3))
    b0, b1 = (_task(f"i{k}", 1, "b.json") for k in range(2))
    s0, s1 = (_task(f"i{k}", 0, None) for k in range(2))
    dispatch = Dispatch([a0, b0, s0, a1, b1, s1, a2])
    assert dispatch.take(2) == [(0, a0), (1, b0)]
    assert dispatch.take() == [(2, s0), (5, s1)]  # a1 and b1 wait for their chains
    dispatch.finished(s0)  # a run of no chain frees nothing
    assert dispatch.take() == []
    dispatch.finished(b0)
    assert dispatch.take() == [(4, b1)]
    dispatch.finished(a0)
    assert dispatch.take(5) == [(3, a1)]
    dispatch.finished(a1)
    dispatch.finished(b1)
    assert dispatch.take(0) == []
    assert dispatch.take() == [(6, a2)]
    dispatch.finished(a2)
    assert dispatch.take() == []


def test_each_chain_has_its_own_state_file_with_a_safe_name(tmp_path):
    collection = datasets.load(DIST, n=2)
    folder = state_folder(tmp_path / "r.sqlite")
    assert folder == tmp_path.resolve() / "r.bandit"
    tasks = runner.plan(collection, ["lns", "lns+warm"], [0, 1], LIMIT, states=folder)
    assert all(task.bandit_state is None for task in tasks if task.solver == "lns")
    files = {(task.instance, task.seed): task.bandit_state for task in tasks if task.bandit_state}
    for (_, seed), path in files.items():
        assert path == str(folder / f"{DIST}-seed{seed}-4s.json")
    assert len(files) == 4 and len(set(files.values())) == 2
    odd = state_file(folder, "/data/sets/x y", 3, 2.5)
    assert odd.parent == folder
    assert re.fullmatch(r"data_sets_x_y-[0-9a-f]{8}-seed3-2\.5s\.json", odd.name)
    assert state_file(folder, "a/b", 0, 1) != state_file(folder, "a_b", 0, 1)
    with pytest.raises(UsageError, match="needs a folder for its bandit state files"):
        runner.plan(collection, ["lns+warm"], [0], LIMIT)


@pytest.mark.parametrize(
    ("solver", "message"),
    [
        ("scip+warm", r"'scip\+warm': .* \(\+warm\) is for the LNS only; write lns\+warm"),
        ("highs+warm", r"\(\+warm\) is for the LNS only"),
        ("lns+warm:x", r"\(\+warm\) is for the LNS only"),
        ("lns+wram", r"unknown guided solver 'lns\+wram'; .* or lns\+warm"),
        ("gurobi+warm", r"unknown guided solver 'gurobi\+warm'; .* or lns\+warm"),
    ],
)
def test_warm_variants_other_than_lns_warm_are_refused(solver, message, tmp_path):
    with Store(tmp_path / "r.sqlite") as store:
        with pytest.raises(UsageError, match=message):
            runner.sweep(datasets.load(DIST, n=1), [solver], [0], LIMIT, store)
    assert not (tmp_path / "r.bandit").exists()


def test_bench_refuses_scip_warm_in_one_line(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "hybridsolve", "bench", "--instances", DIST, "--n", "1",
         "--solvers", "lns,scip+warm", "--db", str(tmp_path / "r.sqlite")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "'scip+warm'" in done.stderr and "is for the LNS only; write lns+warm" in done.stderr


def _span(row: dict) -> tuple[float, float]:
    """When a run's solve began and ended, from what the store holds of it."""
    end = datetime.fromisoformat(row["finished_at"]).timestamp()
    return end - row["runtime"], end


def _chains(rows: list[dict], names: list[str]) -> dict[int, list[tuple[float, float]]]:
    """Per seed, the spans of its ``lns+warm`` runs in the collection's instance order.

    Each run must have started from the state file that all runs before it wrote to.
    """
    order = {name: k for k, name in enumerate(names)}
    chains: dict[int, list] = {}
    for row in sorted(rows, key=lambda row: order[row["instance"]]):
        assert row["status"] in ("optimal", "feasible") and row["certified"], row["message"]
        spans = chains.setdefault(row["seed"], [])
        assert row["stats"]["bandit_state"]["earlier_runs"] == len(spans)
        spans.append(_span(row))
    return chains


def _one_at_a_time_in_order(spans: list[tuple[float, float]]) -> bool:
    return all(before[1] <= after[0] for before, after in zip(spans, spans[1:]))


def _state_files(tmp_path: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in (tmp_path / "r.bandit").iterdir()}


def test_two_chains_run_side_by_side_each_one_run_at_a_time(tmp_path):
    collection = datasets.load(DIST, n=2)
    with Store(tmp_path / "r.sqlite") as store:
        stats = runner.sweep(collection, ["lns+warm"], [0, 1], LIMIT, store, jobs=2)
        rows = store.rows()
    assert (stats.done, stats.skipped) == (4, 0) and len(rows) == 4
    assert {row["solver"] for row in rows} == {"lns+warm"}
    chains = _chains(rows, collection.names)
    assert all(_one_at_a_time_in_order(spans) for spans in chains.values())
    (start0, end0), (start1, end1) = chains[0][0], chains[1][0]
    assert start0 < end1 and start1 < end0  # the first runs of the two chains overlapped
    files = _state_files(tmp_path)
    assert sorted(files) == [f"{DIST}-seed0-4s.json", f"{DIST}-seed1-4s.json"]
    assert all(isinstance(json.loads(text), dict) for text in files.values())
    with Store(tmp_path / "r.sqlite") as store:  # rerun: nothing left to do
        again = runner.sweep(collection, ["lns+warm"], [0, 1], LIMIT, store, jobs=2)
    assert (again.done, again.skipped) == (0, 4)
    assert _state_files(tmp_path) == files


def _count(db: Path) -> int:
    with sqlite3.connect(db, timeout=30) as connection:
        try:
            return connection.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def test_an_interrupted_chain_resumes_from_its_state_file(tmp_path):
    db = tmp_path / "r.sqlite"
    command = [
        sys.executable, "-m", "hybridsolve", "bench", "--instances", DIST, "--n", "2",
        "--solvers", "lns+warm", "--time-limit", f"{LIMIT:g}", "--db", str(db), "--jobs", "2",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (db.exists() and _count(db) >= 1):
        time.sleep(0.05)
    after_first = _state_files(tmp_path)  # the second run has only just started
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert _count(db) == 1 and _state_files(tmp_path) == after_first  # killed runs write nothing
    resumed = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.strip() == f"1 runs stored in {db} (1 were stored before)"
    after_second = _state_files(tmp_path)
    assert after_second.keys() == after_first.keys()
    assert after_second != after_first  # the second run wrote what it learned
    with Store(db) as store:
        rows = store.rows()
    (spans,) = _chains(rows, datasets.load(DIST, n=2).names).values()
    assert len(spans) == 2 and _one_at_a_time_in_order(spans)


def test_dask_runs_chains_one_run_at_a_time_too(tmp_path):
    distributed = pytest.importorskip("distributed")
    collection = datasets.load(DIST, n=2)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        with Store(tmp_path / "r.sqlite") as store:
            stats = runner.sweep(
                collection, ["lns+warm"], [0, 1], LIMIT, store, cluster=cluster.scheduler_address
            )
            rows = store.rows()
    assert stats.done == 4 and len(rows) == 4
    chains = _chains(rows, collection.names)
    assert sorted(chains) == [0, 1]
    assert all(_one_at_a_time_in_order(spans) for spans in chains.values())
    assert len(_state_files(tmp_path)) == 2
