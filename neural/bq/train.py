"""Imitation learning of BQ-NCO policies from expert solutions, with sub-path augmentation.

Drakulic et al. (2023) train the BQ policy by imitation of (near-)optimal solutions. The
key is *tail recursion*: after any prefix of an optimal solution, the rest of it is an
optimal solution of the sub-problem that the BQ state of the prefix describes, so one
expert solution yields a training example for every prefix (and, where the problem has
them, for every symmetry of the solution: rotations and reversals of tours, orders of
routes).

Each training step draws one sub-problem per instance of the batch from its expert
solution (:meth:`~.problem.BQProblem.sample`; the TSP draws one prefix length per batch,
so every sub-problem of the batch has the same number of tokens, as in the paper) and
minimises the cross-entropy of the policy on the expert's next action
(:func:`~.imitation.imitation_loss`). Expert solutions come from
:func:`~.labels.make_labels` (each problem's labeller, in parallel processes, cached on
disk). :func:`train` runs the whole recipe with checkpoints that resume bit-for-bit on the
CPU, and writes the weights into a registry folder with
:func:`hybridsolve.neural.weights.save` and :func:`~hybridsolve.neural.weights.register`.
``hybridsolve train bq --help`` (or ``python -m hybridsolve.neural.bq --help``) runs it
from the shell.

The manifest entry records the command that reproduces the run (``train_command``), and
that command is portable: it is meant to be run from a *working folder*, and its paths
(``--checkpoint``, ``--label-cache``, ``--output``) are written relative to it, with ``/``
separators. The working folder is ``workdir`` (``--workdir``) when given, else the current
directory; relative paths of the run are taken relative to it, it is not itself recorded,
and a path outside it is refused with a one-line :class:`UsageError` before anything is
labelled or trained, so no manifest ever holds a path of the machine that trained. The
shipped weights were trained that way from the repository root, e.g. ``hybridsolve train bq
--problem cvrp ... --checkpoint runs/cvrp100/ckpt.pt --label-cache runs/cache/cvrp100
--output runs/cvrp100/bq-cvrp100.pt``: run from a checkout, it writes the same files there.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hybridsolve.mip.errors import UsageError

from ..runtime import device as resolve_device
from ..runtime import seed_everything
from ..training import (
    StepLoop,
    TrainingConfig,
    config_parser,
    publish,
    run_command_line,
)
from .decode import greedy
from .imitation import imitation_loss
from .labels import make_labels
from .model import BQPolicy
from .problem import PROBLEMS, BQProblem, get

__all__ = ["TrainConfig", "build_parser", "datasets", "gap", "main", "train"]

# ------------------------------------------------------------------ configuration


@dataclasses.dataclass(frozen=True)
class TrainConfig(TrainingConfig):
    """Everything that defines a BQ-NCO training run.

    The defaults are a small CPU recipe (a ``dim=64, layers=4`` policy); the recipes
    of the shipped weights are recorded in their manifest entries (``train_command``).
    The paper's TSP model (``dim=192, layers=9``, trained on TSP100 with optimal tours) is
    a GPU recipe, e.g. ``TrainConfig(size=100, dim=192, layers=9, heads=12, ff=512,
    device="cuda", amp=True, ...)``: the same command scales up unchanged.

    Attributes
    ----------
    problem : str
        A name of :data:`~.problem.PROBLEMS`: ``"tsp"``, ``"atsp"``, ``"cvrp"``, ``"op"``
        or ``"kp"``.
    size : int
        Nodes (customers, items) per training instance, drawn by the problem's
        :meth:`~.problem.BQProblem.generate`.
    instances : int
        Training instances.
    data_seed : int
        Seed of the training and validation instances.
    epochs : int
        Passes over the training instances, one sub-problem per instance and pass.
    batch_size : int
        Sub-problems per step.
    lr : float
        Peak learning rate of AdamW (linear warm-up over the first 5% of the steps, at most
        500, then cosine decay to a tenth).
    weight_decay : float
        AdamW weight decay.
    grad_clip : float or None
        Clip the gradient norm to this value.
    dim, layers, heads, ff, dropout : int, int, int, int, float
        :class:`~.model.BQPolicy` hyper-parameters.
    pair_bias : bool
        Let the problem's pair features (distances) bias attention; without it the model
        reads token features only (cheaper per step).
    knn : int or None
        Train on states restricted to the ``knn`` nearest candidates (the decoder's
        ``knn``): far cheaper steps, and the same states at every instance size; the
        manifest records it as the policy's default ``knn`` for decoding.
    device : str
        ``"auto"``, ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
    amp : bool
        Mixed precision (float16 autocast and a gradient scaler); used only on CUDA.
    checkpoint : str or None
        Checkpoint file (model, optimiser, scaler, step, RNG state); needed to resume.
    checkpoint_every : int
        Steps between checkpoints (also written at every stop and at the end).
    max_seconds : float or None
        Stop this chunk after so many seconds of training, writing a checkpoint; call
        :func:`train` again with ``resume=True`` to continue.
    max_steps : int or None
        Stop this chunk once the run reaches this step (same as ``max_seconds``).
    validation : int
        Held-out instances decoded greedily after every ``validate_every`` epochs (``0``:
        none).
    validate_every : int
        Epochs between validations (many small epochs: validate less often).
    seed : int
        Seed of the model's initialisation and of the sub-path sampling.
    label_time, label_iterations : float or None, int or None
        The labeller's budget per instance (:func:`~.labels.make_labels`).
    label_seed : int
        The labeller's seed.
    label_workers : int
        Processes that label.
    label_cache : str or None
        Folder caching the expert solutions.
    output : str or None
        The ``.pt`` weights file (default ``bq-{problem}{size}.pt``); its folder becomes a
        registry: the weights are registered there under ``name``.
    name : str or None
        Registry name (default ``bq-{problem}{size}``).
    workdir : str or None
        The working folder (default: the current directory). ``checkpoint``,
        ``label_cache`` and ``output`` are taken relative to it and must lie inside it; the
        recorded command (:meth:`command`) writes them relative to it and leaves
        ``workdir`` out, so it runs unchanged from any copy of the working folder.
    progress : bool
        Progress bar (tqdm when installed, else a line every few seconds) and epoch lines.
    """

    COMMAND = "hybridsolve train bq"
    PATHS = frozenset({"checkpoint", "label_cache", "output"})
    RESUMABLE = frozenset({"device", "amp", "checkpoint", "checkpoint_every", "max_seconds",
                           "max_steps", "label_workers", "label_cache", "output", "name",
                           "progress", "validate_every", "workdir"})  # fmt: skip

    problem: str = "tsp"
    size: int = 50
    instances: int = 20000
    data_seed: int = 1234
    epochs: int = 100
    batch_size: int = 64
    lr: float = 5e-4
    weight_decay: float = 0.0
    grad_clip: float | None = 1.0
    dim: int = 64
    layers: int = 4
    heads: int = 4
    ff: int = 256
    dropout: float = 0.0
    pair_bias: bool = True
    knn: int | None = None
    device: str = "auto"
    amp: bool = True
    checkpoint: str | None = None
    checkpoint_every: int = 500
    max_seconds: float | None = None
    max_steps: int | None = None
    validation: int = 128
    validate_every: int = 1
    seed: int = 0
    label_time: float | None = None
    label_iterations: int | None = None
    label_seed: int = 0
    label_workers: int = 1
    label_cache: str | None = None
    output: str | None = None
    name: str | None = None
    workdir: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if self.problem not in PROBLEMS:
            raise UsageError(f"TrainConfig: problem {self.problem!r} is not one of "
                             f"{', '.join(PROBLEMS)}")  # fmt: skip
        for field in ("size", "instances", "epochs", "batch_size", "checkpoint_every",
                      "label_workers", "dim", "layers", "heads", "ff",
                      "validate_every"):  # fmt: skip
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"TrainConfig: {field} must be a positive integer, got {value!r}")
        if self.size < 3:
            raise UsageError(f"TrainConfig: size must be at least 3, got {self.size}")
        for field in ("data_seed", "seed", "validation", "label_seed"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise UsageError(f"TrainConfig: {field} must be a non-negative integer")
        for field in ("max_steps", "label_iterations", "knn"):
            value = getattr(self, field)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or value < 1):  # fmt: skip
                raise UsageError(f"TrainConfig: {field} must be a positive integer or None")
        for field in ("lr", "max_seconds", "label_time", "grad_clip"):
            value = getattr(self, field)
            if value is None and field != "lr":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
                raise UsageError(f"TrainConfig: {field} must be a positive number, got {value!r}")
        if self.output is not None and not str(self.output).endswith(".pt"):
            raise UsageError(f"TrainConfig: output must end in '.pt', got {self.output!r}")
        BQPolicy(**self.model())  # validates the hyper-parameters

    def model(self) -> dict[str, Any]:
        """Keyword arguments of :class:`~.model.BQPolicy` (the problem's shapes included)."""
        problem = PROBLEMS[self.problem]
        pairs = problem.pairs if self.pair_bias else 0
        return {"features": problem.features, "pairs": pairs, "actions": problem.actions,
                "dim": self.dim, "layers": self.layers, "heads": self.heads, "ff": self.ff,
                "dropout": float(self.dropout)}  # fmt: skip

    def labeller(self) -> str:
        """The expert and its budget, as the manifest records it (``"ils, iterations=500"``)."""
        budget = [f"{name}={value}" for name, value in (("time", self.label_time),
                  ("iterations", self.label_iterations)) if value is not None]  # fmt: skip
        words = [PROBLEMS[self.problem].label_method, *(budget or ["its default budget"])]
        return ", ".join(words + [f"seed={self.label_seed}"])

    def output_path(self) -> Path:
        """The weights file to write."""
        return self.path(self.output if self.output is not None else
                         f"bq-{self.problem}{self.size}.pt")  # fmt: skip

    def registry_name(self) -> str:
        """The name the weights are registered under."""
        return self.name if self.name is not None else f"bq-{self.problem}{self.size}"


# ------------------------------------------------------------------ training loop


def datasets(config: TrainConfig) -> tuple[list[Any], list[Any]]:
    """Training and validation instances, from independent streams of ``data_seed``."""
    problem = get(config.problem)
    train_rng = np.random.default_rng([config.data_seed, 0])
    valid_rng = np.random.default_rng([config.data_seed, 1])
    train_set = [problem.generate(train_rng, config.size) for _ in range(config.instances)]
    valid_set = [problem.generate(valid_rng, config.size) for _ in range(config.validation)]
    return train_set, valid_set


def _stack(rows: list[dict[str, np.ndarray]], dtype: Any = None) -> dict[str, np.ndarray]:
    return {key: np.stack([row[key] for row in rows]).astype(dtype or rows[0][key].dtype)
            for key in rows[0]}  # fmt: skip


def gap(problem: BQProblem, costs: np.ndarray, reference: np.ndarray) -> float:
    """Mean relative gap of ``costs`` to ``reference`` (positive: worse than the reference)."""
    ratio = np.asarray(costs, dtype=np.float64) / np.asarray(reference, dtype=np.float64)
    return float(np.mean(1.0 - ratio if problem.maximize else ratio - 1.0))


def train(config: TrainConfig, *, resume: bool = False) -> dict[str, Any] | None:
    """Train a BQ-NCO policy by imitation with sub-path augmentation.

    Generates ``config.instances`` instances of ``config.problem`` and ``config.validation``
    held-out ones from ``data_seed``, labels them with :func:`~.labels.make_labels`, then
    runs ``epochs * ceil(instances / batch_size)`` AdamW steps, each on one random
    sub-problem per instance of the batch (:meth:`~.problem.BQProblem.sample`,
    :func:`~.imitation.imitation_loss`). After every epoch the validation instances are
    decoded greedily and the mean gap to their expert solutions is printed.

    All randomness of a step (batch order, rotations, sub-problem sizes) is derived from
    ``(seed, epoch)`` and ``(seed, step)``, and checkpoints hold the model, the optimiser,
    the gradient scaler, the step and torch's RNG state, so on the CPU a run that stops and
    resumes ends with exactly the weights of an uninterrupted one.

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
        The manifest entry of the weights written (fields of
        :data:`hybridsolve.neural.weights.FIELDS`), registered under
        ``config.registry_name()`` in the folder of ``config.output_path()``, so
        ``bq(..., weights=str(config.output_path()))`` loads them. ``None`` when the chunk
        stopped at ``max_seconds`` or ``max_steps`` before the end (a checkpoint was
        written).

    Raises
    ------
    UsageError
        ``resume`` or a chunk limit without ``config.checkpoint``, or a checkpoint written
        with other settings.
    WeightsError
        An unreadable checkpoint.
    """
    if not isinstance(config, TrainConfig):
        raise UsageError(f"train() takes a TrainConfig, not {type(config).__name__}")
    if config.checkpoint is None and (resume or config.max_seconds or config.max_steps):
        raise UsageError("resume, max_seconds and max_steps need config.checkpoint")
    if not config.path(".").is_dir():
        raise UsageError(f"TrainConfig: workdir {config.workdir!r} is not a folder")
    command = config.command()  # refuses paths outside the working folder before any work
    dev = resolve_device(config.device)
    use_amp = config.amp and dev.type == "cuda"
    if config.progress:
        print(f"BQ-NCO: {config.problem.upper()}{config.size}, {config.instances} instances, "
              f"device {dev}"
              + (", amp" if use_amp else ""), flush=True)  # fmt: skip

    problem = get(config.problem)
    train_set, valid_set = datasets(config)
    labels = make_labels(
        problem, train_set + valid_set, time_per_instance=config.label_time,
        iterations=config.label_iterations, workers=config.label_workers,
        cache_dir=None if config.label_cache is None else config.path(config.label_cache),
        seed=config.label_seed, progress=config.progress,
    )  # fmt: skip
    data = _stack([problem.arrays(instance) for instance in train_set], np.float32)
    experts = _stack(labels.experts[: len(train_set)])
    reference = labels.costs[len(train_set) :]

    seed_everything(config.seed)
    model = BQPolicy(**config.model()).to(dev)
    optimizer = torch.optim.AdamW(
        model.parameters(), lr=config.lr, weight_decay=config.weight_decay
    )
    scaler = torch.amp.GradScaler("cuda") if use_amp else None
    extra = None if scaler is None else (scaler.state_dict, scaler.load_state_dict)
    history: dict[str, list[float]] = {"loss": [], "gap": []}
    loop = StepLoop(config, "bq", "a BQ-NCO training checkpoint", model, optimizer,
                    items=config.instances, history=history, device=dev, extra=extra)  # fmt: skip
    loop.restore(resume)
    while loop.running:
        step = loop.step
        chosen = loop.batch()
        env, target = problem.sample(
            {key: value[chosen] for key, value in data.items()},
            {key: value[chosen] for key, value in experts.items()},
            np.random.default_rng([config.seed, 1, step]), dev,
        )  # fmt: skip
        autocast = (torch.autocast("cuda", dtype=torch.float16) if use_amp
                    else contextlib.nullcontext())  # fmt: skip
        with autocast:
            loss = imitation_loss(model, problem, env, target, config.knn)
        if scaler is None:
            loss.backward()
            loop.optimise(loss)
        else:
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            loop.optimise(loss, step=lambda: (scaler.step(optimizer), scaler.update()))
        if loop.epoch_ended:
            line = f"epoch {loop.epoch}/{config.epochs}: loss {loop.epoch_loss():.4f}"
            if valid_set and (loop.epoch % config.validate_every == 0 or not loop.running):
                _, costs = greedy(model, valid_set, knn=config.knn, device=dev)
                loop.history["gap"].append(gap(problem, costs, reference))
                line += (f", validation gap {100 * loop.history['gap'][-1]:.2f}% (greedy vs "
                         f"{problem.label_method} labels)")  # fmt: skip
            loop.write(line)
        if loop.chunk_ended():
            return None
    loop.close()
    history = loop.history

    output = config.output_path()
    return publish(model.state_dict(), output, config.registry_name(), {
        "problem": config.problem, "model": model.config(), "train_sizes": [config.size],
        "instances": config.instances, "labeller": config.labeller(), "knn": config.knn,
        "data_seed": config.data_seed, "train_command": command,
        "validation_gap": history["gap"][-1] if history["gap"] else None,
        **loop.record(),
    }, say=config.progress)  # fmt: skip


# ------------------------------------------------------------------ command line


def build_parser(prog: str = "python -m hybridsolve.neural.bq") -> argparse.ArgumentParser:
    """The training command's argument parser: one option per :class:`TrainConfig` field."""
    return config_parser(
        TrainConfig, prog,
        "Train a BQ-NCO policy (tsp, atsp, cvrp, op, kp) by imitation of expert solutions "
        "(Drakulic et al. 2023). Every field of TrainConfig is an option; 'none' clears an "
        "optional one.",
    )  # fmt: skip


def main(argv: Sequence[str] | None = None, prog: str = "python -m hybridsolve.neural.bq") -> int:
    """Command line: ``hybridsolve train bq [--problem tsp --size 100 ...] [--resume]``.

    Prints the manifest entry as JSON when training finishes; exit code 0 (also when a
    chunk stopped at its limit), 2 on a usage error, 3 on an unreadable checkpoint.
    """
    return run_command_line(build_parser(prog), TrainConfig, train, argv, prog)
