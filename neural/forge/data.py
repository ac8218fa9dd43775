"""FORGE's pretraining data: instances of registered distributions and MPS/LP files, as graphs.

A :class:`Source` names one instance: a registered distribution's split and index
(:func:`hybridsolve.datasets.get`) or a model file (:func:`hybridsolve.mip.read`).
:func:`encode_sources` generates or reads each and encodes it with
:func:`~hybridsolve.neural.graph.encode`, optionally in worker processes, and caches the
graphs as ``.npz`` files in a folder, so a second run (or the next chunk of a resumed one)
reads them instead of generating them again. A cached graph is keyed by its source and the
feature names of :mod:`~hybridsolve.neural.graph`; a damaged file is encoded again. Delete
the folder after changing a generator.

Nothing here imports torch.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import NamedTuple

import numpy as np

from hybridsolve.mip.errors import UsageError

from ..graph import (
    CON_FEATURES,
    LP_CON_FEATURES,
    LP_VAR_FEATURES,
    VAR_FEATURES,
    MIPGraph,
    encode,
)
from ..progress import Progress

__all__ = ["Source", "distribution_sources", "encode_sources", "file_sources"]

#: Suffixes of the model files a folder contributes.
SUFFIXES = (".mps", ".lp", ".mps.gz", ".lp.gz")


class Source(NamedTuple):
    """One instance: ``(distribution, split, index, seed)`` of the registry, or a file.

    ``file`` is set for a model file and ``distribution`` for a registered instance;
    ``label`` names the instance's group (the distribution, or the file's folder).
    """

    label: str
    distribution: str | None = None
    split: str = "train"
    index: int = 0
    seed: int = 0
    file: str | None = None

    def key(self) -> str:
        """The cache file's name (without ``.npz``)."""
        digest = hashlib.sha256(repr((CON_FEATURES, VAR_FEATURES)).encode())
        if self.file is None:
            digest.update(repr((self.distribution, self.split, self.index, self.seed)).encode())
            return f"{self.distribution}-{self.split}-{self.index:04d}-{digest.hexdigest()[:12]}"
        path = Path(self.file)
        stat = path.stat()
        digest.update(repr((str(path.resolve()), stat.st_size, stat.st_mtime_ns)).encode())
        return f"file-{path.name.split('.')[0]}-{digest.hexdigest()[:12]}"


def distribution_sources(
    names: Sequence[str], split: str, count: int, seed: int = 0
) -> list[Source]:
    """The first ``count`` instances of ``split`` of each registered distribution in ``names``.

    Raises
    ------
    UsageError
        An unknown distribution (the message lists close matches) or split.
    """
    from hybridsolve.datasets import registry

    for name in names:
        registry.get(name).seed_sequence(split, 0, seed)  # unknown names and splits raise here
    return [Source(name, name, split, index, seed) for name in names for index in range(count)]


def file_sources(folder: str | os.PathLike[str]) -> list[Source]:
    """The MPS/LP files (``.gz`` too) of a folder and its subfolders, sorted by path.

    Raises
    ------
    UsageError
        ``folder`` is not a folder or holds no model file.
    """
    root = Path(folder)
    if not root.is_dir():
        raise UsageError(f"--folder {str(folder)!r} is not a folder")
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name.lower().endswith(SUFFIXES))
    if not files:
        raise UsageError(f"--folder {str(folder)!r} holds no {', '.join(SUFFIXES)} file")
    return [Source(root.name, file=str(path)) for path in files]


def _encode(source: Source, lp: bool = False) -> MIPGraph:
    """Generate or read one instance and encode it (runs in a worker process)."""
    if source.file is not None:
        from hybridsolve.mip import read

        return encode(read(source.file), lp=lp)
    from hybridsolve.datasets import registry

    distribution = registry.get(source.distribution)
    return encode(distribution.instance(source.split, source.index, source.seed), lp=lp)


def _encode_lp(source: Source) -> MIPGraph:
    return _encode(source, lp=True)


def _save(path: Path, graph: MIPGraph) -> None:
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.npz")
    np.savez(
        temporary,
        con_features=graph.con_features,
        var_features=graph.var_features,
        edge_index=graph.edge_index,
        edge_weight=graph.edge_weight,
        integer=graph.integer,
        lp=graph.lp_status is not None,
        lp_status=graph.lp_status or "",
        lp_objective=np.nan if graph.lp_objective is None else graph.lp_objective,
    )
    os.replace(temporary, path)


def _load(path: Path) -> MIPGraph | None:
    """A cached graph, or ``None`` when it is missing or damaged."""
    if not path.is_file():
        return None
    try:
        with np.load(path) as data:
            arrays = {key: np.array(data[key]) for key in data.files}
        if not arrays.pop("lp", False):
            return MIPGraph(**arrays, con_names=CON_FEATURES, var_names=VAR_FEATURES)
        value = float(arrays.pop("lp_objective"))
        return MIPGraph(
            **arrays, con_names=CON_FEATURES + LP_CON_FEATURES,
            var_names=VAR_FEATURES + LP_VAR_FEATURES, lp_status=str(arrays.pop("lp_status")),
            lp_objective=None if np.isnan(value) else value,
        )  # fmt: skip
    except Exception:  # a damaged cache file: encode again
        return None


def encode_sources(
    sources: Sequence[Source],
    *,
    workers: int = 1,
    cache: str | os.PathLike[str] | None = None,
    progress: bool = False,
    lp: bool = False,
) -> list[MIPGraph]:
    """The graph of every source, generated or read, encoded, and cached.

    Parameters
    ----------
    sources : sequence of Source
        The instances.
    workers : int, default 1
        Worker processes (``spawn`` context; a script calling this with ``workers > 1``
        needs the ``if __name__ == "__main__":`` guard). ``1`` encodes in this process.
    cache : path-like, optional
        Folder of ``.npz`` graphs (:meth:`Source.key`); found ones are reused.
    progress : bool, default False
        Show a progress bar.
    lp : bool, default False
        With the LP relaxation's features (``encode(..., lp=True)``), cached apart.

    Returns
    -------
    list of MIPGraph
        In the order of ``sources``.

    Raises
    ------
    InputError
        A file that cannot be read.
    """
    folder = None if cache is None else Path(cache)
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    keys = [source.key() + "-lp" * lp for source in sources] if folder is not None else []
    work = _encode_lp if lp else _encode
    found: list[MIPGraph | None] = [None] * len(sources)
    if folder is not None:
        found = [_load(folder / f"{key}.npz") for key in keys]
    todo = [i for i, graph in enumerate(found) if graph is None]
    with contextlib.ExitStack() as stack:
        if workers == 1 or len(todo) <= 1:
            results = map(work, (sources[i] for i in todo))
        else:
            pool = stack.enter_context(
                ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn"))
            )
            chunk = max(1, min(16, len(todo) // (8 * workers)))
            results = pool.map(work, [sources[i] for i in todo], chunksize=chunk)
        bar = Progress(len(todo), 0, progress and bool(todo), "graphs")
        for i, graph in zip(todo, results):
            found[i] = graph
            if folder is not None:
                _save(folder / f"{keys[i]}.npz", graph)
            bar.update()
        bar.close()
    return [graph for graph in found if graph is not None]
