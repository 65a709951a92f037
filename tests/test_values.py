"""--shape and --value, files, conflicts, and the default values."""

import numpy as np
import pytest

import mcalc
from mcalc.errors import UsageError, ValueSpecError
from mcalc.problem import prepare
from mcalc.values import default_value, parse_shape, parse_shape_specs, parse_value, parse_value_specs


@pytest.mark.parametrize("text,shape", [("2x3", (2, 3)), ("3", (3,)), ("3x1", (3, 1)), ("scalar", ()), ("()", ()),
                                        ("2X3", (2, 3)), ("2×3", (2, 3)), ("(2,3)", (2, 3)), ("1x4", (1, 4)), ("2,3", (2, 3))])
def test_shapes(text, shape):
    assert parse_shape(text) == shape


@pytest.mark.parametrize("text", ["2x", "x3", "2x3x4", "a", "-2", "0x3", "2.5", "2 3", "", "2,3,4", "2,"])
def test_malformed_shapes(text):
    with pytest.raises(ValueSpecError):
        parse_shape(text)


def test_shape_items_default_and_named():
    assert parse_shape_specs(["2x2", "A=2x3,x=3", "s=scalar"]) == ((2, 2), {"A": (2, 3), "x": (3,), "s": ()})
    assert parse_shape_specs(["A=(2,3),B=3x1"]) == (None, {"A": (2, 3), "B": (3, 1)})
    with pytest.raises(ValueSpecError):
        parse_shape_specs(["1A=2x2"])
    with pytest.raises(ValueSpecError, match="twice"):
        parse_shape_specs(["A=2x3,A=3x3"])
    with pytest.raises(ValueSpecError, match="two default"):
        parse_shape_specs(["2x2", "3x3"])
    with pytest.raises(ValueSpecError, match="twice"):
        parse_value_specs(["x=1", "x=2"])


@pytest.mark.parametrize("text,expected", [
    ("3", 3.0), ("-0.5", -0.5), ("1e-3", 1e-3), ("[1, 2, 3]", [1, 2, 3]), ("[[1,2],[3,4]]", [[1, 2], [3, 4]]),
    ("[[1, -2.5], [3, 4]]", [[1, -2.5], [3, 4]]), ("1 2 3", [1, 2, 3]), ("1,2,3", [1, 2, 3]),
    ("1 2; 3 4", [[1, 2], [3, 4]]), ("1; 2; 3", [[1], [2], [3]]), ("1 2 3;", [[1, 2, 3]]),
    ("pi/4", np.pi / 4), ("[pi, -e]", [np.pi, -np.e]), ("eye(2)", [[1, 0], [0, 1]]), ("2*ones(2, 1)", [[2], [2]]),
])
def test_value_texts(text, expected):
    v = parse_value(text, "A")
    np.testing.assert_array_equal(v, np.array(expected, dtype=float))
    assert v.shape == np.array(expected).shape


@pytest.mark.parametrize("text,fragment", [
    ("[[1, 2], [3]]", "ragged"), ("1 2; 3", "ragged"), ("[1, 'a']", "cannot read"), ("abc", "variables"),
    ("[[[1]]]", "3 dimensions"), ("nan", "nan or inf"), ("[1, inf]", "nan or inf"), ("", "empty"), ("[]", "empty"),
    ("[1, __import__('os')]", "cannot read"), ("@/nonexistent/file.npy", "cannot read"), ("x + 1", "variables"),
    ("@", "no file name"), ("log(-1)", "cannot read"),
])
def test_bad_values(text, fragment):
    with pytest.raises(ValueSpecError, match=fragment):
        parse_value(text, "A")


