"""Expert solutions for imitation learning: each problem's labeller, in parallel, cached.

Drakulic et al. (2023) train the BQ policy by imitating (near-)optimal solutions computed
by strong dedicated solvers. Here each problem names its own expert
(:meth:`~.problem.BQProblem.label`): hybridsolve's iterated local search for the TSP, the
ATSP and the orienteering problem, PyVRP's solver for the CVRP, exact dynamic programming
for the knapsack. Labels are cached on disk, one ``.npz`` per
instance (the expert arrays and the expert's cost), keyed by a sha256 of the problem, the
instance's data and the labelling settings, so retraining never labels twice.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from hybridsolve.mip.errors import UsageError

from ..progress import Progress
from .problem import BQProblem, get

__all__ = ["Labels", "label_key", "make_labels"]

_LABEL_FORMAT = "bq-labels-v2"


class Labels(NamedTuple):
    """Expert solutions of a list of instances.

    Attributes
    ----------
    experts : list of dict
        Per instance, the expert's fixed-shape arrays (:meth:`~.problem.BQProblem.expert`).
    costs : numpy.ndarray
        Per instance, the expert solution's objective value.
    """

    experts: list[dict[str, np.ndarray]]
    costs: np.ndarray


def label_key(problem: BQProblem, instance: Any, settings: dict[str, Any]) -> str:
    """sha256 of the problem, the labelling settings and every data field of the instance."""
    digest = hashlib.sha256(_LABEL_FORMAT.encode())
    digest.update(json.dumps({"problem": problem.name, **settings}, sort_keys=True).encode())
    for field in dataclasses.fields(instance):
        if field.name == "name":
            continue
        value = getattr(instance, field.name)
        digest.update(field.name.encode())
        if value is None:
            digest.update(b"-")
        elif isinstance(value, np.ndarray):
            digest.update(str(value.shape).encode())
            digest.update(np.ascontiguousarray(value, np.float64).tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def _label_one(job: tuple[Any, ...]) -> tuple[dict[str, np.ndarray], float]:
    """Expert arrays and cost of one instance (runs in a worker process)."""
    name, instance, time_limit, iterations, seed = job
    problem = get(name)
    answer = problem.label(instance, time_limit=time_limit, iterations=iterations, seed=seed)
    problem.check(instance, answer)
    return problem.expert(instance, answer), float(problem.cost(instance, answer))


def _read(path: Path) -> tuple[dict[str, np.ndarray], float] | None:
    """A cached label, or ``None`` when it is missing or damaged."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            arrays = {key: np.array(data[key]) for key in data.files}
        cost = float(arrays.pop("__cost__"))
    except Exception:  # a damaged cache file: label again
        return None
    return (arrays, cost) if arrays and np.isfinite(cost) else None


def make_labels(
    problem: BQProblem | str,
    instances: Sequence[Any],
    *,
    time_per_instance: float | None = None,
    iterations: int | None = None,
    workers: int = 1,
    cache_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    progress: bool = False,
) -> Labels:
    """Expert solutions of the problem's labeller, in parallel and cached.

    Parameters
    ----------
    problem : BQProblem or str
        The problem (or its name).
    instances : sequence
        Instances of the problem's type.
    time_per_instance : float, optional
        Wall-clock seconds of the labeller per instance. Labels then depend on the
        machine's speed; for reproducible labels leave it out (and set ``iterations``).
    iterations : int, optional
        The labeller's iteration budget (ILS kicks, PyVRP iterations); its default when
        both are left out. The knapsack's exact DP ignores both.
    workers : int, default 1
        Worker processes (``spawn`` context; a script that calls this with ``workers > 1``
        needs the usual ``if __name__ == "__main__":`` guard). ``1`` labels in this process.
    cache_dir : path-like, optional
        Folder of ``.npz`` files, one per instance, keyed by :func:`label_key`; found
        labels are reused.
    seed : int, default 0
        Labeller seed.
    progress : bool, default False
        Show a progress bar while labelling.

    Returns
    -------
    Labels
        In the order of ``instances``.

    Raises
    ------
    UsageError
        On bad settings or an instance of another type.
    """
    problem = get(problem) if isinstance(problem, str) else problem
    instances = list(instances)
    for instance in instances:
        if type(instance) is not problem.kind:
            raise UsageError(f"make_labels for {problem.name} takes {problem.kind.__name__} "
                             f"instances, not {type(instance).__name__}")  # fmt: skip
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
    settings = {"method": problem.label_method, "time_per_instance": time_per_instance,
                "iterations": iterations, "seed": int(seed)}  # fmt: skip
    folder = None if cache_dir is None else Path(cache_dir)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    found: list[tuple[dict[str, np.ndarray], float] | None] = [None] * len(instances)
    keys = [label_key(problem, instance, settings) for instance in instances]
    if folder is not None:
        found = [_read(folder / f"{key}.npz") for key in keys]
    todo = [i for i, label in enumerate(found) if label is None]
    jobs = [(problem.name, instances[i], time_per_instance, iterations, int(seed)) for i in todo]
    with contextlib.ExitStack() as stack:
        if workers == 1 or len(jobs) <= 1:
            results = map(_label_one, jobs)
        else:
            pool = stack.enter_context(
                ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
            )
            chunk = max(1, min(64, len(jobs) // (8 * workers)))
            results = pool.map(_label_one, jobs, chunksize=chunk)
        bar = Progress(len(jobs), 0, progress and bool(jobs), "labels")
        for i, (arrays, cost) in zip(todo, results):
            found[i] = (arrays, cost)
            if folder is not None:
                temporary = folder / f".{keys[i]}.{os.getpid()}.npz"
                np.savez(temporary, __cost__=np.float64(cost), **arrays)
                os.replace(temporary, folder / f"{keys[i]}.npz")
            bar.update()
        bar.close()
    labels = [label for label in found if label is not None]
    return Labels([arrays for arrays, _ in labels], np.array([cost for _, cost in labels]))
