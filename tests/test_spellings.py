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
    ("x.clip(0.3)", "maximum(x, 0.3)", "x"), ("x.clip(None, 0.3)", "minimum(x, 0.3)", "x"),
    ("x.transpose(0)", "x", "x"), ("np.transpose(x, 0)", "x", "x"), ("A.transpose(1, 0)", "A.T", "A"),
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


@pytest.mark.parametrize("text,fragment", [
    ("scipy.linalg.cholesky(S)", "upper factor"),                   # SciPy's default is U, numpy's L
    ("scipy.linalg.qr(T)[0]", "mode='full'"),                       # SciPy's default Q is m×m
    ("sort(S, axis=None)", "flattens"),                             # numpy flattens first
    ("diff(S, axis=None)", "axis"),                                 # numpy refuses it
    ("sum(S, axis=0, axis=1)", "twice"),                            # Python refuses it
    ("sum(S, axis=1.0)", "integer"),                                # numpy: TypeError
    ("S.reshape(4.0)", "size"),
])
def test_numpy_and_scipy_defaults_are_not_silently_changed(text, fragment):
    import mcalc

    name = "T" if "T" in text else "S"
    with pytest.raises(mcalc.McalcError, match=fragment):
        mcalc.jacobian(text, name, {"T": np.arange(6.0).reshape(3, 2)} if name == "T" else
                       {"S": [[4.0, 2.0], [2.0, 3.0]]})


def test_module_defaults_are_the_modules():
    """jax.nn.gelu is the tanh form (JAX's default), scipy.linalg.cholesky(lower=True) numpy's L, and
    scipy.linalg.qr(mode='economic') numpy's reduced QR."""
    import mcalc

    x = np.array([0.5, -1.0])
    tanh_form = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
    np.testing.assert_allclose(mcalc.evaluate("jax.nn.gelu(x)", {"x": x}), tanh_form, rtol=1e-14)
    S = np.array([[4.0, 2.0], [2.0, 3.0]])
    np.testing.assert_allclose(mcalc.evaluate("scipy.linalg.cholesky(S, lower=True)", {"S": S}), np.linalg.cholesky(S))
    T = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 7.0]])
    Q = mcalc.evaluate("scipy.linalg.qr(T, mode='economic')[0]", {"T": T})
    np.testing.assert_allclose(np.abs(Q), np.abs(np.linalg.qr(T)[0]), rtol=1e-12)


@pytest.mark.parametrize("name", sorted(n for n, f in __import__("mcalc.ops", fromlist=["FUNCTIONS"]).FUNCTIONS.items()
                                        if f.literals))
def test_an_infinite_parameter_is_refused_not_a_crash(name):
    """np.inf (or 1e400) in any parameter slot is a clear refusal, never an internal error."""
    import mcalc
    from mcalc.ops import FUNCTIONS

    fn = FUNCTIONS[name]
    operands = ", ".join(["X"] * fn.operands)
    for literal in fn.literals:
        text = f"{name}({operands}{', ' if operands else ''}{literal}=np.inf)" + ("[0]" if fn.parts or fn.pieces else "")
        try:
            mcalc.jacobian(text if fn.operands else f"{text} * X[0, 0]", "X", {"X": np.eye(3) + 1})
        except mcalc.InternalError as e:
            pytest.fail(f"{text}: {e}")
        except mcalc.McalcError:
            pass


@pytest.mark.parametrize("text,fragment", [
    ("torch.exp(A)", "does not read the module 'torch'"), ("math.exp(A[0, 0])", "module 'math'"),
    ("np.lnalg.inv(A)", "did you mean 'np.linalg'"), ("A.summ()", "did you mean .sum()"),
    ("A.resahpe(4)", "did you mean .reshape()"),
])
def test_foreign_modules_and_misspelt_methods_are_named(text, fragment):
    import mcalc

    with pytest.raises(mcalc.UnknownNameError, match=fragment):
        mcalc.jacobian(text, "A", {"A": np.eye(2)})
    assert mcalc.jacobian("A.T.dot(A)", "A", {"A": np.eye(2)}).shape == (4, 4)     # a method of a transpose


def test_ones_and_zeros_take_numpy_shapes():
    import mcalc

    A = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(mcalc.evaluate("np.ones((2, 3)) * A + np.zeros((2, 3))", {"A": A}), A)
    np.testing.assert_allclose(mcalc.evaluate("np.ones((3,)) @ A.T", {"A": A}), A.sum(axis=1))
    with pytest.raises(mcalc.ParseError, match="at most two axes"):
        mcalc.evaluate("ones((2, 3, 4))")


@pytest.mark.parametrize("text,f", [
    ("np.clip(x, None, 0.3)", lambda x: np.clip(x, None, 0.3)), ("np.clip(x, 0, None)", lambda x: np.clip(x, 0, None)),
    ("x.clip(None, 0.3)", lambda x: x.clip(None, 0.3)), ("x.clip(0, None)", lambda x: x.clip(0, None)),
])
def test_clip_with_one_bound(text, f):
    """numpy's None for a missing bound: minimum or maximum with the other (derivative 1 below/above it)."""
    import mcalc
    from helpers import numpy_jacobian

    x = np.array([-2.0, 0.1, 0.5])
    np.testing.assert_allclose(mcalc.evaluate(text, {"x": x}), f(x))
    np.testing.assert_allclose(mcalc.jacobian(text, "x", {"x": x}), numpy_jacobian(lambda **k: f(k["x"]), {"x": x}, "x"),
                               atol=1e-8)
    with pytest.raises(mcalc.ParseError, match="at least one bound"):
        mcalc.evaluate("clip(x, None, None)", {"x": x})


@pytest.mark.parametrize("text", ["kron(eye(2) B.T)", "[1 2]", "f(x y)"])
def test_a_missing_comma_is_named(text):
    """Python says 'Perhaps you forgot a comma?' and points at the first of two terms: mcalc says so in its words
    (it said only 'invalid syntax')."""
    from mcalc.errors import ParseError
    from mcalc.parse import parse

    with pytest.raises(ParseError) as e:
        parse(text)
    assert "two terms side by side" in e.value.message and "commas" in e.value.hint
