"""Self-supervised pretraining of FORGE: ``hybridsolve train forge``.

The data are the train splits of registered distributions (every one by default: all
domains and levels; ``distributions``) and any folders of MPS/LP files (``folder``),
encoded once as graphs (:mod:`.data`, optionally in worker processes and cached on disk).
Each step draws ``batch_size`` graphs, batches them with ``torch_geometric`` and takes one
AdamW step on :meth:`.model.Forge.loss` (node-feature and sampled-edge reconstruction and
the codebook's commitment). After every ``validate_every`` epochs the same loss is measured
in eval mode on held-out instances of the *valid* splits (``validation`` per distribution)
with fixed negative samples.

Runs are resumable in chunks like ``hybridsolve train bq``: a checkpoint holds the model
(codebook included), the optimiser, the step and torch's RNG state, and every random
choice of a step (the batch order, the sampled non-edges) derives from ``(seed, epoch)`` or
``(seed, step)``, so on the CPU a run that stops at ``max_seconds`` and resumes ends with
the weights of an uninterrupted one. Paths are taken relative to the working folder
(``workdir``) and recorded relative to it (:class:`~..training.TrainingConfig`).

Sizes. Two settings were pretrained on the project's 2-core CPU (one torch thread, other
jobs beside it) on the same data (40 train instances of each of the 33 registered
distributions, 1320 graphs, 6.0 million nodes) for the same wall time, about 500 s, and
compared on 12 valid-split instances of each distribution (396, none trained on), KMeans
with k = 11 domains (scikit-learn, 10 initialisations), NMI by domain:

=====  =====  ==============  =========  ======  ==============================
width  codes  steps in 500 s  histogram  pooled  codes in use (per instance)
=====  =====  ==============  =========  ======  ==============================
64     512    1239            0.949      1.000   188 (15.5)
128    1024   647             0.989      0.961   123 (10.2)
=====  =====  ==============  =========  ======  ==============================

The histogram of codes, FORGE's own instance embedding, clustered better with the wider
model and the larger codebook, so those are the defaults and the shipped weights, at 2.3
times the cost per step and per embedded instance (about 45 against 19 ms). Trained to the
end (9 epochs, 1485 steps, 1115 s of steps), its held-out loss fell from 0.97 after the
first epoch to 0.571; the raw histogram then clustered worse (0.897) while its square root
and the pooled embedding reached 1.000, which is why the default instance vector joins
those two (:func:`~.embed.instance_vector`).

The weights are written with :func:`hybridsolve.neural.weights.save` and registered beside
the ``.pt`` file. FORGE is not a solver, so some manifest fields say what they mean here:
``problem`` is ``"mip"``, ``labeller`` ``"none (self-supervised)"``, ``knn`` null,
``train_sizes`` the fewest and the most variables of a training instance, ``instances``
the number of training graphs, ``data_seed`` the registry's base seed, and
``validation_gap`` the held-out *loss* of the last validation (there is no gap to measure;
lower is better).
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hybridsolve.mip.errors import UsageError

from ..graph import MIPGraph
from ..runtime import device as resolve_device
from ..runtime import generator, require_geometric, seed_everything
from ..training import (
    StepLoop,
    TrainingConfig,
    config_parser,
    publish,
    run_command_line,
)
from .data import Source, distribution_sources, encode_sources, file_sources
from .model import Forge, ForgeConfig

__all__ = ["TrainConfig", "build_parser", "datasets", "main", "train"]

#: The fields of :class:`TrainConfig` that are :class:`~.model.ForgeConfig`'s.
_MODEL = ("width", "layers", "codes", "rank", "dropout", "ema_decay", "commitment",
          "restart_below")  # fmt: skip


@dataclasses.dataclass(frozen=True)
class TrainConfig(TrainingConfig):
    """Everything that defines a FORGE pretraining run.

    Attributes
    ----------
    distributions : str or None
        Comma-separated registered distributions whose train splits are used; ``None``
        (``none`` on the command line) for every registered one, ``""`` for none (files
        only).
    instances_per_distribution : int
        Train-split instances of each distribution (indices ``0..N-1``).
    folder : tuple of str
        Folders of MPS/LP files (``.gz`` too, searched recursively), all used for training.
    data_seed : int
        Base seed of the registry's splits (``0``: the published splits).
    validation : int
        Valid-split instances per distribution for the held-out loss (``0``: none).
    width, layers, codes, rank, dropout, ema_decay, commitment, restart_below
        :class:`~.model.ForgeConfig` hyper-parameters.
    epochs : int
        Passes over the training graphs.
    batch_size : int
        Graphs per step.
    lr : float
        Peak AdamW learning rate (:func:`~..training.warmup_cosine`).
    weight_decay : float
        AdamW weight decay.
    grad_clip : float or None
        Clip the gradient norm to this value.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    threads : int or None
        torch's CPU threads during the run (``None``: torch's default, one per core). On a
        machine shared with other jobs one thread can be several times faster than two.
    checkpoint : str or None
        Checkpoint file; needed to resume.
    checkpoint_every : int
        Steps between checkpoints (also written at every stop and at the end).
    max_seconds, max_steps : float or None, int or None
        Stop this chunk after so many seconds of training, or once the run reaches this
        step, writing a checkpoint; ``resume=True`` continues.
    validate_every : int
        Epochs between validations.
    seed : int
        Seed of the initialisation, the batch order and the sampled non-edges.
    workers : int
        Processes that generate and encode the instances.
    cache : str or None
        Folder caching the encoded graphs (:func:`~.data.encode_sources`).
    output : str or None
        The ``.pt`` weights file (default ``forge.pt``); its folder becomes a registry.
    name : str or None
        Registry name (default ``forge``).
    workdir : str or None
        The working folder (default: the current directory); ``folder``, ``cache``,
        ``checkpoint`` and ``output`` are taken relative to it and must lie in it.
    progress : bool
        Progress bar and epoch lines.
    """

    COMMAND = "hybridsolve train forge"
    PATHS = frozenset({"folder", "cache", "checkpoint", "output"})
    RESUMABLE = frozenset({"device", "threads", "checkpoint", "checkpoint_every", "max_seconds",
                           "max_steps", "validate_every", "workers", "cache", "output",
                           "name", "workdir", "progress"})  # fmt: skip

    distributions: str | None = None
    instances_per_distribution: int = 40
    folder: tuple[str, ...] = ()
    data_seed: int = 0
    validation: int = 4
    width: int = 128
    layers: int = 2
    codes: int = 1024
    rank: int = 16
    dropout: float = 0.1
    ema_decay: float = 0.8
    commitment: float = 0.25
    restart_below: float = 0.5
    epochs: int = 9
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    device: str = "auto"
    threads: int | None = None
    checkpoint: str | None = None
    checkpoint_every: int = 200
    max_seconds: float | None = None
    max_steps: int | None = None
    validate_every: int = 1
    seed: int = 0
    workers: int = 1
    cache: str | None = None
    output: str | None = None
    name: str | None = None
    workdir: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        object.__setattr__(self, "folder", tuple(self.folder))
        for field in ("instances_per_distribution", "epochs", "batch_size", "checkpoint_every",
                      "validate_every", "workers"):  # fmt: skip
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"TrainConfig: {field} must be a positive integer, got {value!r}")
        for field in ("data_seed", "seed", "validation"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UsageError(f"TrainConfig: {field} must be a non-negative integer")
        for field in ("max_steps", "threads"):
            value = getattr(self, field)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):  # fmt: skip
                raise UsageError(f"TrainConfig: {field} must be a positive integer or None")
        for field in ("lr", "max_seconds", "grad_clip"):
            value = getattr(self, field)
            if value is None and field != "lr":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise UsageError(f"TrainConfig: {field} must be a positive number, got {value!r}")
        if self.weight_decay < 0:
            raise UsageError(f"TrainConfig: weight_decay must be >= 0, got {self.weight_decay!r}")
        if self.output is not None and not str(self.output).endswith(".pt"):
            raise UsageError(f"TrainConfig: output must end in '.pt', got {self.output!r}")
        if not self.names() and not self.folder:
            raise UsageError("TrainConfig: no data: give distributions or a folder")
        self.model()  # validates the hyper-parameters

    def names(self) -> list[str]:
        """The distributions trained on, in the registry's order when all are."""
        if self.distributions is None:
            from hybridsolve.datasets import registry

            return registry.distributions()
        return [name.strip() for name in self.distributions.split(",") if name.strip()]

    def model(self) -> ForgeConfig:
        """The model's hyper-parameters."""
        return ForgeConfig(**{field: getattr(self, field) for field in _MODEL})

    def output_path(self) -> Path:
        """The weights file to write."""
        return self.path(self.output if self.output is not None else "forge.pt")

    def registry_name(self) -> str:
        """The name the weights are registered under."""
        return self.name if self.name is not None else "forge"


