"""MIP models, file I/O, certificates, results and the SCIP/HiGHS backends.

``hybridsolve.mip`` depends on numpy, scipy, highspy and pyscipopt only.
"""

from .backend import Backend, Callback, Monitor, Outcome, Progress, Request, ScipPlugin
from .check import Certificate, Violation, certified, check
from .errors import HybridsolveError, InputError, ProblemError, SolverError, UsageError
from .highs import HighsBackend
from .hints import Hints, HintSettings, HintSource, HintWarning
from .io import problem_from_highs, read, write
from .problem import Problem, Sense
from .result import Limit, Result, Status, relative_gap
from .scip import ScipBackend
from .solfile import SolFile, read_sol, start_vector, write_sol
from .solve import BACKENDS, gap_closed, solve

__all__ = [
    "BACKENDS",
    "Backend",
    "Callback",
    "Certificate",
    "HighsBackend",
    "HintSettings",
    "HintSource",
    "HintWarning",
    "Hints",
    "HybridsolveError",
    "InputError",
    "Limit",
    "Monitor",
    "Outcome",
    "Problem",
    "ProblemError",
    "Progress",
    "Request",
    "ScipPlugin",
    "Result",
    "ScipBackend",
    "Sense",
    "SolFile",
    "SolverError",
    "Status",
    "UsageError",
    "Violation",
    "certified",
    "check",
    "gap_closed",
    "problem_from_highs",
    "read",
    "read_sol",
    "relative_gap",
    "solve",
    "start_vector",
    "write",
    "write_sol",
]
