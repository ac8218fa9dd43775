"""What a BQ-NCO problem is to the shared policy, decoder and trainer: :class:`BQProblem`.

Drakulic et al. (2023) build every problem the same way: a constructive MDP whose state,
reduced by bisimulation quotienting, is a self-contained sub-instance (the nodes or items
that remain plus a few marked ones), encoded from scratch by one transformer at every
step. What differs between problems is only

- what a state's tokens are and which of their actions are allowed (:meth:`BQProblem.state`);
- how an action changes the construction (:meth:`BQProblem.step`) and when it is finished;
- which expert solves the training instances (:meth:`BQProblem.label`) and how the states
  along an expert solution, with the expert's next action as target, are cut out of it
  (:meth:`BQProblem.sample`, the paper's *sub-path augmentation*).

A construction in progress is an *environment*: a ``dict`` of tensors whose first
dimension is the row (one partial solution per row), so beam search can reorder rows with
one gather. States are :class:`State` tuples of token tensors. Each problem module
(:mod:`.tsp`, :mod:`.atsp`, :mod:`.cvrp`, :mod:`.op`, :mod:`.kp`) defines one subclass and
registers an instance in :data:`PROBLEMS` with :func:`register`.

The helpers at the end (:func:`normalise`, :func:`compact`, :func:`nearest`,
:func:`distances`) are the pieces the problem modules share.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

from typing import Any, ClassVar, NamedTuple, Protocol

import numpy as np
import torch

from hybridsolve.mip.errors import ProblemError, UsageError

__all__ = [
    "PROBLEMS",
    "BQProblem",
    "Env",
    "State",
    "check_knn",
    "compact",
    "distances",
    "gather_rows",
    "get",
    "nearest",
    "normalise",
    "register",
    "within_k",
]

#: A construction in progress: tensors whose first dimension is the row.
Env = dict[str, torch.Tensor]


class State(NamedTuple):
    """Batched BQ states: the tokens the policy reads, one row per partial solution.

    Attributes
    ----------
    features : torch.Tensor
        ``[B, T, F]`` float token features; zero on padding tokens.
    pairs : torch.Tensor or None
        ``[B, T, T, P]`` float features of token pairs (distances), which bias attention;
        ``None`` for problems without them.
    present : torch.Tensor
        ``[B, T]`` bool: the token belongs to the state; padding is ignored by attention.
        Every row has at least one present token.
    selectable : torch.Tensor
        ``[B, T, A]`` bool: the actions allowed next (``A`` actions per token).
    nodes : torch.Tensor
        ``[B, T]`` int64: the node (or item) of the instance behind each token; arbitrary
        on padding.
    """

    features: torch.Tensor
    pairs: torch.Tensor | None
    present: torch.Tensor
    selectable: torch.Tensor
    nodes: torch.Tensor


class BQProblem(Protocol):
    """One problem's BQ-MDP: instances, states, transitions, expert and sub-problems.

    A protocol that each problem module subclasses explicitly (for the shared instance
    check); the shared decoder (:mod:`.decode`), loss
    (:mod:`.subpaths`) and trainer (:mod:`.train`) only talk to this interface.

    Attributes
    ----------
    name : str
        Short name (``"tsp"``), also the default registry name of its shipped weights.
    kind : type
        The comb instance type (:class:`hybridsolve.comb.TSP`, ...).
    features : int
        Features per token.
    pairs : int
        Features per token pair (0: none).
    actions : int
        Actions per token (2 for the CVRP: direct or via the depot).
    maximize : bool
        Larger cost is better (prize, value).
    answer : str
        The :class:`hybridsolve.comb.Solution` field that holds a solution (``"tour"``,
        ``"routes"``, ``"selection"``).
    label_method : str
        What :meth:`label` runs, for the weights manifest and the label cache key.
    """

    name: ClassVar[str]
    kind: ClassVar[type]
    features: ClassVar[int]
    pairs: ClassVar[int] = 0
    actions: ClassVar[int] = 1
    maximize: ClassVar[bool] = False
    answer: ClassVar[str] = "tour"
    label_method: ClassVar[str]

    # -------------------------------------------------------------- instances

    def generate(self, rng: np.random.Generator, size: int) -> Any:
        """A random training instance of ``size`` (nodes, customers or items)."""
        ...

    def arrays(self, instance: Any) -> dict[str, np.ndarray]:
        """The instance as the arrays :meth:`start` reads (normalised, float64).

        Equal-size instances give arrays of equal shapes, stacked along a new first axis
        by the decoder and the trainer.

        Raises
        ------
        ProblemError
            An instance of another type.
        UsageError
            An instance the policy cannot read (a TSP without coordinates, ...).
        """
        ...

    def size(self, instance: Any) -> int:
        """Number of nodes (or items) of the instance's arrays: the decoder groups by it."""
        ...

    def cost(self, instance: Any, answer: Any) -> float:
        """The answer's objective under the instance's own metric."""
        ...

    def check(self, instance: Any, answer: Any) -> None:
        """Raise :class:`ProblemError` unless ``answer`` is a valid solution."""
        ...

    # -------------------------------------------------------------- construction

    def start(self, data: dict[str, torch.Tensor]) -> Env:
        """The empty construction of every row (``data`` are stacked :meth:`arrays`)."""
        ...

    def state(self, env: Env, knn: int | None = None) -> State:
        """The BQ state of every row; ``knn`` restricts it to the nearest candidates.

        Rows already finished still get a state with a present token (their actions
        are ignored).
        """
        ...

    def step(self, env: Env, state: State, choice: torch.Tensor) -> Env:
        """Apply ``choice`` (``[B]`` flat index ``token * actions + action`` into ``state``).

        Rows already finished are left as they are.
        """
        ...

    def finished(self, env: Env) -> torch.Tensor:
        """``[B]`` bool: the row's solution is complete."""
        ...

    def answers(self, env: Env) -> list[Any]:
        """The solution of every (finished) row, in comb's form (tour, routes, selection)."""
        ...

    def max_steps(self, env: Env) -> int:
        """An upper bound on the number of steps left to finish every row of ``env``."""
        ...

    # -------------------------------------------------------------- imitation

    def label(self, instance: Any, *, time_limit: float | None, iterations: int | None,
              seed: int) -> Any:  # fmt: skip
        """An expert solution of ``instance`` (runs in a labelling worker process)."""
        ...

    def expert(self, instance: Any, answer: Any) -> dict[str, np.ndarray]:
        """The expert answer as fixed-shape arrays (stackable over equal-size instances)."""
        ...

    def sample(
        self,
        data: dict[str, np.ndarray],
        experts: dict[str, np.ndarray],
        rng: np.random.Generator,
        device: torch.device,
    ) -> tuple[Env, torch.Tensor]:
        """Sub-problems cut from expert solutions, one per row, with the expert's actions.

        Parameters
        ----------
        data : dict of numpy.ndarray
            Stacked :meth:`arrays` of the batch's instances.
        experts : dict of numpy.ndarray
            Stacked :meth:`expert` arrays of their expert solutions.
        rng : numpy.random.Generator
            Every random choice (position along the solution, rotation, ...).
        device : torch.device
            Where the tensors go.

        Returns
        -------
        env : Env
            One construction in progress per row (on the expert's path), reduced to the
            nodes its state needs.
        target : torch.Tensor
            ``[B, N, A]`` bool over the nodes of ``env`` and the actions: the expert's
            next actions (several where the expert's choice is one of equally good ones).
        """
        ...

    # -------------------------------------------------------------- shared checks

    def _instance(self, instance: Any) -> None:
        if not isinstance(instance, self.kind):
            raise ProblemError(
                f"the {self.name.upper()} policy decodes {self.kind.__name__} instances, "
                f"not {type(instance).__name__}"
            )


