"""Branching scorers: one score per LP candidate, trained to imitate strong branching.

Three kinds (issue 15), one configuration class and one batch format:

- ``"mlp"`` (:class:`CandidateMLP`), the floor the graph models must beat: an MLP on the
  cheap per-candidate features of :data:`~.features.FEATURES`, the same at every node.
- ``"hybrid"`` (:class:`HybridScorer`), the CPU default, after Gupta et al. (NeurIPS 2020,
  "Hybrid Models for Learning to Branch"): the FORGE graph encoder runs once, on the
  instance's static bipartite graph, and gives every variable a FiLM modulation
  ``(gamma, beta)`` of the first hidden layer of the same per-candidate MLP, so each node
  costs no more than the floor.
- ``"gcnn"`` (:class:`GCNNScorer`), Gasse et al.'s (NeurIPS 2019) graph network on the
  node's bipartite graph: the static variable features plus the node's LP state
  (:data:`~.features.NODE_FEATURES`), encoded at every node, the candidates' embeddings scored by an
  MLP; the GPU path, since a graph forward per node is slow on a CPU.

The per-candidate features are standardised with the training set's means and scales,
buffers of the model, so the state dict is all a prediction needs.
:func:`imitation_loss` is Gasse et al.'s cross-entropy of the softmax over a node's
candidates against the strong-branching choice; :func:`top_k` the share of nodes whose
expert choice is among the model's ``k`` best.
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

from ..encoder import ForgeConfig, ForgeEncoder
from ..graph import CON_FEATURES, VAR_FEATURES
from .features import FEATURES, KINDS, NODE_FEATURES, node_features

__all__ = [
    "CandidateMLP",
    "GCNNScorer",
    "HybridScorer",
    "NodeBatch",
    "ScorerConfig",
    "batch_nodes",
    "build",
    "imitation_loss",
    "top_k",
]


@dataclass(frozen=True)
class ScorerConfig:
    """Shapes of a scorer (the weights manifest's ``model`` field).

    Attributes
    ----------
    kind : str
        One of :data:`KINDS`.
    features : int
        Candidate features (:data:`~.features.FEATURES`).
    hidden : int
        Hidden width of the per-candidate MLP (two hidden layers).
    width, layers : int
        The graph encoder's width and GraphSAGE layers (``hybrid``, ``gcnn``).
    dropout : float
        Dropout of the encoder's layers during training, in ``[0, 1)``.
    """

    kind: str = "mlp"
    features: int = len(FEATURES)
    hidden: int = 64
    width: int = 64
    layers: int = 2
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            kinds = ", ".join(KINDS)
            raise UsageError(f"the scorer kind must be one of {kinds}, got {self.kind!r}")
        for name in ("features", "hidden", "width", "layers"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"ScorerConfig: {name} must be a positive integer, got {value!r}")
        if not (isinstance(self.dropout, (int, float)) and 0 <= self.dropout < 1):
            raise UsageError(f"ScorerConfig: dropout must be in [0, 1), got {self.dropout!r}")


@dataclass(frozen=True)
class NodeBatch:
    """Sampled nodes padded to their largest candidate count.

    Attributes
    ----------
    features : torch.Tensor
        ``(B, K, features)`` candidate features.
    columns : torch.Tensor
        ``(B, K)`` the candidates' variables, offset into the batch's stacked graphs
        (:attr:`graph`); 0 at padding.
    mask : torch.Tensor
        ``(B, K)``: real candidates.
    best : torch.Tensor
        ``(B,)``: the expert's choice of each node.
    graph : Any
        For ``hybrid``: the nodes' instance graphs as one ``torch_geometric`` batch; for
        ``gcnn``: one graph per node with the node features appended; else ``None``.
    """

    features: torch.Tensor
    columns: torch.Tensor
    mask: torch.Tensor
    best: torch.Tensor
    graph: Any = None


class _Candidates(nn.Module):
    """The per-candidate MLP ``score = w3 relu(W2 relu(film(W1 z))) + b`` on standardised ``z``."""

    def __init__(self, features: int, hidden: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("scale", torch.ones(features))
        self.first = nn.Linear(features, hidden)
        self.second = nn.Linear(hidden, hidden)
        self.last = nn.Linear(hidden, 1)

    def standardise_on(self, features: np.ndarray) -> None:
        """Set the feature means and scales from training features ``(N, features)``."""
        x = torch.as_tensor(np.asarray(features, dtype=np.float32))
        self.mean.copy_(x.mean(dim=0))
        self.scale.copy_(x.std(dim=0).clamp_min(1e-6))

    def forward(self, features: torch.Tensor, film: torch.Tensor | None = None) -> torch.Tensor:
        if features.size(-1) != self.mean.numel():
            raise UsageError(
                f"the branching model expects {self.mean.numel()} candidate features, "
                f"got {features.size(-1)}"
            )
        hidden = self.first((features - self.mean) / self.scale)
        if film is not None:
            gamma, beta = film.chunk(2, dim=-1)
            hidden = (1 + gamma) * hidden + beta
        hidden = torch.relu(self.second(torch.relu(hidden)))
        return self.last(hidden).squeeze(-1)


class _Scorer(nn.Module):
    """What the three kinds share: the configuration and the candidate standardisation."""

    def __init__(self, config: ScorerConfig | None, kind: str, fields: dict[str, Any]) -> None:
        super().__init__()
        try:
            config = dataclasses.replace(config or ScorerConfig(kind=kind), **fields)
        except TypeError as exc:
            raise UsageError(f"{type(self).__name__}: {exc}") from None
        if config.kind != kind:
            raise UsageError(f"{type(self).__name__} is a {kind!r} scorer, not {config.kind!r}")
        self.settings = config

    def config(self) -> dict[str, Any]:
        """The shapes as a dict (the manifest's ``model`` field)."""
        return dataclasses.asdict(self.settings)

    def standardise_on(self, features: np.ndarray) -> None:
        """Set the candidate features' means and scales from training features."""
        self.candidates.standardise_on(features)


class CandidateMLP(_Scorer):
    """``score = MLP((x - mean) / scale)`` per candidate (kind ``"mlp"``).

    Parameters
    ----------
    config : ScorerConfig, optional
        Shapes; keyword arguments override single fields.
    """

    def __init__(self, config: ScorerConfig | None = None, **fields: Any) -> None:
        super().__init__(config, "mlp", fields)
        self.candidates = _Candidates(self.settings.features, self.settings.hidden)

    def forward(self, batch: NodeBatch) -> torch.Tensor:
        """Scores ``(B, K)`` of a batch of nodes."""
        return self.candidates(batch.features)


class _GraphScorer(_Scorer):
    """A graph encoder whose variable embeddings FiLM-modulate the per-candidate MLP.

    ``film(h_j) = (gamma_j, beta_j)`` from the encoder's embedding ``h_j`` of variable
    ``j``; candidate ``j``'s first hidden layer ``W1 z`` becomes ``(1 + gamma_j) W1 z +
    beta_j``. ``film`` starts at zero, so training starts from the plain MLP.
    """

    def __init__(self, config: ScorerConfig | None, kind: str, fields: dict[str, Any],
                 var_features: int) -> None:  # fmt: skip
        super().__init__(config, kind, fields)
        cfg = self.settings
        shapes = ForgeConfig(var_features=var_features, width=cfg.width, layers=cfg.layers,
                             dropout=cfg.dropout)  # fmt: skip
        self.encoder = ForgeEncoder(shapes)
        self.film = nn.Linear(cfg.width, 2 * cfg.hidden)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        self.candidates = _Candidates(cfg.features, cfg.hidden)

    def forward(self, batch: NodeBatch) -> torch.Tensor:
        """Scores ``(B, K)`` of a batch of nodes (:attr:`NodeBatch.graph` holds the graphs)."""
        _, var = self.encoder.embed(batch.graph, exact=True)
        return self.candidates(batch.features, self.film(var)[batch.columns])


class HybridScorer(_GraphScorer):
    """The root graph network modulating a per-candidate MLP (kind ``"hybrid"``).

    The encoder reads the instance's static graph (:data:`~..graph.VAR_FEATURES`), so at
    deployment it runs once per instance and each node costs what the MLP costs.

    Parameters
    ----------
    config : ScorerConfig, optional
        Shapes; keyword arguments override single fields.
    """

    def __init__(self, config: ScorerConfig | None = None, **fields: Any) -> None:
        super().__init__(config, "hybrid", fields, len(VAR_FEATURES))


class GCNNScorer(_GraphScorer):
    """A graph network on each node's bipartite graph (kind ``"gcnn"``).

    The variable inputs are :data:`~..graph.VAR_FEATURES` followed by the node's
    :data:`~.features.NODE_FEATURES`, so the encoder runs at every node.

    Parameters
    ----------
    config : ScorerConfig, optional
        Shapes; keyword arguments override single fields.
    """

    def __init__(self, config: ScorerConfig | None = None, **fields: Any) -> None:
        super().__init__(config, "gcnn", fields, len(VAR_FEATURES) + len(NODE_FEATURES))


_BUILDERS = {"mlp": CandidateMLP, "hybrid": HybridScorer, "gcnn": GCNNScorer}


def build(kind: str = "mlp", **fields: Any) -> _Scorer:
    """A scorer from its manifest ``model`` field: ``build(**entry["model"])``.

    Raises
    ------
    UsageError
        Unknown kind or bad shapes.
    """
    if kind not in _BUILDERS:
        raise UsageError(f"the scorer kind must be one of {', '.join(KINDS)}, got {kind!r}")
    return _BUILDERS[kind](**fields)


def batch_nodes(
    groups: Sequence[tuple[Any, Sequence[Any]]],
    kind: str,
    device: torch.device | str = "cpu",
) -> NodeBatch:
    """One batch of the sampled nodes of some instances.

    Parameters
    ----------
    groups : sequence of (MIPGraph or None, sequence of NodeSample)
        Per instance its static graph (``None`` for ``mlp``) and sampled nodes.
    kind : str
        The scorer kind the batch is for.
    device : torch.device or str
        Where the tensors go.

    Returns
    -------
    NodeBatch
    """
    samples = [sample for _, group in groups for sample in group]
    k = max(len(sample.columns) for sample in samples)
    width = samples[0].features.shape[1]
    features = np.zeros((len(samples), k, width), dtype=np.float32)
    columns = np.zeros((len(samples), k), dtype=np.int64)
    mask = np.zeros((len(samples), k), dtype=bool)
    graphs: list[Any] = []
    offset, i = 0, 0
    for graph, group in groups:
        for sample in group:
            size = len(sample.columns)
            features[i, :size] = sample.features
            columns[i, :size] = sample.columns + offset
            mask[i, :size] = True
            i += 1
            if kind == "gcnn":
                graphs.append(_node_graph(graph, sample.state))
                offset += graph.num_vars
        if kind == "hybrid":
            graphs.append(graph.to_data())
            offset += graph.num_vars
    best = np.array([sample.best for sample in samples], dtype=np.int64)
    tensors = [torch.as_tensor(a).to(device) for a in (features, columns, mask, best)]
    stacked = None
    if graphs:
        from ..runtime import require_geometric

        batch = require_geometric().data.Batch
        stacked = batch.from_data_list(graphs, follow_batch=["x_con", "x_var"]).to(device)
    return NodeBatch(*tensors, graph=stacked)


def _node_graph(graph: Any, state: np.ndarray) -> Any:
    """The static graph, the node's :data:`~.features.NODE_FEATURES` appended to its variables."""
    data = graph.to_data()
    extra = node_features(state, graph.integer)
    data.x_var = torch.cat([data.x_var[:, : len(VAR_FEATURES)], torch.from_numpy(extra)], dim=1)
    data.x_con = data.x_con[:, : len(CON_FEATURES)]
    return data


def _masked_scores(model: nn.Module, batch: NodeBatch) -> torch.Tensor:
    return model(batch).masked_fill(~batch.mask, float("-inf"))


def imitation_loss(model: nn.Module, batch: NodeBatch) -> torch.Tensor:
    """Mean cross-entropy of the softmax over each node's candidates against the expert."""
    return nn.functional.cross_entropy(_masked_scores(model, batch), batch.best)


@torch.no_grad()
def top_k(model: nn.Module, batch: NodeBatch, k: int = 1) -> float:
    """Share of nodes whose expert choice is among the model's ``k`` best candidates."""
    scores = _masked_scores(model, batch)
    chosen = scores.topk(min(k, scores.size(1)), dim=1).indices
    return float((chosen == batch.best[:, None]).any(dim=1).float().mean())
