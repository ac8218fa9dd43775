"""Destroy operators and sub-MIP repair: valid neighbourhoods, the cutoff, model reuse."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from hybridsolve import datasets
from hybridsolve.lns import OPERATORS, SUBSOLVERS, Context, Neighbourhood, portfolio
from hybridsolve.lns.operators import improvement_row
from hybridsolve.mip import check, solve


def _instance(name: str) -> tuple:
    """A small model, its LP optimum and a first (non-optimal) feasible solution."""
    rng = np.random.default_rng(7)
    if name == "facility":  # continuous assignment variables, general structure
        p = datasets.capacitated_facility_location(rng, customers=12, facilities=6)
    elif name == "auction":  # maximisation, with an offset added
        p = replace(datasets.combinatorial_auction(rng, items=15, bids=50), offset=12.5)
    else:
        p = datasets.set_cover(rng, rows=40, cols=80)
    first = solve(p, "scip", options={"limits/solutions": 1})
    lp = solve(replace(p, integrality=np.zeros(p.num_vars, dtype=bool)), "highs")
    ctx = Context(p, lp=lp.x)
    return p, ctx, first.x


def _inside(nb: Neighbourhood, x: np.ndarray) -> bool:
    ok = np.all(nb.lower <= x + 1e-9) and np.all(x <= nb.upper + 1e-9)
    for row in nb.rows:
        activity = row.coefs @ x[row.index]
        ok = ok and row.lower - 1e-9 <= activity <= row.upper + 1e-9
    return bool(ok)


#: Operators whose neighbourhood always contains the incumbent.
AROUND_INCUMBENT = ("mutation", "rins", "dins", "local_branching", "crossover", "constraint")


@pytest.mark.parametrize("name", ["setcover", "facility", "auction"])
@pytest.mark.parametrize("family", list(OPERATORS))
def test_every_operator_gives_a_valid_neighbourhood(name, family):
    p, ctx, x = _instance(name)
    ctx.remember(x)
    ctx.remember(np.round(ctx.lp) if family == "crossover" else x)
    operator, rates, _, _ = OPERATORS[family]
    for seed, rate in enumerate(rates):
        nb = operator(ctx, x, p.objective(x), rate, np.random.default_rng(seed))
        assert nb.lower.shape == nb.upper.shape == (p.num_vars,)
        assert np.all(nb.lower >= p.col_lower) and np.all(nb.upper <= p.col_upper)
        assert np.all(nb.lower <= nb.upper)
        continuous = ~p.integrality
        assert np.array_equal(nb.lower[continuous], p.col_lower[continuous])
        assert np.array_equal(nb.upper[continuous], p.col_upper[continuous])
        fixed = nb.lower == nb.upper
        assert np.all(nb.lower[fixed] == np.round(nb.lower[fixed]))
        if family in AROUND_INCUMBENT:
            assert _inside(nb, x), f"{family} excludes the incumbent"
        if family == "mutation":
            share = 1 - fixed[ctx.integer].mean()
            assert abs(share - ctx.rate(rate)) <= 1.5 / len(ctx.integer)


@pytest.mark.parametrize("backend", sorted(SUBSOLVERS))
@pytest.mark.parametrize("family", AROUND_INCUMBENT)
def test_sub_mips_around_the_incumbent_return_something_at_least_as_good(backend, family):
    p, ctx, x = _instance("facility")
    ctx.remember(x)
    operator, rates, _, _ = OPERATORS[family]
    value = p.objective(x)
    sub = SUBSOLVERS[backend](p, 0)
    seen = []
    nb = operator(ctx, x, value, rates[0], np.random.default_rng(1))
    attempt = sub.solve(
        nb, start=x, cutoff=value, time_limit=20, stop=lambda: False, found=seen.append
    )
    assert attempt.status == "optimal"
    assert attempt.x is not None and check(p, attempt.x).feasible
    assert p.objective(attempt.x) <= value + 1e-6
    assert _inside(nb, np.round(attempt.x, 6)) or not p.integrality.all()


@pytest.mark.parametrize("backend", sorted(SUBSOLVERS))
def test_the_cutoff_rejects_worse_repairs_and_the_model_is_reused(backend):
    p, ctx, x = _instance("auction")  # maximise: worse means smaller
    sub = SUBSOLVERS[backend](p, 0)
    best = sub.solve(None, start=None, cutoff=None, time_limit=20, stop=lambda: False,
                     found=lambda _: None)  # fmt: skip
    assert best.status == "optimal"
    optimum = p.objective(best.x)
    # Forbid the optimum: every bid it takes is fixed to 0. Only worse solutions remain.
    taken = np.flatnonzero(np.round(best.x) == 1)
    lower, upper = p.col_lower.copy(), p.col_upper.copy()
    upper[taken] = 0
    nb = Neighbourhood(lower, upper, free=p.num_vars - len(taken))
    worse = sub.solve(nb, start=None, cutoff=None, time_limit=20, stop=lambda: False,
                      found=lambda _: None)  # fmt: skip
    assert worse.x is not None and p.objective(worse.x) < optimum - 1e-6
    cut = sub.solve(nb, start=None, cutoff=optimum, time_limit=20, stop=lambda: False,
                    found=lambda _: None)  # fmt: skip
    assert cut.status == "infeasible" and cut.x is None
    again = sub.solve(None, start=None, cutoff=None, time_limit=20, stop=lambda: False,
                      found=lambda _: None)  # fmt: skip
    assert again.status == "optimal" and p.objective(again.x) == pytest.approx(optimum)


def test_proximity_demands_an_improvement_and_restores_the_objective():
    p, ctx, x = _instance("setcover")
    value = p.objective(x)
    nb = OPERATORS["proximity"][0](ctx, x, value, 0.001, np.random.default_rng(0))
    assert nb.objective is not None and not _inside(nb, x)
    sub = SUBSOLVERS["scip"](p, 0)
    attempt = sub.solve(nb, start=x, cutoff=value, time_limit=20, stop=lambda: False,
                        found=lambda _: None)  # fmt: skip
    assert attempt.x is not None and p.objective(attempt.x) <= value - 1  # integral costs
    full = sub.solve(None, start=None, cutoff=None, time_limit=20, stop=lambda: False,
                     found=lambda _: None)  # fmt: skip
    reference = solve(p, "highs")
    assert p.objective(full.x) == pytest.approx(reference.objective)


def test_improvement_row_follows_the_sense_and_the_offset():
    p, ctx, x = _instance("auction")
    value = p.objective(x)
    row = improvement_row(ctx, value, 2.0)
    assert row.upper == np.inf and row.lower == pytest.approx(value - p.offset + 2.0)
    assert row.coefs @ x[row.index] < row.lower


def test_portfolio_drops_what_does_not_apply():
    p, ctx, _ = _instance("facility")
    names = {arm.name.rsplit("-", 1)[0] for arm in portfolio(ctx, lp=False)}
    assert "rins" not in names and "rens" not in names and "dins" not in names
    assert {"mutation", "local_branching", "constraint"} <= names
    integer_only = replace(p, col_upper=np.where(p.integrality, 5.0, p.col_upper))
    general = Context(integer_only)
    assert not any(arm.needs_binaries for arm in portfolio(general))
