"""The FORGE encoder: edge-weighted GraphSAGE on the MIP graph, a vector-quantised codebook.

FORGE (Shafi & Kadıoğlu 2025) embeds a MIP without labels. Its bipartite graph (constraint
and variable nodes, one edge per nonzero weighted by the coefficient; :mod:`..graph`) goes
through edge-weighted GraphSAGE layers; every node's embedding is then replaced by its
nearest entry of a codebook (vector quantisation, one code per node), and decoders
reconstruct the node features and the edges from the quantised embeddings. The instance
embedding is the normalised histogram of the codes of its nodes (:mod:`.embed`).

What differs from the reference, and why:

- **Sparse edge loss.** The reference decodes the whole weighted adjacency, a dense
  ``N x N`` matrix (memory quadratic in the nodes). Here the edge decoder scores only the
  real edges and as many *sampled* non-edges (:func:`negative_edges`: per real edge, a
  random constraint and a random variable of the same graph): binary cross-entropy of
  edge vs non-edge plus the squared error of the decoded coefficient on the real edges.
  Every tensor of the loss is ``O(nnz)``; a pair is scored by the dot product of low-rank
  projections of its constraint's and its variable's embedding.
- **Sizes for a CPU.** The reference is 1024 wide with 5000 codes (a GPU choice); the
  defaults here are 128 wide with 1024 codes, chosen by how well held-out instances
  cluster (the measurement is in :mod:`.train`).
- **Per-graph loss weights.** Node and edge losses are averaged within each graph first,
  then over the graphs of a batch, so a 60,000-node facility-location model and a 50-node
  knapsack count alike.
- **LayerNorm** instead of BatchNorm after each layer: a node's embedding then depends on
  its own graph only, never on the other graphs of a batch, so one instance embeds the same
  alone or batched.
- The codebook (:class:`Codebook`) is updated by exponential moving averages (decay 0.8,
  as the reference), initialised from the first batch's embeddings, and restarts codes that
  fall out of use at random embeddings of the current batch; the encoder gets the
  commitment loss (weight 0.25) and the decoders' gradients through the straight-through
  estimator. Nearest codes are found in chunks of nodes, so memory stays
  ``O(chunk x codes)`` however large the graph.

References
----------
T. Shafi and S. Kadıoğlu, "FORGE: Foundational Optimization Representations from Graph
Embeddings", arXiv:2508.20330, 2025.
W. L. Hamilton, R. Ying and J. Leskovec, "Inductive Representation Learning on Large
Graphs" (GraphSAGE), NeurIPS 2017.
A. van den Oord, O. Vinyals and K. Kavukcuoglu, "Neural Discrete Representation
Learning" (VQ-VAE, EMA codebook updates in its appendix), NeurIPS 2017.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
import torch.nn.functional as F
from torch import nn

from ..encoder import ForgeConfig, ForgeEncoder

__all__ = [
    "Codebook",
    "Forge",
    "ForgeConfig",
    "ForgeEncoder",
    "ForgeOutput",
    "GraphIndex",
    "graph_index",
    "negative_edges",
]


class GraphIndex(NamedTuple):
    """Which graph of a batch each node belongs to, and where each graph's nodes start."""

    graphs: int
    con: torch.Tensor  # [m] graph of each constraint
    var: torch.Tensor  # [n] graph of each variable
    con_ptr: torch.Tensor  # [graphs + 1] first constraint of each graph
    var_ptr: torch.Tensor  # [graphs + 1]


