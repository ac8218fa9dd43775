"""The LNS bandit: its policies, the context it may see, and the arm selector.

The selector is :class:`alns.select.MABSelector` (mabwiser) with three changes: a tree
search that has had less than its share of the time is resumed instead of asking the
bandit (:meth:`Selector.__call__`); every update is also recorded by arm name, with its
context, so a :class:`~hybridsolve.lns.state.BanditState` can carry it to the next run;
and :meth:`Selector.warm` replays such records into a fresh bandit.

Contextual policies (``linucb``, ``lints``: Li et al. 2010; Agrawal & Goyal 2013) see
:func:`instance_features` of the model (or a learned embedding of it, such as FORGE's,
passed in by the front door), followed by :func:`search_features` of the run so far.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from alns.select import MABSelector
from alns.select.MABSelector import arm2ops, ops2arm
from mabwiser.mab import LearningPolicy

from hybridsolve.mip import Problem

__all__ = ["CONTEXTUAL", "POLICIES", "Selector", "instance_features", "search_features"]

#: Bandit policies: a mabwiser learning policy and the rewards for
#: (new best, better than current, accepted, rejected).
POLICIES: dict[str, tuple[Any, tuple[float, float, float, float]]] = {
    "egreedy": (LearningPolicy.EpsilonGreedy(epsilon=0.15), (5.0, 2.0, 0.0, 0.0)),
    "ucb1": (LearningPolicy.UCB1(alpha=1.0), (1.0, 0.5, 0.0, 0.0)),
    "thompson": (LearningPolicy.ThompsonSampling(), (1.0, 1.0, 0.0, 0.0)),
    "softmax": (LearningPolicy.Softmax(tau=1.0), (5.0, 2.0, 0.0, 0.0)),
    "linucb": (LearningPolicy.LinUCB(alpha=1.0), (1.0, 0.5, 0.0, 0.0)),
    "lints": (LearningPolicy.LinTS(alpha=0.5), (1.0, 0.5, 0.0, 0.0)),
}

#: The policies that see a context vector.
CONTEXTUAL = ("linucb", "lints")


def instance_features(problem: Problem) -> np.ndarray:
    """Size and shape of a model, each scaled to about ``[0, 1]`` (6 values).

    Log sizes of variables, rows and nonzeros, the shares of binary and of general
    integer variables, and the share of equality rows.
    """
    n, m = problem.num_vars, problem.num_cons
    integer = problem.integrality
    binary = integer & (problem.col_lower == 0) & (problem.col_upper == 1)
    equal = np.count_nonzero(problem.row_lower == problem.row_upper) / max(m, 1)
    return np.array([
        np.log10(1 + n) / 6, np.log10(1 + m) / 6, np.log10(1 + problem.A.nnz) / 7,
        binary.mean() if n else 0.0, (integer & ~binary).mean() if n else 0.0, equal,
    ])  # fmt: skip


def search_features(
    elapsed: float, stalled: int, gap: float | None, tree_share: float
) -> np.ndarray:
    """The run so far (5 values): the share of the time spent, the iterations since the
    last improvement (log-scaled), the gap between the incumbent and the best bound known
    (1 when unknown), the share of the time the tree searches had, and a constant 1."""
    gap = 1.0 if gap is None else float(np.clip(gap, 0.0, 1.0))
    return np.array([float(np.clip(elapsed, 0, 1)), np.log1p(stalled) / 5, gap, tree_share, 1.0])


class Selector(MABSelector):
    """The bandit over the arms, except that the tree searches get their share of the time.

    Parameters
    ----------
    names : list of str
        Arm names, in the order of the ALNS destroy operators.
    due : callable
        ``due() -> str | None``: the tree arm to resume now instead of asking the bandit.
    context : callable or None
        ``context() -> numpy.ndarray`` for a contextual policy; ``None`` otherwise.
    policy : str
        A key of :data:`POLICIES`.
    seed : int
        The bandit's seed.
    """

    def __init__(
        self,
        names: list[str],
        due: Callable[[], str | None],
        context: Callable[[], np.ndarray] | None,
        policy: str,
        seed: int,
    ) -> None:
        learning, scores = POLICIES[policy]
        super().__init__(list(scores), len(names), 1, learning, seed=seed)
        self.names, self.due, self.context = names, due, context
        self.index = {name: i for i, name in enumerate(names)}
        self.observations: list[tuple[str, float, list[float] | None]] = []
        self._seen: np.ndarray | None = None  # the context of the last choice

    def __call__(self, rng, best, curr):
        self._seen = None if self.context is None else np.atleast_2d(self.context())
        tree = self.due()
        if tree is not None:
            return self.index[tree], 0
        if not self.mab._is_initial_fit:  # noqa: SLF001 (no update yet: any arm)
            return int(rng.integers(len(self.names))), 0
        return arm2ops(self.mab.predict(contexts=self._seen))

    def update(self, cand, d_idx: int, r_idx: int, outcome) -> None:
        reward = float(self.scores[outcome])
        self.mab.partial_fit([ops2arm(d_idx, r_idx)], [reward], contexts=self._seen)
        seen = None if self._seen is None else self._seen[0].tolist()
        self.observations.append((self.names[d_idx], reward, seen))

    def warm(self, observations: list[tuple[str, float, list[float] | None]]) -> int:
        """Replay earlier runs' observations of this run's arms; returns how many.

        For a contextual policy only observations whose context has this run's length
        count; for the others contexts are ignored.
        """
        size = None if self.context is None else len(self.context())
        kept = [
            (name, reward, context)
            for name, reward, context in observations
            if name in self.index and (size is None or (context and len(context) == size))
        ]
        if kept:
            decisions = [ops2arm(self.index[name], 0) for name, _, _ in kept]
            rewards = [reward for _, reward, _ in kept]
            contexts = None if size is None else np.array([context for _, _, context in kept])
            self.mab.partial_fit(decisions, rewards, contexts=contexts)
        return len(kept)
