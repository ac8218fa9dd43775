"""Solver-neutral solution hints: a predicted value and a confidence per variable.

A learned model (or anything else) says, for some integer variables, which value good
solutions give them and how sure it is. :func:`hybridsolve.mip.solve` turns that into what
each solver can use (see :class:`HintSettings`):

* a short Predict-and-Search trust-region solve (:mod:`hybridsolve.mip.trust`) whose
  solution becomes the start of the full solve (SCIP, HiGHS, and every other backend
  through its warm start, the LNS included);
* the confident part as a partial solution (SCIP completes it with its ``completesol``
  heuristic; HiGHS completes a partial start with a small MIP, used when there is no
  trust-region solution);
* branching priorities from the confidence (SCIP).

``mip`` never imports torch: models produce arrays, :class:`Hints` carries them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from .errors import UsageError
from .problem import Problem

__all__ = ["HintSettings", "HintSource", "HintWarning", "Hints"]

#: SCIP's ``heuristics/completesol/maxunknownrate``: a partial solution with a larger
#: share of unset variables is ignored (with a warning in SCIP's log only).
SCIP_MAX_UNKNOWN_RATE = 0.85


#: A function that predicts hints once a model is read: ``source(problem, deadline)``, with
#: ``deadline`` the ``time.perf_counter()`` value of the time limit or ``None``; returns
#: ``None`` (after a :class:`HintWarning`) where it cannot predict for the model.
HintSource = Callable[[Problem, "float | None"], "Hints | None"]


class HintWarning(UserWarning):
    """Hints that cannot apply to a model; the solve goes on without them."""


@dataclass(frozen=True)
class HintSettings:
    """How :func:`hybridsolve.mip.solve` uses :class:`Hints`.

    Attributes
    ----------
    trust_region : bool
        Run the Predict-and-Search trust-region solve before the full solve and start the
        full solve from its solution (every backend).
    region : float
        With ``k0`` and ``k1`` both ``None``: the share of the binaries with a prediction
        (confidence above 0), the most confident first, that enter the trust region.
    k0, k1 : int or None
        The number of most confident binaries predicted 0 and predicted 1 in the trust
        region (Han et al. use for example 300/300 on independent sets); with one of them
        set, the other one defaults to 0. Capped at the number available.
    delta : int or None
        At most this many variables of the trust region may differ from their prediction.
        ``0`` (the default) fixes them, as Neural Diving's selective fixing does (Nair et
        al. 2020); ``None`` takes Predict-and-Search's ``max(1, ceil(0.05 * (k0 + k1)))``.
        Why 0: on valid-split instances (2 s restricted SCIP solves with the shipped hint
        model, half of the binaries in the region) the local-branching row with 5% flips
        gave set cover 402 and 381 where fixing gave 265 and 245 (SCIP alone in 2 s: 297,
        267), and combinatorial auctions 13527 and 13613 (no better than SCIP alone)
        where fixing gave 15698 and 15778; a fixed region is presolved away, while SCIP's
        heuristics struggle with the dense extra row.
    shrink : int
        When the restricted model is infeasible (the prediction is wrong somewhere in the
        region), halve the region and solve again, at most this many times, within the
        trust-region time; with fixing, infeasibility is usually found in presolve.
    trust_time : float
        Share of the time limit for the trust-region solve, in (0, 1): of the time left
        when it starts (reading the model and checking the hints come first).
    trust_seconds : float
        Seconds for the trust-region solve when the solve has no time limit.
    trust_solver : str or None
        ``"scip"`` or ``"highs"`` for the trust-region solve; by default the solve's own
        backend where that is one of them, SCIP otherwise (the LNS, for example).
    partial : bool
        Add the confident part as a partial solution: SCIP always (its ``completesol``
        heuristic completes it), HiGHS only when it has no other start.
    partial_share : float
        Share of the predicted variables, the most confident first, in the partial
        solution; raised so that it sets at least ``min_set`` of all variables.
    min_set : float
        The partial solution sets at least this share of all variables, where enough
        have a prediction. SCIP ignores a partial solution with more than 85% unset
        variables (``heuristics/completesol/maxunknownrate``, counting continuous
        variables too); 0.2 leaves a margin. Where fewer variables have a prediction than
        SCIP needs, the SCIP backend does not add the partial solution and says so in
        ``Result.stats["hints"]``.
    priorities : bool
        SCIP: branching priority ``round(priority_levels * confidence)`` for every
        variable with a prediction (others keep priority 0). SCIP branches on a variable
        of the highest priority among the fractional ones, so the most confident
        variables are decided first.
    priority_levels : int
        Number of distinct positive priorities.
    """

    trust_region: bool = True
    region: float = 0.5
    k0: int | None = None
    k1: int | None = None
    delta: int | None = 0
    shrink: int = 3
    trust_time: float = 0.1
    trust_seconds: float = 10.0
    trust_solver: str | None = None
    partial: bool = True
    partial_share: float = 0.5
    min_set: float = 0.2
    priorities: bool = True
    priority_levels: int = 10

    def __post_init__(self) -> None:
        for name in ("trust_region", "partial", "priorities"):
            if not isinstance(getattr(self, name), (bool, np.bool_)):
                raise UsageError(f"hint setting {name} must be True or False")
        for name in ("region", "partial_share", "min_set"):
            value = getattr(self, name)
            if not (_real(value) and 0 <= value <= 1):
                raise UsageError(f"hint setting {name} must be in [0, 1], got {value!r}")
        if not (_real(self.trust_time) and 0 < self.trust_time < 1):
            raise UsageError(f"hint setting trust_time must be in (0, 1), got {self.trust_time!r}")
        if not (_real(self.trust_seconds) and self.trust_seconds > 0):
            raise UsageError(f"hint setting trust_seconds must be > 0, got {self.trust_seconds!r}")
        for name in ("k0", "k1", "delta"):
            value = getattr(self, name)
            if value is not None and not (_integer(value) and value >= 0):
                raise UsageError(f"hint setting {name} must be a non-negative integer or None")
        if not (_integer(self.shrink) and self.shrink >= 0):
            raise UsageError("hint setting shrink must be a non-negative integer")
        if not (_integer(self.priority_levels) and self.priority_levels >= 1):
            raise UsageError("hint setting priority_levels must be a positive integer")
        if self.trust_solver not in (None, "scip", "highs"):
            raise UsageError(
                f"hint setting trust_solver must be 'scip', 'highs' or None, "
                f"got {self.trust_solver!r}"
            )


def _real(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _integer(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _vector(values: Any, what: str) -> np.ndarray:
    try:
        out = np.array(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise UsageError(f"hints: {what} must be an array of numbers") from None
    if out.ndim != 1:
        raise UsageError(f"hints: {what} must be one-dimensional, got shape {out.shape}")
    return out


def binaries(problem: Problem) -> np.ndarray:
    """Mask of the integer variables whose bounds lie within [0, 1]."""
    return problem.integrality & (problem.col_lower >= 0.0) & (problem.col_upper <= 1.0)


@dataclass(frozen=True, eq=False)
class Hints:
    """Predicted values and confidences for the integer variables of one model.

    Attributes
    ----------
    value : numpy.ndarray
        Length ``n`` in file order: the predicted value of each variable, NaN where there
        is no prediction. Binaries predict 0 or 1; a general integer may predict any
        integer within its bounds: it enters the partial solution and the branching
        priorities, never the trust region (a local-branching row over general integers
        needs extra variables).
    confidence : numpy.ndarray
        Length ``n``, in [0, 1]: how sure the prediction is (1 = certain); 0 where there
        is no prediction.
    settings : HintSettings
        How the solvers use them.

    Construct with :meth:`from_probabilities` or :meth:`from_values`, which check the
    hints against the model; :func:`hybridsolve.mip.solve` checks them again
    (:meth:`validate`).
    """

    value: np.ndarray
    confidence: np.ndarray
    settings: HintSettings = field(default_factory=HintSettings)

    def __post_init__(self) -> None:
        value = _vector(self.value, "value")
        confidence = _vector(self.confidence, "confidence")
        if confidence.shape != value.shape:
            raise UsageError(
                f"hints: confidence has length {len(confidence)}, value has {len(value)}"
            )
        if np.isinf(value).any():
            raise UsageError("hints: value contains infinite entries")
        predicted = ~np.isnan(value)
        given = confidence[predicted]
        if not (np.isfinite(given).all() and (given >= 0).all() and (given <= 1).all()):
            raise UsageError("hints: confidence must lie in [0, 1] where a value is predicted")
        if not isinstance(self.settings, HintSettings):
            raise UsageError("hints: settings must be a HintSettings")
        confidence = np.where(predicted, confidence, 0.0)
        for array in (value, confidence):
            array.setflags(write=False)
        object.__setattr__(self, "value", value)
        object.__setattr__(self, "confidence", confidence)

    @classmethod
    def from_probabilities(
        cls, problem: Problem, p: Any, settings: HintSettings | None = None
    ) -> Hints:
        """Hints for binaries from ``P(x_j = 1)``.

        Parameters
        ----------
        problem : Problem
            The model.
        p : array_like
            Length ``n``: the probability that a binary is 1 in good solutions; NaN where
            there is no prediction (every non-binary variable).
        settings : HintSettings, optional
            How the solvers use them.

        Returns
        -------
        Hints
            ``value = 1 if p > 0.5 else 0``, ``confidence = |2p - 1|``.

        Raises
        ------
        UsageError
            On a wrong length, probabilities outside [0, 1] or on non-binary variables.
        """
        prob = _vector(p, "probabilities")
        _check_length(problem, prob, "probabilities")
        predicted = ~np.isnan(prob)
        if ((prob[predicted] < 0) | (prob[predicted] > 1)).any():
            raise UsageError("hints: probabilities must lie in [0, 1]")
        wrong = np.flatnonzero(predicted & ~binaries(problem))
        if len(wrong):
            raise UsageError(
                f"hints: probabilities are for binary variables; {problem.var_names[wrong[0]]}"
                f" is not binary ({len(wrong)} such entries; use NaN there)"
            )
        value = np.where(predicted, (prob > 0.5).astype(np.float64), np.nan)
        confidence = np.where(predicted, np.abs(2.0 * prob - 1.0), 0.0)
        hints = cls(value, confidence, settings or HintSettings())
        hints.validate(problem)
        return hints

    @classmethod
    def from_values(
        cls,
        problem: Problem,
        values: Any,
        confidence: Any = 1.0,
        settings: HintSettings | None = None,
    ) -> Hints:
        """Hints from predicted values (NaN = none), for example a known solution.

        Continuous variables are dropped (set to NaN); integer values are rounded.

        Parameters
        ----------
        problem : Problem
            The model.
        values : array_like
            Length ``n``, NaN where there is no prediction.
        confidence : float or array_like
            One confidence for all, or one per variable, in [0, 1].
        settings : HintSettings, optional
            How the solvers use them.

        Returns
        -------
        Hints

        Raises
        ------
        UsageError
            On wrong lengths, or a value outside its variable's bounds.
        """
        value = _vector(values, "value")
        _check_length(problem, value, "value")
        value = np.where(problem.integrality, np.round(value), np.nan)
        conf = np.broadcast_to(np.asarray(confidence, dtype=np.float64), value.shape)
        hints = cls(value, conf.copy(), settings or HintSettings())
        hints.validate(problem)
        return hints

    @property
    def n(self) -> int:
        """Number of variables."""
        return int(self.value.shape[0])

    @property
    def predicted(self) -> np.ndarray:
        """Mask of the variables with a prediction."""
        return ~np.isnan(self.value)

    def with_settings(self, **changes: Any) -> Hints:
        """The same predictions with some :class:`HintSettings` changed."""
        known = {f.name for f in fields(HintSettings)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise UsageError(f"unknown hint setting {unknown[0]!r}; choose from {sorted(known)}")
        return replace(self, settings=replace(self.settings, **changes))

    def validate(self, problem: Problem) -> None:
        """Check the hints against a model.

        Raises
        ------
        UsageError
            (one line) On a wrong length, a prediction for a continuous variable, a
            non-integral value, or a value outside its variable's bounds.
        """
        _check_length(problem, self.value, "value")
        predicted = self.predicted
        continuous = np.flatnonzero(predicted & ~problem.integrality)
        if len(continuous):
            raise UsageError(
                f"hints: {problem.var_names[continuous[0]]} is continuous; only integer "
                f"variables take predictions ({len(continuous)} such entries; use NaN there)"
            )
        index = np.flatnonzero(predicted)
        value = self.value[index]
        fractional = index[np.abs(value - np.round(value)) > 1e-6]
        if len(fractional):
            j = fractional[0]
            name = problem.var_names[j]
            raise UsageError(f"hints: predicted value {self.value[j]:g} of {name} is not integral")
        outside = index[
            (value < problem.col_lower[index] - 1e-6) | (value > problem.col_upper[index] + 1e-6)
        ]
        if len(outside):
            j = outside[0]
            raise UsageError(
                f"hints: predicted value {self.value[j]:g} of {problem.var_names[j]} lies "
                f"outside its bounds [{problem.col_lower[j]:g}, {problem.col_upper[j]:g}]"
            )

    def most_confident(self, k: int, among: np.ndarray | None = None) -> np.ndarray:
        """Indices of the ``k`` most confident predicted variables, most confident first.

        Ties go to the lower index. ``among`` (a mask) restricts the choice; fewer than
        ``k`` indices come back when fewer are available.
        """
        if not (_integer(k) and k >= 0):
            raise UsageError(f"k must be a non-negative integer, got {k!r}")
        pool = self.predicted if among is None else self.predicted & np.asarray(among, bool)
        index = np.flatnonzero(pool)
        order = np.argsort(-self.confidence[index], kind="stable")
        return index[order[:k]]

    def partial_solution(
        self, share: float | None = None, min_set: float | None = None
    ) -> np.ndarray:
        """The confident part of the prediction as a partial solution (NaN = unset).

        Sets the ``ceil(share * p)`` most confident of the ``p`` predicted variables,
        raised to ``ceil(min_set * n)`` where that many have a prediction (SCIP ignores a
        partial solution with more than 85% unset variables). Defaults from
        :attr:`settings`.
        """
        share = self.settings.partial_share if share is None else share
        min_set = self.settings.min_set if min_set is None else min_set
        count = int(self.predicted.sum())
        k = max(math.ceil(share * count - 1e-9), math.ceil(min_set * self.n - 1e-9))
        chosen = self.most_confident(min(k, count))
        out = np.full(self.n, np.nan)
        out[chosen] = np.round(self.value[chosen])
        return out

    def priorities(self) -> dict[int, int]:
        """Branching priorities ``round(priority_levels * confidence)`` above 0, by index."""
        levels = self.settings.priority_levels
        index = np.flatnonzero(self.predicted)
        prio = np.rint(levels * self.confidence[index]).astype(int)
        return {int(j): int(q) for j, q in zip(index.tolist(), prio.tolist()) if q > 0}

    def __repr__(self) -> str:
        count = int(self.predicted.sum())
        mean = float(self.confidence[self.predicted].mean()) if count else 0.0
        return f"Hints(n={self.n}, predicted={count}, mean confidence={mean:.3f})"


def _check_length(problem: Problem, array: np.ndarray, what: str) -> None:
    if array.shape != (problem.num_vars,):
        raise UsageError(
            f"hints: {what} has length {len(array)}, the model has {problem.num_vars} variables"
        )