def _sources(config: TrainConfig) -> tuple[list[Source], list[Source]]:
    """Training and validation instances (validation: valid splits only)."""
    names = config.names()
    train_set = distribution_sources(names, "train", config.instances_per_distribution,
                                     config.data_seed)  # fmt: skip
    for folder in config.folder:
        train_set += file_sources(config.path(folder))
    valid_set = distribution_sources(names, "valid", config.validation, config.data_seed)
    return train_set, valid_set


def datasets(config: TrainConfig) -> tuple[list[MIPGraph], list[MIPGraph]]:
    """The training and validation graphs (models without variables left out)."""
    train_set, valid_set = _sources(config)
    cache = None if config.cache is None else config.path(config.cache)
    graphs = encode_sources(train_set + valid_set, workers=config.workers, cache=cache,
                            progress=config.progress)  # fmt: skip
    train_graphs = [g for g in graphs[: len(train_set)] if g.num_vars]
    valid_graphs = [g for g in graphs[len(train_set) :] if g.num_vars]
    return train_graphs, valid_graphs


def _batch(graphs: Sequence[Any], dev: torch.device) -> Any:
    """One ``torch_geometric`` batch of ``BipartiteData`` graphs on ``dev``."""
    batch = require_geometric().data.Batch
    return batch.from_data_list(list(graphs), follow_batch=["x_con", "x_var"]).to(dev)


