"""Training the hint head: ``hybridsolve train hints``.

Data: solution pools (:mod:`.pools`) of the first ``per_distribution`` train-split
instances of each distribution, collected by SCIP in parallel processes (or on a Dask
cluster with ``cluster``) and cached, and the instances' graphs with LP features, cached
too. The last ``validation`` instances of each distribution are held out. The default
distributions are the easy, medium and hard levels of five binary domains (set cover,
combinatorial auctions, capacitated facility location, independent set, GISP): one
mixed-distribution model; minimum vertex cover is left out on purpose, so that the
benchmark can show whether the hints transfer to a domain the model never saw. Training
on one distribution (``--distributions indset-medium``) is the per-distribution
fine-tuning, starting from any hint weights with ``--init``.

Loss: Predict-and-Search's weighted binary cross-entropy (Han et al., ICLR 2023) between
the predicted probability and the pool's objective-weighted target (:func:`.pools.targets`)
on every binary, averaged per graph, then over the graphs of a batch.

Runs are resumable in chunks like the other trainers (``max_seconds`` / ``max_steps``,
``--resume``); the batch order derives from ``(seed, epoch)``, so a resumed run follows
the same steps as an uninterrupted one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from hybridsolve.datasets import registry
from hybridsolve.mip.errors import UsageError

from ..forge.data import distribution_sources, encode_sources
from ..runtime import device as resolve_device
from ..runtime import require_geometric, seed_everything
from ..training import (
    StepLoop,
    TrainingConfig,
    config_parser,
    publish,
    run_command_line,
)
from ..weights import load_model
from .model import HintConfig, HintModel
from .pools import collect, targets

__all__ = ["DOMAINS", "HintTrainConfig", "main", "train"]

#: The binary domains of the shipped mixed-distribution model (mvc left out).
DOMAINS = ("setcover", "cauctions", "facilities", "indset", "gisp")


@dataclass(frozen=True)
class HintTrainConfig(TrainingConfig):
    """Everything that defines a hint-head run.

    Attributes
    ----------
    distributions : str
        Comma-separated registered distributions.
    per_distribution : int
        Labelled train-split instances of each distribution.
    validation : int
        Of those, the last ones of each distribution held out.
    time_limit : float
        Seconds of each labelling SCIP solve.
    keep : int
        Solutions kept per pool.
    temperature : float
        Objective-weight temperature of the targets (:func:`.pools.targets`).
    jobs : int
        Labelling and encoding processes.
    cluster : str or None
        Dask scheduler address to label on instead of local processes.
    pool_cache, graph_cache : str
        Folders of the cached pools and graphs.
    init : str
        Starting weights: ``"forge"`` (or another FORGE registry name / ``.pt`` file) for
        the encoder, ``"hints:NAME"`` for all of a hint model's weights (fine-tuning), or
        ``"none"`` for random weights.
    width, layers, hidden, dropout
        :class:`~.model.HintConfig` (width and layers must match FORGE weights).
    epochs, batch_size, lr, weight_decay, grad_clip
        AdamW on batches of graphs, warm-up then cosine learning rate.
    device, threads
        Where to train and torch's CPU threads.
    checkpoint, checkpoint_every, max_seconds, max_steps
        Resumable chunks.
    seed : int
        Initialisation and batch order.
    output, name : str
        The ``.pt`` file (its folder becomes a registry) and the registry name.
    workdir : str or None
        Working folder of the paths.
    progress : bool
        Progress bar and epoch lines.
    """

    COMMAND = "hybridsolve train hints"
    PATHS = frozenset({"pool_cache", "graph_cache", "checkpoint", "output"})
    RESUMABLE = frozenset({"device", "threads", "jobs", "cluster", "checkpoint",
                           "checkpoint_every", "max_seconds", "max_steps", "output", "name",
                           "workdir", "progress"})  # fmt: skip

    distributions: str = ",".join(f"{d}-{level}" for d in DOMAINS
                                  for level in ("easy", "medium", "hard"))  # fmt: skip
    per_distribution: int = 12
    validation: int = 2
    time_limit: float = 10.0
    keep: int = 20
    temperature: float = 0.01
    jobs: int = 2
    cluster: str | None = None
    pool_cache: str = "runs/hint-pools"
    graph_cache: str = "runs/hint-graphs"
    init: str = "forge"
    width: int = 128
    layers: int = 2
    hidden: int = 64
    dropout: float = 0.1
    epochs: int = 40
    batch_size: int = 4
    lr: float = 1e-3
    weight_decay: float = 1e-4
    grad_clip: float | None = 1.0
    device: str = "auto"
    threads: int | None = None
    checkpoint: str | None = None
    checkpoint_every: int = 100
    max_seconds: float | None = None
    max_steps: int | None = None
    seed: int = 0
    output: str = "forge-hints.pt"
    name: str = "forge-hints"
    workdir: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        for field in ("per_distribution", "epochs", "batch_size", "jobs", "keep",
                      "checkpoint_every"):  # fmt: skip
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"train hints: {field} must be a positive integer, got {value!r}")
        if not 0 <= self.validation < self.per_distribution:
            raise UsageError("train hints: validation must lie in [0, per_distribution)")
        for field in ("time_limit", "temperature", "lr"):
            if not getattr(self, field) > 0:
                raise UsageError(f"train hints: {field} must be positive")
        if not self.output.endswith(".pt"):
            raise UsageError(f"train hints: output must end in '.pt', got {self.output!r}")
        if not self.names():
            raise UsageError("train hints: no distributions")
        self.model()

    def names(self) -> list[str]:
        """The distributions trained on."""
        return [name.strip() for name in self.distributions.split(",") if name.strip()]

    def model(self) -> HintConfig:
        """The model's shapes."""
        return HintConfig(width=self.width, layers=self.layers, hidden=self.hidden,
                          dropout=self.dropout)  # fmt: skip


