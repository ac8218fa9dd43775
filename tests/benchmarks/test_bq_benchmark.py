"""The BQ-NCO benchmark script: rows, gaps to the labelling solver, JSON, cache and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from hybridsolve import comb  # noqa: E402
from hybridsolve.benchmarks import bq_routing  # noqa: E402
from hybridsolve.benchmarks.bq_routing import MethodRow, benchmark_set, main  # noqa: E402
from hybridsolve.benchmarks.comb_routing import installed  # noqa: E402
from hybridsolve.neural import register, save  # noqa: E402
from hybridsolve.neural.bq import PROBLEMS, BQPolicy, get  # noqa: E402

TINY = {"dim": 16, "layers": 2, "heads": 2, "ff": 32}
pytestmark = pytest.mark.usefixtures("one_torch_thread")


def _weights(tmp_path, problem: str) -> str:
    """A tiny untrained policy for ``problem``, saved and registered in ``tmp_path``."""
    spec = get(problem)
    torch.manual_seed(0)
    policy = BQPolicy(spec.features, spec.pairs, spec.actions, **TINY)
    entry = {
        "problem": problem,
        "model": policy.config(),
        "train_sizes": [10],
        "instances": 0,
        "labeller": "test",
        "knn": None,
        "data_seed": 1234,
        "train_command": "test",
        "validation_gap": 0.05,
        "device": "cpu",
        "epochs": 0,
        "seconds": 0.0,
        "created": "2025-01-01T00:00:00Z",
    }
    entry = save(policy.state_dict(), tmp_path / f"tiny-{problem}.pt", entry=entry)
    register(f"tiny-{problem}", entry, tmp_path)
    return str(tmp_path / f"tiny-{problem}.pt")


def _run(tmp_path, capsys, problem: str, n: int, count: int) -> tuple[str, dict]:
    out = tmp_path / f"{problem}.json"
    argv = ["--problem", problem, "--sizes", str(n), "--instances", str(count), "--beam", "2",
            "--weights", _weights(tmp_path, problem), "--device", "cpu",
            "--cache", str(tmp_path / "cache"), "--json", str(out)]  # fmt: skip
    assert main(argv) == 0
    return capsys.readouterr().out, json.loads(out.read_text())


def _check_rows(data: dict, methods: list[str], count: int) -> dict[str, dict]:
    rows = {row["method"]: row for row in data["rows"]}
    assert list(rows) == methods
    for row in rows.values():
        assert row["instances"] == count and len(row["costs"]) == count
        costs, refs = np.array(row["costs"], dtype=float), np.array(row["references"])
        assert np.isfinite(costs).all() and (costs > 0).all() and row["failures"] == 0
        gaps = costs / refs - 1.0  # a heuristic may beat the reference: no sign asserted
        assert row["mean_gap"] == pytest.approx(gaps.mean(), abs=1e-12)
        assert row["max_gap"] == pytest.approx(gaps.max(), abs=1e-12)
        assert row["seconds_per_instance"] > 0
    polished, beams = rows["bq beam-2 + improve"]["costs"], rows["bq beam-2"]["costs"]
    assert all(p <= b + 1e-9 for p, b in zip(polished, beams))  # improve never worsens
    return rows


def test_tsp_rows_reference_gaps_json_and_cache(tmp_path, capsys):
    text, data = _run(tmp_path, capsys, "tsp", 20, 3)
    peers = ["LKH-3 (elkai)"] if installed("elkai") else []
    methods = ["bq greedy", "bq beam-2", "bq beam-2 + improve", "comb nearest_neighbour",
               "comb greedy", "comb or_opt", "comb ils", *peers]  # fmt: skip
    rows = _check_rows(data, methods, 3)
    instances = benchmark_set("tsp", 20, 3)
    assert instances[0].num_nodes == 20
    # the reference is the TSP labeller: comb's ILS, default iterations, seed 0
    ils = [comb.solve(instance, "ils", seed=0).cost for instance in instances]
    for row in rows.values():
        assert row["references"] == pytest.approx(ils, rel=1e-12)
    for method in ("nearest_neighbour", "greedy", "or_opt"):
        expected = [comb.solve(instance, method, seed=0).cost for instance in instances]
        assert rows[f"comb {method}"]["costs"] == pytest.approx(expected, rel=1e-12)
    greedy, beam = rows["bq greedy"]["costs"], rows["bq beam-2"]["costs"]
    assert all(b <= g * (1 + 1e-9) for b, g in zip(beam, greedy))  # greedy path kept in beam
    limit = rows["bq beam-2 + improve"]["seconds_per_instance"]
    assert f"time limit {limit:.3g} s" in rows["comb ils"]["note"]
    assert data["manifest"]["train_sizes"] == [10] and data["settings"]["beam"] == 2
    # the printed table: manifest facts, then every method's row
    assert "trained on sizes [10] (data seed 1234), 0 epochs in 0 s on cpu" in text
    assert "validation gap 5.000 %" in text and "tsp n=20: 3 instances" in text
    for method in methods:
        assert f"  {method} " in text
    if not peers:
        assert "LKH-3: elkai not installed" in text
    cached = sorted((tmp_path / "cache").glob("*.npz"))
    assert len(cached) == 3
    stamps = [path.stat().st_mtime_ns for path in cached]
    _run(tmp_path, capsys, "tsp", 20, 2)  # a prefix of the set: every reference from the cache
    assert [path.stat().st_mtime_ns for path in cached] == stamps
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 3


def test_cvrp_rows(tmp_path, capsys):
    if "cvrp" not in PROBLEMS:
        pytest.skip("neural/bq/cvrp.py is not there yet: BQ-NCO has no CVRP problem")
    _, data = _run(tmp_path, capsys, "cvrp", 10, 2)
    peers = ["PyVRP"] if installed("pyvrp") else []
    methods = ["bq greedy", "bq beam-2", "bq beam-2 + improve", "comb savings",
               "comb local_search", "comb ils", *peers]  # fmt: skip
    _check_rows(data, methods, 2)


def test_row_gaps_targets_and_failures():
    row = MethodRow("tsp", 100, "bq greedy", (101.0, 99.0, 104.0), (100.0, 100.0, 100.0),
                    0.01, 0.02)  # fmt: skip
    assert row.mean_gap == pytest.approx((0.01 - 0.01 + 0.04) / 3)
    assert row.max_gap == pytest.approx(0.04) and row.met is True
    assert "<= 2 %: met" in row.line() and "+1.333" in row.line()
    failed = MethodRow("cvrp", 100, "PyVRP", (float("nan"), 110.0), (100.0, 100.0), 0.1, 0.05)
    assert failed.failures == 1 and failed.mean_gap == pytest.approx(0.1) and failed.met is False
    assert "no feasible solution on 1" in failed.line() and failed.to_dict()["costs"][0] is None
    assert MethodRow("tsp", 200, "comb greedy", (1.0,), (1.0,), 0.1).met is None
    assert bq_routing.TARGETS[("tsp", 100)] == {"greedy": 0.02, "beam": 0.01,
                                                 "beam+improve": 0.003}  # fmt: skip


def test_knn_applies_above_its_size():
    decoding = bq_routing.Decoding(None, "cpu", 256, 16, 100)
    assert decoding.knn_at(100) is None and decoding.knn_at(200) == 100
    assert bq_routing.Decoding(None, "cpu", 256, 16, None).knn_at(1000) is None


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--problem", "foo"], "invalid choice: 'foo'"),
        (["--sizes", "100,x"], "expected sizes of at least 3"),
        (["--sizes", "2"], "expected sizes of at least 3"),
        (["--sizes", ""], "expected sizes of at least 3"),
        (["--instances", "0"], "expected a positive integer"),
        (["--beam", "-1"], "expected a positive integer"),
        (["--knn", "x"], "expected a positive integer"),
    ],
)
def test_usage_errors_are_one_line_with_exit_code_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"{bq_routing.PROG}: error: ")
    assert message in err


def test_missing_weights_are_one_line_with_exit_code_3(tmp_path, capsys):
    assert main(["--weights", str(tmp_path / "none.pt"), "--sizes", "20", "--device", "cpu"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none.pt" in err