#: The problems the policy knows, by name.
PROBLEMS: dict[str, BQProblem] = {}


def register(problem: BQProblem) -> BQProblem:
    """Add ``problem`` to :data:`PROBLEMS` under its name; returns it."""
    PROBLEMS[problem.name] = problem
    return problem


def get(name_or_instance: Any) -> BQProblem:
    """The problem of a name (``"tsp"``) or of a comb instance.

    Raises
    ------
    UsageError
        An unknown name or instance type.
    """
    if isinstance(name_or_instance, str):
        if name_or_instance in PROBLEMS:
            return PROBLEMS[name_or_instance]
        raise UsageError(
            f"BQ-NCO has no problem {name_or_instance!r}; choose from {', '.join(PROBLEMS)}"
        )
    for problem in PROBLEMS.values():
        if type(name_or_instance) is problem.kind:
            return problem
    kinds = ", ".join(p.kind.__name__ for p in PROBLEMS.values())
    raise UsageError(f"BQ-NCO decodes {kinds}, not {type(name_or_instance).__name__}")


# ------------------------------------------------------------------ shared helpers


def gather_rows(env: Env, rows: torch.Tensor) -> Env:
    """The environment of the rows ``rows`` (beam search's reordering)."""
    return {key: value[rows] for key, value in env.items()}


