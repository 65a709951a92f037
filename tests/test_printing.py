"""Trees as a textbook writes them (Unicode, LaTeX) and as mcalc reads them: juxtaposed matrix products, ⊙ only
where element-wise, columns for vectors, Hadamard powers of matrices, numbers exactly as they are.  Shapes come from
the tree (here: 2×2 for capitals and d-capitals, vectors of 2 for lower case, scalars c and s)."""

import numpy as np
import pytest

from mcalc.expr import build, evaluate, topo_order
from mcalc.parse import parse
from mcalc.printing import Latex, Mcalc, Unicode

SCALARS = {"c", "s"}


def tree(text):
    parsed = parse(text)
    shapes = {n: () if n in SCALARS else (2, 2) if n.lstrip("d")[:1].isupper() else (2,) for n in parsed.variables()}
    return build(parsed, shapes)


@pytest.mark.parametrize("text,expected", [
    ("A@B", "A B"),
    ("X^2", "X²"),                                   # the matrix power
    ("X**2", "X∘²"),                                 # the element-wise square of a matrix
    ("x**2", "x²"),                                  # of a vector: as usual
    ("x*y", "x ⊙ y"),
    ("c*x", "c x"), ("x*c", "x c"), ("dx*2", "2 dx"), ("2*x", "2x"), ("x*pi", "π x"),
    ("x/y", "x ⊘ y"), ("x/c", "x / c"), ("1/3", "1/3"),
    ("(1/c)*x", "x / c"),                             # (1 / c) x is read as x / c
    ("(1/c)*(x + y)", "(x + y) / c"),
    ("inv(X)", "X⁻¹"), ("X.T", "Xᵀ"), ("(X^2).T", "(X²)ᵀ"), ("inv(X).T", "X⁻ᵀ"),
    ("x@A@y", "xᵀ A y"), ("x@y", "xᵀ y"), ("x@A", "Aᵀ x"), ("x@A.T", "A x"), ("A@x", "A x"),
    ("dX@X + X@dX", "dX X + X dX"), ("-inv(X)@dX@inv(X)", "-X⁻¹ dX X⁻¹"),
    ("A@(B@C)", "A B C"),                            # matrix products associate
    ("A@(B*C)", "A (B ⊙ C)"), ("(A*B)@C", "(A ⊙ B) C"),
    ("kron(eye(2), B.T)", "I₂ ⊗ Bᵀ"), ("kron(A, B)@kron(B, A)", "(A ⊗ B) (B ⊗ A)"), ("outer(x, y)", "x yᵀ"),
    ("dot(x, y)", "xᵀy"),
    ("norm(x)", "‖x‖"), ("abs(x)", "|x|"), ("logdet(X)", "log|det X|"), ("trace(X)", "tr(X)"),
    ("sigmoid(w@x + b)", "σ(wᵀ x + b)"),
    ("x + -y", "x - y"), ("x - (y - x)", "x - (y - x)"), ("-(x + y)", "-(x + y)"),
    ("x*0.123456789", "0.123456789 x"), ("x**0.5", "x^0.5"), ("X**0.5", "X^∘0.5"), ("x**-1", "x⁻¹"),
    ("x2 + y10", "x₂ + y₁₀"),
    ("norm(x - y)*(x - y)", "‖x - y‖ (x - y)"),      # the display bug of the old notation: a sum stays whole
    ("(x - y)/norm(x - y)", "(x - y) / ‖x - y‖"),
])
def test_unicode(text, expected):
    assert Unicode()(tree(text)) == expected


@pytest.mark.parametrize("text,expected", [
    ("A@B", "A\\,B"),
    ("X**2", "X^{\\circ 2}"), ("X^2", "X^{2}"), ("x**2", "x^{2}"),
    ("c*x", "c\\,x"), ("x*y", "x \\odot y"),
    ("x@A@y", "x^\\top\\,A\\,y"), ("x@A", "A^\\top\\,x"),
    ("inv(X).T", "X^{-\\top}"), ("x/y", "\\frac{x}{y}"),
    ("norm(x)", "\\left\\lVert x\\right\\rVert"), ("[[c, s], [s, c]]", "\\begin{bmatrix} c & s \\\\ s & c \\end{bmatrix}"),
])
def test_latex(text, expected):
    assert Latex()(tree(text)) == expected


@pytest.mark.parametrize("text", [
    "A@B + C", "-(A@B)", "-A@B", "x - (y - x)", "(x - y)**2", "x**-1", "2**x", "(-x)**2", "-x**2", "A.T.T",
    "(A + B).T", "inv(A + B)", "sum(A, axis=0)", "x[1:]", "A[::-1, 0]", "[x, 2*x]", "hstack(A, B)", "eye(2)[0:1]",
    "kron(A, B) @ kron(B, A)", "x / (y * x)", "(x / y) * x", "c * (A @ B)", "1 / 3 * x",
])
def test_mcalc_syntax_reads_back_to_the_same_values(text):
    t = tree(text)
    printed = Mcalc()(t)
    back = tree(printed)
    rng = np.random.default_rng(0)
    env = {n.name: rng.uniform(1, 2, size=n.shape) for n in topo_order(t) if hasattr(n, "name")}
    a = evaluate(topo_order(t), env)[id(t)]
    b = evaluate(topo_order(back), env)[id(back)]
    np.testing.assert_allclose(a, b, rtol=1e-14, err_msg=printed)


def test_shapes_decide_the_notation():
    """A 2-D Z's element-wise square is Z∘², a vector's z²; a scalar juxtaposes, a vector gets ⊙."""
    assert Unicode()(build(parse("Z**2"), {"Z": (2, 2)})) == "Z∘²"
    assert Unicode()(build(parse("Z**2"), {"Z": (2,)})) == "Z²"
    assert Unicode()(build(parse("u*v"), {"u": (), "v": (3,)})) == "u v"
    assert Unicode()(build(parse("u*v"), {"u": (3,), "v": (3,)})) == "u ⊙ v"


@pytest.mark.parametrize("name,tex", [("x", "x"), ("x1", "x_{1}"), ("x_10_11", "x_{10,11}"), ("θ", "\\theta "),
                                      ("Σ", "\\Sigma "), ("W_out", "W_{\\mathrm{out}}"), ("rate", "\\mathrm{rate}"),
                                      ("E_", "\\mathrm{E\\_}"), ("Α", "A"), ("h1_prev", "\\mathrm{h1\\_prev}"),
                                      ("ο", "o")])
def test_latex_names_are_latex(name, tex):
    """pdflatex reads them: Greek letters by their commands (Σ was raw Unicode), no underscore inside \\mathrm
    (W_out rendered W with the subscript o, then ut)."""
    from mcalc.printing import Latex

    assert Latex().name(name) == tex


@pytest.mark.parametrize("expr,shapes", [("x[0]*x[1]", "x=3"), ("diag(X)", "X=3x3"), ("norm(X, 'nuc')", "X=2x2"),
                                         ("A[0]@B", "A=2x2,B=2x2"), ("X[:, 0]@X[0]", "X=2x2")])
def test_latex_never_puts_two_subscripts_on_one_base(expr, shapes):
    """An indexed identity was written I_{3}_{[1:2]}, which LaTeX refuses ('double subscript'): a subscripted base
    is braced before its index, {I_{3}}_{[1:2]}."""
    import re

    from mcalc import explain

    tex = explain(expr, shapes=shapes)._repr_latex_()
    assert not re.search(r"_\{[^{}]*\}_\{|_[A-Za-z0-9]_\{", tex), tex
    assert tex.count("{") == tex.count("}")
