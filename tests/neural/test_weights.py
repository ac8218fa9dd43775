"""neural.weights: save/register/load round trips and one-line errors on bad files."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import torch

from hybridsolve.mip import InputError, UsageError
from hybridsolve.neural import (
    FIELDS,
    WeightsError,
    available,
    load,
    manifest,
    register,
    save,
    weights,
)

SHAPES = {"encoder.weight": (4, 3), "encoder.bias": (4,)}


def _entry(**changes) -> dict:
    entry = {
        "problem": "tsp",
        "model": {"embedding": 4, "layers": 1},
        "train_sizes": [20, 50],
        "instances": 0,
        "labeller": "test",
        "knn": None,
        "data_seed": 1234,
        "train_command": "hybridsolve train tsp --sizes 20,50 --epochs 2",
        "validation_gap": 0.031,
        "device": "cpu",
        "epochs": 2,
        "seconds": 1.5,
        "created": "2025-01-01T00:00:00Z",
    }
    entry.update(changes)
    return entry


def _state_dict() -> dict[str, torch.Tensor]:
    return {
        "encoder.weight": torch.arange(12, dtype=torch.float32).reshape(4, 3),
        "encoder.bias": torch.linspace(-1.0, 1.0, 4),
    }


def _one_line(error: pytest.ExceptionInfo) -> str:
    text = str(error.value)
    assert "\n" not in text and "Traceback" not in text
    return text


@pytest.fixture
def registry(tmp_path):
    """A registry folder with one registered file, ``tsp-4``; returns (folder, entry)."""
    entry = save(_state_dict(), tmp_path / "tsp-4.pt", entry=_entry())
    register("tsp-4", entry, tmp_path)
    return tmp_path, entry


def test_the_shipped_registry_loads_and_lists_its_files():
    entries = manifest()
    assert sorted(entries) == available() == [
        "branching-gcnn", "branching-hybrid", "branching-mlp", "cvrp", "forge", "forge-gap",
        "forge-hints", "kp", "tsp", "udc-divider"]  # fmt: skip
    assert available("tsp") == ["tsp"] and available("op") == []
    assert available("udc-divider") == ["udc-divider"]
    assert available("mip") == ["forge"] and available("mip-gap") == ["forge-gap"]
    assert available("mip-hints") == ["forge-hints"]
    assert available("mip-branching") == ["branching-gcnn", "branching-hybrid", "branching-mlp"]
    for entry in entries.values():
        data = (weights.DIRECTORY / entry["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"]


def test_save_completes_the_entry(tmp_path):
    path = tmp_path / "sub" / "tsp-4.pt"
    entry = save(_state_dict(), path, entry=_entry())
    assert entry == {
        **_entry(),
        "file": "tsp-4.pt",
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "torch_version": torch.__version__,
    }
    assert set(entry) == set(FIELDS)
    assert not (tmp_path / "sub" / "manifest.json").exists()  # save registers nothing


def test_round_trip_through_the_manifest(registry):
    folder, entry = registry
    assert json.loads((folder / "manifest.json").read_text()) == {"tsp-4": entry}
    assert manifest(folder) == {"tsp-4": entry}
    state_dict, loaded = load(folder / "tsp-4.pt", expected=SHAPES)
    assert loaded == entry
    assert state_dict.keys() == _state_dict().keys()
    for key, value in _state_dict().items():
        assert torch.equal(state_dict[key], value)
        assert state_dict[key].device == torch.device("cpu")
    # a string path ending in .pt works too
    assert load(str(folder / "tsp-4.pt"))[1] == entry


def test_register_adds_and_replaces(registry):
    folder, entry = registry
    other = save({"w": torch.ones(2)}, folder / "cvrp-2.pt", entry=_entry(problem="cvrp"))
    register("cvrp-2", other, folder)
    assert sorted(manifest(folder)) == ["cvrp-2", "tsp-4"]
    replaced = {**entry, "validation_gap": None}
    register("tsp-4", replaced, folder)
    assert manifest(folder)["tsp-4"]["validation_gap"] is None
    assert load(folder / "tsp-4.pt")[1] == replaced


def test_load_by_registry_name(registry, monkeypatch):
    folder, entry = registry
    monkeypatch.setattr(weights, "DIRECTORY", folder)
    assert available() == ["tsp-4"] and available("tsp") == ["tsp-4"]
    assert available("cvrp") == []
    state_dict, loaded = load("tsp-4", expected=SHAPES)
    assert loaded == entry and torch.equal(
        state_dict["encoder.bias"], _state_dict()["encoder.bias"]
    )
    with pytest.raises(WeightsError) as info:
        load("tsp-50")
    assert _one_line(info) == "unknown weights 'tsp-50'; available: tsp-4"


def test_unknown_name_lists_the_shipped_weights():
    with pytest.raises(WeightsError) as info:
        load("tsp-50")
    assert _one_line(info) == (
        "unknown weights 'tsp-50'; available: branching-gcnn, branching-hybrid, branching-mlp, "
        "cvrp, forge, forge-gap, forge-hints, kp, tsp, udc-divider"
    )
    assert isinstance(info.value, InputError) and info.value.exit_code == 3


def test_unknown_name_in_an_empty_registry(tmp_path, monkeypatch):
    (tmp_path / "manifest.json").write_text("{}")
    monkeypatch.setattr(weights, "DIRECTORY", tmp_path)
    with pytest.raises(WeightsError) as info:
        load("tsp")
    assert _one_line(info) == "unknown weights 'tsp'; available: none are shipped yet"


def test_a_file_without_manifest_has_an_empty_entry(tmp_path):
    save(_state_dict(), tmp_path / "loose.pt", entry=_entry())
    state_dict, entry = load(tmp_path / "loose.pt")
    assert entry == {} and set(state_dict) == set(SHAPES)


def test_missing_file(tmp_path):
    with pytest.raises(WeightsError) as info:
        load(tmp_path / "absent.pt")
    assert _one_line(info) == f"weights file {tmp_path / 'absent.pt'} does not exist"


def test_sha256_mismatch(registry):
    folder, entry = registry
    # the same name rewritten with other numbers, without registering it again
    save({**_state_dict(), "encoder.bias": torch.zeros(4)}, folder / "tsp-4.pt", entry=_entry())
    with pytest.raises(WeightsError) as info:
        load(folder / "tsp-4.pt")
    message = _one_line(info)
    assert message.startswith(f"{folder / 'tsp-4.pt'}: sha256 ")
    assert f"differs from the manifest's {entry['sha256'][:12]}..." in message
    assert message.endswith("the file is corrupt or modified")


@pytest.mark.parametrize(
    "damage",
    [lambda data: data[: len(data) // 2], lambda data: b"these are not torch weights\x00" * 8],
    ids=["truncated", "garbage"],
)
def test_unreadable_bytes(tmp_path, damage):
    path = tmp_path / "bad.pt"
    save(_state_dict(), path, entry=_entry())
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(WeightsError) as info:
        load(path)
    message = _one_line(info)
    assert message.startswith(f"{path}: torch cannot read it (")
    assert message.endswith("); the file is corrupt or not a torch weights file")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ([torch.zeros(2)], "holds a list, not a state dict (parameter names to tensors)"),
        ({"w": 3}, "maps 'w' to a int, not a tensor"),
        ({1: torch.zeros(2)}, "has a int key 1; state dict keys are names"),
    ],
)
def test_content_that_is_not_a_state_dict(tmp_path, content, problem):
    path = tmp_path / "odd.pt"
    torch.save(content, path)
    with pytest.raises(WeightsError) as info:
        load(path)
    assert _one_line(info) == f"{path}: {problem}"


@pytest.mark.parametrize(
    ("expected", "problem"),
    [
        (
            {"encoder.weight": (4, 5), "encoder.bias": (4,)},
            "parameter 'encoder.weight' has shape (4, 3) but the model expects (4, 5) "
            "(trained with other hyper-parameters?)",
        ),
        (
            {**SHAPES, "decoder.weight": (2, 2)},
            "parameter 'decoder.weight' of shape (2, 2) is missing",
        ),
        ({"encoder.weight": (4, 3)}, "unexpected parameter 'encoder.bias' of shape (4,)"),
    ],
    ids=["shape", "missing", "unexpected"],
)
def test_expected_shapes(registry, expected, problem):
    folder, _ = registry
    with pytest.raises(WeightsError) as info:
        load(folder / "tsp-4.pt", expected=expected)
    assert _one_line(info) == f"{folder / 'tsp-4.pt'}: {problem}"


def test_broken_manifest(tmp_path):
    (tmp_path / "manifest.json").write_text("{not json")
    with pytest.raises(WeightsError) as info:
        manifest(tmp_path)
    assert _one_line(info).startswith(f"{tmp_path / 'manifest.json'}: not valid JSON (")
    (tmp_path / "manifest.json").write_text(json.dumps({"x": {"file": "x.pt"}}))
    with pytest.raises(WeightsError) as info:
        load(tmp_path / "x.pt")
    assert _one_line(info).startswith(f"{tmp_path / 'manifest.json'}: entry 'x' lacks 'sha256', ")
    with pytest.raises(WeightsError) as info:
        manifest(tmp_path / "nowhere")
    assert _one_line(info) == f"no manifest.json in {tmp_path / 'nowhere'}"


def _strings(value) -> list[str]:
    """Every string of a JSON value, keys included, walked recursively."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in _strings(key) + _strings(item)]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []


