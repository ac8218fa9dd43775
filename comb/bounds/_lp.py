"""Reading an LP relaxation's answer for the bounds that solve one (CVRP, orienteering)."""

from __future__ import annotations

import highspy
import numpy as np

from hybridsolve.mip.highs import run_lp

__all__: list[str] = []


def lp_solution(
    highs: highspy.Highs, seconds: float | None, rows: int
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Run the LP for at most ``seconds`` (:func:`~hybridsolve.mip.highs.run_lp`).

    Returns
    -------
    values : numpy.ndarray or None
        The column values when the LP was solved to optimality.
    duals : numpy.ndarray or None
        The ``rows`` row duals when HiGHS says they are valid and all are finite (a bound
        from duals holds for any duals, so they are used even after a time limit).
    """
    if not run_lp(highs, seconds):
        return None, None
    solution = highs.getSolution()
    duals = None
    if solution.dual_valid:
        duals = np.array(solution.row_dual, dtype=np.float64)
        if duals.size != rows or not np.all(np.isfinite(duals)):
            duals = None
    values = None
    if highs.getModelStatus() == highspy.HighsModelStatus.kOptimal:
        values = np.array(solution.col_value, dtype=np.float64)
    return values, duals
