"""Typed exceptions of hybridsolve, each carrying the command line's exit code.

Exit codes (see DESIGN.md): 0 finished whatever the model status, 1 solver error,
2 usage error, 3 unreadable input.
"""

from __future__ import annotations

__all__ = ["HybridsolveError", "InputError", "ProblemError", "SolverError", "UsageError"]


class HybridsolveError(Exception):
    """Base class of every error hybridsolve raises on purpose."""

    exit_code: int = 1


class InputError(HybridsolveError):
    """A file that cannot be read: missing, empty, a directory, or not valid MPS/LP/.sol."""

    exit_code = 3


class ProblemError(InputError, ValueError):
    """Arrays that do not describe a valid model (wrong shapes, NaN, duplicate names)."""


class UsageError(HybridsolveError, ValueError):
    """A bad argument: unknown solver, negative time limit, unknown option name."""

    exit_code = 2


class SolverError(HybridsolveError):
    """The backend failed in a way that leaves no trustworthy answer."""

    exit_code = 1
