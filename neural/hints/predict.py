"""Hints for one model from trained hint weights: :func:`predict`.

The model is encoded with its LP relaxation (:func:`~..graph.encode`, ``lp=True``), the
hint model gives ``P(x_j = 1)`` for every variable (its numpy forward pass,
:mod:`.inference`, so no torch is imported), and the binaries' probabilities become
:class:`~hybridsolve.mip.Hints` (value ``p > 0.5``, confidence ``|2p - 1|``); general
integers and continuous variables get no prediction.
"""

from __future__ import annotations

import os
import time
import warnings

import numpy as np

from hybridsolve.mip import Hints, HintSettings, HintWarning, Problem
from hybridsolve.mip.hints import binaries

from ..graph import encode
from ..weights import load_arrays
from .inference import HintArrays, probabilities

__all__ = ["MAX_NONZEROS", "predict"]

#: Larger models are solved without hints (one forward pass holds every edge in memory).
MAX_NONZEROS = 5_000_000


def _model(weights: str | os.PathLike[str]) -> HintArrays:
    """The hint weights, read and checked (no cache: a solve predicts once)."""
    arrays, entry = load_arrays(weights, problem="mip-hints")
    return HintArrays(arrays, entry["model"], str(weights))


def predict(
    problem: Problem,
    weights: str | os.PathLike[str] = "forge-hints",
    *,
    settings: HintSettings | None = None,
    deadline: float | None = None,
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
    model = _model(weights)
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
    p = probabilities(model, encode(problem, lp=True, lp_time_limit=lp_limit))
    return Hints.from_probabilities(problem, np.where(mask, p, np.nan), settings)
