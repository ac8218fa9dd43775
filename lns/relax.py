"""The LP relaxation of the local-branching problem around an incumbent (LB-RELAX).

Huang, Hoon, Xu, Dilkina et al. (2023), "Local Branching Relaxation Heuristics for Integer
Linear Programs": the LP optimum within Hamming distance ``k`` of the incumbent (over the
binaries) shows which variables are worth changing.
"""

from __future__ import annotations

import highspy
import numpy as np

from hybridsolve.mip import Problem
from hybridsolve.mip.highs import build_highs, run_lp, set_options

__all__ = ["LocalBranchingLP"]


class LocalBranchingLP:
    """``min c @ x`` (the model's sense) over the LP relaxation plus the local-branching row.

    The row is ``sum_{x*_j=0} x_j + sum_{x*_j=1} (1 - x_j) <= k`` over the binaries. One
    ``highspy.Highs`` holds the LP; every :meth:`solve` only changes the row's coefficients
    that differ from the previous incumbent and its bound, so the dual simplex restarts from
    the last basis.

    Parameters
    ----------
    problem : Problem
        The model; its integrality is dropped.
    binary : numpy.ndarray
        Indices of the binary variables (the terms of the Hamming distance).
    seed : int
        HiGHS's random seed.
    """

    def __init__(self, problem: Problem, binary: np.ndarray, seed: int = 0) -> None:
        h = self.highs = build_highs(problem)
        n = problem.num_vars
        continuous = np.full(n, int(highspy.HighsVarType.kContinuous), dtype=np.uint8)
        h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), continuous)
        set_options(h, {"threads": 1, "random_seed": int(seed), "output_flag": False,
                        "solver": "simplex"})  # fmt: skip
        self.binary = np.asarray(binary, dtype=np.int32)
        self.row = problem.num_cons
        # The row starts as the distance to all zeros; solve() edits it to the incumbent's.
        self._ones = np.zeros(len(self.binary), dtype=bool)
        count = len(self.binary)
        h.addRow(-highspy.kHighsInf, 0.0, count, self.binary, np.ones(count))

    def solve(self, x: np.ndarray, k: float, time_limit: float) -> np.ndarray | None:
        """The LP optimum within Hamming distance ``k`` of ``x`` over the binaries.

        Parameters
        ----------
        x : numpy.ndarray
            The incumbent (file order); its binaries are rounded.
        k : float
            Largest distance, the sum of ``x_j`` where ``x*_j = 0`` and of ``1 - x_j``
            where ``x*_j = 1``.
        time_limit : float
            Seconds for this solve.

        Returns
        -------
        numpy.ndarray or None
            The LP solution (file order); ``None`` when HiGHS did not prove it optimal
            (time limit, error).
        """
        h = self.highs
        ones = np.round(x[self.binary]) >= 0.5
        for j in np.flatnonzero(ones != self._ones):
            h.changeCoeff(self.row, int(self.binary[j]), -1.0 if ones[j] else 1.0)
        self._ones = ones
        h.changeRowBounds(self.row, -highspy.kHighsInf, float(k) - float(ones.sum()))
        if not run_lp(h, time_limit):
            return None
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return np.array(h.getSolution().col_value)
