"""FORGE: the encoder trains, its losses stay sparse, runs and embeddings are reproducible,
the shipped weights embed every registered domain, and the command lines work end to end."""

from __future__ import annotations

import json
import shlex
import shutil
from pathlib import Path, PurePath

import numpy as np
import pytest
import scipy.sparse as sp

torch = pytest.importorskip("torch")
pytest.importorskip("torch_geometric")

from torch_geometric.data import Batch  # noqa: E402

from hybridsolve.cli import main  # noqa: E402
from hybridsolve.datasets import registry  # noqa: E402
from hybridsolve.mip import Problem, ProblemError, UsageError  # noqa: E402
from hybridsolve.neural import WeightsError, manifest  # noqa: E402
from hybridsolve.neural.forge import (  # noqa: E402
    Forge,
    TrainConfig,
    embed,
    embed_many,
    negative_edges,
    train,
)
from hybridsolve.neural.forge.model import graph_index  # noqa: E402
from hybridsolve.neural.forge.train import build_parser  # noqa: E402
from hybridsolve.neural.graph import encode  # noqa: E402

DATA = Path(__file__).parents[1] / "data"
#: The smallest registered distributions: training on them takes a second.
TINY_DATA = "mknapsack-easy,itemplacement-easy,mdknapsack-easy"
TINY_MODEL = {"width": 8, "codes": 16, "rank": 2}


def _graphs(names: str = TINY_DATA, count: int = 2) -> list:
    return [encode(registry.get(name).instance("train", i)).to_data()
            for name in names.split(",") for i in range(count)]  # fmt: skip


def _batch(graphs: list):
    return Batch.from_data_list(graphs, follow_batch=["x_con", "x_var"])


def _config(tmp_path: Path, **changes) -> TrainConfig:
    settings = {"distributions": TINY_DATA, "instances_per_distribution": 3, "validation": 1,
                **TINY_MODEL, "epochs": 2, "batch_size": 3, "device": "cpu", "progress": False,
                "workdir": str(tmp_path), "output": "w/forge.pt"}  # fmt: skip
    return TrainConfig(**{**settings, **changes})


@pytest.fixture(scope="module")
def tiny_weights(tmp_path_factory) -> Path:
    """A FORGE model trained for a few steps, registered in its own folder."""
    folder = tmp_path_factory.mktemp("forge")
    entry = train(_config(folder, seed=1))
    assert entry is not None
    return folder / "w" / "forge.pt"


# ------------------------------------------------------------------ the model


def test_the_loss_falls_when_forge_trains_on_tiny_instances():
    torch.manual_seed(0)
    model = Forge(**TINY_MODEL, dropout=0.0)
    batch = _batch(_graphs())
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses, parts = [], []
    for step in range(60):
        optimizer.zero_grad()
        loss, part = model.loss(batch, torch.Generator().manual_seed(step))
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        parts.append(part)
    assert np.mean(losses[-5:]) < 0.5 * np.mean(losses[:5]), losses
    assert parts[-1]["features"] < parts[0]["features"]
    assert parts[-1]["weights"] < parts[0]["weights"]
    assert 1 <= parts[-1]["codes_used"] <= TINY_MODEL["codes"]


def test_negative_edges_match_the_real_ones_in_number_and_graph():
    batch = _batch(_graphs("mknapsack-easy,gisp-easy,itemplacement-easy", 1))
    index = graph_index(batch)
    negatives = negative_edges(batch.edge_index, index, torch.Generator().manual_seed(0))
    assert negatives.shape == batch.edge_index.shape  # as many as the real edges: O(nnz)
    real_graph = index.con[batch.edge_index[0]]
    assert torch.equal(index.con[negatives[0]], real_graph)
    assert torch.equal(index.var[negatives[1]], real_graph)
    # drawn over each graph's nodes: most pairs of a sparse graph are not edges
    real = set(map(tuple, batch.edge_index.T.tolist()))
    assert sum(tuple(pair) in real for pair in negatives.T.tolist()) < 0.2 * len(real)


def test_the_loss_holds_no_tensor_of_constraints_times_variables():
    graph = encode(registry.get("facilities-easy").instance("train", 0)).to_data()
    m, n, nnz = graph.x_con.size(0), graph.x_var.size(0), graph.edge_index.size(1)
    model = Forge(width=16, codes=32, rank=4)
    largest = [0]

    def pack(tensor):  # a sparse tensor's numel() is its dense size: count what it stores
        stored = tensor._nnz() * (1 + tensor.dim()) if tensor.is_sparse else tensor.numel()
        largest[0] = max(largest[0], stored)
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        loss, _ = model.loss(_batch([graph]))
    loss.backward()
    bound = 2 * nnz * 2 * 4 + (m + n) * 16  # sampled pairs x projections, nodes x width
    assert largest[0] <= bound < m * n / 10, (largest[0], bound, m * n)


