"""Destroy operators: each turns an incumbent into the neighbourhood of one sub-MIP.

Every operator is ``operator(ctx, x, value, rate, rng) -> Neighbourhood`` where ``x`` is the
incumbent (file order), ``value`` its objective in the model's sense (offset included) and
``rate`` the share of the integer variables to free (before the adaptive scale of
:meth:`Context.rate`). Only integer variables are ever fixed or bounded; continuous
variables keep the model's bounds, so the incumbent is always feasible for the sub-MIP of
the operators that fix to it. The hint operators (:data:`HINTED`) use the predictions of
:attr:`Context.hints` and join the portfolio only when there are some. Scoring operators
(:func:`disagreement`, :func:`lb_relax`) free the integer variables whose LP value is
farthest from the incumbent first.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .neighbourhood import Context, Neighbourhood, Row

__all__ = [
    "HINTED",
    "OPERATORS",
    "Arm",
    "constraint",
    "crossover",
    "dins",
    "disagreement",
    "hint_confident",
    "hint_disagree",
    "lb_relax",
    "local_branching",
    "mutation",
    "portfolio",
    "proximity",
    "random_objective",
    "rens",
    "rins",
]

Operator = Callable[[Context, np.ndarray, float, float, np.random.Generator], Neighbourhood]

_TOL = 1e-6


def mutation(
    ctx: Context, x: np.ndarray, value: float, rate: float, rng: np.random.Generator
) -> Neighbourhood:
    """Free a random share of the integer variables, fix the others to the incumbent."""
    return ctx.free_first(x, rng.permutation(ctx.integer), rate)


def _highest_first(ctx: Context, score: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Integer variables by decreasing ``score`` (one per integer variable), ties at random.

    Scores up to the tolerance count as 0, so the variables that score nothing come last in
    a random order: freeing a prefix frees the best scored ones and fills up at random.
    """
    score = np.where(score > _TOL, score, 0.0)
    order = np.argsort(-score, kind="stable")
    ranked = ctx.integer[order]
    ends = np.flatnonzero(np.diff(score[order])) + 1
    starts, stops = np.r_[0, ends], np.r_[ends, len(order)]
    tied = stops - starts > 1
    for start, stop in zip(starts[tied], stops[tied]):
        rng.shuffle(ranked[start:stop])
    return ranked


def rins(
    ctx: Context, x: np.ndarray, value: float, rate: float, rng: np.random.Generator
) -> Neighbourhood:
    """Relaxation induced neighbourhood (Danna, Rothberg & Le Pape 2005).

    Frees the integer variables where the incumbent and the LP optimum differ, then, up to
    the rate, variables where they agree; the rest stay fixed to the incumbent.
    """
    assert ctx.lp is not None
    idx = ctx.integer
    differs = np.abs(x[idx] - ctx.lp[idx]) > _TOL
    return ctx.free_first(x, _highest_first(ctx, differs.astype(float), rng), rate)


def disagreement(
    ctx: Context, x: np.ndarray, value: float, rate: float, rng: np.random.Generator
) -> Neighbourhood:
    """Free the integer variables where the LP optimum is farthest from the incumbent.

    A graded RINS: the integer variables ranked by ``|lp_j - x*_j|`` (ties at random), the
    first ``rate`` share is freed and the rest stay fixed to the incumbent.
    """
    assert ctx.lp is not None
    idx = ctx.integer
    return ctx.free_first(x, _highest_first(ctx, np.abs(ctx.lp[idx] - x[idx]), rng), rate)


def rens(
    ctx: Context, x: np.ndarray, value: float, rate: float, rng: np.random.Generator
) -> Neighbourhood:
    """Relaxation enforced neighbourhood search (Berthold 2014).

    Integer variables with a fractional LP value are bounded to its floor and ceiling;
    those with an integral LP value are fixed to it, except a random ``rate`` share that
    keeps the model's bounds. The incumbent need not lie in this neighbourhood.
    """
    assert ctx.lp is not None
    p, idx = ctx.problem, ctx.integer
    lower, upper = p.col_lower.copy(), p.col_upper.copy()
    lp = ctx.lp[idx]
    integral = np.abs(lp - np.round(lp)) <= _TOL
    keep = rng.permutation(idx[integral])[: int(round(ctx.rate(rate) * integral.sum()))]
    lower[idx] = np.maximum(lower[idx], np.where(integral, np.round(lp), np.floor(lp)))
    upper[idx] = np.minimum(upper[idx], np.where(integral, np.round(lp), np.ceil(lp)))
    lower[keep], upper[keep] = p.col_lower[keep], p.col_upper[keep]
    free = int((~integral).sum()) + len(keep)
    return Neighbourhood(lower, upper, free=free)


