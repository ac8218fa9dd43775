"""The 0-1 knapsack problem: the instance type :class:`KP` and its heuristics.

:func:`kp_greedy` (value per weight, or the best single item) and :func:`kp_dp` (exact
dynamic programming over the capacity) are methods of :func:`hybridsolve.comb.solve`;
:func:`kp_improve` improves a given selection for :func:`hybridsolve.comb.improve`. They
return the chosen items as an ``int64`` array; the conventions they share are those of
:mod:`hybridsolve.comb._search`. Kernels are ``@njit(cache=True)`` functions on plain arrays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from numba import njit

from hybridsolve.mip import Problem
from hybridsolve.mip.errors import ProblemError, UsageError

from . import _common as cm
from ._search import Tracker

__all__ = ["KP", "kp_dp", "kp_greedy", "kp_improve"]


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


# ------------------------------------------------------------------ heuristics


def _kp_order(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Items of positive value by decreasing value per weight (weightless ones first)."""
    useful = np.flatnonzero(values > 0)
    w = weights[useful].astype(np.float64)
    ratio = np.full(useful.size, np.inf)
    np.divide(values[useful], w, out=ratio, where=w > 0)
    return useful[np.argsort(-ratio, kind="stable")]


@njit(cache=True, nogil=True)
def _kp_fill(weights: np.ndarray, room: float, order: np.ndarray, taken: np.ndarray) -> float:
    """Take the items of ``order`` in turn whenever they fit in what is left of ``room``.

    Returns the room left.
    """
    for i in order:
        if not taken[i] and weights[i] <= room:
            taken[i] = 1
            room -= weights[i]
    return room


@njit(cache=True, nogil=True)
def _kp_dp_rows(
    values: np.ndarray, weights: np.ndarray, best: np.ndarray, keep: np.ndarray, first: int,
    last: int,
) -> None:  # fmt: skip
    """Add items ``first..last-1`` to the table: ``best[c]`` is the largest value within
    weight ``c``; ``keep[k, c]`` records that item ``k`` improved it (zero-filled rows; a
    ``keep`` without rows records nothing, for a value alone)."""
    capacity = best.shape[0] - 1
    record = keep.shape[0] > 0
    for k in range(first, last):
        wk = weights[k]
        vk = values[k]
        for c in range(capacity, wk - 1, -1):
            candidate = best[c - wk] + vk
            if candidate > best[c]:
                best[c] = candidate
                if record:
                    keep[k, c] = 1


@njit(cache=True, nogil=True)
def _kp_trace(weights: np.ndarray, keep: np.ndarray, count: int, capacity: int) -> np.ndarray:
    """The items (positions ``< count``) of the optimum within ``capacity``."""
    taken = np.zeros(count, dtype=np.bool_)
    c = capacity
    for k in range(count - 1, -1, -1):
        if keep[k, c]:
            taken[k] = True
            c -= weights[k]
    return taken


def kp_greedy(instance: KP, *, tracker: Tracker, seed: int = 0) -> np.ndarray:
    """Greedy by value per weight, or the best single item if that is worth more.

    Items are taken in order of decreasing value-to-weight ratio whenever they still fit;
    the result is compared with the most valuable item that fits alone, which makes it a
    1/2-approximation.

    Parameters
    ----------
    instance : KP
        The instance.
    tracker : Tracker
        Receives the value.
    seed : int
        Unused (the method is deterministic).

    Returns
    -------
    numpy.ndarray
        Chosen item indices, sorted.

    References
    ----------
    S. Martello and P. Toth, "Knapsack problems: algorithms and computer
    implementations", Wiley (1990), section 2.4.
    """
    values = instance.values.astype(np.float64)
    weights = instance.weights.astype(np.float64)
    order = _kp_order(values, weights)
    taken = np.zeros(instance.num_items, dtype=np.uint8)
    _kp_fill(weights, float(instance.capacity), order, taken)
    selection = np.flatnonzero(taken)
    fits = order[weights[order] <= instance.capacity]
    if fits.size:
        single = fits[np.argmax(values[fits])]
        if values[single] > values[selection].sum():
            selection = np.array([single], dtype=np.int64)
    tracker.record(instance.value(selection))
    return selection.astype(np.int64)


@njit(cache=True, nogil=True)
def _kp_step(
    values: np.ndarray, weights: np.ndarray, capacity: float, order: np.ndarray,
    taken: np.ndarray,
) -> bool:  # fmt: skip
    """One round of :func:`kp_improve`: fill, then the best 1-1 exchange; whether one was made.

    The items of ``order`` are taken whenever they fit; then, over every chosen item ``i``
    and every unchosen item ``j`` of ``order`` with ``values[j] > values[i]`` that fits in
    the room ``i`` leaves, the exchange with the largest value gain is made (the first one
    met on ties).
    """
    room = capacity
    for i in range(taken.shape[0]):
        if taken[i]:
            room -= weights[i]
    room = _kp_fill(weights, room, order, taken)
    gain = 0.0
    out = -1
    into = -1
    for i in range(taken.shape[0]):
        if not taken[i]:
            continue
        for j in order:
            if not taken[j] and values[j] - values[i] > gain and weights[j] - weights[i] <= room:
                gain = values[j] - values[i]
                out = i
                into = j
    if out < 0:
        return False
    taken[out] = 0
    taken[into] = 1
    return True


