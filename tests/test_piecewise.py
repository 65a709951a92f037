"""Comparisons, heaviside, maximum, minimum, where and clip.  Expected values: numpy's own functions differentiated
by central differences away from ties; at ties, JAX's documented convention (the derivative is shared equally, so
d maximum(a, b)/da = 1/2 where a = b), and the tie reported as a kink by the command line."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

import mcalc
from mcalc.cli import app
from helpers import numpy_jacobian

RNG = np.random.default_rng(7)
COMPARISONS = {">": np.greater, "<": np.less, ">=": np.greater_equal, "<=": np.less_equal, "==": np.equal,
               "!=": np.not_equal}


def run(*args):
    return CliRunner().invoke(app, list(args))


def distinct(*shape):
    """Values with no ties between entries or with 0 (a random permutation of well-separated numbers)."""
    n = int(np.prod(shape)) if shape else 1
    v = (RNG.permutation(n) - n / 2 + 0.25) * 0.5
    return v.reshape(shape) if shape else float(v[0])


@pytest.mark.parametrize("symbol", sorted(COMPARISONS))
@pytest.mark.parametrize("a_shape,b_shape", [((3,), (3,)), ((2, 3), (3,)), ((2, 3), ()), ((2, 1), (1, 3))])
def test_comparison_masks_broadcast_as_numpy(symbol, a_shape, b_shape):
    """(a op b) * a is M * a with the mask M = numpy's a op b held fixed: a mask has derivative 0.  The values
    have ties (where == and != matter) as well as entries on both sides."""
    a, b = distinct(*a_shape), np.array(distinct(*b_shape))
    b.flat[0] = a.flat[0]                                  # the first entries meet under broadcasting: a tie
    values = {"a": a, "b": b}
    M = COMPARISONS[symbol](a, b).astype(float)
    for wrt in "ab":
        J = mcalc.jacobian(f"(a {symbol} b) * a", wrt, values)
        np.testing.assert_allclose(J, numpy_jacobian(lambda a, b: M * a, values, wrt), atol=1e-8)


def test_a_mask_is_relu():
    x = distinct(5)
    np.testing.assert_array_equal(mcalc.jacobian("(x > 0) * x", "x", {"x": x}), np.diag((x > 0).astype(float)))
    np.testing.assert_array_equal(mcalc.jacobian("np.greater(x, 0) * x", "x", {"x": x}),
                                  np.diag((x > 0).astype(float)))


def test_the_condition_passes_no_derivative():
    x, m = distinct(4), distinct(4)
    assert not mcalc.jacobian("where(x > 0, 1, 0)", "x", {"x": x}).any()
    assert not mcalc.jacobian("where(m, x, 2 * x)", "m", {"x": x, "m": m}).any()
    assert not mcalc.jacobian("heaviside(x, 0.5) * 3", "x", {"x": x}).any()


@pytest.mark.parametrize("shapes", [((3,), (3,), (3,)), ((2, 3), (3,), ()), ((2, 3), (2, 1), (2, 3))])
def test_where_against_numpy(shapes):
    c, a, b = distinct(*shapes[0]), distinct(*shapes[1]), distinct(*shapes[2])
    values = {"c": c, "a": a, "b": b}
    f = lambda c, a, b: np.where(c > 0, a * a, np.sin(b))                                  # noqa: E731
    for wrt in "ab":
        J = mcalc.jacobian("where(c > 0, a * a, sin(b))", wrt, values)
        np.testing.assert_allclose(J, numpy_jacobian(f, values, wrt), atol=1e-8)


def test_where_reads_nonzero_as_true():
    m = np.array([0.0, 2.0, -1.0, 0.0])
    x = distinct(4)
    np.testing.assert_array_equal(mcalc.jacobian("where(m, x, 3 * x)", "x", {"m": m, "x": x}),
                                  np.diag([3.0, 1.0, 1.0, 3.0]))


@given(st.sampled_from([(3,), (2, 3), ()]), st.sampled_from([(3,), (1, 3), ()]), st.integers(0, 2 ** 31))
def test_maximum_and_minimum_against_numpy(a_shape, b_shape, seed):
    rng = np.random.default_rng(seed)
    values = {"a": rng.normal(size=a_shape), "b": rng.normal(size=b_shape)}     # ties have probability 0
    for name in ("maximum", "minimum", "fmax", "fmin"):
        f = lambda a, b: getattr(np, name)(a, b) ** 2                                        # noqa: E731
        for wrt in "ab":
            J = mcalc.jacobian(f"{name}(a, b) ** 2", wrt, values)
            np.testing.assert_allclose(J, numpy_jacobian(f, values, wrt), atol=1e-6)


def test_ties_share_the_derivative_equally():
    """JAX's convention: at a = b each of maximum's arguments gets 1/2 (jax.grad(jnp.maximum)(1., 1.) = 0.5)."""
    values = {"a": [1.0, 2.0, 3.0], "b": [1.0, 0.0, 5.0]}
    np.testing.assert_array_equal(mcalc.jacobian("maximum(a, b)", "a", values), np.diag([0.5, 1.0, 0.0]))
    np.testing.assert_array_equal(mcalc.jacobian("maximum(a, b)", "b", values), np.diag([0.5, 0.0, 1.0]))
    np.testing.assert_array_equal(mcalc.jacobian("minimum(a, b)", "a", values), np.diag([0.5, 0.0, 1.0]))
    np.testing.assert_array_equal(mcalc.jacobian("clip(x, 0, 1)", "x", {"x": [0.0, 0.5, 1.0, 2.0]}),
                                  np.diag([0.5, 1.0, 0.5, 0.0]))


def test_a_tie_is_reported_as_a_kink():
    res = run("jac", "maximum(x, y)", "--value", "x=[1, 2]", "--value", "y=[1, 3]")
    assert res.exit_code == 1
    assert "not differentiable" in res.stdout and "kink" in res.stdout


def test_default_values_avoid_ties_and_cover_both_branches():
    for text in ("maximum(x, 0)", "clip(x, -0.5, 0.5)", "(x > 0) * x"):
        res = run("jac", text, "--shape", "6", "--format", "json")
        assert res.exit_code == 0, res.stdout + res.stderr


@pytest.mark.parametrize("shapes", [((4,), (), ()), ((2, 3), (3,), ()), ((3,), (3,), (3,))])
def test_clip_against_numpy(shapes):
    rng = np.random.default_rng(3)
    x = rng.normal(size=shapes[0]) * 2
    lo = -np.abs(rng.normal(size=shapes[1])) - 0.1
    hi = np.abs(rng.normal(size=shapes[2])) + 0.1
    values = {"x": x, "lo": lo, "hi": hi}
    for wrt in ("x", "lo", "hi"):
        J = mcalc.jacobian("clip(x, lo, hi)", wrt, values)
        np.testing.assert_allclose(J, numpy_jacobian(np.clip, {"a": x, "a_min": lo, "a_max": hi},
                                                     {"x": "a", "lo": "a_min", "hi": "a_max"}[wrt]), atol=1e-8)
    np.testing.assert_array_equal(mcalc.jacobian("x.clip(lo, hi)", "x", values), mcalc.jacobian("clip(x, lo, hi)", "x", values))


def test_bad_bounds_and_chained_comparisons_are_refused():
    res = run("jac", "clip(x, 1, 0)", "--shape", "2")
    assert res.exit_code == 2 and "lower bound below its upper bound" in res.stderr
    res = run("jac", "0 < x < 1", "--shape", "2")
    assert res.exit_code == 2 and "(0 < x) * (x < 1)" in res.stderr
    res = run("jac", "x is y", "--shape", "2")
    assert res.exit_code == 2 and "Traceback" not in res.stderr


def test_the_differentials_are_the_textbook_ones():
    from mcalc.explain import explain
    from mcalc.problem import prepare

    def differential(text, shapes):
        p = prepare(text, None, None, shapes)
        return explain(p.nodes, p.wrt, "row", "numerator").differential

    assert "H(x - y) ⊙ dx + H(y - x) ⊙ dy" in differential("maximum(x, y)", "x=3,y=3")
    text = differential("where(x > 0, x, 0.1*x)", "x=3")
    assert "[x > 0] ⊙ dx" in text and "[x ≤ 0]" in text


def test_against_jax_where_installed():
    jax = pytest.importorskip("jax")
    jnp = jax.numpy
    jax.config.update("jax_enable_x64", True)
    a, b = np.array([1.0, 2.0, -1.0]), np.array([1.0, -2.0, 0.5])
    for name in ("maximum", "minimum"):
        ref = np.asarray(jax.jacfwd(getattr(jnp, name))(a, b))
        np.testing.assert_allclose(mcalc.jacobian(f"{name}(a, b)", "a", {"a": a, "b": b}), ref)
    x = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    ref = np.asarray(jax.jacfwd(lambda x: jnp.clip(x, -0.5, 0.5))(x))
    np.testing.assert_allclose(mcalc.jacobian("clip(x, -0.5, 0.5)", "x", {"x": x}), ref)
