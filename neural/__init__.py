"""Neural combinatorial optimisation: the runtime and the registry of trained weights.

This package is where learned models of hybridsolve live (constructive policies for
routing problems, graph encoders of MIPs, branching and hint heads). Their place next to
the exact solvers and the Numba heuristics is batch throughput: one forward pass on a GPU
decodes many instances at once, so they pay off when many similar instances are solved
together, not on a single instance on a CPU.

What is here so far is the ground those models stand on:

- :mod:`.runtime`: :func:`require_torch` / :func:`require_geometric` (lazy imports with an
  actionable message), :func:`device` (``"auto"`` picks CUDA when present),
  :func:`seed_everything` and :func:`generator` for reproducible runs;
- :mod:`.weights`: trained weights shipped inside the package as ``.pt`` files with a
  ``manifest.json`` recording how each was trained; :func:`load` reads them with
  ``torch.load(..., weights_only=True)`` and checks checksum and shapes.

torch and torch_geometric are optional (``pip install 'hybridsolve[neural]'``) and imported
lazily: ``import hybridsolve.neural`` does not import torch; the first call that needs it
does, and raises :class:`~hybridsolve.mip.UsageError` when it is not installed.
"""

from __future__ import annotations

from .runtime import device, generator, require_geometric, require_torch, seed_everything
from .weights import FIELDS, WeightsError, available, load, manifest, register, save

__all__ = [
    "FIELDS",
    "WeightsError",
    "available",
    "device",
    "generator",
    "load",
    "manifest",
    "register",
    "require_geometric",
    "require_torch",
    "save",
    "seed_everything",
]