@dataclass(frozen=True)
class _Example:
    data: Any  # BipartiteData with a ``target`` (NaN off the binaries)
    distribution: str
    held_out: bool


def examples(config: HintTrainConfig) -> list[_Example]:
    """Pools, graphs and targets of every labelled instance (pools without solutions dropped)."""
    names = config.names()
    for name in names:
        registry.get(name)  # an unknown name fails before any work
    say = print if config.progress else None
    pools = collect(
        names, "train", config.per_distribution, cache=config.path(config.pool_cache),
        time_limit=config.time_limit, keep=config.keep, jobs=config.jobs,
        cluster=config.cluster, say=say,
    )  # fmt: skip
    graphs = encode_sources(
        distribution_sources(names, "train", config.per_distribution),
        workers=config.jobs, cache=config.path(config.graph_cache),
        progress=config.progress, lp=True,
    )  # fmt: skip
    out = []
    for item, graph in zip(pools, graphs):
        if item.size == 0:
            continue
        data = graph.to_data()
        data.target = torch.as_tensor(targets(item, graph.num_vars, config.temperature))
        held = item.index >= config.per_distribution - config.validation
        out.append(_Example(data, item.distribution, held))
    return out


def loss_of(model: HintModel, batch: Any) -> torch.Tensor:
    """Binary cross-entropy against the soft targets, per graph over its binaries, then mean."""
    logits = model(batch)
    known = ~torch.isnan(batch.target)
    bce = F.binary_cross_entropy_with_logits(logits[known], batch.target[known], reduction="none")
    graph = batch.x_var_batch[known]
    graphs = int(batch.num_graphs)
    total = torch.zeros(graphs, device=bce.device).index_add_(0, graph, bce)
    count = torch.zeros(graphs, device=bce.device).index_add_(0, graph, torch.ones_like(bce))
    present = count > 0
    return (total[present] / count[present]).mean()


def _batch(items: Sequence[Any], dev: torch.device) -> Any:
    batch = require_geometric().data.Batch
    return batch.from_data_list(list(items), follow_batch=["x_con", "x_var"]).to(dev)


