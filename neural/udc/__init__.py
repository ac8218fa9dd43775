"""UDC: divide-and-conquer for large routing instances (Zheng et al., NeurIPS 2024).

A large TSP or CVRP is divided (an initial solution from comb's constructions or, for the
TSP, a learned heatmap divider: :mod:`.divider`, trained by :mod:`.train`), its
sub-problems of about 100 nodes are re-solved in batches by the BQ-NCO policies
(:mod:`.tsp`: sub-paths with fixed end points; :mod:`.cvrp`: groups of neighbouring
routes), and the split points move every round. :func:`udc` is the
:func:`hybridsolve.comb.solve` method ``"udc"`` (:mod:`.solve`).

Importing this package imports torch; without it the import raises
:class:`~hybridsolve.mip.UsageError` with the install command.

References
----------
Z. Zheng, C. Zhou, T. Xialiang, M. Yuan and Z. Wang, "UDC: A Unified Neural
Divide-and-Conquer Framework for Large-Scale Combinatorial Optimization Problems",
NeurIPS 2024.
"""

from __future__ import annotations

from ..runtime import require_torch

require_torch()  # a missing torch becomes a one-line UsageError here, not an ImportError

from .divider import DividerConfig, HeatmapGNN, decode_tour, heatmap, learned_tour  # noqa: E402
from .solve import DIVIDERS, udc  # noqa: E402
from .tsp import Conqueror, conquer, split, stitch  # noqa: E402

__all__ = [
    "DIVIDERS",
    "Conqueror",
    "DividerConfig",
    "HeatmapGNN",
    "conquer",
    "decode_tour",
    "heatmap",
    "learned_tour",
    "split",
    "stitch",
    "udc",
]