def normalise(coords: torch.Tensor, present: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Map the present tokens of each row into the unit square, keeping the aspect ratio.

    Parameters
    ----------
    coords : torch.Tensor
        ``[B, T, 2]`` coordinates.
    present : torch.Tensor
        ``[B, T]`` bool.

    Returns
    -------
    coords : torch.Tensor
        ``[B, T, 2]``: ``(coords - low) / scale`` with ``low`` the corner of the row's
        bounding box and ``scale`` its longer side; zero on absent tokens.
    scale : torch.Tensor
        ``[B]`` the scale of each row (1 where the present tokens coincide), so lengths
        such as a remaining budget can be expressed in the same unit.
    """
    inside = present.unsqueeze(-1)
    low = torch.where(inside, coords, torch.inf).amin(dim=1, keepdim=True)
    high = torch.where(inside, coords, -torch.inf).amax(dim=1, keepdim=True)
    scale = (high - low).amax(dim=-1, keepdim=True)
    scale = torch.where(torch.isfinite(scale) & (scale > 0), scale, torch.ones_like(scale))
    low = torch.where(torch.isfinite(low), low, torch.zeros_like(low))
    out = torch.where(inside, (coords - low) / scale, torch.zeros_like(coords))
    return out, scale.view(-1)


def distances(coords: torch.Tensor, present: torch.Tensor) -> torch.Tensor:
    """``[B, T, T, 1]`` Euclidean distances between tokens, zero where either is absent."""
    d = torch.cdist(coords, coords)
    both = present.unsqueeze(2) & present.unsqueeze(1)
    return torch.where(both, d, torch.zeros_like(d)).unsqueeze(-1)


def compact(keep: torch.Tensor, first: list[torch.Tensor] | None = None) -> tuple[
    torch.Tensor, torch.Tensor
]:  # fmt: skip
    """The nodes of a state in token order: the ``first`` nodes, then the kept ones.

    Parameters
    ----------
    keep : torch.Tensor
        ``[B, N]`` bool: nodes that get a token after the ``first`` ones (in index order).
    first : list of torch.Tensor, optional
        ``[B]`` int64 nodes placed at tokens ``0, 1, ...`` (the current node, ...); a node
        should not be both in ``first`` and in ``keep``.

    Returns
    -------
    nodes : torch.Tensor
        ``[B, T]`` int64 with ``T = len(first) + max(keep.sum(1))``.
    filled : torch.Tensor
        ``[B, T]`` bool: the token holds a kept node (``True`` for the ``first`` tokens).
    """
    batch, size = keep.shape
    count = int(keep.sum(dim=1).max()) if batch else 0
    order = torch.argsort((~keep).to(torch.int8), dim=1, stable=True)[:, :count]
    filled = keep.gather(1, order)
    heads = [node.view(batch, 1) for node in (first or [])]
    nodes = torch.cat([*heads, order], dim=1)
    ones = torch.ones(batch, len(heads), dtype=torch.bool, device=keep.device)
    return nodes, torch.cat([ones, filled], dim=1)


def nearest(
    coords: torch.Tensor, here: torch.Tensor, candidates: torch.Tensor, k: int
) -> torch.Tensor:
    """``[B, N]`` bool: the ``k`` candidates nearest to node ``here`` of each row.

    Parameters
    ----------
    coords : torch.Tensor
        ``[B, N, 2]``.
    here : torch.Tensor
        ``[B]`` int64 node of each row.
    candidates : torch.Tensor
        ``[B, N]`` bool.
    k : int
        How many to keep (all candidates where there are fewer).
    """
    rows = torch.arange(coords.shape[0], device=coords.device)
    squared = ((coords - coords[rows, here].unsqueeze(1)) ** 2).sum(dim=-1)
    return within_k(squared, candidates, k)


def within_k(score: torch.Tensor, candidates: torch.Tensor, k: int) -> torch.Tensor:
    """``[B, N]`` bool: the ``k`` candidates of smallest ``score`` in each row."""
    if k >= score.shape[1]:
        return candidates.clone()
    masked = score.masked_fill(~candidates, torch.inf)
    value, index = masked.topk(k, dim=1, largest=False)
    out = torch.zeros_like(candidates)
    out.scatter_(1, index, torch.isfinite(value))
    return out & candidates


def check_knn(knn: int | None) -> int | None:
    """``knn`` as an int, or ``None``.

    Raises
    ------
    UsageError
        Not a positive integer.
    """
    if knn is None:
        return None
    if isinstance(knn, bool) or not isinstance(knn, (int, np.integer)) or knn < 1:
        raise UsageError(f"knn must be a positive integer or None, got {knn!r}")
    return int(knn)