def kp_improve(
    instance: KP, selection: np.ndarray, *, tracker: Tracker, seed: int = 0
) -> np.ndarray:
    """Add the items that still fit, then 1-1 exchanges that raise the value, until none applies.

    Each round first takes, in order of decreasing value per weight (weightless items
    first), every unchosen item of positive value that still fits, then makes the best
    exchange of one chosen item for one unchosen item of larger value that fits in its
    place (``O(n^2)`` per round). Every exchange raises the value, so the rounds end; the
    tracker's deadline is checked between them.

    Parameters
    ----------
    instance : KP
        The instance.
    selection : numpy.ndarray
        The starting selection, distinct item indices that fit (already checked).
    tracker : Tracker
        Clock and deadline.
    seed : int
        Unused (the improvement is deterministic).

    Returns
    -------
    numpy.ndarray
        The improved selection, sorted.
    """
    values = instance.values.astype(np.float64)
    weights = instance.weights.astype(np.float64)
    order = _kp_order(values, weights)
    taken = np.zeros(instance.num_items, dtype=np.uint8)
    taken[selection] = 1
    capacity = float(instance.capacity)
    while not tracker.expired():
        if not _kp_step(values, weights, capacity, order, taken):
            break
    return np.flatnonzero(taken).astype(np.int64)


def kp_dp(
    instance: KP, *, tracker: Tracker, seed: int = 0, max_cells: int = 100_000_000
) -> np.ndarray:
    """Exact dynamic programming over the capacity, for integer weights and capacity.

    The classical recursion ``best_k(c) = max(best_{k-1}(c), best_{k-1}(c - w_k) + v_k)``
    over items in order of decreasing value per weight, in ``O(n C)`` time and a
    ``n x (C + 1)`` table of one-byte decision flags, ``C`` the capacity (reduced to the
    total weight when smaller); items of no value or too heavy to fit are left out first.
    The time limit is checked between blocks of items; when it stops the recursion, the
    optimum over the items processed so far is completed greedily with the rest, so the
    answer is feasible but no longer proven optimal.

    Parameters
    ----------
    instance : KP
        The instance; weights and capacity must be whole numbers.
    tracker : Tracker
        Clock and deadline; receives the value.
    seed : int
        Unused (the method is deterministic).
    max_cells : int
        Largest table (items times capacities) the method may allocate, one byte a cell.

    Returns
    -------
    numpy.ndarray
        Chosen item indices, sorted.

    Raises
    ------
    UsageError
        When a weight or the capacity is not a whole number, or the table would exceed
        ``max_cells``.

    References
    ----------
    R. Bellman, "Dynamic programming", Princeton University Press (1957).
    H. Kellerer, U. Pferschy and D. Pisinger, "Knapsack problems", Springer (2004),
    section 2.3.
    """
    if isinstance(max_cells, (bool, np.bool_)) or not isinstance(max_cells, (int, np.integer)):
        raise UsageError(f"max_cells must be a positive integer, got {max_cells!r}")
    if max_cells < 1:
        raise UsageError(f"max_cells must be a positive integer, got {max_cells}")
    weights = instance.weights.astype(np.float64)
    fractional = np.flatnonzero(weights != np.round(weights))
    if fractional.size:
        i = int(fractional[0])
        raise UsageError(
            f"knapsack method 'dp' needs whole-number weights, got weights[{i}] = "
            f"{weights[i]:g}; use method 'greedy', or solve KP.to_problem() with a MIP solver"
        )
    if not float(instance.capacity).is_integer():
        raise UsageError(
            f"knapsack method 'dp' needs a whole-number capacity, got {instance.capacity:g}; "
            "use method 'greedy', or solve KP.to_problem() with a MIP solver"
        )
    values = instance.values.astype(np.float64)
    w = weights.astype(np.int64)
    capacity = int(instance.capacity)
    order = _kp_order(values, weights)
    order = order[w[order] <= capacity]
    capacity = min(capacity, int(w[order].sum()))
    cells = order.size * (capacity + 1)
    if cells > max_cells:
        raise UsageError(
            f"knapsack method 'dp' needs a table of {order.size} items x {capacity + 1} "
            f"capacities = {cells} cells > max_cells = {max_cells}; raise max_cells or use "
            "method 'greedy'"
        )
    best = np.zeros(capacity + 1)
    keep = np.zeros((order.size, capacity + 1), dtype=np.uint8)
    block = max(1, 2_000_000 // (capacity + 1))
    values_in_order, weights_in_order = values[order], w[order]
    done = 0
    while done < order.size and not tracker.expired():
        last = min(order.size, done + block)
        _kp_dp_rows(values_in_order, weights_in_order, best, keep, done, last)
        done = last
    taken = np.zeros(instance.num_items, dtype=np.uint8)
    taken[order[:done][_kp_trace(weights_in_order, keep, done, capacity)]] = 1
    if done < order.size:
        room = float(instance.capacity) - float(weights[taken == 1].sum())
        _kp_fill(weights, room, order[done:], taken)
    selection = np.flatnonzero(taken).astype(np.int64)
    tracker.record(instance.value(selection))
    return selection
