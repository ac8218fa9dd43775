"""Chains of ``lns+warm`` runs: their bandit state files and the order runs start in.

The runs of a ``+warm`` solver for one (collection, seed, time limit) share one state file
of the LNS bandit and form a chain: they run one at a time, in the collection's instance
order, so that each run starts from what the runs before it learned (online learning
across a sequence of instances). Every other run stands alone. :class:`Dispatch` hands out
a sweep's runs in plan order and holds a chain's next run back until the run before it has
finished.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from .worker import Task

__all__ = ["Dispatch", "chained", "state_file", "state_folder"]


def chained(solver: str) -> bool:
    """Whether runs of ``solver`` pass the bandit's statistics on (``BASE+warm``)."""
    return solver.partition("+")[2] == "warm"


def state_folder(db: str | Path) -> Path:
    """The folder of a results file's state files: ``<db without suffix>.bandit``.

    Parameters
    ----------
    db : str or pathlib.Path
        The SQLite results file.

    Returns
    -------
    pathlib.Path
        An absolute path, so that workers elsewhere (Dask, on a shared file system) find it.
    """
    return Path(db).resolve().with_suffix(".bandit")


def state_file(folder: str | Path, collection: str, seed: int, time_limit: float) -> Path:
    """The state file of one chain: ``<folder>/<collection>-seed<seed>-<time_limit>s.json``.

    The collection label is made file-safe; a label that had to change (a directory path,
    say) gets eight hex digits of its hash, so that two labels never share a file.

    Parameters
    ----------
    folder : str or pathlib.Path
        See :func:`state_folder`.
    collection : str
        Collection label.
    seed : int
        Solver seed.
    time_limit : float
        Seconds per run.

    Returns
    -------
    pathlib.Path
    """
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", collection).strip("._-")[-80:]
    if name != collection:
        name += "-" + hashlib.sha256(collection.encode()).hexdigest()[:8]
    return Path(folder) / f"{name}-seed{seed}-{time_limit:g}s.json"


class Dispatch:
    """The runs of a sweep that have not started yet, handed out in plan order.

    A run of a chain (a :class:`Task` with a ``bandit_state``) is handed out only while no
    other run of its chain is under way; every other run as soon as it is asked for.

    Parameters
    ----------
    tasks : iterable of Task
        The runs to do, in plan order.
    """

    def __init__(self, tasks: Iterable[Task]) -> None:
        self._waiting = list(enumerate(tasks))
        self._busy: set[str] = set()  # state files of the chains with a run under way

    def take(self, count: int | None = None) -> list[tuple[int, Task]]:
        """Up to ``count`` runs that may start now (all of them when None).

        Parameters
        ----------
        count : int, optional
            The most runs to hand out.

        Returns
        -------
        list of (int, Task)
            Each run with its position in the plan, first planned first. A chain's run
            counts as under way until :meth:`finished` is called with it.
        """
        taken, kept = [], []
        for position, task in self._waiting:
            full = count is not None and len(taken) == count
            if full or task.bandit_state in self._busy:
                kept.append((position, task))
                continue
            if task.bandit_state is not None:
                self._busy.add(task.bandit_state)
            taken.append((position, task))
        self._waiting = kept
        return taken

    def finished(self, task: Task) -> None:
        """Record that ``task`` has ended, so that the next run of its chain may start."""
        self._busy.discard(task.bandit_state)
