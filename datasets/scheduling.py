"""Single-machine total tardiness scheduling as a MIP."""

from __future__ import annotations

import numpy as np

from hybridsolve.mip import Problem

from .routing import smtt

__all__ = ["total_tardiness"]


def total_tardiness(
    rng: np.random.Generator, jobs: int = 20, tardiness_factor: float = 0.6, due_range: float = 0.4
) -> Problem:
    """A single-machine total tardiness problem ``1 || sum T_j`` in a MIP formulation.

    Instances follow Potts & Van Wassenhove (1985) through :func:`~.routing.smtt`; the model
    is :meth:`hybridsolve.comb.SMTT.to_problem` (positional assignment formulation). Any job
    order is feasible.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    jobs : int
        Number of jobs.
    tardiness_factor, due_range : float
        Share of late jobs and spread of due dates of the Potts & Van Wassenhove scheme.

    Returns
    -------
    Problem

    References
    ----------
    C. N. Potts and L. N. Van Wassenhove, "A branch and bound algorithm for the total
    weighted tardiness problem", Operations Research 33 (1985), 363-377.
    """
    instance = smtt(rng, jobs, tardiness_factor=tardiness_factor, due_range=due_range)
    return instance.to_problem()
