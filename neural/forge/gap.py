"""FORGE's second task: the integrality gap predicted from the instance embedding.

A small MLP on the frozen FORGE instance embedding (:attr:`~.embed.Embedding.vector`)
predicts the relative integrality gap of :mod:`hybridsolve.neural.gap_labels` (the LP
relaxation against the best solution SCIP finds within a time limit), a number in
``[0, 1]``. It is a forecast of how far an LP-based search starts from the optimum, shown by
``hybridsolve embed --json`` as ``predicted_gap``; nothing in hybridsolve uses it to cut
off solutions or to stop a run.

``hybridsolve train forge-gap`` collects the labels (cached, in parallel processes), embeds
the labelled train-split instances with the FORGE weights named by ``forge``, fits the head
on all but the last ``validation`` instances of each distribution, reports the mean absolute
error on those as the manifest's ``validation_gap``, and registers the head beside its
``.pt`` file. The head records the sha256 of the encoder it was trained on; it is applied
only to embeddings of that encoder.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from hybridsolve.datasets import registry
from hybridsolve.mip.errors import UsageError

from ..gap_labels import collect
from ..runtime import require_torch, seed_everything
from ..training import (
    TrainingConfig,
    config_parser,
    describe_device,
    publish,
    run_command_line,
)

torch = require_torch()
nn = torch.nn

__all__ = ["GapConfig", "GapHead", "GapTrainConfig", "fit", "main", "predict", "train"]


@dataclass(frozen=True)
class GapConfig:
    """Shape and training of the gap head.

    Attributes
    ----------
    inputs : int
        Width of the instance embedding.
    encoder : str
        sha256 of the FORGE weights that produce the embeddings.
    hidden : int
        Width of the hidden layer.
    epochs : int
        Full-batch Adam steps.
    lr : float
        Learning rate.
    weight_decay : float
        L2 penalty (the training sets are a few hundred instances).
    """

    inputs: int
    encoder: str = ""
    hidden: int = 64
    epochs: int = 400
    lr: float = 3e-3
    weight_decay: float = 1e-3


class GapHead(nn.Module):
    """``sigmoid(MLP(embedding))``: a gap in ``[0, 1]`` from standardised embeddings.

    The feature means and scales of the training set are buffers of the module, so the
    saved state dict is all a prediction needs.
    """

    def __init__(self, inputs: int, hidden: int = 64, encoder: str = "") -> None:
        super().__init__()
        self.encoder = encoder  # sha256 of the FORGE weights whose embeddings it reads
        self.register_buffer("mean", torch.zeros(inputs))
        self.register_buffer("scale", torch.ones(inputs))
        self.net = nn.Sequential(
            nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
            nn.Linear(hidden, 1),
        )  # fmt: skip

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """Predicted gaps, shape ``(batch,)``."""
        return torch.sigmoid(self.net((embeddings - self.mean) / self.scale)).squeeze(-1)


def fit(
    embeddings: np.ndarray, gaps: np.ndarray, config: GapConfig, *, seed: int = 0
) -> tuple[GapHead, list[float]]:
    """Train a :class:`GapHead` on instance embeddings and their measured gaps.

    Parameters
    ----------
    embeddings : numpy.ndarray
        ``(N, config.inputs)`` instance embeddings.
    gaps : numpy.ndarray
        ``(N,)`` gaps in ``[0, 1]``.
    config : GapConfig
        Head shape and training settings.
    seed : int
        Seed of the initial weights.

    Returns
    -------
    tuple of (GapHead, list of float)
        The trained head (eval mode, CPU) and the mean absolute error every 50 steps.
    """
    seed_everything(seed)
    x = torch.as_tensor(np.asarray(embeddings, dtype=np.float32))
    y = torch.as_tensor(np.asarray(gaps, dtype=np.float32))
    head = GapHead(config.inputs, config.hidden, config.encoder)
    head.mean.copy_(x.mean(dim=0))
    head.scale.copy_(x.std(dim=0).clamp_min(1e-6))
    optimizer = torch.optim.Adam(head.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    curve = []
    for step in range(config.epochs):
        optimizer.zero_grad()
        error = (head(x) - y).abs()
        error.mean().backward()
        optimizer.step()
        if step % 50 == 0 or step == config.epochs - 1:
            curve.append(float(error.mean().detach()))
    return head.eval(), curve


def predict(head: GapHead, embeddings: np.ndarray) -> np.ndarray:
    """Predicted gaps of ``(N, inputs)`` embeddings, as a float64 array ``(N,)``."""
    with torch.no_grad():
        x = torch.as_tensor(np.asarray(embeddings, dtype=np.float32)).to(head.mean.device)
        return head(x).double().cpu().numpy()


@dataclass(frozen=True)
class GapTrainConfig(TrainingConfig):
    """Everything that defines a gap-head run (``hybridsolve train forge-gap``).

    Attributes
    ----------
    forge : str
        FORGE weights (registry name or registered ``.pt`` file) whose embeddings it reads.
    distributions : str or None
        Comma-separated registered distributions; ``None`` for every one.
    per_distribution : int
        Labelled train-split instances of each distribution.
    validation : int
        Of those, the last ones of each distribution held out for ``validation_gap``.
    time_limit : float
        Seconds of each labelling SCIP solve.
    jobs : int
        Labelling processes.
    label_cache : str
        Folder of the cached labels.
    hidden, epochs, lr, weight_decay
        :class:`GapConfig` settings.
    seed : int
        Seed of the head's initial weights.
    output : str
        The ``.pt`` file; its folder becomes a registry.
    name : str
        Registry name.
    workdir : str or None
        Working folder of the paths.
    progress : bool
        Print what is being done.
    """

    COMMAND = "hybridsolve train forge-gap"
    PATHS = frozenset({"label_cache", "output"})

    forge: str = "forge"
    distributions: str | None = None
    per_distribution: int = 6
    validation: int = 1
    time_limit: float = 5.0
    jobs: int = 2
    label_cache: str = "runs/gap-labels"
    hidden: int = 64
    epochs: int = 400
    lr: float = 3e-3
    weight_decay: float = 1e-3
    seed: int = 0
    output: str = "forge-gap.pt"
    name: str = "forge-gap"
    workdir: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.validation < self.per_distribution:
            raise UsageError("GapTrainConfig: validation must lie in [0, per_distribution)")
        if self.time_limit <= 0 or self.jobs < 1 or self.epochs < 1:
            raise UsageError("GapTrainConfig: time_limit, jobs and epochs must be positive")


def train(config: GapTrainConfig) -> dict[str, Any]:
    """Collect labels, embed, fit the head, save and register it.

    Returns
    -------
    dict
        The manifest entry written.
    """
    from .embed import embed_many, load_forge

    began = time.perf_counter()
    command = config.command()
    say = print if config.progress else (lambda *args, **kwargs: None)
    names = (
        registry.distributions()
        if config.distributions is None
        else [name.strip() for name in config.distributions.split(",") if name.strip()]
    )
    say(f"labelling {len(names)} x {config.per_distribution} train instances", file=sys.stderr)
    labels = collect(
        names, "train", config.per_distribution, cache=config.path(config.label_cache),
        time_limit=config.time_limit, jobs=config.jobs,
    )  # fmt: skip
    labels = [item for item in labels if item.gap is not None]
    if not labels:
        raise UsageError("train forge-gap: no instance has both an LP and a MIP objective")
    _, forge_entry = load_forge(config.forge)
    problems = [registry.get(item.distribution).instance("train", item.index) for item in labels]
    say(f"embedding {len(problems)} instances with {config.forge}", file=sys.stderr)
    found = embed_many(problems, weights=config.forge, gap=None)
    vectors = np.stack([item.vector for item in found])
    gaps = np.array([item.gap for item in labels])
    held = np.array([item.index >= config.per_distribution - config.validation for item in labels])
    settings = GapConfig(
        inputs=vectors.shape[1], encoder=forge_entry["sha256"], hidden=config.hidden,
        epochs=config.epochs, lr=config.lr, weight_decay=config.weight_decay,
    )  # fmt: skip
    head, curve = fit(vectors[~held], gaps[~held], settings, seed=config.seed)
    validation = None
    if held.any():
        validation = float(np.abs(predict(head, vectors[held]) - gaps[held]).mean())
    say(f"training MAE {curve[-1]:.4f}; held-out MAE {validation}", file=sys.stderr)
    return publish(head.state_dict(), config.path(config.output), config.name, {
        "problem": "mip-gap",
        "model": {
            "inputs": settings.inputs,
            "hidden": settings.hidden,
            "encoder": settings.encoder,
        },
        "train_sizes": [min(p.num_vars for p in problems), max(p.num_vars for p in problems)],
        "instances": int((~held).sum()),
        "labeller": f"scip, time_limit={config.time_limit:g}, seed=0 (LP relaxation: HiGHS)",
        "knn": None,
        "data_seed": 0,
        "train_command": command,
        "validation_gap": validation,
        "device": describe_device(torch.device("cpu")),
        "epochs": config.epochs,
        "seconds": round(time.perf_counter() - began, 3),
    }, say=config.progress)  # fmt: skip


def main(argv: Sequence[str] | None = None, prog: str = "hybridsolve train forge-gap") -> int:
    """Command line: ``hybridsolve train forge-gap [--forge NAME] [--per-distribution N] ...``.

    Prints the manifest entry as JSON; exit code 0, 2 on a usage error, 3 on unreadable
    weights.
    """
    parser = config_parser(
        GapTrainConfig, prog,
        "Fit FORGE's integrality-gap head on SCIP-labelled train-split instances of the "
        "registered distributions. Every field of GapTrainConfig is an option; labels are "
        "cached in --label-cache, so a stopped run starts again where labelling stopped.",
        resumable=False,
    )  # fmt: skip
    return run_command_line(parser, GapTrainConfig, train, argv, prog)