def test_no_field_of_the_shipped_manifest_holds_an_absolute_path():
    raw = json.loads((weights.DIRECTORY / "manifest.json").read_text(encoding="utf-8"))
    strings = _strings(raw)
    assert any("--checkpoint runs/" in s for s in strings)  # the walk reaches train_command
    for text in strings:
        for word in re.split(r"[\s=,'\"()\[\]]+", text):
            assert not word.startswith(("/", "~", "\\")), (word, text)
            assert not re.match(r"[A-Za-z]:[\\/]", word), (word, text)


@pytest.mark.parametrize(
    "field, value",
    [
        ("train_command", "hybridsolve train bq --checkpoint /work/runs/ckpt.pt --name tsp"),
        ("train_command", "hybridsolve train bq --output=~/runs/bq.pt"),
        ("train_command", "hybridsolve train bq --label-cache C:\\cache\\tsp100"),
        ("train_command", "/usr/bin/hybridsolve train bq"),
        ("labeller", "ils, its default budget, seed=0, tour file /data/tours.npz"),
        ("device", "~"),
        ("model", {"embedding": 4, "vocabulary": "/opt/vocab.txt"}),
    ],
)
def test_a_manifest_entry_with_an_absolute_path_is_refused(tmp_path, field, value):
    entry = save(_state_dict(), tmp_path / "tsp-4.pt", entry=_entry())
    entry[field] = value
    (tmp_path / "manifest.json").write_text(json.dumps({"tsp-4": entry}))
    with pytest.raises(WeightsError) as info:
        manifest(tmp_path)
    message = _one_line(info)
    assert message.startswith(
        f"{tmp_path / 'manifest.json'}: entry 'tsp-4' field {field!r} holds the absolute path "
    )
    assert "relative to the working folder" in message
    with pytest.raises(UsageError, match="holds the absolute path"):
        register("tsp-4", entry, tmp_path)
    with pytest.raises(UsageError, match="holds the absolute path"):
        save(_state_dict(), tmp_path / "w.pt", entry={**_entry(), field: value})


