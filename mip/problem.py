"""The immutable, array-based MIP model that every part of hybridsolve works on."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.sparse as sp

from .errors import ProblemError

if TYPE_CHECKING:
    import highspy
    import pyscipopt

__all__ = ["Problem", "Sense"]

Sense = Literal["minimize", "maximize"]

_NAME_OK = re.compile(r"^\S+$")


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _vector(value, n: int, what: str, default: float) -> np.ndarray:
    if value is None:
        return np.full(n, default, dtype=np.float64)
    out = np.asarray(value, dtype=np.float64)
    if out.ndim == 0:
        return np.full(n, float(out), dtype=np.float64)
    if out.shape != (n,):
        raise ProblemError(f"{what} has shape {out.shape}, expected ({n},)")
    if np.isnan(out).any():
        raise ProblemError(f"{what} contains NaN at index {int(np.flatnonzero(np.isnan(out))[0])}")
    return out.copy()


def _names(names: Sequence[str] | None, n: int, prefix: str, what: str) -> tuple[str, ...]:
    if names is None:
        return tuple(f"{prefix}{i}" for i in range(n))
    out = tuple(str(s) for s in names)
    if len(out) != n:
        raise ProblemError(f"{what} has {len(out)} entries, expected {n}")
    for s in out:
        if not _NAME_OK.match(s):
            raise ProblemError(f"{what}: name {s!r} is empty or contains whitespace")
    if len(set(out)) != n:
        seen: set[str] = set()
        dup = next(s for s in out if s in seen or seen.add(s))
        raise ProblemError(f"{what}: duplicate name {dup!r}")
    return out


@dataclass(frozen=True, eq=False)
class Problem:
    """A linear (mixed-integer) program in file order.

    ``row_lower <= A @ x <= row_upper``, ``col_lower <= x <= col_upper``, ``x[j]`` integer
    where ``integrality[j]``; optimise ``c @ x + offset`` in ``sense``. Infinite bounds are
    ``±numpy.inf``. All arrays are read-only; build instances with :meth:`from_arrays`
    or :func:`hybridsolve.mip.read`.

    Attributes
    ----------
    c : numpy.ndarray
        Objective coefficients, shape ``(n,)``.
    A : scipy.sparse.csr_matrix
        Constraint matrix, shape ``(m, n)``, canonical (sorted, no duplicates).
    row_lower, row_upper : numpy.ndarray
        Row activity bounds, shape ``(m,)``; equal for equations, finite both for ranges.
    col_lower, col_upper : numpy.ndarray
        Variable bounds, shape ``(n,)``.
    integrality : numpy.ndarray
        Boolean, shape ``(n,)``: ``True`` for integer (binary included) variables.
    sense : {"minimize", "maximize"}
        Objective sense as in the file.
    offset : float
        Constant added to the objective.
    var_names, con_names : tuple of str
        Unique names without whitespace.
    name : str
        Model name.
    """

    c: np.ndarray
    A: sp.csr_matrix
    row_lower: np.ndarray
    row_upper: np.ndarray
    col_lower: np.ndarray
    col_upper: np.ndarray
    integrality: np.ndarray
    sense: Sense = "minimize"
    offset: float = 0.0
    var_names: tuple[str, ...] = field(default=())
    con_names: tuple[str, ...] = field(default=())
    name: str = ""

    @classmethod
    def from_arrays(
        cls,
        c: Sequence[float] | np.ndarray,
        A: sp.spmatrix | sp.sparray | np.ndarray | None = None,
        row_lower: Sequence[float] | np.ndarray | float | None = None,
        row_upper: Sequence[float] | np.ndarray | float | None = None,
        col_lower: Sequence[float] | np.ndarray | float | None = 0.0,
        col_upper: Sequence[float] | np.ndarray | float | None = np.inf,
        integrality: Sequence[bool] | np.ndarray | bool | None = None,
        *,
        sense: Sense = "minimize",
        offset: float = 0.0,
        var_names: Sequence[str] | None = None,
        con_names: Sequence[str] | None = None,
        name: str = "",
    ) -> Problem:
        """Build a validated :class:`Problem` from arrays.

        Parameters
        ----------
        c : array_like
            Objective coefficients, length ``n``.
        A : sparse matrix or ndarray, optional
            Constraint matrix ``(m, n)``; no rows when omitted.
        row_lower, row_upper : array_like or float, optional
            Row bounds; ``-inf`` / ``+inf`` when omitted.
        col_lower, col_upper : array_like or float, optional
            Variable bounds; default ``0`` and ``+inf`` (the MPS convention).
        integrality : array_like of bool or bool, optional
            Integer flags; all continuous when omitted.
        sense : {"minimize", "maximize"}
            Objective sense.
        offset : float
            Objective constant.
        var_names, con_names : sequence of str, optional
            Names; ``x0, x1, ...`` and ``c0, c1, ...`` when omitted.
        name : str
            Model name.

        Returns
        -------
        Problem

        Raises
        ------
        ProblemError
            On wrong shapes, NaN, infinite coefficients, a lower bound of ``+inf``,
            duplicate or malformed names, or an unknown sense.
        """
        cost = np.asarray(c, dtype=np.float64)
        if cost.ndim != 1:
            raise ProblemError(f"c must be one-dimensional, got shape {cost.shape}")
        n = cost.shape[0]
        if not np.isfinite(cost).all():
            raise ProblemError("c contains NaN or infinite coefficients")
        if A is None:
            matrix = sp.csr_matrix((0, n), dtype=np.float64)
        else:
            matrix = sp.csr_matrix(A, dtype=np.float64)
            if matrix.ndim != 2 or matrix.shape[1] != n:
                raise ProblemError(f"A has shape {matrix.shape}, expected (m, {n})")
            matrix.sum_duplicates()
            matrix.sort_indices()
            if not np.isfinite(matrix.data).all():
                raise ProblemError("A contains NaN or infinite coefficients")
        m = matrix.shape[0]
        rl = _vector(row_lower, m, "row_lower", -np.inf)
        ru = _vector(row_upper, m, "row_upper", np.inf)
        cl = _vector(col_lower, n, "col_lower", 0.0)
        cu = _vector(col_upper, n, "col_upper", np.inf)
        for what, lo, hi in (("row", rl, ru), ("column", cl, cu)):
            if (lo == np.inf).any() or (hi == -np.inf).any():
                raise ProblemError(f"a {what} has a lower bound of +inf or an upper bound of -inf")
        if integrality is None:
            integ = np.zeros(n, dtype=bool)
        else:
            raw = np.asarray(integrality)
            integ = np.full(n, bool(raw)) if raw.ndim == 0 else raw.astype(bool).copy()
            if integ.shape != (n,):
                raise ProblemError(f"integrality has shape {integ.shape}, expected ({n},)")
        if sense not in ("minimize", "maximize"):
            raise ProblemError(f"sense must be 'minimize' or 'maximize', got {sense!r}")
        if not np.isfinite(offset):
            raise ProblemError("offset must be finite")
        for arr in (matrix.data, matrix.indices, matrix.indptr):
            arr.setflags(write=False)
        return cls(
            c=_frozen(cost.copy()),
            A=matrix,
            row_lower=_frozen(rl),
            row_upper=_frozen(ru),
            col_lower=_frozen(cl),
            col_upper=_frozen(cu),
            integrality=_frozen(integ),
            sense=sense,
            offset=float(offset),
            var_names=_names(var_names, n, "x", "var_names"),
            con_names=_names(con_names, m, "c", "con_names"),
            name=str(name),
        )

    @property
    def num_vars(self) -> int:
        """Number of variables ``n``."""
        return int(self.c.shape[0])

    @property
    def num_cons(self) -> int:
        """Number of constraints ``m``."""
        return int(self.A.shape[0])

    @property
    def is_mip(self) -> bool:
        """Whether any variable is integer."""
        return bool(self.integrality.any())

    @property
    def maximize(self) -> bool:
        """Whether the objective is maximised."""
        return self.sense == "maximize"

    def objective(self, x: np.ndarray) -> float:
        """Objective value ``c @ x + offset`` of a point, in the file's sense."""
        return float(self.c @ np.asarray(x, dtype=np.float64) + self.offset)

    def index_of(self, var_name: str) -> int:
        """Position of a variable by name.

        Raises
        ------
        KeyError
            When no variable has that name.
        """
        return self._var_index[var_name]

    @property
    def _var_index(self) -> dict[str, int]:
        cached = self.__dict__.get("_var_index_cache")
        if cached is None:
            cached = {s: j for j, s in enumerate(self.var_names)}
            object.__setattr__(self, "_var_index_cache", cached)
        return cached

    @property
    def column_entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``A`` column by column: ``(start, row_index, value)`` as in CSC storage.

        For a model read from a file the entries of each column keep the order in which
        the file listed them; solvers' searches depend on that order (HiGHS's reader keeps
        it, so a HiGHS run of a read :class:`Problem` is the run of HiGHS on the file).
        Otherwise each column lists its rows in increasing order.
        """
        cached = self.__dict__.get("_column_entries_cache")
        if cached is None:
            csc = self.A.tocsc()
            csc.sort_indices()
            cached = (csc.indptr, csc.indices, csc.data)
            for array in cached:
                array.setflags(write=False)
            object.__setattr__(self, "_column_entries_cache", cached)
        return cached

    def _keep_column_order(self, start: np.ndarray, index: np.ndarray, value: np.ndarray) -> None:
        """Record the column-wise entry order of the file this model was read from.

        ``(start, index, value)`` are the CSC arrays ``A`` was built from; they are ignored
        when building ``A`` merged repeated entries (the sorted order is used then).
        """
        if len(value) != self.A.nnz:
            return
        arrays = tuple(np.array(a, copy=True) for a in (start, index, value))
        for array in arrays:
            array.setflags(write=False)
        object.__setattr__(self, "_column_entries_cache", arrays)

    def empty_domains(self) -> list[str]:
        """Names of variables and rows whose bounds are contradictory (lower > upper)."""
        cols = np.flatnonzero(self.col_lower > self.col_upper)
        rows = np.flatnonzero(self.row_lower > self.row_upper)
        return [self.var_names[j] for j in cols] + [self.con_names[i] for i in rows]

    def to_highs(self) -> highspy.Highs:
        """A silent ``highspy.Highs`` holding this model (variables in file order)."""
        from .highs import build_highs

        return build_highs(self)

    def to_scip(self) -> pyscipopt.Model:
        """A quiet ``pyscipopt.Model`` holding this model.

        Variables and constraints are created in file order under their names, so
        ``model.getVars()`` may regroup them by type but each is found by name.
        """
        from .scip import build_scip

        return build_scip(self)[0]

    def __repr__(self) -> str:
        kind = "MIP" if self.is_mip else "LP"
        return (
            f"Problem({self.name!r}, {kind}, {self.sense}, vars={self.num_vars}, "
            f"int={int(self.integrality.sum())}, cons={self.num_cons}, nnz={self.A.nnz})"
        )
