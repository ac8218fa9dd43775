"""Loading collections: generated directories, plain MPS/LP folders with .solu, names."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

from hybridsolve import datasets
from hybridsolve.mip import InputError, UsageError, write


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """A MIPLIB-like folder: mixed compressed and plain files, a .solu file, a stray file."""
    out = tmp_path_factory.mktemp("miplib")
    rng = np.random.default_rng(0)
    write(datasets.multiple_knapsack(rng, 10, 2), out / "kp-a.mps.gz")
    write(datasets.set_cover(rng, 20, 40), out / "cover.mps")
    write(datasets.market_split(rng, 2, 8), out / "split-b.MPS.GZ")
    (out / "README.txt").write_text("not a model")
    (out / "miplib.solu").write_text(
        "=opt= kp-a 123\n=best= cover 45.5\n=opt= cover 44\n=inf= split-b\n=unkn= other\n"
    )
    return out


def test_folder_lists_models_in_name_order_with_solu_references(folder):
    collection = datasets.load(folder)
    assert collection.names == ["cover", "kp-a", "split-b"]
    assert len(collection) == 3
    assert collection.reference("kp-a") == datasets.Reference(
        123.0, None, True, False, "miplib.solu"
    )
    assert collection.reference("cover").objective == 44.0 and collection.reference("cover").optimal
    assert collection.reference("split-b").infeasible
    names = [name for name, problem in collection]
    assert names == collection.names
    assert collection.problem("cover").num_vars == 40
    assert collection.path("kp-a") == folder / "kp-a.mps.gz"


def test_iteration_is_lazy(folder, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)
    collection = datasets.load(copy)
    (copy / "split-b.MPS.GZ").write_bytes(b"garbage")
    iterator = iter(collection)
    assert next(iterator)[0] == "cover"
    assert next(iterator)[0] == "kp-a"
    with pytest.raises(InputError):
        next(iterator)


def test_generated_directory_reads_its_manifest_and_references(tmp_path):
    datasets.generate("itemplacement-easy", tmp_path, n=2, reference_time=60)
    collection = datasets.load(tmp_path)
    assert collection.label == "itemplacement-easy"
    assert collection.names == ["itemplacement-easy-test-0000", "itemplacement-easy-test-0001"]
    for name, problem in collection:
        ref = collection.reference(name)
        assert ref.optimal and ref.source == "manifest"
        assert problem.num_vars == datasets.get("itemplacement-easy").instance("test", 0).num_vars


def test_a_distribution_name_generates_on_demand():
    collection = datasets.load("itemplacement-easy", split="valid", n=2, seed=3)
    assert collection.label == "itemplacement-easy-seed3"
    names = collection.names
    assert names == ["itemplacement-easy-valid-0000", "itemplacement-easy-valid-0001"]
    first = next(iter(collection))[1]
    expected = datasets.get("itemplacement-easy").instance("valid", 0, seed=3)
    np.testing.assert_array_equal(first.c, expected.c)
    assert collection.path(names[0]) is None and collection.reference(names[0]) is None


def test_a_single_file_is_a_collection_of_one(folder):
    collection = datasets.load(folder / "kp-a.mps.gz")
    assert collection.names == ["kp-a"]


def test_errors_are_one_line_and_name_the_problem(folder, tmp_path):
    with pytest.raises(UsageError, match="unknown distribution 'setcover-eazy'.*setcover-easy"):
        datasets.load("setcover-eazy")
    with pytest.raises(InputError, match="no such file or directory"):
        datasets.load(tmp_path / "missing")
    with pytest.raises(InputError, match="no model files"):
        datasets.load(tmp_path)
    (tmp_path / "test").mkdir()
    shutil.copy(folder / "cover.mps", tmp_path / "test")
    with pytest.raises(InputError, match="its subfolders test hold some"):
        datasets.load(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    shutil.copy(folder / "cover.mps", bad)
    (bad / "x.solu").write_text("=opt= cover\n")
    with pytest.raises(InputError, match=r"x.solu:1: not a .solu line"):
        datasets.load(bad)
    (bad / "x.solu").unlink()
    (bad / "manifest.json").write_text("{not json")
    with pytest.raises(InputError, match="cannot read .*manifest.json"):
        datasets.load(bad)
    with pytest.raises(KeyError, match="no instance 'zzz'"):
        datasets.load(folder).problem("zzz")


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads directories whatever their mode")
def test_unreadable_directory(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        with pytest.raises(InputError, match="cannot list"):
            datasets.load(locked)
    finally:
        locked.chmod(0o755)
