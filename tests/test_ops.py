"""Every operation's rule against finite differences, over scalars, vectors, 1×n, n×1 and m×n inputs (broadcasting
included), in both flatten orders; and every forward function against numpy."""

import numpy as np
import pytest

from helpers import fd_check, shapes_spec
from mcalc.expr import evaluate
from mcalc.parse import parse
from mcalc.problem import prepare

SHAPES = [(), (3,), (1, 3), (3, 1), (2, 3)]
UNARY = ["exp", "log", "sqrt", "sin", "cos", "tan", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh",
         "sigmoid", "relu", "softplus", "abs", "square", "-",
         "log1p", "expm1", "log2", "log10", "arcsinh", "arccosh", "arctanh"]


@pytest.mark.parametrize("fn", UNARY)
@pytest.mark.parametrize("shape", SHAPES)
def test_elementwise_functions(fn, shape):
    expr = "-x" if fn == "-" else f"{fn}(x)"
    J, p = fd_check(expr, shapes_spec(x=shape), wrt="x")
    assert J.shape == (p.root.size, p.root.size)
    assert np.count_nonzero(J - np.diag(np.diag(J))) == 0          # element-wise: a diagonal Jacobian


BROADCAST_PAIRS = [((), (2, 3)), ((2, 3), ()), ((3,), (2, 3)), ((1, 3), (2, 3)), ((2, 1), (2, 3)),
                   ((2, 1), (1, 3)), ((3,), (3,)), ((2, 3), (2, 3)), ((3, 1), (3,)), ((2, 3), (3,))]


@pytest.mark.parametrize("op", ["+", "-", "*", "/", "**"])
@pytest.mark.parametrize("a_shape,b_shape", BROADCAST_PAIRS)
@pytest.mark.parametrize("order", ["row", "col"])
def test_broadcasting_binary_operations(op, a_shape, b_shape, order):
    fd_check(f"a {op} b", shapes_spec(a=a_shape, b=b_shape), wrt="a,b", order=order)


MATMUL = [((2, 3), (3, 4)), ((3,), (3, 4)), ((2, 3), (3,)), ((3,), (3,)), ((1, 3), (3, 1)), ((3, 1), (1, 3)),
          ((1, 1), (1, 1))]


@pytest.mark.parametrize("a_shape,b_shape", MATMUL)
@pytest.mark.parametrize("order", ["row", "col"])
@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_matmul(a_shape, b_shape, order, layout):
    fd_check("A @ B", shapes_spec(A=a_shape, B=b_shape), wrt="A,B", order=order, layout=layout)


CASES = [
    ("A.T", dict(A=(2, 3))), ("A'", dict(A=(3, 1))), ("transpose(x)", dict(x=(3,))),
    ("A[1, 0]", dict(A=(2, 3))), ("A[:, 0]", dict(A=(2, 3))), ("A[0]", dict(A=(2, 3))), ("x[-1]", dict(x=(4,))),
    ("A[::-1, 1:]", dict(A=(3, 3))), ("x[1:3]", dict(x=(4,))),
    ("[x, y]", dict(x=(), y=())), ("[[a, b], [c, d]]", dict(a=(), b=(), c=(), d=())), ("[u, v]", dict(u=(3,), v=(3,))),
    ("sum(A)", dict(A=(2, 3))), ("sum(A, axis=0)", dict(A=(2, 3))), ("sum(A, 1)", dict(A=(2, 3))),
    ("sum(x)", dict(x=(3,))), ("mean(A)", dict(A=(2, 3))), ("mean(A, axis=1)", dict(A=(2, 3))),
    ("trace(A)", dict(A=(3, 3))), ("tr(A@B)", dict(A=(2, 3), B=(3, 2))), ("det(A)", dict(A=(3, 3))),
    ("det(A)", dict(A=(1, 1))), ("logdet(A)", dict(A=(3, 3))), ("inv(A)", dict(A=(3, 3))),
    ("norm(x)", dict(x=(3,))), ("norm(A)", dict(A=(2, 3))), ("softmax(x)", dict(x=(4,))),
    ("logsumexp(x)", dict(x=(4,))), ("diag(x)", dict(x=(3,))), ("diag(A)", dict(A=(3, 3))), ("diag(A)", dict(A=(2, 3))),
    ("kron(A, B)", dict(A=(2, 2), B=(2, 3))), ("kron(u, v)", dict(u=(2,), v=(3,))), ("kron(u, B)", dict(u=(2,), B=(2, 2))),
    ("outer(u, v)", dict(u=(2,), v=(3,))), ("dot(u, v)", dict(u=(3,), v=(3,))), ("vec(A)", dict(A=(2, 3))),
    ("X^0", dict(X=(2, 2))), ("X^1", dict(X=(2, 2))), ("X^2", dict(X=(2, 2))), ("X^3", dict(X=(3, 3))),
    ("X^5", dict(X=(2, 2))), ("s^3", dict(s=())), ("A @ eye(3)", dict(A=(2, 3))), ("A + ones(2, 3)", dict(A=(2, 3))),
    ("x * pi + e", dict(x=(2,))), ("zeros(2) + x", dict(x=(2,))),
]


