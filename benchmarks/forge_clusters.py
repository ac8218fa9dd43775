"""Do FORGE embeddings cluster MIP instances by domain? Against a size/type statistics baseline.

Run ``python -m hybridsolve.benchmarks.forge_clusters [--per-distribution N]
[--distributions NAME,...] [--folder DIR ...] [--weights NAME_OR_PATH] [--device auto]
[--unseen N] [--restarts R] [--seed S] [--json OUT]``.

Instances. The first ``N`` instances (default 10) of the *test* split of every registered
distribution (:func:`hybridsolve.datasets.registry.distributions`), or of the named ones:
pretraining (``hybridsolve train forge``) draws from the train splits only, so none of these
was seen by the model. Each is labelled by its distribution's domain (``setcover``) and by
domain and level (``setcover-easy``). Every ``--folder DIR`` adds the MPS/LP files in it
(``.mps``, ``.lp``, gzipped too; read with :func:`hybridsolve.mip.read`), labelled by the
folder's name, which is then both its domain and its domain-and-level label.

Features, one vector per instance:

- ``forge vector``, ``forge histogram``, ``forge pooled``: the three instance-level fields
  of :func:`hybridsolve.neural.forge.embed_many`'s embeddings (``Embedding.vector``, the
  normalised histogram of code assignments and the pooled continuous embedding), as the
  model returns them (no rescaling);
- ``statistics``: the plain size, density and type statistics of :data:`STATISTICS`
  (numbers of variables, constraints and nonzeros, density, fractions of binary / general
  integer / continuous variables, of equality / ``<=`` / ``>=`` / ranged rows, objective
  sense, row and column degree statistics, coefficient, objective, right-hand side and
  bound statistics), standardised over the clustered instances (z-scores);
- ``stats w/o size``: the same without the six that grow with the instance's size
  (:data:`SIZE_STATISTICS`): whether the domains differ in more than their sizes, which are
  fixed per registered distribution.

Clustering. KMeans (scikit-learn, ``--restarts`` initialisations, the best inertia kept,
``random_state = --seed``) with ``k`` = the number of domains, scored by normalised mutual
information (arithmetic mean normalisation) and purity against the domain labels and against
the domain-and-level labels; a second KMeans with ``k`` = the number of domain-and-level
labels is scored against those labels. Purity is the share of instances whose cluster's most
frequent label is their own (1 for a perfect clustering; with fewer clusters than labels it
cannot reach 1).

Unseen generator. :func:`location_set_cover` writes set covering instances of a kind no
registered distribution produces (Toregas et al. 1971's location set covering: demand points
drawn around a few towns, candidate sites uniform in the square, a site covers the points
within a radius, site costs that rise towards the towns; sizes, radius and so density drawn
per instance). ``--unseen`` of them (default 10) are embedded and assigned to the nearest
centre of the domain clustering (they do not move the centres); the table gives the share
of them placed in the cluster that holds most of the ``setcover`` test instances.

Time. Each instance is embedded alone (``embed_many([problem])``) after one warm-up call
(weights loading, first-call costs), so the median and total wall-clock seconds per instance
are printed for FORGE and for the statistics; generating or reading the instances is not
timed.

Targets of issue 13: by domain, the FORGE embedding's NMI is at least :data:`NMI_TARGET` and
at least :data:`MARGIN` above the statistics baseline's; at least :data:`UNSEEN_TARGET` of
the unseen-generator instances land in their domain's cluster. The verdict lines use
``forge vector``, the embedding ``hybridsolve embed`` prints, and quote the other views.

``--json OUT`` writes the settings, the weights' manifest entry, every row, the per-instance
labels, cluster assignments and timings, and the verdicts.

References
----------
C. Toregas, R. Swain, C. ReVelle and L. Bergman, "The location of emergency service
facilities", Operations Research 19 (1971), 1363-1373.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from hybridsolve.mip import Problem
from hybridsolve.mip.errors import InputError, UsageError

from .arguments import Parser, non_negative, positive, run_main

__all__ = [
    "MARGIN",
    "NMI_TARGET",
    "STATISTICS",
    "UNSEEN_TARGET",
    "FeatureRow",
    "Item",
    "Measurement",
    "cluster",
    "folder_items",
    "location_set_cover",
    "main",
    "measure",
    "nmi",
    "purity",
    "statistics",
    "registry_items",
    "unseen_items",
]

PROG = "python -m hybridsolve.benchmarks.forge_clusters"
#: The instance-level fields of an embedding that are clustered, in table order.
VIEWS = ("vector", "histogram", "pooled")
#: Issue 13's target: NMI by domain of the FORGE embedding on the test splits.
NMI_TARGET = 0.9
#: "Clearly above the statistics baseline": the least NMI difference that counts.
MARGIN = 0.05
#: Least share of the unseen-generator instances that must land in their domain's cluster.
UNSEEN_TARGET = 0.9
#: The domain of the unseen generator's instances.
UNSEEN_DOMAIN = "setcover"
#: Second entry of the unseen generator's seed sequence ``[seed, UNSEEN_STREAM]``.
UNSEEN_STREAM = 13
#: MPS/LP file suffixes picked up in a ``--folder``.
SUFFIXES = (".mps", ".lp", ".mps.gz", ".lp.gz")
#: Names of the statistics features, in column order.
STATISTICS = (
    "log_vars",
    "log_cons",
    "log_nonzeros",
    "density",
    "binary",
    "general_integer",
    "continuous",
    "equality_rows",
    "less_equal_rows",
    "greater_equal_rows",
    "ranged_rows",
    "maximize",
    "row_degree_mean",  # log(1 + mean)
    "row_degree_cv",
    "row_degree_max_ratio",  # log(max / mean)
    "col_degree_mean",
    "col_degree_cv",
    "col_degree_max_ratio",
    "coef_log_abs_mean",
    "coef_log_abs_std",
    "coef_negative",
    "coef_unit",  # |a| == 1
    "coef_distinct",  # log(1 + distinct |a| values)
    "obj_nonzero",
    "obj_log_abs_mean",
    "obj_log_abs_std",
    "obj_negative",  # in minimisation sense
    "rhs_log_abs_mean",  # finite row bounds
    "rhs_log_abs_std",
    "rhs_zero",
    "col_upper_finite",
    "col_lower_nonzero",
)
#: The statistics that grow with the instance's size, left out of the ``stats w/o size`` row.
SIZE_STATISTICS = (
    "log_vars",
    "log_cons",
    "log_nonzeros",
    "density",
    "row_degree_mean",
    "col_degree_mean",
)

#: ``embed(problems) -> embeddings``: objects with (at least) the attributes in ``VIEWS``.
Embedder = Callable[[Sequence[Problem]], Sequence[Any]]


@dataclass(frozen=True)
class Item:
    """One instance and its labels.

    Attributes
    ----------
    problem : Problem
        The model.
    domain : str
        Its domain label (a registered domain, or a folder's name).
    level : str
        Its hardness level; ``""`` where it has none (folders, the unseen generator).
    source : str
        Where it came from: a distribution name, a file path or ``"unseen"``.
    """

    problem: Problem
    domain: str
    level: str = ""
    source: str = ""

    @property
    def label(self) -> str:
        """The domain-and-level label, e.g. ``"setcover-easy"`` (the domain alone without level)."""
        return f"{self.domain}-{self.level}" if self.level else self.domain


# ------------------------------------------------------------------ instances


def registry_items(per_distribution: int, names: Sequence[str] | None = None) -> list[Item]:
    """The first ``per_distribution`` test-split instances of each named distribution.

    Parameters
    ----------
    per_distribution : int
        Instances per distribution (indices ``0 .. N-1`` of the published test split).
    names : sequence of str, optional
        Distribution names; all registered ones when omitted.

    Returns
    -------
    list of Item
    """
    from hybridsolve.datasets import registry

    items = []
    for name in registry.distributions() if names is None else names:
        dist = registry.get(name)
        for index in range(per_distribution):
            problem = dist.instance("test", index)
            items.append(Item(problem, dist.domain, dist.level, dist.name))
    return items


def folder_items(folder: str | Path) -> list[Item]:
    """The MPS/LP files directly inside ``folder``, labelled by the folder's name.

    Raises
    ------
    InputError
        When ``folder`` is not a folder, holds no model file, or a file cannot be read.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder")
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.name.lower().endswith(SUFFIXES))
    if not files:
        raise InputError(f"{folder}: no {', '.join(SUFFIXES)} files in it")
    from hybridsolve.mip import read

    label = folder.resolve().name
    return [Item(read(path), label, "", str(path)) for path in files]