def _step_seed(seed: int, step: int) -> int:
    return int(np.random.SeedSequence([seed, 2, step]).generate_state(1)[0])


@torch.no_grad()
def validation_loss(model: Forge, graphs: Sequence[Any], batch_size: int,
                    dev: torch.device) -> float:  # fmt: skip
    """The mean loss of ``graphs`` in eval mode, with fixed sampled non-edges.

    Parameters
    ----------
    model : Forge
        Its mode is restored afterwards.
    graphs : sequence of BipartiteData
        The held-out graphs.
    batch_size : int
        Graphs per forward pass.
    dev : torch.device
        Where ``model`` is.

    Returns
    -------
    float
        Mean over the batches, weighted by their numbers of graphs.
    """
    was_training = model.training
    model.eval()
    total = 0.0
    for start in range(0, len(graphs), batch_size):
        chosen = graphs[start : start + batch_size]
        loss, _ = model.loss(_batch(chosen, dev), generator(start, dev))
        total += float(loss) * len(chosen)
    model.train(was_training)
    return total / max(1, len(graphs))


def train(config: TrainConfig, *, resume: bool = False) -> dict[str, Any] | None:
    """Pretrain FORGE on the configured instances.

    Parameters
    ----------
    config : TrainConfig
        The run.
    resume : bool, default False
        Continue from ``config.checkpoint`` when that file exists (start afresh when it does
        not). ``False`` starts afresh and overwrites the checkpoint.

    Returns
    -------
    dict or None
        The manifest entry of the weights written, registered under
        ``config.registry_name()`` in the folder of ``config.output_path()``; ``None`` when
        the chunk stopped at ``max_seconds`` or ``max_steps`` (a checkpoint was written).

    Raises
    ------
    UsageError
        Bad settings, a path outside the working folder, ``resume`` or a chunk limit without
        a checkpoint, a checkpoint written with other settings, or no usable graph.
    WeightsError
        An unreadable checkpoint.
    InputError
        A model file that cannot be read.
    """
    if not isinstance(config, TrainConfig):
        raise UsageError(f"train() takes a TrainConfig, not {type(config).__name__}")
    threads = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    try:
        return _train(config, resume)
    finally:
        torch.set_num_threads(threads)


