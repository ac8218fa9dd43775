"""The branching scorers' forward passes in numpy: scores at every node without torch.

A branching rule runs at every node of the tree, so its model must cost microseconds,
and a solve should not pay 1.4 s to import torch. :class:`NumpyScorer` reads a scorer's
weights (:func:`~..weights.load_arrays`, checked against the manifest entry's shapes) and
evaluates the same layers as :mod:`.model` in float32 (:mod:`..arrays`):

- ``mlp``: the per-candidate MLP;
- ``hybrid``: the graph encoder once per instance (:meth:`NumpyScorer.prepare`), giving
  every variable its FiLM ``(gamma, beta)``; per node the MLP on the candidates' features
  with their rows of that table;
- ``gcnn``: per node the encoder on the graph with the node's LP state appended.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from hybridsolve.mip import Problem

from ..arrays import Arrays, encoder_shapes, linear_shapes, mean_aggregation, relu, sage
from ..graph import CON_FEATURES, VAR_FEATURES, MIPGraph, encode
from ..weights import WeightsError, load_arrays
from .features import FEATURES, KINDS, NODE_FEATURES, node_features

__all__ = ["NumpyScorer", "load_scorer"]


class NumpyScorer(Arrays):
    """A trained branching scorer evaluated with numpy.

    Parameters
    ----------
    arrays : dict of str to numpy.ndarray
        The state dict.
    model : dict
        The manifest entry's ``model`` field (:class:`~.model.ScorerConfig`).
    where : str
        The file, for error messages.

    Raises
    ------
    WeightsError
        Not a branching scorer's entry, or parameters missing or of other shapes.
    """

    def __init__(self, arrays: dict[str, np.ndarray], model: dict[str, Any], where: str) -> None:
        try:
            kind = str(model["kind"])
            features, hidden = int(model["features"]), int(model["hidden"])
            width, layers = int(model["width"]), int(model["layers"])
        except (KeyError, TypeError, ValueError):
            raise WeightsError(f"{where}: its manifest entry is not a branching scorer's") from None
        if kind not in KINDS:
            raise WeightsError(f"{where}: unknown scorer kind {kind!r}")
        expected = {
            "candidates.mean": (features,), "candidates.scale": (features,),
            **linear_shapes("candidates.first", hidden, features),
            **linear_shapes("candidates.second", hidden, hidden),
            **linear_shapes("candidates.last", 1, hidden),
        }  # fmt: skip
        if kind != "mlp":
            var_in = len(VAR_FEATURES) + (len(NODE_FEATURES) if kind == "gcnn" else 0)
            expected.update(encoder_shapes("encoder", len(CON_FEATURES), var_in, width, layers))
            expected.update(linear_shapes("film", 2 * hidden, width))
        super().__init__(arrays, expected, where)
        self.kind, self.features, self.layers = kind, features, layers
        self.graph: MIPGraph | None = None
        self.film: np.ndarray | None = None
        self.adjacency: Any = None

    def prepare(self, problem: Problem) -> None:
        """Encode the instance (graph kinds): the hybrid's FiLM table, the GCNN's graph."""
        if self.kind == "mlp":
            return
        graph = encode(problem)
        self.graph = graph
        self.adjacency = mean_aggregation(graph.edge_index, graph.edge_weight, graph.num_cons,
                                          graph.num_vars)  # fmt: skip
        if self.kind == "hybrid":
            self.film = self._film(graph.var_features[:, : len(VAR_FEATURES)])

    def _film(self, var_features: np.ndarray) -> np.ndarray:
        """``(n, 2 hidden)`` FiLM parameters of every variable from the encoder."""
        assert self.graph is not None
        con = self.graph.con_features[:, : len(CON_FEATURES)].astype(np.float32)
        _, var = sage(self, "encoder", con, var_features.astype(np.float32), self.adjacency,
                      self.layers)  # fmt: skip
        return self.linear(var, "film")

    def scores(
        self,
        features: np.ndarray,
        columns: np.ndarray,
        state: Callable[[], np.ndarray] | None = None,
    ) -> np.ndarray:
        """Scores of a node's candidates (higher: branch there).

        Parameters
        ----------
        features : numpy.ndarray
            ``(k, features)`` :data:`~.features.FEATURES` of the candidates.
        columns : numpy.ndarray
            ``(k,)`` their file-order variable indices.
        state : callable, optional
            Gives the node's :data:`~.features.STATE` of every variable (``gcnn`` only; it
            is called only when needed, since it reads every variable).

        Returns
        -------
        numpy.ndarray
            ``(k,)`` float32.
        """
        if features.shape[1] != self.features:
            raise WeightsError(
                f"the branching model expects {self.features} candidate features, "
                f"got {features.shape[1]}"
            )
        film = None
        if self.kind == "hybrid":
            assert self.film is not None, "prepare() the scorer first"
            film = self.film[columns]
        elif self.kind == "gcnn":
            assert self.graph is not None and state is not None, "prepare() the scorer first"
            extra = node_features(state(), self.graph.integer)
            static = self.graph.var_features[:, : len(VAR_FEATURES)]
            film = self._film(np.concatenate([static, extra], axis=1))[columns]
        hidden = self.linear((features - self["candidates.mean"]) / self["candidates.scale"],
                             "candidates.first")  # fmt: skip
        if film is not None:
            gamma, beta = np.split(film, 2, axis=1)
            hidden = (1 + gamma) * hidden + beta
        hidden = relu(self.linear(relu(hidden), "candidates.second"))
        return self.linear(hidden, "candidates.last")[:, 0]


def load_scorer(weights: str | os.PathLike[str]) -> NumpyScorer:
    """The branching scorer of a registry name or registered ``.pt`` file.

    Raises
    ------
    WeightsError
        Unknown, missing, corrupt or modified weights, weights of another model, or a
        scorer for other candidate features than :data:`~.features.FEATURES`.
    """
    arrays, entry = load_arrays(weights, problem="mip-branching")
    scorer = NumpyScorer(arrays, entry["model"], str(weights))
    if scorer.features != len(FEATURES):
        raise WeightsError(
            f"{weights}: the scorer reads {scorer.features} candidate features; this rule "
            f"computes {len(FEATURES)} ({', '.join(FEATURES)})"
        )
    return scorer