def test_an_instance_embeds_the_same_alone_and_in_a_batch(tiny_weights):
    problems = [registry.get(name).instance("test", 0) for name in TINY_DATA.split(",")]
    together = embed_many(problems, weights=tiny_weights, device="cpu")
    for problem, batched in zip(problems, together):
        alone = embed(problem, weights=tiny_weights, device="cpu")
        assert np.array_equal(alone.codes, batched.codes)
        assert np.allclose(alone.variables, batched.variables, atol=1e-5)
        assert np.array_equal(alone.histogram, batched.histogram)
        assert alone.histogram.sum() == pytest.approx(1.0)
        assert alone.variables.shape == (problem.num_vars, TINY_MODEL["width"])
        assert alone.pooled.shape == (2 * TINY_MODEL["width"],)
        assert alone.predicted_gap is None


# ------------------------------------------------------------------ training


def test_training_is_deterministic_under_its_seed_and_resumes_bit_for_bit(tmp_path, tiny_weights):
    again = _config(tmp_path, seed=1, checkpoint="a/ck.pt", output="a/forge.pt")
    assert train(again) is not None
    first = torch.load(tiny_weights, weights_only=True)
    second = torch.load(tmp_path / "a" / "forge.pt", weights_only=True)
    assert first.keys() == second.keys() and all(torch.equal(first[k], second[k]) for k in first)
    problem = registry.get("mknapsack-easy").instance("valid", 0)
    a = embed(problem, weights=tiny_weights, device="cpu")
    b = embed(problem, weights=tmp_path / "a" / "forge.pt", device="cpu")
    assert np.array_equal(a.vector, b.vector) and np.array_equal(a.variables, b.variables)

    chunked = _config(tmp_path, seed=1, checkpoint="b/ck.pt", output="b/forge.pt", max_steps=1)
    assert train(chunked) is None  # stopped after one step, checkpoint written
    resumed = _config(tmp_path, seed=1, checkpoint="b/ck.pt", output="b/forge.pt")
    assert train(resumed, resume=True) is not None
    third = torch.load(tmp_path / "b" / "forge.pt", weights_only=True)
    assert all(torch.equal(first[k], third[k]) for k in first)

    other = _config(tmp_path, seed=2, output="c/forge.pt")
    assert train(other) is not None
    fourth = torch.load(tmp_path / "c" / "forge.pt", weights_only=True)
    assert not all(torch.equal(first[k], fourth[k]) for k in first)
    with pytest.raises(UsageError, match="codes=16 but this run has codes=32"):
        train(_config(tmp_path, seed=1, checkpoint="b/ck.pt", codes=32), resume=True)


def test_train_forge_end_to_end_writes_a_portable_manifest_entry(tmp_path, capsys):
    models = tmp_path / "models"
    models.mkdir()
    for name in ("small.mps", "knapsack.lp"):
        shutil.copy(DATA / name, models / name)
    argv = ["train", "forge", "--distributions", "mknapsack-easy,itemplacement-easy",
            "--instances-per-distribution", "2", "--validation", "1", "--width", "8",
            "--codes", "16", "--rank", "2", "--epochs", "2", "--batch-size", "2",
            "--device", "cpu", "--no-progress", "--folder", "models", "--cache", "graphs",
            "--checkpoint", "runs/ck.pt", "--output", "w/forge.pt", "--name", "tiny",
            "--workdir", str(tmp_path)]  # fmt: skip
    assert main(argv) == 0
    entry = json.loads(capsys.readouterr().out)
    assert entry["problem"] == "mip" and entry["labeller"] == "none (self-supervised)"
    assert entry["instances"] == 2 * 2 + 2 and entry["epochs"] == 2 and entry["knn"] is None
    assert entry["train_sizes"][0] <= entry["train_sizes"][1] and entry["data_seed"] == 0
    assert isinstance(entry["validation_gap"], float)  # the held-out loss
    assert entry["model"]["width"] == 8 and entry["model"]["codes"] == 16
    assert manifest(tmp_path / "w")["tiny"]["sha256"] == entry["sha256"]
    assert len(list((tmp_path / "graphs").glob("*.npz"))) == 2 * 2 + 2 + 2  # valid ones too
    words = shlex.split(entry["train_command"])
    assert words[:3] == ["hybridsolve", "train", "forge"] and "--workdir" not in words
    assert str(tmp_path) not in entry["train_command"]
    args = vars(build_parser().parse_args(words[3:]))
    args.pop("resume")
    config = TrainConfig(**{**args, "workdir": str(tmp_path)})
    assert config.folder == ("models",) and config.output == "w/forge.pt"
    assert config.command() == entry["train_command"]
    assert embed(DATA / "small.mps", weights=tmp_path / "w" / "forge.pt").histogram.size == 16


def test_train_forge_usage_errors_are_one_line(tmp_path, capsys):
    assert main(["train", "forge", "--distributions", "setcover-trivial", "--no-progress",
                 "--workdir", str(tmp_path)]) == 2  # fmt: skip
    err = capsys.readouterr().err.strip()
    assert "setcover-trivial" in err and len(err.splitlines()) == 1
    outside = ["train", "forge", "--folder", str(tmp_path), "--workdir", str(tmp_path / "in")]
    (tmp_path / "in").mkdir()
    assert main(outside) == 2
    err = capsys.readouterr().err.strip()
    assert "lies outside the working folder" in err and len(err.splitlines()) == 1
    assert main(["train", "forge", "--codes", "0", "--no-progress"]) == 2
    assert "codes must be a positive integer" in capsys.readouterr().err


