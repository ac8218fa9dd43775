"""Supervised training of UDC's divider heatmap: ``hybridsolve train udc``.

The dividing network of UDC (Zheng et al., 2024) is trained here the supervised way of
Joshi et al. (2019): every directed edge of an instance's ``k``-nearest-neighbour graph is
a binary example, positive when the edge belongs to an expert tour, and the loss is the
binary cross-entropy of :class:`~.divider.HeatmapGNN`'s logits, the rare positive class
weighted up (by default by the ratio of negatives to positives in the training set).

Data: uniform random TSP instances (:func:`hybridsolve.datasets.routing.tsp_uniform`) of
``min_size`` to ``max_size`` nodes, and ``validation`` held-out ones from another stream of
``data_seed``. Experts are tours of comb's iterated local search
(``hybridsolve.comb.solve(instance, "ils")``), labelled in ``jobs`` parallel processes and
cached one file per instance (:func:`hybridsolve.neural.bq.labels.make_labels`), so an
interrupted collection resumes and retraining never labels twice.

After every ``validate_every`` epochs the held-out instances give two figures: the
*recall* (the share of their tour edges found among the two best-scored edges of each
node) and the mean length of the decoded tours (:func:`~.divider.decode_tour`) relative to
comb's ``greedy`` construction; the last relative length minus one is the manifest's
``validation_gap``. Runs are resumable in chunks like the other trainers (``max_seconds``
/ ``max_steps``, ``--resume``).

References
----------
Z. Zheng, C. Zhou, T. Xialiang, M. Yuan and Z. Wang, "UDC: A Unified Neural
Divide-and-Conquer Framework for Large-Scale Combinatorial Optimization Problems",
NeurIPS 2024.
C. K. Joshi, T. Laurent and X. Bresson, "An Efficient Graph Convolutional Network
Technique for the Travelling Salesman Problem", arXiv:1906.01227, 2019.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from hybridsolve.comb import TSP
from hybridsolve.comb import solve as comb_solve
from hybridsolve.datasets.routing import tsp_uniform
from hybridsolve.mip.errors import UsageError

from ..bq.labels import make_labels
from ..runtime import device as resolve_device
from ..runtime import seed_everything
from ..training import StepLoop, TrainingConfig, config_parser, publish, run_command_line
from .divider import (
    DividerConfig,
    Graph,
    HeatmapGNN,
    decode_tour,
    edge_logits,
    knn_graph,
    symmetric_probabilities,
    undirected,
)

__all__ = ["Example", "UDCTrainConfig", "build_parser", "evaluate", "examples", "main", "train"]


@dataclasses.dataclass(frozen=True)
class UDCTrainConfig(TrainingConfig):
    """Everything that defines a divider training run.

    Attributes
    ----------
    min_size, max_size : int
        Nodes per instance, drawn uniformly in this range (``min_size > k``).
    instances : int
        Training instances.
    validation : int
        Held-out instances (``0``: no validation).
    data_seed : int
        Seed of the instances (training and validation from independent streams).
    label_iterations : int or None
        ILS kicks per expert tour (comb's default, ``10 n``, when None).
    label_seed : int
        The labeller's seed.
    jobs : int
        Labelling processes.
    label_cache : str or None
        Folder caching the expert tours.
    hidden, layers, k : int
        :class:`~.divider.DividerConfig`.
    pos_weight : float or None
        Weight of the positive (tour edge) class in the loss; the training set's ratio of
        negatives to positives when None.
    epochs, batch_size, lr, weight_decay, grad_clip
        AdamW on batches of ``batch_size`` instances, warm-up then cosine learning rate.
    device, threads
        Where to train and torch's CPU threads (unchanged when None).
    checkpoint, checkpoint_every, max_seconds, max_steps
        Resumable chunks.
    validate_every : int
        Epochs between validations.
    seed : int
        Initialisation and batch order.
    output, name : str
        The ``.pt`` file (its folder becomes a registry) and the registry name.
    workdir : str or None
        Working folder of the paths.
    progress : bool
        Progress bar and epoch lines.
    """

    COMMAND = "hybridsolve train udc"
    PATHS = frozenset({"label_cache", "checkpoint", "output"})
    RESUMABLE = frozenset({"device", "threads", "jobs", "label_cache", "checkpoint",
                           "checkpoint_every", "max_seconds", "max_steps", "validate_every",
                           "output", "name", "workdir", "progress"})  # fmt: skip

    min_size: int = 200
    max_size: int = 500
    instances: int = 1000
    validation: int = 16
    data_seed: int = 2024
    label_iterations: int | None = None
    label_seed: int = 0
    jobs: int = 1
    label_cache: str | None = "runs/udc-labels"
    hidden: int = 64
    layers: int = 6
    k: int = 10
    pos_weight: float | None = None
    epochs: int = 4
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    device: str = "auto"
    threads: int | None = None
    checkpoint: str | None = None
    checkpoint_every: int = 100
    max_seconds: float | None = None
    max_steps: int | None = None
    validate_every: int = 1
    seed: int = 0
    output: str = "udc-divider.pt"
    name: str = "udc-divider"
    workdir: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        for field in ("min_size", "max_size", "instances", "jobs", "epochs", "batch_size",
                      "checkpoint_every", "validate_every"):  # fmt: skip
            _positive(field, getattr(self, field))
        for field in ("validation", "data_seed", "label_seed", "seed"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UsageError(f"train udc: {field} must be a non-negative integer")
        for field in ("label_iterations", "max_steps", "threads"):
            if getattr(self, field) is not None:
                _positive(field, getattr(self, field))
        for field in ("lr", "pos_weight", "max_seconds", "grad_clip"):
            value = getattr(self, field)
            if (value is not None or field == "lr") and not (
                isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
            ):
                raise UsageError(f"train udc: {field} must be a positive number, got {value!r}")
        if not self.weight_decay >= 0:
            raise UsageError("train udc: weight_decay must be non-negative")
        self.model()  # validates hidden, layers and k
        if not self.k < self.min_size <= self.max_size:
            raise UsageError(f"train udc: need k < min_size <= max_size, got k={self.k}, "
                             f"min_size={self.min_size}, max_size={self.max_size}")  # fmt: skip
        if not self.output.endswith(".pt"):
            raise UsageError(f"train udc: output must end in '.pt', got {self.output!r}")

    def model(self) -> DividerConfig:
        """The network's hyper-parameters."""
        return DividerConfig(hidden=self.hidden, layers=self.layers, k=self.k)

    def labeller(self) -> str:
        """The expert and its budget, as the manifest records it."""
        budget = "its default budget" if self.label_iterations is None else (
            f"iterations={self.label_iterations}")  # fmt: skip
        return f"ils, {budget}, seed={self.label_seed}"


def _positive(field: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"train udc: {field} must be a positive integer, got {value!r}")


class Example(NamedTuple):
    """One labelled instance: its graph and, per edge, whether the expert tour uses it."""

    instance: TSP
    graph: Graph
    target: np.ndarray  # [n, k] float32


def _instances(config: UDCTrainConfig, stream: int, count: int) -> list[TSP]:
    rng = np.random.default_rng([config.data_seed, stream])
    return [tsp_uniform(rng, int(rng.integers(config.min_size, config.max_size + 1)))
            for _ in range(count)]  # fmt: skip


def tour_targets(graph: Graph, tour: np.ndarray) -> np.ndarray:
    """``[n, k]`` float32: 1 where the edge joins two neighbours of ``tour``, else 0."""
    tour = np.asarray(tour, dtype=np.int64)
    after, before = np.empty_like(tour), np.empty_like(tour)
    after[tour] = np.roll(tour, -1)
    before[tour] = np.roll(tour, 1)
    nb = graph.neighbours
    return ((nb == after[:, None]) | (nb == before[:, None])).astype(np.float32)


def examples(config: UDCTrainConfig) -> tuple[list[Example], list[Example]]:
    """Training and held-out examples, their expert tours labelled (or read from the cache)."""
    train_set = _instances(config, 0, config.instances)
    held = _instances(config, 1, config.validation)
    labels = make_labels(
        "tsp", train_set + held, iterations=config.label_iterations, workers=config.jobs,
        cache_dir=None if config.label_cache is None else config.path(config.label_cache),
        seed=config.label_seed, progress=config.progress,
    )  # fmt: skip
    out = []
    for instance, expert in zip(train_set + held, labels.experts):
        graph = knn_graph(instance.coords, config.k)
        out.append(Example(instance, graph, tour_targets(graph, expert["tour"])))
    return out[: len(train_set)], out[len(train_set) :]


def _batch(items: Sequence[Example], dev: torch.device) -> tuple[torch.Tensor, ...]:
    """Coordinates, features, neighbours (offset per graph) and targets of stacked graphs."""
    offsets = np.cumsum([0] + [len(item.graph.coords) for item in items[:-1]])
    return (
        torch.as_tensor(np.concatenate([item.graph.coords for item in items]),
                        dtype=torch.float32, device=dev),
        torch.as_tensor(np.concatenate([item.graph.features for item in items]), device=dev),
        torch.as_tensor(np.concatenate([item.graph.neighbours + offset
                                        for item, offset in zip(items, offsets)]), device=dev),
        torch.as_tensor(np.concatenate([item.target for item in items]), device=dev),
    )  # fmt: skip


def evaluate(model: HeatmapGNN, items: Sequence[Example], references: np.ndarray,
             dev: torch.device) -> dict[str, float]:  # fmt: skip
    """Held-out figures of the network.

    Returns
    -------
    dict
        ``recall``: the share of the expert tours' edges among the two best-scored edges of
        each node (the symmetric scores of :func:`~.divider.symmetric_probabilities`);
        ``ratio``: the mean over instances of the decoded tour's length over
        ``references`` (comb's greedy tour lengths).
    """
    was_training = model.training
    model.eval()
    hits = edges = 0.0
    ratios = []
    for item, reference in zip(items, references):
        scores = symmetric_probabilities(item.graph, edge_logits(model, item.graph, dev))
        best = np.argsort(-scores, axis=1, kind="stable")[:, :2]
        hits += float(np.take_along_axis(item.target, best, axis=1).sum())
        edges += 2.0 * len(scores)
        tour = decode_tour(item.graph.coords, *undirected(item.graph, scores))
        ratios.append(item.instance.tour_cost(tour) / reference)
    model.train(was_training)
    return {"recall": hits / edges, "ratio": float(np.mean(ratios))}


def train(config: UDCTrainConfig, *, resume: bool = False) -> dict[str, Any] | None:
    """Label, fit the divider heatmap, save and register it.

    Parameters
    ----------
    config : UDCTrainConfig
        The run.
    resume : bool, default False
        Continue from ``config.checkpoint`` when it exists.

    Returns
    -------
    dict or None
        The manifest entry written (registered under ``config.name`` beside
        ``config.output``, so ``learned_tour(..., weights=output)`` loads it); ``None`` when
        a chunk stopped at ``max_seconds`` or ``max_steps`` (a checkpoint was written).

    Raises
    ------
    UsageError
        Bad settings, or resume / chunk limits without a checkpoint.
    WeightsError
        An unreadable checkpoint.
    """
    if not isinstance(config, UDCTrainConfig):
        raise UsageError(f"train() takes a UDCTrainConfig, not {type(config).__name__}")
    if config.checkpoint is None and (resume or config.max_seconds or config.max_steps):
        raise UsageError("resume, max_seconds and max_steps need --checkpoint")
    command = config.command()  # refuses paths outside the working folder before any work
    threads = torch.get_num_threads()
    if config.threads is not None:
        torch.set_num_threads(config.threads)
    try:
        dev = resolve_device(config.device)
        train_set, held = examples(config)
        return _fit(config, command, train_set, held, dev, resume)
    finally:
        torch.set_num_threads(threads)


def _fit(config: UDCTrainConfig, command: str, train_set: list[Example], held: list[Example],
         dev: torch.device, resume: bool) -> dict[str, Any] | None:  # fmt: skip
    """The training loop of :func:`train`."""
    positives = sum(float(item.target.sum()) for item in train_set)
    total = sum(item.target.size for item in train_set)
    weight = config.pos_weight or (total - positives) / max(positives, 1.0)
    references = np.array([comb_solve(item.instance, "greedy").cost for item in held])
    seed_everything(config.seed)
    model = HeatmapGNN(**dataclasses.asdict(config.model())).to(dev)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr,
                                  weight_decay=config.weight_decay)  # fmt: skip
    history: dict[str, list] = {"loss": [], "validation": []}
    loop = StepLoop(config, "udc", "a UDC divider training checkpoint", model, optimizer,
                    items=len(train_set), history=history, device=dev)  # fmt: skip
    if config.progress:
        print(f"udc divider: {len(train_set)} training instances, {len(held)} held out, "
              f"device {dev}, positive weight {weight:.2f}", flush=True)  # fmt: skip
    pos_weight = torch.tensor(weight, device=dev)
    loop.restore(resume)
    while loop.running:
        x, features, neighbours, target = _batch([train_set[i] for i in loop.batch()], dev)
        logits = model(x, features, neighbours)
        loss = F.binary_cross_entropy_with_logits(logits, target, pos_weight=pos_weight)
        loss.backward()
        loop.optimise(loss)
        if loop.epoch_ended:
            line = f"epoch {loop.epoch}/{config.epochs}: loss {loop.epoch_loss():.4f}"
            if held and (loop.epoch % config.validate_every == 0 or not loop.running):
                found = evaluate(model, held, references, dev)
                loop.history["validation"].append(found)
                line += (f", held-out top-2 recall {found['recall']:.3f}, decoded tour "
                         f"length {found['ratio']:.4f} x greedy")  # fmt: skip
            loop.write(line)
        if loop.chunk_ended():
            return None
    loop.close()
    last = loop.history["validation"][-1] if loop.history["validation"] else None
    return publish(model.cpu().state_dict(), config.path(config.output), config.name, {
        "problem": "udc-divider", "model": model.config(),
        "train_sizes": [config.min_size, config.max_size], "instances": config.instances,
        "labeller": config.labeller(), "knn": config.k, "data_seed": config.data_seed,
        "train_command": command,
        "validation_gap": None if last is None else last["ratio"] - 1.0,
        **loop.record(),
    }, say=config.progress)  # fmt: skip


def build_parser(prog: str = "hybridsolve train udc") -> Any:
    """The command's argument parser: one option per :class:`UDCTrainConfig` field."""
    return config_parser(
        UDCTrainConfig, prog,
        "Train UDC's divider heatmap (Zheng et al. 2024): a gated GNN on k-nearest-neighbour "
        "graphs learns which edges belong to expert (ILS) tours of uniform random TSPs. Every "
        "field of UDCTrainConfig is an option; 'none' clears an optional one.",
    )  # fmt: skip


def main(argv: Sequence[str] | None = None, prog: str = "hybridsolve train udc") -> int:
    """Command line: ``hybridsolve train udc [--instances 1000 ...] [--resume]``.

    Prints the manifest entry as JSON when training finishes; exit code 0 (also when a
    chunk stopped at its limit), 2 on a usage error, 3 on an unreadable checkpoint.
    """
    return run_command_line(build_parser(prog), UDCTrainConfig, train, argv, prog)
