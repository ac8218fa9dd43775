"""The LNS solver behind ``solve(..., solver="lns")``: a :class:`hybridsolve.mip.Backend`."""

from __future__ import annotations

from hybridsolve.mip import Monitor, Outcome, Problem, Request

from .search import Settings, search

__all__ = ["LnsBackend"]


class LnsBackend:
    """Adaptive large neighbourhood search over SCIP and HiGHS sub-MIPs and trees.

    ``options`` of :func:`hybridsolve.solve` hold the :class:`~hybridsolve.lns.Settings`
    (``backend``, ``policy``, ``operators``, ``initial_share``, ``iteration_time``,
    ``iterations``, ``tree``, ``bandit_state``, ``context``); any other key is a native
    parameter of the sub-MIP backends.
    ``threads`` is accepted for a uniform API; every sub-MIP runs on one thread.
    With ``hints`` (:class:`~hybridsolve.mip.Hints`) the run starts from the trust-region
    solution that :func:`hybridsolve.mip.solve` passes as the warm start, and the hint
    arms (``hint_disagree``, ``hint_confident``) join the bandit's portfolio;
    ``Result.stats["hints"]["lns"]`` says what they did. SCIP plugins (``plugins=``, a
    learned branching rule through ``branching="gnn"``) are installed on the SCIP
    tree's model.
    """

    name = "lns"
    accepts_plugins = True

    def __init__(self) -> None:
        self._problem: Problem | None = None
        self._request: Request | None = None
        self._settings: Settings | None = None

    def prepare(self, problem: Problem, request: Request) -> None:
        """Check the options; the sub-MIP model is built when the run starts."""
        self._settings = Settings.from_options(request.options)
        self._problem, self._request = problem, request

    def run(self, monitor: Monitor) -> Outcome:
        """Run the search, reporting every improving solution to ``monitor``."""
        problem, request, settings = self._problem, self._request, self._settings
        assert problem is not None and request is not None and settings is not None
        return search(
            problem, settings, monitor, seed=request.seed, warm_start=request.warm_start,
            time_limit=request.time_left(), hints=request.hints, plugins=request.plugins,
        )  # fmt: skip
