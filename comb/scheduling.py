"""Single-machine scheduling: (weighted) total tardiness ``1 || sum w_j T_j``.

The instance type :class:`SMTT` and its heuristics, methods of
:func:`hybridsolve.comb.solve`: the dispatching rules :func:`smtt_edd`, :func:`smtt_mdd` and
:func:`smtt_wi`, and the iterated local search :func:`smtt_ls`. They return the job
sequence as an ``int64`` array; the conventions they share are those of
:mod:`hybridsolve.comb._search`. Kernels are ``@njit(cache=True)`` functions on plain arrays;
random numbers come from the seeded generator of :mod:`hybridsolve.comb._random`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import scipy.sparse as sp
from numba import njit

from hybridsolve.mip import Problem
from hybridsolve.mip.errors import ProblemError

from . import _common as cm
from ._random import new_state, rand_below
from ._search import EPS, Tracker, iteration_budget, run_chunks

__all__ = [
    "DEFAULT_ITERATIONS",
    "SMTT",
    "smtt_edd",
    "smtt_ls",
    "smtt_mdd",
    "smtt_wi",
]


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


# ------------------------------------------------------------------ heuristics

#: Rounds of :func:`smtt_ls` without a time limit and without ``iterations``.
DEFAULT_ITERATIONS = 1000


def _smtt_arrays(instance: SMTT) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return (
        np.ascontiguousarray(instance.processing_times, dtype=np.int64),
        np.ascontiguousarray(instance.due_dates, dtype=np.int64),
        np.ascontiguousarray(instance.weights, dtype=np.float64),
    )


@njit(cache=True, nogil=True)
def _smtt_mdd(p: np.ndarray, d: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted modified due date: at time ``t`` run next the job of smallest
    ``max(p_j, d_j - t) / w_j`` (ties: earlier due date, then lower index)."""
    n = p.shape[0]
    done = np.zeros(n, dtype=np.bool_)
    seq = np.empty(n, dtype=np.int64)
    t = 0
    for k in range(n):
        pick = -1
        key = np.inf
        for j in range(n):
            if done[j]:
                continue
            kj = max(p[j], d[j] - t) / w[j]
            if kj < key or (kj == key and d[j] < d[pick]):
                pick = j
                key = kj
        seq[k] = pick
        done[pick] = True
        t += p[pick]
    return seq


@njit(cache=True, nogil=True)
def _pair_cost(i: int, j: int, t: int, p, d, w) -> float:
    """Weighted tardiness of job ``i`` then job ``j``, started at time ``t``."""
    return w[i] * max(0, t + p[i] - d[i]) + w[j] * max(0, t + p[i] + p[j] - d[j])


@njit(cache=True, nogil=True)
def _smtt_pairs(seq: np.ndarray, p, d, w) -> None:
    """Walk the sequence; swap an adjacent pair whenever that lowers its cost at its actual
    start time, and step back one place after a swap; ends when no pair gains."""
    n = seq.shape[0]
    k = 0
    t = 0  # start time of position k
    while k < n - 1:
        i, j = seq[k], seq[k + 1]
        if _pair_cost(j, i, t, p, d, w) < _pair_cost(i, j, t, p, d, w) - EPS:
            seq[k], seq[k + 1] = j, i
            if k > 0:
                k -= 1
                t -= p[seq[k]]
        else:
            t += p[i]
            k += 1


@njit(cache=True, nogil=True)
def _smtt_prefix(seq, p, d, w, start, prefix) -> None:
    """``start[k]``: start time of position ``k``; ``prefix[k]``: cost of positions ``< k``."""
    t = 0
    c = 0.0
    for k in range(seq.shape[0]):
        start[k] = t
        prefix[k] = c
        j = seq[k]
        t += p[j]
        c += w[j] * max(0, t - d[j])
    prefix[seq.shape[0]] = c