def location_set_cover(
    rng: np.random.Generator,
    points: int = 400,
    sites: int = 800,
    radius: float = 0.09,
    towns: int = 4,
) -> Problem:
    """A location set covering problem (Toregas et al. 1971) on random points and sites.

    ``points`` demand points are drawn around ``towns`` centres (Gaussian, spread 0.08-0.2,
    70%) and uniformly (30%) in the unit square; ``sites`` candidate sites are uniform in
    it. Site ``j`` covers point ``i`` when they are at most ``radius`` apart; a point no
    site reaches is covered by its nearest site. Site ``j`` costs
    ``round(10 + 90 exp(-d_j^2 / 0.045) + U{0..9})`` with ``d_j`` its distance to the
    nearest town: land is dear near the towns. ``min c x`` s.t. ``A x >= 1``, ``x`` binary.

    Unlike the registered set cover (Balas & Ho: uniform random 0-1 matrix, every column
    the same expected size, costs uniform in 1-100 and independent of the column), rows and
    columns here have spatially correlated, uneven degrees and costs follow the location.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    points, sites : int
        Rows (points to cover) and columns (candidate sites).
    radius : float
        Coverage radius in the unit square.
    towns : int
        Number of town centres the points crowd around.

    Returns
    -------
    Problem
    """
    centres = rng.random((towns, 2))
    near = rng.random(points) < 0.7
    town = rng.integers(0, towns, size=points)
    spread = rng.uniform(0.08, 0.2, size=towns)
    xy = np.where(
        near[:, None],
        centres[town] + rng.normal(size=(points, 2)) * spread[town, None],
        rng.random((points, 2)),
    )
    xy = np.clip(xy, 0.0, 1.0)
    site_xy = rng.random((sites, 2))
    distance = np.linalg.norm(xy[:, None, :] - site_xy[None, :, :], axis=2)
    cover = distance <= radius
    lonely = ~cover.any(axis=1)
    cover[np.flatnonzero(lonely), distance[lonely].argmin(axis=1)] = True
    to_town = np.linalg.norm(site_xy[:, None, :] - centres[None, :, :], axis=2).min(axis=1)
    cost = np.round(10 + 90 * np.exp(-(to_town**2) / 0.045)) + rng.integers(0, 10, size=sites)
    return Problem.from_arrays(
        cost, sp.csr_matrix(cover, dtype=np.float64), 1.0, np.inf, 0.0, 1.0, True,
        name=f"lscp-{points}x{sites}",
    )  # fmt: skip


