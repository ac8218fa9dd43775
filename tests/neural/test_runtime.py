"""neural.runtime: lazy torch import, device choice, seeding."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import types

import numpy as np
import pytest
import torch

from hybridsolve.mip import UsageError
from hybridsolve.neural import (
    device,
    generator,
    require_geometric,
    require_torch,
    runtime,
    seed_everything,
)

INSTALL = "pip install 'hybridsolve[neural]'"


def test_importing_the_package_does_not_import_torch():
    probe = (
        "import sys, json; import hybridsolve.neural\n"
        "print(json.dumps([m for m in ('torch', 'torch_geometric') if m in sys.modules]))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_require_returns_the_modules(monkeypatch):
    assert require_torch() is torch
    # a stand-in: the real torch_geometric takes seconds to import
    stand_in = types.ModuleType("torch_geometric")
    monkeypatch.setitem(sys.modules, "torch_geometric", stand_in)
    assert require_geometric() is stand_in


def test_missing_torch_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    with pytest.raises(UsageError) as info:
        require_torch()
    assert str(info.value) == f"the neural models need torch: {INSTALL}"
    assert info.value.exit_code == 2
    with pytest.raises(UsageError, match="the neural models need torch: "):
        require_geometric()  # torch is checked first
    with pytest.raises(UsageError, match="the neural models need torch: "):
        device("cpu")


def test_missing_torch_geometric_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch_geometric", None)
    with pytest.raises(UsageError) as info:
        require_geometric()
    assert str(info.value) == f"the neural models need torch_geometric: {INSTALL}"


def test_broken_torch_install_is_reported_in_one_line(monkeypatch):
    def broken(name):
        raise OSError("libcudnn.so.9: cannot open shared object file\nmore detail")

    monkeypatch.setattr(runtime, "import_module", broken)
    with pytest.raises(UsageError) as info:
        require_torch()
    assert str(info.value) == (
        "torch is installed but does not import "
        f"(libcudnn.so.9: cannot open shared object file); reinstall it: {INSTALL}"
    )


def test_device_auto_and_cpu():
    wanted = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert device() == wanted
    assert device("auto") == wanted
    assert device(" CPU ") == torch.device("cpu")
    assert device("cpu") == torch.device("cpu")


@pytest.mark.parametrize("spec", ["gpu", "cuda:", "cuda:x", "", "mps", 0])
def test_device_rejects_unknown_specs(spec):
    with pytest.raises(UsageError) as info:
        device(spec)
    assert str(info.value) == (f"unknown device {spec!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA is present here")
@pytest.mark.parametrize("spec", ["cuda", "cuda:1"])
def test_device_cuda_without_cuda(spec):
    with pytest.raises(UsageError) as info:
        device(spec)
    assert str(info.value) == (
        f"device {spec!r} needs CUDA, which torch {torch.__version__} does not see here; "
        "use device='cpu' or 'auto'"
    )


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_device_cuda_index_beyond_the_visible_devices():
    count = torch.cuda.device_count()
    assert device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(UsageError, match=f"does not exist: {count} CUDA device"):
        device(f"cuda:{count}")


def _draws() -> tuple[list[float], list[float], list[float]]:
    return torch.rand(4).tolist(), np.random.rand(4).tolist(), [random.random() for _ in range(4)]


def test_seed_everything_makes_draws_repeat():
    seed_everything(7)
    first = _draws()
    seed_everything(7)
    assert _draws() == first
    seed_everything(8)
    other = _draws()
    assert all(a != b for a, b in zip(other, first))


def test_generator_is_seeded():
    a = torch.rand(5, generator=generator(3))
    assert torch.equal(a, torch.rand(5, generator=generator(3, "cpu")))
    assert torch.equal(a, torch.rand(5, generator=generator(3, torch.device("cpu"))))
    assert not torch.equal(a, torch.rand(5, generator=generator(4)))
    assert generator(3).device == torch.device("cpu")


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (-1, "seed must be in [0, 2**32), got -1"),
        (2**32, f"seed must be in [0, 2**32), got {2**32}"),
        (1.5, "seed must be an integer, not float"),
        ("3", "seed must be an integer, not str"),
    ],
)
def test_bad_seeds(seed, message):
    with pytest.raises(UsageError) as info:
        seed_everything(seed)
    assert str(info.value) == message
    with pytest.raises(UsageError) as info:
        generator(seed)
    assert str(info.value) == message


def test_numpy_integer_seed():
    assert generator(np.int64(5)).initial_seed() == 5
