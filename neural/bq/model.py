"""The BQ-NCO policy network: a transformer encoder over the tokens of a BQ state.

Drakulic et al. (2023) pair the reduced (bisimulation-quotiented) MDP with a plain
encoder-only transformer: since a state is just the set of remaining nodes with the origin
and the current node marked, the whole state is re-encoded at every construction step, with
no autoregressive decoder and no cached context. The price is one full encoder pass per
step; what it buys is a policy that only ever sees self-contained sub-problems, which is
what makes it generalise from small training instances to much larger ones.

:class:`BQPolicy` embeds each token's features linearly, adds a learned vector to the
origin token and another to the current token (the paper marks both by learned
embeddings), runs a stack of standard pre-norm :class:`torch.nn.TransformerEncoderLayer`
blocks with padding masked out of attention, and reads one logit per token with a linear
head. Tokens that cannot be chosen (origin, current, padding) get ``-inf``.

Sizes. The paper's TSP model is ``dim=192, layers=9`` and is trained on a GPU. The
constructor's default (``dim=128, layers=6``) is a middle ground; the CPU recipe, the
defaults of :class:`~hybridsolve.neural.bq.train.TrainConfig` (``dim=64, layers=4``), is
sized to train on TSP50 on a 2-core CPU in about an hour.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from hybridsolve.mip.errors import UsageError

from .tsp_state import FEATURES

__all__ = ["BQPolicy"]


def _positive(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(f"BQPolicy: {name} must be a positive integer, got {value!r}")
    return value


class BQPolicy(nn.Module):
    """Encoder-only transformer policy over BQ state tokens (Drakulic et al. 2023).

    Parameters
    ----------
    dim : int, default 128
        Width of the token embeddings; a multiple of ``heads``.
    layers : int, default 6
        Number of transformer encoder layers.
    heads : int, default 8
        Attention heads per layer.
    ff : int, default 512
        Hidden width of each layer's feed-forward block.
    features : int, default 4
        Features per token; the last two are the *is origin* and *is current* flags
        (:data:`~hybridsolve.neural.bq.tsp_state.FEATURES` for the TSP).
    dropout : float, default 0.0
        Dropout inside the encoder layers.

    Raises
    ------
    UsageError
        On a non-positive size, ``dim`` not divisible by ``heads``, fewer than three
        features or a dropout outside ``[0, 1)``.
    """

    def __init__(
        self,
        dim: int = 128,
        layers: int = 6,
        heads: int = 8,
        ff: int = 512,
        features: int = FEATURES,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, value in (("dim", dim), ("layers", layers), ("heads", heads), ("ff", ff),
                            ("features", features)):  # fmt: skip
            _positive(name, value)
        if dim % heads:
            raise UsageError(f"BQPolicy: dim ({dim}) must be a multiple of heads ({heads})")
        if features < 3:
            raise UsageError(
                f"BQPolicy: features must be at least 3 (with 2 flags), got {features}"
            )
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise UsageError(f"BQPolicy: dropout must be a number, got {dropout!r}")
        if not 0.0 <= dropout < 1.0:
            raise UsageError(f"BQPolicy: dropout must be in [0, 1), got {dropout!r}")
        self._config = {"dim": dim, "layers": layers, "heads": heads, "ff": ff,
                        "features": features, "dropout": float(dropout)}  # fmt: skip
        self.embed = nn.Linear(features, dim)
        # learned vectors added to the origin and to the current token
        self.marks = nn.Parameter(torch.randn(2, dim) * 0.02)
        self.layers = nn.ModuleList(
            nn.TransformerEncoderLayer(
                dim, heads, ff, dropout, activation="relu", batch_first=True, norm_first=True
            )
            for _ in range(layers)
        )
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, 1)

    def config(self) -> dict[str, Any]:
        """The constructor's keyword arguments (for the weights manifest's ``model`` field).

        Returns
        -------
        dict
            ``dim``, ``layers``, ``heads``, ``ff``, ``features`` and ``dropout``;
            ``BQPolicy(**policy.config())`` builds a model of the same shapes.
        """
        return dict(self._config)

    def forward(
        self, features: torch.Tensor, present: torch.Tensor, selectable: torch.Tensor
    ) -> torch.Tensor:
        """One logit per token; ``-inf`` where a token cannot be chosen.

        Parameters
        ----------
        features : torch.Tensor
            ``[B, T, features]`` token features, the two flags last.
        present : torch.Tensor
            ``[B, T]`` bool: tokens of the state; the others are padding, ignored by
            attention. Every row needs at least one present token.
        selectable : torch.Tensor
            ``[B, T]`` bool: tokens that may be chosen next.

        Returns
        -------
        torch.Tensor
            ``[B, T]`` logits (float32 outside autocast).
        """
        flags = features[..., -2:]
        hidden = self.embed(features) + flags @ self.marks
        padding = ~present
        for layer in self.layers:
            hidden = layer(hidden, src_key_padding_mask=padding)
        logits = self.head(self.norm(hidden)).squeeze(-1)
        return logits.masked_fill(~selectable, -torch.inf)
