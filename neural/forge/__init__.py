"""FORGE: self-supervised embeddings of MIP instances (Shafi & Kadıoğlu 2025).

A MIP's bipartite graph (:mod:`hybridsolve.neural.graph`) goes through edge-weighted
GraphSAGE layers and a vector-quantised codebook (:mod:`.model`), pretrained without labels
by reconstructing node features and (sampled) edges (:mod:`.train`, ``hybridsolve train
forge``) on the registered distributions' train splits (:mod:`.data`). An instance's
embedding joins the histogram of its nodes' codes and its pooled continuous node
embeddings; per-variable embeddings come with it (:mod:`.embed`, ``hybridsolve embed``).

- :class:`Forge`, :class:`ForgeConfig`, :class:`Codebook`, :func:`negative_edges`;
- :class:`TrainConfig`, :func:`train`;
- :func:`embed`, :func:`embed_many`, :class:`Embedding`, :func:`instance_vector`,
  :func:`load_forge`.

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

from .embed import (  # noqa: E402
    Embedding,
    context_source,
    embed,
    embed_many,
    instance_vector,
    load_forge,
)
from .model import Codebook, Forge, ForgeConfig, negative_edges  # noqa: E402
from .train import TrainConfig, train  # noqa: E402

__all__ = [
    "context_source",
    "Codebook",
    "Embedding",
    "Forge",
    "ForgeConfig",
    "TrainConfig",
    "embed",
    "embed_many",
    "instance_vector",
    "load_forge",
    "negative_edges",
    "train",
]
