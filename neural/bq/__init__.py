"""BQ-NCO: the bisimulation-quotiented constructive policy for the TSP (Drakulic et al. 2023).

A tour is built node by node. The state the policy sees is the BQ state of the partial
tour, the remaining nodes with the tour's origin and current node marked
(:mod:`.tsp_state`); an encoder-only transformer scores the remaining nodes
(:mod:`.model`) and the whole reduced state is re-encoded at every step. The policy is
trained by imitation of expert tours (:mod:`.labels`) with sub-path augmentation
(:mod:`.subpaths`) in :mod:`.train`, decoded
greedily or by beam search, optionally on the k nearest neighbours of the current node for
large instances (:mod:`.decode`), and offered to :func:`hybridsolve.comb.solve` as the
method ``"bq"`` (:mod:`.solve`).

- :class:`BQPolicy`, :func:`build_state`, :class:`TSPState`;
- :func:`greedy`, :func:`beam_search`, :func:`decode`;
- :class:`TrainConfig`, :func:`train`, :func:`make_labels`, :func:`sample_subproblems`,
  :func:`imitation_loss`;
- :func:`bq` (comb method), :func:`load_policy`.

Importing this package imports torch; without it the import raises
:class:`~hybridsolve.mip.UsageError` with the install command.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

from ..runtime import require_torch

require_torch()  # a missing torch becomes a one-line UsageError here, not an ImportError

from .decode import beam_search, decode, greedy  # noqa: E402
from .labels import make_labels  # noqa: E402
from .model import BQPolicy  # noqa: E402
from .solve import bq, load_policy  # noqa: E402
from .subpaths import SubProblems, imitation_loss, sample_subproblems  # noqa: E402
from .train import TrainConfig, train  # noqa: E402
from .tsp_state import FEATURES, TSPState, build_state  # noqa: E402

__all__ = [
    "FEATURES",
    "BQPolicy",
    "SubProblems",
    "TSPState",
    "TrainConfig",
    "beam_search",
    "bq",
    "build_state",
    "decode",
    "greedy",
    "imitation_loss",
    "load_policy",
    "make_labels",
    "sample_subproblems",
    "train",
]
