"""The element-wise functions numpy users reach for beyond the basics.  Expected values: central differences of a
reference forward function that mcalc does not use (numpy's own, the standard library's math.erf and math.lgamma,
formulas written out here), known constants (ψ(1) = -γ, ψ'(1) = π²/6, ψ''(1) = -2ζ(3)), and SciPy and JAX where
installed."""

import math

import numpy as np
import pytest
from typer.testing import CliRunner

import mcalc
from mcalc.cli import app
from helpers import numpy_jacobian

X = np.array([0.35, -1.2, 0.8, 2.5, -0.05])
POSITIVE = np.array([0.3, 1.0, 2.5, 7.0, 31.0])
UNIT = np.array([0.1, 0.35, 0.5, 0.8, 0.97])
erf = np.vectorize(math.erf)

CASES = [   # text, reference forward function, values
    ("exp2(x)", lambda x: 2.0 ** x, X),
    ("cbrt(x)", lambda x: np.sign(x) * np.abs(x) ** (1 / 3), X),
    ("reciprocal(x)", lambda x: 1 / x, X),
    ("deg2rad(x)", lambda x: x * math.pi / 180, X),
    ("np.radians(x)", lambda x: x * math.pi / 180, X),
    ("rad2deg(x)", lambda x: x * 180 / math.pi, X),
    ("np.degrees(x)", lambda x: x * 180 / math.pi, X),
    ("sinc(x)", lambda x: np.sin(np.pi * x) / (np.pi * x), X),
    ("erf(x)", erf, X),
    ("scipy.special.erfc(x)", lambda x: 1 - erf(x), X),
    ("gammaln(x)", np.vectorize(math.lgamma), POSITIVE),
    ("logit(x)", lambda x: np.log(x) - np.log1p(-x), UNIT),
    ("log_sigmoid(x)", lambda x: -np.log1p(np.exp(-x)), X),
    ("jax.nn.silu(x)", lambda x: x / (1 + np.exp(-x)), X),
    ("swish(x)", lambda x: x / (1 + np.exp(-x)), X),
    ("gelu(x)", lambda x: x * (1 + erf(x / math.sqrt(2))) / 2, X),
    ("gelu(x, approximate=True)", lambda x: x / 2 * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))), X),
    ("elu(x)", lambda x: np.where(x > 0, x, np.expm1(x)), X),
    ("elu(x, alpha=0.3)", lambda x: np.where(x > 0, x, 0.3 * np.expm1(x)), X),
    ("leaky_relu(x)", lambda x: np.where(x >= 0, x, 0.01 * x), X),
    ("leaky_relu(x, negative_slope=0.2)", lambda x: np.where(x >= 0, x, 0.2 * x), X),
]


@pytest.mark.parametrize("text,f,x", CASES, ids=[c[0] for c in CASES])
def test_against_a_reference_forward_function(text, f, x):
    np.testing.assert_allclose(mcalc.jacobian(text, "x", {"x": x}), numpy_jacobian(lambda x: f(x), {"x": x}, "x"),
                               rtol=1e-6, atol=1e-8)


def test_digamma_and_polygamma_at_known_points():
    gamma, zeta3 = 0.5772156649015329, 1.2020569031595942
    d = mcalc.jacobian("gammaln(x)", "x", {"x": [1.0, 0.5]})
    np.testing.assert_allclose(np.diag(d), [-gamma, -gamma - 2 * math.log(2)], rtol=1e-14)
    np.testing.assert_allclose(mcalc.jacobian("digamma(x)", "x", {"x": [1.0]}), [[math.pi ** 2 / 6]], rtol=1e-14)
    np.testing.assert_allclose(mcalc.jacobian("polygamma(1, x)", "x", {"x": [1.0]}), [[-2 * zeta3]], rtol=1e-14)
    np.testing.assert_allclose(mcalc.jacobian("psi(x)", "x", {"x": [1.0]}), [[math.pi ** 2 / 6]], rtol=1e-14)


@pytest.mark.parametrize("text,f", [
    ("arctan2(y, x)", np.arctan2), ("hypot(y, x)", np.hypot), ("logaddexp(y, x)", np.logaddexp),
    ("logaddexp2(y, x)", np.logaddexp2),
])
def test_binary_functions_with_broadcasting(text, f):
    values = {"y": np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]]), "x": np.array([1.0, -0.5, 0.3])}
    for wrt in "xy":
        np.testing.assert_allclose(mcalc.jacobian(text, wrt, values), numpy_jacobian(lambda y, x: f(y, x), values, wrt), rtol=1e-6,
                                   atol=1e-8)


@pytest.mark.parametrize("text,fragment", [
    ("reciprocal(x - x)", "nonzero"), ("logit(x + 1)", "in (0, 1)"), ("gammaln(-x * x)", "positive"),
    ("arctan2(x - x, x - x)", "(0, 0)"), ("polygamma(-1, x)", "n in polygamma()"),
])
def test_domains(text, fragment):
    res = CliRunner().invoke(app, ["jac", text, "--value", "x=[0.5, 0.25]"])
    assert res.exit_code == 2 and fragment in res.stderr, res.stderr


def test_against_scipy_where_installed():
    special = pytest.importorskip("scipy.special")
    for text, f, x in [("erf(x)", special.erf, X), ("erfc(x)", special.erfc, X), ("gammaln(x)", special.gammaln, POSITIVE),
                       ("digamma(x)", special.digamma, POSITIVE), ("polygamma(2, x)", lambda x: special.polygamma(2, x), POSITIVE),
                       ("logit(x)", special.logit, UNIT), ("expit(x)", special.expit, X),
                       ("log_sigmoid(x)", special.log_expit, X)]:
        np.testing.assert_allclose(mcalc.jacobian(text, "x", {"x": x}), numpy_jacobian(lambda x: f(x), {"x": x}, "x"),
                                   rtol=1e-6, atol=1e-9, err_msg=text)


def test_against_jax_where_installed():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    x = np.array([0.35, -1.2, 0.0, 2.5, -0.05])
    for text, f in [("gelu(x, approximate=True)", jax.nn.gelu), ("gelu(x)", lambda x: jax.nn.gelu(x, approximate=False)),
                    ("elu(x)", jax.nn.elu), ("leaky_relu(x)", jax.nn.leaky_relu), ("silu(x)", jax.nn.silu),
                    ("log_sigmoid(x)", jax.nn.log_sigmoid)]:
        np.testing.assert_allclose(mcalc.jacobian(text, "x", {"x": x}), jax.jacfwd(f)(x), rtol=1e-12, atol=1e-14,
                                   err_msg=text)


def test_polygamma_orders_are_bounded():
    res = CliRunner().invoke(app, ["jac", "polygamma(1000, x)", "--value", "x=[1.5]"])
    assert res.exit_code == 2 and "up to order" in res.stderr


def test_hard_tanh_at_its_bounds_as_jax():
    np.testing.assert_array_equal(np.diag(mcalc.jacobian("hard_tanh(x)", "x", {"x": [-1.0, 1.0, 2.0]})),
                                  [1.0, 1.0, 0.0])
