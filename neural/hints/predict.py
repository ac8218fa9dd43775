"""Hints for one model from trained hint weights: :func:`predict`.

The model is encoded with its LP relaxation (:func:`~..graph.encode`, ``lp=True``), the
hint model (:class:`~.model.HintModel`) gives ``P(x_j = 1)`` for every variable, and the
binaries' probabilities become :class:`~hybridsolve.mip.Hints` (value ``p > 0.5``,
confidence ``|2p - 1|``); general integers and continuous variables get no prediction.
"""

from __future__ import annotations

import os
import time
import warnings
from typing import NamedTuple

import numpy as np
import torch

from hybridsolve.mip import Hints, HintSettings, HintWarning, Problem
from hybridsolve.mip.hints import binaries

from ..graph import MIPGraph, encode
from ..weights import load_model
from .model import HintModel

__all__ = ["MAX_NONZEROS", "predict"]

#: Larger models are solved without hints (one forward pass holds every edge in memory).
MAX_NONZEROS = 5_000_000


class _Graph(NamedTuple):
    """The tensors of one graph the model reads (no ``torch_geometric`` needed)."""

    x_con: torch.Tensor
    x_var: torch.Tensor
    edge_index: torch.Tensor
    edge_weight: torch.Tensor


def _tensors(graph: MIPGraph, dev: torch.device) -> _Graph:
    return _Graph(*(torch.as_tensor(array).to(dev) for array in (
        graph.con_features, graph.var_features, graph.edge_index, graph.edge_weight)))  # fmt: skip


def predict(
    problem: Problem,
    weights: str | os.PathLike[str] = "forge-hints",
    *,
    settings: HintSettings | None = None,
    deadline: float | None = None,
    device: str = "auto",
) -> Hints | None:
    """The hint model's predictions for the binaries of ``problem``.

    Parameters
    ----------
    problem : Problem
        The model.
    weights : str or path-like
        Registry name or registered ``.pt`` file of hint weights.
    settings : HintSettings, optional
        How the solvers use the hints.
    deadline : float, optional
        ``time.perf_counter()`` value by which the prediction must be done; the LP
        relaxation gets at most a third of the time left.
    device : str
        Where the model runs.

    Returns
    -------
    Hints or None
        ``None``, after one :class:`~hybridsolve.mip.HintWarning`, where the model has no
        binary variable or is too large (:data:`MAX_NONZEROS`).

    Raises
    ------
    WeightsError
        Unknown, missing, corrupt or mismatched weights, or weights of another model.
    """
    model, _ = load_model(weights, HintModel, device=device, problem="mip-hints")
    mask = binaries(problem)
    reason = ""
    if not mask.any():
        reason = "the model has no binary variables"
    elif problem.A.nnz > MAX_NONZEROS:
        reason = f"the model has {problem.A.nnz} nonzeros, more than {MAX_NONZEROS}"
    if reason:
        warnings.warn(f"hints ignored: {reason}; solving without them", HintWarning, stacklevel=2)
        return None
    lp_limit = 60.0 if deadline is None else max((deadline - time.perf_counter()) / 3, 0.1)
    graph = encode(problem, lp=True, lp_time_limit=lp_limit)
    with torch.no_grad():
        data = _tensors(graph, next(model.parameters()).device)
        p = torch.sigmoid(model(data)).double().cpu().numpy()
    return Hints.from_probabilities(problem, np.where(mask, p, np.nan), settings)
