"""Distances on the fly and k-nearest-neighbour candidate lists for routing heuristics.

Routing kernels never hold an ``n x n`` matrix for coordinate instances: a *metric* is the
triple ``(xy, matrix, kind)`` of plain arrays handed to every Numba kernel, and
:func:`dist` evaluates one distance from it. ``kind`` is :data:`EUCLID` (plain Euclidean),
:data:`NINT` (TSPLIB ``EUC_2D``, ``floor(d + 0.5)``, as :func:`hybridsolve.comb._common.lengths`)
or :data:`MATRIX` (an explicit matrix: ATSP, or a TSP/CVRP given by its distances). The
unused array of the triple is an empty placeholder, so kernels compile once per signature.

Candidate lists hold, for every node, its ``k`` nearest other nodes in increasing distance:
from a :class:`scipy.spatial.cKDTree` for coordinates (O(n k) memory), from the rows (or
columns) of the matrix otherwise.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy.spatial import cKDTree

from hybridsolve.mip.errors import ProblemError

__all__ = ["EUCLID", "MATRIX", "NINT", "dist", "metric", "nearest", "nearest_in", "root"]

#: Metric kinds understood by :func:`dist`.
EUCLID, NINT, MATRIX = 0, 1, 2


def metric(coords: np.ndarray | None, distances: np.ndarray | None, rounding: str) -> tuple:
    """The ``(xy, matrix, kind)`` triple of an instance's cost function.

    Parameters
    ----------
    coords : numpy.ndarray or None
        ``(n, 2)`` coordinates.
    distances : numpy.ndarray or None
        ``(n, n)`` explicit matrix; takes precedence over ``coords``, as in the instances.
    rounding : {"none", "nint"}
        Rounding of coordinate distances.

    Returns
    -------
    tuple of (numpy.ndarray, numpy.ndarray, int)
        C-contiguous float64 ``xy`` (``(0, 2)`` when unused), ``matrix`` (``(0, 0)`` when
        unused) and the kind.
    """
    if distances is not None:
        return np.zeros((0, 2)), np.ascontiguousarray(distances, dtype=np.float64), MATRIX
    if coords is None:
        raise ProblemError("an instance needs coordinates or a distance matrix")
    kind = NINT if rounding == "nint" else EUCLID
    return np.ascontiguousarray(coords, dtype=np.float64), np.zeros((0, 0)), kind


@njit(cache=True, nogil=True)
def dist(i: int, j: int, xy: np.ndarray, matrix: np.ndarray, kind: int) -> float:
    """Distance from node ``i`` to node ``j`` under the metric ``(xy, matrix, kind)``."""
    if kind == MATRIX:
        return matrix[i, j]
    dx = xy[i, 0] - xy[j, 0]
    dy = xy[i, 1] - xy[j, 1]
    d = math.sqrt(dx * dx + dy * dy)
    if kind == NINT:
        return math.floor(d + 0.5)
    return d


def _drop_self(idx: np.ndarray, k: int) -> np.ndarray:
    """Per row ``i``, the first ``k`` entries of ``idx[i]`` that are not ``i``."""
    n = idx.shape[0]
    keep = idx != np.arange(n)[:, None]
    # rows where self was not returned (duplicate points): drop the last column instead
    extra = keep.sum(axis=1) > k
    keep[extra, -1] = False
    return idx[keep].reshape(n, k)


def nearest(xy: np.ndarray, matrix: np.ndarray, kind: int, k: int) -> np.ndarray:
    """The ``k`` nearest other nodes of every node, nearest first.

    Parameters
    ----------
    xy, matrix, kind
        A metric from :func:`metric`.
    k : int
        List length; clipped to ``n - 1``.

    Returns
    -------
    numpy.ndarray
        ``(n, k)`` int64; for a matrix, row ``i`` sorts ``matrix[i, :]`` (outgoing arcs).
    """
    n = xy.shape[0] if kind != MATRIX else matrix.shape[0]
    k = max(0, min(int(k), n - 1))
    if k == 0:
        return np.zeros((n, 0), dtype=np.int64)
    if kind != MATRIX:
        # rounding is monotone, so the Euclidean order is the rounded order up to ties
        _, idx = cKDTree(xy).query(xy, k=k + 1)
        return _drop_self(np.asarray(idx, dtype=np.int64).reshape(n, k + 1), k)
    return nearest_in(matrix, k)


def nearest_in(matrix: np.ndarray, k: int) -> np.ndarray:
    """Row-wise ``k`` smallest off-diagonal entries of ``matrix``, as column indices.

    Returns
    -------
    numpy.ndarray
        ``(n, k)`` int64, each row sorted by increasing ``matrix[i, j]`` (ties by ``j``).
    """
    n = matrix.shape[0]
    k = max(0, min(int(k), n - 1))
    work = np.array(matrix, dtype=np.float64)
    np.fill_diagonal(work, np.inf)
    if k < n - 1:
        part = np.argpartition(work, k, axis=1)[:, :k]
    else:
        part = np.tile(np.arange(n), (n, 1))
    values = np.take_along_axis(work, part, axis=1)
    order = np.lexsort((part, values))
    # the diagonal is +inf, so with k = n - 1 the node itself sorts last
    return np.take_along_axis(part, order, axis=1)[:, :k]


@njit(cache=True, nogil=True)
def root(parent: np.ndarray, v: int) -> int:
    """Union-find root of ``v`` with path halving (greedy edge and savings constructions)."""
    while parent[v] != v:
        parent[v] = parent[parent[v]]
        v = parent[v]
    return v
