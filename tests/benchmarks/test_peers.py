"""External peers: SCIP on its own reader, and Balans when it is installed."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from hybridsolve import datasets
from hybridsolve.benchmarks.peers import PEERS, balans, scip_raw
from hybridsolve.mip import UsageError, check, solve, write


@pytest.fixture(scope="module")
def gisp():
    return datasets.generalized_independent_set(np.random.default_rng(3), nodes=30)


def test_scip_raw_reads_the_file_and_agrees_with_hybridsolve(gisp, tmp_path):
    expected = solve(gisp, "highs").objective
    from_memory = scip_raw(gisp, time_limit=60, seed=0, path=None)
    path = write(gisp, tmp_path / "g.mps.gz")
    from_file = scip_raw(gisp, time_limit=60, seed=0, path=str(path))
    for result in (from_memory, from_file):
        assert result.solver == "scip-raw" and result.status == "optimal"
        assert result.objective == pytest.approx(expected)
        assert check(gisp, result.x).feasible


@pytest.mark.skipif(importlib.util.find_spec("balans") is None, reason="balans not installed")
def test_balans_answer_is_mapped_back_and_certified(gisp):
    result = balans(gisp, time_limit=5, seed=0, path=None)
    assert result.status == "feasible" and result.dual_bound is None
    certificate = check(gisp, result.x)
    assert certificate.feasible and certificate.objective == pytest.approx(result.objective)
    assert result.trajectory[-1][1] == pytest.approx(result.objective)
    assert result.objective <= solve(gisp, "scip").objective + 1e-9  # maximisation


def test_balans_missing_is_a_clear_error(gisp, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_balans(name, *args, **kwargs):
        if name.startswith("balans"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_balans)
    with pytest.raises(UsageError, match="pip install balans"):
        balans(gisp, time_limit=1, seed=0, path=None)


def test_peer_names():
    assert set(PEERS) == {"scip-raw", "balans"}
