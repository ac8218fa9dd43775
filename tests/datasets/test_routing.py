"""datasets.routing: generators (determinism, ranges, tables) and the vrplib readers."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from hybridsolve.comb import ATSP, CVRP, KP, OP, SMTT, TSP
from hybridsolve.datasets.routing import (
    CVRP_CAPACITIES,
    atsp,
    cvrp,
    cvrp_capacity,
    knapsack,
    op,
    op_max_length,
    read_cvrplib,
    read_tsplib,
    smtt,
    tsp_clustered,
    tsp_uniform,
)
from hybridsolve.mip import InputError, ProblemError

DATA = Path(__file__).resolve().parents[1] / "data"


def arrays(instance) -> dict[str, np.ndarray]:
    """The array fields of an instance, for comparisons."""
    return {k: v for k, v in vars(instance).items() if isinstance(v, np.ndarray)}


GENERATORS = [
    (tsp_uniform, {"n": 20}),
    (tsp_clustered, {"n": 40}),
    (cvrp, {"n": 20}),
    (cvrp, {"n": 20, "distribution": "clustered"}),
    (atsp, {"n": 12}),
    (op, {"n": 20, "prizes": "uniform"}),
    (knapsack, {"n": 30}),
    (knapsack, {"n": 30, "integer": False}),
    (smtt, {"n": 15, "weighted": True}),
]


@pytest.mark.parametrize(("generator", "kwargs"), GENERATORS)
def test_same_seed_same_instance_other_seed_other_instance(generator, kwargs):
    first = arrays(generator(np.random.default_rng(42), **kwargs))
    second = arrays(generator(np.random.default_rng(42), **kwargs))
    other = arrays(generator(np.random.default_rng(43), **kwargs))
    assert first and first.keys() == second.keys() == other.keys()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
    assert any(not np.array_equal(first[k], other[k]) for k in first)


def test_tsp_generators_stay_in_the_unit_square():
    uniform = tsp_uniform(np.random.default_rng(0), 500)
    assert isinstance(uniform, TSP) and uniform.coords.shape == (500, 2)
    assert uniform.coords.min() >= 0 and uniform.coords.max() < 1 and uniform.rounding == "none"
    clustered = tsp_clustered(np.random.default_rng(0), 500, clusters=3, std=0.05)
    assert clustered.coords.min() >= 0 and clustered.coords.max() <= 1
    # three tight clusters: most points are close to their nearest neighbour
    d = clustered.distance_matrix() + np.eye(500)
    assert np.median(d.min(axis=1)) < np.median(uniform.distance_matrix()[np.triu_indices(500, 1)])


@pytest.mark.parametrize(
    ("n", "capacity"),
    [(10, 20), (20, 30), (50, 40), (100, 50), (200, 80), (500, 100), (1000, 200), (2000, 300)],
)
def test_cvrp_capacity_table(n, capacity):
    assert CVRP_CAPACITIES[n] == capacity and cvrp_capacity(n) == capacity
    if n <= 200:
        assert cvrp(np.random.default_rng(1), n).capacity == capacity


def test_cvrp_capacity_between_and_outside_the_table():
    assert cvrp_capacity(150) == 50 and cvrp_capacity(5) == 20 and cvrp_capacity(7000) == 300
    assert cvrp_capacity(3000) == 300 and cvrp_capacity(999) == 100


@pytest.mark.parametrize("distribution", ["uniform", "clustered"])
def test_cvrp_demands_and_coordinates(distribution):
    instance = cvrp(np.random.default_rng(2), 300, distribution=distribution)
    assert isinstance(instance, CVRP) and instance.coords.shape == (301, 2)
    assert instance.demands[0] == 0 and instance.demands.dtype == np.int64
    assert instance.demands[1:].min() == 1 and instance.demands[1:].max() == 9
    assert instance.coords.min() >= 0 and instance.coords.max() <= 1
    assert cvrp(np.random.default_rng(2), 5, capacity=12).capacity == 12
    with pytest.raises(ProblemError, match="distribution must be"):
        cvrp(np.random.default_rng(2), 5, distribution="gaussian")  # type: ignore[arg-type]


def test_atsp_is_asymmetric_with_triangle_inequality():
    instance = atsp(np.random.default_rng(3), 30)
    assert isinstance(instance, ATSP)
    d = instance.distances
    assert (np.diag(d) == 0).all() and d.min() >= 0 and d.max() < 1
    assert not np.allclose(d, d.T)
    # d[i, j] <= d[i, k] + d[k, j] for all i, j, k
    assert (d[:, None, :] <= d[:, :, None] + d[None, :, :] + 1e-12).all()
    raw = atsp(np.random.default_rng(3), 30, scaled=False).distances
    np.testing.assert_allclose(raw / 1e6, d)
    assert (raw == np.round(raw)).all() and raw.max() > 1


@pytest.mark.parametrize(("n", "limit"), [(20, 2.0), (50, 3.0), (100, 4.0)])
def test_op_max_lengths(n, limit):
    assert op(np.random.default_rng(4), n).max_length == limit == op_max_length(n)


def test_op_prize_schemes():
    const = op(np.random.default_rng(5), 100, prizes="const")
    assert isinstance(const, OP) and const.prizes[0] == 0 and (const.prizes[1:] == 1).all()
    uniform = op(np.random.default_rng(5), 1000, prizes="uniform").prizes[1:]
    cents = np.round(uniform * 100)
    np.testing.assert_allclose(cents / 100, uniform)
    assert cents.min() == 1 and cents.max() == 100
    distance = op(np.random.default_rng(5), 100, prizes="distance")
    d = np.hypot(*(distance.coords[1:] - distance.coords[0]).T)
    prizes = distance.prizes[1:]
    assert prizes[np.argmax(d)] == 1.0 and prizes.min() >= 0.01
    assert (np.diff(prizes[np.argsort(d)]) >= 0).all()  # farther never pays less
    assert op(np.random.default_rng(5), 10, max_length=1.5).max_length == 1.5


def test_knapsack_integer_and_real_schemes():
    integer = knapsack(np.random.default_rng(6), 200)
    assert isinstance(integer, KP) and integer.is_integral
    assert integer.weights.min() >= 1 and integer.weights.max() <= 100
    assert integer.values.min() >= 1 and integer.values.max() <= 100
    assert integer.capacity == integer.weights.sum() // 2
    for n, capacity in ((50, 12.5), (100, 25.0), (200, 25.0)):
        real = knapsack(np.random.default_rng(6), n, integer=False)
        assert real.capacity == capacity and not real.is_integral
        assert real.weights.min() >= 0 and real.weights.max() < 1 and real.values.max() < 1


@pytest.mark.parametrize(("tf", "rdd"), [(0.6, 0.4), (0.2, 0.2), (1.0, 1.0)])
def test_smtt_due_dates_in_range(tf, rdd):
    instance = smtt(np.random.default_rng(7), 100, tardiness_factor=tf, due_range=rdd)
    assert isinstance(instance, SMTT) and np.all(instance.weights == 1)
    p = instance.processing_times
    assert p.min() >= 1 and p.max() <= 100
    total = p.sum()
    low = max(0, math.ceil(total * (1 - tf - rdd / 2)))
    high = math.floor(total * (1 - tf + rdd / 2))
    assert instance.due_dates.min() >= low and instance.due_dates.max() <= high
    if tf == 1.0:  # the lower end is negative: clipped due dates pile up at 0
        assert (instance.due_dates == 0).sum() > 10
    weighted = smtt(np.random.default_rng(7), 100, weighted=True)
    assert weighted.weights.min() >= 1 and weighted.weights.max() <= 10
    with pytest.raises(ProblemError, match="tardiness_factor must be a number in"):
        smtt(np.random.default_rng(7), 10, tardiness_factor=1.5)


def test_generators_reject_bad_sizes():
    with pytest.raises(ProblemError, match="n must be at least 1"):
        tsp_uniform(np.random.default_rng(0), 0)
    with pytest.raises(ProblemError, match="n must be an integer"):
        cvrp(np.random.default_rng(0), 10.5)  # type: ignore[arg-type]


# ------------------------------------------------------------------------ readers


def test_read_tiny_tsp():
    tsp = read_tsplib(DATA / "tiny.tsp")
    assert isinstance(tsp, TSP) and tsp.name == "tiny" and tsp.distances is None
    assert tsp.rounding == "nint"
    assert tsp.coords.tolist() == [[0, 0], [3, 0], [3, 4], [0, 4], [1, 2], [2, 2.6]]
    assert tsp.tour_cost([0, 1, 5, 2, 3, 4]) == 15.0


def test_read_tiny_atsp():
    instance = read_tsplib(DATA / "tiny.atsp")
    assert isinstance(instance, ATSP) and instance.name == "tinyatsp"
    assert instance.distances.tolist() == [[0, 2, 5, 7], [3, 0, 4, 1], [6, 8, 0, 2], [1, 5, 3, 0]]
    assert instance.tour_cost([0, 1, 2, 3]) == 9.0


def test_read_tiny_vrp():
    instance = read_cvrplib(DATA / "tiny.vrp")
    assert instance.name == "tiny-n6-k3" and instance.capacity == 10
    assert instance.coords.tolist() == [[0, 0], [3, 4], [6, 8], [-3, 4], [0, -5], [4, -3]]
    assert instance.demands.tolist() == [0, 4, 5, 3, 6, 2]
    assert instance.rounding == "nint" and instance.distances is None
    assert instance.routes_cost([[1, 2], [3], [4, 5]]) == 5 + 5 + 10 + 5 + 5 + 5 + 4 + 5


def write(tmp_path: Path, name: str, lines: list[str]) -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines + ["EOF", ""]))
    return path


def header(kind: str, n: int, weights: str) -> list[str]:
    return [f"NAME : t{n}", f"TYPE : {kind}", f"DIMENSION : {n}", f"EDGE_WEIGHT_TYPE : {weights}"]


def test_read_att_and_geo_use_tsplib_formulas(tmp_path):
    att = write(tmp_path, "a.tsp", header("TSP", 2, "ATT") + ["NODE_COORD_SECTION", "1 0 0",
                                                                "2 10 0"])  # fmt: skip
    # sqrt(100 / 10) = 3.16, nint 3 < 3.16, so 4
    assert read_tsplib(att).distances.tolist() == [[0, 4], [4, 0]]
    geo = write(tmp_path, "g.tsp", header("TSP", 2, "GEO") + ["NODE_COORD_SECTION", "1 0 0",
                                                                "2 0 1"])  # fmt: skip
    # one degree of longitude on the equator: int(6378.388 * 3.141592 / 180 + 1) = 112
    assert read_tsplib(geo).distances.tolist() == [[0, 112], [112, 0]]


def test_read_explicit_lower_row_and_ceil(tmp_path):
    lower = write(tmp_path, "l.tsp", header("TSP", 3, "EXPLICIT") + [
        "EDGE_WEIGHT_FORMAT : LOWER_ROW", "EDGE_WEIGHT_SECTION", "4", "5 6"])  # fmt: skip
    tsp = read_tsplib(lower)
    assert tsp.distances.tolist() == [[0, 4, 5], [4, 0, 6], [5, 6, 0]] and tsp.coords is None
    assert tsp.tour_cost([0, 1, 2]) == 15.0
    ceil = write(tmp_path, "c.tsp", header("TSP", 2, "CEIL_2D") + ["NODE_COORD_SECTION",
                                                                    "1 0 0", "2 1 1"])  # fmt: skip
    assert read_tsplib(ceil).distances.tolist() == [[0, 2], [2, 0]]


def test_read_cvrplib_moves_the_depot_first(tmp_path):
    path = write(tmp_path, "d.vrp", header("CVRP", 3, "EUC_2D") + [
        "CAPACITY : 5", "NODE_COORD_SECTION", "1 1 1", "2 0 0", "3 2 2",
        "DEMAND_SECTION", "1 3", "2 0", "3 4", "DEPOT_SECTION", "2", "-1"])  # fmt: skip
    instance = read_cvrplib(path)
    assert instance.coords.tolist() == [[0, 0], [1, 1], [2, 2]]
    assert instance.demands.tolist() == [0, 3, 4] and instance.capacity == 5


def test_missing_and_garbage_files_raise_input_error(tmp_path):
    for reader in (read_tsplib, read_cvrplib):
        with pytest.raises(InputError, match=r"nope\.tsp: no such file"):
            reader(tmp_path / "nope.tsp")
    garbage = tmp_path / "garbage.tsp"
    garbage.write_text("this is not\na TSPLIB file\n")
    with pytest.raises(InputError, match=r"garbage\.tsp: not a readable TSPLIB/VRPLIB file"):
        read_tsplib(garbage)
    binary = tmp_path / "binary.vrp"
    binary.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(InputError, match=r"binary\.vrp: not a readable"):
        read_cvrplib(binary)
    (tmp_path / "empty.tsp").write_text("")
    with pytest.raises(InputError, match=r"empty\.tsp: file is empty"):
        read_tsplib(tmp_path / "empty.tsp")
    with pytest.raises(InputError, match="is a directory"):
        read_tsplib(tmp_path)


@pytest.mark.parametrize(
    ("name", "lines", "message"),
    [
        ("x.tsp", header("TSP", 2, "EUC_3D") + ["NODE_COORD_SECTION", "1 0 0 0", "2 1 1 1"],
         "two coordinates per node"),
        ("y.tsp", header("TSP", 2, "MAN_2D") + ["NODE_COORD_SECTION", "1 0 0", "2 1 1"],
         "EDGE_WEIGHT_TYPE MAN_2D is not supported"),
        ("z.tsp", header("TSP", 3, "EUC_2D") + ["NODE_COORD_SECTION", "1 0 0", "2 1 1"],
         "DIMENSION is 3 but NODE_COORD_SECTION has 2 nodes"),
        ("w.tsp", header("TSP", 2, "EXPLICIT") + ["EDGE_WEIGHT_FORMAT : FULL_MATRIX",
                                                  "EDGE_WEIGHT_SECTION", "0 1", "2 0"],
         "not symmetric"),
        ("v.vrp", header("CVRP", 2, "EUC_2D") + ["CAPACITY : 3", "NODE_COORD_SECTION", "1 0 0",
                                                 "2 1 1", "DEMAND_SECTION", "1 0", "2 5"],
         "customer 1 has demand 5 > capacity 3"),
        ("u.vrp", header("CVRP", 2, "EUC_2D") + ["NODE_COORD_SECTION", "1 0 0", "2 1 1",
                                                 "DEMAND_SECTION", "1 0", "2 1"],
         "CAPACITY is missing"),
    ],
)  # fmt: skip
def test_readers_name_the_file_and_the_reason(tmp_path, name, lines, message):
    reader = read_cvrplib if name.endswith(".vrp") else read_tsplib
    with pytest.raises(InputError, match=f"{name}: .*{message}"):
        reader(write(tmp_path, name, lines))
