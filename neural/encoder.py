"""The GraphSAGE encoder of MIP graphs shared by FORGE and the hint head.

:class:`ForgeEncoder` embeds every constraint and variable node of the bipartite graph of
:mod:`.graph` with edge-weighted GraphSAGE layers (Hamilton, Ying & Leskovec, NeurIPS
2017); :class:`~.forge.model.Forge` adds FORGE's codebook and decoders on top of it, the
hint head (:mod:`.hints`) an MLP. It imports torch but not ``torch_geometric``, so a
prediction for one model (:func:`.hints.predict.predict`) does not pay for importing it:
any object with ``x_con``, ``x_var``, ``edge_index`` and ``edge_weight`` tensors is a graph.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hybridsolve.mip.errors import UsageError

from .graph import CON_FEATURES, VAR_FEATURES

__all__ = ["ForgeConfig", "ForgeEncoder"]


@dataclass(frozen=True)
class ForgeConfig:
    """Hyper-parameters of :class:`Forge` (the weights manifest's ``model`` field).

    Attributes
    ----------
    con_features, var_features : int
        Input features per constraint / variable node (:data:`~..graph.CON_FEATURES`,
        :data:`~..graph.VAR_FEATURES`).
    width : int
        Width of every hidden layer, of the node embeddings and of the codes.
    layers : int
        GraphSAGE layers (each updates constraints from variables and variables from
        constraints).
    codes : int
        Codebook entries; the instance embedding is a histogram of this length.
    rank : int
        Rank of the edge decoder's projections.
    dropout : float
        Dropout after each layer, in ``[0, 1)``.
    ema_decay : float
        Decay of the codebook's moving averages, in ``(0, 1)``.
    commitment : float
        Weight of the commitment loss ``|z - sg(code)|^2``.
    restart_below : float
        A code whose moving average of assigned nodes per batch falls below this is
        restarted at a random embedding of the batch (``0``: never).
    """

    con_features: int = len(CON_FEATURES)
    var_features: int = len(VAR_FEATURES)
    width: int = 128
    layers: int = 2
    codes: int = 1024
    rank: int = 16
    dropout: float = 0.1
    ema_decay: float = 0.8
    commitment: float = 0.25
    restart_below: float = 0.5

    def __post_init__(self) -> None:
        for name in ("con_features", "var_features", "width", "layers", "codes", "rank"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"ForgeConfig: {name} must be a positive integer, got {value!r}")
        for name, low, high, closed in (("dropout", 0.0, 1.0, True), ("ema_decay", 0.0, 1.0,
                                        False), ("commitment", 0.0, float("inf"), True),
                                        ("restart_below", 0.0, float("inf"), True)):  # fmt: skip
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise UsageError(f"ForgeConfig: {name} must be a number, got {value!r}")
            if not (low <= value < high if closed else low < value < high):
                bracket = "[" if closed else "("
                raise UsageError(
                    f"ForgeConfig: {name} must be in {bracket}{low:g}, {high:g}), got {value!r}"
                )


def _adjacency(
    edge_index: torch.Tensor, weight: torch.Tensor, m: int, n: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean-aggregation matrices of both directions, sparse (``O(nnz)`` memory).

    ``to_con[c, v] = w_cv / deg(c)`` and ``to_var[v, c] = w_cv / deg(v)``, so that
    ``to_con @ h_var`` is every constraint's mean of ``w_cv h_v`` over its edges (0 for a
    node without edges).
    """
    rows, cols = edge_index
    con_degree = torch.bincount(rows, minlength=m).clamp(min=1).to(weight.dtype)
    var_degree = torch.bincount(cols, minlength=n).clamp(min=1).to(weight.dtype)
    to_con = torch.sparse_coo_tensor(
        edge_index, weight / con_degree[rows], (m, n), check_invariants=False
    )
    to_var = torch.sparse_coo_tensor(
        edge_index.flip(0), weight / var_degree[cols], (n, m), check_invariants=False
    )
    return to_con.coalesce(), to_var.coalesce()


class _SageLayer(nn.Module):
    """Edge-weighted GraphSAGE in both directions of the bipartite graph.

    ``h_c' = drop(relu(norm(R_c h_c + N_c mean_{(c,v)} w_cv h_v)))`` and the same for the
    variables with the constraints as neighbours; both sides are updated from the previous
    layer's embeddings. The means are sparse matrix products (:func:`_adjacency`), which
    need no per-edge message tensor (``nnz x width``) and run about three times faster on
    the CPU than gathering and ``index_add_``.
    """

    def __init__(self, width: int, dropout: float) -> None:
        super().__init__()
        self.con_root, self.var_root = nn.Linear(width, width), nn.Linear(width, width)
        self.con_neighbours = nn.Linear(width, width, bias=False)
        self.var_neighbours = nn.Linear(width, width, bias=False)
        self.con_norm, self.var_norm = nn.LayerNorm(width), nn.LayerNorm(width)
        self.drop = nn.Dropout(dropout)

    def forward(
        self, con: torch.Tensor, var: torch.Tensor, to_con: torch.Tensor, to_var: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        con_out = self.con_norm(
            self.con_root(con) + self.con_neighbours(torch.sparse.mm(to_con, var))
        )
        var_out = self.var_norm(
            self.var_root(var) + self.var_neighbours(torch.sparse.mm(to_var, con))
        )
        return self.drop(F.relu(con_out)), self.drop(F.relu(var_out))


class ForgeEncoder(nn.Module):
    """FORGE's GraphSAGE encoder alone: continuous embeddings of every node.

    The part of :class:`Forge` that the hint head (:mod:`hybridsolve.neural.hints`)
    fine-tunes; its parameters have the same names as in :class:`Forge`, so a FORGE state
    dict loads into it with :meth:`load_forge` (codebook and decoders left out).

    Parameters
    ----------
    config : ForgeConfig, optional
        Hyper-parameters; keyword arguments override single fields.

    Raises
    ------
    UsageError
        Bad hyper-parameters.
    """

    def __init__(self, config: ForgeConfig | None = None, **fields: Any) -> None:
        super().__init__()
        try:
            config = dataclasses.replace(config or ForgeConfig(), **fields)
        except TypeError as exc:
            raise UsageError(f"Forge: {exc}") from None
        self.settings = config
        width = config.width
        self.con_in = nn.Linear(config.con_features, width)
        self.var_in = nn.Linear(config.var_features, width)
        self.layers = nn.ModuleList(_SageLayer(width, config.dropout) for _ in range(config.layers))
        self.out = nn.Linear(width, width)

    def config(self) -> dict[str, Any]:
        """The hyper-parameters as a dict (the manifest's ``model`` field).

        Returns
        -------
        dict
            ``Forge(**model.config())`` builds a model of the same shapes.
        """
        return dataclasses.asdict(self.settings)

    def embed(self, data: Any, *, exact: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
        """Continuous embeddings ``(constraints [m, width], variables [n, width])``.

        Parameters
        ----------
        data : BipartiteData or torch_geometric.data.Batch
            With ``x_con``, ``x_var``, ``edge_index`` and ``edge_weight``; feature columns
            beyond the model's (LP features) are ignored.
        exact : bool
            Refuse extra feature columns too (FORGE's reconstruction reads all of them).

        Raises
        ------
        UsageError
            Fewer feature columns than the model reads (with ``exact``: other than).
        """
        cfg = self.settings
        x_con, x_var = data.x_con, data.x_var
        wide = x_con.size(1) > cfg.con_features or x_var.size(1) > cfg.var_features
        if x_con.size(1) < cfg.con_features or x_var.size(1) < cfg.var_features or exact and wide:
            raise UsageError(
                f"Forge expects {cfg.con_features} constraint and {cfg.var_features} variable "
                f"features, got {x_con.size(1)} and {x_var.size(1)}"
            )
        con = self.con_in(x_con[:, : cfg.con_features])
        var = self.var_in(x_var[:, : cfg.var_features])
        to_con, to_var = _adjacency(data.edge_index, data.edge_weight, con.size(0), var.size(0))
        for layer in self.layers:
            con, var = layer(con, var, to_con, to_var)
        return self.out(con), self.out(var)

    def load_forge(self, state_dict: dict[str, torch.Tensor]) -> None:
        """Take the encoder's parameters from a :class:`Forge` state dict.

        Raises
        ------
        UsageError
            The state dict lacks a parameter of the encoder or has other shapes.
        """
        own = self.state_dict()
        try:
            self.load_state_dict({key: state_dict[key] for key in own})
        except (KeyError, RuntimeError) as exc:
            raise UsageError(f"FORGE weights do not fit the encoder: {exc}") from None
