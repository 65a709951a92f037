"""Reductions, cumulative sums, differences and reshapes, as numpy computes them: every Jacobian against central
differences of numpy's own function (np.sum, np.prod, np.var, np.linalg.norm, np.cumsum, np.diff, np.reshape, and a
softmax written out in numpy), in both flatten orders, with axes, negative axes, tuples of axes and keepdims.  Ties
in max and min: JAX's convention (the derivative is shared equally), checked against JAX where it is installed."""

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from typer.testing import CliRunner

import mcalc
from mcalc.cli import app
from helpers import numpy_jacobian


def _softmax(x, axis=None):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


def col_major(J, out_shape, in_shape):
    """A row-major Jacobian reordered to column-major, from numpy's own index arithmetic."""
    def perm(shape):
        return np.arange(int(np.prod(shape))).reshape(shape).ravel(order="F")
    return J[np.ix_(perm(out_shape), perm(in_shape))]


CASES = [   # mcalc text, numpy function of A, shape of A
    ("sum(A, axis=0)", lambda A: np.sum(A, axis=0), (3, 4)),
    ("A.sum(axis=-1, keepdims=True)", lambda A: np.sum(A, axis=-1, keepdims=True), (3, 4)),
    ("sum(A, axis=(0, 1), keepdims=True)", lambda A: np.sum(A, axis=(0, 1), keepdims=True), (3, 4)),
    ("mean(A, axis=1)", lambda A: np.mean(A, axis=1), (3, 4)),
    ("prod(A)", np.prod, (2, 3)),
    ("A.prod(axis=0)", lambda A: np.prod(A, axis=0), (3, 4)),
    ("prod(x)", np.prod, (5,)),
    ("max(A)", np.max, (3, 4)),
    ("np.amax(A, axis=0)", lambda A: np.amax(A, axis=0), (3, 4)),
    ("A.min(axis=1, keepdims=True)", lambda A: np.min(A, axis=1, keepdims=True), (3, 4)),
    ("var(A)", np.var, (3, 4)),
    ("A.var(axis=0, ddof=1)", lambda A: np.var(A, axis=0, ddof=1), (3, 4)),
    ("std(A, axis=1, keepdims=True)", lambda A: np.std(A, axis=1, keepdims=True), (3, 4)),
    ("std(x, ddof=1)", lambda A: np.std(A, ddof=1), (5,)),
    ("norm(x)", np.linalg.norm, (5,)),
    ("norm(x, 1)", lambda A: np.linalg.norm(A, 1), (5,)),
    ("norm(x, 3)", lambda A: np.linalg.norm(A, 3), (5,)),
    ("norm(x, 2.5)", lambda A: np.linalg.norm(A, 2.5), (5,)),
    ("norm(x, np.inf)", lambda A: np.linalg.norm(A, np.inf), (5,)),
    ("norm(x, -inf)", lambda A: np.linalg.norm(A, -np.inf), (5,)),
    ("norm(A, 'fro')", lambda A: np.linalg.norm(A, "fro"), (3, 4)),
    ("np.linalg.norm(A, 1)", lambda A: np.linalg.norm(A, 1), (3, 4)),
    ("norm(A, -1)", lambda A: np.linalg.norm(A, -1), (3, 4)),
    ("norm(A, inf)", lambda A: np.linalg.norm(A, np.inf), (3, 4)),
    ("norm(A, -np.inf)", lambda A: np.linalg.norm(A, -np.inf), (3, 4)),
    ("norm(A, axis=1)", lambda A: np.linalg.norm(A, axis=1), (3, 4)),
    ("norm(A, 1, axis=0, keepdims=True)", lambda A: np.linalg.norm(A, 1, axis=0, keepdims=True), (3, 4)),
    ("norm(A, inf, axis=1)", lambda A: np.linalg.norm(A, np.inf, axis=1), (3, 4)),
    ("norm(A, keepdims=True)", lambda A: np.linalg.norm(A, keepdims=True), (3, 4)),
    ("norm(A, 1, keepdims=True)", lambda A: np.linalg.norm(A, 1, keepdims=True), (3, 4)),
    ("logsumexp(A)", _logsumexp, (3, 4)),
    ("logsumexp(A, axis=0, keepdims=True)", lambda A: _logsumexp(A, axis=0, keepdims=True), (3, 4)),
    ("softmax(x)", _softmax, (5,)),
    ("softmax(A, axis=1)", lambda A: _softmax(A, axis=1), (3, 4)),
    ("softmax(A, axis=0)", lambda A: _softmax(A, axis=0), (3, 4)),
    ("softmax(A, axis=None)", _softmax, (3, 4)),
    ("log_softmax(A, axis=-1)", lambda A: np.log(_softmax(A, axis=-1)), (3, 4)),
    ("log_softmax(x)", lambda A: np.log(_softmax(A)), (5,)),
    ("cumsum(A)", np.cumsum, (3, 4)),
    ("A.cumsum(axis=0)", lambda A: np.cumsum(A, axis=0), (3, 4)),
    ("cumsum(x)", np.cumsum, (5,)),
    ("cumprod(A, axis=1)", lambda A: np.cumprod(A, axis=1), (3, 4)),
    ("cumprod(A)", np.cumprod, (2, 3)),
    ("diff(x)", np.diff, (5,)),
    ("diff(x, 2)", lambda A: np.diff(A, 2), (5,)),
    ("diff(A, axis=0)", lambda A: np.diff(A, axis=0), (3, 4)),
    ("diff(A, n=2)", lambda A: np.diff(A, n=2), (3, 4)),
    ("A.reshape(4, 3)", lambda A: A.reshape(4, 3), (3, 4)),
    ("reshape(A, (2, -1))", lambda A: np.reshape(A, (2, -1)), (3, 4)),
    ("reshape(x, (2, 3))", lambda A: np.reshape(A, (2, 3)), (6,)),
    ("A.ravel()", np.ravel, (3, 4)),
    ("A.flatten()", lambda A: A.flatten(), (3, 4)),
    ("squeeze(A[0:1])", lambda A: np.squeeze(A[0:1]), (3, 4)),
    ("A[:, 1:2].squeeze(axis=1)", lambda A: A[:, 1:2].squeeze(axis=1), (3, 4)),
    ("expand_dims(x, 0)", lambda A: np.expand_dims(A, 0), (5,)),
    ("expand_dims(x, axis=-1)", lambda A: np.expand_dims(A, -1), (5,)),
]


