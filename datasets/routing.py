"""Generators of routing, knapsack and scheduling instances, and TSPLIB/CVRPLIB readers.

Every generator is ``generator(rng, **size parameters) -> comb instance`` and draws all of
its randomness from the :class:`numpy.random.Generator` it is handed, so the same seed
gives the same instance. The distributions follow the papers cited in each docstring.
The readers parse files with the ``vrplib`` package and turn them into
:mod:`hybridsolve.comb` instances.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from hybridsolve.comb import ATSP, CVRP, KP, OP, SMTT, TSP
from hybridsolve.mip.errors import InputError, ProblemError, UsageError

__all__ = [
    "CVRP_CAPACITIES",
    "OP_MAX_LENGTHS",
    "atsp",
    "cvrp",
    "cvrp_capacity",
    "knapsack",
    "op",
    "op_max_length",
    "read_cvrplib",
    "read_tsplib",
    "smtt",
    "tsp_clustered",
    "tsp_uniform",
    "write_tsplib",
]

#: Vehicle capacity by number of customers for :func:`cvrp` (demands U{1..9}).
#:
#: * 10, 20, 50, 100: Nazari et al. (2018), Kool et al. (2019).
#: * 200, 500: the CVRP200/CVRP500 test sets of BQ-NCO (Drakulic et al. 2023) as shipped
#:   with LEHD (Luo et al. 2023; files ``vrp200_test_lkh.txt`` and ``vrp500_test_lkh.txt``
#:   in github.com/CIAM-Group/NCO_code, ``single_objective/LEHD/CVRP/data``: capacity 80
#:   and 100).
#: * 1000, 2000, 5000, 7000: GLOP (Ye et al. 2024; ``heatmap/cvrp/inst.py`` in
#:   github.com/henry-yeh/GLOP: 200, 300, 300, 300); UDC (Zheng et al. 2024, Table 2)
#:   generates its CVRP1000/2000 test sets with GLOP's settings.
CVRP_CAPACITIES: MappingProxyType[int, int] = MappingProxyType(
    {10: 20, 20: 30, 50: 40, 100: 50, 200: 80, 500: 100, 1000: 200, 2000: 300, 5000: 300,
     7000: 300}
)  # fmt: skip

#: Largest tour length by number of nodes for :func:`op` (Kool et al. 2019).
OP_MAX_LENGTHS: MappingProxyType[int, float] = MappingProxyType({20: 2.0, 50: 3.0, 100: 4.0})


def _size(n, what: str = "n", minimum: int = 1) -> int:
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)):
        raise ProblemError(f"{what} must be an integer, got {n!r}")
    if n < minimum:
        raise ProblemError(f"{what} must be at least {minimum}, got {n}")
    return int(n)


def _below(table, n: int, smallest):
    """The table value of the largest key not above ``n`` (``smallest`` below all keys)."""
    keys = [k for k in sorted(table) if k <= n]
    return table[keys[-1]] if keys else smallest


def cvrp_capacity(n: int) -> int:
    """Vehicle capacity for ``n`` customers under :data:`CVRP_CAPACITIES`.

    Sizes between table entries take the entry of the nearest size below (so 150
    customers get 50); sizes below 10 get 20.
    """
    return int(_below(CVRP_CAPACITIES, _size(n), CVRP_CAPACITIES[10]))


def op_max_length(n: int) -> float:
    """Largest tour length for ``n`` nodes under :data:`OP_MAX_LENGTHS`.

    Sizes between table entries take the entry of the nearest size below; sizes below 20
    get 2 and sizes above 100 get 4.
    """
    return float(_below(OP_MAX_LENGTHS, _size(n), OP_MAX_LENGTHS[20]))


def _clustered_points(rng: np.random.Generator, n: int, clusters: int, std: float) -> np.ndarray:
    centres = rng.random((clusters, 2))
    which = rng.integers(0, clusters, size=n)
    points = centres[which] + std * rng.standard_normal((n, 2))
    return np.clip(points, 0.0, 1.0)


def tsp_uniform(rng: np.random.Generator, n: int) -> TSP:
    """A Euclidean TSP with ``n`` cities uniform in the unit square ``[0, 1)^2``.

    The standard random TSP of the neural combinatorial optimisation literature
    (Vinyals et al. 2015; Kool et al. 2019); distances are not rounded.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    n : int
        Number of cities.

    Returns
    -------
    hybridsolve.comb.TSP

    References
    ----------
    O. Vinyals, M. Fortunato and N. Jaitly, "Pointer networks", NeurIPS 2015.
    W. Kool, H. van Hoof and M. Welling, "Attention, learn to solve routing problems!",
    ICLR 2019.
    """
    n = _size(n)
    return TSP(coords=rng.random((n, 2)), name=f"tsp-uniform-{n}")


def tsp_clustered(
    rng: np.random.Generator, n: int, clusters: int | None = None, std: float | None = None
) -> TSP:
    """A Euclidean TSP with ``n`` cities in Gaussian clusters inside the unit square.

    The clustered instances of the DIMACS TSP Challenge (Johnson and McGeoch 2002),
    scaled to the unit square: ``clusters`` centres uniform in ``[0, 1)^2`` (default
    ``max(1, n // 10)``); each city picks a centre uniformly and adds independent normal
    offsets of standard deviation ``std`` (default ``1 / sqrt(n)``) to both coordinates.
    Unlike DIMACS, coordinates are clipped to ``[0, 1]`` so that every instance lives in
    the unit square, as the neural solvers trained on uniform data expect.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness: centres, then the cities' centres, then the offsets.
    n : int
        Number of cities.
    clusters : int, optional
        Number of cluster centres.
    std : float, optional
        Standard deviation of the offsets around a centre.

    Returns
    -------
    hybridsolve.comb.TSP

    References
    ----------
    D. S. Johnson and L. A. McGeoch, "Experimental analysis of heuristics for the STSP",
    in G. Gutin and A. Punnen (eds.), The Traveling Salesman Problem and its Variations,
    Kluwer (2002), 369-443; the generator ``portcgen`` of the 8th DIMACS Implementation
    Challenge (dimacs.rutgers.edu/archive/Challenges/TSP).
    """
    n = _size(n)
    k = max(1, n // 10) if clusters is None else _size(clusters, "clusters")
    sigma = 1.0 / math.sqrt(n) if std is None else float(std)
    if not (np.isfinite(sigma) and sigma >= 0):
        raise ProblemError(f"std must be a non-negative number, got {std!r}")
    return TSP(coords=_clustered_points(rng, n, k, sigma), name=f"tsp-clustered-{n}")


def cvrp(
    rng: np.random.Generator,
    n: int,
    capacity: float | None = None,
    distribution: Literal["uniform", "clustered"] = "uniform",
) -> CVRP:
    """A CVRP with ``n`` customers in the scheme of the neural CO literature.

    Nazari et al. (2018) and Kool et al. (2019): depot and customers uniform in the unit
    square, integer demands uniform in ``{1, ..., 9}``, and a vehicle capacity that grows
    with ``n`` (:data:`CVRP_CAPACITIES`, via :func:`cvrp_capacity`). With
    ``distribution="clustered"`` the customers (not the depot) are placed as the cities of
    :func:`tsp_clustered`. Distances are Euclidean, not rounded.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness: depot, then customers, then demands.
    n : int
        Number of customers.
    capacity : float, optional
        Vehicle capacity (at least 9); the table value when omitted.
    distribution : {"uniform", "clustered"}
        Placement of the customers.

    Returns
    -------
    hybridsolve.comb.CVRP

    References
    ----------
    M. Nazari, A. Oroojlooy, L. Snyder and M. Takac, "Reinforcement learning for solving
    the vehicle routing problem", NeurIPS 2018.
    W. Kool, H. van Hoof and M. Welling, "Attention, learn to solve routing problems!",
    ICLR 2019.
    D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: bisimulation
    quotienting for efficient neural combinatorial optimization", NeurIPS 2023.
    H. Ye, J. Wang, H. Liang, Z. Cao, Y. Li and F. Li, "GLOP: learning global partition
    and local construction for solving large-scale routing problems in real-time",
    AAAI 2024.
    Z. Zheng, C. Zhou, X. Tong, M. Yuan and Z. Wang, "UDC: a unified neural
    divide-and-conquer framework for large-scale combinatorial optimization problems",
    NeurIPS 2024.
    """
    n = _size(n)
    if distribution not in ("uniform", "clustered"):
        raise ProblemError(f"distribution must be 'uniform' or 'clustered', got {distribution!r}")
    cap = cvrp_capacity(n) if capacity is None else capacity
    depot = rng.random((1, 2))
    if distribution == "uniform":
        customers = rng.random((n, 2))
    else:
        customers = _clustered_points(rng, n, max(1, n // 10), 1.0 / math.sqrt(n))
    demands = np.concatenate([[0], rng.integers(1, 10, size=n)])
    return CVRP(
        coords=np.vstack([depot, customers]), demands=demands, capacity=cap,
        name=f"cvrp-{distribution}-{n}",
    )  # fmt: skip


def _shortest_path_closure(d: np.ndarray) -> np.ndarray:
    """All-pairs shortest path lengths of a dense non-negative integer matrix (in place)."""
    for k in range(d.shape[0]):
        np.minimum(d, d[:, k, None] + d[None, k, :], out=d)
    return d


def atsp(rng: np.random.Generator, n: int, scaled: bool = True) -> ATSP:
    """An asymmetric TSP whose distances satisfy the triangle inequality.

    The "tmat" scheme of MatNet (Kwon et al. 2021): every off-diagonal entry an integer
    uniform in ``{0, ..., 10^6 - 1}``, the diagonal 0, then each entry replaced by the
    shortest path length between its two nodes (Floyd-Warshall), which makes the triangle
    inequality hold; finally the matrix is divided by ``10^6`` so distances lie in
    ``[0, 1)``.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness.
    n : int
        Number of nodes; the closure takes O(n^3) time.
    scaled : bool
        Divide by ``10^6`` (MatNet's scaler); ``False`` keeps the whole numbers.

    Returns
    -------
    hybridsolve.comb.ATSP

    References
    ----------
    Y.-D. Kwon, J. Choo, I. Yoon, M. Park, D. Park and Y. Gwon, "Matrix encoding networks
    for neural combinatorial optimization", NeurIPS 2021.
    """
    n = _size(n)
    d = rng.integers(0, 10**6, size=(n, n), dtype=np.int64)
    np.fill_diagonal(d, 0)
    d = _shortest_path_closure(d).astype(np.float64)
    return ATSP(d / 1e6 if scaled else d, name=f"atsp-{n}")


def op(
    rng: np.random.Generator,
    n: int,
    prizes: Literal["const", "uniform", "distance"] = "const",
    max_length: float | None = None,
) -> OP:
    """An orienteering problem with ``n`` nodes besides the depot, as in Kool et al. (2019).

    Depot and nodes uniform in the unit square; prizes after Fischetti, Salazar-González
    and Toth (1998) as randomised by Kool et al.:

    * ``"const"``: every prize 1;
    * ``"uniform"``: ``(1 + U{0..99}) / 100``;
    * ``"distance"``: ``(1 + floor(99 d_i / max_j d_j)) / 100`` with ``d_i`` the distance
      from the depot, so far nodes pay more.

    The largest tour length comes from :data:`OP_MAX_LENGTHS` (2, 3, 4 for 20, 50, 100
    nodes) via :func:`op_max_length`. Distances are Euclidean, not rounded.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness: nodes, then depot, then prizes.
    n : int
        Number of nodes besides the depot.
    prizes : {"const", "uniform", "distance"}
        Prize scheme.
    max_length : float, optional
        Largest tour length; the table value when omitted.

    Returns
    -------
    hybridsolve.comb.OP

    References
    ----------
    M. Fischetti, J. J. Salazar-González and P. Toth, "Solving the orienteering problem
    through branch-and-cut", INFORMS Journal on Computing 10 (1998), 133-148.
    W. Kool, H. van Hoof and M. Welling, "Attention, learn to solve routing problems!",
    ICLR 2019.
    """
    n = _size(n)
    if prizes not in ("const", "uniform", "distance"):
        raise ProblemError(f"prizes must be 'const', 'uniform' or 'distance', got {prizes!r}")
    limit = op_max_length(n) if max_length is None else max_length
    nodes = rng.random((n, 2))
    depot = rng.random((1, 2))
    if prizes == "const":
        prize = np.ones(n)
    elif prizes == "uniform":
        prize = (1 + rng.integers(0, 100, size=n)) / 100.0
    else:
        dist = np.hypot(*(nodes - depot).T)
        prize = (1 + np.floor(dist / dist.max() * 99)) / 100.0
    return OP(
        coords=np.vstack([depot, nodes]), prizes=np.concatenate([[0.0], prize]),
        max_length=limit, name=f"op-{prizes}-{n}",
    )  # fmt: skip


def knapsack(
    rng: np.random.Generator, n: int, integer: bool = True, capacity: float | None = None
) -> KP:
    """A 0-1 knapsack problem with ``n`` items.

    * ``integer=False``: the scheme of POMO (Kwon et al. 2020) and BQ-NCO: weights and
      values uniform in ``[0, 1)``, capacity 12.5 for 50 items and 25 for 100 or more
      (``min(n, 100) / 4``, which extends the rule to fewer items).
    * ``integer=True``: weights and values uniform integers in ``{1, ..., 100}`` (the
      uncorrelated class of Martello and Toth 1990 and Pisinger 2005, ``R = 100``) and
      capacity half the total weight, rounded down, so exact dynamic programming over the
      capacity applies.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness: weights, then values.
    n : int
        Number of items.
    integer : bool
        Integer data instead of POMO's real data.
    capacity : float, optional
        Capacity; the rule above when omitted.

    Returns
    -------
    hybridsolve.comb.KP

    References
    ----------
    Y.-D. Kwon, J. Choo, B. Kim, I. Yoon, Y. Gwon and S. Min, "POMO: policy optimization
    with multiple optima for reinforcement learning", NeurIPS 2020.
    S. Martello and P. Toth, "Knapsack problems: algorithms and computer
    implementations", Wiley (1990).
    D. Pisinger, "Where are the hard knapsack problems?", Computers & Operations Research
    32 (2005), 2271-2284.
    """
    n = _size(n)
    if integer:
        weights = rng.integers(1, 101, size=n)
        values = rng.integers(1, 101, size=n)
        cap = int(weights.sum() // 2) if capacity is None else capacity
    else:
        weights = rng.random(n)
        values = rng.random(n)
        cap = min(n, 100) / 4.0 if capacity is None else capacity
    return KP(values=values, weights=weights, capacity=cap, name=f"kp-{n}")


def smtt(
    rng: np.random.Generator,
    n: int,
    tardiness_factor: float = 0.6,
    due_range: float = 0.4,
    weighted: bool = False,
) -> SMTT:
    """A single-machine total tardiness instance, Potts and Van Wassenhove (1985) style.

    Processing times ``p_j`` uniform integers in ``{1, ..., 100}``; with ``P = sum p_j``,
    due dates uniform integers in ``[P (1 - TF - RDD / 2), P (1 - TF + RDD / 2)]`` (bounds
    rounded inwards), then clipped at 0, where ``TF`` is the tardiness factor and ``RDD``
    the relative range of due dates. With ``weighted=True`` the weights are uniform
    integers in ``{1, ..., 10}`` as in the OR-Library weighted tardiness instances of
    Crauwels, Potts and Van Wassenhove (1998); otherwise all weights are 1.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of all randomness: processing times, then due dates, then weights.
    n : int
        Number of jobs.
    tardiness_factor : float
        ``TF`` in ``[0, 1]``; larger means more late jobs.
    due_range : float
        ``RDD`` in ``[0, 1]``; larger means more spread-out due dates.
    weighted : bool
        Draw weights instead of unit weights.

    Returns
    -------
    hybridsolve.comb.SMTT

    References
    ----------
    C. N. Potts and L. N. Van Wassenhove, "A branch and bound algorithm for the total
    weighted tardiness problem", Operations Research 33 (1985), 363-377.
    H. A. J. Crauwels, C. N. Potts and L. N. Van Wassenhove, "Local search heuristics for
    the single machine total weighted tardiness scheduling problem", INFORMS Journal on
    Computing 10 (1998), 341-350.
    """
    n = _size(n)
    for what, value in (("tardiness_factor", tardiness_factor), ("due_range", due_range)):
        if not (isinstance(value, (int, float, np.number)) and 0.0 <= float(value) <= 1.0):
            raise ProblemError(f"{what} must be a number in [0, 1], got {value!r}")
    p = rng.integers(1, 101, size=n)
    total = int(p.sum())
    low = math.ceil(total * (1.0 - tardiness_factor - due_range / 2.0) - 1e-9)
    high = max(low, math.floor(total * (1.0 - tardiness_factor + due_range / 2.0) + 1e-9))
    due = np.maximum(rng.integers(low, high + 1, size=n), 0)
    weights = rng.integers(1, 11, size=n) if weighted else None
    kind = "wt" if weighted else "t"
    return SMTT(processing_times=p, due_dates=due, weights=weights, name=f"smtt-{kind}-{n}")


# --------------------------------------------------------------------------- readers

#: Euclidean-type EDGE_WEIGHT_TYPEs whose matrix ``vrplib`` computes itself.
_VRPLIB_2D = ("CEIL_2D", "FLOOR_2D", "EXACT_2D")
_MAX_READ_MATRIX = 5000


def _read(path: Path, compute_edge_weights: bool) -> dict[str, Any]:
    import vrplib

    try:
        data = vrplib.read_instance(path, compute_edge_weights=compute_edge_weights)
    except Exception as exc:  # vrplib raises ValueError, RuntimeError, IndexError, ...
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise InputError(f"{path}: not a readable TSPLIB/VRPLIB file ({detail})") from None
    if not isinstance(data, dict) or not data:
        raise InputError(f"{path}: not a readable TSPLIB/VRPLIB file (no data found)")
    return data


def _open(path: str | os.PathLike) -> tuple[Path, dict[str, Any]]:
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a directory, expected a TSPLIB/VRPLIB file")
    if path.stat().st_size == 0:
        raise InputError(f"{path}: file is empty")
    return path, _read(path, compute_edge_weights=False)


def _coords(path: Path, data: dict[str, Any], key: str = "node_coord") -> np.ndarray | None:
    if key not in data:
        return None
    try:
        coords = np.asarray(data[key], dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"{path}: {key.upper()}_SECTION is not a table of numbers") from None
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise InputError(f"{path}: {key.upper()}_SECTION must hold two coordinates per node")
    dimension = data.get("dimension")
    if isinstance(dimension, int) and dimension != coords.shape[0]:
        raise InputError(
            f"{path}: DIMENSION is {dimension} but {key.upper()}_SECTION has "
            f"{coords.shape[0]} nodes"
        )
    return coords


def _refuse_large(path: Path, n: int, kind: str) -> None:
    if n > _MAX_READ_MATRIX:
        raise InputError(
            f"{path}: {kind} distances need a full matrix, refused above {_MAX_READ_MATRIX} nodes"
        )


def _att_distances(coords: np.ndarray) -> np.ndarray:
    """TSPLIB ``ATT`` pseudo-Euclidean distances (Reinelt 1995, section 2.5)."""
    dx = coords[:, None, 0] - coords[None, :, 0]
    dy = coords[:, None, 1] - coords[None, :, 1]
    r = np.sqrt((dx * dx + dy * dy) / 10.0)
    t = np.floor(r + 0.5)
    return np.where(t < r, t + 1.0, t)


def _geo_distances(coords: np.ndarray) -> np.ndarray:
    """TSPLIB ``GEO`` great-circle distances in km (Reinelt 1995, section 2.4).

    Coordinates are ``DDD.MM`` (degrees and minutes) latitude and longitude; TSPLIB's own
    constants ``PI = 3.141592`` and ``RRR = 6378.388`` are used so results match the
    published optima.
    """
    pi, radius = 3.141592, 6378.388
    degrees = np.trunc(coords)
    radians = pi * (degrees + 5.0 * (coords - degrees) / 3.0) / 180.0
    lat, lon = radians[:, 0], radians[:, 1]
    q1 = np.cos(lon[:, None] - lon[None, :])
    q2 = np.cos(lat[:, None] - lat[None, :])
    q3 = np.cos(lat[:, None] + lat[None, :])
    angle = np.arccos(np.clip(0.5 * ((1.0 + q1) * q2 - (1.0 - q1) * q3), -1.0, 1.0))
    d = np.trunc(radius * angle + 1.0)
    np.fill_diagonal(d, 0.0)
    return d


def _distances(path: Path, data: dict[str, Any], coords: np.ndarray | None) -> np.ndarray | None:
    """The distance matrix the file specifies, or ``None`` for plain ``EUC_2D``."""
    kind = str(data.get("edge_weight_type", "")).strip().upper()
    if not kind:
        raise InputError(f"{path}: EDGE_WEIGHT_TYPE is missing")
    if kind == "EUC_2D":
        if coords is None:
            raise InputError(f"{path}: EDGE_WEIGHT_TYPE EUC_2D needs a NODE_COORD_SECTION")
        return None
    if kind == "EXPLICIT":
        if "edge_weight" not in data:
            raise InputError(f"{path}: EDGE_WEIGHT_TYPE EXPLICIT needs an EDGE_WEIGHT_SECTION")
        try:
            matrix = np.asarray(data["edge_weight"], dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError(f"{path}: EDGE_WEIGHT_SECTION is not a matrix") from None
        dimension = data.get("dimension")
        if isinstance(dimension, int) and matrix.shape != (dimension, dimension):
            raise InputError(
                f"{path}: DIMENSION is {dimension} but EDGE_WEIGHT_SECTION gives a matrix of "
                f"shape {matrix.shape}"
            )
        return matrix
    if coords is None:
        raise InputError(f"{path}: EDGE_WEIGHT_TYPE {kind} needs a NODE_COORD_SECTION")
    _refuse_large(path, coords.shape[0], kind)
    if kind == "ATT":
        return _att_distances(coords)
    if kind == "GEO":
        return _geo_distances(coords)
    if kind in _VRPLIB_2D:
        return np.asarray(_read(path, compute_edge_weights=True)["edge_weight"], dtype=np.float64)
    raise InputError(
        f"{path}: EDGE_WEIGHT_TYPE {kind} is not supported (use EUC_2D, CEIL_2D, FLOOR_2D, "
        "EXACT_2D, ATT, GEO or EXPLICIT)"
    )


def _name(path: Path, data: dict[str, Any]) -> str:
    name = str(data.get("name", "")).strip()
    return name.split()[0] if name else path.name.split(".")[0]


def read_tsplib(path: str | os.PathLike) -> TSP | ATSP:
    """Read a TSPLIB ``.tsp`` or ``.atsp`` file through ``vrplib``.

    * ``TYPE: ATSP`` gives an :class:`~hybridsolve.comb.ATSP` from the explicit matrix.
    * ``EDGE_WEIGHT_TYPE: EUC_2D`` gives a :class:`~hybridsolve.comb.TSP` with the
      coordinates and ``rounding="nint"`` (no matrix is built).
    * ``EXPLICIT`` (``FULL_MATRIX`` or ``LOWER_ROW``, as ``vrplib`` reads them),
      ``CEIL_2D``, ``FLOOR_2D``, ``EXACT_2D`` (matrix computed by ``vrplib``), ``ATT`` and
      ``GEO`` (TSPLIB's formulas) give a TSP with that distance matrix, plus the
      coordinates (or ``DISPLAY_DATA_SECTION``) when the file has them; the matrix types
      are refused above 5000 nodes.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    hybridsolve.comb.TSP or hybridsolve.comb.ATSP

    Raises
    ------
    InputError
        When the file is missing, empty or unreadable, has an unsupported edge weight type,
        or describes no valid instance; the message names the file.

    References
    ----------
    G. Reinelt, "TSPLIB 95", Universität Heidelberg (1995).
    """
    path, data = _open(path)
    kind = str(data.get("type", "TSP")).strip().upper()
    coords = _coords(path, data)
    if coords is None and "display_data" in data:
        coords = _coords(path, data, "display_data")
    try:
        if kind.startswith("ATSP"):
            matrix = _distances(path, data, coords)
            if matrix is None:
                raise InputError(f"{path}: an ATSP needs an explicit distance matrix")
            return ATSP(matrix, name=_name(path, data))
        if not kind.startswith("TSP"):
            raise InputError(f"{path}: TYPE {kind} is not TSP or ATSP")
        matrix = _distances(path, data, coords)
        if matrix is None:
            return TSP(coords=coords, rounding="nint", name=_name(path, data))
        return TSP(coords=coords, distances=matrix, name=_name(path, data))
    except ProblemError as exc:
        raise InputError(f"{path}: {exc}") from None


def read_cvrplib(path: str | os.PathLike) -> CVRP:
    """Read a CVRPLIB ``.vrp`` file (one depot) through ``vrplib``.

    The depot is moved to index 0 when the file names another node. ``EUC_2D`` instances
    (all of CVRPLIB's X set) keep coordinates with ``rounding="nint"``; other edge weight
    types get their distance matrix as in :func:`read_tsplib` and still need coordinates
    (``NODE_COORD_SECTION`` or ``DISPLAY_DATA_SECTION``).

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    hybridsolve.comb.CVRP

    Raises
    ------
    InputError
        When the file is missing, empty or unreadable, lacks coordinates, demands or a
        capacity, has several depots, or describes no valid instance; the message names
        the file.

    References
    ----------
    E. Uchoa, D. Pecin, A. Pessoa, M. Poggi, T. Vidal and A. Subramanian, "New benchmark
    instances for the capacitated vehicle routing problem", EJOR 257 (2017), 845-858.
    """
    path, data = _open(path)
    kind = str(data.get("type", "CVRP")).strip().upper()
    if not kind.startswith("CVRP"):
        raise InputError(f"{path}: TYPE {kind} is not CVRP")
    coords = _coords(path, data)
    if coords is None and "display_data" in data:
        coords = _coords(path, data, "display_data")
    if coords is None:
        raise InputError(f"{path}: no NODE_COORD_SECTION or DISPLAY_DATA_SECTION")
    for key, section in (("demand", "DEMAND_SECTION"), ("capacity", "CAPACITY")):
        if key not in data:
            raise InputError(f"{path}: {section} is missing")
    try:
        demands = np.asarray(data["demand"], dtype=np.float64).reshape(-1)
    except (TypeError, ValueError):
        raise InputError(f"{path}: DEMAND_SECTION must hold one demand per node") from None
    if demands.shape[0] != coords.shape[0]:
        raise InputError(
            f"{path}: DEMAND_SECTION has {demands.shape[0]} entries for {coords.shape[0]} nodes"
        )
    depots = np.atleast_1d(np.asarray(data.get("depot", [0]))).astype(np.int64)
    if depots.size != 1:
        raise InputError(f"{path}: {depots.size} depots, only one is supported")
    depot = int(depots[0])
    if not 0 <= depot < coords.shape[0]:
        raise InputError(f"{path}: DEPOT_SECTION names node {depot + 1}, out of range")
    matrix = _distances(path, data, coords)
    order = np.r_[depot, np.delete(np.arange(coords.shape[0]), depot)]
    try:
        return CVRP(
            coords=coords[order],
            demands=demands[order],
            capacity=data["capacity"],
            distances=None if matrix is None else matrix[np.ix_(order, order)],
            rounding="nint" if matrix is None else "none",
            name=_name(path, data),
        )
    except ProblemError as exc:
        raise InputError(f"{path}: {exc}") from None


def write_tsplib(instance: TSP, path: str | os.PathLike) -> Path:
    """Write a TSP with coordinates as a TSPLIB ``EUC_2D`` file that :func:`read_tsplib` reads.

    The coordinates are written as they are (``repr`` precision), so a file of the unit
    square would round every TSPLIB distance to 0 or 1: scale the coordinates first (for
    example ``TSP(coords=np.round(xy * 10**6), rounding="nint")``). An instance whose costs
    are not TSPLIB's rounded Euclidean distances (``rounding="none"`` or a distance matrix)
    is refused, since the file would describe another instance.

    Parameters
    ----------
    instance : hybridsolve.comb.TSP
        With coordinates and ``rounding="nint"``.
    path : str or os.PathLike
        The ``.tsp`` file to write.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    UsageError
        An instance without coordinates, with a distance matrix or without ``nint``
        rounding.
    """
    if not isinstance(instance, TSP) or instance.coords is None or instance.distances is not None:
        raise UsageError("write_tsplib takes a TSP with coordinates and no distance matrix")
    if instance.rounding != "nint":
        raise UsageError("write_tsplib writes EUC_2D files: the TSP needs rounding='nint'")
    path = Path(path)
    name = instance.name or path.stem
    lines = [f"NAME : {name}", "TYPE : TSP", f"DIMENSION : {instance.num_nodes}",
             "EDGE_WEIGHT_TYPE : EUC_2D", "NODE_COORD_SECTION"]  # fmt: skip
    lines += [f"{i + 1} {x!r} {y!r}" for i, (x, y) in enumerate(instance.coords.tolist())]
    path.write_text("\n".join([*lines, "EOF", ""]))
    return path
