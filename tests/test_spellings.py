"""numpy's spellings: module paths (np., numpy., jnp., np.linalg., scipy.special.), array methods, numpy's names for
the operators; and unknown names: a numpy function the language lacks is said to be one, a typo is corrected, and
never to a function of another meaning.  Expected values: the same Jacobian as the language's own spelling, and
numpy's own semantics (np.dot)."""

import numpy as np
import pytest

import mcalc
from mcalc.errors import UnknownNameError
from mcalc.ops import FUNCTIONS, METHODS, MODULES, VOCABULARY
from mcalc.parse import parse

VALUES = {"A": [[1.0, 2.0], [3.0, 4.0]], "B": [[0.5, -1.0], [2.0, 1.5]], "x": [0.3, -0.7], "y": [1.2, 0.4]}


def J(text, wrt):
    names = parse(text).variables()
    return mcalc.jacobian(text, wrt, values={k: v for k, v in VALUES.items() if k in names})


@pytest.mark.parametrize("module", sorted(MODULES))
def test_every_module_path_names_the_language_functions(module):
    np.testing.assert_array_equal(J(f"{module}.exp(x) + {module}.pi * x", "x"), J("exp(x) + pi * x", "x"))


@pytest.mark.parametrize("method_call,function_call,wrt", [
    ("A.sum()", "sum(A)", "A"), ("A.sum(axis=0)", "sum(A, axis=0)", "A"), ("A.mean(1)", "mean(A, 1)", "A"),
    ("A.trace()", "trace(A)", "A"), ("A.T.trace()", "trace(A.T)", "A"), ("A.transpose()", "A.T", "A"),
    ("A.dot(B)", "A @ B", "A"), ("x.dot(y)", "x @ y", "x"), ("(A @ x).sum()", "sum(A @ x)", "x"),
])
def test_methods_are_the_functions(method_call, function_call, wrt):
    np.testing.assert_array_equal(J(method_call, wrt), J(function_call, wrt))


def test_numpy_names_of_the_operators():
    for text, same in (("np.add(A, B)", "A + B"), ("np.subtract(A, B)", "A - B"), ("np.multiply(A, B)", "A * B"),
                       ("np.divide(A, B)", "A / B"), ("np.true_divide(A, B)", "A / B"), ("np.power(A, B)", "A ** B"),
                       ("np.negative(A)", "-A"), ("np.matmul(A, B)", "A @ B"), ("scipy.special.expit(A)", "sigmoid(A)")):
        np.testing.assert_array_equal(J(text, "A"), J(same, "A"))


@pytest.mark.parametrize("a,b", [("x", "y"), ("A", "B"), ("A", "x"), ("2", "x")])
def test_np_dot_has_numpy_semantics(a, b):
    """np.dot: the inner product of vectors, the matrix product of matrices and of a matrix and a vector, a plain
    product with a scalar; the Jacobian of the value numpy computes (central differences of numpy's np.dot)."""
    values = {k: np.asarray(v) for k, v in VALUES.items()}
    wrt = b if a == "2" else a
    x0 = values[wrt]
    other = (lambda w: np.dot(2, w)) if a == "2" else \
        (lambda w: np.dot(w, values[b])) if wrt == a else (lambda w: np.dot(values[a], w))
    h, cols = 1e-6, []
    for k in range(x0.size):
        e = np.zeros(x0.size)
        e[k] = h
        cols.append((np.ravel(other(x0 + e.reshape(x0.shape))) - np.ravel(other(x0 - e.reshape(x0.shape)))) / (2 * h))
    np.testing.assert_allclose(J(f"np.dot({a}, {b})", wrt), np.stack(cols, axis=1), atol=1e-8)


@pytest.mark.parametrize("name", sorted(VOCABULARY - set(FUNCTIONS)))
def test_a_numpy_function_the_language_lacks_is_named_as_such(name):
    with pytest.raises(UnknownNameError) as info:
        parse(f"{name}(x)")
    assert "numpy function that mcalc does not have" in str(info.value) and "did you mean" not in str(info.value)


@pytest.mark.parametrize("typo,meant", [("tanhh", "tanh"), ("expp", "exp"), ("sigmod", "sigmoid"), ("lgo", "log")])
def test_a_typo_is_corrected(typo, meant):
    with pytest.raises(UnknownNameError, match=f"did you mean '{meant}'"):
        parse(f"{typo}(x)")


def test_unknown_methods_and_module_functions_say_what_exists():
    with pytest.raises(UnknownNameError, match=r"no method \.foo\(\)"):
        parse("x.foo()")
    with pytest.raises(UnknownNameError, match="unknown function 'foo'"):
        parse("np.foo(x)")
    assert set(METHODS.values()) <= set(FUNCTIONS)
