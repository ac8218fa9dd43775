"""The Predict-and-Search trust region around hints (Han et al., ICLR 2023).

Take the ``k0`` most confident binaries predicted 0 and the ``k1`` most confident predicted
1, and allow at most ``delta`` of them to differ from the prediction:

    sum_{j in zeros} x_j + sum_{j in ones} (1 - x_j) <= delta

The trust region is one extra row on a copy of the model, solved briefly and separately;
its solution (feasible for the full model, since every original row is kept) becomes the
start of the full solve, which runs on the unrestricted model, so the trust region never
cuts off the full model's optimum. :func:`hybridsolve.mip.solve` runs this step before the
backend builds its model, inside the time limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from .check import certified
from .hints import Hints, binaries
from .problem import Problem

__all__ = ["TrustRegion", "better_start", "trust_region"]

#: Name of the trust-region row (a suffix is added where the model already uses it).
ROW_NAME = "hybridsolve_trust_region"


@dataclass(frozen=True)
class TrustRegion:
    """The binaries fixed in spirit and how many of them may flip.

    Attributes
    ----------
    zeros, ones : numpy.ndarray
        Indices of the binaries predicted 0 and 1 in the region.
    delta : int
        At most this many of them may differ from the prediction.
    """

    zeros: np.ndarray
    ones: np.ndarray
    delta: int

    @property
    def size(self) -> int:
        """Number of variables in the region."""
        return len(self.zeros) + len(self.ones)

    def flips(self, x: np.ndarray) -> float:
        """How far ``x`` is from the prediction: the left-hand side of the row."""
        x = np.asarray(x, dtype=np.float64)
        return float(x[self.zeros].sum() + (1.0 - x[self.ones]).sum())

    def problem(self, problem: Problem) -> Problem:
        """``problem`` with the trust-region row added (variables unchanged)."""
        n = problem.num_vars
        cols = np.concatenate([self.zeros, self.ones])
        coef = np.concatenate([np.ones(len(self.zeros)), -np.ones(len(self.ones))])
        order = np.argsort(cols)
        row = sp.csr_matrix((coef[order], cols[order], [0, len(cols)]), shape=(1, n))
        taken = set(problem.con_names)
        name, suffix = ROW_NAME, 1
        while name in taken:
            name, suffix = f"{ROW_NAME}_{suffix}", suffix + 1
        return Problem.from_arrays(
            problem.c,
            sp.vstack([problem.A, row], format="csr"),
            np.append(problem.row_lower, -np.inf),
            np.append(problem.row_upper, self.delta - len(self.ones)),
            problem.col_lower,
            problem.col_upper,
            problem.integrality,
            sense=problem.sense,
            offset=problem.offset,
            var_names=problem.var_names,
            con_names=(*problem.con_names, name),
            name=problem.name,
        )


def trust_region(problem: Problem, hints: Hints, scale: float = 1.0) -> TrustRegion | None:
    """The trust region that ``hints.settings`` ask for; ``None`` when it is empty.

    Only binaries with a prediction and a confidence above 0 take part. ``scale`` shrinks
    the region (``region``, ``k0`` and ``k1`` times ``scale``, rounded up) when a larger
    one proved infeasible.
    """
    settings = hints.settings
    pool = binaries(problem) & hints.predicted & (hints.confidence > 0)
    predicted_one = np.round(np.nan_to_num(hints.value)) == 1

    def scaled(count: float) -> int:
        return math.ceil(scale * count - 1e-9)

    if settings.k0 is None and settings.k1 is None:
        chosen = hints.most_confident(scaled(settings.region * int(pool.sum())), among=pool)
        zeros = np.sort(chosen[~predicted_one[chosen]])
        ones = np.sort(chosen[predicted_one[chosen]])
    else:
        zeros = np.sort(hints.most_confident(scaled(settings.k0 or 0), among=pool & ~predicted_one))
        ones = np.sort(hints.most_confident(scaled(settings.k1 or 0), among=pool & predicted_one))
    size = len(zeros) + len(ones)
    if size == 0:
        return None
    delta = settings.delta if settings.delta is not None else max(1, math.ceil(0.05 * size))
    return TrustRegion(zeros, ones, int(delta))


def better_start(
    problem: Problem, warm_start: np.ndarray | None, found: np.ndarray | None
) -> np.ndarray | None:
    """The start for the full solve from the user's warm start and the trust-region point.

    The trust-region point wins unless the warm start is complete, passes the
    certificate and is at least as good. (The trust-region solve itself started from the
    warm start, so a warm start inside the region is already reflected in its point.)
    """
    if found is None:
        return warm_start
    if warm_start is None or np.isnan(warm_start).any():
        return found
    mine, theirs = certified(problem, warm_start), certified(problem, found)
    if mine is None:
        return found
    if theirs is None:
        return mine[0]
    a, b = mine[1].objective, theirs[1].objective
    keep = a >= b if problem.maximize else a <= b
    return mine[0] if keep else found