@pytest.mark.parametrize("text,f,shape", CASES, ids=[c[0] for c in CASES])
def test_against_numpy_in_both_orders(text, f, shape):
    rng = np.random.default_rng(abs(hash(text)) % 2 ** 32)
    name = "x" if len(shape) == 1 else "A"
    a = rng.normal(size=shape)
    ref = numpy_jacobian(lambda **v: f(v[name]), {name: a}, name)
    J = mcalc.jacobian(text, name, {name: a})
    np.testing.assert_allclose(J, ref, atol=1e-6, rtol=1e-6)
    out_shape = np.shape(f(a))
    np.testing.assert_allclose(mcalc.jacobian(text, name, {name: a}, order="col"),
                               col_major(ref, out_shape, shape), atol=1e-6, rtol=1e-6)


@given(st.sampled_from(["sum", "mean", "prod", "max", "min", "var", "std", "logsumexp"]),
       st.sampled_from([None, 0, 1, -1, -2, (0, 1), (1,)]), st.booleans(), st.integers(1, 4), st.integers(2, 4),
       st.integers(0, 2 ** 31))
def test_reductions_over_random_shapes_and_axes(name, axis, keepdims, m, n, seed):
    # (std over a single entry is 0, where its derivative 1/(2 std) is not defined: mcalc refuses it, a DomainError)
    assume(not (name == "std" and m == 1 and axis in (0, -2)))
    A = np.random.default_rng(seed).normal(size=(m, n))
    numpy_f = _logsumexp if name == "logsumexp" else getattr(np, name)
    ref = numpy_jacobian(lambda A: numpy_f(A, axis=axis, keepdims=keepdims), {"A": A}, "A")
    J = mcalc.jacobian(f"{name}(A, axis={axis!r}, keepdims={keepdims})", "A", {"A": A})
    np.testing.assert_allclose(J, ref, atol=1e-6, rtol=1e-6)


def test_prod_is_exact_where_an_entry_is_zero():
    """∂ prod(x)/∂xᵢ is the product of the others, also where some xᵢ = 0 (where prod(x)/xᵢ is undefined)."""
    x = np.array([2.0, 0.0, 3.0, 0.5])
    np.testing.assert_array_equal(mcalc.jacobian("prod(x)", "x", {"x": x}), [[0.0, 3.0, 0.0, 0.0]])
    x = np.array([2.0, 0.0, 3.0, 0.0])
    np.testing.assert_array_equal(mcalc.jacobian("prod(x)", "x", {"x": x}), [[0.0, 0.0, 0.0, 0.0]])


def test_ties_in_max_share_the_derivative():
    np.testing.assert_array_equal(mcalc.jacobian("max(x)", "x", {"x": [1.0, 3.0, 3.0]}), [[0.0, 0.5, 0.5]])
    A = np.array([[1.0, 2.0], [1.0, 0.0]])
    np.testing.assert_array_equal(mcalc.jacobian("min(A, axis=0)", "A", {"A": A}),
                                  [[0.5, 0, 0.5, 0], [0, 0, 0, 1.0]])
    res = CliRunner().invoke(app, ["jac", "max(x)", "--value", "x=[1, 3, 3]"])
    assert res.exit_code == 1 and "kink" in res.stdout


