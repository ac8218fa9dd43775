"""Every test of the neural package runs torch on one core."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module", autouse=True)
def _one_thread(one_torch_thread):
    """The shared ``one_torch_thread`` fixture, for every module here."""


@pytest.fixture
def fit():
    """``fit(policy, problem, env, target)``: 30 Adam steps on one fixed batch; the losses."""
    import torch

    from hybridsolve.neural.bq import imitation_loss

    def run(policy, problem, env, target, steps: int = 30) -> list[float]:
        optimizer = torch.optim.Adam(policy.parameters(), lr=1e-2)
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = imitation_loss(policy, problem, env, target)
            loss.backward()
            optimizer.step()
            losses.append(float(loss.detach()))
        return losses

    return run
