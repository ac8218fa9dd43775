"""The registry of named distributions: names, levels, splits, seeds, calibration figures."""

from __future__ import annotations

import numpy as np
import pytest

from hybridsolve import datasets
from hybridsolve.mip import UsageError


def test_names_are_domain_level_and_every_domain_has_every_level():
    names = datasets.distributions()
    assert len(names) == len(set(names)) >= 30
    domains = {}
    for name in names:
        d = datasets.get(name)
        assert name == f"{d.domain}-{d.level}"
        assert d.level in datasets.LEVELS
        domains.setdefault(d.domain, set()).add(d.level)
    assert all(levels == set(datasets.LEVELS) for levels in domains.values())
    for required in ("setcover", "cauctions", "facilities", "indset", "mvc", "gisp"):
        assert required in domains


def test_unknown_name_is_a_usage_error_with_suggestions():
    with pytest.raises(UsageError, match=r"unknown distribution 'setcover-eazy'.*setcover-easy"):
        datasets.get("setcover-eazy")
    with pytest.raises(UsageError, match="unknown distribution 'nonsense'"):
        datasets.get("nonsense")


def test_bad_split_index_or_seed_is_a_usage_error():
    d = datasets.get("mknapsack-easy")
    with pytest.raises(UsageError, match="unknown split 'training'"):
        d.instance("training")
    with pytest.raises(UsageError, match="must be >= 0"):
        d.instance("test", -1)


def _same(a, b) -> bool:
    return (
        np.array_equal(a.c, b.c)
        and a.A.shape == b.A.shape
        and (a.A != b.A).nnz == 0
        and np.array_equal(a.row_upper, b.row_upper)
    )


def test_splits_indices_and_seeds_give_distinct_reproducible_instances():
    d = datasets.get("mknapsack-easy")
    base = d.instance("test", 0)
    assert base.name == "mknapsack-easy-test-0000"
    assert _same(base, d.instance("test", 0))
    others = [d.instance("train", 0), d.instance("valid", 0), d.instance("test", 1)]
    others.append(d.instance("test", 0, seed=1))
    assert not any(_same(base, other) for other in others)


def test_distributions_of_the_same_generator_draw_different_streams():
    easy = datasets.get("setcover-easy").seed_sequence("test", 0)
    medium = datasets.get("setcover-medium").seed_sequence("test", 0)
    assert easy.generate_state(4).tolist() != medium.generate_state(4).tolist()


@pytest.mark.parametrize("name", datasets.distributions())
def test_every_distribution_generates_its_instances(name):
    problem = datasets.get(name).instance("valid", 3)
    assert problem.name == f"{name}-valid-0003"
    assert problem.num_vars > 0 and problem.num_cons > 0
    assert problem.integrality.any()


@pytest.mark.parametrize("name", datasets.distributions())
def test_recorded_calibration_matches_the_level(name):
    d = datasets.get(name)
    optimal, measured = d.solved
    assert measured >= 3 and d.median_seconds is not None
    if d.level == "easy":
        assert 5 * optimal >= 4 * measured and d.median_seconds < 10
    elif d.level == "medium":
        assert 2 * optimal >= measured and (d.median_seconds >= 10 or 5 * optimal < 4 * measured)
    else:
        assert 2 * optimal < measured


def test_calibration_text_names_its_command():
    assert "python -m hybridsolve.benchmarks.calibrate" in datasets.CALIBRATION
    for name in datasets.distributions():
        assert name in datasets.CALIBRATION
