"""The search: an initial backend run, then ALNS with a multi-armed bandit over the arms.

The loop is :class:`alns.ALNS` with :class:`alns.select.MABSelector` (mabwiser) picking
the destroy arm, hill-climbing acceptance and one repair operator, the sub-MIP. The idea
and the operator families follow Balans (Cai, Kadıoğlu & Dilkina, IJCAI 2025); unlike it,
sub-MIPs get the incumbent as a warm start and a cutoff at its objective, continuous
variables are never fixed, each arm's neighbourhood size and the sub-MIP time limit adapt
to how the last sub-MIPs went (in the spirit of Hendel 2022, "Adaptive large neighborhood
search for mixed integer programming"), sub-MIPs run with cheap presolving and no cutting
planes (as SCIP's own LNS heuristics do), SCIP's search of the full model stays alive as one
more arm, and the whole run keeps to the wall-clock limit.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from alns import ALNS
from alns.accept import HillClimbing
from alns.select import MABSelector
from mabwiser.mab import LearningPolicy

from hybridsolve.mip import (
    Hints,
    Limit,
    Monitor,
    Outcome,
    Problem,
    ScipPlugin,
    Status,
    UsageError,
    certified,
)
from hybridsolve.mip import solve as solve_mip

from .neighbourhood import Context, Neighbourhood
from .operators import HINTED, OPERATORS, Arm, portfolio
from .subsolver import SUBSOLVERS, Attempt, HighsTree, ScipTree, SubSolver

__all__ = ["POLICIES", "TREE_SHARE", "Settings", "search"]

#: Least and largest share of the search loop's time that the tree search gets.
TREE_SHARE = (0.2, 0.8)

#: Bandit policies: a mabwiser learning policy and the rewards for
#: (new best, better than current, accepted, rejected).
POLICIES: dict[str, tuple[Any, tuple[float, float, float, float]]] = {
    "egreedy": (LearningPolicy.EpsilonGreedy(epsilon=0.15), (5.0, 2.0, 0.0, 0.0)),
    "ucb1": (LearningPolicy.UCB1(alpha=1.0), (1.0, 0.5, 0.0, 0.0)),
    "thompson": (LearningPolicy.ThompsonSampling(), (1.0, 1.0, 0.0, 0.0)),
    "softmax": (LearningPolicy.Softmax(tau=1.0), (5.0, 2.0, 0.0, 0.0)),
}


@dataclass(frozen=True)
class Settings:
    """Options of the LNS solver (``options=`` of :func:`hybridsolve.solve`).

    Attributes
    ----------
    backend : str
        Sub-MIP solver: ``"scip"`` or ``"highs"``.
    policy : str
        Bandit policy: ``egreedy``, ``ucb1``, ``thompson`` or ``softmax``.
    operators : tuple of str
        Operator families (keys of :data:`hybridsolve.lns.OPERATORS`); all by default.
        The hint families (``hint_disagree``, ``hint_confident``) join only when the
        solve has hints (``hints=`` of :func:`hybridsolve.mip.solve`).
    initial_share : float
        Share of the time limit for the first run of the backend on the full model (it
        goes on past it only until a first solution exists).
    iteration_time : float or None
        First sub-MIP time limit in seconds; by default 5% of the time left after the
        initial run, between 1 and 10 s.
    iterations : int or None
        Stop after this many LNS iterations (with no time limit: required).
    tree : bool
        Keep the backend's own search of the full model alive (SCIP's, or HiGHS's paused
        in a thread of its own between its turns): the initial run is that search, and
        resuming it for one iteration's time is one more bandit arm (``tree``), so the
        bandit can fall back on the plain solver where the neighbourhoods do not pay. A
        resumed search that proves optimality ends the run as ``optimal``. Without it the
        initial run uses the sub-MIP model and its settings. The tree's
        turns follow measured seconds, so only a run without it (and with node limits
        instead of time limits) repeats exactly under a seed.
    native : dict
        Backend parameters for every sub-MIP, passed through.
    """

    backend: str = "scip"
    policy: str = "thompson"
    operators: tuple[str, ...] = tuple(OPERATORS)
    initial_share: float = 0.1
    iteration_time: float | None = None
    iterations: int | None = None
    tree: bool = True
    native: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_options(cls, options: dict[str, Any]) -> Settings:
        """Settings from ``options``; keys not listed above go to the backend.

        ``operators`` may be a comma-separated string. Raises :class:`UsageError` on a
        bad value.
        """
        options = dict(options)
        known = {k: options.pop(k) for k in list(options) if k in cls.__dataclass_fields__}
        known.pop("native", None)
        if isinstance(known.get("operators"), str):
            known["operators"] = tuple(s.strip() for s in known["operators"].split(",") if s)
        settings = cls(**known, native=options)
        settings.validate()
        return settings

    def validate(self) -> None:
        """Raise :class:`UsageError` on a bad setting."""
        if self.backend not in SUBSOLVERS:
            raise UsageError(
                f"lns backend must be one of {', '.join(SUBSOLVERS)}, got {self.backend!r}"
            )
        if self.policy not in POLICIES:
            raise UsageError(
                f"lns policy must be one of {', '.join(POLICIES)}, got {self.policy!r}"
            )
        unknown = [name for name in self.operators if name not in OPERATORS]
        if unknown or not self.operators:
            raise UsageError(
                f"unknown lns operator {', '.join(unknown) or '(none given)'}; "
                f"choose from {', '.join(OPERATORS)}"
            )
        if not 0 < self.initial_share < 1:
            raise UsageError(f"initial_share must be in (0, 1), got {self.initial_share!r}")
        if self.iteration_time is not None and not self.iteration_time > 0:
            raise UsageError(f"iteration_time must be positive, got {self.iteration_time!r}")
        if self.iterations is not None and not (
            isinstance(self.iterations, int) and self.iterations >= 0
        ):
            raise UsageError(f"iterations must be a non-negative integer, got {self.iterations!r}")


class _State:
    """An ALNS state: a certified solution; ``objective()`` is minimised by ``alns``."""

    def __init__(self, x: np.ndarray, value: float, maximize: bool) -> None:
        self.x, self.value = x, value
        self._key = -value if maximize else value

    def objective(self) -> float:
        return self._key


@dataclass
class _Destroyed:
    """What a destroy operator hands to the repair operator."""

    state: _State
    name: str
    arm: Arm | None = None  # None: resume the tree search
    neighbourhood: Neighbourhood | None = None


@dataclass
class _ArmStats:
    pulls: int = 0
    improvements: int = 0
    seconds: float = 0.0
    solved: int = 0
    limits: int = 0


class _Run:
    """One LNS run: the clock, the sub-solver, the adaptive parameters, the statistics."""

    def __init__(
        self,
        problem: Problem,
        settings: Settings,
        monitor: Monitor,
        seed: int,
        hints: Hints | None = None,
        plugins: tuple[ScipPlugin, ...] = (),
    ) -> None:
        self.problem, self.settings, self.monitor = problem, settings, monitor
        self.seed = seed
        self._sub: SubSolver | None = None
        self.tree: ScipTree | HighsTree | None = None
        if settings.backend == "scip" and settings.tree:
            self.tree = ScipTree(problem, seed, settings.native, plugins)
        elif settings.tree:
            self.tree = HighsTree(problem, seed, settings.native)
        if plugins and not isinstance(self.tree, ScipTree):
            raise UsageError("SCIP plugins (learned branching) go to the LNS's tree arm, which "
                             "needs options backend=scip and tree=true")  # fmt: skip
        self.proven: Attempt | None = None  # a tree search that finished
        self.ctx = Context(problem, hints=hints)
        self.hint_arms: list[str] = []  # the portfolio's hint arms, once it is built
        self.iteration_time = 1.0
        self.max_iteration_time = 1.0
        self.iterations = 0
        self.stats: dict[str, _ArmStats] = {}
        self.scales: dict[str, float] = {}
        self.initial: dict[str, Any] = {}

    @property
    def sub(self) -> SubSolver:
        """The sub-MIP model, built on first use (after the tree search has started)."""
        if self._sub is None:
            settings = self.settings
            self._sub = SUBSOLVERS[settings.backend](self.problem, self.seed, settings.native)
        return self._sub

    def tree_due(self) -> bool:
        """Whether the tree search has had less than its share of the loop's time.

        The share follows the improvements per second of the tree and of the LNS arms
        (each with a prior of one improvement in ten seconds), kept within
        :data:`TREE_SHARE`.
        """
        tree = self.stats.get("tree", _ArmStats())
        lns_seconds = sum(s.seconds for name, s in self.stats.items() if name != "tree")
        lns_improvements = sum(s.improvements for name, s in self.stats.items() if name != "tree")
        total = tree.seconds + lns_seconds
        if total <= 0:
            return False
        tree_rate = (tree.improvements + 1) / (tree.seconds + 10)
        lns_rate = (lns_improvements + 1) / (lns_seconds + 10)
        share = float(np.clip(tree_rate / (tree_rate + lns_rate), *TREE_SHARE))
        return tree.seconds < share * total

    def remaining(self) -> float:
        """Seconds left before the deadline (infinite without one)."""
        if self.monitor.deadline is None:
            return np.inf
        return self.monitor.deadline - time.perf_counter()

    def stopping(self) -> bool:
        return self.monitor.stopping or self.remaining() <= 0 or self.proven is not None

    def found(self, x: np.ndarray) -> None:
        """A sub-MIP solution: report it to the monitor when it improves."""
        if self.monitor.incumbent(x, None):
            self.monitor.request_stop(Limit.INTERRUPT)

    def attempt(self, nb: Neighbourhood | None, start, cutoff, limit: float) -> Attempt:
        """Solve a sub-MIP; with ``nb`` None the full model (resuming the tree search)."""
        limit = min(limit, max(self.remaining(), 1e-3))
        if nb is None and self.tree is not None:
            attempt = self.tree.solve(
                start=start, cutoff=cutoff, time_limit=limit, stop=self.stopping,
                found=self.found,
            )  # fmt: skip
            if attempt.status in ("optimal", "infeasible", "unbounded"):
                self.proven = attempt
            return attempt
        return self.sub.solve(
            nb, start=start, cutoff=cutoff, time_limit=limit, stop=self.stopping,
            found=self.found,
        )  # fmt: skip

    def destroyer(self, arm: Arm) -> Callable[..., _Destroyed]:
        """The ALNS destroy operator of one arm."""

        def destroy(state: _State, rng: np.random.Generator, **_) -> _Destroyed:
            self.ctx.scale = self.scales.get(arm.name, 1.0)
            nb = arm.operator(self.ctx, state.x, state.value, arm.rate, rng)
            return _Destroyed(state, arm.name, arm, nb)

        destroy.__name__ = arm.name
        return destroy

    def resume(self, state: _State, rng: np.random.Generator, **_) -> _Destroyed:
        """The ``tree`` arm's destroy step: nothing to destroy, the repair resumes SCIP."""
        return _Destroyed(state, "tree")

    def repair(self, destroyed: _Destroyed, rng: np.random.Generator, **_) -> _State:
        """Solve the sub-MIP; adapt the neighbourhood scale and the time limit."""
        state, arm = destroyed.state, destroyed.arm
        attempt = self.attempt(destroyed.neighbourhood, state.x, state.value, self.iteration_time)
        self.iterations += 1
        stats = self.stats.setdefault(destroyed.name, _ArmStats())
        stats.pulls += 1
        stats.seconds += attempt.seconds
        better = None
        if attempt.x is not None:
            found = certified(self.problem, attempt.x)
            if found is not None and found[1].objective is not None:
                candidate = _State(found[0], found[1].objective, self.problem.maximize)
                if candidate.objective() < state.objective() - 1e-9 * max(1.0, abs(state.value)):
                    better = candidate
        solved = attempt.status in ("optimal", "infeasible")
        stats.solved += solved
        stats.limits += not solved
        if better is not None:
            stats.improvements += 1
            self.ctx.remember(better.x)
            return better
        if arm is None:  # the tree search: nothing to adapt
            return state
        scale = self.scales.get(arm.name, 1.0)
        if solved:  # too small: grow this arm's neighbourhood, shorten the sub-MIPs
            quick = attempt.seconds < 0.2 * self.iteration_time
            self.scales[arm.name] = min(scale * (1.5 if quick else 1.2), 20.0)
            self.iteration_time = max(0.5, min(self.iteration_time, 2 * attempt.seconds + 0.5))
        elif not self.stopping():  # too large: shrink it, give sub-MIPs a little longer
            self.scales[arm.name] = max(scale * 0.8, 0.05)
            self.iteration_time = min(self.iteration_time * 1.25, self.max_iteration_time)
        return state

    def statistics(self) -> dict[str, Any]:
        stats: dict[str, Any] = {
            "backend": self.settings.backend,
            "policy": self.settings.policy,
            "iterations": self.iterations,
            "initial": dict(self.initial),
            "operators": {name: vars(s).copy() for name, s in sorted(self.stats.items())},
        }
        if self.ctx.hints is not None:
            stats["hints"] = {"lns": self.hint_statistics()}
        if isinstance(self.tree, ScipTree) and self.tree.plugins:
            stats["plugins"] = self.tree.plugins
        return stats

    def hint_statistics(self) -> dict[str, Any]:
        """What the hint arms did: their names, pulls and improvements (all arms summed).

        ``predicted`` counts the integer variables they can use (confidence above 0);
        ``arms`` is empty when the run ended before the loop or without hint families.
        """
        pulled = [self.stats[name] for name in self.hint_arms if name in self.stats]
        return {
            "predicted": int(self.ctx.hinted().sum()),
            "arms": list(self.hint_arms),
            "pulls": sum(s.pulls for s in pulled),
            "improvements": sum(s.improvements for s in pulled),
        }


