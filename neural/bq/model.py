"""The BQ-NCO policy network: a transformer encoder over the tokens of a BQ state.

Drakulic et al. (2023) pair the reduced (bisimulation-quotiented) MDP with a plain
encoder-only transformer: a state is a self-contained sub-instance (the remaining nodes
with a few marked ones), so the whole state is re-encoded at every construction step, with
no autoregressive decoder and no cached context. The price is one full encoder pass per
step; what it buys is a policy that only ever sees self-contained sub-problems, which is
what lets it generalise from small training instances to much larger ones.

:class:`BQPolicy` embeds each token's features linearly, runs a stack of pre-norm
transformer layers and reads ``actions`` logits per token with a linear head; actions that
are not allowed get ``-inf``. Where a problem supplies features of token pairs (distances,
or both directions of an asymmetric distance matrix), each layer adds a learned linear
function of them, one per attention head, to the attention scores. This is the
distance-aware attention bias of Zhou et al. (2024), ``-alpha d_ij`` with a learned
``alpha``, generalised to several pair features and signs; for the ATSP it is the only way
the distance matrix enters, as in MatNet's mixed-score attention (Kwon et al. 2021).

Sizes. The paper's TSP model is ``dim=192, layers=9`` and is trained on a GPU. The
constructor's default (``dim=128, layers=6``) is a middle ground; the CPU recipes of
:mod:`.train` use smaller models.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
C. Zhou, X. Lin, Z. Wang, X. Tong, M. Yuan and Q. Zhang, "Instance-Conditioned Adaptation
for Large-scale Generalization of Neural Combinatorial Optimization", arXiv:2405.01906, 2024.
Y.-D. Kwon, J. Choo, I. Yoon, M. Park, D. Park and Y. Gwon, "Matrix Encoding Networks for
Neural Combinatorial Optimization", NeurIPS 2021.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hybridsolve.mip.errors import UsageError

from .problem import State

__all__ = ["BQPolicy"]


def _positive(name: str, value: Any, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        kind = "a positive" if minimum == 1 else "a non-negative"
        raise UsageError(f"BQPolicy: {name} must be {kind} integer, got {value!r}")
    return value


class _Layer(nn.Module):
    """A pre-norm transformer encoder layer whose attention takes an additive bias."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float) -> None:
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.norm1 = nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.out = nn.Linear(dim, dim)
        self.norm2 = nn.LayerNorm(dim)
        self.ff = nn.Sequential(nn.Linear(dim, ff), nn.ReLU(), nn.Linear(ff, dim))
        self.drop = nn.Dropout(dropout)

    def forward(self, hidden: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        batch, tokens, dim = hidden.shape
        qkv = self.qkv(self.norm1(hidden)).view(batch, tokens, 3, self.heads, -1)
        q, k, v = qkv.permute(2, 0, 3, 1, 4)
        p = self.dropout if self.training else 0.0
        attended = F.scaled_dot_product_attention(q, k, v, attn_mask=bias.to(q.dtype), dropout_p=p)
        hidden = hidden + self.drop(self.out(attended.transpose(1, 2).reshape(batch, tokens, dim)))
        return hidden + self.drop(self.ff(self.norm2(hidden)))


class BQPolicy(nn.Module):
    """Encoder-only transformer policy over BQ state tokens (Drakulic et al. 2023).

    Parameters
    ----------
    features : int
        Features per token (the problem's ``features``).
    pairs : int, default 0
        Features per token pair that bias attention (0: none).
    actions : int, default 1
        Logits per token.
    dim : int, default 128
        Width of the token embeddings; a multiple of ``heads``.
    layers : int, default 6
        Number of transformer layers.
    heads : int, default 8
        Attention heads per layer.
    ff : int, default 512
        Hidden width of each layer's feed-forward block.
    dropout : float, default 0.0
        Dropout inside the layers.

    Raises
    ------
    UsageError
        On a non-positive size, ``dim`` not divisible by ``heads`` or a dropout outside
        ``[0, 1)``.
    """

    def __init__(
        self,
        features: int,
        pairs: int = 0,
        actions: int = 1,
        dim: int = 128,
        layers: int = 6,
        heads: int = 8,
        ff: int = 512,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        for name, value in (("features", features), ("actions", actions), ("dim", dim),
                            ("layers", layers), ("heads", heads), ("ff", ff)):  # fmt: skip
            _positive(name, value)
        _positive("pairs", pairs, minimum=0)
        if dim % heads:
            raise UsageError(f"BQPolicy: dim ({dim}) must be a multiple of heads ({heads})")
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)):
            raise UsageError(f"BQPolicy: dropout must be a number, got {dropout!r}")
        if not 0.0 <= dropout < 1.0:
            raise UsageError(f"BQPolicy: dropout must be in [0, 1), got {dropout!r}")
        self._config = {"features": features, "pairs": pairs, "actions": actions, "dim": dim,
                        "layers": layers, "heads": heads, "ff": ff,
                        "dropout": float(dropout)}  # fmt: skip
        self.embed = nn.Linear(features, dim)
        self.pair = nn.Linear(pairs, layers * heads, bias=False) if pairs else None
        self.layers = nn.ModuleList(_Layer(dim, heads, ff, float(dropout)) for _ in range(layers))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, actions)

    def config(self) -> dict[str, Any]:
        """The constructor's keyword arguments (for the weights manifest's ``model`` field).

        Returns
        -------
        dict
            ``BQPolicy(**policy.config())`` builds a model of the same shapes.
        """
        return dict(self._config)

    def forward(self, state: State) -> torch.Tensor:
        """Logits of every token's actions; ``-inf`` where an action is not allowed.

        Parameters
        ----------
        state : State
            Batched states (:class:`~.problem.State`) with this model's numbers of token
            features, pair features and actions.

        Returns
        -------
        torch.Tensor
            ``[B, T, A]`` logits (float32 outside autocast).

        Raises
        ------
        UsageError
            When the state's shapes do not fit the model.
        """
        cfg = self._config
        features, pairs, present = state.features, state.pairs, state.present
        batch, tokens = present.shape
        if features.shape != (batch, tokens, cfg["features"]):
            raise UsageError(f"BQPolicy expects {cfg['features']} features per token, got "
                             f"shape {tuple(features.shape)}")  # fmt: skip
        if state.selectable.shape != (batch, tokens, cfg["actions"]):
            raise UsageError(f"BQPolicy expects {cfg['actions']} actions per token, got "
                             f"shape {tuple(state.selectable.shape)}")  # fmt: skip
        # padding keys get -inf; every row has a present token, so no row is all -inf
        mask = torch.zeros(batch, 1, 1, tokens, dtype=features.dtype, device=features.device)
        mask = mask.masked_fill(~present.view(batch, 1, 1, tokens), -torch.inf)
        if self.pair is not None:
            if pairs is None or pairs.shape != (batch, tokens, tokens, cfg["pairs"]):
                shape = None if pairs is None else tuple(pairs.shape)
                raise UsageError(f"BQPolicy expects {cfg['pairs']} pair features, got {shape}")
            bias = self.pair(pairs.to(features.dtype)).view(batch, tokens, tokens, -1,
                                                             cfg["heads"])  # fmt: skip
            biases = (bias.permute(3, 0, 4, 1, 2) + mask).unbind(0)
        else:
            biases = (mask,) * cfg["layers"]
        hidden = self.embed(features)
        for layer, layer_bias in zip(self.layers, biases):
            hidden = layer(hidden, layer_bias)
        logits = self.head(self.norm(hidden))
        return logits.masked_fill(~state.selectable, -torch.inf)
