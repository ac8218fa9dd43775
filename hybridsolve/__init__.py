"""hybridsolve: exact MIP solvers, ALNS, heuristics and learned guidance behind one API.

The names below are imported on first use, so ``import hybridsolve`` and
``hybridsolve --help`` stay fast.
"""

from __future__ import annotations

import importlib
from pkgutil import extend_path
from typing import Any

# Run from a source checkout after a plain `pip install .`, this folder shadows the installed
# package, which alone holds the mapped sub-packages (mip/ -> hybridsolve/mip/): look there too.
__path__ = extend_path(__path__, __name__)

__version__ = "0.1.0"

_EXPORTS = {
    "solve": "hybridsolve.solvers",
    "register": "hybridsolve.solvers",
    "available": "hybridsolve.solvers",
    "Problem": "hybridsolve.mip",
    "Result": "hybridsolve.mip",
    "Status": "hybridsolve.mip",
    "Limit": "hybridsolve.mip",
    "Certificate": "hybridsolve.mip",
    "Hints": "hybridsolve.mip",
    "HintSettings": "hybridsolve.mip",
    "read": "hybridsolve.mip",
    "write": "hybridsolve.mip",
    "check": "hybridsolve.mip",
    "read_sol": "hybridsolve.mip",
    "write_sol": "hybridsolve.mip",
    "HybridsolveError": "hybridsolve.mip",
    "InputError": "hybridsolve.mip",
    "UsageError": "hybridsolve.mip",
    "SolverError": "hybridsolve.mip",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'hybridsolve' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