@pytest.mark.parametrize("expr,shapes", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("order", ["row", "col"])
def test_structural_reduction_and_matrix_functions(expr, shapes, order):
    fd_check(expr, shapes_spec(**shapes), order=order)


@pytest.mark.parametrize("expr,value,expected", [("x**0", 0.0, 0.0), ("0**x", 2.0, 0.0), ("x**2", 0.0, 0.0),
                                                 ("x**1", 0.0, 1.0)])
def test_powers_at_zero(expr, value, expected):
    J, _ = fd_check(expr, values={"x": value}, method="complex")
    assert J[0, 0] == expected


@pytest.mark.parametrize("expr,values,message", [
    ("log1p(x)", "x=-2 0 1", "log1p needs arguments greater than -1, got -2 at [0]"),
    ("arccosh(x)", "x=0.5 2", "arccosh needs arguments of at least 1, got 0.5 at [0]"),
    ("arctanh(x)", "x=0.5 1", "arctanh needs arguments in (-1, 1), got 1 at [1]"),
    ("log2(x)", "x=0 1", "log2 needs positive arguments, got 0 at [0]"),
    ("arccosh(x)", "x=1 2", "arccosh(x) is not differentiable where x[0] = 1"),     # the domain's closed end
])
def test_domains_of_the_logarithms_and_inverse_hyperbolics(expr, values, message):
    from mcalc.errors import DomainError

    with pytest.raises(DomainError) as info:
        prepare(expr, values=[values]).analytic()
    assert message in str(info.value)


@pytest.mark.parametrize("expr,shape", [("arccosh(X)", "X=3x3"), ("log1p(x) + arctanh(x)", "x=4"),
                                        ("log10(X) @ arccosh(X)", "X=2x2")])
def test_default_values_lie_inside_the_domains(expr, shape):
    """Integers 1..5 are readable defaults, but arccosh needs x > 1 (its derivative is infinite at 1): they move
    inside; arctanh's (-1, 1) is met by the one-decimal draws."""
    J, p = fd_check(expr, shape)
    assert np.all(np.isfinite(J))


def test_det_rule_holds_at_a_singular_matrix():
    """d det = tr(adj(X) dX) also where X is singular (where det·inv(X)ᵀ is undefined)."""
    fd_check("det(A)", values={"A": [[1, 2, 3], [2, 4, 6], [1, 0, 1]]})


def test_vec_follows_the_order():
    p_row = prepare("vec(A)", values={"A": [[1, 2], [3, 4]]})
    p_col = prepare("vec(A)", values={"A": [[1, 2], [3, 4]]}, order="col")
    np.testing.assert_array_equal(p_row.output, [1, 2, 3, 4])
    np.testing.assert_array_equal(p_col.output, [1, 3, 2, 4])
    # as the identity map in its own order: the Jacobian of vec in either order is I
    np.testing.assert_array_equal(p_row.analytic(), np.eye(4))
    np.testing.assert_array_equal(p_col.analytic(), np.eye(4))


RNG = np.random.default_rng(5)
A = RNG.uniform(0.5, 1.5, size=(3, 3))
B = RNG.uniform(0.5, 1.5, size=(3, 3))
x = RNG.uniform(0.1, 0.9, size=3)


def _softmax(v):
    e = np.exp(v - v.max())
    return e / e.sum()


FORWARD = [
    ("exp(A) + log(A) + sqrt(A)", lambda: np.exp(A) + np.log(A) + np.sqrt(A)),
    ("sin(A) * cos(B) / tan(A)", lambda: np.sin(A) * np.cos(B) / np.tan(A)),
    ("arcsin(x) + arccos(x) + arctan(x)", lambda: np.arcsin(x) + np.arccos(x) + np.arctan(x)),
    ("sinh(A) - cosh(A) + tanh(A)", lambda: np.sinh(A) - np.cosh(A) + np.tanh(A)),
    ("sigmoid(x)", lambda: 1 / (1 + np.exp(-x))), ("softplus(x)", lambda: np.log(1 + np.exp(x))),
    ("relu(x - 0.5)", lambda: np.maximum(x - 0.5, 0)), ("abs(x - 0.5)", lambda: np.abs(x - 0.5)),
    ("square(A)", lambda: A ** 2), ("A ** B", lambda: A ** B), ("A @ B", lambda: A @ B), ("x @ A @ x", lambda: x @ A @ x),
    ("A^3", lambda: A @ A @ A), ("A^2 + B", lambda: A @ A + B), ("-A^2", lambda: -(A @ A)), ("2**x", lambda: 2.0 ** x),
    ("A'", lambda: A.T), ("A.T", lambda: A.T), ("transpose(A)", lambda: A.T), ("A[1, 0]", lambda: A[1, 0]),
    ("A[:, 0]", lambda: A[:, 0]), ("A[0]", lambda: A[0]), ("sum(A)", lambda: A.sum()), ("sum(A, axis=0)", lambda: A.sum(0)),
    ("mean(A, axis=1)", lambda: A.mean(1)), ("trace(A)", lambda: np.trace(A)), ("det(A)", lambda: np.linalg.det(A)),
    ("logdet(A)", lambda: np.linalg.slogdet(A)[1]), ("inv(A)", lambda: np.linalg.inv(A)),
    ("norm(A)", lambda: np.linalg.norm(A)), ("norm(x)", lambda: np.linalg.norm(x)), ("softmax(x)", lambda: _softmax(x)),
    ("logsumexp(x)", lambda: np.log(np.exp(x).sum())), ("diag(x)", lambda: np.diag(x)), ("diag(A)", lambda: np.diag(A)),
    ("kron(A, B)", lambda: np.kron(A, B)), ("outer(x, x)", lambda: np.outer(x, x)), ("dot(x, x)", lambda: x @ x),
    ("vec(A)", lambda: A.ravel()), ("eye(3) + ones(3, 3) + zeros(3) - A", lambda: np.eye(3) + 1 - A), ("pi * e * x", lambda: np.pi * np.e * x),
    ("[x[0], x[1]]", lambda: x[:2]), ("[[x[0], x[1]], [x[2], 1]]", lambda: np.array([[x[0], x[1]], [x[2], 1]])),
    ("A + x", lambda: A + x), ("A - x'", lambda: A - x), ("x + A[:, 0:1]", lambda: x + A[:, 0:1]),
]


def _values_for(expr):
    return {k: v for k, v in (("A", A), ("B", B), ("x", x)) if k in parse(expr).variables()}


@pytest.mark.parametrize("expr,expected", FORWARD, ids=[f[0] for f in FORWARD])
def test_forward_values_match_numpy(expr, expected):
    p = prepare(expr, values=_values_for(expr))
    np.testing.assert_allclose(p.output, expected(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("expr,expected", FORWARD[:12], ids=[f[0] for f in FORWARD[:12]])
def test_batched_evaluation_matches_one_by_one(expr, expected):
    """Finite differences evaluate a batch of perturbations at once; each must equal its own evaluation."""
    p = prepare(expr, values=_values_for(expr))
    v = p.wrt[0]
    batch = np.stack([p.values[v.name] * (1 + 0.01 * k) for k in range(3)])
    env = dict(p.values, **{v.name: batch})
    out = evaluate(p.nodes, env)[id(p.root)]
    for k in range(3):
        one = evaluate(p.nodes, dict(p.values, **{v.name: batch[k]}))[id(p.root)]
        np.testing.assert_allclose(np.broadcast_to(out, (3,) + p.root.shape)[k], one, rtol=1e-13)


def test_powers_refuse_only_what_is_undefined():
    """A whole exponent ≥ 0 takes every base (its domain check is skipped); a fractional one refuses a negative
    base and a negative one a zero base, by a constant or by a variable exponent."""
    import mcalc

    np.testing.assert_array_equal(mcalc.jacobian("x**2", "x", {"x": [-1.0, 0.0]}), [[-2.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(mcalc.jacobian("x**0", "x", {"x": [-1.0, 0.0]}), np.zeros((2, 2)))
    for expr, values, fragment in (("x**0.5", {"x": -1.0}, "a negative base to a non-integer power"),
                                   ("x**-1", {"x": 0.0}, "zero to a negative power"),
                                   ("x**y", {"x": -1.0, "y": 0.5}, "a negative base to a non-integer power")):
        with pytest.raises(mcalc.DomainError, match=fragment):
            mcalc.jacobian(expr, "x", values)
