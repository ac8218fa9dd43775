"""Shared fixtures: models built in code with known optima, and a hard model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from hybridsolve.mip import Problem

DATA = Path(__file__).parent / "data"


def market_split(m: int = 4, n: int = 40, seed: int = 1) -> Problem:
    """Cornuéjols & Dawande (1999) market split with slacks: feasible at once, very hard to close.

    ``min sum(s+ + s-)`` s.t. ``a x + s+ - s- = floor(sum(a)/2)``, ``x`` binary.
    """
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 100, size=(m, n))
    d = a.sum(axis=1) // 2
    A = sp.hstack([sp.csr_matrix(a), sp.eye(m), -sp.eye(m)]).tocsr()
    c = np.r_[np.zeros(n), np.ones(2 * m)]
    upper = np.r_[np.ones(n), np.full(2 * m, np.inf)]
    integer = np.r_[np.ones(n, dtype=bool), np.zeros(2 * m, dtype=bool)]
    return Problem.from_arrays(c, A, d, d, 0.0, upper, integer, name="msplit")


def knapsack(n: int = 15, seed: int = 3) -> tuple[Problem, float]:
    """A 0-1 maximisation knapsack and its optimum by enumeration of all 2**n subsets."""
    rng = np.random.default_rng(seed)
    w = rng.integers(5, 40, size=n)
    v = rng.integers(1, 60, size=n)
    cap = int(w.sum() // 3)
    subsets = (np.arange(2**n)[:, None] >> np.arange(n)) & 1
    feasible = subsets @ w <= cap
    best = float((subsets[feasible] @ v).max())
    problem = Problem.from_arrays(
        v, w[None, :], -np.inf, cap, 0, 1, True, sense="maximize", name="knapsack"
    )
    return problem, best


@pytest.fixture(scope="session")
def hard_problem() -> Problem:
    return market_split()


@pytest.fixture(scope="session")
def knapsack_problem() -> tuple[Problem, float]:
    return knapsack()


@pytest.fixture(scope="module")
def one_torch_thread():
    """Keep a module's torch work on one core (and leave torch's setting as it was)."""
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
