"""LB-RELAX and the graded LP disagreement: the local-branching LP, scores, fallbacks."""

from __future__ import annotations

import pickle
from dataclasses import replace
from functools import cache

import numpy as np
import pytest
import scipy.sparse as sp

import hybridsolve
from hybridsolve import datasets
from hybridsolve.lns import Context
from hybridsolve.lns.operators import disagreement, lb_relax
from hybridsolve.mip import Problem, check, solve


@cache
def _instance(name: str) -> tuple[Problem, np.ndarray, np.ndarray]:
    """A small model (``"max"``: a maximisation with an offset), a first feasible solution
    and the root LP optimum."""
    if name == "max":
        p = replace(datasets.get("indset-easy").instance(), offset=12.5)
    elif name == "general":  # no binaries: integers in [0, 5]
        p = datasets.get("setcover-easy").instance()
        p = replace(p, col_upper=np.where(p.integrality, 5.0, p.col_upper))
    else:
        p = datasets.get(name).instance()
    first = solve(p, "scip", options={"limits/solutions": 1})
    lp = solve(replace(p, integrality=np.zeros(p.num_vars, dtype=bool)), "highs")
    return p, first.x, lp.x


def _context(name: str) -> tuple[Problem, Context, np.ndarray]:
    p, x, lp = _instance(name)
    return p, Context(p, lp=lp), x


def _size(ctx: Context, rate: float) -> int:
    return max(1, int(round(ctx.rate(rate) * len(ctx.integer))))


