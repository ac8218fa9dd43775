"""Problem: validation, immutability, converters, reading and writing."""

from __future__ import annotations

import dataclasses
import gzip

import numpy as np
import pytest
import scipy.sparse as sp

from hybridsolve.mip import Problem, ProblemError, read, write


def small() -> Problem:
    return Problem.from_arrays(
        [1.0, -2.0, 0.5],
        sp.csr_matrix([[1.0, 1.0, 0.0], [0.0, 1.0, -1.0]]),
        row_lower=[-np.inf, -3.0],
        row_upper=[4.0, 5.0],
        col_lower=[0.0, -np.inf, -2.0],
        col_upper=[10.0, np.inf, 3.0],
        integrality=[True, False, True],
        sense="maximize",
        offset=7.5,
        var_names=["a", "b", "c"],
        con_names=["r1", "r2"],
        name="small",
    )


def test_from_arrays_keeps_everything_in_order():
    p = small()
    assert p.num_vars == 3 and p.num_cons == 2 and p.is_mip and p.maximize
    assert p.var_names == ("a", "b", "c") and p.con_names == ("r1", "r2")
    assert p.objective([1.0, 1.0, 2.0]) == pytest.approx(1 - 2 + 1 + 7.5)
    assert p.index_of("c") == 2
    assert p.A.toarray().tolist() == [[1, 1, 0], [0, 1, -1]]


def test_arrays_are_read_only():
    p = small()
    for array in (p.c, p.col_lower, p.row_upper, p.integrality, p.A.data):
        with pytest.raises(ValueError):
            array[0] = 99
    with pytest.raises(AttributeError):
        p.offset = 1.0  # type: ignore[misc]


def test_defaults_follow_mps_conventions():
    p = Problem.from_arrays([1, 2])
    assert p.num_cons == 0
    assert p.col_lower.tolist() == [0, 0] and np.isinf(p.col_upper).all()
    assert p.var_names == ("x0", "x1") and not p.is_mip


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"c": [1, 2], "A": [[1, 2, 3]]}, "A has shape"),
        ({"c": [1, np.nan]}, "NaN"),
        ({"c": [1, 2], "col_upper": [1, 2, 3]}, "col_upper has shape"),
        ({"c": [1, 2], "col_lower": [np.inf, 0]}, r"lower bound of \+inf"),
        ({"c": [1, 2], "var_names": ["x", "x"]}, "duplicate name 'x'"),
        ({"c": [1, 2], "var_names": ["x y", "z"]}, "whitespace"),
        ({"c": [1, 2], "sense": "max"}, "sense must be"),
        ({"c": [[1, 2]]}, "one-dimensional"),
        ({"c": [1, 2], "A": [[1, np.inf]]}, "infinite"),
    ],
)
def test_from_arrays_rejects_bad_input(kwargs, message):
    with pytest.raises(ProblemError, match=message):
        Problem.from_arrays(**kwargs)


def test_empty_domains_are_reported():
    p = Problem.from_arrays([1, 1], col_lower=[0, 3], col_upper=[1, 2], var_names=["u", "v"])
    assert p.empty_domains() == ["v"]


def test_to_highs_and_to_scip_hold_the_same_model():
    p = small()
    highs = p.to_highs()
    lp = highs.getLp()
    assert list(lp.col_names_) == list(p.var_names)
    assert lp.offset_ == 7.5
    model = p.to_scip()
    assert sorted(v.name for v in model.getVars()) == ["a", "b", "c"]
    assert model.getObjectiveSense() == "maximize"
    assert model.getObjoffset() == 7.5


@pytest.mark.parametrize("suffix", [".mps", ".mps.gz", ".lp"])
def test_write_read_round_trip(tmp_path, suffix):
    p = small()
    path = write(p, tmp_path / f"model{suffix}")
    if suffix.endswith(".gz"):
        with gzip.open(path, "rb") as handle:
            assert handle.read(4) == b"NAME"
    q = read(path)
    assert q.sense == p.sense and q.offset == p.offset
    assert q.var_names == p.var_names
    np.testing.assert_array_equal(q.c, p.c)
    np.testing.assert_array_equal(q.col_lower, p.col_lower)
    np.testing.assert_array_equal(q.col_upper, p.col_upper)
    np.testing.assert_array_equal(q.integrality, p.integrality)
    if suffix != ".lp":  # the LP format has no ranged rows; r2 comes back as two rows
        assert q.con_names == p.con_names and q.name == "small"  # from the NAME line
        np.testing.assert_array_equal(q.A.toarray(), p.A.toarray())
        np.testing.assert_array_equal(q.row_lower, p.row_lower)
        np.testing.assert_array_equal(q.row_upper, p.row_upper)


