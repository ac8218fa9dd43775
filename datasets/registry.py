"""Named instance distributions ``<domain>-<level>`` with fixed parameters and seeds.

A distribution fixes a generator and its parameters; its instances are drawn from
reproducible seed streams, one per split, so ``train``, ``valid`` and ``test`` never share
an instance and the same (distribution, split, index, seed) always gives the same model.

Hardness levels follow Distributional MIPLIB (Huang et al. 2024), scaled to one small
machine: with SCIP on one thread, *easy* instances solve to optimality in under about
10 s, *medium* ones in about 10-100 s, and *hard* ones do not finish within 100 s.
The levels were measured, not guessed; see :data:`CALIBRATION` for the command and the
figures.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np

from hybridsolve.mip import Problem, UsageError

from .auctions import combinatorial_auction
from .facility import capacitated_facility_location
from .graphs import generalized_independent_set, independent_set, vertex_cover
from .knapsack import multidimensional_knapsack, multiple_knapsack
from .ml4co import item_placement, load_balancing
from .scheduling import total_tardiness
from .setcover import set_cover

__all__ = [
    "CALIBRATION",
    "LEVELS",
    "SPLITS",
    "Distribution",
    "distributions",
    "get",
]

#: The splits of every distribution, in the order of their seed streams.
SPLITS = ("train", "valid", "test")
#: Hardness levels, easiest first.
LEVELS = ("easy", "medium", "hard")

#: How the levels were measured, and the figures that put each distribution at its level.
CALIBRATION = """\
Command: python -m hybridsolve.benchmarks.calibrate NAME ... --n 5 --time-limit 100 --jobs 2
(--n 3 for the hard distributions). SCIP 10 via pyscipopt 6.3, one thread, seed 0,
relative gap 0, test split instances 0..n-1, each solve in a fresh process, two solves side
by side on the project's 2-core development machine (partly while other work ran, so the
times are a little pessimistic). Measured 2026-11-22/23. A run stopped by the limit counts
as 100 s.

distribution            vars   cons  median s  optimal  parameters
setcover-easy            1000    300      4.6    5/5   rows=300, cols=1000, density=0.05
setcover-medium          1000    650     18.3    4/5   rows=650, cols=1000, density=0.05
setcover-hard            1000   1000    100.0    1/3   rows=1000, cols=1000, density=0.05
cauctions-easy            400    153      2.2    5/5   items=80, bids=400
cauctions-medium         1000    388     63.1    4/5   items=200, bids=1000
cauctions-hard           2000    768    100.0    0/3   items=400, bids=2000
facilities-easy          1530   1581      2.4    5/5   customers=50, facilities=30
facilities-medium       10100  10201     27.7    4/5   customers=100, facilities=100
facilities-hard         30150  30351    100.0    0/3   customers=200, facilities=150
indset-easy               500   1697      3.0    5/5   nodes=500, affinity=4
indset-medium             700   2460     14.2    5/5   nodes=700, affinity=4
indset-hard              1500   5513    100.0    0/3   nodes=1500, affinity=4
mvc-easy                  500   2485      2.3    5/5   nodes=500, affinity=5
mvc-medium                680   4059     39.0    5/5   nodes=680, affinity=6
mvc-hard                 1000   7964    100.0    0/3   nodes=1000, affinity=8
gisp-easy                 204    537      0.7    5/5   nodes=60, probability=0.3
gisp-medium               454   1453     21.7    5/5   nodes=100, probability=0.3
gisp-hard                1022   3363    100.0    0/3   nodes=150, probability=0.3
mknapsack-easy            180     63      0.5    5/5   items=60, knapsacks=3
mknapsack-medium          500    105     11.2    3/5   items=100, knapsacks=5
mknapsack-hard           1500    160    100.0    0/3   items=150, knapsacks=10
mdknapsack-easy            50      5      1.5    5/5   items=50, knapsacks=5
mdknapsack-medium         150      5     21.3    5/5   items=150, knapsacks=5
mdknapsack-hard           250     10    100.0    0/3   items=250, knapsacks=10
loadbalancing-easy        320    620      1.2    5/5   workers=20, workloads=60
loadbalancing-medium     1050   2050     16.2    5/5   workers=50, workloads=200
loadbalancing-hard       2600   5100    100.0    0/3   workers=100, workloads=500
itemplacement-easy         44     30      0.4    5/5   items=12, bins=3, resources=2
itemplacement-medium       74     40     25.8    5/5   items=16, bins=4, resources=2
itemplacement-hard       1055    250    100.0    0/3   items=100, bins=10, resources=5
tardiness-easy            440     80      5.9    5/5   jobs=20
tardiness-medium          960    120     12.3    4/5   jobs=30
tardiness-hard           2600    200    100.0    0/3   jobs=50