def graph_index(data: Any) -> GraphIndex:
    """The :class:`GraphIndex` of one ``BipartiteData`` or a batch of them.

    Parameters
    ----------
    data : BipartiteData or torch_geometric.data.Batch
        A batch made with ``follow_batch=["x_con", "x_var"]``, or a single graph.

    Returns
    -------
    GraphIndex
    """
    m, n = data.x_con.size(0), data.x_var.size(0)
    dev = data.x_var.device
    con = getattr(data, "x_con_batch", None)
    var = getattr(data, "x_var_batch", None)
    graphs = int(getattr(data, "num_graphs", None) or 1)
    if con is None or var is None:
        con = torch.zeros(m, dtype=torch.long, device=dev)
        var = torch.zeros(n, dtype=torch.long, device=dev)
        graphs = 1
    zero = torch.zeros(1, dtype=torch.long, device=dev)
    con_ptr = torch.cat([zero, torch.bincount(con, minlength=graphs).cumsum(0)])
    var_ptr = torch.cat([zero, torch.bincount(var, minlength=graphs).cumsum(0)])
    return GraphIndex(graphs, con, var, con_ptr, var_ptr)


def negative_edges(
    edge_index: torch.Tensor, index: GraphIndex, generator: torch.Generator | None = None
) -> torch.Tensor:
    """One random (constraint, variable) pair of the same graph per real edge.

    The pairs are drawn uniformly among the graph's constraints and variables; in sparse
    models nearly all of them are non-edges, and the few real edges drawn are left in. The
    edge loss is then a class-balanced sample of the dense adjacency's loss, in ``O(nnz)``
    memory instead of the ``N x N`` matrix.

    Parameters
    ----------
    edge_index : torch.Tensor
        ``[2, E]`` constraint and variable indices of the real edges.
    index : GraphIndex
        The batch's node-to-graph map.
    generator : torch.Generator, optional
        The random stream (the global one when omitted).

    Returns
    -------
    torch.Tensor
        ``[2, E]`` long tensor, on ``edge_index``'s device.
    """
    graph = index.con[edge_index[0]]
    draws = torch.rand(2, edge_index.size(1), generator=generator, device=edge_index.device)
    con_first, var_first = index.con_ptr[graph], index.var_ptr[graph]
    con_count = index.con_ptr[graph + 1] - con_first
    var_count = index.var_ptr[graph + 1] - var_first
    cons = con_first + (draws[0] * con_count).long().clamp(max=con_count.clamp(min=1) - 1)
    vars_ = var_first + (draws[1] * var_count).long().clamp(max=var_count.clamp(min=1) - 1)
    return torch.stack([cons, vars_])


def _graph_mean(values: torch.Tensor, groups: torch.Tensor, graphs: int) -> torch.Tensor:
    """Mean over the graphs that have any of ``values`` of each graph's mean of them."""
    if values.numel() == 0:
        return values.new_zeros(())
    sizes = torch.bincount(groups, minlength=graphs)
    sums = values.new_zeros(graphs).index_add_(0, groups, values)
    present = sizes > 0
    return (sums[present] / sizes[present].to(values.dtype)).mean()


