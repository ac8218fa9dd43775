"""The search: the exact solvers' own searches first, then ALNS with a bandit over the arms.

The loop is :class:`alns.ALNS` with a :class:`~hybridsolve.lns.bandit.Selector` (mabwiser)
picking the destroy arm, hill-climbing acceptance and one repair operator, the sub-MIP. The
idea and the operator families follow Balans (Cai, Kadıoğlu & Dilkina, IJCAI 2025); unlike
it, an arm is an (operator, sub-MIP solver) pair, so the bandit learns per instance whether
SCIP or HiGHS repairs a neighbourhood better; sub-MIPs get the incumbent as a warm start
and a cutoff at its objective, continuous variables are never fixed, each arm's
neighbourhood size and the sub-MIP time limit adapt to how the last sub-MIPs went (in the
spirit of Hendel 2022, "Adaptive large neighborhood search for mixed integer
programming"), sub-MIPs run with cheap presolving and no cutting planes (as SCIP's own LNS
heuristics do), the searches of the full model by SCIP and by HiGHS stay alive as two more
arms that share the time by what they achieve, the bandit's statistics can carry over from
one run to the next (:mod:`~hybridsolve.lns.state`), and the whole run keeps to the
wall-clock limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from alns import ALNS
from alns.accept import HillClimbing

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

from .bandit import CONTEXTUAL, POLICIES, Selector, instance_features, search_features
from .neighbourhood import Context, Neighbourhood
from .operators import HINTED, OPERATORS, Arm, portfolio
from .state import TOTALS, BanditState
from .subsolver import SUBSOLVERS, Attempt, HighsTree, ScipTree, SubSolver

__all__ = ["BACKENDS", "TREE_SHARE", "Settings", "search"]

#: Least and largest share of the search loop's time that the tree searches get together.
TREE_SHARE = (0.4, 0.9)
#: Least share of the trees' time that each tree gets when both run.
TREE_FLOOR = 0.2
#: Values of the ``backend`` option and the sub-MIP solvers they stand for.
BACKENDS = {"scip": ("scip",), "highs": ("highs",), "both": ("scip", "highs")}
#: Seconds below which no iteration starts (its solver could not stop in time).
MIN_ITERATION = 0.25
#: Length of a learned instance embedding in the bandit's context (see :func:`_embedding`).
CONTEXT_SIZE = 16
#: Relative primal-dual gap below which a tree's bound proves the incumbent optimal.
PROOF_GAP = 1e-6

#: The context of a contextual bandit: ``source(problem) -> vector`` (a learned embedding).
ContextSource = Any


@dataclass(frozen=True)
class Settings:
    """Options of the LNS solver (``options=`` of :func:`hybridsolve.solve`).

    Attributes
    ----------
    backend : str
        Sub-MIP solvers: ``"both"`` (default: every operator as one arm with SCIP and one
        with HiGHS, and both trees), ``"scip"`` or ``"highs"``.
    policy : str
        Bandit policy (:data:`hybridsolve.lns.bandit.POLICIES`): ``egreedy``, ``ucb1``,
        ``thompson``, ``softmax``, or the contextual ``linucb`` and ``lints``.
    operators : tuple of str
        Operator families (keys of :data:`hybridsolve.lns.OPERATORS`); all by default.
        The hint families (``hint_disagree``, ``hint_confident``) join only when the
        solve has hints (``hints=`` of :func:`hybridsolve.mip.solve`).
    rates : str
        ``"first"`` (default): each family at the first of its destroy rates in
        :data:`~hybridsolve.lns.OPERATORS` (the arm's adaptive scale moves it from there),
        so a bandit over two sub-MIP solvers has few arms to explore; ``"all"``: one arm
        per rate.
    initial_share : float
        Share of the time limit for the first turns of the trees (shared by them) or,
        without trees, the first run of a sub-MIP solver on the full model; it goes on
        past it only until a first solution exists.
    iteration_time : float or None
        A fixed sub-MIP (and tree turn) time limit in seconds. By default it starts at 5%
        of the time left after the initial run, between 1 and 10 s, and adapts to how the
        sub-MIPs go (shorter after quick solves, longer after timeouts).
    iterations : int or None
        Stop after this many LNS iterations (with no time limit: required).
    tree : bool
        Keep the solvers' own searches of the full model alive (SCIP's, and HiGHS's
        paused in a thread of its own between its turns): the initial run is theirs, and
        resuming one for one iteration's time is one more bandit arm (``tree@scip``,
        ``tree@highs``), so the search falls back on the plain solvers where the
        neighbourhoods do not pay. Together they get a share of the time between the
        bounds of :data:`TREE_SHARE` that follows their progress per second (the shares
        of the gap closed by their incumbents, and half those closed by their bound; see
        :meth:`_Run.rate`) against the
        neighbourhoods'; a tree that proves optimality, or whose bound meets the
        incumbent, ends the run as ``optimal``. The tree's turns follow measured seconds,
        so only a run without it (and with node limits instead of time limits) repeats
        exactly under a seed.
    bandit_state : str or None
        A JSON file (:class:`~hybridsolve.lns.state.BanditState`): the run starts from the
        bandit statistics it holds (a missing file: a cold start) and writes them back,
        updated, at its end.
    context : callable or None
        For a contextual policy: ``context(problem) -> numpy.ndarray``, an instance
        embedding that replaces :func:`~hybridsolve.lns.bandit.instance_features` in the
        context. :func:`hybridsolve.solve` makes it from ``context="forge[:WEIGHTS]"``.
    native : dict
        Backend parameters for every sub-MIP, passed through; with both backends, names
        with a ``/`` go to SCIP (``limits/nodes``), the others to HiGHS.
    """

    backend: str = "both"
    policy: str = "thompson"
    operators: tuple[str, ...] = tuple(OPERATORS)
    rates: str = "first"
    initial_share: float = 0.1
    iteration_time: float | None = None
    iterations: int | None = None
    tree: bool = True
    bandit_state: str | None = None
    context: ContextSource | None = None
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

    @property
    def backends(self) -> tuple[str, ...]:
        """The sub-MIP solvers of the arms (and the trees)."""
        return BACKENDS[self.backend]

    def native_for(self, backend: str) -> dict[str, Any]:
        """The native parameters that go to ``backend``."""
        if len(self.backends) == 1:
            return dict(self.native)
        return {k: v for k, v in self.native.items() if ("/" in k) == (backend == "scip")}

    def validate(self) -> None:
        """Raise :class:`UsageError` on a bad setting."""
        if self.backend not in BACKENDS:
            raise UsageError(
                f"lns backend must be one of {', '.join(BACKENDS)}, got {self.backend!r}"
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
        if self.rates not in ("first", "all"):
            raise UsageError(f"lns rates must be first or all, got {self.rates!r}")
        if not 0 < self.initial_share < 1:
            raise UsageError(f"initial_share must be in (0, 1), got {self.initial_share!r}")
        if self.iteration_time is not None and not self.iteration_time > 0:
            raise UsageError(f"iteration_time must be positive, got {self.iteration_time!r}")
        if self.iterations is not None and not (
            isinstance(self.iterations, int) and self.iterations >= 0
        ):
            raise UsageError(f"iterations must be a non-negative integer, got {self.iterations!r}")
        if self.context is not None and not callable(self.context):
            raise UsageError(
                f"lns context must be given to hybridsolve.solve as 'forge[:WEIGHTS]', got "
                f"{self.context!r} here"
            )
        if self.context is not None and self.policy not in CONTEXTUAL:
            raise UsageError(f"an lns context needs a contextual policy ({', '.join(CONTEXTUAL)})")
        if self.bandit_state is not None and not isinstance(self.bandit_state, str):
            raise UsageError(f"bandit_state must be a file name, got {self.bandit_state!r}")


class _State:
    """An ALNS state: a certified solution; ``objective()`` is minimised by ``alns``."""

    def __init__(self, x: np.ndarray, value: float, maximize: bool) -> None:
        self.x, self.value = x, value
        self._key = -value if maximize else value

    def objective(self) -> float:
        return self._key


@dataclass(frozen=True)
class _Pull:
    """One arm of the bandit: an operator at one rate with one sub-MIP solver, or a tree."""

    name: str
    backend: str
    arm: Arm | None = None  # None: resume the backend's tree search


@dataclass
class _Destroyed:
    """What a destroy operator hands to the repair operator."""

    state: _State
    pull: _Pull
    neighbourhood: Neighbourhood | None = None


@dataclass
class _ArmStats:
    pulls: int = 0
    improvements: int = 0
    seconds: float = 0.0
    solved: int = 0
    limits: int = 0
    gain: float = 0.0  # the shares of the primal-dual gap its solutions closed, summed
    progress: float = 0.0  # trees: the shares of the gap their bound closed, summed


def _tree_name(backend: str) -> str:
    return f"tree@{backend}"


class _Run:
    """One LNS run: the clock, the solvers, the adaptive parameters, the statistics."""

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
        self.started = time.perf_counter()
        self._subs: dict[str, SubSolver] = {}
        self.trees: dict[str, ScipTree | HighsTree] = {}
        if plugins and not (settings.tree and "scip" in settings.backends):
            raise UsageError("SCIP plugins (learned branching) go to the LNS's SCIP tree arm, "
                             "which needs options backend=scip or both, and tree=true")  # fmt: skip
        self.build_seconds: dict[str, float] = {}  # building each backend's full model
        if settings.tree:
            for backend in settings.backends:
                native = settings.native_for(backend)
                began = time.perf_counter()
                self.trees[backend] = (
                    ScipTree(problem, seed, native, plugins)
                    if backend == "scip"
                    else HighsTree(problem, seed, native, deadline=monitor.deadline)
                )
                self.build_seconds[backend] = time.perf_counter() - began
        self.tree_dual: dict[str, float] = {}
        self.dual: float | None = None  # the best bound proven by a tree
        self.proven: Attempt | None = None  # a tree search that finished, or met the incumbent
        self.ctx = Context(problem, hints=hints)
        self.hint_arms: list[str] = []  # the portfolio's hint arms, once it is built
        self.iteration_time = 1.0
        self.max_iteration_time = 1.0
        self.iterations = 0
        self.stalled = 0  # iterations since the last improvement
        self.best_value: float | None = None
        self.pending: tuple[np.ndarray, float, str] | None = None  # see :meth:`reporter`
        self.root_bound: float | None = None  # the LP relaxation's value
        self.stats: dict[str, _ArmStats] = {}
        self.initial: dict[str, Any] = {}
        self.memory = BanditState()
        if settings.bandit_state is not None:
            self.memory = BanditState.load(settings.bandit_state)
        self.scales: dict[str, float] = dict(self.memory.scales)
        self.warmed = 0
        self.embedding: np.ndarray | None = None  # a contextual policy's, once the loop starts

    def sub(self, backend: str) -> SubSolver:
        """The sub-MIP model of ``backend``, built on first use (after the trees started)."""
        if backend not in self._subs:
            native = self.settings.native_for(backend)
            self._subs[backend] = SUBSOLVERS[backend](self.problem, self.seed, native)
        return self._subs[backend]

    def rate(self, names: list[str]) -> float:
        """Progress per second of the arms ``names`` together: the shares of the
        primal-dual gap closed by their solutions, plus half those closed by their bounds
        (trees; the primal integral counts only the former), with the earlier runs'
        per-run averages (:class:`BanditState`) and a prior of a tenth in ten seconds."""
        gained, seconds = 0.1, 10.0
        for name in names:
            stats, prior = self.stats.get(name, _ArmStats()), self.memory.prior(name)
            gained += stats.gain + 0.5 * stats.progress + prior["gain"] + 0.5 * prior["progress"]
            seconds += stats.seconds + prior["seconds"]
        return gained / seconds

    def tree_due(self) -> str | None:
        """The tree arm to resume now, ``None`` when the trees have had their share.

        The trees together get a share of the loop's time that follows their rate
        (:meth:`rate`) against the neighbourhoods', kept within :data:`TREE_SHARE`;
        between them the time goes by their own rates, at least :data:`TREE_FLOOR` each.
        """
        trees = [_tree_name(b) for b in self.trees]
        if not trees:
            return None
        seconds = {name: s.seconds for name, s in self.stats.items()}
        spent = sum(seconds.get(name, 0.0) for name in trees)
        total = sum(seconds.values())
        if total <= 0:
            return None
        others = [name for name in self.stats if name not in trees]
        tree_rate, lns_rate = self.rate(trees), self.rate(others)
        share = float(np.clip(tree_rate / (tree_rate + lns_rate), *TREE_SHARE))
        if spent >= share * total:
            return None
        rates = np.array([self.rate([name]) for name in trees])
        weights = np.maximum(rates / rates.sum(), TREE_FLOOR)
        weights /= weights.sum()
        lag = [seconds.get(name, 0.0) - w * spent for name, w in zip(trees, weights)]
        return trees[int(np.argmin(lag))]

    def remaining(self) -> float:
        """Seconds left before the deadline (infinite without one)."""
        if self.monitor.deadline is None:
            return np.inf
        return self.monitor.deadline - time.perf_counter()

    def stopping(self) -> bool:
        return self.monitor.stopping or self.remaining() <= 0 or self.proven is not None

    def reporter(self, source: str):  # noqa: ANN201 (a Found callback)
        """The ``found`` callback of one attempt of the arm ``source``.

        Every solution goes to the monitor, and the best one so far is kept as
        :attr:`pending` with its source, for the loop to take up: a tree search may find a
        solution after its turn has returned (HiGHS runs on until its next callback),
        which its attempt no longer carries.
        """

        def found(x: np.ndarray) -> None:
            value = float(self.problem.objective(x))
            best = self.pending[1] if self.pending is not None else None
            if best is None or (value > best if self.problem.maximize else value < best):
                self.pending = (x.copy(), value, source)
            if self.monitor.incumbent(x, None):
                self.monitor.request_stop(Limit.INTERRUPT)

        return found

    def gap(self, value: float | None, bound: float | None) -> float | None:
        """The relative gap between an objective value and a bound (``None`` if unknown)."""
        if value is None or bound is None:
            return None
        return abs(value - bound) / max(abs(value), 1e-9)

    def attempt(self, pull: _Pull, nb: Neighbourhood | None, start, cutoff,
                limit: float) -> Attempt:  # fmt: skip
        """Solve a sub-MIP, or with ``pull.arm`` None resume that backend's tree search
        (its full model without trees)."""
        limit = min(limit, max(self.remaining(), 1e-3))
        tree = self.trees.get(pull.backend) if pull.arm is None else None
        if tree is None:
            building = pull.backend not in self._subs
            if building and self.remaining() < 2 * self.build_seconds.get(pull.backend, 0.0):
                return Attempt("limit", None, 0.0)  # no time left to build its model
            return self.sub(pull.backend).solve(
                nb, start=start, cutoff=cutoff, time_limit=limit, stop=self.stopping,
                found=self.reporter(pull.name),
            )  # fmt: skip
        attempt = tree.solve(start=start, cutoff=cutoff, time_limit=limit, stop=self.stopping,
                             found=self.reporter(pull.name))  # fmt: skip
        if attempt.status in ("optimal", "infeasible", "unbounded"):
            self.proven = attempt
        if attempt.dual_bound is not None and self.problem.is_mip:
            self._bound(pull, attempt.dual_bound)
        return attempt

    def _bound(self, pull: _Pull, dual: float) -> None:
        """A tree's new dual bound: credit the share of the gap it closed, keep the best."""
        name, value = _tree_name(pull.backend), self.best_value
        before = self.gap(value, self.tree_dual.get(pull.backend))
        after = self.gap(value, dual)
        if before is not None and after is not None and before > 0:
            stats = self.stats.setdefault(name, _ArmStats())
            stats.progress += float(np.clip((before - after) / before, 0.0, 1.0))
        self.tree_dual[pull.backend] = dual
        better = max if not self.problem.maximize else min
        self.dual = dual if self.dual is None else better(self.dual, dual)

    def closing(self, old: float, new: float) -> float:
        """The share of the gap between ``old`` and the best bound known (the trees', else
        the LP relaxation's) that ``new`` closed; 1 without a bound."""
        bound = self.dual if self.dual is not None else self.root_bound
        gap = None if bound is None else abs(old - bound)
        if not gap:
            return 1.0
        return float(np.clip(abs(old - new) / gap, 0.0, 1.0))

    def closed(self) -> bool:
        """Whether the best tree bound proves the incumbent optimal (:data:`PROOF_GAP`)."""
        gap = self.gap(self.best_value, self.dual)
        return gap is not None and gap <= PROOF_GAP

    def features(self) -> np.ndarray:
        """The context of a contextual bandit: the instance's, then the run's."""
        assert self.embedding is not None
        budget = (self.monitor.deadline or np.inf) - self.started
        elapsed = (time.perf_counter() - self.started) / budget if np.isfinite(budget) else 0.0
        trees = sum(s.seconds for n, s in self.stats.items() if n.startswith("tree@"))
        total = sum(s.seconds for s in self.stats.values())
        bound = self.dual if self.dual is not None else self.root_bound
        state = search_features(elapsed, self.stalled, self.gap(self.best_value, bound),
                                trees / total if total > 0 else 0.0)  # fmt: skip
        return np.concatenate([self.embedding, state])

    def destroyer(self, pull: _Pull):  # noqa: ANN201 (an ALNS destroy operator)
        """The ALNS destroy operator of one arm."""
        arm = pull.arm

        def destroy(state: _State, rng: np.random.Generator, **_) -> _Destroyed:
            if arm is None:  # a tree: nothing to destroy, the repair resumes it
                return _Destroyed(state, pull)
            self.ctx.scale = self.scales.get(pull.name, 1.0)
            self.ctx.relax_time = max(0.1, 0.25 * self.iteration_time)
            nb = arm.operator(self.ctx, state.x, state.value, arm.rate, rng)
            return _Destroyed(state, pull, nb)

        destroy.__name__ = pull.name
        return destroy

    def repair(self, destroyed: _Destroyed, rng: np.random.Generator, **_) -> _State:
        """Solve the sub-MIP; adapt the neighbourhood scale and the time limit."""
        state, pull = destroyed.state, destroyed.pull
        attempt = self.attempt(pull, destroyed.neighbourhood, state.x, state.value,
                               self.iteration_time)  # fmt: skip
        self.iterations += 1
        stats = self.stats.setdefault(pull.name, _ArmStats())
        stats.pulls += 1
        stats.seconds += attempt.seconds
        better, source = self.take(state, attempt, pull.name)
        solved = attempt.status in ("optimal", "infeasible")
        stats.solved += solved
        stats.limits += not solved
        if better is not None:
            credit = self.stats.setdefault(source, _ArmStats())
            credit.improvements += 1
            credit.gain += self.closing(state.value, better.value)
            self.stalled = 0
            self.best_value = better.value
            self.ctx.remember(better.x)
        else:
            self.stalled += 1
        if self.proven is None and self.closed():
            self.proven = Attempt("optimal", None, 0.0, self.dual)
        if better is not None:
            return better
        if pull.arm is None:  # a tree search: nothing to adapt
            return state
        scale = self.scales.get(pull.name, 1.0)
        if solved:  # too small: grow this arm's neighbourhood, shorten the sub-MIPs
            quick = attempt.seconds < 0.2 * self.iteration_time
            self.scales[pull.name] = min(scale * (1.5 if quick else 1.2), 20.0)
            if self.settings.iteration_time is None:
                self.iteration_time = max(0.5, min(self.iteration_time, 2 * attempt.seconds + 0.5))
        elif not self.stopping():  # too large: shrink it, give sub-MIPs a little longer
            self.scales[pull.name] = max(scale * 0.8, 0.05)
            if self.settings.iteration_time is None:
                self.iteration_time = min(self.iteration_time * 1.25, self.max_iteration_time)
        return state

    def take(self, state: _State, attempt: Attempt, name: str) -> tuple[_State | None, str]:
        """The best certified solution better than ``state`` among the attempt's and the
        :attr:`pending` one, with the arm that found it; ``None`` when there is none."""
        better, source = None, name
        candidates = [(attempt.x, name)]
        if self.pending is not None:
            candidates.append((self.pending[0], self.pending[2]))
            self.pending = None
        for x, origin in candidates:
            found = None if x is None else certified(self.problem, x)
            if found is None or found[1].objective is None:
                continue
            candidate = _State(found[0], found[1].objective, self.problem.maximize)
            bar = state if better is None else better
            if candidate.objective() < bar.objective() - 1e-9 * max(1.0, abs(bar.value)):
                better, source = candidate, origin
        return better, source

    def remember(self, selector: Selector) -> None:
        """Write this run's bandit statistics to the state file (when one is set)."""
        path = self.settings.bandit_state
        if path is None or self.iterations == 0:
            return
        totals = {name: {key: getattr(s, key) for key in TOTALS} for name, s in self.stats.items()}
        scales = {name: self.scales[name] for name in self.stats if name in self.scales}
        self.memory.record(totals, scales, selector.observations)
        self.memory.save(path)

    def statistics(self) -> dict[str, Any]:
        stats: dict[str, Any] = {
            "backend": self.settings.backend,
            "policy": self.settings.policy,
            "iterations": self.iterations,
            "initial": dict(self.initial),
            "operators": {name: vars(s).copy() for name, s in sorted(self.stats.items())},
            "trees": {
                backend: {"nodes": tree.nodes, "dual_bound": self.tree_dual.get(backend)}
                for backend, tree in self.trees.items()
            },  # fmt: skip
            "dual_bound": self.dual,
        }
        if self.settings.bandit_state is not None:
            stats["bandit_state"] = {"file": self.settings.bandit_state,
                                     "earlier_runs": self.memory.runs - (self.iterations > 0),
                                     "replayed": self.warmed}  # fmt: skip
        if self.ctx.hints is not None:
            stats["hints"] = {"lns": self.hint_statistics()}
        scip = self.trees.get("scip")
        if isinstance(scip, ScipTree) and scip.plugins:
            stats["plugins"] = scip.plugins
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


