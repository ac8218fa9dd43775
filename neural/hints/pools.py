"""Solution pools: the labels of the hint head, from our own solves.

Predict-and-Search (Han et al., ICLR 2023) learns the marginal probability that a binary
is 1 in *good* solutions: it collects several solutions per training instance and weighs
each by its objective, ``w_i ∝ exp(-E(x_i))``. Here a pool is every improving solution SCIP
certifies within a time limit (one thread, seed 0), the last :data:`POOL` of them kept;
:func:`targets` turns a pool into the per-variable target

    p_j = sum_i w_i x_ij,   w_i ∝ exp(-(E_i - E_best) / (temperature * max(|E_best|, 1))),

with ``E`` the objective in minimisation sense, so solutions within a ``temperature``
share of the best objective still count (the raw ``exp(-E)`` of the paper puts all
weight on the best solution as soon as objectives differ by more than a few units).

Pools are collected in parallel processes or on a Dask cluster, one ``.npz`` file per
instance in a cache folder (:func:`~..label_cache.collect_cached`), so an interrupted
collection resumes where it stopped.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hybridsolve.datasets import registry
from hybridsolve.mip import Problem, Status, solve
from hybridsolve.mip.hints import binaries

from ..label_cache import collect_instances, write_atomically

__all__ = ["POOL", "Pool", "collect", "pool", "targets"]

#: Solutions kept per instance (the last improving ones).
POOL = 20


@dataclass(frozen=True, eq=False)
class Pool:
    """Improving solutions of one instance, restricted to its binaries.

    Attributes
    ----------
    distribution, split : str
        Where the instance comes from (``""`` for a model given directly).
    index : int
        Its position in the split.
    columns : numpy.ndarray
        ``(b,)`` indices of the binaries, in file order.
    solutions : numpy.ndarray
        ``(k, b)`` ``int8`` values of the binaries in each solution, oldest first.
    objectives : numpy.ndarray
        ``(k,)`` objective of each solution, in minimisation sense (a maximised
        objective is negated).
    proven : bool
        Whether the last solution was proven optimal.
    """

    distribution: str
    split: str
    index: int
    columns: np.ndarray
    solutions: np.ndarray
    objectives: np.ndarray
    proven: bool

    @property
    def size(self) -> int:
        """Number of solutions."""
        return int(len(self.objectives))


def pool(problem: Problem, time_limit: float, *, keep: int = POOL) -> tuple[np.ndarray, ...]:
    """Solve with SCIP and keep the last ``keep`` improving solutions.

    Returns
    -------
    tuple
        ``(columns, solutions, objectives, proven)`` as in :class:`Pool`.
    """
    columns = np.flatnonzero(binaries(problem))
    sign = -1.0 if problem.maximize else 1.0
    found: list[tuple[np.ndarray, float]] = []

    def keep_solution(time_: float, primal: float, dual: float | None, x: np.ndarray) -> bool:
        found.append((np.round(x[columns]).astype(np.int8), sign * primal))
        del found[:-keep]
        return False

    result = solve(problem, "scip", time_limit=time_limit, threads=1, seed=0,
                   callback=keep_solution)  # fmt: skip
    solutions = np.array([x for x, _ in found], dtype=np.int8).reshape(len(found), len(columns))
    objectives = np.array([value for _, value in found], dtype=np.float64)
    return columns, solutions, objectives, result.status is Status.OPTIMAL


def targets(item: Pool, num_vars: int, temperature: float = 0.01) -> np.ndarray:
    """Objective-weighted share of the pool's solutions in which each binary is 1.

    Parameters
    ----------
    item : Pool
        A non-empty pool.
    num_vars : int
        Variables of the model.
    temperature : float
        Objective difference, as a share of ``max(|E_best|, 1)``, at which a solution
        weighs ``1/e`` of the best one.

    Returns
    -------
    numpy.ndarray
        ``(num_vars,)`` ``float32``: the target in ``[0, 1]`` of every binary, NaN for the
        other variables.
    """
    best = float(item.objectives.min())
    scale = temperature * max(abs(best), 1.0)
    weights = np.exp(-(item.objectives - best) / scale)
    weights /= weights.sum()
    out = np.full(num_vars, np.nan, dtype=np.float32)
    out[item.columns] = weights @ item.solutions.astype(np.float64)
    return out


def _read(path: Path) -> Pool | None:
    try:
        with np.load(path) as data:
            return Pool(
                str(data["distribution"]), str(data["split"]), int(data["index"]),
                data["columns"], data["solutions"], data["objectives"], bool(data["proven"]),
            )  # fmt: skip
    except (OSError, ValueError, KeyError):
        return None  # missing or damaged: label it again


def _label(task: tuple[str, str, int, float, int, str]) -> Pool:
    distribution, split, index, time_limit, keep, path = task
    problem = registry.get(distribution).instance(split, index)
    columns, solutions, objectives, proven = pool(problem, time_limit, keep=keep)
    item = Pool(distribution, split, index, columns, solutions, objectives, proven)

    def write(tmp: str) -> None:
        np.savez_compressed(
            tmp, distribution=distribution, split=split, index=index, columns=columns,
            solutions=solutions, objectives=objectives, proven=proven,
        )  # fmt: skip

    write_atomically(path, write)
    return item


def collect(
    distributions: Iterable[str],
    split: str,
    count: int,
    *,
    cache: str | os.PathLike[str],
    time_limit: float = 10.0,
    keep: int = POOL,
    jobs: int = 1,
    cluster: str | None = None,
    say: Callable[[str], None] | None = None,
) -> list[Pool]:
    """Solution pools of the first ``count`` instances of ``split`` of each distribution.

    Parameters
    ----------
    distributions : iterable of str
        Registered distribution names.
    split : str
        Which split.
    count : int
        Instances per distribution.
    cache : path-like
        Folder of one ``.npz`` file per instance; existing files are reused (the file
        name records the time limit and pool size, so other settings label anew).
    time_limit : float
        Seconds of each SCIP solve.
    keep : int
        Solutions kept per instance.
    jobs : int
        Parallel processes (one SCIP thread each).
    cluster : str, optional
        Dask scheduler address to label on instead.
    say : callable, optional
        Receives one progress line.

    Returns
    -------
    list of Pool
        In the order of ``distributions``, then index; pools may be empty (no solution
        found in time).
    """
    return collect_instances(distributions, split, count, cache,
                             f"-t{time_limit:g}-k{keep}.npz", (float(time_limit), int(keep)),
                             _label, _read, jobs=jobs, cluster=cluster, say=say)  # fmt: skip
