"""UDC divide-and-conquer: split/stitch, rounds that never lengthen, CVRP groups, memory, errors."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from hybridsolve import comb
from hybridsolve.cli import main
from hybridsolve.comb import TSP
from hybridsolve.comb._search import Tracker
from hybridsolve.datasets import read_tsplib, write_tsplib
from hybridsolve.datasets.routing import cvrp, tsp_uniform
from hybridsolve.mip.errors import ProblemError, UsageError
from hybridsolve.neural.bq import load_policy
from hybridsolve.neural.bq.tsp import unit_coords
from hybridsolve.neural.udc import Conqueror, conquer, split, stitch, udc
from hybridsolve.neural.udc.cvrp import conquer as conquer_groups
from hybridsolve.neural.udc.cvrp import groups
from hybridsolve.neural.udc.tsp import offset, path_costs
from hybridsolve.neural.weights import WeightsError


def _conqueror(problem: str = "tsp", variants: int = 2) -> Conqueror:
    policy, entry = load_policy(problem, device="cpu")
    return Conqueror(policy.eval(), entry["knn"], variants, 1, None, torch.device("cpu"), 256)


@pytest.mark.parametrize("n, size, start", [(10, 3, 0), (101, 25, 7), (250, 100, 199), (5, 100, 2)])
def test_split_and_stitch_give_back_the_same_tour(n, size, start):
    tour = np.random.default_rng(n).permutation(n)
    pieces = split(tour, size, start)
    assert len(pieces) == -(-n // size)
    assert max(p.size for p in pieces) - min(p.size for p in pieces) <= 1
    assert np.array_equal(np.sort(np.concatenate(pieces)), np.arange(n))
    assert pieces[0][0] == tour[start % n]
    assert np.array_equal(stitch(pieces, start), tour)


def test_rounds_shift_the_split_points():
    starts = [offset(r, 100) for r in range(6)]
    assert starts[0] == 0 and starts[1] == 50  # the reunion: half a sub-path
    assert len(set(starts)) == 6  # no two of these rounds cut at the same seams
    assert all(0 <= s < 100 for s in starts)


def test_a_round_never_lengthens_and_keeps_end_points():
    instance = tsp_uniform(np.random.default_rng(5), 300)
    tour = comb.solve(instance, "space_filling").tour
    pieces = split(tour, 60, 13)
    new, improved = conquer(instance, unit_coords(instance.coords), pieces, _conqueror())
    assert improved > 0  # a space-filling curve is far from optimal: some piece improves
    changed = 0
    for old, piece in zip(pieces, new):
        assert piece[0] == old[0] and piece[-1] == old[-1]
        assert np.array_equal(np.sort(piece), np.sort(old))
        old_cost, new_cost = path_costs(instance, np.stack([old, piece]))
        assert new_cost <= old_cost + 1e-12
        changed += not np.array_equal(piece, old)
    assert changed == improved
    assert instance.tour_cost(stitch(new, 13)) < instance.tour_cost(tour)


def test_udc_solves_a_tsp_deterministically_and_never_worse_than_its_start():
    instance = tsp_uniform(np.random.default_rng(11), 400)
    start = comb.solve(instance, "greedy").cost
    first = comb.solve(instance, "udc", rounds=3, seed=4)
    again = comb.solve(instance, "udc", rounds=3, seed=4)
    assert np.array_equal(first.tour, again.tour)
    assert first.trajectory[0][1] == pytest.approx(start)
    costs = [cost for _, cost in first.trajectory]
    assert costs == sorted(costs, reverse=True)
    assert first.cost < start
    sampled = [comb.solve(instance, "udc", rounds=2, sampling=True, seed=s).tour for s in (1, 1)]
    assert np.array_equal(*sampled)


def test_udc_polish_and_the_tsplib_rounding():
    xy = np.round(tsp_uniform(np.random.default_rng(2), 300).coords * 10**6)
    instance = TSP(coords=xy, rounding="nint")
    rounds = comb.solve(instance, "udc", rounds=2)
    polished = comb.solve(instance, "udc", rounds=2, polish=True)
    assert polished.cost <= rounds.cost
    assert float(rounds.cost).is_integer()


def test_cvrp_groups_partition_the_routes():
    instance = cvrp(np.random.default_rng(3), 300)
    routes = list(comb.solve(instance, "sweep").routes)
    unit = unit_coords(instance.coords)
    for r in range(4):
        parts = groups(unit, routes, 60, r)
        flat = sorted(i for part in parts for i in part)
        assert flat == list(range(len(routes)))
        held = [sum(routes[i].size for i in part) for part in parts]
        assert min(held) >= 30  # a short last run joins the one before it


def test_cvrp_conquer_serves_every_customer_once_within_capacity():
    instance = cvrp(np.random.default_rng(4), 300)
    routes = list(comb.solve(instance, "sweep").routes)
    parts = groups(unit_coords(instance.coords), routes, 100, 0)
    new, improved = conquer_groups(instance, routes, parts, _conqueror("cvrp", 4))
    assert improved > 0
    instance.check_routes(new)
    assert np.array_equal(np.sort(np.concatenate(new)), np.arange(1, instance.num_nodes))
    assert (instance.route_loads(new) <= instance.capacity).all()
    assert instance.routes_cost(new) < instance.routes_cost(routes)
    solution = comb.solve(instance, "udc", rounds=2, start="savings")
    assert solution.cost <= comb.solve(instance, "savings").cost + 1e-9


def test_udc_keeps_a_time_limit_to_about_one_batch():
    instance = tsp_uniform(np.random.default_rng(8), 3000)
    tracker = Tracker(time_limit=2.0)
    tour = udc(instance, tracker=tracker, variants=4)
    instance.check_tour(tour)
    assert tracker.elapsed() < 2.0 + 1.5  # a round alone takes longer than the limit


def test_twenty_thousand_nodes_stay_in_o_n_k_memory(tmp_path):
    """Peak RSS of a 20,000-node run, measured in a child process, against a dense matrix."""
    script = textwrap.dedent(
        """
        import json, resource, sys
        import numpy as np, torch
        torch.set_num_threads(1)
        from hybridsolve import comb
        from hybridsolve.datasets.routing import tsp_uniform
        instance = tsp_uniform(np.random.default_rng(20), 20000)
        comb.warm_up(instance, "udc")
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        found = comb.solve(instance, "udc", rounds=1, variants=1)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"before": before, "peak": peak, "cost": found.cost,
                          "start": found.trajectory[0][1]}))
        """
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=600, check=True)  # fmt: skip
    facts = json.loads(out.stdout.strip().splitlines()[-1])
    dense = 20000**2 * 4 / 1024  # a float32 distance matrix, in KiB like ru_maxrss
    assert facts["peak"] - facts["before"] < dense / 8  # 200 MB: far below one matrix
    assert facts["cost"] < facts["start"]


def test_bad_options_and_weights_are_one_line_errors(tmp_path):
    instance = tsp_uniform(np.random.default_rng(1), 50)
    for options, words in [
        ({"size": 2}, "size must be"),
        ({"variants": 17}, "variants must be between 1 and 16"),
        ({"divider": "magic"}, "divider must be one of heuristic, learned"),
        ({"start": "ils"}, "start must be one of"),
        ({"rounds": "many"}, "rounds must be an integer"),
        ({"polish": "perhaps"}, "polish must be true or false"),
        ({"knn": "far"}, "knn must be an integer"),
    ]:
        with pytest.raises(UsageError, match=words) as err:
            comb.solve(instance, "udc", **options)
        assert "\n" not in str(err.value)
    with pytest.raises(WeightsError) as err:
        comb.solve(instance, "udc", weights=str(tmp_path / "none.pt"))
    assert "\n" not in str(err.value)
    matrix_only = TSP(distances=np.ones((5, 5)) - np.eye(5))
    with pytest.raises(UsageError, match="needs node coordinates"):
        comb.solve(matrix_only, "udc")
    with pytest.raises(UsageError, match="the learned divider is for the TSP"):
        comb.solve(cvrp(np.random.default_rng(1), 30), "udc", divider="learned")
    with pytest.raises(ProblemError, match="UDC solves TSP and CVRP"):
        udc(comb.KP(values=[1, 2], weights=[1, 1], capacity=1), tracker=Tracker())


def test_cli_runs_udc_on_a_tsplib_file(tmp_path, capsys):
    xy = np.round(tsp_uniform(np.random.default_rng(6), 2000).coords * 10**6)
    path = write_tsplib(TSP(coords=xy, rounding="nint", name="u2000"), tmp_path / "u2000.tsp")
    assert np.array_equal(read_tsplib(path).coords, xy)
    code = main(["tsp", str(path), "--method", "udc", "--time-limit", "20",
                 "--option", "rounds=2"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "round 1: cost" in out and "round 2: cost" in out
    assert "method udc" in out.splitlines()[-1]
    code = main(["tsp", str(path), "--method", "udc", "--option", "size=1"])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.strip().count("\n") == 0 and "size must be" in captured.err
    assert main(["cvrp", "nowhere.vrp", "--method", "udc"]) != 0