def unseen_items(count: int, seed: int = 0) -> list[Item]:
    """``count`` :func:`location_set_cover` instances of varied size, radius and towns.

    Drawn one after the other from ``numpy.random.default_rng([seed, UNSEEN_STREAM])``:
    points 200-600, sites 400-1200, radius 0.06-0.12, towns 2-6.
    """
    rng = np.random.default_rng([seed, UNSEEN_STREAM])
    items = []
    for index in range(count):
        points, sites = int(rng.integers(200, 601)), int(rng.integers(400, 1201))
        radius, towns = float(rng.uniform(0.06, 0.12)), int(rng.integers(2, 7))
        problem = location_set_cover(rng, points, sites, radius, towns)
        problem = replace(problem, name=f"unseen-lscp-{index:04d}")
        items.append(Item(problem, UNSEEN_DOMAIN, "", "unseen"))
    return items


# ------------------------------------------------------------------ features and scores


def _log_stats(values: np.ndarray) -> tuple[float, float]:
    """Mean and standard deviation of ``log10 |v|`` over the nonzero ``v`` (0, 0 for none)."""
    values = np.abs(values[values != 0])
    if not values.size:
        return 0.0, 0.0
    logs = np.log10(values)
    return float(logs.mean()), float(logs.std())


def _degree_stats(degree: np.ndarray) -> tuple[float, float, float]:
    """``log(1 + mean)``, coefficient of variation and ``log(max / mean)`` of degrees."""
    if not degree.size or degree.mean() == 0:
        return 0.0, 0.0, 0.0
    mean = float(degree.mean())
    return float(np.log1p(mean)), float(degree.std() / mean), float(np.log(degree.max() / mean))


def statistics(problem: Problem) -> np.ndarray:
    """The plain size, density and type statistics of ``problem``, named in :data:`STATISTICS`.

    Returns
    -------
    numpy.ndarray
        ``float64`` vector of ``len(STATISTICS)`` entries.
    """
    A = problem.A
    m, n, nnz = problem.num_cons, problem.num_vars, A.nnz
    integer = problem.integrality
    lo, hi = problem.col_lower, problem.col_upper
    binary = integer & (lo > -1.0 + 1e-6) & (hi < 2.0 - 1e-6)
    rl, ru = problem.row_lower, problem.row_upper
    has_l, has_u = np.isfinite(rl), np.isfinite(ru)
    equal = has_l & has_u & (rl == ru)
    rows = max(m, 1)
    cost = -problem.c if problem.maximize else problem.c
    rhs = np.concatenate([rl[has_l], ru[has_u & ~equal]])
    magnitudes = np.abs(A.data)
    features = [
        np.log1p(n),
        np.log1p(m),
        np.log1p(nnz),
        nnz / max(m * n, 1),
        binary.mean() if n else 0.0,
        (integer & ~binary).mean() if n else 0.0,
        (~integer).mean() if n else 0.0,
        equal.sum() / rows,
        (has_u & ~has_l).sum() / rows,
        (has_l & ~has_u).sum() / rows,
        (has_l & has_u & ~equal).sum() / rows,
        float(problem.maximize),
        *_degree_stats(np.diff(A.indptr).astype(np.float64)),
        *_degree_stats(np.bincount(A.indices, minlength=n).astype(np.float64)),
        *_log_stats(A.data),
        (A.data < 0).mean() if nnz else 0.0,
        (magnitudes == 1.0).mean() if nnz else 0.0,
        np.log1p(np.unique(magnitudes).size),
        (cost != 0).mean() if n else 0.0,
        *_log_stats(cost),
        (cost < 0).mean() if n else 0.0,
        *_log_stats(rhs),
        (rhs == 0).mean() if rhs.size else 0.0,
        np.isfinite(hi).mean() if n else 0.0,
        (lo != 0).mean() if n else 0.0,
    ]
    return np.asarray(features, dtype=np.float64)


