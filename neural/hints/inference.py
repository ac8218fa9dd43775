"""The hint model's forward pass in numpy and scipy: predictions without importing torch.

A hinted solve pays for its prediction inside the time limit. Importing torch alone takes
1.4 s on the project's 2-core machine, longer than encoding a medium instance, solving
its LP relaxation and the forward pass together, so :func:`~.predict.predict` runs this
module instead of :class:`~.model.HintModel`: the same layers (``Linear``, edge-weighted
mean aggregation as sparse matrix products, ``LayerNorm``, ReLU; dropout is off at
inference) on the weights read by :func:`~..weights.load_arrays`, in float32. The tests
check it against the torch model.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from ..graph import CON_FEATURES, LP_VAR_FEATURES, VAR_FEATURES, MIPGraph
from ..weights import WeightsError

__all__ = ["HintArrays", "probabilities"]

#: LayerNorm's epsilon (torch's default).
EPS = 1e-5


class HintArrays:
    """The parameters of a hint model as numpy arrays, checked against its manifest entry.

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
        The state dict (:func:`~..weights.load_arrays`).
    model : dict
        The entry's ``model`` field (:class:`~.model.HintConfig`).
    where : str
        The file, for error messages.

    Raises
    ------
    WeightsError
        A parameter is missing or has another shape than the configuration says.
    """

    def __init__(self, arrays: dict[str, np.ndarray], model: dict[str, Any], where: str) -> None:
        try:
            width, layers, hidden = int(model["width"]), int(model["layers"]), int(model["hidden"])
        except (KeyError, TypeError, ValueError):
            raise WeightsError(f"{where}: its manifest entry is not a hint model's") from None
        lp = len(LP_VAR_FEATURES)
        shapes = {
            "encoder.con_in": (width, len(CON_FEATURES)),
            "encoder.var_in": (width, len(VAR_FEATURES)),
            "encoder.out": (width, width),
            "head.0": (hidden, width + lp),
            "head.2": (hidden, hidden),
            "head.4": (1, hidden),
        }
        for layer in range(layers):
            for side in ("con", "var"):
                shapes[f"encoder.layers.{layer}.{side}_root"] = (width, width)
        expected = {f"{name}.weight": shape for name, shape in shapes.items()}
        expected.update({f"{name}.bias": (shape[0],) for name, shape in shapes.items()})
        for layer in range(layers):
            for side in ("con", "var"):
                expected[f"encoder.layers.{layer}.{side}_neighbours.weight"] = (width, width)
                expected[f"encoder.layers.{layer}.{side}_norm.weight"] = (width,)
                expected[f"encoder.layers.{layer}.{side}_norm.bias"] = (width,)
        for key, shape in expected.items():
            found = arrays.get(key)
            if found is None or found.shape != shape:
                got = "missing" if found is None else f"of shape {found.shape}"
                raise WeightsError(f"{where}: parameter {key!r} is {got}, expected {shape}")
        self.arrays = {key: arrays[key].astype(np.float32) for key in expected}
        self.layers = layers

    def linear(self, x: np.ndarray, name: str) -> np.ndarray:
        """``x W^T + b`` of the layer ``name``."""
        return x @ self.arrays[f"{name}.weight"].T + self.arrays[f"{name}.bias"]

    def norm(self, x: np.ndarray, name: str) -> np.ndarray:
        """LayerNorm over the last axis."""
        mean = x.mean(axis=1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
        scaled = (x - mean) / np.sqrt(var + EPS)
        return scaled * self.arrays[f"{name}.weight"] + self.arrays[f"{name}.bias"]


def _mean_aggregation(graph: MIPGraph) -> tuple[sp.csr_matrix, sp.csr_matrix]:
    """``to_con[c, v] = w_cv / deg(c)`` and ``to_var[v, c] = w_cv / deg(v)`` (as the encoder)."""
    rows, cols = graph.edge_index
    m, n = graph.num_cons, graph.num_vars
    weight = graph.edge_weight.astype(np.float32)
    con_degree = np.maximum(np.bincount(rows, minlength=m), 1).astype(np.float32)
    var_degree = np.maximum(np.bincount(cols, minlength=n), 1).astype(np.float32)
    to_con = sp.csr_matrix((weight / con_degree[rows], (rows, cols)), shape=(m, n))
    to_var = sp.csr_matrix((weight / var_degree[cols], (cols, rows)), shape=(n, m))
    return to_con, to_var


def probabilities(model: HintArrays, graph: MIPGraph) -> np.ndarray:
    """``P(x_j = 1)`` of every variable of a graph encoded with LP features.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` float64.
    """
    relu = lambda x: np.maximum(x, 0.0)  # noqa: E731
    features = graph.var_features.astype(np.float32)
    con = model.linear(graph.con_features[:, : len(CON_FEATURES)].astype(np.float32),
                       "encoder.con_in")  # fmt: skip
    var = model.linear(features[:, : len(VAR_FEATURES)], "encoder.var_in")
    to_con, to_var = _mean_aggregation(graph)
    for layer in range(model.layers):
        name = f"encoder.layers.{layer}"
        w_con = model.arrays[f"{name}.con_neighbours.weight"]
        w_var = model.arrays[f"{name}.var_neighbours.weight"]
        con_next = model.linear(con, f"{name}.con_root") + (to_con @ var) @ w_con.T
        var_next = model.linear(var, f"{name}.var_root") + (to_var @ con) @ w_var.T
        con = relu(model.norm(con_next, f"{name}.con_norm"))
        var = relu(model.norm(var_next, f"{name}.var_norm"))
    var = model.linear(var, "encoder.out")
    hidden = np.concatenate([var, features[:, len(VAR_FEATURES) :]], axis=1)
    hidden = relu(model.linear(hidden, "head.0"))
    hidden = relu(model.linear(hidden, "head.2"))
    logits = model.linear(hidden, "head.4")[:, 0].astype(np.float64)
    return 1.0 / (1.0 + np.exp(-logits))