@njit(cache=True, nogil=True)
def _smtt_segment(seq, lo, hi, move, t, p, d, w) -> float:
    """Cost of positions ``lo..hi`` after a move, starting at time ``t``.

    ``move`` 0 swaps the jobs at ``lo`` and ``hi``; 1 moves the job at ``lo`` to ``hi``
    (the others shift left); 2 moves the job at ``hi`` to ``lo`` (the others shift right).
    """
    c = 0.0
    for k in range(lo, hi + 1):
        if move == 0:
            j = seq[hi] if k == lo else (seq[lo] if k == hi else seq[k])
        elif move == 1:
            j = seq[lo] if k == hi else seq[k + 1]
        else:
            j = seq[hi] if k == lo else seq[k - 1]
        t += p[j]
        c += w[j] * max(0, t - d[j])
    return c


@njit(cache=True, nogil=True)
def _smtt_apply(seq, lo, hi, move) -> None:
    if move == 0:
        seq[lo], seq[hi] = seq[hi], seq[lo]
    elif move == 1:
        job = seq[lo]
        seq[lo:hi] = seq[lo + 1 : hi + 1].copy()
        seq[hi] = job
    else:
        job = seq[hi]
        seq[lo + 1 : hi + 1] = seq[lo:hi].copy()
        seq[lo] = job


@njit(cache=True, nogil=True)
def _smtt_descent(seq, p, d, w, start, prefix) -> float:
    """First-improvement descent over pairwise interchanges and insertions (forward and
    backward) of every pair of positions; returns the cost of the local optimum."""
    n = seq.shape[0]
    _smtt_prefix(seq, p, d, w, start, prefix)
    improved = True
    while improved:
        improved = False
        for lo in range(n - 1):
            for hi in range(lo + 1, n):
                old = prefix[hi + 1] - prefix[lo]
                for move in range(3):
                    if move > 0 and hi == lo + 1:
                        break  # an insertion between neighbours is the swap
                    new = _smtt_segment(seq, lo, hi, move, start[lo], p, d, w)
                    if new < old - EPS * max(1.0, old):
                        _smtt_apply(seq, lo, hi, move)
                        _smtt_prefix(seq, p, d, w, start, prefix)
                        old = prefix[hi + 1] - prefix[lo]
                        improved = True
    return prefix[n]


@njit(cache=True, nogil=True)
def _smtt_ils(current, best, cost, p, d, w, state, iterations) -> float:
    """``iterations`` rounds: two to four random interchanges of the current sequence, a
    descent, and acceptance when not worse. ``cost = [current, best]``; returns the best."""
    n = current.shape[0]
    work = np.empty_like(current)
    start = np.empty(n, dtype=np.int64)
    prefix = np.empty(n + 1)
    for _ in range(iterations):
        work[:] = current
        for _kick in range(2 + rand_below(state, 3)):
            a = rand_below(state, n)
            b = rand_below(state, n)
            work[a], work[b] = work[b], work[a]
        value = _smtt_descent(work, p, d, w, start, prefix)
        if value <= cost[0] + EPS * max(1.0, cost[0]):
            current[:] = work
            cost[0] = value
            if value < cost[1] - EPS * max(1.0, cost[1]):
                best[:] = work
                cost[1] = value
        if cost[1] == 0.0:
            break
    return cost[1]


def smtt_edd(instance: SMTT, *, tracker: Tracker, seed: int = 0) -> np.ndarray:
    """Earliest due date first (ties: shorter job, then lower index).

    Optimal when at most one job is late, and for the maximum lateness (Jackson 1955);
    weights are ignored.

    Parameters
    ----------
    instance : SMTT
        The instance.
    tracker : Tracker
        Receives the total weighted tardiness.
    seed : int
        Unused.

    Returns
    -------
    numpy.ndarray
        The job sequence.

    References
    ----------
    J. R. Jackson, "Scheduling a production line to minimize maximum tardiness", Research
    Report 43, Management Science Research Project, UCLA (1955).
    """
    p, d, _ = _smtt_arrays(instance)
    seq = np.lexsort((np.arange(p.size), p, d)).astype(np.int64)
    tracker.record(instance.tardiness(seq))
    return seq


