"""BQ-NCO: bisimulation-quotiented constructive policies (Drakulic et al. 2023).

A solution is built step by step. The state the policy sees is the BQ state of the partial
solution: the self-contained sub-instance that remains (the remaining nodes with the
current one and the origin or depot marked, the items that still fit, ...), each problem's
in its own module: :mod:`.tsp`, :mod:`.atsp`, :mod:`.cvrp`, :mod:`.op`, :mod:`.kp`, all
behind the :class:`~.problem.BQProblem` protocol. One encoder-only transformer scores the
actions of the state's tokens (:mod:`.model`) and the whole reduced state is re-encoded at
every step. The policy is trained by imitation of expert solutions (:mod:`.labels`) with
sub-path augmentation (:mod:`.imitation`, :mod:`.train`), decoded greedily or by beam
search, optionally on the k nearest candidates for large instances (:mod:`.decode`), and
offered to :func:`hybridsolve.comb.solve` as the method ``"bq"`` (:mod:`.solve`).

- :class:`BQPolicy`, :class:`BQProblem`, :class:`State`, :data:`PROBLEMS`, :func:`get`;
- :func:`greedy`, :func:`beam_search`, :func:`decode`;
- :class:`TrainConfig`, :func:`train`, :func:`make_labels`, :func:`imitation_loss`;
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

from . import atsp, cvrp, kp, op, tsp  # noqa: E402,F401  (each problem module registers its problem)
from .decode import beam_search, decode, greedy  # noqa: E402
from .imitation import imitation_loss  # noqa: E402
from .labels import Labels, make_labels  # noqa: E402
from .model import BQPolicy  # noqa: E402
from .problem import PROBLEMS, BQProblem, State, get  # noqa: E402
from .solve import bq, load_policy  # noqa: E402
from .train import TrainConfig, train  # noqa: E402

__all__ = [
    "PROBLEMS",
    "BQPolicy",
    "BQProblem",
    "Labels",
    "State",
    "TrainConfig",
    "beam_search",
    "bq",
    "decode",
    "get",
    "greedy",
    "imitation_loss",
    "load_policy",
    "make_labels",
    "train",
]
