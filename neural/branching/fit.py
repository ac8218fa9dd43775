"""``hybridsolve train branching fit``: a candidate scorer imitating strong branching.

The samples are the shards of :mod:`.collect` (collected first when missing, with the same
settings as ``collect``); the last ``validation`` instances of each distribution (of a
folder's files, when it holds fewer than ``instances``) are held out, and their loss,
top-1 and top-5 accuracy are reported after every epoch and in the manifest
(``validation_gap`` holds the held-out loss; ``instances`` counts the training *nodes*,
``train_sizes`` the fewest and most variables of their models). Nodes that teach
nothing are skipped: a single candidate, or strong-branching scores all equal (no gain
anywhere, frequent in item placement).

``--kind`` picks the scorer (:mod:`.model`): ``mlp``, ``hybrid`` (the CPU default; its
graph encoder starts from the shipped FORGE weights with ``--init forge``) or ``gcnn``. A
step takes the sampled nodes of ``batch_size`` instances (at most ``max_nodes`` of each,
drawn from the seed and the step, so a resumed run draws the same), because the graph
models encode each instance's graph once per step. Runs are resumable in chunks like the
other trainers (:class:`~..training.StepLoop`).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
import torch

from hybridsolve.mip.errors import UsageError

from ..graph import encode
from ..label_cache import instance
from ..runtime import device as resolve_device
from ..runtime import seed_everything
from ..training import StepLoop, publish
from .collect import collect
from .command import CollectConfig
from .model import ScorerConfig, batch_nodes, build, imitation_loss, top_k
from .samples import NodeSample

__all__ = ["FitConfig", "fit", "groups", "informative"]


@dataclass(frozen=True)
class FitConfig(CollectConfig):
    """A scorer's training run: the collection's settings, then the model's and the loop's.

    Attributes
    ----------
    validation : int
        Instances of each distribution held out.
    kind : str
        ``mlp``, ``hybrid`` or ``gcnn`` (:data:`~.model.KINDS`).
    hidden, width, layers, dropout
        :class:`~.model.ScorerConfig` (``width``/``layers``: the graph encoder's; with
        ``init="forge"`` they are the FORGE weights' own).
    init : str
        ``"forge"`` (or a FORGE registry name / ``.pt`` file): the hybrid's encoder starts
        from those weights; ``"none"``: from random weights.
    epochs, batch_size, lr, weight_decay, grad_clip
        AdamW on batches of ``batch_size`` instances, warm-up then cosine learning rate.
    max_nodes : int
        Sampled nodes of an instance in one step, at most.
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
    kind: str = "hybrid"
    hidden: int = 64
    width: int = 64
    layers: int = 2
    dropout: float = 0.0
    init: str = "none"
    epochs: int = 20
    batch_size: int = 4
    max_nodes: int = 32
    lr: float = 3e-3
    weight_decay: float = 1e-4
    grad_clip: float | None = 1.0
    device: str = "auto"
    threads: int | None = None
    checkpoint: str | None = None
    checkpoint_every: int = 200
    max_seconds: float | None = None
    max_steps: int | None = None
    output: str = "branching.pt"
    name: str = "branching"

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.validation < self.instances:
            raise UsageError("fit: validation must lie in [0, instances)")
        if self.epochs < 1 or self.batch_size < 1 or self.max_nodes < 1 or not self.lr > 0:
            raise UsageError("fit: epochs, batch_size, max_nodes and lr must be positive")
        if not self.output.endswith(".pt"):
            raise UsageError(f"fit: output must end in '.pt', got {self.output!r}")
        if self.init != "none" and self.kind != "hybrid":
            raise UsageError("fit: --init applies to the hybrid scorer only")
        self.model()

    def model(self) -> ScorerConfig:
        """The scorer's shapes."""
        return ScorerConfig(kind=self.kind, hidden=self.hidden, width=self.width,
                            layers=self.layers, dropout=self.dropout)  # fmt: skip

    def collection(self) -> CollectConfig:
        """The collection part of the settings."""
        names = {field.name for field in fields(CollectConfig)}
        return CollectConfig(**{name: getattr(self, name) for name in names})


def informative(sample: NodeSample) -> bool:
    """A node worth learning from: two or more candidates whose scores are not all equal."""
    return len(sample.columns) > 1 and float(np.ptp(sample.scores)) > 0


#: One instance's training material: its static graph (``None`` for ``mlp``) and nodes.
Group = tuple[Any, list[NodeSample]]


def groups(shards: Sequence[Any], kind: str) -> list[Group]:
    """The informative nodes of every shard that has some, with its static graph."""
    out: list[Group] = []
    for shard in shards:
        nodes = [sample for sample in shard.samples if informative(sample)]
        if nodes:
            graph = None
            if kind != "mlp":
                graph = encode(instance(shard.distribution, shard.split, shard.index))
            out.append((graph, nodes))
    return out


def _initial(config: FitConfig, dev: torch.device) -> Any:
    """The scorer, its encoder from FORGE weights with ``init`` other than ``"none"``."""
    cfg, forge = config.model(), None
    if config.init != "none":
        from ..forge.embed import load_forge

        forge, _ = load_forge(config.init)
        shapes = forge.config()
        cfg = dataclasses.replace(cfg, width=shapes["width"], layers=shapes["layers"])
    model = build(**vars(cfg))
    if forge is not None:
        model.encoder.load_forge(forge.state_dict())
    return model.to(dev)


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
    sizes = Counter(shard.distribution for shard in shards)  # a folder may hold fewer

    def held_out(shard: Any) -> bool:
        return shard.index >= sizes[shard.distribution] - config.validation

    train_set = groups([shard for shard in shards if not held_out(shard)], config.kind)
    held = groups([shard for shard in shards if held_out(shard)], config.kind)
    if not train_set:
        raise UsageError("fit: no sampled node with two or more distinct candidates to learn from")
    threads = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    try:
        dev = resolve_device(config.device)
        seed_everything(config.seed)
        model = _initial(config, dev)
        model.standardise_on(np.concatenate([s.features for _, group in train_set for s in group]))
        return _train(config, command, model, train_set, held, dev, resume)
    finally:
        torch.set_num_threads(threads)


def _step_groups(config: FitConfig, train_set: list[Group], chosen: Any, step: int) -> list[Group]:
    """The chosen instances, each with at most ``max_nodes`` nodes drawn from (seed, step)."""
    rng = np.random.default_rng([config.seed, 1, step])
    out = []
    for index in chosen:
        graph, nodes = train_set[int(index)]
        if len(nodes) > config.max_nodes:
            keep = np.sort(rng.choice(len(nodes), config.max_nodes, replace=False))
            nodes = [nodes[i] for i in keep]
        out.append((graph, nodes))
    return out


def _train(config, command, model, train_set, held, dev, resume):
    """The loop of :func:`fit`."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)  # fmt: skip
    history: dict[str, list] = {"loss": [], "validation": []}
    loop = StepLoop(config, "branching", "a branching training checkpoint", model, optimizer,
                    items=len(train_set), history=history, device=dev)  # fmt: skip
    nodes = sum(len(group) for _, group in train_set)
    if config.progress:
        print(f"branching ({config.kind}): {nodes} training nodes of {len(train_set)} instances, "
              f"{sum(len(g) for _, g in held)} held out, device {dev}", flush=True)  # fmt: skip
    loop.restore(resume)
    while loop.running:
        chosen = loop.batch()
        batch = batch_nodes(_step_groups(config, train_set, chosen, loop.step), config.kind, dev)
        loss = imitation_loss(model, batch)
        loss.backward()
        loop.optimise(loss)
        if loop.epoch_ended:
            line = f"epoch {loop.epoch}/{config.epochs}: loss {loop.epoch_loss():.4f}"
            if held:
                found = evaluate(model, held, config.kind, dev)
                loop.history["validation"].append(found)
                line += (f", held-out loss {found['loss']:.4f}, top-1 {found['top1']:.3f}, "
                         f"top-5 {found['top5']:.3f}")  # fmt: skip
            loop.write(line)
        if loop.chunk_ended():
            return None
    loop.close()
    final = evaluate(model, held, config.kind, dev) if held else None
    sizes = [sample.state.shape[0] for _, group in train_set for sample in group]
    return publish(model.cpu().state_dict(), config.path(config.output), config.name, {
        "problem": "mip-branching", "model": model.config(),
        "train_sizes": [min(sizes), max(sizes)], "instances": nodes,
        "labeller": f"strong branching (Python), rate={config.rate:g}, "
                    f"time_limit={config.time_limit:g}",
        "knn": None, "data_seed": 0, "train_command": command,
        "validation_gap": None if final is None else final["loss"],
        **loop.record(),
    }, say=config.progress)  # fmt: skip


@torch.no_grad()
def evaluate(model: Any, groups: Sequence[Group], kind: str, dev: Any) -> dict[str, float]:
    """Loss, top-1 and top-5 accuracy over the nodes of ``groups`` (one instance at a time).

    Returns
    -------
    dict
        ``loss``, ``top1``, ``top5`` and ``nodes``.
    """
    was_training = model.training
    model.eval()
    totals = np.zeros(3)
    count = 0
    for group in groups:
        batch = batch_nodes([group], kind, dev)
        size = int(batch.best.numel())
        totals += size * np.array([float(imitation_loss(model, batch)), top_k(model, batch, 1),
                                   top_k(model, batch, 5)])  # fmt: skip
        count += size
    model.train(was_training)
    loss, top1, top5 = totals / max(count, 1)
    return {"loss": loss, "top1": top1, "top5": top5, "nodes": count}


def main(argv: Sequence[str], prog: str) -> int:
    """``... fit [options] [--resume]``: prints the manifest entry as JSON."""
    from ..training import config_parser, run_command_line

    parser = config_parser(
        FitConfig, prog,
        "Train a branching scorer (mlp: per-candidate features; hybrid: a root graph "
        "network modulating that MLP; gcnn: a graph network at every node) to imitate "
        "strong branching on collected samples (collected first when missing).",
    )  # fmt: skip
    return run_command_line(parser, FitConfig, fit, argv, prog)
