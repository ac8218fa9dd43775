"""UDC's learned divider: an edge heatmap from a gated graph network, decoded into a tour.

UDC (Zheng et al., 2024) divides a large TSP with an anisotropic graph neural network on a
sparse graph: each node is joined to its ``k`` nearest neighbours, the network scores every
edge of that graph, and the scores are decoded into an initial tour that the conquering
stage then cuts into sub-paths. The network here is the residual gated graph convnet with
edge gates of Bresson and Laurent (2017) as Joshi et al. (2019) use it for the TSP: node
features are the coordinates mapped into the unit square, edge features describe the
edge's length, and the last edge embeddings give one logit per directed ``k``-nearest
neighbour edge, "this edge belongs to a good tour".

Everything is ``O(n k)`` in memory: the graph comes from a KD-tree, the network runs on
its edge list (in chunks of edges at inference, so a 100,000-node instance needs well
under a GB), and :func:`decode_tour` is a greedy edge selection in decreasing score
(degree at most two, no sub-tour) whose fragments are then joined greedily through
KD-trees over their free endpoints.

References
----------
Z. Zheng, C. Zhou, T. Xialiang, M. Yuan and Z. Wang, "UDC: A Unified Neural
Divide-and-Conquer Framework for Large-Scale Combinatorial Optimization Problems",
NeurIPS 2024.
X. Bresson and T. Laurent, "Residual Gated Graph ConvNets", arXiv:1711.07553, 2017.
C. K. Joshi, T. Laurent and X. Bresson, "An Efficient Graph Convolutional Network
Technique for the Travelling Salesman Problem", arXiv:1906.01227, 2019.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any, NamedTuple

import numpy as np
import torch
from numba import njit
from scipy.spatial import cKDTree

from hybridsolve.mip.errors import ProblemError, UsageError

from ..bq.tsp import unit_coords
from ..runtime import device as resolve_device
from ..weights import load_model

__all__ = [
    "EDGE_FEATURES",
    "DividerConfig",
    "Graph",
    "HeatmapGNN",
    "check_coords",
    "decode_tour",
    "heatmap",
    "knn_graph",
    "learned_tour",
    "symmetric_probabilities",
    "undirected",
]

#: Features of a directed edge ``(i, j)``: its length over the instance's mean
#: nearest-neighbour distance, its length over ``i``'s ``k``-th neighbour distance, ``j``'s
#: rank among ``i``'s neighbours over ``k``, and whether ``i`` is among ``j``'s neighbours.
EDGE_FEATURES = 4
#: Edges per chunk of the inference forward pass (bounds its temporary memory).
_CHUNK = 1 << 16
#: Nearest free endpoints tried first when fragments are joined.
_JOIN_K = 8


@dataclasses.dataclass(frozen=True)
class DividerConfig:
    """Hyper-parameters of :class:`HeatmapGNN`.

    Attributes
    ----------
    hidden : int
        Width of the node and edge embeddings.
    layers : int
        Gated graph convolution layers.
    k : int
        Nearest neighbours per node in the sparse graph. Ten hold over 99% of the edges of
        near-optimal tours of uniform instances, and keep the 100,000-node forward pass
        within seconds on a CPU.
    """

    hidden: int = 64
    layers: int = 6
    k: int = 10

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UsageError(f"DividerConfig: {field.name} must be a positive integer, "
                                 f"got {value!r}")  # fmt: skip
        if self.k < 2:
            raise UsageError(f"DividerConfig: k must be at least 2, got {self.k}")


class Graph(NamedTuple):
    """A directed ``k``-nearest-neighbour graph: ``k`` edges out of every node.

    Edge ``(i, r)`` goes from node ``i`` to its ``r``-th nearest neighbour; flattened, it is
    edge ``i * k + r``.

    Attributes
    ----------
    coords : numpy.ndarray
        ``(n, 2)`` float64 coordinates in the unit square (aspect kept).
    neighbours : numpy.ndarray
        ``(n, k)`` int64, each row by increasing distance.
    features : numpy.ndarray
        ``(n, k, EDGE_FEATURES)`` float32 (see :data:`EDGE_FEATURES`).
    reverse : numpy.ndarray
        ``(n, k)`` int64: the flat index of the edge back, ``-1`` when ``i`` is not among
        its neighbour's neighbours.
    """

    coords: np.ndarray
    neighbours: np.ndarray
    features: np.ndarray
    reverse: np.ndarray

    @property
    def src(self) -> np.ndarray:
        """``(n k,)`` the flat edges' first ends."""
        n, k = self.neighbours.shape
        return np.repeat(np.arange(n, dtype=np.int64), k)