def dins(
    ctx: Context, x: np.ndarray, value: float, rate: float, rng: np.random.Generator
) -> Neighbourhood:
    """Distance induced neighbourhood search (Ghosh 2007).

    Each integer variable may only take values no farther from the LP optimum than the
    incumbent is: ``|x_j - lp_j| <= |x*_j - lp_j|``. A binary variable within 0.5 of the LP
    value is therefore fixed to the incumbent; a random ``rate`` share of the integer
    variables keeps the model's bounds.
    """
    assert ctx.lp is not None
    p, idx = ctx.problem, ctx.integer
    lower, upper = p.col_lower.copy(), p.col_upper.copy()
    lp, inc = ctx.lp[idx], x[idx]
    distance = np.abs(inc - lp)
    lower[idx] = np.maximum(lower[idx], np.minimum(np.ceil(lp - distance - _TOL), inc))
    upper[idx] = np.minimum(upper[idx], np.maximum(np.floor(lp + distance + _TOL), inc))
    keep = rng.permutation(idx)[: int(round(ctx.rate(rate) * len(idx)))]
    lower[keep], upper[keep] = p.col_lower[keep], p.col_upper[keep]
    free = int((upper[idx] > lower[idx]).sum())
    return Neighbourhood(lower, upper, free=free)