def _embedding(problem: Problem, source: ContextSource | None) -> np.ndarray:
    """The instance part of the bandit's context: :func:`instance_features`, or a learned
    embedding scaled to unit length and, when longer than :data:`CONTEXT_SIZE`, projected
    to that many values by a fixed random Gaussian matrix (Johnson & Lindenstrauss 1984:
    distances are kept approximately; the matrix is the same in every run, so a bandit
    state stays valid)."""
    if source is None:
        return instance_features(problem)
    vector = np.asarray(source(problem), dtype=np.float64).ravel()
    if not np.all(np.isfinite(vector)) or vector.size == 0:
        raise UsageError("the lns context gave an empty or non-finite vector")
    if vector.size > CONTEXT_SIZE:
        matrix = np.random.default_rng(0).standard_normal((CONTEXT_SIZE, vector.size))
        vector = matrix @ vector
    return vector / max(float(np.linalg.norm(vector)), 1e-12)


class _Stop:
    """ALNS stopping criterion: the monitor's stop flag, the deadline, the iteration cap."""

    def __init__(self, run: _Run) -> None:
        self.run = run

    def __call__(self, rng, best, current) -> bool:
        run = self.run
        cap = run.settings.iterations
        return (
            run.stopping()
            or run.remaining() < MIN_ITERATION
            or (cap is not None and run.iterations >= cap)
        )


