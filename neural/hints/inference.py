"""The hint model's forward pass in numpy and scipy: predictions without importing torch.

A hinted solve pays for its prediction inside the time limit. Importing torch alone takes
1.4 s on the project's 2-core machine, longer than encoding a medium instance, solving
its LP relaxation and the forward pass together, so :func:`~.predict.predict` runs this
module instead of :class:`~.model.HintModel`: the same layers on the weights read by
:func:`~..weights.load_arrays` (:mod:`..arrays`). The tests check it against the torch
model.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..arrays import Arrays, encoder_shapes, linear_shapes, mean_aggregation, relu, sage
from ..graph import CON_FEATURES, LP_VAR_FEATURES, VAR_FEATURES, MIPGraph
from ..weights import WeightsError

__all__ = ["HintArrays", "probabilities"]


class HintArrays(Arrays):
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
        expected = {
            **encoder_shapes("encoder", len(CON_FEATURES), len(VAR_FEATURES), width, layers),
            **linear_shapes("head.0", hidden, width + len(LP_VAR_FEATURES)),
            **linear_shapes("head.2", hidden, hidden),
            **linear_shapes("head.4", 1, hidden),
        }
        super().__init__(arrays, expected, where)
        self.layers = layers


def probabilities(model: HintArrays, graph: MIPGraph) -> np.ndarray:
    """``P(x_j = 1)`` of every variable of a graph encoded with LP features.

    Returns
    -------
    numpy.ndarray
        ``(n,)`` float64.
    """
    features = graph.var_features.astype(np.float32)
    adjacency = mean_aggregation(graph.edge_index, graph.edge_weight, graph.num_cons,
                                 graph.num_vars)  # fmt: skip
    _, var = sage(model, "encoder", graph.con_features[:, : len(CON_FEATURES)].astype(np.float32),
                  features[:, : len(VAR_FEATURES)], adjacency, model.layers)  # fmt: skip
    hidden = np.concatenate([var, features[:, len(VAR_FEATURES) :]], axis=1)
    hidden = relu(model.linear(hidden, "head.0"))
    hidden = relu(model.linear(hidden, "head.2"))
    logits = model.linear(hidden, "head.4")[:, 0].astype(np.float64)
    return 1.0 / (1.0 + np.exp(-logits))
