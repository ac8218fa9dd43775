"""``hybridsolve train branching fit``: a candidate scorer imitating strong branching.

The samples are the shards of :mod:`.collect` (collected first when missing, with the same
settings as ``collect``); the last ``validation`` instances of each distribution are held
out, and their top-1 and top-5 accuracy is reported after every epoch and in the manifest
(``validation_gap`` holds the held-out loss; ``instances`` counts the training *nodes*,
``train_sizes`` the fewest and most variables of their models). Nodes with a single
candidate teach nothing and are skipped. Runs are resumable in chunks like the other trainers
(:class:`~..training.StepLoop`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch

from hybridsolve.mip.errors import UsageError

from ..runtime import device as resolve_device
from ..runtime import seed_everything
from ..training import StepLoop, publish
from .collect import collect
from .command import CollectConfig
from .model import CandidateMLP, MLPConfig, batch_nodes, imitation_loss, top_k

__all__ = ["FitConfig", "fit"]


@dataclass(frozen=True)
class FitConfig(CollectConfig):
    """A scorer's training run: the collection's settings, then the model's and the loop's.

    Attributes
    ----------
    validation : int
        Instances of each distribution held out.
    hidden, layers : int
        :class:`~.model.MLPConfig`.
    epochs, batch_size, lr, weight_decay, grad_clip
        AdamW on batches of nodes, warm-up then cosine learning rate.
    device, threads
        Where to train, torch's CPU threads.
    checkpoint, checkpoint_every, max_seconds, max_steps
        Resumable chunks.
    output, name : str
        The ``.pt`` file (its folder becomes a registry) and its registry name.
    """

    COMMAND = "hybridsolve train branching fit"
    PATHS = frozenset({"cache", "checkpoint", "output"})
    RESUMABLE = frozenset({"device", "threads", "jobs", "cluster", "checkpoint",
                           "checkpoint_every", "max_seconds", "max_steps", "output", "name",
                           "workdir", "progress"})  # fmt: skip

    validation: int = 2
    hidden: int = 64
    layers: int = 2
    epochs: int = 20
    batch_size: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    grad_clip: float | None = 1.0
    device: str = "auto"
    threads: int | None = None
    checkpoint: str | None = None
    checkpoint_every: int = 200
    max_seconds: float | None = None
    max_steps: int | None = None
    output: str = "branching-mlp.pt"
    name: str = "branching-mlp"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.validation < self.instances:
            raise UsageError("fit: validation must lie in [0, instances)")
        if self.epochs < 1 or self.batch_size < 1 or not self.lr > 0:
            raise UsageError("fit: epochs, batch_size and lr must be positive")
        if not self.output.endswith(".pt"):
            raise UsageError(f"fit: output must end in '.pt', got {self.output!r}")
        MLPConfig(hidden=self.hidden, layers=self.layers)

    def collection(self) -> CollectConfig:
        """The collection part of the settings."""
        names = {field.name for field in fields(CollectConfig)}
        return CollectConfig(**{name: getattr(self, name) for name in names})


def fit(config: FitConfig, *, resume: bool = False) -> dict[str, Any] | None:
    """Collect (or read) the samples, train the scorer, save and register it.

    Returns
    -------
    dict or None
        The manifest entry; ``None`` when a chunk stopped (``resume=True`` continues).

    Raises
    ------
    UsageError
        Bad settings, chunk limits without a checkpoint, or no node to learn from.
    """
    if config.checkpoint is None and (resume or config.max_seconds or config.max_steps):
        raise UsageError("resume, max_seconds and max_steps need --checkpoint")
    command = config.command()
    names = config.names()
    shards = collect(
        names, "train", config.instances, cache=config.path(config.cache), rate=config.rate,
        seed=config.seed, time_limit=config.time_limit, limit=config.samples,
        jobs=config.jobs, cluster=config.cluster, say=print if config.progress else None,
    )  # fmt: skip
    held_from = config.instances - config.validation
    train_set = [s for sh in shards if sh.index < held_from for s in sh.samples
                 if len(s.columns) > 1]  # fmt: skip
    held = [s for sh in shards if sh.index >= held_from for s in sh.samples if len(s.columns) > 1]
    if not train_set:
        raise UsageError("fit: no sampled node with two or more candidates to learn from")
    threads = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    try:
        dev = resolve_device(config.device)
        seed_everything(config.seed)
        model = CandidateMLP(hidden=config.hidden, layers=config.layers)
        model.standardise_on(np.concatenate([s.features for s in train_set]))
        model.to(dev)
        return _train(config, command, model, train_set, held, dev, resume)
    finally:
        torch.set_num_threads(threads)


def _train(config, command, model, train_set, held, dev, resume):
    """The loop of :func:`fit`."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)  # fmt: skip
    history: dict[str, list] = {"loss": [], "validation": []}
    loop = StepLoop(config, "branching", "a branching training checkpoint", model, optimizer,
                    items=len(train_set), history=history, device=dev)  # fmt: skip
    held_batch = batch_nodes(held, dev) if held else None
    if config.progress:
        print(f"branching: {len(train_set)} training nodes, {len(held)} held out, device {dev}",
              flush=True)  # fmt: skip
    loop.restore(resume)
    while loop.running:
        loss = imitation_loss(model, batch_nodes([train_set[i] for i in loop.batch()], dev))
        loss.backward()
        loop.optimise(loss)
        if loop.epoch_ended:
            line = f"epoch {loop.epoch}/{config.epochs}: loss {loop.epoch_loss():.4f}"
            if held_batch is not None:
                found = _evaluate(model, held_batch)
                loop.history["validation"].append(found)
                line += (f", held-out loss {found['loss']:.4f}, top-1 {found['top1']:.3f}, "
                         f"top-5 {found['top5']:.3f}")  # fmt: skip
            loop.write(line)
        if loop.chunk_ended():
            return None
    loop.close()
    final = _evaluate(model, held_batch) if held_batch is not None else None
    sizes = [sample.state.shape[0] for sample in train_set]
    return publish(model.cpu().state_dict(), config.path(config.output), config.name, {
        "problem": "mip-branching", "model": model.config(),
        "train_sizes": [min(sizes), max(sizes)], "instances": len(train_set),
        "labeller": f"strong branching (Python), rate={config.rate:g}, "
                    f"time_limit={config.time_limit:g}",
        "knn": None, "data_seed": 0, "train_command": command,
        "validation_gap": None if final is None else final["loss"],
        **loop.record(),
    }, say=config.progress)  # fmt: skip


@torch.no_grad()
def _evaluate(model: CandidateMLP, batch: Any) -> dict[str, float]:
    was_training = model.training
    model.eval()
    out = {
        "loss": float(imitation_loss(model, batch)),
        "top1": top_k(model, batch, 1),
        "top5": top_k(model, batch, 5),
    }
    model.train(was_training)
    return out


def main(argv: Sequence[str], prog: str) -> int:
    """``... fit [options] [--resume]``: prints the manifest entry as JSON."""
    from ..training import config_parser, run_command_line

    parser = config_parser(
        FitConfig, prog,
        "Train a candidate scorer (an MLP on cheap per-candidate features) to imitate "
        "strong branching on collected samples (collected first when missing).",
    )  # fmt: skip
    return run_command_line(parser, FitConfig, fit, argv, prog)