def _hamming(ctx: Context, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Coefficients and constant of the Hamming distance to ``x`` over the binaries."""
    b = ctx.binary
    ones = np.round(x[b]) >= 0.5
    return b, np.where(ones, -1.0, 1.0), float(ones.sum())


def local_branching(
    ctx: Context, x: np.ndarray, value: float, rate: float, rng: np.random.Generator
) -> Neighbourhood:
    """Local branching (Fischetti & Lodi 2003): at most ``rate`` of the binaries may flip.

    Adds the row ``sum_{x*_j=0} x_j + sum_{x*_j=1} (1 - x_j) <= k`` with
    ``k = max(1, rate * #binaries)``; no variable is fixed.
    """
    p = ctx.problem
    index, coefs, constant = _hamming(ctx, x)
    k = max(1, int(round(ctx.rate(rate) * len(index))))
    row = Row(index, coefs, -np.inf, k - constant)
    return Neighbourhood(p.col_lower.copy(), p.col_upper.copy(), (row,), free=k)


def lb_relax(
    ctx: Context, x: np.ndarray, value: float, rate: float, rng: np.random.Generator
) -> Neighbourhood:
    """LB-RELAX with random fill (Huang, Hoon, Xu, Dilkina et al. 2023).

    Solves the LP relaxation of local branching around the incumbent (at most ``k`` of
    the binaries flip, ``k = max(1, rate * #integers)``; :meth:`Context.local_branching_lp`
    within :attr:`Context.relax_time`), frees the ``k`` integer variables where its
    optimum is farthest from the incumbent (ties and the fill up to ``k`` at random) and
    fixes the rest to the incumbent. Without binaries the root LP optimum
    (:attr:`Context.lp`) scores the variables; where the LP fails or there is none, the
    order is random (:func:`mutation`).
    """
    idx = ctx.integer
    k = max(1, int(round(ctx.rate(rate) * len(idx))))
    lp = ctx.lp
    if len(ctx.binary):
        lp = ctx.local_branching_lp().solve(x, k, ctx.relax_time)
    score = np.zeros(len(idx)) if lp is None else np.abs(lp[idx] - x[idx])
    return ctx.fixing(x, np.sort(_highest_first(ctx, score, rng)[k:]))


def improvement_row(ctx: Context, value: float, delta: float) -> Row:
    """The row ``c @ x`` better than ``value`` by at least ``delta`` (``delta`` 0: no worse)."""
    p = ctx.problem
    index = np.flatnonzero(p.c)
    target = value - p.offset
    if p.maximize:
        return Row(index, p.c[index], target + delta, np.inf)
    return Row(index, p.c[index], -np.inf, target - delta)


def _integral_objective(ctx: Context) -> bool:
    p = ctx.problem
    used = np.flatnonzero(p.c)
    return bool(p.integrality[used].all() and np.all(p.c[used] == np.round(p.c[used])))


def proximity(
    ctx: Context, x: np.ndarray, value: float, rate: float, rng: np.random.Generator
) -> Neighbourhood:
    """Proximity search (Fischetti & Monaci 2014).

    Minimises the Hamming distance to the incumbent over the binaries subject to an
    objective at least ``rate * max(|value|, 1)`` better (at least 1 when the objective is
    integral); no variable is fixed.
    """
    p = ctx.problem
    index, coefs, _ = _hamming(ctx, x)
    objective = np.zeros(p.num_vars)
    objective[index] = coefs
    delta = rate * max(abs(value), 1.0)
    if _integral_objective(ctx):
        delta = max(1.0, float(np.ceil(delta - _TOL)))
    row = improvement_row(ctx, value, delta)
    return Neighbourhood(p.col_lower.copy(), p.col_upper.copy(), (row,), objective, len(index))


def crossover(
    ctx: Context, x: np.ndarray, value: float, rate: float, rng: np.random.Generator
) -> Neighbourhood:
    """Crossover of the incumbent with another elite solution (Rothberg 2007).

    Fixes the integer variables on which both agree, except a ``rate`` share; frees the
    rest. With no second solution in the elite pool it is :func:`mutation`.
    """
    others = [y for y in ctx.elite if not np.array_equal(y, x)]
    if not others:
        return mutation(ctx, x, value, rate, rng)
    other = others[int(rng.integers(len(others)))]
    idx = ctx.integer
    differs = np.abs(np.round(x[idx]) - np.round(other[idx])) > _TOL
    order = _highest_first(ctx, differs.astype(float), rng)
    count = int(differs.sum()) + int(round(ctx.rate(rate) * (~differs).sum()))
    return ctx.fixing(x, np.sort(order[count:]))


def random_objective(
    ctx: Context, x: np.ndarray, value: float, rate: float, rng: np.random.Generator
) -> Neighbourhood:
    """A random objective over a mutation neighbourhood, the real one no worse (Balans).

    Moves to a different solution at least as good as the incumbent, a diversification
    step for the next iterations.
    """
    base = mutation(ctx, x, value, rate, rng)
    objective = np.zeros(ctx.problem.num_vars)
    objective[ctx.integer] = rng.uniform(-1.0, 1.0, len(ctx.integer))
    row = improvement_row(ctx, value, 0.0)
    return Neighbourhood(base.lower, base.upper, (row,), objective, base.free)


def constraint(
    ctx: Context, x: np.ndarray, value: float, rate: float, rng: np.random.Generator
) -> Neighbourhood:
    """Free the integer variables of a random cluster of related rows.

    Starts at a random row and grows breadth first through rows that share a variable,
    freeing their integer variables until the rate is reached; the others stay fixed.
    """
    p = ctx.problem
    target = int(round(ctx.rate(rate) * len(ctx.integer)))
    columns = ctx.columns()
    is_free = np.zeros(p.num_vars, dtype=bool)
    seen = np.zeros(p.num_cons, dtype=bool)
    queue: deque[int] = deque()
    freed = 0
    while freed < target:
        if not queue:
            unseen = np.flatnonzero(~seen)
            if len(unseen) == 0:
                break
            queue.append(int(rng.choice(unseen)))
            seen[queue[0]] = True
        r = queue.popleft()
        members = p.A.indices[p.A.indptr[r] : p.A.indptr[r + 1]]
        new = members[p.integrality[members] & ~is_free[members]][: target - freed]
        is_free[new] = True
        freed += len(new)
        linked = np.unique(columns[:, members].indices)
        linked = rng.permutation(linked[~seen[linked]])
        seen[linked] = True
        queue.extend(linked.tolist())
    return ctx.fixing(x, ctx.integer[~is_free[ctx.integer]])


def hint_disagree(
    ctx: Context, x: np.ndarray, value: float, rate: float, rng: np.random.Generator
) -> Neighbourhood:
    """Free where the incumbent disagrees with the predictions (RINS with hints for the LP).

    Frees the integer variables predicted (confidence above 0) to another value than the
    incumbent's, a random subset of them when more disagree than the rate allows, then, up
    to the rate, random other integer variables; the rest stay fixed to the incumbent.
    Without predictions it is :func:`mutation`.
    """
    hinted = ctx.hinted()
    if not hinted.any():
        return mutation(ctx, x, value, rate, rng)
    assert ctx.hints is not None
    idx = ctx.integer
    predicted = np.round(np.nan_to_num(ctx.hints.value[idx]))
    differs = hinted[idx] & (np.abs(np.round(x[idx]) - predicted) > _TOL)
    return ctx.free_first(x, _highest_first(ctx, differs.astype(float), rng), rate)


def _most_confident(ctx: Context, count: int, rng: np.random.Generator) -> np.ndarray:
    """The ``count`` most confident predicted variables, ties at the threshold at random."""
    hints, hinted = ctx.hints, ctx.hinted()
    assert hints is not None
    chosen = hints.most_confident(count, among=hinted)
    if len(chosen) == 0:
        return chosen
    threshold = hints.confidence[chosen[-1]]
    sure = chosen[hints.confidence[chosen] > threshold]
    tied = np.flatnonzero(hinted & (hints.confidence == threshold))
    return np.concatenate([sure, rng.permutation(tied)[: count - len(sure)]])


def hint_confident(
    ctx: Context, x: np.ndarray, value: float, rate: float, rng: np.random.Generator
) -> Neighbourhood:
    """Fix the most confident predictions to the predicted value (RENS with hints).

    Of the integer variables predicted with confidence above 0, the ``1 - rate`` share
    with the highest confidence (ties at random) is fixed to its predicted value, within
    the model's bounds; the others and the integer variables without a prediction keep
    the model's bounds. The incumbent need not lie in this neighbourhood: where the
    predictions are wrong the sub-MIP holds nothing better than the cutoff, an attempt that
    found nothing. Without predictions it is :func:`mutation`.
    """
    hinted = ctx.hinted()
    if not hinted.any():
        return mutation(ctx, x, value, rate, rng)
    assert ctx.hints is not None
    count = int(round((1.0 - ctx.rate(rate)) * hinted.sum()))
    fix = np.sort(_most_confident(ctx, count, rng))
    target = x.copy()
    target[fix] = ctx.hints.value[fix]
    return ctx.fixing(target, fix)


@dataclass(frozen=True)
class Arm:
    """One bandit arm: an operator at one destroy rate."""

    name: str
    operator: Operator
    rate: float
    needs_lp: bool = False
    needs_binaries: bool = False


#: Operator families by name: (operator, rates, needs the LP, needs binaries).
OPERATORS: dict[str, tuple[Operator, tuple[float, ...], bool, bool]] = {
    "mutation": (mutation, (0.2, 0.5), False, False),
    "rins": (rins, (0.3, 0.5), True, False),
    "rens": (rens, (0.2,), True, False),
    "dins": (dins, (0.2,), True, False),
    "disagreement": (disagreement, (0.1, 0.3), True, False),
    "lb_relax": (lb_relax, (0.1, 0.3), False, True),
    "local_branching": (local_branching, (0.05, 0.15), False, True),
    "proximity": (proximity, (0.01,), False, True),
    "crossover": (crossover, (0.2, 0.4), False, False),
    "random_objective": (random_objective, (0.2,), False, False),
    "constraint": (constraint, (0.1, 0.3), False, False),
    "hint_disagree": (hint_disagree, (0.1, 0.3), False, False),
    "hint_confident": (hint_confident, (0.3, 0.6), False, False),
}

#: The families that need :attr:`Context.hints`: in the portfolio only with predictions.
HINTED = ("hint_disagree", "hint_confident")


def portfolio(
    ctx: Context, families: tuple[str, ...] | None = None, *, lp: bool = True
) -> list[Arm]:
    """The arms for this model: every rate of every family that applies.

    Parameters
    ----------
    ctx : Context
        The model's context (binaries present or not).
    families : tuple of str, optional
        Operator families to use (keys of :data:`OPERATORS`); all by default.
    lp : bool
        Whether an LP optimum is available; without it the LP-based families are dropped.
        The :data:`HINTED` families are dropped when ``ctx`` holds no prediction.

    Returns
    -------
    list of Arm
    """
    arms = []
    for family in families or tuple(OPERATORS):
        operator, rates, needs_lp, needs_binaries = OPERATORS[family]
        if (needs_lp and not lp) or (needs_binaries and len(ctx.binary) == 0):
            continue
        if family == "constraint" and ctx.problem.num_cons == 0:
            continue
        if family in HINTED and not ctx.hinted().any():
            continue
        for rate in rates:
            arms.append(Arm(f"{family}-{rate:g}", operator, rate, needs_lp, needs_binaries))
    return arms
