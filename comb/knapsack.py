"""The 0-1 knapsack problem."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from hybridsolve.mip import Problem
from hybridsolve.mip.errors import ProblemError

from . import _common as cm

__all__ = ["KP"]


def _numbers(value, what: str, n: int | None) -> np.ndarray:
    """Non-negative finite numbers, kept as int64 when given with an integer dtype."""
    raw = value if isinstance(value, np.ndarray) else np.asarray(value)
    out = cm.float_array(raw, what, (n,))
    cm.non_negative(out, what)
    return out.astype(np.int64) if raw.dtype.kind in "iu" else out


@dataclass(frozen=True, repr=False, eq=False)
class KP:
    """A 0-1 knapsack problem: choose items of largest total value within the capacity.

    Parameters
    ----------
    values : array_like
        ``(n,)`` non-negative item values.
    weights : array_like
        ``(n,)`` non-negative item weights.
    capacity : float
        Knapsack capacity, non-negative.
    name : str
        Instance name.

    Raises
    ------
    ProblemError
        On wrong shapes, NaN or infinite entries, negative values, weights or capacity.

    Notes
    -----
    Arrays given with an integer dtype are stored as ``int64`` (so exact dynamic
    programming can use them), anything else as ``float64``. A selection is always an
    array of distinct item indices, never a boolean mask (convert one with
    :func:`numpy.flatnonzero`).
    """

    values: np.ndarray
    weights: np.ndarray
    capacity: float
    name: str = ""

    def __post_init__(self) -> None:
        values = _numbers(self.values, "values", None)
        weights = _numbers(self.weights, "weights", values.shape[0])
        capacity = cm.scalar(self.capacity, "capacity")
        if capacity < 0:
            raise ProblemError(f"capacity must be non-negative, got {capacity:g}")
        if isinstance(self.capacity, (int, np.integer)):
            capacity = int(self.capacity)
        object.__setattr__(self, "values", cm.frozen(values))
        object.__setattr__(self, "weights", cm.frozen(weights))
        object.__setattr__(self, "capacity", capacity)
        object.__setattr__(self, "name", str(self.name))

    @property
    def num_items(self) -> int:
        """Number of items ``n``."""
        return int(self.values.shape[0])

    @property
    def size(self) -> int:
        """Problem size, the number of items."""
        return self.num_items

    @property
    def is_integral(self) -> bool:
        """Whether weights and capacity are whole numbers (exact DP over capacity works)."""
        return self.weights.dtype.kind == "i" and float(self.capacity).is_integer()

    def _selection(self, selection) -> np.ndarray:
        idx = cm.indices(selection, "selection", self.num_items)
        cm.distinct(idx, "selection")
        return idx

    def value(self, selection: Sequence[int] | np.ndarray) -> float:
        """Total value of the selected items (feasibility is not checked).

        Raises
        ------
        ProblemError
            On repeated or out-of-range indices, or a boolean mask.
        """
        return float(self.values[self._selection(selection)].sum())

    def weight(self, selection: Sequence[int] | np.ndarray) -> float:
        """Total weight of the selected items."""
        return float(self.weights[self._selection(selection)].sum())

    def check_selection(self, selection: Sequence[int] | np.ndarray) -> None:
        """Check distinct item indices whose total weight fits the capacity.

        Raises
        ------
        ProblemError
            With the reason.
        """
        total = self.weight(selection)
        if total > self.capacity + 1e-9 * max(1.0, abs(self.capacity)):
            raise ProblemError(f"selection weighs {total:g} > capacity {self.capacity:g}")

    def to_problem(self) -> Problem:
        """The MIP ``max sum v_i x_i`` s.t. ``sum w_i x_i <= capacity`` (row ``cap``).

        Returns
        -------
        Problem
            Binary variables ``x_<i>`` in item order.
        """
        n = self.num_items
        A = sp.csr_matrix(self.weights.astype(np.float64).reshape(1, n))
        return Problem.from_arrays(
            self.values.astype(np.float64), A, -np.inf, float(self.capacity), 0.0, 1.0, True,
            sense="maximize", var_names=cm.names("x_", range(n)), con_names=["cap"],
            name=self.name or "kp",
        )  # fmt: skip

    def __repr__(self) -> str:
        return f"KP({cm.short_name(self.name)}n={self.num_items}, capacity={self.capacity:g})"
