"""``hybridsolve train branching collect|fit``: samples and scorers from the command line.

Collects :mod:`.collect` shards for the train split of registered distributions and prints
how many samples each distribution gave; ``hybridsolve train branching fit`` trains a
candidate scorer on them (:mod:`.fit`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from hybridsolve.datasets import registry
from hybridsolve.mip.errors import HybridsolveError, UsageError

from ..label_cache import model_files
from ..training import TrainingConfig, config_parser

__all__ = ["CollectConfig", "main", "run_collect"]


@dataclass(frozen=True)
class CollectConfig(TrainingConfig):
    """A sample collection.

    Attributes
    ----------
    distributions : str
        Comma-separated registered distributions (their train splits) or folders of MPS/LP
        files (a user's own distribution: every file, in path order, up to ``instances``).
    instances : int
        Instances of each distribution.
    samples : int or None
        Samples per instance at most (the solve goes on with pseudo-costs after).
    rate : float
        Share of the nodes sampled, in (0, 1].
    time_limit : float
        Seconds of each collecting solve.
    seed : int
        Which nodes are sampled, and SCIP's seed.
    jobs : int
        Local processes, one SCIP each.
    cluster : str or None
        Dask scheduler address instead of local processes.
    cache : str
        Folder of the shards.
    workdir : str or None
        Working folder of the paths.
    progress : bool
        Print what is being done.
    """

    COMMAND = "hybridsolve train branching collect"
    PATHS = frozenset({"cache"})

    distributions: str = "setcover-easy,cauctions-easy,facilities-easy,indset-easy"
    instances: int = 20
    samples: int | None = None
    rate: float = 0.05
    time_limit: float = 60.0
    seed: int = 0
    jobs: int = 2
    cluster: str | None = None
    cache: str = "runs/branching-samples"
    workdir: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if not 0 < self.rate <= 1:
            raise UsageError(f"collect: rate must lie in (0, 1], got {self.rate!r}")
        if self.instances < 1 or self.jobs < 1 or not self.time_limit > 0:
            raise UsageError("collect: instances, jobs and time_limit must be positive")
        if self.samples is not None and self.samples < 1:
            raise UsageError("collect: samples must be positive or none")

    def names(self) -> list[str]:
        """The distributions: registered names (checked) and folders (as absolute paths)."""
        names = [name.strip() for name in self.distributions.split(",") if name.strip()]
        if not names:
            raise UsageError("collect: no distributions")
        out = []
        for name in names:
            folder = self.path(name)
            if folder.is_dir():
                model_files(str(folder))  # a folder without model files fails here
                out.append(str(folder))
            else:
                registry.get(name)
                out.append(name)
        return out


def run_collect(config: CollectConfig) -> dict[str, dict[str, int]]:
    """Collect the shards; per distribution the instances, samples and nodes.

    Returns
    -------
    dict
        ``{distribution: {"instances": ..., "samples": ..., "candidates": ..., "nodes": ...}}``.
    """
    from .collect import collect

    names = config.names()
    config.command()  # refuses a cache outside the working folder before any work
    shards = collect(
        names, "train", config.instances, cache=config.path(config.cache), rate=config.rate,
        seed=config.seed, time_limit=config.time_limit, limit=config.samples,
        jobs=config.jobs, cluster=config.cluster, say=print if config.progress else None,
    )  # fmt: skip
    out: dict[str, dict[str, int]] = {}
    for shard in shards:
        empty = {"instances": 0, "samples": 0, "candidates": 0, "nodes": 0}
        row = out.setdefault(shard.distribution, empty)
        row["instances"] += 1
        row["samples"] += len(shard.samples)
        row["candidates"] += sum(len(sample.columns) for sample in shard.samples)
        row["nodes"] += shard.nodes
    return out


def main(argv: Sequence[str] | None = None, prog: str = "hybridsolve train branching") -> int:
    """``hybridsolve train branching collect [options]``; prints the counts as JSON.

    Exit code 0, 2 on a usage error, 3 on unreadable input.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    usage = (f"usage: {prog} collect|fit [options] (strong-branching samples; a scorer "
             f"trained on them; '{prog} collect --help' lists the options)")  # fmt: skip
    if argv[:1] in (["-h"], ["--help"]):
        print(usage)
        return 0
    if argv[:1] == ["fit"]:
        from .fit import main as fit_main

        return fit_main(argv[1:], f"{prog} fit")
    if argv[:1] != ["collect"]:
        what = f"unknown step {argv[0]!r}" if argv else "no step given"
        print(f"{prog}: error: {what}; {usage}", file=sys.stderr)
        return 2
    parser = config_parser(
        CollectConfig, f"{prog} collect",
        "Collect strong-branching samples (Gasse et al. 2019) on the train splits of "
        "registered distributions: one SCIP process per job, one cached shard per instance.",
        resumable=False,
    )  # fmt: skip
    args = vars(parser.parse_args(argv[1:]))
    try:
        counts = run_collect(CollectConfig(**args))
    except HybridsolveError as exc:
        print(f"{prog} collect: error: {exc}", file=sys.stderr)
        return exc.exit_code
    print(json.dumps(counts, indent=2))
    return 0
