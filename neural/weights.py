"""A registry of trained weights: ``.pt`` state dicts next to one ``manifest.json``.

The shipped registry is the package's ``weights/`` folder. Its ``manifest.json`` maps each
name to an entry with the fields in :data:`FIELDS`: the file and its sha256, the problem,
the model's constructor hyper-parameters, how the weights were trained (sizes, number of
training instances, the labeller of their expert solutions, the candidate restriction
``knn`` of its training states (the default of decoding), data seed, the command that
reproduces them, epochs, seconds, device, torch version, date) and the
validation gap reached. Training runs write registries of their own in the same format with
:func:`save` and :func:`register`; :func:`load` reads either.

No string of an entry may hold an absolute path (``/...``, ``~``, ``C:\\...``): a manifest
travels with its files, so the recorded command names its paths relative to the working
folder it is run from (the repository root for the shipped weights).

Files are read with ``torch.load(..., weights_only=True)``, which unpickles tensors and
plain containers only; :func:`load_model` builds a model from an entry's ``model`` field and
loads its weights into it. Every problem with a weights file or a manifest raises
:class:`WeightsError`, one line, exit code 3.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hybridsolve.mip.errors import InputError, UsageError

from . import runtime
from .pt_reader import PtFormatError, read_state_dict
from .runtime import device, require_torch

if TYPE_CHECKING:
    import torch

__all__ = [
    "DIRECTORY",
    "FIELDS",
    "MANIFEST",
    "WeightsError",
    "available",
    "load",
    "load_arrays",
    "load_model",
    "manifest",
    "register",
    "save",
]

#: The shipped registry, inside the installed package.
DIRECTORY = Path(__file__).resolve().parent / "weights"
#: File name of a registry's manifest.
MANIFEST = "manifest.json"
#: Fields of a manifest entry and the types their JSON values may take.
FIELDS: dict[str, tuple[type, ...]] = {
    "file": (str,),
    "sha256": (str,),
    "problem": (str,),
    "model": (dict,),
    "train_sizes": (list,),
    "instances": (int,),
    "labeller": (str,),
    "knn": (int, type(None)),
    "data_seed": (int,),
    "train_command": (str,),
    "validation_gap": (float, int, type(None)),
    "device": (str,),
    "epochs": (int,),
    "seconds": (float, int),
    "torch_version": (str,),
    "created": (str,),
}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_SHA256 = re.compile(r"[0-9a-f]{64}")
#: An absolute path inside a string, at its start or at the start of a word (after a space,
#: ``=``, a quote, a bracket or a comma): a POSIX root (``/x``), a home folder (``~``,
#: ``~/x``, ``~user/x``), a Windows drive (``C:\x``, ``C:/x``) or a UNC share
#: (``\\host``). Words such as ``~5%``, ``5/7`` or ``n/a`` are not paths.
_ABSOLUTE = re.compile(
    r"""(?:^|(?<=[\s=,'"(\[]))
        (?: /(?=\S) | ~[\w.-]*(?=/|[\s'"),\]]|$) | [A-Za-z]:[\\/] | \\\\ )
        [^\s'"]*""",
    re.VERBOSE,
)


class WeightsError(InputError):
    """A weights file or manifest that cannot be used: missing, corrupt, modified or mismatched."""


def _entry_problem(entry: Any) -> str | None:
    """What is wrong with a manifest entry, or ``None`` when it is complete and well typed."""
    if not isinstance(entry, dict):
        return f"is a {type(entry).__name__}, not an object"
    missing = [field for field in FIELDS if field not in entry]
    if missing:
        return "lacks " + ", ".join(repr(field) for field in missing)
    unknown = sorted(set(entry) - set(FIELDS))
    if unknown:
        return "has unknown field(s) " + ", ".join(repr(field) for field in unknown)
    for field, types in FIELDS.items():
        if not isinstance(entry[field], types):
            wanted = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            return f"field {field!r} should be {wanted}, not {type(entry[field]).__name__}"
    if Path(entry["file"]).name != entry["file"] or not entry["file"].endswith(".pt"):
        return f"field 'file' should be a bare '.pt' file name, not {entry['file']!r}"
    if not _SHA256.fullmatch(entry["sha256"]):
        return "field 'sha256' is not 64 lowercase hex digits"
    for field in FIELDS:
        found = _absolute_path(entry[field])
        if found is not None:
            return (
                f"field {field!r} holds the absolute path {found!r}; record paths relative to "
                "the working folder the command is run from"
            )
    return None


def _absolute_path(value: Any) -> str | None:
    """The first absolute path in a JSON value's strings (walked recursively), or ``None``."""
    if isinstance(value, str):
        match = _ABSOLUTE.search(value)
        return None if match is None else match.group(0)
    if isinstance(value, dict):
        value = [*value.keys(), *value.values()]
    if isinstance(value, list):
        for item in value:
            found = _absolute_path(item)
            if found is not None:
                return found
    return None


def _state_dict_problem(obj: Any) -> str | None:
    """What keeps ``obj`` from being a state dict, or ``None`` when it is one."""
    torch = require_torch()
    if not isinstance(obj, dict):
        return f"holds a {type(obj).__name__}, not a state dict (parameter names to tensors)"
    for key, value in obj.items():
        if not isinstance(key, str):
            return f"has a {type(key).__name__} key {key!r}; state dict keys are names"
        if not isinstance(value, torch.Tensor):
            return f"maps {key!r} to a {type(value).__name__}, not a tensor"
    return None


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file, so readers never see half of it."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)


def manifest(directory: str | os.PathLike[str] | None = None) -> dict[str, dict[str, Any]]:
    """The entries of a registry's ``manifest.json``, by name.

    Parameters
    ----------
    directory : path-like, optional
        A registry folder; the shipped one when omitted.

    Returns
    -------
    dict
        Name to entry (a fresh copy; editing it changes nothing on disk).

    Raises
    ------
    WeightsError
        The manifest is missing, not JSON, or holds an incomplete or mistyped entry, or
        one with an absolute path.
    """
    path = Path(DIRECTORY if directory is None else directory) / MANIFEST
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WeightsError(f"no {MANIFEST} in {path.parent}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WeightsError(f"{path}: cannot be read ({exc})") from None
    except json.JSONDecodeError as exc:
        raise WeightsError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(entries, dict):
        raise WeightsError(f"{path}: should be a JSON object mapping names to entries")
    for name, entry in entries.items():
        problem = _entry_problem(entry)
        if problem is not None:
            raise WeightsError(f"{path}: entry {name!r} {problem}")
    return entries


def available(problem: str | None = None) -> list[str]:
    """Names of the shipped weights, sorted.

    Parameters
    ----------
    problem : str, optional
        Only the weights trained for this problem (the entries' ``problem`` field).

    Returns
    -------
    list of str
    """
    return sorted(
        name for name, entry in manifest().items() if problem is None or entry["problem"] == problem
    )


def save(
    state_dict: dict[str, torch.Tensor], path: str | os.PathLike[str], *, entry: dict[str, Any]
) -> dict[str, Any]:
    """Write a state dict to a ``.pt`` file and complete its manifest entry.

    Tensors are detached and copied to the CPU first, so the file carries no device and no
    storage beyond its own tensors. The shipped manifest is not touched; pass the returned
    entry to :func:`register`.

    Parameters
    ----------
    state_dict : dict of str to torch.Tensor
        The model's parameters.
    path : path-like
        The ``.pt`` file to write; its folder is created when missing.
    entry : dict
        Every field of :data:`FIELDS` except ``file``, ``sha256`` and ``torch_version``,
        which are filled in here (and replaced if present).

    Returns
    -------
    dict
        The completed entry.

    Raises
    ------
    UsageError
        ``path`` does not end in ``.pt``, ``state_dict`` is not a dict of tensors, or the
        entry lacks a field, has an unknown one or a wrongly typed one, or holds an
        absolute path.
    """
    torch = require_torch()
    path = Path(path)
    if path.suffix != ".pt":
        raise UsageError(f"weights files end in '.pt', not {path.name!r}")
    problem = _state_dict_problem(state_dict)
    if problem is not None:
        raise UsageError(f"save(): the state dict {problem}")
    buffer = io.BytesIO()
    torch.save({key: value.detach().cpu().clone() for key, value in state_dict.items()}, buffer)
    data = buffer.getvalue()
    completed = {
        **entry,
        "file": path.name,
        "sha256": _sha256(data),
        "torch_version": torch.__version__,
    }
    problem = _entry_problem(completed)
    if problem is not None:
        raise UsageError(f"save(): the entry {problem}")
    path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(path, data)
    return completed


def register(name: str, entry: dict[str, Any], directory: str | os.PathLike[str]) -> Path:
    """Add or replace ``name`` in the ``manifest.json`` of a registry folder.

    Parameters
    ----------
    name : str
        Letters, digits, ``.``, ``_`` and ``-``, starting with a letter or digit.
    entry : dict
        A complete entry, as :func:`save` returns it.
    directory : path-like
        The registry folder; the entry's ``file`` must already be in it. Its manifest is
        created when missing.

    Returns
    -------
    pathlib.Path
        The manifest written.

    Raises
    ------
    UsageError
        A bad name or an incomplete entry.
    WeightsError
        The entry's file is not in ``directory`` or its sha256 differs from the entry's, or
        the existing manifest is unreadable.
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise UsageError(f"bad weights name {name!r}: use letters, digits, '.', '_' and '-'")
    problem = _entry_problem(entry)
    if problem is not None:
        raise UsageError(f"register({name!r}): the entry {problem}")
    directory = Path(directory)
    weights_file = directory / entry["file"]
    if not weights_file.is_file():
        raise WeightsError(f"register({name!r}): {weights_file} does not exist")
    if _sha256(weights_file.read_bytes()) != entry["sha256"]:
        raise WeightsError(f"register({name!r}): {weights_file} does not match the entry's sha256")
    path = directory / MANIFEST
    entries = manifest(directory) if path.exists() else {}
    entries[name] = entry
    text = json.dumps(entries, indent=2, sort_keys=True) + "\n"
    _write_atomically(path, text.encode("utf-8"))
    return path


def _locate(name_or_path: str | os.PathLike[str]) -> tuple[Path, dict[str, Any]]:
    """The weights file and its manifest entry (empty when no manifest describes it)."""
    if isinstance(name_or_path, os.PathLike) or str(name_or_path).endswith(".pt"):
        path = Path(name_or_path)
        if not (path.parent / MANIFEST).exists():
            return path, {}
        entries = manifest(path.parent).values()
        return path, next((entry for entry in entries if entry["file"] == path.name), {})
    entries = manifest()
    if name_or_path not in entries:
        names = ", ".join(sorted(entries)) or "none are shipped yet"
        raise WeightsError(f"unknown weights {name_or_path!r}; available: {names}")
    entry = entries[name_or_path]
    return DIRECTORY / entry["file"], entry


def _check_shapes(
    state_dict: dict[str, torch.Tensor], expected: dict[str, tuple[int, ...]], path: Path
) -> None:
    """Raise :class:`WeightsError` at the first parameter that is missing, extra or misshapen."""
    for key, shape in expected.items():
        shape = tuple(shape)
        if key not in state_dict:
            raise WeightsError(f"{path}: parameter {key!r} of shape {shape} is missing")
        found = tuple(state_dict[key].shape)
        if found != shape:
            raise WeightsError(
                f"{path}: parameter {key!r} has shape {found} but the model expects {shape} "
                "(trained with other hyper-parameters?)"
            )
    for key, value in state_dict.items():
        if key not in expected:
            raise WeightsError(
                f"{path}: unexpected parameter {key!r} of shape {tuple(value.shape)}"
            )


def load(
    name_or_path: str | os.PathLike[str],
    *,
    map_location: str | torch.device = "cpu",
    expected: dict[str, tuple[int, ...]] | None = None,
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Read a state dict by registry name or from a ``.pt`` file.

    Parameters
    ----------
    name_or_path : str or path-like
        A name in the shipped registry, or the path of a ``.pt`` file (a ``PathLike`` or a
        string ending in ``.pt``). A file's entry is looked up by file name in the
        ``manifest.json`` beside it; without one the entry is empty and no checksum is
        checked.
    map_location : str or torch.device, default "cpu"
        Where the tensors go; a string is resolved like :func:`~.runtime.device`'s ``spec``
        (``"auto"`` included).
    expected : dict of str to tuple of int, optional
        The model's parameter shapes; every name must be present with its shape, and no
        other name may be.

    Returns
    -------
    state_dict : dict of str to torch.Tensor
    entry : dict
        The manifest entry (empty when none describes the file).

    Raises
    ------
    WeightsError
        Unknown name, missing file, checksum mismatch, a file torch cannot read, content
        that is not a state dict, or shapes that do not match ``expected``.
    UsageError
        A bad ``map_location``, or torch is missing.
    """
    torch = require_torch()
    where = map_location if isinstance(map_location, torch.device) else device(map_location)
    path, entry = _locate(name_or_path)
    data = _checked_bytes(path, entry)
    try:
        state_dict = torch.load(io.BytesIO(data), map_location=where, weights_only=True)
    except Exception as exc:  # bad bytes raise many types, with long multi-line messages
        raise WeightsError(
            f"{path}: torch cannot read it ({type(exc).__name__}); the file is corrupt or not "
            "a torch weights file"
        ) from None
    problem = _state_dict_problem(state_dict)
    if problem is not None:
        raise WeightsError(f"{path}: {problem}")
    if expected is not None:
        _check_shapes(state_dict, expected, path)
    return state_dict, entry


def _checked_bytes(path: Path, entry: dict[str, Any]) -> bytes:
    """The file's bytes, checked against the entry's sha256 when there is an entry."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise WeightsError(f"weights file {path} does not exist") from None
    except OSError as exc:
        raise WeightsError(f"weights file {path} cannot be read ({exc.strerror})") from None
    if entry and _sha256(data) != entry["sha256"]:
        raise WeightsError(
            f"{path}: sha256 {_sha256(data)[:12]}... differs from the manifest's "
            f"{entry['sha256'][:12]}...: the file is corrupt or modified"
        )
    return data


def load_arrays(
    name_or_path: str | os.PathLike[str], *, problem: str | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A state dict as numpy arrays, and its manifest entry, without importing torch.

    For numpy inference (:mod:`.hints.inference`); the file is checked as by :func:`load`
    and read by :func:`~.pt_reader.read_state_dict`.

    Parameters
    ----------
    name_or_path : str or path-like
        A name in the shipped registry or a registered ``.pt`` file.
    problem : str, optional
        The problem the weights must have been trained for.

    Returns
    -------
    arrays : dict of str to numpy.ndarray
    entry : dict
        The manifest entry.

    Raises
    ------
    WeightsError
        Unknown name, a file without a manifest entry, missing, corrupt or modified, not a
        state dict, or trained for another problem.
    """
    path, entry = _locate(name_or_path)
    if not entry:
        if not path.exists():
            raise WeightsError(f"weights file {path} does not exist")
        raise WeightsError(
            f"{path}: no {MANIFEST} entry beside it describes this file, so the model's "
            "hyper-parameters are unknown; register it with hybridsolve.neural.weights.register"
        )
    if problem is not None and entry["problem"] != problem:
        raise WeightsError(f"{path}: trained for {entry['problem']!r}, not for {problem!r}")
    data = _checked_bytes(path, entry)
    try:
        return read_state_dict(data), entry
    except PtFormatError as exc:
        raise WeightsError(f"{path}: {exc}; the file is corrupt or not a weights file") from None


#: Models already loaded by :func:`load_model`, by (builder, file, sha256, device, file size
#: and mtime); a few at most.
_LOADED: dict[tuple[Any, ...], tuple[Any, dict[str, Any]]] = {}
_KEEP = 4


def _entry_of(weights: str | os.PathLike[str]) -> tuple[str, dict[str, Any] | None]:
    """The weights file (as a string) and its manifest entry, or ``None`` when none is found."""
    if isinstance(weights, os.PathLike) or str(weights).endswith(".pt"):
        path = Path(weights)
        entries = manifest(path.parent) if (path.parent / MANIFEST).exists() else {}
        entry = next((e for e in entries.values() if e["file"] == path.name), None)
        return str(path.resolve()), entry
    entry = manifest().get(str(weights))
    file = str(DIRECTORY / entry["file"]) if entry is not None else str(weights)
    return file, entry


def load_model(
    weights: str | os.PathLike[str],
    build: Callable[..., torch.nn.Module],
    *,
    device: str | torch.device = "auto",
    problem: str | None = None,
) -> tuple[Any, dict[str, Any]]:
    """A model built from a manifest entry's ``model`` field and loaded with its weights.

    The model is ``build(**entry["model"])``; its parameter shapes are passed to
    :func:`load` as ``expected``, so weights trained with other hyper-parameters fail with a
    one-line :class:`WeightsError`. Loaded models are kept in memory (by builder, file,
    checksum and device) for the next call.

    Parameters
    ----------
    weights : str or path-like
        A name in the shipped registry, or a ``.pt`` file with a ``manifest.json`` beside it
        that describes it (as the trainers write).
    build : callable
        The model class (or a function) taking the entry's ``model`` as keyword arguments;
        it may raise :class:`~hybridsolve.mip.UsageError` or ``TypeError`` on bad ones.
    device : str or torch.device, default "auto"
        Where the model goes.
    problem : str, optional
        The problem the weights must have been trained for (the entry's ``problem``).

    Returns
    -------
    model : torch.nn.Module
        In eval mode.
    entry : dict
        The manifest entry.

    Raises
    ------
    WeightsError
        Unknown name, missing manifest entry, a file that is missing, corrupt or modified,
        an entry for another problem or with bad hyper-parameters, or mismatched shapes.
    """
    torch = require_torch()
    dev = device if isinstance(device, torch.device) else runtime.device(device)
    file, entry = _entry_of(weights)
    if entry is None:
        named = not (isinstance(weights, os.PathLike) or str(weights).endswith(".pt"))
        if named or not os.path.exists(file):
            load(weights)  # raises "unknown weights ..., available: ..." or "does not exist"
        raise WeightsError(
            f"{file}: no {MANIFEST} entry beside it describes this file, so the model's "
            "hyper-parameters are unknown; register it with hybridsolve.neural.weights.register"
        )
    if problem is not None and entry["problem"] != problem:
        raise WeightsError(f"{file}: trained for {entry['problem']!r}, not for {problem!r}")
    try:
        stat = os.stat(file)
        key: tuple[Any, ...] = (build, file, entry["sha256"], str(dev), stat.st_size,
                                stat.st_mtime_ns)  # fmt: skip
    except OSError:
        key = ()  # missing file: load() below says so
    if key in _LOADED:
        return _LOADED[key]
    try:
        model = build(**entry["model"])
    except Exception as exc:  # UsageError or TypeError from unknown keyword arguments
        raise WeightsError(
            f"{file}: the manifest's model hyper-parameters are unusable ({exc})"
        ) from None
    expected = {name: tuple(value.shape) for name, value in model.state_dict().items()}
    state_dict, entry = load(weights, map_location=dev, expected=expected)
    model.load_state_dict(state_dict)
    model.to(dev).eval()
    if key:
        while len(_LOADED) >= _KEEP:
            _LOADED.pop(next(iter(_LOADED)))
        _LOADED[key] = (model, entry)
    return model, entry