def standardise(
    features: np.ndarray, reference: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Z-scores of ``features`` (rows) by the mean and deviation of ``reference``'s columns.

    Constant columns are only centred. Returns the scaled ``features`` and ``reference``.
    """
    reference = features if reference is None else reference
    mean, std = reference.mean(axis=0), reference.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (features - mean) / std, (reference - mean) / std


def purity(assigned: Sequence[Any], truth: Sequence[Any]) -> float:
    """Share of items whose cluster's most frequent true label is their own.

    Parameters
    ----------
    assigned, truth : sequence
        Cluster of each item and its true label (any hashables).

    Returns
    -------
    float
        In ``(0, 1]``; 1 when every cluster holds one label only.
    """
    if len(assigned) != len(truth) or not len(truth):
        raise ValueError("purity needs two label sequences of the same positive length")
    clusters: dict[Any, Counter] = {}
    for cluster_id, label in zip(assigned, truth):
        clusters.setdefault(cluster_id, Counter())[label] += 1
    return sum(max(counts.values()) for counts in clusters.values()) / len(truth)


def nmi(assigned: Sequence[Any], truth: Sequence[Any]) -> float:
    """Normalised mutual information (arithmetic normalisation) of two labellings."""
    from sklearn.metrics import normalized_mutual_info_score

    return float(normalized_mutual_info_score(list(truth), list(assigned)))


def cluster(features: np.ndarray, k: int, *, seed: int = 0, restarts: int = 10) -> Any:
    """KMeans with ``k`` clusters fitted on ``features``: the best of ``restarts`` runs.

    Returns
    -------
    sklearn.cluster.KMeans
        Fitted; ``labels_`` are the clusters, ``predict`` assigns new rows.
    """
    from sklearn.cluster import KMeans

    k = max(1, min(k, len(features)))
    return KMeans(n_clusters=k, n_init=restarts, random_state=seed).fit(features)


# ------------------------------------------------------------------ measurement


@dataclass(frozen=True)
class FeatureRow:
    """The clustering scores of one feature set.

    Attributes
    ----------
    features : str
        ``"forge vector"``, ``"forge histogram"``, ``"forge pooled"``, ``"statistics"`` or
        ``"stats w/o size"``.
    dim : int
        Length of the feature vectors.
    nmi_domain, purity_domain : float
        KMeans with ``k`` = domains, against the domain labels.
    nmi_level, purity_level : float
        The same clustering against the domain-and-level labels.
    nmi_level_k, purity_level_k : float
        KMeans with ``k`` = domain-and-level labels, against those labels.
    unseen_hits, unseen_count : int
        Unseen-generator instances assigned to their domain's cluster, and how many there
        were (0 when none).
    clusters : tuple of int
        The domain clustering's cluster of each clustered instance.
    unseen_clusters : tuple of int
        The cluster each unseen-generator instance was assigned to.
    home : int or None
        The cluster holding most of the unseen domain's clustered instances.
    home_share : float or None
        The share of the home cluster's clustered instances that are of that domain (below 1
        where the cluster mixes domains, which makes landing in it easier).
    """

    features: str
    dim: int
    nmi_domain: float
    purity_domain: float
    nmi_level: float
    purity_level: float
    nmi_level_k: float
    purity_level_k: float
    unseen_hits: int = 0
    unseen_count: int = 0
    clusters: tuple[int, ...] = ()
    unseen_clusters: tuple[int, ...] = ()
    home: int | None = None
    home_share: float | None = None

    @property
    def unseen_share(self) -> float | None:
        """Share of unseen instances in their domain's cluster (``None`` without any)."""
        return self.unseen_hits / self.unseen_count if self.unseen_count else None

    def line(self) -> str:
        """The row as printed."""
        unseen = "-" if not self.unseen_count else f"{self.unseen_hits}/{self.unseen_count}"
        return (
            f"  {self.features:16} {self.dim:>5} {self.nmi_domain:>8.3f} {self.purity_domain:>7.3f}"
            f" {self.nmi_level:>8.3f} {self.purity_level:>7.3f} {self.nmi_level_k:>8.3f}"
            f" {self.purity_level_k:>7.3f} {unseen:>8}"
        )

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return {
            "features": self.features,
            "dim": self.dim,
            "nmi_domain": self.nmi_domain,
            "purity_domain": self.purity_domain,
            "nmi_level": self.nmi_level,
            "purity_level": self.purity_level,
            "nmi_level_k": self.nmi_level_k,
            "purity_level_k": self.purity_level_k,
            "unseen_hits": self.unseen_hits,
            "unseen_count": self.unseen_count,
            "unseen_share": self.unseen_share,
            "home": self.home,
            "home_share": self.home_share,
            "clusters": list(self.clusters),
            "unseen_clusters": list(self.unseen_clusters),
        }


