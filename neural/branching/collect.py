"""Collecting strong-branching samples over registered distributions: one shard per instance.

Each instance is solved by SCIP (one thread) through :func:`hybridsolve.mip.solve` with
the :class:`~.samples.Recorder` installed as a SCIP plugin, so the model is built exactly
as in a deployed solve; pseudo-cost branching (priority raised above SCIP's default rule)
takes the nodes the recorder does not sample. The samples of an instance go to one
compressed ``.npz`` shard in a cache folder; shards already there are read back, so an
interrupted collection resumes where it stopped, and the work runs in local processes or
on a Dask cluster (:func:`~..label_cache.collect_cached`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hybridsolve.mip import Problem, solve

from ..label_cache import collect_instances, instance, write_atomically
from .features import FEATURES, STATE
from .samples import NodeSample, Recorder

__all__ = ["Shard", "collect", "record"]

#: Priority of the recorder (above every SCIP branching rule) and of pseudo-cost branching
#: during a collection (above relpscost's 10000).
RECORDER_PRIORITY, PSEUDOCOST_PRIORITY = 1_000_000, 500_000


@dataclass(frozen=True)
class Shard:
    """The samples of one instance.

    Attributes
    ----------
    distribution, split : str
        Where the instance comes from.
    index : int
        Its position in the split.
    samples : list of NodeSample
        The sampled nodes, in the order SCIP visited them.
    nodes : int
        Nodes of the collecting solve.
    """

    distribution: str
    split: str
    index: int
    samples: list[NodeSample]
    nodes: int


def record(
    problem: Problem, *, rate: float = 0.05, seed: int = 0, time_limit: float = 60.0,
    limit: int | None = None,
) -> tuple[list[NodeSample], int]:  # fmt: skip
    """Solve ``problem`` with SCIP while sampling strong-branching decisions.

    Parameters
    ----------
    problem : Problem
        The instance.
    rate : float
        Share of the nodes sampled.
    seed : int
        Which nodes (and SCIP's seed).
    time_limit : float
        Seconds of the solve.
    limit : int, optional
        Stop sampling after so many samples (the solve goes on with pseudo-costs).

    Returns
    -------
    samples : list of NodeSample
    nodes : int
        Nodes of the solve.
    """
    recorders: list[Recorder] = []

    def sample_strong_branching(model, variables, given):  # a SCIP plugin
        recorder = Recorder(given, variables, rate, seed, limit)
        model.includeBranchrule(
            recorder, "hybridsolve_recorder", "strong-branching samples",
            priority=RECORDER_PRIORITY, maxdepth=-1, maxbounddist=1.0,
        )  # fmt: skip
        model.setParam("branching/pscost/priority", PSEUDOCOST_PRIORITY)
        recorders.append(recorder)

    result = solve(problem, "scip", time_limit=time_limit, threads=1, seed=seed,
                   plugins=[sample_strong_branching])  # fmt: skip
    return recorders[0].samples, int(result.nodes or 0)


def _write(path: str, shard: Shard) -> None:
    samples = shard.samples
    if samples:
        stacked = {
            "columns": np.concatenate([s.columns for s in samples]),
            "features": np.concatenate([s.features for s in samples]),
            "scores": np.concatenate([s.scores for s in samples]),
            "state": np.stack([s.state for s in samples]),
        }
    else:
        stacked = {
            "columns": np.zeros(0, np.int64), "scores": np.zeros(0),
            "features": np.zeros((0, len(FEATURES)), np.float32),
            "state": np.zeros((0, 0, len(STATE)), np.float32),
        }  # fmt: skip
    np.savez_compressed(
        path, distribution=shard.distribution, split=shard.split, index=shard.index,
        nodes=shard.nodes, sizes=np.array([len(s.columns) for s in samples], dtype=np.int64),
        depths=np.array([s.depth for s in samples], dtype=np.int64), **stacked,
    )  # fmt: skip


def _read(path: Path) -> Shard | None:
    try:
        with np.load(path) as data:
            starts = np.concatenate([[0], np.cumsum(data["sizes"])])
            parts = zip(starts[:-1], starts[1:], data["depths"], data["state"])
            samples = [
                NodeSample(
                    data["columns"][a:b],
                    data["features"][a:b],
                    data["scores"][a:b],
                    int(depth),
                    state,
                )  # fmt: skip
                for a, b, depth, state in parts
            ]
            return Shard(str(data["distribution"]), str(data["split"]), int(data["index"]),
                         samples, int(data["nodes"]))  # fmt: skip
    except (OSError, ValueError, KeyError):
        return None  # missing or damaged: collect it again


def _collect_one(task: tuple[str, str, int, float, int, float, int | None, str]) -> Shard:
    distribution, split, index, rate, seed, time_limit, limit, path = task
    problem = instance(distribution, split, index)
    samples, nodes = record(problem, rate=rate, seed=seed, time_limit=time_limit, limit=limit)
    shard = Shard(distribution, split, index, samples, nodes)
    write_atomically(path, lambda tmp: _write(tmp, shard))
    return shard


def collect(
    distributions: Iterable[str],
    split: str,
    count: int,
    *,
    cache: str | os.PathLike[str],
    rate: float = 0.05,
    seed: int = 0,
    time_limit: float = 60.0,
    limit: int | None = None,
    jobs: int = 1,
    cluster: str | None = None,
    say: Callable[[str], None] | None = None,
) -> list[Shard]:
    """Sample shards of the first ``count`` instances of ``split`` of each distribution.

    Parameters
    ----------
    distributions : iterable of str
        Registered distribution names.
    split : str
        Which split.
    count : int
        Instances per distribution.
    cache : path-like
        Folder of the shards; the file name records the settings, so others collect anew.
    rate, seed, time_limit, limit
        As in :func:`record`.
    jobs : int
        Local processes, one SCIP each.
    cluster : str, optional
        Dask scheduler address instead.
    say : callable, optional
        Receives one progress line.

    Returns
    -------
    list of Shard
        In the order of ``distributions``, then index.
    """
    return collect_instances(
        distributions, split, count, cache, f"-r{rate:g}-s{seed}-t{time_limit:g}-l{limit}.npz",
        (float(rate), int(seed), float(time_limit), limit), _collect_one, _read,
        jobs=jobs, cluster=cluster, say=say,
    )  # fmt: skip