def _relaxation(problem: Problem, time_limit: float) -> tuple[np.ndarray, float] | None:
    """An optimal solution of the LP relaxation and its value (HiGHS), ``None`` when not
    found in time."""
    relaxed = replace(problem, integrality=np.zeros(problem.num_vars, dtype=bool))
    result = solve_mip(relaxed, "highs", time_limit=max(time_limit, 1e-3))
    if result.status is not Status.OPTIMAL:
        return None
    return result.x, float(result.objective)


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
        Seeds the operators, the bandit and the sub-MIP backends.
    warm_start : numpy.ndarray, optional
        Start values (NaN where unspecified) for the initial run.
    time_limit : float, optional
        Seconds for the whole run (the monitor's deadline enforces it).
    hints : Hints, optional
        Predictions for the hint arms (:data:`hybridsolve.lns.operators.HINTED`), which
        join the portfolio only with them; ``Outcome.stats["hints"]["lns"]`` says what
        those arms did.
    plugins : tuple of ScipPlugin
        Installed on the SCIP tree's model (a learned branching rule); their dicts are
        ``Outcome.stats["plugins"]``.

    Raises
    ------
    InputError
        A ``bandit_state`` file that exists but is not a bandit state.
    """
    if time_limit is None and settings.iterations is None:
        raise UsageError("lns needs a time limit or an iteration count (options iterations=N)")
    run = _Run(problem, settings, monitor, seed, hints, plugins)
    try:
        return _loop(run, warm_start)
    finally:
        for tree in run.trees.values():
            if isinstance(tree, HighsTree):  # its search ends with the run
                tree.close(timeout=HighsTree.OVERRUN)


def _initial(run: _Run, warm_start: np.ndarray | None) -> Attempt:
    """The first turns: each tree in turn (the best solution so far goes on as the next
    one's start), or without trees the first backend on the full model; repeated with
    growing turns while nothing is found and time is left."""
    budget = run.remaining()
    turn = budget * run.settings.initial_share if np.isfinite(budget) else 10.0
    pulls = [_Pull(_tree_name(b), b) for b in run.trees] or [_Pull("", run.settings.backends[0])]
    start, seconds = warm_start, 0.0
    turn /= len(pulls)
    while True:
        for pull in pulls:
            attempt = run.attempt(pull, None, start, None, turn)
            seconds += attempt.seconds
            if pull.name:
                run.initial.setdefault("trees", {})[pull.backend] = attempt.status
            if run.pending is not None:  # the best solution so far, whoever found it
                start, run.best_value = run.pending[0], run.pending[1]
            if attempt.status != "limit" or run.stopping():
                x = start if run.pending is not None else attempt.x
                return replace(attempt, x=x, seconds=seconds)
        if run.pending is not None:
            return Attempt("limit", start, seconds)
        turn = turn * 2 if run.trees else run.remaining()


def _loop(run: _Run, warm_start: np.ndarray | None) -> Outcome:
    """The initial turns, then the bandit's iterations until a limit (see :func:`search`)."""
    problem, settings, seed = run.problem, run.settings, run.seed
    first = _initial(run, warm_start)
    run.initial.update(status=first.status, seconds=first.seconds)
    if first.x is not None:
        run.initial["objective"] = float(problem.objective(first.x))
    if first.status != "limit" or first.x is None:
        return _final(run, first, exact=True)
    lp = None
    if any(OPERATORS[f][2] for f in settings.operators) or settings.policy in CONTEXTUAL:
        relaxed = _relaxation(problem, min(0.1 * run.remaining(), 30.0))
        if relaxed is not None:
            lp, run.root_bound = relaxed
    run.ctx.lp = lp
    arms = portfolio(run.ctx, settings.operators, lp=lp is not None)
    if settings.rates == "first":
        arms = [arm for arm in arms if arm.rate == OPERATORS[arm.name.rsplit("-", 1)[0]][1][0]]
    run.hint_arms = [f"{arm.name}@{b}" for arm in arms for b in settings.backends
                     if arm.name.rsplit("-", 1)[0] in HINTED]  # fmt: skip
    pulls = [_Pull(f"{arm.name}@{b}", b, arm) for arm in arms for b in settings.backends]
    pulls += [_Pull(_tree_name(b), b) for b in run.trees]
    if not pulls:
        return _final(run, first, exact=False)
    after = run.remaining()
    default = float(np.clip(0.05 * after, 1.0, 10.0)) if np.isfinite(after) else 10.0
    run.iteration_time = settings.iteration_time or default
    run.max_iteration_time = max(run.iteration_time, 0.25 * after if np.isfinite(after) else 60.0)
    found = certified(problem, first.x)
    assert found is not None, "the backend's first solution failed the certificate"
    start = _State(found[0], found[1].objective, problem.maximize)
    run.best_value = start.value
    run.ctx.remember(start.x)
    rng = np.random.default_rng(seed)
    alns = ALNS(rng)
    for pull in pulls:
        alns.add_destroy_operator(run.destroyer(pull), name=pull.name)
    alns.add_repair_operator(run.repair, name="sub-MIP")
    context = None
    if settings.policy in CONTEXTUAL:  # after the first solutions: embedding takes time
        run.embedding = _embedding(problem, settings.context)
        context = run.features
    names = [pull.name for pull in pulls]
    selector = Selector(names, run.tree_due, context, settings.policy, seed)
    run.warmed = selector.warm(run.memory.observations)
    result = alns.iterate(start, selector, HillClimbing(), _Stop(run))
    run.remember(selector)
    best = result.best_state
    proven = run.proven
    if proven is not None and proven.status == "optimal":
        dual = proven.dual_bound if proven.dual_bound is not None else run.dual
        return _final(run, Attempt("optimal", best.x, 0.0, dual), exact=True)
    return _final(run, Attempt("limit", best.x, 0.0, run.dual), exact=False)


def _final(run: _Run, attempt: Attempt, *, exact: bool) -> Outcome:
    """The outcome: a proven status only from a search of the full model; at a limit the
    best bound a tree proved."""
    stats = run.statistics()
    dual = attempt.dual_bound if run.problem.is_mip else None
    if exact and attempt.status == "optimal":
        return Outcome(Status.OPTIMAL, "optimal", attempt.x, dual, stats=stats)
    if exact and attempt.status in ("infeasible", "unbounded", "infeasible_or_unbounded"):
        return Outcome(Status(attempt.status), attempt.status, stats=stats)
    if exact and attempt.status == "error":
        return Outcome(Status.ERROR, "error", message="the backend failed on the full model")
    limit = run.monitor.stop_reason or Limit.TIME
    if run.settings.iterations is not None and run.iterations >= run.settings.iterations:
        limit = Limit.ITERATIONS
    status = Status.FEASIBLE if attempt.x is not None else Status.NO_SOLUTION
    return Outcome(status, "lns", attempt.x, dual, limit=limit, stats=stats)