def header(domains: int, levels: int) -> str:
    """The table's two header lines for ``domains`` and ``levels`` (domain-and-level) labels."""
    first = (
        f"  {'':16} {'':>5} {f'k={domains}: by domain':>16} {f'k={domains}: by level':>16}"
        f" {f'k={levels}: by level':>16} {'unseen':>8}"
    )
    second = (
        f"  {'features':16} {'dim':>5} {'NMI':>8} {'purity':>7} {'NMI':>8} {'purity':>7}"
        f" {'NMI':>8} {'purity':>7} {'in home':>8}"
    )
    return f"{first}\n{second}"


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of computing one feature source, per instance."""

    source: str
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return float(np.median(self.seconds)) if self.seconds else 0.0

    @property
    def total(self) -> float:
        return float(np.sum(self.seconds))

    def line(self) -> str:
        """The timing as printed."""
        return (
            f"  {self.source:10} median {self.median:.4f} s/instance, total {self.total:.2f} s"
            f" over {len(self.seconds)} instances"
        )


@dataclass(frozen=True)
class Measurement:
    """Everything one run measured."""

    items: tuple[Item, ...]
    unseen: tuple[Item, ...]
    rows: tuple[FeatureRow, ...]
    timings: tuple[Timing, ...]
    domains: tuple[str, ...]
    labels: tuple[str, ...]
    verdicts: tuple[str, ...] = field(default=())

    def row(self, features: str) -> FeatureRow:
        """The row of ``features`` (``"forge vector"``, ``"statistics"``, ...)."""
        for row in self.rows:
            if row.features == features:
                return row
        raise KeyError(features)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields, per-instance labels and times included."""
        timing = {t.source: t for t in self.timings}
        return {
            "domains": list(self.domains),
            "labels": list(self.labels),
            "rows": [row.to_dict() for row in self.rows],
            "timings": {t.source: {"median": t.median, "total": t.total} for t in self.timings},
            "instances": [
                {
                    "name": it.problem.name,
                    "domain": it.domain,
                    "level": it.level,
                    "source": it.source,
                    "vars": it.problem.num_vars,
                    "cons": it.problem.num_cons,
                    "nonzeros": int(it.problem.A.nnz),
                    **{f"{s}_seconds": t.seconds[i] for s, t in timing.items()},
                }
                for i, it in enumerate(self.items)
            ],  # fmt: skip
            "unseen": [
                {
                    "name": it.problem.name,
                    "domain": it.domain,
                    "vars": it.problem.num_vars,
                    "cons": it.problem.num_cons,
                    "nonzeros": int(it.problem.A.nnz),
                }
                for it in self.unseen
            ],  # fmt: skip
            "verdicts": list(self.verdicts),
        }


def _timed_features(
    items: Sequence[Item], compute: Callable[[Problem], Any]
) -> tuple[list[Any], list[float]]:
    out, seconds = [], []
    for item in items:
        start = time.perf_counter()
        out.append(compute(item.problem))
        seconds.append(time.perf_counter() - start)
    return out, seconds


def _stack(values: Sequence[Any], what: str) -> np.ndarray:
    arrays = [np.asarray(v, dtype=np.float64).ravel() for v in values]
    sizes = {a.size for a in arrays}
    if len(sizes) != 1:
        raise ValueError(f"{what}: vectors of different lengths {sorted(sizes)}")
    matrix = np.vstack(arrays)
    if not np.isfinite(matrix).all():
        raise ValueError(f"{what}: NaN or infinite entries")
    return matrix


