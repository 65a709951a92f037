"""The differentiable vocabulary of the peers, and how much of it mcalc speaks.

AUTOGRAD: every numpy function autograd defines a derivative for (autograd/numpy/numpy_vjps.py, linalg.py and
scipy's special functions it wraps); JAX_NN: jax.nn's activations.  Each name is either a function of mcalc's
language or listed in NOT_HERE with the reason (complex numbers, arrays of three axes, lists of arrays)."""


import numpy as np
import pytest

import mcalc
from mcalc.ops import FUNCTIONS
from helpers import numpy_jacobian

AUTOGRAD = """where nan_to_num add multiply subtract divide maximum minimum fmax fmin logaddexp logaddexp2 true_divide mod
remainder power negative abs fabs absolute reciprocal exp exp2 expm1 log log2 log10 log1p sin cos tan arcsin arccos
arctan sinh cosh tanh arcsinh arccosh arctanh rad2deg degrees deg2rad radians square sqrt sinc reshape roll array_split
split vsplit hsplit dsplit ravel expand_dims squeeze diag flipud fliplr rot90 trace full triu tril clip swapaxes moveaxis
rollaxis real_if_close real imag conj conjugate angle cross linspace diff repeat tile kron transpose sum mean prod var
std max min amax amin cumsum inner matmul dot tensordot outer concatenate sort msort partition atleast_1d atleast_2d
atleast_3d einsum diagonal
inv det slogdet solve norm eigh cholesky svd pinv matrix_power
erf erfc gammaln digamma polygamma psi logit expit logsumexp""".split()

JAX_NN = """relu relu6 sigmoid softplus soft_sign silu swish log_sigmoid elu leaky_relu hard_tanh celu selu gelu
hard_sigmoid hard_silu hard_swish softmax log_softmax logsumexp standardize""".split()

NOT_HERE = {
    "dsplit": "arrays of three axes", "atleast_3d": "arrays of three axes",
    "partition": "an unspecified order of the rest",
}
COMPLEX = {"real_if_close", "real", "imag", "conj", "conjugate", "angle"}     # what they are for real arrays


@pytest.mark.parametrize("vocabulary,name", [("autograd", AUTOGRAD), ("jax.nn", JAX_NN)])
def test_coverage(vocabulary, name):
    missing = [f for f in name if f not in FUNCTIONS and f not in NOT_HERE]
    assert not missing, missing
    covered = sum(f in FUNCTIONS for f in name) / len(name)
    assert covered >= 0.95, (vocabulary, covered)


def test_differentiable_share_of_autograd():
    """Of autograd's real-valued, at most two-axis vocabulary, everything; the rest is complex or 3-D or lists."""
    real = [f for f in AUTOGRAD if NOT_HERE.get(f) != "arrays of three axes"]
    assert sum(f in FUNCTIONS for f in real) / len(real) >= 0.95


RNG = np.random.default_rng(21)
X = RNG.normal(size=5) * 2
A = RNG.normal(size=(3, 4))
CASES = [
    ("x * floor(x)", lambda x: x * np.floor(x), X), ("x * ceil(x)", lambda x: x * np.ceil(x), X),
    ("x * np.fix(x)", lambda x: x * np.fix(x), X), ("x * rint(x)", lambda x: x * np.rint(x), X),
    ("x * round(x, 1)", lambda x: x * np.round(x, 1), X + 0.02), ("mod(x, 0.7)", lambda x: np.mod(x, 0.7), X),
    ("fmod(x, 0.7)", lambda x: np.fmod(x, 0.7), X), ("copysign(x, 1 - x)", lambda x: np.copysign(x, 1 - x), X),
    ("fabs(x)", np.fabs, X), ("float_power(x * x, 1.5)", lambda x: np.float_power(x * x, 1.5), X),
    ("rot90(A)", np.rot90, A), ("rot90(A, -1)", lambda A: np.rot90(A, -1), A),
    ("swapaxes(A, 0, 1)", lambda A: np.swapaxes(A, 0, 1), A), ("moveaxis(A, 0, -1)", lambda A: np.moveaxis(A, 0, -1), A),
    ("atleast_2d(x)", np.atleast_2d, X), ("A.transpose(1, 0)", lambda A: A.transpose(1, 0), A),
    ("sort(x)", np.sort, X), ("sort(A, axis=0)", lambda A: np.sort(A, axis=0), A),
    ("take_along_axis(x, argsort(x))", lambda x: np.take_along_axis(x, np.argsort(x), -1), X),
    ("trace(A[:, :3], 1)", lambda A: np.trace(A[:, :3], 1), A), ("eye(3, k=1) @ A", lambda A: np.eye(3, k=1) @ A, A),
    ("standardize(A)", lambda A: (A - A.mean(-1, keepdims=True)) / np.sqrt(A.var(-1, keepdims=True) + 1e-5), A),
    ("linspace(x[0], x[1], 4)", lambda x: np.linspace(x[0], x[1], 4), X),
    ("cross(x[:3], x[2:])", lambda x: np.cross(x[:3], x[2:]), X),
    ("full((2, 2), x[0])", lambda x: np.full((2, 2), x[0]), X),
    ("split(x, [1, 3])[1]", lambda x: np.split(x, [1, 3])[1], X), ("array_split(x, 2)[0]", lambda x: np.array_split(x, 2)[0], X),
    ("hsplit(A, 2)[1]", lambda A: np.hsplit(A, 2)[1], A), ("vsplit(A, [1])[1]", lambda A: np.vsplit(A, [1])[1], A),
    ("nan_to_num(x)", np.nan_to_num, X), ("rollaxis(A, 1)", lambda A: np.rollaxis(A, 1), A),
    ("average(A, weights=A * A)", lambda A: np.average(A, weights=A * A), A),
    ("average(A, axis=1, weights=A[0])", lambda A: np.average(A, axis=1, weights=A[0]), A),
    ("average(A, axis=0, weights=A[:, 0] ** 2)", lambda A: np.average(A, axis=0, weights=A[:, 0] ** 2), A),
    ("np.average(x)", np.average, X),
    ("np.real(x) * np.conj(x)", lambda x: np.real(x) * np.conj(x), X), ("A.conj() @ A.T", lambda A: A.conj() @ A.T, A),
    ("conjugate(A) + imag(A)", lambda A: np.conjugate(A) + np.imag(A), A), ("real_if_close(x)", np.real_if_close, X),
    ("x * angle(x)", lambda x: x * np.angle(x), X),
]


@pytest.mark.parametrize("text,f,v", CASES, ids=[c[0] for c in CASES])
def test_against_numpy(text, f, v):
    name = "x" if v.ndim == 1 else "A"
    np.testing.assert_allclose(mcalc.jacobian(text, name, {name: v}), numpy_jacobian(lambda **k: f(k[name]), {name: v},
                                                                                    name), atol=1e-8)
    np.testing.assert_allclose(mcalc.evaluate(text, values={name: v}), f(v), rtol=1e-13)


def test_jax_nn_where_installed():
    jax = pytest.importorskip("jax")
    jax.config.update("jax_enable_x64", True)
    x = np.array([-4.0, -0.5, 0.3, 2.0, 7.0])
    for name in ("relu6", "hard_tanh", "hard_sigmoid", "selu", "celu", "soft_sign", "hard_silu", "standardize"):
        f = getattr(jax.nn, name)
        np.testing.assert_allclose(mcalc.jacobian(f"{name}(x)", "x", {"x": x}), jax.jacfwd(f)(x), atol=1e-12,
                                   err_msg=name)