@torch.no_grad()
def evaluate(model: HintModel, items: Sequence[Any], dev: torch.device) -> dict[str, float]:
    """Held-out loss and how often the most confident half of the predictions is right.

    ``agreement``: among each graph's binaries, the half with the most confident
    prediction, the share whose rounded prediction equals the rounded target.
    """
    was_training = model.training
    model.eval()
    losses, agree = [], []
    for item in items:
        batch = _batch([item], dev)
        losses.append(float(loss_of(model, batch)))
        known = ~torch.isnan(batch.target)
        p = torch.sigmoid(model(batch))[known]
        target = batch.target[known]
        half = max(1, len(p) // 2)
        top = torch.argsort((2 * p - 1).abs(), descending=True)[:half]
        agree.append(float(((p[top] > 0.5) == (target[top] > 0.5)).float().mean()))
    model.train(was_training)
    return {"loss": float(np.mean(losses)), "agreement": float(np.mean(agree))}


def _initial(config: HintTrainConfig, dev: torch.device) -> HintModel:
    seed_everything(config.seed)
    model = HintModel(config.model())
    if config.init.startswith("hints:"):
        trained, _ = load_model(config.init.partition(":")[2], HintModel, problem="mip-hints")
        if trained.config() != model.config():
            raise UsageError(f"--init {config.init}: its shapes {trained.config()} differ")
        model.load_state_dict(trained.state_dict())
    elif config.init != "none":
        from ..forge.embed import load_forge

        forge, _ = load_forge(config.init)
        model.encoder.load_forge(forge.state_dict())
    return model.to(dev)


def train(config: HintTrainConfig, *, resume: bool = False) -> dict[str, Any] | None:
    """Collect pools, fit the hint model, save and register it.

    Returns
    -------
    dict or None
        The manifest entry written; ``None`` when a chunk stopped at ``max_seconds`` or
        ``max_steps`` (a checkpoint was written; ``resume=True`` continues).

    Raises
    ------
    UsageError
        Bad settings, chunk limits without a checkpoint, or no instance with a solution.
    WeightsError
        Unreadable starting weights or checkpoint.
    """
    if config.checkpoint is None and (resume or config.max_seconds or config.max_steps):
        raise UsageError("resume, max_seconds and max_steps need --checkpoint")
    command = config.command()
    threads = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    try:
        dev = resolve_device(config.device)
        items = examples(config)
        train_set = [item.data for item in items if not item.held_out]
        held = [item.data for item in items if item.held_out]
        if not train_set:
            raise UsageError("train hints: no training instance has a solution")
        model = _initial(config, dev)
        return _fit(config, command, model, train_set, held, dev, resume)
    finally:
        torch.set_num_threads(threads)


def _fit(config, command, model, train_set, held, dev, resume):
    """The training loop of :func:`train` (arguments as prepared there)."""
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)  # fmt: skip
    history: dict[str, list] = {"loss": [], "validation": []}
    loop = StepLoop(config, "hints", "a hint training checkpoint", model, optimizer,
                    items=len(train_set), history=history, device=dev)  # fmt: skip
    if config.progress:
        print(f"hints: {len(train_set)} training graphs, {len(held)} held out, device {dev}, "
              f"starting from {config.init}", flush=True)  # fmt: skip
    loop.restore(resume)
    while loop.running:
        chosen = loop.batch()
        loss = loss_of(model, _batch([train_set[i] for i in chosen], dev))
        loss.backward()
        loop.optimise(loss)
        if loop.epoch_ended:
            line = f"epoch {loop.epoch}/{config.epochs}: loss {loop.epoch_loss():.4f}"
            if held:
                found = evaluate(model, held, dev)
                loop.history["validation"].append(found)
                line += f", held-out loss {found['loss']:.4f}, agreement {found['agreement']:.3f}"
            loop.write(line)
        if loop.chunk_ended():
            return None
    loop.close()
    final = evaluate(model, held, dev) if held else None
    if final is not None and config.progress:
        print(f"held-out loss {final['loss']:.4f}, agreement {final['agreement']:.3f}", flush=True)
    sizes = [int(item.x_var.size(0)) for item in train_set]
    return publish(model.cpu().state_dict(), config.path(config.output), config.name, {
        "problem": "mip-hints", "model": model.config(), "train_sizes": [min(sizes), max(sizes)],
        "instances": len(train_set),
        "labeller": f"scip solution pools, time_limit={config.time_limit:g}, keep={config.keep},"
                    f" temperature={config.temperature:g}",
        "knn": None, "data_seed": 0, "train_command": command,
        "validation_gap": None if final is None else final["loss"],
        **loop.record(),
    }, say=config.progress)  # fmt: skip


def main(argv: Sequence[str] | None = None, prog: str = "hybridsolve train hints") -> int:
    """Command line: ``hybridsolve train hints [--distributions ...] [--resume]``.

    Prints the manifest entry as JSON when training finishes; exit code 0 (also when a
    chunk stopped), 2 on a usage error, 3 on unreadable weights or checkpoint.
    """
    parser = config_parser(
        HintTrainConfig, prog,
        "Train the hint head (Predict-and-Search) on SCIP solution pools of registered "
        "distributions, starting from the FORGE encoder. Every field of HintTrainConfig is "
        "an option; pools and graphs are cached, so a stopped run resumes.",
    )  # fmt: skip
    return run_command_line(parser, HintTrainConfig, train, argv, prog)