def _score(
    name: str,
    features: np.ndarray,
    unseen_features: np.ndarray,
    items: Sequence[Item],
    unseen: Sequence[Item],
    *,
    seed: int,
    restarts: int,
) -> FeatureRow:
    domains = [it.domain for it in items]
    labels = [it.label for it in items]
    model = cluster(features, len(set(domains)), seed=seed, restarts=restarts)
    assigned = [int(c) for c in model.labels_]
    by_level = cluster(features, len(set(labels)), seed=seed, restarts=restarts)
    hits, placed, home, home_share = 0, (), None, None
    if len(unseen):
        placed = tuple(int(c) for c in model.predict(unseen_features))
        homes = {}  # per unseen domain, the cluster holding most of its clustered instances
        for domain in {it.domain for it in unseen}:
            own = Counter(c for c, d in zip(assigned, domains) if d == domain)
            homes[domain] = own.most_common(1)[0][0]
        home = homes[unseen[0].domain]
        members = [d for c, d in zip(assigned, domains) if c == home]
        home_share = members.count(unseen[0].domain) / len(members)
        hits = sum(c == homes[it.domain] for c, it in zip(placed, unseen))
    return FeatureRow(
        features=name,
        dim=int(features.shape[1]),
        nmi_domain=nmi(assigned, domains),
        purity_domain=purity(assigned, domains),
        nmi_level=nmi(assigned, labels),
        purity_level=purity(assigned, labels),
        nmi_level_k=nmi(by_level.labels_, labels),
        purity_level_k=purity(list(by_level.labels_), labels),
        unseen_hits=int(hits),
        unseen_count=len(unseen),
        clusters=tuple(assigned),
        unseen_clusters=placed,
        home=home,
        home_share=home_share,
    )


def verdicts(rows: Sequence[FeatureRow], primary: str = "forge vector") -> list[str]:
    """The verdict lines of issue 13's two targets, judged on the ``primary`` row.

    Parameters
    ----------
    rows : sequence of FeatureRow
        Must hold ``primary`` and ``"statistics"``.
    primary : str
        The row judged; the other FORGE rows are quoted beside it.

    Returns
    -------
    list of str
        Two lines, each ending in ``met`` or ``NOT met``.
    """
    by_name = {row.features: row for row in rows}
    main_row, base = by_name[primary], by_name["statistics"]
    others = ", ".join(
        f"{row.features.removeprefix('forge ')} {row.nmi_domain:.3f}"
        for row in rows
        if row.features.startswith("forge") and row.features != primary
    )
    met = (
        main_row.nmi_domain >= NMI_TARGET and main_row.nmi_domain - base.nmi_domain >= MARGIN
    )  # fmt: skip
    first = (
        f"target NMI by domain >= {NMI_TARGET} and >= statistics + {MARGIN}: {primary} "
        f"{main_row.nmi_domain:.3f} vs statistics {base.nmi_domain:.3f} "
        f"(difference {main_row.nmi_domain - base.nmi_domain:+.3f}"
        + (f"; {others}" if others else "")
        + f"): {'met' if met else 'NOT met'}"
    )
    lines = [first]
    if main_row.unseen_count:
        share = main_row.unseen_share or 0.0
        others = ", ".join(
            f"{row.features.removeprefix('forge ')} {row.unseen_hits}/{row.unseen_count}"
            for row in rows
            if row.features != primary
        )
        shared = ""
        if main_row.home_share is not None and main_row.home_share < 1.0:
            shared = (
                f"; {primary}'s home cluster mixes domains, {main_row.home_share:.0%} of it theirs"
            )
        lines.append(
            f"target unseen-generator instances in their domain's cluster >= "
            f"{UNSEEN_TARGET:.0%}: {primary} {main_row.unseen_hits}/{main_row.unseen_count} "
            f"({others}{shared}): {'met' if share >= UNSEEN_TARGET else 'NOT met'}"
        )
    return lines