def _train(config: TrainConfig, resume: bool) -> dict[str, Any] | None:
    """:func:`train` with torch's threads set."""
    if config.checkpoint is None and (resume or config.max_seconds or config.max_steps):
        raise UsageError("resume, max_seconds and max_steps need config.checkpoint")
    if not config.path(".").is_dir():
        raise UsageError(f"TrainConfig: workdir {config.workdir!r} is not a folder")
    command = config.command()  # refuses paths outside the working folder before any work
    _sources(config)  # unknown distributions and empty folders fail before any work
    dev = resolve_device(config.device)
    train_graphs, valid_graphs = datasets(config)
    if not train_graphs:
        raise UsageError("no training instance has a variable")
    train_data = [graph.to_data() for graph in train_graphs]
    valid_data = [graph.to_data() for graph in valid_graphs]
    if config.progress:
        nodes = sum(g.num_vars + g.num_cons for g in train_graphs)
        print(f"FORGE: {len(train_data)} training graphs ({nodes} nodes), "
              f"{len(valid_data)} held out, device {dev}", flush=True)  # fmt: skip

    seed_everything(config.seed)
    model = Forge(config.model()).to(dev)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)  # fmt: skip
    history: dict[str, list[float]] = {"loss": [], "validation": []}
    loop = StepLoop(config, "forge", "a FORGE training checkpoint", model, optimizer,
                    items=len(train_data), history=history, device=dev)  # fmt: skip
    loop.restore(resume)
    while loop.running:
        step = loop.step
        batch = _batch([train_data[i] for i in loop.batch()], dev)
        loss, _ = model.loss(batch, generator(_step_seed(config.seed, step), dev))
        loss.backward()
        loop.optimise(loss)
        if loop.epoch_ended:
            line = f"epoch {loop.epoch}/{config.epochs}: loss {loop.epoch_loss():.4f}"
            if valid_data and (loop.epoch % config.validate_every == 0 or not loop.running):
                loop.history["validation"].append(
                    validation_loss(model, valid_data, config.batch_size, dev)
                )
                line += f", held-out loss {loop.history['validation'][-1]:.4f}"
            loop.write(line)
        if loop.chunk_ended():
            return None
    loop.close()
    history = loop.history

    sizes = [graph.num_vars for graph in train_graphs]
    output = config.output_path()
    return publish(model.state_dict(), output, config.registry_name(), {
        "problem": "mip", "model": model.config(), "train_sizes": [min(sizes), max(sizes)],
        "instances": len(train_data), "labeller": "none (self-supervised)", "knn": None,
        "data_seed": config.data_seed, "train_command": command,
        "validation_gap": history["validation"][-1] if history["validation"] else None,
        **loop.record(),
    }, say=config.progress)  # fmt: skip


def build_parser(prog: str = "hybridsolve train forge") -> argparse.ArgumentParser:
    """The training command's argument parser: one option per :class:`TrainConfig` field."""
    return config_parser(
        TrainConfig, prog,
        "Pretrain FORGE (Shafi & Kadıoğlu 2025) without labels on the train splits of the "
        "registered distributions and folders of MPS/LP files. Every field of TrainConfig "
        "is an option; 'none' clears an optional one.",
    )  # fmt: skip


def main(argv: Sequence[str] | None = None, prog: str = "hybridsolve train forge") -> int:
    """Command line: ``hybridsolve train forge [--instances-per-distribution N ...] [--resume]``.

    Prints the manifest entry as JSON when training finishes; exit code 0 (also when a
    chunk stopped at its limit), 2 on a usage error, 3 on an unreadable checkpoint or file.
    """
    return run_command_line(build_parser(prog), TrainConfig, train, argv, prog)
