"""Read instance collections: generated directories, MIPLIB-style folders, registry names.

A collection is an ordered set of named MIP instances plus what is known of their optima.
Its instances are read (or generated) one at a time, when iterated, so a folder of a
thousand MIPLIB files costs nothing until used.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from hybridsolve.mip import InputError, Problem, UsageError, read

from . import registry

__all__ = [
    "MANIFEST",
    "Collection",
    "Reference",
    "instance_name",
    "load",
    "read_manifest",
    "read_solu",
]

#: File name of the manifest that ``hybridsolve generate`` writes next to the instances.
MANIFEST = "manifest.json"
#: Suffixes of model files a directory is searched for (compressed or not, any case).
MODEL_SUFFIXES = (".mps", ".lp", ".mps.gz", ".lp.gz")
_MODEL_FILE = re.compile(r"^(?P<stem>.+?)\.(mps|lp)(\.gz)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Reference:
    """What is known about an instance's optimum.

    Attributes
    ----------
    objective : float or None
        Best known objective value in the file's own sense (``None`` when unknown).
    bound : float or None
        Best known dual bound (``None`` when unknown).
    optimal : bool
        ``objective`` is proven optimal.
    infeasible : bool
        The instance is known to be infeasible.
    source : str
        Where the value comes from: ``"manifest"`` or the ``.solu`` file's name.
    """

    objective: float | None
    bound: float | None = None
    optimal: bool = False
    infeasible: bool = False
    source: str = ""


def instance_name(path: Path) -> str:
    """The instance name of a model file: its name without ``.mps``/``.lp`` and ``.gz``.

    Parameters
    ----------
    path : pathlib.Path
        A model file.

    Returns
    -------
    str
    """
    match = _MODEL_FILE.match(path.name)
    return match.group("stem") if match else path.name


def read_solu(path: str | Path) -> dict[str, Reference]:
    """Read a MIPLIB ``.solu`` file of known objective values.

    Lines are ``=opt= NAME VALUE`` (proven optimal), ``=best= NAME VALUE`` (best known),
    ``=inf= NAME`` (infeasible) or ``=unkn= NAME`` (unknown); for a name listed twice, an
    ``=opt=`` line wins over ``=best=``. Blank lines and lines starting with ``#`` are
    skipped.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.solu`` file.

    Returns
    -------
    dict of str to Reference

    Raises
    ------
    InputError
        When the file cannot be read or a line is malformed (the message names the line).
    """
    path = Path(path)
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read {path}: {error}") from None
    known: dict[str, Reference] = {}
    for number, line in enumerate(lines, 1):
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        tag = fields[0]
        try:
            if tag in ("=opt=", "=best=") and len(fields) == 3:
                value = float(fields[2])
                if not math.isfinite(value):
                    raise ValueError(value)
                if fields[1] in known and known[fields[1]].optimal and tag == "=best=":
                    continue
                known[fields[1]] = Reference(value, None, tag == "=opt=", False, path.name)
                continue
            if tag == "=inf=" and len(fields) == 2:
                known[fields[1]] = Reference(None, None, False, True, path.name)
                continue
            if tag == "=unkn=" and len(fields) == 2:
                continue
        except ValueError:
            pass
        raise InputError(f"{path}:{number}: not a .solu line: {line.strip()!r}")
    return known


def read_manifest(directory: str | Path) -> dict:
    """Read and check the manifest of a generated directory.

    Parameters
    ----------
    directory : str or pathlib.Path
        A directory written by :func:`hybridsolve.datasets.generate`.

    Returns
    -------
    dict
        The manifest (see :mod:`hybridsolve.datasets.materialize` for its fields).

    Raises
    ------
    InputError
        When the manifest is missing, not JSON, or lacks its instance list.
    """
    path = Path(directory) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(f"no {MANIFEST} in {directory}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"cannot read {path}: {error}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("instances"), list):
        raise InputError(f"{path} is not a hybridsolve manifest (no instance list)")
    for entry in manifest["instances"]:
        if not isinstance(entry, dict) or not {"name", "file"} <= entry.keys():
            raise InputError(f"{path}: every instance needs a name and a file")
    return manifest


class Collection:
    """An ordered, lazily read set of named MIP instances.

    Iterating yields ``(name, Problem)`` pairs, reading or generating each instance only
    when it is reached. Build one with :func:`load`.

    Parameters
    ----------
    label : str
        What the collection came from: the directory of a plain folder, or the distribution
        name (with ``-seed<S>`` for a base seed other than 0) of a generated directory or of
        a distribution loaded by name, so that the same instances get the same label
        wherever they were written.
    names : list of str
        Instance names, in order.
    sources : dict
        Per name, the model file (``Path``) or a ``(Distribution, split, index, seed)``
        tuple to generate it from.
    references : dict of str to Reference
        Known optima, by name.
    """

    def __init__(
        self,
        label: str,
        names: list[str],
        sources: dict[str, Path | tuple[registry.Distribution, str, int, int]],
        references: dict[str, Reference],
    ) -> None:
        self.label = label
        self._names = list(names)
        self._sources = dict(sources)
        self._references = dict(references)

    @property
    def names(self) -> list[str]:
        """Instance names in order."""
        return list(self._names)

    def __len__(self) -> int:
        return len(self._names)

    def __iter__(self) -> Iterator[tuple[str, Problem]]:
        for name in self._names:
            yield name, self.problem(name)

    def __repr__(self) -> str:
        return f"Collection({self.label!r}, {len(self)} instances)"

    def path(self, name: str) -> Path | None:
        """The model file of ``name``, or ``None`` for a generated-in-memory instance."""
        source = self._source(name)
        return source if isinstance(source, Path) else None

    def problem(self, name: str) -> Problem:
        """Read (or generate) the instance called ``name``.

        Raises
        ------
        InputError
            When its file cannot be read.
        """
        source = self._source(name)
        if isinstance(source, Path):
            return read(source)
        distribution, split, index, seed = source
        return distribution.instance(split, index, seed)

    def recipe(self, name: str) -> tuple[str, str, int, int] | None:
        """``(distribution, split, index, seed)`` of a generated-in-memory instance, else None."""
        source = self._source(name)
        if isinstance(source, Path):
            return None
        distribution, split, index, seed = source
        return distribution.name, split, index, seed

    def reference(self, name: str) -> Reference | None:
        """What is known of the optimum of ``name`` (``None`` when nothing is)."""
        self._source(name)
        return self._references.get(name)

    def _source(self, name: str):
        try:
            return self._sources[name]
        except KeyError:
            raise KeyError(f"no instance {name!r} in {self.label}") from None


def load(source: str | Path, *, split: str = "test", n: int = 100, seed: int = 0) -> Collection:
    """Open a collection of MIP instances.

    Parameters
    ----------
    source : str or pathlib.Path
        One of: a directory written by ``hybridsolve generate`` (its manifest gives the order
        and the reference values); any directory of ``.mps``/``.lp`` files, compressed or
        not, such as a Distributional MIPLIB download or MIPLIB 2017 (known objectives are
        taken from the ``.solu`` files in it); a single model file; or a registered
        distribution name, whose instances are generated in memory on demand.
    split, n, seed
        For a distribution name only: which split, how many instances, the base seed.

    Returns
    -------
    Collection

    Raises
    ------
    InputError
        For a path that does not exist, a directory that cannot be listed or holds no model
        files, or a bad manifest or ``.solu`` file.
    UsageError
        For an unknown distribution name (a string with no ``/`` and no ``.`` that is not
        an existing path), or a bad ``split``, ``n`` or ``seed``.
    """
    path = Path(source)
    if not path.exists() and isinstance(source, str) and _looks_like_a_name(source):
        return _from_distribution(registry.get(source), split, n, seed)
    if path.is_file():
        name = instance_name(path)
        return Collection(str(path), [name], {name: path}, {})
    if not path.is_dir():
        raise InputError(f"{source}: no such file or directory")
    if (path / MANIFEST).exists():
        return _from_manifest(path)
    return _from_folder(path)


def _looks_like_a_name(source: str) -> bool:
    return "/" not in source and "\\" not in source and "." not in source


def _from_distribution(
    distribution: registry.Distribution, split: str, n: int, seed: int
) -> Collection:
    if n < 0:
        raise UsageError(f"n must be >= 0, got {n}")
    distribution.seed_sequence(split, 0, seed)  # validates split and seed
    sources = {
        f"{distribution.name}-{split}-{i:04d}": (distribution, split, i, seed) for i in range(n)
    }
    return Collection(_label(distribution.name, seed), list(sources), sources, {})


def _from_manifest(directory: Path) -> Collection:
    manifest = read_manifest(directory)
    names, sources, references = [], {}, {}
    for entry in manifest["instances"]:
        name = entry["name"]
        names.append(name)
        sources[name] = directory / entry["file"]
        reference = entry.get("reference")
        if reference and reference.get("objective") is not None:
            references[name] = Reference(
                reference["objective"],
                reference.get("bound"),
                reference.get("status") == "optimal",
                False,
                "manifest",
            )
        elif reference and reference.get("status") == "infeasible":
            references[name] = Reference(None, None, False, True, "manifest")
    label = _label(str(manifest.get("distribution") or directory), manifest.get("seed") or 0)
    return Collection(label, names, sources, references)


def _label(distribution: str, seed: int) -> str:
    """A distribution's collection label: its name, with the base seed unless it is 0."""
    return distribution if seed == 0 else f"{distribution}-seed{seed}"


def _holds_models(directory: Path) -> bool:
    try:
        return any(_MODEL_FILE.match(p.name) for p in directory.iterdir())
    except OSError:
        return False


def _from_folder(directory: Path) -> Collection:
    try:
        entries = sorted(directory.iterdir())
    except OSError as error:
        raise InputError(f"cannot list {directory}: {error.strerror or error}") from None
    files = [p for p in entries if p.is_file() and _MODEL_FILE.match(p.name)]
    if not files:
        holding = [p.name for p in entries if p.is_dir() and _holds_models(p)]
        hint = f" (its subfolders {', '.join(holding)} hold some: load one)" if holding else ""
        raise InputError(f"{directory}: no model files (.mps, .lp, optionally .gz) in it{hint}")
    sources: dict[str, Path] = {}
    for file in files:
        name = instance_name(file)
        if name in sources:
            raise InputError(f"{directory}: two files for instance {name!r}")
        sources[name] = file
    references: dict[str, Reference] = {}
    for solu in (p for p in entries if p.suffix.lower() == ".solu" and p.is_file()):
        references.update(read_solu(solu))
    references = {name: ref for name, ref in references.items() if name in sources}
    return Collection(str(directory), list(sources), sources, references)