def check_coords(coords: Any) -> np.ndarray:
    """``coords`` as an ``(n, 2)`` float64 array of finite numbers with ``n >= 3``.

    Raises
    ------
    ProblemError
        Wrong shape, fewer than 3 nodes, NaN or infinite entries.
    """
    try:
        xy = np.asarray(coords, dtype=np.float64)
    except (TypeError, ValueError):
        raise ProblemError("coords must be an (n, 2) array of numbers") from None
    if xy.ndim != 2 or xy.shape[1] != 2:
        raise ProblemError(f"coords must have shape (n, 2), not {xy.shape}")
    if xy.shape[0] < 3:
        raise ProblemError(f"a tour needs at least 3 nodes, got {xy.shape[0]}")
    if not np.isfinite(xy).all():
        raise ProblemError("coords hold NaN or infinite values")
    return xy


def knn_graph(coords: Any, k: int) -> Graph:
    """The directed ``k``-nearest-neighbour graph of an instance, from a KD-tree.

    Parameters
    ----------
    coords : array_like
        ``(n, 2)`` coordinates, any scale; mapped into the unit square (aspect kept).
    k : int
        Neighbours per node (``n - 1`` when fewer nodes remain).

    Returns
    -------
    Graph
        ``n * min(k, n - 1)`` edges; no ``n x n`` array is ever built.

    Raises
    ------
    ProblemError
        Bad coordinates (:func:`check_coords`).
    """
    xy = unit_coords(check_coords(coords))
    n = xy.shape[0]
    k = min(int(k), n - 1)
    dist, idx = cKDTree(xy).query(xy, k=k + 1)
    own = idx == np.arange(n)[:, None]  # a node is its own neighbour once, unless duplicated
    own[~own.any(axis=1), -1] = True  # ... then drop the farthest instead
    dist = dist[~own].reshape(n, k)
    idx = idx[~own].reshape(n, k).astype(np.int64)
    src = np.repeat(np.arange(n, dtype=np.int64), k)
    keys = src * n + idx.ravel()
    order = np.argsort(keys)
    wanted = idx.ravel() * n + src
    place = order[np.minimum(np.searchsorted(keys[order], wanted), keys.size - 1)]
    reverse = np.where(keys[place] == wanted, place, -1).reshape(n, k)
    spacing = float(dist[:, 0].mean())
    spacing = spacing if spacing > 0 else 1.0
    farthest = dist[:, -1:]
    features = np.stack([
        np.minimum(dist / spacing, 20.0),
        dist / np.where(farthest > 0, farthest, 1.0),
        np.broadcast_to(np.arange(1, k + 1) / k, (n, k)),
        (reverse >= 0).astype(np.float64),
    ], axis=2).astype(np.float32)  # fmt: skip
    return Graph(xy, idx, features, reverse)


