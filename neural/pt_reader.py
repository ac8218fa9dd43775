"""Read a torch ``.pt`` state dict into numpy arrays without importing torch.

``torch.save`` writes a zip archive: ``<name>/data.pkl``, a pickle whose tensors refer to
raw storages ``<name>/data/<key>`` (persistent ids) and are rebuilt by
``torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)``. This module
unpickles such a file with an allow-list of exactly those globals (tensors, typed storages
and ``OrderedDict``; anything else is refused, as ``torch.load(weights_only=True)`` would)
and rebuilds each tensor as a numpy array. It lets the hint model predict
(:mod:`hybridsolve.neural.hints.inference`) without the second or more that importing
torch costs, which counts inside a solve's time limit.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections import OrderedDict
from typing import Any

import numpy as np

__all__ = ["PtFormatError", "read_state_dict"]

#: numpy dtype of each typed storage torch writes.
_STORAGES = {
    "FloatStorage": np.float32,
    "DoubleStorage": np.float64,
    "HalfStorage": np.float16,
    "LongStorage": np.int64,
    "IntStorage": np.int32,
    "ShortStorage": np.int16,
    "CharStorage": np.int8,
    "ByteStorage": np.uint8,
    "BoolStorage": np.bool_,
}


class PtFormatError(ValueError):
    """The bytes are not a state dict of plain tensors as ``torch.save`` writes them."""


class _Storage:
    """A storage type named in the pickle (``torch.FloatStorage``): its numpy dtype."""

    def __init__(self, dtype: type) -> None:
        self.dtype = np.dtype(dtype)


def _rebuild(storage: np.ndarray, offset: int, size: tuple, stride: tuple, *_: Any) -> np.ndarray:
    """``_rebuild_tensor_v2`` for numpy: the strided view of the storage, copied."""
    if not size:
        return np.array(storage[offset])
    item = storage.itemsize
    end = offset + sum((n - 1) * s for n, s in zip(size, stride)) + 1
    if offset < 0 or end > len(storage):
        raise PtFormatError("a tensor lies outside its storage")
    view = np.lib.stride_tricks.as_strided(
        storage[offset:], shape=tuple(size), strides=tuple(s * item for s in stride)
    )
    return np.array(view)


class _Unpickler(pickle.Unpickler):
    def __init__(self, data: bytes, archive: zipfile.ZipFile, prefix: str) -> None:
        super().__init__(io.BytesIO(data))
        self.archive, self.prefix = archive, prefix

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("collections", "OrderedDict"):
            return OrderedDict
        if (module, name) == ("torch._utils", "_rebuild_tensor_v2"):
            return _rebuild
        if module == "torch" and name in _STORAGES:
            return _Storage(_STORAGES[name])
        raise PtFormatError(f"the file refers to {module}.{name}, which a state dict never does")

    def persistent_load(self, pid: Any) -> np.ndarray:
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"):
            raise PtFormatError("unknown persistent id in the file")
        kind, key, numel = pid[1], pid[2], pid[4]
        if not isinstance(kind, _Storage):
            raise PtFormatError("a storage of unknown type")
        raw = self.archive.read(f"{self.prefix}data/{key}")
        array = np.frombuffer(raw, dtype=kind.dtype.newbyteorder("<"))
        if len(array) < numel:
            raise PtFormatError("a storage is shorter than it says")
        return array[:numel]


def read_state_dict(data: bytes) -> dict[str, np.ndarray]:
    """The state dict in the bytes of a ``.pt`` file, as numpy arrays.

    Raises
    ------
    PtFormatError
        Not a zip archive of ``torch.save``, big-endian data, a global outside the
        allow-list, or content that is not a flat ``{name: tensor}`` dict.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        pickles = [name for name in archive.namelist() if name.endswith("/data.pkl")]
        if len(pickles) != 1:
            raise PtFormatError("no single data.pkl in the archive")
        prefix = pickles[0][: -len("data.pkl")]
        order = f"{prefix}byteorder"
        if order in archive.namelist() and archive.read(order).strip() != b"little":
            raise PtFormatError("big-endian files are not supported")
        state = _Unpickler(archive.read(pickles[0]), archive, prefix).load()
    except PtFormatError:
        raise
    except Exception as exc:  # zip and pickle errors of damaged bytes take many types
        raise PtFormatError(f"cannot read it ({type(exc).__name__})") from None
    if not isinstance(state, dict) or not all(
        isinstance(key, str) and isinstance(value, np.ndarray) for key, value in state.items()
    ):
        raise PtFormatError("the content is not a state dict of tensors")
    return dict(state)
