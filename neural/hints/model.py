"""The hint head: P(x_j = 1 in good solutions) for every binary, from the MIP graph.

The FORGE encoder (:class:`~..encoder.ForgeEncoder`, GraphSAGE on the static
bipartite graph of :mod:`..graph`) embeds every variable; a small MLP reads that embedding
together with the variable's LP-relaxation features (:data:`~..graph.LP_VAR_FEATURES`:
LP value, fractionality, reduced cost, at-bound flags) and gives the logit of the
probability that the variable is 1. Training (:mod:`.train`) starts the encoder from the
pretrained FORGE weights and fine-tunes encoder and head together (``forge="none"`` starts
the same network from random weights, the comparison in the training module's notes).

The LP features enter at the head, not the encoder, so the encoder keeps FORGE's input
and its pretrained weights apply unchanged.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from hybridsolve.mip.errors import UsageError

from ..encoder import ForgeConfig, ForgeEncoder
from ..graph import LP_VAR_FEATURES, VAR_FEATURES

__all__ = ["HintConfig", "HintModel"]


@dataclass(frozen=True)
class HintConfig:
    """Shapes of :class:`HintModel` (the weights manifest's ``model`` field).

    Attributes
    ----------
    width, layers : int
        The encoder's width and GraphSAGE layers (those of the FORGE weights it starts
        from).
    hidden : int
        Hidden width of the head.
    dropout : float
        Dropout of the encoder's layers, in ``[0, 1)``.
    """

    width: int = 128
    layers: int = 2
    hidden: int = 64
    dropout: float = 0.1

    def __post_init__(self) -> None:
        for name in ("width", "layers", "hidden"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"HintConfig: {name} must be a positive integer, got {value!r}")
        if not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            raise UsageError(f"HintConfig: dropout must be in [0, 1), got {self.dropout!r}")


class HintModel(nn.Module):
    """FORGE encoder + MLP head giving one logit per variable.

    Parameters
    ----------
    config : HintConfig, optional
        Shapes; keyword arguments override single fields (``HintModel(**entry["model"])``).
    """

    def __init__(self, config: HintConfig | None = None, **fields: Any) -> None:
        super().__init__()
        try:
            config = dataclasses.replace(config or HintConfig(), **fields)
        except TypeError as exc:
            raise UsageError(f"HintModel: {exc}") from None
        self.settings = config
        self.encoder = ForgeEncoder(
            ForgeConfig(width=config.width, layers=config.layers, dropout=config.dropout)
        )
        lp = len(LP_VAR_FEATURES)
        self.head = nn.Sequential(
            nn.Linear(config.width + lp, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, config.hidden), nn.ReLU(),
            nn.Linear(config.hidden, 1),
        )  # fmt: skip

    def config(self) -> dict[str, Any]:
        """The shapes as a dict (the manifest's ``model`` field)."""
        return dataclasses.asdict(self.settings)

    def forward(self, data: Any) -> torch.Tensor:
        """Logits ``(n,)`` of every variable node of a graph or batch.

        Parameters
        ----------
        data : BipartiteData or torch_geometric.data.Batch
            Encoded with LP features (``encode(problem, lp=True)``).

        Raises
        ------
        UsageError
            The graph has no LP features.
        """
        width = len(VAR_FEATURES) + len(LP_VAR_FEATURES)
        if data.x_var.size(1) != width:
            raise UsageError(
                f"the hint model needs {width} variable features (LP features included), "
                f"got {data.x_var.size(1)}"
            )
        _, var = self.encoder.embed(data)
        lp = data.x_var[:, len(VAR_FEATURES) :]
        return self.head(torch.cat([var, lp], dim=1)).squeeze(-1)
