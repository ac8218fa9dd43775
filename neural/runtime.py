"""Lazy access to torch and torch_geometric, device choice and seeding.

Nothing here imports torch at module level: :func:`require_torch` and
:func:`require_geometric` import it on first use and turn a missing install into a
one-line :class:`~hybridsolve.mip.UsageError` that says what to install.
"""

from __future__ import annotations

import operator
import random
import re
from importlib import import_module
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from hybridsolve.mip.errors import UsageError

if TYPE_CHECKING:
    import torch

__all__ = ["device", "generator", "require_geometric", "require_torch", "seed_everything"]

_INSTALL = "pip install 'hybridsolve[neural]'"
_DEVICE_SPEC = re.compile(r"auto|cpu|cuda(:\d+)?")


def _require(name: str) -> ModuleType:
    """Import ``name``, turning a failed import into a one-line :class:`UsageError`."""
    try:
        return import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and exc.name.split(".")[0] == name:
            raise UsageError(f"the neural models need {name}: {_INSTALL}") from None
        reason = exc
    except (ImportError, OSError) as exc:
        reason = exc
    text = str(reason).strip()
    detail = text.splitlines()[0] if text else type(reason).__name__
    raise UsageError(
        f"{name} is installed but does not import ({detail}); reinstall it: {_INSTALL}"
    ) from None


def require_torch() -> ModuleType:
    """The ``torch`` module, imported on first use.

    Returns
    -------
    module
        ``torch``.

    Raises
    ------
    UsageError
        torch is not installed, or is installed but fails to import.
    """
    return _require("torch")


def require_geometric() -> ModuleType:
    """The ``torch_geometric`` module, imported on first use (torch first).

    Returns
    -------
    module
        ``torch_geometric``.

    Raises
    ------
    UsageError
        torch or torch_geometric is not installed, or fails to import.
    """
    require_torch()
    return _require("torch_geometric")


def _check_seed(seed: int) -> int:
    """``seed`` as a Python int in ``[0, 2**32)``, numpy's legacy range."""
    try:
        value = operator.index(seed)
    except TypeError:
        raise UsageError(f"seed must be an integer, not {type(seed).__name__}") from None
    if not 0 <= value < 2**32:
        raise UsageError(f"seed must be in [0, 2**32), got {value}")
    return value


def device(spec: str = "auto") -> torch.device:
    """The torch device a model runs on.

    Parameters
    ----------
    spec : str, default "auto"
        ``"auto"`` (CUDA when ``torch.cuda.is_available()``, CPU otherwise), ``"cpu"``,
        ``"cuda"`` or ``"cuda:N"``; case and surrounding blanks are ignored.

    Returns
    -------
    torch.device

    Raises
    ------
    UsageError
        An unknown spec, or CUDA asked for where it is not available (no GPU, a CPU build
        of torch, or an index beyond the visible devices).
    """
    torch = require_torch()
    if not isinstance(spec, str) or not _DEVICE_SPEC.fullmatch(spec.strip().lower()):
        raise UsageError(f"unknown device {spec!r}: use 'auto', 'cpu', 'cuda' or 'cuda:N'")
    spec = spec.strip().lower()
    cuda = torch.cuda.is_available()
    if spec == "auto":
        return torch.device("cuda" if cuda else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if not cuda:
        raise UsageError(
            f"device {spec!r} needs CUDA, which torch {torch.__version__} does not see here; "
            "use device='cpu' or 'auto'"
        )
    chosen = torch.device(spec)
    count = torch.cuda.device_count()
    if chosen.index is not None and chosen.index >= count:
        raise UsageError(f"device {spec!r} does not exist: {count} CUDA device(s) visible")
    return chosen


def seed_everything(seed: int) -> None:
    """Seed python's ``random``, numpy's legacy global generator and torch.

    ``torch.manual_seed`` seeds the CPU generator and every CUDA device's generator. Code in
    hybridsolve passes explicit generators (:func:`generator`, ``numpy.random.Generator``);
    this is for the third-party code that draws from the global ones.

    Parameters
    ----------
    seed : int
        In ``[0, 2**32)``.

    Raises
    ------
    UsageError
        ``seed`` is not an integer in range, or torch is missing.
    """
    torch = require_torch()
    seed = _check_seed(seed)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A seeded ``torch.Generator``.

    Parameters
    ----------
    seed : int
        In ``[0, 2**32)``.
    device : str or torch.device, default "cpu"
        Where the generator draws; a string is resolved like :func:`device`'s ``spec``.
        CPU and CUDA generators give different streams from the same seed, so data meant to
        be the same on every machine is drawn on the CPU.

    Returns
    -------
    torch.Generator

    Raises
    ------
    UsageError
        A bad seed or device, or torch is missing.
    """
    torch = require_torch()
    seed = _check_seed(seed)
    where = device if isinstance(device, torch.device) else _resolve(device)
    return torch.Generator(device=where).manual_seed(seed)


#: :func:`device` under a name that :func:`generator`'s ``device`` argument does not shadow.
_resolve = device