def test_mps_writer_puts_objsense_on_its_own_line(tmp_path):
    text = write(small(), tmp_path / "m.mps").read_text()
    lines = [line.strip() for line in text.splitlines()]
    assert "OBJSENSE" in lines
    assert lines[lines.index("OBJSENSE") + 1] in ("MAX", "MAXIMIZE")


def test_objsense_on_the_same_line_is_read_as_maximisation(tmp_path):
    path = tmp_path / "same.mps"
    path.write_text(
        "NAME T\nOBJSENSE MAXIMIZE\nROWS\n N obj\n L c1\nCOLUMNS\n x obj 1 c1 1\n"
        "RHS\n RHS c1 4\nBOUNDS\n UP BND x 10\nENDATA\n"
    )
    assert read(path).sense == "maximize"


def test_fractional_integer_bounds_are_written_rounded_inwards(tmp_path):
    p = Problem.from_arrays([1.0, 1.0], col_lower=[-0.5, 0.2], col_upper=[2.5, 7.0],
                            integrality=[True, False])  # fmt: skip
    q = read(write(p, tmp_path / "r.mps"))
    assert q.col_lower.tolist() == [0.0, 0.2] and q.col_upper.tolist() == [2.0, 7.0]


UNSORTED_COLUMNS = """NAME          unsorted
ROWS
 N  obj
 L  r1
 L  r2
 G  r3
COLUMNS
    x         r3        1.0        r1        2.0
    x         obj       -1.0       r2        1.0
    y         r2        3.0        r1        1.0
    y         obj       -2.0
RHS
    rhs       r1        4.0        r2        6.0
    rhs       r3        0.5
ENDATA
"""


def test_read_keeps_the_files_column_entry_order_for_highs(tmp_path):
    """HiGHS gets the model its own reader builds: entries in the file's order per column."""
    import highspy

    path = tmp_path / "unsorted.mps"
    path.write_text(UNSORTED_COLUMNS)
    problem = read(path)
    start, index, value = problem.column_entries
    assert start.tolist() == [0, 3, 5]
    assert index.tolist() == [2, 0, 1, 1, 0]  # r3 r1 r2 | r2 r1: the file's order
    assert value.tolist() == [1.0, 2.0, 1.0, 3.0, 1.0]
    reader = highspy.Highs()
    reader.silent()
    reader.readModel(str(path))
    theirs, ours = reader.getLp().a_matrix_, problem.to_highs().getLp().a_matrix_
    for attribute in ("start_", "index_", "value_"):
        assert list(getattr(ours, attribute)) == list(getattr(theirs, attribute))
    # a changed model has no file behind it: its columns list rows in increasing order
    changed = dataclasses.replace(problem, sense="maximize")
    assert changed.column_entries[1].tolist() == [0, 1, 2, 0, 1]
    assert changed.column_entries[2].tolist() == [2.0, 1.0, 1.0, 1.0, 3.0]


def test_column_entries_of_a_built_model_are_sorted_and_read_only():
    start, index, value = small().column_entries
    assert start.tolist() == [0, 1, 3, 4] and index.tolist() == [0, 0, 1, 1]
    assert value.tolist() == [1.0, 1.0, 1.0, -1.0]
    with pytest.raises(ValueError):
        index[0] = 1


def test_scip_model_has_the_variable_order_of_scips_own_reader(tmp_path):
    """SCIP's search depends on its variable order; build_scip mirrors its MPS reader."""
    import pyscipopt

    rng = np.random.default_rng(3)
    A = sp.random(6, 9, density=0.5, random_state=4, format="csr")
    problem = Problem.from_arrays(
        rng.random(9), A, row_upper=2.0, col_upper=[1, 1, 5, 1, 1, 1, 1, 1, 1],
        integrality=[True] * 6 + [False] * 3,
    )  # fmt: skip
    path = write(problem, tmp_path / "order.mps")
    reader = pyscipopt.Model()
    reader.hideOutput()
    reader.readProblem(str(path))
    ours = read(path).to_scip()
    assert [v.name for v in ours.getVars()] == [v.name for v in reader.getVars()]
    assert [v.name for v in ours.getVars()][:2] == ["x4", "x0"]  # not the file's order
