"""Write the instances of a distribution to a directory, with a manifest and references.

The manifest (``manifest.json``) records, for the collection: ``format``, ``distribution``,
``generator``, ``params``, ``split``, ``seed`` and ``created_by``; and per instance:
``name``, ``file``, ``index``, ``num_vars``, ``num_cons``, ``num_integer``, ``nonzeros``,
``sha256`` of the file's bytes, and ``reference`` (``null`` until computed; then
``objective``, ``bound``, ``status``, ``solver``, ``time_limit``, ``seconds``).
Files are gzipped free MPS written by :func:`hybridsolve.mip.write`, byte for byte the same
for the same distribution, split, index and seed.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from hybridsolve.mip import InputError, UsageError, read, write

from . import registry
from .loader import MANIFEST

__all__ = ["FORMAT", "generate", "solve_reference"]

#: Identifies the manifest layout; bumped when fields change meaning.
FORMAT = "hybridsolve-dataset/1"


def _created_by() -> str:
    try:
        return f"hybridsolve {version('hybridsolve')}"
    except PackageNotFoundError:
        return "hybridsolve"


def _write_manifest(directory: Path, manifest: dict) -> None:
    path = directory / MANIFEST
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(manifest, indent=1, allow_nan=False) + "\n")
    os.replace(partial, path)


def solve_reference(path: str | Path, time_limit: float) -> dict:
    """Solve one model file with single-threaded SCIP and describe what it found.

    Parameters
    ----------
    path : str or pathlib.Path
        The model file.
    time_limit : float
        Wall-clock limit in seconds.

    Returns
    -------
    dict
        ``objective`` and ``bound`` (``None`` when unknown), ``status``, ``solver``,
        ``time_limit`` and ``seconds``: the manifest's ``reference`` entry.
    """
    from hybridsolve.solvers import solve

    start = time.perf_counter()
    result = solve(read(path), "scip", time_limit=time_limit, threads=1, seed=0)
    return {
        "objective": result.objective,
        "bound": result.dual_bound,
        "status": result.status.value,
        "solver": "scip",
        "time_limit": time_limit,
        "seconds": round(time.perf_counter() - start, 3),
    }


def generate(
    name: str,
    out: str | Path,
    *,
    split: str = "test",
    n: int = 100,
    seed: int = 0,
    reference_time: float | None = None,
    jobs: int = 1,
    progress: Callable[[str], None] | None = None,
) -> dict:
    """Write ``n`` instances of a registered distribution and their manifest to ``out``.

    Parameters
    ----------
    name : str
        Registered distribution, e.g. ``"setcover-easy"``.
    out : str or pathlib.Path
        Output directory, created when missing. Files of an earlier run with the same
        distribution, split and seed are overwritten with identical bytes, and their
        reference values are kept when computed with at least ``reference_time``, so an
        interrupted ``--solve-reference`` run resumes.
    split : {"train", "valid", "test"}
        Which split.
    n : int
        Number of instances (indices ``0 .. n-1`` of the split).
    seed : int
        Base seed; 0 gives the published splits.
    reference_time : float, optional
        When given, solve every instance with SCIP for at most this many seconds and store
        the best objective and bound in the manifest.
    jobs : int
        Reference solves run side by side (each single-threaded, in its own process).
    progress : callable, optional
        Called with one line of text per written file and per reference solve.

    Returns
    -------
    dict
        The manifest, as written.

    Raises
    ------
    UsageError
        For an unknown distribution or split, a negative ``n``, ``seed`` or
        ``reference_time``, ``jobs < 1``, or an ``out`` that holds another distribution,
        split or seed.
    InputError
        When ``out`` exists but is not a writable directory.
    """
    distribution = registry.get(name)
    distribution.seed_sequence(split, 0, seed)
    if n < 0:
        raise UsageError(f"--n must be >= 0, got {n}")
    if reference_time is not None and not reference_time > 0:
        raise UsageError(f"the reference time limit must be > 0 seconds, got {reference_time}")
    if jobs < 1:
        raise UsageError(f"jobs must be >= 1, got {jobs}")
    directory = Path(out)
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InputError(f"cannot create {directory}: {error.strerror or error}") from None
    say = progress or (lambda line: None)
    earlier = _earlier_references(directory, distribution.name, split, seed)

    manifest = {
        "format": FORMAT,
        "distribution": distribution.name,
        "generator": distribution.generator.__name__,
        "params": dict(distribution.params),
        "split": split,
        "seed": seed,
        "created_by": _created_by(),
        "instances": [],
    }
    for index in range(n):
        problem = distribution.instance(split, index, seed)
        file = f"{problem.name}.mps.gz"
        try:
            write(problem, directory / file)
        except OSError as error:
            raise InputError(f"cannot write {directory / file}: {error.strerror}") from None
        digest = hashlib.sha256((directory / file).read_bytes()).hexdigest()
        reference = earlier.get((problem.name, digest))
        if reference is not None and (reference_time or 0) > reference.get("time_limit", 0):
            reference = None
        manifest["instances"].append({
            "name": problem.name,
            "file": file,
            "index": index,
            "num_vars": problem.num_vars,
            "num_cons": problem.num_cons,
            "num_integer": int(problem.integrality.sum()),
            "nonzeros": int(problem.A.nnz),
            "sha256": digest,
            "reference": reference,
        })  # fmt: skip
        say(f"wrote {directory / file} ({problem.num_vars} vars, {problem.num_cons} cons)")
    _write_manifest(directory, manifest)

    if reference_time is not None:
        _solve_references(directory, manifest, reference_time, jobs, say)
    return manifest


def _earlier_references(directory: Path, name: str, split: str, seed: int) -> dict:
    """Reference values of an earlier run into ``directory`` for the same instances."""
    path = directory / MANIFEST
    if not path.exists():
        return {}
    try:
        old = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return {}
    held = (old.get("distribution"), old.get("split"), old.get("seed"))
    if held != (name, split, seed):
        raise UsageError(
            f"{directory} already holds {held[0]} ({held[1]} split, seed {held[2]}); "
            "write to another directory"
        )
    return {
        (entry["name"], entry["sha256"]): entry["reference"]
        for entry in old.get("instances", [])
        if isinstance(entry, dict) and entry.get("reference") and "sha256" in entry
    }


def _solve_references(
    directory: Path, manifest: dict, time_limit: float, jobs: int, say: Callable[[str], None]
) -> None:
    todo = [entry for entry in manifest["instances"] if entry["reference"] is None]
    for entry in manifest["instances"]:
        if entry["reference"] is not None:
            say(f"{entry['name']}: reference kept from an earlier run")
    if not todo:
        return
    context = multiprocessing.get_context("spawn")
    tasks = [(directory / entry["file"], time_limit) for entry in todo]
    with context.Pool(jobs, maxtasksperchild=1) as pool:
        for entry, reference in zip(todo, pool.imap(_solve_task, tasks)):
            entry["reference"] = reference
            _write_manifest(directory, manifest)
            say(
                f"{entry['name']}: {reference['status']} objective {reference['objective']} "
                f"bound {reference['bound']} in {reference['seconds']:.1f} s"
            )


def _solve_task(task: tuple[Path, float]) -> dict:
    return solve_reference(*task)