class Codebook(nn.Module):
    """A vector-quantisation codebook updated by exponential moving averages.

    Parameters
    ----------
    codes : int
        Entries.
    width : int
        Their width.
    decay : float
        Moving-average decay of the entries' assigned counts and sums.
    restart_below : float
        Restart entries whose average assigned count per batch falls below this.
    chunk : int, default 4096
        Nodes per block of the nearest-code search (memory ``chunk x codes``).
    """

    def __init__(
        self, codes: int, width: int, decay: float, restart_below: float, chunk: int = 4096
    ) -> None:
        super().__init__()
        self.decay, self.restart_below, self.chunk = decay, restart_below, chunk
        self.register_buffer("embedding", torch.randn(codes, width))
        self.register_buffer("cluster_size", torch.zeros(codes))
        self.register_buffer("embed_sum", torch.zeros(codes, width))
        self.register_buffer("initialised", torch.zeros((), dtype=torch.bool))

    def nearest(self, z: torch.Tensor) -> torch.Tensor:
        """Index of the nearest entry (Euclidean) of every row of ``z``, in blocks of rows."""
        codebook = self.embedding
        squared = (codebook * codebook).sum(1)
        out = torch.empty(z.size(0), dtype=torch.long, device=z.device)
        for start in range(0, z.size(0), self.chunk):
            block = z[start : start + self.chunk]
            # |z - e|^2 = |z|^2 - 2 z.e + |e|^2; |z|^2 is the same for every entry
            out[start : start + self.chunk] = (squared - 2.0 * block @ codebook.T).argmin(1)
        return out

    @torch.no_grad()
    def _initialise(self, z: torch.Tensor) -> None:
        """Entries at random rows of ``z`` (the first training batch)."""
        pick = torch.randint(z.size(0), (self.embedding.size(0),), device=z.device)
        self.embedding.copy_(z[pick])
        self.embed_sum.copy_(z[pick])
        self.cluster_size.fill_(1.0)
        self.initialised.fill_(True)

    @torch.no_grad()
    def _update(self, z: torch.Tensor, codes: torch.Tensor) -> None:
        """One moving-average step of the entries towards their assigned embeddings."""
        count = torch.bincount(codes, minlength=self.embedding.size(0)).to(z.dtype)
        sums = torch.zeros_like(self.embed_sum).index_add_(0, codes, z)
        self.cluster_size.mul_(self.decay).add_(count, alpha=1.0 - self.decay)
        self.embed_sum.mul_(self.decay).add_(sums, alpha=1.0 - self.decay)
        total, eps = self.cluster_size.sum(), 1e-5
        smoothed = (self.cluster_size + eps) / (total + eps * count.numel()) * total
        self.embedding.copy_(self.embed_sum / smoothed.unsqueeze(1))
        dead = (self.cluster_size < self.restart_below).nonzero().squeeze(1)
        if dead.numel():
            pick = torch.randint(z.size(0), (dead.numel(),), device=z.device)
            self.embedding[dead] = z[pick]
            self.embed_sum[dead] = z[pick]
            self.cluster_size[dead] = 1.0

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Quantise ``z``; in training mode then move the entries towards it.

        Returns
        -------
        quantised : torch.Tensor
            Each row's entry (before this batch's update), with the straight-through
            gradient of ``z``.
        codes : torch.Tensor
            Index of each row's entry.
        distance : torch.Tensor
            Mean squared distance of ``z`` to its entries (the commitment loss, unweighted).
        """
        if self.training and not bool(self.initialised):
            self._initialise(z.detach())
        codes = self.nearest(z.detach())
        entries = self.embedding[codes]  # a copy: the update below leaves it alone
        if self.training:
            self._update(z.detach(), codes)
        distance = F.mse_loss(z, entries)
        return z + (entries - z).detach(), codes, distance


class ForgeOutput(NamedTuple):
    """What :meth:`Forge.forward` computes for a graph or a batch."""

    con: torch.Tensor  # [m, width] continuous constraint embeddings (before quantisation)
    var: torch.Tensor  # [n, width] continuous variable embeddings
    con_codes: torch.Tensor  # [m] code of each constraint
    var_codes: torch.Tensor  # [n] code of each variable
    con_quantised: torch.Tensor  # [m, width], straight-through
    var_quantised: torch.Tensor  # [n, width]
    commitment: torch.Tensor  # mean squared distance to the codes


class Forge(ForgeEncoder):
    """FORGE's encoder, codebook and reconstruction decoders.

    Parameters
    ----------
    config : ForgeConfig, optional
        Hyper-parameters; keyword arguments override single fields (so
        ``Forge(**entry["model"])`` rebuilds a model from its manifest entry).

    Raises
    ------
    UsageError
        Bad hyper-parameters.
    """

    def __init__(self, config: ForgeConfig | None = None, **fields: Any) -> None:
        super().__init__(config, **fields)
        config, width = self.settings, self.settings.width
        self.codebook = Codebook(config.codes, width, config.ema_decay, config.restart_below)
        self.con_decoder = nn.Sequential(
            nn.Linear(width, width), nn.ReLU(), nn.Linear(width, config.con_features)
        )
        self.var_decoder = nn.Sequential(
            nn.Linear(width, width), nn.ReLU(), nn.Linear(width, config.var_features)
        )
        self.edge_con = nn.Linear(width, 2 * config.rank)
        self.edge_var = nn.Linear(width, 2 * config.rank)

    def forward(self, data: Any) -> ForgeOutput:
        """Embed and quantise every node of a graph or a batch of graphs.

        Parameters
        ----------
        data : BipartiteData or torch_geometric.data.Batch
            With ``x_con``, ``x_var``, ``edge_index`` and ``edge_weight``.

        Returns
        -------
        ForgeOutput

        Raises
        ------
        UsageError
            The feature widths do not fit the model.
        """
        con, var = self.embed(data, exact=True)
        quantised, codes, commitment = self.codebook(torch.cat([con, var]))
        m = con.size(0)
        return ForgeOutput(con, var, codes[:m], codes[m:], quantised[:m], quantised[m:],
                           commitment)  # fmt: skip

    def _pairs(
        self, con: torch.Tensor, var: torch.Tensor, pairs: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Edge logit and decoded coefficient of each (constraint, variable) pair."""
        rank = self.settings.rank
        a, b = self.edge_con(con)[pairs[0]], self.edge_var(var)[pairs[1]]
        product = a * b
        return product[:, :rank].sum(1), product[:, rank:].sum(1)

    def loss(
        self, data: Any, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        """The self-supervised loss of a batch and its parts.

        ``features + edges + weights + commitment * commitment_distance``, where each of the
        first three is averaged per graph, then over graphs: ``features`` the squared error
        of the decoded node features, ``edges`` the binary cross-entropy of the real edges
        (label 1) against as many sampled pairs (:func:`negative_edges`, label 0),
        ``weights`` the squared error of the decoded coefficient on the real edges.

        Parameters
        ----------
        data : BipartiteData or torch_geometric.data.Batch
            The graphs.
        generator : torch.Generator, optional
            Draws the sampled pairs (the global stream when omitted).

        Returns
        -------
        loss : torch.Tensor
            Scalar, differentiable.
        parts : dict of str to float
            ``features``, ``edges``, ``weights``, ``commitment`` (the unweighted distance)
            and ``codes_used`` (distinct codes in the batch).
        """
        out = self(data)
        index = graph_index(data)
        con_error = (self.con_decoder(out.con_quantised) - data.x_con).pow(2).mean(1)
        var_error = (self.var_decoder(out.var_quantised) - data.x_var).pow(2).mean(1)
        features = _graph_mean(
            torch.cat([con_error, var_error]), torch.cat([index.con, index.var]), index.graphs
        )
        edge_index = data.edge_index
        negatives = negative_edges(edge_index, index, generator)
        pairs = torch.cat([edge_index, negatives], 1)
        logits, decoded = self._pairs(out.con_quantised, out.var_quantised, pairs)
        count = edge_index.size(1)
        labels = torch.cat([logits.new_ones(count), logits.new_zeros(count)])
        bce = F.binary_cross_entropy_with_logits(logits, labels, reduction="none")
        edge_graph = index.con[edge_index[0]]
        edges = _graph_mean(bce, torch.cat([edge_graph, edge_graph]), index.graphs)
        weights = _graph_mean((decoded[:count] - data.edge_weight).pow(2), edge_graph, index.graphs)
        loss = features + edges + weights + self.settings.commitment * out.commitment
        used = torch.unique(torch.cat([out.con_codes, out.var_codes])).numel()
        parts = {
            "features": float(features.detach()),
            "edges": float(edges.detach()),
            "weights": float(weights.detach()),
            "commitment": float(out.commitment.detach()),
            "codes_used": float(used),
        }
        return loss, parts
