"""The Python API: its results, and its promise that any input whatsoever raises only McalcError."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import mcalc
import mcalc.linops


def test_jacobian_and_gradient():
    J = mcalc.jacobian("A@B", "A", {"A": [[1, 2], [3, 4]], "B": [[5, 6], [7, 8]]})
    assert J.shape == (4, 4) and J[0, 0] == 5 and J[0, 1] == 7
    g = mcalc.gradient("trace(A@B)", "A", {"A": [[1, 2], [3, 4]], "B": [[5, 6], [7, 8]]})
    np.testing.assert_array_equal(g, [[5, 7], [6, 8]])                 # Bᵀ
    assert mcalc.jacobian("x*y", "x", shapes={"x": 3, "y": (3,)}).shape == (3, 3)
    assert mcalc.jacobian("x*y", "x", shapes="x=3,y=3").shape == (3, 3)
    assert mcalc.jacobian("A@B", "A", shapes=(2, 2), order="F").shape == (4, 4)


def test_products_and_sparse_jacobians():
    rng = np.random.default_rng(0)
    A, B, U, V = (rng.normal(size=(3, 3)) for _ in range(4))
    vals = {"A": A, "B": B}
    np.testing.assert_allclose(mcalc.vjp("A@B", "A", V, vals), V @ B.T, rtol=1e-12)      # d<V, AB>/dA = V Bᵀ
    np.testing.assert_allclose(mcalc.jvp("A@B", "A", U, vals), U @ B, rtol=1e-12)        # d(AB)[U] = U B
    np.testing.assert_allclose(mcalc.jvp("inv(A)", "A", U, {"A": A}), -np.linalg.inv(A) @ U @ np.linalg.inv(A),
                               rtol=1e-10)
    with pytest.raises(mcalc.UsageError, match="shaped like"):
        mcalc.vjp("A@B", "A", [1, 2, 3], vals)
    pytest.importorskip("scipy")
    for order in ("row", "col"):
        S = mcalc.jacobian("A@B", "A", vals, order=order, sparse=True)
        np.testing.assert_array_equal(S.toarray(), mcalc.jacobian("A@B", "A", vals, order=order))
        assert S.nnz == 27                                                                # I ⊗ Bᵀ: 3 blocks


def test_gradient_refuses_non_scalar_outputs():
    with pytest.raises(mcalc.UsageError, match="scalar"):
        mcalc.gradient("A@B", "A", shapes="2x2")
    g = mcalc.gradient("x.T@x", "x", values={"x": [[1.0], [2.0], [3.0]]})      # 1×1 is a scalar too: 2x
    np.testing.assert_array_equal(g, [[2.0], [4.0], [6.0]])


@pytest.mark.parametrize("args", [
    dict(expr=None, wrt="x"), dict(expr=3, wrt="x"), dict(expr="x", wrt=3), dict(expr="x", wrt="x", values=5),
    dict(expr="x", wrt="x", shapes={"x": "nope"}), dict(expr="x", wrt="x", shapes={"x": (0,)}),
    dict(expr="x", wrt="x", shapes={"x": (1, 2, 3)}), dict(expr="x", wrt="x", values={"x": object()}),
    dict(expr="x", wrt="x", order="Z"), dict(expr="x", wrt="x", layout=None),
])
def test_bad_arguments_raise_mcalc_errors(args):
    with pytest.raises(mcalc.McalcError) as info:
        mcalc.jacobian(**args)
    assert not isinstance(info.value, mcalc.InternalError), info.value


@pytest.mark.parametrize("call,kwargs,fragment", [
    (mcalc.jacobian, dict(seed="a"), "seed= must be a whole number ≥ 0, got 'a'"),
    (mcalc.jacobian, dict(seed=-5), "got -5"), (mcalc.jacobian, dict(seed=None), "got None"),
    (mcalc.jacobian, dict(seed=True), "got True"), (mcalc.gradient, dict(seed=[1, 2]), "got [1, 2]"),
    (mcalc.check, dict(expect="2*x", tol="a"), "tol= must be a relative tolerance between 0 and 1, got 'a'"),
    (mcalc.check, dict(expect="2*x", tol=[1]), "got [1]"),
    (mcalc.check, dict(expect="2*x", hessian="no"), "hessian must be True or False, got 'no'"),
    (mcalc.explain, dict(hessian="no"), "hessian must be True or False"),
    (mcalc.jacobian, dict(values={"x": None}), "the value of x is None"),
    (mcalc.jacobian, dict(values={"x": [1.0, None]}), "the value of x has None in it"),
])
def test_the_apis_other_arguments_are_checked(call, kwargs, fragment):
    """The CLI's --seed N (N ≥ 0), a tolerance, a flag: the API took seed="a", hessian="no" (as True) and
    values=None (as nan), or failed inside (tol="a")."""
    kwargs = {"values": {"x": [1.0, 2.0]}, **kwargs}
    with pytest.raises(mcalc.McalcError) as info:
        call("x @ x", *((kwargs.pop("expect"),) if "expect" in kwargs else ()), "x", **kwargs)
    assert fragment in str(info.value) and not isinstance(info.value, mcalc.InternalError), str(info.value)
    assert mcalc.jacobian("x @ x", "x", {"x": [1.0, 2.0]}, seed=np.int64(3)).shape == (1, 2)


# The same error asked for through the API and on the command line, and what each says: the API names its own
# arguments (shapes=, values=, wrt=, mcalc.vjp, the cotangent), the command line its options, as it always has.
IN_TWO_WORDS = [
    (lambda: mcalc.jacobian("x*y", "x", values={"x": 1, "z": 1}), "values= names 'z', which is not a variable",
     ["jac", "x*y", "--value", "z=1"], "--value names 'z', which is not a variable"),
    (lambda: mcalc.jacobian("log(-x*x)", "x"), "sets of default values; give values in values=)",
     ["jac", "log(-x*x)"], "sets of default values; give values with --value)"),
    (lambda: mcalc.jacobian("x", [","]), "no wrt variable given (hint: name one with wrt=)",
     ["jac", "x", "--wrt", ","], "no wrt variable given (hint: name one with --wrt)"),
    (lambda: mcalc.jacobian("A@B", "A", values={"A": "1 2; 3 4"}, shapes={"A": "3x3"}),
     "has shape (2, 2) but shapes= says (3, 3)", ["jac", "A@B", "--value", "A=1 2; 3 4", "--shape", "A=3x3"],
     "has shape (2, 2) but --shape says (3, 3)"),
    (lambda: mcalc.jacobian("A@B", "A", shapes=["2x2", "3x3"]),
     """shapes= gives two default shapes ('3x3' is the second) (hint: name the variable: shapes="A=2x3")""",
     ["jac", "A@B", "--shape", "2x2", "--shape", "3x3"],
     "--shape gives two default shapes ('3x3' is the second) (hint: name the variable: --shape A=2x3)"),
    (lambda: mcalc.jacobian("A@B", "A", shapes="A=2x2,A=3x3"), "shapes= gives A twice",
     ["jac", "A@B", "--shape", "A=2x2,A=3x3"], "--shape gives A twice"),
    (lambda: mcalc.jacobian("A@B", "A", shapes="1A=2x2"), "malformed shapes= item '1A=2x2'",
     ["jac", "A@B", "--shape", "1A=2x2"], "malformed --shape item '1A=2x2'"),
    (lambda: mcalc.jacobian("A@B", "A", shapes="A=2y2"), """malformed shape '2y2' in shapes="A=2y2" (hint""",
     ["jac", "A@B", "--shape", "A=2y2"], "malformed shape '2y2' in --shape A=2y2 (hint"),
    (lambda: mcalc.jacobian("x", "x", values=["x1"]), "malformed values= 'x1'",
     ["jac", "x", "--value", "x1"], "malformed --value 'x1'"),
    (lambda: mcalc.jacobian("x", "x", values=["x=1", "x=2"]), "values= gives x twice",
     ["jac", "x", "--value", "x=1", "--value", "x=2"], "--value gives x twice"),
    (lambda: mcalc.vjp("A@x", "x", [1, 2, 3], shapes="A=2x3,x=3"),
     "the cotangent needs an array shaped like the output, (2,), got (3,)",
     ["jac", "A@x", "--shape", "A=2x3,x=3", "--wrt", "x", "--vjp", "1 2 3"],
     "--vjp needs an array shaped like the output, (2,), got (3,)"),
    (lambda: mcalc.vjp("A@x", "x", "1 2; 3", shapes="A=2x3,x=3"), "the cotangent is ragged",
     ["jac", "A@x", "--shape", "A=2x3,x=3", "--wrt", "x", "--vjp", "1 2; 3"], "the value of --vjp is ragged"),
    (lambda: mcalc.vjp("A@x", "x", " ", shapes="A=2x3,x=3"), "empty value for the cotangent",
     ["jac", "A@x", "--shape", "A=2x3,x=3", "--wrt", "x", "--vjp", " "], "empty value for --vjp"),
    (lambda: mcalc.vjp("A@x", "x", "ones(", shapes="A=2x3,x=3"), "cannot read the cotangent: syntax error at column 5",
     ["jac", "A@x", "--shape", "A=2x3,x=3", "--wrt", "x", "--vjp", "ones("],
     "cannot read the value of --vjp: syntax error at column 5"),
    (lambda: mcalc.jvp("A@x", "x", [1, 2], shapes="A=2x3,x=3"), "the tangent needs an array shaped like x, (3,)",
     ["jac", "A@x", "--shape", "A=2x3,x=3", "--wrt", "x", "--jvp", "1 2"], "--jvp needs an array shaped like x, (3,)"),
    (lambda: mcalc.vjp("A@x", None, [1, 2], shapes="A=2x3,x=3"), "mcalc.vjp takes one wrt= variable",
     ["jac", "A@x", "--shape", "A=2x3,x=3", "--vjp", "1 2"], "--vjp takes one --wrt variable"),
    (lambda: mcalc.gradient("sum(x*y)", ["x", "y"], shapes="3"),
     """gradient takes one wrt= variable, and there are 2 (x, y) (hint: pick one, e.g. wrt="x", and ask once per """
     "variable (jacobian() gives all of them as one row))", ["grad", "sum(x*y)", "-s", "3"],
     "grad takes one --wrt variable, and there are 2 (x, y) (hint: pick one, e.g. --wrt x, and ask once per "
     "variable (mcalc jac gives all of them as one row))"),
    (lambda: mcalc.gradient("A@B", "A", shapes="2x2"), "gradient needs a scalar expression; A@B has shape (2, 2) "
     "(hint: use jacobian() for a Jacobian)", ["grad", "A@B", "--shape", "2x2"],
     "grad needs a scalar expression; A@B has shape (2, 2) (hint: use mcalc jac for a Jacobian)"),
]
# Hints written in expr.py (a variable without a shape; a value that is not finite) and chain.py (not differentiable;
# the memory guard): the same mechanism, from the modules that build and differentiate the tree.
WRITTEN_ELSEWHERE = [
    (lambda: mcalc.jacobian("A@B", "A"), 'give it one, e.g. shapes="A=2x2" (a matrix) or A=3 (a vector), or one '
     'for every variable: shapes="2x2")', ["jac", "A@B"],
     "give it one, e.g. --shape A=2x2 (a matrix) or A=3 (a vector), or one for every variable: --shape 2x2)"),
    (lambda: mcalc.jacobian("sqrt(x)", "x", values={"x": 0}), "choose other values in values=",
     ["jac", "sqrt(x)", "--value", "x=0"], "choose other values with --value"),
    (lambda: mcalc.jacobian("exp(x)", "x", values={"x": 800}), "choose other values in values=",
     ["jac", "exp(x)", "--value", "x=800"], "choose other values with --value"),
    (lambda: mcalc.jacobian("A@B", "A", shapes="30x30"),
     "ask for it sparse: jacobian(..., sparse=True), or compute a product with a vector (mcalc.vjp or mcalc.jvp)",
     ["jac", "A@B", "--shape", "30x30", "--fd", "none"],
     "write it sparse with --format npz --out J.npz, or compute a product with a vector (--vjp or --jvp)"),
]


@pytest.fixture
def small_budget(monkeypatch):
    monkeypatch.setattr(mcalc.linops, "_BUDGET", 1 << 20)


@pytest.mark.parametrize("call,api,args,cli", [pytest.param(*case, id=" ".join(case[2]))
                                               for case in IN_TWO_WORDS + WRITTEN_ELSEWHERE])
def test_api_errors_speak_the_api(small_budget, call, api, args, cli):
    """Advice in the API's words (shapes="A=2x2", values=, mcalc.vjp, the cotangent); never a command-line option."""
    with pytest.raises(mcalc.McalcError) as info:
        call()
    assert api in str(info.value) and "--" not in str(info.value), str(info.value)
    assert info.value.args == (info.value.message,) and "--" not in (info.value.hint or "")


@pytest.mark.parametrize("call,api,args,cli", [pytest.param(*case, id=" ".join(case[2]))
                                              for case in IN_TWO_WORDS + WRITTEN_ELSEWHERE])
def test_the_command_line_says_the_same_in_its_words(small_budget, call, api, args, cli):
    from typer.testing import CliRunner

    from mcalc.cli import app

    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and cli in res.output, res.output


def test_the_users_text_is_never_rewritten():
    with pytest.raises(mcalc.DomainError) as info:                  # the user's own text is left as written
        mcalc.jacobian("sqrt(x--shape)", "x", values={"x": 1.0, "shape": -5.0})
    assert "sqrt(x--shape)" in str(info.value)
    with pytest.raises(mcalc.UsageError) as info:
        mcalc.jacobian("x", "--value")
    assert "wrt variable '--value' is not in the expression" in str(info.value)
    assert not {"annotations", "contextmanager"} & set(dir(mcalc))


TOKENS = ["A", "B", "x", "s", "e", "pi", "1", "2", "0", "-1", "0.5", "+", "-", "*", "/", "**", "^", "@", "'", ".T",
          "(", ")", "[", "]", ",", ":", " ", "exp", "log", "sqrt", "inv", "det", "logdet", "sum", "trace", "norm",
          "softmax", "diag", "kron", "outer", "dot", "vec", "eye", "ones", "zeros", "axis=", "abs", "relu", "tanh",
          "__", "lambda", "import", "'a'", ";", "=", "!", "#", "\\", "{", "}", "1e308", "mean", "arcsin", "transpose"]


@given(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=14).map("".join),
       st.sampled_from(["2x2", "3", "scalar", "1x3", "A=2x3,B=3x2"]))
def test_token_soup_raises_only_mcalc_errors(monkeypatch_budget, text, shapes):
    try:
        J = mcalc.jacobian(text, None, shapes=shapes)
    except mcalc.InternalError as e:                 # a bug: fail loudly
        raise AssertionError(f"{text!r}: {e}") from e
    except mcalc.McalcError:
        return
    assert J.ndim == 2 and np.all(np.isfinite(J))


@given(st.text(max_size=40))
def test_arbitrary_text_raises_only_mcalc_errors(monkeypatch_budget, text):
    try:
        mcalc.jacobian(text, None, shapes="2x2")
    except mcalc.InternalError as e:
        raise AssertionError(f"{text!r}: {e}") from e
    except mcalc.McalcError:
        pass


@pytest.fixture(scope="module")
def monkeypatch_budget():
    old = mcalc.linops._BUDGET
    mcalc.linops._BUDGET = 16 << 20                  # fuzzing must not allocate gigabytes
    yield
    mcalc.linops._BUDGET = old


def test_evaluate_is_numpy_value():
    import mcalc

    A = np.array([[2.0, 1.0], [1.0, 3.0]])
    np.testing.assert_allclose(mcalc.evaluate("inv(A) @ A", values={"A": A}), np.eye(2), atol=1e-15)
    np.testing.assert_array_equal(mcalc.evaluate("A.max(axis=0)", values={"A": A}), A.max(axis=0))
    np.testing.assert_array_equal(mcalc.evaluate("ones(2, 3)"), np.ones((2, 3)))
    with pytest.raises(mcalc.ParseError):
        mcalc.evaluate("A +")
