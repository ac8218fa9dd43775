"""The FORGE clustering benchmark: scores, table, unseen generator and command line.

The embedding is injected: toy vectors built from each instance's known labels, so the
expected scores are exact and no weights are needed.
"""

from __future__ import annotations

import json
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

from hybridsolve.benchmarks import forge_clusters
from hybridsolve.benchmarks.forge_clusters import (
    SIZE_STATISTICS,
    STATISTICS,
    location_set_cover,
    main,
    measure,
    nmi,
    purity,
    registry_items,
    statistics,
    unseen_items,
)
from hybridsolve.mip import check

pytest.importorskip("sklearn")

NAMES = ("setcover-easy", "mdknapsack-easy", "mdknapsack-medium")


def _toy(items, unseen=()):
    """An embedder: 10 x one-hot(domain) + one-hot(domain-and-level) for ``vector`` and
    ``histogram`` (perfectly separable at both granularities), zeros for ``pooled``."""
    domains = sorted({it.domain for it in items})
    labels = sorted({it.label for it in items})
    by_name = {it.problem.name: it for it in [*items, *unseen]}

    def embed(problems):
        out = []
        for problem in problems:
            item = by_name[problem.name]
            vector = np.zeros(len(domains) + len(labels))
            vector[domains.index(item.domain)] = 10.0
            if item.label in labels:  # unseen instances have the domain alone as label
                vector[len(domains) + labels.index(item.label)] = 1.0
            out.append(SimpleNamespace(vector=vector, histogram=vector / vector.sum(),
                                       pooled=np.zeros(4)))  # fmt: skip
        return out

    return embed


@pytest.fixture(scope="module")
def tiny():
    items = registry_items(3, NAMES)
    unseen = unseen_items(3, seed=0)
    lines = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # KMeans on the constant "pooled" view
        result = measure(items, unseen, _toy(items, unseen), restarts=3, report=lines.append)
    return items, unseen, result, lines


def test_purity_and_nmi_on_known_labellings():
    truth = ["a", "a", "b", "b", "c", "c"]
    assert purity([5, 5, 1, 1, 0, 0], truth) == 1.0
    assert nmi([5, 5, 1, 1, 0, 0], truth) == pytest.approx(1.0)
    assert purity([0, 0, 0, 0, 0, 0], truth) == pytest.approx(1 / 3)
    assert nmi([0, 0, 0, 0, 0, 0], truth) == pytest.approx(0.0)
    assert purity([0, 0, 1, 1, 1, 1], truth) == pytest.approx(4 / 6)
    assert 0.0 < nmi([0, 0, 1, 1, 1, 1], truth) < 1.0
    with pytest.raises(ValueError):
        purity([0], ["a", "b"])


def test_registry_items_are_test_split_with_labels(tiny):
    items, _, _, _ = tiny
    assert len(items) == 9
    assert [it.problem.name for it in items[:3]] == [
        f"setcover-easy-test-{i:04d}" for i in range(3)
    ]
    assert {it.label for it in items} == set(NAMES)
    assert {it.domain for it in items} == {"setcover", "mdknapsack"}


