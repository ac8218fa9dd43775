"""Validation helpers shared by the instance types of :mod:`hybridsolve.comb`.

Every helper raises :class:`~hybridsolve.mip.errors.ProblemError` with a one-line message
that names the offending argument, and returns a fresh, read-only array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from hybridsolve.mip.errors import ProblemError

__all__: list[str] = []

#: Largest number of nodes for which a full ``(n, n)`` distance matrix is built.
MAX_MATRIX_NODES = 5000

#: Rounding rules for distances computed from coordinates.
ROUNDINGS = ("none", "nint")


def frozen(array: np.ndarray) -> np.ndarray:
    """Mark ``array`` read-only and return it."""
    array.setflags(write=False)
    return array


def float_array(value, what: str, shape: tuple[int | None, ...]) -> np.ndarray:
    """A finite, C-ordered float64 copy of ``value`` with the given shape (``None`` = any length).

    C order whatever the input's, so that kernels meet one array layout per instance type
    (see :mod:`hybridsolve.comb.warmup`).

    Raises
    ------
    ProblemError
        On a wrong shape, a value that is not numeric, NaN or an infinite entry.
    """
    if isinstance(value, (str, bytes)):
        raise ProblemError(f"{what} must be numeric, got a string")
    try:
        out = np.array(value, dtype=np.float64, order="C")
    except (TypeError, ValueError) as exc:
        raise ProblemError(f"{what} must be a numeric array ({exc})") from None
    parts = ["n" if s is None else str(s) for s in shape]
    expected = f"({parts[0]},)" if len(parts) == 1 else "(" + ", ".join(parts) + ")"
    if out.ndim != len(shape) or any(s is not None and s != o for s, o in zip(shape, out.shape)):
        raise ProblemError(f"{what} has shape {out.shape}, expected {expected}")
    if np.isnan(out).any():
        where = tuple(int(i) for i in np.argwhere(np.isnan(out))[0])
        raise ProblemError(f"{what} contains NaN at index {where[0] if len(where) == 1 else where}")
    if np.isinf(out).any():
        where = tuple(int(i) for i in np.argwhere(np.isinf(out))[0])
        raise ProblemError(
            f"{what} contains an infinite value at index {where[0] if len(where) == 1 else where}"
        )
    return out


def integral(array: np.ndarray, what: str) -> np.ndarray:
    """``array`` (finite floats) as int64, refusing values that are not whole numbers."""
    bad = np.flatnonzero(array.ravel() != np.round(array.ravel()))
    if bad.size:
        raise ProblemError(
            f"{what} must be integer-valued, got {array.ravel()[bad[0]]:g} at index {int(bad[0])}"
        )
    return array.astype(np.int64)


def scalar(value, what: str) -> float:
    """A finite float from a number."""
    if isinstance(value, (bool, np.bool_)) or not np.isscalar(value):
        raise ProblemError(f"{what} must be a number, got {value!r}")
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ProblemError(f"{what} must be a number, got {value!r}") from None
    if not np.isfinite(out):
        raise ProblemError(f"{what} must be finite, got {out}")
    return out


def non_negative(array: np.ndarray, what: str, positive: bool = False) -> None:
    """Refuse negative (or, with ``positive``, non-positive) entries."""
    bad = np.flatnonzero(array.ravel() <= 0) if positive else np.flatnonzero(array.ravel() < 0)
    if bad.size:
        index = np.unravel_index(bad[0], array.shape)
        where = int(index[0]) if len(index) == 1 else tuple(int(i) for i in index)
        sign = "positive" if positive else "non-negative"
        raise ProblemError(f"{what} must be {sign}, got {array.ravel()[bad[0]]:g} at index {where}")


def square_matrix(value, what: str, n: int | None = None) -> np.ndarray:
    """A finite, square float64 matrix with non-negative off-diagonal entries.

    The diagonal is ignored: it is set to zero in the returned copy (TSPLIB files often
    store a large number there).
    """
    if isinstance(value, (str, bytes)):
        raise ProblemError(f"{what} must be numeric, got a string")
    try:
        out = np.array(value, dtype=np.float64, order="C")
    except (TypeError, ValueError) as exc:
        raise ProblemError(f"{what} must be a numeric array ({exc})") from None
    if out.ndim != 2 or out.shape[0] != out.shape[1]:
        raise ProblemError(f"{what} must be a square matrix, got shape {out.shape}")
    if n is not None and out.shape[0] != n:
        raise ProblemError(f"{what} has shape {out.shape}, expected ({n}, {n})")
    np.fill_diagonal(out, 0.0)
    out = float_array(out, what, out.shape)
    non_negative(out, what)
    return out


def rounding_rule(rounding: str) -> str:
    """Check a rounding rule name."""
    if rounding not in ROUNDINGS:
        raise ProblemError(f"rounding must be 'none' or 'nint', got {rounding!r}")
    return rounding


def lengths(a: np.ndarray, b: np.ndarray, rounding: str) -> np.ndarray:
    """Euclidean lengths between matching rows of ``a`` and ``b``, rounded as asked.

    ``"nint"`` is TSPLIB's ``EUC_2D`` rule ``(int)(d + 0.5)``: halves round up, unlike
    :func:`numpy.rint` (Reinelt, "TSPLIB 95", 1995, section 2.1).
    """
    d = np.hypot(a[..., 0] - b[..., 0], a[..., 1] - b[..., 1])
    return np.floor(d + 0.5) if rounding == "nint" else d


def coordinate_matrix(coords: np.ndarray, rounding: str, what: str) -> np.ndarray:
    """Full pairwise distance matrix from coordinates, refusing more than MAX_MATRIX_NODES."""
    n = coords.shape[0]
    if n > MAX_MATRIX_NODES:
        raise ProblemError(
            f"{what} has {n} nodes: a full {n} x {n} distance matrix is refused above "
            f"{MAX_MATRIX_NODES} nodes; costs are computed from the coordinates without one"
        )
    from scipy.spatial.distance import cdist

    d = cdist(coords, coords)
    return frozen(np.floor(d + 0.5) if rounding == "nint" else d)


def indices(value, what: str, n: int) -> np.ndarray:
    """A 1-D int64 array of indices in ``[0, n)`` (duplicates allowed).

    Raises
    ------
    ProblemError
        On a boolean mask, a non-integer or non-finite entry, a wrong dimension or an index
        out of range.
    """
    if isinstance(value, (str, bytes)):
        raise ProblemError(f"{what} must be a sequence of indices, got a string")
    raw = np.asarray(value)
    if raw.dtype == bool:
        raise ProblemError(f"{what} must list indices, got a boolean array; use numpy.flatnonzero")
    if raw.ndim != 1:
        raise ProblemError(f"{what} must be one-dimensional, got shape {raw.shape}")
    if raw.size == 0:
        return np.zeros(0, dtype=np.int64)
    if raw.dtype.kind not in "iu":
        try:
            as_float = raw.astype(np.float64)
        except (TypeError, ValueError):
            raise ProblemError(f"{what} must contain integer indices") from None
        bad = np.flatnonzero(~np.isfinite(as_float) | (as_float != np.round(as_float)))
        if bad.size:
            raise ProblemError(
                f"{what} must contain integer indices, got {as_float[bad[0]]:g} at position "
                f"{int(bad[0])}"
            )
        raw = as_float
    out = raw.astype(np.int64)
    bad = np.flatnonzero((out < 0) | (out >= n))
    if bad.size:
        raise ProblemError(
            f"{what} has index {int(out[bad[0]])} at position {int(bad[0])}, out of range "
            f"0..{n - 1}"
        )
    return out


def distinct(idx: np.ndarray, what: str) -> None:
    """Refuse repeated indices, naming the first one repeated."""
    if idx.size < 2:
        return
    values, counts = np.unique(idx, return_counts=True)
    if (counts > 1).any():
        twice = int(values[np.argmax(counts > 1)])
        raise ProblemError(f"{what} lists index {twice} more than once")


def permutation(value, what: str, n: int) -> np.ndarray:
    """Check that ``value`` is a permutation of ``0..n-1``."""
    idx = indices(value, what, n)
    if idx.size != n:
        raise ProblemError(f"{what} has {idx.size} entries, expected a permutation of {n} nodes")
    seen = np.zeros(n, dtype=bool)
    seen[idx] = True
    if not seen.all():
        missing = int(np.flatnonzero(~seen)[0])
        values, counts = np.unique(idx, return_counts=True)
        twice = int(values[np.argmax(counts > 1)])
        raise ProblemError(
            f"{what} is not a permutation: {twice} appears more than once and {missing} is missing"
        )
    return idx


def short_name(name: str) -> str:
    """The name part of a repr: empty when there is no name."""
    return f"{name!r}, " if name else ""


def names(prefix: str, items: Sequence[int] | np.ndarray) -> list[str]:
    """``prefix`` followed by each item (for variable and row names)."""
    return [f"{prefix}{i}" for i in items]
