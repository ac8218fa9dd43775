"""Labels computed once per instance, cached as one file each, in parallel or on Dask.

Label collection (integrality gaps, solution pools) solves every instance of a training
set with our own solvers. :func:`collect_cached` runs a labelling function for every
cache file that is missing or unreadable and reads the others back, so an interrupted
collection resumes where it stopped. The work goes to ``jobs`` local processes or, with
``cluster``, to a Dask scheduler through the benchmarks' client
(:func:`hybridsolve.benchmarks.runner.dask_client`); the workers need the package
installed and the cache folder on a shared file system.

A labelling function takes one argument (its task, picklable), computes the label, writes
it to the task's cache file atomically (:func:`write_atomically`) and returns it.

:func:`collect_instances` and :func:`instance` take, beside registered distribution names,
folders of MPS/LP files (a user's own distribution): instance ``i`` of a folder is its
``i``-th model file in path order, whatever the split.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from hybridsolve.mip import Problem

__all__ = ["collect_cached", "collect_instances", "instance", "model_files", "write_atomically"]

T = TypeVar("T")


def write_atomically(path: str | os.PathLike[str], write: Callable[[str], None]) -> None:
    """Call ``write(tmp)`` for a temporary file beside ``path``, then move it into place.

    A reader never sees half a file, and two processes labelling the same instance leave
    one whole file.
    """
    target = Path(path)
    tmp = target.with_name(f"{target.name}.tmp{os.getpid()}{target.suffix}")
    write(str(tmp))
    os.replace(tmp, target)


def collect_cached(
    tasks: Sequence[Any],
    paths: Sequence[Path],
    label: Callable[[Any], T],
    read: Callable[[Path], T | None],
    *,
    jobs: int = 1,
    cluster: str | None = None,
    say: Callable[[str], None] | None = None,
) -> list[T]:
    """Labels of every task: read from its cache file, or computed and written there.

    Parameters
    ----------
    tasks : sequence
        One picklable task per label.
    paths : sequence of pathlib.Path
        The cache file of each task.
    label : callable
        ``label(task)`` computes, writes and returns one label (a module-level function,
        so that processes and Dask workers can import it).
    read : callable
        ``read(path)`` returns the cached label, ``None`` when missing or damaged.
    jobs : int
        Local worker processes (ignored with ``cluster``).
    cluster : str, optional
        Dask scheduler address, for example ``"tcp://host:8786"``.
    say : callable, optional
        Receives one line before the missing labels are computed.

    Returns
    -------
    list
        The labels, in the order of ``tasks``.
    """
    if len(tasks) != len(paths):
        raise ValueError("collect_cached: one cache path per task")
    for folder in {Path(path).parent for path in paths}:
        folder.mkdir(parents=True, exist_ok=True)
    found: list[T | None] = [read(Path(path)) for path in paths]
    todo = [i for i, value in enumerate(found) if value is None]
    if todo and say is not None:
        where = f"on {cluster}" if cluster else f"in {jobs} process(es)"
        cached = len(tasks) - len(todo)
        say(f"labelling {len(todo)} of {len(tasks)} instances {where} ({cached} cached)")
    pending = [tasks[i] for i in todo]
    if not pending:
        done: list[T] = []
    elif cluster is not None:
        from hybridsolve.benchmarks.runner import dask_client

        with dask_client(cluster) as client:
            done = client.gather(client.map(label, pending, pure=False))
    elif jobs > 1:
        with ProcessPoolExecutor(jobs) as pool:
            done = list(pool.map(label, pending))
    else:
        done = [label(task) for task in pending]
    for i, value in zip(todo, done):
        found[i] = value
    return found  # type: ignore[return-value]


def model_files(distribution: str) -> list[str] | None:
    """The model files of a folder, in path order; ``None`` when ``distribution`` is no folder.

    Raises
    ------
    UsageError
        A folder without model files.
    """
    if not Path(distribution).is_dir():
        return None
    from .forge.data import file_sources

    return [str(source.file) for source in file_sources(distribution)]


def instance(distribution: str, split: str, index: int) -> Problem:
    """Instance ``index`` of a registered distribution's ``split``, or a folder's file.

    Raises
    ------
    UsageError
        An unknown distribution or split, or a folder with fewer files.
    InputError
        An unreadable model file.
    """
    files = model_files(distribution)
    if files is None:
        from hybridsolve.datasets import registry

        return registry.get(distribution).instance(split, index)
    if index >= len(files):
        from hybridsolve.mip import UsageError

        raise UsageError(f"{distribution}: holds {len(files)} model files, no file {index}")
    from hybridsolve.mip import read

    return read(files[index])


def _folder_key(folder: str) -> str:
    """A file-name part for a folder distribution: its name and a hash of its path."""
    resolved = Path(folder).resolve()
    return f"{resolved.name}-{hashlib.sha1(str(resolved).encode()).hexdigest()[:8]}"


def collect_instances(
    distributions: Iterable[str],
    split: str,
    count: int,
    cache: str | os.PathLike[str],
    name: str,
    settings: tuple,
    label: Callable[[Any], T],
    read: Callable[[Path], T | None],
    **how: Any,
) -> list[T]:
    """:func:`collect_cached` over the first ``count`` instances of registered distributions.

    The task of instance ``index`` of ``distribution`` is ``(distribution, split, index,
    *settings, path)``; its cache file is ``<distribution>-<split>-<index><name>`` in
    ``cache``, where ``name`` records the settings (so other settings label anew) and ends
    with the suffix. A folder gives its first ``count`` files (fewer when it has fewer), and
    its cache files are named after the folder and a hash of its path. ``how`` is passed on
    (``jobs``, ``cluster``, ``say``).

    Returns
    -------
    list
        In the order of ``distributions``, then index.
    """
    folder = Path(cache)
    tasks, paths = [], []
    for distribution in distributions:
        files = model_files(distribution)  # one walk of a folder, not one per instance
        key = distribution if files is None else _folder_key(distribution)
        for index in range(count if files is None else min(count, len(files))):
            paths.append(folder / f"{key}-{split}-{index:04d}{name}")
            tasks.append((distribution, split, index, *settings, str(paths[-1])))
    return collect_cached(tasks, paths, label, read, **how)
