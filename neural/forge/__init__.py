"""FORGE: self-supervised embeddings of MIP instances (Shafi & Kadıoğlu 2025).

A MIP's bipartite graph (:mod:`hybridsolve.neural.graph`) goes through edge-weighted
GraphSAGE layers and a vector-quantised codebook (:mod:`.model`), trained without labels
by reconstructing node features and (sampled) edges.

- :class:`Forge`, :class:`ForgeConfig`, :class:`Codebook`, :func:`negative_edges`.

Importing this package imports torch; without it the import raises
:class:`~hybridsolve.mip.UsageError` with the install command.

References
----------
T. Shafi and S. Kadıoğlu, "FORGE: Foundational Optimization Representations from Graph
Embeddings", arXiv:2508.20330, 2025.
"""

from __future__ import annotations

from ..runtime import require_geometric

require_geometric()  # a missing torch or torch_geometric is a one-line UsageError here

from .model import Codebook, Forge, ForgeConfig, negative_edges  # noqa: E402

__all__ = ["Codebook", "Forge", "ForgeConfig", "negative_edges"]