# ------------------------------------------------------------------ shipped weights and errors


def test_the_shipped_weights_record_a_portable_command():
    entry = manifest()["forge"]
    assert entry["problem"] == "mip" and entry["labeller"] == "none (self-supervised)"
    assert entry["instances"] > 0 and entry["seconds"] > 0
    words = shlex.split(entry["train_command"])
    assert words[:3] == ["hybridsolve", "train", "forge"] and "--workdir" not in words
    args = vars(build_parser().parse_args(words[3:]))
    args.pop("resume")
    config = TrainConfig(**args)  # run from a checkout's root: paths relative to it
    for field in ("checkpoint", "cache", "output"):
        value = getattr(config, field)
        assert value is None or not PurePath(value).is_absolute() and ".." not in value, value
    assert config.command() == entry["train_command"]
    assert PurePath(config.output).name == entry["file"] and config.registry_name() == "forge"
    assert entry["model"] == Forge(config.model()).config()


def test_the_shipped_weights_embed_an_instance_of_every_domain():
    first = {}
    for name in registry.distributions():
        first.setdefault(registry.get(name).domain, name)  # the easy level: the smallest
    problems = [registry.get(name).instance("test", 0) for name in first.values()]
    embeddings = embed_many(problems, device="cpu")
    codes = manifest()["forge"]["model"]["codes"]
    for problem, embedding in zip(problems, embeddings):
        assert embedding.histogram.shape == (codes,) and np.isfinite(embedding.vector).all()
        assert embedding.histogram.sum() == pytest.approx(1.0)
        assert embedding.codes.shape == (problem.num_vars,) and embedding.codes.max() < codes
        assert embedding.num_cons == problem.num_cons and embedding.codes_used >= 1
    distinct = {tuple(np.round(e.vector, 6)) for e in embeddings}
    assert len(distinct) == len(embeddings)  # eleven domains, eleven embeddings


def test_an_empty_model_is_a_one_line_error(tiny_weights):
    empty = Problem.from_arrays(np.zeros(0), sp.csr_matrix((2, 0)), 0.0, 1.0, name="empty")
    with pytest.raises(ProblemError, match="empty: the model has no variables") as error:
        embed(empty, weights=tiny_weights)
    assert "\n" not in str(error.value)


def test_an_lp_without_integers_embeds_like_any_model(tiny_weights):
    lp = embed(DATA / "lp_only.mps", weights=tiny_weights, device="cpu")
    assert lp.num_vars == 3 and lp.histogram.sum() == pytest.approx(1.0)


def test_corrupt_weights_are_a_weights_error_and_exit_code_3(tiny_weights, tmp_path, capsys):
    folder = tmp_path / "w"
    shutil.copytree(tiny_weights.parent, folder)
    weights = folder / tiny_weights.name
    weights.write_bytes(weights.read_bytes()[:100])
    with pytest.raises(WeightsError, match="corrupt or modified"):
        embed(DATA / "small.mps", weights=weights)
    assert main(["embed", str(DATA / "small.mps"), "--weights", str(weights)]) == 3
    err = capsys.readouterr().err.strip()
    assert "corrupt or modified" in err and len(err.splitlines()) == 1


# ------------------------------------------------------------------ hybridsolve embed


def test_embed_json_and_npz_end_to_end(tmp_path, capsys):
    files = [str(DATA / "small.mps"), str(DATA / "knapsack.lp")]
    assert main(["embed", *files, "--json", "--device", "cpu"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [item["file"] for item in out] == files
    expected = embed_many(files, device="cpu")
    for item, embedding in zip(out, expected):
        assert np.allclose(item["embedding"], embedding.vector)
        assert item["codes_used"] == embedding.codes_used
        assert item["predicted_gap"] == pytest.approx(embedding.predicted_gap)
        assert item["variables"] == embedding.num_vars
    npz = tmp_path / "e.npz"
    assert main(["embed", *files, "--out", str(npz), "--variables"]) == 0
    assert "2 embedding(s) written" in capsys.readouterr().out
    with np.load(npz) as saved:
        assert saved["embeddings"].shape == (2, expected[0].vector.size)
        assert list(saved["files"]) == files
        assert np.allclose(saved["predicted_gap"], [e.predicted_gap for e in expected])
        counts = saved["variable_counts"]
        assert list(counts) == [e.num_vars for e in expected]
        parts = np.split(saved["variables"], np.cumsum(counts)[:-1])
        assert all(np.allclose(p, e.variables) for p, e in zip(parts, expected))


def test_embed_of_an_unreadable_file_is_exit_code_3(tmp_path, capsys):
    assert main(["embed", str(tmp_path / "missing.mps")]) == 3
    err = capsys.readouterr().err.strip()
    assert "missing.mps" in err and len(err.splitlines()) == 1
    assert main(["embed", str(DATA / "small.mps"), "--variables"]) == 2
    assert "--variables needs --out" in capsys.readouterr().err
