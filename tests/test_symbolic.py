"""Symbolic entries: names as the seeds write them, values equal to the numeric Jacobian at random points."""

import numpy as np
import pytest
import sympy

from mcalc.errors import TooLargeError
from mcalc.problem import prepare
from mcalc.symbolic import substitutions, symbol_names, symbolic_gradient, symbolic_jacobian


def test_symbol_names():
    assert symbol_names("X", (2, 2), set()).tolist() == [["x11", "x12"], ["x21", "x22"]]
    assert symbol_names("x", (3,), set()).tolist() == ["x1", "x2", "x3"]
    assert symbol_names("r", (), set()) == "r"
    assert symbol_names("A", (10, 2), set())[9, 1] == "a_10_2"


@pytest.mark.parametrize("expr,wrt,shapes", [
    ("A@B", "A", "2x2"), ("X^2", "X", "2x2"), ("inv(A)", "A", "2x2"), ("det(A)", "A", "3x3"),
    ("softmax(x)", "x", "x=3"), ("tanh(W@x + b)", "W", "W=2x2,x=2,b=2"), ("norm(x)", "x", "x=3"),
    ("[r*cos(t), r*sin(t)]", "r,t", None), ("logdet(A)", "A", "2x2"), ("sum(A, axis=0) * pi", "A", "2x3"),
    ("kron(A, B)", "B", "2x2"), ("diag(x) @ y", "x", "x=2,y=2"),
])
@pytest.mark.parametrize("order", ["row", "col"])
@pytest.mark.parametrize("seed", [1, 2])
def test_symbolic_entries_equal_the_numbers(expr, wrt, shapes, order, seed):
    p = prepare(expr, wrt, shapes=shapes, order=order, seed=seed)
    J, syms = symbolic_jacobian(p)
    numbers = np.array(J.subs(substitutions(p, syms)).evalf(), dtype=float)
    np.testing.assert_allclose(numbers, p.analytic(), rtol=1e-10, atol=1e-12)


def test_seed_examples_read_as_written():
    p = prepare("2*sum(A)", "A", shapes="2x3")
    g, _ = symbolic_gradient(p)
    assert g.tolist() == [[2, 2, 2], [2, 2, 2]]
    J, _ = symbolic_jacobian(prepare("trace(A)", "A", shapes="2x2"))
    assert [str(e) for e in J] == ["1", "0", "0", "1"]
    J, _ = symbolic_jacobian(prepare("[r*cos(t), r*sin(t)]", "r,t"))
    assert sympy.simplify(J.det()) == sympy.Symbol("r", real=True)
    J, _ = symbolic_jacobian(prepare("A@B", "A", shapes="2x2"))
    assert str(J[0, 0]) == "b11" and str(J[0, 1]) == "b21" and J[0, 2] == 0      # I ⊗ Bᵀ, entry by entry
    g, _ = symbolic_gradient(prepare("trace(X@X)", "X", shapes="2x2"))
    assert [str(e) for e in g.ravel()] == ["2*x11", "2*x21", "2*x12", "2*x22"]    # 2 Xᵀ


def test_strings_parse_back():
    J, _ = symbolic_jacobian(prepare("softmax(x)", "x", shapes="x=3"))
    for e in J:
        back = sympy.sympify(str(e), locals={s.name: s for s in e.free_symbols})
        assert sympy.simplify(back - e) == 0


def test_large_symbolic_jacobians_are_refused():
    with pytest.raises(TooLargeError, match="readable"):
        symbolic_jacobian(prepare("A@B", "A", shapes="6x6"))