@pytest.mark.parametrize(
    "value",
    [
        "hybridsolve train bq --checkpoint runs/tsp100/ckpt.pt --output runs/tsp100/bq.pt",
        "hybridsolve train bq --label-cache ../cache/tsp100 --lr 5e-4",
        "about ~5% worse, 5/7 epochs, n/a",
    ],
)
def test_relative_paths_and_slashes_inside_words_are_accepted(tmp_path, value):
    entry = save(_state_dict(), tmp_path / "tsp-4.pt", entry=_entry(train_command=value))
    register("tsp-4", entry, tmp_path)
    assert manifest(tmp_path)["tsp-4"]["train_command"] == value


def test_save_rejects_bad_arguments(tmp_path):
    with pytest.raises(UsageError) as info:
        save(_state_dict(), tmp_path / "w.pth", entry=_entry())
    assert _one_line(info) == "weights files end in '.pt', not 'w.pth'"
    with pytest.raises(UsageError) as info:
        save(
            _state_dict(),
            tmp_path / "w.pt",
            entry={k: v for k, v in _entry().items() if k != "epochs"},
        )
    assert _one_line(info) == "save(): the entry lacks 'epochs'"
    with pytest.raises(UsageError) as info:
        save(_state_dict(), tmp_path / "w.pt", entry=_entry(epochs="2"))
    assert _one_line(info) == "save(): the entry field 'epochs' should be int, not str"
    with pytest.raises(UsageError) as info:
        save(_state_dict(), tmp_path / "w.pt", entry=_entry(lr=0.1))
    assert _one_line(info) == "save(): the entry has unknown field(s) 'lr'"
    with pytest.raises(UsageError) as info:
        save([torch.zeros(1)], tmp_path / "w.pt", entry=_entry())
    assert _one_line(info).startswith("save(): the state dict holds a list, not a state dict")
    assert not (tmp_path / "w.pt").exists()


