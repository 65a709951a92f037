"""The language's expressions as a textbook writes them: juxtaposed matrix products, ⊙ only where element-wise,
columns for vectors, Hadamard powers of matrices, numbers exactly as they are."""

import pytest

from mcalc.notation import dims, latex, unicode

DIMS = {"A": 2, "B": 2, "X": 2, "W": 2, "x": 1, "y": 1, "w": 1, "b": 1, "c": 0, "dX": 2, "dx": 1}


@pytest.mark.parametrize("text,expected", [
    ("A@B", "A B"),
    ("X^2", "X²"),                                   # the matrix power
    ("X**2", "X∘²"),                                 # the element-wise square of a matrix
    ("x**2", "x²"),                                  # of a vector: as usual
    ("x*y", "x ⊙ y"),
    ("c*x", "c x"), ("x*c", "x c"), ("dx*2", "2 dx"), ("2*x", "2x"), ("x*pi", "π x"),
    ("x/y", "x ⊘ y"), ("x/c", "x / c"), ("1/3", "1/3"),
    ("(1/c)*x", "(1 / c) x"),                        # a quotient before a product keeps its parentheses
    ("inv(X)", "X⁻¹"), ("X.T", "Xᵀ"), ("(X^2).T", "(X²)ᵀ"), ("inv(X).T", "(X⁻¹)ᵀ"),
    ("x@A@y", "xᵀ A y"), ("x@y", "xᵀ y"), ("x@A", "Aᵀ x"), ("x@A.T", "A x"), ("A@x", "A x"),
    ("dX@X + X@dX", "dX X + X dX"), ("-inv(X)@dX@inv(X)", "-X⁻¹ dX X⁻¹"),
    ("kron(eye(2), B.T)", "I₂ ⊗ Bᵀ"), ("outer(x, y)", "x yᵀ"), ("dot(x, y)", "xᵀy"),
    ("norm(x)", "‖x‖"), ("abs(x)", "|x|"), ("logdet(X)", "log|det X|"), ("trace(X)", "tr(X)"),
    ("sigmoid(w@x + b)", "σ(wᵀ x + b)"),
    ("x + -y", "x - y"),
    ("x*0.123456789", "0.123456789 x"), ("x**0.5", "x^0.5"), ("X**0.5", "X^∘0.5"), ("x**-1", "x⁻¹"),
    ("x2 + y10", "x₂ + y₁₀"),
])
def test_unicode(text, expected):
    with dims(DIMS):
        assert unicode(text) == expected


@pytest.mark.parametrize("text,expected", [
    ("A@B", "A\\,B"),
    ("X**2", "X^{\\circ 2}"), ("X^2", "X^{2}"), ("x**2", "x^{2}"),
    ("c*x", "c\\,x"), ("x*y", "x \\odot y"),
    ("x@A@y", "x^\\top\\,A\\,y"), ("x@A", "A^\\top\\,x"),
    ("inv(X).T", "{X^{-1}}^\\top"), ("x/y", "\\frac{x}{y}"),
])
def test_latex(text, expected):
    with dims(DIMS):
        assert latex(text) == expected


def test_without_dimensions_nothing_is_assumed():
    """A name of unknown shape may be a matrix: its element-wise square is X∘², and a product with it is ⊙."""
    assert unicode("Z**2") == "Z∘²" and unicode("u*v") == "u ⊙ v" and unicode("2*u") == "2u"


def test_text_outside_the_language_is_shown_as_it_is():
    assert unicode("y₂ = tanh(…)") == "y₂ = tanh(…)"
