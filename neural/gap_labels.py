"""Integrality-gap labels: the LP relaxation against the best solution our solvers find.

FORGE's second task (Shafi & Kadıoğlu 2025) predicts how far a MIP's LP relaxation lies
from its optimum. The label of an instance here is the relative integrality gap

    gap = |z_mip - z_lp| / max(|z_mip|, 1e-9),   clipped to [0, 1],

with ``z_lp`` the LP relaxation's optimum (HiGHS) and ``z_mip`` the best objective SCIP
finds within a time limit (one thread, seed 0). Where SCIP does not prove optimality the
label is measured against that best solution, so it over-states the gap by at most the
solver's own remaining gap; :attr:`GapLabel.proven` says which. Labels are collected in
parallel processes, one JSON file per instance in a cache folder, so an interrupted
collection resumes where it stopped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from hybridsolve.datasets import registry
from hybridsolve.mip import Status, solve

from .graph import encode
from .label_cache import collect_instances, write_atomically

__all__ = ["GapLabel", "collect", "label", "relative_gap"]


@dataclass(frozen=True)
class GapLabel:
    """The integrality gap of one registered instance.

    Attributes
    ----------
    distribution : str
        Registered distribution name.
    split : str
        ``"train"``, ``"valid"`` or ``"test"``.
    index : int
        Position in the split.
    lp_objective, mip_objective : float or None
        LP relaxation optimum and best MIP objective found (``None`` when not found).
    proven : bool
        Whether SCIP proved ``mip_objective`` optimal.
    gap : float or None
        :func:`relative_gap` of the two, ``None`` when either is unknown.
    """

    distribution: str
    split: str
    index: int
    lp_objective: float | None
    mip_objective: float | None
    proven: bool
    gap: float | None


def relative_gap(lp_objective: float, mip_objective: float) -> float:
    """``|z_mip - z_lp| / max(|z_mip|, 1e-9)``, clipped to ``[0, 1]``."""
    return min(abs(mip_objective - lp_objective) / max(abs(mip_objective), 1e-9), 1.0)


def label(distribution: str, split: str, index: int, time_limit: float) -> GapLabel:
    """Solve one instance's LP relaxation and the MIP itself, and measure the gap.

    Parameters
    ----------
    distribution : str
        Registered distribution name.
    split : str
        Split of the instance.
    index : int
        Its position in the split.
    time_limit : float
        Seconds for SCIP.

    Returns
    -------
    GapLabel
    """
    problem = registry.get(distribution).instance(split, index)
    lp = encode(problem, lp=True).lp_objective
    result = solve(problem, "scip", time_limit=time_limit, threads=1, seed=0)
    mip = result.objective
    gap = None if lp is None or mip is None else relative_gap(lp, mip)
    return GapLabel(distribution, split, index, lp, mip, result.status is Status.OPTIMAL, gap)


def _cached(path: Path) -> GapLabel | None:
    try:
        return GapLabel(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None  # missing or damaged: label it again


def _label_task(task: tuple[str, str, int, float, str]) -> GapLabel:
    distribution, split, index, time_limit, path = task
    found = label(distribution, split, index, time_limit)
    write_atomically(path, lambda tmp: Path(tmp).write_text(json.dumps(asdict(found))))
    return found


def collect(
    distributions: Iterable[str],
    split: str,
    count: int,
    *,
    cache: str | os.PathLike[str],
    time_limit: float = 10.0,
    jobs: int = 1,
    cluster: str | None = None,
) -> list[GapLabel]:
    """Labels of the first ``count`` instances of ``split`` of each distribution.

    Parameters
    ----------
    distributions : iterable of str
        Registered distribution names.
    split : str
        Which split.
    count : int
        Instances per distribution.
    cache : path-like
        Folder of one JSON file per labelled instance; existing files are reused.
    time_limit : float
        Seconds for each SCIP solve.
    jobs : int
        Parallel processes (one SCIP thread each).
    cluster : str, optional
        Dask scheduler address to label on instead (:func:`~.label_cache.collect_cached`).

    Returns
    -------
    list of GapLabel
        In the order of ``distributions``, then index.
    """
    return collect_instances(distributions, split, count, cache, ".json",
                             (float(time_limit),), _label_task, _cached, jobs=jobs,
                             cluster=cluster)  # fmt: skip