def test_register_rejects_bad_arguments(registry, tmp_path_factory):
    folder, entry = registry
    with pytest.raises(UsageError) as info:
        register("../up", entry, folder)
    assert _one_line(info) == "bad weights name '../up': use letters, digits, '.', '_' and '-'"
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    with pytest.raises(WeightsError) as info:
        register("tsp-4", entry, elsewhere)
    assert _one_line(info) == f"register('tsp-4'): {elsewhere / 'tsp-4.pt'} does not exist"
    with pytest.raises(WeightsError) as info:
        register("tsp-4", {**entry, "sha256": "0" * 64}, folder)
    assert _one_line(info) == (
        f"register('tsp-4'): {folder / 'tsp-4.pt'} does not match the entry's sha256"
    )


def test_map_location_is_checked(registry):
    folder, _ = registry
    with pytest.raises(UsageError, match="unknown device 'gpu'"):
        load(folder / "tsp-4.pt", map_location="gpu")
    assert load(folder / "tsp-4.pt", map_location=torch.device("cpu"))[0]["encoder.bias"].is_cpu


def test_the_torch_free_reader_matches_torch_and_refuses_other_content(tmp_path):
    import io
    import pickle
    import zipfile

    import numpy as np
    import torch

    from hybridsolve.neural.pt_reader import PtFormatError, read_state_dict

    state = {"a": torch.arange(6, dtype=torch.float32).reshape(2, 3).t(), "b": torch.tensor(3)}
    buffer = io.BytesIO()
    torch.save(state, buffer)
    found = read_state_dict(buffer.getvalue())
    assert np.array_equal(found["a"], state["a"].numpy()) and found["b"] == 3
    evil = io.BytesIO()
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("x/data.pkl", pickle.dumps({"a": print}))
    with pytest.raises(PtFormatError, match="builtins.print"):
        read_state_dict(evil.getvalue())
    with pytest.raises(PtFormatError, match="cannot read it"):
        read_state_dict(b"not a zip file")
