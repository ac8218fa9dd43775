"""Writing distributions to disk: files, manifest, reference values, resuming."""

from __future__ import annotations

import hashlib
import json

import pytest

from hybridsolve import datasets
from hybridsolve.mip import InputError, UsageError, read, solve

DIST = "itemplacement-easy"


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    out = tmp_path_factory.mktemp("mk")
    lines: list[str] = []
    manifest = datasets.generate(DIST, out, n=3, progress=lines.append)
    return out, manifest, lines


def test_manifest_lists_every_file_with_sizes_and_digest(written):
    out, manifest, lines = written
    on_disk = json.loads((out / datasets.MANIFEST).read_text())
    assert on_disk == manifest
    assert manifest["format"] == "hybridsolve-dataset/1"
    assert (manifest["distribution"], manifest["split"], manifest["seed"]) == (DIST, "test", 0)
    assert manifest["generator"] == "item_placement"
    assert manifest["params"] == dict(datasets.get(DIST).params)
    assert [e["name"] for e in manifest["instances"]] == [f"{DIST}-test-{i:04d}" for i in range(3)]
    for entry in manifest["instances"]:
        path = out / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        problem = read(path)
        assert (entry["num_vars"], entry["num_cons"]) == (problem.num_vars, problem.num_cons)
        assert entry["num_integer"] == int(problem.integrality.sum())
        assert entry["nonzeros"] == problem.A.nnz
        assert entry["reference"] is None
    assert len(lines) == 3 and all(line.startswith("wrote ") for line in lines)


def test_same_seed_same_bytes_other_seed_other_bytes(written, tmp_path):
    _, manifest, _ = written
    again = datasets.generate(DIST, tmp_path / "again", n=3)
    other = datasets.generate(DIST, tmp_path / "other", n=3, seed=5)
    digests = [e["sha256"] for e in manifest["instances"]]
    assert [e["sha256"] for e in again["instances"]] == digests
    assert not set(e["sha256"] for e in other["instances"]) & set(digests)


def test_reference_values_are_scip_optima_and_survive_a_rerun(tmp_path):
    manifest = datasets.generate(DIST, tmp_path, n=2, reference_time=60)
    for entry in manifest["instances"]:
        ref = entry["reference"]
        assert ref["status"] == "optimal" and ref["solver"] == "scip"
        highs = solve(read(tmp_path / entry["file"]), "highs", time_limit=60)
        assert ref["objective"] == pytest.approx(highs.objective, rel=1e-9)
        assert ref["bound"] == pytest.approx(ref["objective"], rel=1e-9)
    lines: list[str] = []
    again = datasets.generate(DIST, tmp_path, n=2, reference_time=30, progress=lines.append)
    assert [e["reference"] for e in again["instances"]] == [
        e["reference"] for e in manifest["instances"]
    ]
    assert sum("kept from an earlier run" in line for line in lines) == 2


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(UsageError, match="unknown distribution"):
        datasets.generate("nope-easy", tmp_path)
    with pytest.raises(UsageError, match="unknown split"):
        datasets.generate(DIST, tmp_path, split="dev")
    with pytest.raises(UsageError, match="--n must be >= 0"):
        datasets.generate(DIST, tmp_path, n=-1)
    with pytest.raises(UsageError, match="reference time limit"):
        datasets.generate(DIST, tmp_path, n=1, reference_time=0)
    datasets.generate(DIST, tmp_path / "taken", n=1)
    with pytest.raises(UsageError, match="already holds itemplacement-easy .test split, seed 0"):
        datasets.generate(DIST, tmp_path / "taken", n=1, seed=2)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot create"):
        datasets.generate(DIST, blocker / "sub", n=1)