def test_value_files(tmp_path):
    M = np.array([[1.0, 2.5], [-3.0, 4.0]])
    np.save(tmp_path / "m.npy", M)
    np.savetxt(tmp_path / "m.csv", M, delimiter=",")
    np.savetxt(tmp_path / "m.txt", M)
    np.savetxt(tmp_path / "v.txt", [[1.0, 2.0, 3.0]])
    for name in ("m.npy", "m.csv", "m.txt"):
        np.testing.assert_array_equal(parse_value(f"@{tmp_path / name}"), M)
    assert parse_value(f"@{tmp_path / 'v.txt'}").shape == (3,)
    for shape in [(1, 3), (1, 1), (1,), (), (3, 1)]:                   # (an array keeps its shape; a row stays one)
        np.save(tmp_path / "s.npy", np.arange(1.0, 1 + np.prod(shape, dtype=int)).reshape(shape))
        np.savez(tmp_path / "s.npz", a=np.arange(1.0, 1 + np.prod(shape, dtype=int)).reshape(shape))
        assert parse_value(f"@{tmp_path / 's.npy'}").shape == shape
        assert parse_value(f"@{tmp_path / 's.npz'}").shape == shape
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbf1,2.5\n-3,4\n")         # (Excel's CSV starts with a BOM)
    np.testing.assert_array_equal(parse_value(f"@{tmp_path / 'bom.csv'}"), M)
    for name, text in (("n.csv", "1,inf\n2,3\n"), ("n.txt", "1 nan\n")):    # (numbers, refused: not a header)
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueSpecError, match="nan or inf"):
            parse_value(f"@{tmp_path / name}")
    (tmp_path / "bad.csv").write_text("1,2\n3\n")
    with pytest.raises(ValueSpecError, match="cannot read"):
        parse_value(f"@{tmp_path / 'bad.csv'}")
    (tmp_path / "obj.npy").write_bytes(b"not an npy file")              # (read by content: text without numbers)
    with pytest.raises(ValueSpecError, match="holds no numbers"):
        parse_value(f"@{tmp_path / 'obj.npy'}")
    np.save(tmp_path / "c.npy", np.array([1 + 2j]))
    with pytest.raises(ValueSpecError, match="complex"):
        parse_value(f"@{tmp_path / 'c.npy'}")
    (tmp_path / "empty.txt").write_text("")
    with pytest.raises(ValueSpecError, match="no numbers"):
        parse_value(f"@{tmp_path / 'empty.txt'}")
    (tmp_path / "header.csv").write_text("a,b\n1,2\n3,4\n")
    np.testing.assert_array_equal(parse_value(f"@{tmp_path / 'header.csv'}"), [[1, 2], [3, 4]])
    (tmp_path / "ragged.txt").write_text("1 2\n3\n")
    with pytest.raises(ValueSpecError, match="different lengths"):
        parse_value(f"@{tmp_path / 'ragged.txt'}")


def test_a_value_fixes_the_shape_and_a_conflicting_shape_is_an_error():
    p = prepare("A@B", "A", values={"A": "1 2 3; 4 5 6"}, shapes="B=3x2")
    assert p.variables["A"].shape == (2, 3)
    with pytest.raises(mcalc.ShapeError, match="not aligned"):
        prepare("A@B", "A", values={"A": "1 2 3; 4 5 6", "B": "1 2; 3 4"})
    with pytest.raises(ValueSpecError, match="--shape says"):
        prepare("A@B", "A", values={"A": "1 2; 3 4"}, shapes=["A=3x3"])


def test_names_that_are_not_variables_are_errors():
    with pytest.raises(UsageError, match="not a variable"):
        prepare("A@B", "A", values={"C": 1})
    assert prepare("A@B", "A", shapes=["C=2x2", "2x2"]).variables["A"].shape == (2, 2)   # harmless
    with pytest.raises(UsageError, match="not in the expression"):
        prepare("A@B", "C")
    with pytest.raises(UsageError, match="twice"):
        prepare("A@B", ["A", "A"])


def test_no_shape_means_scalar_and_no_wrt_means_every_variable():
    p = prepare("[r*cos(t), r*sin(t)]")
    assert [v.name for v in p.wrt] == ["r", "t"]
    assert p.variables["r"].shape == () and p.root.shape == (2,)


def test_default_values_are_reproducible_readable_and_per_variable():
    a = default_value("A", (2, 2), seed=0, attempt=0)
    assert np.array_equal(a, default_value("A", (2, 2), seed=0, attempt=0))
    assert not np.array_equal(a, default_value("A", (2, 2), seed=1, attempt=0))
    assert np.all((a >= 1) & (a <= 5) & (a == np.round(a)))
    p1 = prepare("A@B", "A", shapes="2x2")
    p2 = prepare("A@B + C", "A", shapes="2x2")
    np.testing.assert_array_equal(p1.values["A"], p2.values["A"])      # adding C does not change A
    small = default_value("x", (50,), seed=0, attempt=0, style="small")
    assert np.all(np.abs(small) < 1) and np.all(small != 0)