class _GatedLayer(torch.nn.Module):
    """One residual gated graph convolution with edge gates (Bresson and Laurent 2017).

    ``ê_ij = A e_ij + B h_i + C h_j``; ``h_i += ReLU(LN(U h_i + Σ_j σ(ê_ij) ⊙ V h_j /
    (Σ_j σ(ê_ij) + ε)))`` over ``i``'s neighbours ``j``; ``e_ij += ReLU(LN(ê_ij))``.
    Every node has the same number of neighbours, so the sums are sums over a tensor axis.
    """

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.edge_a, self.node_b, self.node_c, self.node_u, self.node_v = (
            torch.nn.Linear(hidden, hidden) for _ in range(5)
        )
        self.node_norm = torch.nn.LayerNorm(hidden)
        self.edge_norm = torch.nn.LayerNorm(hidden)

    def forward(self, h: torch.Tensor, e: torch.Tensor, neighbours: torch.Tensor,
                rows: int) -> tuple[torch.Tensor, torch.Tensor]:  # fmt: skip
        """New node (``[n, hidden]``) and edge (``[n, k, hidden]``) embeddings.

        The nodes go through in slices of ``rows``; without gradients the edge embeddings
        ``e`` are updated in place, so no second ``n x k x hidden`` array is made.
        """
        bh, ch, vh = self.node_b(h), self.node_c(h), self.node_v(h)
        in_place = not torch.is_grad_enabled()
        messages, updates = [], []
        for start in range(0, h.shape[0], rows):
            part = slice(start, start + rows)
            nb = neighbours[part]
            e_hat = self.edge_a(e[part]) + bh[part, None] + ch[nb]
            gate = torch.sigmoid(e_hat)
            messages.append((gate * vh[nb]).sum(1) / (gate.sum(1) + 1e-6))
            update = torch.relu(self.edge_norm(e_hat))
            if in_place:
                e[part] += update
            else:
                updates.append(update)
        if not in_place:
            e = e + torch.cat(updates)
        h = h + torch.relu(self.node_norm(self.node_u(h) + torch.cat(messages)))
        return h, e