def test_separable_toy_embeddings_score_one_and_table_is_well_formed(tiny):
    items, unseen, result, lines = tiny
    assert [row.features for row in result.rows] == [
        "forge vector", "forge histogram", "forge pooled", "statistics", "stats w/o size",
    ]  # fmt: skip
    assert result.domains == ("mdknapsack", "setcover")
    assert result.labels == tuple(sorted(NAMES))
    for name in ("forge vector", "forge histogram"):
        row = result.row(name)
        assert row.dim == 5
        assert row.nmi_domain == pytest.approx(1.0) and row.purity_domain == 1.0
        assert row.nmi_level_k == pytest.approx(1.0) and row.purity_level_k == 1.0
        assert row.purity_level == pytest.approx(6 / 9)  # 2 clusters, 3 labels of 3 each
        assert row.unseen_hits == row.unseen_count == 3 and row.unseen_share == 1.0
    pooled = result.row("forge pooled")  # constant vectors: one cluster, nothing learned
    assert pooled.nmi_domain == pytest.approx(0.0)
    assert pooled.purity_domain == pytest.approx(6 / 9)
    stats = result.row("statistics")
    assert stats.dim == len(STATISTICS)
    assert result.row("stats w/o size").dim == len(STATISTICS) - len(SIZE_STATISTICS)
    for row in result.rows:
        for value in (row.nmi_domain, row.purity_domain, row.nmi_level, row.purity_level,
                      row.nmi_level_k, row.purity_level_k):  # fmt: skip
            assert np.isfinite(value) and 0.0 <= value <= 1.0 + 1e-12
        assert len(row.clusters) == 9 and len(row.unseen_clusters) == 3
        assert 0 <= row.unseen_hits <= 3
        assert row.line().startswith(f"  {row.features} ")
    for timing in result.timings:
        assert len(timing.seconds) == 9 and min(timing.seconds) > 0
        assert timing.total >= timing.median > 0
    assert len(result.verdicts) == 2
    assert result.verdicts[0].endswith(("met", "NOT met"))
    assert "forge vector 1.000" in result.verdicts[0]
    assert result.verdicts[1].endswith(": met")  # 3/3 in the setcover cluster
    assert lines[1] == result.rows[0].line() and result.verdicts[-1] == lines[-1]
    data = json.loads(json.dumps(result.to_dict()))
    assert len(data["instances"]) == 9 and len(data["unseen"]) == 3
    assert data["rows"][0]["nmi_domain"] == pytest.approx(1.0)


def test_verdict_fails_when_baseline_is_as_good():
    row = forge_clusters.FeatureRow("forge vector", 4, 0.95, 1, 0.5, 0.3, 0.9, 0.9, 8, 10)
    base = forge_clusters.FeatureRow("statistics", 4, 0.93, 1, 0.5, 0.3, 0.9, 0.9, 10, 10)
    first, second = forge_clusters.verdicts([row, base])
    assert first.endswith("NOT met") and "+0.020" in first
    assert second.endswith("NOT met") and "8/10" in second and "statistics 10/10" in second
    better = forge_clusters.FeatureRow("statistics", 4, 0.6, 1, 0.5, 0.3, 0.9, 0.9, 2, 10)
    assert forge_clusters.verdicts([row, better])[0].endswith(": met")


def test_unseen_generator_is_a_feasible_set_cover():
    rng = np.random.default_rng(0)
    problem = location_set_cover(rng, points=120, sites=200, radius=0.1, towns=3)
    assert (problem.num_cons, problem.num_vars) == (120, 200)
    assert problem.sense == "minimize" and problem.integrality.all()
    assert (problem.col_lower == 0).all() and (problem.col_upper == 1).all()
    assert (problem.row_lower == 1).all() and np.isinf(problem.row_upper).all()
    assert (problem.A.data == 1).all() and (np.diff(problem.A.indptr) >= 1).all()
    assert (problem.c >= 10).all() and (problem.c == np.round(problem.c)).all()
    assert check(problem, np.ones(200)).feasible
    # unlike the registered set cover (uniform column sizes), column degrees spread widely
    degrees = np.bincount(problem.A.indices, minlength=200)
    assert degrees.std() / degrees.mean() > 0.3
    items = unseen_items(2, seed=4)
    assert [it.domain for it in items] == ["setcover", "setcover"]
    assert items[0].problem.name == "unseen-lscp-0000"
    again = unseen_items(2, seed=4)
    assert (again[1].problem.A != items[1].problem.A).nnz == 0  # same seed, same instances


