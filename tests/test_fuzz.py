"""Fuzzing at the edges: random shapes for every operation (broadcasting 1×n against m×n, scalars against
matrices), and values where the finite differences themselves break (overflow, steps leaving the domain, non-finite
input), which must be reported, never returned as numbers."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from helpers import fd_check, shapes_spec
from mcalc.cli import app
from test_ops import UNARY

runner = CliRunner()


@st.composite
def broadcast_pair(draw):
    """Two shapes numpy broadcasts together, each one of (), (n,), (1, n), (m, 1), (m, n) of a common m×n."""
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    kinds = st.sampled_from([(), (n,), (1, n), (m, 1), (m, n)])
    return draw(kinds), draw(kinds)


SHAPES = st.sampled_from([(), (1,), (3,), (1, 1), (1, 3), (3, 1), (2, 3)])


@settings(max_examples=80)
@given(broadcast_pair(), st.sampled_from(["+", "-", "*", "/", "**"]), st.sampled_from(["row", "col"]),
       st.sampled_from(["numerator", "denominator"]), st.integers(0, 3))
def test_broadcasting_agrees_with_finite_differences(shapes, op, order, layout, seed):
    a, b = shapes
    J, p = fd_check(f"a {op} b", shapes_spec(a=a, b=b), wrt="a,b", order=order, layout=layout, seed=seed)
    assert p.root.shape == np.broadcast_shapes(a, b)


@settings(max_examples=60)
@given(st.sampled_from(UNARY), SHAPES, st.sampled_from(["row", "col"]), st.integers(0, 3))
def test_elementwise_functions_on_random_shapes(fn, shape, order, seed):
    expr = "-x" if fn == "-" else f"{fn}(x)"
    J, p = fd_check(expr, shapes_spec(x=shape), wrt="x", order=order, seed=seed)
    assert np.count_nonzero(J - np.diag(np.diag(J))) == 0


@settings(max_examples=40)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4), st.sampled_from(["row", "col"]),
       st.sampled_from(["sum(A, axis=0)", "sum(A, axis=1)", "mean(A)", "A.T", "vec(A)", "A[0]", "A[:, -1]",
                        "trace(A.T@A)", "A@B", "B.T@A.T", "kron(A, B)", "outer(vec(A), vec(B))"]),
       st.integers(0, 3))
def test_structural_operations_on_random_shapes(m, n, k, order, expr, seed):
    fd_check(expr, shapes_spec(A=(m, n), B=(n, k)), wrt="A", order=order, seed=seed)


def _run(*args):
    return runner.invoke(app, list(args))


@pytest.mark.parametrize("args,fragment", [
    (["jac", "exp(x)", "--value", "x=709.78", "--fd", "central"], "left the domain: exp(x) is not finite"),
    (["jac", "exp(x)", "--value", "x=1e3"], "exp(x) is not finite here"),
    (["jac", "log(x)", "--value", "x=1e-9", "--fd", "central"], "left the domain: log needs positive"),
    (["jac", "sqrt(x)", "--value", "x=1e-12", "--fd", "richardson"], "left the domain: sqrt"),
    (["jac", "sqrt(x)", "--value", "x=0"], "not differentiable where x = 0"),
    (["jac", "x/y", "--value", "x=1", "--value", "y=1e-300"], "beyond floating point"),
    (["jac", "x", "--value", "x=[1, nan]"], "nan or inf"),
    (["jac", "x", "--value", "x=inf"], "nan or inf"),
    (["jac", "x*y", "--value", "x=1e308", "--value", "y=10"], "not finite here"),
])
def test_finite_differences_that_break_are_reported(args, fragment):
    res = _run(*args)
    assert res.exit_code == 2 and res.stdout == "", (res.exit_code, res.stdout)
    assert fragment in res.stderr and len(res.stderr.strip().splitlines()) <= 3, res.stderr


@pytest.mark.parametrize("expr,value,expected", [
    ("exp(x)", "x=709.78", np.exp(709.78)),            # f(x + h) overflows: the complex step does not step
    ("log(x)", "x=1e-9", 1e9),                          # x - h < 0: the complex step stays on the real point
    ("sqrt(x)", "x=1e-12", 0.5e6),
])
def test_the_default_check_steps_around_the_edge(expr, value, expected):
    res = _run("jac", expr, "--value", value, "-f", "json")
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["fd_method"] == "complex" and doc["agree"] is True
    assert doc["jacobian"][0][0] == pytest.approx(expected, rel=1e-12)
