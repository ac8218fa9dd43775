"""The imitation loss of BQ-NCO: cross-entropy of the policy on the expert's next action.

Drakulic et al. (2023) rest their training on *tail recursion*: the rest of an optimal
solution after any prefix is an optimal solution of the sub-problem that the BQ state of
that prefix describes. Every state along an expert solution is therefore a training
example whose target is the expert's next action; each problem cuts such states out of
expert solutions (:meth:`~.problem.BQProblem.sample`, the paper's sub-path augmentation).

Where several next actions are equally good (both directions of a tour before its first
move, any remaining route of an expert CVRP solution when a new route starts, any item of
an optimal knapsack selection not yet taken), the target is the set of them and the loss
is ``-log`` of the probability the policy gives to the set. With one target it is the
ordinary cross-entropy.

References
----------
D. Drakulic, S. Michel, F. Mai, A. Sors and J.-M. Andreoli, "BQ-NCO: Bisimulation
Quotienting for Efficient Neural Combinatorial Optimization", NeurIPS 2023.
"""

from __future__ import annotations

import torch

from hybridsolve.mip.errors import UsageError

from .model import BQPolicy
from .problem import BQProblem, Env

__all__ = ["imitation_loss", "token_targets"]


def token_targets(state_nodes: torch.Tensor, selectable: torch.Tensor,
                  target: torch.Tensor, *, partial: bool = False) -> torch.Tensor:  # fmt: skip
    """``[B, T, A]`` bool: the target actions of the state's tokens.

    Parameters
    ----------
    state_nodes : torch.Tensor
        ``[B, T]`` node of each token.
    selectable : torch.Tensor
        ``[B, T, A]`` allowed actions.
    target : torch.Tensor
        ``[B, N, A]`` bool target actions over the environment's nodes.
    partial : bool, default False
        Rows may have no target among their tokens (states restricted to the ``knn``
        nearest candidates, where the expert went farther); they come back all ``False``.

    Raises
    ------
    UsageError
        Without ``partial``, a row none of whose targets is an allowed action of its state.
    """
    actions = target.shape[-1]
    index = state_nodes.unsqueeze(-1).expand(-1, -1, actions)
    wanted = target.gather(1, index) & selectable
    if not partial and not bool(wanted.flatten(1).any(dim=1).all()):
        raise UsageError("a sub-problem's expert action is not allowed in its state")
    return wanted


def imitation_loss(
    model: BQPolicy,
    problem: BQProblem,
    env: Env,
    target: torch.Tensor,
    knn: int | None = None,
) -> torch.Tensor:
    """Mean over the rows of ``-log P(expert's actions)`` under the policy.

    With ``knn`` the states are restricted to the ``knn`` nearest candidates, as in decoding
    with the same ``knn``; rows whose expert action lies outside that restriction (rare for
    a near-optimal expert: its next node is almost always a near neighbour) are left out
    of the mean.

    Parameters
    ----------
    model : BQPolicy
        The policy (on the device of ``env``).
    problem : BQProblem
        The problem whose :meth:`~.problem.BQProblem.sample` made ``env`` and ``target``.
    env : Env
        Sub-problems, one per row.
    target : torch.Tensor
        ``[B, N, A]`` bool expert actions over the nodes of ``env``.
    knn : int, optional
        The candidate restriction of the states.

    Returns
    -------
    torch.Tensor
        Scalar loss, differentiable with respect to the model's parameters.

    Raises
    ------
    UsageError
        Without ``knn``: a row whose expert action is not allowed (a bug in the problem's
        :meth:`~.problem.BQProblem.sample`); with it: a batch where no row keeps one.
    """
    state = problem.state(env, knn)
    logits = model(state).float().flatten(1)
    wanted = token_targets(state.nodes, state.selectable, target, partial=knn is not None)
    wanted = wanted.flatten(1)
    kept = wanted.any(dim=1)
    if not bool(kept.any()):
        raise UsageError(f"no expert action of this batch lies among the {knn} nearest candidates")
    logits, wanted = logits[kept], wanted[kept]
    chosen = torch.logsumexp(logits.masked_fill(~wanted, -torch.inf), dim=1)
    return (torch.logsumexp(logits, dim=1) - chosen).mean()