Level rule (the one the calibrate script applies): easy = median under 10 s and at least
80% optimal; medium = not easy and at least half optimal; hard = fewer than half optimal.
mknapsack-medium is heavy-tailed (two of five instances time out, three solve in seconds).
mvc-easy was first registered with affinity 6 and measured at 10.7 s; it was re-sized to
affinity 5 and re-measured (the figure above).
"""


@dataclass(frozen=True, repr=False)
class Distribution:
    """A named distribution of MIP instances: a generator with fixed parameters.

    Attributes
    ----------
    name : str
        ``<domain>-<level>``, e.g. ``"setcover-easy"``.
    generator : callable
        ``generator(rng, **params) -> Problem``.
    params : mapping
        Keyword arguments that fix the instance size and shape.
    median_seconds : float or None
        Measured median SCIP solve time (capped at the 100 s limit), see
        :data:`CALIBRATION`.
    solved : tuple of int
        ``(optimal, measured)`` counts of the calibration run.
    """

    name: str
    generator: Callable[..., Problem]
    params: Mapping[str, Any] = field(default_factory=dict)
    median_seconds: float | None = None
    solved: tuple[int, int] = (0, 0)

    @property
    def domain(self) -> str:
        """The problem domain, e.g. ``"setcover"``."""
        return self.name.rsplit("-", 1)[0]

    @property
    def level(self) -> str:
        """The hardness level: ``"easy"``, ``"medium"`` or ``"hard"``."""
        return self.name.rsplit("-", 1)[1]

    def seed_sequence(self, split: str, index: int, seed: int = 0) -> np.random.SeedSequence:
        """The seed of one instance: distinct for every (name, split, index, seed).

        Parameters
        ----------
        split : {"train", "valid", "test"}
            Which split.
        index : int
            Position of the instance in the split, from 0.
        seed : int
            Base seed; 0 gives the published splits.

        Returns
        -------
        numpy.random.SeedSequence
        """
        if split not in SPLITS:
            raise UsageError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
        if index < 0 or seed < 0:
            raise UsageError(f"index and seed must be >= 0, got index={index}, seed={seed}")
        name_key = zlib.crc32(self.name.encode())
        return np.random.SeedSequence([seed, name_key, SPLITS.index(split), index])

    def instance(self, split: str = "test", index: int = 0, seed: int = 0) -> Problem:
        """Generate one instance of the distribution.

        Parameters
        ----------
        split : {"train", "valid", "test"}
            Which split.
        index : int
            Position of the instance in the split, from 0.
        seed : int
            Base seed; 0 gives the published splits.

        Returns
        -------
        Problem
            Named ``<distribution>-<split>-<index>`` (index with four digits).
        """
        rng = np.random.default_rng(self.seed_sequence(split, index, seed))
        problem = self.generator(rng, **self.params)
        return replace(problem, name=f"{self.name}-{split}-{index:04d}")

    def __repr__(self) -> str:
        params = ", ".join(f"{key}={value!r}" for key, value in self.params.items())
        return f"Distribution({self.name!r}, {self.generator.__name__}({params}))"


def _d(
    name: str, generator, median: float | None, solved: tuple[int, int], **params
) -> Distribution:
    return Distribution(name, generator, MappingProxyType(params), median, solved)


_REGISTRY: dict[str, Distribution] = {
    d.name: d
    for d in [
        _d("setcover-easy", set_cover, 4.6, (5, 5), rows=300, cols=1000, density=0.05),
        _d("setcover-medium", set_cover, 18.3, (4, 5), rows=650, cols=1000, density=0.05),
        _d("setcover-hard", set_cover, 100.0, (1, 3), rows=1000, cols=1000, density=0.05),
        _d("cauctions-easy", combinatorial_auction, 2.2, (5, 5), items=80, bids=400),
        _d("cauctions-medium", combinatorial_auction, 63.1, (4, 5), items=200, bids=1000),
        _d("cauctions-hard", combinatorial_auction, 100.0, (0, 3), items=400, bids=2000),
        _d("facilities-easy", capacitated_facility_location, 2.4, (5, 5),
           customers=50, facilities=30),
        _d("facilities-medium", capacitated_facility_location, 27.7, (4, 5),
           customers=100, facilities=100),
        _d("facilities-hard", capacitated_facility_location, 100.0, (0, 3),
           customers=200, facilities=150),
        _d("indset-easy", independent_set, 3.0, (5, 5), nodes=500, affinity=4),
        _d("indset-medium", independent_set, 14.2, (5, 5), nodes=700, affinity=4),
        _d("indset-hard", independent_set, 100.0, (0, 3), nodes=1500, affinity=4),
        _d("mvc-easy", vertex_cover, 2.3, (5, 5), nodes=500, affinity=5),
        _d("mvc-medium", vertex_cover, 39.0, (5, 5), nodes=680, affinity=6),
        _d("mvc-hard", vertex_cover, 100.0, (0, 3), nodes=1000, affinity=8),
        _d("gisp-easy", generalized_independent_set, 0.7, (5, 5), nodes=60, probability=0.3),
        _d("gisp-medium", generalized_independent_set, 21.7, (5, 5), nodes=100, probability=0.3),
        _d("gisp-hard", generalized_independent_set, 100.0, (0, 3), nodes=150, probability=0.3),
        _d("mknapsack-easy", multiple_knapsack, 0.5, (5, 5), items=60, knapsacks=3),
        _d("mknapsack-medium", multiple_knapsack, 11.2, (3, 5), items=100, knapsacks=5),
        _d("mknapsack-hard", multiple_knapsack, 100.0, (0, 3), items=150, knapsacks=10),
        _d("mdknapsack-easy", multidimensional_knapsack, 1.5, (5, 5), items=50, knapsacks=5),
        _d("mdknapsack-medium", multidimensional_knapsack, 21.3, (5, 5), items=150, knapsacks=5),
        _d("mdknapsack-hard", multidimensional_knapsack, 100.0, (0, 3), items=250, knapsacks=10),
        _d("loadbalancing-easy", load_balancing, 1.2, (5, 5), workers=20, workloads=60),
        _d("loadbalancing-medium", load_balancing, 16.2, (5, 5), workers=50, workloads=200),
        _d("loadbalancing-hard", load_balancing, 100.0, (0, 3), workers=100, workloads=500),
        _d("itemplacement-easy", item_placement, 0.4, (5, 5), items=12, bins=3, resources=2),
        _d("itemplacement-medium", item_placement, 25.8, (5, 5), items=16, bins=4, resources=2),
        _d("itemplacement-hard", item_placement, 100.0, (0, 3), items=100, bins=10, resources=5),
        _d("tardiness-easy", total_tardiness, 5.9, (5, 5), jobs=20),
        _d("tardiness-medium", total_tardiness, 12.3, (4, 5), jobs=30),
        _d("tardiness-hard", total_tardiness, 100.0, (0, 3), jobs=50),
    ]
}  # fmt: skip


def distributions() -> list[str]:
    """Names of all registered distributions, grouped by domain, easiest level first.

    Returns
    -------
    list of str
    """
    return list(_REGISTRY)


def get(name: str) -> Distribution:
    """The registered distribution called ``name``.

    Parameters
    ----------
    name : str
        ``<domain>-<level>``; see :func:`distributions`.

    Returns
    -------
    Distribution

    Raises
    ------
    UsageError
        For an unknown name (the message lists close matches).
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(name, _REGISTRY, n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(
            f"unknown distribution {name!r}{hint} (`hybridsolve generate --list` lists them)"
        ) from None
