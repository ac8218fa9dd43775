"""Single-machine scheduling: (weighted) total tardiness ``1 || sum w_j T_j``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp

from hybridsolve.mip import Problem
from hybridsolve.mip.errors import ProblemError

from . import _common as cm

__all__ = ["SMTT"]


@dataclass(frozen=True, repr=False, eq=False)
class SMTT:
    """Single-machine (weighted) total tardiness ``1 || sum w_j T_j``.

    Jobs run one after the other without idle time in the order of a sequence; job ``j``
    completes at ``C_j`` and is late by ``T_j = max(0, C_j - d_j)``.

    Parameters
    ----------
    processing_times : array_like
        ``(n,)`` positive integers ``p_j``.
    due_dates : array_like
        ``(n,)`` non-negative integers ``d_j``.
    weights : array_like, optional
        ``(n,)`` positive weights ``w_j``; all ones when omitted.
    name : str
        Instance name.

    Raises
    ------
    ProblemError
        On wrong shapes, NaN, fractional or non-positive processing times, fractional or
        negative due dates, or non-positive weights.
    """

    processing_times: np.ndarray
    due_dates: np.ndarray
    weights: np.ndarray | None = None
    name: str = ""

    def __post_init__(self) -> None:
        p = cm.float_array(self.processing_times, "processing_times", (None,))
        if p.shape[0] < 1:
            raise ProblemError("processing_times is empty, need at least one job")
        cm.non_negative(p, "processing_times", positive=True)
        p = cm.integral(p, "processing_times")
        d = cm.float_array(self.due_dates, "due_dates", (p.shape[0],))
        cm.non_negative(d, "due_dates")
        d = cm.integral(d, "due_dates")
        if self.weights is None:
            w = np.ones(p.shape[0], dtype=np.float64)
        else:
            w = cm.float_array(self.weights, "weights", (p.shape[0],))
            cm.non_negative(w, "weights", positive=True)
        object.__setattr__(self, "processing_times", cm.frozen(p))
        object.__setattr__(self, "due_dates", cm.frozen(d))
        object.__setattr__(self, "weights", cm.frozen(w))
        object.__setattr__(self, "name", str(self.name))

    @property
    def num_jobs(self) -> int:
        """Number of jobs ``n``."""
        return int(self.processing_times.shape[0])

    @property
    def size(self) -> int:
        """Problem size, the number of jobs."""
        return self.num_jobs

    @property
    def total_processing_time(self) -> int:
        """``P = sum p_j``, the makespan of every sequence."""
        return int(self.processing_times.sum())

    @property
    def uniform_weights(self) -> bool:
        """Whether all jobs have the same weight."""
        return bool(np.all(self.weights == self.weights[0]))

    def check_sequence(self, sequence: Sequence[int] | np.ndarray) -> None:
        """Check that ``sequence`` is a permutation of the jobs ``0..n-1``.

        Raises
        ------
        ProblemError
            With the reason.
        """
        cm.permutation(sequence, "sequence", self.num_jobs)

    def completion_times(self, sequence: Sequence[int] | np.ndarray) -> np.ndarray:
        """Completion time of every job (indexed by job) when run in ``sequence``."""
        seq = cm.permutation(sequence, "sequence", self.num_jobs)
        completion = np.empty(self.num_jobs, dtype=np.int64)
        completion[seq] = np.cumsum(self.processing_times[seq])
        return completion

    def tardiness(self, sequence: Sequence[int] | np.ndarray) -> float:
        """Total weighted tardiness ``sum_j w_j max(0, C_j - d_j)`` of a job sequence.

        Raises
        ------
        ProblemError
            When ``sequence`` is not a permutation of the jobs.
        """
        late = np.maximum(self.completion_times(sequence) - self.due_dates, 0)
        return float(self.weights @ late)

    def to_problem(self, formulation: Literal["auto", "positional", "big_m"] = "auto") -> Problem:
        """An exact MIP model of the instance.

        Both formulations assign jobs to positions with binaries ``x_<j>_<k>`` (job ``j``
        in position ``k``; rows ``job_<j>``: each job one position, ``pos_<k>``: each
        position one job) and define the completion time of position ``k`` by
        ``C_k = C_{k-1} + sum_j p_j x_<j>_<k>`` (rows ``comp_<k>``, continuous ``C_<k>``).
        Equalities have equal row bounds.

        * ``"positional"``: tardiness per position, ``T_k >= C_k - sum_j d_j x_<j>_<k>``,
          ``T_k >= 0`` (rows ``tard_<k>``, variables ``T_<k>``), minimise
          ``w * sum_k T_k``. Exact only when all weights equal ``w``, because a position's
          tardiness does not know which job's weight applies.
        * ``"big_m"``: tardiness per job, ``T_j >= C_k - d_j - M_j (1 - x_<j>_<k>)`` for
          all ``j, k`` (rows ``tard_<j>_<k>``, variables ``T_job_<j>``) with
          ``M_j = max(P - d_j, 0)`` and ``P = sum p``, which is valid because
          ``C_k <= P``; minimise ``sum_j w_j T_j``. Exact for any positive weights.
        * ``"auto"`` (default): positional for uniform weights, big-M otherwise.

        Variables come in the order ``x`` (job-major), ``C``, ``T``.

        Parameters
        ----------
        formulation : {"auto", "positional", "big_m"}
            Which formulation to build.

        Returns
        -------
        Problem

        Raises
        ------
        ProblemError
            On an unknown formulation, or ``"positional"`` with unequal weights.

        References
        ----------
        H. M. Wagner, "An integer linear-programming model for machine scheduling", Naval
        Research Logistics Quarterly 6 (1959), 131-140 (positional assignment variables).
        A. B. Keha, K. Khowala and J. W. Fowler, "Mixed integer programming formulations
        for single machine scheduling problems", Computers & Industrial Engineering 56
        (2009), 357-367.
        """
        if formulation not in ("auto", "positional", "big_m"):
            raise ProblemError(
                f"formulation must be 'auto', 'positional' or 'big_m', got {formulation!r}"
            )
        if formulation == "positional" and not self.uniform_weights:
            raise ProblemError("the positional formulation is exact only for equal weights")
        positional = formulation == "positional" or (formulation == "auto" and self.uniform_weights)
        n = self.num_jobs
        p = self.processing_times.astype(np.float64)
        d = self.due_dates.astype(np.float64)
        j_of, k_of = np.divmod(np.arange(n * n), n)  # x_<j>_<k> at j * n + k
        col_c = n * n + np.arange(n)
        col_t = n * n + n + np.arange(n)
        rows, cols, vals = [], [], []

        def add(r, c, v) -> None:
            rows.append(np.broadcast_to(r, np.shape(c)).ravel())
            cols.append(np.ravel(c))
            vals.append(np.broadcast_to(v, np.shape(c)).ravel().astype(np.float64))

        add(j_of, np.arange(n * n), 1.0)  # job_<j>: sum_k x = 1
        add(n + k_of, np.arange(n * n), 1.0)  # pos_<k>: sum_j x = 1
        comp = 2 * n + np.arange(n)  # comp_<k>: C_k - C_{k-1} - sum_j p_j x = 0
        add(comp, col_c, 1.0)
        add(comp[1:], col_c[:-1], -1.0)
        add(2 * n + k_of, np.arange(n * n), -p[j_of])
        lower = [np.ones(2 * n), np.zeros(n)]
        upper = [np.ones(2 * n), np.zeros(n)]
        con_names = (
            cm.names("job_", range(n)) + cm.names("pos_", range(n)) + cm.names("comp_", range(n))
        )
        if positional:
            tard = 3 * n + np.arange(n)  # tard_<k>: T_k - C_k + sum_j d_j x >= 0
            add(tard, col_t, 1.0)
            add(tard, col_c, -1.0)
            add(3 * n + k_of, np.arange(n * n), d[j_of])
            lower.append(np.zeros(n))
            upper.append(np.full(n, np.inf))
            con_names += cm.names("tard_", range(n))
            cost_t = np.full(n, float(self.weights[0]))
            t_names = cm.names("T_", range(n))
        else:
            big_m = np.maximum(float(self.total_processing_time) - d, 0.0)
            tard = 3 * n + np.arange(n * n)  # tard_<j>_<k>: T_j - C_k - M_j x >= -d_j - M_j
            add(tard, col_t[j_of], 1.0)
            add(tard, col_c[k_of], -1.0)
            add(tard, np.arange(n * n), -big_m[j_of])
            lower.append(-d[j_of] - big_m[j_of])
            upper.append(np.full(n * n, np.inf))
            con_names += [f"tard_{j}_{k}" for j, k in zip(j_of.tolist(), k_of.tolist())]
            cost_t = self.weights.astype(np.float64)
            t_names = cm.names("T_job_", range(n))
        num_rows = 3 * n + (n if positional else n * n)
        A = sp.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
            shape=(num_rows, n * n + 2 * n),
        )
        c = np.concatenate([np.zeros(n * n + n), cost_t])
        upper_col = np.concatenate([np.ones(n * n), np.full(2 * n, np.inf)])
        integer = np.concatenate([np.ones(n * n, dtype=bool), np.zeros(2 * n, dtype=bool)])
        var_names = (
            [f"x_{j}_{k}" for j, k in zip(j_of.tolist(), k_of.tolist())]
            + cm.names("C_", range(n))
            + t_names
        )
        return Problem.from_arrays(
            c, A, np.concatenate(lower), np.concatenate(upper), 0.0, upper_col, integer,
            var_names=var_names, con_names=con_names, name=self.name or "smtt",
        )  # fmt: skip

    def __repr__(self) -> str:
        weighted = "" if np.all(self.weights == 1.0) else ", weighted"
        return f"SMTT({cm.short_name(self.name)}jobs={self.num_jobs}{weighted})"