class _Selector(MABSelector):
    """The bandit over the arms, except that the tree search gets its share of the time.

    Whenever :meth:`_Run.tree_due` says so, the tree arm (``tree``, an index into the
    destroy operators) is chosen instead of asking the bandit; its outcome still updates
    the bandit.
    """

    def __init__(self, run: _Run, tree: int | None, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run, self.tree = run, tree

    def __call__(self, rng, best, curr):
        if self.tree is not None and self.run.tree_due():
            return self.tree, 0
        return super().__call__(rng, best, curr)


class _Stop:
    """ALNS stopping criterion: the monitor's stop flag, the deadline, the iteration cap."""

    def __init__(self, run: _Run) -> None:
        self.run = run

    def __call__(self, rng, best, current) -> bool:
        run = self.run
        cap = run.settings.iterations
        return (
            run.stopping() or run.remaining() < 0.05 or (cap is not None and run.iterations >= cap)
        )


def _relaxation(problem: Problem, time_limit: float) -> np.ndarray | None:
    """An optimal solution of the LP relaxation (HiGHS), ``None`` when not found in time."""
    relaxed = replace(problem, integrality=np.zeros(problem.num_vars, dtype=bool))
    result = solve_mip(relaxed, "highs", time_limit=max(time_limit, 1e-3))
    return result.x if result.status is Status.OPTIMAL else None


def search(problem: Problem, settings: Settings, monitor: Monitor, *, seed: int,
           warm_start: np.ndarray | None, time_limit: float | None,
           hints: Hints | None = None,
           plugins: tuple[ScipPlugin, ...] = ()) -> Outcome:  # fmt: skip
    """Run the LNS; returns the backend :class:`~hybridsolve.mip.Outcome`.

    Parameters
    ----------
    problem : Problem
        The model.
    settings : Settings
        LNS options.
    monitor : Monitor
        Receives every improving solution; its stop flag and deadline end the run.
    seed : int
        Seeds the operators, the bandit and the sub-MIP backend.
    warm_start : numpy.ndarray, optional
        Start values (NaN where unspecified) for the initial run.
    time_limit : float, optional
        Seconds for the whole run (the monitor's deadline enforces it).
    hints : Hints, optional
        Predictions for the hint arms (:data:`hybridsolve.lns.operators.HINTED`), which
        join the portfolio only with them; ``Outcome.stats["hints"]["lns"]`` says what
        those arms did.
    plugins : tuple of ScipPlugin
        Installed on the ``tree`` arm's SCIP model (a learned branching rule); their
        dicts are ``Outcome.stats["plugins"]``.
    """
    if time_limit is None and settings.iterations is None:
        raise UsageError("lns needs a time limit or an iteration count (options iterations=N)")
    run = _Run(problem, settings, monitor, seed, hints, plugins)
    try:
        return _loop(run, warm_start)
    finally:
        if isinstance(run.tree, HighsTree):  # its search ends with the run
            run.tree.close(timeout=HighsTree.OVERRUN)


def _loop(run: _Run, warm_start: np.ndarray | None) -> Outcome:
    """The initial run, then the bandit's iterations until a limit (see :func:`search`)."""
    problem, settings, seed = run.problem, run.settings, run.seed
    budget = run.remaining()
    initial = budget * settings.initial_share if np.isfinite(budget) else 10.0
    first = run.attempt(None, warm_start, None, initial)
    run.initial = {"status": first.status, "seconds": first.seconds}
    if first.x is not None:
        run.initial["objective"] = float(problem.objective(first.x))
    if first.status == "optimal" or first.x is None:
        if first.x is None and first.status == "limit" and not run.stopping():
            first = run.attempt(None, warm_start, None, run.remaining())
        return _final(run, first, exact=True)
    lp = None
    if any(OPERATORS[f][2] for f in settings.operators):
        lp = _relaxation(problem, min(0.1 * run.remaining(), 30.0))
    run.ctx.lp = lp
    arms = portfolio(run.ctx, settings.operators, lp=lp is not None)
    run.hint_arms = [arm.name for arm in arms if arm.name.rsplit("-", 1)[0] in HINTED]
    if not arms and run.tree is None:
        return _final(run, first, exact=False)
    after = run.remaining()
    default = float(np.clip(0.05 * after, 1.0, 10.0)) if np.isfinite(after) else 10.0
    run.iteration_time = settings.iteration_time or default
    run.max_iteration_time = max(run.iteration_time, 0.25 * after if np.isfinite(after) else 60.0)
    found = certified(problem, first.x)
    assert found is not None, "the backend's first solution failed the certificate"
    start = _State(found[0], found[1].objective, problem.maximize)
    run.ctx.remember(start.x)
    rng = np.random.default_rng(seed)
    alns = ALNS(rng)
    for arm in arms:
        alns.add_destroy_operator(run.destroyer(arm), name=arm.name)
    if run.tree is not None:
        alns.add_destroy_operator(run.resume, name="tree")
    alns.add_repair_operator(run.repair, name="sub-MIP")
    policy, scores = POLICIES[settings.policy]
    tree = len(arms) if run.tree is not None else None
    selector = _Selector(run, tree, list(scores), len(alns.destroy_operators), 1, policy, seed=seed)
    result = alns.iterate(start, selector, HillClimbing(), _Stop(run))
    best = result.best_state
    proven = run.proven
    if proven is not None and proven.status == "optimal":
        return _final(run, Attempt("optimal", best.x, 0.0, proven.dual_bound), exact=True)
    return _final(run, Attempt("limit", best.x, 0.0), exact=False)


def _final(run: _Run, attempt: Attempt, *, exact: bool) -> Outcome:
    """The outcome: a proven status only from a solve of the full model."""
    stats = run.statistics()
    if exact and attempt.status == "optimal":
        dual = attempt.dual_bound if run.problem.is_mip else None
        return Outcome(Status.OPTIMAL, "optimal", attempt.x, dual, stats=stats)
    if exact and attempt.status in ("infeasible", "unbounded", "infeasible_or_unbounded"):
        return Outcome(Status(attempt.status), attempt.status, stats=stats)
    if exact and attempt.status == "error":
        return Outcome(Status.ERROR, "error", message="the backend failed on the full model")
    limit = run.monitor.stop_reason or Limit.TIME
    if run.settings.iterations is not None and run.iterations >= run.settings.iterations:
        limit = Limit.ITERATIONS
    status = Status.FEASIBLE if attempt.x is not None else Status.NO_SOLUTION
    return Outcome(status, "lns", attempt.x, None, limit=limit, stats=stats)