def measure(
    items: Sequence[Item],
    unseen: Sequence[Item],
    embed: Embedder,
    *,
    views: Sequence[str] = VIEWS,
    seed: int = 0,
    restarts: int = 10,
    report: Callable[[str], None] = lambda _: None,
) -> Measurement:
    """Embed, cluster and score ``items``; place ``unseen``; time the encoders.

    Parameters
    ----------
    items : sequence of Item
        The instances clustered (at least two domains).
    unseen : sequence of Item
        Instances of a generator the model never saw, assigned to the fitted domain
        clusters; their domains must be among ``items``'.
    embed : callable
        ``embed(problems) -> embeddings``, one per problem, each with the attributes
        ``views``; called once to warm up, then once per instance.
    views : sequence of str
        The embedding attributes clustered, each as row ``"forge <view>"``.
    seed : int
        KMeans's ``random_state``.
    restarts : int
        KMeans initialisations (the best inertia is kept).
    report : callable
        Receives each printed line when it is ready.

    Returns
    -------
    Measurement
    """
    domains = sorted({it.domain for it in items})
    labels = sorted({it.label for it in items})
    if len(domains) < 2:
        raise UsageError(f"need instances of at least two domains to cluster, got {domains}")
    missing = sorted({it.domain for it in unseen} - set(domains))
    if missing:
        raise UsageError(f"unseen instances of domains {missing} that no clustered instance has")
    everything = [*items, *unseen]
    embed([everything[0].problem])  # warm-up: weights, first-call costs

    def one(problem: Problem) -> Any:
        (result,) = embed([problem])
        return result

    embeddings, forge_seconds = _timed_features(everything, one)
    stats, stats_seconds = _timed_features(everything, statistics)
    count = len(items)
    timings = (
        Timing("forge", tuple(forge_seconds[:count])),
        Timing("statistics", tuple(stats_seconds[:count])),
    )
    rows = []
    report(header(len(domains), len(labels)))
    matrices: dict[str, np.ndarray] = {}
    notes = []
    for view in views:
        matrix = _stack([getattr(e, view) for e in embeddings], f"forge {view}")
        for other, seen in matrices.items():
            if seen.shape == matrix.shape and np.array_equal(seen, matrix):
                notes.append(f"  (forge {view} is the same array as forge {other})")
        matrices[view] = matrix
        row = _score(f"forge {view}", matrix[:count], matrix[count:], items, unseen,
                     seed=seed, restarts=restarts)  # fmt: skip
        rows.append(row)
        report(row.line())
    matrix = _stack(stats, "statistics")
    unseen_stats, fitted = standardise(matrix[count:], matrix[:count])
    keep = [i for i, name in enumerate(STATISTICS) if name not in SIZE_STATISTICS]
    for name, columns in (("statistics", slice(None)), ("stats w/o size", keep)):
        row = _score(name, fitted[:, columns], unseen_stats[:, columns], items, unseen,
                     seed=seed, restarts=restarts)  # fmt: skip
        rows.append(row)
        report(row.line())
    for note in notes:
        report(note)
    report("encode time per instance (each embedded alone, after a warm-up call):")
    for timing in timings:
        report(timing.line())
    lines = verdicts(rows, f"forge {views[0]}") if views else []
    for line in lines:
        report(line)
    return Measurement(tuple(items), tuple(unseen), tuple(rows), timings, tuple(domains),
                       tuple(labels), tuple(lines))  # fmt: skip


def confusion(measurement: Measurement, features: str) -> list[str]:
    """Per domain, the domain clustering's clusters its instances fell into (most first)."""
    row = measurement.row(features)
    lines = [f"clusters of {features} (k={len(measurement.domains)}), per domain:"]
    for domain in measurement.domains:
        counts = Counter(c for c, it in zip(row.clusters, measurement.items) if it.domain == domain)
        spread = ", ".join(f"c{c} x{n}" for c, n in counts.most_common())
        lines.append(f"  {domain:16} {spread}")
    if row.unseen_count:
        counts = Counter(row.unseen_clusters)
        spread = ", ".join(f"c{c} x{n}" for c, n in counts.most_common())
        home = [it.domain for c, it in zip(row.clusters, measurement.items) if c == row.home]
        members = Counter(home)
        held = ", ".join(f"{domain} {n}" for domain, n in members.most_common())
        lines.append(f"  {'unseen ' + measurement.unseen[0].domain:16} {spread}")
        lines.append(f"  home cluster c{row.home} holds: {held}")
    return lines


# ------------------------------------------------------------------ command line


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = Parser(
        prog=PROG,
        description="KMeans on FORGE embeddings of the registered distributions' test "
        "splits (and your folders): NMI and purity by domain and by domain and level, "
        "next to plain size/type statistics; where instances of an unseen generator land; "
        "encode time per instance.",
    )
    parser.add_argument(
        "--per-distribution",
        type=positive,
        default=10,
        metavar="N",
        help="test instances per distribution (default 10)",
    )
    parser.add_argument(
        "--distributions",
        metavar="NAME,...",
        help="only these registered distributions (default: all)",
    )
    parser.add_argument(
        "--folder",
        action="append",
        default=[],
        type=Path,
        metavar="DIR",
        help="add the MPS/LP files of DIR, labelled by its name (repeatable)",
    )
    parser.add_argument(
        "--weights",
        default="forge",
        metavar="NAME_OR_PATH",
        help="shipped weights name or a .pt file (default: forge)",
    )
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    parser.add_argument(
        "--unseen",
        type=non_negative,
        default=10,
        metavar="N",
        help="location set cover instances of the unseen generator (default 10; 0: none)",
    )
    parser.add_argument(
        "--restarts", type=positive, default=10, help="KMeans initialisations (default 10)"
    )
    parser.add_argument(
        "--seed", type=non_negative, default=0, help="KMeans and unseen-generator seed (default 0)"
    )
    parser.add_argument("--json", type=Path, metavar="OUT", help="write every result as JSON")
    return parser.parse_args(argv)


def weights_entry(weights: str) -> dict[str, Any] | None:
    """The manifest entry of shipped weights ``weights``, or of the ``.pt`` file it names.

    Read leniently (``None`` when there is no manifest or no entry): the lines printed from
    it are information, and :func:`hybridsolve.neural.forge.embed_many` checks the weights.
    """
    from hybridsolve.neural.weights import DIRECTORY, MANIFEST

    path = Path(weights)
    if path.suffix == ".pt":
        folder, key = path.parent, None
    else:
        folder, key = DIRECTORY, weights
    try:
        entries = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(entries, dict):
        return None
    if key is not None:
        entry = entries.get(key)
        return entry if isinstance(entry, dict) else None
    for entry in entries.values():
        if isinstance(entry, dict) and entry.get("file") == path.name:
            return entry
    return None