class HeatmapGNN(torch.nn.Module):
    """Anisotropic gated GNN scoring the directed edges of a ``k``-nearest-neighbour graph.

    Joshi et al. (2019)'s residual gated graph convnet as UDC's dividing network (Zheng et
    al. 2024): node input the unit-square coordinates, edge input
    :data:`EDGE_FEATURES`, ``layers`` :class:`_GatedLayer` with layer norm and
    residuals, then a two-layer MLP that gives one logit per edge.

    Parameters
    ----------
    hidden, layers, k : int
        :class:`DividerConfig`.
    """

    def __init__(self, hidden: int = 64, layers: int = 6, k: int = 10) -> None:
        super().__init__()
        self.settings = DividerConfig(hidden=hidden, layers=layers, k=k)
        self.node_in = torch.nn.Linear(2, hidden)
        self.edge_in = torch.nn.Linear(EDGE_FEATURES, hidden)
        self.layers = torch.nn.ModuleList(_GatedLayer(hidden) for _ in range(layers))
        self.head = torch.nn.Sequential(
            torch.nn.Linear(hidden, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1)
        )

    def config(self) -> dict[str, int]:
        """The constructor's keyword arguments (a manifest's ``model`` field)."""
        return dataclasses.asdict(self.settings)

    def forward(self, x: torch.Tensor, features: torch.Tensor, neighbours: torch.Tensor,
                chunk: int | None = None) -> torch.Tensor:  # fmt: skip
        """Edge logits.

        Parameters
        ----------
        x : torch.Tensor
            ``[n, 2]`` float unit-square coordinates (several graphs may be stacked, their
            node numbers offset).
        features : torch.Tensor
            ``[n, k, EDGE_FEATURES]`` float edge features.
        neighbours : torch.Tensor
            ``[n, k]`` int64 neighbours of every node.
        chunk : int, optional
            Process about this many edges at a time (inference on large graphs).

        Returns
        -------
        torch.Tensor
            ``[n, k]`` logits.
        """
        n, k = neighbours.shape
        rows = max(1, n if chunk is None else chunk // max(k, 1))
        h = self.node_in(x)
        e = self.edge_in(features)
        for layer in self.layers:
            h, e = layer(h, e, neighbours, rows)
        return torch.cat([self.head(e[s : s + rows]).squeeze(-1) for s in range(0, n, rows)])


def symmetric_probabilities(graph: Graph, logits: np.ndarray) -> np.ndarray:
    """Per directed edge, the mean probability of its two directions (its own when alone)."""
    p = 1.0 / (1.0 + np.exp(-np.asarray(logits, dtype=np.float64).ravel()))
    reverse = graph.reverse.ravel()
    both = reverse >= 0
    out = p.copy()
    out[both] = 0.5 * (p[both] + p[reverse[both]])
    return out.reshape(graph.neighbours.shape)


def edge_logits(model: HeatmapGNN, graph: Graph, dev: torch.device) -> np.ndarray:
    """The model's ``[n, k]`` logits of ``graph``'s edges (chunked, no gradients)."""
    with torch.no_grad():
        logits = model(
            torch.as_tensor(graph.coords, dtype=torch.float32, device=dev),
            torch.as_tensor(graph.features, device=dev),
            torch.as_tensor(graph.neighbours, device=dev),
            chunk=_CHUNK,
        )
    return logits.float().cpu().numpy()


def heatmap(
    model: HeatmapGNN, coords: Any, *, device: str | torch.device = "auto"
) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric scores of the undirected edges of the ``k``-nearest-neighbour graph.

    Parameters
    ----------
    model : HeatmapGNN
        The network (moved to ``device``, put in eval mode).
    coords : array_like
        ``(n, 2)`` coordinates.
    device : str or torch.device, default "auto"
        Where the network runs.

    Returns
    -------
    edges : numpy.ndarray
        ``(E, 2)`` int64, ``edges[:, 0] < edges[:, 1]``, each pair once; ``E <= n k``.
    scores : numpy.ndarray
        ``(E,)`` float64 in ``[0, 1]``: the mean of the two directions' probabilities where
        both are edges of the graph, else the one direction's.

    Raises
    ------
    ProblemError
        Bad coordinates.
    """
    dev = device if isinstance(device, torch.device) else resolve_device(device)
    graph = knn_graph(coords, model.settings.k)
    model.to(dev).eval()
    return undirected(graph, symmetric_probabilities(graph, edge_logits(model, graph, dev)))


def undirected(graph: Graph, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each undirected edge of ``graph`` once, ``(low, high)``, with its ``[n, k]`` score."""
    src, dst = graph.src, graph.neighbours.ravel()
    keep = (src < dst) | (graph.reverse.ravel() < 0)
    edges = np.stack([np.minimum(src, dst), np.maximum(src, dst)], axis=1)
    return edges[keep], np.asarray(scores).ravel()[keep]


@njit(cache=True)
def _find(parent: np.ndarray, x: int) -> int:
    """Union-find root of ``x``, halving the path on the way."""
    while parent[x] != x:
        parent[x] = parent[parent[x]]
        x = parent[x]
    return x


@njit(cache=True)
def _link(us: np.ndarray, vs: np.ndarray, degree: np.ndarray, adjacent: np.ndarray,
          parent: np.ndarray) -> int:  # fmt: skip
    """Add edges ``(us[i], vs[i])`` in order when both ends have degree < 2 and lie in
    different fragments; return how many were added."""
    added = 0
    for i in range(us.shape[0]):
        u, v = us[i], vs[i]
        if u == v or degree[u] >= 2 or degree[v] >= 2:
            continue
        ru, rv = _find(parent, u), _find(parent, v)
        if ru == rv:
            continue
        parent[ru] = rv
        adjacent[u, degree[u]] = v
        adjacent[v, degree[v]] = u
        degree[u] += 1
        degree[v] += 1
        added += 1
    return added


@njit(cache=True)
def _walk(adjacent: np.ndarray, degree: np.ndarray) -> np.ndarray:
    """The nodes of a Hamiltonian path (given by ``adjacent``) in order, from one end."""
    n = adjacent.shape[0]
    start = 0
    for v in range(n):
        if degree[v] < 2:
            start = v
            break
    tour = np.empty(n, dtype=np.int64)
    previous, current = -1, start
    for i in range(n):
        tour[i] = current
        following = adjacent[current, 0]
        if following == previous or following < 0:
            following = adjacent[current, 1]
        previous, current = current, following
    return tour


def _join(xy: np.ndarray, degree: np.ndarray, adjacent: np.ndarray, parent: np.ndarray,
          fragments: int) -> None:  # fmt: skip
    """Join path fragments into one path: greedy shortest links between free endpoints.

    Each round links the ``kk`` nearest free endpoints of every free endpoint in increasing
    distance (through :func:`_link`); ``kk`` doubles whenever a round joins fewer than a
    quarter of the fragments, so the loop always ends.
    """
    kk = _JOIN_K
    while fragments > 1:
        ends = np.flatnonzero(degree < 2)
        kk = min(kk, ends.size - 1)
        dist, nb = cKDTree(xy[ends]).query(xy[ends], k=kk + 1)
        us = np.repeat(ends, kk + 1)
        vs = ends[nb.ravel()]
        order = np.lexsort((vs, us, dist.ravel()))
        added = _link(us[order], vs[order], degree, adjacent, parent)
        if 4 * added < fragments:
            kk *= 2
        fragments -= added


def decode_tour(coords: Any, edges: Any, scores: Any) -> np.ndarray:
    """A tour from edge scores: greedy edge selection, then greedy fragment joining.

    Edges are taken in decreasing score (ties: shorter first) when both ends have degree
    below two and they close no sub-tour (union-find). The resulting paths (single nodes
    included) are joined into one by repeatedly adding the shortest links between free
    endpoints of different fragments, found with KD-trees over the free endpoints.
    Deterministic; ``O(n + E)`` memory.

    Parameters
    ----------
    coords : array_like
        ``(n, 2)`` coordinates, ``n >= 3``.
    edges : array_like
        ``(E, 2)`` node pairs (any order, repeats allowed).
    scores : array_like
        ``(E,)`` finite scores, higher is better.

    Returns
    -------
    numpy.ndarray
        The tour, an int64 permutation of ``0..n-1``.

    Raises
    ------
    ProblemError
        Bad coordinates.
    UsageError
        ``edges`` or ``scores`` of the wrong shape, nodes out of range, or scores that are
        not finite.
    """
    xy = unit_coords(check_coords(coords))
    n = xy.shape[0]
    pairs = np.asarray(edges)
    values = np.asarray(scores, dtype=np.float64)
    if pairs.ndim != 2 or pairs.shape[1] != 2 or not np.issubdtype(pairs.dtype, np.integer):
        raise UsageError(f"edges must be an (E, 2) integer array, not {pairs.dtype} "
                         f"{pairs.shape}")  # fmt: skip
    if values.shape != (pairs.shape[0],):
        raise UsageError(f"scores must have shape ({pairs.shape[0]},), not {values.shape}")
    if pairs.size and (pairs.min() < 0 or pairs.max() >= n):
        raise UsageError(f"edges name nodes outside 0..{n - 1}")
    if not np.isfinite(values).all():
        raise UsageError("scores hold NaN or infinite values")
    us, vs = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    lengths = np.hypot(*(xy[us] - xy[vs]).T)
    order = np.lexsort((lengths, -values))
    degree = np.zeros(n, dtype=np.int64)
    adjacent = np.full((n, 2), -1, dtype=np.int64)
    parent = np.arange(n, dtype=np.int64)
    added = _link(us[order], vs[order], degree, adjacent, parent)
    _join(xy, degree, adjacent, parent, n - added)
    return _walk(adjacent, degree)


def learned_tour(
    instance_coords: Any,
    *,
    weights: str | os.PathLike[str] = "udc-divider",
    device: str | torch.device = "auto",
) -> np.ndarray:
    """UDC's initial tour: the trained heatmap, decoded by :func:`decode_tour`.

    Parameters
    ----------
    instance_coords : array_like
        ``(n, 2)`` coordinates, ``n >= 3``.
    weights : str or path-like, default "udc-divider"
        A name in the shipped registry, or a ``.pt`` file with a ``manifest.json`` beside it
        (as ``hybridsolve train udc`` writes).
    device : str or torch.device, default "auto"
        Where the network runs.

    Returns
    -------
    numpy.ndarray
        The tour, an int64 permutation of ``0..n-1``.

    Raises
    ------
    ProblemError
        Bad coordinates.
    WeightsError
        Unknown, missing or corrupt weights, or weights of another problem.
    """
    xy = check_coords(instance_coords)
    model, _ = load_model(weights, HeatmapGNN, device=device, problem="udc-divider")
    dev = next(model.parameters()).device
    edges, scores = heatmap(model, xy, device=dev)
    return decode_tour(xy, edges, scores)