def test_statistics_features():
    items = registry_items(1, ["setcover-easy", "mdknapsack-easy"])
    cover, knap = (statistics(it.problem) for it in items)
    index = {name: i for i, name in enumerate(STATISTICS)}
    assert cover.shape == (len(STATISTICS),) and np.isfinite(cover).all()
    assert cover[index["binary"]] == 1.0 and cover[index["greater_equal_rows"]] == 1.0
    assert cover[index["density"]] == pytest.approx(0.05)
    assert cover[index["maximize"]] == 0.0 and knap[index["maximize"]] == 1.0
    assert knap[index["less_equal_rows"]] == 1.0


def test_command_line_with_injected_embedder(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(
        forge_clusters, "_forge_embedder",
        lambda weights, device: (lambda ps: [SimpleNamespace(
            vector=forge_clusters.statistics(p), histogram=forge_clusters.statistics(p)[:4],
            pooled=forge_clusters.statistics(p)[4:]) for p in ps]),
    )  # fmt: skip
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "small.mps").write_bytes(
        (forge_clusters.Path(__file__).parents[1] / "data" / "small.mps").read_bytes()
    )
    out = tmp_path / "out.json"
    argv = ["--distributions", "setcover-easy,mdknapsack-easy", "--per-distribution", "2",
            "--folder", str(folder), "--unseen", "2", "--restarts", "2", "--weights",
            "no-such-weights", "--json", str(out)]  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(argv) == 0
    text = capsys.readouterr().out
    assert "weights no-such-weights: no manifest entry found" in text
    assert "target NMI by domain >= 0.9" in text and "home cluster" in text
    data = json.loads(out.read_text())
    assert data["domains"] == ["mdknapsack", "mine", "setcover"]
    assert [it["source"] for it in data["instances"]][-1].endswith("small.mps")
    assert data["settings"]["folder"] == [str(folder)]


def test_command_line_errors(tmp_path, capsys, monkeypatch):
    assert main(["--distributions", "setcovr-easy"]) == 2
    assert "did you mean setcover-easy" in capsys.readouterr().err
    assert main(["--per-distribution", "0"]) == 2
    capsys.readouterr()
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setattr(forge_clusters, "_forge_embedder", lambda weights, device: None)
    assert main(["--distributions", "setcover-easy", "--folder", str(empty)]) == 3
    assert "no .mps, .lp, .mps.gz, .lp.gz files" in capsys.readouterr().err


def test_real_encoder_with_tiny_untrained_weights(tmp_path, capsys):
    torch = pytest.importorskip("torch")
    pytest.importorskip("torch_geometric")
    from hybridsolve.neural import register, save
    from hybridsolve.neural.forge import Forge

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        torch.manual_seed(0)
        model = Forge(width=8, layers=1, codes=16, rank=4)
        entry = {"problem": "mip", "model": model.config(), "train_sizes": [0], "instances": 0,
                 "labeller": "none", "knn": None, "data_seed": 0, "train_command": "test",
                 "validation_gap": None, "device": "cpu", "epochs": 0, "seconds": 0.0,
                 "created": "2025-01-01T00:00:00Z"}  # fmt: skip
        entry = save(model.state_dict(), tmp_path / "tiny-forge.pt", entry=entry)
        register("tiny-forge", entry, tmp_path)
        argv = ["--distributions", "setcover-easy,mdknapsack-easy", "--per-distribution", "2",
                "--unseen", "2", "--restarts", "2", "--device", "cpu", "--weights",
                str(tmp_path / "tiny-forge.pt"), "--json", str(tmp_path / "o.json")]  # fmt: skip
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert main(argv) == 0
    finally:
        torch.set_num_threads(before)
    text = capsys.readouterr().out
    assert "tiny-forge.pt (sha256" in text and "train command: test" in text
    data = json.loads((tmp_path / "o.json").read_text())
    dims = {row["features"]: row["dim"] for row in data["rows"]}
    assert dims["forge histogram"] == 16 and dims["forge pooled"] == 16  # codes; 2 x width
    assert len(data["instances"]) == 4 and data["timings"]["forge"]["total"] > 0
