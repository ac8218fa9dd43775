"""Forward passes in numpy and scipy: trained weights used without importing torch.

A guided solve pays for its model inside the time limit, and importing torch alone takes
about 1.4 s on the project's 2-core machine, so the models that run inside a solve (the
hint head, the branching scorers) are evaluated here from the arrays of their state dict
(:func:`~.weights.load_arrays`): ``Linear``, ``LayerNorm``, ReLU and the FORGE encoder's
edge-weighted GraphSAGE layers (:class:`~.encoder.ForgeEncoder`; its neighbour means are
sparse matrix products), in float32, dropout off. Tests hold each forward pass against the
torch model it mirrors.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import scipy.sparse as sp

from .weights import WeightsError

__all__ = ["Arrays", "encoder_shapes", "mean_aggregation", "relu", "sage"]

#: LayerNorm's epsilon (torch's default).
EPS = 1e-5

Shapes = dict[str, tuple[int, ...]]


def relu(x: np.ndarray) -> np.ndarray:
    """``max(x, 0)``."""
    return np.maximum(x, 0.0)


def linear_shapes(name: str, out: int, into: int, bias: bool = True) -> Shapes:
    """The parameter shapes of ``nn.Linear(into, out)`` called ``name``."""
    shapes: Shapes = {f"{name}.weight": (out, into)}
    if bias:
        shapes[f"{name}.bias"] = (out,)
    return shapes


def encoder_shapes(prefix: str, con_in: int, var_in: int, width: int, layers: int) -> Shapes:
    """The parameter shapes of a :class:`~.encoder.ForgeEncoder` named ``prefix``."""
    shapes = {**linear_shapes(f"{prefix}.con_in", width, con_in),
              **linear_shapes(f"{prefix}.var_in", width, var_in),
              **linear_shapes(f"{prefix}.out", width, width)}  # fmt: skip
    for layer in range(layers):
        name = f"{prefix}.layers.{layer}"
        for side in ("con", "var"):
            shapes.update(linear_shapes(f"{name}.{side}_root", width, width))
            shapes.update(linear_shapes(f"{name}.{side}_neighbours", width, width, bias=False))
            shapes.update({f"{name}.{side}_norm.weight": (width,),
                           f"{name}.{side}_norm.bias": (width,)})  # fmt: skip
    return shapes


class Arrays:
    """A state dict as float32 numpy arrays, checked against the shapes a model needs.

    Parameters
    ----------
    arrays : mapping of str to numpy.ndarray
        The state dict (:func:`~.weights.load_arrays`).
    expected : dict of str to tuple
        Every parameter the forward pass reads, with its shape; others are ignored.
    where : str
        The file, for error messages.

    Raises
    ------
    WeightsError
        A parameter is missing or has another shape.
    """

    def __init__(self, arrays: Mapping[str, np.ndarray], expected: Shapes, where: str) -> None:
        for key, shape in expected.items():
            found = arrays.get(key)
            if found is None or tuple(found.shape) != tuple(shape):
                got = "missing" if found is None else f"of shape {tuple(found.shape)}"
                raise WeightsError(f"{where}: parameter {key!r} is {got}, expected {shape}")
        self.arrays = {key: np.asarray(arrays[key], dtype=np.float32) for key in expected}

    def __getitem__(self, key: str) -> np.ndarray:
        return self.arrays[key]

    def linear(self, x: np.ndarray, name: str) -> np.ndarray:
        """``x W^T + b`` of the layer ``name`` (no ``b`` when it has no bias)."""
        out = x @ self.arrays[f"{name}.weight"].T
        bias = self.arrays.get(f"{name}.bias")
        return out if bias is None else out + bias

    def norm(self, x: np.ndarray, name: str) -> np.ndarray:
        """LayerNorm over the last axis."""
        mean = x.mean(axis=-1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
        scaled = (x - mean) / np.sqrt(var + EPS)
        return scaled * self.arrays[f"{name}.weight"] + self.arrays[f"{name}.bias"]


def mean_aggregation(
    edge_index: np.ndarray, edge_weight: np.ndarray, m: int, n: int
) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``to_con[c, v] = w_cv / deg(c)`` and ``to_var[v, c] = w_cv / deg(v)`` (as the encoder)."""
    rows, cols = edge_index
    weight = np.asarray(edge_weight, dtype=np.float32)
    con_degree = np.maximum(np.bincount(rows, minlength=m), 1).astype(np.float32)
    var_degree = np.maximum(np.bincount(cols, minlength=n), 1).astype(np.float32)
    to_con = sp.csr_matrix((weight / con_degree[rows], (rows, cols)), shape=(m, n))
    to_var = sp.csr_matrix((weight / var_degree[cols], (cols, rows)), shape=(n, m))
    return to_con, to_var


def sage(
    model: Arrays,
    prefix: str,
    con: np.ndarray,
    var: np.ndarray,
    adjacency: tuple[sp.csr_matrix, sp.csr_matrix],
    layers: int,
) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`~.encoder.ForgeEncoder.embed` in numpy: the embeddings of every node.

    Parameters
    ----------
    model : Arrays
        Holding the encoder's parameters under ``prefix``.
    prefix : str
        E.g. ``"encoder"``.
    con, var : numpy.ndarray
        Input features ``(m, con_in)`` and ``(n, var_in)``, float32.
    adjacency : tuple of scipy.sparse.csr_matrix
        :func:`mean_aggregation` of the graph.
    layers : int
        GraphSAGE layers.

    Returns
    -------
    tuple of numpy.ndarray
        ``(m, width)`` and ``(n, width)``.
    """
    to_con, to_var = adjacency
    con = model.linear(con, f"{prefix}.con_in")
    var = model.linear(var, f"{prefix}.var_in")
    for layer in range(layers):
        name = f"{prefix}.layers.{layer}"
        con_next = model.linear(con, f"{name}.con_root") + model.linear(
            to_con @ var, f"{name}.con_neighbours"
        )
        var_next = model.linear(var, f"{name}.var_root") + model.linear(
            to_var @ con, f"{name}.var_neighbours"
        )
        con = relu(model.norm(con_next, f"{name}.con_norm"))
        var = relu(model.norm(var_next, f"{name}.var_norm"))
    return model.linear(con, f"{prefix}.out"), model.linear(var, f"{prefix}.out")