@pytest.mark.parametrize("expr,check", [
    ("log(x)", lambda v: np.all(v["x"] > 0)),
    ("sqrt(x - y)", lambda v: np.all(v["x"] > v["y"])),
    ("arcsin(x)", lambda v: np.all(np.abs(v["x"]) < 1)),
    ("inv(A)", lambda v: np.linalg.cond(v["A"]) < 1e4),
    ("logdet(A)", lambda v: abs(np.linalg.det(v["A"])) > 1e-6),
    ("tanh(W@x + b)", lambda v: np.all(np.abs(v["W"]) < 1)),
    ("abs(x - y)", lambda v: np.all(v["x"] != v["y"])),
    ("relu(x - y)", lambda v: np.all(v["x"] != v["y"])),
])
def test_default_values_lie_in_the_domain(expr, check):
    p = prepare(expr, shapes="3x3" if "A" in expr else ["W=2x3", "x=3", "b=2"] if "W" in expr else "3")
    assert check(p.values)
    p.analytic()


def test_defaults_give_up_with_a_clear_message():
    with pytest.raises(mcalc.DomainError, match="log needs positive"):
        prepare("log(-x*x)", shapes="2")


def test_large_defaults_are_drawn_in_bulk_and_stay_readable():
    """Beyond BULK entries the values come from numpy (the standard library took 3 s for 10⁶): still
    reproducible, from the same kinds (integers 1..5; decimals, distinct where the pool allows)."""
    import numpy as np

    from mcalc.values import BULK, default_value

    n = 3 * BULK
    ints = default_value("x", (n,), 0, 0, "integers")
    assert np.array_equal(ints, default_value("x", (n,), 0, 0, "integers"))
    assert set(np.unique(ints)) <= {1.0, 2.0, 3.0, 4.0, 5.0}
    small = default_value("x", (n,), 0, 0, "small")
    assert len(np.unique(small)) == n and np.all(np.abs(small) < 1) and (small < 0).any() and (small > 0).any()
    assert not np.array_equal(small, default_value("x", (n,), 1, 0, "small"))


def test_names_read_as_python_reads_them_in_the_expression():
    """Python NFKC-normalises identifiers, so 'ℌ + H' has one variable, H (f = 2H): a value, a shape or a wrt
    spelled ℌ is H's, and ℌ beside H is one name given twice."""
    assert mcalc.jacobian("ℌ + H", values={"ℌ": 2.0}).tolist() == [[2.0]]
    g = mcalc.gradient("sum(ℌ * x)", "ℌ", {"ℌ": [1.0, 2.0], "x": [3.0, 4.0]})
    np.testing.assert_array_equal(g, [3.0, 4.0])
    J = mcalc.jacobian("H * x", "ℌ", shapes="ℌ=2,x=2", values={"x": [5.0, 7.0]})
    np.testing.assert_array_equal(J, np.diag([5.0, 7.0]))
    for values in ({"ℌ": 1.0, "H": 2.0}, ["ℌ=1", "H=2"]):
        with pytest.raises(ValueSpecError, match="gives H twice .'ℌ' reads as H"):
            mcalc.jacobian("H * x", values=values)
    with pytest.raises(ValueSpecError, match="gives H twice"):
        mcalc.jacobian("H * x", shapes="ℌ=2,H=2")


@pytest.mark.parametrize("order", ["c", " c "])
def test_a_lowercase_c_order_is_ambiguous(order):
    """'c' is numpy's order='C' (row-major) and the start of col (column-major): refused, not guessed; C is row."""
    with pytest.raises(UsageError, match="ambiguous"):
        mcalc.jacobian("A@B", "A", shapes="2x2", order=order)
    B = np.array([[1.0, 2.0], [3.0, 4.0]])
    v = {"A": np.eye(2), "B": B}
    np.testing.assert_array_equal(mcalc.jacobian("A@B", "A", v, order="C"), np.kron(np.eye(2), B.T))
    np.testing.assert_array_equal(mcalc.jacobian("A@B", "A", v, order="f"), np.kron(B.T, np.eye(2)))