def describe(weights: str, entry: dict[str, Any] | None) -> list[str]:
    """The lines about the weights printed at the top."""
    if entry is None:
        return [f"weights {weights}: no manifest entry found"]
    model = entry.get("model")
    model_text = " ".join(f"{k}={v}" for k, v in model.items()) if isinstance(model, dict) else "-"
    sha = str(entry.get("sha256", "-"))[:12]
    facts = ", ".join(
        f"{key} {entry[key]}"
        for key in ("instances", "epochs", "seconds", "device", "created")
        if key in entry
    )
    return [
        f"weights {weights}: {entry.get('file', '-')} (sha256 {sha}), model {model_text}",
        f"  {facts}",
        f"  train command: {entry.get('train_command', '-')}",
    ]


def _forge_embedder(weights: str, device: str) -> Embedder:
    try:
        from hybridsolve.neural.forge import embed_many
    except ImportError as exc:
        raise UsageError(
            f"the FORGE encoder is not available ({exc}); "
            "pip install 'hybridsolve[neural]' (torch, torch_geometric)"
        ) from None

    def embed(problems: Sequence[Problem]) -> Sequence[Any]:
        return embed_many(list(problems), weights=weights, device=device)

    return embed


def _summary(items: Sequence[Item]) -> list[str]:
    lines = [f"{'source':24} {'domain':16} {'count':>5} {'vars':>13} {'cons':>13}"]
    groups: dict[tuple[str, str], list[Item]] = {}
    for item in items:
        source = item.source if item.level else item.domain
        source = "unseen generator (lscp)" if item.source == "unseen" else source
        groups.setdefault((source, item.domain), []).append(item)

    def span(values: list[int]) -> str:
        return str(values[0]) if min(values) == max(values) else f"{min(values)}-{max(values)}"

    for (source, domain), group in groups.items():
        n = sorted(it.problem.num_vars for it in group)
        m = sorted(it.problem.num_cons for it in group)
        lines.append(f"{source[:24]:24} {domain:16} {len(group):>5} {span(n):>13} {span(m):>13}")
    return lines


def _run(args: argparse.Namespace) -> int:
    names = None
    if args.distributions:
        from hybridsolve.datasets import registry

        names = [part.strip() for part in args.distributions.split(",") if part.strip()]
        for name in names:
            registry.get(name)  # UsageError naming close matches
    embed = _forge_embedder(args.weights, args.device)
    entry = weights_entry(args.weights)
    for line in describe(args.weights, entry):
        print(line)
    items = registry_items(args.per_distribution, names)
    for folder in args.folder:
        items += folder_items(folder)
    unseen = unseen_items(args.unseen, args.seed)
    print(f"instances: test split 0..{args.per_distribution - 1} of "
          f"{len({it.source for it in items if it.level})} distributions"
          f"{f', {len(args.folder)} folder(s)' if args.folder else ''}; "
          f"{len(unseen)} unseen-generator instances (location set cover, domain "
          f"{UNSEEN_DOMAIN}, seed {args.seed})")  # fmt: skip
    for line in _summary([*items, *unseen]):
        print("  " + line)
    out: dict[str, Any] = {"weights": str(args.weights), "manifest": entry,
                           "settings": _settings(args)}  # fmt: skip
    if args.json is not None:  # an unwritable --json fails now, not after the measurements
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"\nKMeans ({args.restarts} restarts, seed {args.seed}); FORGE views as returned, "
          f"statistics standardised; 'in home' = unseen instances in the {UNSEEN_DOMAIN} "
          "cluster", flush=True)  # fmt: skip
    measurement = measure(items, unseen, embed, seed=args.seed, restarts=args.restarts,
                          report=lambda line: print(line, flush=True))  # fmt: skip
    print()
    for features in ("forge vector", "statistics"):
        for line in confusion(measurement, features):
            print(line)
    if args.json is not None:
        out.update(measurement.to_dict())
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    return 0


def _settings(args: argparse.Namespace) -> dict[str, Any]:
    return {key: (str(value) if isinstance(value, Path) else
                  [str(v) for v in value] if isinstance(value, list) else value)
            for key, value in vars(args).items()}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print its table.

    Returns
    -------
    int
        0 when done (whatever the verdicts); 2 on a usage error, 3 on unreadable input or
        weights (one line on stderr).
    """
    return run_main(PROG, _parse, _run, argv)


if __name__ == "__main__":
    sys.exit(main())