def test_default_values_avoid_ties_in_large_reductions():
    res = CliRunner().invoke(app, ["jac", "max(A, axis=0) + norm(A, inf)", "--shape", "12x12", "--format", "json"])
    assert res.exit_code == 0, res.stdout + res.stderr


@pytest.mark.parametrize("text,fragment", [
    ("sum(A, axis=2)", "out of range"),
    ("sum(A, axis=(0, 0))", "repeats axis 0"),
    ("sum(A, axis='x')", "axis in sum()"),
    ("sum(A, keepdims=2)", "True or False"),
    ("var(A, axis=0, ddof=3)", "ddof=3 needs more than 3"),
    ("softmax(A)", "needs axis="),
    ("norm(A, 'nuc', axis=0)", "is a matrix norm"),
    ("norm(A[0], 'fro')", "matrix norm"),
    ("norm(A, 0.5)", "ord in norm()"),
    ("A.reshape(4, 2)", "cannot reshape an array of size 6"),
    ("A.reshape(-1, -1)", "only have one -1"),
    ("reshape(A, (1, 2, 3))", "at most 2"),
    ("A.squeeze(axis=0)", "cannot squeeze axis 0"),
    ("expand_dims(A, 0)", "at most 2"),
    ("diff(A, 3)", "needs more than 3 entries"),
    ("cumprod(A - A)", "no entry is 0"),
])
def test_bad_parameters_are_one_line_and_exit_2(text, fragment):
    res = CliRunner().invoke(app, ["jac", text, "--shape", "2x3"])
    assert res.exit_code == 2, (res.exit_code, res.stdout)
    assert fragment in res.stderr and "Traceback" not in res.stderr, res.stderr


def test_against_jax_where_installed():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    jnp = jax.numpy
    x = np.array([1.0, 3.0, 3.0, -2.0])
    np.testing.assert_allclose(mcalc.jacobian("max(x)", "x", {"x": x})[0], jax.grad(jnp.max)(x))
    A = np.array([[1.0, -2.0, 0.5], [3.0, 0.25, -1.0]])
    for text, f in (("norm(A, 1)", lambda A: jnp.linalg.norm(A, 1)), ("norm(A, inf)", lambda A: jnp.linalg.norm(A, jnp.inf)),
                    ("var(A, axis=0, ddof=1)", lambda A: jnp.var(A, axis=0, ddof=1)),
                    ("log_softmax(A, axis=1)", lambda A: jax.nn.log_softmax(A, axis=1))):
        ref = np.asarray(jax.jacfwd(f)(A)).reshape(-1, A.size)
        np.testing.assert_allclose(mcalc.jacobian(text, "A", {"A": A}), ref, atol=1e-12)


def test_the_order_of_two_axes_is_a_transpose():
    """numpy: norm(A, ord, axis=(1, 0)) is the matrix norm of Aᵀ (the 1-norm of Aᵀ is A's inf-norm)."""
    A = np.array([[1.0, -2.0, 3.0], [4.0, 5.0, -6.0]])
    for ord_ in (1, np.inf, -1, -np.inf, 2, "fro", "nuc"):
        text = f"norm(A, {ord_!r}, axis=(1, 0))".replace("inf", "np.inf")
        np.testing.assert_allclose(mcalc.evaluate(text, values={"A": A}), np.linalg.norm(A, ord_, axis=(1, 0)))
        ref = numpy_jacobian(lambda A: np.linalg.norm(A, ord_, axis=(1, 0)), {"A": A}, "A")
        np.testing.assert_allclose(mcalc.jacobian(text, "A", {"A": A}), ref, atol=1e-6)


@pytest.mark.parametrize("text,fragment", [
    ("cumsum(A, axis=(0, 1))", "one axis"), ("diff(A, axis=(0, 1))", "one axis"), ("cumsum(s)", "a vector or a matrix"),
    ("sum(A, axis=inf)", "integer"), ("cumprod(A, axis=2)", "out of range"),
])
def test_one_axis_where_numpy_takes_one(text, fragment):
    res = CliRunner().invoke(app, ["jac", text, "--shape", "A=2x3,s=scalar"])
    assert res.exit_code == 2 and fragment in res.stderr, res.stderr


def test_std_over_a_single_entry_is_refused():
    """std along an axis of length 1 is 0, where d std = d var / (2 std) is not defined: refused, not inf or nan."""
    with pytest.raises(mcalc.DomainError, match="not differentiable"):
        mcalc.jacobian("std(A, axis=0)", "A", {"A": [[0.5, -1.0, 2.0]]})
