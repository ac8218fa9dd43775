"""Expert tours for imitation learning: hybridsolve's ILS, in parallel processes, cached.

Drakulic et al. (2023) train the BQ policy by imitating (near-)optimal solutions computed
by strong dedicated solvers. Here the expert is :func:`hybridsolve.comb.solve`'s iterated
local search: exact up to 7 nodes, near-optimal (not certified) beyond. Tours are cached
on disk, one ``.npz`` per instance, keyed by a sha256 of the instance's metric and of the
labelling settings, so retraining never labels twice.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from hybridsolve.comb.routing import TSP
from hybridsolve.mip.errors import UsageError

from .progress import Progress

__all__ = ["make_labels"]

_LABEL_FORMAT = "bq-labels-v1"


def _label_settings(
    time_per_instance: float | None, iterations: int | None, seed: int
) -> dict[str, Any]:
    return {"method": "ils", "time_per_instance": time_per_instance, "iterations": iterations,
            "seed": seed}  # fmt: skip


def _label_key(instance: TSP, settings: dict[str, Any]) -> str:
    """sha256 of the instance's metric and the labelling settings."""
    digest = hashlib.sha256(_LABEL_FORMAT.encode())
    digest.update(json.dumps(settings, sort_keys=True).encode())
    digest.update(f"{instance.num_nodes}|{instance.rounding}".encode())
    for array in (instance.coords, instance.distances):
        digest.update(b"-" if array is None else np.ascontiguousarray(array, np.float64).tobytes())
    return digest.hexdigest()


def _label_one(job: tuple[Any, ...]) -> np.ndarray:
    """ILS tour of one instance (runs in a worker process)."""
    from hybridsolve.comb import solve

    coords, distances, rounding, time_limit, iterations, seed = job
    instance = TSP(coords=coords, distances=distances, rounding=rounding)
    solution = solve(instance, "ils", time_limit=time_limit, seed=seed, iterations=iterations)
    return np.asarray(solution.tour, dtype=np.int64)


def make_labels(
    instances: Sequence[TSP],
    *,
    time_per_instance: float | None = None,
    iterations: int | None = None,
    workers: int = 1,
    cache_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    progress: bool = False,
) -> list[np.ndarray]:
    """Expert tours from hybridsolve's iterated local search, in parallel and cached.

    Each instance is solved with ``comb.solve(instance, "ils", ...)``: exactly up to 7
    nodes, near-optimally (without a certificate) beyond.

    Parameters
    ----------
    instances : sequence of TSP
        The instances.
    time_per_instance : float, optional
        Wall-clock seconds of ILS per instance. Tours then depend on the machine's speed;
        for reproducible labels leave it out and set ``iterations``.
    iterations : int, optional
        ILS kicks per instance (ILS's default, ``10 n``, when both are left out).
    workers : int, default 1
        Worker processes (``spawn`` context; a script that calls this with ``workers > 1``
        needs the usual ``if __name__ == "__main__":`` guard). ``1`` labels in this process.
    cache_dir : path-like, optional
        Folder of ``.npz`` files, one per instance, keyed by a sha256 of the coordinates
        (and distances and rounding) and of the settings above; found tours are reused.
    seed : int, default 0
        ILS seed.
    progress : bool, default False
        Show a progress bar while labelling.

    Returns
    -------
    list of numpy.ndarray
        One tour (int64 permutation) per instance, in order.

    Raises
    ------
    UsageError
        On bad settings or an instance that is not a :class:`~hybridsolve.comb.TSP`.
    """
    instances = list(instances)
    for instance in instances:
        if not isinstance(instance, TSP):
            raise UsageError(f"make_labels takes TSP instances, not {type(instance).__name__}")
    if time_per_instance is not None and (
        isinstance(time_per_instance, bool)
        or not isinstance(time_per_instance, (int, float))
        or not time_per_instance > 0
    ):
        raise UsageError(f"time_per_instance must be positive seconds, got {time_per_instance!r}")
    for name, value in (("iterations", iterations), ("workers", workers)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                  or value < 1):  # fmt: skip
            raise UsageError(f"{name} must be a positive integer, got {value!r}")
    settings = _label_settings(time_per_instance, iterations, int(seed))
    folder = None if cache_dir is None else Path(cache_dir)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    tours: list[np.ndarray | None] = [None] * len(instances)
    keys = [_label_key(instance, settings) for instance in instances]
    for i, (instance, key) in enumerate(zip(instances, keys)):
        if folder is not None and (folder / f"{key}.npz").is_file():
            try:
                with np.load(folder / f"{key}.npz") as data:
                    tour = np.asarray(data["tour"], dtype=np.int64)
                instance.check_tour(tour)
                tours[i] = tour
            except Exception:  # a damaged cache file: label again
                tours[i] = None
    todo = [i for i, tour in enumerate(tours) if tour is None]
    jobs = [
        (instances[i].coords, instances[i].distances, instances[i].rounding, time_per_instance,
         iterations, int(seed))
        for i in todo
    ]  # fmt: skip
    with contextlib.ExitStack() as stack:
        if workers == 1 or len(jobs) <= 1:
            results = map(_label_one, jobs)
        else:
            pool = stack.enter_context(
                ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
            )
            results = pool.map(_label_one, jobs, chunksize=max(1, len(jobs) // (8 * workers)))
        bar = Progress(len(jobs), 0, progress and bool(jobs), "labels")
        for i, tour in zip(todo, results):
            tours[i] = tour
            if folder is not None:
                temporary = folder / f".{keys[i]}.{os.getpid()}.npz"
                np.savez(temporary, tour=tour)
                os.replace(temporary, folder / f"{keys[i]}.npz")
            bar.update()
        bar.close()
    return [tour for tour in tours if tour is not None]
