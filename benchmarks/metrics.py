"""Per-run and per-solver measures of benchmark sweeps: primal gap, primal integral, time to best.

The functions take the run records of the result store (one ``dict`` per run, see
:mod:`hybridsolve.benchmarks.store`) and return plain dicts, so that the report, the command
line and a notebook can all use them. Nothing here imports matplotlib.

Measures
--------
primal gap
    Berthold (2013), "Measuring the impact of primal heuristics", Operations Research Letters
    41(6):611-614, eq. (1): with ``x`` the incumbent value and ``b`` the best known value,
    ``0`` when ``|x - b|`` is zero (to a tolerance), ``1`` when there is no incumbent, no best
    known value, or the two have opposite signs, otherwise ``|x - b| / max(|x|, |b|)``.
primal integral
    Berthold (2013), eq. (2): the integral over ``[0, T]`` (``T`` the run's time limit) of the
    primal gap of the best incumbent found so far, a step function that is 1 before the first
    incumbent. Unit: gap x seconds, between 0 and ``T``.
time to best
    The first time at which the run's incumbent was as good as its own final answer.
best of
    A virtual solver ``best(A,B)`` whose run on an instance and seed is the member run with
    the smaller primal integral (:func:`best_of`): the per-instance best of A and B, a
    baseline that beats each of them on the runs where the other one is better.
shifted geometric mean
    Achterberg (2007), *Constraint Integer Programming*, PhD thesis, TU Berlin, sec. A.3:
    ``exp(mean(log(v + s))) - s``; the shift ``s`` keeps very small values from dominating.

Rules for doubtful runs
-----------------------
A run *counts as having a solution* only when its status is not ``error``, ``timeout`` or
``crashed``, it reports an objective and that solution was certified (``certified is True``).
Every other run is treated as having found nothing: primal gap 1, primal integral equal to
its time limit (gap 1 throughout, its trajectory is ignored), no time to best. A solution that
failed certification never passes for a good answer, however good its value looks.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from hybridsolve.mip import InputError, UsageError

__all__ = [
    "FAILED_STATUSES",
    "REQUIRED_KEYS",
    "STATUSES",
    "TIE_TOLERANCE",
    "best_known",
    "best_of",
    "best_of_name",
    "effective_trajectory",
    "has_solution",
    "pooled",
    "primal_gap",
    "primal_gap_curve",
    "primal_integral",
    "run_metrics",
    "shifted_geometric_mean",
    "summary",
    "summary_against_best_of",
    "time_to_best",
]

#: Every status a run record may carry.
STATUSES = frozenset(
    {
        "optimal",
        "feasible",
        "infeasible",
        "unbounded",
        "infeasible_or_unbounded",
        "no_solution",
        "error",
        "timeout",
        "crashed",
    }
)
#: Statuses of runs that failed: they count as errors and as having no solution.
FAILED_STATUSES = frozenset({"error", "timeout", "crashed"})
#: Keys every run record must have (it may have more).
REQUIRED_KEYS = (
    "collection",
    "instance",
    "solver",
    "seed",
    "time_limit",
    "status",
    "objective",
    "dual_bound",
    "sense",
    "runtime",
    "nodes",
    "certified",
    "trajectory",
    "reference",
    "message",
)
#: Two final primal gaps closer than this are a tie in the win/tie/loss counts.
TIE_TOLERANCE = 1e-6

_SENSES = ("minimize", "maximize")


# ----------------------------------------------------------------------------- checks


def _check_sense(sense: str) -> None:
    if sense not in _SENSES:
        raise UsageError(f"sense must be 'minimize' or 'maximize', not {sense!r}")


def _check_limit(time_limit: float) -> float:
    try:
        limit = float(time_limit)
    except (TypeError, ValueError):
        raise UsageError(f"time limit must be a number, not {time_limit!r}") from None
    if not math.isfinite(limit) or limit <= 0:
        raise UsageError(f"time limit must be positive and finite, not {time_limit!r}")
    return limit


def _number(value: Any, what: str) -> float | None:
    """``value`` as a float, None for None or NaN; UsageError for anything else."""
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{what} must be a number or None, not {value!r}") from None
    return None if math.isnan(number) else number


def _points(trajectory: Iterable[Sequence[Any]]) -> list[tuple[float, float | None]]:
    """``(time, primal)`` pairs of a trajectory, checked: finite times in non-decreasing order."""
    if trajectory is None:
        return []
    out: list[tuple[float, float | None]] = []
    last = -math.inf
    for k, point in enumerate(trajectory):
        if isinstance(point, (str, bytes)) or not isinstance(point, Sequence) or len(point) < 2:
            raise UsageError(f"trajectory point {k} must be [time, primal, dual], not {point!r}")
        time = _number(point[0], f"trajectory point {k} time")
        if time is None or not math.isfinite(time) or time < 0:
            raise UsageError(f"trajectory point {k} has a bad time {point[0]!r}")
        if time < last:
            raise UsageError(f"trajectory point {k} goes back in time ({time} < {last})")
        last = time
        primal = _number(point[1], f"trajectory point {k} primal")
        if primal is not None and not math.isfinite(primal):
            primal = None
        out.append((time, primal))
    return out


def _better(a: float, b: float, sense: str) -> bool:
    return a < b if sense == "minimize" else a > b


# ----------------------------------------------------------------------------- run measures


def primal_gap(value: float | None, best: float | None, *, tol: float = 1e-9) -> float:
    """Primal gap of ``value`` to the best known value ``best`` (Berthold 2013, eq. 1).

    Parameters
    ----------
    value : float or None
        An objective value; None when there is no solution.
    best : float or None
        The best known objective value; None when unknown (or the instance is infeasible).
    tol : float, optional
        Values closer than ``tol * max(1, |best|)`` have gap 0.

    Returns
    -------
    float
        0 when the two agree (both 0 included); 1 when either is None or their signs differ
        (``value * best < 0``); otherwise ``|value - best| / max(|value|, |best|)``. Always in
        ``[0, 1]``; it does not depend on the objective sense.

    Raises
    ------
    UsageError
        For a value that is not a finite number, or a negative tolerance.

    Examples
    --------
    >>> primal_gap(110.0, 100.0)
    0.09090909090909091
    >>> primal_gap(-1.0, 2.0)
    1.0
    """
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol >= 0):
        raise UsageError(f"tolerance must be a non-negative number, not {tol!r}")
    v = _number(value, "value")
    b = _number(best, "best")
    for number, name in ((v, "value"), (b, "best")):
        if number is not None and not math.isfinite(number):
            raise UsageError(f"{name} must be finite, not {number!r}")
    if v is None or b is None:
        return 1.0
    if abs(v - b) <= tol * max(1.0, abs(b)):
        return 0.0
    if v * b < 0:
        return 1.0
    return min(1.0, abs(v - b) / max(abs(v), abs(b)))


def _steps(
    trajectory: Iterable[Sequence[Any]], best: float | None, time_limit: float, sense: str
) -> tuple[np.ndarray, np.ndarray, float]:
    """The primal gap as a right-continuous step function on ``[0, time_limit]``.

    Returns ``(starts, gaps, limit)``: the gap is ``gaps[i]`` from ``starts[i]`` up to the next
    start (the last one up to ``limit``); ``starts[0] == 0`` with gap 1 unless an incumbent
    arrives at time 0.
    """
    _check_sense(sense)
    limit = _check_limit(time_limit)
    best = _number(best, "best")
    starts = [0.0]
    gaps = [1.0]
    incumbent: float | None = None
    for time, primal in _points(trajectory):
        if time > limit:
            break
        if primal is None or (incumbent is not None and not _better(primal, incumbent, sense)):
            continue
        incumbent = primal
        gap = primal_gap(incumbent, best)
        if time == starts[-1]:
            gaps[-1] = gap
        else:
            starts.append(time)
            gaps.append(gap)
    return np.asarray(starts, dtype=float), np.asarray(gaps, dtype=float), limit


def primal_integral(
    trajectory: Iterable[Sequence[Any]], best: float | None, time_limit: float, sense: str
) -> float:
    """Primal integral of a run (Berthold 2013, eq. 2), in gap x seconds.

    Parameters
    ----------
    trajectory : sequence of [time, primal, dual]
        Improvements in time order; ``primal`` None while there is no incumbent. Only the
        first two entries of each point are read.
    best : float or None
        Best known objective value (None: every incumbent has gap 1).
    time_limit : float
        End ``T`` of the integration interval, in seconds; points after it are ignored.
    sense : {"minimize", "maximize"}
        The incumbent is the best value so far in this sense, so a worse later value never
        raises the gap.

    Returns
    -------
    float
        ``sum_i gap_i * (t_{i+1} - t_i)`` over the steps of the incumbent's gap, with gap 1
        before the first incumbent; between 0 and ``time_limit``.

    Raises
    ------
    UsageError
        For a bad sense, time limit or trajectory (times negative or going back).

    Examples
    --------
    First incumbent at 2 s with gap 0.5, the optimum at 6 s, limit 10 s: 2*1 + 4*0.5 + 4*0.

    >>> primal_integral([[2, 200, 0], [6, 100, 100]], 100, 10, "minimize")
    4.0
    """
    starts, gaps, limit = _steps(trajectory, best, time_limit, sense)
    widths = np.diff(np.append(starts, limit))
    return float(np.dot(gaps, widths))


def primal_gap_curve(
    trajectory: Iterable[Sequence[Any]],
    best: float | None,
    time_limit: float,
    sense: str,
    times: np.ndarray,
) -> np.ndarray:
    """Primal gap of the best incumbent so far at each of ``times``.

    Parameters
    ----------
    trajectory, best, time_limit, sense
        As for :func:`primal_integral`.
    times : numpy.ndarray
        Times in seconds, in any order. An incumbent found at time ``t`` counts from ``t`` on;
        times after ``time_limit`` get the gap at the limit, negative times gap 1.

    Returns
    -------
    numpy.ndarray
        Gaps in ``[0, 1]``, same shape as ``times``; its integral over ``[0, time_limit]`` is
        :func:`primal_integral`.
    """
    starts, gaps, limit = _steps(trajectory, best, time_limit, sense)
    t = np.asarray(times, dtype=float)
    if np.isnan(t).any():
        raise UsageError("times must not contain NaN")
    index = np.searchsorted(starts, np.minimum(t, limit), side="right") - 1
    return np.where(index < 0, 1.0, gaps[np.maximum(index, 0)])


def time_to_best(
    trajectory: Iterable[Sequence[Any]], best: float | None, sense: str, tol: float = 1e-9
) -> float | None:
    """First time the incumbent reaches ``best`` (normally the run's own final objective).

    Parameters
    ----------
    trajectory : sequence of [time, primal, dual]
        Improvements in time order.
    best : float or None
        The value to reach; None when the run has no solution.
    sense : {"minimize", "maximize"}
        A value at least as good as ``best`` (to ``tol * max(1, |best|)``) reaches it.
    tol : float, optional
        Tolerance, relative to ``max(1, |best|)``.

    Returns
    -------
    float or None
        The time in seconds; None when ``best`` is None or no point reaches it.
    """
    _check_sense(sense)
    target = _number(best, "best")
    if target is None:
        return None
    slack = tol * max(1.0, abs(target))
    for time, primal in _points(trajectory):
        if primal is None:
            continue
        if (sense == "minimize" and primal <= target + slack) or (
            sense == "maximize" and primal >= target - slack
        ):
            return time
    return None


def shifted_geometric_mean(values: Iterable[float], shift: float) -> float:
    """Shifted geometric mean ``exp(mean(log(v + s))) - s`` (Achterberg 2007, sec. A.3).

    Parameters
    ----------
    values : iterable of float
        Non-negative finite numbers, at least one.
    shift : float
        The shift ``s >= 0`` (0 gives the plain geometric mean).

    Returns
    -------
    float

    Raises
    ------
    UsageError
        On empty input, negative or non-finite values, or a negative shift.

    Examples
    --------
    >>> round(shifted_geometric_mean([1.0, 7.0], 1.0), 12)
    3.0
    """
    v = np.asarray(list(values), dtype=float)
    if v.size == 0:
        raise UsageError("shifted geometric mean of no values")
    if not math.isfinite(shift) or shift < 0:
        raise UsageError(f"shift must be non-negative and finite, not {shift!r}")
    if not np.isfinite(v).all() or (v < 0).any():
        raise UsageError("shifted geometric mean needs non-negative finite values")
    with np.errstate(divide="ignore"):
        return float(np.exp(np.mean(np.log(v + shift))) - shift)


# ----------------------------------------------------------------------------- run records


def _check_row(row: Mapping[str, Any], k: int) -> None:
    if not isinstance(row, Mapping):
        raise InputError(f"run {k} is not a dict but {type(row).__name__}")
    missing = [key for key in REQUIRED_KEYS if key not in row]
    if missing:
        raise InputError(f"run {k} lacks key(s): {', '.join(missing)}")
    if row["status"] not in STATUSES:
        raise InputError(f"run {k}: unknown status {row['status']!r}")
    if row["sense"] not in _SENSES:
        raise InputError(f"run {k}: sense must be 'minimize' or 'maximize', not {row['sense']!r}")
    try:
        _check_limit(row["time_limit"])
        _points(row["trajectory"])
        for key in ("objective", "dual_bound", "reference", "runtime"):
            _number(row[key], key)
    except UsageError as error:
        raise InputError(f"run {k} ({row['instance']}, {row['solver']}): {error}") from None
    if row["runtime"] is None:
        raise InputError(f"run {k} ({row['instance']}, {row['solver']}): runtime is missing")


def has_solution(row: Mapping[str, Any]) -> bool:
    """Whether a run record counts as having a solution.

    Parameters
    ----------
    row : dict
        A run record.

    Returns
    -------
    bool
        True when the status is not error/timeout/crashed, there is a finite objective and
        the solution was certified (``certified is True``).
    """
    objective = row.get("objective")
    return (
        row.get("status") not in FAILED_STATUSES
        and objective is not None
        and math.isfinite(float(objective))
        and row.get("certified") is True
    )


def effective_trajectory(row: Mapping[str, Any]) -> list[list[Any]]:
    """The trajectory the measures use for one run record.

    Parameters
    ----------
    row : dict
        A run record.

    Returns
    -------
    list of [time, primal, dual]
        Empty for a run without a (certified) solution, so that its gap is 1 throughout.
        Otherwise the recorded trajectory followed by ``[runtime, objective, dual_bound]``:
        the final answer was known at the end of the run at the latest, which also covers
        solvers that report no trajectory.
    """
    if not has_solution(row):
        return []
    points = [list(point) for point in (row.get("trajectory") or [])]
    end = float(row["runtime"])
    if points:
        end = max(end, float(points[-1][0]))
    points.append([end, float(row["objective"]), row.get("dual_bound")])
    return points


def best_known(rows: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], float | None]:
    """Best known objective value of every instance.

    Parameters
    ----------
    rows : iterable of dict
        Run records.

    Returns
    -------
    dict
        ``(collection, instance) -> value``: the best, in the instance's sense, of its
        ``reference`` values and of the objectives of every run that counts as having a
        solution (:func:`has_solution`; uncertified runs are ignored). None when there is no
        such value, as for instances known to be infeasible.

    Raises
    ------
    InputError
        When the runs of one instance disagree on its sense.
    """
    out: dict[tuple[str, str], float | None] = {}
    senses: dict[tuple[str, str], str] = {}
    for k, row in enumerate(rows):
        _check_row(row, k)
        key = (row["collection"], row["instance"])
        out.setdefault(key, None)
        if row["status"] == "error" and row["objective"] is None:
            continue  # a run that failed before it knew the model says nothing of its sense
        sense = senses.setdefault(key, row["sense"])
        if sense != row["sense"]:
            raise InputError(f"instance {key[1]!r} of {key[0]!r} has runs in both senses")
        candidates = []
        reference = _number(row["reference"], "reference")
        if reference is not None and math.isfinite(reference):
            candidates.append(reference)
        if has_solution(row):
            candidates.append(float(row["objective"]))
        for value in candidates:
            if out[key] is None or _better(value, out[key], sense):
                out[key] = value
    return out


def run_metrics(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Measures of every run record.

    Parameters
    ----------
    rows : iterable of dict
        Run records with at least the keys of :data:`REQUIRED_KEYS`.

    Returns
    -------
    list of dict
        One per run, in input order, with the keys ``collection, instance, solver, seed,
        time_limit, sense, status, objective, dual_bound, best_known, has_solution,
        primal_gap`` (final objective to the best known value; 1 without a certified
        solution), ``primal_integral`` (over ``[0, time_limit]``; equal to ``time_limit``
        without a certified solution), ``time_to_best`` (None without one), ``solved``
        (status optimal and certified), ``certified, runtime, nodes``.

    Raises
    ------
    InputError
        For a record with missing keys, an unknown status or sense, or a bad trajectory.
    """
    rows = list(rows)
    best = best_known(rows)
    out = []
    for row in rows:
        key = (row["collection"], row["instance"])
        counted = has_solution(row)
        objective = _number(row["objective"], "objective")
        trajectory = effective_trajectory(row)
        limit = float(row["time_limit"])
        reference = best[key]
        out.append(
            {
                "collection": row["collection"],
                "instance": row["instance"],
                "solver": row["solver"],
                "seed": int(row["seed"]),
                "time_limit": limit,
                "sense": row["sense"],
                "status": row["status"],
                "objective": objective,
                "dual_bound": _number(row["dual_bound"], "dual_bound"),
                "best_known": reference,
                "has_solution": counted,
                "primal_gap": primal_gap(objective if counted else None, reference),
                "primal_integral": primal_integral(trajectory, reference, limit, row["sense"]),
                "time_to_best": (
                    time_to_best(trajectory, objective, row["sense"]) if counted else None
                ),
                "solved": counted and row["status"] == "optimal",
                "certified": row["certified"],
                "runtime": float(row["runtime"]),
                "nodes": None if row["nodes"] is None else int(row["nodes"]),
            }
        )
    return out


# ----------------------------------------------------------------------------- summary


def _match_key(m: Mapping[str, Any]) -> tuple[str, int, float]:
    return (m["instance"], m["seed"], m["time_limit"])


def summary(
    metrics: Iterable[Mapping[str, Any]],
    *,
    baseline: str | None = None,
    integral_shift: float = 1.0,
    time_shift: float = 1.0,
) -> list[dict[str, Any]]:
    """One line of figures per (collection, solver), compared with a baseline solver.

    Parameters
    ----------
    metrics : iterable of dict
        Output of :func:`run_metrics`.
    baseline : str, optional
        Solver the others are compared with; default the alphabetically first solver.
    integral_shift : float, optional
        Shift of the shifted geometric mean of primal integrals, in gap x seconds; default
        1.0. A run that finds the optimum at time ``t`` and has nothing before has integral
        ``t``, so with the same shift as the times (1 s, Achterberg 2007) the mean primal
        integral of exact solvers reads on the same scale as their mean time to optimality,
        and differences below one second at full gap do not dominate the ratio.
    time_shift : float, optional
        Shift of the shifted geometric mean of run times, in seconds; default 1.0.

    Returns
    -------
    list of dict
        Sorted by collection and solver, with the keys:

        - ``collection``, ``solver``, ``baseline`` (the baseline's name);
        - ``runs``, ``solved`` (optimal and certified), ``with_solution`` (certified
          solution), ``errors`` (status error, timeout or crashed);
        - ``sgm_runtime``: shifted geometric mean of the run time, where a run not solved
          counts as its time limit (a fast crash must not look fast);
        - ``sgm_primal_integral`` and ``mean_primal_integral`` (arithmetic mean, as reported
          by D-MIPLIB and Balans);
        - ``integral_ratio``: shifted geometric mean of this solver's primal integrals divided
          by the baseline's, both over the (instance, seed, time limit) runs the two share;
          None when they share none;
        - ``mean_primal_gap``: arithmetic mean of the final primal gaps;
        - ``wins``, ``ties``, ``losses``: over the shared (instance, seed, time limit) runs, a
          final primal gap lower than the baseline's by more than :data:`TIE_TOLERANCE` is a
          win, higher by more is a loss, otherwise a tie; all 0 on the baseline's own line.

    Raises
    ------
    UsageError
        On no metrics, or a baseline that is not among the solvers.
    """
    metrics = list(metrics)
    if not metrics:
        raise UsageError("no runs to summarise")
    solvers = sorted({m["solver"] for m in metrics})
    if baseline is None:
        baseline = solvers[0]
    elif baseline not in solvers:
        raise UsageError(f"baseline solver {baseline!r} is not among {', '.join(solvers)}")
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for m in metrics:
        groups.setdefault((m["collection"], m["solver"]), []).append(m)
    out = []
    for (collection, solver), runs in sorted(groups.items()):
        base = {_match_key(m): m for m in groups.get((collection, baseline), [])}
        integrals = [m["primal_integral"] for m in runs]
        times = [m["runtime"] if m["solved"] else m["time_limit"] for m in runs]
        shared = [(m, base[_match_key(m)]) for m in runs if _match_key(m) in base]
        wins = ties = losses = 0
        ratio = None
        if shared:
            if solver != baseline:
                for m, b in shared:
                    difference = m["primal_gap"] - b["primal_gap"]
                    if difference < -TIE_TOLERANCE:
                        wins += 1
                    elif difference > TIE_TOLERANCE:
                        losses += 1
                    else:
                        ties += 1
            ours = shifted_geometric_mean([m["primal_integral"] for m, _ in shared], integral_shift)
            theirs = shifted_geometric_mean(
                [b["primal_integral"] for _, b in shared], integral_shift
            )
            ratio = ours / theirs if theirs > 0 else (1.0 if ours == 0 else math.inf)
        out.append(
            {
                "collection": collection,
                "solver": solver,
                "baseline": baseline,
                "runs": len(runs),
                "solved": sum(1 for m in runs if m["solved"]),
                "with_solution": sum(1 for m in runs if m["has_solution"]),
                "errors": sum(1 for m in runs if m["status"] in FAILED_STATUSES),
                "sgm_runtime": shifted_geometric_mean(times, time_shift),
                "sgm_primal_integral": shifted_geometric_mean(integrals, integral_shift),
                "mean_primal_integral": float(np.mean(integrals)),
                "integral_ratio": ratio,
                "mean_primal_gap": float(np.mean([m["primal_gap"] for m in runs])),
                "wins": wins,
                "ties": ties,
                "losses": losses,
            }
        )
    return out


# ----------------------------------------------------------------------------- virtual solvers


def best_of_name(members: Sequence[str]) -> str:
    """Name of the virtual solver :func:`best_of` makes of ``members``: ``best(A,B)``."""
    return f"best({','.join(members)})"


def best_of(metrics: Iterable[Mapping[str, Any]], members: Sequence[str]) -> list[dict[str, Any]]:
    """Runs of the virtual solver ``best(A,B,...)``: per run, the member with the smaller PI.

    Parameters
    ----------
    metrics : iterable of dict
        Output of :func:`run_metrics`.
    members : sequence of str
        Two or more different solver names.

    Returns
    -------
    list of dict
        One run per (collection, instance, time limit, seed) that any solver ran, in order of
        first appearance: a copy of the measures of the member run with the smallest primal
        integral (on a tie, the member named first), with ``solver`` set to
        :func:`best_of_name`, ``seed`` set to that seed and ``member`` naming the member.
        Each member contributes its run of the same seed, or its seed-0 run when it did not
        run that seed (a member run once stands in for every seed of a solver run three
        times); when a member has neither, there is no virtual run for that seed. So
        :func:`summary` pairs any solver's run with the virtual one of the same instance and
        seed; its wins/ties/losses compare final primal gaps with the chosen member run's.

    Raises
    ------
    UsageError
        For fewer than two members or a member named twice.
    """
    if len(members) < 2 or len(set(members)) != len(members):
        raise UsageError(f"best of needs two or more different solvers, not {list(members)!r}")
    metrics = list(metrics)
    runs = {
        (m["collection"], m["instance"], m["time_limit"], m["solver"], m["seed"]): m
        for m in metrics
        if m["solver"] in members
    }
    keys = dict.fromkeys(
        (m["collection"], m["instance"], m["time_limit"], m["seed"]) for m in metrics
    )
    out = []
    for collection, instance, limit, seed in keys:
        chosen = []
        for member in members:
            run = runs.get((collection, instance, limit, member, seed))
            if run is None:
                run = runs.get((collection, instance, limit, member, 0))
            if run is None:
                break
            chosen.append(run)
        else:
            best = min(chosen, key=lambda m: m["primal_integral"])
            out.append(
                {**best, "solver": best_of_name(members), "seed": seed, "member": best["solver"]}
            )
    return out


def pooled(metrics: Iterable[Mapping[str, Any]], label: str = "overall") -> list[dict[str, Any]]:
    """The runs of every collection as one collection, for figures over all of them.

    Parameters
    ----------
    metrics : iterable of dict
        Output of :func:`run_metrics` (or :func:`best_of`).
    label : str, optional
        The collection name of every run.

    Returns
    -------
    list of dict
        Copies with ``collection`` set to ``label`` and ``instance`` to
        ``"collection/instance"``, so that same-named instances of two collections stay
        apart when :func:`summary` pairs runs.
    """
    return [
        {**m, "collection": label, "instance": f"{m['collection']}/{m['instance']}"}
        for m in metrics
    ]


def summary_against_best_of(
    metrics: Iterable[Mapping[str, Any]], members: Sequence[str]
) -> list[dict[str, Any]]:
    """:func:`summary` lines of every solver against the virtual solver ``best(members)``.

    Parameters
    ----------
    metrics : iterable of dict
        Output of :func:`run_metrics`.
    members : sequence of str
        Solvers of the virtual baseline (see :func:`best_of`).

    Returns
    -------
    list of dict
        Per collection, then over all collections (collection ``"overall"``, see
        :func:`pooled`), one line per real solver (members included) with the keys of
        :func:`summary`; ``baseline`` is :func:`best_of_name`. ``integral_ratio`` and
        wins/ties/losses are over the runs the solver shares with the virtual one.

    Raises
    ------
    UsageError
        When a member has no run at all, or as :func:`best_of`.
    """
    metrics = list(metrics)
    missing = [s for s in members if s not in {m["solver"] for m in metrics}]
    if missing:
        raise UsageError(f"best of {', '.join(members)}: no runs of {', '.join(missing)}")
    name = best_of_name(members)
    runs = [*metrics, *best_of(metrics, members)]
    lines = summary(runs, baseline=name) + summary(pooled(runs), baseline=name)
    return [line for line in lines if line["solver"] != name]
