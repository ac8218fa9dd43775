"""Branching scorers: one score per LP candidate, trained to imitate strong branching.

:class:`CandidateMLP` is the floor the graph models must beat (issue 15's model (c)): an
MLP on the cheap per-candidate features of :data:`~.samples.FEATURES`, the same at every
node, so it costs a few microseconds per candidate. The features are standardised with the
training set's means and scales, kept as buffers so the state dict is all a prediction
needs.

:func:`imitation_loss` is Gasse et al.'s (NeurIPS 2019): cross-entropy of the softmax over
a node's candidates against the strong-branching choice; :func:`top_k` the share of nodes
whose expert choice is among the model's ``k`` best.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from hybridsolve.mip.errors import UsageError

from .samples import FEATURES

__all__ = ["CandidateMLP", "MLPConfig", "NodeBatch", "batch_nodes", "imitation_loss", "top_k"]


@dataclass(frozen=True)
class MLPConfig:
    """Shapes of :class:`CandidateMLP` (the manifest's ``model`` field).

    Attributes
    ----------
    features : int
        Candidate features (:data:`~.samples.FEATURES`).
    hidden : int
        Hidden width.
    layers : int
        Hidden layers.
    """

    features: int = len(FEATURES)
    hidden: int = 64
    layers: int = 2

    def __post_init__(self) -> None:
        for name in ("features", "hidden", "layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"MLPConfig: {name} must be a positive integer, got {value!r}")


class CandidateMLP(nn.Module):
    """``score = MLP((x - mean) / scale)`` per candidate.

    Parameters
    ----------
    config : MLPConfig, optional
        Shapes; keyword arguments override single fields.
    """

    def __init__(self, config: MLPConfig | None = None, **fields: Any) -> None:
        super().__init__()
        try:
            config = dataclasses.replace(config or MLPConfig(), **fields)
        except TypeError as exc:
            raise UsageError(f"CandidateMLP: {exc}") from None
        self.settings = config
        self.register_buffer("mean", torch.zeros(config.features))
        self.register_buffer("scale", torch.ones(config.features))
        layers: list[nn.Module] = []
        width = config.features
        for _ in range(config.layers):
            layers += [nn.Linear(width, config.hidden), nn.ReLU()]
            width = config.hidden
        self.net = nn.Sequential(*layers, nn.Linear(width, 1))

    def config(self) -> dict[str, Any]:
        """The shapes as a dict (the manifest's ``model`` field)."""
        return dataclasses.asdict(self.settings)

    def standardise_on(self, features: np.ndarray) -> None:
        """Set the feature means and scales from training features ``(N, features)``."""
        x = torch.as_tensor(np.asarray(features, dtype=np.float32))
        self.mean.copy_(x.mean(dim=0))
        self.scale.copy_(x.std(dim=0).clamp_min(1e-6))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Scores ``(..., )`` of candidate features ``(..., features)``."""
        if features.size(-1) != self.settings.features:
            raise UsageError(
                f"the branching model expects {self.settings.features} candidate features, "
                f"got {features.size(-1)}"
            )
        return self.net((features - self.mean) / self.scale).squeeze(-1)


@dataclass(frozen=True)
class NodeBatch:
    """Nodes padded to their largest candidate count.

    Attributes
    ----------
    features : torch.Tensor
        ``(B, K, features)``.
    mask : torch.Tensor
        ``(B, K)``: real candidates.
    best : torch.Tensor
        ``(B,)``: the expert's choice of each node.
    """

    features: torch.Tensor
    mask: torch.Tensor
    best: torch.Tensor


def batch_nodes(samples: Sequence[Any], device: torch.device | str = "cpu") -> NodeBatch:
    """Pad the candidate features of some :class:`~.samples.NodeSample` into one batch."""
    k = max(len(sample.columns) for sample in samples)
    width = samples[0].features.shape[1]
    features = np.zeros((len(samples), k, width), dtype=np.float32)
    mask = np.zeros((len(samples), k), dtype=bool)
    for i, sample in enumerate(samples):
        features[i, : len(sample.columns)] = sample.features
        mask[i, : len(sample.columns)] = True
    best = np.array([sample.best for sample in samples], dtype=np.int64)
    return NodeBatch(*(torch.as_tensor(a).to(device) for a in (features, mask, best)))


def _masked_scores(model: nn.Module, batch: NodeBatch) -> torch.Tensor:
    return model(batch.features).masked_fill(~batch.mask, float("-inf"))


def imitation_loss(model: nn.Module, batch: NodeBatch) -> torch.Tensor:
    """Mean cross-entropy of the softmax over each node's candidates against the expert."""
    return nn.functional.cross_entropy(_masked_scores(model, batch), batch.best)


@torch.no_grad()
def top_k(model: nn.Module, batch: NodeBatch, k: int = 1) -> float:
    """Share of nodes whose expert choice is among the model's ``k`` best candidates."""
    scores = _masked_scores(model, batch)
    chosen = scores.topk(min(k, scores.size(1)), dim=1).indices
    return float((chosen == batch.best[:, None]).any(dim=1).float().mean())
