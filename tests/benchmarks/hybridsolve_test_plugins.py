"""Misbehaving solver plug-ins for the sweep tests, loaded by the worker as module:function."""

from __future__ import annotations

import os
import signal
import time

import numpy as np

from hybridsolve.mip import Result, Status


def segfault(problem, *, time_limit, seed, path):
    os.kill(os.getpid(), signal.SIGSEGV)


def sleepy(problem, *, time_limit, seed, path):
    time.sleep(3600)


def raises(problem, *, time_limit, seed, path):
    raise RuntimeError("boom")


def liar(problem, *, time_limit, seed, path):
    """Claims optimality with an infeasible point (all variables at 1e6)."""
    x = np.full(problem.num_vars, 1e6)
    return Result(status=Status.OPTIMAL, objective=problem.objective(x), x=x, solver="liar")