def smtt_mdd(instance: SMTT, *, tracker: Tracker, seed: int = 0) -> np.ndarray:
    """Modified due date rule: next the job of smallest ``max(t + p_j, d_j)`` at time ``t``.

    For weights, the weighted form ``max(p_j, d_j - t) / w_j`` of Kanet and Li, which
    orders jobs as the modified due date does when all weights are equal.

    Parameters
    ----------
    instance : SMTT
        The instance.
    tracker : Tracker
        Receives the total weighted tardiness.
    seed : int
        Unused.

    Returns
    -------
    numpy.ndarray
        The job sequence.

    References
    ----------
    K. R. Baker and J. W. M. Bertrand, "A dynamic priority rule for scheduling against
    due-dates", Journal of Operations Management 3 (1982), 37-42.
    J. J. Kanet and X. Li, "A weighted modified due date rule for sequencing to minimize
    weighted tardiness", Journal of Scheduling 7 (2004), 261-276.
    """
    seq = _smtt_mdd(*_smtt_arrays(instance))
    tracker.record(instance.tardiness(seq))
    return seq


def smtt_wi(instance: SMTT, *, tracker: Tracker, seed: int = 0) -> np.ndarray:
    """Wilkerson-Irwin-style adjacent pair rule, from the EDD sequence.

    Walking along the sequence, two adjacent jobs are swapped when that lowers their
    weighted tardiness at the time they actually start (for unit weights, Wilkerson and
    Irwin's pairwise condition); after a swap the walk steps back one position, as their
    procedure backtracks, so at the end no adjacent swap gains. Every swap lowers the
    total, so the walk ends.

    Parameters
    ----------
    instance : SMTT
        The instance.
    tracker : Tracker
        Receives the total weighted tardiness.
    seed : int
        Unused.

    Returns
    -------
    numpy.ndarray
        The job sequence.

    References
    ----------
    L. J. Wilkerson and J. D. Irwin, "An improved method for scheduling independent
    tasks", AIIE Transactions 3 (1971), 239-245.
    """
    p, d, w = _smtt_arrays(instance)
    seq = np.lexsort((np.arange(p.size), p, d)).astype(np.int64)
    _smtt_pairs(seq, p, d, w)
    tracker.record(instance.tardiness(seq))
    return seq


def smtt_ls(
    instance: SMTT, *, tracker: Tracker, seed: int = 0, iterations: int | None = None
) -> np.ndarray:
    """Iterated local search over interchanges and insertions.

    Starts from the best of EDD, MDD and the adjacent pair rule; descends by first
    improvement over every pairwise interchange and every insertion (a job moved forward
    or backward to another position), evaluating a move on the positions it changes only.
    Each round kicks the current sequence with two to four random interchanges, descends,
    and keeps the result when it is not worse (the interchange kicks of iterated
    dynasearch). Stops early at zero tardiness.

    Parameters
    ----------
    instance : SMTT
        The instance.
    tracker : Tracker
        Clock, deadline and trajectory.
    seed : int
        Seed of the kicks.
    iterations : int, optional
        Rounds to run; by default 1000 without a time limit, unbounded with one.

    Returns
    -------
    numpy.ndarray
        The best job sequence found.

    References
    ----------
    H. A. J. Crauwels, C. N. Potts and L. N. Van Wassenhove, "Local search heuristics for
    the single machine total weighted tardiness scheduling problem", INFORMS Journal on
    Computing 10 (1998), 341-350.
    R. K. Congram, C. N. Potts and S. L. van de Velde, "An iterated dynasearch algorithm
    for the single-machine total weighted tardiness scheduling problem", INFORMS Journal
    on Computing 14 (2002), 52-67.
    """
    rounds = iteration_budget(iterations, tracker, DEFAULT_ITERATIONS)
    starts = [method(instance, tracker=tracker) for method in (smtt_edd, smtt_mdd, smtt_wi)]
    current = min(starts, key=instance.tardiness).copy()
    p, d, w = _smtt_arrays(instance)
    n = p.size
    value = _smtt_descent(current, p, d, w, np.empty(n, dtype=np.int64), np.empty(n + 1))
    tracker.record(instance.tardiness(current))
    best = current.copy()
    cost = np.array([value, value])
    if n > 1 and value > 0.0:
        state = new_state(seed)

        def step(k: int) -> float:
            _smtt_ils(current, best, cost, p, d, w, state, k)
            return instance.tardiness(best)

        run_chunks(step, rounds, tracker, lambda: cost[1] == 0.0)
    return best