def _freed(ctx: Context, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Mask over ``ctx.integer``: the integer variables left free."""
    return upper[ctx.integer] > lower[ctx.integer]


def _with_row(ctx: Context, x: np.ndarray, k: int) -> Problem:
    """The LP relaxation plus the local-branching row, written out independently."""
    p = ctx.problem
    b = ctx.binary
    ones = np.round(x[b]) >= 0.5
    row = np.zeros(p.num_vars)
    row[b] = np.where(ones, -1.0, 1.0)
    return replace(
        p,
        A=sp.vstack([p.A, sp.csr_matrix(row)]).tocsr(),
        row_lower=np.r_[p.row_lower, -np.inf],
        row_upper=np.r_[p.row_upper, k - ones.sum()],
        con_names=(*p.con_names, "local_branching"),
        integrality=np.zeros(p.num_vars, dtype=bool),
    )


@pytest.mark.parametrize("name", ["setcover-easy", "max", "gisp-easy"])
def test_lb_relax_frees_k_variables_around_the_incumbent(name):
    p, ctx, x = _context(name)
    for seed, rate in enumerate((0.1, 0.3)):
        nb = lb_relax(ctx, x, p.objective(x), rate, np.random.default_rng(seed))
        assert nb.contains(x)
        k = _size(ctx, rate)
        assert nb.free == k == _freed(ctx, nb.lower, nb.upper).sum()
        continuous = ~p.integrality
        assert np.array_equal(nb.lower[continuous], p.col_lower[continuous])
        assert np.array_equal(nb.upper[continuous], p.col_upper[continuous])


@pytest.mark.parametrize("name", ["setcover-easy", "max", "gisp-easy"])
def test_lb_relax_frees_first_where_the_local_branching_lp_moves(name):
    p, ctx, x = _context(name)
    rate = 0.1
    k = _size(ctx, rate)
    nb = lb_relax(ctx, x, p.objective(x), rate, np.random.default_rng(0))
    lp = ctx.local_branching_lp().solve(x, k, 10.0)
    assert lp is not None
    # lp is an optimum of the local-branching LP: feasible for it, with the optimal value
    relaxed = _with_row(ctx, x, k)
    reference = solve(relaxed, "highs")
    assert check(relaxed, lp).feasible
    assert relaxed.objective(lp) == pytest.approx(reference.objective, rel=1e-7, abs=1e-6)
    gain = relaxed.objective(lp) - p.objective(x)  # the incumbent is feasible for it
    assert (gain if p.maximize else -gain) >= -1e-6
    hamming = np.abs(lp[ctx.binary] - np.round(x[ctx.binary])).sum()
    assert hamming <= k + 1e-6
    idx = ctx.integer
    score = np.abs(lp[idx] - x[idx])
    freed = _freed(ctx, nb.lower, nb.upper)
    moved = score > 1e-6
    assert moved.any()
    if moved.sum() <= k:  # every variable the LP moves is freed, random ones fill up
        assert np.all(freed[moved])
    else:  # the k largest moves
        assert np.all(moved[freed])
    assert score[freed].min() >= score[~freed].max() - 1e-9


def test_the_local_branching_lp_is_built_once_and_warm_started():
    p, ctx, x = _context("setcover-easy")
    lb = ctx.local_branching_lp()
    other = solve(p, "scip", options={"limits/solutions": 3}).x
    for seed, (y, rate) in enumerate([(x, 0.1), (other, 0.3), (x, 0.2)]):
        nb = lb_relax(ctx, y, p.objective(y), rate, np.random.default_rng(seed))
        assert nb.contains(y)
        assert ctx.local_branching_lp() is lb
        assert lb.highs.getNumRow() == p.num_cons + 1
    k = _size(ctx, 0.2)
    assert lb.solve(x, k, 10.0) is not None
    assert lb.highs.getInfo().simplex_iteration_count == 0  # the last basis is optimal
    copy = pickle.loads(pickle.dumps(ctx))
    assert copy._lb_lp is None and ctx.local_branching_lp() is lb
    assert copy.local_branching_lp().solve(x, k, 10.0) is not None


def test_the_same_seed_gives_the_same_neighbourhood():
    p, _, x = _context("gisp-easy")
    a, b = (
        lb_relax(Context(p), x, p.objective(x), 0.3, np.random.default_rng(5)) for _ in range(2)
    )
    assert np.array_equal(a.lower, b.lower) and np.array_equal(a.upper, b.upper)


def test_a_failed_lp_falls_back_to_a_random_order():
    p, ctx, x = _context("setcover-easy")
    ctx.relax_time = 0.0
    k = _size(ctx, 0.1)
    assert ctx.local_branching_lp().solve(x, k, ctx.relax_time) is None
    nb = lb_relax(ctx, x, p.objective(x), 0.1, np.random.default_rng(3))
    assert nb.contains(x) and nb.free == k
    order = np.random.default_rng(3).permutation(ctx.integer)
    mutation = ctx.fixing(x, np.sort(order[k:]))
    assert np.array_equal(nb.lower, mutation.lower) and np.array_equal(nb.upper, mutation.upper)


def test_without_binaries_the_root_lp_scores_or_the_order_is_random():
    p, ctx, x = _context("general")
    assert len(ctx.binary) == 0 and len(ctx.integer)
    k = _size(ctx, 0.1)
    nb = lb_relax(ctx, x, p.objective(x), 0.1, np.random.default_rng(0))
    assert ctx._lb_lp is None and nb.contains(x) and nb.free == k
    idx = ctx.integer
    score = np.abs(ctx.lp[idx] - x[idx])
    freed = _freed(ctx, nb.lower, nb.upper)
    assert score[freed].min() >= score[~freed].max() - 1e-9
    ctx.lp = None
    nb = lb_relax(ctx, x, p.objective(x), 0.1, np.random.default_rng(0))
    assert nb.contains(x) and nb.free == k


@pytest.mark.parametrize("name", ["setcover-easy", "max"])
def test_disagreement_frees_the_largest_lp_distance_first(name):
    p, ctx, x = _context(name)
    idx = ctx.integer
    score = np.abs(ctx.lp[idx] - x[idx])
    for scale in (1.0, 2.0):
        ctx.scale = scale
        nb = disagreement(ctx, x, p.objective(x), 0.1, np.random.default_rng(1))
        assert nb.contains(x)
        freed = _freed(ctx, nb.lower, nb.upper)
        assert freed.sum() == nb.free == int(round(ctx.rate(0.1) * len(idx)))
        assert score[freed].min() >= score[~freed].max() - 1e-9


def test_lns_with_lb_relax_returns_a_certified_solution():
    p = datasets.get("indset-easy").instance()
    # one improving solution ends HiGHS's first run, so the LNS iterations do run
    options = {"operators": "lb_relax", "tree": False, "iterations": 6, "backend": "highs",
               "mip_max_improving_sols": 1}  # fmt: skip
    result = hybridsolve.solve(p, "lns", time_limit=None, options=options)
    assert result.x is not None and check(p, result.x).feasible
    first = result.trajectory[0][1]
    assert result.objective >= first - 1e-6  # maximise
    pulls = {name: s["pulls"] for name, s in result.stats["operators"].items()}
    assert all(name.startswith("lb_relax") for name in pulls) and sum(pulls.values()) == 6
